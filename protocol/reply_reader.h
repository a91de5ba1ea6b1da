#pragma once
// Reads RESP2/RESP3 replies back into a tree of values. Scripts use it to turn
// the reply a command handler wrote (through ReplyWriter, into a scratch
// buffer) into Lua values.
//
// The input is expected to be well formed (it comes from our own writer), but
// malformed or truncated input is reported, never trusted: ReadReply returns
// false and leaves `out` unspecified. Stateless and thread-safe.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::protocol {

enum class ReplyType {
  kStatus,     // +OK
  kError,      // -ERR ...
  kInteger,    // :1
  kBulk,       // $3 abc
  kNull,       // $-1, *-1 or RESP3 _
  kArray,      // *N
  kMap,        // %N (elements hold key, value, key, value, ...)
  kSet,        // ~N
  kPush,       // >N
  kDouble,     // ,1.5
  kBool,       // #t / #f
  kBigNumber,  // (123
  kVerbatim,   // =N fmt:text (str holds text, format the 3-letter format)
};

struct ReplyValue {
  ReplyType type = ReplyType::kNull;
  std::string str;                   // status, error, bulk, big number and verbatim text
  std::string format;                // verbatim only
  int64_t integer = 0;               // integer; bool as 0/1
  double number = 0;                 // double
  std::vector<ReplyValue> elements;  // array, map, set, push
};

// Parses one complete reply from the front of `input`; on success sets
// `*consumed` to its length. Nesting deeper than `max_depth` is an error.
bool ReadReply(std::string_view input, ReplyValue* out, size_t* consumed, int max_depth = 128);

}  // namespace sluice::protocol
