#pragma once
// String and counter operations on one shard, shared by the command handlers
// (and later by scripts and transactions). Each REQUIRES: shard.mu() held.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "storage/shard.h"
#include "storage/status.h"

namespace sluice::storage {

inline constexpr size_t kMaxStringLength = 512ULL * 1024 * 1024;

struct SetOptions {
  enum class Condition : uint8_t { kAlways, kIfAbsent /* NX */, kIfPresent /* XX */ };
  Condition condition = Condition::kAlways;
  int64_t expire_at_ms = 0;  // 0: no expiry (unless keep_ttl)
  bool keep_ttl = false;
  bool return_old = false;  // SET ... GET
};

struct SetOutcome {
  Status status = Status::kOk;  // kWrongType only when return_old and the key is not a string
  bool written = false;         // false when NX/XX stopped it
  std::optional<std::string> old_value;  // with return_old: the previous string, if any
};

// Redis's rule for reading a stored value as a long double (INCRBYFLOAT,
// HINCRBYFLOAT): the whole string, no leading space, no NaN, no overflow.
bool ParseLongDouble(std::string_view s, long double* out);
// How Redis stores a float result: "%.17Lf" without trailing zeros.
std::string FormatLongDouble(long double v);

// SET with all of its options. A value that looks like an int64 is stored as one.
SetOutcome SetString(Shard& shard, std::string_view key, std::string_view value,
                     const SetOptions& options, int64_t now_ms);
// INCRBY/DECRBY/INCR/DECR: creates the key at 0 when absent; keeps the TTL.
Result<int64_t> IncrementBy(Shard& shard, std::string_view key, int64_t delta, int64_t now_ms);
// INCRBYFLOAT: stores and returns the new value as Redis formats it.
Result<std::string> IncrementByFloat(Shard& shard, std::string_view key, long double delta,
                                     int64_t now_ms);
// APPEND: returns the new length.
Result<size_t> AppendString(Shard& shard, std::string_view key, std::string_view tail,
                            int64_t now_ms);
// SETRANGE: returns the new length (kTooLarge past 512 MB). An empty `bytes`
// never creates the key.
Result<size_t> SetRange(Shard& shard, std::string_view key, size_t offset,
                        std::string_view bytes, int64_t now_ms);

}  // namespace sluice::storage
