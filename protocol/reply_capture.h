#pragma once
// ReplyCapture: a ReplySink that keeps replies as ReplyValue trees instead of
// bytes. Scripts run redis.call through one and turn the tree into Lua values;
// WriteReplyValue() writes a captured value to another sink.
//
// The tree has the shape the reply would have on the wire in the capture's
// protocol: in RESP2 a map is captured as a flat array, a double as a bulk
// string, a boolean as an integer, a verbatim string as a bulk string, a push
// as an array, exactly as ReplyWriter would encode them. Not thread-safe.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/reply_reader.h"
#include "protocol/reply_sink.h"

namespace sluice::protocol {

class ReplyCapture final : public ReplySink {
 public:
  ReplyCapture() = default;

  // Completed top-level replies, in order.
  std::vector<ReplyValue>& values() { return values_; }
  // Whether no aggregate is still waiting for elements.
  bool complete() const { return open_.empty(); }
  // Forgets everything captured (keeps the protocol).
  void Clear() {
    values_.clear();
    open_.clear();
  }

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
  void EncodedPush(std::string_view resp2_array) override;
  void Double(double v) override;
  void Bool(bool v) override;
  void Verbatim(std::string_view format, std::string_view text) override;
  void BigNumber(std::string_view digits) override;

 private:
  // Adds a finished value where the innermost open aggregate wants it.
  void Add(ReplyValue v);
  void Open(ReplyType type, size_t children);
  ReplyValue& Place();

  struct OpenAggregate {
    ReplyValue value;
    size_t remaining;
  };
  std::vector<ReplyValue> values_;
  std::vector<OpenAggregate> open_;
};

// Writes a captured value to `w` (in `w`'s protocol).
void WriteReplyValue(ReplySink& w, const ReplyValue& v);

}  // namespace sluice::protocol
