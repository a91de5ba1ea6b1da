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
// Access history and eviction: every lookup that finds a live key (Find,
// FindForRead; not Peek) records the access in the entry's access byte as the
// keyspace's EvictionSettings say (storage/eviction.h); Evict() picks victims
// by the same settings. ActiveExpire() also runs the age sweep that keeps LRU
// stamps and LFU counters meaningful over time.
//
// Snapshots: BeginSnapshot/SnapshotStep take a point-in-time copy of the
// shard without stopping it (see storage/snapshot_sink.h).
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

#include "absl/functional/function_ref.h"
#include "storage/entry.h"
#include "storage/eviction.h"
#include "storage/snapshot_sink.h"

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

  void lock() {
    if (try_lock()) return;
    waiters_.fetch_add(1, std::memory_order_relaxed);
    pthread_mutex_lock(&mu_);
    waiters_.fetch_sub(1, std::memory_order_relaxed);
  }
  bool try_lock() { return pthread_mutex_trylock(&mu_) == 0; }
  void unlock() { pthread_mutex_unlock(&mu_); }
  // Waits at most `timeout` for the lock; true when it is held.
  bool try_lock_for(std::chrono::microseconds timeout) {
    timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    const int64_t ns = deadline.tv_nsec + timeout.count() * 1000;
    deadline.tv_sec += ns / 1000000000;
    deadline.tv_nsec = ns % 1000000000;
    waiters_.fetch_add(1, std::memory_order_relaxed);
    const bool got = pthread_mutex_timedlock(&mu_, &deadline) == 0;
    waiters_.fetch_sub(1, std::memory_order_relaxed);
    return got;
  }
  // Threads blocked in lock() or try_lock_for() right now. A background
  // walker that locks the shard step after step (the snapshot) checks it
  // after each unlock and lets them in first: a pthread mutex hands itself
  // to whoever asks first, and a thread that re-locks at once would starve
  // a woken waiter for as long as it keeps going.
  int waiters() const { return waiters_.load(std::memory_order_relaxed); }

 private:
  pthread_mutex_t mu_;
  std::atomic<int> waiters_{0};
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
  // `eviction` (shared by the keyspace's shards, outliving them) says how
  // accesses are recorded and victims chosen; nullptr: defaults (LRU stamps,
  // noeviction).
  explicit Shard(uint32_t order, const EvictionSettings* eviction = nullptr);
  ~Shard();
  Shard(const Shard&) = delete;
  Shard& operator=(const Shard&) = delete;

  ShardMutex& mu() { return mu_; }
  uint32_t order() const { return order_; }

  // The live entry for `key`, or nullptr (an expired one is reclaimed first).
  Entry* Find(std::string_view key, int64_t now_ms);
  // Find() that also counts a keyspace hit or miss (reads by GET-like commands).
  Entry* FindForRead(std::string_view key, int64_t now_ms);
  // Find() that leaves the access history alone (OBJECT, TYPE-like peeks).
  Entry* Peek(std::string_view key, int64_t now_ms);
  // Takes ownership of `entry` and links it, destroying any entry with the
  // same key. Registers its expiry with the timer wheel. Returns whether it
  // replaced one.
  bool Insert(Entry* entry);
  // Sizes an empty shard's key table for `keys` keys (HashTable::Reserve).
  void Reserve(size_t keys);
  // Cache hints ahead of Insert() of a key whose KeyHash is `key_hash`, for
  // bulk loads: stage 0 the bucket slot, stage 1 its chain's first entry
  // (HashTable::PrefetchSlot / PrefetchChain). They change nothing.
  // REQUIRES: mu() held, or no other thread changes the shard meanwhile (the
  // start-up load's inserter, which owns its shards).
  void Prefetch(uint64_t key_hash, int stage) const;
  // Unlinks `key` and hands the entry to the caller (nullptr if absent or expired).
  Entry* Detach(std::string_view key, int64_t now_ms);
  // Unlinks and destroys `key`; true if a live key was removed.
  bool Erase(std::string_view key, int64_t now_ms);

  // Replaces linked `entry` with `updated` (the result of an Entry::With...
  // call on it, possibly the same address) and keeps the timer wheel and the
  // expires count right. Returns `updated`. `entry` may already be freed: it
  // is only compared by address.
  // REQUIRES: `updated` has `entry`'s key and expiry (change the expiry with
  // SetExpiry, which also reschedules it). The change is already made, so a
  // running snapshot cannot save the old value: commands use Update.
  Entry* Relink(Entry* entry, Entry* updated);
  // Relink(entry, change(entry)) that also keeps the shard's byte count
  // right: `change` is an Entry::With... call on `entry` (the same key and
  // expiry). Returns the entry's new address.
  Entry* Update(Entry* entry, absl::FunctionRef<Entry*(Entry*)> change);
  // Sets (or clears, for 0) the expiry of a linked entry; returns its new address.
  Entry* SetExpiry(Entry* entry, int64_t expire_at_ms);

  // Keys (live or not yet reclaimed) and keys with a deadline. Readable
  // without the lock, from any thread.
  size_t size() const { return keys_.get(); }
  size_t expires_count() const { return expires_.get(); }
  // Bytes of the entries' fields (Entry::UsedBytes summed): the shard's share
  // of memory, for spreading eviction. Readable without the lock.
  size_t used_bytes() const { return bytes_.get(); }
  // Whether the key table is between two sizes: a resize in progress, moved
  // along by Find, Insert and ActiveExpire (see HashTable).
  bool rehashing() const;
  // Reclaims keys whose deadline is <= now_ms, looking at no more than
  // `budget` timer records. Returns how many keys it reclaimed.
  size_t ActiveExpire(int64_t now_ms, size_t budget);

  // What one Evict() call did.
  struct EvictResult {
    size_t evicted = 0;       // live keys evicted
    size_t expired = 0;       // expired keys reclaimed on the way
    size_t bytes_freed = 0;   // allocator bytes of both (Entry::AllocatedBytes)
    bool exhausted = false;   // nothing (more) here that the policy may evict
  };
  // Frees memory by the settings' policy until `bytes` are freed or
  // `max_keys` keys evicted, whichever comes first. Keys already past their
  // deadline go first: due timer records are serviced, and expired keys that
  // sampling meets are reclaimed (as expiry, not eviction). Then victims are
  // sampled (maxmemory-samples entries from consecutive buckets starting at
  // a random one) and chosen: the longest idle (LRU), the lowest counter
  // (LFU), any (random), the nearest deadline (volatile-ttl), or by the
  // sampled S3-FIFO rule (allkeys-s3fifo: probation keys not used again go
  // first while the probation queue holds over a tenth of the keys,
  // otherwise main-queue keys whose count has run down; used keys are
  // promoted or have their count decremented instead). volatile-* policies
  // only sample keys with a deadline. `on_evicted` is called with each
  // victim's key before it is destroyed. Does nothing under noeviction.
  EvictResult Evict(size_t bytes, size_t max_keys, int64_t now_ms,
                    absl::FunctionRef<void(std::string_view key)> on_evicted);

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

  // Point-in-time snapshots (storage/snapshot_sink.h). BeginSnapshot makes
  // this instant the snapshot's: every entry now present will be handed to
  // `sink` exactly once, as it is now — by SnapshotStep, or by the mutation
  // that changes or removes it first. `sink` must outlive the walk.
  // REQUIRES: no snapshot running on this shard (the previous walk finished).
  void BeginSnapshot(SnapshotSink* sink);
  // Walks on: saves the pending entries of about `max_entries` more entries
  // visited. Returns true when the walk is over (every entry of the instant
  // is saved and the sink is no longer used).
  bool SnapshotStep(size_t max_entries);
  bool snapshot_running() const;

  // Called (under the lock) for every key reclaimed by expiry, lazy or active;
  // keyspace notifications hook in here.
  void set_on_expired(std::function<void(std::string_view key)> fn);

 private:
  struct Impl;
  // Mirrors the table's size and the expires count into keys_/expires_.
  void PublishCounts();

  // Records an access to live entry `e` (the settings' access mode).
  void RecordAccess(Entry* e, int64_t now_ms);
  // The access byte a new entry starts with (`key_hash`: KeyHash of its key).
  uint8_t InitialAccess(uint64_t key_hash);
  // The age sweep: visits about size * elapsed / period entries per call.
  void AgeSweep(int64_t now_ms);
  // Active expiry's timer-wheel pass alone (ActiveExpire without the sweep
  // and the background rehash). Returns keys reclaimed.
  size_t ReclaimDue(int64_t now_ms, size_t budget);

  ShardMutex mu_;
  uint32_t order_;
  const EvictionSettings* eviction_;
  std::unique_ptr<Impl> impl_;
  ShardCounter keys_, expires_, bytes_, hits_, misses_, expired_;
};

}  // namespace sluice::storage
