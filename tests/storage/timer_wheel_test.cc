#include "storage/timer_wheel.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <random>
#include <set>
#include <unordered_map>
#include <vector>

#include "gtest/gtest.h"

namespace sluice::storage {
namespace {

constexpr int64_t kT0 = 1'700'000'000'123;

// Stands in for a shard: keys are (hash, deadline) pairs. Servicing a hash
// reclaims its due keys (remembering when) and reports the next deadline.
class FakeOwner {
 public:
  void AddKey(TimerWheel& wheel, uint32_t hash, int64_t deadline) {
    keys_[hash].insert(deadline);
    ++live_;
    wheel.Add(hash, deadline);
  }
  // Changes a key's deadline the way a shard would: a later deadline needs
  // no new record, an earlier one does.
  void MoveKey(TimerWheel& wheel, uint32_t hash, int64_t from, int64_t to) {
    auto& set = keys_[hash];
    set.erase(set.find(from));
    set.insert(to);
    if (to < from) wheel.Add(hash, to);
  }
  void DeleteKey(uint32_t hash, int64_t deadline) {
    auto& set = keys_[hash];
    set.erase(set.find(deadline));
    --live_;
  }

  std::function<int64_t(uint32_t, int64_t)> service() {
    return [this](uint32_t hash, int64_t now) -> int64_t {
      ++looks_;
      auto it = keys_.find(hash);
      if (it == keys_.end()) return 0;
      auto& set = it->second;
      while (!set.empty() && *set.begin() <= now) {
        reclaimed_.push_back({*set.begin(), now});
        set.erase(set.begin());
        --live_;
      }
      return set.empty() ? 0 : *set.begin();
    };
  }

  size_t live() const { return live_; }

  struct Reclaim {
    int64_t deadline;
    int64_t at;
  };
  std::vector<Reclaim> reclaimed_;
  size_t looks_ = 0;

