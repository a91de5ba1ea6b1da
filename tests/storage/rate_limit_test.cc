#include "storage/rate_limit.h"

#include <cstdint>
#include <limits>
#include <string>

#include "gtest/gtest.h"

namespace sluice::storage {
namespace {

constexpr int64_t kSecond = 1'000'000;
// A fixed "now" in microseconds since the epoch (November 2023).
constexpr int64_t kNow = 1'700'000'000'000'000;
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

RateLimit Limit(int64_t max_burst, int64_t count, int64_t period_us) {
  auto r = MakeRateLimit(max_burst, count, period_us);
  EXPECT_TRUE(r.ok()) << max_burst << " " << count << " " << period_us;
  return r.value;
}

// Runs Throttle and expects it to succeed.
ThrottleOutcome Take(Shard& shard, std::string_view key, const RateLimit& limit, int64_t quantity,
                     int64_t now_us) {
  auto r = Throttle(shard, key, limit, quantity, now_us);
  EXPECT_TRUE(r.ok()) << static_cast<int>(r.status);
  return r.value;
}

int64_t StoredTat(Shard& shard, std::string_view key, int64_t now_us) {
  Entry* e = shard.Find(key, now_us / 1000);
  if (e == nullptr || !e->is_int()) return -1;
  return e->int_value();
}

TEST(MakeRateLimitTest, DerivesIntervalAndTolerance) {
  RateLimit l = Limit(15, 30, 60 * kSecond);
  EXPECT_EQ(l.limit, 16);
  EXPECT_EQ(l.interval_us, 2 * kSecond);
  EXPECT_EQ(l.tolerance_us, 32 * kSecond);

  RateLimit strict = Limit(0, 1, kSecond);
  EXPECT_EQ(strict.limit, 1);
  EXPECT_EQ(strict.tolerance_us, kSecond);
}

TEST(MakeRateLimitTest, IntervalIsRoundedUpSoTheRateIsNeverExceeded) {
  RateLimit l = Limit(0, 7, 60 * kSecond);
  EXPECT_EQ(l.interval_us, 8'571'429);  // 60 s / 7 = 8571428.57 us
  EXPECT_GE(l.interval_us * 7, 60 * kSecond);
}

TEST(MakeRateLimitTest, RefusesBadOrUnrepresentableNumbers) {
  EXPECT_EQ(MakeRateLimit(-1, 1, kSecond).status, Status::kOverflow);
  EXPECT_EQ(MakeRateLimit(0, 0, kSecond).status, Status::kOverflow);
  EXPECT_EQ(MakeRateLimit(0, -5, kSecond).status, Status::kOverflow);
  EXPECT_EQ(MakeRateLimit(0, 1, 0).status, Status::kOverflow);
  EXPECT_EQ(MakeRateLimit(0, 1, -kSecond).status, Status::kOverflow);
  // More than one token per microsecond.
  EXPECT_EQ(MakeRateLimit(0, 2 * kSecond, kSecond).status, Status::kOverflow);
  EXPECT_TRUE(MakeRateLimit(0, kSecond, kSecond).ok());  // exactly one per microsecond
  // Tolerance past 2^62 microseconds.
  EXPECT_EQ(MakeRateLimit(kInt64Max, 1, kSecond).status, Status::kOverflow);
  EXPECT_EQ(MakeRateLimit(kInt64Max - 1, 1, 1).status, Status::kOverflow);
  EXPECT_EQ(MakeRateLimit(1'000'000'000, 1, 1'000'000 * kSecond).status, Status::kOverflow);
  EXPECT_EQ(MakeRateLimit(0, 1, kInt64Max).status, Status::kOverflow);
  // Exactly at the edge: 2^31 tokens of 2^31 us each.
  auto edge = MakeRateLimit((int64_t{1} << 31) - 1, 1, int64_t{1} << 31);
  ASSERT_TRUE(edge.ok());
  EXPECT_EQ(edge.value.tolerance_us, kMaxRateLimitSpanUs);
  EXPECT_EQ(MakeRateLimit(int64_t{1} << 31, 1, int64_t{1} << 31).status, Status::kOverflow);
}

TEST(CeilSecondsTest, RoundsUp) {
  EXPECT_EQ(CeilSeconds(0), 0);
  EXPECT_EQ(CeilSeconds(1), 1);
  EXPECT_EQ(CeilSeconds(kSecond), 1);
  EXPECT_EQ(CeilSeconds(kSecond + 1), 2);
  EXPECT_EQ(CeilSeconds(8 * kSecond - 250), 8);
  EXPECT_EQ(CeilSeconds(-1), -1);
  EXPECT_EQ(CeilSeconds(kInt64Max), kInt64Max / kSecond + 1);
}

// 5 tokens per 10 s (one every 2 s) with a burst of 3: a full limiter holds 4.
TEST(ThrottleTest, BurstThenLimitedThenRefill) {
  Shard shard(0);
  const RateLimit l = Limit(3, 5, 10 * kSecond);
  for (int i = 0; i < 4; ++i) {
    SCOPED_TRACE(i);
    ThrottleOutcome o = Take(shard, "k", l, 1, kNow);
    EXPECT_FALSE(o.limited);
    EXPECT_EQ(o.limit, 4);
    EXPECT_EQ(o.remaining, 2 - i + 1);
    EXPECT_EQ(o.retry_after_us, -1);
    EXPECT_EQ(o.reset_after_us, (i + 1) * 2 * kSecond);
  }
  ThrottleOutcome denied = Take(shard, "k", l, 1, kNow);
  EXPECT_TRUE(denied.limited);
  EXPECT_EQ(denied.limit, 4);
  EXPECT_EQ(denied.remaining, 0);
  EXPECT_EQ(denied.retry_after_us, 2 * kSecond);
  EXPECT_EQ(denied.reset_after_us, 8 * kSecond);
  EXPECT_EQ(StoredTat(shard, "k", kNow), kNow + 8 * kSecond);  // unchanged by the denial

  // Half a second later the wait is shorter.
  ThrottleOutcome later = Take(shard, "k", l, 1, kNow + kSecond / 2);
  EXPECT_TRUE(later.limited);
  EXPECT_EQ(later.retry_after_us, 3 * kSecond / 2);
  EXPECT_EQ(later.reset_after_us, 15 * kSecond / 2);

  // One microsecond early is still too early; at retry_after it is admitted.
  EXPECT_TRUE(Take(shard, "k", l, 1, kNow + 2 * kSecond - 1).limited);
  ThrottleOutcome again = Take(shard, "k", l, 1, kNow + 2 * kSecond);
  EXPECT_FALSE(again.limited);
  EXPECT_EQ(again.remaining, 0);
  EXPECT_EQ(again.reset_after_us, 8 * kSecond);

  // After reset_after the whole burst is back.
  ThrottleOutcome full = Take(shard, "k", l, 1, kNow + 10 * kSecond);
  EXPECT_FALSE(full.limited);
  EXPECT_EQ(full.remaining, 3);
  EXPECT_EQ(full.reset_after_us, 2 * kSecond);
}

TEST(ThrottleTest, SteadyRateWithoutBurst) {
  Shard shard(0);
  const RateLimit l = Limit(0, 1, kSecond);
  EXPECT_FALSE(Take(shard, "k", l, 1, kNow).limited);
  ThrottleOutcome half = Take(shard, "k", l, 1, kNow + kSecond / 2);
  EXPECT_TRUE(half.limited);
  EXPECT_EQ(half.retry_after_us, kSecond / 2);
  EXPECT_EQ(half.remaining, 0);
  EXPECT_FALSE(Take(shard, "k", l, 1, kNow + kSecond).limited);

  // A request every 100 ms for 100 s: one in ten goes through.
  int admitted = 0;
  for (int64_t t = 2 * kSecond; t < 102 * kSecond; t += kSecond / 10) {
    if (!Take(shard, "k", l, 1, kNow + t).limited) ++admitted;
  }
  EXPECT_EQ(admitted, 100);
}

TEST(ThrottleTest, AdmissionsInAnyWindowNeverExceedBurstPlusRate) {
  Shard shard(0);
  // 10 per 60 s with a burst of 5: in any 60 s, at most 6 + 10 requests.
  const RateLimit l = Limit(5, 10, 60 * kSecond);
  std::vector<int64_t> admitted;
  for (int64_t t = 0; t < 600 * kSecond; t += kSecond / 4) {
    if (!Take(shard, "k", l, 1, kNow + t).limited) admitted.push_back(t);
  }
  size_t lo = 0;
  for (size_t hi = 0; hi < admitted.size(); ++hi) {
    while (admitted[hi] - admitted[lo] >= 60 * kSecond) ++lo;
    EXPECT_LE(hi - lo + 1, 16u) << "window ending at " << admitted[hi];
  }
  // Over ten minutes: the first burst of 6 plus 10 a minute (give or take one).
  EXPECT_GE(admitted.size(), 6u + 99u);
  EXPECT_LE(admitted.size(), 6u + 100u);
}

TEST(ThrottleTest, QuantityTakesSeveralTokens) {
  Shard shard(0);
  // 10 per 60 s (one every 6 s), burst 5: 6 tokens when full.
  const RateLimit l = Limit(5, 10, 60 * kSecond);
  ThrottleOutcome three = Take(shard, "k", l, 3, kNow);
  EXPECT_FALSE(three.limited);
  EXPECT_EQ(three.limit, 6);
  EXPECT_EQ(three.remaining, 3);
  EXPECT_EQ(three.reset_after_us, 18 * kSecond);

  // Four more do not fit in the three left; the wait is for one token.
  ThrottleOutcome four = Take(shard, "k", l, 4, kNow);
  EXPECT_TRUE(four.limited);
  EXPECT_EQ(four.remaining, 3);
  EXPECT_EQ(four.retry_after_us, 6 * kSecond);
  EXPECT_EQ(four.reset_after_us, 18 * kSecond);

  ThrottleOutcome exact = Take(shard, "k", l, 3, kNow);
  EXPECT_FALSE(exact.limited);
  EXPECT_EQ(exact.remaining, 0);
  EXPECT_EQ(exact.reset_after_us, 36 * kSecond);
}

TEST(ThrottleTest, QuantityAboveTheLimitIsNeverAdmitted) {
  Shard shard(0);
  const RateLimit l = Limit(5, 10, 60 * kSecond);
  ThrottleOutcome o = Take(shard, "k", l, 7, kNow);
  EXPECT_TRUE(o.limited);
  EXPECT_EQ(o.retry_after_us, -1);  // waiting would not help
  EXPECT_EQ(o.remaining, 6);        // the limiter itself is still full
  EXPECT_EQ(o.reset_after_us, 0);
  EXPECT_EQ(shard.Find("k", kNow / 1000), nullptr);

  // A request of exactly the limit fits a full limiter...
  ThrottleOutcome all = Take(shard, "k", l, 6, kNow);
  EXPECT_FALSE(all.limited);
  EXPECT_EQ(all.remaining, 0);
  EXPECT_EQ(all.reset_after_us, 36 * kSecond);
  // ... and, once something was taken, is told to wait for a full limiter.
  ThrottleOutcome again = Take(shard, "k", l, 6, kNow + kSecond);
  EXPECT_TRUE(again.limited);
  EXPECT_EQ(again.retry_after_us, 35 * kSecond);

  ThrottleOutcome huge = Take(shard, "k", l, kInt64Max, kNow);
  EXPECT_TRUE(huge.limited);
  EXPECT_EQ(huge.retry_after_us, -1);
}

TEST(ThrottleTest, QuantityZeroReportsWithoutTaking) {
  Shard shard(0);
  const RateLimit l = Limit(2, 1, kSecond);
  ThrottleOutcome fresh = Take(shard, "k", l, 0, kNow);
  EXPECT_FALSE(fresh.limited);
  EXPECT_EQ(fresh.remaining, 3);
  EXPECT_EQ(fresh.reset_after_us, 0);
  EXPECT_EQ(shard.Find("k", kNow / 1000), nullptr);  // a full limiter needs no key

  for (int i = 0; i < 3; ++i) EXPECT_FALSE(Take(shard, "k", l, 1, kNow).limited);
  ThrottleOutcome empty = Take(shard, "k", l, 0, kNow);
  EXPECT_FALSE(empty.limited);
  EXPECT_EQ(empty.remaining, 0);
  EXPECT_EQ(empty.reset_after_us, 3 * kSecond);
  EXPECT_EQ(StoredTat(shard, "k", kNow), kNow + 3 * kSecond);
}

TEST(ThrottleTest, KeyExpiresWhenTheLimiterIsFullAgain) {
  Shard shard(0);
  // One token every 1.501 ms: the TAT is not on a millisecond boundary.
  const RateLimit l = Limit(1, 2, 3002);
  const int64_t now = kNow + 123;
  Take(shard, "k", l, 1, now);
  Entry* e = shard.Find("k", now / 1000);
  ASSERT_NE(e, nullptr);
  ASSERT_TRUE(e->is_int());
  EXPECT_EQ(e->int_value(), now + 1501);
  EXPECT_EQ(e->expire_at_ms(), (now + 1501 + 999) / 1000);  // rounded up, never early

  Take(shard, "k", l, 1, now);
  e = shard.Find("k", now / 1000);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->int_value(), now + 3002);
  EXPECT_EQ(e->expire_at_ms(), (now + 3002 + 999) / 1000);
  EXPECT_EQ(shard.expires_count(), 1u);

  // Gone once the deadline passes, and the next call starts from full.
  EXPECT_NE(shard.Find("k", (now + 3002) / 1000), nullptr);
  EXPECT_EQ(shard.Find("k", (now + 3002 + 999) / 1000), nullptr);
  ThrottleOutcome o = Take(shard, "k", l, 1, now + 4000);
  EXPECT_EQ(o.remaining, 1);
}

TEST(ThrottleTest, TtlOfAKeyFromSetIsReplaced) {
  Shard shard(0);
  shard.Insert(Entry::CreateInt("k", 0, 0));  // a TAT long past, no expiry
  const RateLimit l = Limit(0, 1, kSecond);
  ThrottleOutcome o = Take(shard, "k", l, 1, kNow);
  EXPECT_FALSE(o.limited);
  Entry* e = shard.Find("k", kNow / 1000);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->int_value(), kNow + kSecond);
  EXPECT_EQ(e->expire_at_ms(), (kNow + kSecond) / 1000);
}

TEST(ThrottleTest, IntegerWrittenAsStringIsATat) {
  Shard shard(0);
  const std::string tat = std::to_string(kNow + 5 * kSecond);
  shard.Insert(Entry::CreateString("k", tat, 0));
  ThrottleOutcome o = Take(shard, "k", Limit(9, 1, kSecond), 1, kNow);
  EXPECT_FALSE(o.limited);
  EXPECT_EQ(o.remaining, 4);
  EXPECT_EQ(o.reset_after_us, 6 * kSecond);
}

TEST(ThrottleTest, NonIntegerValueIsAnError) {
  Shard shard(0);
  shard.Insert(Entry::CreateString("text", "hello", 0));
  shard.Insert(Entry::CreateString("padded", " 12", 0));
  shard.Insert(Entry::CreateString("float", "1.5", 0));
  const RateLimit l = Limit(1, 1, kSecond);
  for (const char* key : {"text", "padded", "float"}) {
    SCOPED_TRACE(key);
    auto r = Throttle(shard, key, l, 1, kNow);
    EXPECT_EQ(r.status, Status::kNotInteger);
  }
  std::string scratch;
  EXPECT_EQ(shard.Find("text", kNow / 1000)->string_value(&scratch), "hello");  // untouched
}

TEST(ThrottleTest, NegativeQuantityIsRefused) {
  Shard shard(0);
  EXPECT_EQ(Throttle(shard, "k", Limit(1, 1, kSecond), -1, kNow).status, Status::kOverflow);
  EXPECT_EQ(shard.size(), 0u);
}

TEST(ThrottleTest, StoredTatNearTheEndOfTheClockDoesNotOverflow) {
  Shard shard(0);
  shard.Insert(Entry::CreateInt("k", kInt64Max, 0));
  const RateLimit l = Limit(5, 1, kSecond);
  ThrottleOutcome o = Take(shard, "k", l, 1, kNow);
  EXPECT_TRUE(o.limited);
  EXPECT_EQ(o.remaining, 0);
  EXPECT_EQ(o.reset_after_us, kInt64Max - kNow);
  EXPECT_EQ(o.retry_after_us, kInt64Max - kNow + kSecond - 6 * kSecond);

  shard.Insert(Entry::CreateInt("neg", std::numeric_limits<int64_t>::min(), 0));
  ThrottleOutcome n = Take(shard, "neg", l, 1, kNow);  // a TAT long past: full
  EXPECT_FALSE(n.limited);
  EXPECT_EQ(n.remaining, 5);
}

TEST(ThrottleTest, ClockNearItsEndIsAnErrorNotUndefinedBehaviour) {
  Shard shard(0);
  const RateLimit l = Limit(0, 1, kSecond);
  EXPECT_EQ(Throttle(shard, "k", l, 1, kInt64Max - 10).status, Status::kOverflow);
  EXPECT_EQ(shard.size(), 0u);
}

TEST(ThrottleTest, WidestLimiterWorks) {
  Shard shard(0);
  auto edge = MakeRateLimit((int64_t{1} << 31) - 1, 1, int64_t{1} << 31);
  ASSERT_TRUE(edge.ok());
  ThrottleOutcome o = Take(shard, "k", edge.value, (int64_t{1} << 31), kNow);
  EXPECT_FALSE(o.limited);
  EXPECT_EQ(o.remaining, 0);
  EXPECT_EQ(o.reset_after_us, kMaxRateLimitSpanUs);
  ThrottleOutcome more = Take(shard, "k", edge.value, 1, kNow);
  EXPECT_TRUE(more.limited);
  EXPECT_EQ(more.retry_after_us, int64_t{1} << 31);
}

TEST(ThrottleTest, ShrinkingTheLimitBetweenCallsClampsRemaining) {
  Shard shard(0);
  for (int i = 0; i < 10; ++i) Take(shard, "k", Limit(9, 1, kSecond), 1, kNow);
  // The same key with a much smaller limiter: the TAT is past its tolerance.
  ThrottleOutcome o = Take(shard, "k", Limit(1, 1, kSecond), 1, kNow);
  EXPECT_TRUE(o.limited);
  EXPECT_EQ(o.remaining, 0);
  EXPECT_EQ(o.retry_after_us, 9 * kSecond);
  EXPECT_EQ(o.reset_after_us, 10 * kSecond);
}

TEST(ThrottleTest, KeysAreIndependent) {
  Shard shard(0);
  const RateLimit l = Limit(0, 1, kSecond);
  EXPECT_FALSE(Take(shard, "a", l, 1, kNow).limited);
  EXPECT_TRUE(Take(shard, "a", l, 1, kNow).limited);
  EXPECT_FALSE(Take(shard, "b", l, 1, kNow).limited);
  EXPECT_EQ(shard.size(), 2u);
}

}  // namespace
}  // namespace sluice::storage
