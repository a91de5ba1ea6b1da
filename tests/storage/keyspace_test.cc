#include "storage/keyspace.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "storage/string_ops.h"

namespace sluice::storage {
namespace {

constexpr int64_t kNow = 1'700'000'000'000;

std::string Key(int i) { return "key:" + std::to_string(i); }

void Put(Database& db, const std::string& key, int64_t value, int64_t expire_at_ms = 0) {
  Shard& shard = db.ShardFor(key);
  std::lock_guard<ShardMutex> lock(shard.mu());
  shard.Insert(Entry::CreateInt(key, value, expire_at_ms));
}

bool Has(Database& db, const std::string& key) {
  Shard& shard = db.ShardFor(key);
  std::lock_guard<ShardMutex> lock(shard.mu());
  return shard.Find(key, kNow) != nullptr;
}

TEST(KeyspaceTest, ShardOrdersAndDatabases) {
  Keyspace ks(4, 8);
  EXPECT_EQ(ks.database_count(), 4u);
  EXPECT_EQ(ks.shards_per_db(), 8u);
  for (uint32_t i = 0; i < 4; ++i) {
    for (uint32_t j = 0; j < 8; ++j) EXPECT_EQ(ks.db(i).shard(j).order(), i * 8 + j);
  }
  Put(ks.db(0), "a", 1);
  Put(ks.db(1), "a", 2);
  EXPECT_EQ(ks.db(0).Size(), 1u);
  EXPECT_EQ(ks.db(1).Size(), 1u);
  EXPECT_EQ(ks.db(2).Size(), 0u);
  EXPECT_EQ(ks.db(0).ShardIndex("a"), KeyHash("a") & 7);
}

TEST(KeyspaceTest, FlushDbAndFlushAll) {
  Keyspace ks(3, 4);
  for (size_t d = 0; d < 3; ++d) {
    for (int i = 0; i < 1000; ++i) Put(ks.db(d), Key(i), i, i % 2 ? kNow + 100000 : 0);
  }
  EXPECT_EQ(ks.db(1).ExpiresCount(), 500u);
  ks.FlushDb(1, /*async=*/false);
  EXPECT_EQ(ks.db(1).Size(), 0u);
  EXPECT_EQ(ks.db(1).ExpiresCount(), 0u);
  EXPECT_EQ(ks.db(0).Size(), 1000u);
  ks.FlushAll(/*async=*/true);
  // Empty as soon as the call returns; the memory goes away in the background.
  for (size_t d = 0; d < 3; ++d) EXPECT_EQ(ks.db(d).Size(), 0u);
  Put(ks.db(0), "after", 1);
  ks.WaitForAsyncFrees();
  EXPECT_EQ(ks.async_frees_in_flight(), 0u);
  EXPECT_EQ(ks.db(0).Size(), 1u);
  // The emptied shards still expire new keys.
  Put(ks.db(2), "ttl", 1, kNow + 10);
  ks.ActiveExpire(0, 4, kNow, 100);
  EXPECT_EQ(ks.ActiveExpire(0, 4, kNow + 10, 100), 1u);
}

TEST(KeyspaceTest, SwapDatabases) {
  Keyspace ks(2, 4);
  for (int i = 0; i < 100; ++i) Put(ks.db(0), Key(i), i, kNow + 50);
  Put(ks.db(1), "only-in-1", 7);
  ks.SwapDatabases(0, 1);
  EXPECT_EQ(ks.db(0).Size(), 1u);
  EXPECT_EQ(ks.db(1).Size(), 100u);
  EXPECT_EQ(ks.db(1).ExpiresCount(), 100u);
  EXPECT_TRUE(Has(ks.db(0), "only-in-1"));
  EXPECT_TRUE(Has(ks.db(1), Key(3)));
  ks.SwapDatabases(1, 1);  // no-op
  EXPECT_EQ(ks.ActiveExpire(0, 4, kNow + 50, 1000), 100u);
  EXPECT_EQ(ks.db(1).Size(), 0u);
}

TEST(KeyspaceTest, ScanCoversAllShards) {
  Keyspace ks(1, 16);
  Database& db = ks.db(0);
  for (int i = 0; i < 5000; ++i) Put(db, Key(i), i);
  for (size_t count : {1, 10, 100, 100000}) {
    std::multiset<std::string> seen;
    uint64_t cursor = 0;
    size_t calls = 0;
    do {
      cursor =
          db.Scan(cursor, count, kNow, [&](const Entry& e) { seen.insert(std::string(e.key())); });
      ++calls;
    } while (cursor != 0);
    EXPECT_EQ(seen.size(), 5000u) << count;
    EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 5000u);
    if (count == 100000) {
      EXPECT_EQ(calls, 1u);
    }
  }
}

TEST(KeyspaceTest, ScanWhileGrowingAcrossShards) {
  Keyspace ks(1, 4);
  Database& db = ks.db(0);
  std::set<std::string> originals;
  for (int i = 0; i < 400; ++i) {
    originals.insert(Key(i));
    Put(db, Key(i), i);
  }
  std::set<std::string> seen;
  uint64_t cursor = 0;
  int next = 100000;
  do {
    cursor = db.Scan(cursor, 10, kNow, [&](const Entry& e) { seen.insert(std::string(e.key())); });
    for (int j = 0; j < 50 && db.Size() < 20000; ++j, ++next) Put(db, Key(next), next);
  } while (cursor != 0);
  for (const auto& k : originals) EXPECT_TRUE(seen.count(k)) << k;
}

TEST(KeyspaceTest, MultiLockKeepsIncrementsExact) {
  Keyspace ks(1, 8);
  Database& db = ks.db(0);
  const std::vector<std::string> keys = {"a", "b", "c", "d", "e", "f", "g", "h"};
  constexpr int kThreads = 4;
  constexpr int kRounds = 2000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t);
      for (int r = 0; r < kRounds; ++r) {
        // Move one unit from one key to another, under both shard locks,
        // naming the shards in random order (MultiLock sorts them).
        const std::string& from = keys[rng() % keys.size()];
        const std::string& to = keys[rng() % keys.size()];
        Shard& a = db.ShardFor(from);
        Shard& b = db.ShardFor(to);
        MultiLock lock(rng() % 2 ? std::vector<Shard*>{&a, &b} : std::vector<Shard*>{&b, &a});
        ASSERT_TRUE(IncrementBy(a, from, -1, kNow).ok());
        ASSERT_TRUE(IncrementBy(b, to, 1, kNow).ok());
        ASSERT_TRUE(IncrementBy(b, "total", 1, kNow).ok());
      }
    });
  }
  // A concurrent SWAPDB-style all-shard lock and stats readers.
  std::atomic<bool> done{false};
  std::thread reader([&] {
    while (!done.load()) {
      std::vector<Shard*> all;
      for (size_t j = 0; j < db.shard_count(); ++j) all.push_back(&db.shard(j));
      std::reverse(all.begin(), all.end());
      MultiLock lock(all);
      int64_t sum = 0;
      for (const auto& k : keys) {
        Entry* e = db.ShardFor(k).Find(k, kNow);
        if (e != nullptr) sum += e->int_value();
      }
      ASSERT_EQ(sum, 0);  // transfers are atomic across shards
    }
  });
  for (auto& t : threads) t.join();
  done = true;
  reader.join();
  int64_t sum = 0;
  for (const auto& k : keys) {
    Shard& s = db.ShardFor(k);
    std::lock_guard<ShardMutex> lock(s.mu());
    Entry* e = s.Find(k, kNow);
    if (e != nullptr) sum += e->int_value();
  }
  EXPECT_EQ(sum, 0);
  int64_t total = 0;
  for (size_t j = 0; j < db.shard_count(); ++j) {
    Shard& s = db.shard(j);
    std::lock_guard<ShardMutex> lock(s.mu());
    if (Entry* e = s.Find("total", kNow)) total += e->int_value();
  }
  EXPECT_EQ(total, kThreads * kRounds);
}

