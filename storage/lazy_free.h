#pragma once
// LazyFreer: frees keyspace data that has already been taken out of the
// keyspace (the old contents of a shard emptied by FLUSHDB/FLUSHALL ASYNC, or
// one large entry removed by UNLINK) on one background thread, so that the
// command that removed it does not pay for the free.
//
// The thread is started by the constructor and joined by the destructor,
// after it has freed everything still queued. The queue is bounded
// (Options::max_pending_items waiting items; the one being freed is extra).
// Submit never waits for room and never throws: when the queue is full, or
// when the thread could not be started, it frees the item at once in the
// calling thread. A flood of FLUSHALL ASYNC therefore degrades to synchronous
// flushes instead of growing the number of threads or the memory waiting to
// be freed.
//
// Thread-safe: every member may be called from any thread. What is handed to
// Submit must be reachable by nobody else.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "storage/entry.h"
#include "storage/shard.h"

namespace sluice::storage {

class LazyFreer {
 public:
  static constexpr size_t kDefaultMaxPendingItems = 1024;
  // FreeEntry() defers an entry only when it owns at least this many heap
  // bytes (Entry::AllocatedBytes). Freeing a string is one or two free()
  // calls whatever its size, but giving back the pages of a large block
  // (munmap, page-table teardown) costs time proportional to its size; below
  // this size the hand-off costs more than the free.
  static constexpr size_t kMinDeferredEntryBytes = 64 * 1024;

  // What the on_free hook is told about each item, just before it is freed.
  struct FreeEvent {
    const void* item;    // the Shard* or Entry* that was submitted
    size_t objects;      // keys it holds
    bool in_background;  // false: freed inline by Submit
  };

  struct Options {
    size_t max_pending_items = kDefaultMaxPendingItems;
    // false: start no thread, so every Submit frees inline (the path taken
    // when starting the thread fails).
    bool start_thread = true;
    // For tests: called on the freeing thread before each item is freed.
    // Must not throw.
    std::function<void(const FreeEvent&)> on_free;
  };

  LazyFreer();
  explicit LazyFreer(Options options);
  // Frees everything still queued, then joins the thread.
  ~LazyFreer();
  LazyFreer(const LazyFreer&) = delete;
  LazyFreer& operator=(const LazyFreer&) = delete;

  // Takes ownership of `contents`, a shard whose keys are no longer part of
  // the keyspace (see Keyspace::FlushShardLocked), and frees it with its
  // entries. A null pointer is ignored.
  // REQUIRES: no other thread holds or can reach `contents` or its lock.
  void Submit(std::unique_ptr<Shard> contents) noexcept;
  // Takes ownership of `entry` and frees it (Entry::Destroy). Null is ignored.
  // REQUIRES: `entry` is linked into no shard (Shard::Detach returned it).
  void Submit(Entry* entry) noexcept;
  // UNLINK's choice: Submit(entry) when it owns at least
  // kMinDeferredEntryBytes, else Entry::Destroy(entry) at once.
  // REQUIRES: as Submit(Entry*).
  void FreeEntry(Entry* entry) noexcept;

  // Whether a background thread is running (false: every Submit frees inline).
  bool has_thread() const { return thread_.joinable(); }
  size_t max_pending_items() const { return slots_.size(); }
  // Items submitted and not freed yet (queued, or being freed).
  size_t pending_items() const;
  // Keys held by those items (INFO lazyfree_pending_objects).
  size_t pending_objects() const;
  // Keys freed by the background thread so far (INFO lazyfreed_objects);
  // frees done inline by Submit are not counted.
  uint64_t freed_objects() const;

  // Waits until pending_items() is 0, for at most `timeout`; returns whether
  // it got there. For tests and shutdown.
  bool WaitIdle(std::chrono::milliseconds timeout) const;

 private:
  struct Item {
    Shard* shard = nullptr;  // owned
    Entry* entry = nullptr;  // owned
    size_t objects = 0;
  };

  // Queues `item` if there is room; false when full or without a thread.
  bool TryEnqueue(const Item& item) noexcept;
  void Free(const Item& item, bool in_background) noexcept;
  void Run() noexcept;

  const std::function<void(const FreeEvent&)> on_free_;
  mutable std::mutex mu_;
  std::condition_variable work_cv_;          // an item was queued, or stopping_
  mutable std::condition_variable idle_cv_;  // pending_items_ reached 0
  // Ring buffer of queued items, allocated once so that Submit never allocates.
  std::vector<Item> slots_;
  size_t head_ = 0;        // GUARDED_BY(mu_)
  size_t queued_ = 0;      // GUARDED_BY(mu_)
  bool stopping_ = false;  // GUARDED_BY(mu_)
  // Written under mu_ (so WaitIdle sees the change), read without it.
  std::atomic<size_t> pending_items_{0};
  std::atomic<size_t> pending_objects_{0};
  std::atomic<uint64_t> freed_objects_{0};
  std::thread thread_;  // started last, by the constructor's body
};

}  // namespace sluice::storage
