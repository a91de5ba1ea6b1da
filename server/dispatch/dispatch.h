#pragma once
// The one gate path: how every command runs, whoever sent it.
//
// Connections, EXEC (for each queued command) and scripts (for each
// redis.call) all call Dispatch() or RunResolved(). In order:
//   1. resolve the row (name, subcommand) and check arity;
//   2. the gate, in Redis's order: NOAUTH; the script rules (noscript,
//      read-only scripts, SCRIPT KILL); [OOM refusal plugs in here];
//      the RESP2 subscribed-context rule; BUSY while a script has run past
//      busy-reply-threshold; MULTI queueing;
//   3. the lock planner's shards, locked with bounded waits (a waiter gets
//      BUSY instead of waiting behind a script that runs too long). A script
//      that needs a shard below one it holds either restarts with a wider
//      plan (kRestart, before any side effect) or try-locks it within a
//      bounded time (docs/scripting.md, "Undeclared keys");
//   4. the handler, writing to the context's ReplySink;
//   5. the write hook for every executed write command (Server::OnWrite).
// A refusal is returned, not written, so that the caller words it: a client
// gets the error (EXEC's as EXECABORT), a script raises it.
//
// Stateless and thread-safe (the command table is read-only after start-up).

#include <string>

#include "protocol/parser.h"
#include "server/dispatch/command.h"

namespace sluice::server {

struct RunningScript;

enum class Origin {
  kClient,       // a connection's command
  kTransaction,  // a command queued in MULTI, run by EXEC (checked when queued)
  kScript,       // redis.call / redis.pcall
};

// What a script's redis.call brings to the gate.
struct ScriptCall {
  bool read_only = false;             // EVAL_RO, or a no-writes shebang
  RunningScript* running = nullptr;   // SCRIPT KILL's flag; "wrote" is set here
  bool oom = false;                   // memory was full when the script started
  bool allow_oom = false;             // its shebang said allow-oom
  // The script's command owns its lock set (not inside EXEC) and may be run
  // again from the start with a wider plan while it has had no side effect.
  bool restartable = false;
};

enum class ResolveError { kNone, kUnknownCommand, kUnknownSubcommand, kWrongArity };

struct DispatchResult {
  // kRestart: a script's command needed a shard below those it holds and
  // the script may still start over; nothing ran, the script should abort
  // and its command run again (CommandContext::rerun).
  enum Kind { kRan, kQueued, kRefused, kRestart };
  Kind kind = kRefused;
  // The command needed shards out of the global order (a script touching an
  // undeclared key below those it holds, or a whole-database command after
  // touching keys): the script's scope should widen (ScriptScopes).
  bool out_of_order = false;
  const CommandSpec* spec = nullptr;  // null when the name did not resolve
  ResolveError resolve = ResolveError::kNone;
  std::string error;  // kRefused: the error text, not yet written
};

// Finds the row that runs `args`: looks the name up case-insensitively,
// checks its arity, and for a container command (CLIENT, CONFIG, ...) resolves
// the subcommand and checks that row's arity too. On failure returns nullptr
// with *error set to Redis's error text.
// REQUIRES: !args.empty().
const CommandSpec* ResolveCommand(const CommandTable& table, const protocol::CommandArgs& args,
                                  ResolveError* why, std::string* error);

// Resolves ctx.args and runs it through the gate (steps 1-5 above).
DispatchResult Dispatch(CommandContext& ctx, Origin origin, const ScriptCall* script = nullptr);
// Steps 2-5 for a row already resolved (EXEC's queue).
DispatchResult RunResolved(CommandContext& ctx, const CommandSpec& spec, Origin origin,
                           const ScriptCall* script = nullptr);

}  // namespace sluice::server
