#pragma once
// PackedList: a sequence of small values in one contiguous heap block, the
// encoding of small hashes (field, value, field, value, ...), small sets
// (members) and small sorted sets (member, score, member, score, ...).
//
// Each element is a string, an int64 or a double. Strings that are canonical
// decimal int64s ("123", "-5"; not "0123", "+1" or "-0", see LooksLikeInt64)
// are stored as integers, and doubles that are integral (and not -0.0) as
// integers, so a score of 3 costs 2 bytes. Readers get back what the element
// holds (Value); an integer reads back as its decimal string.
//
// Layout: an 8-byte header (uint32 used bytes including the header, uint32
// element count), then the elements. An element is an encoding tag, its
// payload, and a back-length: the size of tag + payload written so it can be
// read from its last byte backwards (so Prev() is O(1)). Integers 0..127 take
// 1 byte + 1 back-length byte, strings up to 63 bytes 1 + 1 bytes of overhead,
// up to 8255 bytes 2 + 1 or 2, longer ones 5 + up to 5 (see packed.cc). The
// block is sized to what it holds (allocator rounding aside); an empty list
// owns no memory.
//
// Positions (Pos) are byte offsets of elements in the block: begin() is the
// first, end() is one past the last. Any mutation invalidates every Pos except
// the one it returns, and every string_view a Value holds. Find and Next are
// O(1) per element visited; indexing (At) and search are O(n); an insert or
// erase moves the bytes after it (O(bytes)). Limits: the block is below
// 4 GiB.
//
// Not thread-safe: the owning shard's lock guards it.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "storage/types/heap_block.h"

namespace sluice::storage {

class PackedList {
 public:
  using Pos = uint32_t;

  // One decoded element. Its string_view points into the list.
  class Value {
   public:
    enum class Kind : uint8_t { kString, kInt, kDouble };

    static Value String(std::string_view s) { return Value(Kind::kString, s, 0, 0); }
    static Value Int(int64_t v) { return Value(Kind::kInt, {}, v, 0); }
    static Value Double(double v) { return Value(Kind::kDouble, {}, 0, v); }

    Kind kind() const { return kind_; }
    bool is_string() const { return kind_ == Kind::kString; }
    bool is_int() const { return kind_ == Kind::kInt; }
    bool is_double() const { return kind_ == Kind::kDouble; }
    std::string_view str() const { return str_; }    // REQUIRES: is_string()
    int64_t int_value() const { return int_; }       // REQUIRES: is_int()
    double double_value() const { return double_; }  // REQUIRES: is_double()

    // A numeric element (a score) as a double. REQUIRES: !is_string().
    double AsDouble() const { return is_int() ? static_cast<double>(int_) : double_; }
    // The element as bytes: a string as is, an integer in decimal, a double
    // in the shortest form that reads back exactly; numbers are formatted
    // into `*scratch`.
    std::string_view AsString(std::string* scratch) const;
    // Whether the element's bytes (as AsString gives them) equal `s`; never
    // true for a double.
    bool Equals(std::string_view s) const;

   private:
    Value(Kind k, std::string_view s, int64_t i, double d)
        : kind_(k), str_(s), int_(i), double_(d) {}
    Kind kind_;
    std::string_view str_;
    int64_t int_;
    double double_;
  };

  // Movable (the moved-from list is empty), not copyable.
  PackedList() = default;

  // The block as a raw pointer (nullptr when empty) for an owner that stores
  // it elsewhere (an Entry's collection value); the list is left empty.
  // Adopt() makes a list of a released block again.
  char* Release() { return block_.Release(); }
  static PackedList Adopt(char* block) {
    PackedList list;
    list.block_ = HeapBlock::Adopt(block);
    return list;
  }

  size_t size() const;
  bool empty() const { return size() == 0; }
  // Bytes the encoding uses (header included; 0 when empty and unallocated).
  size_t bytes() const;
  // Bytes owned on the heap (malloc_usable_size of the block).
  size_t AllocatedBytes() const;

  Pos begin() const { return kHeaderBytes; }
  Pos end() const;
  // REQUIRES: pos is an element (not end()).
  Pos Next(Pos pos) const;
  // REQUIRES: pos != begin(); pos is an element or end().
  Pos Prev(Pos pos) const;
  // REQUIRES: pos is an element.
  Value Get(Pos pos) const;
  // The index-th element; negative indexes count from the back (-1 is the
  // last). end() when out of range. O(n): walks from the nearer end.
  Pos At(int64_t index) const;

  // The first element at or after `from` whose bytes equal `s` (Value::Equals),
  // looking only at `from`, then every (skip + 1)-th element after it (skip 1
  // walks the fields of a hash or the members of a sorted set). end() when
  // there is none. Allocates nothing. REQUIRES: from is an element or end().
  Pos Find(std::string_view s, Pos from, size_t skip = 0) const;
  Pos Find(std::string_view s) const { return Find(s, begin()); }

  // Insert a new element before `at` (an element or end()) and return its
  // position. REQUIRES: `s` does not point into this list.
  Pos InsertString(Pos at, std::string_view s);
  Pos InsertInt(Pos at, int64_t v);
  Pos InsertDouble(Pos at, double v);
  void PushBack(std::string_view s) { InsertString(end(), s); }

  // Overwrite the element at `at` (not end()); returns its position (the
  // same offset). REQUIRES for the string form: `s` does not point into this
  // list.
  Pos ReplaceString(Pos at, std::string_view s);
  Pos ReplaceInt(Pos at, int64_t v);
  Pos ReplaceDouble(Pos at, double v);

  // Removes `count` elements starting at `at` (clipped to the end); returns
  // the position that now follows the erased ones (the same offset). With
  // `shrink` false the block keeps its size (a list's end node, about to be
  // popped from again or freed, skips the reallocation; AllocatedBytes()
  // does not change).
  Pos Erase(Pos at, size_t count = 1, bool shrink = true);
  void Clear();

  // For tests: the header agrees with the elements, every back-length matches
  // its element, and no integer-looking string is stored as a string.
  bool CheckConsistency() const;

  static constexpr Pos kHeaderBytes = HeapBlock::kHeaderBytes;

 private:
  struct Encoded;
  // Replaces the `old_bytes` bytes at `at` by `e`; `count_delta` elements are
  // added (+1), removed (negative) or replaced (0).
  Pos Splice(Pos at, size_t old_bytes, const Encoded& e, int64_t count_delta);
  // Size of the element at `pos` (tag, payload and back-length).
  size_t ElementBytes(Pos pos) const;
  char* data() const { return block_.get(); }

  HeapBlock block_;  // Field(0): used bytes, Field(1): element count
};

}  // namespace sluice::storage
