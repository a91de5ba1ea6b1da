#include "protocol/reply_writer.h"

#include <charconv>
#include <cstring>

#include "protocol/arg_reader.h"

namespace sluice::protocol {
namespace {

// Room for a type byte, a 20-digit int64 with its sign, and CRLF.
constexpr size_t kMaxHeader = 1 + 20 + 2 + 1;

// Writes "<type><n>\r\n" into `buf`; returns the length.
size_t FormatHeader(char type, int64_t n, char* buf) {
  buf[0] = type;
  char* end = std::to_chars(buf + 1, buf + kMaxHeader, n).ptr;
  end[0] = '\r';
  end[1] = '\n';
  return end + 2 - buf;
}

}  // namespace

void ReplyWriter::Header(char type, int64_t n) {
  char buf[kMaxHeader];
  out_->append(buf, FormatHeader(type, n, buf));
}

void ReplyWriter::SimpleString(std::string_view s) {
  out_->reserve(out_->size() + s.size() + 3);
  out_->push_back('+');
  out_->append(s);
  out_->append("\r\n", 2);
}

void ReplyWriter::Error(std::string_view message) {
  CountError();
  if (message.empty()) message = "ERR";
  const size_t start = out_->size() + 1;
  out_->reserve(start + message.size() + 2);
  out_->push_back('-');
  out_->append(message);
  // A CR or LF inside the text would end the reply early.
  for (size_t i = start; i < out_->size(); ++i) {
    char& c = (*out_)[i];
    if (c == '\r' || c == '\n') c = ' ';
  }
  out_->append("\r\n", 2);
}

void ReplyWriter::Integer(int64_t v) { Header(':', v); }

void ReplyWriter::Bulk(std::string_view s) {
  char header[kMaxHeader];
  const size_t header_len = FormatHeader('$', static_cast<int64_t>(s.size()), header);
  out_->reserve(out_->size() + header_len + s.size() + 2);
  out_->append(header, header_len);
  out_->append(s);
  out_->append("\r\n", 2);
}

void ReplyWriter::Null() { out_->append(resp3() ? "_\r\n" : "$-1\r\n"); }

void ReplyWriter::NullArray() { out_->append(resp3() ? "_\r\n" : "*-1\r\n"); }

void ReplyWriter::ArrayHeader(size_t n) { Header('*', static_cast<int64_t>(n)); }

void ReplyWriter::MapHeader(size_t n) {
  if (resp3()) {
    Header('%', static_cast<int64_t>(n));
  } else {
    Header('*', static_cast<int64_t>(2 * n));
  }
}

void ReplyWriter::SetHeader(size_t n) { Header(resp3() ? '~' : '*', static_cast<int64_t>(n)); }

void ReplyWriter::PushHeader(size_t n) { Header(resp3() ? '>' : '*', static_cast<int64_t>(n)); }

void ReplyWriter::EncodedPush(std::string_view resp2_array) {
  if (!resp3()) {
    out_->append(resp2_array);
    return;
  }
  out_->push_back('>');
  out_->append(resp2_array.substr(1));
}

void ReplyWriter::Double(double v) {
  char text[kMaxDoubleChars];
  const size_t len = FormatDoubleTo(v, text);
  if (!resp3()) {
    Bulk(std::string_view(text, len));
    return;
  }
  char line[kMaxDoubleChars + 3];
  line[0] = ',';
  std::memcpy(line + 1, text, len);
  line[len + 1] = '\r';
  line[len + 2] = '\n';
  out_->append(line, len + 3);
}

void ReplyWriter::Bool(bool v) {
  if (resp3()) {
    out_->append(v ? "#t\r\n" : "#f\r\n");
  } else {
    out_->append(v ? ":1\r\n" : ":0\r\n");
  }
}

void ReplyWriter::Verbatim(std::string_view format, std::string_view text) {
  if (!resp3()) {
    Bulk(text);
    return;
  }
  // "=<len>\r\n<fmt>:<text>\r\n", the format always three bytes.
  char fmt[3] = {' ', ' ', ' '};
  std::memcpy(fmt, format.data(), format.size() < 3 ? format.size() : 3);
  Header('=', static_cast<int64_t>(text.size() + 4));
  out_->append(fmt, 3);
  out_->push_back(':');
  out_->append(text);
  out_->append("\r\n", 2);
}

void ReplyWriter::BigNumber(std::string_view digits) {
  if (!resp3()) {
    Bulk(digits);
    return;
  }
  out_->reserve(out_->size() + digits.size() + 3);
  out_->push_back('(');
  out_->append(digits);
  out_->append("\r\n", 2);
}

}  // namespace sluice::protocol
