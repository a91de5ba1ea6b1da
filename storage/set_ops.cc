#include "storage/set_ops.h"

#include <algorithm>
#include <limits>
#include <memory>
#include <unordered_set>
#include <utility>

#include "absl/random/random.h"
#include "storage/glob.h"
#include "storage/random_pick.h"

namespace sluice::storage {
namespace {

// A set's container for one mutation, converted (intset -> listpack or
// hashtable, listpack -> hashtable) as members are added; the caller takes
// it back with Release().
class MutableSet {
 public:
  MutableSet(ObjectRef ref, const SetLimits& limits) : limits_(limits) {
    switch (ref.kind()) {
      case ContainerKind::kIntSet:
        ints_ = ref.ints();
        break;
      case ContainerKind::kStrSet:
        table_ = ref.set();
        break;
      default:
        packed_ = PackedList::Adopt(ref.packed_block());
    }
  }
  MutableSet(const MutableSet&) = delete;
  MutableSet& operator=(const MutableSet&) = delete;

  ObjectRef Release() {
    if (ints_ != nullptr) return ObjectRef::Ints(std::exchange(ints_, nullptr));
    if (table_ != nullptr) return ObjectRef::Set(std::exchange(table_, nullptr));
    return ObjectRef::Packed(packed_.Release());
  }

  size_t size() const {
    if (ints_ != nullptr) return ints_->size();
    if (table_ != nullptr) return table_->size();
    return packed_.size();
  }

  // Returns true when the member is new.
  bool Add(std::string_view member) {
    if (ints_ != nullptr) {
      int64_t v;
      if (LooksLikeInt64(member, &v)) {
        if (!ints_->Insert(v)) return false;
        if (ints_->size() > limits_.max_intset_entries) IntsToTable();
        return true;
      }
      // A string member: a listpack when the result fits one.
      if (ints_->size() < limits_.max_packed_entries && member.size() <= limits_.max_packed_value &&
          MaxIntDigits() <= limits_.max_packed_value) {
        IntsToPacked();
      } else {
        IntsToTable();
      }
    }
    if (table_ != nullptr) return table_->Insert(member);
    if (packed_.Find(member) != packed_.end()) return false;
    if (packed_.size() < limits_.max_packed_entries && member.size() <= limits_.max_packed_value) {
      packed_.PushBack(member);
      return true;
    }
    PackedToTable();
    return table_->Insert(member);
  }

  bool Remove(std::string_view member) {
    if (ints_ != nullptr) {
      int64_t v;
      return LooksLikeInt64(member, &v) && ints_->Erase(v);
    }
    if (table_ != nullptr) return table_->Erase(member);
    const PackedList::Pos at = packed_.Find(member);
    if (at == packed_.end()) return false;
    packed_.Erase(at);
    return true;
  }

  // Removes and returns a random member. REQUIRES: size() > 0.
  std::string PopRandom() {
    absl::BitGen& gen = ThreadRandom();
    if (table_ != nullptr) return table_->PopRandom(gen);
    if (ints_ != nullptr) {
      const int64_t v = ints_->At(absl::Uniform<size_t>(gen, 0, ints_->size()));
      ints_->Erase(v);
      return std::to_string(v);
    }
    const PackedList::Pos at = packed_.At(absl::Uniform<int64_t>(gen, 0, packed_.size()));
    std::string scratch;
    std::string member(packed_.Get(at).AsString(&scratch));
    packed_.Erase(at);
    return member;
  }

 private:
  // Decimal digits (and sign) of the widest member of the intset.
  size_t MaxIntDigits() const {
    if (ints_->size() == 0) return 0;
    return std::max(std::to_string(ints_->At(0)).size(),
                    std::to_string(ints_->At(ints_->size() - 1)).size());
  }
  void IntsToPacked() {
    for (size_t i = 0; i < ints_->size(); ++i) packed_.InsertInt(packed_.end(), ints_->At(i));
    delete std::exchange(ints_, nullptr);
  }
  void IntsToTable() {
    auto table = std::make_unique<StrSet>();
    for (size_t i = 0; i < ints_->size(); ++i) table->Insert(std::to_string(ints_->At(i)));
    delete std::exchange(ints_, nullptr);
    table_ = table.release();
  }
  void PackedToTable() {
    auto table = std::make_unique<StrSet>();
    std::string scratch;
    for (PackedList::Pos p = packed_.begin(); p != packed_.end(); p = packed_.Next(p)) {
      table->Insert(packed_.Get(p).AsString(&scratch));
    }
    packed_.Clear();
    table_ = table.release();
  }

