#pragma once
// Evictor: keeps used_memory at or under maxmemory by evicting keys, as
// Redis's maxmemory does.
//
// The gate calls MakeRoom() before every client command while maxmemory is
// set (never with a shard lock held). When used_memory (UsedMemory(), the
// allocator's count, connection buffers included) is over the limit it
// evicts in batches from shards picked at random in proportion to their
// bytes, so that each shard gives up memory in proportion to its share and
// one busy shard cannot empty the others. A shard whose lock is held (a long
// script) is passed over, never waited for. Work per call is bounded by
// maxmemory-eviction-tenacity (Redis's scale: 10 is 500 us); what is left is
// caught up by Tick(), which the I/O threads' timers call. The gate refuses
// denyoom commands only when MakeRoom() says kFail: over the limit with
// nothing left that the policy may evict (noeviction, or volatile-* with no
// key that has a TTL).
//
// Evicted keys raise `evicted` keyspace events and count in evicted_keys.
// Thread-safe: every I/O thread calls in concurrently.

#include <atomic>
#include <cstdint>

namespace sluice::server {

class Server;

class Evictor {
 public:
  enum class State {
    kOk,       // under the limit (or no limit)
    kRunning,  // still over, but eviction is making progress
    kFail,     // over, and nothing can be evicted
  };

  explicit Evictor(Server& server) : server_(server) {}
  Evictor(const Evictor&) = delete;
  Evictor& operator=(const Evictor&) = delete;

  // `now_ms` is the caller's clock (the command's time).
  // REQUIRES: the caller holds no shard lock.
  State MakeRoom(int64_t now_ms) { return MakeRoom(now_ms, 0); }
  // Background catch-up, with a time budget of at least kTickBudgetUs; a
  // no-op when under the limit. Returns whether memory is still over it
  // (the caller then ticks again soon).
  bool Tick(int64_t now_ms) { return MakeRoom(now_ms, kTickBudgetUs) != State::kOk; }
  static constexpr uint64_t kTickBudgetUs = 500;

  // INFO stats and memory fields.
  uint64_t evicted_keys() const { return evicted_.load(std::memory_order_relaxed); }
  // Milliseconds spent over maxmemory, in total (ended stretches plus the
  // current one) and in the current stretch (0 when under).
  uint64_t total_exceeded_ms() const;
  uint64_t current_exceeded_ms() const;
  void ResetStats();

  // Redis's time budget for one eviction call, in microseconds, from
  // maxmemory-eviction-tenacity (0-100; 100: no limit).
  static uint64_t TimeBudgetUs(int tenacity);

 private:
  State MakeRoom(int64_t now_ms, uint64_t min_budget_us);
  void NoteOver(int64_t now_ms);
  void NoteUnder(int64_t now_ms);

  Server& server_;
  std::atomic<uint64_t> evicted_{0};
  std::atomic<int64_t> exceeded_since_ms_{0};  // 0: not over
  std::atomic<uint64_t> exceeded_total_ms_{0};
};

}  // namespace sluice::server
