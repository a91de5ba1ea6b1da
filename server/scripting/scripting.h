#pragma once
// Lua scripting: EVAL / EVALSHA and the script cache behind SCRIPT LOAD,
// EXISTS, FLUSH and KILL; functions: FCALL / FCALL_RO and the libraries of
// FUNCTION LOAD / DELETE / FLUSH / RESTORE (server/scripting/functions.h).
//
// The script bodies are registered server-wide, by the SHA-1 of their text
// (mutex-protected). Each I/O thread has its own Lua 5.1 state (thread_local),
// compiles a script the first time that thread runs it and keeps the compiled
// function, so a repeated EVAL or EVALSHA does not compile again. SCRIPT FLUSH
// empties the registry and bumps an epoch; each thread drops its state and
// starts a fresh one before its next script.
//
// A script is atomic like MULTI/EXEC: before it starts, the dispatcher locks
// the shards of its declared keys (EVAL's row plans them), and they stay
// locked until it ends. redis.call runs each command through the same gate
// path as a client's (Origin::kScript), adding the shards it needs to the
// script's set. A shard that comes after every shard held is simply locked
// (locks are only ever taken in ascending order, so this cannot deadlock).
// One below them (an undeclared key, or a whole-database command after
// touching keys) makes the engine record in scopes() that the script needs
// its whole database (every database once it has switched); then, while the
// script has had no side effect and its EVAL owns its locks, the script is
// aborted and its EVAL run again from the start, planned with the wider
// scope (as every later run of it is); otherwise the shard is try-locked for
// a bounded time (docs/scripting.md, "Undeclared keys"). Replies come back
// through a ReplyCapture.
//
// While a script runs past busy-reply-threshold, its hook serves the other
// connections of its I/O thread (Server::ServeOthersWhileBusy), which then
// get BUSY like everyone else; SCRIPT KILL and SHUTDOWN get through.
//
// Functions live in a server-wide FunctionLibraries registry. FUNCTION LOAD
// runs the library's code once in the caller's Lua state, where only
// redis.register_function, redis.log and the version constants exist; each
// I/O thread loads a library's code into its own state the first time it
// calls one of its functions (and again after SCRIPT FLUSH rebuilt the
// state), keyed by the library's id, so REPLACE and DELETE take effect on
// every thread at its next FCALL. EVAL and FCALL share one run path
// (RunScript in scripting.cc): locks, busy handling, kills, replies.
//
// Thread-safe: Eval and Fcall run on the caller's thread; Kill, Exists,
// Flush and Load may be called from any thread at any time.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "server/dispatch/command.h"
#include "server/dispatch/script_scopes.h"
#include "server/scripting/functions.h"

namespace sluice::server {

class Server;

inline constexpr std::string_view kScriptKilledError =
    "ERR Script killed by user with SCRIPT KILL...";

// One script being run, as SCRIPT KILL, FUNCTION KILL and FUNCTION STATS
// see it.
struct RunningScript {
  int64_t start_ms = 0;
  bool function = false;                           // FCALL (else EVAL)
  std::string name;                                // the function's name, or the script's SHA-1
  const protocol::CommandArgs* command = nullptr;  // the FCALL/EVAL, while it runs
  std::atomic<bool> wrote{false};  // ran a write command: no longer killable
  std::atomic<bool> kill{false};   // SCRIPT KILL asked it to stop
  // Ran a command with an effect others could see (a write, a publish, an
  // admin command): the script may no longer start over. Its own thread's.
  bool effects = false;
};

// The identity of FCALL's function `name` in ScriptEngine::scopes() (EVAL's
// scripts are named by their SHA-1, 40 hex digits, so the two never meet).
std::string FunctionScopeId(std::string_view name);

class ScriptEngine {
 public:
  explicit ScriptEngine(Server& server);
  ~ScriptEngine();
  ScriptEngine(const ScriptEngine&) = delete;
  ScriptEngine& operator=(const ScriptEngine&) = delete;

  // EVAL script numkeys key... arg... (or EVALSHA sha1 ...). With
  // `read_only` (EVAL_RO, EVALSHA_RO) write commands are refused. Writes the
  // script's result, or its error, to ctx.w.
  void Eval(CommandContext& ctx, bool by_sha, bool read_only);

  // SCRIPT LOAD: compiles `body` (replying the compile error on failure),
  // registers it and replies its SHA-1.
  void Load(CommandContext& ctx, std::string_view body);
  bool Exists(std::string_view sha) const;
  // SCRIPT FLUSH: forgets every script (and every learned scope).
  void Flush();
  size_t cached_scripts() const;

