// LazyFreer: the queue bound and the inline fallback, exactly-once freeing,
// draining at destruction, the counters, concurrent Submit, and the keyspace's
// use of it (FlushDb/FlushShardLocked). Runs under ThreadSanitizer too
// (tests/CMakeLists.txt labels it "concurrency"); under ASan a double free or
// a leak of anything submitted is reported as well.

#include "storage/lazy_free.h"

#include <dirent.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "storage/keyspace.h"

namespace sluice::storage {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int64_t kNow = 1'700'000'000'000;
constexpr milliseconds kWait = seconds(20);

// Records every FreeEvent; optionally holds the background thread inside the
// hook (at its first item) until Release(), so a test can fill the queue.
class Recorder {
 public:
  explicit Recorder(bool hold_first_background = false) : hold_(hold_first_background) {}

  LazyFreer::Options Options(size_t max_pending_items) {
    LazyFreer::Options o;
    o.max_pending_items = max_pending_items;
    o.on_free = [this](const LazyFreer::FreeEvent& e) { OnFree(e); };
    return o;
  }

  // Waits (bounded) until the background thread is held in the hook.
  bool WaitHeld() {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, kWait, [this] { return held_; });
  }
  void Release() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      released_ = true;
    }
    cv_.notify_all();
  }

  // Times each item was freed.
  std::map<const void*, int> times() {
    std::lock_guard<std::mutex> lock(mu_);
    return times_;
  }
  size_t inline_items() const { return inline_items_.load(); }
  size_t background_items() const { return background_items_.load(); }
  size_t inline_objects() const { return inline_objects_.load(); }
  size_t background_objects() const { return background_objects_.load(); }
  bool all_background_on_one_thread() {
    std::lock_guard<std::mutex> lock(mu_);
    return background_threads_.size() <= 1;
  }

 private:
  void OnFree(const LazyFreer::FreeEvent& e) {
    std::unique_lock<std::mutex> lock(mu_);
    ++times_[e.item];
    if (e.in_background) {
      ++background_items_;
      background_objects_ += e.objects;
      background_threads_[std::this_thread::get_id()] = true;
      if (hold_ && !held_) {
        held_ = true;
        cv_.notify_all();
        cv_.wait_for(lock, kWait, [this] { return released_; });
      }
    } else {
      ++inline_items_;
      inline_objects_ += e.objects;
    }
  }

  const bool hold_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool held_ = false;
  bool released_ = false;
  std::map<const void*, int> times_;
  std::map<std::thread::id, bool> background_threads_;
  std::atomic<size_t> inline_items_{0}, background_items_{0};
  std::atomic<size_t> inline_objects_{0}, background_objects_{0};
};

Entry* SmallEntry(int i) { return Entry::CreateInt("key:" + std::to_string(i), i, 0); }

// A detached shard holding `keys` keys, as FlushShardLocked produces.
std::unique_ptr<Shard> ShardWith(int keys, int first = 0) {
  auto shard = std::make_unique<Shard>(0);
  std::lock_guard<ShardMutex> lock(shard->mu());
  for (int i = first; i < first + keys; ++i) {
    shard->Insert(Entry::CreateString("k" + std::to_string(i), "value", i % 2 ? kNow + 1000 : 0));
  }
  return shard;
}

size_t ThreadCount() {
  size_t n = 0;
  DIR* dir = opendir("/proc/self/task");
  if (dir == nullptr) return 0;
  while (dirent* d = readdir(dir)) {
    if (d->d_name[0] != '.') ++n;
  }
  closedir(dir);
  return n;
}

TEST(LazyFreerTest, StartsOneThreadAndFreesInTheBackground) {
  Recorder rec;
  // A sanitizer may start a helper thread of its own at the first thread start.
  std::thread([] {}).join();
  const size_t threads_before = ThreadCount();
  {
    LazyFreer freer(rec.Options(16));
    EXPECT_TRUE(freer.has_thread());
    EXPECT_EQ(freer.max_pending_items(), 16u);
    if (threads_before != 0) {
      EXPECT_EQ(ThreadCount(), threads_before + 1);
    }
    freer.Submit(SmallEntry(1));
    freer.Submit(ShardWith(10));
    ASSERT_TRUE(freer.WaitIdle(kWait));
    EXPECT_EQ(freer.pending_items(), 0u);
    EXPECT_EQ(freer.pending_objects(), 0u);
    EXPECT_EQ(freer.freed_objects(), 11u);
  }
  EXPECT_EQ(rec.background_items(), 2u);
  EXPECT_EQ(rec.inline_items(), 0u);
  if (threads_before != 0) {
    EXPECT_EQ(ThreadCount(), threads_before);
  }
}

