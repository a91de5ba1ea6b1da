#include "server/blocking/blocking_registry.h"

#include <cstring>
#include <utility>

namespace sluice::server {

std::string BlockingRegistry::QueueKey(int db, std::string_view key) {
  std::string out(sizeof(db) + key.size(), '\0');
  std::memcpy(out.data(), &db, sizeof(db));
  std::memcpy(out.data() + sizeof(db), key.data(), key.size());
  return out;
}

void BlockingRegistry::Block(BlockedClient* client, int db, std::span<const std::string_view> keys,
                             bool timeout) {
  std::lock_guard lock(mu_);
  auto [it, inserted] = records_.try_emplace(client);
  if (!inserted) return;
  it->second = std::make_unique<Record>();
  Record& rec = *it->second;
  rec.timeout = timeout;
  for (std::string_view key : keys) {
    std::string qk = QueueKey(db, key);
    bool seen = false;
    for (const auto& place : rec.places) seen = seen || place.first == qk;
    if (seen) continue;
    auto [q, fresh] = queues_.try_emplace(qk);
    if (fresh) {
      q->second = std::make_unique<Queue>();
      keys_.fetch_add(1, std::memory_order_relaxed);
      watch_counts_[Slot(db, key)].fetch_add(1, std::memory_order_relaxed);
    }
    std::list<BlockedClient*>& list = q->second->clients;
    rec.places.emplace_back(std::move(qk), list.insert(list.end(), client));
  }
  clients_.fetch_add(1, std::memory_order_relaxed);
  if (timeout) with_timeout_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<std::string> BlockingRegistry::RemoveLocked(BlockedClient* client) {
  std::vector<std::string> handed_on;
  auto it = records_.find(client);
  if (it == records_.end()) return handed_on;
  Record& rec = *it->second;
  for (auto& [qk, place] : rec.places) {
    auto q = queues_.find(qk);
    Queue& queue = *q->second;
    queue.clients.erase(place);
    if (queue.waking == client) {
      queue.waking = nullptr;
      queue.again = false;
      handed_on.push_back(qk);
    }
    if (queue.clients.empty()) {
      int db;
      std::memcpy(&db, qk.data(), sizeof(db));
      watch_counts_[Slot(db, std::string_view(qk).substr(sizeof(db)))].fetch_sub(
          1, std::memory_order_relaxed);
      queues_.erase(q);
      keys_.fetch_sub(1, std::memory_order_relaxed);
    }
  }
  if (rec.timeout) with_timeout_.fetch_sub(1, std::memory_order_relaxed);
  clients_.fetch_sub(1, std::memory_order_relaxed);
  records_.erase(it);
  return handed_on;
}

bool BlockingRegistry::Unblock(BlockedClient* client) {
  std::lock_guard lock(mu_);
  if (!records_.contains(client)) return false;
  for (const std::string& qk : RemoveLocked(client)) SignalLocked(qk);
  return true;
}

void BlockingRegistry::Retried(BlockedClient* client, bool served) {
  std::lock_guard lock(mu_);
  auto it = records_.find(client);
  if (it == records_.end()) return;
  if (served) {
    // There may be more: the next client of each key it woke for tries.
    for (const std::string& qk : RemoveLocked(client)) SignalLocked(qk);
    return;
  }
  Record& rec = *it->second;
  rec.woken = false;
  std::vector<std::string> again;
  for (const auto& place : rec.places) {
    Queue& queue = *queues_.find(place.first)->second;
    if (queue.waking != client) continue;
    queue.waking = nullptr;
    if (queue.again) again.push_back(place.first);
    queue.again = false;
  }
  for (const std::string& qk : again) SignalLocked(qk);
}

void BlockingRegistry::SignalLocked(const std::string& qk) {
  auto q = queues_.find(qk);
  if (q == queues_.end()) return;
  Queue& queue = *q->second;
  if (queue.waking != nullptr) {
    queue.again = true;
    return;
  }
  BlockedClient* head = queue.clients.front();
  queue.waking = head;
  Record& rec = *records_.find(head)->second;
  if (rec.woken) {
    // Already running its command again for another key, possibly past
    // this one: it looks again when it reports back.
    queue.again = true;
    return;
  }
  rec.woken = true;
  head->Wake();
}

void BlockingRegistry::Signal(int db, std::string_view key) {
  if (empty()) return;
  const std::string qk = QueueKey(db, key);
  std::lock_guard lock(mu_);
  SignalLocked(qk);
}

void BlockingRegistry::SignalDb(int db) {
  if (empty()) return;
  std::lock_guard lock(mu_);
  std::vector<std::string> keys;
  for (const auto& [qk, queue] : queues_) {
    int owner;
    std::memcpy(&owner, qk.data(), sizeof(owner));
    if (owner == db) keys.push_back(qk);
  }
  for (const std::string& qk : keys) SignalLocked(qk);
}

bool BlockingRegistry::IsBlocked(BlockedClient* client) const {
  std::lock_guard lock(mu_);
  return records_.contains(client);
}

namespace {

struct ReadyKey {
  int db;
  bool whole_db;
  std::string key;
};
thread_local std::vector<ReadyKey> ready_keys;

}  // namespace

void QueueReadyKey(int db, std::string_view key) {
  ready_keys.push_back(ReadyKey{db, false, std::string(key)});
}

void QueueReadyDb(int db) { ready_keys.push_back(ReadyKey{db, true, {}}); }

bool HasReadyKeys() { return !ready_keys.empty(); }

void SignalReadyKeys(BlockingRegistry& registry) {
  std::vector<ReadyKey> keys;
  keys.swap(ready_keys);
  for (const ReadyKey& k : keys) {
    if (k.whole_db) {
      registry.SignalDb(k.db);
    } else {
      registry.Signal(k.db, k.key);
    }
  }
}

}  // namespace sluice::server
