#include "storage/shard.h"

#include <xxhash.h>

#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "storage/hash_table.h"
#include "storage/timer_wheel.h"

namespace sluice::storage {
namespace {

bool IsExpired(const Entry* e, int64_t now_ms) {
  return e->has_expiry() && e->expire_at_ms() <= now_ms;
}

uint64_t SplitMix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// Lets the watch registry be searched with a string_view.
struct KeyViewHash {
  using is_transparent = void;
  size_t operator()(std::string_view key) const { return std::hash<std::string_view>()(key); }
};

}  // namespace

uint64_t KeyHash(std::string_view key) { return XXH3_64bits(key.data(), key.size()); }

// The table holds the keys; the wheel holds one or more 4-byte records per
// bucket hash that has keys with a TTL. Invariant: every key with a deadline
// d has, somewhere in the wheel, a record of its bucket hash that will be
// looked at no later than d. Records are therefore added only when a key gets
// a deadline that no earlier record of the same key covers (a new key, or a
// deadline moved earlier); a moved-later deadline is picked up when the old
// record is looked at and re-filed.
struct Shard::Impl {
  HashTable table;
  TimerWheel wheel;
  size_t expires = 0;                 // keys with a deadline
  uint64_t rehash_moves_at_tick = 0;  // table.rehash_moves() at the last ActiveExpire
  std::function<void(std::string_view)> on_expired;
  // Watched key -> flags of the clients watching it. Not part of the contents:
  // SwapContents leaves it in place. Guarded by watch_mu (a leaf lock);
  // any_watched mirrors !watched.empty() so that writers skip the lock when
  // nobody watches.
  std::mutex watch_mu;
  std::atomic<bool> any_watched{false};
  std::unordered_map<std::string, std::vector<std::shared_ptr<WatchFlag>>, KeyViewHash,
                     std::equal_to<>>
      watched;

  // A change to `key`: sets its watchers' flags and forgets them.
  void Touch(std::string_view key) {
    if (!any_watched.load(std::memory_order_relaxed)) return;
    std::lock_guard lock(watch_mu);
    auto it = watched.find(key);
    if (it == watched.end()) return;
    for (const auto& flag : it->second) flag->store(true, std::memory_order_relaxed);
    watched.erase(it);
    any_watched.store(!watched.empty(), std::memory_order_relaxed);
  }

  // Touches every watched key that `table` or `other` holds (live or not yet
  // reclaimed): the change that a flush or a swap makes to it.
  void TouchPresent(const HashTable& other) {
    if (!any_watched.load(std::memory_order_relaxed)) return;
    std::lock_guard lock(watch_mu);
    for (auto it = watched.begin(); it != watched.end();) {
      const uint32_t hash = BucketHash(KeyHash(it->first));
      if (table.Contains(it->first, hash) || other.Contains(it->first, hash)) {
        for (const auto& flag : it->second) flag->store(true, std::memory_order_relaxed);
        it = watched.erase(it);
      } else {
        ++it;
      }
    }
    any_watched.store(!watched.empty(), std::memory_order_relaxed);
  }

  // Unlinks and destroys an expired entry, counting it and telling the hook.
  void Reclaim(uint32_t hash, const HashTable::Slot& slot, Entry* e, ShardCounter& expired) {
    table.Unlink(hash, slot, e);
    --expires;
    expired.Add(1);
    Touch(e->key());
    if (on_expired) on_expired(e->key());
    Entry::Destroy(e);
  }

  // Looks up `key`, reclaiming it when expired.
  Entry* Lookup(std::string_view key, uint32_t hash, int64_t now_ms, HashTable::Slot* slot,
                ShardCounter& expired) {
    Entry* e = table.Find(key, hash, slot);
    if (e != nullptr && IsExpired(e, now_ms)) {
      Reclaim(hash, *slot, e, expired);
      table.MaybeShrink();
      return nullptr;
    }
    return e;
  }

