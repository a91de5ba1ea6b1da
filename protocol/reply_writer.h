#pragma once
// Encodes replies in RESP2 or RESP3 into a caller-owned output buffer.
//
// One writer per connection; the protocol version is switched by HELLO. RESP3
// types are downgraded for RESP2 the way Redis does: a map becomes a flat
// array of 2N elements, a set an array, a double a bulk string, a boolean the
// integer 1/0, null `$-1` (or `*-1` for NullArray), push an array, verbatim a
// bulk string. Not thread-safe.
// (The interface handlers write through is ReplySink.)

#include <cstdint>
#include <string>
#include <string_view>

#include "protocol/reply_sink.h"

namespace sluice::protocol {

class ReplyWriter final : public ReplySink {
 public:
  explicit ReplyWriter(std::string* out) : out_(out) {}

  void SimpleString(std::string_view s) override;
  void Error(std::string_view message) override;
  void Integer(int64_t v) override;
  void Bulk(std::string_view s) override;
  void Null() override;
  void NullArray() override;
  void ArrayHeader(size_t n) override;
  void MapHeader(size_t n) override;
  void SetHeader(size_t n) override;
  void PushHeader(size_t n) override;
  // Written as is (RESP2), or as a RESP3 push (`>...`).
  void EncodedPush(std::string_view resp2_array) override;
  // Formats like Redis 7.2 (FormatDouble in arg_reader.h: the shortest text
  // that reads back as the same double, "inf", "-inf", "nan"): RESP3
  // `,<text>`, RESP2 a bulk string of the same text.
  void Double(double v) override;
  void Bool(bool v) override;
  void Verbatim(std::string_view format, std::string_view text) override;
  void BigNumber(std::string_view digits) override;

  std::string* buffer() { return out_; }

 private:
  void Header(char type, int64_t n);
  std::string* out_;
};

}  // namespace sluice::protocol
