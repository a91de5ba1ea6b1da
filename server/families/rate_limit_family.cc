// Rate-limiting commands: CL.THROTTLE (the redis-cell module's interface) and
// GCRA (Redis 8's). Both run the same limiter (storage/rate_limit.h) and reply
// with five integers: limited (0/1), limit (max_burst + 1), remaining tokens,
// seconds until a retry would be admitted (-1 when admitted), and seconds
// until the limiter is full again. Durations are rounded up to whole seconds.

#include <cmath>
#include <mutex>
#include <optional>

#include "protocol/arg_reader.h"
#include "protocol/errors.h"
#include "server/dispatch/command.h"
#include "server/dispatch/keyspace_access.h"
#include "storage/clock.h"
#include "storage/rate_limit.h"

namespace sluice::server {
namespace {

namespace errors = protocol::errors;
using protocol::EqualsIgnoreCase;
using protocol::ParseDouble;
using protocol::ParseInt64;
using storage::Shard;
using storage::Status;

constexpr std::string_view kOutOfRange =
    "ERR rate limit out of range: period / count must be at least one microsecond, "
    "and (max_burst + 1) * period / count at most 2^62 microseconds";

// Runs the limiter on args[1] and writes the five-integer reply.
void ThrottleReply(CommandContext& ctx, int64_t max_burst, int64_t count, int64_t period_us,
                   int64_t quantity) {
  auto limit = storage::MakeRateLimit(max_burst, count, period_us);
  if (!limit.ok()) return ctx.w.Error(kOutOfRange);
  const int64_t now_us = storage::NowUs();
  Shard& shard = KeyShard(ctx);
  auto r = storage::Throttle(shard, ctx.arg(1), limit.value, quantity, now_us);
  if (r.status == Status::kOverflow) return ctx.w.Error(kOutOfRange);
  if (!r.ok()) return ReplyStatus(ctx.w, r.status);
  const storage::ThrottleOutcome& out = r.value;
  ctx.w.ArrayHeader(5);
  ctx.w.Integer(out.limited ? 1 : 0);
  ctx.w.Integer(out.limit);
  ctx.w.Integer(out.remaining);
  ctx.w.Integer(out.limited ? storage::CeilSeconds(out.retry_after_us) : -1);
  ctx.w.Integer(storage::CeilSeconds(out.reset_after_us));
}

// CL.THROTTLE key max_burst count_per_period period [quantity]
// Every number is an integer; period is in seconds; quantity defaults to 1
// and may be 0 (reports the state without taking a token).
void CmdClThrottle(CommandContext& ctx) {
  if (ctx.argc() > 6) return ctx.w.Error(errors::WrongArity("cl.throttle"));
  auto max_burst = ParseInt64(ctx.arg(2));
  auto count = ParseInt64(ctx.arg(3));
  auto period = ParseInt64(ctx.arg(4));
  std::optional<int64_t> quantity = 1;
  if (ctx.argc() == 6) quantity = ParseInt64(ctx.arg(5));
  if (!max_burst || !count || !period || !quantity) return ctx.w.Error(errors::kNotInteger);
  if (*max_burst < 0) return ctx.w.Error("ERR max_burst must not be negative");
  if (*count < 1) return ctx.w.Error("ERR count per period must be positive");
  if (*period < 1) return ctx.w.Error("ERR period must be positive");
  if (*quantity < 0) return ctx.w.Error("ERR quantity must not be negative");
  if (*period > storage::kMaxRateLimitSpanUs / 1'000'000) return ctx.w.Error(kOutOfRange);
  ThrottleReply(ctx, *max_burst, *count, *period * 1'000'000, *quantity);
}

// GCRA key max-burst tokens-per-period period [TOKENS count]
// period is in seconds, fractional allowed, at least 1; TOKENS at least 1.
void CmdGcra(CommandContext& ctx) {
  auto max_burst = ParseInt64(ctx.arg(2));
  auto count = ParseInt64(ctx.arg(3));
  if (!max_burst || !count) return ctx.w.Error(errors::kNotInteger);
  auto period = ParseDouble(ctx.arg(4));
  if (!period) return ctx.w.Error(errors::kNotFloat);
  int64_t tokens = 1;
  for (size_t i = 5; i < ctx.argc(); ++i) {
    if (EqualsIgnoreCase(ctx.arg(i), "TOKENS") && i + 1 < ctx.argc()) {
      auto v = ParseInt64(ctx.arg(++i));
      if (!v) return ctx.w.Error(errors::kNotInteger);
      if (*v < 1) return ctx.w.Error("ERR TOKENS count must be positive");
      tokens = *v;
    } else {
      return ctx.w.Error(errors::kSyntax);
    }
  }
  if (*max_burst < 0) return ctx.w.Error("ERR max-burst must not be negative");
  if (*count < 1) return ctx.w.Error("ERR tokens-per-period must be positive");
  if (!(*period >= 1.0)) return ctx.w.Error("ERR period must be at least 1 second");
  const double period_us = *period * 1e6;
  if (period_us >= static_cast<double>(storage::kMaxRateLimitSpanUs)) {
    return ctx.w.Error(kOutOfRange);
  }
  ThrottleReply(ctx, *max_burst, *count, std::llround(period_us), tokens);
}

constexpr uint32_t kFlags = kWrite | kDenyOom | kFast;
constexpr std::string_view kAcl = "@write @rate_limit @fast";

CommandSpec Row(std::string name, int arity, CommandHandler h, std::string_view summary,
                std::string_view since) {
  const CommandDoc doc{summary, since, "ratelimit", "O(1)"};
  return CommandSpec{std::move(name), arity, kFlags, 1, 1, 1, h, doc, kAcl, {}};
}

}  // namespace

void RegisterRateLimitFamily(CommandTable& t) {
  t.Add(Row("cl.throttle", -5, CmdClThrottle,
            "Take tokens from a GCRA rate limiter, redis-cell style: whether the action is "
            "limited, the limit, the tokens left, and seconds until a retry and until full.",
            "0.1.0"));
  t.Add(Row("gcra", -5, CmdGcra,
            "Take tokens from a GCRA rate limiter with a fractional period in seconds; replies "
            "as CL.THROTTLE does.",
            "8.8.0"));
}

}  // namespace sluice::server
