#pragma once
// What the hash and set operations share for HRANDFIELD / SRANDMEMBER and
// HSCAN / SSCAN: picking random elements by Redis's count rules, and
// stepping a table's SCAN cursor under Redis's budget.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "absl/random/random.h"

namespace sluice::storage {

// The calling thread's generator.
inline absl::BitGen& ThreadRandom() {
  thread_local absl::BitGen gen;
  return gen;
}

// Random elements of a collection of `size` elements: count >= 0 gives
// min(count, size) distinct ones (all when count >= size), count < 0 gives
// -count that may repeat. `one()` is a uniform element of a table (nullptr
// for a packed collection, which `all()` copies whole), `key(T)` the part
// that must be distinct.
template <typename T, typename One, typename All, typename Key>
std::vector<T> PickRandom(size_t size, int64_t count, One* one, All&& all, Key&& key) {
  std::vector<T> out;
  if (count == 0 || size == 0) return out;
  absl::BitGen& gen = ThreadRandom();
  const bool distinct = count > 0;
  const uint64_t wanted = distinct ? static_cast<uint64_t>(count)
                          : count == std::numeric_limits<int64_t>::min()
                              ? uint64_t{1} << 63
                              : static_cast<uint64_t>(-count);
  out.reserve(static_cast<size_t>(std::min<uint64_t>(wanted, size_t{1} << 20)));
  if (one != nullptr) {
    if (!distinct) {
      // -count picks, each uniform over the elements, repeats allowed.
      for (uint64_t i = 0; i < wanted; ++i) out.push_back((*one)(gen));
      return out;
    }
    if (wanted * 3 < size) {
      // Few of many: random picks, skipping repeats.
      // (Keys are copied: a view into `picked` would not survive its move.)
      std::unordered_set<std::string> seen;
      while (out.size() < wanted) {
        T picked = (*one)(gen);
        if (seen.emplace(key(picked)).second) out.push_back(std::move(picked));
      }
      return out;
    }
  }
  std::vector<T> every = all();
  if (!distinct) {
    for (uint64_t i = 0; i < wanted; ++i) out.push_back(every[absl::Uniform<size_t>(gen, 0, size)]);
    return out;
  }
  if (wanted < size) {
    // A random subset: the front of a partial shuffle.
    for (size_t i = 0; i < wanted; ++i) {
      std::swap(every[i], every[absl::Uniform<size_t>(gen, i, size)]);
    }
    every.resize(static_cast<size_t>(wanted));
  }
  return every;
}

// SCAN steps over a table from `cursor`, as Redis bounds them: stop after
// `count` visited elements or 10 * count buckets. `step(cursor, &visited)`
// scans one bucket (adding the elements it visits) and returns the next
// cursor.
template <typename Step>
uint64_t ScanSteps(uint64_t cursor, size_t count, Step&& step) {
  size_t visited = 0;
  size_t steps = 0;
  do {
    cursor = step(cursor, &visited);
  } while (cursor != 0 && visited < count && ++steps < count * 10);
  return cursor;
}

}  // namespace sluice::storage
