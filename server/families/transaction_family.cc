// Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH, and the queueing of
// commands between MULTI and EXEC (QueueInTransaction, called by dispatch).

#include <algorithm>
#include <vector>

#include "server/dispatch/command.h"
#include "server/dispatch/keyspace_access.h"
#include "server/process/server.h"
#include "server/txn/transaction.h"
#include "storage/keyspace.h"

namespace sluice::server {
namespace {

constexpr std::string_view kExecAbort =
    "EXECABORT Transaction discarded because of previous errors.";

// Whether running `spec` may lock shards other than those of its key
// positions in the selected database: one flagged kWholeKeyspace (MOVE, COPY,
// SELECT, scripts), or a command without key positions (KEYS, DBSIZE,
// FLUSHALL, INFO, ...) unless it is flagged kNoKeyspace (PING, ECHO, PUBLISH,
// CLIENT, ...: no key, no lock). A command that locks shards one after another
// must be here: inside EXEC it would take them out of the global order.
bool ReachesWholeKeyspace(const CommandSpec& spec) {
  if (spec.flags & kWholeKeyspace) return true;
  return spec.first_key <= 0 && !(spec.flags & kNoKeyspace);
}

// Appends the shards of `args`' keys, as the row's first/last/step positions
// name them, in database `db`.
void AddKeyShards(storage::Database& db, const CommandSpec& spec, const protocol::CommandArgs& args,
                  std::vector<storage::Shard*>* shards) {
  const int argc = static_cast<int>(args.size());
  const int last = spec.last_key < 0 ? argc + spec.last_key : std::min(spec.last_key, argc - 1);
  const int step = std::max(spec.key_step, 1);
  for (int i = spec.first_key; i <= last; i += step) shards->push_back(&db.ShardFor(args[i]));
}

// The shards EXEC holds while it runs: those of every queued command's keys
// and every watched key, or every shard of every database when a queued
// command may reach further. MultiLock takes them in the global order.
std::vector<storage::Shard*> ShardsToLock(storage::Keyspace& keyspace, int db,
                                          const Transaction& tx) {
  std::vector<storage::Shard*> shards;
  bool whole = false;
  for (const Transaction::QueuedCommand& q : tx.queued()) {
    if (ReachesWholeKeyspace(*q.spec)) {
      whole = true;
      break;
    }
  }
  if (whole) {
    shards.reserve(keyspace.database_count() * keyspace.shards_per_db());
    for (size_t d = 0; d < keyspace.database_count(); ++d) {
      storage::Database& database = keyspace.db(d);
      for (size_t i = 0; i < database.shard_count(); ++i) shards.push_back(&database.shard(i));
    }
    return shards;
  }
  for (const Transaction::QueuedCommand& q : tx.queued()) {
    AddKeyShards(keyspace.db(db), *q.spec, q.args, &shards);
  }
  for (const Transaction::WatchedKey& w : tx.watched()) {
    shards.push_back(&keyspace.db(w.db).ShardFor(w.key));
  }
  return shards;
}

void CmdMulti(CommandContext& ctx) {
  Transaction& tx = ctx.client.transaction();
  if (tx.in_multi()) return ctx.w.Error("ERR MULTI calls can not be nested");
  tx.Begin();
  ctx.w.Ok();
}

void CmdExec(CommandContext& ctx) {
  Transaction& tx = ctx.client.transaction();
  storage::Keyspace& keyspace = ctx.server.keyspace();
  if (!tx.in_multi()) return ctx.w.Error("ERR EXEC without MULTI");
  if (tx.rejected()) {
    tx.End();
    tx.UnwatchAll(keyspace);
    return ctx.w.Error(kExecAbort);
  }
  {
    storage::MultiLock lock(ShardsToLock(keyspace, ctx.client.db(), tx));
    const bool changed = tx.WatchedKeyChanged(keyspace, ctx.now_ms);
    tx.UnwatchAll(keyspace);  // the transaction's own writes must not count
    if (changed) {
      ctx.w.NullArray();
    } else {
      // Every command sees the same clock, so no key expires half-way.
      ctx.w.ArrayHeader(tx.queued().size());
      for (const Transaction::QueuedCommand& q : tx.queued()) {
        CommandContext sub{ctx.server, ctx.client, q.args, ctx.w, ctx.now_ms, ctx.subscriber};
        q.spec->handler(sub);
      }
    }
  }
  tx.End();
}

void CmdDiscard(CommandContext& ctx) {
  Transaction& tx = ctx.client.transaction();
  if (!tx.in_multi()) return ctx.w.Error("ERR DISCARD without MULTI");
  tx.End();
  tx.UnwatchAll(ctx.server.keyspace());
  ctx.w.Ok();
}

void CmdWatch(CommandContext& ctx) {
  Transaction& tx = ctx.client.transaction();
  if (tx.in_multi()) return ctx.w.Error("ERR WATCH inside MULTI is not allowed");
  for (size_t i = 1; i < ctx.argc(); ++i) {
    tx.Watch(ctx.server.keyspace(), ctx.client.db(), ctx.arg(i), ctx.now_ms);
  }
  ctx.w.Ok();
}

void CmdUnwatch(CommandContext& ctx) {
  ctx.client.transaction().UnwatchAll(ctx.server.keyspace());
  ctx.w.Ok();
}

constexpr FamilyRows Row("transactions");

}  // namespace

bool QueueInTransaction(CommandContext& ctx, const CommandSpec& spec) {
  Transaction& tx = ctx.client.transaction();
  if (!tx.in_multi() || (spec.flags & kRunsInMulti)) return false;
  if (spec.flags & kNoMulti) {
    tx.Reject();
    ctx.w.Error("ERR Command not allowed inside a transaction");
    return true;
  }
  tx.Queue(spec, ctx.args);
  ctx.w.SimpleString("QUEUED");
  return true;
}

void RegisterTransactionFamily(CommandTable& t) {
  constexpr uint32_t kTx = kNoScript | kLoading | kStale;
  t.Add(Row("multi", 1, kTx | kFast | kAllowBusy | kRunsInMulti, 0, 0, 0, CmdMulti,
            "Start a transaction: later commands are queued until EXEC or DISCARD.", "1.2.0",
            "O(1)", "@fast @transaction"));
  t.Add(Row("exec", 1, kTx | kSkipSlowlog | kRunsInMulti, 0, 0, 0, CmdExec,
            "Run the queued commands of a transaction as one atomic step.", "1.2.0",
            "Depends on the queued commands", "@slow @transaction"));
  t.Add(Row("discard", 1, kTx | kFast | kAllowBusy | kRunsInMulti, 0, 0, 0, CmdDiscard,
            "Drop the queued commands of a transaction and forget watched keys.", "2.0.0",
            "O(N) where N is the number of queued commands", "@fast @transaction"));
  t.Add(Row("watch", -2, kTx | kFast | kAllowBusy | kRunsInMulti, 1, -1, 1, CmdWatch,
            "Make the next EXEC fail if any of these keys changes first.", "2.2.0",
            "O(1) for every key", "@fast @transaction"));
  t.Add(Row("unwatch", 1, kTx | kFast | kAllowBusy, 0, 0, 0, CmdUnwatch,
            "Forget every key this connection watches.", "2.2.0", "O(1)", "@fast @transaction"));
}

}  // namespace sluice::server
