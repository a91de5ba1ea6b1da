#pragma once
// Encodes replies in RESP2 or RESP3 into a caller-owned output buffer.
//
// One writer per connection; the protocol version is switched by HELLO. RESP3
// types are downgraded for RESP2 the way Redis does: a map becomes a flat
// array of 2N elements, a set an array, a double a bulk string, a boolean the
// integer 1/0, null `$-1` (or `*-1` for NullArray), push an array, verbatim a
// bulk string. Not thread-safe.

#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::protocol {

class ReplyWriter {
 public:
  explicit ReplyWriter(std::string* out) : out_(out) {}

  int protocol() const { return protocol_; }
  void set_protocol(int version) { protocol_ = version; }
  bool resp3() const { return protocol_ == 3; }

  void SimpleString(std::string_view s);  // +OK
  void Ok() { SimpleString("OK"); }
  // `message` is the whole error text, e.g. "ERR syntax error" or
  // "WRONGTYPE Operation ..."; a "-" is prepended and CR/LF are replaced by
  // spaces so the reply stays well formed. An empty message is sent as "ERR".
  void Error(std::string_view message);
  void Integer(int64_t v);
  void Bulk(std::string_view s);
  void Null();       // RESP2 `$-1`, RESP3 `_`
  void NullArray();  // RESP2 `*-1`, RESP3 `_`
  void ArrayHeader(size_t n);
  void MapHeader(size_t n);  // n key/value pairs
  void SetHeader(size_t n);
  void PushHeader(size_t n);  // RESP3 `>`; RESP2 array
  // A push encoded once as a RESP2 array (`*...`, see EncodeArray) and copied
  // to many clients: written as is, or as a RESP3 push (`>...`).
  void EncodedPush(std::string_view resp2_array);
  // Formats like Redis 7.2 (FormatDouble in arg_reader.h: the shortest text
  // that reads back as the same double, "inf", "-inf", "nan"): RESP3
  // `,<text>`, RESP2 a bulk string of the same text.
  void Double(double v);
  void Bool(bool v);
  // RESP3 verbatim string with a 3-letter format ("txt"); RESP2 bulk string.
  void Verbatim(std::string_view format, std::string_view text);
  void BigNumber(std::string_view digits);

  // Convenience: an array of bulk strings.
  template <typename Range>
  void BulkArray(const Range& items) {
    ArrayHeader(std::size(items));
    for (const auto& s : items) Bulk(s);
  }

  std::string* buffer() { return out_; }

 private:
  void Header(char type, int64_t n);
  std::string* out_;
  int protocol_ = 2;
};

}  // namespace sluice::protocol
