#pragma once
// HashTable: a shard's chained hash table of Entry pointers.
//
// A power-of-two array of bucket heads; entries chain through Entry::next().
// The bucket of a key is BucketHash(KeyHash(key)) & (buckets - 1). BucketHash
// takes the high 32 bits of the key hash, so it does not depend on the low
// bits that pick the shard. The table grows (doubling) when it holds more keys
// than buckets and shrinks when fewer than one key per eight buckets remain;
// each resize rehashes everything at once, which is fine because shards are
// small. Chaining keeps every key in exactly one bucket, which is what lets
// SCAN's reverse-binary cursor (NextCursor) promise that a key present for a
// whole iteration is returned at least once across resizes.
//
// The table owns its entries: Clear() and the destructor destroy them. Not
// thread-safe: the owning shard's lock guards it.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "storage/entry.h"

namespace sluice::storage {

// The 32 hash bits used for buckets and timer-wheel records.
inline uint32_t BucketHash(uint64_t key_hash) { return static_cast<uint32_t>(key_hash >> 32); }

class HashTable {
 public:
  static constexpr size_t kMinBuckets = 8;

  HashTable() = default;
  ~HashTable();
  HashTable(const HashTable&) = delete;
  HashTable& operator=(const HashTable&) = delete;

  size_t size() const { return size_; }
  size_t bucket_count() const { return buckets_ == nullptr ? 0 : mask_ + 1; }
  // REQUIRES: i < bucket_count().
  Entry* bucket(size_t i) const { return buckets_[i]; }
  // The chain that holds keys with bucket hash `hash` (nullptr when empty).
  Entry* head(uint32_t hash) const {
    return buckets_ == nullptr ? nullptr : buckets_[hash & mask_];
  }

  // The entry holding `key`, or nullptr; *prev gets its chain predecessor
  // (nullptr when it heads its bucket).
  Entry* Find(std::string_view key, uint32_t hash, Entry** prev) const;
  // Finds the chain predecessor of the linked entry at address `target`
  // without dereferencing `target` (it may already be freed after a move).
  // Returns false when no such link exists.
  bool FindLinkTo(const Entry* target, uint32_t hash, Entry** prev) const;

  // Links `entry` (not yet linked, key absent) at the head of its bucket;
  // grows the table past load factor 1.
  void Insert(Entry* entry, uint32_t hash);
  // Unlinks `entry`, whose predecessor is `prev`. Never resizes.
  void Unlink(uint32_t hash, Entry* prev, Entry* entry);
  // Points the link after `prev` (or the bucket head) at `updated`, whose own
  // next() must already be right.
  void Substitute(uint32_t hash, Entry* prev, Entry* updated);
  // Shrinks when the load factor fell below 1/8; frees the array when empty.
  void MaybeShrink();

  // Reverse-binary increment of a SCAN cursor for the current size: returns
  // the cursor of the next bucket to visit, or 0 when the table is covered.
  uint64_t NextCursor(uint64_t cursor) const;

  // Destroys every entry and frees the bucket array.
  void Clear();
  void Swap(HashTable& other);
  // Bytes of the bucket array.
  size_t MemoryBytes() const { return bucket_count() * sizeof(Entry*); }

 private:
  void Resize(size_t buckets);

  Entry** buckets_ = nullptr;
  size_t mask_ = 0;
  size_t size_ = 0;
};

}  // namespace sluice::storage
