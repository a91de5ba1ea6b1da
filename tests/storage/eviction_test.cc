// The eviction policies' structures: LRU stamps and their coarsening, the
// LFU counter, the ghost table, and Shard::Evict under each policy.

#include "storage/eviction.h"

#include <mutex>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "storage/shard.h"

namespace sluice::storage {
namespace {

constexpr int64_t kT0 = 1'700'000'000'000;

TEST(LruStamp, IdleTimeReadsBackAcrossLevels) {
  // A key used once at kT0 and never again; the sweep visits it every 30 s.
  uint8_t stamp = LruStampNow(kT0);
  for (int64_t t = kT0; t <= kT0 + 60LL * 86'400'000; t += kLruSweepPeriodMs) {
    stamp = LruAgeStamp(stamp, t);
    const int64_t idle = LruIdleMs(stamp, t);
    const int64_t truth = t - kT0;
    // Exact to the second below 32 s; within half a unit of the stamp's
    // level after.
    if (truth > 60 * 86'400'000LL) {
      EXPECT_GE(idle, 59 * 86'400'000LL) << truth;  // saturated
      continue;
    }
    static constexpr int64_t kHalfUnit[4] = {1000, 30'000, 1'800'000, 43'200'000};
    EXPECT_LE(std::llabs(idle - truth), kHalfUnit[stamp >> 6] + 1000) << "truth " << truth;
  }
}

TEST(LruStamp, AccessResetsIdle) {
  uint8_t stamp = LruStampNow(kT0);
  EXPECT_EQ(LruIdleMs(stamp, kT0 + 5'500), 5'500);
  stamp = LruStampNow(kT0 + 5'500);
  EXPECT_LT(LruIdleMs(stamp, kT0 + 5'600), 1000);
}

TEST(LfuCounter, GrowsLogarithmicallyAndSaturates) {
  uint64_t x = 88172645463325252ULL;
  auto next = [&] {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return x;
  };
  uint8_t c = kLfuInitial;
  for (int i = 0; i < 100; ++i) c = LfuIncrement(c, 10, next());
  // Redis's table for factor 10: about 10 after 100 hits, 18 after 1000.
  EXPECT_GE(c, 7);
  EXPECT_LE(c, 14);
  for (int i = 0; i < 900; ++i) c = LfuIncrement(c, 10, next());
  EXPECT_GE(c, 14);
  EXPECT_LE(c, 24);
  uint8_t fast = kLfuInitial;
  for (int i = 0; i < 1000; ++i) fast = LfuIncrement(fast, 0, next());
  EXPECT_EQ(fast, 255);
}

TEST(GhostTable, RemembersAndForgets) {
  GhostTable g;
  g.Resize(1000);
  EXPECT_EQ(g.slots(), 1024u);
  const uint64_t h = KeyHash("some-key");
  EXPECT_FALSE(g.TakeIfPresent(h));
  g.Add(h);
  EXPECT_TRUE(g.TakeIfPresent(h));
  EXPECT_FALSE(g.TakeIfPresent(h));
}

TEST(PolicyNames, ParseAndPrint) {
  for (const char* name : {"noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random",
                           "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl",
                           "allkeys-s3fifo"}) {
    auto p = ParseEvictionPolicy(name);
    ASSERT_TRUE(p.has_value()) << name;
    EXPECT_EQ(EvictionPolicyName(*p), name);
  }
  EXPECT_EQ(ParseEvictionPolicy("ALLKEYS-LRU"), EvictionPolicy::kAllKeysLru);
  EXPECT_FALSE(ParseEvictionPolicy("lru").has_value());
  EXPECT_TRUE(IsVolatile(EvictionPolicy::kVolatileTtl));
  EXPECT_FALSE(IsVolatile(EvictionPolicy::kAllKeysS3Fifo));
}

class EvictTest : public ::testing::Test {
 protected:
  void Use(EvictionPolicy p, int samples = 5) {
    settings_.policy = p;
    settings_.samples = samples;
  }
  void Put(const std::string& key, int64_t expire_at = 0) {
    shard_.Insert(Entry::CreateString(key, std::string(40, 'v'), expire_at));
  }
  size_t EvictKeys(size_t n, std::vector<std::string>* victims = nullptr) {
    Shard::EvictResult r = shard_.Evict(SIZE_MAX, n, now_, [&](std::string_view k) {
      if (victims) victims->emplace_back(k);
    });
    return r.evicted;
  }

  EvictionSettings settings_;
  Shard shard_{0, &settings_};
  std::unique_lock<ShardMutex> lock_{shard_.mu()};
  int64_t now_ = kT0;
};

TEST_F(EvictTest, NoEvictionEvictsNothing) {
  Use(EvictionPolicy::kNoEviction);
  for (int i = 0; i < 100; ++i) Put("k" + std::to_string(i));
  Shard::EvictResult r = shard_.Evict(SIZE_MAX, 10, now_, [](std::string_view) {});
  EXPECT_EQ(r.evicted, 0u);
  EXPECT_TRUE(r.exhausted);
  EXPECT_EQ(shard_.size(), 100u);
}

TEST_F(EvictTest, VolatilePoliciesOnlyTakeKeysWithTtl) {
  for (EvictionPolicy p : {EvictionPolicy::kVolatileLru, EvictionPolicy::kVolatileLfu,
                           EvictionPolicy::kVolatileRandom, EvictionPolicy::kVolatileTtl}) {
    shard_.Clear();
    Use(p);
    for (int i = 0; i < 200; ++i) Put("plain" + std::to_string(i));
    for (int i = 0; i < 20; ++i) Put("ttl" + std::to_string(i), now_ + 100'000 + i);
    std::vector<std::string> victims;
    EvictKeys(1000, &victims);
    EXPECT_EQ(victims.size(), 20u) << EvictionPolicyName(p);
    for (const auto& v : victims) EXPECT_EQ(v.substr(0, 3), "ttl");
    Shard::EvictResult r = shard_.Evict(SIZE_MAX, 10, now_, [](std::string_view) {});
    EXPECT_TRUE(r.exhausted);
    EXPECT_EQ(shard_.size(), 200u);
  }
}

TEST_F(EvictTest, VolatileTtlTakesTheNearestDeadline) {
  Use(EvictionPolicy::kVolatileTtl, 64);
  for (int i = 0; i < 50; ++i) Put("k" + std::to_string(i), now_ + 1'000'000 + i * 1000);
  std::vector<std::string> victims;
  EvictKeys(1, &victims);
  ASSERT_EQ(victims.size(), 1u);
  EXPECT_EQ(victims[0], "k0");
}

TEST_F(EvictTest, ExpiredKeysGoFirstAndCountAsExpired) {
  Use(EvictionPolicy::kAllKeysRandom);
  for (int i = 0; i < 100; ++i) Put("live" + std::to_string(i));
  for (int i = 0; i < 30; ++i) Put("dead" + std::to_string(i), now_ + 10);
  shard_.ActiveExpire(now_, 0);  // anchor the wheel
  now_ += 1000;
  Shard::EvictResult r = shard_.Evict(1, 1, now_, [](std::string_view) {});
  EXPECT_EQ(r.expired, 30u);
  EXPECT_EQ(r.evicted, 0u);  // the expired keys freed the byte asked for
  EXPECT_EQ(shard_.size(), 100u);
}

TEST_F(EvictTest, LruTakesTheLongestIdle) {
  Use(EvictionPolicy::kAllKeysLru, 64);
  for (int i = 0; i < 40; ++i) Put("old" + std::to_string(i));
  now_ += 10'000;
  for (int i = 0; i < 40; ++i) Put("new" + std::to_string(i));
  for (int i = 0; i < 40; ++i) shard_.Find("new" + std::to_string(i), now_);
  std::vector<std::string> victims;
  EvictKeys(20, &victims);
  for (const auto& v : victims) EXPECT_EQ(v.substr(0, 3), "old");
}

TEST_F(EvictTest, LfuTakesTheLeastUsed) {
  Use(EvictionPolicy::kAllKeysLfu, 64);
  for (int i = 0; i < 40; ++i) Put("cold" + std::to_string(i));
  for (int i = 0; i < 40; ++i) {
    Put("hot" + std::to_string(i));
    for (int j = 0; j < 50; ++j) shard_.Find("hot" + std::to_string(i), now_);
  }
  std::vector<std::string> victims;
  EvictKeys(20, &victims);
  for (const auto& v : victims) EXPECT_EQ(v.substr(0, 4), "cold");
}

TEST_F(EvictTest, LfuCountersDecayWithTheSweep) {
  Use(EvictionPolicy::kAllKeysLfu);
  settings_.lfu_decay_minutes = 1;
  Put("k");
  Entry* e = shard_.Find("k", now_);
  const uint8_t start = e->access();
  // Five minutes of ticks: five passes of the sweep, one decrement each.
  for (int t = 0; t <= 5 * 600; ++t) shard_.ActiveExpire(now_ + t * 100, 10);
  EXPECT_EQ(shard_.Peek("k", now_)->access(), start - 5);
}

TEST_F(EvictTest, S3FifoResistsAScan) {
  Use(EvictionPolicy::kAllKeysS3Fifo);
  // A working set used repeatedly, then a scan of one-time keys at a fixed
  // size (one eviction per insert): the working set survives.
  for (int i = 0; i < 200; ++i) Put("hot" + std::to_string(i));
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 200; ++i) shard_.Find("hot" + std::to_string(i), now_);
  }
  for (int i = 0; i < 2000; ++i) {
    Put("scan" + std::to_string(i));
    if (i % 10 == 0) {
      for (int h = 0; h < 200; h += 7) shard_.Find("hot" + std::to_string(h), now_);
    }
    EvictKeys(1);
  }
  int hot = 0;
  for (int i = 0; i < 200; ++i) hot += shard_.Peek("hot" + std::to_string(i), now_) != nullptr;
  EXPECT_GT(hot, 150);
  // A call may end having only promoted keys (the evictor calls again).
  EXPECT_LE(shard_.size(), 210u);
}

TEST_F(EvictTest, S3FifoGhostHitEntersMain) {
  Use(EvictionPolicy::kAllKeysS3Fifo);
  for (int i = 0; i < 100; ++i) Put("k" + std::to_string(i));
  std::vector<std::string> victims;
  EvictKeys(5, &victims);
  ASSERT_FALSE(victims.empty());
  Put(victims[0]);  // back soon after it was evicted
  EXPECT_TRUE(DecodeS3Fifo(shard_.Peek(victims[0], now_)->access()).main);
  Put("brand-new");
  EXPECT_FALSE(DecodeS3Fifo(shard_.Peek("brand-new", now_)->access()).main);
}

TEST_F(EvictTest, ByteCountFollowsChanges) {
  Use(EvictionPolicy::kAllKeysLru);
  EXPECT_EQ(shard_.used_bytes(), 0u);
  Put("a");
  const size_t one = shard_.used_bytes();
  EXPECT_GT(one, 40u);
  Put("b", now_ + 100'000);
  Entry* e = shard_.Find("a", now_);
  shard_.SetExpiry(e, now_ + 50'000);
  shard_.Erase("b", now_);
  EXPECT_EQ(shard_.used_bytes(), shard_.Peek("a", now_)->UsedBytes());
  shard_.Erase("a", now_);
  EXPECT_EQ(shard_.used_bytes(), 0u);
}

}  // namespace
}  // namespace sluice::storage
