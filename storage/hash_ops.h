#pragma once
// Hash operations on one shard: the storage half of the hash commands. A
// hash is a collection entry (ValueType::kHash) whose object is a
// PackedList of alternating fields and values while it is small, and a
// StrMap once it has more than `max_packed_entries` fields or a field or
// value longer than `max_packed_value` bytes (HashLimits, the
// hash-max-listpack-* settings). As in Redis, a hash never converts back,
// and a hash whose last field is deleted is removed.
//
// Every mutation runs inside Shard::Update, so the shard's byte count
// follows the hash as it grows or shrinks. Each function REQUIRES:
// shard.mu() held. Views (HashView) and the string_views they hand out are
// valid until the shard is modified.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "storage/object.h"
#include "storage/shard.h"
#include "storage/status.h"
#include "storage/types/tiny_map.h"

namespace sluice::storage {

struct HashLimits {
  size_t max_packed_entries = 128;  // hash-max-listpack-entries
  size_t max_packed_value = 64;     // hash-max-listpack-value
};

// Read access to a hash entry. REQUIRES: entry->type() == ValueType::kHash.
class HashView {
 public:
  explicit HashView(const Entry* entry);

  // Whether Redis would call the encoding a listpack (TinyMap or PackedList;
  // OBJECT ENCODING), rather than a hash table (StrMap).
  bool packed() const { return tiny_ || ref_.kind() == ContainerKind::kPacked; }
  size_t size() const;
  // The value of `field`; an integer-encoded value is formatted into *scratch.
  std::optional<std::string_view> Get(std::string_view field, std::string* scratch) const;
  // visit(std::string_view field, std::string_view value) for every field.
  template <typename Visit>
  void ForEach(Visit&& visit) const {
    if (tiny_) {
      return tiny_map::ForEach(bytes_, [&](std::string_view f, std::string_view v) {
        visit(f, v);
        return true;
      });
    }
    if (!packed()) return ref_.map()->ForEach(visit);
    ForEachPacked(ref_, visit);
  }
  // ForEach over a PackedList container (REQUIRES: ref.kind() == kPacked).
  template <typename Visit>
  static void ForEachPacked(ObjectRef ref, Visit&& visit) {
    const BorrowedPacked borrowed(ref);
    const PackedList& list = borrowed.list();
    std::string field_scratch, value_scratch;
    for (PackedList::Pos p = list.begin(); p != list.end();) {
      const PackedList::Pos v = list.Next(p);
      visit(list.Get(p).AsString(&field_scratch), list.Get(v).AsString(&value_scratch));
      p = list.Next(v);
    }
  }

 private:
  friend struct HashAccess;
  bool tiny_;
  std::string_view bytes_;  // a TinyMap's bytes (tiny_)
  ObjectRef ref_;           // otherwise
};

// The live hash at `key`, nullptr when absent, kWrongType when the key holds
// another type. `for_read` counts a keyspace hit or miss (Shard::FindForRead).
Result<const Entry*> FindHash(Shard& shard, std::string_view key, int64_t now_ms,
                              bool for_read = true);

// HSET/HMSET: `pairs` is field, value, field, value, ... (even, non-empty).
// Returns how many fields were new. Creates the key when absent.
Result<size_t> HashSet(Shard& shard, std::string_view key, std::span<const std::string_view> pairs,
                       const HashLimits& limits, int64_t now_ms);
// HSETNX: whether the field was added.
Result<bool> HashSetIfAbsent(Shard& shard, std::string_view key, std::string_view field,
                             std::string_view value, const HashLimits& limits, int64_t now_ms);

struct HashDeleteOutcome {
  size_t removed = 0;
  bool key_removed = false;  // the last field went, and the key with it
};
// HDEL.
Result<HashDeleteOutcome> HashDelete(Shard& shard, std::string_view key,
                                     std::span<const std::string_view> fields, int64_t now_ms);

// HINCRBY: kHashValueNotInteger, kOverflow. Creates key and field at 0.
Result<int64_t> HashIncrementBy(Shard& shard, std::string_view key, std::string_view field,
                                int64_t delta, const HashLimits& limits, int64_t now_ms);
// HINCRBYFLOAT: kHashValueNotFloat, kNanOrInf; returns the stored text.
Result<std::string> HashIncrementByFloat(Shard& shard, std::string_view key, std::string_view field,
                                         long double delta, const HashLimits& limits,
                                         int64_t now_ms);

using FieldValue = std::pair<std::string, std::string>;

// A new hash entry (linked into no shard) holding `pairs` (field, value,
// field, value, ...; even, non-empty, fields distinct), encoded as HSET
// would build it from nothing (loading a snapshot or RESTORE).
Entry* CreateHashEntry(std::string_view key, std::span<const std::string_view> pairs,
                       const HashLimits& limits, int64_t expire_at_ms);

// HRANDFIELD key count: count >= 0 gives min(count, size) distinct fields
// (the whole hash when count >= size), count < 0 gives -count fields that
// may repeat. REQUIRES: `hash` is a hash entry.
std::vector<FieldValue> HashRandomFields(const Entry* hash, int64_t count);

// One HSCAN step from `cursor`, visiting about `count` fields (a packed hash
// is returned whole with cursor 0, as Redis does); fields that do not match
// `pattern` (a glob, empty: all) are left out. Returns the next cursor.
uint64_t HashScan(const Entry* hash, uint64_t cursor, size_t count, std::string_view pattern,
                  std::vector<FieldValue>* out);

}  // namespace sluice::storage