TEST(LazyFreerTest, DefaultBound) {
  LazyFreer freer;
  EXPECT_EQ(freer.max_pending_items(), LazyFreer::kDefaultMaxPendingItems);
  EXPECT_EQ(LazyFreer::kDefaultMaxPendingItems, 1024u);
}

TEST(LazyFreerTest, SubmitPastTheBoundFreesInline) {
  Recorder rec(/*hold_first_background=*/true);
  LazyFreer freer(rec.Options(4));
  freer.Submit(SmallEntry(0));  // taken by the thread, which is then held
  ASSERT_TRUE(rec.WaitHeld());
  for (int i = 1; i <= 4; ++i) freer.Submit(SmallEntry(i));  // fills the queue
  EXPECT_EQ(rec.inline_items(), 0u);
  EXPECT_EQ(freer.pending_items(), 5u);  // four queued and one being freed
  EXPECT_EQ(freer.pending_objects(), 5u);
  // The queue is full: these are freed at once, in this thread.
  freer.Submit(SmallEntry(5));
  freer.Submit(ShardWith(7));
  freer.Submit(SmallEntry(6));
  EXPECT_EQ(rec.inline_items(), 3u);
  EXPECT_EQ(rec.inline_objects(), 9u);
  EXPECT_EQ(freer.pending_items(), 5u);
  EXPECT_EQ(freer.freed_objects(), 0u);
  rec.Release();
  ASSERT_TRUE(freer.WaitIdle(kWait));
  EXPECT_EQ(rec.background_items(), 5u);
  EXPECT_EQ(freer.freed_objects(), 5u);  // inline frees are not counted
  EXPECT_EQ(freer.pending_objects(), 0u);
  // Room again: back to the background.
  freer.Submit(SmallEntry(7));
  ASSERT_TRUE(freer.WaitIdle(kWait));
  EXPECT_EQ(rec.background_items(), 6u);
  EXPECT_EQ(rec.inline_items(), 3u);
}

TEST(LazyFreerTest, ZeroBoundFreesEverythingInline) {
  Recorder rec;
  LazyFreer freer(rec.Options(0));
  for (int i = 0; i < 10; ++i) freer.Submit(SmallEntry(i));
  EXPECT_EQ(rec.inline_items(), 10u);
  EXPECT_EQ(freer.pending_items(), 0u);
}

TEST(LazyFreerTest, WithoutAThreadEverySubmitFreesInline) {
  Recorder rec;
  LazyFreer::Options options = rec.Options(16);
  options.start_thread = false;
  LazyFreer freer(std::move(options));
  EXPECT_FALSE(freer.has_thread());
  freer.Submit(SmallEntry(1));
  freer.Submit(ShardWith(3));
  EXPECT_EQ(rec.inline_items(), 2u);
  EXPECT_EQ(rec.inline_objects(), 4u);
  EXPECT_EQ(freer.pending_items(), 0u);
  EXPECT_EQ(freer.freed_objects(), 0u);
  EXPECT_TRUE(freer.WaitIdle(milliseconds(0)));
}

TEST(LazyFreerTest, NullIsIgnored) {
  Recorder rec;
  LazyFreer freer(rec.Options(4));
  freer.Submit(static_cast<Entry*>(nullptr));
  freer.Submit(std::unique_ptr<Shard>());
  freer.FreeEntry(nullptr);
  ASSERT_TRUE(freer.WaitIdle(kWait));
  EXPECT_TRUE(rec.times().empty());
}

TEST(LazyFreerTest, EverythingSubmittedIsFreedOnce) {
  Recorder rec;
  size_t objects = 0;
  {
    // A small bound, so that some items go each way.
    LazyFreer freer(rec.Options(8));
    for (int i = 0; i < 3000; ++i) {
      if (i % 10 == 0) {
        freer.Submit(ShardWith(i % 50 + 1, i * 100));
        objects += i % 50 + 1;
      } else {
        freer.Submit(SmallEntry(i));
        objects += 1;
      }
    }
    ASSERT_TRUE(freer.WaitIdle(kWait));
    EXPECT_EQ(freer.freed_objects(), rec.background_objects());
  }
  // Addresses are reused after a free, so count frees rather than addresses
  // here (DistinctLiveItemsAreEachFreedOnce checks identities).
  size_t frees = 0;
  for (const auto& [item, n] : rec.times()) frees += static_cast<size_t>(n);
  EXPECT_EQ(frees, 3000u);
  EXPECT_EQ(rec.inline_items() + rec.background_items(), 3000u);
  EXPECT_EQ(rec.inline_objects() + rec.background_objects(), objects);
  EXPECT_TRUE(rec.all_background_on_one_thread());
}

