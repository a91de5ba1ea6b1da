// The shard's watch registry (WATCH): which changes set a watcher's flag,
// which do not, and that registrations are dropped once used.

#include <memory>
#include <mutex>
#include <string>

#include "gtest/gtest.h"
#include "storage/keyspace.h"
#include "storage/string_ops.h"

namespace sluice::storage {
namespace {

constexpr int64_t kNow = 1'700'000'000'000;

std::shared_ptr<WatchFlag> NewFlag() { return std::make_shared<WatchFlag>(false); }

bool IsSet(const std::shared_ptr<WatchFlag>& flag) { return flag->load(); }

class WatchTest : public ::testing::Test {
 protected:
  Shard shard_{0};
};

TEST_F(WatchTest, InsertSetsTheFlagAndDropsTheRegistration) {
  auto flag = NewFlag();
  shard_.Watch("k", flag);
  EXPECT_EQ(shard_.watched_key_count(), 1u);
  shard_.Insert(Entry::CreateInt("other", 1, 0));
  EXPECT_FALSE(IsSet(flag));
  shard_.Insert(Entry::CreateInt("k", 1, 0));
  EXPECT_TRUE(IsSet(flag));
  EXPECT_EQ(shard_.watched_key_count(), 0u);
}

TEST_F(WatchTest, ReadsAreNotChanges) {
  shard_.Insert(Entry::CreateInt("k", 1, kNow + 10'000));
  auto flag = NewFlag();
  shard_.Watch("k", flag);
  EXPECT_NE(shard_.Find("k", kNow), nullptr);
  EXPECT_NE(shard_.FindForRead("k", kNow), nullptr);
  EXPECT_EQ(shard_.Find("absent", kNow), nullptr);
  shard_.ForEach(kNow, [](const Entry&) {});
  EXPECT_FALSE(IsSet(flag));
}

TEST_F(WatchTest, DeletingAnAbsentKeyIsNoChange) {
  auto flag = NewFlag();
  shard_.Watch("k", flag);
  EXPECT_FALSE(shard_.Erase("k", kNow));
  EXPECT_EQ(shard_.Detach("k", kNow), nullptr);
  EXPECT_FALSE(IsSet(flag));
  EXPECT_EQ(shard_.watched_key_count(), 1u);
}

TEST_F(WatchTest, EraseAndDetachAreChanges) {
  shard_.Insert(Entry::CreateInt("a", 1, 0));
  shard_.Insert(Entry::CreateInt("b", 1, 0));
  auto fa = NewFlag(), fb = NewFlag();
  shard_.Watch("a", fa);
  shard_.Watch("b", fb);
  EXPECT_TRUE(shard_.Erase("a", kNow));
  EXPECT_TRUE(IsSet(fa));
  EXPECT_FALSE(IsSet(fb));
  Entry::Destroy(shard_.Detach("b", kNow));
  EXPECT_TRUE(IsSet(fb));
}

TEST_F(WatchTest, ValueAndExpiryUpdatesAreChanges) {
  {
    auto flag = NewFlag();
    shard_.Watch("n", flag);
    ASSERT_EQ(IncrementBy(shard_, "n", 1, kNow).status, Status::kOk);  // creates
    EXPECT_TRUE(IsSet(flag));
  }
  {
    auto flag = NewFlag();
    shard_.Watch("n", flag);
    ASSERT_EQ(IncrementBy(shard_, "n", 1, kNow).status, Status::kOk);  // Relink
    EXPECT_TRUE(IsSet(flag));
  }
  {
    auto flag = NewFlag();
    shard_.Watch("n", flag);
    ASSERT_EQ(AppendString(shard_, "n", "x", kNow).status, Status::kOk);
    EXPECT_TRUE(IsSet(flag));
  }
  {
    auto flag = NewFlag();
    shard_.Watch("n", flag);
    shard_.SetExpiry(shard_.Find("n", kNow), kNow + 5000);
    EXPECT_TRUE(IsSet(flag));
  }
  {
    auto flag = NewFlag();
    shard_.Watch("n", flag);
    shard_.SetExpiry(shard_.Find("n", kNow), 0);  // PERSIST
    EXPECT_TRUE(IsSet(flag));
  }
}

TEST_F(WatchTest, LazyExpiryIsAChange) {
  shard_.Insert(Entry::CreateInt("k", 1, kNow + 100));
  auto flag = NewFlag();
  shard_.Watch("k", flag);
  EXPECT_NE(shard_.Find("k", kNow + 99), nullptr);
  EXPECT_FALSE(IsSet(flag));
  EXPECT_EQ(shard_.Find("k", kNow + 100), nullptr);
  EXPECT_TRUE(IsSet(flag));
}

TEST_F(WatchTest, ActiveExpiryIsAChange) {
  shard_.Insert(Entry::CreateInt("k", 1, kNow + 100));
  auto flag = NewFlag();
  shard_.Watch("k", flag);
  EXPECT_EQ(shard_.ActiveExpire(kNow + 50, 1000), 0u);
  EXPECT_FALSE(IsSet(flag));
  EXPECT_EQ(shard_.ActiveExpire(kNow + 10'000, 1000), 1u);
  EXPECT_TRUE(IsSet(flag));
}

TEST_F(WatchTest, EveryWatcherIsToldAndUnwatchRemovesOne) {
  auto f1 = NewFlag(), f2 = NewFlag(), f3 = NewFlag();
  shard_.Watch("k", f1);
  shard_.Watch("k", f2);
  shard_.Watch("k", f3);
  shard_.Watch("k", f3);  // the same flag twice is one registration
  shard_.Unwatch("k", f2.get());
  shard_.Unwatch("k", f2.get());     // already gone: no effect
  shard_.Unwatch("nope", f1.get());  // never watched: no effect
  shard_.Insert(Entry::CreateInt("k", 1, 0));
  EXPECT_TRUE(IsSet(f1));
  EXPECT_FALSE(IsSet(f2));
  EXPECT_TRUE(IsSet(f3));
  EXPECT_EQ(shard_.watched_key_count(), 0u);
  // The flags' owners may unwatch after the registration was used.
  shard_.Unwatch("k", f1.get());
  EXPECT_EQ(shard_.watched_key_count(), 0u);
}

TEST_F(WatchTest, UnwatchingTheLastWatcherForgetsTheKey) {
  auto flag = NewFlag();
  shard_.Watch("k", flag);
  shard_.Unwatch("k", flag.get());
  EXPECT_EQ(shard_.watched_key_count(), 0u);
  shard_.Insert(Entry::CreateInt("k", 1, 0));
  EXPECT_FALSE(IsSet(flag));
}

TEST_F(WatchTest, ClearChangesOnlyKeysThatExisted) {
  shard_.Insert(Entry::CreateInt("present", 1, 0));
  auto present = NewFlag(), absent = NewFlag();
  shard_.Watch("present", present);
  shard_.Watch("absent", absent);
  shard_.Clear();
  EXPECT_TRUE(IsSet(present));
  EXPECT_FALSE(IsSet(absent));
  EXPECT_EQ(shard_.watched_key_count(), 1u);
}

TEST_F(WatchTest, SwapChangesKeysPresentOnEitherSideAndKeepsRegistries) {
  Shard other(1);
  shard_.Insert(Entry::CreateInt("here", 1, 0));
  other.Insert(Entry::CreateInt("there", 1, 0));
  auto here = NewFlag(), there = NewFlag(), nowhere = NewFlag(), other_side = NewFlag();
  shard_.Watch("here", here);
  shard_.Watch("there", there);
  shard_.Watch("nowhere", nowhere);
  other.Watch("here", other_side);
  shard_.SwapContents(other);
  EXPECT_TRUE(IsSet(here));
  EXPECT_TRUE(IsSet(there));
  EXPECT_FALSE(IsSet(nowhere));
  EXPECT_TRUE(IsSet(other_side));
  // The registry stays with the shard, not with the contents.
  EXPECT_EQ(shard_.watched_key_count(), 1u);
  EXPECT_EQ(other.watched_key_count(), 0u);
  other.Insert(Entry::CreateInt("nowhere", 1, 0));
  EXPECT_FALSE(IsSet(nowhere));
  shard_.Insert(Entry::CreateInt("nowhere", 1, 0));
  EXPECT_TRUE(IsSet(nowhere));
}

TEST(KeyspaceWatchTest, FlushesAndSwapDbChangeWatchedKeys) {
  Keyspace ks(2, 4);
  auto watch = [&](size_t db, const std::string& key) {
    auto flag = NewFlag();
    Shard& s = ks.db(db).ShardFor(key);
    std::lock_guard<ShardMutex> lock(s.mu());
    s.Watch(key, flag);
    return flag;
  };
  auto put = [&](size_t db, const std::string& key) {
    Shard& s = ks.db(db).ShardFor(key);
    std::lock_guard<ShardMutex> lock(s.mu());
    s.Insert(Entry::CreateInt(key, 1, 0));
  };
  put(0, "a");
  auto a = watch(0, "a");
  ks.FlushDb(0, /*async=*/false);
  EXPECT_TRUE(IsSet(a));

  put(0, "b");
  auto b = watch(0, "b");
  ks.FlushDb(0, /*async=*/true);
  ks.WaitForAsyncFrees();
  EXPECT_TRUE(IsSet(b));

  put(1, "c");
  auto c = watch(0, "c");
  auto d = watch(0, "d");
  ks.SwapDatabases(0, 1);
  EXPECT_TRUE(IsSet(c));
  EXPECT_FALSE(IsSet(d));
}


}  // namespace
}  // namespace sluice::storage
