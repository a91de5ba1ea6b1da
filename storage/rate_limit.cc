#include "storage/rate_limit.h"

#include <algorithm>
#include <limits>
#include <string>

namespace sluice::storage {
namespace {

using Wide = __int128;

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

// Floor division for the clock (now_us may be negative in tests).
int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

int64_t ClampToInt64(Wide v) {
  if (v > kInt64Max) return kInt64Max;
  if (v < std::numeric_limits<int64_t>::min()) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(v);
}

// The TAT stored at `e`: an integer value, or a string that reads as one.
Status ReadTat(const Entry* e, int64_t* tat) {
  if (e->type() != ValueType::kString) return Status::kWrongType;
  if (e->is_int()) {
    *tat = e->int_value();
    return Status::kOk;
  }
  std::string scratch;
  return LooksLikeInt64(e->string_value(&scratch), tat) ? Status::kOk : Status::kNotInteger;
}

}  // namespace

Result<RateLimit> MakeRateLimit(int64_t max_burst, int64_t count, int64_t period_us) {
  if (max_burst < 0 || count < 1 || period_us < 1) return {Status::kOverflow, {}};
  // Faster than one token per microsecond cannot be represented.
  if (count > period_us) return {Status::kOverflow, {}};
  if (max_burst >= kInt64Max) return {Status::kOverflow, {}};
  RateLimit out;
  out.limit = max_burst + 1;
  out.interval_us = period_us / count + (period_us % count != 0 ? 1 : 0);
  const Wide tolerance = Wide{out.interval_us} * out.limit;
  if (tolerance > kMaxRateLimitSpanUs) return {Status::kOverflow, {}};
  out.tolerance_us = static_cast<int64_t>(tolerance);
  return {Status::kOk, out};
}

Result<ThrottleOutcome> Throttle(Shard& shard, std::string_view key, const RateLimit& limit,
                                 int64_t quantity, int64_t now_us) {
  if (quantity < 0) return {Status::kOverflow, {}};
  const int64_t now_ms = FloorDiv(now_us, 1000);
  Entry* e = shard.Find(key, now_ms);
  // A missing key is a full limiter, the same as a TAT at or before now.
  int64_t tat = now_us;
  if (e != nullptr) {
    Status s = ReadTat(e, &tat);
    if (s != Status::kOk) return {s, {}};
  }

  const Wide now = now_us;
  const Wide increment = Wide{limit.interval_us} * quantity;
  const Wide new_tat = std::max<Wide>(tat, now) + increment;
  const Wide allow_at = new_tat - limit.tolerance_us;

  ThrottleOutcome out;
  out.limit = limit.limit;
  Wide ttl;  // until the limiter is full again, after this request
  if (allow_at > now) {
    out.limited = true;
    // A request bigger than the whole limiter is never admitted: no retry time.
    if (increment <= limit.tolerance_us) out.retry_after_us = ClampToInt64(allow_at - now);
    ttl = Wide{tat} - now;
  } else {
    // Admitted: new_tat <= now + tolerance, which fits unless now is absurd.
    if (new_tat > kInt64Max - 999) return {Status::kOverflow, {}};
    ttl = new_tat - now;
    const int64_t stored = static_cast<int64_t>(new_tat);
    if (ttl <= 0) {
      // Nothing taken from a full limiter (quantity 0): it stays full, keyless.
      if (e != nullptr) (void)shard.Erase(key, now_ms);
    } else {
      // Expire at the TAT, rounded up to the shard's millisecond clock.
      const int64_t expire_at_ms = std::max<int64_t>(1, FloorDiv(stored + 999, 1000));
      if (e != nullptr) {
        shard.SetExpiry(shard.Update(e, [&](Entry* x) { return Entry::WithInt(x, stored); }),
                        expire_at_ms);
      } else {
        shard.Insert(Entry::CreateInt(key, stored, expire_at_ms));
      }
    }
  }
  if (ttl < 0) ttl = 0;
  const Wide spare = Wide{limit.tolerance_us} - ttl;
  out.remaining = spare > 0 ? ClampToInt64(spare / limit.interval_us) : 0;
  out.reset_after_us = ClampToInt64(ttl);
  return {Status::kOk, out};
}

int64_t CeilSeconds(int64_t us) {
  if (us < 0) return -1;
  return us / 1'000'000 + (us % 1'000'000 != 0 ? 1 : 0);
}

}  // namespace sluice::storage
