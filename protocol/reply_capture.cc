#include "protocol/reply_capture.h"

#include <utility>

#include "protocol/arg_reader.h"

namespace sluice::protocol {
namespace {

ReplyValue Scalar(ReplyType type, std::string_view str = {}, int64_t integer = 0) {
  ReplyValue v;
  v.type = type;
  v.str.assign(str.data(), str.size());
  v.integer = integer;
  return v;
}

}  // namespace

void ReplyCapture::Add(ReplyValue v) {
  if (open_.empty()) {
    values_.push_back(std::move(v));
    return;
  }
  open_.back().value.elements.push_back(std::move(v));
  // Close every aggregate that is now full.
  while (!open_.empty() && --open_.back().remaining == 0) {
    ReplyValue done = std::move(open_.back().value);
    open_.pop_back();
    if (open_.empty()) {
      values_.push_back(std::move(done));
    } else {
      open_.back().value.elements.push_back(std::move(done));
      // The loop's decrement counts it in its parent.
    }
  }
}

void ReplyCapture::Open(ReplyType type, size_t children) {
  ReplyValue v;
  v.type = type;
  if (children == 0) return Add(std::move(v));
  v.elements.reserve(children < 1024 ? children : 1024);
  open_.push_back(OpenAggregate{std::move(v), children});
}

void ReplyCapture::SimpleString(std::string_view s) { Add(Scalar(ReplyType::kStatus, s)); }

void ReplyCapture::Error(std::string_view message) {
  CountError();
  std::string text(message.empty() ? std::string_view("ERR") : message);
  for (char& c : text) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  ReplyValue v;
  v.type = ReplyType::kError;
  v.str = std::move(text);
  Add(std::move(v));
}

void ReplyCapture::Integer(int64_t v) { Add(Scalar(ReplyType::kInteger, {}, v)); }

void ReplyCapture::Bulk(std::string_view s) { Add(Scalar(ReplyType::kBulk, s)); }

void ReplyCapture::Null() { Add(Scalar(ReplyType::kNull)); }

// integer = 1 marks the null array, so that WriteReplyValue writes it back as one.
void ReplyCapture::NullArray() { Add(Scalar(ReplyType::kNull, {}, 1)); }

void ReplyCapture::ArrayHeader(size_t n) { Open(ReplyType::kArray, n); }

void ReplyCapture::MapHeader(size_t n) {
  if (resp3()) return Open(ReplyType::kMap, 2 * n);
  Open(ReplyType::kArray, 2 * n);
}

void ReplyCapture::SetHeader(size_t n) { Open(resp3() ? ReplyType::kSet : ReplyType::kArray, n); }

void ReplyCapture::PushHeader(size_t n) {
  Open(resp3() ? ReplyType::kPush : ReplyType::kArray, n);
}

void ReplyCapture::EncodedPush(std::string_view resp2_array) {
  ReplyValue v;
  size_t consumed = 0;
  if (!ReadReply(resp2_array, &v, &consumed)) return Error("ERR malformed push message");
  if (resp3()) v.type = ReplyType::kPush;
  Add(std::move(v));
}

void ReplyCapture::Double(double v) {
  if (!resp3()) {
    char text[kMaxDoubleChars];
    return Bulk(std::string_view(text, FormatDoubleTo(v, text)));
  }
  ReplyValue r;
  r.type = ReplyType::kDouble;
  r.number = v;
  Add(std::move(r));
}

void ReplyCapture::Bool(bool v) {
  Add(Scalar(resp3() ? ReplyType::kBool : ReplyType::kInteger, {}, v ? 1 : 0));
}

void ReplyCapture::Verbatim(std::string_view format, std::string_view text) {
  if (!resp3()) return Bulk(text);
  ReplyValue v = Scalar(ReplyType::kVerbatim, text);
  v.format.assign(format.data(), format.size() < 3 ? format.size() : 3);
  Add(std::move(v));
}

void ReplyCapture::BigNumber(std::string_view digits) {
  Add(Scalar(resp3() ? ReplyType::kBigNumber : ReplyType::kBulk, digits));
}

void WriteReplyValue(ReplySink& w, const ReplyValue& v) {
  switch (v.type) {
    case ReplyType::kStatus: return w.SimpleString(v.str);
    case ReplyType::kError: return w.Error(v.str);
    case ReplyType::kInteger: return w.Integer(v.integer);
    case ReplyType::kBulk: return w.Bulk(v.str);
    case ReplyType::kNull: return v.integer == 1 ? w.NullArray() : w.Null();
    case ReplyType::kArray: w.ArrayHeader(v.elements.size()); break;
    case ReplyType::kMap: w.MapHeader(v.elements.size() / 2); break;
    case ReplyType::kSet: w.SetHeader(v.elements.size()); break;
    case ReplyType::kPush: w.PushHeader(v.elements.size()); break;
    case ReplyType::kDouble: return w.Double(v.number);
    case ReplyType::kBool: return w.Bool(v.integer != 0);
    case ReplyType::kBigNumber: return w.BigNumber(v.str);
    case ReplyType::kVerbatim: return w.Verbatim(v.format, v.str);
  }
  for (const ReplyValue& e : v.elements) WriteReplyValue(w, e);
}

}  // namespace sluice::protocol
