#include "server/dispatch/lock_planner.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

namespace sluice::server {
namespace {

// How long one timed wait for a shard lasts before the give-up test runs again.
constexpr auto kWaitSlice = std::chrono::milliseconds(2);

// The pause between two rounds of AcquireOutOfOrder.
constexpr auto kRetryPause = std::chrono::microseconds(100);

// How many callers are inside AcquireOutOfOrder now (process-wide).
std::atomic<int> g_out_of_order_lockers{0};

bool ByOrder(const storage::Shard* a, const storage::Shard* b) { return a->order() < b->order(); }

}  // namespace

void LockPlan::AddDb(int64_t db_index) {
  if (db_index < 0 || static_cast<size_t>(db_index) >= keyspace.database_count()) return;
  storage::Database& d = keyspace.db(db_index);
  for (size_t i = 0; i < d.shard_count(); ++i) needs.push_back(Need{&d.shard(i), {}});
}

void LockPlan::AddAllDbs() {
  for (size_t i = 0; i < keyspace.database_count(); ++i) AddDb(static_cast<int64_t>(i));
}

void LockPlan::AddScope(ScriptScopes::Scope scope) {
  switch (scope) {
    case ScriptScopes::Scope::kKeys:
      return;
    case ScriptScopes::Scope::kWholeDb:
      return AddDb(db);
    case ScriptScopes::Scope::kAllDbs:
      return AddAllDbs();
  }
}

void PlanLocks(const CommandSpec& spec, const protocol::CommandArgs& args, LockPlan& plan) {
  // The common row: one key at position 1 (GET, SET, INCR, ...).
  if (spec.first_key == 1 && spec.last_key == 1 && spec.keys == nullptr &&
      !(spec.flags & (kAllDbs | kWholeDb))) {
    return plan.AddKey(plan.db, args[1]);
  }
  if (spec.flags & kAllDbs) return plan.AddAllDbs();
  if (spec.flags & kWholeDb) return plan.AddDb(plan.db);
  if (spec.first_key > 0) {
    const int argc = static_cast<int>(args.size());
    const int last = spec.last_key < 0 ? argc + spec.last_key : std::min(spec.last_key, argc - 1);
    const int step = std::max(spec.key_step, 1);
    for (int i = spec.first_key; i <= last; i += step) plan.AddKey(plan.db, args[i]);
  }
  if (spec.keys != nullptr) spec.keys(args, plan);
}

bool ShardLocks::Holds(const storage::Shard* shard) const {
  return std::binary_search(held_.begin(), held_.end(), shard, ByOrder);
}

ShardLocks::Result ShardLocks::Acquire(const LockPlan& plan, absl::FunctionRef<bool()> give_up,
                                       LockPlan::Need* out_of_order) {
  if (plan.needs.empty()) return Result::kLocked;
  // The common case: one key, nothing held yet.
  if (plan.needs.size() == 1 && held_.empty()) {
    storage::ShardMutex& mu = plan.needs[0].shard->mu();
    if (!mu.try_lock()) {
      while (!mu.try_lock_for(kWaitSlice)) {
        if (give_up()) return Result::kGaveUp;
      }
    }
    held_.push_back(plan.needs[0].shard);
    return Result::kLocked;
  }
  absl::InlinedVector<storage::Shard*, 16> want = Missing(plan);
  if (want.empty()) return Result::kLocked;
  if (!held_.empty() && want.front()->order() < held_.back()->order()) {
    if (out_of_order != nullptr) {
      for (const LockPlan::Need& n : plan.needs) {
        if (n.shard == want.front()) *out_of_order = n;
      }
    }
    return Result::kOutOfOrder;
  }
  const size_t before = held_.size();
  size_t i = 0;
  while (i < want.size()) {
    storage::ShardMutex& mu = want[i]->mu();
    if (mu.try_lock() || mu.try_lock_for(kWaitSlice)) {
      held_.push_back(want[i++]);
      continue;
    }
    if (give_up()) {
      ReleaseTo(before);
      return Result::kGaveUp;
    }
    // Nothing has used what this call took yet: while someone try-locks
    // out of order (and may want one of those shards, which it cannot wait
    // for), let them go and start again.
    if (held_.size() > before && g_out_of_order_lockers.load(std::memory_order_relaxed) > 0) {
      ReleaseTo(before);
      std::this_thread::sleep_for(kRetryPause);
      i = 0;
    }
  }
  return Result::kLocked;
}

absl::InlinedVector<storage::Shard*, 16> ShardLocks::Missing(const LockPlan& plan) const {
  absl::InlinedVector<storage::Shard*, 16> want;
  for (const LockPlan::Need& n : plan.needs) {
    if (held_.empty() || !Holds(n.shard)) want.push_back(n.shard);
  }
  std::sort(want.begin(), want.end(), ByOrder);
  want.erase(std::unique(want.begin(), want.end()), want.end());
  return want;
}

ShardLocks::Result ShardLocks::AcquireOutOfOrder(const LockPlan& plan,
                                                 absl::FunctionRef<bool()> give_up,
                                                 std::chrono::milliseconds budget) {
  absl::InlinedVector<storage::Shard*, 16> want = Missing(plan);
  if (want.empty()) return Result::kLocked;
  const auto deadline = std::chrono::steady_clock::now() + budget;
  g_out_of_order_lockers.fetch_add(1, std::memory_order_relaxed);
  struct Leave {
    ~Leave() { g_out_of_order_lockers.fetch_sub(1, std::memory_order_relaxed); }
  } leave;
  while (true) {
    size_t got = 0;
    while (got < want.size() && want[got]->mu().try_lock()) ++got;
    if (got == want.size()) break;
    for (size_t i = 0; i < got; ++i) want[i]->mu().unlock();
    if (give_up()) return Result::kGaveUp;
    if (std::chrono::steady_clock::now() >= deadline) return Result::kOutOfOrder;
    // Let the holder get on, holding nothing new. (No timed wait on the
    // shard: even a bounded blocking wait against the global order is a
    // lock-order inversion to ThreadSanitizer.)
    std::this_thread::sleep_for(kRetryPause);
  }
  const size_t before = held_.size();
  held_.insert(held_.end(), want.begin(), want.end());
  std::inplace_merge(held_.begin(), held_.begin() + static_cast<std::ptrdiff_t>(before),
                     held_.end(), ByOrder);
  return Result::kLocked;
}

void ShardLocks::ReleaseTo(size_t n) {
  while (held_.size() > n) {
    held_.back()->mu().unlock();
    held_.pop_back();
  }
}

}  // namespace sluice::server
