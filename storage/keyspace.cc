#include "storage/keyspace.h"

#include <algorithm>
#include <utility>

namespace sluice::storage {
namespace {

int Log2(size_t power_of_two) { return __builtin_ctzll(power_of_two); }

}  // namespace

Database::Database(size_t shard_count, uint32_t first_order, const EvictionSettings* eviction) {
  shards_.reserve(shard_count);
  for (size_t i = 0; i < shard_count; ++i) {
    shards_.push_back(std::make_unique<Shard>(first_order + static_cast<uint32_t>(i), eviction));
  }
}

size_t Database::Size() const {
  size_t total = 0;
  for (const auto& shard : shards_) total += shard->size();
  return total;
}

size_t Database::ExpiresCount() const {
  size_t total = 0;
  for (const auto& shard : shards_) total += shard->expires_count();
  return total;
}

uint64_t Database::Scan(uint64_t cursor, size_t count, int64_t now_ms,
                        const std::function<void(const Entry&)>& visit) {
  const int bits = Log2(shards_.size());
  size_t index = cursor & (shards_.size() - 1);
  uint64_t bucket_cursor = cursor >> bits;
  size_t seen = 0;
  const std::function<void(const Entry&)> counting = [&](const Entry& e) {
    ++seen;
    visit(e);
  };
  while (true) {
    Shard& shard = *shards_[index];
    bucket_cursor = shard.Scan(bucket_cursor, count > seen ? count - seen : 1, now_ms, counting);
    if (bucket_cursor != 0) return (bucket_cursor << bits) | index;
    ++index;
    if (index == shards_.size()) return 0;
    // The cursor (0 << bits) | index is never 0 here, so stopping is safe.
    if (seen >= count) return index;
  }
}

Keyspace::Keyspace(size_t databases, size_t shards_per_db, LazyFreer::Options freer_options)
    : freer_(std::move(freer_options)) {
  dbs_.reserve(databases);
  for (size_t i = 0; i < databases; ++i) {
    dbs_.push_back(
        std::make_unique<Database>(shards_per_db, static_cast<uint32_t>(i * shards_per_db),
                                   &eviction_));
  }
}

size_t Keyspace::shards_per_db() const { return dbs_.empty() ? 0 : dbs_[0]->shard_count(); }

void Keyspace::SwapDatabases(size_t a, size_t b) {
  if (a == b) return;
  Database& x = *dbs_[a];
  Database& y = *dbs_[b];
  for (size_t j = 0; j < x.shard_count(); ++j) x.shard(j).SwapContents(y.shard(j));
}

void Keyspace::FlushDb(size_t i, bool async) {
  Database& db = *dbs_[i];
  for (size_t j = 0; j < db.shard_count(); ++j) FlushShardLocked(db.shard(j), async);
}

void Keyspace::FlushShardLocked(Shard& shard, bool async) {
  if (!async || shard.size() == 0) {
    shard.Clear();
    return;
  }
  // Swap the contents into a fresh shard, so that `shard` is empty at once,
  // and let the freer destroy the old ones.
  auto old = std::make_unique<Shard>(shard.order());
  {
    std::lock_guard<ShardMutex> lock_old(old->mu());
    shard.SwapContents(*old);
  }
  freer_.Submit(std::move(old));
}

void Keyspace::FlushAll(bool async) {
  for (size_t i = 0; i < dbs_.size(); ++i) FlushDb(i, async);
}

size_t Keyspace::async_frees_in_flight() const { return freer_.pending_items(); }

bool Keyspace::WaitForAsyncFrees(std::chrono::milliseconds timeout) const {
  return freer_.WaitIdle(timeout);
}

size_t Keyspace::ActiveExpire(size_t begin_shard, size_t end_shard, int64_t now_ms,
                              size_t budget_per_shard) {
  size_t reclaimed = 0;
  for (auto& db : dbs_) {
    const size_t end = std::min(end_shard, db->shard_count());
    for (size_t j = begin_shard; j < end; ++j) {
      Shard& shard = db->shard(j);
      // Never wait: a shard held by a command (or a long script) is
      // skipped this tick and served at a later one.
      std::unique_lock<ShardMutex> lock(shard.mu(), std::try_to_lock);
      if (!lock.owns_lock()) continue;
      reclaimed += shard.ActiveExpire(now_ms, budget_per_shard);
    }
  }
  return reclaimed;
}

ShardStats Keyspace::TotalStats() {
  ShardStats total;
  for (auto& db : dbs_) {
    for (size_t j = 0; j < db->shard_count(); ++j) {
      const ShardStats s = db->shard(j).stats();
      total.keyspace_hits += s.keyspace_hits;
      total.keyspace_misses += s.keyspace_misses;
      total.expired_keys += s.expired_keys;
    }
  }
  return total;
}

void Keyspace::ResetStats() {
  for (auto& db : dbs_) {
    for (size_t j = 0; j < db->shard_count(); ++j) {
      db->shard(j).ResetStats();
    }
  }
}

size_t Keyspace::MemoryBytes() {
  size_t bytes = 0;
  for (auto& db : dbs_) {
    for (size_t j = 0; j < db->shard_count(); ++j) {
      Shard& shard = db->shard(j);
      std::lock_guard<ShardMutex> lock(shard.mu());
      bytes += shard.MemoryBytes();
    }
  }
  return bytes;
}

MultiLock::MultiLock(std::vector<Shard*> shards) : shards_(std::move(shards)) {
  std::sort(shards_.begin(), shards_.end(),
            [](const Shard* a, const Shard* b) { return a->order() < b->order(); });
  shards_.erase(std::unique(shards_.begin(), shards_.end()), shards_.end());
  for (Shard* s : shards_) s->mu().lock();
}

MultiLock::~MultiLock() {
  for (auto it = shards_.rbegin(); it != shards_.rend(); ++it) (*it)->mu().unlock();
}

}  // namespace sluice::storage
