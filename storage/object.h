#pragma once
// ObjectRef: the value of a collection entry (a hash now; lists, sets and
// sorted sets later), which an Entry stores out of line as one tagged word
// in its 8-byte value field (encoding kObject, see entry.cc).
//
// The low three bits of the word name the container class (allocations are
// at least 8-byte aligned, so those bits of the pointer are free); the rest
// is the pointer. A PackedList is stored as its bare block (PackedList::
// Release), so a small hash costs the entry's 8 bytes plus the packed block
// and nothing else; a large one points at a heap-allocated StrMap.
//
// An ObjectRef does not own what it names: the Entry holding it does (and
// frees it in Entry::Destroy). Not thread-safe: the owning shard's lock
// guards it.

#include <cstddef>
#include <cstdint>

#include "storage/types/intset.h"
#include "storage/types/packed.h"
#include "storage/types/quick_list.h"
#include "storage/types/str_set.h"
#include "storage/types/stream.h"
#include "storage/types/zset.h"

namespace sluice::storage {

enum class ContainerKind : uint8_t {
  kPacked = 0,     // PackedList block (small hashes: field, value, ...; small sets: members)
  kStrMap = 1,     // StrMap (large hashes)
  kIntSet = 2,     // IntSet (sets of integers)
  kStrSet = 3,     // StrSet (large sets)
  kZSet = 4,       // ZSet (large sorted sets; small ones are kPacked)
  kQuickList = 5,  // QuickList (large lists; small ones are kPacked)
  kStream = 6,     // Stream (every stream)
  // 7 reserved for another collection encoding.
};

class ObjectRef {
 public:
  static ObjectRef Packed(char* block) { return ObjectRef(reinterpret_cast<uintptr_t>(block)); }
  static ObjectRef Map(StrMap* map) {
    return ObjectRef(reinterpret_cast<uintptr_t>(map) |
                     static_cast<uintptr_t>(ContainerKind::kStrMap));
  }
  static ObjectRef Ints(IntSet* set) {
    return ObjectRef(reinterpret_cast<uintptr_t>(set) |
                     static_cast<uintptr_t>(ContainerKind::kIntSet));
  }
  static ObjectRef Set(StrSet* set) {
    return ObjectRef(reinterpret_cast<uintptr_t>(set) |
                     static_cast<uintptr_t>(ContainerKind::kStrSet));
  }
  static ObjectRef ZSetRef(ZSet* zset) {
    return ObjectRef(reinterpret_cast<uintptr_t>(zset) |
                     static_cast<uintptr_t>(ContainerKind::kZSet));
  }
  static ObjectRef Quick(QuickList* list) {
    return ObjectRef(reinterpret_cast<uintptr_t>(list) |
                     static_cast<uintptr_t>(ContainerKind::kQuickList));
  }
  static ObjectRef StreamRef(Stream* stream) {
    return ObjectRef(reinterpret_cast<uintptr_t>(stream) |
                     static_cast<uintptr_t>(ContainerKind::kStream));
  }
  static ObjectRef FromWord(uintptr_t word) { return ObjectRef(word); }

  uintptr_t word() const { return word_; }
  ContainerKind kind() const { return static_cast<ContainerKind>(word_ & kTagMask); }
  // REQUIRES: kind() == kPacked. nullptr for an empty list.
  char* packed_block() const { return reinterpret_cast<char*>(word_ & ~kTagMask); }
  // REQUIRES: kind() == kStrMap.
  StrMap* map() const { return reinterpret_cast<StrMap*>(word_ & ~kTagMask); }
  // REQUIRES: kind() == kIntSet.
  IntSet* ints() const { return reinterpret_cast<IntSet*>(word_ & ~kTagMask); }
  // REQUIRES: kind() == kStrSet.
  StrSet* set() const { return reinterpret_cast<StrSet*>(word_ & ~kTagMask); }
  // REQUIRES: kind() == kZSet.
  ZSet* zset() const { return reinterpret_cast<ZSet*>(word_ & ~kTagMask); }
  // REQUIRES: kind() == kQuickList.
  QuickList* quick() const { return reinterpret_cast<QuickList*>(word_ & ~kTagMask); }
  // REQUIRES: kind() == kStream.
  Stream* stream() const { return reinterpret_cast<Stream*>(word_ & ~kTagMask); }

 private:
  static constexpr uintptr_t kTagMask = 0x7;
  explicit ObjectRef(uintptr_t word) : word_(word) {}
  uintptr_t word_;
};

// A PackedList borrowed from an ObjectRef for one scope, without copying:
// the list is handed back (released) when the borrow ends, so reading it
// never frees it. Mutations must go through an owner that stores the
// (possibly moved) block back; see hash_ops.cc.
class BorrowedPacked {
 public:
  explicit BorrowedPacked(ObjectRef ref) : list_(PackedList::Adopt(ref.packed_block())) {}
  ~BorrowedPacked() { list_.Release(); }
  BorrowedPacked(const BorrowedPacked&) = delete;
  BorrowedPacked& operator=(const BorrowedPacked&) = delete;
  const PackedList& list() const { return list_; }

 private:
  PackedList list_;
};

// Frees the container `ref` names.
void DestroyObject(ObjectRef ref);
// Heap bytes of the container (malloc_usable_size of its blocks).
size_t ObjectAllocatedBytes(ObjectRef ref);
// Elements the container holds (for the lazy freer's counts).
size_t ObjectElementCount(ObjectRef ref);
// A deep copy (COPY, RENAME's clone).
ObjectRef CloneObject(ObjectRef ref);

}  // namespace sluice::storage
