#include "server/dispatch/lock_planner.h"

#include <algorithm>
#include <chrono>

namespace sluice::server {
namespace {

// How long one timed wait for a shard lasts before the give-up test runs again.
constexpr auto kWaitSlice = std::chrono::milliseconds(2);

}  // namespace

void LockPlan::AddDb(int64_t db_index) {
  if (db_index < 0 || static_cast<size_t>(db_index) >= keyspace.database_count()) return;
  storage::Database& d = keyspace.db(db_index);
  for (size_t i = 0; i < d.shard_count(); ++i) needs.push_back(Need{&d.shard(i), {}});
}

void LockPlan::AddAllDbs() {
  for (size_t i = 0; i < keyspace.database_count(); ++i) AddDb(static_cast<int64_t>(i));
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
  return std::binary_search(held_.begin(), held_.end(), shard,
                            [](const storage::Shard* a, const storage::Shard* b) {
                              return a->order() < b->order();
                            });
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
  // The shards not held yet, ascending, without duplicates.
  absl::InlinedVector<storage::Shard*, 16> want;
  for (const LockPlan::Need& n : plan.needs) {
    if (held_.empty() || !Holds(n.shard)) want.push_back(n.shard);
  }
  if (want.empty()) return Result::kLocked;
  const auto by_order = [](const storage::Shard* a, const storage::Shard* b) {
    return a->order() < b->order();
  };
  std::sort(want.begin(), want.end(), by_order);
  want.erase(std::unique(want.begin(), want.end()), want.end());
  if (!held_.empty() && want.front()->order() < held_.back()->order()) {
    if (out_of_order != nullptr) {
      for (const LockPlan::Need& n : plan.needs) {
        if (n.shard == want.front()) *out_of_order = n;
      }
    }
    return Result::kOutOfOrder;
  }
  const size_t before = held_.size();
  for (storage::Shard* shard : want) {
    storage::ShardMutex& mu = shard->mu();
    if (!mu.try_lock()) {
      while (!mu.try_lock_for(kWaitSlice)) {
        if (give_up()) {
          ReleaseTo(before);
          return Result::kGaveUp;
        }
      }
    }
    held_.push_back(shard);
  }
  return Result::kLocked;
}

void ShardLocks::ReleaseTo(size_t n) {
  while (held_.size() > n) {
    held_.back()->mu().unlock();
    held_.pop_back();
  }
}

}  // namespace sluice::server
