#pragma once
// Sorted-set operations on one shard: the storage half of the zset
// commands. A sorted set is a collection entry (ValueType::kZset) whose
// object is, as in Redis 7:
//   a PackedList of member, score, member, score, ... in (score, member)
//     order while there are at most `max_packed_entries` members of at most
//     `max_packed_value` bytes (zset-max-listpack-*, OBJECT ENCODING
//     "listpack");
//   a ZSet (storage/types/zset.h) otherwise ("skiplist").
// A set converts when an added member crosses a limit and never converts
// back on removal; a stored result (ZSetStore) is encoded by its size. A
// sorted set whose last member goes is removed.
//
// Every mutation runs inside Shard::Update, so the shard's byte count
// follows the set. Each function REQUIRES: shard.mu() held. Views and the
// string_views they hand out are valid until the shard is modified.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/object.h"
#include "storage/shard.h"
#include "storage/status.h"
#include "storage/types/zset.h"

namespace sluice::storage {

struct ZSetLimits {
  size_t max_packed_entries = 128;  // zset-max-listpack-entries
  size_t max_packed_value = 64;     // zset-max-listpack-value
};

enum class ZSetEncoding { kPacked, kSkipList };

// A member and its score, owned (replies built after the set changed, and
// ZSetStore's input).
using ScoredMember = std::pair<std::string, double>;

// A score interval (ZRANGEBYSCORE's min and max; "(" makes a bound
// exclusive).
struct ScoreRange {
  double min = 0;
  double max = 0;
  bool min_exclusive = false;
  bool max_exclusive = false;
};

// One end of a lex interval: "-", "+", "[member" or "(member".
struct LexBound {
  enum Kind : uint8_t { kMinusInf, kPlusInf, kInclusive, kExclusive };
  Kind kind = kMinusInf;
  std::string_view member;  // for kInclusive / kExclusive
};
struct LexRange {
  LexBound min;
  LexBound max;
};

// Read access to a sorted-set entry. Cheap to copy (one word). REQUIRES:
// entry->type() == ValueType::kZset.
class ZSetView {
 public:
  explicit ZSetView(const Entry* entry) : ref_(entry->object()) {}
  explicit ZSetView(ObjectRef ref) : ref_(ref) {}

  ZSetEncoding encoding() const {
    return ref_.kind() == ContainerKind::kZSet ? ZSetEncoding::kSkipList : ZSetEncoding::kPacked;
  }
  // OBJECT ENCODING's name: "listpack" or "skiplist".
  const char* encoding_name() const;
  size_t size() const;
  // The large encoding (O(1) Score), nullptr for a packed set.
  const ZSet* skiplist() const {
    return ref_.kind() == ContainerKind::kZSet ? ref_.zset() : nullptr;
  }

  // ZSCORE: false when `member` is absent. O(1) for a skiplist, O(n) packed.
  bool Score(std::string_view member, double* score) const;
  // 0-based ascending rank of `member` (ZRANK); false when absent.
  bool Rank(std::string_view member, size_t* rank) const;

  // The ranks [first, last) of the members inside a range (first == last
  // when none is). O(log n) for a skiplist.
  std::pair<size_t, size_t> ScoreRanks(const ScoreRange& range) const;
  // Lex ranges are meaningful when every score is equal, as Redis requires.
  std::pair<size_t, size_t> LexRanks(const LexRange& range) const;

  // visit(std::string_view member, double score) for the members of ranks
  // [first, last) (clipped to size()), ascending, or from last - 1 down to
  // first when `reverse`. The string_view is valid during the call only.
  template <typename Visit>
  void ForRanks(size_t first, size_t last, bool reverse, Visit&& visit) const;
  // Every member in ascending order.
  template <typename Visit>
  void ForEach(Visit&& visit) const {
    ForRanks(0, size(), false, visit);
  }
  // Every member and score, copied, in ascending order.
  std::vector<ScoredMember> Items() const;

