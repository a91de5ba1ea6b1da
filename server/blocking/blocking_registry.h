#pragma once
// BlockingRegistry: the clients blocked on keys (BLPOP, BZPOPMIN, BLMOVE,
// ...), one first-come-first-served queue per (database, key), and the
// hand-over that serves them when a write makes a key ready.
//
// A blocked client is a BlockedClient (in the server, a connection). When a
// write touches a watched key, Signal() wakes the first client of that key's
// queue: Wake() asks it to run its command again on its own thread. Until it
// reports back with Retried(), the key has a wake in flight and further
// signals only note that the key was touched again; the client then either
// was served (it leaves every queue and the keys it woke for are signalled
// again, so the next client gets the next element) or found nothing (it keeps
// its place; a key touched meanwhile is signalled again). So one client is
// woken per readiness, in queue order, and several pushed elements serve
// several clients in turn.
//
// Thread-safe: one mutex, a leaf lock (held briefly, never while taking
// another). Block() is called under the blocking command's shard locks, which
// is what makes "check the keys, then wait" atomic against writers: a writer
// either ran before the check or finds the client registered. Wake() is
// called with the registry's mutex held, so it must only post or queue work
// (a connection woken by its own thread's command is served right after it).

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace sluice::server {

class BlockedClient {
 public:
  virtual ~BlockedClient() = default;
  // Asks the client to run its blocked command again, on its own thread,
  // after this call returns (never inside it: it must not call back into the
  // registry). Called with the registry's mutex held.
  virtual void Wake() = 0;
};

class BlockingRegistry {
 public:
  BlockingRegistry() = default;
  BlockingRegistry(const BlockingRegistry&) = delete;
  BlockingRegistry& operator=(const BlockingRegistry&) = delete;

  // Queues `client` at the back of the queue of each of `keys` in `db`
  // (a key named twice is queued once). `timeout` says it has a deadline
  // (INFO's clients_in_timeout_table). Nothing happens when it is already
  // registered (a client that ran its command again keeps its place).
  // REQUIRES: the shard locks of `keys`, taken by the blocking command.
  void Block(BlockedClient* client, int db, std::span<const std::string_view> keys, bool timeout);
  // Takes `client` out of every queue (timeout, CLIENT UNBLOCK, disconnect),
  // handing a wake it had not used on to the next client. Returns whether it
  // was registered.
  bool Unblock(BlockedClient* client);
  // Called by a woken client after it ran its command again: `served` (it
  // replied, so it leaves the registry) or not (it stays blocked where it
  // was). Ignored for a client no longer registered.
  void Retried(BlockedClient* client, bool served);
  // A write touched `key` of `db`: wakes the first client waiting on it.
  void Signal(int db, std::string_view key);
  // Every key of `db` may have changed (SWAPDB): signals each watched one.
  void SignalDb(int db);

  bool IsBlocked(BlockedClient* client) const;
  // Fast check, no lock: false when no client waits on `key` of `db` (true
  // may be a collision). Exact for a writer holding the key's shard lock, as
  // Block() counts a key under that lock.
  bool MayWatch(int db, std::string_view key) const {
    return !empty() && watch_counts_[Slot(db, key)].load(std::memory_order_relaxed) != 0;
  }
  // Fast check, no lock: whether any client is blocked.
  bool empty() const { return clients_.load(std::memory_order_relaxed) == 0; }
  // INFO clients: blocked_clients, clients_in_timeout_table, total_blocking_keys.
  size_t blocked_clients() const { return clients_.load(std::memory_order_relaxed); }
  size_t clients_with_timeout() const { return with_timeout_.load(std::memory_order_relaxed); }
  size_t blocking_keys() const { return keys_.load(std::memory_order_relaxed); }

 private:
  struct Queue {
    std::list<BlockedClient*> clients;  // first come, first served
    BlockedClient* waking = nullptr;    // woken through this key, not yet back
    bool again = false;                 // signalled while `waking` was out
  };
  struct Record {
    bool woken = false;
    bool timeout = false;
    // The queues it is in (their map keys) and its place in each.
    std::vector<std::pair<std::string, std::list<BlockedClient*>::iterator>> places;
  };

  static std::string QueueKey(int db, std::string_view key);
  static size_t Slot(int db, std::string_view key) {
    return (std::hash<std::string_view>()(key) ^
            (static_cast<size_t>(db) * 0x9e3779b97f4a7c15ULL)) &
           (kSlots - 1);
  }
  static constexpr size_t kSlots = 4096;
  // REQUIRES: mu_ held.
  void SignalLocked(const std::string& queue_key);
  // Removes `client` from its queues; returns the keys whose wake it held.
  // REQUIRES: mu_ held.
  std::vector<std::string> RemoveLocked(BlockedClient* client);

  mutable std::mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<Queue>> queues_;
  absl::flat_hash_map<BlockedClient*, std::unique_ptr<Record>> records_;
  std::atomic<size_t> clients_{0};
  std::atomic<size_t> with_timeout_{0};
  std::atomic<size_t> keys_{0};
  // How many queues hash to each slot (MayWatch); changed under mu_.
  std::array<std::atomic<uint32_t>, kSlots> watch_counts_{};
};

// The keys made ready by this thread's commands, signalled once their locks
// are released: the write hook queues (QueueReadyKey / QueueReadyDb, under
// the command's locks), the connection signals after the command, EXEC or
// script (SignalReadyKeys).
void QueueReadyKey(int db, std::string_view key);
void QueueReadyDb(int db);
bool HasReadyKeys();
// REQUIRES: no shard lock held.
void SignalReadyKeys(BlockingRegistry& registry);

}  // namespace sluice::server
