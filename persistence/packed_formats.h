#pragma once
// Redis's packed byte formats, as RDB values carry them inside RDB strings:
//
//   listpack (Redis 7): <total bytes: u32 LE> <count: u16 LE, 65535 when
//     unknown> entries <0xff>. An entry is an encoding byte and its data
//     (7-bit uint; 6-bit, 12-bit or 32-bit string length and the bytes;
//     13-, 16-, 24-, 32- or 64-bit signed integer), then its back-length:
//     the size of encoding + data in 1..5 bytes of 7 bits, read from the
//     last byte backwards.
//   ziplist (before 7): <total bytes: u32 LE> <offset of the last entry:
//     u32 LE> <count: u16 LE> entries <0xff>. An entry is the previous
//     entry's size (1 byte, or 0xfe and u32 LE), an encoding (6-, 14- or
//     32-bit string length; 8-, 16-, 24-, 32- or 64-bit integer; a 4-bit
//     immediate 0..12) and its data.
//   intset: <width: u32 LE, 2, 4 or 8> <count: u32 LE> the members,
//     ascending, little-endian, each `width` bytes.
//   zipmap (before 2.6, hashes): <count: 1 byte> then per pair: field length,
//     field, value length, a free-space byte, value, that many free bytes;
//     <0xff>. A length is one byte below 254, or 254 and u32 LE.
//
// The parsers check every internal length, count and back-pointer against
// the bytes (a blob that lies about itself is refused, never read past its
// end) and allocate only for what the bytes hold. The writers emit what
// Redis 7.0 writes. Pure functions and a value type; thread-compatible.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::persistence {

// One element of a listpack or ziplist: bytes or an integer. `str` points
// into the parsed blob.
struct PackedItem {
  std::string_view str;
  int64_t num = 0;
  bool is_num = false;

  // The element as bytes: a string as is, an integer in decimal (formatted
  // into *scratch).
  std::string_view AsString(std::string* scratch) const;
};

// Builds a listpack. Strings that are canonical decimal int64s are stored
// as integers, as Redis does.
class ListpackWriter {
 public:
  ListpackWriter();
  void Add(std::string_view s);
  void AddInt(int64_t v);
  size_t count() const { return count_; }
  // Bytes so far, header included, terminator not.
  size_t bytes() const { return out_.size(); }
  // The finished listpack; the writer is left empty for reuse.
  std::string Finish();

 private:
  void AddBacklen(size_t entry_bytes);
  std::string out_;
  size_t count_ = 0;
};

// Appends the elements of a well-formed blob to *out; false (with *out in
// an unspecified state) when it is malformed.
[[nodiscard]] bool ParseListpack(std::string_view blob, std::vector<PackedItem>* out);
[[nodiscard]] bool ParseZiplist(std::string_view blob, std::vector<PackedItem>* out);
// Members must be strictly ascending (a repeated member is malformed).
[[nodiscard]] bool ParseIntset(std::string_view blob, std::vector<int64_t>* out);
// Alternating field, value.
[[nodiscard]] bool ParseZipmap(std::string_view blob, std::vector<std::string_view>* out);

// An intset of `members` (ascending, distinct) in the narrowest width that
// holds them.
std::string EncodeIntset(const std::vector<int64_t>& members);

}  // namespace sluice::persistence
