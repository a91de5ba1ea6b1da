#include "storage/shard.h"

#include <xxhash.h>

#include <algorithm>
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
  explicit Impl(const EvictionSettings* settings) : eviction(settings) {}

  const EvictionSettings* eviction;
  HashTable table;
  TimerWheel wheel;
  size_t expires = 0;                 // keys with a deadline
  size_t bytes = 0;                   // Entry::UsedBytes of linked entries
  uint64_t rng = 0x2545F4914F6CDD1DULL;
  // allkeys-s3fifo: keys in the probation ("small") queue, the insertion
  // epoch and inserts since it began, and the ghost of evicted keys.
  size_t small = 0;
  uint8_t epoch = 0;
  size_t epoch_inserts = 0;
  GhostTable ghost;
  // The age sweep's position (a bucket index of the table) and clock.
  size_t sweep_bucket = 0;
  int64_t sweep_at_ms = 0;
  double sweep_due = 0;
  // The latest time a lookup or tick was given: new keys' LRU stamps.
  int64_t last_now_ms = 0;
  uint64_t rehash_moves_at_tick = 0;  // table.rehash_moves() at the last ActiveExpire
  std::function<void(std::string_view)> on_expired;
  // The snapshot in progress (storage/snapshot_sink.h): its sink (nullptr
  // when none runs: the one test every mutation makes), this shard's mark,
  // and the walker's SCAN cursor. Not part of the contents: SwapContents
  // leaves them in place.
  SnapshotSink* snapshot = nullptr;
  bool mark = false;
  uint64_t snapshot_cursor = 0;
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

  uint64_t NextRandom() {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
  }

  // Called before `e` (linked, present) changes or goes: while a snapshot
  // runs, saves it first unless it was saved already.
  void PreImage(Entry* e) {
    if (snapshot != nullptr) [[unlikely]] SaveIfPending(e);
  }
  void SaveIfPending(Entry* e) {
    if (e->snapshot_mark() == mark) return;
    snapshot->Save(*e);
    e->set_snapshot_mark(mark);
  }
  // Saves every entry not saved yet (before a flush or a swap takes them).
  void SaveAllPending() {
    if (snapshot == nullptr) return;
    for (size_t i = 0; i < table.bucket_count(); ++i) {
      for (Entry* e = table.bucket(i); e != nullptr; e = e->next()) SaveIfPending(e);
    }
  }

  // The bookkeeping of an entry leaving the table.
  void Forget(const Entry* e) {
    bytes -= e->UsedBytes();
    if (eviction->mode() == AccessMode::kS3Fifo && !DecodeS3Fifo(e->access()).main && small > 0) {
      --small;
    }
  }

  // Unlinks and destroys an expired entry, counting it and telling the hook.
  void Reclaim(uint32_t hash, const HashTable::Slot& slot, Entry* e, ShardCounter& expired) {
    PreImage(e);  // it may have been live when the snapshot began
    table.Unlink(hash, slot, e);
    Forget(e);
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

namespace {
const EvictionSettings kDefaultEviction;
}  // namespace

Shard::Shard(uint32_t order, const EvictionSettings* eviction)
    : order_(order),
      eviction_(eviction != nullptr ? eviction : &kDefaultEviction),
      impl_(std::make_unique<Impl>(eviction_)) {}

Shard::~Shard() = default;

void Shard::PublishCounts() {
  keys_.Set(impl_->table.size());
  expires_.Set(impl_->expires);
  bytes_.Set(impl_->bytes);
}

Entry* Shard::Peek(std::string_view key, int64_t now_ms) {
  impl_->last_now_ms = now_ms;
  HashTable::Slot slot;
  const size_t before = impl_->table.size();
  Entry* e = impl_->Lookup(key, BucketHash(KeyHash(key)), now_ms, &slot, expired_);
  if (impl_->table.size() != before) PublishCounts();
  return e;
}

Entry* Shard::Find(std::string_view key, int64_t now_ms) {
  Entry* e = Peek(key, now_ms);
  if (e != nullptr) RecordAccess(e, now_ms);
  return e;
}

void Shard::RecordAccess(Entry* e, int64_t now_ms) {
  switch (eviction_->mode()) {
    case AccessMode::kLru:
      e->set_access(LruStampNow(now_ms));
      break;
    case AccessMode::kLfu:
      e->set_access(LfuIncrement(e->access(),
                                 eviction_->lfu_log_factor.load(std::memory_order_relaxed),
                                 impl_->NextRandom()));
      break;
    case AccessMode::kS3Fifo: {
      S3FifoBits b = DecodeS3Fifo(e->access());
      if (b.freq < 3) {
        ++b.freq;
        e->set_access(EncodeS3Fifo(b));
      }
      break;
    }
  }
}

uint8_t Shard::InitialAccess(uint64_t key_hash) {
  Impl& impl = *impl_;
  switch (eviction_->mode()) {
    case AccessMode::kLru:
      return LruStampNow(impl.last_now_ms);
    case AccessMode::kLfu:
      return kLfuInitial;
    case AccessMode::kS3Fifo:
      break;
  }
  // A new epoch every 1/32 of the shard's keys inserted: the epochs of the
  // probation queue (a tenth of the keys) are then about three apart.
  if (++impl.epoch_inserts >= std::max<size_t>(16, impl.table.size() / 32)) {
    impl.epoch = (impl.epoch + 1) & 31;
    impl.epoch_inserts = 0;
  }
  if (impl.ghost.slots() < impl.table.size() / 2 || impl.ghost.slots() > impl.table.size() * 4) {
    impl.ghost.Resize(impl.table.size());
  }
  const bool main = impl.ghost.TakeIfPresent(key_hash);
  if (!main) ++impl.small;
  return EncodeS3Fifo(S3FifoBits{0, main, impl.epoch});
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

bool Shard::Insert(Entry* entry) {
  const uint64_t key_hash = KeyHash(entry->key());
  const uint32_t hash = BucketHash(key_hash);
  const int64_t deadline = entry->expire_at_ms();
  impl_->Touch(entry->key());
  HashTable::Slot slot;
  Entry* old = impl_->table.Find(entry->key(), hash, &slot);
  impl_->bytes += entry->UsedBytes();
  entry->set_snapshot_mark(impl_->mark);  // born after any snapshot in progress began
  if (old == nullptr) {
    entry->set_access(InitialAccess(key_hash));
    impl_->table.Insert(entry, hash);
    if (deadline != 0) ++impl_->expires;
    impl_->Schedule(hash, 0, deadline);
    PublishCounts();
    return false;
  }
  impl_->PreImage(old);
  // A new value for an existing key: the key keeps its history, plus this use.
  entry->set_access(old->access());
  RecordAccess(entry, impl_->last_now_ms);
  impl_->bytes -= old->UsedBytes();
  const int64_t old_deadline = old->expire_at_ms();
  entry->set_next(old->next());
  impl_->table.Substitute(hash, slot, entry);
  if (old_deadline != 0) --impl_->expires;
  if (deadline != 0) ++impl_->expires;
  Entry::Destroy(old);
  impl_->Schedule(hash, old_deadline, deadline);
  PublishCounts();
  return true;
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
  impl_->PreImage(e);
  impl_->table.Unlink(hash, slot, e);
  impl_->Forget(e);
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

Entry* Shard::Update(Entry* entry, absl::FunctionRef<Entry*(Entry*)> change) {
  impl_->PreImage(entry);
  const size_t before = entry->UsedBytes();
  Entry* updated = Relink(entry, change(entry));
  impl_->bytes += updated->UsedBytes();
  impl_->bytes -= before;
  bytes_.Set(impl_->bytes);
  return updated;
}

Entry* Shard::SetExpiry(Entry* entry, int64_t expire_at_ms) {
  impl_->Touch(entry->key());
  const int64_t old_deadline = entry->expire_at_ms();
  if (old_deadline == expire_at_ms) return entry;
  Entry* updated =
      Update(entry, [expire_at_ms](Entry* e) { return Entry::WithExpiry(e, expire_at_ms); });
  if (old_deadline != 0) --impl_->expires;
  if (expire_at_ms != 0) ++impl_->expires;
  impl_->Schedule(BucketHash(KeyHash(updated->key())), old_deadline, expire_at_ms);
  PublishCounts();
  return updated;
}

void Shard::Reserve(size_t keys) { impl_->table.Reserve(keys); }

void Shard::Prefetch(uint64_t key_hash, int stage) const {
  const uint32_t hash = BucketHash(key_hash);
  if (stage == 0) {
    impl_->table.PrefetchSlot(hash);
  } else {
    impl_->table.PrefetchChain(hash);
  }
}

bool Shard::rehashing() const { return impl_->table.rehashing(); }

size_t Shard::ActiveExpire(int64_t now_ms, size_t budget) {
  Impl& impl = *impl_;
  impl.last_now_ms = now_ms;
  AgeSweep(now_ms);
  const size_t reclaimed = ReclaimDue(now_ms, budget);
  // Background rehashing, so that a resize also finishes on an idle shard:
  // tops up what lookups and inserts moved since the last tick.
  const uint64_t moved = impl.table.rehash_moves() - impl.rehash_moves_at_tick;
  if (moved < kActiveRehashMoves) impl.table.RehashStep(kActiveRehashMoves - moved);
  impl.rehash_moves_at_tick = impl.table.rehash_moves();
  return reclaimed;
}

size_t Shard::ReclaimDue(int64_t now_ms, size_t budget) {
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
  impl_->SaveAllPending();
  impl_->table.Clear();
  impl_->wheel.Clear();
  impl_->expires = 0;
  impl_->bytes = 0;
  impl_->small = 0;
  impl_->sweep_bucket = 0;
  PublishCounts();
}

void Shard::SwapContents(Shard& other) {
  impl_->TouchPresent(other.impl_->table);
  other.impl_->TouchPresent(impl_->table);
  // Each side's pending entries belong to its own snapshot (its database).
  impl_->SaveAllPending();
  other.impl_->SaveAllPending();
  impl_->table.Swap(other.impl_->table);
  impl_->wheel.Swap(other.impl_->wheel);
  std::swap(impl_->expires, other.impl_->expires);
  std::swap(impl_->bytes, other.impl_->bytes);
  std::swap(impl_->small, other.impl_->small);
  std::swap(impl_->epoch, other.impl_->epoch);
  std::swap(impl_->epoch_inserts, other.impl_->epoch_inserts);
  impl_->ghost.Swap(other.impl_->ghost);
  impl_->sweep_bucket = other.impl_->sweep_bucket = 0;
  PublishCounts();
  other.PublishCounts();
}

size_t Shard::MemoryBytes() const {
  const HashTable& table = impl_->table;
  size_t bytes = table.MemoryBytes() + impl_->wheel.MemoryBytes() + impl_->ghost.MemoryBytes();
  for (size_t i = 0; i < table.bucket_count(); ++i) {
    for (Entry* e = table.bucket(i); e != nullptr; e = e->next()) bytes += e->AllocatedBytes();
  }
  return bytes;
}

void Shard::AgeSweep(int64_t now_ms) {
  Impl& impl = *impl_;
  const AccessMode mode = eviction_->mode();
  int64_t period_ms = 0;
  if (mode == AccessMode::kLru) {
    period_ms = kLruSweepPeriodMs;
  } else if (mode == AccessMode::kLfu) {
    period_ms = int64_t{eviction_->lfu_decay_minutes.load(std::memory_order_relaxed)} * 60'000;
  }
  const int64_t elapsed = impl.sweep_at_ms == 0 ? 0 : now_ms - impl.sweep_at_ms;
  impl.sweep_at_ms = now_ms;
  HashTable& table = impl.table;
  if (period_ms <= 0 || elapsed <= 0 || table.size() == 0) return;
  // Buckets rather than keys: a pass visits every bucket once per period.
  impl.sweep_due += static_cast<double>(table.bucket_count()) * static_cast<double>(elapsed) /
                    static_cast<double>(period_ms);
  size_t buckets = static_cast<size_t>(impl.sweep_due);
  impl.sweep_due -= static_cast<double>(buckets);
  buckets = std::min<size_t>(buckets, 1 << 16);
  for (size_t n = 0; n < buckets; ++n) {
    if (impl.sweep_bucket >= table.bucket_count()) impl.sweep_bucket = 0;
    for (Entry* e = table.bucket(impl.sweep_bucket); e != nullptr; e = e->next()) {
      const uint8_t a = e->access();
      if (mode == AccessMode::kLru) {
        e->set_access(LruAgeStamp(a, now_ms));
      } else if (a > 0) {
        e->set_access(static_cast<uint8_t>(a - 1));
      }
    }
    ++impl.sweep_bucket;
  }
}

Shard::EvictResult Shard::Evict(size_t bytes, size_t max_keys, int64_t now_ms,
                                absl::FunctionRef<void(std::string_view key)> on_evicted) {
  Impl& impl = *impl_;
  HashTable& table = impl.table;
  EvictResult out;
  const EvictionPolicy policy = eviction_->policy.load(std::memory_order_relaxed);
  impl.last_now_ms = now_ms;
  // Keys already due go first, as active expiry would take them.
  if (impl.expires != 0) {
    const size_t bytes_before = impl.bytes;
    out.expired = ReclaimDue(now_ms, 64);
    out.bytes_freed = bytes_before - impl.bytes;  // fields, a close lower bound
  }
  if (policy == EvictionPolicy::kNoEviction) {
    out.exhausted = true;
    return out;
  }
  const bool volatile_only = IsVolatile(policy);
  const AccessMode mode = ModeOf(policy);
  const size_t samples = static_cast<size_t>(
      std::clamp(eviction_->samples.load(std::memory_order_relaxed), 1, 64));
  constexpr size_t kMaxSample = 64;
  Entry* sample[kMaxSample];

  // Removes linked entry `e` as an expired or an evicted key.
  auto remove = [&](Entry* e, bool evicted) {
    const uint64_t key_hash = KeyHash(e->key());
    const uint32_t hash = BucketHash(key_hash);
    HashTable::Slot slot;
    if (!table.FindLinkTo(e, hash, &slot)) return;
    out.bytes_freed += e->AllocatedBytes();
    if (!evicted) {
      impl.Reclaim(hash, slot, e, expired_);
      ++out.expired;
      return;
    }
    if (mode == AccessMode::kS3Fifo && !DecodeS3Fifo(e->access()).main) impl.ghost.Add(key_hash);
    table.Unlink(hash, slot, e);
    impl.Forget(e);
    if (e->has_expiry()) --impl.expires;
    impl.Touch(e->key());
    impl.PreImage(e);
    on_evicted(e->key());
    Entry::Destroy(e);
    ++out.evicted;
  };

  // Up to `want` candidates from consecutive buckets starting at a random
  // one, reclaiming expired keys met on the way. Looks at a bounded number of
  // buckets (more for volatile policies, whose keys may be sparse).
  auto take_sample = [&](size_t want) -> size_t {
    const size_t buckets = table.bucket_count();
    if (buckets == 0) return 0;
    size_t n = 0;
    size_t i = impl.NextRandom() % buckets;
    const size_t max_visits = volatile_only ? 64 * want + 64 : 4 * want + 64;
    for (size_t v = 0; v < max_visits && n < want; ++v) {
      Entry* e = table.bucket(i);
      while (e != nullptr && n < want) {
        Entry* after = e->next();
        if (IsExpired(e, now_ms)) {
          remove(e, false);
        } else if (!volatile_only || e->has_expiry()) {
          sample[n++] = e;
        }
        e = after;
      }
      if (++i == table.bucket_count()) i = 0;
      if (table.bucket_count() == 0) break;
    }
    return n;
  };

  size_t rounds = 0;
  const size_t max_rounds = 4 * max_keys + 8;
  while (out.bytes_freed < bytes && out.evicted < max_keys) {
    if (table.size() == 0 || (volatile_only && impl.expires == 0) || ++rounds > max_rounds) {
      out.exhausted = table.size() == 0 || (volatile_only && impl.expires == 0);
      break;
    }
    const size_t n = take_sample(policy == EvictionPolicy::kAllKeysRandom ||
                                         policy == EvictionPolicy::kVolatileRandom
                                     ? 1
                                     : samples);
    if (n == 0) continue;
    Entry* victim = nullptr;
    switch (mode) {
      case AccessMode::kLru:
        if (policy == EvictionPolicy::kVolatileTtl) {
          victim = sample[0];
          for (size_t i = 1; i < n; ++i) {
            if (sample[i]->expire_at_ms() < victim->expire_at_ms()) victim = sample[i];
          }
        } else {
          victim = sample[0];
          int64_t idle = LruIdleMs(victim->access(), now_ms);
          for (size_t i = 1; i < n; ++i) {
            const int64_t d = LruIdleMs(sample[i]->access(), now_ms);
            if (d > idle) {
              victim = sample[i];
              idle = d;
            }
          }
        }
        break;
      case AccessMode::kLfu:
        victim = sample[0];
        for (size_t i = 1; i < n; ++i) {
          if (sample[i]->access() < victim->access()) victim = sample[i];
        }
        break;
      case AccessMode::kS3Fifo: {
        // The probation queue is served while it holds over a tenth of the
        // keys; the sample's members of the served queue are looked at
        // oldest first, as the queue's tail would be.
        const bool serve_small = impl.small * 10 > table.size();
        Entry* queue[kMaxSample];
        size_t q = 0;
        for (size_t i = 0; i < n; ++i) {
          if (DecodeS3Fifo(sample[i]->access()).main != serve_small) queue[q++] = sample[i];
        }
        if (q == 0) {
          // None of the served queue in this sample: sample again (the
          // probation queue is only a tenth of the keys), and only late in
          // the call fall back to the other queue.
          if (rounds < max_rounds / 2) break;
          std::copy(sample, sample + n, queue);
          q = n;
        }
        auto age = [&](const Entry* e) { return (impl.epoch - DecodeS3Fifo(e->access()).epoch) & 31; };
        std::sort(queue, queue + q, [&](const Entry* a, const Entry* b) { return age(a) > age(b); });
        for (size_t i = 0; i < q && victim == nullptr; ++i) {
          S3FifoBits b = DecodeS3Fifo(queue[i]->access());
          if (b.freq == 0) {
            victim = queue[i];
          } else if (!b.main) {
            // Used while on probation: into the main queue, keeping its count
            // as credit against later passes of the main queue's tail.
            b.main = true;
            b.epoch = impl.epoch;
            queue[i]->set_access(EncodeS3Fifo(b));
            if (impl.small > 0) --impl.small;
          } else {
            // Used since it was last looked at: back to the queue's head.
            --b.freq;
            b.epoch = impl.epoch;
            queue[i]->set_access(EncodeS3Fifo(b));
          }
        }
        break;
      }
    }
    if (victim != nullptr) remove(victim, true);
  }
  table.MaybeShrink();
  PublishCounts();
  return out;
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

void Shard::BeginSnapshot(SnapshotSink* sink) {
  impl_->mark = !impl_->mark;
  impl_->snapshot = sink;
  impl_->snapshot_cursor = 0;
}

bool Shard::SnapshotStep(size_t max_entries) {
  Impl& impl = *impl_;
  if (impl.snapshot == nullptr) return true;
  size_t seen = 0;
  uint64_t cursor = impl.snapshot_cursor;
  if (impl.table.size() != 0) {
    do {
      // The visitor gets const entries; the shard owns them and holds its
      // lock, so setting the mark bit is this shard's own business.
      cursor = impl.table.Scan(cursor, [&](const Entry& e) {
        impl.SaveIfPending(const_cast<Entry*>(&e));
        ++seen;
      });
    } while (cursor != 0 && seen < max_entries);
  } else {
    cursor = 0;
  }
  impl.snapshot_cursor = cursor;
  if (cursor != 0) return false;
  impl.snapshot = nullptr;
  return true;
}

bool Shard::snapshot_running() const { return impl_->snapshot != nullptr; }

void Shard::set_on_expired(std::function<void(std::string_view key)> fn) {
  impl_->on_expired = std::move(fn);
}

}  // namespace sluice::storage
