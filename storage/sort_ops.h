#pragma once
// SORT's storage half: the elements of a list, set or sorted set, sorted by
// their own value or by other keys' (BY pattern), limited, and mapped to
// other keys' values (GET pattern), as Redis 7 does it. No RESP here: the
// family parses the arguments into a SortRequest and writes the reply or the
// STORE list (ListStore in list_ops.h).
//
// Patterns: "#" is the element itself; otherwise the first '*' is replaced
// by the element to name a key, whose string value is used, or, with
// "->field" after the '*', that key's hash field. A pattern without '*'
// names no key (a GET of it is nil, a BY of it means "do not sort"). As in
// Redis, '#', '*' and "->" are looked for up to the pattern's first NUL
// byte.
//
// REQUIRES: the lock of the key's shard, and of every shard of `db` when
// SortReadsOtherKeys(request). Strings handed out are owned copies.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/keyspace.h"
#include "storage/status.h"

namespace sluice::storage {

struct SortRequest {
  // The last BY pattern, when one was given.
  std::optional<std::string_view> by;
  // A BY pattern without '*' was given (sticky, as in Redis: a later BY
  // with '*' does not undo it).
  bool dont_sort = false;
  bool alpha = false;
  bool desc = false;
  // LIMIT offset count (a negative offset is 0, a negative count is "all").
  int64_t limit_offset = 0;
  int64_t limit_count = -1;
  std::vector<std::string_view> gets;
  // ALPHA compares whole strings byte by byte (Redis does so for STORE);
  // otherwise it compares them as C strings, up to the first NUL, which is
  // what Redis's strcoll() does in the C locale.
  bool binary_alpha = false;
  // A set left unsorted (BY without '*') is sorted ALPHA instead, so the
  // result does not depend on the set's layout: Redis does this for STORE
  // and inside scripts.
  bool order_unsorted_set = false;
};

// Whether `request` reads keys other than the sorted one (a BY pattern
// that sorts, or a GET pattern with '*').
bool SortReadsOtherKeys(const SortRequest& request);
// Whether `pattern` has a '*' before its first NUL byte.
bool SortPatternHasStar(std::string_view pattern);

// A score as SORT reads it (strtod over the whole C string: leading spaces,
// hex and "inf" are accepted, the empty string is 0; NaN, overflow and
// underflow are not).
bool ParseSortScore(std::string_view text, double* score);

// The value a pattern names for `element`; nullopt where Redis answers nil
// (no '*', no such key, a key of another type, no such hash field).
std::optional<std::string> LookupSortPattern(Database& db, std::string_view pattern,
                                             std::string_view element, int64_t now_ms);

struct SortOutcome {
  // "One or more scores can't be converted into double": nothing else is set.
  bool bad_score = false;
  // Without GETs: one value per element of the result, in order; with GETs,
  // gets.size() values per element (nullopt: nil).
  std::vector<std::optional<std::string>> values;
};

// SORT over `key` in `db` (an absent key sorts as an empty list); kWrongType
// when the key holds a string or a hash.
Result<SortOutcome> Sort(Database& db, std::string_view key, const SortRequest& request,
                         int64_t now_ms);

}  // namespace sluice::storage
