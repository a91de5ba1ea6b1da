#pragma once
// Eviction policies and the entry's access byte.
//
// Every entry has one byte of access history (Entry::access()). What it holds
// depends on the policy's family (AccessMode):
//
//   kLru     (noeviction, *-lru, *-random, volatile-ttl, as Redis keeps an
//            LRU clock under every non-LFU policy): when the key was last
//            used, as a stamp of two level bits and six clock bits. Level 0
//            counts seconds, 1 minutes, 2 hours, 3 days, each modulo 64. An
//            access writes a level-0 stamp of now; the shard's age sweep
//            (LruAgeStamp) rewrites a stamp to the next level (rounded to
//            its nearest unit) after 32 s, 48 min and 48 h, before the clock
//            bits can wrap. Idle times read back to the second for the
//            first 32 s, then within half a minute up to 48 min, half an
//            hour up to 48 h and half a day up to 60 days, where OBJECT
//            IDLETIME saturates. Eviction only compares them.
//   kLfu     (*-lfu): Redis's logarithmic access counter (new keys start at 5;
//            an access increments with probability 1 / ((c - 5) * lfu-log-factor
//            + 1)). Redis decays a counter by one per lfu-decay-time minutes
//            from a timestamp it keeps in the key; sluice has no room for one,
//            so the age sweep visits every key once per lfu-decay-time minutes
//            and decrements its counter then (the same rate on average).
//   kS3Fifo  (allkeys-s3fifo, sluice's own): a sampled form of S3-FIFO
//            (Yang et al., SOSP 2023). Bits 0-1 a saturating access count
//            (0-3), bit 2 "main" (the key proved itself) against "small" (new,
//            on probation), bits 3-7 the shard's insertion epoch when the key
//            entered its queue (a FIFO position, modulo 32). See
//            Shard::Evict for how victims are chosen and docs/eviction.md
//            for the measurements behind the choice.
//
// Changing the policy at run time between families reinterprets the bytes
// until keys are touched again, as switching between LRU and LFU does in
// Redis.

#include <atomic>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>

namespace sluice::storage {

enum class EvictionPolicy : uint8_t {
  kNoEviction,
  kAllKeysLru,
  kAllKeysLfu,
  kAllKeysRandom,
  kVolatileLru,
  kVolatileLfu,
  kVolatileRandom,
  kVolatileTtl,
  kAllKeysS3Fifo,
};

enum class AccessMode : uint8_t { kLru, kLfu, kS3Fifo };

AccessMode ModeOf(EvictionPolicy p);
// Whether the policy only evicts keys that have a TTL.
bool IsVolatile(EvictionPolicy p);
// "allkeys-lru" etc.; nullopt for an unknown name (case-insensitive).
std::optional<EvictionPolicy> ParseEvictionPolicy(std::string_view name);
std::string_view EvictionPolicyName(EvictionPolicy p);

// Settings every shard of a keyspace reads (relaxed atomics; CONFIG SET
// writes them from any thread).
struct EvictionSettings {
  std::atomic<EvictionPolicy> policy{EvictionPolicy::kNoEviction};
  std::atomic<int> samples{5};            // maxmemory-samples
  std::atomic<int> lfu_log_factor{10};    // lfu-log-factor
  std::atomic<int> lfu_decay_minutes{1};  // lfu-decay-time (0: never decay)

  AccessMode mode() const { return ModeOf(policy.load(std::memory_order_relaxed)); }
};

// --- kLru stamps ---
// The stamp an access at `now_ms` writes.
uint8_t LruStampNow(int64_t now_ms);
// The stamp of an access `idle_ms` before `now_ms` (RESTORE ... IDLETIME),
// at the level the age sweep would have brought it to by now.
uint8_t LruStampIdle(int64_t idle_ms, int64_t now_ms);
// How long ago (ms, at the stamp's resolution) the stamped access was.
int64_t LruIdleMs(uint8_t stamp, int64_t now_ms);
// The stamp the age sweep writes back (the same one, or a coarser level's),
// keeping LruIdleMs right as long as every key is swept at least once per
// kLruSweepPeriodMs.
uint8_t LruAgeStamp(uint8_t stamp, int64_t now_ms);
constexpr int64_t kLruSweepPeriodMs = 30'000;

// --- kLfu counters ---
constexpr uint8_t kLfuInitial = 5;
// The counter after one access; `random` is uniformly random bits.
uint8_t LfuIncrement(uint8_t counter, int log_factor, uint64_t random);

// --- kS3Fifo bits ---
struct S3FifoBits {
  uint8_t freq;   // 0-3
  bool main;
  uint8_t epoch;  // 0-31
};
inline S3FifoBits DecodeS3Fifo(uint8_t b) {
  return S3FifoBits{static_cast<uint8_t>(b & 3), (b & 4) != 0, static_cast<uint8_t>(b >> 3)};
}
inline uint8_t EncodeS3Fifo(S3FifoBits s) {
  return static_cast<uint8_t>((s.freq & 3) | (s.main ? 4 : 0) | ((s.epoch & 31) << 3));
}

// A direct-mapped table of 16-bit fingerprints of recently evicted keys
// (S3-FIFO's ghost queue): a key that comes back while its fingerprint is
// still there enters the main queue at once. Two bytes per slot, about one
// slot per key of the shard; a newer fingerprint overwrites an older one in
// its slot, which ages the table like a FIFO of that size. Not thread-safe.
class GhostTable {
 public:
  // Makes room for about `keys` fingerprints (power of two, at least 64),
  // forgetting the old ones when the size changes.
  void Resize(size_t keys);
  void Add(uint64_t key_hash);
  // True (and forgets it) when `key_hash`'s fingerprint is there.
  bool TakeIfPresent(uint64_t key_hash);
  size_t slots() const { return mask_ == 0 ? 0 : mask_ + 1; }
  size_t MemoryBytes() const { return slots() * sizeof(uint16_t); }
  void Swap(GhostTable& other) {
    std::swap(slots_, other.slots_);
    std::swap(mask_, other.mask_);
  }
  GhostTable() = default;
  GhostTable(const GhostTable&) = delete;
  GhostTable& operator=(const GhostTable&) = delete;
  ~GhostTable();

 private:
  size_t Index(uint64_t h) const { return (h >> 32) & mask_; }
  static uint16_t Tag(uint64_t h) { return static_cast<uint16_t>((h >> 16) | 1); }
  uint16_t* slots_ = nullptr;
  size_t mask_ = 0;
};

}  // namespace sluice::storage
