#pragma once
// Sorted-set algebra: ZUNION, ZINTER, ZDIFF (and their STORE forms) and
// ZINTERCARD over sorted sets and plain sets, whose members score 1, as
// Redis 7 computes them. Inputs are entries (nullptr for an absent key, an
// empty set) whose type the caller has checked (kZset or kSet).
//
// Scores: an input's scores are multiplied by its weight, and a product that
// is NaN (inf * 0) counts as 0; SUM of inf and -inf is 0 too. Results come
// in ZRANGE order: by score, then by member bytes.
//
// Each function REQUIRES: the shards of every input held.

#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

#include "storage/entry.h"
#include "storage/shard.h"
#include "storage/status.h"
#include "storage/zset_ops.h"

namespace sluice::storage {

// The input at `key`: a sorted set or a set, nullptr when absent,
// kWrongType for any other type. Counts a keyspace hit or miss.
Result<const Entry*> FindAlgebraInput(Shard& shard, std::string_view key, int64_t now_ms);

enum class ZAggregate { kSum, kMin, kMax };

struct ZAlgebraInput {
  const Entry* entry = nullptr;  // a set or a sorted set; nullptr: absent
  double weight = 1;
};

// The members of any input, their weighted scores aggregated.
std::vector<ScoredMember> ZSetUnion(std::span<const ZAlgebraInput> inputs, ZAggregate aggregate);
// The members of every input, their weighted scores aggregated.
std::vector<ScoredMember> ZSetIntersection(std::span<const ZAlgebraInput> inputs,
                                           ZAggregate aggregate);
// The members of the first input that are in none of the others, with the
// first input's scores (ZDIFF has no weights).
std::vector<ScoredMember> ZSetDifference(std::span<const Entry* const> inputs);
// ZINTERCARD: how many members every input has, counting stopped at `limit`
// when limit > 0.
size_t ZSetIntersectionCard(std::span<const Entry* const> inputs, size_t limit);

}  // namespace sluice::storage
