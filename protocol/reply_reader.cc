#include "protocol/reply_reader.h"

#include "protocol/arg_reader.h"

namespace sluice::protocol {
namespace {

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  size_t pos() const { return pos_; }

  bool Value(ReplyValue* out, int depth) {
    if (depth < 0 || pos_ >= in_.size()) return false;
    const char type = in_[pos_++];
    std::string_view line;
    if (!Line(&line)) return false;
    switch (type) {
      case '+':
        out->type = ReplyType::kStatus;
        out->str.assign(line);
        return true;
      case '-':
        out->type = ReplyType::kError;
        out->str.assign(line);
        return true;
      case ':': {
        auto v = ParseInt64(line);
        if (!v) return false;
        out->type = ReplyType::kInteger;
        out->integer = *v;
        return true;
      }
      case '_':
        out->type = ReplyType::kNull;
        return line.empty();
      case '#':
        out->type = ReplyType::kBool;
        if (line != "t" && line != "f") return false;
        out->integer = line == "t" ? 1 : 0;
        return true;
      case ',': {
        auto v = ParseDouble(line);
        if (!v) return false;
        out->type = ReplyType::kDouble;
        out->number = *v;
        return true;
      }
      case '(':
        out->type = ReplyType::kBigNumber;
        out->str.assign(line);
        return true;
      case '$':
      case '=':
        return Blob(type, line, out);
      case '*':
      case '%':
      case '~':
      case '>':
        return Aggregate(type, line, out, depth);
      default:
        return false;
    }
  }

 private:
  // The text up to the next CRLF; advances past it.
  bool Line(std::string_view* line) {
    const size_t end = in_.find("\r\n", pos_);
    if (end == std::string_view::npos) return false;
    *line = in_.substr(pos_, end - pos_);
    pos_ = end + 2;
    return true;
  }

  bool Blob(char type, std::string_view len_text, ReplyValue* out) {
    auto len = ParseInt64(len_text);
    if (!len || *len < -1) return false;
    if (*len == -1) {
      if (type != '$') return false;
      out->type = ReplyType::kNull;
      return true;
    }
    const size_t n = static_cast<size_t>(*len);
    if (in_.size() - pos_ < n + 2 || in_.substr(pos_ + n, 2) != "\r\n") return false;
    std::string_view body = in_.substr(pos_, n);
    pos_ += n + 2;
    if (type == '$') {
      out->type = ReplyType::kBulk;
      out->str.assign(body);
      return true;
    }
    if (body.size() < 4 || body[3] != ':') return false;
    out->type = ReplyType::kVerbatim;
    out->format.assign(body.substr(0, 3));
    out->str.assign(body.substr(4));
    return true;
  }

  bool Aggregate(char type, std::string_view count_text, ReplyValue* out, int depth) {
    auto count = ParseInt64(count_text);
    if (!count || *count < -1) return false;
    if (*count == -1) {
      if (type != '*') return false;
      out->type = ReplyType::kNull;
      return true;
    }
    size_t n = static_cast<size_t>(*count);
    out->type = type == '*'   ? ReplyType::kArray
                : type == '%' ? ReplyType::kMap
                : type == '~' ? ReplyType::kSet
                              : ReplyType::kPush;
    if (type == '%') n *= 2;
    // Every element takes at least 3 bytes: do not trust a huge count.
    if (n > (in_.size() - pos_) / 3) return false;
    out->elements.resize(n);
    for (ReplyValue& e : out->elements) {
      if (!Value(&e, depth - 1)) return false;
    }
    return true;
  }

  std::string_view in_;
  size_t pos_ = 0;
};

}  // namespace

bool ReadReply(std::string_view input, ReplyValue* out, size_t* consumed, int max_depth) {
  Reader r(input);
  if (!r.Value(out, max_depth)) return false;
  *consumed = r.pos();
  return true;
}

}  // namespace sluice::protocol
