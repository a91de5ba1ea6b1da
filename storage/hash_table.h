#pragma once
// HashTable: a shard's chained hash table of Entry pointers, resized
// incrementally.
//
// A power-of-two array of bucket heads; entries chain through Entry::next().
// The bucket of a key is BucketHash(KeyHash(key)) & (buckets - 1). BucketHash
// takes the high 32 bits of the key hash, so it does not depend on the low
// bits that pick the shard. The table grows (doubling) when it would hold more
// keys than buckets and shrinks when fewer than one key per eight buckets
// remain (MaybeShrink; by at most kMaxShrinkFactor at a time).
//
// A resize never moves everything at once. It allocates the new bucket array
// and keeps the old one until it is drained: new keys go to the new array,
// lookups look in both, and every Find() and Insert() first moves at most
// kMovesPerOperation entries from the old array to the new one, passing over
// at most kEmptyVisitsPerMove empty old buckets per move allowed. The owner
// calls RehashStep() from its periodic tick so that an idle table finishes too.
// When the old array holds no entry it is freed. No resize starts while one is
// in progress. Rehashing relinks entries but never reallocates them, so entry
// addresses stay valid; only a Slot goes stale (see Slot).
//
// Arrays of kMapMinBuckets buckets or more come straight from mmap: fresh
// pages are zero without a memset (calloc of reused heap memory would clear
// megabytes under the shard lock) and get faulted in one page at a time as
// buckets are first written. The drained front of an old mapped array is
// unmapped in kReleaseBuckets pieces as the resize passes them, so neither the
// end of a resize nor the start of one does work in proportion to the table.
//
// Chaining keeps every key in exactly one bucket of one array, which is what
// lets SCAN's reverse-binary cursor (Scan, NextCursor) promise that a key
// present for a whole iteration is returned at least once across resizes,
// including calls made while a resize is in progress.
//
// The table owns its entries: Clear() and the destructor destroy them. Not
// thread-safe: the owning shard's lock guards it.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "absl/functional/function_ref.h"
#include "storage/entry.h"

namespace sluice::storage {

// The 32 hash bits used for buckets and timer-wheel records.
inline uint32_t BucketHash(uint64_t key_hash) { return static_cast<uint32_t>(key_hash >> 32); }

class HashTable {
 public:
  static constexpr size_t kMinBuckets = 8;
  // Rehash work done by one Find() or Insert(): entries moved, and empty old
  // buckets passed over per entry that may be moved.
  static constexpr size_t kMovesPerOperation = 4;
  static constexpr size_t kEmptyVisitsPerMove = 8;
  // A shrink divides the bucket count by at most this, so that the old array's
  // empty buckets are passed over before inserts can overload the new one; a
  // sparser table shrinks again once that resize is done.
  static constexpr size_t kMaxShrinkFactor = 16;
  // Arrays from mmap from this many buckets (256 KiB) up, given back to the
  // system in pieces of kReleaseBuckets (64 KiB) while they drain.
  static constexpr size_t kMapMinBuckets = size_t{1} << 15;
  static constexpr size_t kReleaseBuckets = size_t{1} << 13;

  // Where a linked entry is: in the old (draining) array or the current one,
  // and its chain predecessor (nullptr when it heads its bucket). Valid until
  // the next call that may move entries (Find, Insert, RehashStep) or that
  // unlinks or replaces its predecessor.
  struct Slot {
    Entry* prev = nullptr;
    bool in_old = false;
  };

  HashTable() = default;
  ~HashTable();
  HashTable(const HashTable&) = delete;
  HashTable& operator=(const HashTable&) = delete;

  size_t size() const { return size_; }
  bool rehashing() const { return old_.buckets != nullptr; }

  // Buckets of both arrays: the current array's, then (while rehashing) the
  // old array's, already drained ones included (they are empty). For walks
  // that need no hash order: every entry is in exactly one of them.
  size_t bucket_count() const { return cur_.count() + old_.count(); }
  // REQUIRES: i < bucket_count().
  Entry* bucket(size_t i) const {
    if (i < cur_.count()) return cur_.buckets[i];
    i -= cur_.count();
    return i < rehash_index_ ? nullptr : old_.buckets[i];
  }
  // The chain of the current (in_old false) or old array that holds keys with
  // bucket hash `hash`; nullptr when empty or when there is no such array.
  Entry* chain(uint32_t hash, bool in_old) const {
    if (in_old) return InOldRange(hash) ? old_.buckets[hash & old_.mask] : nullptr;
    return cur_.buckets == nullptr ? nullptr : cur_.buckets[hash & cur_.mask];
  }
  // Cache hints for a coming lookup or insert of bucket hash `hash`: the
  // bucket slot, then (once that is in cache) the first entry of its chain.
  // Bulk inserts issue them some entries ahead. Change nothing.
  void PrefetchSlot(uint32_t hash) const {
    if (cur_.buckets != nullptr) __builtin_prefetch(&cur_.buckets[hash & cur_.mask]);
  }
  void PrefetchChain(uint32_t hash) const {
    if (Entry* head = chain(hash, false)) __builtin_prefetch(head);
  }

