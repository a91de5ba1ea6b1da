#pragma once
// Transaction: one client's MULTI queue and WATCHed keys.
//
// Between MULTI and EXEC a client's commands are copied into the queue
// instead of running; EXEC runs them all while holding the shards the lock
// planner names for them and for the watched keys, so no other client sees
// a part of the transaction. WATCH registers one flag per client with the watched
// keys' shards; any change to one of those keys sets it, and EXEC then
// aborts.
//
// Owned by its ClientState and used only on the client's connection thread,
// except multi_count(), which CLIENT LIST reads from any thread.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/parser.h"
#include "storage/shard.h"

namespace sluice::storage {
class Keyspace;
}

namespace sluice::server {

struct CommandSpec;

class Transaction {
 public:
  struct QueuedCommand {
    const CommandSpec* spec;  // the resolved row (a subcommand's, for CLIENT ...)
    protocol::CommandArgs args;
  };

  Transaction() = default;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  // ---- MULTI queue ----
  bool in_multi() const { return in_multi_; }
  // REQUIRES: !in_multi().
  void Begin();
  // Copies a command into the queue. REQUIRES: in_multi().
  void Queue(const CommandSpec& spec, const protocol::CommandArgs& args);
  // A command was refused while queueing (unknown, wrong arity, not allowed):
  // EXEC will abort. Does nothing outside MULTI.
  void Reject() { rejected_ = in_multi_; }
  bool rejected() const { return rejected_; }
  const std::vector<QueuedCommand>& queued() const { return queue_; }
  // Leaves MULTI, dropping the queue. Does nothing outside MULTI.
  void End();
  // Queued commands inside MULTI, -1 outside (CLIENT LIST's multi=). Thread-safe.
  int64_t multi_count() const { return multi_count_.load(std::memory_order_relaxed); }

  // ---- WATCH ----
  // Watches `key` of database `db`. An expired key is reclaimed first, so
  // only a later change counts.
  // REQUIRES: the key's shard locked (WATCH's row plans it).
  void Watch(storage::Keyspace& keyspace, int db, std::string_view key, int64_t now_ms);
  // Forgets every watched key (EXEC, DISCARD, UNWATCH, RESET, disconnect).
  // Needs no shard lock (the watch registry has its own leaf lock), so it
  // never waits behind a script.
  void UnwatchAll(storage::Keyspace& keyspace);
  // Whether a watched key changed since WATCH; a watched key that has expired
  // by `now_ms` counts as changed (it is reclaimed here).
  // REQUIRES: the watched keys' shards locked (EXEC), so the answer holds
  // until they are released.
  bool WatchedKeyChanged(storage::Keyspace& keyspace, int64_t now_ms);

  struct WatchedKey {
    int db;
    std::string key;
  };
  const std::vector<WatchedKey>& watched() const { return watched_; }

 private:
  bool in_multi_ = false;
  bool rejected_ = false;
  std::vector<QueuedCommand> queue_;
  std::atomic<int64_t> multi_count_{-1};

  std::vector<WatchedKey> watched_;
  // Set by a shard when one of watched_ changes; shared with the shards'
  // registries. Null while nothing is watched.
  std::shared_ptr<storage::WatchFlag> changed_;
};

}  // namespace sluice::server
