#include "storage/zset_ops.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <utility>

#include "absl/random/random.h"
#include "storage/glob.h"
#include "storage/random_pick.h"

namespace sluice::storage {
namespace {

// (score, member) order, as both encodings keep it.
bool Before(double a_score, std::string_view a_member, double b_score, std::string_view b_member) {
  if (a_score != b_score) return a_score < b_score;
  return a_member < b_member;
}

// Ranks of a packed list of member, score pairs: the first pair for which
// `before(member, score)` is false (pairs for which it is true come first).
template <typename BeforeFn>
size_t PackedPartition(const PackedList& list, BeforeFn&& before) {
  std::string scratch;
  size_t rank = 0;
  for (PackedList::Pos p = list.begin(); p != list.end(); ++rank) {
    const PackedList::Pos s = list.Next(p);
    if (!before(list.Get(p).AsString(&scratch), list.Get(s).AsDouble())) break;
    p = list.Next(s);
  }
  return rank;
}

// The number of members with a score below `score` (at or below when
// `exclusive`): the rank of the first member a range starting there holds.
size_t ScoreRank(ObjectRef ref, double score, bool exclusive) {
  if (ref.kind() == ContainerKind::kZSet) {
    size_t rank;
    ref.zset()->SeekScore(score, exclusive, &rank);
    return rank;
  }
  const BorrowedPacked borrowed(ref);
  return PackedPartition(borrowed.list(), [&](std::string_view, double s) {
    return exclusive ? s <= score : s < score;
  });
}

size_t LexRank(ObjectRef ref, std::string_view member, bool exclusive) {
  if (ref.kind() == ContainerKind::kZSet) {
    size_t rank;
    ref.zset()->SeekLex(member, exclusive, &rank);
    return rank;
  }
  const BorrowedPacked borrowed(ref);
  return PackedPartition(borrowed.list(), [&](std::string_view m, double) {
    return exclusive ? m <= member : m < member;
  });
}

// Rank of a lex bound used as the start (`is_min`) or end of a range.
size_t LexBoundRank(ObjectRef ref, const LexBound& b, bool is_min, size_t size) {
  switch (b.kind) {
    case LexBound::kMinusInf:
      return 0;
    case LexBound::kPlusInf:
      return size;
    case LexBound::kInclusive:
      return LexRank(ref, b.member, /*exclusive=*/!is_min);
    case LexBound::kExclusive:
      return LexRank(ref, b.member, /*exclusive=*/is_min);
  }
  return 0;
}

// A sorted set's container for one mutation, converted packed -> skiplist
// as members are added; the caller takes it back with Release().
class MutableZSet {
 public:
  MutableZSet(ObjectRef ref, const ZSetLimits& limits) : limits_(limits) {
    if (ref.kind() == ContainerKind::kZSet) {
      tree_ = ref.zset();
    } else {
      packed_ = PackedList::Adopt(ref.packed_block());
    }
  }
  MutableZSet(const MutableZSet&) = delete;
  MutableZSet& operator=(const MutableZSet&) = delete;

  ObjectRef Release() {
    if (tree_ != nullptr) return ObjectRef::ZSetRef(std::exchange(tree_, nullptr));
    return ObjectRef::Packed(packed_.Release());
  }

  size_t size() const { return tree_ != nullptr ? tree_->size() : packed_.size() / 2; }

  bool Score(std::string_view member, double* score) const {
    if (tree_ != nullptr) return tree_->Score(member, score);
    const PackedList::Pos at = packed_.Find(member, packed_.begin(), 1);
    if (at == packed_.end()) return false;
    *score = packed_.Get(packed_.Next(at)).AsDouble();
    return true;
  }

