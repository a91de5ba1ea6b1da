#pragma once
// The RDB encodings of lengths and strings, as DUMP payloads and RDB files
// carry them (Redis's format, so payloads travel between sluice and Redis):
//
//   length: 00xxxxxx (6 bits) | 01xxxxxx xxxxxxxx (14 bits, big-endian) |
//           0x80 + 4 bytes big-endian | 0x81 + 8 bytes big-endian
//   string: a length and that many bytes, or 11xxxxxx: an integer in 1, 2 or
//           4 little-endian bytes (written as its decimal text), or LZF:
//           0xc3, compressed length, plain length, the compressed bytes.
//
// AppendRdbString emits plain strings (every reader accepts them);
// AppendRdbStringCompact the forms Redis writes; the reader takes all. Pure functions and a cursor over caller-owned bytes;
// thread-compatible.

#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::persistence {

// RDB opcodes that name what follows.
inline constexpr uint8_t kRdbOpcodeFunctionPreGa = 246;  // a 7.0 release-candidate format
inline constexpr uint8_t kRdbOpcodeFunction2 = 245;      // a function library: its code

void AppendRdbLength(std::string* out, uint64_t length);
void AppendRdbString(std::string* out, std::string_view s);
// Redis's compact forms: a canonical decimal integer of at most 11 bytes
// that fits 32 bits as an integer; with `compress` (rdbcompression), a
// string over 20 bytes as LZF when that saves space; plain otherwise.
void AppendRdbStringCompact(std::string* out, std::string_view s, bool compress);
// An integer value: the integer forms when it fits 32 bits, else decimal.
void AppendRdbInt(std::string* out, int64_t v);

// Reads RDB values from the front of `in`. Every Read returns false, having
// consumed an unspecified part of the input, on truncated or malformed data.
class RdbReader {
 public:
  explicit RdbReader(std::string_view in) : in_(in) {}
  // Whether a read failed for want of bytes (the input ends too soon) rather
  // than for bad data: a truncated file.
  bool ran_out() const { return ran_out_; }

  [[nodiscard]] bool ReadByte(uint8_t* b);
  // A plain length (false for an encoded-string marker).
  [[nodiscard]] bool ReadLength(uint64_t* length);
  [[nodiscard]] bool ReadString(std::string* s);
  // A string without copying when it is stored plain: *out then points into
  // the input; an integer or LZF form is decoded into *decoded, which *out
  // then points into.
  [[nodiscard]] bool ReadStringView(std::string_view* out, std::string* decoded);
  // `n` raw bytes (fixed-width fields: binary doubles, stream IDs, times).
  [[nodiscard]] bool ReadRaw(size_t n, std::string_view* out) { return ReadBytes(n, out); }
  size_t remaining() const { return in_.size() - pos_; }

 private:
  // The length prefix; *encoding is set (0..3) for the 11xxxxxx forms.
  bool ReadLengthOrEncoding(uint64_t* length, int* encoding);
  bool ReadBytes(size_t n, std::string_view* out);

  std::string_view in_;
  size_t pos_ = 0;
  bool ran_out_ = false;
};

// LZF decompression of `in` into exactly `plain_length` bytes; false when
// the data is malformed or does not decompress to that length.
[[nodiscard]] bool LzfDecompress(std::string_view in, size_t plain_length, std::string* out);

}  // namespace sluice::persistence
