#pragma once
// BucketedTable<Traits>: a hash table whose buckets are packed blocks of
// variable-size entries, the memory-lean core of the large set (StrSet), the
// large hash (StrMap) and the member index of the large sorted set (ZSet).
//
// Layout: a power-of-two array of bucket pointers; an entry with hash h lives
// in bucket h & mask. A non-empty bucket points to one malloc block: a uint32
// count of entry bytes, then the entries back to back, each in the form the
// Traits define (for StrSet: varint length + bytes). There is no per-entry
// pointer, header or padding: a 16-byte set member costs its 17 bytes, plus
// its share of the block header, the allocator's rounding of the block and
// the bucket pointer. The table grows (doubling) when it holds more than
// kMaxLoad entries per bucket, so buckets hold 2 to 4 entries on average and a
// lookup compares a few lengths and one memcmp. It shrinks when fewer than
// one entry per two buckets remain.
//
// Resizing is incremental, as in HashTable: the new array is allocated and the
// old one kept until drained; lookups look in both; the owner calls
// RehashStep() before every mutation (the wrappers do) so that each moves up
// to kBucketsPerStep old buckets. A moved bucket's entries are split by the
// new mask into at most two blocks (a grow doubles; a shrink merges each old
// bucket into one). Every entry is always in exactly one bucket of one array,
// which gives Scan() the SCAN guarantee across resizes.
//
// Traits must provide:
//   static std::string_view Key(const char* entry);   // the entry's key
//   static size_t EntryBytes(const char* entry);       // its size in bytes
// and may provide, when an entry can rule out a key more cheaply than by
// producing its own (e.g. from hash bits it keeps):
//   static bool Matches(const char* entry, std::string_view key, uint64_t hash);
//
// Pointers into entries (and Slots) are valid until the next mutation or
// RehashStep(). Not thread-safe: the owning shard's lock guards it.

#include <malloc.h>
#include <xxhash.h>

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "absl/random/bit_gen_ref.h"
#include "absl/random/distributions.h"
#include "storage/types/bytes.h"

namespace sluice::storage {

// The hash of a collection member or field (XXH3-64).
inline uint64_t MemberHash(std::string_view key) { return XXH3_64bits(key.data(), key.size()); }

// SCAN cursor after `cursor` over a table of mask + 1 buckets, counting in
// bit-reversed order so that a cursor keeps its meaning when the table
// doubles or halves; 0 when the table is covered.
inline uint64_t NextScanCursor(uint64_t cursor, uint64_t mask) {
  // Reverse, fill the bits above the mask (so the carry runs past them), add
  // one, reverse back.
  auto reverse = [](uint64_t v) {
    v = ((v & 0x5555555555555555ULL) << 1) | ((v >> 1) & 0x5555555555555555ULL);
    v = ((v & 0x3333333333333333ULL) << 2) | ((v >> 2) & 0x3333333333333333ULL);
    v = ((v & 0x0F0F0F0F0F0F0F0FULL) << 4) | ((v >> 4) & 0x0F0F0F0F0F0F0F0FULL);
    return __builtin_bswap64(v);
  };
  return reverse(reverse(cursor | ~mask) + 1);
}

template <typename Traits>
class BucketedTable {
 public:
  static constexpr size_t kMinBuckets = 4;
  static constexpr size_t kMaxLoad = 4;
  static constexpr size_t kBucketsPerStep = 4;
  // A shrink divides the bucket count by at most this.
  static constexpr size_t kMaxShrinkFactor = 8;

  // Where an entry is: its bucket head and its offset in the block.
  struct Slot {
    char** bucket = nullptr;
    uint32_t offset = 0;
  };

  BucketedTable() = default;
  ~BucketedTable() { Clear(); }
  BucketedTable(const BucketedTable&) = delete;
  BucketedTable& operator=(const BucketedTable&) = delete;

  size_t size() const { return size_; }
  bool rehashing() const { return old_.buckets != nullptr; }
  // Bucket arrays plus the usable size of every block.
  size_t AllocatedBytes() const {
    return (cur_.count() + old_.count()) * sizeof(char*) + block_bytes_;
  }

