#pragma once
// Incremental RESP request parser: multibulk (`*N\r\n$L\r\n...`) and inline
// (`SET k v\r\n`) commands, as Redis accepts them from clients.
//
// The parser does no I/O and knows no connection: it is fed bytes and fills a
// CommandArgs. Every input byte is examined once; a command split across any
// number of Feed() calls parses exactly as if it arrived whole. Not thread-safe;
// one parser per connection.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::protocol {

// The arguments of one command, copied once into a single buffer.
class CommandArgs {
 public:
  size_t size() const { return spans_.size(); }
  bool empty() const { return spans_.empty(); }
  // Total bytes of all arguments.
  size_t byte_size() const { return buf_.size(); }
  std::string_view operator[](size_t i) const {
    return std::string_view(buf_.data() + spans_[i].offset, spans_[i].length);
  }
  // Drops all arguments, keeping capacity.
  void Clear() {
    buf_.clear();
    spans_.clear();
  }
  // Appends a whole argument (used by tests and by code that builds commands).
  void Push(std::string_view arg);

  // Parser internals: begin an argument of known length, then append its bytes.
  // BeginArg reserves at most 1 MiB up front, however long the argument.
  // REQUIRES: the total size stays below 4 GiB (offsets are 32-bit).
  void BeginArg(size_t reserve);
  void AppendToLast(std::string_view bytes);

 private:
  struct Span {
    uint32_t offset;
    uint32_t length;
  };
  std::string buf_;
  std::vector<Span> spans_;
};

struct ParserLimits {
  // Redis's proto-max-bulk-len.
  int64_t max_bulk_len = 512LL * 1024 * 1024;
  // Largest accepted multibulk element count.
  int64_t max_multibulk_len = 1024 * 1024;
  // Longest inline request line, and longest `*N` / `$L` header line (the
  // bytes before '\n'; over it is an error whether or not '\n' has arrived,
  // so the outcome never depends on how the input was split).
  size_t max_inline_len = 64 * 1024;
  // Until the connection authenticates (when a password is set), Redis accepts
  // at most this many elements and this bulk length.
  int64_t unauth_max_multibulk_len = 10;
  int64_t unauth_max_bulk_len = 16384;
};

enum class ParseStatus {
  kCommand,   // One complete command is in `out` (may be empty: see Feed()).
  kNeedMore,  // All of the input was consumed; the command is not complete yet.
  kError,     // Protocol error: error() holds the text; the connection must close.
};

class Parser {
 public:
  explicit Parser(ParserLimits limits = {}) : limits_(limits) {}

  // Consumes bytes from the front of `input` and sets `*consumed` to how many.
  // kCommand: `out` holds one command's arguments (cleared first); the caller
  //   calls Feed() again with the rest of the input. Empty commands (`*0`,
  //   `*-1`, blank inline lines) are skipped, never returned.
  // kNeedMore: *consumed == input.size(); keep `out` untouched and call again
  //   with more bytes (the partial command lives in `out` and in the parser).
  // kError: error() is e.g. "Protocol error: invalid bulk length" (without the
  //   "-ERR " prefix); the parser must not be fed again.
  ParseStatus Feed(std::string_view input, size_t* consumed, CommandArgs* out);

  // Applies the tighter unauthenticated limits (true until AUTH succeeds).
  void set_authenticated(bool authenticated) { authenticated_ = authenticated; }
  const std::string& error() const { return error_; }
  // Resets to the start-of-command state (after an error, for reuse in tests).
  void Reset();

 private:
  enum class State {
    kStart,
    kMultibulkCount,
    kBulkLength,
    kBulkData,
    kBulkCrlf,
    kInline,
    kFailed,
  };
  enum class LineResult { kComplete, kPartial, kTooLong };

  ParseStatus Fail(std::string message);
  // Reads up to and excluding '\n' from [*p, end), joining bytes kept in line_
  // from earlier feeds. kComplete: *line is the whole line (it may point into
  // line_; call ReleaseLine() when done with it). kPartial: the bytes were
  // kept. kTooLong: the line exceeds max_inline_len (with or without '\n').
  LineResult TakeLine(const char** p, const char* end, std::string_view* line);
  void ReleaseLine();

  ParserLimits limits_;
  bool authenticated_ = true;
  State state_ = State::kStart;
  int64_t pending_args_ = 0;    // multibulk elements still to read
  int64_t bulk_remaining_ = 0;  // bytes of the current bulk still to read
  size_t crlf_seen_ = 0;        // bytes of a bulk's trailing CRLF seen
  std::string line_;            // partial header or inline line across feeds
  std::string error_;
};

// Splits an inline request line into arguments with Redis's quoting rules:
// "double quotes" with \n \r \t \b \a \\ \" \xHH escapes, 'single quotes'
// with \' only, and a closing quote must be followed by a space or the end.
// Appends the arguments to `out` and returns true, or returns false on
// unbalanced quotes (`out` may then hold a partial result).
bool SplitInlineArgs(std::string_view line, CommandArgs* out);

}  // namespace sluice::protocol
