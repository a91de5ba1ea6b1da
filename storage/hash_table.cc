#include "storage/hash_table.h"

#include <atomic>

#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <utility>

#include "storage/shard.h"

namespace sluice::storage {
namespace {

uint64_t ReverseBits(uint64_t v) {
  v = ((v >> 1) & 0x5555555555555555ULL) | ((v & 0x5555555555555555ULL) << 1);
  v = ((v >> 2) & 0x3333333333333333ULL) | ((v & 0x3333333333333333ULL) << 2);
  v = ((v >> 4) & 0x0F0F0F0F0F0F0F0FULL) | ((v & 0x0F0F0F0F0F0F0F0FULL) << 4);
  v = ((v >> 8) & 0x00FF00FF00FF00FFULL) | ((v & 0x00FF00FF00FF00FFULL) << 8);
  v = ((v >> 16) & 0x0000FFFF0000FFFFULL) | ((v & 0x0000FFFF0000FFFFULL) << 16);
  return (v >> 32) | (v << 32);
}

Entry* FindInChain(Entry* e, std::string_view key, Entry** prev) {
  Entry* before = nullptr;
  for (; e != nullptr; e = e->next()) {
    if (e->key() == key) {
      *prev = before;
      return e;
    }
    before = e;
  }
  return nullptr;
}

bool FindAddressInChain(Entry* e, const Entry* target, Entry** prev) {
  Entry* before = nullptr;
  for (; e != nullptr; e = e->next()) {
    if (e == target) {
      *prev = before;
      return true;
    }
    before = e;
  }
  return false;
}

void DestroyChain(Entry* e) {
  while (e != nullptr) {
    Entry* next = e->next();
    Entry::Destroy(e);
    e = next;
  }
}

// Bytes of bucket arrays mapped straight from the system, which the
// allocator's statistics do not see (MappedBytes()).
std::atomic<size_t> g_mapped_bytes{0};

}  // namespace

size_t HashTable::MappedBytes() { return g_mapped_bytes.load(std::memory_order_relaxed); }

HashTable::~HashTable() { Clear(); }

HashTable::Array HashTable::Allocate(size_t buckets) {
  Array a;
  a.mask = buckets - 1;
  if (buckets >= kMapMinBuckets) {
    void* p = mmap(nullptr, buckets * sizeof(Entry*), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) std::abort();
    a.buckets = static_cast<Entry**>(p);
    a.mapped = true;
    g_mapped_bytes.fetch_add(buckets * sizeof(Entry*), std::memory_order_relaxed);
  } else {
    a.buckets = static_cast<Entry**>(std::calloc(buckets, sizeof(Entry*)));
    if (a.buckets == nullptr) std::abort();
  }
  return a;
}

void HashTable::Free(Array& a) {
  if (a.mapped) {
    const size_t bytes = (a.count() - a.released) * sizeof(Entry*);
    munmap(a.buckets + a.released, bytes);
    g_mapped_bytes.fetch_sub(bytes, std::memory_order_relaxed);
  } else {
    std::free(a.buckets);
  }
  a = Array();
}

void HashTable::ReleaseDrained() {
  if (!old_.mapped) return;
  const size_t drained = rehash_index_ & ~(kReleaseBuckets - 1);
  if (drained <= old_.released) return;
  const size_t bytes = (drained - old_.released) * sizeof(Entry*);
  munmap(old_.buckets + old_.released, bytes);
  g_mapped_bytes.fetch_sub(bytes, std::memory_order_relaxed);
  old_.released = drained;
}

Entry* HashTable::Find(std::string_view key, uint32_t hash, Slot* slot) {
  if (rehashing()) RehashStep(kMovesPerOperation);
  if (cur_.buckets == nullptr) return nullptr;
  if (InOldRange(hash)) {
    if (Entry* e = FindInChain(old_.buckets[hash & old_.mask], key, &slot->prev)) {
      slot->in_old = true;
      return e;
    }
  }
  slot->in_old = false;
  return FindInChain(cur_.buckets[hash & cur_.mask], key, &slot->prev);
}

bool HashTable::Contains(std::string_view key, uint32_t hash) const {
  if (cur_.buckets == nullptr) return false;
  Entry* prev;
  if (InOldRange(hash) && FindInChain(old_.buckets[hash & old_.mask], key, &prev) != nullptr) {
    return true;
  }
  return FindInChain(cur_.buckets[hash & cur_.mask], key, &prev) != nullptr;
}

bool HashTable::FindLinkTo(const Entry* target, uint32_t hash, Slot* slot) const {
  if (cur_.buckets == nullptr) return false;
  if (InOldRange(hash) && FindAddressInChain(old_.buckets[hash & old_.mask], target, &slot->prev)) {
    slot->in_old = true;
    return true;
  }
  slot->in_old = false;
  return FindAddressInChain(cur_.buckets[hash & cur_.mask], target, &slot->prev);
}

void HashTable::Insert(Entry* entry, uint32_t hash) {
  if (cur_.buckets == nullptr) {
    cur_ = Allocate(kMinBuckets);
  } else if (rehashing()) {
    RehashStep(kMovesPerOperation);
  }
  if (!rehashing() && size_ >= cur_.count()) {
    // The smallest power of two above size_: double, or more after a resize
    // that ended with the table already overloaded.
    size_t target = cur_.count() * 2;
    while (target <= size_) target *= 2;
    StartResize(target);
  }
  Entry** link = HeadLink(hash, false);
  entry->set_next(*link);
  *link = entry;
  ++size_;
}

void HashTable::Reserve(size_t keys) {
  if (size_ != 0 || rehashing()) return;
  size_t buckets = kMinBuckets;
  while (buckets <= keys) buckets *= 2;
  if (buckets <= cur_.count()) return;
  Free(cur_);
  cur_ = Allocate(buckets);
}

void HashTable::Unlink(uint32_t hash, const Slot& slot, Entry* entry) {
  if (slot.prev == nullptr) {
    *HeadLink(hash, slot.in_old) = entry->next();
  } else {
    slot.prev->set_next(entry->next());
  }
  entry->set_next(nullptr);
  --size_;
  // The drained old array is freed by the next RehashStep, not here: callers
  // may still be walking an old chain.
  if (slot.in_old) --old_size_;
}

void HashTable::Substitute(uint32_t hash, const Slot& slot, Entry* updated) {
  if (slot.prev == nullptr) {
    *HeadLink(hash, slot.in_old) = updated;
  } else {
    slot.prev->set_next(updated);
  }
}

void HashTable::MaybeShrink() {
  if (cur_.buckets == nullptr) return;
  if (size_ == 0) {
    Free(cur_);
    Free(old_);
    rehash_index_ = 0;
    old_size_ = 0;
    return;
  }
  if (rehashing()) return;
  const size_t buckets = cur_.count();
  if (buckets <= kMinBuckets || size_ * 8 >= buckets) return;
  // Land near load factor 1/2 so that a few inserts do not grow it right back.
  size_t target = kMinBuckets;
  while (target < size_ * 2) target *= 2;
  target = std::max(target, buckets / kMaxShrinkFactor);
  if (target < buckets) StartResize(target);
}

void HashTable::StartResize(size_t buckets) {
  old_ = cur_;
  old_size_ = size_;
  rehash_index_ = 0;
  cur_ = Allocate(buckets);
  if (old_size_ == 0) FinishResize();
}

void HashTable::FinishResize() {
  Free(old_);
  rehash_index_ = 0;
  old_size_ = 0;
}

bool HashTable::RehashStep(size_t max_moves) {
  if (!rehashing()) return false;
  const size_t max_empty = max_moves * kEmptyVisitsPerMove;
  size_t moves = 0;
  size_t empty = 0;
  // Entries are moved one at a time from the head of the first undrained old
  // bucket, so a bucket may be left half moved: lookups and Scan look in both
  // arrays anyway. old_size_ reaching 0 ends the walk, so rehash_index_ never
  // passes the last old bucket.
  while (old_size_ != 0 && moves < max_moves) {
    Entry*& head = old_.buckets[rehash_index_];
    if (head == nullptr) {
      ++rehash_index_;
      if (++empty >= max_empty) break;
      continue;
    }
    Entry* e = head;
    head = e->next();
    if (head == nullptr) ++rehash_index_;
    Entry** link = HeadLink(BucketHash(KeyHash(e->key())), false);
    e->set_next(*link);
    *link = e;
    --old_size_;
    ++moves;
  }
  rehash_moves_ += moves;
  rehash_empty_visits_ += empty;
  if (old_size_ == 0) {
    FinishResize();
  } else {
    ReleaseDrained();
  }
  return rehashing();
}

uint64_t HashTable::Scan(uint64_t cursor, absl::FunctionRef<void(const Entry&)> visit) const {
  if (cur_.buckets == nullptr) return 0;
  // Bucket i of `a`; the old array's drained front is not read (it may be
  // unmapped already).
  auto visit_bucket = [&](const Array& a, size_t i) {
    if (&a == &old_ && i < rehash_index_) return;
    for (const Entry* e = a.buckets[i]; e != nullptr; e = e->next()) visit(*e);
  };
  if (!rehashing()) {
    visit_bucket(cur_, cursor & cur_.mask);
    return NextCursor(cursor);
  }
  // A key whose low bits (under the smaller mask) equal the cursor's is either
  // in that bucket of the smaller array or in one of its expansions in the
  // larger one: the buckets whose low bits are the same, with every value of
  // the bits above. Visiting all of them and then advancing by the smaller
  // mask keeps the cursor's meaning (every bucket before it in reverse-binary
  // order is covered) for either array size the table ends up with.
  const Array& small = cur_.mask < old_.mask ? cur_ : old_;
  const Array& large = cur_.mask < old_.mask ? old_ : cur_;
  const size_t low = cursor & small.mask;
  visit_bucket(small, low);
  for (size_t i = low; i <= large.mask; i += small.mask + 1) visit_bucket(large, i);
  return NextCursor(cursor);
}

uint64_t HashTable::NextCursor(uint64_t cursor) const {
  const size_t mask = rehashing() ? std::min(cur_.mask, old_.mask) : cur_.mask;
  // Set the bits above the mask so the increment of the reversed cursor
  // carries straight into the masked bits, then reverse back.
  cursor |= ~static_cast<uint64_t>(mask);
  cursor = ReverseBits(cursor);
  ++cursor;
  return ReverseBits(cursor);
}

bool HashTable::CheckConsistency() const {
  auto count_chains = [](const Array& a, size_t from, size_t* entries) {
    for (size_t i = from; i < a.count(); ++i) {
      for (const Entry* e = a.buckets[i]; e != nullptr; e = e->next()) {
        if ((BucketHash(KeyHash(e->key())) & a.mask) != i) return false;
        ++*entries;
      }
    }
    return true;
  };
  if (cur_.buckets == nullptr) return old_.buckets == nullptr && size_ == 0;
  size_t in_cur = 0;
  size_t in_old = 0;
  if (!count_chains(cur_, 0, &in_cur)) return false;
  if (rehashing()) {
    if (rehash_index_ >= old_.count()) return false;
    if (old_.released > rehash_index_ || (!old_.mapped && old_.released != 0)) return false;
    for (size_t i = old_.released; i < rehash_index_; ++i) {
      if (old_.buckets[i] != nullptr) return false;
    }
    if (!count_chains(old_, rehash_index_, &in_old)) return false;
  } else if (rehash_index_ != 0 || old_size_ != 0) {
    return false;
  }
  return in_old == old_size_ && in_cur + in_old == size_;
}

void HashTable::Clear() {
  for (size_t i = 0; i < cur_.count(); ++i) DestroyChain(cur_.buckets[i]);
  for (size_t i = rehash_index_; i < old_.count(); ++i) DestroyChain(old_.buckets[i]);
  Free(cur_);
  Free(old_);
  rehash_index_ = 0;
  old_size_ = 0;
  size_ = 0;
}

void HashTable::Swap(HashTable& other) {
  std::swap(cur_, other.cur_);
  std::swap(old_, other.old_);
  std::swap(rehash_index_, other.rehash_index_);
  std::swap(old_size_, other.old_size_);
  std::swap(size_, other.size_);
}

}  // namespace sluice::storage
