#include "storage/hash_ops.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <random>
#include <unordered_set>

#include "absl/random/random.h"
#include "storage/glob.h"
#include "storage/string_ops.h"

namespace sluice::storage {

// Gives hash_ops.cc the container behind a HashView.
struct HashAccess {
  static ObjectRef Ref(const HashView& v) { return v.ref_; }
};

namespace {

absl::BitGen& Random() {
  thread_local absl::BitGen gen;
  return gen;
}

// A hash entry's container taken out of the entry for one mutation and put
// back (possibly moved, or converted to a StrMap) when this goes away.
// Build one only inside the change function of Shard::Update, so that the
// shard's byte count sees the result.
class MutableHash {
 public:
  MutableHash(Entry* entry, const HashLimits& limits) : entry_(entry), limits_(limits) {
    const ObjectRef ref = entry->object();
    if (ref.kind() == ContainerKind::kStrMap) {
      map_ = ref.map();
    } else {
      packed_ = PackedList::Adopt(ref.packed_block());
    }
  }
  ~MutableHash() {
    entry_->set_object(map_ != nullptr ? ObjectRef::Map(map_) : ObjectRef::Packed(packed_.Release()));
  }
  MutableHash(const MutableHash&) = delete;
  MutableHash& operator=(const MutableHash&) = delete;

  size_t size() const { return map_ != nullptr ? map_->size() : packed_.size() / 2; }

  // Returns true when the field is new. `only_if_absent` leaves an existing
  // field alone.
  bool Set(std::string_view field, std::string_view value, bool only_if_absent = false) {
    if (map_ == nullptr &&
        (field.size() > limits_.max_packed_value || value.size() > limits_.max_packed_value)) {
      ConvertToMap();
    }
    if (map_ != nullptr) {
      return only_if_absent ? map_->SetIfAbsent(field, value) : map_->Set(field, value);
    }
    const PackedList::Pos at = packed_.Find(field, packed_.begin(), 1);
    if (at != packed_.end()) {
      if (!only_if_absent) packed_.ReplaceString(packed_.Next(at), value);
      return false;
    }
    packed_.PushBack(field);
    packed_.PushBack(value);
    if (size() > limits_.max_packed_entries) ConvertToMap();
    return true;
  }

  bool Erase(std::string_view field) {
    if (map_ != nullptr) return map_->Erase(field);
    const PackedList::Pos at = packed_.Find(field, packed_.begin(), 1);
    if (at == packed_.end()) return false;
    packed_.Erase(at, 2);
    return true;
  }

 private:
  void ConvertToMap() {
    auto map = std::make_unique<StrMap>();
    std::string field_scratch, value_scratch;
    for (PackedList::Pos p = packed_.begin(); p != packed_.end();) {
      const PackedList::Pos v = packed_.Next(p);
      map->Set(packed_.Get(p).AsString(&field_scratch), packed_.Get(v).AsString(&value_scratch));
      p = packed_.Next(v);
    }
    packed_.Clear();
    map_ = map.release();
  }

