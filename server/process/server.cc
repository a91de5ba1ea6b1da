#include "server/process/server.h"

#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <random>

#include "common/strings.h"
#include "protocol/errors.h"
#include "server/blocking/blocking_registry.h"
#include "server/net/connection.h"
#include "server/memory/evictor.h"
#include "server/net/io_thread.h"
#include "server/process/allocator.h"
#include "server/process/rdb_load.h"
#include "server/process/snapshots.h"
#include "server/pubsub/keyspace_events.h"
#include "server/scripting/scripting.h"
#include "storage/clock.h"

namespace sluice::server {
namespace {

// Active expiry runs this often on every I/O thread, looking at no more than
// kExpiryBudget timer records per shard per tick.
constexpr auto kExpiryPeriod = std::chrono::milliseconds(10);
constexpr size_t kExpiryBudget = 2000;
// Ticks between exact re-reads of used_memory (see SyncUsedMemory).
constexpr uint64_t kMemorySyncTicks = 10;

// The index of the I/O thread running the calling code; -1 elsewhere.
thread_local int current_io_thread = -1;

std::string RandomRunId() {
  std::random_device rd;
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(40, '0');
  for (char& c : id) c = kHex[rd() % 16];
  return id;
}

}  // namespace

// The control thread's loop: listening sockets and signals.
struct Server::Listeners {
  asio::io_context control{1};
  asio::executor_work_guard<asio::io_context::executor_type> work{control.get_executor()};
  std::vector<std::unique_ptr<asio::ip::tcp::acceptor>> acceptors;
  std::unique_ptr<asio::signal_set> signals;
  std::thread thread;
};

absl::StatusOr<std::unique_ptr<Server>> Server::Create(Config config) {
  if (absl::Status s = Finalize(config); !s.ok()) return s;
  return std::unique_ptr<Server>(new Server(std::move(config)));
}

Server::Server(Config config) : config_(config), listeners_(std::make_unique<Listeners>()) {
  keyspace_ = std::make_unique<storage::Keyspace>(config.databases, config.shards);
  commands_ = BuildCommandTable();
  scripts_ = std::make_unique<ScriptEngine>(*this);
  evictor_ = std::make_unique<Evictor>(*this);
  blocking_ = std::make_unique<BlockingRegistry>();
  snapshots_ = std::make_unique<Snapshots>(*this);
  ApplyEvictionSettings(config_.Snapshot());
  config_.set_on_change([this](const Config& c) {
    ApplyEvictionSettings(c);
    snapshots_->OnConfigChange(c);
  });
  for (int i = 0; i < config.threads; ++i) threads_.push_back(std::make_unique<IoThread>(i));
  // A publish hands each I/O thread one batch: run at once when that thread
  // is the caller's own, else posted to its loop (in order per publisher).
  pubsub_ = std::make_unique<PubSubHub>(threads_.size(), [this](size_t t, PubSubHub::Batch b) {
    if (current_io_thread == static_cast<int>(t)) return b.Run();
    asio::post(threads_[t]->context(), [b = std::move(b)] { b.Run(); });
  });
  // Expired keys raise `expired` events. The hook runs under the shard lock,
  // so it only queues; the queue is published after the command or the
  // active expiry pass.
  for (size_t db = 0; db < keyspace_->database_count(); ++db) {
    storage::Database& d = keyspace_->db(db);
    for (size_t i = 0; i < d.shard_count(); ++i) {
      d.shard(i).set_on_expired([this, db](std::string_view key) {
        NotifyKeyspace(*this, static_cast<int>(db), kNotifyExpired, "expired", key);
      });
    }
  }
  // Keyspace events are the first subscriber of the write hook: a command's
  // key changes are queued as events (published once its locks are gone).
  AddWriteListener([this](const CommandContext& ctx, const CommandSpec&) {
    for (const KeyChange& c : ctx.changes) NotifyKeyspace(*this, c.db, c.type, c.event, c.key);
  });
  // Blocked clients: a change to a key (or a whole database) someone may be
  // waiting on queues it as ready; the connection signals the registry once
  // the command, EXEC or script is over and its locks are gone.
  AddWriteListener([this](const CommandContext& ctx, const CommandSpec&) {
    if (blocking_->empty()) return;
    for (const KeyChange& c : ctx.changes) {
      if (blocking_->MayWatch(c.db, c.key)) QueueReadyKey(c.db, c.key);
    }
    for (int db : ctx.changed_dbs) QueueReadyDb(db);
  });
  // Snapshots count the changes since the last save (save points, INFO).
  AddWriteListener([this](const CommandContext& ctx, const CommandSpec&) {
    snapshots_->AddChanges(ctx.dirty);
    if (ctx.flushed_all) {
      // A plain client's FLUSHALL saves now; inside EXEC or a script the
      // save waits for the rest of it.
      snapshots_->AfterFlushAll(!ctx.from_script && !ctx.client.transaction().in_multi());
    }
  });
  run_id_ = RandomRunId();
}

bool Server::BlockingEmpty() const { return blocking_->empty(); }

void Server::ApplyEvictionSettings(const Config& c) {
  storage::EvictionSettings& e = keyspace_->eviction();
  e.policy.store(c.maxmemory_policy, std::memory_order_relaxed);
  e.samples.store(c.maxmemory_samples, std::memory_order_relaxed);
  e.lfu_log_factor.store(c.lfu_log_factor, std::memory_order_relaxed);
  e.lfu_decay_minutes.store(c.lfu_decay_time, std::memory_order_relaxed);
}

Server::~Server() {
  Shutdown();
  Wait();
  if (signal_saver_.joinable()) signal_saver_.join();
  // A background save still running is cancelled and joined before the
  // keyspace it walks goes.
  snapshots_.reset();
  // Connections still queued in the loops unregister themselves as the
  // io_contexts are destroyed, so the threads go before the registry.
  listeners_.reset();
  // Subscribed connections are owned by the hub too: release them while
  // their io_contexts (and so their sockets' services) still exist.
  pubsub_.reset();
  threads_.clear();
}

absl::Status Server::Start() {
  const Config cfg = config_.Snapshot();
  asio::io_context& main_ctx = listeners_->control;
  for (const std::string& addr_text : cfg.bind) {
    std::string host = addr_text;
    if (host == "*") host = "0.0.0.0";
    if (host == "::*") host = "::";
    if (!host.empty() && host[0] == '-') host = host.substr(1);  // "-::1": optional address
    boost::system::error_code ec;
    asio::ip::address address = asio::ip::make_address(host, ec);
    if (ec) return absl::InvalidArgumentError(StrCat("invalid bind address '", addr_text, "'"));
    auto acceptor = std::make_unique<asio::ip::tcp::acceptor>(main_ctx);
    asio::ip::tcp::endpoint endpoint(address, bound_port_ != 0 ? bound_port_ : cfg.port);
    acceptor->open(endpoint.protocol(), ec);
    if (!ec) acceptor->set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
    if (!ec && address.is_v6()) acceptor->set_option(asio::ip::v6_only(true), ec);
    if (!ec) acceptor->bind(endpoint, ec);
    if (!ec) acceptor->listen(511, ec);
    if (ec) {
      return absl::UnavailableError(StrCat("could not listen on ", addr_text, ":",
                                                 endpoint.port(), ": ", ec.message()));
    }
    bound_port_ = acceptor->local_endpoint().port();
    listeners_->acceptors.push_back(std::move(acceptor));
  }
  start_time_ms_ = storage::NowMs();

  listeners_->signals = std::make_unique<asio::signal_set>(main_ctx, SIGINT, SIGTERM);
  WaitForSignal();

  for (size_t i = 0; i < listeners_->acceptors.size(); ++i) Accept(i);
  for (size_t t = 0; t < threads_.size(); ++t) {
    asio::post(threads_[t]->context(), [t] {
      current_io_thread = static_cast<int>(t);
      RegisterAllocatorThread();
    });
    ScheduleExpiry(t, kExpiryPeriod);
    ScheduleIdleCheck(t);
    threads_[t]->Run();
  }
  SyncUsedMemory();
  listeners_->thread = std::thread([this] {
    RegisterAllocatorThread();
    listeners_->control.run();
  });
  Log(LogLevel::kNotice, StrCat("Server initialized, ", threads_.size(), " I/O threads, ",
                                      cfg.databases, " databases x ", cfg.shards, " shards"));
  // The snapshot, while clients that connect get -LOADING. A file that fails
  // to load stops the start: the server never serves part of one.
  const std::string rdb_path = StrCat(cfg.dir, "/", cfg.dbfilename);
  struct stat rdb_stat;
  if (stat(rdb_path.c_str(), &rdb_stat) == 0) {
    if (absl::Status s = LoadRdbAtStartup(*this, rdb_path); !s.ok()) {
      Log(LogLevel::kWarning, std::string(s.message()));
      return s;
    }
    if (stopping()) return absl::OkStatus();
  }
  Log(LogLevel::kNotice,
      StrCat("Ready to accept connections tcp on port ", bound_port_));
  return absl::OkStatus();
}

void Server::Accept(size_t listener) {
  if (stopping_.load()) return;
  IoThread& target = *threads_[next_thread_.fetch_add(1) % threads_.size()];
  auto& acceptor = *listeners_->acceptors[listener];
  acceptor.async_accept(
      target.context(), [this, listener, &target](const boost::system::error_code& ec,
                                                  asio::ip::tcp::socket socket) {
        if (ec) {
          if (ec == asio::error::operation_aborted || stopping_.load()) return;
          Log(LogLevel::kWarning, StrCat("Accept failed: ", ec.message()));
        } else {
          stats_.total_connections_received.fetch_add(1, std::memory_order_relaxed);
          if (stats_.connected_clients.load() >= config_.maxclients()) {
            stats_.rejected_connections.fetch_add(1, std::memory_order_relaxed);
            std::string reply = StrCat("-", protocol::errors::kMaxClients, "\r\n");
            boost::system::error_code ignored;
            asio::write(socket, asio::buffer(reply), ignored);
            socket.close(ignored);
          } else {
            const bool authenticated = config_.requirepass().empty();
            auto conn = std::make_shared<Connection>(*this, target, std::move(socket),
                                                     NextClientId(), authenticated);
            asio::post(target.context(), [conn] { conn->Start(); });
          }
        }
        Accept(listener);
      });
}

void Server::ScheduleExpiry(size_t t, std::chrono::milliseconds after) {
  IoThread& thread = *threads_[t];
  thread.expiry_timer().expires_after(after);
  thread.expiry_timer().async_wait([this, t](const boost::system::error_code& ec) {
    if (ec || stopping_.load()) return;
    const size_t shards = keyspace_->shards_per_db();
    const size_t n = threads_.size();
    const size_t begin = shards * t / n;
    const size_t end = shards * (t + 1) / n;
    // Thread 0 re-reads the allocator's exact count every kMemorySyncTicks
    // ticks; every thread catches up on eviction left over by commands.
    IoThread& self = *threads_[t];
    if (t == 0 && ++self.ticks % kMemorySyncTicks == 0) SyncUsedMemory();
    // Nothing is evicted or expired actively, and no save point fires,
    // while the start-up load fills the shards (as in Redis, whose cron does
    // not run then).
    if (loading()) return ScheduleExpiry(t, kExpiryPeriod);
    // While over maxmemory the tick comes back at once-a-millisecond pace,
    // as Redis keeps evicting from its event loop until under the limit.
    const bool over = config_.maxmemory() != 0 && evictor_->Tick(storage::NowMs());
    if (t == 0) snapshots_->Tick(storage::NowMs());  // save points
    keyspace_->ActiveExpire(begin, end, storage::NowMs(), kExpiryBudget);
    PublishQueuedKeyspaceEvents(*this);
    ScheduleExpiry(t, over ? std::chrono::milliseconds(1) : kExpiryPeriod);
  });
}

void Server::WaitForSignal() {
  listeners_->signals->async_wait([this](const boost::system::error_code& ec, int sig) {
    if (!ec) OnSignal(sig);
  });
}

void Server::OnSignal(int sig) {
  Log(LogLevel::kWarning,
      StrCat("Received ", sig == SIGINT ? "SIGINT" : "SIGTERM", " scheduling shutdown..."));
  // Nothing is saved while the start-up load runs: the data is partial
  // (Redis does the same).
  if (loading() || !snapshots_->HasSavePoints()) return Shutdown();
  if (signal_save_running_.exchange(true)) return WaitForSignal();  // already at it
  if (signal_saver_.joinable()) signal_saver_.join();  // an earlier, refused one
  signal_saver_ = std::thread([this] {
    RegisterAllocatorThread();
    // A looping script would hold its shards (the save needs them all) for
    // as long as it runs: stop it first, as the shutdown would. One that had
    // written leaves half its work in the data: saving that would break the
    // script's atomicity on disk, so the server exits without the final save
    // (as SHUTDOWN NOSAVE, the one way out Redis gives such a script); the
    // last snapshot stays as it was.
    scripts_->KillAll();
    if (scripts_->WaitStopped(std::chrono::seconds(10))) {
      Log(LogLevel::kWarning,
          "A script that had written was stopped half-way: exiting without the final "
          "save, so that half a script is not persisted (the last snapshot is kept).");
      signal_save_running_.store(false);
      return Shutdown();
    }
    const bool may_exit = snapshots_->SaveForShutdown(/*save=*/true, /*force=*/false);
    signal_save_running_.store(false);
    if (may_exit) Shutdown();
  });
  WaitForSignal();
}

void Server::ScheduleIdleCheck(size_t t) {
  IoThread& thread = *threads_[t];
  thread.idle_timer().expires_after(std::chrono::seconds(1));
  thread.idle_timer().async_wait([this, t, &thread](const boost::system::error_code& ec) {
    if (ec || stopping_.load()) return;
    const int timeout = config_.timeout();
    if (timeout > 0) {
      const int64_t now = storage::NowMs();
      // Closing removes the connection from the set: iterate over a copy.
      std::vector<Connection*> conns(thread.connections().begin(), thread.connections().end());
      for (Connection* c : conns) c->CloseIfIdle(now, timeout);
    }
    ScheduleIdleCheck(t);
  });
}

void Server::Wait() {
  for (auto& t : threads_) t->Join();
  if (listeners_->thread.joinable()) listeners_->thread.join();
}

void Server::Shutdown() {
  if (stopping_.exchange(true)) return;
  scripts_->KillAll();  // a looping script would keep its thread from stopping
  for (auto& t : threads_) t->Stop();
  listeners_->work.reset();
  listeners_->control.stop();
}

void Server::ServeOthersWhileBusy() {
  if (current_io_thread < 0 || stopping()) return;
  // Nested poll: runs the handlers that are ready on this thread's loop and
  // returns. The script's own connection is inside its command and has no
  // read pending, so only other connections' commands (refused with BUSY
  // unless allowed while busy), deliveries and timers run here; active
  // expiry skips the shards the script holds (it never waits for a lock).
  IoThread& thread = *threads_[current_io_thread];
  thread.set_serving_while_busy(true);
  thread.context().poll();
  thread.set_serving_while_busy(false);
}

Server::ThreadTotals Server::SumThreadStats() const {
  ThreadTotals t;
  for (const auto& th : threads_) {
    t.commands += th->commands_processed.load(std::memory_order_relaxed);
    t.net_input_bytes += th->net_input_bytes.load(std::memory_order_relaxed);
    t.net_output_bytes += th->net_output_bytes.load(std::memory_order_relaxed);
  }
  return t;
}

void Server::ResetThreadStats() {
  for (auto& th : threads_) {
    th->commands_processed.store(0);
    th->net_input_bytes.store(0);
    th->net_output_bytes.store(0);
  }
}

void Server::RegisterClient(const std::shared_ptr<Connection>& conn) {
  std::lock_guard lock(clients_mu_);
  clients_[conn->state().id()] = conn;
  stats_.connected_clients.fetch_add(1, std::memory_order_relaxed);
}

void Server::UnregisterClient(uint64_t id) {
  std::lock_guard lock(clients_mu_);
  if (clients_.erase(id) > 0) stats_.connected_clients.fetch_sub(1, std::memory_order_relaxed);
}

std::vector<std::string> Server::DescribeClients(int64_t now_ms) {
  std::vector<std::shared_ptr<Connection>> live;
  {
    std::lock_guard lock(clients_mu_);
    for (auto& [id, weak] : clients_) {
      if (auto c = weak.lock()) live.push_back(std::move(c));
    }
  }
  std::sort(live.begin(), live.end(),
            [](const auto& a, const auto& b) { return a->state().id() < b->state().id(); });
  std::vector<std::string> lines;
  lines.reserve(live.size());
  for (auto& c : live) lines.push_back(c->state().Describe(now_ms));
  return lines;
}

size_t Server::KillClients(const std::function<bool(const ClientState&)>& match,
                           uint64_t self_id) {
  std::vector<std::shared_ptr<Connection>> victims;
  {
    std::lock_guard lock(clients_mu_);
    for (auto& [id, weak] : clients_) {
      if (auto c = weak.lock(); c && match(c->state())) victims.push_back(std::move(c));
    }
  }
  for (auto& c : victims) {
    if (c->state().id() == self_id) {
      c->state().set_close_after_reply();
    } else {
      c->Kill();
    }
  }
  return victims.size();
}

bool Server::UnblockClient(uint64_t id, bool error) {
  std::shared_ptr<Connection> conn;
  {
    std::lock_guard lock(clients_mu_);
    auto it = clients_.find(id);
    if (it != clients_.end()) conn = it->second.lock();
  }
  if (conn == nullptr || !conn->state().blocked()) return false;
  conn->EndBlock(error);
  return true;
}

void Server::Log(LogLevel level, std::string_view message) {
  if (level < config_.loglevel()) return;
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  tm parts;
  localtime_r(&ts.tv_sec, &parts);
  char when[64];
  strftime(when, sizeof(when), "%d %b %Y %H:%M:%S", &parts);
  static constexpr char kMarks[] = {'.', '-', '*', '#', ' '};
  std::lock_guard lock(log_mu_);
  std::fprintf(stdout, "%d:M %s.%03ld %c %.*s\n", static_cast<int>(getpid()), when,
               ts.tv_nsec / 1000000, kMarks[static_cast<int>(level)],
               static_cast<int>(message.size()), message.data());
  std::fflush(stdout);
}

}  // namespace sluice::server