  void Schedule(uint32_t hash, int64_t old_deadline, int64_t new_deadline) {
    if (new_deadline != 0 && (old_deadline == 0 || new_deadline < old_deadline)) {
      wheel.Add(hash, new_deadline);
    }
  }
};

Shard::Shard(uint32_t order) : order_(order), impl_(std::make_unique<Impl>()) {}

Shard::~Shard() = default;

void Shard::PublishCounts() {
  keys_.Set(impl_->table.size());
  expires_.Set(impl_->expires);
}

Entry* Shard::Find(std::string_view key, int64_t now_ms) {
  HashTable::Slot slot;
  const size_t before = impl_->table.size();
  Entry* e = impl_->Lookup(key, BucketHash(KeyHash(key)), now_ms, &slot, expired_);
  if (impl_->table.size() != before) PublishCounts();
  return e;
}

Entry* Shard::FindForRead(std::string_view key, int64_t now_ms) {
  Entry* e = Find(key, now_ms);
  if (e != nullptr) {
    hits_.Add(1);
  } else {
    misses_.Add(1);
  }
  return e;
}

void Shard::Insert(Entry* entry) {
  const uint32_t hash = BucketHash(KeyHash(entry->key()));
  const int64_t deadline = entry->expire_at_ms();
  impl_->Touch(entry->key());
  HashTable::Slot slot;
  Entry* old = impl_->table.Find(entry->key(), hash, &slot);
  if (old == nullptr) {
    impl_->table.Insert(entry, hash);
    if (deadline != 0) ++impl_->expires;
    impl_->Schedule(hash, 0, deadline);
    PublishCounts();
    return;
  }
  const int64_t old_deadline = old->expire_at_ms();
  entry->set_next(old->next());
  impl_->table.Substitute(hash, slot, entry);
  if (old_deadline != 0) --impl_->expires;
  if (deadline != 0) ++impl_->expires;
  Entry::Destroy(old);
  impl_->Schedule(hash, old_deadline, deadline);
  PublishCounts();
}

Entry* Shard::Detach(std::string_view key, int64_t now_ms) {
  const uint32_t hash = BucketHash(KeyHash(key));
  HashTable::Slot slot;
  Entry* e = impl_->Lookup(key, hash, now_ms, &slot, expired_);
  if (e == nullptr) {
    PublishCounts();  // Lookup may have reclaimed it
    return nullptr;
  }
  impl_->Touch(key);
  impl_->table.Unlink(hash, slot, e);
  if (e->has_expiry()) --impl_->expires;
  impl_->table.MaybeShrink();
  PublishCounts();
  return e;
}

bool Shard::Erase(std::string_view key, int64_t now_ms) {
  Entry* e = Detach(key, now_ms);
  if (e == nullptr) return false;
  Entry::Destroy(e);
  return true;
}

Entry* Shard::Relink(Entry* entry, Entry* updated) {
  impl_->Touch(updated->key());
  if (entry == updated) return updated;
  const uint32_t hash = BucketHash(KeyHash(updated->key()));
  HashTable::Slot slot;
  if (impl_->table.FindLinkTo(entry, hash, &slot)) impl_->table.Substitute(hash, slot, updated);
  return updated;
}

Entry* Shard::SetExpiry(Entry* entry, int64_t expire_at_ms) {
  impl_->Touch(entry->key());
  const int64_t old_deadline = entry->expire_at_ms();
  if (old_deadline == expire_at_ms) return entry;
  Entry* updated = Relink(entry, Entry::WithExpiry(entry, expire_at_ms));
  if (old_deadline != 0) --impl_->expires;
  if (expire_at_ms != 0) ++impl_->expires;
  impl_->Schedule(BucketHash(KeyHash(updated->key())), old_deadline, expire_at_ms);
  PublishCounts();
  return updated;
}

bool Shard::rehashing() const { return impl_->table.rehashing(); }

size_t Shard::ActiveExpire(int64_t now_ms, size_t budget) {
  Impl& impl = *impl_;
  size_t reclaimed = 0;
  // Keys of `hash` are in the current array's chain or, while the table is
  // rehashing, the old array's. Nothing here moves entries between them.
  auto service = [&](uint32_t hash, int64_t now) -> int64_t {
    int64_t next = 0;
    for (const bool in_old : {false, true}) {
      HashTable::Slot slot{nullptr, in_old};
      Entry* e = impl.table.chain(hash, in_old);
      while (e != nullptr) {
        Entry* after = e->next();
        if (e->has_expiry()) {
          const int64_t deadline = e->expire_at_ms();
          if (deadline <= now) {
            impl.Reclaim(hash, slot, e, expired_);
            ++reclaimed;
            e = after;
            continue;
          }
          if ((next == 0 || deadline < next) && BucketHash(KeyHash(e->key())) == hash) {
            next = deadline;
          }
        }
        slot.prev = e;
        e = after;
      }
    }
    return next;
  };
  impl.wheel.Advance(now_ms, budget, service);
  impl.table.MaybeShrink();
  if (reclaimed != 0) PublishCounts();
  // Background rehashing, so that a resize also finishes on an idle shard:
  // tops up what lookups and inserts moved since the last tick.
  const uint64_t moved = impl.table.rehash_moves() - impl.rehash_moves_at_tick;
  if (moved < kActiveRehashMoves) impl.table.RehashStep(kActiveRehashMoves - moved);
  impl.rehash_moves_at_tick = impl.table.rehash_moves();
  return reclaimed;
}

uint64_t Shard::Scan(uint64_t cursor, size_t count, int64_t now_ms,
                     const std::function<void(const Entry&)>& visit) {
  const HashTable& table = impl_->table;
  if (table.size() == 0) return 0;
  size_t seen = 0;
  do {
    cursor = table.Scan(cursor, [&](const Entry& e) {
      if (IsExpired(&e, now_ms)) return;
      visit(e);
      ++seen;
    });
  } while (cursor != 0 && seen < count);
  return cursor;
}

void Shard::ForEach(int64_t now_ms, const std::function<void(const Entry&)>& visit) {
  const HashTable& table = impl_->table;
  for (size_t i = 0; i < table.bucket_count(); ++i) {
    for (Entry* e = table.bucket(i); e != nullptr; e = e->next()) {
      if (!IsExpired(e, now_ms)) visit(*e);
    }
  }
}

Entry* Shard::Random(uint64_t random_bits, int64_t now_ms) {
  const HashTable& table = impl_->table;
  if (table.size() == 0) return nullptr;
  // Both bucket arrays while rehashing (so not a power of two).
  const size_t buckets = table.bucket_count();
  // Pick a chain member among the live ones of a bucket.
  auto pick = [&](size_t i, uint64_t bits) -> Entry* {
    size_t live = 0;
    for (Entry* e = table.bucket(i); e != nullptr; e = e->next()) live += !IsExpired(e, now_ms);
    if (live == 0) return nullptr;
    size_t k = bits % live;
    for (Entry* e = table.bucket(i); e != nullptr; e = e->next()) {
      if (IsExpired(e, now_ms)) continue;
      if (k-- == 0) return e;
    }
    return nullptr;
  };
  // Random buckets first (the load factor is at least 1/8), then a sweep.
  uint64_t state = random_bits;
  for (int attempt = 0; attempt < 64; ++attempt) {
    state = SplitMix64(state);
    if (Entry* e = pick(state % buckets, state >> 32)) return e;
  }
  size_t i = state % buckets;
  for (size_t n = 0; n < buckets; ++n) {
    if (Entry* e = pick(i, state >> 32)) return e;
    if (++i == buckets) i = 0;
  }
  return nullptr;
}

void Shard::Clear() {
  impl_->TouchPresent(impl_->table);
  impl_->table.Clear();
  impl_->wheel.Clear();
  impl_->expires = 0;
  PublishCounts();
}

void Shard::SwapContents(Shard& other) {
  impl_->TouchPresent(other.impl_->table);
  other.impl_->TouchPresent(impl_->table);
  impl_->table.Swap(other.impl_->table);
  impl_->wheel.Swap(other.impl_->wheel);
  std::swap(impl_->expires, other.impl_->expires);
  PublishCounts();
  other.PublishCounts();
}

size_t Shard::MemoryBytes() const {
  const HashTable& table = impl_->table;
  size_t bytes = table.MemoryBytes() + impl_->wheel.MemoryBytes();
  for (size_t i = 0; i < table.bucket_count(); ++i) {
    for (Entry* e = table.bucket(i); e != nullptr; e = e->next()) bytes += e->AllocatedBytes();
  }
  return bytes;
}

void Shard::Watch(std::string_view key, std::shared_ptr<WatchFlag> flag) {
  std::lock_guard lock(impl_->watch_mu);
  impl_->any_watched.store(true, std::memory_order_relaxed);
  auto it = impl_->watched.find(key);
  if (it == impl_->watched.end()) it = impl_->watched.try_emplace(std::string(key)).first;
  for (const auto& f : it->second) {
    if (f == flag) return;
  }
  it->second.push_back(std::move(flag));
}

void Shard::Unwatch(std::string_view key, const WatchFlag* flag) {
  std::lock_guard lock(impl_->watch_mu);
  auto it = impl_->watched.find(key);
  if (it == impl_->watched.end()) return;
  auto& flags = it->second;
  for (size_t i = 0; i < flags.size(); ++i) {
    if (flags[i].get() == flag) {
      flags[i] = std::move(flags.back());
      flags.pop_back();
      break;
    }
  }
  if (flags.empty()) impl_->watched.erase(it);
  impl_->any_watched.store(!impl_->watched.empty(), std::memory_order_relaxed);
}

size_t Shard::watched_key_count() const {
  std::lock_guard lock(impl_->watch_mu);
  return impl_->watched.size();
}

void Shard::set_on_expired(std::function<void(std::string_view key)> fn) {
  impl_->on_expired = std::move(fn);
}

}  // namespace sluice::storage
