#pragma once
// Typed reading of command arguments that remembers the first error, so a
// handler parses its options straight through and checks once at the end:
//
//   ArgReader r(args, 2);
//   while (r.HasNext()) {
//     if (r.NextIs("EX")) ttl = r.NextInt();
//     else r.Fail(errors::kSyntax);
//   }
//   if (!r.ok()) return w.Error(r.error());
//
// Number parsing follows Redis: integers are decimal int64 with no '+', no
// spaces and no leading zeros ("007" is rejected); doubles accept "inf"/"-inf"
// and reject NaN.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/parser.h"

namespace sluice::protocol {

// Redis's string2ll: optional '-', digits, no leading zeros (except "0"), no
// '+', no spaces, fits int64. Returns nullopt otherwise.
std::optional<int64_t> ParseInt64(std::string_view s);
// Redis's string2ld/strtold semantics for INCRBYFLOAT and friends: accepts
// decimal and exponent forms and "inf"/"-inf" (case-insensitive); rejects
// empty input, spaces, NaN and trailing garbage.
std::optional<double> ParseDouble(std::string_view s);
// Formats an int64 as Redis does.
std::string FormatInt64(int64_t v);
// Formats a long double like Redis's INCRBYFLOAT reply (%.17Lf with trailing
// zeros and point trimmed, "inf"/"-inf").
std::string FormatLongDouble(long double v);
// ASCII case-insensitive comparison.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

class ArgReader {
 public:
  ArgReader(const CommandArgs& args, size_t start) : args_(args), pos_(start) {}

  bool HasNext() const { return pos_ < args_.size(); }
  size_t remaining() const { return pos_ < args_.size() ? args_.size() - pos_ : 0; }
  size_t position() const { return pos_; }
  // Returns the next argument, or "" with a syntax error when none is left.
  std::string_view Next();
  // If the next argument equals `word` (case-insensitively), consumes it.
  bool NextIs(std::string_view word);
  // Next argument as an int64; on failure records `error` (default kNotInteger).
  int64_t NextInt(std::string_view error = {});
  double NextDouble(std::string_view error = {});

  // Records `message` unless an error was already recorded.
  void Fail(std::string_view message);
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

 private:
  const CommandArgs& args_;
  size_t pos_;
  std::string error_;
};

}  // namespace sluice::protocol
