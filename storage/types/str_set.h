#pragma once
// StrSet and StrMap: the encodings of large sets (string members) and large
// hashes (field -> value), both BucketedTables (see bucketed_table.h for the
// layout, resizing and the SCAN guarantee).
//
// A StrSet entry is the member's varint length and bytes: a 16-byte member is
// 17 bytes in its bucket's block. A StrMap entry is the field's varint length
// and bytes, then the value's: a 10-byte field with a 10-byte value is 22
// bytes. Members, fields and values are stored as given (no integer
// encoding). Lookups allocate nothing; an insert or erase reallocates one
// small block. Average O(1) for every operation; a resize moves
// BucketedTable::kBucketsPerStep old buckets per mutation.
//
// string_views returned by these classes point into the table and are valid
// until the next mutation. Not thread-safe: the owning shard's lock guards it.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "absl/random/bit_gen_ref.h"
#include "storage/types/bucketed_table.h"

namespace sluice::storage {

namespace str_set_internal {

struct MemberTraits {
  static std::string_view Key(const char* e) { return bytes::ReadLengthPrefixed(e); }
  static size_t EntryBytes(const char* e) { return bytes::LengthPrefixedBytes(Key(e).size()); }
};

struct FieldValueTraits {
  static std::string_view Key(const char* e) { return bytes::ReadLengthPrefixed(e); }
  static std::string_view Value(const char* e) {
    const std::string_view field = Key(e);
    return bytes::ReadLengthPrefixed(field.data() + field.size());
  }
  static size_t EntryBytes(const char* e) {
    const std::string_view value = Value(e);
    return static_cast<size_t>(value.data() + value.size() - e);
  }
};

}  // namespace str_set_internal

// What StrSet and StrMap share: a BucketedTable of entries keyed by their
// member or field, and the operations that need only the key.
template <typename Traits>
class KeyedTable {
 public:
  KeyedTable() = default;
  KeyedTable(const KeyedTable&) = delete;
  KeyedTable& operator=(const KeyedTable&) = delete;

  size_t size() const { return table_.size(); }
  bool empty() const { return size() == 0; }
  // Bucket arrays and blocks (malloc_usable_size).
  size_t AllocatedBytes() const { return table_.AllocatedBytes(); }

  bool Contains(std::string_view key) const {
    Slot slot;
    return table_.Find(key, MemberHash(key), &slot);
  }
  // Returns false when `key` is absent.
  bool Erase(std::string_view key) {
    table_.RehashStep();
    Slot slot;
    if (!table_.Find(key, MemberHash(key), &slot)) return false;
    table_.Erase(slot);
    return true;
  }

  // Resize work for an idle table (the owner's periodic tick); returns
  // whether a resize is still in progress.
  bool RehashStep() { return table_.RehashStep(); }
  void Clear() { table_.Clear(); }
  bool CheckConsistency() const { return table_.CheckConsistency(); }

 protected:
  using Slot = typename BucketedTable<Traits>::Slot;
  BucketedTable<Traits> table_;
};

class StrSet : public KeyedTable<str_set_internal::MemberTraits> {
 public:
  // Returns false when `member` is already present.
  bool Insert(std::string_view member);
  // A random member (SRANDMEMBER); see BucketedTable::Random for how even.
  // REQUIRES: !empty().
  std::string_view Random(absl::BitGenRef gen) const;
  // Removes and returns a random member (SPOP). REQUIRES: !empty().
  std::string PopRandom(absl::BitGenRef gen);

  // One SCAN step: visit(std::string_view member) for the cursor's buckets;
  // returns the next cursor (0 at the end). `visit` must not modify the set.
  template <typename Visit>
  uint64_t Scan(uint64_t cursor, Visit&& visit) const {
    return table_.Scan(cursor, [&](const char* e) { visit(Traits::Key(e)); });
  }
  template <typename Visit>
  void ForEach(Visit&& visit) const {
    table_.ForEach([&](const char* e) { visit(Traits::Key(e)); });
  }

 private:
  using Traits = str_set_internal::MemberTraits;
};

class StrMap : public KeyedTable<str_set_internal::FieldValueTraits> {
 public:
  // Sets `field` to `value`; returns true when the field is new.
  // REQUIRES: neither view points into this map.
  bool Set(std::string_view field, std::string_view value);
  // Adds `field` only when absent (HSETNX); returns whether it did.
  bool SetIfAbsent(std::string_view field, std::string_view value);
  // The value of `field` in *value; false when absent.
  bool Find(std::string_view field, std::string_view* value) const;
  // A random (field, value). REQUIRES: !empty().
  std::pair<std::string_view, std::string_view> Random(absl::BitGenRef gen) const;

  // One SCAN step: visit(std::string_view field, std::string_view value).
  template <typename Visit>
  uint64_t Scan(uint64_t cursor, Visit&& visit) const {
    return table_.Scan(cursor, [&](const char* e) { visit(Traits::Key(e), Traits::Value(e)); });
  }
  template <typename Visit>
  void ForEach(Visit&& visit) const {
    table_.ForEach([&](const char* e) { visit(Traits::Key(e), Traits::Value(e)); });
  }

 private:
  using Traits = str_set_internal::FieldValueTraits;
  // Adds an absent field.
  void Add(std::string_view field, uint64_t hash, std::string_view value);
};

}  // namespace sluice::storage