TEST(LazyFreerTest, DistinctLiveItemsAreEachFreedOnce) {
  // All items stay allocated until the held thread is released, so their
  // addresses are distinct and each must be reported exactly once.
  Recorder rec(/*hold_first_background=*/true);
  std::vector<const void*> items;
  {
    LazyFreer freer(rec.Options(64));
    Entry* first = SmallEntry(-1);
    items.push_back(first);
    freer.Submit(first);
    ASSERT_TRUE(rec.WaitHeld());
    for (int i = 0; i < 64; ++i) {
      Entry* e = SmallEntry(i);
      items.push_back(e);
      freer.Submit(e);
    }
    rec.Release();
  }
  const std::map<const void*, int> times = rec.times();
  EXPECT_EQ(times.size(), items.size());
  for (const void* item : items) {
    auto it = times.find(item);
    ASSERT_NE(it, times.end());
    EXPECT_EQ(it->second, 1);
  }
  EXPECT_EQ(rec.background_items(), 65u);
}

TEST(LazyFreerTest, DestructionDrainsTheQueue) {
  Recorder rec(/*hold_first_background=*/true);
  auto freer = std::make_unique<LazyFreer>(rec.Options(100));
  freer->Submit(SmallEntry(0));
  ASSERT_TRUE(rec.WaitHeld());
  for (int i = 0; i < 50; ++i) freer->Submit(ShardWith(20, i * 20));
  EXPECT_EQ(freer->pending_items(), 51u);
  EXPECT_EQ(freer->pending_objects(), 1u + 50 * 20);
  // Release the thread only once the destructor is (very likely) waiting.
  std::thread releaser([&rec] {
    std::this_thread::sleep_for(milliseconds(50));
    rec.Release();
  });
  freer.reset();
  releaser.join();
  EXPECT_EQ(rec.background_items(), 51u);
  EXPECT_EQ(rec.background_objects(), 1u + 50 * 20);
  EXPECT_EQ(rec.inline_items(), 0u);
}

TEST(LazyFreerTest, PendingObjectsCountKeys) {
  Recorder rec(/*hold_first_background=*/true);
  LazyFreer freer(rec.Options(4));
  freer.Submit(ShardWith(100));
  ASSERT_TRUE(rec.WaitHeld());
  freer.Submit(SmallEntry(1));
  EXPECT_EQ(freer.pending_items(), 2u);
  EXPECT_EQ(freer.pending_objects(), 101u);
  EXPECT_FALSE(freer.WaitIdle(milliseconds(10)));
  rec.Release();
  ASSERT_TRUE(freer.WaitIdle(kWait));
  EXPECT_EQ(freer.pending_objects(), 0u);
  EXPECT_EQ(freer.freed_objects(), 101u);
}

TEST(LazyFreerTest, FreeEntryDefersOnlyLargeEntries) {
  Recorder rec;
  LazyFreer freer(rec.Options(4));
  Entry* small = Entry::CreateString("small", std::string(100, 'x'), 0);
  Entry* large =
      Entry::CreateString("large", std::string(LazyFreer::kMinDeferredEntryBytes, 'x'), 0);
  ASSERT_LT(small->AllocatedBytes(), LazyFreer::kMinDeferredEntryBytes);
  ASSERT_GE(large->AllocatedBytes(), LazyFreer::kMinDeferredEntryBytes);
  const void* large_id = large;
  freer.FreeEntry(small);  // destroyed here, never seen by the freer
  freer.FreeEntry(large);
  ASSERT_TRUE(freer.WaitIdle(kWait));
  const std::map<const void*, int> times = rec.times();
  ASSERT_EQ(times.size(), 1u);
  EXPECT_EQ(times.begin()->first, large_id);
  EXPECT_EQ(rec.background_items(), 1u);
  EXPECT_EQ(freer.freed_objects(), 1u);
}

TEST(LazyFreerConcurrencyTest, SubmitFromSeveralThreads) {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 2000;
  Recorder rec;
  std::atomic<size_t> objects{0};
  {
    LazyFreer freer(rec.Options(16));
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&freer, &objects, t] {
        for (int i = 0; i < kPerThread; ++i) {
          if (i % 100 == 0) {
            freer.Submit(ShardWith(5, t * kPerThread + i));
            objects += 5;
          } else {
            freer.Submit(SmallEntry(t * kPerThread + i));
            objects += 1;
          }
          if (i % 500 == 0) {
            // Readers of the counters race with the submitters and the thread.
            EXPECT_LE(freer.pending_items(), 16u + 1u);
            (void)freer.pending_objects();
            (void)freer.freed_objects();
          }
        }
      });
    }
    for (auto& th : threads) th.join();
    ASSERT_TRUE(freer.WaitIdle(kWait));
    EXPECT_EQ(freer.pending_objects(), 0u);
    EXPECT_EQ(freer.freed_objects(), rec.background_objects());
  }
  EXPECT_EQ(rec.inline_items() + rec.background_items(), size_t{kThreads} * kPerThread);
  EXPECT_EQ(rec.inline_objects() + rec.background_objects(), objects.load());
  EXPECT_TRUE(rec.all_background_on_one_thread());
}

