#include "server/process/snapshots.h"

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <utility>
#include <vector>

#include "common/strings.h"
#include "persistence/rdb_snapshot.h"
#include "server/dispatch/lock_planner.h"
#include "server/process/allocator.h"
#include "server/process/server.h"
#include "server/scripting/scripting.h"
#include "storage/clock.h"

namespace sluice::server {
namespace {

// The background save's thread runs at this nice value (see StartBackground).
constexpr int kBackgroundNice = 10;

// After a failed background save, save points try again only this long
// after the last attempt (Redis's CONFIG_BGSAVE_RETRY_DELAY).
constexpr int64_t kRetryDelaySeconds = 5;
// Save points are looked at this often (Redis's cron runs at 10 Hz).
constexpr int64_t kTickPeriodMs = 100;

}  // namespace

Snapshots::Snapshots(Server& server) : server_(server) {
  last_save_s_.store(storage::NowMs() / 1000);
  OnConfigChange(server_.config().Snapshot());
}

Snapshots::~Snapshots() {
  std::thread t;
  {
    std::unique_lock lock(mu_);
    if (in_progress_.load() && background_.load()) {
      cancel_pending_ = true;
      if (current_ != nullptr) current_->Cancel();
    }
    t = std::move(thread_);
  }
  if (t.joinable()) t.join();
}

void Snapshots::OnConfigChange(const Config& config) {
  {
    std::lock_guard lock(mu_);
    save_points_ = config.save_points;
  }
  has_save_points_.store(!config.save_points.empty(), std::memory_order_relaxed);
  stop_writes_.store(config.stop_writes_on_bgsave_error, std::memory_order_relaxed);
  UpdateRefuseWrites();
}

void Snapshots::UpdateRefuseWrites() {
  refuse_writes_.store(stop_writes_.load() && has_save_points_.load() && !last_bgsave_ok_.load(),
                       std::memory_order_relaxed);
}

bool Snapshots::StartBackground(bool shards_locked, const char* why) {
  std::thread old;
  {
    std::lock_guard lock(mu_);
    if (in_progress_.load()) return false;
    in_progress_.store(true);
    background_.store(true);
    cancel_pending_ = false;
    old = std::move(thread_);
  }
  if (why != nullptr) server_.Log(LogLevel::kNotice, why);
  server_.Log(LogLevel::kNotice, "Background saving started");
  std::unique_ptr<persistence::RdbSnapshot> snapshot;
  if (shards_locked) snapshot = Begin(true);
  if (old.joinable()) old.join();  // a finished save's thread
  std::lock_guard lock(mu_);
  thread_ = std::thread([this, snapshot = std::move(snapshot)]() mutable {
    RegisterAllocatorThread();
    // Below the I/O threads: when the cores are busy, commands go first and
    // the save takes longer, instead of the save's encoding delaying them.
    // (It still gets its share: nice 10 against 0 is about a tenth.)
    setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), kBackgroundNice);
    if (snapshot == nullptr) snapshot = LockAndBegin(true);
    Finish(std::move(snapshot), true);
    std::lock_guard done(mu_);
    in_progress_.store(false);
    done_cv_.notify_all();
  });
  return true;
}

bool Snapshots::SaveNow(std::string* error) {
  {
    std::lock_guard lock(mu_);
    if (in_progress_.load()) {
      *error = "ERR Background save already in progress";
      return false;
    }
    in_progress_.store(true);
    background_.store(false);
    cancel_pending_ = false;
  }
  const std::string failed = Finish(LockAndBegin(false), false);
  {
    std::lock_guard lock(mu_);
    in_progress_.store(false);
    done_cv_.notify_all();
  }
  if (failed.empty()) return true;
  *error = "ERR";
  return false;
}

bool Snapshots::SaveForShutdown(bool save, bool force) {
  {
    std::unique_lock lock(mu_);
    if (in_progress_.load() && background_.load()) {
      server_.Log(LogLevel::kWarning, "There is a child saving an .rdb. Killing it!");
      cancel_pending_ = true;
      if (current_ != nullptr) current_->Cancel();
    }
    done_cv_.wait(lock, [this] { return !in_progress_.load(); });
    if (!save) return true;
    in_progress_.store(true);
    background_.store(false);
    cancel_pending_ = false;
  }
  server_.Log(LogLevel::kNotice, "Saving the final RDB snapshot before exiting.");
  const std::string failed = Finish(LockAndBegin(false), false);
  {
    std::lock_guard lock(mu_);
    in_progress_.store(false);
    done_cv_.notify_all();
  }
  if (failed.empty()) return true;
  if (force) {
    server_.Log(LogLevel::kWarning, "Error trying to save the DB. Exit anyway.");
    return true;
  }
  server_.Log(LogLevel::kWarning, "Error trying to save the DB, can't exit.");
  server_.Log(LogLevel::kWarning,
              "Errors trying to shut down the server. Check the logs for more information.");
  return false;
}

