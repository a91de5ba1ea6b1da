// Point-in-time snapshots of shards (storage/snapshot_sink.h): whatever
// happens to the keys while the walk runs — writes, deletes, renames,
// expiry, eviction, flushes, SWAPDB, a concurrent writer thread — the sink
// receives exactly the entries of the instant the snapshot began, once each.

#include <atomic>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "storage/hash_ops.h"
#include "storage/keyspace.h"
#include "storage/shard.h"
#include "storage/string_ops.h"

namespace sluice::storage {
namespace {

constexpr int64_t kNow = 1'700'000'000'000;

struct Saved {
  std::string value;
  int64_t expire_at_ms = 0;
  bool operator==(const Saved&) const = default;
};
using Contents = std::map<std::string, Saved>;

// Records what it is given; a second Save of one key is a failure.
class RecordingSink : public SnapshotSink {
 public:
  void Save(const Entry& e) override {
    std::string scratch;
    const auto [it, fresh] = saved.try_emplace(
        std::string(e.key()), Saved{std::string(e.string_value(&scratch)), e.expire_at_ms()});
    if (!fresh) ++duplicates;
  }
  Contents saved;
  int duplicates = 0;
};

// The shard's live contents now.
Contents Capture(Shard& shard, int64_t now_ms = kNow) {
  Contents out;
  shard.ForEach(now_ms, [&](const Entry& e) {
    std::string scratch;
    out[std::string(e.key())] = Saved{std::string(e.string_value(&scratch)), e.expire_at_ms()};
  });
  return out;
}

std::string Key(int i) { return "key:" + std::to_string(i); }

void Fill(Shard& shard, int n, int64_t expire_at_ms = 0) {
  for (int i = 0; i < n; ++i) {
    shard.Insert(Entry::CreateString(Key(i), "v" + std::to_string(i), expire_at_ms));
  }
}

void Replace(Shard& shard, std::string_view key, std::string_view value) {
  Entry* e = shard.Find(key, kNow);
  ASSERT_NE(e, nullptr) << key;
  shard.Update(e, [&](Entry* x) { return Entry::WithString(x, value); });
}

// Steps the walk to its end, calling `between` after every step.
void Walk(Shard& shard, size_t step, const std::function<void(int)>& between = nullptr) {
  int n = 0;
  while (!shard.SnapshotStep(step)) {
    if (between) between(n++);
  }
  EXPECT_FALSE(shard.snapshot_running());
}

TEST(SnapshotTest, WalkSavesEveryEntryOnce) {
  Shard shard(0);
  Fill(shard, 5000);
  const Contents at_t = Capture(shard);
  RecordingSink sink;
  shard.BeginSnapshot(&sink);
  EXPECT_TRUE(shard.snapshot_running());
  Walk(shard, 64);
  EXPECT_EQ(sink.saved, at_t);
  EXPECT_EQ(sink.duplicates, 0);
}

TEST(SnapshotTest, EmptyShardFinishesAtOnce) {
  Shard shard(0);
  RecordingSink sink;
  shard.BeginSnapshot(&sink);
  EXPECT_TRUE(shard.SnapshotStep(10));
  EXPECT_TRUE(sink.saved.empty());
}

TEST(SnapshotTest, WritesDuringTheWalkAreNotInTheSnapshot) {
  Shard shard(0);
  Fill(shard, 4000);
  shard.Insert(Entry::CreateString("ttl", "t", kNow + 100'000));
  const Contents at_t = Capture(shard);
  RecordingSink sink;
  shard.BeginSnapshot(&sink);
  std::mt19937 rng(7);
  int added = 0;
  Walk(shard, 50, [&](int step) {
    for (int j = 0; j < 20; ++j) {
      const std::string k = Key(static_cast<int>(rng() % 4000));
      switch (rng() % 6) {
        case 0:  // overwrite through Update (SET on an existing key)
          if (shard.Find(k, kNow) != nullptr) Replace(shard, k, "changed");
          break;
        case 1:  // replace by Insert
          shard.Insert(Entry::CreateString(k, "reinserted", 0));
          break;
        case 2:
          shard.Erase(k, kNow);
          break;
        case 3:
          if (Entry* e = shard.Find(k, kNow)) shard.SetExpiry(e, kNow + 5);
          break;
        case 4:
          shard.Insert(Entry::CreateString("new:" + std::to_string(added++), "n", 0));
          break;
        case 5:
          ASSERT_EQ(AppendString(shard, k, "+", kNow).status, Status::kOk);
          break;
      }
    }
    if (step == 3) {
      Entry* e = shard.Find("ttl", kNow);
      ASSERT_NE(e, nullptr);
      shard.SetExpiry(e, 0);  // PERSIST
    }
  });
  EXPECT_EQ(sink.saved, at_t);
  EXPECT_EQ(sink.duplicates, 0);
}

TEST(SnapshotTest, ExpiryDuringTheWalkKeepsTheKeys) {
  Shard shard(0);
  Fill(shard, 3000, kNow + 1000);  // live at the instant, due 1 s later
  const Contents at_t = Capture(shard);
  RecordingSink sink;
  shard.BeginSnapshot(&sink);
  int64_t now = kNow;
  Walk(shard, 40, [&](int step) {
    now = kNow + 2000;  // every key is past its deadline now
    if (step % 2 == 0) {
      shard.ActiveExpire(now, 200);  // active expiry
    } else {
      for (int i = step; i < 3000; i += 97) shard.Find(Key(i), now);  // lazy expiry
    }
  });
  EXPECT_EQ(sink.saved, at_t);
  EXPECT_EQ(sink.duplicates, 0);
}

TEST(SnapshotTest, EvictionDuringTheWalkKeepsTheKeys) {
  EvictionSettings settings;
  settings.policy.store(EvictionPolicy::kAllKeysRandom);
  Shard shard(0, &settings);
  Fill(shard, 3000);
  const Contents at_t = Capture(shard);
  RecordingSink sink;
  shard.BeginSnapshot(&sink);
  size_t evicted = 0;
  Walk(shard, 40, [&](int) {
    evicted += shard.Evict(1 << 20, 50, kNow, [](std::string_view) {}).evicted;
  });
  EXPECT_GT(evicted, 0u);
  EXPECT_EQ(sink.saved, at_t);
  EXPECT_EQ(sink.duplicates, 0);
}

TEST(SnapshotTest, RenameAcrossShardsSavesTheOldName) {
  Shard a(0), b(1);
  Fill(a, 1000);
  RecordingSink sink_a, sink_b;
  const Contents at_t = Capture(a);
  a.BeginSnapshot(&sink_a);
  b.BeginSnapshot(&sink_b);
  Walk(a, 30, [&](int step) {
    if (step < 20) {
      Entry* e = a.Detach(Key(step * 40), kNow);
      ASSERT_NE(e, nullptr);
      b.Insert(Entry::Rekey(e, "renamed:" + std::to_string(step)));
    }
  });
  Walk(b, 30);
  EXPECT_EQ(sink_a.saved, at_t);
  EXPECT_TRUE(sink_b.saved.empty());  // the renamed keys were born after the instant
}

TEST(SnapshotTest, FlushDuringTheWalkSavesWhatWasThere) {
  for (const bool async : {false, true}) {
    Keyspace ks(1, 1);
    Shard& shard = ks.db(0).shard(0);
    std::lock_guard lock(shard.mu());
    Fill(shard, 2000);
    const Contents at_t = Capture(shard);
    RecordingSink sink;
    shard.BeginSnapshot(&sink);
    Walk(shard, 100, [&](int step) {
      if (step == 2) ks.FlushShardLocked(shard, async);
      if (step == 3) shard.Insert(Entry::CreateString("after", "flush", 0));
    });
    EXPECT_EQ(sink.saved, at_t) << "async " << async;
    EXPECT_EQ(sink.duplicates, 0);
    ASSERT_TRUE(ks.WaitForAsyncFrees());
  }
}

TEST(SnapshotTest, SwapDbDuringTheWalkKeepsEachDatabasesInstant) {
  Keyspace ks(2, 2);
  std::vector<Shard*> all;
  for (size_t d = 0; d < 2; ++d) {
    for (size_t j = 0; j < 2; ++j) all.push_back(&ks.db(d).shard(j));
  }
  MultiLock lock(all);
  for (int i = 0; i < 1500; ++i) {
    const std::string k = Key(i);
    const size_t d = i % 2;
    ks.db(d).ShardFor(k).Insert(Entry::CreateString(k, "db" + std::to_string(d), 0));
  }
  Contents at_t[2];
  for (size_t d = 0; d < 2; ++d) {
    for (size_t j = 0; j < 2; ++j) at_t[d].merge(Capture(ks.db(d).shard(j)));
  }
  RecordingSink sinks[2][2];
  for (size_t d = 0; d < 2; ++d) {
    for (size_t j = 0; j < 2; ++j) ks.db(d).shard(j).BeginSnapshot(&sinks[d][j]);
  }
  // Part of db 0's first shard is walked, then the databases swap.
  ks.db(0).shard(0).SnapshotStep(100);
  ks.SwapDatabases(0, 1);
  for (size_t d = 0; d < 2; ++d) {
    for (size_t j = 0; j < 2; ++j) Walk(ks.db(d).shard(j), 100);
  }
  for (size_t d = 0; d < 2; ++d) {
    Contents got;
    for (size_t j = 0; j < 2; ++j) {
      got.merge(sinks[d][j].saved);
      EXPECT_EQ(sinks[d][j].duplicates, 0);
    }
    EXPECT_EQ(got, at_t[d]) << "db " << d;
  }
}

TEST(SnapshotTest, ConsecutiveSnapshotsSeeTheirOwnInstant) {
  Shard shard(0);
  Fill(shard, 500);
  for (int round = 0; round < 3; ++round) {
    const Contents at_t = Capture(shard);
    RecordingSink sink;
    shard.BeginSnapshot(&sink);
    Walk(shard, 16, [&](int step) {
      shard.Insert(Entry::CreateString("r" + std::to_string(round) + ":" + std::to_string(step),
                                       "x", 0));
      shard.Erase(Key(round * 100 + step), kNow);
    });
    EXPECT_EQ(sink.saved, at_t) << "round " << round;
  }
}

// Collections change in place inside Shard::Update: the sink must see them
// before the change, in every encoding (tiny, packed, hash table).
TEST(SnapshotTest, CollectionsChangedInPlaceAreSavedAsTheyWere) {
  using Fields = std::map<std::string, std::string>;
  Shard shard(0);
  auto fields_of = [](const Entry& e) {
    Fields out;
    HashView(&e).ForEach([&](std::string_view f, std::string_view v) {
      out[std::string(f)] = std::string(v);
    });
    return out;
  };
  std::map<std::string, Fields> at_t;
  for (int i = 0; i < 300; ++i) {
    const std::string key = "h:" + std::to_string(i);
    const int n = i % 3 == 0 ? 2 : (i % 3 == 1 ? 40 : 300);  // tiny, packed, table
    std::vector<std::string> pairs;
    for (int f = 0; f < n; ++f) {
      pairs.push_back("f" + std::to_string(f));
      pairs.push_back("v" + std::to_string(f));
    }
    const std::vector<std::string_view> views(pairs.begin(), pairs.end());
    ASSERT_EQ(HashSet(shard, key, views, HashLimits{}, kNow).status, Status::kOk);
    at_t[key] = fields_of(*shard.Find(key, kNow));
  }
  class HashSink : public SnapshotSink {
   public:
    explicit HashSink(std::function<Fields(const Entry&)> read) : read_(std::move(read)) {}
    void Save(const Entry& e) override { saved[std::string(e.key())] = read_(e); }
    std::map<std::string, Fields> saved;

   private:
    std::function<Fields(const Entry&)> read_;
  } sink(fields_of);
  shard.BeginSnapshot(&sink);
  int i = 0;
  Walk(shard, 8, [&](int) {
    for (int j = 0; j < 10 && i < 300; ++j, ++i) {
      const std::string key = "h:" + std::to_string(i);
      const std::string_view change[] = {"f0", "changed", "new", "field"};
      ASSERT_EQ(HashSet(shard, key, change, HashLimits{}, kNow).status, Status::kOk);
      const std::string_view gone[] = {"f1"};
      ASSERT_EQ(HashDelete(shard, key, gone, kNow).status, Status::kOk);
    }
  });
  EXPECT_EQ(sink.saved, at_t);
}

// A writer thread mutates the shard (under its lock, as a command would)
// while the walker steps with short lock holds.
TEST(SnapshotTest, ConcurrentWriterDoesNotLeakIntoTheSnapshot) {
  Shard shard(0);
  {
    std::lock_guard lock(shard.mu());
    Fill(shard, 20000);
  }
  Contents at_t;
  RecordingSink sink;
  {
    std::lock_guard lock(shard.mu());
    at_t = Capture(shard);
    shard.BeginSnapshot(&sink);
  }
  std::atomic<bool> done{false};
  std::atomic<int> writes{0};
  std::thread writer([&] {
    std::mt19937 rng(11);
    int n = 0;
    while (!done.load()) {
      std::lock_guard lock(shard.mu());
      const std::string k = Key(static_cast<int>(rng() % 20000));
      switch (rng() % 4) {
        case 0:
          SetString(shard, k, "w" + std::to_string(n), SetOptions{}, kNow);
          break;
        case 1:
          shard.Erase(k, kNow);
          break;
        case 2:
          shard.Insert(Entry::CreateString("fresh:" + std::to_string(n), "f", 0));
          break;
        case 3:
          ASSERT_EQ(IncrementBy(shard, "counter", 1, kNow).status, Status::kOk);
          break;
      }
      ++n;
      writes.store(n);
    }
  });
  bool finished = false;
  while (!finished) {
    std::lock_guard lock(shard.mu());
    finished = shard.SnapshotStep(32);
  }
  done.store(true);
  writer.join();
  EXPECT_GT(writes.load(), 0);
  EXPECT_EQ(sink.saved, at_t);
  EXPECT_EQ(sink.duplicates, 0);
}

}  // namespace
}  // namespace sluice::storage
