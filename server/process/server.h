#pragma once
// Server: the process. It owns the configuration, the keyspace, the command
// table, the I/O threads (one io_context each), the listening sockets and the
// registry of connected clients.
//
// Accepting connections and handling SIGINT/SIGTERM run on a control thread
// of their own, which never takes a shard lock, so a script or transaction
// that holds shards can never keep new connections or a shutdown waiting.
//
// Thread-safe: handlers on every I/O thread call into it concurrently. Asio
// stays out of this header so that command families compile without it.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "server/net/client_state.h"
#include "server/dispatch/command.h"
#include "server/process/config.h"
#include "server/pubsub/keyspace_events.h"
#include "server/pubsub/pubsub_hub.h"
#include "storage/keyspace.h"

namespace sluice::server {

class BlockingRegistry;
class Connection;
class Evictor;
class IoThread;
class ScriptEngine;
class Snapshots;

// Counters for INFO stats; written with relaxed atomics from any thread.
struct ServerStats {
  std::atomic<uint64_t> total_connections_received{0};
  std::atomic<uint64_t> rejected_connections{0};
  std::atomic<uint64_t> total_error_replies{0};
  std::atomic<int64_t> connected_clients{0};
  // Clients closed for going over client-output-buffer-limit.
  std::atomic<uint64_t> client_output_buffer_limit_disconnections{0};
};

// The start-up load of an RDB file (server/process/rdb_load.h), for the
// gate's -LOADING and INFO persistence; relaxed atomics, any thread.
struct LoadingState {
  std::atomic<bool> loading{false};
  std::atomic<int64_t> start_time_s{0};  // of the load in progress or the last one
  std::atomic<uint64_t> total_bytes{0};
  std::atomic<uint64_t> loaded_bytes{0};
  std::atomic<uint64_t> rdb_used_mem{0};  // the file's used-mem AUX field
  std::atomic<uint64_t> last_keys_loaded{0};
  std::atomic<uint64_t> last_keys_expired{0};
};

class Server {
 public:
  static absl::StatusOr<std::unique_ptr<Server>> Create(Config config);
  ~Server();

  // Binds every address and starts the I/O threads; returns once listening.
  absl::Status Start();
  // Blocks until Shutdown() (or SIGINT/SIGTERM) and every thread has stopped.
  void Wait();
  // Stops accepting, closes connections and stops the threads. Thread-safe.
  // Saves nothing: SHUTDOWN and the signals save first (Snapshots).
  void Shutdown();
  bool stopping() const { return stopping_.load(std::memory_order_relaxed); }
  // True while the start-up load runs: commands without kLoading get -LOADING.
  bool loading() const { return loading_.loading.load(std::memory_order_acquire); }
  LoadingState& loading_state() { return loading_; }

  // The write hook: called once for every executed write command (by a
  // client, inside EXEC or from a script), and for any command that recorded
  // key changes, with its locks still held. ctx.changes says what changed.
  // Subsystems that follow writes (snapshots, replication, eviction
  // bookkeeping) subscribe with AddWriteListener before Start().
  using WriteListener = std::function<void(const CommandContext&, const CommandSpec&)>;
  void AddWriteListener(WriteListener listener) { write_listeners_.push_back(std::move(listener)); }
  void OnWrite(const CommandContext& ctx, const CommandSpec& spec) {
    for (const WriteListener& l : write_listeners_) l(ctx, spec);
  }
  // Whether a write-hook subscriber uses key changes of class `type`
  // (CommandContext::KeyChanged records only those).
  // Every change is wanted while a client is blocked on keys (it may be
  // one of theirs).
  bool WantsKeyChange(uint32_t type) const {
    if (!BlockingEmpty()) return true;
    const uint32_t flags = config_.notify_keyspace_events();
    return (flags & type) != 0 && (flags & (kNotifyKeyspace | kNotifyKeyevent)) != 0;
  }