 private:
  std::unordered_map<uint32_t, std::multiset<int64_t>> keys_;
  size_t live_ = 0;
};

constexpr size_t kUnlimited = static_cast<size_t>(-1);

TEST(TimerWheelTest, DeadlinesOnEveryLevelFireExactlyOnTime) {
  TimerWheel wheel;
  FakeOwner owner;
  wheel.Advance(kT0, kUnlimited, owner.service());  // anchors the wheel at kT0
  const std::vector<int64_t> offsets = {1,
                                        2,
                                        255,
                                        256,
                                        257,
                                        1000,
                                        16383,
                                        16384,
                                        16385,
                                        1 << 20,
                                        (1 << 20) + 1,
                                        (int64_t{1} << 26) - 1,
                                        int64_t{1} << 26,
                                        (int64_t{1} << 26) + 3,
                                        (int64_t{1} << 32) - 1,
                                        (int64_t{1} << 32) + 7,  // overflow list
                                        (int64_t{1} << 34) + 11};
  uint32_t hash = 1;
  for (int64_t off : offsets) owner.AddKey(wheel, hash++, kT0 + off);
  EXPECT_EQ(wheel.size(), offsets.size());
  for (int64_t off : offsets) {
    const int64_t d = kT0 + off;
    const size_t before = owner.reclaimed_.size();
    wheel.Advance(d - 1, kUnlimited, owner.service());
    EXPECT_EQ(owner.reclaimed_.size(), before) << "fired early: offset " << off;
    wheel.Advance(d, kUnlimited, owner.service());
    ASSERT_EQ(owner.reclaimed_.size(), before + 1) << "late: offset " << off;
    EXPECT_EQ(owner.reclaimed_.back().deadline, d);
    EXPECT_EQ(owner.reclaimed_.back().at, d);
  }
  EXPECT_EQ(wheel.size(), 0u);
  EXPECT_EQ(wheel.MemoryBytes(), 0u);
}

TEST(TimerWheelTest, RandomDeadlinesAreReclaimedAtTheFirstAdvancePastThem) {
  std::mt19937_64 rng(7);
  TimerWheel wheel;
  FakeOwner owner;
  wheel.Advance(kT0, kUnlimited, owner.service());
  int64_t now = kT0;
  std::uniform_int_distribution<int64_t> ttl(0, 3'000'000);
  std::uniform_int_distribution<int64_t> step(0, 5000);
  std::uniform_int_distribution<uint32_t> hashes(0, 5000);  // collisions on purpose
  size_t added = 0;
  for (int round = 0; round < 2000; ++round) {
    for (int i = 0; i < 20; ++i, ++added) owner.AddKey(wheel, hashes(rng), now + ttl(rng));
    const size_t before = owner.reclaimed_.size();
    const int64_t previous = now;
    now += step(rng);
    wheel.Advance(now, kUnlimited, owner.service());
    for (size_t i = before; i < owner.reclaimed_.size(); ++i) {
      EXPECT_LE(owner.reclaimed_[i].deadline, now);
      EXPECT_GT(owner.reclaimed_[i].deadline, previous);  // not missed earlier
    }
  }
  while (owner.live() > 0) {
    now += 1000;
    wheel.Advance(now, kUnlimited, owner.service());
  }
  EXPECT_EQ(owner.reclaimed_.size(), added);
  EXPECT_EQ(wheel.size(), 0u);
}

TEST(TimerWheelTest, WorkPerCallIsBounded) {
  TimerWheel wheel;
  FakeOwner owner;
  wheel.Advance(kT0, kUnlimited, owner.service());
  for (uint32_t i = 0; i < 10000; ++i) owner.AddKey(wheel, i, kT0 + 5);
  size_t calls = 0;
  while (owner.live() > 0) {
    const size_t work = wheel.Advance(kT0 + 10, 100, owner.service());
    EXPECT_LE(work, 100u);
    ++calls;
    ASSERT_LT(calls, 1000u);
  }
  EXPECT_EQ(calls, 100u);
}

TEST(TimerWheelTest, CascadesRespectTheBudgetAndStillFireInOrder) {
  TimerWheel wheel;
  FakeOwner owner;
  // Anchor at a level-2 boundary minus one so a big level-2 slot cascades soon.
  const int64_t start = ((kT0 >> 14) + 1) << 14;
  wheel.Advance(start - 1, kUnlimited, owner.service());
  std::mt19937_64 rng(3);
  // 50k keys due over [start + 16384, start + 32768): one level-2 slot.
  for (uint32_t i = 0; i < 50000; ++i) owner.AddKey(wheel, i, start + 16384 + (rng() % 16384));
  int64_t now = start;
  size_t max_work = 0;
  size_t max_late = 0;
  while (owner.live() > 0) {
    now += 10;
    const size_t before = owner.reclaimed_.size();
    max_work = std::max(max_work, wheel.Advance(now, 2000, owner.service()));
    for (size_t i = before; i < owner.reclaimed_.size(); ++i) {
      EXPECT_LE(owner.reclaimed_[i].deadline, now);
      max_late = std::max<size_t>(max_late, now - owner.reclaimed_[i].deadline);
    }
    ASSERT_LT(now, start + 100000);
  }
  EXPECT_LE(max_work, 2000u);
  // 50k cascaded twice at 200k records/s plus ~3 per ms firing: well under 2 s.
  EXPECT_LT(max_late, 2000u);
  EXPECT_EQ(wheel.size(), 0u);
}

TEST(TimerWheelTest, StaleRecordsAreDroppedOrMoved) {
  TimerWheel wheel;
  FakeOwner owner;
  wheel.Advance(kT0, kUnlimited, owner.service());
  owner.AddKey(wheel, 1, kT0 + 100);
  owner.AddKey(wheel, 2, kT0 + 100000);
  owner.AddKey(wheel, 3, kT0 + 500);
  owner.DeleteKey(1, kT0 + 100);                     // key deleted
  owner.MoveKey(wheel, 2, kT0 + 100000, kT0 + 200);  // earlier: new record
  owner.MoveKey(wheel, 3, kT0 + 500, kT0 + 300000);  // later: old record moves on
  EXPECT_EQ(wheel.size(), 4u);
  wheel.Advance(kT0 + 150, kUnlimited, owner.service());
  EXPECT_EQ(owner.reclaimed_.size(), 0u);
  EXPECT_EQ(wheel.size(), 3u);  // the deleted key's record is gone
  wheel.Advance(kT0 + 200, kUnlimited, owner.service());
  ASSERT_EQ(owner.reclaimed_.size(), 1u);
  EXPECT_EQ(owner.reclaimed_[0].deadline, kT0 + 200);
  wheel.Advance(kT0 + 299999, kUnlimited, owner.service());
  EXPECT_EQ(owner.reclaimed_.size(), 1u);
  wheel.Advance(kT0 + 300000, kUnlimited, owner.service());
  ASSERT_EQ(owner.reclaimed_.size(), 2u);
  EXPECT_EQ(owner.reclaimed_[1].deadline, kT0 + 300000);
  wheel.Advance(kT0 + 400000, kUnlimited, owner.service());
  EXPECT_EQ(wheel.size(), 0u);
}

TEST(TimerWheelTest, RecordsAddedBeforeTheFirstAdvanceWait) {
  TimerWheel wheel;
  FakeOwner owner;
  owner.AddKey(wheel, 1, kT0 + 10);
  owner.AddKey(wheel, 2, kT0 - 10);  // already due
  wheel.Advance(kT0, kUnlimited, owner.service());
  ASSERT_EQ(owner.reclaimed_.size(), 1u);
  EXPECT_EQ(owner.reclaimed_[0].deadline, kT0 - 10);
  wheel.Advance(kT0 + 10, kUnlimited, owner.service());
  EXPECT_EQ(owner.reclaimed_.size(), 2u);
}

TEST(TimerWheelTest, PastDeadlinesFireOnTheNextAdvance) {
  TimerWheel wheel;
  FakeOwner owner;
  wheel.Advance(kT0, kUnlimited, owner.service());
  owner.AddKey(wheel, 9, kT0 - 5000);
  wheel.Advance(kT0, kUnlimited, owner.service());  // same time as before
  EXPECT_EQ(owner.reclaimed_.size(), 1u);
}

TEST(TimerWheelTest, LongIdleCatchUpIsCheap) {
  TimerWheel wheel;
  FakeOwner owner;
  wheel.Advance(kT0, kUnlimited, owner.service());
  owner.AddKey(wheel, 1, kT0 + 86'400'000);         // a day
  owner.AddKey(wheel, 2, kT0 + 86'400'000 * 60LL);  // two months: overflow
  // One call covering a day: looks at the record a handful of times at most.
  wheel.Advance(kT0 + 86'400'000, 100, owner.service());
  EXPECT_EQ(owner.reclaimed_.size(), 1u);
  EXPECT_LT(owner.looks_, 20u);
  wheel.Advance(kT0 + 86'400'000 * 61LL, 100, owner.service());
  EXPECT_EQ(owner.reclaimed_.size(), 2u);
}

TEST(TimerWheelTest, ClearSwapAndMemory) {
  TimerWheel a;
  TimerWheel b;
  FakeOwner owner;
  EXPECT_EQ(a.MemoryBytes(), 0u);
  for (uint32_t i = 0; i < 1000; ++i) a.Add(i, kT0 + i);
  EXPECT_GT(a.MemoryBytes(), 1000 * sizeof(uint32_t));
  EXPECT_LT(a.MemoryBytes(), 1000 * 6);
  a.Swap(b);
  EXPECT_EQ(a.size(), 0u);
  EXPECT_EQ(b.size(), 1000u);
  b.Clear();
  EXPECT_EQ(b.size(), 0u);
  EXPECT_EQ(b.MemoryBytes(), 0u);
}

}  // namespace
}  // namespace sluice::storage
