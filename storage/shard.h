#pragma once
// Shard: one slice of a database's keys with its own lock, hash table and TTL
// timer wheel.
//
// A key lives in shard `KeyHash(key) & (shard_count - 1)` of its database.
// Every member below except mu() REQUIRES: mu() held by the caller. Pointers
// to entries returned by a shard stay valid until the lock is released or the
// shard is modified again.
//
// The key table resizes incrementally (see storage/hash_table.h): each lookup
// or insert moves a few entries of a resize in progress, and ActiveExpire()
// tops that up to kActiveRehashMoves per call, so an idle shard finishes its
// resize in the background.
//
// Expiry is lazy and active: Find() reclaims an expired key it meets (and
// counts it in expired_keys), and ActiveExpire() advances the timer wheel,
// reclaiming keys whose deadline has passed with bounded work per call.
//
// WATCH: a shard keeps a registry of watched keys, each with the flags of the
// clients watching it. Every change to a watched key (write, delete, expiry
// change, expiry reclaim, flush, swap) sets its watchers' flags and forgets
// the key; EXEC aborts when its client's flag is set. The check on the write
// paths is one test of an empty registry when nobody watches.

#include <pthread.h>
#include <time.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string_view>

#include "storage/entry.h"

namespace sluice::storage {

// XXH3-64 of the key: picks the shard (low bits) and the bucket.
uint64_t KeyHash(std::string_view key);

// A shard's lock. Not re-entrant: a command, transaction or script locks each
// shard it needs once (the server's lock planner), and handlers never lock.
// Timed, so that a waiter can give up (BUSY, shutdown) instead of waiting
// without bound. A thin pthread mutex rather than std::timed_mutex, whose
// try_lock_for uses pthread_mutex_clocklock, which ThreadSanitizer (GCC 12)
// does not see; pthread_mutex_timedlock it does.
class ShardMutex {
 public:
  ShardMutex() { pthread_mutex_init(&mu_, nullptr); }
  ~ShardMutex() { pthread_mutex_destroy(&mu_); }
  ShardMutex(const ShardMutex&) = delete;
  ShardMutex& operator=(const ShardMutex&) = delete;

  void lock() { pthread_mutex_lock(&mu_); }
  bool try_lock() { return pthread_mutex_trylock(&mu_) == 0; }
  void unlock() { pthread_mutex_unlock(&mu_); }
  // Waits at most `timeout` for the lock; true when it is held.
  bool try_lock_for(std::chrono::microseconds timeout) {
    timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    const int64_t ns = deadline.tv_nsec + timeout.count() * 1000;
    deadline.tv_sec += ns / 1000000000;
    deadline.tv_nsec = ns % 1000000000;
    return pthread_mutex_timedlock(&mu_, &deadline) == 0;
  }

