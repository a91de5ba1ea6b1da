#include "server/dispatch/dispatch.h"

#include <chrono>
#include <string_view>
#include <vector>

#include "common/strings.h"
#include "protocol/errors.h"
#include "server/dispatch/lock_planner.h"
#include "server/memory/evictor.h"
#include "server/process/server.h"
#include "server/process/snapshots.h"
#include "server/scripting/scripting.h"
#include "server/txn/transaction.h"
#include "storage/clock.h"

namespace sluice::server {
namespace {

constexpr std::string_view kShuttingDown = "ERR the server is shutting down";
// How long a script (or EXEC) that needs a shard below those it holds, and
// may no longer start over, keeps try-locking it before it gives up.
constexpr auto kOutOfOrderBudget = std::chrono::milliseconds(100);
// How often one command may start over with a wider plan (a script widens
// at most twice: to its database, then to every database).
constexpr int kMaxReruns = 3;

// Whether a client command is refused while memory is full (Redis's rules):
// denyoom commands; anything that would be queued inside MULTI (the queue
// itself grows memory); EXEC of a queue holding a denyoom command.
bool RefusedWhenOom(const CommandContext& ctx, const CommandSpec& spec) {
  if (spec.flags & kDenyOom) return true;
  const Transaction& tx = ctx.client.transaction();
  if (!tx.in_multi()) return false;
  if (!(spec.flags & kRunsInMulti)) return true;
  if (spec.name != "exec") return false;
  for (const Transaction::QueuedCommand& q : tx.queued()) {
    if (q.spec->flags & kDenyOom) return true;
  }
  return false;
}

// Whether a command is refused after a failed background save (Redis's
// rules): write commands, PING, and EXEC of a queue holding a write.
bool RefusedOnDiskError(const CommandContext& ctx, const CommandSpec& spec, Origin origin) {
  if (spec.flags & kWrite) return true;
  if (origin != Origin::kClient) return false;
  if (spec.name == "ping") return true;
  if (spec.name != "exec" || !ctx.client.transaction().in_multi()) return false;
  for (const Transaction::QueuedCommand& q : ctx.client.transaction().queued()) {
    if (q.spec->flags & kWrite) return true;
  }
  return false;
}

// Step 2: the checks before a command runs. Returns false with *error set
// to the refusal's text when it may not.
bool Gate(CommandContext& ctx, const CommandSpec& spec, Origin origin, const ScriptCall* script,
          std::string* error) {
  Server& server = ctx.server;
  if (origin == Origin::kClient && !ctx.client.authenticated() && !(spec.flags & kNoAuth)) {
    *error = protocol::errors::kNoAuth;
    return false;
  }
  if (origin == Origin::kScript) {
    if (spec.flags & kNoScript) {
      *error = "ERR This Redis command is not allowed from script";
      return false;
    }
    if ((spec.flags & kWrite) && script != nullptr && script->read_only) {
      *error = "ERR Write commands are not allowed from read-only scripts.";
      return false;
    }
    if (script != nullptr && script->running != nullptr &&
        script->running->kill.load(std::memory_order_relaxed)) {
      *error = kScriptKilledError;
      return false;
    }
    // A script without flags that started while memory was full may not
    // grow it before its first write (after that, refusing would break its
    // atomicity).
    if (script != nullptr && script->oom && !script->allow_oom && (spec.flags & kDenyOom) &&
        (script->running == nullptr || !script->running->wrote.load(std::memory_order_relaxed))) {
      *error = protocol::errors::kOom;
      return false;
    }
  }
  // Memory: evict down to maxmemory before a client's command (never while
  // a busy script runs or the start-up load fills the shards, as Redis);
  // refuse what would grow memory when nothing is left to evict.
  if (origin == Origin::kClient && server.config().maxmemory() != 0 && !server.loading() &&
      !server.scripts().BusyPastThreshold(ctx.now_ms)) {
    ctx.oom = server.evictor().MakeRoom(ctx.now_ms) == Evictor::State::kFail;
    if (ctx.oom && RefusedWhenOom(ctx, spec)) {
      *error = protocol::errors::kOom;
      return false;
    }
  }
  if (origin != Origin::kTransaction && server.snapshots().WritesRefused() &&
      RefusedOnDiskError(ctx, spec, origin)) {
    *error = protocol::errors::kMisconf;
    return false;
  }
  if (origin == Origin::kClient) {
    if (ctx.client.resp() == 2 && !(spec.flags & kAllowedInSubscribe) &&
        ctx.client.subscribed()) {
      *error = StrCat("ERR Can't execute '", spec.name,
                      "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET "
                      "are allowed in this context");
      return false;
    }
    if (server.loading() && !(spec.flags & kLoading)) {
      *error = protocol::errors::kLoading;
      return false;
    }
    if (!(spec.flags & kAllowBusy) && server.scripts().BusyPastThreshold(ctx.now_ms)) {
      *error = server.scripts().BusyError(ctx.now_ms);
      return false;
    }
  }
  return true;
}

}  // namespace

const CommandSpec* ResolveCommand(const CommandTable& table, const protocol::CommandArgs& args,
                                  ResolveError* why, std::string* error) {
  const CommandSpec* spec = table.Find(args[0]);
  if (spec == nullptr) {
    std::vector<std::string_view> rest;
    for (size_t i = 1; i < args.size(); ++i) rest.push_back(args[i]);
    *why = ResolveError::kUnknownCommand;
    *error = protocol::errors::UnknownCommand(args[0], rest.data(), rest.size());
    return nullptr;
  }
  if (!spec->CheckArity(args.size())) {
    *why = ResolveError::kWrongArity;
    *error = protocol::errors::WrongArity(spec->name);
    return nullptr;
  }
  if (spec->subcommands.empty() || (args.size() < 2 && spec->handler != nullptr)) return spec;
  const CommandSpec* sub = spec->FindSubcommand(args[1]);
  if (sub == nullptr) {
    *why = ResolveError::kUnknownSubcommand;
    *error = protocol::errors::UnknownSubcommand(spec->name, args[1]);
    return nullptr;
  }
  if (!sub->CheckArity(args.size())) {
    *why = ResolveError::kWrongArity;
    *error = protocol::errors::WrongArity(sub->name);
    return nullptr;
  }
  return sub;
}

DispatchResult Dispatch(CommandContext& ctx, Origin origin, const ScriptCall* script) {
  DispatchResult r;
  const CommandSpec* spec =
      ResolveCommand(ctx.server.commands(), ctx.args, &r.resolve, &r.error);
  if (spec == nullptr) return r;
  return RunResolved(ctx, *spec, origin, script);
}

DispatchResult RunResolved(CommandContext& ctx, const CommandSpec& spec, Origin origin,
                           const ScriptCall* script) {
  DispatchResult r;
  r.spec = &spec;
  Server& server = ctx.server;
  if (!Gate(ctx, spec, origin, script, &r.error)) return r;
  if (origin == Origin::kClient) ctx.client.Touch(ctx.now_ms, spec.name.c_str());
  if (origin == Origin::kClient && QueueInTransaction(ctx, spec)) {
    r.kind = DispatchResult::kQueued;
    return r;
  }

  // Step 3: lock what the row says, on top of what the caller holds.
  LockPlan plan(server.keyspace(), ctx.client.db());
  plan.scripts = &server.scripts().scopes();
  PlanLocks(spec, ctx.args, plan);
  ShardLocks own;
  ShardLocks* const saved = ctx.locks;
  ShardLocks& locks = saved != nullptr ? *saved : own;

  RunningScript* self = script != nullptr ? script->running : nullptr;
  bool busy = false;
  auto give_up = [&] {
    if (server.stopping()) return true;
    if (self != nullptr && self->kill.load(std::memory_order_relaxed)) return true;
    busy = server.scripts().BusyPastThreshold(storage::NowMs(), self);
    return busy;
  };
  for (int run = 0;; ++run) {
    LockPlan::Need late{};
    ShardLocks::Result got = locks.Acquire(plan, give_up, &late);
    if (got == ShardLocks::Result::kOutOfOrder) {
      // Only a script (or EXEC running one that learned its scope half-way)
      // extending its set meets this. Before any side effect, a script
      // starts over, and its command plans the wider scope; after one, the
      // shards are try-locked, never waited for against the order.
      r.out_of_order = true;
      if (script != nullptr && script->restartable && self != nullptr && !self->effects) {
        r.kind = DispatchResult::kRestart;
        return r;
      }
      got = locks.AcquireOutOfOrder(plan, give_up, kOutOfOrderBudget);
      server.scripts().CountLateLock(got == ShardLocks::Result::kLocked);
    }
    switch (got) {
      case ShardLocks::Result::kLocked:
        break;
      case ShardLocks::Result::kGaveUp:
        r.error = busy ? std::string(server.scripts().BusyError(storage::NowMs()))
                  : (self != nullptr && self->kill.load()) ? std::string(kScriptKilledError)
                                                           : std::string(kShuttingDown);
        return r;
      case ShardLocks::Result::kOutOfOrder:
        r.error = late.key.empty()
                      ? StrCat("ERR script tried accessing the whole database with '",
                               spec.name, "' while holding its keys' locks")
                      : StrCat("ERR script tried accessing undeclared key '", late.key, "'");
        return r;
    }

    // Step 4.
    if (self != nullptr) {
      if (spec.flags & kWrite) self->wrote.store(true, std::memory_order_relaxed);
      if (spec.flags & (kWrite | kPubSub | kAdmin)) self->effects = true;
    }
    ctx.locks = &locks;
    ctx.may_rerun = saved == nullptr && run < kMaxReruns;
    if (spec.first_key == 1 && !plan.needs.empty() &&
        plan.needs[0].key.data() == ctx.args[1].data()) {
      ctx.key_shard = plan.needs[0].shard;
    }
    spec.handler(ctx);
    ctx.key_shard = nullptr;
    ctx.may_rerun = false;
    if (!ctx.rerun) break;
    // The handler (a script that learned it needs more) asked to start over
    // before doing anything: drop what it held and plan again.
    ctx.rerun = false;
    ctx.locks = saved;
    own.ReleaseTo(0);
    plan.needs.clear();
    plan.db = ctx.client.db();
    PlanLocks(spec, ctx.args, plan);
  }
  // Step 5: the write hook, under the command's locks.
  if ((spec.flags & kWrite) || !ctx.changes.empty()) server.OnWrite(ctx, spec);
  ctx.changes.clear();
  ctx.changed_dbs.clear();
  ctx.dirty = 0;
  ctx.flushed_all = false;
  ctx.locks = saved;
  // A caller's set (EXEC, a script) keeps what was added: a script holds
  // every shard it touched until it ends, which is what makes it atomic.
  r.kind = DispatchResult::kRan;
  return r;
}

}  // namespace sluice::server
