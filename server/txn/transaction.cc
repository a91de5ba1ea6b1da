#include "server/txn/transaction.h"

#include <mutex>

#include "storage/keyspace.h"

namespace sluice::server {

void Transaction::Begin() {
  in_multi_ = true;
  rejected_ = false;
  queue_.clear();
  multi_count_.store(0, std::memory_order_relaxed);
}

void Transaction::Queue(const CommandSpec& spec, const protocol::CommandArgs& args) {
  queue_.push_back(QueuedCommand{&spec, args});
  multi_count_.store(static_cast<int64_t>(queue_.size()), std::memory_order_relaxed);
}

void Transaction::End() {
  in_multi_ = false;
  rejected_ = false;
  std::vector<QueuedCommand>().swap(queue_);
  multi_count_.store(-1, std::memory_order_relaxed);
}

void Transaction::Watch(storage::Keyspace& keyspace, int db, std::string_view key, int64_t now_ms) {
  for (const WatchedKey& w : watched_) {
    if (w.db == db && w.key == key) return;
  }
  if (changed_ == nullptr) changed_ = std::make_shared<storage::WatchFlag>(false);
  storage::Shard& shard = keyspace.db(db).ShardFor(key);
  (void)shard.Find(key, now_ms);  // reclaims it if expired: that is not a later change
  shard.Watch(key, changed_);
  watched_.push_back(WatchedKey{db, std::string(key)});
}

void Transaction::UnwatchAll(storage::Keyspace& keyspace) {
  for (const WatchedKey& w : watched_) {
    keyspace.db(w.db).ShardFor(w.key).Unwatch(w.key, changed_.get());
  }
  watched_.clear();
  changed_.reset();
}

bool Transaction::WatchedKeyChanged(storage::Keyspace& keyspace, int64_t now_ms) {
  if (changed_ == nullptr) return false;
  for (const WatchedKey& w : watched_) {
    if (changed_->load(std::memory_order_relaxed)) break;
    (void)keyspace.db(w.db).ShardFor(w.key).Find(w.key, now_ms);  // an expired key is reclaimed, which sets the flag
  }
  return changed_->load(std::memory_order_relaxed);
}

}  // namespace sluice::server
