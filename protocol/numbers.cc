// Text <-> number conversions declared in arg_reader.h, with Redis's rules.

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>

#include "protocol/arg_reader.h"

namespace sluice::protocol {
namespace {

// Redis refuses to parse long doubles from strings this long or longer.
constexpr size_t kMaxLongDoubleChars = 5 * 1024;

// A NUL-terminated copy of a string_view for the strto* functions: on the
// stack for ordinary numbers, on the heap for long ones.
class CString {
 public:
  explicit CString(std::string_view s) {
    if (s.size() < sizeof(small_)) {
      std::memcpy(small_, s.data(), s.size());
      small_[s.size()] = '\0';
      data_ = small_;
    } else {
      large_.assign(s.data(), s.size());
      data_ = large_.c_str();
    }
  }
  const char* c_str() const { return data_; }

 private:
  char small_[64];
  std::string large_;
  const char* data_;
};

bool IsCSpace(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

// Parses `s` with `convert` (strtod or strtold) under Redis's checks.
template <typename Float, typename Convert>
std::optional<Float> ParseFloating(std::string_view s, Convert convert) {
  if (s.empty() || IsCSpace(s.front())) return std::nullopt;
  const CString text(s);
  char* parsed_end = nullptr;
  errno = 0;
  const Float value = convert(text.c_str(), &parsed_end);
  // An embedded NUL also stops the conversion short of the end.
  if (parsed_end != text.c_str() + s.size()) return std::nullopt;
  if (errno == ERANGE && (std::isinf(value) || value == 0)) return std::nullopt;
  if (std::isnan(value)) return std::nullopt;
  return value;
}

size_t CopyLiteral(std::string_view text, char* buf) {
  std::memcpy(buf, text.data(), text.size());
  return text.size();
}

}  // namespace

std::optional<int64_t> ParseInt64(std::string_view s) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  size_t i = 0;
  const bool negative = s[0] == '-';
  if (negative) {
    i = 1;
    if (s.size() == 1) return std::nullopt;
  }
  if (s[i] == '0') {
    // "0" alone; "-0" and leading zeros are not integers to Redis.
    if (s.size() == 1) return 0;
    return std::nullopt;
  }
  // At most 20 digits: 19 cannot overflow a uint64, the 20th is checked.
  uint64_t magnitude = 0;
  for (; i < s.size(); ++i) {
    const unsigned digit = static_cast<unsigned char>(s[i]) - '0';
    if (digit > 9) return std::nullopt;
    if (__builtin_mul_overflow(magnitude, 10u, &magnitude) ||
        __builtin_add_overflow(magnitude, digit, &magnitude)) {
      return std::nullopt;
    }
  }
  constexpr uint64_t kMaxPositive = std::numeric_limits<int64_t>::max();
  if (negative) {
    if (magnitude > kMaxPositive + 1) return std::nullopt;
    // Negate in unsigned arithmetic so INT64_MIN needs no special case.
    return static_cast<int64_t>(0 - magnitude);
  }
  if (magnitude > kMaxPositive) return std::nullopt;
  return static_cast<int64_t>(magnitude);
}

std::optional<double> ParseDouble(std::string_view s) {
  return ParseFloating<double>(s, [](const char* p, char** e) { return std::strtod(p, e); });
}

std::optional<long double> ParseLongDouble(std::string_view s) {
  if (s.size() >= kMaxLongDoubleChars) return std::nullopt;
  return ParseFloating<long double>(s, [](const char* p, char** e) { return std::strtold(p, e); });
}

std::string FormatInt64(int64_t v) {
  char buf[24];
  const auto result = std::to_chars(buf, buf + sizeof(buf), v);
  return std::string(buf, result.ptr);
}

std::string FormatLongDouble(long double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char small[128];
  std::string large;
  char* text = small;
  int len = std::snprintf(small, sizeof(small), "%.17Lf", v);
  if (len < 0) return "0";
  if (static_cast<size_t>(len) >= sizeof(small)) {
    // Huge magnitudes print thousands of integer digits.
    large.resize(static_cast<size_t>(len) + 1);
    std::snprintf(large.data(), large.size(), "%.17Lf", v);
    text = large.data();
  }
  // Trim the fraction's trailing zeros, then a bare trailing point.
  if (std::memchr(text, '.', len) != nullptr) {
    while (text[len - 1] == '0') --len;
    if (text[len - 1] == '.') --len;
  }
  if (len == 2 && text[0] == '-' && text[1] == '0') return "0";
  return std::string(text, len);
}

size_t FormatDoubleTo(double v, char* buf) {
  if (std::isnan(v)) return CopyLiteral("nan", buf);
  if (std::isinf(v)) return CopyLiteral(v > 0 ? "inf" : "-inf", buf);
  if (v == 0) return CopyLiteral(std::signbit(v) ? "-0" : "0", buf);

  // Integral values in this range print as integers (the fast path Redis takes).
  constexpr double kIntegralLimit = static_cast<double>(std::numeric_limits<int64_t>::max() / 2);
  if (v >= -kIntegralLimit && v <= kIntegralLimit) {
    const auto as_int = static_cast<int64_t>(v);
    if (static_cast<double>(as_int) == v) {
      return std::to_chars(buf, buf + kMaxDoubleChars, as_int).ptr - buf;
    }
  }

  // The shortest digits that round-trip, from the scientific form
  // "[-]d[.ddd]e[+-]xx": value = d.ddd * 10^exponent.
  char sci[40];
  const char* sci_end = std::to_chars(sci, sci + sizeof(sci), v, std::chars_format::scientific).ptr;
  const char* s = sci;
  char* out = buf;
  if (*s == '-') *out++ = *s++;
  char digits[24];
  int ndigits = 0;
  while (s != sci_end && *s != 'e') {
    if (*s != '.') digits[ndigits++] = *s;
    ++s;
  }
  int exponent = 0;  // The power of ten of the first digit.
  std::from_chars(s + (s[1] == '+' ? 2 : 1), sci_end, exponent);
  const int abs_exponent = exponent < 0 ? -exponent : exponent;
  // value = digits * 10^shift, with digits read as an integer.
  const int shift = exponent - (ndigits - 1);

  if (shift >= 0 && abs_exponent < ndigits + 7) {
    // A plain integer: the digits, then `shift` zeros.
    std::memcpy(out, digits, ndigits);
    out += ndigits;
    std::memset(out, '0', shift);
    out += shift;
  } else if (shift < 0 && (shift > -7 || abs_exponent < 4)) {
    // Plain decimal notation.
    const int int_digits = ndigits + shift;
    if (int_digits <= 0) {
      *out++ = '0';
      *out++ = '.';
      std::memset(out, '0', -int_digits);
      out += -int_digits;
      std::memcpy(out, digits, ndigits);
      out += ndigits;
    } else {
      std::memcpy(out, digits, int_digits);
      out += int_digits;
      *out++ = '.';
      std::memcpy(out, digits + int_digits, ndigits - int_digits);
      out += ndigits - int_digits;
    }
  } else {
    // Scientific notation with an unpadded exponent: "1.5e+20", "1e-7".
    *out++ = digits[0];
    if (ndigits > 1) {
      *out++ = '.';
      std::memcpy(out, digits + 1, ndigits - 1);
      out += ndigits - 1;
    }
    *out++ = 'e';
    *out++ = exponent < 0 ? '-' : '+';
    out = std::to_chars(out, buf + kMaxDoubleChars, abs_exponent).ptr;
  }
  return out - buf;
}

std::string FormatDouble(double v) {
  char buf[kMaxDoubleChars];
  return std::string(buf, FormatDoubleTo(v, buf));
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i];
    char y = b[i];
    if (x == y) continue;
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

}  // namespace sluice::protocol
