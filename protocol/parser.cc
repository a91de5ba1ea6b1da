#include "protocol/parser.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <utility>

#include "protocol/arg_reader.h"

namespace sluice::protocol {
namespace {

// A declared bulk length reserves at most this much up front; longer payloads
// grow the buffer as their bytes arrive, so a client cannot make the server
// allocate memory it never sends.
constexpr size_t kMaxUpfrontReserve = 1024 * 1024;

// A line buffer that grew past this (a long inline request) is released once
// used instead of being kept for the connection's lifetime.
constexpr size_t kKeepLineCapacity = 16 * 1024;

// CommandArgs addresses its buffer with 32-bit offsets.
constexpr uint64_t kMaxCommandBytes = std::numeric_limits<uint32_t>::max();

constexpr char kTooBigInline[] = "Protocol error: too big inline request";
constexpr char kTooBigMultibulk[] = "Protocol error: too big mbulk count string";
constexpr char kTooBigBulk[] = "Protocol error: too big bulk count string";
constexpr char kInvalidMultibulk[] = "Protocol error: invalid multibulk length";
constexpr char kInvalidBulk[] = "Protocol error: invalid bulk length";
constexpr char kUnauthMultibulk[] = "Protocol error: unauthenticated multibulk length";
constexpr char kUnauthBulk[] = "Protocol error: unauthenticated bulk length";
constexpr char kUnbalancedQuotes[] = "Protocol error: unbalanced quotes in request";
constexpr char kMissingBulkCrlf[] = "Protocol error: expected '\\r\\n' after bulk data";
constexpr char kCommandTooLarge[] = "Protocol error: command too large";

// The fast path's reading of a header number: canonical decimal digits (no
// sign, no leading zero, at most 18 so nothing overflows) followed by CRLF, all
// within [p, end). Returns the bytes spanned including the CRLF, or 0 when the
// text is anything else; the general path then parses it, errors included.
size_t ScanHeaderNumber(const char* p, const char* end, int64_t* value) {
  const char* q = p;
  const char* const digits_end = end - p > 18 ? p + 18 : end;
  uint64_t v = 0;
  while (q != digits_end && static_cast<unsigned char>(*q - '0') <= 9) {
    v = v * 10 + static_cast<unsigned char>(*q - '0');
    ++q;
  }
  if (q == p || (*p == '0' && q - p > 1)) return 0;
  if (end - q < 2 || q[0] != '\r' || q[1] != '\n') return 0;
  *value = static_cast<int64_t>(v);
  return q + 2 - p;
}

// Strips the '\r' that must end a header line. Returns false if it is missing.
bool StripCr(std::string_view* line) {
  if (line->empty() || line->back() != '\r') return false;
  line->remove_suffix(1);
  return true;
}

bool IsHexDigit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int HexValue(char c) {
  if (c <= '9') return c - '0';
  if (c <= 'F') return c - 'A' + 10;
  return c - 'a' + 10;
}

// Bytes skipped between inline arguments: C isspace() in the "C" locale, and
// NUL, which also ends an unquoted argument.
bool IsInlineSpace(char c) { return c == ' ' || (c >= '\t' && c <= '\r') || c == '\0'; }

// Characters that end an unquoted inline argument.
bool EndsBareArg(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\0'; }

}  // namespace

void CommandArgs::Push(std::string_view arg) {
  BeginArg(arg.size());
  AppendToLast(arg);
}

void CommandArgs::BeginArg(size_t reserve) {
  const size_t wanted = buf_.size() + std::min(reserve, kMaxUpfrontReserve);
  if (buf_.capacity() < wanted) buf_.reserve(wanted);
  spans_.push_back(Span{static_cast<uint32_t>(buf_.size()), 0});
}

void CommandArgs::AppendToLast(std::string_view bytes) {
  buf_.append(bytes.data(), bytes.size());
  spans_.back().length += static_cast<uint32_t>(bytes.size());
}

ParseStatus Parser::Fail(std::string message) {
  error_ = std::move(message);
  state_ = State::kFailed;
  return ParseStatus::kError;
}

void Parser::Reset() {
  state_ = State::kStart;
  pending_args_ = 0;
  bulk_remaining_ = 0;
  crlf_seen_ = 0;
  line_.clear();
  error_.clear();
}

Parser::LineResult Parser::TakeLine(const char** p, const char* end, std::string_view* line) {
  const char* start = *p;
  const char* newline = static_cast<const char*>(std::memchr(start, '\n', end - start));
  const size_t chunk = (newline != nullptr ? newline : end) - start;
  if (line_.size() + chunk > limits_.max_inline_len) return LineResult::kTooLong;
  if (newline == nullptr) {
    line_.append(start, chunk);
    *p = end;
    return LineResult::kPartial;
  }
  *p = newline + 1;
  if (line_.empty()) {
    // The common case: the whole line arrived in this feed; no copy.
    *line = std::string_view(start, chunk);
  } else {
    line_.append(start, chunk);
    *line = line_;
  }
  return LineResult::kComplete;
}

void Parser::ReleaseLine() {
  if (line_.capacity() > kKeepLineCapacity) {
    std::string().swap(line_);
  } else {
    line_.clear();
  }
}

ParseStatus Parser::Feed(std::string_view input, size_t* consumed, CommandArgs* out) {
  const char* const begin = input.data();
  const char* const end = begin + input.size();
  const char* p = begin;
  *consumed = 0;

  while (true) {
    switch (state_) {
      case State::kFailed:
        return ParseStatus::kError;

      case State::kStart: {
        if (p == end) {
          *consumed = input.size();
          return ParseStatus::kNeedMore;
        }
        out->Clear();
        if (*p == '*') {
          // Fast path: a whole, valid, non-empty count line in this feed.
          int64_t count = 0;
          const size_t n = ScanHeaderNumber(p + 1, end, &count);
          if (n != 0 && n - 1 <= limits_.max_inline_len && count > 0 &&
              count <= limits_.max_multibulk_len &&
              (authenticated_ || count <= limits_.unauth_max_multibulk_len)) {
            p += 1 + n;
            pending_args_ = count;
            state_ = State::kBulkLength;
            break;
          }
          ++p;
          state_ = State::kMultibulkCount;
        } else {
          state_ = State::kInline;
        }
        break;
      }

      case State::kInline: {
        std::string_view line;
        const LineResult r = TakeLine(&p, end, &line);
        if (r == LineResult::kTooLong) return Fail(kTooBigInline);
        if (r == LineResult::kPartial) {
          *consumed = input.size();
          return ParseStatus::kNeedMore;
        }
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        const bool balanced = SplitInlineArgs(line, out);
        ReleaseLine();
        if (!balanced) return Fail(kUnbalancedQuotes);
        state_ = State::kStart;
        if (out->empty()) break;  // A blank line: skip it.
        *consumed = p - begin;
        return ParseStatus::kCommand;
      }

      case State::kMultibulkCount: {
        std::string_view line;
        const LineResult r = TakeLine(&p, end, &line);
        if (r == LineResult::kTooLong) return Fail(kTooBigMultibulk);
        if (r == LineResult::kPartial) {
          *consumed = input.size();
          return ParseStatus::kNeedMore;
        }
        std::optional<int64_t> count;
        if (StripCr(&line)) count = ParseInt64(line);
        ReleaseLine();
        if (!count || *count > limits_.max_multibulk_len) return Fail(kInvalidMultibulk);
        if (!authenticated_ && *count > limits_.unauth_max_multibulk_len) {
          return Fail(kUnauthMultibulk);
        }
        if (*count <= 0) {
          // `*0` and `*-1` are empty commands: skip them.
          state_ = State::kStart;
          break;
        }
        pending_args_ = *count;
        state_ = State::kBulkLength;
        break;
      }

      case State::kBulkLength: {
        // Fast path: whole arguments ("$<len>\r\n<data>\r\n") that arrived
        // in this feed are copied without a trip through the state machine.
        // Anything unusual, errors included, is left to the general path.
        while (line_.empty() && p != end && *p == '$') {
          int64_t length = 0;
          const size_t n = ScanHeaderNumber(p + 1, end, &length);
          if (n == 0 || n > limits_.max_inline_len || length > limits_.max_bulk_len ||
              (!authenticated_ && length > limits_.unauth_max_bulk_len) ||
              out->byte_size() + static_cast<uint64_t>(length) > kMaxCommandBytes) {
            break;
          }
          const char* data = p + 1 + n;
          const auto size = static_cast<size_t>(length);
          if (static_cast<size_t>(end - data) < size + 2 || data[size] != '\r' ||
              data[size + 1] != '\n') {
            break;
          }
          out->BeginArg(size);
          out->AppendToLast(std::string_view(data, size));
          p = data + size + 2;
          if (--pending_args_ == 0) {
            state_ = State::kStart;
            *consumed = p - begin;
            return ParseStatus::kCommand;
          }
        }
        std::string_view line;
        const LineResult r = TakeLine(&p, end, &line);
        if (r == LineResult::kTooLong) return Fail(kTooBigBulk);
        if (r == LineResult::kPartial) {
          *consumed = input.size();
          return ParseStatus::kNeedMore;
        }
        if (line.empty() || line.front() != '$') {
          const char got = line.empty() ? '\n' : line.front();
          ReleaseLine();
          return Fail(std::string("Protocol error: expected '$', got '") + got + "'");
        }
        line.remove_prefix(1);
        std::optional<int64_t> length;
        if (StripCr(&line)) length = ParseInt64(line);
        ReleaseLine();
        if (!length || *length < 0 || *length > limits_.max_bulk_len) return Fail(kInvalidBulk);
        if (!authenticated_ && *length > limits_.unauth_max_bulk_len) return Fail(kUnauthBulk);
        if (out->byte_size() + static_cast<uint64_t>(*length) > kMaxCommandBytes) {
          return Fail(kCommandTooLarge);
        }
        out->BeginArg(static_cast<size_t>(*length));
        bulk_remaining_ = *length;
        state_ = State::kBulkData;
        break;
      }

      case State::kBulkData: {
        const size_t available = end - p;
        const size_t n =
            bulk_remaining_ < static_cast<int64_t>(available) ? bulk_remaining_ : available;
        if (n > 0) {
          out->AppendToLast(std::string_view(p, n));
          p += n;
          bulk_remaining_ -= static_cast<int64_t>(n);
        }
        if (bulk_remaining_ > 0) {
          *consumed = input.size();
          return ParseStatus::kNeedMore;
        }
        crlf_seen_ = 0;
        state_ = State::kBulkCrlf;
        break;
      }

      case State::kBulkCrlf: {
        while (crlf_seen_ < 2) {
          if (p == end) {
            *consumed = input.size();
            return ParseStatus::kNeedMore;
          }
          if (*p != (crlf_seen_ == 0 ? '\r' : '\n')) return Fail(kMissingBulkCrlf);
          ++p;
          ++crlf_seen_;
        }
        if (--pending_args_ > 0) {
          state_ = State::kBulkLength;
          break;
        }
        state_ = State::kStart;
        *consumed = p - begin;
        return ParseStatus::kCommand;
      }
    }
  }
}

bool SplitInlineArgs(std::string_view line, CommandArgs* out) {
  const char* p = line.data();
  const char* const end = p + line.size();
  while (true) {
    while (p != end && IsInlineSpace(*p)) ++p;
    if (p == end) return true;

    out->BeginArg(0);
    enum class Quote { kNone, kDouble, kSingle } quote = Quote::kNone;
    bool done = false;
    while (!done) {
      if (quote == Quote::kNone) {
        // Copy a run of ordinary bytes at once.
        const char* run = p;
        while (p != end && !EndsBareArg(*p) && *p != '"' && *p != '\'') ++p;
        if (p != run) out->AppendToLast(std::string_view(run, p - run));
        if (p == end) {
          done = true;
        } else if (*p == '"') {
          quote = Quote::kDouble;
          ++p;
        } else if (*p == '\'') {
          quote = Quote::kSingle;
          ++p;
        } else {
          ++p;  // The separator ends this argument.
          done = true;
        }
        continue;
      }

      if (p == end) return false;  // The quote never closed.
      const char c = *p;
      const char closing = quote == Quote::kDouble ? '"' : '\'';
      if (c == closing) {
        // A closing quote must be followed by a space or the end of the line.
        ++p;
        if (p != end && !IsInlineSpace(*p)) return false;
        if (p != end) ++p;
        done = true;
      } else if (quote == Quote::kDouble && c == '\\' && end - p >= 4 && p[1] == 'x' &&
                 IsHexDigit(p[2]) && IsHexDigit(p[3])) {
        const char byte = static_cast<char>(HexValue(p[2]) * 16 + HexValue(p[3]));
        out->AppendToLast(std::string_view(&byte, 1));
        p += 4;
      } else if (quote == Quote::kDouble && c == '\\' && end - p >= 2) {
        char byte = p[1];
        switch (byte) {
          case 'n':
            byte = '\n';
            break;
          case 'r':
            byte = '\r';
            break;
          case 't':
            byte = '\t';
            break;
          case 'b':
            byte = '\b';
            break;
          case 'a':
            byte = '\a';
            break;
          default:
            break;  // Any other escaped byte stands for itself: \" \\ \q.
        }
        out->AppendToLast(std::string_view(&byte, 1));
        p += 2;
      } else if (quote == Quote::kSingle && c == '\\' && end - p >= 2 && p[1] == '\'') {
        out->AppendToLast("'");
        p += 2;
      } else {
        // Copy a run of bytes that need no special handling.
        const char* run = p;
        ++p;
        while (p != end && *p != closing && *p != '\\') ++p;
        out->AppendToLast(std::string_view(run, p - run));
      }
    }
  }
}

}  // namespace sluice::protocol