  // FCALL name numkeys key... arg... (FCALL_RO with `read_only`).
  void Fcall(CommandContext& ctx, bool read_only);
  // FUNCTION LOAD [REPLACE] code: replies the library's name or the error.
  void FunctionLoad(CommandContext& ctx, std::string_view code, bool replace);
  // A library from an RDB file at start-up: compiled and registered as
  // FUNCTION LOAD without REPLACE would. Returns the error ("" on success).
  std::string LoadLibraryCode(std::string_view code);
  // FUNCTION RESTORE payload policy.
  void FunctionRestore(CommandContext& ctx, std::string_view payload, RestorePolicy policy);
  FunctionLibraries& functions() { return functions_; }
  const FunctionLibraries& functions() const { return functions_; }

  enum class KillOutcome { kNotBusy, kKilled, kUnkillable, kOtherKind };
  // SCRIPT KILL (functions false) / FUNCTION KILL (true): stops every script
  // of that kind that has run for longer than busy-reply-threshold and has
  // not written. kUnkillable when every busy one of that kind has written;
  // kOtherKind when only scripts of the other kind are busy; kNotBusy when
  // none is busy.
  KillOutcome Kill(int64_t now_ms, bool functions = false);
  // The BUSY error for clients while a script is busy: it names SCRIPT KILL
  // or FUNCTION KILL after what runs, as Redis does.
  std::string_view BusyError(int64_t now_ms);
  // A running function, as FUNCTION STATS reports it.
  struct RunningFunction {
    std::string name;
    std::vector<std::string> command;
    int64_t duration_ms = 0;
  };
  bool FindRunningFunction(int64_t now_ms, RunningFunction* out);
  // Stops every running script, written or not (server shutdown).
  void KillAll();
  // After KillAll: waits (at most `limit`) until no script runs. Returns
  // whether one that was stopped had run a write command, so that the
  // dataset holds half of it (a save would persist that; Redis's answer to
  // such a script is SHUTDOWN NOSAVE).
  bool WaitStopped(std::chrono::milliseconds limit);
  // Whether a script (other than `except`) has run for longer than
  // busy-reply-threshold: the other clients' commands then get BUSY (unless
  // flagged kAllowBusy), as in Redis. One relaxed atomic load while no
  // script runs.
  bool BusyPastThreshold(int64_t now_ms, const RunningScript* except = nullptr) {
    return running_count_.load(std::memory_order_relaxed) != 0 && BusySlow(now_ms, except);
  }

  // The lock scope learned per script (see the top of this file).
  ScriptScopes& scopes() { return scopes_; }
  // Counts one try-locking of shards out of order: it got them or gave up.
  void CountLateLock(bool locked) {
    (locked ? late_locks_ : late_lock_failures_).fetch_add(1, std::memory_order_relaxed);
  }
  // INFO's counters of the undeclared-key lock mode.
  struct LockModeStats {
    uint64_t whole_db_runs;       // runs that started with a learned wider scope
    uint64_t restarts;            // runs aborted to start over wider
    uint64_t learned;             // scripts with a learned scope
    uint64_t late_locks;          // shards try-locked out of order, got
    uint64_t late_lock_failures;  // ... and given up on
  };
  LockModeStats lock_mode_stats() const;

  // Used by the per-thread Lua states.
  Server& server() { return server_; }
  uint64_t epoch() const { return epoch_.load(std::memory_order_acquire); }
  // The body registered under `sha` (lowercase hex); false when unknown.
  bool Lookup(std::string_view sha, std::string* body) const;
  void Register(const std::string& sha, std::string_view body);
  void AddRunning(RunningScript* r);
  void RemoveRunning(RunningScript* r);
  void CountRun(ScriptScopes::Scope scope, bool restarted);

 private:
  Server& server_;
  FunctionLibraries functions_;
  mutable std::mutex mu_;
  absl::flat_hash_map<std::string, std::string> bodies_;  // sha1 hex -> script text
  std::atomic<uint64_t> epoch_{1};
  std::mutex running_mu_;
  std::vector<RunningScript*> running_;
  std::atomic<int> running_count_{0};  // running_.size(), readable without the lock
  std::atomic<bool> stopped_after_writes_{false};  // see WaitStopped
  ScriptScopes scopes_;
  std::atomic<uint64_t> whole_db_runs_{0};
  std::atomic<uint64_t> restarts_{0};
  std::atomic<uint64_t> late_locks_{0};
  std::atomic<uint64_t> late_lock_failures_{0};
  bool BusySlow(int64_t now_ms, const RunningScript* except);
};

}  // namespace sluice::server
