#pragma once
// The command table: one row per command (name, arity, flags, key positions,
// handler, documentation), from which dispatch checks arity and flags once
// and COMMAND / COMMAND INFO / COMMAND DOCS are generated.
//
// Built once at start-up and read-only afterwards, so it is safe to read from
// every I/O thread without locking.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "protocol/arg_reader.h"
#include "protocol/parser.h"
#include "protocol/reply_sink.h"

namespace sluice::storage {
class Shard;
}

namespace sluice::server {

class BlockedClient;
class ClientState;
class Server;
class Subscriber;

// Command flags, as COMMAND INFO names them.
enum CommandFlag : uint32_t {
  kWrite = 1u << 0,
  kReadOnly = 1u << 1,
  kDenyOom = 1u << 2,
  kAdmin = 1u << 3,
  kPubSub = 1u << 4,
  kNoScript = 1u << 5,
  kLoading = 1u << 6,
  kStale = 1u << 7,
  kFast = 1u << 8,
  kNoAuth = 1u << 9,
  kSkipSlowlog = 1u << 10,
  kAllowBusy = 1u << 11,
  kNoMulti = 1u << 12,
  kSkipMonitor = 1u << 13,
  kBlocking = 1u << 14,
  // Allowed while a RESP2 connection is in subscribed state.
  kAllowedInSubscribe = 1u << 15,
  // Runs at once inside MULTI instead of being queued (MULTI, EXEC, DISCARD,
  // WATCH, QUIT, RESET).
  kRunsInMulti = 1u << 16,
  // Lock scope (see LockPlan in lock_planner.h). A command locks the shards
  // of its key positions; with kWholeDb every shard of the database it runs
  // in (KEYS, SCAN, RANDOMKEY, FLUSHDB); with kAllDbs every shard of every
  // database (FLUSHALL). A row with a `keys` function (EVAL, MOVE, COPY,
  // SWAPDB, SELECT) plans for itself. Anything else locks nothing and must
  // not touch a shard (counts and statistics are readable without locks).
  kWholeDb = 1u << 17,
  kAllDbs = 1u << 18,
  // Its keys may be none at all (EVAL, FCALL with numkeys 0).
  kNoMandatoryKeys = 1u << 19,
};

class ShardLocks;
struct LockPlan;
// Adds the shards a command needs to `plan` (the row's key positions are
// not added for it).
using KeysFn = void (*)(const protocol::CommandArgs& args, LockPlan& plan);

// One change a command made to a key, named as keyspace events name it
// ("set", "del", "expire", ...; `type` is its notify class).
struct KeyChange {
  int db;
  uint32_t type;
  const char* event;  // a string literal
  std::string key;
};

// Everything a handler needs for one invocation.
struct CommandContext {
  Server& server;
  ClientState& client;
  const protocol::CommandArgs& args;
  protocol::ReplySink& w;
  int64_t now_ms;
  // The connection as a pub/sub subscriber (nullptr where there is none).
  Subscriber* subscriber = nullptr;
  // The shard locks held for this command (and, inside EXEC or a script,
  // for the whole transaction or script). Set by the dispatcher.
  ShardLocks* locks = nullptr;
  // The shard of args[1] in the selected database, when the row's first key
  // is there (the dispatcher found it while planning locks; see KeyShard()).
  storage::Shard* key_shard = nullptr;
  // The gate found memory over maxmemory with nothing left to evict (set for
  // client commands; a script's commands consult their EVAL's).
  bool oom = false;
  // The command runs from a script's redis.call (SORT then orders a set it
  // would leave in its own order, as Redis does for scripts).
  bool from_script = false;
  // Set by the dispatcher when the command owns its lock set (a client's
  // command, not one inside EXEC or a script) and may be run again: its
  // handler may then, before it has changed or written anything, set
  // `rerun` to have the dispatcher drop its locks, plan them again and call
  // it again (a script that learned it needs its whole database).
  bool may_rerun = false;
  bool rerun = false;
  // What the handler changed, handed to the write hook (Server::OnWrite)
  // once it returns: keyspace events come from there, and so will blocked
  // clients' wake-ups and replication. Families record with KeyChanged().
  std::vector<KeyChange> changes{};
  // Databases every key of which may have changed (SWAPDB), for the write
  // hook as `changes` are.
  std::vector<int> changed_dbs{};
  // Changes made (Redis's `dirty`): one per KeyChanged and DatabaseChanged,
  // whether or not a subscriber wants them, plus what a handler adds itself
  // (FLUSHALL: the keys it removed). Snapshots' save points count them.
  uint64_t dirty = 0;
  // FLUSHALL ran: every database is empty (snapshots follow it as Redis's
  // do, through the write hook).
  bool flushed_all = false;
  // The connection as a client that can block (nullptr inside MULTI/EXEC, a
  // script, or wherever a command must not wait: blocking commands then
  // behave like their non-blocking forms, as in Redis).
  BlockedClient* blocker = nullptr;

  // Records a change to `key` in the selected database (or in `db`). Costs
  // nothing when no subscriber of the write hook wants changes of `type`.
  void KeyChanged(uint32_t type, const char* event, std::string_view key);
  void KeyChanged(int db, uint32_t type, const char* event, std::string_view key);
  // Whether a change of `type` would be used (to skip work done only for it).
  bool WantsKeyChange(uint32_t type) const;
  // Records that every key of `db` may have changed (SWAPDB).
  void DatabaseChanged(int db) {
    ++dirty;
    changed_dbs.push_back(db);
  }