  // Sets the score of a member (`exists`: it is in the set already).
  void Set(std::string_view member, double score, bool exists) {
    if (tree_ != nullptr) {
      tree_->Insert(member, score);
      return;
    }
    if (exists) {
      RemovePacked(member);
    } else if (packed_.size() / 2 + 1 > limits_.max_packed_entries ||
               member.size() > limits_.max_packed_value) {
      ToTree();
      tree_->Insert(member, score);
      return;
    }
    InsertPacked(member, score);
  }

  // Redis 7.2's conversion ahead of a ZADD of more pairs than a packed set
  // may hold (even when some are already members).
  void ConvertIfMoreThan(size_t incoming) {
    if (tree_ == nullptr && incoming > limits_.max_packed_entries) ToTree();
  }

  bool Remove(std::string_view member) {
    if (tree_ != nullptr) return tree_->Erase(member);
    return RemovePacked(member);
  }

  // Removes the members of ranks [first, last).
  void RemoveRanks(size_t first, size_t last) {
    if (first >= last) return;
    if (tree_ == nullptr) {
      packed_.Erase(packed_.At(static_cast<int64_t>(2 * first)), 2 * (last - first));
      return;
    }
    std::vector<std::string> doomed;
    doomed.reserve(last - first);
    ZSet::Iterator it = tree_->AtRank(first);
    for (size_t i = first; i < last && it.valid(); ++i, it.Next()) doomed.emplace_back(it.member());
    for (const std::string& m : doomed) tree_->Erase(m);
  }

  // Removes and returns the lowest (or highest) member. REQUIRES: size() > 0.
  ScoredMember PopEnd(bool max) {
    ScoredMember out;
    if (tree_ != nullptr) {
      ZSet::Iterator it = max ? tree_->AtRank(tree_->size() - 1) : tree_->begin();
      out = {std::string(it.member()), it.score()};
      tree_->Erase(out.first);
      return out;
    }
    const PackedList::Pos at = packed_.At(max ? -2 : 0);
    std::string scratch;
    out.first = std::string(packed_.Get(at).AsString(&scratch));
    out.second = packed_.Get(packed_.Next(at)).AsDouble();
    packed_.Erase(at, 2);
    return out;
  }

 private:
  bool RemovePacked(std::string_view member) {
    const PackedList::Pos at = packed_.Find(member, packed_.begin(), 1);
    if (at == packed_.end()) return false;
    packed_.Erase(at, 2);
    return true;
  }

  void InsertPacked(std::string_view member, double score) {
    std::string scratch;
    PackedList::Pos p = packed_.begin();
    while (p != packed_.end()) {
      const PackedList::Pos s = packed_.Next(p);
      if (Before(score, member, packed_.Get(s).AsDouble(), packed_.Get(p).AsString(&scratch))) {
        break;
      }
      p = packed_.Next(s);
    }
    p = packed_.InsertString(p, member);
    packed_.InsertDouble(packed_.Next(p), score);
  }

  void ToTree() {
    auto tree = std::make_unique<ZSet>();
    std::string scratch;
    for (PackedList::Pos p = packed_.begin(); p != packed_.end();) {
      const PackedList::Pos s = packed_.Next(p);
      tree->Insert(packed_.Get(p).AsString(&scratch), packed_.Get(s).AsDouble());
      p = packed_.Next(s);
    }
    packed_.Clear();
    tree_ = tree.release();
  }

