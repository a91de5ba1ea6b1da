// Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH, and the queueing of
// commands between MULTI and EXEC (QueueInTransaction, called by dispatch).

#include <algorithm>
#include <vector>

#include "common/strings.h"
#include "protocol/errors.h"
#include "server/dispatch/command.h"
#include "server/dispatch/dispatch.h"
#include "server/dispatch/keyspace_access.h"
#include "server/dispatch/lock_planner.h"
#include "server/scripting/scripting.h"
#include "storage/clock.h"
#include "server/process/server.h"
#include "server/txn/transaction.h"
#include "storage/keyspace.h"

namespace sluice::server {
namespace {

constexpr std::string_view kExecAbort =
    "EXECABORT Transaction discarded because of previous errors.";

// The shards EXEC holds while it runs: what the lock planner says for every
// queued command (each in the database it will run in: a queued SELECT moves
// the ones after it), and every watched key's.
void PlanTransaction(const Transaction& tx, LockPlan& plan) {
  for (const Transaction::QueuedCommand& q : tx.queued()) PlanLocks(*q.spec, q.args, plan);
  for (const Transaction::WatchedKey& w : tx.watched()) plan.AddKey(w.db, w.key);
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
  LockPlan plan(keyspace, ctx.client.db());
  // A queued script that learned it needs its whole database gets it here.
  plan.scripts = &ctx.server.scripts().scopes();
  PlanTransaction(tx, plan);
  ShardLocks locks;
  bool busy = false;
  const auto give_up = [&] {
    if (ctx.server.stopping()) return true;
    busy = ctx.server.scripts().BusyPastThreshold(storage::NowMs());
    return busy;
  };
  if (locks.Acquire(plan, give_up) != ShardLocks::Result::kLocked) {
    // A script past busy-reply-threshold holds a shard it needs: refused
    // as Redis refuses EXEC while a script is busy.
    tx.End();
    tx.UnwatchAll(keyspace);
    return ctx.w.Error(StrCat("EXECABORT Transaction discarded because of: ",
                              busy ? ctx.server.scripts().BusyError(storage::NowMs())
                                   : std::string_view("ERR the server is shutting down")));
  }
  const bool changed = tx.WatchedKeyChanged(keyspace, ctx.now_ms);
  tx.UnwatchAll(keyspace);  // the transaction's own writes must not count
  if (changed) {
    ctx.w.NullArray();
  } else {
    // Every command sees the same clock, so no key expires half-way.
    ctx.w.ArrayHeader(tx.queued().size());
    for (const Transaction::QueuedCommand& q : tx.queued()) {
      CommandContext sub{ctx.server, ctx.client, q.args, ctx.w, ctx.now_ms, ctx.subscriber};
      sub.locks = &locks;
      DispatchResult r = RunResolved(sub, *q.spec, Origin::kTransaction);
      if (r.kind == DispatchResult::kRefused) ctx.w.Error(r.error);
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