  // Blocking commands. Block() makes the client wait on `keys` of the
  // selected database until one is written (the command then runs again) or
  // until `deadline_ms` (0: forever); the handler writes no reply. Returns
  // false where the client cannot block (the handler replies as the
  // non-blocking form would). REQUIRES: the shard locks of `keys`.
  bool Block(std::span<const std::string_view> keys, int64_t deadline_ms);
  // Whether this run is a blocked client trying its command again after a
  // write woke it (a key of the wrong type then waits instead of failing).
  bool Retrying() const;

  std::string_view arg(size_t i) const { return args[i]; }
  size_t argc() const { return args.size(); }
};

using CommandHandler = void (*)(CommandContext& ctx);

struct CommandDoc {
  std::string_view summary;
  std::string_view since;
  std::string_view group;
  std::string_view complexity;
};

struct CommandSpec {
  std::string name;  // lower case; "client|setname" for subcommands
  int arity;         // >0 exact, <0 at least -arity (counting the name)
  uint32_t flags;
  int first_key;  // 0 when the command takes no keys
  int last_key;   // -1: the last argument
  int key_step;
  CommandHandler handler;
  CommandDoc doc;
  std::string_view acl_categories;  // space-separated, e.g. "@write @string @slow"
  // Subcommands (CLIENT SETNAME, CONFIG GET, ...), keyed by lower-case name.
  std::vector<std::unique_ptr<CommandSpec>> subcommands;
  // Plans the shards to lock where key positions cannot say (nullptr: they can).
  KeysFn keys = nullptr;
  // For commands whose keys follow a count (EVAL, FCALL: numkeys at args[2]):
  // the count's position, and the flags of the keynum key specification
  // COMMAND INFO shows ("RW access update"); the row is then "movablekeys".
  int keynum_at = 0;
  std::string_view key_spec_flags;

  const CommandSpec* FindSubcommand(std::string_view sub) const;
  bool CheckArity(size_t argc) const {
    return arity > 0 ? argc == static_cast<size_t>(arity) : argc >= static_cast<size_t>(-arity);
  }
};

// Builds the rows of one family's table, all in one COMMAND DOCS group:
//   constexpr FamilyRows Row("string");
//   t.Add(Row("get", 2, kReadOnly | kFast, 1, 1, 1, CmdGet, "summary", "1.0.0", "O(1)", acl));
class FamilyRows {
 public:
  explicit constexpr FamilyRows(std::string_view group) : group_(group) {}

  CommandSpec operator()(std::string name, int arity, uint32_t flags, int first, int last,
                         int step, CommandHandler h, std::string_view summary,
                         std::string_view since, std::string_view complexity,
                         std::string_view acl) const {
    return CommandSpec{std::move(name), arity, flags, first, last, step, h,
                       CommandDoc{summary, since, group_, complexity}, acl, {}};
  }
  // A command without keys.
  CommandSpec operator()(std::string name, int arity, uint32_t flags, CommandHandler h,
                         std::string_view summary, std::string_view since,
                         std::string_view complexity, std::string_view acl) const {
    return (*this)(std::move(name), arity, flags, 0, 0, 0, h, summary, since, complexity, acl);
  }

 private:
  std::string_view group_;
};

// A HELP subcommand's reply: one simple string per line.
template <size_t N>
void WriteHelp(protocol::ReplySink& w, const std::string_view (&lines)[N]) {
  w.ArrayHeader(N);
  for (std::string_view line : lines) w.SimpleString(line);
}

class CommandTable {
 public:
  // Adds a command; returns it so subcommands can be attached.
  CommandSpec& Add(CommandSpec spec);
  // Adds a subcommand row to `parent` ("config" + "get" -> "config|get").
  CommandSpec& AddSubcommand(CommandSpec& parent, CommandSpec sub);

  CommandTable();

  // Case-insensitive lookup; nullptr when unknown. Thread-safe once the
  // table is built (Add/AddSubcommand are for start-up only).
  const CommandSpec* Find(std::string_view name) const;
  const absl::flat_hash_map<std::string, std::unique_ptr<CommandSpec>>& all() const {
    return commands_;
  }

 private:
  absl::flat_hash_map<std::string, std::unique_ptr<CommandSpec>> commands_;
  uint64_t id_;  // unique per table, for Find's per-thread cache
};

// Family registration; each lives in its family's file.
void RegisterStringFamily(CommandTable& table);
void RegisterHashFamily(CommandTable& table);
void RegisterSetFamily(CommandTable& table);
void RegisterZSetFamily(CommandTable& table);
void RegisterListFamily(CommandTable& table);
void RegisterStreamFamily(CommandTable& table);
void RegisterKeyFamily(CommandTable& table);
void RegisterSortFamily(CommandTable& table);
void RegisterConnectionFamily(CommandTable& table);
void RegisterServerFamily(CommandTable& table);
void RegisterPubSubFamily(CommandTable& table);

// Leaves every pub/sub subscription of the calling connection (RESET).
void LeaveAllSubscriptions(CommandContext& ctx);
void RegisterRateLimitFamily(CommandTable& table);
void RegisterScriptFamily(CommandTable& table);
void RegisterTransactionFamily(CommandTable& table);

// Inside MULTI: queues the command and replies QUEUED, or refuses it (kNoMulti)
// and marks the transaction failed; returns true either way. Returns false
// when the command runs now (outside MULTI, or flagged kRunsInMulti).
// Called by the dispatcher's gate only.
bool QueueInTransaction(CommandContext& ctx, const CommandSpec& spec);

// Builds the full table of every family.
std::unique_ptr<CommandTable> BuildCommandTable();

}  // namespace sluice::server