  // Finds the entry whose key is `key` (hash MemberHash(key)). Moves nothing.
  bool Find(std::string_view key, uint64_t hash, Slot* slot) const {
    if (InOldRange(hash) && FindIn(&old_.buckets[hash & old_.mask], key, hash, slot)) return true;
    return cur_.buckets != nullptr && FindIn(&cur_.buckets[hash & cur_.mask], key, hash, slot);
  }
  char* EntryAt(const Slot& slot) const { return *slot.bucket + kBlockHeader + slot.offset; }

  // Adds room for a new entry of `bytes` bytes whose key (absent) has `hash`
  // and returns where the caller writes it. May start a grow.
  char* Append(uint64_t hash, size_t bytes) {
    if (cur_.buckets == nullptr) {
      cur_ = AllocateArray(kMinBuckets);
    } else if (!rehashing() && size_ >= kMaxLoad * cur_.count()) {
      StartResize(cur_.count() * 2);
    }
    char** head = &cur_.buckets[hash & cur_.mask];
    ++size_;
    return GrowBlock(head, bytes);
  }

  // Changes the size of the entry at `slot` to `bytes`, keeping its first
  // min(old, new) bytes; returns the entry's (possibly moved) address.
  char* ResizeEntry(const Slot& slot, size_t bytes) {
    char* block = *slot.bucket;
    const size_t old_bytes = Traits::EntryBytes(EntryAt(slot));
    if (bytes == old_bytes) return EntryAt(slot);
    const size_t used = Used(block);
    const size_t tail = used - slot.offset - old_bytes;
    const size_t new_used = used - old_bytes + bytes;
    if (bytes > old_bytes) block = Reserve(slot.bucket, new_used);
    char* entry = block + kBlockHeader + slot.offset;
    std::memmove(entry + bytes, entry + old_bytes, tail);
    SetUsed(block, new_used);
    if (bytes < old_bytes) MaybeShrinkBlock(slot.bucket);
    return EntryAt(slot);
  }

  // Removes the entry at `slot`. May start a shrink.
  void Erase(const Slot& slot) {
    char* block = *slot.bucket;
    const size_t entry_bytes = Traits::EntryBytes(EntryAt(slot));
    const size_t used = Used(block);
    if (used == entry_bytes) {
      FreeBlock(slot.bucket);
    } else {
      char* entry = EntryAt(slot);
      std::memmove(entry, entry + entry_bytes, used - slot.offset - entry_bytes);
      SetUsed(block, used - entry_bytes);
      MaybeShrinkBlock(slot.bucket);
    }
    --size_;
    if (size_ == 0) {
      Clear();
    } else if (!rehashing() && cur_.count() > kMinBuckets && size_ * 2 < cur_.count()) {
      const size_t target = std::max(std::bit_ceil(size_ / 2 + 1), cur_.count() / kMaxShrinkFactor);
      StartResize(std::max(kMinBuckets, target));
    }
  }

  // Moves up to `buckets` old buckets of a resize in progress; frees the old
  // array once drained. Returns whether a resize is still in progress.
  bool RehashStep(size_t buckets = kBucketsPerStep) {
    if (!rehashing()) return false;
    for (size_t i = 0; i < buckets && rehash_index_ < old_.count(); ++i)
      MoveBucket(rehash_index_++);
    if (rehash_index_ == old_.count()) {
      FreeArray(old_);
      rehash_index_ = 0;
    }
    return rehashing();
  }

  // A random entry: a random non-empty bucket, then a random entry in it
  // (entries in sparse buckets are somewhat likelier). REQUIRES: size() > 0.
  const char* Random(absl::BitGenRef gen) const {
    const size_t total = cur_.count() + old_.count();
    size_t i = absl::Uniform<size_t>(gen, 0, total);
    // Give up on sampling after a while and take the next non-empty bucket.
    for (int tries = 0; BucketAt(i) == nullptr; ++tries) {
      i = tries < 64 ? absl::Uniform<size_t>(gen, 0, total) : (i + 1) % total;
    }
    const char* block = BucketAt(i);
    size_t n = 0;
    ForEachIn(block, [&n](const char*) { ++n; });
    size_t pick = absl::Uniform<size_t>(gen, 0, n);
    const char* chosen = nullptr;
    ForEachIn(block, [&](const char* e) {
      if (pick-- == 0) chosen = e;
    });
    return chosen;
  }

