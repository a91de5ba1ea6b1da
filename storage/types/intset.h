#pragma once
// IntSet: a set of int64s kept as one sorted array in a single heap block,
// the encoding of small sets whose members are all canonical integers.
//
// Every element has the same width, the narrowest of 2, 4 or 8 bytes that
// holds all members; inserting a member that does not fit widens the whole
// array (once per width: it never narrows again). Layout: an 8-byte header
// (uint32 width, uint32 count), then count little-endian integers in
// ascending order. The block is sized to the array (allocator rounding
// aside); an empty set owns no memory.
//
// Lookup is a binary search, O(log n); Insert and Erase move the elements
// after the position, O(n), and reallocate the block.
//
// Not thread-safe: the owning shard's lock guards it.

#include <cstddef>
#include <cstdint>

#include "absl/random/bit_gen_ref.h"
#include "storage/types/heap_block.h"

namespace sluice::storage {

class IntSet {
 public:
  // Movable (the moved-from set is empty), not copyable.
  IntSet() = default;

  size_t size() const;
  bool empty() const { return size() == 0; }
  // Bytes per element: 2, 4 or 8 (2 when empty).
  size_t width() const;
  // Bytes owned on the heap (malloc_usable_size of the block).
  size_t AllocatedBytes() const;

  bool Contains(int64_t v) const;
  // Returns false (and changes nothing) when `v` is already a member.
  bool Insert(int64_t v);
  // Returns false when `v` is not a member.
  bool Erase(int64_t v);
  void Clear();

  // The i-th smallest member. REQUIRES: i < size().
  int64_t At(size_t i) const;
  // A uniformly chosen member. REQUIRES: !empty().
  int64_t Random(absl::BitGenRef gen) const;

 private:
  // Binary search: true and the index of `v`, or false and the index where it
  // would go.
  bool Search(int64_t v, size_t* index) const;
  char* elements() const { return block_.get() + HeapBlock::kHeaderBytes; }

  HeapBlock block_;  // Field(0): width, Field(1): count
};

}  // namespace sluice::storage
