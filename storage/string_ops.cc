#include "storage/string_ops.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace sluice::storage {
namespace {

// Longest string INCRBYFLOAT accepts as a number (Redis's limit).
constexpr size_t kMaxFloatChars = 5 * 1024;

}  // namespace

// Redis's string-to-long-double rule: the whole string, no leading space, no
// NaN, no overflow or underflow to zero.
bool ParseLongDouble(std::string_view s, long double* out) {
  if (s.empty() || s.size() > kMaxFloatChars) return false;
  if (std::isspace(static_cast<unsigned char>(s[0]))) return false;
  const std::string text(s);
  char* end = nullptr;
  errno = 0;
  const long double v = std::strtold(text.c_str(), &end);
  if (end != text.c_str() + text.size()) return false;
  if (errno == ERANGE && (std::isinf(v) || v == 0.0L)) return false;
  if (std::isnan(v)) return false;
  *out = v;
  return true;
}

// "%.17Lf" with trailing zeros (and a trailing '.') removed; "-0" becomes "0".
std::string FormatLongDouble(long double v) {
  // The largest finite long double has 4933 integer digits.
  char buf[kMaxFloatChars + 64];
  const int n = std::snprintf(buf, sizeof(buf), "%.17Lf", v);
  std::string s(buf, n > 0 ? std::min(static_cast<size_t>(n), sizeof(buf) - 1) : 0);
  if (s.find('.') != std::string::npos) {
    while (!s.empty() && s.back() == '0') s.pop_back();
    if (!s.empty() && s.back() == '.') s.pop_back();
  }
  if (s == "-0") s = "0";
  return s;
}

SetOutcome SetString(Shard& shard, std::string_view key, std::string_view value,
                     const SetOptions& options, int64_t now_ms) {
  SetOutcome out;
  Entry* existing = shard.Find(key, now_ms);
  if (options.return_old && existing != nullptr) {
    if (existing->type() != ValueType::kString) {
      out.status = Status::kWrongType;
      return out;
    }
    std::string scratch;
    out.old_value = std::string(existing->string_value(&scratch));
  }
  using Condition = SetOptions::Condition;
  if (options.condition == Condition::kIfAbsent && existing != nullptr) return out;
  if (options.condition == Condition::kIfPresent && existing == nullptr) return out;
  out.written = true;

  const int64_t deadline = options.keep_ttl ? (existing != nullptr ? existing->expire_at_ms() : 0)
                                            : options.expire_at_ms;
  if (deadline != 0 && deadline <= now_ms) {
    // A deadline already in the past leaves no key behind.
    if (existing != nullptr) shard.Erase(key, now_ms);
    return out;
  }
  if (existing != nullptr && existing->type() == ValueType::kString) {
    Entry* updated = shard.Update(existing, [&](Entry* e) { return Entry::WithString(e, value); });
    shard.SetExpiry(updated, deadline);
  } else {
    shard.Insert(Entry::CreateString(key, value, deadline));
  }
  return out;
}

Result<int64_t> IncrementBy(Shard& shard, std::string_view key, int64_t delta, int64_t now_ms) {
  Entry* e = shard.Find(key, now_ms);
  int64_t current = 0;
  if (e != nullptr) {
    if (e->type() != ValueType::kString) return {Status::kWrongType, 0};
    if (e->is_int()) {
      current = e->int_value();
    } else {
      std::string scratch;
      if (!LooksLikeInt64(e->string_value(&scratch), &current)) return {Status::kNotInteger, 0};
    }
  }
  if ((delta > 0 && current > std::numeric_limits<int64_t>::max() - delta) ||
      (delta < 0 && current < std::numeric_limits<int64_t>::min() - delta)) {
    return {Status::kOverflow, 0};
  }
  const int64_t result = current + delta;
  if (e != nullptr) {
    shard.Update(e, [&](Entry* x) { return Entry::WithInt(x, result); });
  } else {
    shard.Insert(Entry::CreateInt(key, result, 0));
  }
  return {Status::kOk, result};
}

Result<std::string> IncrementByFloat(Shard& shard, std::string_view key, long double delta,
                                     int64_t now_ms) {
  Entry* e = shard.Find(key, now_ms);
  long double current = 0;
  if (e != nullptr) {
    if (e->type() != ValueType::kString) return {Status::kWrongType, {}};
    if (e->is_int()) {
      current = static_cast<long double>(e->int_value());
    } else {
      std::string scratch;
      if (!ParseLongDouble(e->string_value(&scratch), &current)) return {Status::kNotFloat, {}};
    }
  }
  const long double result = current + delta;
  if (std::isnan(result) || std::isinf(result)) return {Status::kNanOrInf, {}};
  std::string text = FormatLongDouble(result);
  if (e != nullptr) {
    shard.Update(e, [&](Entry* x) { return Entry::WithString(x, text); });
  } else {
    shard.Insert(Entry::CreateString(key, text, 0));
  }
  return {Status::kOk, std::move(text)};
}

Result<size_t> AppendString(Shard& shard, std::string_view key, std::string_view tail,
                            int64_t now_ms) {
  Entry* e = shard.Find(key, now_ms);
  if (e == nullptr) {
    if (tail.size() > kMaxStringLength) return {Status::kTooLarge, 0};
    shard.Insert(Entry::CreateString(key, tail, 0));
    return {Status::kOk, tail.size()};
  }
  if (e->type() != ValueType::kString) return {Status::kWrongType, 0};
  const size_t length = e->string_length();
  if (tail.size() > kMaxStringLength - length) return {Status::kTooLarge, 0};
  if (tail.empty()) return {Status::kOk, length};
  shard.Update(e, [&](Entry* x) { return Entry::Append(x, tail); });
  return {Status::kOk, length + tail.size()};
}

Result<size_t> SetRange(Shard& shard, std::string_view key, size_t offset, std::string_view bytes,
                        int64_t now_ms) {
  Entry* e = shard.Find(key, now_ms);
  if (e != nullptr && e->type() != ValueType::kString) return {Status::kWrongType, 0};
  const size_t length = e != nullptr ? e->string_length() : 0;
  if (bytes.empty()) return {Status::kOk, length};
  if (bytes.size() > kMaxStringLength || offset > kMaxStringLength - bytes.size()) {
    return {Status::kTooLarge, 0};
  }
  if (e == nullptr) {
    shard.Insert(Entry::WriteAt(Entry::CreateString(key, {}, 0), offset, bytes));
    return {Status::kOk, offset + bytes.size()};
  }
  Entry* updated = shard.Update(e, [&](Entry* x) { return Entry::WriteAt(x, offset, bytes); });
  return {Status::kOk, updated->string_length()};
}

}  // namespace sluice::storage