 private:
  ObjectRef ref_;
};

// The live sorted set at `key`, nullptr when absent, kWrongType when the key
// holds another type. `for_read` counts a keyspace hit or miss.
Result<const Entry*> FindZSet(Shard& shard, std::string_view key, int64_t now_ms,
                              bool for_read = true);

// ZADD's options. `ch` only changes the reply, so it is not here.
struct ZAddFlags {
  bool nx = false;    // only add new members
  bool xx = false;    // only update existing members
  bool gt = false;    // only update when the new score is greater
  bool lt = false;    // only update when the new score is less
  bool incr = false;  // add the score to the current one (one pair only)
};
struct ZAddInput {
  double score;
  std::string_view member;
};
struct ZAddOutcome {
  size_t added = 0;
  size_t updated = 0;  // existing members whose score changed
  // INCR: whether the member was added or updated, and its score then.
  bool incr_applied = false;
  double incr_score = 0;
  // INCR would have produced NaN (inf + -inf): nothing was changed.
  bool nan = false;
  bool created = false;  // the key did not exist before
};
// ZADD / ZINCRBY. Creates the key when something is added (never with XX):
// packed when the inputs fit the limits (count and longest member), as Redis
// 7.2 decides from the command. A packed set given more inputs than it may
// hold converts first, as Redis 7.2 does, even if some are members already.
// A ZADD that changes nothing leaves the key untouched.
// REQUIRES: no input score is NaN; with flags.incr, exactly one input.
Result<ZAddOutcome> ZSetAdd(Shard& shard, std::string_view key, std::span<const ZAddInput> inputs,
                            const ZAddFlags& flags, const ZSetLimits& limits, int64_t now_ms);

struct ZSetRemoveOutcome {
  size_t removed = 0;
  bool key_removed = false;  // the last member went, and the key with it
};
// ZREM.
Result<ZSetRemoveOutcome> ZSetRemove(Shard& shard, std::string_view key,
                                     std::span<const std::string_view> members, int64_t now_ms);
// ZREMRANGEBYRANK with Redis's index rules (negative counts from the end).
Result<ZSetRemoveOutcome> ZSetRemoveRangeByRank(Shard& shard, std::string_view key, int64_t start,
                                                int64_t stop, int64_t now_ms);
// ZREMRANGEBYSCORE.
Result<ZSetRemoveOutcome> ZSetRemoveRangeByScore(Shard& shard, std::string_view key,
                                                 const ScoreRange& range, int64_t now_ms);
// ZREMRANGEBYLEX.
Result<ZSetRemoveOutcome> ZSetRemoveRangeByLex(Shard& shard, std::string_view key,
                                               const LexRange& range, int64_t now_ms);

// Redis's rank-range rules (ZRANGE, ZREMRANGEBYRANK): negative indexes
// count from the end; returns the ranks [first, last), empty when the range
// is.
std::pair<size_t, size_t> NormalizeRankRange(int64_t start, int64_t stop, size_t size);

// ZPOPMIN / ZPOPMAX: removes up to `count` lowest (or highest, `max`)
// members and returns them in pop order. *key_removed says whether the key
// went with its last member.
Result<std::vector<ScoredMember>> ZSetPop(Shard& shard, std::string_view key, uint64_t count,
                                          bool max, int64_t now_ms, bool* key_removed);

// ZRANDMEMBER key count: count >= 0 gives min(count, size) distinct
// members, count < 0 gives -count members that may repeat.
std::vector<ScoredMember> ZSetRandomMembers(const Entry* zset, int64_t count);

// One ZSCAN step (a packed set is returned whole with cursor 0, as Redis
// does); members not matching `pattern` (empty: all) are left out.
uint64_t ZSetScan(const Entry* zset, uint64_t cursor, size_t count, std::string_view pattern,
                  std::vector<ScoredMember>* out);

// Replaces whatever `key` holds by a sorted set of `items` (distinct
// members, any order; no NaN), encoded by its size (packed when it fits the
// limits); an empty `items` deletes the key. Returns whether the key existed
// before. For ZRANGESTORE and the ZUNIONSTORE family.
bool ZSetStore(Shard& shard, std::string_view key, std::vector<ScoredMember> items,
               const ZSetLimits& limits, int64_t now_ms);

// A new sorted-set entry (linked into no shard) of `items` (distinct
// members, any order, no NaN; non-empty), encoded by its size as ZSetStore
// does (loading a snapshot or RESTORE).
Entry* CreateZSetEntry(std::string_view key, std::vector<ScoredMember> items,
                       const ZSetLimits& limits, int64_t expire_at_ms);

// ---- Implementation of the template ----

template <typename Visit>
void ZSetView::ForRanks(size_t first, size_t last, bool reverse, Visit&& visit) const {
  const size_t n = size();
  if (last > n) last = n;
  if (first >= last) return;
  if (const ZSet* z = skiplist()) {
    if (!reverse) {
      ZSet::Iterator it = z->AtRank(first);
      for (size_t i = first; i < last; ++i, it.Next()) visit(it.member(), it.score());
    } else {
      ZSet::Iterator it = z->AtRank(last - 1);
      for (size_t i = last; i > first; --i, it.Prev()) visit(it.member(), it.score());
    }
    return;
  }
  const BorrowedPacked borrowed(ref_);
  const PackedList& list = borrowed.list();
  std::string scratch;
  if (!reverse) {
    PackedList::Pos p = list.At(static_cast<int64_t>(2 * first));
    for (size_t i = first; i < last; ++i) {
      const PackedList::Pos s = list.Next(p);
      visit(list.Get(p).AsString(&scratch), list.Get(s).AsDouble());
      p = list.Next(s);
    }
  } else {
    PackedList::Pos p = list.At(static_cast<int64_t>(2 * (last - 1)));
    for (size_t i = last; i > first; --i) {
      visit(list.Get(p).AsString(&scratch), list.Get(list.Next(p)).AsDouble());
      if (i - 1 > first) p = list.Prev(list.Prev(p));
    }
  }
}

}  // namespace sluice::storage
