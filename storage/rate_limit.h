#pragma once
// Rate limiting with the generic cell rate algorithm (GCRA), as one operation
// on one shard. Used by CL.THROTTLE and GCRA.
//
// A limiter holds `limit` tokens when full and gets one token back every
// `interval_us`. Its whole state is one integer key: the theoretical arrival
// time (TAT), in microseconds since the Unix epoch, at which the limiter will
// be full again. A request for q tokens moves the TAT forward by q intervals;
// it is admitted when the new TAT is no more than `tolerance_us` (a full
// limiter's worth of intervals) ahead of now. Nothing drips in the background:
// elapsed time is the refill. The key is given a TTL that ends at the TAT, so
// a limiter that is full again leaves nothing behind.
//
// Everything is integer microseconds; intermediate values are computed in 128
// bits, so no combination of arguments overflows. Numbers that would not fit
// the 64-bit clock are refused up front by MakeRateLimit.
//
// Throttle() REQUIRES: shard.mu() held. MakeRateLimit() and CeilSeconds() are
// pure and thread-safe.

#include <cstdint>
#include <string_view>

#include "storage/shard.h"
#include "storage/status.h"

namespace sluice::storage {

// The longest span a limiter may cover (its tolerance), about 146,000 years.
// Keeps every stored TAT far from the end of the int64 clock.
inline constexpr int64_t kMaxRateLimitSpanUs = int64_t{1} << 62;

// One limiter's parameters, in the units GCRA runs in. Build with MakeRateLimit.
struct RateLimit {
  int64_t limit = 1;         // tokens in a full limiter: max_burst + 1
  int64_t interval_us = 1;   // time for one token to come back: period / count, rounded up
  int64_t tolerance_us = 1;  // how far the TAT may run ahead of now: interval_us * limit
};

// A limiter allowing `count` tokens per `period_us` with `max_burst` tokens
// of burst on top of the steady rate. The interval is rounded up to a whole
// microsecond, so the limiter never admits more than asked. Returns kOverflow
// ("out of range") when max_burst < 0, count < 1 or period_us < 1, when one
// token would come back faster than once per microsecond (count > period_us),
// or when the tolerance would exceed kMaxRateLimitSpanUs.
Result<RateLimit> MakeRateLimit(int64_t max_burst, int64_t count, int64_t period_us);

struct ThrottleOutcome {
  bool limited = false;
  int64_t limit = 0;      // max_burst + 1
  int64_t remaining = 0;  // tokens a request could take right now, after this one
  // Until this same request would be admitted; -1 when it was admitted, and
  // also when it never can be (quantity > limit).
  int64_t retry_after_us = -1;
  int64_t reset_after_us = 0;  // until the limiter is full again (the key's TTL)
};

// Takes `quantity` tokens (>= 0; 0 only reports the state) from the limiter
// stored at `key` if they are available, at time `now_us` (microseconds since
// the epoch). An admitted request stores the new TAT with an expiry at it; a
// limited one changes nothing. Errors: kWrongType when the key holds another
// type, kNotInteger when it holds a string that is not an integer, kOverflow
// for a negative quantity or a TAT past the end of the clock.
Result<ThrottleOutcome> Throttle(Shard& shard, std::string_view key, const RateLimit& limit,
                                 int64_t quantity, int64_t now_us);

// A duration in microseconds as whole seconds, rounded up (a client that waits
// the reported time is never early). Negative values are returned as -1.
int64_t CeilSeconds(int64_t us);

}  // namespace sluice::storage
