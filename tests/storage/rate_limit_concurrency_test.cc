// Many threads throttling one key through the shard lock, as the command
// handlers do. Run under ThreadSanitizer too (-DSLUICE_SANITIZE=thread).

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "storage/clock.h"
#include "storage/rate_limit.h"

namespace sluice::storage {
namespace {

constexpr int kThreads = 8;
constexpr int64_t kSecond = 1'000'000;

template <typename Fn>
void RunThreads(Fn fn) {
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) threads.emplace_back(fn, i);
  for (auto& t : threads) t.join();
}

// With a period far longer than the test, nothing refills: exactly the
// limiter's capacity is admitted, however the threads interleave.
TEST(RateLimitConcurrencyTest, NeverAdmitsMoreThanTheBurstWithoutRefill) {
  Shard shard(0);
  auto limit = MakeRateLimit(49, 1, 3600 * kSecond);  // 50 tokens, one back per hour
  ASSERT_TRUE(limit.ok());
  std::atomic<int> admitted{0};
  std::atomic<int> errors{0};
  RunThreads([&](int) {
    for (int i = 0; i < 2000; ++i) {
      std::lock_guard lock(shard.mu());
      auto r = Throttle(shard, "limiter", limit.value, 1, NowUs());
      if (!r.ok()) {
        errors.fetch_add(1);
      } else if (!r.value.limited) {
        admitted.fetch_add(1);
      }
    }
  });
  EXPECT_EQ(errors.load(), 0);
  EXPECT_EQ(admitted.load(), 50);
}

// A clock that only moves under the lock (1 us per call), so the admissions
// can be checked against GCRA's bound: in any span of D microseconds at most
// limit + D / interval requests get through.
TEST(RateLimitConcurrencyTest, AdmissionsFollowTheRateUnderContention) {
  Shard shard(0);
  constexpr int64_t kInterval = 100;
  auto limit = MakeRateLimit(9, 1, kInterval);  // 10 tokens, one back per 100 us
  ASSERT_TRUE(limit.ok());
  constexpr int64_t kStart = 1'700'000'000'000'000;
  int64_t clock = kStart;         // guarded by shard.mu()
  std::vector<int64_t> admitted;  // guarded by shard.mu()
  constexpr int kPerThread = 5000;
  RunThreads([&](int t) {
    for (int i = 0; i < kPerThread; ++i) {
      std::lock_guard lock(shard.mu());
      const int64_t now = ++clock;
      auto r = Throttle(shard, "limiter", limit.value, 1 + (i + t) % 2, now);
      ASSERT_TRUE(r.ok());
      if (!r.value.limited) {
        admitted.push_back(now);
        if ((i + t) % 2 == 1) admitted.push_back(now);  // two tokens at once
      }
      // Unrelated keys on the same shard keep the table busy.
      if (i % 50 == 0) {
        (void)Throttle(shard, "other:" + std::to_string(t), limit.value, 1, now);
      }
    }
  });
  const int64_t elapsed = clock - kStart;
  ASSERT_EQ(elapsed, int64_t{kThreads} * kPerThread);
  ASSERT_TRUE(std::is_sorted(admitted.begin(), admitted.end()));
  EXPECT_LE(static_cast<int64_t>(admitted.size()), 10 + elapsed / kInterval);
  EXPECT_GE(static_cast<int64_t>(admitted.size()), elapsed / kInterval - 50);
  // Sliding windows of 1 ms: at most 10 + 10 tokens.
  size_t lo = 0;
  for (size_t hi = 0; hi < admitted.size(); ++hi) {
    while (admitted[hi] - admitted[lo] >= 10 * kInterval) ++lo;
    ASSERT_LE(hi - lo + 1, 20u) << "window ending at " << admitted[hi] - kStart;
  }
}

// Threads on separate shards (separate keys) do not disturb each other.
TEST(RateLimitConcurrencyTest, SeparateShardsAreIndependent) {
  std::vector<std::unique_ptr<Shard>> shards;
  for (int i = 0; i < kThreads; ++i) shards.push_back(std::make_unique<Shard>(i));
  auto limit = MakeRateLimit(4, 1, 3600 * kSecond);
  ASSERT_TRUE(limit.ok());
  std::atomic<int> admitted{0};
  RunThreads([&](int t) {
    for (int i = 0; i < 1000; ++i) {
      // Every thread hits every shard's key, starting from its own.
      Shard& shard = *shards[(t + i) % kThreads];
      std::lock_guard lock(shard.mu());
      auto r = Throttle(shard, "limiter", limit.value, 1, NowUs());
      if (r.ok() && !r.value.limited) admitted.fetch_add(1);
    }
  });
  EXPECT_EQ(admitted.load(), 5 * kThreads);
}

}  // namespace
}  // namespace sluice::storage
