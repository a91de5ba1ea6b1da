#pragma once
// HeapBlock: one malloc block owned by one object (PackedList, IntSet), freed
// with it, movable, never copied; null until first sized. Its first 8 bytes
// are, by convention of its users, two uint32 header fields (Field(0),
// Field(1)), which read as 0 while there is no block.
//
// Growing and shrinking consult malloc_usable_size, so a block grows in place
// into its allocator rounding and gives memory back only when a useful amount
// would sit idle. Not thread-safe: the owning shard's lock guards it.

#include <malloc.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <utility>

#include "storage/types/bytes.h"

namespace sluice::storage {

class HeapBlock {
 public:
  static constexpr size_t kHeaderBytes = 2 * sizeof(uint32_t);

  HeapBlock() = default;
  ~HeapBlock() { std::free(data_); }
  HeapBlock(HeapBlock&& other) noexcept : data_(std::exchange(other.data_, nullptr)) {}
  HeapBlock& operator=(HeapBlock&& other) noexcept {
    if (this != &other) {
      std::free(data_);
      data_ = std::exchange(other.data_, nullptr);
    }
    return *this;
  }
  HeapBlock(const HeapBlock&) = delete;
  HeapBlock& operator=(const HeapBlock&) = delete;

  // Ownership as a raw pointer, for an owner that keeps the block somewhere
  // a HeapBlock cannot live (inside an Entry): Release() leaves this empty,
  // Adopt() takes a released block (or nullptr) back.
  static HeapBlock Adopt(char* data) {
    HeapBlock b;
    b.data_ = data;
    return b;
  }
  char* Release() { return std::exchange(data_, nullptr); }

  char* get() const { return data_; }
  bool empty() const { return data_ == nullptr; }
  // malloc_usable_size of the block; 0 when there is none.
  size_t usable() const { return data_ == nullptr ? 0 : malloc_usable_size(data_); }

  // Header field i (0 or 1); 0 when there is no block.
  uint32_t Field(int i) const {
    return data_ == nullptr ? 0 : bytes::Load<uint32_t>(data_ + i * sizeof(uint32_t));
  }
  // REQUIRES: a block of at least kHeaderBytes.
  void SetFields(size_t field0, size_t field1) {
    bytes::Store<uint32_t>(data_, static_cast<uint32_t>(field0));
    bytes::Store<uint32_t>(data_ + sizeof(uint32_t), static_cast<uint32_t>(field1));
  }

  // Makes the block hold at least `bytes` (keeping its contents), allocating
  // or reallocating only when its usable size is smaller. Returns it.
  char* Reserve(size_t bytes) {
    if (data_ == nullptr) {
      data_ = bytes::Allocate(bytes);
    } else if (malloc_usable_size(data_) < bytes) {
      data_ = bytes::Reallocate(data_, bytes);
    }
    return data_;
  }
  // Shrinks the block to `bytes` when that frees at least `slack` bytes.
  void ShrinkTo(size_t bytes, size_t slack) {
    if (data_ != nullptr && malloc_usable_size(data_) - bytes >= slack) {
      data_ = bytes::Reallocate(data_, bytes);
    }
  }
  void Reset() {
    std::free(data_);
    data_ = nullptr;
  }

 private:
  char* data_ = nullptr;
};

}  // namespace sluice::storage
