#include "server/memory/evictor.h"

#include <chrono>
#include <cmath>
#include <vector>

#include "server/process/allocator.h"
#include "server/process/server.h"
#include "server/pubsub/keyspace_events.h"
#include "storage/clock.h"

namespace sluice::server {
namespace {

// Bytes one shard's batch aims to free, and keys it may evict at most, so
// that a batch holds a shard lock for a few microseconds.
constexpr size_t kBatchBytes = 64 * 1024;
constexpr size_t kBatchKeys = 16;

struct Candidate {
  storage::Shard* shard;
  int db;
  uint64_t weight;  // bytes the shard holds (0: passed over)
};

int64_t MonotonicUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

uint64_t Evictor::TimeBudgetUs(int tenacity) {
  if (tenacity <= 10) return 50ull * static_cast<uint64_t>(std::max(tenacity, 0));
  if (tenacity < 100) return static_cast<uint64_t>(500.0 * std::pow(1.15, tenacity - 10.0));
  return UINT64_MAX;
}

void Evictor::NoteOver(int64_t now_ms) {
  int64_t expected = 0;
  exceeded_since_ms_.compare_exchange_strong(expected, now_ms, std::memory_order_relaxed);
}

void Evictor::NoteUnder(int64_t now_ms) {
  const int64_t since = exceeded_since_ms_.exchange(0, std::memory_order_relaxed);
  if (since != 0 && now_ms > since) {
    exceeded_total_ms_.fetch_add(static_cast<uint64_t>(now_ms - since), std::memory_order_relaxed);
  }
}

uint64_t Evictor::current_exceeded_ms() const {
  const int64_t since = exceeded_since_ms_.load(std::memory_order_relaxed);
  if (since == 0) return 0;
  const int64_t now = storage::NowMs();
  return now > since ? static_cast<uint64_t>(now - since) : 0;
}

uint64_t Evictor::total_exceeded_ms() const {
  return exceeded_total_ms_.load(std::memory_order_relaxed) + current_exceeded_ms();
}

void Evictor::ResetStats() {
  evicted_.store(0, std::memory_order_relaxed);
  exceeded_total_ms_.store(0, std::memory_order_relaxed);
}

Evictor::State Evictor::MakeRoom(int64_t now_ms, uint64_t min_budget_us) {
  const uint64_t limit = server_.config().maxmemory();
  if (limit == 0) return State::kOk;
  uint64_t used = UsedMemoryAgainst(limit, now_ms);
  if (used <= limit) {
    if (exceeded_since_ms_.load(std::memory_order_relaxed) != 0) NoteUnder(now_ms);
    return State::kOk;
  }
  NoteOver(now_ms);
  storage::Keyspace& ks = server_.keyspace();
  const storage::EvictionPolicy policy = ks.eviction().policy.load(std::memory_order_relaxed);
  if (policy == storage::EvictionPolicy::kNoEviction) return State::kFail;
  const bool volatile_only = storage::IsVolatile(policy);

  // The shards that hold keys and their weights, rebuilt at most once a
  // millisecond per thread (reading every shard's counters costs a cache miss
  // each, and eviction at the bound runs before nearly every write).
  thread_local std::vector<Candidate> candidates;
  thread_local uint64_t total = 0;
  thread_local int64_t built_at_ms = 0;
  thread_local storage::EvictionPolicy built_for = storage::EvictionPolicy::kNoEviction;
  thread_local const storage::Keyspace* built_for_keyspace = nullptr;
  if (now_ms != built_at_ms || policy != built_for || &ks != built_for_keyspace || total == 0) {
    candidates.clear();
    total = 0;
    for (size_t d = 0; d < ks.database_count(); ++d) {
      storage::Database& db = ks.db(d);
      for (size_t i = 0; i < db.shard_count(); ++i) {
        storage::Shard& s = db.shard(i);
        if (s.size() == 0 || (volatile_only && s.expires_count() == 0)) continue;
        const uint64_t w = s.used_bytes() + 1;
        candidates.push_back(Candidate{&s, static_cast<int>(d), w});
        total += w;
      }
    }
    built_at_ms = now_ms;
    built_for = policy;
    built_for_keyspace = &ks;
  }
  // Shards found exhausted in this call are passed over; the weights are
  // this call's copy.
  thread_local std::vector<uint64_t> weights;
  weights.resize(candidates.size());
  for (size_t c = 0; c < candidates.size(); ++c) weights[c] = candidates[c].weight;
  uint64_t remaining = total;

  const uint64_t budget_us =
      std::max(min_budget_us, TimeBudgetUs(server_.config().maxmemory_eviction_tenacity()));
  // The clock is read from the second batch on: at the bound, one batch is
  // what nearly every call needs.
  int64_t start_us = 0;
  size_t batches = 0;
  // Once over, free a little below the bound (a thousandth of it, at most
  // kBatchBytes), so that the writes right after this one find room without
  // each evicting a key of its own: the per-call costs are shared by a batch.
  const uint64_t target = limit - std::min<uint64_t>(limit / 1024, kBatchBytes);
  uint64_t to_free = used - target;
  uint64_t freed = 0;
  size_t busy_misses = 0;
  while (remaining > 0) {
    // A shard at random, weighted by its bytes (a per-thread generator: no
    // cache line shared between the I/O threads).
    thread_local uint64_t x = 0x9E3779B97F4A7C15ULL ^ reinterpret_cast<uintptr_t>(&x);
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    uint64_t pick = x % remaining;
    size_t c = 0;
    while (pick >= weights[c]) pick -= weights[c++];
    Candidate& cand = candidates[c];
    storage::Shard& shard = *cand.shard;
    if (!shard.mu().try_lock()) {
      // Held (a script, a long command): try others, not this one again soon.
      if (++busy_misses > 4 * candidates.size() + 16) return State::kRunning;
      continue;
    }
    const int db = cand.db;
    const storage::Shard::EvictResult r = shard.Evict(
        std::min<uint64_t>(to_free - std::min(freed, to_free), kBatchBytes), kBatchKeys, now_ms,
        [this, db](std::string_view key) {
          // Queued only (we hold the shard lock); published after the
          // command or the tick, as expiry's events are.
          NotifyKeyspace(server_, db, kNotifyEvicted, "evicted", key);
        });
    shard.mu().unlock();
    evicted_.fetch_add(r.evicted, std::memory_order_relaxed);
    freed += r.bytes_freed;
    if (r.exhausted) {
      remaining -= weights[c];
      weights[c] = 0;
      built_at_ms = 0;  // rebuild next time: this shard's count changed a lot
    }
    // A count that is not live (no jemalloc: sanitizer builds) is re-read
    // now: left to its millisecond refresh it would not see this batch's
    // frees, and a value whose bytes are under-counted (freed < to_free)
    // would have the loop evict every key and then refuse the write as OOM.
    if (!UsedMemoryIsLive()) SyncUsedMemory();
    used = UsedMemory();
    if (used <= target) {
      NoteUnder(now_ms);
      return State::kOk;
    }
    if (freed >= to_free) {
      // Under jemalloc the count is live: go on until it says so. Elsewhere
      // it lags by up to a millisecond and the bytes freed say when to stop.
      if (!UsedMemoryIsLive()) return State::kOk;
      to_free = used - target;
      freed = 0;
    }
    if (++batches == 1) {
      start_us = MonotonicUs();
    } else if (static_cast<uint64_t>(MonotonicUs() - start_us) >= budget_us) {
      break;
    }
  }
  if (used <= limit) {  // under the bound, short of the slack below it
    NoteUnder(now_ms);
    return State::kOk;
  }
  return remaining == 0 ? State::kFail : State::kRunning;
}

}  // namespace sluice::server
