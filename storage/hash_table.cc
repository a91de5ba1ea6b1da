#include "storage/hash_table.h"

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

}  // namespace

HashTable::~HashTable() { Clear(); }

Entry* HashTable::Find(std::string_view key, uint32_t hash, Entry** prev) const {
  Entry* before = nullptr;
  for (Entry* e = head(hash); e != nullptr; e = e->next()) {
    if (e->key() == key) {
      *prev = before;
      return e;
    }
    before = e;
  }
  return nullptr;
}

bool HashTable::FindLinkTo(const Entry* target, uint32_t hash, Entry** prev) const {
  Entry* before = nullptr;
  for (Entry* e = head(hash); e != nullptr; e = e->next()) {
    if (e == target) {
      *prev = before;
      return true;
    }
    before = e;
  }
  return false;
}

void HashTable::Insert(Entry* entry, uint32_t hash) {
  if (buckets_ == nullptr) Resize(kMinBuckets);
  Entry*& slot = buckets_[hash & mask_];
  entry->set_next(slot);
  slot = entry;
  ++size_;
  if (size_ > mask_ + 1) Resize((mask_ + 1) * 2);
}

void HashTable::Unlink(uint32_t hash, Entry* prev, Entry* entry) {
  if (prev == nullptr) {
    buckets_[hash & mask_] = entry->next();
  } else {
    prev->set_next(entry->next());
  }
  entry->set_next(nullptr);
  --size_;
}

void HashTable::Substitute(uint32_t hash, Entry* prev, Entry* updated) {
  if (prev == nullptr) {
    buckets_[hash & mask_] = updated;
  } else {
    prev->set_next(updated);
  }
}

void HashTable::MaybeShrink() {
  if (buckets_ == nullptr) return;
  if (size_ == 0) {
    Resize(0);
    return;
  }
  const size_t buckets = mask_ + 1;
  if (buckets <= kMinBuckets || size_ * 8 >= buckets) return;
  // Land near load factor 1/2 so that a few inserts do not grow it right back.
  size_t target = kMinBuckets;
  while (target < size_ * 2) target *= 2;
  if (target < buckets) Resize(target);
}

uint64_t HashTable::NextCursor(uint64_t cursor) const {
  // Set the bits above the mask so the increment of the reversed cursor
  // carries straight into the masked bits, then reverse back.
  cursor |= ~static_cast<uint64_t>(mask_);
  cursor = ReverseBits(cursor);
  ++cursor;
  return ReverseBits(cursor);
}

void HashTable::Resize(size_t buckets) {
  Entry** fresh = nullptr;
  size_t mask = 0;
  if (buckets != 0) {
    fresh = static_cast<Entry**>(std::calloc(buckets, sizeof(Entry*)));
    if (fresh == nullptr) std::abort();
    mask = buckets - 1;
  }
  if (buckets_ != nullptr) {
    for (size_t i = 0; i <= mask_; ++i) {
      Entry* e = buckets_[i];
      while (e != nullptr) {
        Entry* next = e->next();
        Entry*& slot = fresh[BucketHash(KeyHash(e->key())) & mask];
        e->set_next(slot);
        slot = e;
        e = next;
      }
    }
    std::free(buckets_);
  }
  buckets_ = fresh;
  mask_ = mask;
}

void HashTable::Clear() {
  if (buckets_ != nullptr) {
    for (size_t i = 0; i <= mask_; ++i) {
      Entry* e = buckets_[i];
      while (e != nullptr) {
        Entry* next = e->next();
        Entry::Destroy(e);
        e = next;
      }
    }
    std::free(buckets_);
  }
  buckets_ = nullptr;
  mask_ = 0;
  size_ = 0;
}

void HashTable::Swap(HashTable& other) {
  std::swap(buckets_, other.buckets_);
  std::swap(mask_, other.mask_);
  std::swap(size_, other.size_);
}

}  // namespace sluice::storage