 private:
  pthread_mutex_t mu_;
};

// Set (under a shard lock) when a watched key changes; read by its client.
using WatchFlag = std::atomic<bool>;

// A snapshot of a shard's counters (or the sum of several).
struct ShardStats {
  uint64_t keyspace_hits = 0;
  uint64_t keyspace_misses = 0;
  uint64_t expired_keys = 0;
};

// A counter written only under its shard's lock and readable from any thread
// without it (INFO, DBSIZE): a relaxed load and store, no atomic
// read-modify-write on the data path.
class ShardCounter {
 public:
  uint64_t get() const { return v_.load(std::memory_order_relaxed); }
  void Add(int64_t d) { v_.store(v_.load(std::memory_order_relaxed) + d, std::memory_order_relaxed); }
  void Set(uint64_t v) { v_.store(v, std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> v_{0};
};

class Shard {
 public:
  // Entries of a resize in progress that ActiveExpire() makes sure are moved
  // per call, counting those that lookups and inserts moved since the last
  // call. At the server's 10 ms tick an idle shard drains 1M old entries in
  // about 40 s, and one tick costs some tens of microseconds per shard.
  static constexpr size_t kActiveRehashMoves = 256;

  // `order` is this shard's place in the global lock order (see MultiLock).
  explicit Shard(uint32_t order);
  ~Shard();
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;

  ShardMutex& mu() { return mu_; }
  uint32_t order() const { return order_; }

  // The live entry for `key`, or nullptr (an expired one is reclaimed first).
  Entry* Find(std::string_view key, int64_t now_ms);
  // Find() that also counts a keyspace hit or miss (reads by GET-like commands).
  Entry* FindForRead(std::string_view key, int64_t now_ms);
  // Takes ownership of `entry` and links it, destroying any entry with the
  // same key. Registers its expiry with the timer wheel.
  void Insert(Entry* entry);
  // Unlinks `key` and hands the entry to the caller (nullptr if absent or expired).
  Entry* Detach(std::string_view key, int64_t now_ms);
  // Unlinks and destroys `key`; true if a live key was removed.
  bool Erase(std::string_view key, int64_t now_ms);

  // Replaces linked `entry` with `updated` (the result of an Entry::With...
  // call on it, possibly the same address) and keeps the timer wheel and the
  // expires count right. Returns `updated`. `entry` may already be freed: it
  // is only compared by address.
  // REQUIRES: `updated` has `entry`'s key and expiry (change the expiry with
  // SetExpiry, which also reschedules it).
  Entry* Relink(Entry* entry, Entry* updated);
  // Sets (or clears, for 0) the expiry of a linked entry; returns its new address.
  Entry* SetExpiry(Entry* entry, int64_t expire_at_ms);

  // Keys (live or not yet reclaimed) and keys with a deadline. Readable
  // without the lock, from any thread.
  size_t size() const { return keys_.get(); }
  size_t expires_count() const { return expires_.get(); }
  // Whether the key table is between two sizes: a resize in progress, moved
  // along by Find, Insert and ActiveExpire (see HashTable).
  bool rehashing() const;
  // Reclaims keys whose deadline is <= now_ms, looking at no more than
  // `budget` timer records. Returns how many keys it reclaimed.
  size_t ActiveExpire(int64_t now_ms, size_t budget);

  // Reverse-binary bucket cursor iteration as Redis's SCAN: visits whole
  // buckets starting at `cursor` until at least `count` entries were visited
  // or the table was covered, and returns the next cursor (0 when done). A key
  // present for the whole iteration is visited at least once even if the
  // table grows or shrinks between calls. Expired entries are skipped.
  uint64_t Scan(uint64_t cursor, size_t count, int64_t now_ms,
                const std::function<void(const Entry&)>& visit);
  // Visits every live entry.
  void ForEach(int64_t now_ms, const std::function<void(const Entry&)>& visit);
  // A uniformly-ish random live entry, or nullptr when empty.
  Entry* Random(uint64_t random_bits, int64_t now_ms);

  // The watch registry has its own small lock (a leaf: nothing is locked
  // while holding it), so that UNWATCH, DISCARD and a closing connection
  // never wait for the shard lock, which a long script may hold.
  // Registers `flag` as a watcher of `key` (present or not). The flag is set
  // at the key's next change; the registration is then dropped.
  // REQUIRES: mu() held (so that no write is half-way through).
  void Watch(std::string_view key, std::shared_ptr<WatchFlag> flag);
  // Drops the registration of `flag` for `key`, if it is still there.
  // Does not need mu().
  void Unwatch(std::string_view key, const WatchFlag* flag);
  // Keys with at least one watcher. Does not need mu().
  size_t watched_key_count() const;

  // Removes every key (setting the flags of watched keys that existed).
  void Clear();
  // Exchanges all contents (keys, wheel, counts) with `other`, for SWAPDB and
  // for FLUSHALL ASYNC (swap with an empty shard, free it elsewhere).
  // Watch registries stay where they are: a watched key of either shard that
  // exists on either side counts as changed.
  // REQUIRES: both locks held.
  void SwapContents(Shard& other);

  // The counters; readable without the lock. ResetStats() may race with a
  // command's increment, as CONFIG RESETSTAT may in Redis.
  ShardStats stats() const {
    return ShardStats{hits_.get(), misses_.get(), expired_.get()};
  }
  void ResetStats() {
    hits_.Set(0);
    misses_.Set(0);
    expired_.Set(0);
  }
  // Heap bytes held by entries, table and wheel. O(keys): it walks every
  // entry (malloc_usable_size of each).
  size_t MemoryBytes() const;

  // Called (under the lock) for every key reclaimed by expiry, lazy or active;
  // keyspace notifications hook in here.
  void set_on_expired(std::function<void(std::string_view key)> fn);

 private:
  struct Impl;
  // Mirrors the table's size and the expires count into keys_/expires_.
  void PublishCounts();

  ShardMutex mu_;
  uint32_t order_;
  std::unique_ptr<Impl> impl_;
  ShardCounter keys_, expires_, hits_, misses_, expired_;
};

}  // namespace sluice::storage
