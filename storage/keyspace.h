#pragma once
// Keyspace: the databases (SELECT 0..N-1), each split into a power-of-two
// number of shards, and the LazyFreer that frees what asynchronous flushes and
// UNLINK take out of them. Callers lock the shards they touch, always in
// ascending order() so that no two commands deadlock (the server's lock
// planner does this for every command); the members below say which locks
// they require. Counts and statistics are readable without any lock.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "storage/eviction.h"
#include "storage/lazy_free.h"
#include "storage/shard.h"

namespace sluice::storage {

class Database {
 public:
  // `shard_count` must be a power of two; `first_order` numbers the shards'
  // lock order; `eviction` is handed to every shard (see Shard).
  Database(size_t shard_count, uint32_t first_order, const EvictionSettings* eviction = nullptr);

  size_t shard_count() const { return shards_.size(); }
  size_t ShardIndex(std::string_view key) const { return KeyHash(key) & (shards_.size() - 1); }
  Shard& ShardFor(std::string_view key) { return *shards_[ShardIndex(key)]; }
  Shard& shard(size_t i) { return *shards_[i]; }

  // Keys and keys with a deadline; no lock needed (each shard's count is
  // exact, their sum is not one point in time unless the caller holds them).
  size_t Size() const;
  size_t ExpiresCount() const;
  // SCAN over the whole database: the cursor carries the shard index in its
  // low bits and that shard's bucket cursor above them. Returns the next cursor.
  // REQUIRES: every shard of the database locked.
  uint64_t Scan(uint64_t cursor, size_t count, int64_t now_ms,
                const std::function<void(const Entry&)>& visit);

 private:
  std::vector<std::unique_ptr<Shard>> shards_;
};

class Keyspace {
 public:
  Keyspace(size_t databases, size_t shards_per_db, LazyFreer::Options freer_options = {});
  size_t database_count() const { return dbs_.size(); }
  size_t shards_per_db() const;
  Database& db(size_t i) { return *dbs_[i]; }
  // How every shard records accesses and picks eviction victims.
  EvictionSettings& eviction() { return eviction_; }

  // Exchanges the contents of two databases.
  // REQUIRES: every shard of both databases locked.
  void SwapDatabases(size_t a, size_t b);
  // Removes every key of database `i` (all of them for FlushAll). With
  // `async`, the old contents are handed to the lazy freer: the shards are
  // empty when this returns and the entries are freed on its thread (inline
  // when its queue is full).
  // REQUIRES: every shard of the database(s) locked.
  void FlushDb(size_t i, bool async);
  void FlushAll(bool async);
  // FlushDb for one shard whose lock the caller already holds (for callers
  // that hold several shard locks, such as a transaction).
  // REQUIRES: the caller holds shard.mu().
  void FlushShardLocked(Shard& shard, bool async);

  // Frees deferred by flushes and UNLINK (LazyFreer::pending_items) that
  // have not finished yet; WaitForAsyncFrees() waits, at most `timeout`, until
  // there are none and returns whether it got there (tests, shutdown).
  size_t async_frees_in_flight() const;
  bool WaitForAsyncFrees(std::chrono::milliseconds timeout = std::chrono::seconds(60)) const;
  LazyFreer& lazy_freer() { return freer_; }
  const LazyFreer& lazy_freer() const { return freer_; }

  // Runs active expiry on shards [begin, end) of every database, with at most
  // `budget_per_shard` wheel records looked at per shard. Locks each shard in
  // turn, skipping (never waiting for) one that is held. Returns keys reclaimed.
  size_t ActiveExpire(size_t begin_shard, size_t end_shard, int64_t now_ms,
                      size_t budget_per_shard);

  // Sum of the stats of all shards; no lock needed.
  ShardStats TotalStats();
  void ResetStats();
  size_t MemoryBytes();

 private:
  EvictionSettings eviction_;  // before dbs_: their shards point at it
  std::vector<std::unique_ptr<Database>> dbs_;
  // Holds only what was taken out of dbs_, so it may be destroyed (drained)
  // before or after them.
  LazyFreer freer_;
};

// Locks a set of shards in ascending order(), skipping duplicates, waiting as
// long as it takes; unlocks on destruction. For tests and tools: the server
// locks through its lock planner, whose waits are bounded.
class MultiLock {
 public:
  explicit MultiLock(std::vector<Shard*> shards);
  ~MultiLock();
  MultiLock(const MultiLock&) = delete;
  MultiLock& operator=(const MultiLock&) = delete;

 private:
  std::vector<Shard*> shards_;
};

}  // namespace sluice::storage