  // One SCAN step: calls visit(const char* entry) for every entry in the
  // buckets `cursor` names (while rehashing: its bucket in the smaller array
  // and every bucket of the larger one with the same low bits) and returns
  // the next cursor, 0 at the end. `visit` must not modify the table. Every
  // entry present for a whole iteration from cursor 0 to 0 is visited at
  // least once, whatever resizes happen between calls.
  template <typename Visit>
  uint64_t Scan(uint64_t cursor, Visit&& visit) const {
    if (cur_.buckets == nullptr) return 0;
    if (!rehashing()) {
      ForEachIn(cur_.buckets[cursor & cur_.mask], visit);
      return NextScanCursor(cursor, cur_.mask);
    }
    const Array& small = cur_.mask < old_.mask ? cur_ : old_;
    const Array& large = cur_.mask < old_.mask ? old_ : cur_;
    const uint64_t low = cursor & small.mask;
    ForEachIn(small.buckets[low], visit);
    for (uint64_t i = low; i <= large.mask; i += small.mask + 1) ForEachIn(large.buckets[i], visit);
    return NextScanCursor(cursor, small.mask);
  }

  // Calls visit(const char* entry) for every entry, in no particular order.
  template <typename Visit>
  void ForEach(Visit&& visit) const {
    for (size_t i = 0; i < cur_.count() + old_.count(); ++i) ForEachIn(BucketAt(i), visit);
  }

  // Frees every block and both arrays. Entries own nothing else (callers
  // whose entries point elsewhere free that first).
  void Clear() {
    for (size_t i = 0; i < cur_.count() + old_.count(); ++i)
      std::free(const_cast<char*>(BucketAt(i)));
    FreeArray(cur_);
    FreeArray(old_);
    rehash_index_ = 0;
    size_ = 0;
    block_bytes_ = 0;
  }

  // For tests, O(size + buckets): every entry is in the bucket its hash
  // names, drained buckets are empty, counts and byte totals add up.
  bool CheckConsistency() const {
    size_t entries = 0;
    size_t bytes = 0;
    auto check = [&](const Array& a, size_t from, size_t to) {
      for (size_t i = from; i < to; ++i) {
        const char* block = a.buckets[i];
        if (block == nullptr) continue;
        bytes += malloc_usable_size(const_cast<char*>(block));
        bool ok = Used(block) > 0;
        ForEachIn(block, [&](const char* e) {
          ok = ok && (MemberHash(Traits::Key(e)) & a.mask) == i;
          ++entries;
        });
        if (!ok) return false;
      }
      return true;
    };
    if (!check(cur_, 0, cur_.count())) return false;
    for (size_t i = 0; i < rehash_index_; ++i) {
      if (old_.buckets[i] != nullptr) return false;
    }
    if (!check(old_, rehash_index_, old_.count())) return false;
    return entries == size_ && bytes == block_bytes_;
  }

 private:
  struct Array {
    char** buckets = nullptr;
    size_t mask = 0;
    size_t count() const { return buckets == nullptr ? 0 : mask + 1; }
  };

  static constexpr size_t kBlockHeader = sizeof(uint32_t);
  // Shrink a block whose usable size exceeds its contents by this much.
  static constexpr size_t kShrinkSlack = 32;

  static size_t Used(const char* block) { return bytes::Load<uint32_t>(block); }
  static void SetUsed(char* block, size_t used) {
    bytes::Store<uint32_t>(block, static_cast<uint32_t>(used));
  }

  template <typename Visit>
  static void ForEachIn(const char* block, Visit&& visit) {
    if (block == nullptr) return;
    const char* p = block + kBlockHeader;
    const char* end = p + Used(block);
    while (p < end) {
      const char* e = p;
      p += Traits::EntryBytes(e);
      visit(e);
    }
  }

  static bool Matches(const char* entry, std::string_view key, uint64_t hash) {
    if constexpr (requires { Traits::Matches(entry, key, hash); }) {
      return Traits::Matches(entry, key, hash);
    } else {
      return Traits::Key(entry) == key;
    }
  }