TEST(LazyFreerConcurrencyTest, WaitIdleFromAnotherThread) {
  Recorder rec(/*hold_first_background=*/true);
  LazyFreer freer(rec.Options(8));
  freer.Submit(SmallEntry(0));
  ASSERT_TRUE(rec.WaitHeld());
  std::atomic<bool> idle{false};
  std::thread waiter([&] { idle = freer.WaitIdle(kWait); });
  std::this_thread::sleep_for(milliseconds(20));
  EXPECT_FALSE(idle.load());
  rec.Release();
  waiter.join();
  EXPECT_TRUE(idle.load());
}

// --- The keyspace's use of the freer.

void Put(Database& db, const std::string& key) {
  Shard& shard = db.ShardFor(key);
  std::lock_guard<ShardMutex> lock(shard.mu());
  shard.Insert(Entry::CreateString(key, "v", 0));
}

TEST(KeyspaceLazyFreeTest, FlushAllAsyncHandsEveryKeyToTheFreer) {
  Recorder rec;
  Keyspace ks(4, 8, rec.Options(LazyFreer::kDefaultMaxPendingItems));
  for (size_t d = 0; d < 4; ++d) {
    for (int i = 0; i < 500; ++i) Put(ks.db(d), "k" + std::to_string(i));
  }
  ks.FlushAll(/*async=*/true);
  for (size_t d = 0; d < 4; ++d) EXPECT_EQ(ks.db(d).Size(), 0u);
  ASSERT_TRUE(ks.WaitForAsyncFrees(kWait));
  EXPECT_EQ(ks.async_frees_in_flight(), 0u);
  EXPECT_EQ(rec.inline_objects() + rec.background_objects(), 2000u);
  EXPECT_EQ(ks.lazy_freer().freed_objects(), rec.background_objects());
  // Empty shards are not submitted.
  EXPECT_LE(rec.inline_items() + rec.background_items(), 32u);
  ks.FlushAll(/*async=*/true);
  ASSERT_TRUE(ks.WaitForAsyncFrees(kWait));
  EXPECT_EQ(rec.inline_objects() + rec.background_objects(), 2000u);
}

TEST(KeyspaceLazyFreeTest, FlushShardLockedWithTheLockHeld) {
  Recorder rec;
  Keyspace ks(1, 2, rec.Options(8));
  for (int i = 0; i < 200; ++i) Put(ks.db(0), "k" + std::to_string(i));
  Shard& s0 = ks.db(0).shard(0);
  Shard& s1 = ks.db(0).shard(1);
  const size_t n0 = ks.db(0).shard(0).size();  // single-threaded here
  {
    // As a transaction would: both locks held, then flush each shard.
    MultiLock lock({&s0, &s1});
    ks.FlushShardLocked(s0, /*async=*/true);
    EXPECT_EQ(s0.size(), 0u);
    ks.FlushShardLocked(s1, /*async=*/false);
    EXPECT_EQ(s1.size(), 0u);
    // The emptied shard is usable at once.
    s0.Insert(Entry::CreateString("after", "1", 0));
  }
  ASSERT_TRUE(ks.WaitForAsyncFrees(kWait));
  EXPECT_EQ(rec.background_objects() + rec.inline_objects(), n0);  // only the async one
  EXPECT_EQ(ks.db(0).Size(), 1u);
}

TEST(KeyspaceLazyFreeTest, ManyAsyncFlushesUseNoMoreThreads) {
  Keyspace ks(16, 4);
  ASSERT_TRUE(ks.WaitForAsyncFrees(kWait));
  const size_t before = ThreadCount();
  for (int i = 0; i < 2000; ++i) {
    Put(ks.db(i % 16), "k" + std::to_string(i));
    ks.FlushAll(/*async=*/true);
    if (before != 0 && i % 250 == 0) {
      EXPECT_EQ(ThreadCount(), before);
    }
  }
  ASSERT_TRUE(ks.WaitForAsyncFrees(kWait));
  if (before != 0) {
    EXPECT_EQ(ThreadCount(), before);
  }
  for (size_t d = 0; d < 16; ++d) EXPECT_EQ(ks.db(d).Size(), 0u);
}

}  // namespace
}  // namespace sluice::storage
