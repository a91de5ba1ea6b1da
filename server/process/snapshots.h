#pragma once
// Snapshots: the server's side of RDB persistence — SAVE, BGSAVE, the save
// points, the state INFO persistence and LASTSAVE report, the MISCONF rule
// and the save on shutdown. The file itself is persistence::RdbSnapshot's
// work (forkless point in time; see docs/persistence.md).
//
// A background save runs on a thread of its own: it takes every shard lock
// (through the lock planner's ShardLocks, in global order) for the instant
// the snapshot begins, lets go, and writes the file while the server keeps
// serving; the walk then locks one shard at a time, briefly. SAVE runs the
// same work on the calling thread. At most one save runs at a time.
//
// Changes since the last save (Redis's `dirty`) are counted by the write
// hook; the housekeeping tick (Tick) starts a background save when a save
// point is due, as Redis's cron does.
//
// Thread-safe: every member may be called from any thread.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "server/process/config.h"

namespace sluice::persistence {
class RdbSnapshot;
}

namespace sluice::server {

class Server;

class Snapshots {
 public:
  explicit Snapshots(Server& server);
  // Cancels a background save in progress and waits for its thread.
  ~Snapshots();
  Snapshots(const Snapshots&) = delete;
  Snapshots& operator=(const Snapshots&) = delete;

  // BGSAVE: starts a background save; false when a save is in progress.
  // With `shards_locked` (the BGSAVE row locks every shard) the snapshot's
  // instant is taken before this returns, so a write the client makes after
  // the reply is not in it; otherwise (save points) the save's thread takes
  // the locks itself.
  bool StartBackground(bool shards_locked, const char* why = nullptr);
  // BGSAVE inside EXEC: the save starts at the next tick after the
  // transaction (its instant then holds all of it), as Redis schedules it.
  // False when a save is in progress.
  bool ScheduleBackground();
  // After FLUSHALL, as Redis's: a background save in progress is cancelled
  // (its instant holds the keys just flushed; Redis kills its child), and
  // with save points a save of the flushed state follows at once (`now`: its
  // instant taken here) or, inside a transaction or script, right after it,
  // so that a restart never brings flushed keys back. REQUIRES: every shard
  // locked (the FLUSHALL row's locks, still held by the write hook).
  void AfterFlushAll(bool now);
  // SAVE: saves on the calling thread. Returns false, with *error set to
  // the reply, when a save is already in progress or the save failed.
  // REQUIRES: the caller holds no shard lock.
  bool SaveNow(std::string* error);
  bool in_progress() const { return in_progress_.load(std::memory_order_relaxed); }

  // The shutdown path (SHUTDOWN, SIGTERM): cancels a background save in
  // progress and waits for it, then saves when `save` (failures are logged).
  // Returns whether the shutdown may go on: a failed save refuses unless
  // `force`.
  bool SaveForShutdown(bool save, bool force);
  // Whether a plain shutdown saves: when save points are configured.
  bool HasSavePoints() const { return has_save_points_.load(std::memory_order_relaxed); }

  // The write hook: `n` more changes since the last save.
  void AddChanges(uint64_t n) {
    if (n != 0) dirty_.fetch_add(n, std::memory_order_relaxed);
  }
  // The housekeeping tick: starts a background save when one was scheduled
  // or a save point is due.
  void Tick(int64_t now_ms);

  // MISCONF: writes are refused after a failed background save while save
  // points exist and stop-writes-on-bgsave-error is on (until a save
  // succeeds). One relaxed load: the gate asks for every write.
  bool WritesRefused() const { return refuse_writes_.load(std::memory_order_relaxed); }
  // Called with the new configuration after CONFIG SET.
  void OnConfigChange(const Config& config);

  // LASTSAVE: Unix time (s) of the last successful save (the start time
  // before any).
  int64_t last_save_s() const { return last_save_s_.load(std::memory_order_relaxed); }
  // INFO persistence's rdb_* and current_save_* lines.
  void AppendInfo(std::string* out) const;

 private:
  // Takes the instant: a snapshot of the keyspace as it is now.
  // REQUIRES: every shard locked by the caller; in_progress_ set by it.
  std::unique_ptr<persistence::RdbSnapshot> Begin(bool background);
  // Begin() with the locks taken here (REQUIRES: the caller holds none).
  std::unique_ptr<persistence::RdbSnapshot> LockAndBegin(bool background);
  // Writes the file of `snapshot` and records the outcome. Returns "" on
  // success, else the error (already logged).
  std::string Finish(std::unique_ptr<persistence::RdbSnapshot> snapshot, bool background);
  void UpdateRefuseWrites();

  Server& server_;
  // Guards thread_, current_, cancel_pending_, save_points_ and the change
  // of in_progress_ (a leaf lock: nothing else is taken while holding it
  // but the log's).
  mutable std::mutex mu_;
  std::condition_variable done_cv_;  // in_progress_ became false
  std::thread thread_;               // the latest background save's
  persistence::RdbSnapshot* current_ = nullptr;  // the save being written
  bool cancel_pending_ = false;      // the shutdown path cancels the save
  std::vector<SavePoint> save_points_;
  std::atomic<bool> in_progress_{false};
  std::atomic<bool> scheduled_{false};  // ScheduleBackground, not started yet
  std::atomic<bool> background_{false};
  std::atomic<int64_t> last_tick_ms_{0};
  std::atomic<uint64_t> dirty_{0};
  uint64_t dirty_at_start_ = 0;  // dirty_ at the running save's instant
  std::atomic<int64_t> last_save_s_{0};
  std::atomic<int64_t> last_try_s_{0};
  std::atomic<bool> last_bgsave_ok_{true};
  std::atomic<int64_t> last_bgsave_seconds_{-1};
  std::atomic<int64_t> current_start_ms_{0};
  std::atomic<uint64_t> saves_{0};
  std::atomic<bool> has_save_points_{false};
  std::atomic<bool> stop_writes_{true};
  std::atomic<bool> refuse_writes_{false};
};

}  // namespace sluice::server