  // While a script on this I/O thread runs past busy-reply-threshold, its
  // hook calls this to serve the thread's other connections (they get BUSY,
  // SCRIPT KILL and SHUTDOWN work), as Redis serves clients during a busy
  // script. Does nothing off an I/O thread.
  void ServeOthersWhileBusy();

  uint16_t port() const { return bound_port_; }
  storage::Keyspace& keyspace() { return *keyspace_; }
  const CommandTable& commands() const { return *commands_; }
  ServerConfig& config() { return config_; }
  ServerStats& stats() { return stats_; }
  PubSubHub& pubsub() { return *pubsub_; }
  ScriptEngine& scripts() { return *scripts_; }
  Evictor& evictor() { return *evictor_; }
  BlockingRegistry& blocking() { return *blocking_; }
  Snapshots& snapshots() { return *snapshots_; }
  int64_t start_time_ms() const { return start_time_ms_; }
  size_t thread_count() const { return threads_.size(); }
  const std::string& run_id() const { return run_id_; }

  // Counters kept per I/O thread (commands, network bytes), summed.
  struct ThreadTotals {
    uint64_t commands = 0;
    uint64_t net_input_bytes = 0;
    uint64_t net_output_bytes = 0;
  };
  ThreadTotals SumThreadStats() const;
  void ResetThreadStats();

  // Client registry, for CLIENT LIST / KILL and INFO clients.
  void RegisterClient(const std::shared_ptr<Connection>& conn);
  void UnregisterClient(uint64_t id);
  uint64_t NextClientId() { return next_client_id_.fetch_add(1) + 1; }
  std::vector<std::string> DescribeClients(int64_t now_ms);
  // Closes every client for which `match` is true (after its pending replies
  // when it is `self`); returns how many.
  size_t KillClients(const std::function<bool(const ClientState&)>& match, uint64_t self_id);

  // CLIENT UNBLOCK: ends the wait of the blocked client `id` as a timeout,
  // or with the UNBLOCKED error; false when no such client is blocked.
  bool UnblockClient(uint64_t id, bool error);

  // Log line at `level` on stdout, Redis-style prefix.
  void Log(LogLevel level, std::string_view message);

 private:
  explicit Server(Config config);
  void Accept(size_t listener);
  void ScheduleExpiry(size_t thread, std::chrono::milliseconds after);
  void ScheduleIdleCheck(size_t thread);
  // Copies the eviction settings of `config` into the keyspace.
  void ApplyEvictionSettings(const Config& config);
  bool BlockingEmpty() const;
  // SIGINT/SIGTERM: shut down, saving first when save points exist (on a
  // thread of its own: the control thread takes no shard lock); a failed
  // save keeps the server running, as in Redis.
  void WaitForSignal();
  void OnSignal(int sig);

  ServerConfig config_;
  std::unique_ptr<storage::Keyspace> keyspace_;
  std::unique_ptr<CommandTable> commands_;
  std::vector<std::unique_ptr<IoThread>> threads_;
  std::unique_ptr<PubSubHub> pubsub_;
  std::unique_ptr<ScriptEngine> scripts_;
  std::unique_ptr<Evictor> evictor_;
  std::unique_ptr<BlockingRegistry> blocking_;
  std::unique_ptr<Snapshots> snapshots_;
  std::thread signal_saver_;  // the save a signal asked for
  std::atomic<bool> signal_save_running_{false};
  struct Listeners;
  std::unique_ptr<Listeners> listeners_;
  ServerStats stats_;
  LoadingState loading_;
  int64_t start_time_ms_ = 0;
  uint16_t bound_port_ = 0;
  std::string run_id_;
  std::atomic<uint64_t> next_client_id_{0};
  std::atomic<size_t> next_thread_{0};
  std::atomic<bool> stopping_{false};

  std::vector<WriteListener> write_listeners_;
  std::mutex clients_mu_;
  absl::flat_hash_map<uint64_t, std::weak_ptr<Connection>> clients_;
  std::mutex log_mu_;
};

}  // namespace sluice::server