TEST(KeyspaceTest, ConcurrentCountersAcrossShards) {
  Keyspace ks(2, 8);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 5000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        Database& db = ks.db(i % 2);
        const std::string key = "counter:" + std::to_string(i % 37);
        Shard& s = db.ShardFor(key);
        std::lock_guard<ShardMutex> lock(s.mu());
        ASSERT_TRUE(IncrementBy(s, key, 1, kNow).ok());
      }
      if (t == 0) ks.ActiveExpire(0, 8, kNow, 100);
    });
  }
  for (auto& t : threads) t.join();
  int64_t total = 0;
  for (size_t d = 0; d < 2; ++d) {
    for (int k = 0; k < 37; ++k) {
      const std::string key = "counter:" + std::to_string(k);
      Shard& s = ks.db(d).ShardFor(key);
      std::lock_guard<ShardMutex> lock(s.mu());
      if (Entry* e = s.Find(key, kNow)) total += e->int_value();
    }
  }
  EXPECT_EQ(total, kThreads * kPerThread);
}

TEST(KeyspaceTest, StatsAndMemory) {
  Keyspace ks(2, 2);
  Put(ks.db(0), "a", 1, kNow + 1);
  {
    Shard& s = ks.db(0).ShardFor("a");
    std::lock_guard<ShardMutex> lock(s.mu());
    EXPECT_NE(s.FindForRead("a", kNow), nullptr);
    EXPECT_EQ(s.FindForRead("zz", kNow), nullptr);
    EXPECT_EQ(s.FindForRead("a", kNow + 1), nullptr);
  }
  ShardStats stats = ks.TotalStats();
  EXPECT_EQ(stats.keyspace_hits, 1u);
  EXPECT_EQ(stats.keyspace_misses, 2u);
  EXPECT_EQ(stats.expired_keys, 1u);
  ks.ResetStats();
  EXPECT_EQ(ks.TotalStats().keyspace_misses, 0u);
  const size_t empty = ks.MemoryBytes();
  for (int i = 0; i < 100; ++i) Put(ks.db(1), Key(i), i);
  EXPECT_GT(ks.MemoryBytes(), empty + 100 * 20);
}

