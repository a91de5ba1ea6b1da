#pragma once
// Keyspace: the databases (SELECT 0..N-1), each split into a power-of-two
// number of shards. Callers lock the shards they touch, always in ascending
// order() so that no two commands deadlock (the server's lock planner does
// this for every command); the members below say which locks they require.
// Counts and statistics are readable without any lock.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "storage/shard.h"

namespace sluice::storage {

class Database {
 public:
  // `shard_count` must be a power of two; `first_order` numbers the shards'
  // lock order.
  Database(size_t shard_count, uint32_t first_order);

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
  Keyspace(size_t databases, size_t shards_per_db);
  size_t database_count() const { return dbs_.size(); }
  size_t shards_per_db() const;
  Database& db(size_t i) { return *dbs_[i]; }

  // Exchanges the contents of two databases.
  // REQUIRES: every shard of both databases locked.
  void SwapDatabases(size_t a, size_t b);
  // Removes every key of database `i` (all of them for FlushAll). With
  // `async`, the entries are freed on a background thread after the shards
  // are already empty.
  // REQUIRES: every shard of the database(s) locked.
  void FlushDb(size_t i, bool async);
  void FlushAll(bool async);
  // Background frees started by async flushes that have not finished yet;
  // WaitForAsyncFrees() blocks until there are none (tests, shutdown).
  size_t async_frees_in_flight() const;
  void WaitForAsyncFrees() const;

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
  std::vector<std::unique_ptr<Database>> dbs_;
  // Shared with the background threads, which may outlive the keyspace.
  std::shared_ptr<std::atomic<size_t>> async_frees_;
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
