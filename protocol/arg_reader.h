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
// and reject NaN. Not thread-safe; the reader borrows `args`, which must
// outlive it.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "protocol/parser.h"

namespace sluice::protocol {

// Redis's string2ll: optional '-', digits, no leading zeros (except "0"), no
// '+', no spaces, at most 20 characters, fits int64. Returns nullopt otherwise.
std::optional<int64_t> ParseInt64(std::string_view s);
// Redis's strtod-based double parsing (ZADD scores, INCRBYFLOAT increments on
// doubles, ...): accepts decimal, exponent and hex forms and "inf"/"-inf"/
// "+inf"/"infinity" (case-insensitive); rejects empty input, a leading space,
// trailing bytes, NaN, and values that overflow a double ("1e400") or
// underflow to zero ("1e-400").
std::optional<double> ParseDouble(std::string_view s);
// Redis's string2ld (INCRBYFLOAT, HINCRBYFLOAT): the same rules as
// ParseDouble on a long double, so "1e400" is accepted where long double is
// wider than double; inputs of 5 KiB or more are rejected.
std::optional<long double> ParseLongDouble(std::string_view s);
// Formats an int64 as Redis does.
std::string FormatInt64(int64_t v);
// Formats a long double like Redis's INCRBYFLOAT reply (%.17Lf with trailing
// zeros and point trimmed, "-0" as "0", "inf"/"-inf").
std::string FormatLongDouble(long double v);
// The longest text FormatDoubleTo() writes.
inline constexpr size_t kMaxDoubleChars = 32;
// Formats a double as Redis 7.2 replies it (ZSCORE, RESP3 doubles): "nan",
// "inf", "-inf", "0", "-0", integral values below 2^62 as integers, others
// with the fewest digits that read back as the same double, in plain notation
// for moderate exponents ("0.1", "1234.5", "0.0001") and otherwise as
// "1.5e+20" / "1e-7". Writes to `buf` (at least kMaxDoubleChars bytes) and
// returns the length.
size_t FormatDoubleTo(double v, char* buf);
std::string FormatDouble(double v);
// ASCII case-insensitive comparison.
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

class ArgReader {
 public:
  ArgReader(const CommandArgs& args, size_t start) : args_(args), pos_(start) {}

  // False once an error is recorded, so an option loop like the one above
  // stops at the first error instead of spinning on an unconsumed argument.
  bool HasNext() const { return error_.empty() && pos_ < args_.size(); }
  size_t remaining() const { return pos_ < args_.size() ? args_.size() - pos_ : 0; }
  size_t position() const { return pos_; }
  // Returns the next argument, or "" with a syntax error when none is left.
  std::string_view Next();
  // If the next argument equals `word` (case-insensitively), consumes it.
  bool NextIs(std::string_view word);
  // Next argument as an int64; on failure records `error` (default
  // kNotInteger) and returns 0.
  int64_t NextInt(std::string_view error = {});
  // Next argument as a double (ParseDouble); on failure records `error`
  // (default kNotFloat) and returns 0.
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
