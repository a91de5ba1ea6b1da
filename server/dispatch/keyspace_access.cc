#include "server/dispatch/keyspace_access.h"

#include <cmath>
#include <limits>

#include "common/strings.h"
#include "protocol/arg_reader.h"
#include "protocol/errors.h"
#include "server/pubsub/keyspace_events.h"

namespace sluice::server {

std::string_view StatusError(storage::Status status) {
  namespace e = protocol::errors;
  switch (status) {
    case storage::Status::kWrongType:
      return e::kWrongType;
    case storage::Status::kNotInteger:
      return e::kNotInteger;
    case storage::Status::kNotFloat:
      return e::kNotFloat;
    case storage::Status::kOverflow:
      return e::kOverflow;
    case storage::Status::kNanOrInf:
      return e::kIncrFloatNaN;
    case storage::Status::kTooLarge:
      return e::kStringTooLong;
    case storage::Status::kHashValueNotInteger:
      return e::kHashNotInteger;
    case storage::Status::kHashValueNotFloat:
      return e::kHashNotFloat;
    case storage::Status::kOk:
    case storage::Status::kNotFound:
    case storage::Status::kExists:
      return {};
  }
  return {};
}

std::optional<int64_t> ParseRandomCount(CommandContext& ctx, std::string_view arg) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  const std::optional<int64_t> n = protocol::ParseInt64(arg);
  if (!n) {
    ctx.w.Error(protocol::errors::kNotInteger);
  } else if (*n < -kMax) {
    ctx.w.Error(StrCat("ERR value is out of range, value must between ", -kMax, " and ", kMax));
    return std::nullopt;
  }
  return n;
}

bool ParseRandomArgs(CommandContext& ctx, std::string_view with_word, int64_t* count, bool* with) {
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  *count = 0;
  *with = false;
  if (ctx.argc() < 3) return true;
  const std::optional<int64_t> n = ParseRandomCount(ctx, ctx.arg(2));
  if (!n) return false;
  *count = *n;
  if (ctx.argc() > 4 || (ctx.argc() == 4 && !protocol::EqualsIgnoreCase(ctx.arg(3), with_word))) {
    ctx.w.Error(protocol::errors::kSyntax);
    return false;
  }
  *with = ctx.argc() == 4;
  if (*with && (*count < -kMax / 2 || *count > kMax / 2)) {
    ctx.w.Error("ERR value is out of range");
    return false;
  }
  return true;
}

bool ParseMPopArgs(CommandContext& ctx, std::string_view first, std::string_view second,
                   size_t* keys_end, bool* is_second, uint64_t* count, size_t numkeys_at) {
  namespace errors = protocol::errors;
  const std::optional<int64_t> n = protocol::ParseInt64(ctx.arg(numkeys_at));
  if (!n || *n <= 0) {
    ctx.w.Error("ERR numkeys should be greater than 0");
    return false;
  }
  // The direction word must follow the keys.
  if (*n > static_cast<int64_t>(ctx.argc() - numkeys_at - 2)) {
    ctx.w.Error(errors::kSyntax);
    return false;
  }
  *keys_end = numkeys_at + 1 + static_cast<size_t>(*n);
  const std::string_view side = ctx.arg(*keys_end);
  if (!protocol::EqualsIgnoreCase(side, first) && !protocol::EqualsIgnoreCase(side, second)) {
    ctx.w.Error(errors::kSyntax);
    return false;
  }
  *is_second = protocol::EqualsIgnoreCase(side, second);
  *count = 1;
  bool counted = false;
  for (size_t i = *keys_end + 1; i < ctx.argc(); ++i) {
    if (!counted && protocol::EqualsIgnoreCase(ctx.arg(i), "COUNT") && i + 1 < ctx.argc()) {
      const std::optional<int64_t> c = protocol::ParseInt64(ctx.arg(++i));
      if (!c || *c <= 0) {
        ctx.w.Error("ERR count should be greater than 0");
        return false;
      }
      *count = static_cast<uint64_t>(*c);
      counted = true;
    } else {
      ctx.w.Error(errors::kSyntax);
      return false;
    }
  }
  return true;
}

bool ParseBlockTimeout(CommandContext& ctx, std::string_view arg, int64_t* deadline_ms) {
  const std::optional<long double> seconds = protocol::ParseLongDouble(arg);
  if (!seconds) {
    ctx.w.Error("ERR timeout is not a float or out of range");
    return false;
  }
  const long double ms = *seconds * 1000.0L;
  constexpr long double kMax = static_cast<long double>(std::numeric_limits<int64_t>::max());
  if (ms >= kMax) {
    ctx.w.Error("ERR timeout is out of range");
    return false;
  }
  // Rounded up to whole milliseconds first, as Redis does: -0.0001 is 0.
  const long double rounded = std::ceil(ms);
  if (rounded < 0) {
    ctx.w.Error("ERR timeout is negative");
    return false;
  }
  const int64_t wait = static_cast<int64_t>(rounded);
  if (wait == 0) {
    *deadline_ms = 0;
    return true;
  }
  if (wait > std::numeric_limits<int64_t>::max() - ctx.now_ms) {
    ctx.w.Error("ERR timeout is out of range");
    return false;
  }
  *deadline_ms = ctx.now_ms + wait;
  return true;
}