  const SetLimits& limits_;
  PackedList packed_;
  IntSet* ints_ = nullptr;
  StrSet* table_ = nullptr;
};

// An empty container for a set whose first member is `first` and which
// will get about `size_hint` members (Redis's choice on creation).
ObjectRef CreateFor(std::string_view first, size_t size_hint, const SetLimits& limits) {
  int64_t unused;
  if (LooksLikeInt64(first, &unused) && size_hint <= limits.max_intset_entries) {
    return ObjectRef::Ints(new IntSet());
  }
  if (size_hint <= limits.max_packed_entries) return ObjectRef::Packed(nullptr);
  return ObjectRef::Set(new StrSet());
}

template <typename Change>
Entry* Mutate(Shard& shard, Entry* e, const SetLimits& limits, Change&& change) {
  return shard.Update(e, [&](Entry* x) -> Entry* {
    MutableSet set(x->object(), limits);
    change(set);
    x->set_object(set.Release());
    return x;
  });
}

void EraseIfEmpty(Shard& shard, const Entry* e, int64_t now_ms, bool* removed) {
  if (SetView(e).size() != 0) return;
  const std::string key(e->key());
  shard.Erase(key, now_ms);
  *removed = true;
}

}  // namespace

SetEncoding SetView::encoding() const {
  switch (ref_.kind()) {
    case ContainerKind::kIntSet:
      return SetEncoding::kIntSet;
    case ContainerKind::kStrSet:
      return SetEncoding::kTable;
    default:
      return SetEncoding::kPacked;
  }
}

const char* SetView::encoding_name() const {
  switch (encoding()) {
    case SetEncoding::kIntSet:
      return "intset";
    case SetEncoding::kPacked:
      return "listpack";
    case SetEncoding::kTable:
      return "hashtable";
  }
  return "";
}

size_t SetView::size() const { return ObjectElementCount(ref_); }

bool SetView::Contains(std::string_view member) const {
  switch (ref_.kind()) {
    case ContainerKind::kIntSet: {
      int64_t v;
      return LooksLikeInt64(member, &v) && ref_.ints()->Contains(v);
    }
    case ContainerKind::kStrSet:
      return ref_.set()->Contains(member);
    default: {
      const BorrowedPacked borrowed(ref_);
      return borrowed.list().Find(member) != borrowed.list().end();
    }
  }
}

std::vector<std::string> SetView::Members() const {
  std::vector<std::string> out;
  out.reserve(size());
  ForEach([&](std::string_view m) { out.emplace_back(m); });
  return out;
}

Result<const Entry*> FindSet(Shard& shard, std::string_view key, int64_t now_ms, bool for_read) {
  const Entry* e = for_read ? shard.FindForRead(key, now_ms) : shard.Find(key, now_ms);
  if (e != nullptr && e->type() != ValueType::kSet) return {Status::kWrongType, nullptr};
  return {Status::kOk, e};
}

Result<size_t> SetAdd(Shard& shard, std::string_view key, std::span<const std::string_view> members,
                      const SetLimits& limits, int64_t now_ms) {
  Entry* e = shard.Find(key, now_ms);
  if (e == nullptr) {
    e = Entry::CreateObject(key, ValueType::kSet, CreateFor(members[0], members.size(), limits), 0);
    shard.Insert(e);
  } else if (e->type() != ValueType::kSet) {
    return {Status::kWrongType, 0};
  }
  size_t added = 0;
  Mutate(shard, e, limits, [&](MutableSet& set) {
    for (std::string_view m : members) added += set.Add(m);
  });
  return {Status::kOk, added};
}

Result<SetRemoveOutcome> SetRemove(Shard& shard, std::string_view key,
                                   std::span<const std::string_view> members, int64_t now_ms) {
  Entry* e = shard.Find(key, now_ms);
  SetRemoveOutcome out;
  if (e == nullptr) return {Status::kOk, out};
  if (e->type() != ValueType::kSet) return {Status::kWrongType, out};
  e = Mutate(shard, e, SetLimits{}, [&](MutableSet& set) {
    for (std::string_view m : members) {
      out.removed += set.Remove(m);
      if (set.size() == 0) break;
    }
  });
  EraseIfEmpty(shard, e, now_ms, &out.key_removed);
  return {Status::kOk, out};
}

Result<std::vector<std::string>> SetPop(Shard& shard, std::string_view key, uint64_t count,
                                        int64_t now_ms, bool* key_removed) {
  *key_removed = false;
  std::vector<std::string> out;
  Entry* e = shard.Find(key, now_ms);
  if (e == nullptr || count == 0) {
    if (e != nullptr && e->type() != ValueType::kSet) return {Status::kWrongType, {}};
    return {Status::kOk, {}};
  }
  if (e->type() != ValueType::kSet) return {Status::kWrongType, {}};
  const size_t size = SetView(e).size();
  if (count >= size) {
    out = SetView(e).Members();
    const std::string owned(key);
    shard.Erase(owned, now_ms);
    *key_removed = true;
    return {Status::kOk, std::move(out)};
  }
  out.reserve(static_cast<size_t>(count));
  Mutate(shard, e, SetLimits{}, [&](MutableSet& set) {
    for (uint64_t i = 0; i < count; ++i) out.push_back(set.PopRandom());
  });
  return {Status::kOk, std::move(out)};
}

std::vector<std::string> SetRandomMembers(const Entry* set, int64_t count) {
  const SetView view(set);
  const ObjectRef ref = set->object();
  const StrSet* table = ref.kind() == ContainerKind::kStrSet ? ref.set() : nullptr;
  auto one = [table](absl::BitGen& gen) { return std::string(table->Random(gen)); };
  return PickRandom<std::string>(
      view.size(), count, table != nullptr ? &one : nullptr, [&] { return view.Members(); },
      [](const std::string& m) { return std::string_view(m); });
}

uint64_t SetScan(const Entry* set, uint64_t cursor, size_t count, std::string_view pattern,
                 std::vector<std::string>* out) {
  auto keep = [&](std::string_view m) {
    if (pattern.empty() || GlobMatch(pattern, m)) out->emplace_back(m);
  };
  const ObjectRef ref = set->object();
  if (ref.kind() != ContainerKind::kStrSet) {
    SetView(set).ForEach(keep);
    return 0;
  }
  return ScanSteps(cursor, count, [&](uint64_t at, size_t* visited) {
    return ref.set()->Scan(at, [&](std::string_view m) {
      ++*visited;
      keep(m);
    });
  });
}

bool SetStore(Shard& shard, std::string_view key, const std::vector<std::string>& members,
              const SetLimits& limits, int64_t now_ms) {
  const std::string owned(key);
  const bool existed = shard.Erase(owned, now_ms);
  if (members.empty()) return existed;
  Entry* e = Entry::CreateObject(owned, ValueType::kSet, ObjectRef::Ints(new IntSet()), 0);
  shard.Insert(e);
  Mutate(shard, e, limits, [&](MutableSet& set) {
    for (const std::string& m : members) set.Add(m);
  });
  return existed;
}

Entry* CreateSetEntry(std::string_view key, std::span<const std::string_view> members,
                      const SetLimits& limits, int64_t expire_at_ms) {
  MutableSet set(CreateFor(members.front(), members.size(), limits), limits);
  for (std::string_view m : members) set.Add(m);
  return Entry::CreateObject(key, ValueType::kSet, set.Release(), expire_at_ms);
}

std::vector<std::string> SetIntersection(std::span<const Entry* const> sets, size_t limit) {
  std::vector<std::string> out;
  if (sets.empty()) return out;
  std::vector<SetView> views;
  for (const Entry* e : sets) {
    if (e == nullptr) return out;
    views.emplace_back(e);
  }
  std::sort(views.begin(), views.end(),
            [](const SetView& a, const SetView& b) { return a.size() < b.size(); });
  bool done = false;
  views[0].ForEach([&](std::string_view m) {
    if (done) return;
    for (size_t i = 1; i < views.size(); ++i) {
      if (!views[i].Contains(m)) return;
    }
    out.emplace_back(m);
    done = limit > 0 && out.size() >= limit;
  });
  return out;
}

std::vector<std::string> SetUnion(std::span<const Entry* const> sets) {
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;
  for (const Entry* e : sets) {
    if (e == nullptr) continue;
    SetView(e).ForEach([&](std::string_view m) {
      if (seen.emplace(m).second) out.emplace_back(m);
    });
  }
  return out;
}

std::vector<std::string> SetDifference(std::span<const Entry* const> sets) {
  std::vector<std::string> out;
  if (sets.empty() || sets[0] == nullptr) return out;
  SetView(sets[0]).ForEach([&](std::string_view m) {
    for (size_t i = 1; i < sets.size(); ++i) {
      if (sets[i] != nullptr && SetView(sets[i]).Contains(m)) return;
    }
    out.emplace_back(m);
  });
  return out;
}

}  // namespace sluice::storage
