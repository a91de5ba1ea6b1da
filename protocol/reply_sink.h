#pragma once
// ReplySink: where a command handler's reply goes. Handlers write through this
// interface only, so the same handler serves a connection (ReplyWriter, RESP
// bytes), a script (ReplyCapture, a tree of values for Lua) and a connection
// whose replies are switched off (PushOnlyFilter, which lets push messages
// through, as Redis does for CLIENT REPLY OFF/SKIP).
//
// A sink knows the protocol version (2 or 3) of the reply it receives, so
// handlers can ask resp3() where the reply shape differs. Implementations
// downgrade RESP3 types for RESP2 as Redis does (see ReplyWriter). Not
// thread-safe.

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string_view>

namespace sluice::protocol {

class ReplySink {
 public:
  virtual ~ReplySink() = default;

  int protocol() const { return protocol_; }
  void set_protocol(int version) { protocol_ = version; }
  bool resp3() const { return protocol_ == 3; }

  virtual void SimpleString(std::string_view s) = 0;  // +OK
  void Ok() { SimpleString("OK"); }
  // `message` is the whole error text, e.g. "ERR syntax error" or
  // "WRONGTYPE Operation ..."; CR/LF are replaced by spaces. An empty message
  // is sent as "ERR".
  virtual void Error(std::string_view message) = 0;
  virtual void Integer(int64_t v) = 0;
  virtual void Bulk(std::string_view s) = 0;
  virtual void Null() = 0;       // RESP2 `$-1`, RESP3 `_`
  virtual void NullArray() = 0;  // RESP2 `*-1`, RESP3 `_`
  virtual void ArrayHeader(size_t n) = 0;
  virtual void MapHeader(size_t n) = 0;  // n key/value pairs follow
  virtual void SetHeader(size_t n) = 0;
  virtual void PushHeader(size_t n) = 0;  // RESP3 `>`; RESP2 array
  // A push encoded once as a RESP2 array of bulk strings (`*...`) and copied
  // to many clients (pub/sub messages).
  virtual void EncodedPush(std::string_view resp2_array) = 0;
  virtual void Double(double v) = 0;
  virtual void Bool(bool v) = 0;
  // RESP3 verbatim string with a 3-letter format ("txt"); RESP2 bulk string.
  virtual void Verbatim(std::string_view format, std::string_view text) = 0;
  virtual void BigNumber(std::string_view digits) = 0;

  // Convenience: an array of bulk strings.
  template <typename Range>
  void BulkArray(const Range& items) {
    ArrayHeader(std::size(items));
    for (const auto& s : items) Bulk(s);
  }

  // Error replies written so far (every Error() call, nested ones too).
  uint64_t errors_written() const { return errors_; }

 protected:
  void CountError() { ++errors_; }

 private:
  int protocol_ = 2;
  uint64_t errors_ = 0;
};

// Forwards only top-level push messages (and everything inside them) to
// `target`; every other reply is dropped. A connection with CLIENT REPLY OFF
// or SKIP writes through one, so that SUBSCRIBE confirmations still arrive.
// When `*pass_all` is true as a top-level reply starts, that reply is
// forwarded too (CLIENT REPLY ON and RESET answer once replies are back on).
class PushOnlyFilter final : public ReplySink {
 public:
  explicit PushOnlyFilter(ReplySink& target, const bool* pass_all = nullptr)
      : target_(target), pass_all_(pass_all) {
    set_protocol(target.protocol());
  }

  void SimpleString(std::string_view s) override {
    if (Scalar()) target_.SimpleString(s);
  }
  void Error(std::string_view message) override {
    CountError();
    if (Scalar()) target_.Error(message);
  }
  void Integer(int64_t v) override {
    if (Scalar()) target_.Integer(v);
  }
  void Bulk(std::string_view s) override {
    if (Scalar()) target_.Bulk(s);
  }
  void Null() override {
    if (Scalar()) target_.Null();
  }
  void NullArray() override {
    if (Scalar()) target_.NullArray();
  }
  void ArrayHeader(size_t n) override {
    if (Aggregate(n, false)) target_.ArrayHeader(n);
  }
  void MapHeader(size_t n) override {
    if (Aggregate(2 * n, false)) target_.MapHeader(n);
  }
  void SetHeader(size_t n) override {
    if (Aggregate(n, false)) target_.SetHeader(n);
  }
  void PushHeader(size_t n) override {
    if (Aggregate(n, true)) target_.PushHeader(n);
  }
  void EncodedPush(std::string_view resp2_array) override {
    if (depth_ == 0 || forwarding_ || PassAll()) target_.EncodedPush(resp2_array);
    if (depth_ != 0) Consume();
  }
  void Double(double v) override {
    if (Scalar()) target_.Double(v);
  }
  void Bool(bool v) override {
    if (Scalar()) target_.Bool(v);
  }
  void Verbatim(std::string_view format, std::string_view text) override {
    if (Scalar()) target_.Verbatim(format, text);
  }
  void BigNumber(std::string_view digits) override {
    if (Scalar()) target_.BigNumber(digits);
  }

 private:
  static constexpr int kMaxDepth = 64;
  // One more value done at the current level; closes finished aggregates.
  void Consume() {
    while (depth_ > 0 && --remaining_[depth_ - 1] == 0) --depth_;
    if (depth_ == 0) forwarding_ = false;
  }
  bool PassAll() const { return pass_all_ != nullptr && *pass_all_; }
  // A scalar: forwarded when inside a forwarded push (or passing all).
  bool Scalar() {
    const bool forward = depth_ > 0 ? forwarding_ : PassAll();
    if (depth_ > 0) Consume();
    return forward;
  }
  // An aggregate of `children` values; a top-level push starts forwarding.
  bool Aggregate(size_t children, bool push) {
    if (depth_ == 0) forwarding_ = push || PassAll();
    const bool forward = forwarding_;
    if (children == 0) {
      if (depth_ > 0) Consume();
      return forward;
    }
    if (depth_ == kMaxDepth) return forward;  // deeper than any reply we write
    remaining_[depth_++] = children;
    return forward;
  }

  ReplySink& target_;
  const bool* pass_all_;
  size_t remaining_[kMaxDepth];  // [0, depth_) in use
  int depth_ = 0;
  bool forwarding_ = false;
};

}  // namespace sluice::protocol