  // Does up to one operation's rehash work, then returns the entry holding
  // `key`, or nullptr; *slot says where it is linked.
  Entry* Find(std::string_view key, uint32_t hash, Slot* slot);
  // Whether `key` is present; moves nothing.
  bool Contains(std::string_view key, uint32_t hash) const;
  // Finds where the linked entry at address `target` is, without
  // dereferencing `target` (it may already be freed after a move). Moves
  // nothing. Returns false when no such link exists.
  bool FindLinkTo(const Entry* target, uint32_t hash, Slot* slot) const;

  // Does up to one operation's rehash work, then links `entry` (not yet
  // linked, key absent) at the head of its bucket in the current array. Starts
  // growing when the table would pass load factor 1 and no resize is running.
  void Insert(Entry* entry, uint32_t hash);
  // Sizes an empty table for `keys` keys at once (an RDB load's RESIZEDB
  // hint), so that filling it starts no resize. Does nothing to a table that
  // holds keys or is resizing, or for a smaller size than it has.
  void Reserve(size_t keys);
  // Unlinks `entry`, which is at `slot`. Moves nothing and never resizes.
  void Unlink(uint32_t hash, const Slot& slot, Entry* entry);
  // Points the link at `slot` (after slot.prev, or the bucket head) at
  // `updated`, whose own next() must already be right. Moves nothing.
  void Substitute(uint32_t hash, const Slot& slot, Entry* updated);
  // Starts a shrink when the load factor fell below 1/8 and no resize is
  // running; frees both arrays when the table is empty. Moves nothing.
  void MaybeShrink();
  // Moves up to `max_moves` entries of a resize in progress, passing over at
  // most kEmptyVisitsPerMove * max_moves empty old buckets, and frees the old
  // array once it is drained. Returns whether a resize is still in progress.
  bool RehashStep(size_t max_moves);

  // One SCAN step: visits every entry whose bucket matches `cursor` (while
  // rehashing: the cursor's bucket in the smaller array and all buckets of the
  // larger array whose low bits equal it) and returns NextCursor(cursor).
  // `visit` must not modify the table.
  uint64_t Scan(uint64_t cursor, absl::FunctionRef<void(const Entry&)> visit) const;
  // Reverse-binary increment of a SCAN cursor for the current size (the
  // smaller array's while rehashing): the cursor of the next bucket to visit,
  // or 0 when the table is covered.
  uint64_t NextCursor(uint64_t cursor) const;

  // Destroys every entry and frees both bucket arrays (ending any resize).
  void Clear();
  // Exchanges contents, resize state included (not the counters below).
  void Swap(HashTable& other);
  // Bytes of every table's bucket arrays that came from mmap, process-wide
  // (used_memory adds them: the allocator's statistics cannot see them).
  // Thread-safe.
  static size_t MappedBytes();
  // Bytes of the bucket arrays (without the old array's released front).
  size_t MemoryBytes() const { return (bucket_count() - old_.released) * sizeof(Entry*); }

  // Cumulative rehash work, for tests and statistics: entries moved between
  // arrays, and empty old buckets passed over.
  uint64_t rehash_moves() const { return rehash_moves_; }
  uint64_t rehash_empty_visits() const { return rehash_empty_visits_; }
  // Buckets of the current array alone (where inserts go).
  size_t current_bucket_count() const { return cur_.count(); }
  // For tests, O(size + buckets): every entry sits in the bucket its hash
  // names in its array, the drained old buckets are empty, and the counts add
  // up.
  bool CheckConsistency() const;

 private:
  struct Array {
    Entry** buckets = nullptr;
    size_t mask = 0;
    bool mapped = false;  // from mmap, else from calloc
    size_t released = 0;  // buckets at the front already unmapped (all drained)
    size_t count() const { return buckets == nullptr ? 0 : mask + 1; }
  };

  static Array Allocate(size_t buckets);
  static void Free(Array& a);
  // Unmaps the drained front of the old array in whole kReleaseBuckets pieces.
  void ReleaseDrained();
  // Whether the old array may still hold keys of bucket hash `hash`.
  bool InOldRange(uint32_t hash) const {
    return old_.buckets != nullptr && (hash & old_.mask) >= rehash_index_;
  }
  Entry** HeadLink(uint32_t hash, bool in_old) {
    Array& a = in_old ? old_ : cur_;
    return &a.buckets[hash & a.mask];
  }
  // Makes the current array the old one and allocates a new current array.
  void StartResize(size_t buckets);
  void FinishResize();

  Array cur_;                // where inserts go; the only array when not rehashing
  Array old_;                // being drained while rehashing, else empty
  size_t rehash_index_ = 0;  // old buckets below this are drained
  size_t old_size_ = 0;      // entries still in old_
  size_t size_ = 0;
  uint64_t rehash_moves_ = 0;
  uint64_t rehash_empty_visits_ = 0;
};

}  // namespace sluice::storage