// 100k keys expiring over ~10 s among 1M keys with long TTLs, on 4 shards,
// ActiveExpire every 10 ms with 2000 records per shard: every short key is
// reclaimed within 2 s of its deadline, even while the long keys' coarse slot
// (a quarter million records per shard) cascades in the middle of the run.
TEST(KeyspaceTest, ActiveExpireKeepsUpWithManyKeys) {
  Keyspace ks(1, 4);
  Database& db = ks.db(0);
  constexpr int64_t kLevel3 = int64_t{1} << 20;  // width of a level-3 slot
  const int64_t boundary = ((kNow >> 20) + 2) << 20;
  int64_t now = boundary - kLevel3 + 1000;
  int64_t max_late = 0;
  size_t reclaimed_short = 0;
  size_t reclaimed_long = 0;
  std::vector<int64_t> deadlines;
  for (size_t j = 0; j < db.shard_count(); ++j) {
    db.shard(j).set_on_expired([&](std::string_view key) {
      if (key.substr(0, 5) == "long:") {
        ++reclaimed_long;
        return;
      }
      ++reclaimed_short;
      ASSERT_EQ(key.substr(0, 6), "short:");
      const int64_t deadline = deadlines[std::stoi(std::string(key.substr(6)))];
      ASSERT_LE(deadline, now);
      max_late = std::max(max_late, now - deadline);
    });
  }
  ks.ActiveExpire(0, 4, now, 2000);
  std::mt19937_64 rng(1);
  constexpr int kLong = 1'000'000;
  constexpr int kShort = 100'000;
  // Long keys: due over the 17.5 minutes after `boundary`, filed in the
  // level-3 slot that cascades at `boundary`.
  std::vector<int64_t> long_deadlines(kLong);
  for (int i = 0; i < kLong; ++i) {
    long_deadlines[i] = boundary + static_cast<int64_t>(rng() % kLevel3);
    Put(db, "long:" + std::to_string(i), i, long_deadlines[i]);
  }
  now = boundary - 3000;
  ks.ActiveExpire(0, 4, now, 2000);
  deadlines.resize(kShort);
  for (int i = 0; i < kShort; ++i) {
    deadlines[i] = now + 1 + static_cast<int64_t>(rng() % 10'000);
    Put(db, "short:" + std::to_string(i), i, deadlines[i]);
  }
  const int64_t end = now + 15'000;
  while (now < end) {
    now += 10;
    ks.ActiveExpire(0, 4, now, 2000);
  }
  EXPECT_EQ(reclaimed_short, static_cast<size_t>(kShort));
  EXPECT_LT(max_late, 2000);
  std::printf("max lateness of active expiry: %lld ms; long keys reclaimed so far: %zu\n",
              static_cast<long long>(max_late), reclaimed_long);
  // Long keys due more than 2 s ago are all gone too (checked by count).
  const size_t long_due = std::count_if(long_deadlines.begin(), long_deadlines.end(),
                                        [&](int64_t d) { return d <= now - 2000; });
  EXPECT_GE(reclaimed_long, long_due);
  EXPECT_GT(long_due, 0u);
  EXPECT_EQ(db.Size(), static_cast<size_t>(kLong) - reclaimed_long);
}

}  // namespace
}  // namespace sluice::storage