  const ZSetLimits& limits_;
  PackedList packed_;
  ZSet* tree_ = nullptr;
};

template <typename Change>
Entry* Mutate(Shard& shard, Entry* e, const ZSetLimits& limits, Change&& change) {
  return shard.Update(e, [&](Entry* x) -> Entry* {
    MutableZSet set(x->object(), limits);
    change(set);
    x->set_object(set.Release());
    return x;
  });
}

void EraseIfEmpty(Shard& shard, const Entry* e, int64_t now_ms, bool* removed) {
  if (ZSetView(e).size() != 0) return;
  const std::string key(e->key());
  shard.Erase(key, now_ms);
  *removed = true;
}

// The zset at `key` for a mutation: kOk with nullptr when absent.
Result<Entry*> FindForWrite(Shard& shard, std::string_view key, int64_t now_ms) {
  Entry* e = shard.Find(key, now_ms);
  if (e != nullptr && e->type() != ValueType::kZset) return {Status::kWrongType, nullptr};
  return {Status::kOk, e};
}

// Removes the ranks a range picks from the set at `key`.
template <typename RanksFn>
Result<ZSetRemoveOutcome> RemoveRanks(Shard& shard, std::string_view key, int64_t now_ms,
                                      RanksFn&& ranks) {
  ZSetRemoveOutcome out;
  Result<Entry*> r = FindForWrite(shard, key, now_ms);
  if (!r.ok() || r.value == nullptr) return {r.status, out};
  const ZSetView view(r.value);
  const auto [first, last] = ranks(view);
  if (first >= last) return {Status::kOk, out};
  out.removed = last - first;
  if (first == 0 && last >= view.size()) {
    // Everything goes: drop the key instead of erasing member by member.
    const std::string owned(key);
    shard.Erase(owned, now_ms);
    out.key_removed = true;
    return {Status::kOk, out};
  }
  Entry* e = Mutate(shard, r.value, ZSetLimits{},
                    [&, f = first, l = last](MutableZSet& set) { set.RemoveRanks(f, l); });
  EraseIfEmpty(shard, e, now_ms, &out.key_removed);
  return {Status::kOk, out};
}

}  // namespace

// ---- ZSetView ----

const char* ZSetView::encoding_name() const {
  return encoding() == ZSetEncoding::kSkipList ? "skiplist" : "listpack";
}

size_t ZSetView::size() const {
  if (const ZSet* z = skiplist()) return z->size();
  return BorrowedPacked(ref_).list().size() / 2;
}

bool ZSetView::Score(std::string_view member, double* score) const {
  if (const ZSet* z = skiplist()) return z->Score(member, score);
  const BorrowedPacked borrowed(ref_);
  const PackedList& list = borrowed.list();
  const PackedList::Pos at = list.Find(member, list.begin(), 1);
  if (at == list.end()) return false;
  *score = list.Get(list.Next(at)).AsDouble();
  return true;
}

bool ZSetView::Rank(std::string_view member, size_t* rank) const {
  if (const ZSet* z = skiplist()) return z->Rank(member, rank);
  const BorrowedPacked borrowed(ref_);
  const PackedList& list = borrowed.list();
  size_t r = 0;
  for (PackedList::Pos p = list.begin(); p != list.end(); ++r) {
    if (list.Get(p).Equals(member)) {
      *rank = r;
      return true;
    }
    p = list.Next(list.Next(p));
  }
  return false;
}

std::pair<size_t, size_t> ZSetView::ScoreRanks(const ScoreRange& range) const {
  if (range.min > range.max ||
      (range.min == range.max && (range.min_exclusive || range.max_exclusive))) {
    return {0, 0};
  }
  const size_t first = ScoreRank(ref_, range.min, range.min_exclusive);
  const size_t last = ScoreRank(ref_, range.max, !range.max_exclusive);
  return {first, std::max(first, last)};
}

std::pair<size_t, size_t> ZSetView::LexRanks(const LexRange& range) const {
  const size_t n = size();
  if (skiplist() == nullptr && range.max.kind != LexBound::kPlusInf) {
    // Walk on from the first member in range while members stay at or
    // below the maximum (what Redis does on a listpack, so the answer is
    // the same even when the scores differ).
    const size_t first = LexBoundRank(ref_, range.min, true, n);
    const BorrowedPacked borrowed(ref_);
    const PackedList& list = borrowed.list();
    std::string scratch;
    size_t last = first;
    if (range.max.kind != LexBound::kMinusInf) {
      for (PackedList::Pos p = list.At(static_cast<int64_t>(2 * first)); p != list.end();
           p = list.Next(list.Next(p)), ++last) {
        const std::string_view m = list.Get(p).AsString(&scratch);
        if (range.max.kind == LexBound::kInclusive ? m > range.max.member : m >= range.max.member) {
          break;
        }
      }
    }
    return {first, last};
  }
  const size_t first = LexBoundRank(ref_, range.min, true, n);
  const size_t last = LexBoundRank(ref_, range.max, false, n);
  return {first, std::max(first, last)};
}

std::vector<ScoredMember> ZSetView::Items() const {
  std::vector<ScoredMember> out;
  out.reserve(size());
  ForEach([&](std::string_view m, double s) { out.emplace_back(std::string(m), s); });
  return out;
}

// ---- Operations ----

Result<const Entry*> FindZSet(Shard& shard, std::string_view key, int64_t now_ms, bool for_read) {
  const Entry* e = for_read ? shard.FindForRead(key, now_ms) : shard.Find(key, now_ms);
  if (e != nullptr && e->type() != ValueType::kZset) return {Status::kWrongType, nullptr};
  return {Status::kOk, e};
}

namespace {

// What ZADD does with one input, given whether the member exists and its
// current score.
enum class AddAction { kSkip, kAdd, kUpdate, kSame, kNan };

AddAction Decide(bool exists, double current, const ZAddInput& in, const ZAddFlags& flags,
                 double* score) {
  if (!exists) {
    *score = in.score;
    return flags.xx ? AddAction::kSkip : AddAction::kAdd;
  }
  if (flags.nx) return AddAction::kSkip;
  *score = flags.incr ? current + in.score : in.score;
  if (std::isnan(*score)) return AddAction::kNan;
  if ((flags.gt && !(*score > current)) || (flags.lt && !(*score < current))) {
    return AddAction::kSkip;
  }
  return *score == current ? AddAction::kSame : AddAction::kUpdate;
}

// Records what one input did in `out`.
void Count(AddAction action, double score, const ZAddFlags& flags, ZAddOutcome* out) {
  switch (action) {
    case AddAction::kAdd:
      ++out->added;
      break;
    case AddAction::kUpdate:
      ++out->updated;
      break;
    case AddAction::kNan:
      out->nan = true;
      return;
    case AddAction::kSkip:
      return;
    case AddAction::kSame:
      break;
  }
  if (flags.incr) {
    out->incr_applied = true;
    out->incr_score = score;
  }
}

bool Changes(AddAction a) { return a == AddAction::kAdd || a == AddAction::kUpdate; }

}  // namespace

Result<ZAddOutcome> ZSetAdd(Shard& shard, std::string_view key, std::span<const ZAddInput> inputs,
                            const ZAddFlags& flags, const ZSetLimits& limits, int64_t now_ms) {
  ZAddOutcome out;
  Result<Entry*> r = FindForWrite(shard, key, now_ms);
  if (!r.ok()) return {r.status, out};
  Entry* e = r.value;
  if (e == nullptr) {
    if (flags.xx || inputs.empty()) return {Status::kOk, out};
    // Redis 7.2's choice on creation: packed when the command's members fit.
    size_t longest = 0;
    for (const ZAddInput& in : inputs) longest = std::max(longest, in.member.size());
    ObjectRef object =
        inputs.size() <= limits.max_packed_entries && longest <= limits.max_packed_value
            ? ObjectRef::Packed(nullptr)
            : ObjectRef::ZSetRef(new ZSet());
    e = Entry::CreateObject(key, ValueType::kZset, object, 0);
    shard.Insert(e);
    out.created = true;
  } else {
    // A first pass over the set as it is: when no input changes it, applying
    // them in turn changes nothing either, and the key is left untouched
    // (WATCH does not see it). With one input the pass decides it all.
    const ZSetView view(e);
    bool any = false;
    AddAction one = AddAction::kSkip;
    double one_score = 0;
    for (const ZAddInput& in : inputs) {
      double current = 0, score = 0;
      const bool exists = view.Score(in.member, &current);
      const AddAction action = Decide(exists, current, in, flags, &score);
      if (inputs.size() == 1) {
        one = action;
        one_score = score;
      }
      if (Changes(action)) {
        any = true;
        break;
      }
    }
    if (inputs.size() == 1) {
      Count(one, one_score, flags, &out);
      if (!Changes(one)) return {Status::kOk, out};
      Mutate(shard, e, limits, [&](MutableZSet& set) {
        set.ConvertIfMoreThan(1);
        set.Set(inputs[0].member, one_score, one == AddAction::kUpdate);
      });
      return {Status::kOk, out};
    }
    if (!any) return {Status::kOk, out};
  }
  e = Mutate(shard, e, limits, [&](MutableZSet& set) {
    set.ConvertIfMoreThan(inputs.size());
    for (const ZAddInput& in : inputs) {
      double current = 0, score = 0;
      const bool exists = set.Score(in.member, &current);
      const AddAction action = Decide(exists, current, in, flags, &score);
      Count(action, score, flags, &out);
      if (action == AddAction::kNan) return;
      if (Changes(action)) set.Set(in.member, score, exists);
    }
  });
  if (out.created && ZSetView(e).size() == 0) {
    bool unused = false;
    EraseIfEmpty(shard, e, now_ms, &unused);
    out.created = false;
  }
  return {Status::kOk, out};
}

Result<ZSetRemoveOutcome> ZSetRemove(Shard& shard, std::string_view key,
                                     std::span<const std::string_view> members, int64_t now_ms) {
  ZSetRemoveOutcome out;
  Result<Entry*> r = FindForWrite(shard, key, now_ms);
  if (!r.ok() || r.value == nullptr) return {r.status, out};
  const ZSetView view(r.value);
  double unused;
  if (std::none_of(members.begin(), members.end(),
                   [&](std::string_view m) { return view.Score(m, &unused); })) {
    return {Status::kOk, out};
  }
  Entry* e = Mutate(shard, r.value, ZSetLimits{}, [&](MutableZSet& set) {
    for (std::string_view m : members) {
      out.removed += set.Remove(m);
      if (set.size() == 0) break;
    }
  });
  EraseIfEmpty(shard, e, now_ms, &out.key_removed);
  return {Status::kOk, out};
}

std::pair<size_t, size_t> NormalizeRankRange(int64_t start, int64_t stop, size_t size) {
  const auto n = static_cast<int64_t>(size);
  if (start < 0) start += n;
  if (stop < 0) stop += n;
  if (start < 0) start = 0;
  if (start > stop || start >= n) return {0, 0};
  if (stop >= n) stop = n - 1;
  return {static_cast<size_t>(start), static_cast<size_t>(stop) + 1};
}

Result<ZSetRemoveOutcome> ZSetRemoveRangeByRank(Shard& shard, std::string_view key, int64_t start,
                                                int64_t stop, int64_t now_ms) {
  return RemoveRanks(shard, key, now_ms,
                     [&](const ZSetView& v) { return NormalizeRankRange(start, stop, v.size()); });
}

Result<ZSetRemoveOutcome> ZSetRemoveRangeByScore(Shard& shard, std::string_view key,
                                                 const ScoreRange& range, int64_t now_ms) {
  return RemoveRanks(shard, key, now_ms, [&](const ZSetView& v) { return v.ScoreRanks(range); });
}

Result<ZSetRemoveOutcome> ZSetRemoveRangeByLex(Shard& shard, std::string_view key,
                                               const LexRange& range, int64_t now_ms) {
  return RemoveRanks(shard, key, now_ms, [&](const ZSetView& v) { return v.LexRanks(range); });
}

Result<std::vector<ScoredMember>> ZSetPop(Shard& shard, std::string_view key, uint64_t count,
                                          bool max, int64_t now_ms, bool* key_removed) {
  *key_removed = false;
  std::vector<ScoredMember> out;
  Result<Entry*> r = FindForWrite(shard, key, now_ms);
  if (!r.ok()) return {r.status, {}};
  if (r.value == nullptr || count == 0) return {Status::kOk, {}};
  const size_t n = ZSetView(r.value).size();
  const size_t take = static_cast<size_t>(std::min<uint64_t>(count, n));
  if (take == n) {
    // Everything goes: copy it out in pop order and drop the key.
    out = ZSetView(r.value).Items();
    if (max) std::reverse(out.begin(), out.end());
    const std::string owned(key);
    shard.Erase(owned, now_ms);
    *key_removed = true;
    return {Status::kOk, std::move(out)};
  }
  out.reserve(take);
  Entry* e = Mutate(shard, r.value, ZSetLimits{}, [&](MutableZSet& set) {
    for (size_t i = 0; i < take; ++i) out.push_back(set.PopEnd(max));
  });
  EraseIfEmpty(shard, e, now_ms, key_removed);
  return {Status::kOk, std::move(out)};
}

std::vector<ScoredMember> ZSetRandomMembers(const Entry* zset, int64_t count) {
  const ZSetView view(zset);
  const ZSet* tree = view.skiplist();
  auto one = [tree](absl::BitGen& gen) {
    const ZSet::Iterator it = tree->Random(gen);
    return ScoredMember(std::string(it.member()), it.score());
  };
  return PickRandom<ScoredMember>(
      view.size(), count, tree != nullptr ? &one : nullptr, [&] { return view.Items(); },
      [](const ScoredMember& m) { return std::string_view(m.first); });
}

uint64_t ZSetScan(const Entry* zset, uint64_t cursor, size_t count, std::string_view pattern,
                  std::vector<ScoredMember>* out) {
  auto keep = [&](std::string_view m, double s) {
    if (pattern.empty() || GlobMatch(pattern, m)) out->emplace_back(std::string(m), s);
  };
  const ZSetView view(zset);
  const ZSet* tree = view.skiplist();
  if (tree == nullptr) {
    view.ForEach(keep);
    return 0;
  }
  return ScanSteps(cursor, count, [&](uint64_t at, size_t* visited) {
    return tree->Scan(at, [&](std::string_view m, double s) {
      ++*visited;
      keep(m, s);
    });
  });
}

bool ZSetStore(Shard& shard, std::string_view key, std::vector<ScoredMember> items,
               const ZSetLimits& limits, int64_t now_ms) {
  const std::string owned(key);
  const bool existed = shard.Erase(owned, now_ms);
  if (items.empty()) return existed;
  shard.Insert(CreateZSetEntry(owned, std::move(items), limits, 0));
  return existed;
}

Entry* CreateZSetEntry(std::string_view key, std::vector<ScoredMember> items,
                       const ZSetLimits& limits, int64_t expire_at_ms) {
  size_t longest = 0;
  for (const ScoredMember& m : items) longest = std::max(longest, m.first.size());
  ObjectRef object = ObjectRef::Packed(nullptr);
  // In order: a packed list is built by appending, and a tree filled in
  // order packs its leaves full.
  std::sort(items.begin(), items.end(), [](const ScoredMember& a, const ScoredMember& b) {
    return Before(a.second, a.first, b.second, b.first);
  });
  if (items.size() <= limits.max_packed_entries && longest <= limits.max_packed_value) {
    PackedList list;
    for (const ScoredMember& m : items) {
      list.InsertString(list.end(), m.first);
      list.InsertDouble(list.end(), m.second);
    }
    object = ObjectRef::Packed(list.Release());
  } else {
    auto tree = std::make_unique<ZSet>();
    for (const ScoredMember& m : items) tree->Insert(m.first, m.second);
    object = ObjectRef::ZSetRef(tree.release());
  }
  return Entry::CreateObject(key, ValueType::kZset, object, expire_at_ms);
}

}  // namespace sluice::storage