void BlockingPop(CommandContext& ctx, bool second, PopFirstFn pop) {
  int64_t deadline;
  if (!ParseBlockTimeout(ctx, ctx.arg(ctx.argc() - 1), &deadline)) return;
  if (pop(ctx, 1, ctx.argc() - 1, second, 1, /*flat=*/true)) return;
  if (!BlockOnKeys(ctx, 1, ctx.argc() - 1, deadline)) ctx.w.NullArray();
}

void BlockingMPop(CommandContext& ctx, std::string_view first, std::string_view second,
                  PopFirstFn pop) {
  size_t keys_end;
  bool is_second;
  uint64_t count;
  if (!ParseMPopArgs(ctx, first, second, &keys_end, &is_second, &count, 2)) return;
  int64_t deadline;
  if (!ParseBlockTimeout(ctx, ctx.arg(1), &deadline)) return;
  if (pop(ctx, 3, keys_end, is_second, count, /*flat=*/false)) return;
  if (!BlockOnKeys(ctx, 3, keys_end, deadline)) ctx.w.NullArray();
}

bool ParseScanOptions(CommandContext& ctx, size_t from, std::string_view* pattern, size_t* count) {
  namespace errors = protocol::errors;
  for (size_t i = from; i < ctx.argc(); ++i) {
    const bool has_next = i + 1 < ctx.argc();
    if (protocol::EqualsIgnoreCase(ctx.arg(i), "COUNT") && has_next) {
      const std::optional<int64_t> n = protocol::ParseInt64(ctx.arg(++i));
      if (!n) {
        ctx.w.Error(errors::kNotInteger);
        return false;
      }
      if (*n < 1) {
        ctx.w.Error(errors::kSyntax);
        return false;
      }
      *count = static_cast<size_t>(*n);
    } else if (protocol::EqualsIgnoreCase(ctx.arg(i), "MATCH") && has_next) {
      *pattern = ctx.arg(++i);
      if (*pattern == "*") *pattern = {};
    } else {
      ctx.w.Error(errors::kSyntax);
      return false;
    }
  }
  return true;
}

std::optional<uint64_t> ParseCursor(std::string_view text) {
  // Redis reads cursors with strtoul: an optional sign ("-1" wraps to
  // 2^64 - 1), no leading space, nothing after the digits, no overflow; an
  // empty cursor is 0.
  size_t i = 0;
  const bool negative = !text.empty() && text[0] == '-';
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) i = 1;
  if (i == text.size() && i != 0) return std::nullopt;
  unsigned __int128 v = 0;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<unsigned>(c - '0');
    if (v > std::numeric_limits<uint64_t>::max()) return std::nullopt;
  }
  const uint64_t u = static_cast<uint64_t>(v);
  return negative ? 0 - u : u;
}

void ReplyStatus(protocol::ReplySink& w, storage::Status status) { w.Error(StatusError(status)); }

bool ParseDeadline(protocol::ReplySink& w, std::string_view command, std::string_view arg,
                   TimeUnit unit, int64_t now_ms, int64_t* deadline_ms) {
  std::optional<int64_t> v = protocol::ParseInt64(arg);
  if (!v) {
    w.Error(protocol::errors::kNotInteger);
    return false;
  }
  int64_t value = *v;
  if (value <= 0) {
    w.Error(protocol::errors::InvalidExpire(command));
    return false;
  }
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  if (unit == TimeUnit::kSeconds || unit == TimeUnit::kUnixSeconds) {
    if (value > kMax / 1000) {
      w.Error(protocol::errors::InvalidExpire(command));
      return false;
    }
    value *= 1000;
  }
  if (unit == TimeUnit::kSeconds || unit == TimeUnit::kMilliseconds) {
    if (value > kMax - now_ms) {
      w.Error(protocol::errors::InvalidExpire(command));
      return false;
    }
    value += now_ms;
  }
  *deadline_ms = value;
  return true;
}

void ApplyDeadline(CommandContext& ctx, storage::Shard& shard, std::string_view key,
                   storage::Entry* e, int64_t deadline_ms) {
  if (deadline_ms <= ctx.now_ms) {
    (void)shard.Erase(key, ctx.now_ms);
    ctx.KeyChanged(kNotifyGeneric, "del", key);
  } else {
    shard.SetExpiry(e, deadline_ms);
    ctx.KeyChanged(kNotifyGeneric, "expire", key);
  }
}

}  // namespace sluice::server
