// Shard behaviour while its key table is in the middle of a resize: lookups,
// replacement by address (Relink, SetExpiry), active expiry in both bucket
// arrays, background rehashing from ActiveExpire, SCAN, Random, ForEach,
// SwapContents, Clear and MemoryBytes.

#include <random>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "storage/hash_table.h"
#include "storage/shard.h"

namespace sluice::storage {
namespace {

constexpr int64_t kNow = 1'700'000'000'000;

std::string Key(int i) { return "key:" + std::to_string(i); }

std::string Value(const Entry* e) {
  std::string scratch;
  return std::string(e->string_value(&scratch));
}

void FinishResize(Shard& shard) {
  // ActiveExpire's background step; kNow keeps anything from expiring.
  for (int i = 0; i < 1'000'000 && shard.rehashing(); ++i) shard.ActiveExpire(kNow, 1);
  ASSERT_FALSE(shard.rehashing());
}

// Inserts Key(0) ... Key(2^16) with the given deadline: the table fills 2^16
// buckets, and the last insert starts the growth to 2^17. Returns the count.
int FillToResize(Shard& shard, int64_t expire_at_ms = 0) {
  constexpr int kBuckets = 1 << 16;
  for (int i = 0; i < kBuckets; ++i) shard.Insert(Entry::CreateInt(Key(i), i, expire_at_ms));
  FinishResize(shard);
  EXPECT_FALSE(shard.rehashing());
  shard.Insert(Entry::CreateInt(Key(kBuckets), kBuckets, expire_at_ms));
  EXPECT_TRUE(shard.rehashing());
  return kBuckets + 1;
}

TEST(ShardRehashTest, ActiveExpireFinishesAResizeOnAnIdleShard) {
  Shard shard(0);
  shard.ActiveExpire(kNow, 1);
  const int n = FillToResize(shard);
  int ticks = 0;
  while (shard.rehashing()) {
    shard.ActiveExpire(kNow, 1);
    ASSERT_LT(++ticks, 100'000);
  }
  // 65,536 entries at kActiveRehashMoves per tick.
  const int expected = (1 << 16) / static_cast<int>(Shard::kActiveRehashMoves);
  EXPECT_LE(ticks, expected + 1);
  EXPECT_GE(ticks, expected - 1);
  for (int i = 0; i < n; ++i) ASSERT_NE(shard.Find(Key(i), kNow), nullptr) << i;
  EXPECT_EQ(shard.size(), static_cast<size_t>(n));
}

// The timer wheel's records name a bucket hash; mid-resize the keys of that
// hash can be in either array, and active expiry must find them in both.
// Lookups between ticks count towards the tick's share: when they already
// moved kActiveRehashMoves entries, the tick adds nothing, so the resize takes
// as many ticks as on an idle shard (not half as many).
TEST(ShardRehashTest, ActiveExpireOnlyTopsUpTheWorkOfLookups) {
  Shard shard(0);
  shard.ActiveExpire(kNow, 1);
  const int n = FillToResize(shard);
  shard.ActiveExpire(kNow, 1);
  const int finds = static_cast<int>(Shard::kActiveRehashMoves / HashTable::kMovesPerOperation);
  int ticks = 0;
  int next = 0;
  while (shard.rehashing()) {
    for (int i = 0; i < finds; ++i) ASSERT_NE(shard.Find(Key(next++ % n), kNow), nullptr);
    shard.ActiveExpire(kNow, 1);
    ASSERT_LT(++ticks, 100'000);
  }
  const int expected = (1 << 16) / static_cast<int>(Shard::kActiveRehashMoves);
  EXPECT_GE(ticks, expected - 2);
  EXPECT_LE(ticks, expected + 1);
}

TEST(ShardRehashTest, ActiveExpireReclaimsKeysInBothArrays) {
  Shard shard(0);
  size_t notified = 0;
  shard.set_on_expired([&](std::string_view) { ++notified; });
  shard.ActiveExpire(kNow, 1);  // anchors the wheel
  // Every other key has a TTL; the last insert starts a resize, so nearly
  // all of them are still in the old array.
  constexpr int kBuckets = 1 << 16;
  for (int k = 0; k < kBuckets; ++k) {
    shard.Insert(Entry::CreateInt(Key(k), k, k % 2 ? kNow + 100 : 0));
  }
  FinishResize(shard);
  shard.Insert(Entry::CreateInt(Key(kBuckets), kBuckets, 0));
  const int i = kBuckets + 1;
  const size_t with_ttl = shard.expires_count();
  ASSERT_EQ(with_ttl, static_cast<size_t>(kBuckets / 2));
  ASSERT_TRUE(shard.rehashing());
  EXPECT_EQ(shard.ActiveExpire(kNow + 200, 1'000'000), with_ttl);
  EXPECT_EQ(notified, with_ttl);
  EXPECT_EQ(shard.size(), static_cast<size_t>(i) - with_ttl);
  EXPECT_EQ(shard.expires_count(), 0u);
  EXPECT_EQ(shard.stats().expired_keys, with_ttl);
  FinishResize(shard);
  for (int k = 0; k < i; ++k) ASSERT_EQ(shard.Find(Key(k), kNow + 200) != nullptr, k % 2 == 0);
}

// A command may hold an entry from Find() while it looks up other keys (each
// lookup moves entries between the arrays) and then replace it by address.
// Rehashing relinks entries without reallocating them, so the held address is
// still the linked one.
TEST(ShardRehashTest, RelinkAndSetExpiryMidResize) {
  std::mt19937 rng(3);
  Shard shard(0);
  const int n = FillToResize(shard);
  ASSERT_TRUE(shard.rehashing());
  int changed = 0;
  for (int i = 0; i < n && shard.rehashing(); i += 3, ++changed) {
    Entry* e = shard.Find(Key(i), kNow);
    ASSERT_NE(e, nullptr);
    for (int k = 0; k < 5; ++k) shard.Find(Key(rng() % n), kNow);
    Entry* updated = shard.Relink(e, Entry::WithString(e, "relinked:" + std::to_string(i)));
    for (int k = 0; k < 5; ++k) shard.Find(Key(rng() % n), kNow);
    updated = shard.SetExpiry(updated, kNow + 1'000'000 + i);
    ASSERT_EQ(shard.Find(Key(i), kNow), updated);
  }
  EXPECT_GT(changed, 1000);
  FinishResize(shard);
  for (int i = 0; i < n; ++i) {
    const Entry* e = shard.Find(Key(i), kNow);
    ASSERT_NE(e, nullptr);
    if (i % 3 == 0 && i / 3 < changed) {
      EXPECT_EQ(Value(e), "relinked:" + std::to_string(i));
      EXPECT_EQ(e->expire_at_ms(), kNow + 1'000'000 + i);
    } else {
      EXPECT_EQ(e->int_value(), i);
    }
  }
  EXPECT_EQ(shard.expires_count(), static_cast<size_t>(changed));
}

TEST(ShardRehashTest, ForEachAndRandomSeeBothArrays) {
  Shard shard(0);
  const int n = FillToResize(shard);
  ASSERT_TRUE(shard.rehashing());
  std::multiset<std::string> all;
  shard.ForEach(kNow, [&](const Entry& e) { all.insert(std::string(e.key())); });
  EXPECT_EQ(all.size(), static_cast<size_t>(n));
  EXPECT_EQ(std::set<std::string>(all.begin(), all.end()).size(), static_cast<size_t>(n));
  // Random() moves nothing, so all of this happens mid-resize; keys in the old
  // array (most of them, this early) and in the new one both come up.
  std::mt19937_64 rng(7);
  std::set<std::string> seen;
  for (int i = 0; i < 20 * n; ++i) {
    Entry* e = shard.Random(rng(), kNow);
    ASSERT_NE(e, nullptr);
    seen.insert(std::string(e->key()));
  }
  EXPECT_TRUE(shard.rehashing());
  EXPECT_GT(seen.size(), static_cast<size_t>(n) * 99 / 100);
}

// MemoryBytes counts both bucket arrays: finishing the resize frees the old
// one and nothing else changes.
TEST(ShardRehashTest, MemoryBytesCountsBothArrays) {
  Shard shard(0);
  FillToResize(shard);
  ASSERT_TRUE(shard.rehashing());
  const size_t mid = shard.MemoryBytes();
  FinishResize(shard);
  const size_t after = shard.MemoryBytes();
  // Growing 2^16 -> 2^17 buckets: the old array is 2^16 pointers.
  EXPECT_EQ(mid - after, (size_t{1} << 16) * sizeof(Entry*));
}

TEST(ShardRehashTest, SwapContentsAndClearMidResize) {
  Shard a(0);
  Shard b(1);
  const int n = FillToResize(a, kNow + 1000);
  b.Insert(Entry::CreateString("only-b", "v", 0));
  ASSERT_TRUE(a.rehashing());
  a.SwapContents(b);
  EXPECT_FALSE(a.rehashing());
  EXPECT_TRUE(b.rehashing());
  EXPECT_EQ(b.size(), static_cast<size_t>(n));
  EXPECT_EQ(b.expires_count(), static_cast<size_t>(n));
  EXPECT_NE(a.Find("only-b", kNow), nullptr);
  for (int i = 0; i < n; i += 7) ASSERT_NE(b.Find(Key(i), kNow), nullptr);
  // The swapped wheel expires b's keys wherever they are.
  EXPECT_TRUE(b.rehashing());
  EXPECT_EQ(b.ActiveExpire(kNow, 1'000'000), 0u);
  EXPECT_EQ(b.ActiveExpire(kNow + 1000, 1'000'000), static_cast<size_t>(n));
  EXPECT_EQ(b.size(), 0u);
  // Clear in the middle of a resize (LeakSanitizer checks the entries).
  Shard c(2);
  FillToResize(c);
  ASSERT_TRUE(c.rehashing());
  c.Clear();
  EXPECT_FALSE(c.rehashing());
  EXPECT_EQ(c.size(), 0u);
  EXPECT_EQ(c.MemoryBytes(), 0u);
  c.Insert(Entry::CreateString("again", "v", 0));
  EXPECT_NE(c.Find("again", kNow), nullptr);
}

// SCAN through the shard with its COUNT, while inserts, erases, lazy and
// active expiry and background rehash steps happen between calls: every key
// present (and not expiring) for the whole iteration is returned.
TEST(ShardRehashTest, ScanAcrossGrowShrinkAndBackgroundSteps) {
  size_t mid_resize_calls = 0;
  for (uint32_t seed = 1; seed <= 60; ++seed) {
    std::mt19937 rng(seed);
    Shard shard(0);
    int64_t now = kNow;
    shard.ActiveExpire(now, 1);
    std::vector<std::string> stable;
    for (int i = 0; i < 200; ++i) {
      stable.push_back(Key(i));
      shard.Insert(Entry::CreateInt(Key(i), i, 0));
    }
    std::vector<std::string> extra;
    int next = 1'000'000;
    const int prefill = static_cast<int>(rng() % 30'000);
    for (int i = 0; i < prefill; ++i, ++next) {
      extra.push_back(Key(next));
      // Some short-lived keys, which active and lazy expiry reclaim meanwhile.
      shard.Insert(Entry::CreateInt(Key(next), next, rng() % 4 == 0 ? now + rng() % 5000 : 0));
    }
    std::set<std::string> seen;
    uint64_t cursor = 0;
    const size_t count = 1 + rng() % 50;
    do {
      mid_resize_calls += shard.rehashing();
      cursor = shard.Scan(cursor, count, now,
                          [&](const Entry& e) { seen.insert(std::string(e.key())); });
      const unsigned action = rng() % 10;
      if (action < 4) {
        const int k = static_cast<int>(rng() % 200);
        for (int j = 0; j < k && shard.size() < 60'000; ++j, ++next) {
          extra.push_back(Key(next));
          shard.Insert(Entry::CreateInt(Key(next), next, 0));
        }
      } else if (action < 9) {
        const size_t k = std::min<size_t>(extra.size(), rng() % 300);
        for (size_t j = 0; j < k; ++j) {
          const size_t pick = rng() % extra.size();
          shard.Erase(extra[pick], now);
          extra[pick] = extra.back();
          extra.pop_back();
        }
      } else {
        now += rng() % 100;
        shard.ActiveExpire(now, 100);
      }
    } while (cursor != 0);
    for (const auto& k : stable) ASSERT_TRUE(seen.count(k)) << "seed " << seed << " " << k;
  }
  EXPECT_GT(mid_resize_calls, 200u);
  std::printf("shard scan calls made mid-resize: %zu\n", mid_resize_calls);
}

}  // namespace
}  // namespace sluice::storage
