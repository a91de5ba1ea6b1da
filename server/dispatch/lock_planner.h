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

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "absl/functional/function_ref.h"
#include "protocol/arg_reader.h"
#include "server/dispatch/command.h"
#include "server/dispatch/script_scopes.h"
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
  // What a script row adds for the scope recorded for its script: nothing
  // for kKeys, database `db` for kWholeDb, every database for kAllDbs.
  void AddScope(ScriptScopes::Scope scope);

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
  // The scopes learned per script, for script rows' planners; null (what
  // COMMAND GETKEYS plans with) plans the declared keys only.
  const ScriptScopes* scripts = nullptr;
  // Inline for the common few keys: planning allocates nothing per command.
  absl::InlinedVector<Need, 16> needs;
};

// A row's `keys` planner for commands whose keys follow a count argument at
// position kCountAt: EVAL (2), SINTERCARD, ZUNION, ZMPOP (1), ZUNIONSTORE
// (2, after the destination). A count that is not a number, is negative or
// runs past the arguments plans nothing: the handler replies the error.
template <size_t kCountAt>
void PlanCountedKeys(const protocol::CommandArgs& args, LockPlan& plan) {
  if (args.size() <= kCountAt) return;
  const std::optional<int64_t> n = protocol::ParseInt64(args[kCountAt]);
  if (!n || *n < 0 || *n > static_cast<int64_t>(args.size() - kCountAt - 1)) return;
  for (int64_t i = 0; i < *n; ++i)
    plan.AddKey(plan.db, args[kCountAt + 1 + static_cast<size_t>(i)]);
}

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
  // gets kOutOfOrder, with *out_of_order naming the need. While it waits and
  // some caller is inside AcquireOutOfOrder, it lets go of what this call
  // took so far and starts again (that caller may be waiting for one of
  // them, and cannot block for it).
  Result Acquire(const LockPlan& plan, absl::FunctionRef<bool()> give_up,
                 LockPlan::Need* out_of_order = nullptr);
  // Locks every shard of `plan` not held yet, whatever their order, without
  // ever blocking on one: all of them are try-locked together, and when one
  // is taken the round's locks are dropped and it tries again (a short pause
  // between rounds) until `budget` has passed
  // (kOutOfOrder, nothing new locked) or `give_up` says to stop (kGaveUp).
  // Never blocking is what keeps this deadlock-free: the holder of a shard
  // this caller wants may be waiting for one this caller holds, and then this
  // caller's budget runs out and it carries on without. The held set stays
  // sorted by order().
  Result AcquireOutOfOrder(const LockPlan& plan, absl::FunctionRef<bool()> give_up,
                           std::chrono::milliseconds budget);

  bool Holds(const storage::Shard* shard) const;
  size_t size() const { return held_.size(); }
  // Unlocks every shard but the first `n` in order() (Acquire undoes a
  // partial acquisition with it; ReleaseTo(0) drops everything, as a
  // command restarting with a wider plan does).
  void ReleaseTo(size_t n);

 private:
  // The plan's shards not held yet, ascending, without duplicates.
  absl::InlinedVector<storage::Shard*, 16> Missing(const LockPlan& plan) const;

  absl::InlinedVector<storage::Shard*, 16> held_;  // ascending order()
};

}  // namespace sluice::server
