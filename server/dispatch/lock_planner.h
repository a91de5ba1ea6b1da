#pragma once
// The lock planner: which shards a command locks, and the set of shard locks
// a command, a transaction or a script holds.
//
// Every caller (a connection's command, EXEC, a script's redis.call) turns a
// command row into a LockPlan with PlanLocks() and locks it through a
// ShardLocks. The scope comes from the row alone: its key positions, kWholeDb,
// kAllDbs, or its own `keys` function (EVAL's numkeys, MOVE/COPY's target
// database, SWAPDB's two databases, SELECT's change of database for the
// commands after it in a transaction). Shards are always locked in ascending
// order() (one global order across databases), so no two callers deadlock,
// and every wait is bounded: a waiter asks its give-up test between short
// timed waits (BUSY while a script runs too long, shutdown), so no I/O thread
// ever waits without bound behind a script or a transaction.
//
// Not thread-safe: a LockPlan and a ShardLocks belong to one caller.

#include <cstddef>
#include <string_view>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/functional/function_ref.h"
#include "server/dispatch/command.h"
#include "storage/keyspace.h"

namespace sluice::server {

struct LockPlan {
  LockPlan(storage::Keyspace& ks, int selected_db) : keyspace(ks), db(selected_db) {}

  // The shard of `key` in database `db_index` (out-of-range indexes are
  // ignored: the handler will reply the error).
  void AddKey(int64_t db_index, std::string_view key) {
    if (db_index < 0 || static_cast<size_t>(db_index) >= keyspace.database_count()) return;
    needs.push_back(Need{&keyspace.db(static_cast<size_t>(db_index)).ShardFor(key), key});
  }
  // Every shard of database `db_index`.
  void AddDb(int64_t db_index);
  void AddAllDbs();

  struct Need {
    storage::Shard* shard;
    // A null view (data() == nullptr) for a whole-database need; a key
    // need's view points into the command's arguments, even for "".
    std::string_view key;
  };
  storage::Keyspace& keyspace;
  // The database the command runs in. SELECT's planner changes it, so that
  // the commands queued after it in MULTI are planned in the new one.
  int db;
  // Inline for the common few keys: planning allocates nothing per command.
  absl::InlinedVector<Need, 16> needs;
};

// Adds what running `spec` with `args` locks in plan.db.
void PlanLocks(const CommandSpec& spec, const protocol::CommandArgs& args, LockPlan& plan);

class ShardLocks {
 public:
  ShardLocks() = default;
  ~ShardLocks() { ReleaseTo(0); }
  ShardLocks(const ShardLocks&) = delete;
  ShardLocks& operator=(const ShardLocks&) = delete;

  enum class Result {
    kLocked,      // every shard of the plan is held
    kOutOfOrder,  // a needed shard comes before one already held; nothing new locked
    kGaveUp,      // `give_up` said to stop waiting; nothing new locked
  };
  // Locks every shard of `plan` not held yet, in ascending order. A held set
  // only grows upwards: a script that holds shards and needs one below them
  // gets kOutOfOrder, with *out_of_order naming the need.
  Result Acquire(const LockPlan& plan, absl::FunctionRef<bool()> give_up,
                 LockPlan::Need* out_of_order = nullptr);

  bool Holds(const storage::Shard* shard) const;
  size_t size() const { return held_.size(); }
  // Unlocks the shards acquired after the first `n` (a script releases what
  // it locked on top of its transaction's set).
  void ReleaseTo(size_t n);

 private:
  absl::InlinedVector<storage::Shard*, 16> held_;  // ascending order()
};

}  // namespace sluice::server
