#include "storage/hash_ops.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <random>
#include <unordered_set>

#include "absl/random/random.h"
#include "storage/glob.h"
#include "storage/random_pick.h"
#include "storage/string_ops.h"

namespace sluice::storage {

// Gives hash_ops.cc the container behind a HashView.
struct HashAccess {
  static ObjectRef Ref(const HashView& v) { return v.ref_; }
};

namespace {

// A hash's container (PackedList or StrMap) for one mutation: the caller
// takes it back, possibly converted to a StrMap, with Release().
class MutableHash {
 public:
  MutableHash(ObjectRef ref, const HashLimits& limits) : limits_(limits) {
    if (ref.kind() == ContainerKind::kStrMap) {
      map_ = ref.map();
    } else {
      packed_ = PackedList::Adopt(ref.packed_block());
    }
  }
  MutableHash(const MutableHash&) = delete;
  MutableHash& operator=(const MutableHash&) = delete;

  ObjectRef Release() {
    return map_ != nullptr ? ObjectRef::Map(std::exchange(map_, nullptr))
                           : ObjectRef::Packed(packed_.Release());
  }

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

  const HashLimits& limits_;
  PackedList packed_;
  StrMap* map_ = nullptr;
};

// The hash at `key` for writing, created empty (a TinyMap) when absent
// (nullptr with kWrongType when the key holds another type).
Result<Entry*> FindOrCreateHash(Shard& shard, std::string_view key, int64_t now_ms) {
  Entry* e = shard.Find(key, now_ms);
  if (e == nullptr) {
    e = Entry::CreateBytes(key, ValueType::kHash, tiny_map::Empty(), 0);
    shard.Insert(e);
    return {Status::kOk, e};
  }
  if (e->type() != ValueType::kHash) return {Status::kWrongType, nullptr};
  return {Status::kOk, e};
}

// A PackedList holding a TinyMap's pairs.
ObjectRef TinyToPacked(std::string_view bytes) {
  PackedList list;
  tiny_map::ForEach(bytes, [&](std::string_view f, std::string_view v) {
    list.PushBack(f);
    list.PushBack(v);
    return true;
  });
  return ObjectRef::Packed(list.Release());
}

// The TinyMap encoding of a container, when it is a PackedList that fits one.
std::optional<std::string> AsTiny(ObjectRef ref) {
  if (ref.kind() != ContainerKind::kPacked) return std::nullopt;
  std::vector<std::pair<std::string, std::string>> pairs;
  bool fits = BorrowedPacked(ref).list().size() <= 2 * tiny_map::kMaxPairs;
  if (fits) {
    HashView::ForEachPacked(ref, [&](std::string_view f, std::string_view v) {
      fits = fits && tiny_map::Fits(f, v);
      if (fits) pairs.emplace_back(f, v);
    });
  }
  if (!fits) return std::nullopt;
  return tiny_map::Encode(pairs);
}

// Runs `change(MutableHash&)` on the hash inside Shard::Update and returns
// the entry's new address. A TinyMap is rebuilt whole: it stays one while
// the result fits, else the entry takes the container the change produced.
template <typename Change>
Entry* Mutate(Shard& shard, Entry* e, const HashLimits& limits, Change&& change) {
  return shard.Update(e, [&](Entry* x) -> Entry* {
    if (x->is_object()) {
      MutableHash hash(x->object(), limits);
      change(hash);
      x->set_object(hash.Release());
      return x;
    }
    std::string scratch;
    MutableHash hash(TinyToPacked(x->string_value(&scratch)), limits);
    change(hash);
    const ObjectRef result = hash.Release();
    if (std::optional<std::string> tiny = AsTiny(result)) {
      DestroyObject(result);
      return Entry::WithBytes(x, *tiny);
    }
    return Entry::WithObject(x, result);
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

HashView::HashView(const Entry* entry)
    : tiny_(!entry->is_object()), ref_(tiny_ ? ObjectRef::Packed(nullptr) : entry->object()) {
  if (tiny_) {
    std::string unused;  // an inline value is returned in place
    bytes_ = entry->string_value(&unused);
  }
}

size_t HashView::size() const {
  if (tiny_) return tiny_map::Count(bytes_);
  if (!packed()) return ref_.map()->size();
  return BorrowedPacked(ref_).list().size() / 2;
}

std::optional<std::string_view> HashView::Get(std::string_view field, std::string* scratch) const {
  if (tiny_) {
    std::optional<std::string_view> found;
    tiny_map::ForEach(bytes_, [&](std::string_view f, std::string_view v) {
      if (f == field) found = v;
      return !found;
    });
    return found;
  }
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

Result<const Entry*> FindHash(Shard& shard, std::string_view key, int64_t now_ms, bool for_read) {
  const Entry* e = for_read ? shard.FindForRead(key, now_ms) : shard.Find(key, now_ms);
  if (e != nullptr && e->type() != ValueType::kHash) return {Status::kWrongType, nullptr};
  return {Status::kOk, e};
}

Result<size_t> HashSet(Shard& shard, std::string_view key, std::span<const std::string_view> pairs,
                       const HashLimits& limits, int64_t now_ms) {
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

Result<std::string> HashIncrementByFloat(Shard& shard, std::string_view key, std::string_view field,
                                         long double delta, const HashLimits& limits,
                                         int64_t now_ms) {
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

Entry* CreateHashEntry(std::string_view key, std::span<const std::string_view> pairs,
                       const HashLimits& limits, int64_t expire_at_ms) {
  MutableHash hash(ObjectRef::Packed(nullptr), limits);
  for (size_t i = 0; i + 1 < pairs.size(); i += 2) hash.Set(pairs[i], pairs[i + 1]);
  const ObjectRef result = hash.Release();
  if (std::optional<std::string> tiny = AsTiny(result)) {
    DestroyObject(result);
    return Entry::CreateBytes(key, ValueType::kHash, *tiny, expire_at_ms);
  }
  return Entry::CreateObject(key, ValueType::kHash, result, expire_at_ms);
}

std::vector<FieldValue> HashRandomFields(const Entry* hash, int64_t count) {
  const HashView view(hash);
  const StrMap* map = view.packed() ? nullptr : HashAccess::Ref(view).map();
  auto one = [map](absl::BitGen& gen) {
    auto [f, v] = map->Random(gen);
    return FieldValue(f, v);
  };
  return PickRandom<FieldValue>(
      view.size(), count, map != nullptr ? &one : nullptr,
      [&] {
        std::vector<FieldValue> all;
        all.reserve(view.size());
        view.ForEach([&](std::string_view f, std::string_view v) { all.emplace_back(f, v); });
        return all;
      },
      [](const FieldValue& p) { return std::string_view(p.first); });
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
  return ScanSteps(cursor, count, [&](uint64_t at, size_t* visited) {
    return map->Scan(at, [&](std::string_view f, std::string_view v) {
      ++*visited;
      keep(f, v);
    });
  });
}

}  // namespace sluice::storage
