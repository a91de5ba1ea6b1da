#include "storage/shard.h"

#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace sluice::storage {
namespace {

constexpr int64_t kNow = 1'700'000'000'000;

std::string Value(const Entry* e) {
  std::string scratch;
  return std::string(e->string_value(&scratch));
}

std::string Key(int i) { return "key:" + std::to_string(i); }

std::set<std::string> ScanAll(Shard& shard, size_t count, int64_t now,
                              const std::function<void()>& between = nullptr) {
  std::set<std::string> seen;
  uint64_t cursor = 0;
  do {
    cursor =
        shard.Scan(cursor, count, now, [&](const Entry& e) { seen.insert(std::string(e.key())); });
    if (between && cursor != 0) between();
  } while (cursor != 0);
  return seen;
}

TEST(ShardTest, InsertFindEraseReplace) {
  Shard shard(0);
  EXPECT_EQ(shard.Find("a", kNow), nullptr);
  shard.Insert(Entry::CreateString("a", "1", 0));
  shard.Insert(Entry::CreateString("b", "two", 0));
  EXPECT_EQ(shard.size(), 2u);
  ASSERT_NE(shard.Find("a", kNow), nullptr);
  EXPECT_EQ(Value(shard.Find("a", kNow)), "1");
  shard.Insert(Entry::CreateString("a", "replaced", kNow + 1000));
  EXPECT_EQ(shard.size(), 2u);
  EXPECT_EQ(shard.expires_count(), 1u);
  EXPECT_EQ(Value(shard.Find("a", kNow)), "replaced");
  shard.Insert(Entry::CreateString("a", "again", 0));
  EXPECT_EQ(shard.expires_count(), 0u);
  EXPECT_TRUE(shard.Erase("a", kNow));
  EXPECT_FALSE(shard.Erase("a", kNow));
  EXPECT_EQ(shard.size(), 1u);
  Entry* b = shard.Detach("b", kNow);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(Value(b), "two");
  EXPECT_EQ(shard.size(), 0u);
  Entry::Destroy(b);
}

TEST(ShardTest, ManyKeysSurviveGrowthAndShrink) {
  Shard shard(0);
  for (int i = 0; i < 50000; ++i) shard.Insert(Entry::CreateInt(Key(i), i, 0));
  EXPECT_EQ(shard.size(), 50000u);
  const size_t big = shard.MemoryBytes();
  for (int i = 0; i < 50000; ++i) {
    Entry* e = shard.Find(Key(i), kNow);
    ASSERT_NE(e, nullptr);
    ASSERT_EQ(e->int_value(), i);
  }
  for (int i = 0; i < 49990; ++i) ASSERT_TRUE(shard.Erase(Key(i), kNow));
  EXPECT_EQ(shard.size(), 10u);
  EXPECT_LT(shard.MemoryBytes(), big / 100);  // the bucket array shrank
  for (int i = 49990; i < 50000; ++i) ASSERT_NE(shard.Find(Key(i), kNow), nullptr);
}

TEST(ShardTest, LazyExpiryCountsAndNotifies) {
  Shard shard(0);
  std::vector<std::string> expired;
  shard.set_on_expired([&](std::string_view key) { expired.emplace_back(key); });
  shard.Insert(Entry::CreateString("t", "v", kNow + 100));
  shard.Insert(Entry::CreateString("p", "v", 0));
  EXPECT_EQ(shard.expires_count(), 1u);
  EXPECT_NE(shard.Find("t", kNow + 99), nullptr);
  EXPECT_EQ(shard.Find("t", kNow + 100), nullptr);  // deadline <= now is expired
  EXPECT_EQ(shard.stats().expired_keys, 1u);
  EXPECT_EQ(expired, std::vector<std::string>{"t"});
  EXPECT_EQ(shard.size(), 1u);
  EXPECT_EQ(shard.expires_count(), 0u);
  shard.Insert(Entry::CreateString("t2", "v", kNow + 10));
  EXPECT_FALSE(shard.Erase("t2", kNow + 10));  // expired, not erased by the caller
  EXPECT_EQ(shard.stats().expired_keys, 2u);
  shard.Insert(Entry::CreateString("t3", "v", kNow + 10));
  EXPECT_EQ(shard.Detach("t3", kNow + 11), nullptr);
  EXPECT_EQ(shard.stats().expired_keys, 3u);
}

TEST(ShardTest, FindForReadCountsHitsAndMisses) {
  Shard shard(0);
  shard.Insert(Entry::CreateString("a", "v", 0));
  EXPECT_NE(shard.FindForRead("a", kNow), nullptr);
  EXPECT_EQ(shard.FindForRead("b", kNow), nullptr);
  EXPECT_EQ(shard.FindForRead("c", kNow), nullptr);
  EXPECT_EQ(shard.stats().keyspace_hits, 1u);
  EXPECT_EQ(shard.stats().keyspace_misses, 2u);
  EXPECT_NE(shard.Find("a", kNow), nullptr);  // plain Find does not count
  EXPECT_EQ(shard.stats().keyspace_hits, 1u);
}

TEST(ShardTest, SetExpiryAndRelinkKeepCountsAndChains) {
  Shard shard(0);
  for (int i = 0; i < 100; ++i) shard.Insert(Entry::CreateString(Key(i), "v", 0));
  Entry* e = shard.Find(Key(7), kNow);
  e = shard.SetExpiry(e, kNow + 50);
  EXPECT_EQ(shard.expires_count(), 1u);
  EXPECT_EQ(shard.Find(Key(7), kNow)->expire_at_ms(), kNow + 50);
  e = shard.Find(Key(7), kNow);
  e = shard.Relink(e, Entry::WithString(e, std::string(500, 'x')));  // moves
  EXPECT_EQ(Value(shard.Find(Key(7), kNow)), std::string(500, 'x'));
  EXPECT_EQ(shard.expires_count(), 1u);
  e = shard.SetExpiry(shard.Find(Key(7), kNow), 0);
  EXPECT_EQ(shard.expires_count(), 0u);
  EXPECT_FALSE(e->has_expiry());
  for (int i = 0; i < 100; ++i) ASSERT_NE(shard.Find(Key(i), kNow), nullptr);
  EXPECT_EQ(shard.size(), 100u);
}

TEST(ShardTest, ActiveExpireReclaimsDueKeysOnly) {
  Shard shard(0);
  std::vector<std::string> expired;
  shard.set_on_expired([&](std::string_view key) { expired.emplace_back(key); });
  shard.ActiveExpire(kNow, 1000);
  for (int i = 0; i < 1000; ++i) shard.Insert(Entry::CreateInt(Key(i), i, kNow + 1 + i));
  for (int i = 1000; i < 2000; ++i) shard.Insert(Entry::CreateInt(Key(i), i, 0));
  EXPECT_EQ(shard.ActiveExpire(kNow + 500, 100000), 500u);
  EXPECT_EQ(shard.size(), 1500u);
  EXPECT_EQ(shard.expires_count(), 500u);
  EXPECT_EQ(expired.size(), 500u);
  EXPECT_EQ(shard.stats().expired_keys, 500u);
  EXPECT_EQ(shard.ActiveExpire(kNow + 2000, 100000), 500u);
  EXPECT_EQ(shard.size(), 1000u);
  EXPECT_EQ(shard.expires_count(), 0u);
}

TEST(ShardTest, ActiveExpireFollowsChangedDeadlines) {
  Shard shard(0);
  shard.ActiveExpire(kNow, 1000);
  shard.Insert(Entry::CreateString("later", "v", kNow + 100));
  shard.Insert(Entry::CreateString("sooner", "v", kNow + 10000));
  shard.Insert(Entry::CreateString("persisted", "v", kNow + 100));
  shard.Insert(Entry::CreateString("deleted", "v", kNow + 100));
  shard.SetExpiry(shard.Find("later", kNow), kNow + 5000);
  shard.SetExpiry(shard.Find("sooner", kNow), kNow + 50);
  shard.SetExpiry(shard.Find("persisted", kNow), 0);
  shard.Erase("deleted", kNow);
  // Overwrite with a later TTL through Insert.
  shard.Insert(Entry::CreateString("replaced", "v", kNow + 100));
  shard.Insert(Entry::CreateString("replaced", "w", kNow + 7000));
  EXPECT_EQ(shard.ActiveExpire(kNow + 50, 1000), 1u);
  EXPECT_EQ(shard.Find("sooner", kNow + 50), nullptr);
  EXPECT_EQ(shard.ActiveExpire(kNow + 4999, 1000), 0u);
  EXPECT_EQ(shard.ActiveExpire(kNow + 5000, 1000), 1u);
  EXPECT_EQ(shard.ActiveExpire(kNow + 6999, 1000), 0u);
  EXPECT_EQ(shard.ActiveExpire(kNow + 7000, 1000), 1u);
  EXPECT_EQ(shard.ActiveExpire(kNow + 100000, 1000), 0u);
  EXPECT_EQ(shard.size(), 1u);  // "persisted"
}

TEST(ShardTest, ScanVisitsEveryKeyOnceWithoutResizes) {
  Shard shard(0);
  for (int i = 0; i < 1000; ++i) shard.Insert(Entry::CreateInt(Key(i), i, 0));
  std::multiset<std::string> seen;
  uint64_t cursor = 0;
  do {
    cursor =
        shard.Scan(cursor, 7, kNow, [&](const Entry& e) { seen.insert(std::string(e.key())); });
  } while (cursor != 0);
  EXPECT_EQ(seen.size(), 1000u);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 1000u);
}

