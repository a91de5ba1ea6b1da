#include "storage/sort_ops.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "storage/hash_ops.h"
#include "storage/list_ops.h"
#include "storage/set_ops.h"
#include "storage/zset_ops.h"

namespace sluice::storage {
namespace {

// `s` up to its first NUL byte: what C string functions see of it.
std::string_view CString(std::string_view s) {
  const size_t nul = s.find('\0');
  return nul == std::string_view::npos ? s : s.substr(0, nul);
}

// Byte order, as memcmp and then the length decide it.
int CompareBytes(std::string_view a, std::string_view b) {
  const int c = a.compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

struct Item {
  std::string element;
  double score = 0;
  std::optional<std::string> by;  // ALPHA with a BY pattern: nullopt sorts first
};

// Which element ranks [first, last] of the sorted key are loaded: all of
// them, or (a list or sorted set left unsorted) only the result's range.
struct Range {
  size_t first = 0;
  size_t count = 0;  // 0: empty
};

// LIMIT applied to `size` elements, as Redis clamps it (no overflow).
Range LimitRange(int64_t offset, int64_t count, size_t size) {
  const int64_t len = static_cast<int64_t>(size);
  const int64_t start = std::clamp<int64_t>(offset, 0, len);
  const int64_t n = std::clamp<int64_t>(count, -1, len);
  if (start >= len || n == 0) return {};
  int64_t end = n < 0 ? len - 1 : start + n - 1;
  if (end >= len) end = len - 1;
  return {static_cast<size_t>(start), static_cast<size_t>(end - start + 1)};
}

// The elements of the value at `e` (nullptr: none), in its own order.
std::vector<Item> LoadAll(const Entry* e) {
  std::vector<Item> items;
  if (e == nullptr) return items;
  auto add = [&](std::string_view s) { items.push_back(Item{std::string(s), 0, std::nullopt}); };
  switch (e->type()) {
    case ValueType::kList: {
      const ListReader reader(e);
      const QuickList& q = reader.list();
      items.reserve(q.size());
      std::string scratch;
      for (QuickList::Iter it = q.Front(); it.valid(); q.Next(it)) add(q.Get(it).AsString(&scratch));
      break;
    }
    case ValueType::kSet: {
      const SetView set(e);
      items.reserve(set.size());
      set.ForEach(add);
      break;
    }
    default: {
      const ZSetView zset(e);
      items.reserve(zset.size());
      zset.ForEach([&](std::string_view m, double) { add(m); });
    }
  }
  return items;
}

// The result of an unsorted list or sorted set: its range, from the far end
// with DESC.
std::vector<Item> LoadUnsorted(const Entry* e, const Range& range, bool desc) {
  std::vector<Item> items;
  if (e == nullptr || range.count == 0) return items;
  items.reserve(range.count);
  if (e->type() == ValueType::kZset) {
    const ZSetView zset(e);
    const size_t size = zset.size();
    const size_t first = desc ? size - range.first - range.count : range.first;
    zset.ForRanks(first, first + range.count, desc, [&](std::string_view m, double) {
      items.push_back(Item{std::string(m), 0, std::nullopt});
    });
    return items;
  }
  const ListReader reader(e);
  const QuickList& q = reader.list();
  const int64_t at = static_cast<int64_t>(range.first);
  QuickList::Iter it = desc ? q.At(-1 - at) : q.At(at);
  std::string scratch;
  for (size_t i = 0; i < range.count && it.valid(); ++i) {
    items.push_back(Item{std::string(q.Get(it).AsString(&scratch)), 0, std::nullopt});
    if (desc) {
      q.Prev(it);
    } else {
      q.Next(it);
    }
  }
  return items;
}

}  // namespace

bool SortPatternHasStar(std::string_view pattern) {
  return CString(pattern).find('*') != std::string_view::npos;
}

bool SortReadsOtherKeys(const SortRequest& request) {
  if (!request.dont_sort && request.by && SortPatternHasStar(*request.by)) return true;
  return std::any_of(request.gets.begin(), request.gets.end(), SortPatternHasStar);
}

bool ParseSortScore(std::string_view text, double* score) {
  const std::string s(text);
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(s.c_str(), &end);
  if (*end != '\0' || errno == ERANGE || std::isnan(v)) return false;
  *score = v;
  return true;
}

std::optional<std::string> LookupSortPattern(Database& db, std::string_view pattern,
                                             std::string_view element, int64_t now_ms) {
  const std::string_view c = CString(pattern);
  if (c == "#") return std::string(element);
  const size_t star = c.find('*');
  if (star == std::string_view::npos) return std::nullopt;
  // "->field" after the '*' (a non-empty field) reads a hash field; the
  // field runs to the end of the pattern.
  std::string_view field;
  const size_t arrow = c.find("->", star + 1);
  if (arrow != std::string_view::npos && arrow + 2 < c.size()) field = pattern.substr(arrow + 2);
  const std::string_view suffix =
      pattern.substr(star + 1, (field.data() == nullptr ? pattern.size() : arrow) - star - 1);
  std::string key;
  key.reserve(star + element.size() + suffix.size());
  key.append(pattern.substr(0, star)).append(element).append(suffix);

  const Entry* e = db.ShardFor(key).FindForRead(key, now_ms);
  if (e == nullptr) return std::nullopt;
  std::string scratch;
  if (field.data() != nullptr) {
    if (e->type() != ValueType::kHash) return std::nullopt;
    std::optional<std::string_view> v = HashView(e).Get(field, &scratch);
    if (!v) return std::nullopt;
    return std::string(*v);
  }
  if (e->type() != ValueType::kString) return std::nullopt;
  return std::string(e->string_value(&scratch));
}

Result<SortOutcome> Sort(Database& db, std::string_view key, const SortRequest& request,
                         int64_t now_ms) {
  Result<SortOutcome> out;
  const Entry* e = db.ShardFor(key).FindForRead(key, now_ms);
  if (e != nullptr && e->type() != ValueType::kList && e->type() != ValueType::kSet &&
      e->type() != ValueType::kZset) {
    out.status = Status::kWrongType;
    return out;
  }
  bool dont_sort = request.dont_sort;
  bool alpha = request.alpha;
  std::optional<std::string_view> by = request.by;
  if (dont_sort && e != nullptr && e->type() == ValueType::kSet && request.order_unsorted_set) {
    dont_sort = false;
    alpha = true;
    by.reset();
  }
  if (by && !SortPatternHasStar(*by)) by.reset();

  size_t size = 0;
  if (e != nullptr) {
    switch (e->type()) {
      case ValueType::kList:
        size = ListReader(e).size();
        break;
      case ValueType::kSet:
        size = SetView(e).size();
        break;
      default:
        size = ZSetView(e).size();
    }
  }
  const Range range = LimitRange(request.limit_offset, request.limit_count, size);

  // The elements, copied before any other key is looked up (a lookup may
  // reclaim an expired key, which must not pull the ground from under them).
  std::vector<Item> items;
  size_t first = range.first;  // the result's range within `items`
  if (dont_sort && e != nullptr && e->type() != ValueType::kSet) {
    items = LoadUnsorted(e, range, request.desc);
    first = 0;
  } else {
    items = LoadAll(e);
  }

  if (!dont_sort) {
    for (Item& item : items) {
      std::optional<std::string> by_value;
      if (by) by_value = LookupSortPattern(db, *by, item.element, now_ms);
      if (alpha) {
        item.by = std::move(by_value);
      } else if (!by || by_value) {
        if (!ParseSortScore(by ? *by_value : item.element, &item.score)) out.value.bad_score = true;
      }
    }
    if (out.value.bad_score) return out;
    const bool by_pattern = by.has_value();
    const auto compare = [&](const Item& a, const Item& b) {
      if (!alpha) {
        if (a.score != b.score) return a.score < b.score ? -1 : 1;
        return CompareBytes(a.element, b.element);
      }
      if (by_pattern) {
        if (!a.by || !b.by) return a.by == b.by ? 0 : (!a.by ? -1 : 1);
        return request.binary_alpha ? CompareBytes(*a.by, *b.by)
                                    : CompareBytes(CString(*a.by), CString(*b.by));
      }
      return request.binary_alpha ? CompareBytes(a.element, b.element)
                                  : CompareBytes(CString(a.element), CString(b.element));
    };
    // Stable, like the merge sort glibc's qsort() is for Redis: ties that
    // the comparison leaves (ALPHA) keep the key's own order.
    std::stable_sort(items.begin(), items.end(), [&](const Item& a, const Item& b) {
      const int c = compare(a, b);
      return request.desc ? c > 0 : c < 0;
    });
  }

  std::vector<std::optional<std::string>>& values = out.value.values;
  const size_t per = std::max<size_t>(request.gets.size(), 1);
  values.reserve(range.count * per);
  for (size_t i = first; i < first + range.count && i < items.size(); ++i) {
    if (request.gets.empty()) {
      values.emplace_back(std::move(items[i].element));
      continue;
    }
    for (std::string_view get : request.gets) {
      values.push_back(LookupSortPattern(db, get, items[i].element, now_ms));
    }
  }
  return out;
}

}  // namespace sluice::storage