  static bool FindIn(char** head, std::string_view key, uint64_t hash, Slot* slot) {
    const char* block = *head;
    if (block == nullptr) return false;
    const char* start = block + kBlockHeader;
    const char* end = start + Used(block);
    for (const char* p = start; p < end; p += Traits::EntryBytes(p)) {
      if (Matches(p, key, hash)) {
        slot->bucket = head;
        slot->offset = static_cast<uint32_t>(p - start);
        return true;
      }
    }
    return false;
  }

  static Array AllocateArray(size_t count) {
    Array a;
    a.buckets = static_cast<char**>(std::calloc(count, sizeof(char*)));
    if (a.buckets == nullptr) std::abort();
    a.mask = count - 1;
    return a;
  }
  static void FreeArray(Array& a) {
    std::free(a.buckets);
    a = Array{};
  }

  const char* BucketAt(size_t i) const {
    return i < cur_.count() ? cur_.buckets[i] : old_.buckets[i - cur_.count()];
  }
  bool InOldRange(uint64_t hash) const {
    return old_.buckets != nullptr && (hash & old_.mask) >= rehash_index_;
  }

  // Makes the block at `head` hold at least `used` entry bytes; returns it.
  char* Reserve(char** head, size_t used) {
    char* block = *head;
    const size_t need = kBlockHeader + used;
    if (block == nullptr) {
      block = bytes::Allocate(need);
      SetUsed(block, 0);
    } else {
      const size_t usable = malloc_usable_size(block);
      if (need <= usable) return block;
      block_bytes_ -= usable;
      block = bytes::Reallocate(block, need);
    }
    block_bytes_ += malloc_usable_size(block);
    *head = block;
    return block;
  }
  // Adds `bytes` at the end of the block at `head`; returns where they start.
  char* GrowBlock(char** head, size_t bytes) {
    const size_t used = *head == nullptr ? 0 : Used(*head);
    char* block = Reserve(head, used + bytes);
    SetUsed(block, used + bytes);
    return block + kBlockHeader + used;
  }
  void MaybeShrinkBlock(char** head) {
    char* block = *head;
    const size_t usable = malloc_usable_size(block);
    const size_t need = kBlockHeader + Used(block);
    if (usable - need < kShrinkSlack) return;
    block = bytes::Reallocate(block, need);
    block_bytes_ = block_bytes_ - usable + malloc_usable_size(block);
    *head = block;
  }
  void FreeBlock(char** head) {
    block_bytes_ -= malloc_usable_size(*head);
    std::free(*head);
    *head = nullptr;
  }

  void StartResize(size_t count) {
    old_ = cur_;
    cur_ = AllocateArray(count);
    rehash_index_ = 0;
  }

  // Moves old bucket `i` into the current array. A doubling splits it in two
  // (i and i + old count); a shrink sends all of it to one bucket.
  void MoveBucket(size_t i) {
    char** from = &old_.buckets[i];
    if (*from == nullptr) return;
    char** dest[2] = {nullptr, nullptr};
    size_t add[2] = {0, 0};
    ForEachIn(*from, [&](const char* e) {
      char** d = &cur_.buckets[MemberHash(Traits::Key(e)) & cur_.mask];
      const int k = (dest[0] == nullptr || dest[0] == d) ? 0 : 1;
      dest[k] = d;
      add[k] += Traits::EntryBytes(e);
    });
    char* out[2] = {nullptr, nullptr};
    for (int k = 0; k < 2; ++k) {
      if (dest[k] != nullptr) out[k] = GrowBlock(dest[k], add[k]);
    }
    ForEachIn(*from, [&](const char* e) {
      const size_t n = Traits::EntryBytes(e);
      const int k = &cur_.buckets[MemberHash(Traits::Key(e)) & cur_.mask] == dest[0] ? 0 : 1;
      std::memcpy(out[k], e, n);
      out[k] += n;
    });
    FreeBlock(from);
  }

  Array cur_;                // where new entries go
  Array old_;                // being drained while rehashing, else empty
  size_t rehash_index_ = 0;  // old buckets below this are drained
  size_t size_ = 0;
  size_t block_bytes_ = 0;  // usable bytes of all blocks
};

}  // namespace sluice::storage
