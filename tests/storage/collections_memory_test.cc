// Prints (does not assert) the memory cost per element of the collection
// encodings in storage/types/, as each structure reports it (AllocatedBytes:
// malloc_usable_size of its blocks, glibc here) and, where glibc's mallinfo2
// is meaningful (not under sanitizers), as the heap grew (chunk headers
// included). Also prints the time per insert and per lookup, as a rough
// guide only (one run, no warm-up). The server links jemalloc, whose size
// classes differ from glibc's usable sizes (e.g. a 25-byte block is 32 bytes
// there and 40 here); running this test with
// LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2 prints jemalloc's.
// Under AddressSanitizer usable sizes are the requested sizes.

#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "storage/types/intset.h"
#include "storage/types/packed.h"
#include "storage/types/str_set.h"
#include "storage/types/zset.h"

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SLUICE_UNDER_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SLUICE_UNDER_SANITIZER 1
#endif
#endif

namespace sluice::storage {
namespace {

#ifdef SLUICE_UNDER_SANITIZER
constexpr size_t kElements = 100'000;  // sanitizers are slow; the layout is the same
#else
constexpr size_t kElements = 1'000'000;
#endif

size_t HeapInUse() {
  const struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
}

// `width` bytes: a prefix and a zero-padded number.
std::string Fixed(const char* prefix, size_t i, int width) {
  char buf[64];
  const int prefix_len = static_cast<int>(std::char_traits<char>::length(prefix));
  std::snprintf(buf, sizeof(buf), "%s%0*zu", prefix, width - prefix_len, i);
  return std::string(buf, width);
}

class Stopwatch {
 public:
  double NanosPer(size_t n) const {
    const auto d = std::chrono::steady_clock::now() - start_;
    return std::chrono::duration<double, std::nano>(d).count() / static_cast<double>(n);
  }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// `n` keys of `width` bytes: the prefix and a zero-padded number.
std::vector<std::string> FixedKeys(const char* prefix, int width) {
  std::vector<std::string> keys;
  for (size_t i = 0; i < kElements; ++i) keys.push_back(Fixed(prefix, i, width));
  return keys;
}

// Calls op(key) for every key, expecting each call to return true (an insert
// that added, a lookup that found); returns the time per call.
template <typename Keys, typename Op>
double TimeEach(const Keys& keys, Op op) {
  Stopwatch watch;
  size_t found = 0;
  for (const auto& k : keys) found += op(k) ? 1 : 0;
  const double ns = watch.NanosPer(keys.size());
  EXPECT_EQ(found, keys.size());
  return ns;
}

void Report(const char* what, size_t elements, size_t allocated, size_t heap_before,
            double insert_ns, double lookup_ns) {
  std::printf("%-52s %7.1f B/elem (AllocatedBytes)", what,
              static_cast<double>(allocated) / static_cast<double>(elements));
#ifndef SLUICE_UNDER_SANITIZER
  // mallinfo2 sees glibc's heap only (not an LD_PRELOADed allocator).
  const size_t heap_after = HeapInUse();
  if (heap_after > heap_before) {
    std::printf("  %7.1f B/elem (heap growth)",
                static_cast<double>(heap_after - heap_before) / static_cast<double>(elements));
  } else {
    std::printf("  (heap growth n/a)");
  }
#endif
  std::printf("  insert %6.0f ns  lookup %6.0f ns\n", insert_ns, lookup_ns);
}

TEST(CollectionsMemoryTest, LargeSetOf16ByteMembers) {
  const std::vector<std::string> members = FixedKeys("member:", 16);
  const size_t before = HeapInUse();
  auto set = std::make_unique<StrSet>();
  const double insert_ns = TimeEach(members, [&](const std::string& m) { return set->Insert(m); });
  while (set->RehashStep()) {
  }
  const double lookup_ns =
      TimeEach(members, [&](const std::string& m) { return set->Contains(m); });
  Report("StrSet, 16-byte members", kElements, set->AllocatedBytes(), before, insert_ns, lookup_ns);
}

TEST(CollectionsMemoryTest, IntSetOfIntegers) {
  std::mt19937_64 rng(1);
  // Random 64-bit values (the widest encoding), inserted in order: inserting
  // 1M at random places would take O(n^2) memmoves.
  std::vector<int64_t> values;
  for (size_t i = 0; i < kElements; ++i) values.push_back(static_cast<int64_t>(rng()));
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  const size_t before = HeapInUse();
  IntSet set;
  const double insert_ns = TimeEach(values, [&](int64_t v) { return set.Insert(v); });
  const double lookup_ns = TimeEach(values, [&](int64_t v) { return set.Contains(v); });
  Report("IntSet, 64-bit integers", set.size(), set.AllocatedBytes(), before, insert_ns, lookup_ns);
  IntSet small;
  for (size_t i = 0; i < kElements; ++i) small.Insert(static_cast<int64_t>(i % 30000));
  std::printf("%-52s %7.1f B/elem (AllocatedBytes)\n", "IntSet, 16-bit integers (30000)",
              static_cast<double>(small.AllocatedBytes()) / static_cast<double>(small.size()));
}

TEST(CollectionsMemoryTest, LargeHashOf10ByteFieldsAndValues) {
  const std::vector<std::string> fields = FixedKeys("f:", 10);
  const size_t before = HeapInUse();
  auto map = std::make_unique<StrMap>();
  const double insert_ns =
      TimeEach(fields, [&](const std::string& f) { return map->Set(f, "value:0123"); });
  while (map->RehashStep()) {
  }
  std::string_view v;
  const double lookup_ns = TimeEach(fields, [&](const std::string& f) { return map->Find(f, &v); });
  Report("StrMap, 10-byte fields and values", kElements, map->AllocatedBytes(), before, insert_ns,
         lookup_ns);
}

void MeasureZSet(const char* what, bool increasing_scores) {
  std::mt19937_64 rng(2);
  const std::vector<std::string> members = FixedKeys("member:", 16);
  const size_t before = HeapInUse();
  auto z = std::make_unique<ZSet>();
  double next_score = 0;
  const double insert_ns = TimeEach(members, [&](const std::string& m) {
    const double score =
        increasing_scores ? next_score++ : static_cast<double>(rng() % 1'000'000'000);
    return z->Insert(m, score);
  });
  while (z->RehashStep()) {
  }
  size_t rank;
  const double rank_ns = TimeEach(members, [&](const std::string& m) { return z->Rank(m, &rank); });
  double score;
  const double score_ns =
      TimeEach(members, [&](const std::string& m) { return z->Score(m, &score); });
  Report(what, kElements, z->AllocatedBytes(), before, insert_ns, rank_ns);
  std::printf("%-52s ZSCORE %.0f ns\n", "", score_ns);
}

TEST(CollectionsMemoryTest, LargeSortedSetOf16ByteMembers) {
  MeasureZSet("ZSet, 16-byte members, random scores (lookup=ZRANK)", false);
  MeasureZSet("ZSet, 16-byte members, increasing scores", true);
}

TEST(CollectionsMemoryTest, SmallHashesOfFiveFields) {
  const size_t before = HeapInUse();
  std::vector<PackedList> hashes(kElements);
  Stopwatch insert;
  for (size_t i = 0; i < kElements; ++i) {
    for (size_t f = 0; f < 5; ++f) {
      hashes[i].PushBack(Fixed("field:", f, 10));
      hashes[i].PushBack(Fixed("v:", i, 10));
    }
  }
  const double insert_ns = insert.NanosPer(kElements * 5);
  size_t allocated = 0;
  for (const auto& h : hashes) allocated += h.AllocatedBytes() + sizeof(PackedList);
  const std::string probe = Fixed("field:", 3, 10);
  const double lookup_ns =
      TimeEach(hashes, [&](const PackedList& h) { return h.Find(probe, h.begin(), 1) != h.end(); });
  std::printf("(per hash; the 8-byte PackedList handle included)\n");
  Report("PackedList, hash of 5 10-byte fields/values", kElements, allocated, before, insert_ns,
         lookup_ns);
}

}  // namespace
}  // namespace sluice::storage