TEST(ShardTest, ScanSkipsExpiredKeys) {
  Shard shard(0);
  shard.Insert(Entry::CreateString("dead", "v", kNow - 1));
  shard.Insert(Entry::CreateString("live", "v", kNow + 1));
  EXPECT_EQ(ScanAll(shard, 10, kNow), std::set<std::string>{"live"});
}

TEST(ShardTest, ScanReturnsEveryOriginalKeyWhileTheTableGrows) {
  Shard shard(0);
  std::set<std::string> originals;
  for (int i = 0; i < 500; ++i) {
    originals.insert(Key(i));
    shard.Insert(Entry::CreateInt(Key(i), i, 0));
  }
  int next = 1000000;
  const auto seen = ScanAll(shard, 5, kNow, [&] {
    // Grow until 30k keys (then stop, or the scan could never finish).
    for (int j = 0; j < 300 && shard.size() < 30000; ++j, ++next) {
      shard.Insert(Entry::CreateInt(Key(next), next, 0));
    }
  });
  for (const auto& k : originals) EXPECT_TRUE(seen.count(k)) << k;
  EXPECT_GT(shard.size(), 20000u);  // it did grow several times
}

TEST(ShardTest, ScanReturnsEveryOriginalKeyWhileTheTableShrinks) {
  Shard shard(0);
  std::set<std::string> originals;
  for (int i = 0; i < 200; ++i) {
    originals.insert(Key(i));
    shard.Insert(Entry::CreateInt(Key(i), i, 0));
  }
  std::vector<std::string> extra;
  for (int i = 1000; i < 40000; ++i) {
    extra.push_back(Key(i));
    shard.Insert(Entry::CreateInt(Key(i), i, 0));
  }
  const auto seen = ScanAll(shard, 50, kNow, [&] {
    for (int j = 0; j < 2000 && !extra.empty(); ++j) {
      shard.Erase(extra.back(), kNow);
      extra.pop_back();
    }
  });
  for (const auto& k : originals) EXPECT_TRUE(seen.count(k)) << k;
  EXPECT_EQ(shard.size(), 200u + extra.size());
}