  Entry* entry_;
  const HashLimits& limits_;
  PackedList packed_;
  StrMap* map_ = nullptr;
};

// The hash at `key` for writing, created empty when absent (nullptr with
// kWrongType when the key holds another type).
Result<Entry*> FindOrCreateHash(Shard& shard, std::string_view key, int64_t now_ms) {
  Entry* e = shard.Find(key, now_ms);
  if (e == nullptr) {
    e = Entry::CreateObject(key, ValueType::kHash, ObjectRef::Packed(nullptr), 0);
    shard.Insert(e);
    return {Status::kOk, e};
  }
  if (e->type() != ValueType::kHash) return {Status::kWrongType, nullptr};
  return {Status::kOk, e};
}

// Runs `change(MutableHash&)` on the hash inside Shard::Update.
template <typename Change>
Entry* Mutate(Shard& shard, Entry* e, const HashLimits& limits, Change&& change) {
  return shard.Update(e, [&](Entry* x) {
    {
      MutableHash hash(x, limits);
      change(hash);
    }
    return x;
  });
}

// Removes a hash left empty (an increment or set never does; a delete may).
void EraseIfEmpty(Shard& shard, const Entry* e, int64_t now_ms, bool* removed) {
  if (HashView(e).size() != 0) return;
  const std::string key(e->key());
  shard.Erase(key, now_ms);
  *removed = true;
}

}  // namespace

size_t HashView::size() const {
  if (!packed()) return ref_.map()->size();
  return BorrowedPacked(ref_).list().size() / 2;
}

std::optional<std::string_view> HashView::Get(std::string_view field,
                                              std::string* scratch) const {
  if (!packed()) {
    std::string_view value;
    if (!ref_.map()->Find(field, &value)) return std::nullopt;
    return value;
  }
  const BorrowedPacked borrowed(ref_);
  const PackedList& list = borrowed.list();
  const PackedList::Pos at = list.Find(field, list.begin(), 1);
  if (at == list.end()) return std::nullopt;
  const PackedList::Value v = list.Get(list.Next(at));
  if (v.is_string()) return v.str();  // points into the block, which outlives the borrow
  return v.AsString(scratch);
}

Result<const Entry*> FindHash(Shard& shard, std::string_view key, int64_t now_ms,
                              bool for_read) {
  const Entry* e = for_read ? shard.FindForRead(key, now_ms) : shard.Find(key, now_ms);
  if (e != nullptr && e->type() != ValueType::kHash) return {Status::kWrongType, nullptr};
  return {Status::kOk, e};
}

Result<size_t> HashSet(Shard& shard, std::string_view key,
                       std::span<const std::string_view> pairs, const HashLimits& limits,
                       int64_t now_ms) {
  Result<Entry*> found = FindOrCreateHash(shard, key, now_ms);
  if (!found.ok()) return {found.status, 0};
  size_t added = 0;
  Mutate(shard, found.value, limits, [&](MutableHash& hash) {
    for (size_t i = 0; i + 1 < pairs.size(); i += 2) added += hash.Set(pairs[i], pairs[i + 1]);
  });
  return {Status::kOk, added};
}

Result<bool> HashSetIfAbsent(Shard& shard, std::string_view key, std::string_view field,
                             std::string_view value, const HashLimits& limits, int64_t now_ms) {
  Result<Entry*> found = FindOrCreateHash(shard, key, now_ms);
  if (!found.ok()) return {found.status, false};
  bool added = false;
  Mutate(shard, found.value, limits,
         [&](MutableHash& hash) { added = hash.Set(field, value, /*only_if_absent=*/true); });
  return {Status::kOk, added};
}

Result<HashDeleteOutcome> HashDelete(Shard& shard, std::string_view key,
                                     std::span<const std::string_view> fields, int64_t now_ms) {
  Entry* e = shard.Find(key, now_ms);
  HashDeleteOutcome out;
  if (e == nullptr) return {Status::kOk, out};
  if (e->type() != ValueType::kHash) return {Status::kWrongType, out};
  e = Mutate(shard, e, HashLimits{}, [&](MutableHash& hash) {
    for (std::string_view f : fields) {
      out.removed += hash.Erase(f);
      if (hash.size() == 0) break;
    }
  });
  EraseIfEmpty(shard, e, now_ms, &out.key_removed);
  return {Status::kOk, out};
}

Result<int64_t> HashIncrementBy(Shard& shard, std::string_view key, std::string_view field,
                                int64_t delta, const HashLimits& limits, int64_t now_ms) {
  // Check before creating anything, so that an error leaves no empty hash.
  Result<const Entry*> existing = FindHash(shard, key, now_ms, /*for_read=*/false);
  if (!existing.ok()) return {existing.status, 0};
  int64_t current = 0;
  if (existing.value != nullptr) {
    std::string scratch;
    if (auto v = HashView(existing.value).Get(field, &scratch)) {
      if (!LooksLikeInt64(*v, &current)) return {Status::kHashValueNotInteger, 0};
    }
  }
  if ((delta > 0 && current > std::numeric_limits<int64_t>::max() - delta) ||
      (delta < 0 && current < std::numeric_limits<int64_t>::min() - delta)) {
    return {Status::kOverflow, 0};
  }
  const int64_t result = current + delta;
  const std::string text = std::to_string(result);
  Result<Entry*> found = FindOrCreateHash(shard, key, now_ms);
  Mutate(shard, found.value, limits, [&](MutableHash& hash) { hash.Set(field, text); });
  return {Status::kOk, result};
}

Result<std::string> HashIncrementByFloat(Shard& shard, std::string_view key,
                                         std::string_view field, long double delta,
                                         const HashLimits& limits, int64_t now_ms) {
  Result<const Entry*> existing = FindHash(shard, key, now_ms, /*for_read=*/false);
  if (!existing.ok()) return {existing.status, {}};
  long double current = 0;
  if (existing.value != nullptr) {
    std::string scratch;
    if (auto v = HashView(existing.value).Get(field, &scratch)) {
      if (!ParseLongDouble(*v, &current)) return {Status::kHashValueNotFloat, {}};
    }
  }
  const long double result = current + delta;
  if (std::isnan(result) || std::isinf(result)) return {Status::kNanOrInf, {}};
  std::string text = FormatLongDouble(result);
  Result<Entry*> found = FindOrCreateHash(shard, key, now_ms);
  Mutate(shard, found.value, limits, [&](MutableHash& hash) { hash.Set(field, text); });
  return {Status::kOk, std::move(text)};
}

std::vector<FieldValue> HashRandomFields(const Entry* hash, int64_t count) {
  const HashView view(hash);
  const ObjectRef ref = HashAccess::Ref(view);
  const size_t size = view.size();
  std::vector<FieldValue> out;
  if (count == 0 || size == 0) return out;
  absl::BitGen& gen = Random();
  if (count < 0) {
    // -count picks, each uniform over the fields, repeats allowed.
    const uint64_t picks = count == std::numeric_limits<int64_t>::min()
                               ? uint64_t{1} << 63
                               : static_cast<uint64_t>(-count);
    out.reserve(static_cast<size_t>(std::min<uint64_t>(picks, 1 << 20)));
    std::string fs, vs;
    if (view.packed()) {
      const BorrowedPacked borrowed(ref);
      const PackedList& list = borrowed.list();
      for (uint64_t i = 0; i < picks; ++i) {
        const int64_t index = 2 * static_cast<int64_t>(absl::Uniform<size_t>(gen, 0, size));
        const PackedList::Pos f = list.At(index);
        out.emplace_back(list.Get(f).AsString(&fs), list.Get(list.Next(f)).AsString(&vs));
      }
    } else {
      for (uint64_t i = 0; i < picks; ++i) {
        auto [f, v] = ref.map()->Random(gen);
        out.emplace_back(f, v);
      }
    }
    return out;
  }
  const size_t wanted = static_cast<size_t>(count);
  if (!view.packed() && wanted * 3 < size) {
    // Few of many: random picks, skipping repeats.
    std::unordered_set<std::string_view> seen;
    while (out.size() < wanted) {
      auto [f, v] = ref.map()->Random(gen);
      if (seen.insert(f).second) out.emplace_back(f, v);
    }
    return out;
  }
  view.ForEach([&](std::string_view f, std::string_view v) { out.emplace_back(f, v); });
  if (wanted < size) {
    // A random subset of `wanted`: the front of a partial shuffle.
    for (size_t i = 0; i < wanted; ++i) {
      std::swap(out[i], out[absl::Uniform<size_t>(gen, i, size)]);
    }
    out.resize(wanted);
  }
  return out;
}

uint64_t HashScan(const Entry* hash, uint64_t cursor, size_t count, std::string_view pattern,
                  std::vector<FieldValue>* out) {
  const HashView view(hash);
  auto keep = [&](std::string_view f, std::string_view v) {
    if (pattern.empty() || GlobMatch(pattern, f)) out->emplace_back(f, v);
  };
  if (view.packed()) {
    view.ForEach(keep);
    return 0;
  }
  const StrMap* map = HashAccess::Ref(view).map();
  // As Redis: stop after `count` visited fields or 10 * count buckets.
  size_t visited = 0;
  size_t steps = 0;
  do {
    cursor = map->Scan(cursor, [&](std::string_view f, std::string_view v) {
      ++visited;
      keep(f, v);
    });
  } while (cursor != 0 && visited < count && ++steps < count * 10);
  return cursor;
}

}  // namespace sluice::storage
