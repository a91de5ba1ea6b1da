#include "storage/eviction.h"

#include <cctype>
#include <cstdlib>
#include <cstring>

namespace sluice::storage {
namespace {

struct PolicyName {
  EvictionPolicy policy;
  std::string_view name;
};

constexpr PolicyName kPolicies[] = {
    {EvictionPolicy::kNoEviction, "noeviction"},
    {EvictionPolicy::kAllKeysLru, "allkeys-lru"},
    {EvictionPolicy::kAllKeysLfu, "allkeys-lfu"},
    {EvictionPolicy::kAllKeysRandom, "allkeys-random"},
    {EvictionPolicy::kVolatileLru, "volatile-lru"},
    {EvictionPolicy::kVolatileLfu, "volatile-lfu"},
    {EvictionPolicy::kVolatileRandom, "volatile-random"},
    {EvictionPolicy::kVolatileTtl, "volatile-ttl"},
    {EvictionPolicy::kAllKeysS3Fifo, "allkeys-s3fifo"},
};

bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// Units of the four stamp levels, in ms.
constexpr int64_t kLevelUnitMs[4] = {1000, 60'000, 3'600'000, 86'400'000};
// A stamp moves to the next level once it is this many units of its own
// level old (32 s, 48 min, 48 h): early enough that the sweep (every
// kLruSweepPeriodMs) gets there before the six clock bits wrap at 64 units.
constexpr int64_t kPromoteUnits[3] = {32, 48, 48};
// Level 3 saturates: a stamp older than this many days is kept at this age.
constexpr int64_t kMaxDays = 60;

uint8_t Stamp(int level, int64_t units) {
  return static_cast<uint8_t>((level << 6) | (units & 63));
}

}  // namespace

AccessMode ModeOf(EvictionPolicy p) {
  switch (p) {
    case EvictionPolicy::kAllKeysLfu:
    case EvictionPolicy::kVolatileLfu:
      return AccessMode::kLfu;
    case EvictionPolicy::kAllKeysS3Fifo:
      return AccessMode::kS3Fifo;
    default:
      return AccessMode::kLru;
  }
}

bool IsVolatile(EvictionPolicy p) {
  return p == EvictionPolicy::kVolatileLru || p == EvictionPolicy::kVolatileLfu ||
         p == EvictionPolicy::kVolatileRandom || p == EvictionPolicy::kVolatileTtl;
}

std::optional<EvictionPolicy> ParseEvictionPolicy(std::string_view name) {
  for (const PolicyName& p : kPolicies) {
    if (EqualsNoCase(p.name, name)) return p.policy;
  }
  return std::nullopt;
}

std::string_view EvictionPolicyName(EvictionPolicy p) {
  for (const PolicyName& n : kPolicies) {
    if (n.policy == p) return n.name;
  }
  return "noeviction";
}

uint8_t LruStampNow(int64_t now_ms) { return Stamp(0, now_ms / kLevelUnitMs[0]); }

uint8_t LruStampIdle(int64_t idle_ms, int64_t now_ms) {
  if (idle_ms > kMaxDays * kLevelUnitMs[3]) idle_ms = kMaxDays * kLevelUnitMs[3];
  const int64_t at = now_ms - idle_ms;
  if (idle_ms < kPromoteUnits[0] * kLevelUnitMs[0]) return LruStampNow(at);
  int level = 1;
  while (level < 3 && idle_ms >= kPromoteUnits[level] * kLevelUnitMs[level]) ++level;
  const int64_t unit = kLevelUnitMs[level];
  return Stamp(level, (at + unit / 2) / unit);
}

int64_t LruIdleMs(uint8_t stamp, int64_t now_ms) {
  const int level = stamp >> 6;
  const int64_t unit = kLevelUnitMs[level];
  // now - (stamp's unit) * unit, with the unit count taken modulo 64.
  const int64_t units = ((now_ms / unit) - (stamp & 63)) & 63;
  return units * unit + now_ms % unit;
}

uint8_t LruAgeStamp(uint8_t stamp, int64_t now_ms) {
  const int level = stamp >> 6;
  const int64_t idle = LruIdleMs(stamp, now_ms);
  if (level < 3) {
    if (idle < kPromoteUnits[level] * kLevelUnitMs[level]) return stamp;
    const int64_t at = now_ms - idle;
    const int64_t unit = kLevelUnitMs[level + 1];
    return Stamp(level + 1, (at + unit / 2) / unit);
  }
  if (idle <= kMaxDays * kLevelUnitMs[3]) return stamp;
  return Stamp(3, now_ms / kLevelUnitMs[3] - kMaxDays);
}

uint8_t LfuIncrement(uint8_t counter, int log_factor, uint64_t random) {
  if (counter == 255) return counter;
  const double r = static_cast<double>(random >> 11) * (1.0 / 9007199254740992.0);
  const double base = counter > kLfuInitial ? counter - kLfuInitial : 0;
  const double p = 1.0 / (base * log_factor + 1);
  return r < p ? static_cast<uint8_t>(counter + 1) : counter;
}

void GhostTable::Resize(size_t keys) {
  size_t want = 64;
  while (want < keys) want <<= 1;
  if (want == slots()) return;
  std::free(slots_);
  slots_ = static_cast<uint16_t*>(std::calloc(want, sizeof(uint16_t)));
  mask_ = slots_ == nullptr ? 0 : want - 1;
}

void GhostTable::Add(uint64_t key_hash) {
  if (slots_ != nullptr) slots_[Index(key_hash)] = Tag(key_hash);
}

bool GhostTable::TakeIfPresent(uint64_t key_hash) {
  if (slots_ == nullptr) return false;
  uint16_t& slot = slots_[Index(key_hash)];
  if (slot != Tag(key_hash)) return false;
  slot = 0;
  return true;
}

GhostTable::~GhostTable() { std::free(slots_); }

}  // namespace sluice::storage