std::unique_ptr<persistence::RdbSnapshot> Snapshots::Begin(bool background) {
  const Config cfg = server_.config().Snapshot();
  persistence::SnapshotFileOptions options;
  options.dir = cfg.dir;
  options.dbfilename = cfg.dbfilename;
  options.compress = cfg.rdbcompression;
  options.checksum = cfg.rdbchecksum;
  const int64_t now_ms = storage::NowMs();
  options.ctime_s = now_ms / 1000;
  options.used_mem = UsedMemory();
  for (const auto& lib : server_.scripts().functions().All()) {
    options.function_codes.push_back(lib->code);
  }
  current_start_ms_.store(now_ms);
  if (background) last_try_s_.store(now_ms / 1000);
  saves_.fetch_add(1);
  auto snapshot =
      std::make_unique<persistence::RdbSnapshot>(server_.keyspace(), std::move(options), now_ms);
  std::lock_guard lock(mu_);
  dirty_at_start_ = dirty_.load();
  current_ = snapshot.get();
  if (cancel_pending_) snapshot->Cancel();
  return snapshot;
}

std::unique_ptr<persistence::RdbSnapshot> Snapshots::LockAndBegin(bool background) {
  LockPlan plan(server_.keyspace(), 0);
  plan.AddAllDbs();
  ShardLocks locks;
  locks.Acquire(plan, [] { return false; });
  return Begin(background);
}

std::string Snapshots::Finish(std::unique_ptr<persistence::RdbSnapshot> snapshot,
                              bool background) {
  const int64_t start_ms = current_start_ms_.load();
  const std::string error = snapshot->Write();
  bool cancelled;
  uint64_t dirty_before;
  {
    std::lock_guard lock(mu_);
    current_ = nullptr;
    cancelled = cancel_pending_;
    dirty_before = dirty_at_start_;
  }
  const int64_t end_ms = storage::NowMs();
  if (error.empty()) {
    dirty_.fetch_sub(dirty_before);
    last_save_s_.store(end_ms / 1000);
    last_bgsave_ok_.store(true);
    server_.Log(LogLevel::kNotice, "DB saved on disk");
    if (background) server_.Log(LogLevel::kNotice, "Background saving terminated with success");
  } else if (cancelled) {
    server_.Log(LogLevel::kWarning, "Background saving cancelled");
  } else {
    server_.Log(LogLevel::kWarning, error);
    if (background) {
      last_bgsave_ok_.store(false);
      server_.Log(LogLevel::kWarning, "Background saving error");
    }
  }
  if (background) last_bgsave_seconds_.store((end_ms - start_ms) / 1000);
  current_start_ms_.store(0);
  UpdateRefuseWrites();
  return error;
}

void Snapshots::AfterFlushAll(bool now) {
  {
    std::lock_guard lock(mu_);
    if (in_progress_.load() && background_.load() && current_ != nullptr) {
      server_.Log(LogLevel::kNotice, "Background saving cancelled by FLUSHALL");
      cancel_pending_ = true;
      current_->Cancel();
    }
  }
  if (!has_save_points_.load()) return;
  if (now && StartBackground(/*shards_locked=*/true, "FLUSHALL with save points: saving")) return;
  scheduled_.store(true);  // after the transaction, or the cancelled save
}

bool Snapshots::ScheduleBackground() {
  if (in_progress_.load()) return false;
  scheduled_.store(true);
  return true;
}

void Snapshots::Tick(int64_t now_ms) {
  if (now_ms - last_tick_ms_.load(std::memory_order_relaxed) < kTickPeriodMs) return;
  last_tick_ms_.store(now_ms, std::memory_order_relaxed);
  if (in_progress_.load()) return;
  if (scheduled_.exchange(false)) {
    StartBackground(false);
    return;
  }
  if (!has_save_points_.load()) return;
  const int64_t now_s = now_ms / 1000;
  const uint64_t dirty = dirty_.load();
  const bool may_try = last_bgsave_ok_.load() || now_s - last_try_s_.load() > kRetryDelaySeconds;
  if (!may_try) return;
  std::string why;
  {
    std::lock_guard lock(mu_);
    for (const SavePoint& sp : save_points_) {
      if (dirty >= static_cast<uint64_t>(sp.changes) && now_s - last_save_s_.load() > sp.seconds) {
        why = StrCat(sp.changes, " changes in ", sp.seconds, " seconds. Saving...");
        break;
      }
    }
  }
  if (!why.empty()) StartBackground(false, why.c_str());
}

void Snapshots::AppendInfo(std::string* out) const {
  const bool running = in_progress_.load();
  uint64_t processed = 0, total = 0;
  {
    std::lock_guard lock(mu_);
    if (current_ != nullptr) {
      processed = current_->keys_saved();
      total = current_->keys_total();
    }
  }
  const int64_t start = current_start_ms_.load();
  const bool bg_running = running && background_.load();
  StrAppend(out, "current_cow_peak:0\r\n", "current_cow_size:0\r\n",
            "current_cow_size_age:0\r\n", "current_fork_perc:0.00\r\n",
            "current_save_keys_processed:", processed, "\r\n",
            "current_save_keys_total:", total, "\r\n",
            "rdb_changes_since_last_save:", dirty_.load(), "\r\n",
            "rdb_bgsave_in_progress:", bg_running ? 1 : 0, "\r\n",
            "rdb_last_save_time:", last_save_s_.load(), "\r\n",
            "rdb_last_bgsave_status:", last_bgsave_ok_.load() ? "ok" : "err", "\r\n",
            "rdb_last_bgsave_time_sec:", last_bgsave_seconds_.load(), "\r\n",
            "rdb_current_bgsave_time_sec:",
            bg_running ? (start != 0 ? (storage::NowMs() - start) / 1000 : 0) : int64_t{-1},
            "\r\n",
            "rdb_saves:", saves_.load(), "\r\n", "rdb_last_cow_size:0\r\n");
}

}  // namespace sluice::server