TEST(ShardTest, ScanSurvivesRandomGrowAndShrinkBetweenCalls) {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 10; ++trial) {
    Shard shard(0);
    std::set<std::string> originals;
    for (int i = 0; i < 300; ++i) {
      originals.insert(Key(i));
      shard.Insert(Entry::CreateInt(Key(i), i, 0));
    }
    std::vector<std::string> extra;
    int next = 100000;
    const auto seen = ScanAll(shard, 1 + rng() % 20, kNow, [&] {
      const unsigned action = rng() % 8;
      if (action == 0) {
        const int n = rng() % 3000;
        for (int j = 0; j < n && shard.size() < 6000; ++j, ++next) {
          extra.push_back(Key(next));
          shard.Insert(Entry::CreateInt(Key(next), next, 0));
        }
      } else if (action == 1) {
        const size_t n = std::min<size_t>(extra.size(), rng() % 4000);
        for (size_t j = 0; j < n; ++j) {
          shard.Erase(extra.back(), kNow);
          extra.pop_back();
        }
      }
    });
    for (const auto& k : originals) ASSERT_TRUE(seen.count(k)) << "trial " << trial << " " << k;
  }
}

TEST(ShardTest, RandomReturnsLiveKeysAndCoversTheShard) {
  Shard shard(0);
  EXPECT_EQ(shard.Random(123, kNow), nullptr);
  for (int i = 0; i < 100; ++i) shard.Insert(Entry::CreateInt(Key(i), i, 0));
  shard.Insert(Entry::CreateString("dead", "v", kNow - 5));
  std::set<std::string> seen;
  std::mt19937_64 rng(5);
  for (int i = 0; i < 5000; ++i) {
    Entry* e = shard.Random(rng(), kNow);
    ASSERT_NE(e, nullptr);
    ASSERT_NE(e->key(), "dead");
    seen.insert(std::string(e->key()));
  }
  EXPECT_EQ(seen.size(), 100u);
  // Only expired keys left: nothing to return.
  Shard stale(1);
  stale.Insert(Entry::CreateString("x", "v", kNow - 1));
  EXPECT_EQ(stale.Random(1, kNow), nullptr);
}

TEST(ShardTest, ForEachClearAndSwapContents) {
  Shard a(0);
  Shard b(1);
  for (int i = 0; i < 10; ++i) a.Insert(Entry::CreateInt(Key(i), i, i % 2 ? kNow + 1000 : 0));
  b.Insert(Entry::CreateString("only-b", "v", 0));
  int visited = 0;
  a.ForEach(kNow, [&](const Entry&) { ++visited; });
  EXPECT_EQ(visited, 10);
  a.SwapContents(b);
  EXPECT_EQ(a.size(), 1u);
  EXPECT_EQ(b.size(), 10u);
  EXPECT_EQ(b.expires_count(), 5u);
  EXPECT_EQ(a.expires_count(), 0u);
  EXPECT_NE(a.Find("only-b", kNow), nullptr);
  // The swapped wheel still expires b's keys.
  EXPECT_EQ(b.ActiveExpire(kNow, 100), 0u);
  EXPECT_EQ(b.ActiveExpire(kNow + 1000, 100), 5u);
  b.Clear();
  EXPECT_EQ(b.size(), 0u);
  EXPECT_EQ(b.MemoryBytes(), 0u);
}

}  // namespace
}  // namespace sluice::storage
