#pragma once
// Stream operations on one shard: the storage half of the stream commands.
// A stream is a collection entry (ValueType::kStream) whose object is a
// Stream (storage/types/stream.h). Unlike the other collections, a stream
// stays when its last entry goes (XDEL, XTRIM), as in Redis.
//
// Every mutation runs inside Shard::Update, so the shard's byte count
// follows the stream. Each function REQUIRES: shard.mu() held. Readers and
// the views they hand out are valid until the shard is modified.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "storage/object.h"
#include "storage/shard.h"
#include "storage/status.h"

namespace sluice::storage {

// The Stream of a stream entry. REQUIRES: entry->type() == ValueType::kStream.
inline const Stream& StreamOf(const Entry* entry) { return *entry->object().stream(); }

// The live stream at `key`, nullptr when absent, kWrongType when the key
// holds another type. `for_read` counts a keyspace hit or miss.
Result<const Entry*> FindStream(Shard& shard, std::string_view key, int64_t now_ms,
                                bool for_read = true);

// A trimming request (XADD's and XTRIM's MAXLEN / MINID options).
struct StreamTrim {
  enum class Kind : uint8_t { kNone, kMaxLen, kMinId };
  Kind kind = Kind::kNone;
  bool approx = false;
  uint64_t maxlen = 0;
  StreamId min_id;
  uint64_t limit = 0;  // 0: no limit
};
// The LIMIT that approximate trimming uses when none is given (Redis's
// 100 * stream-node-max-entries).
inline constexpr uint64_t kDefaultTrimLimit = 100 * Stream::kNodeMaxEntries;

// XADD's ID argument: `*`, `ms-*` or an explicit `ms-seq`.
struct StreamAddId {
  enum class Kind : uint8_t { kAuto, kAutoSeq, kExplicit };
  Kind kind = Kind::kAuto;
  StreamId id;  // kAutoSeq: only ms
};

struct StreamAddOutcome {
  enum class Error : uint8_t {
    kNone,
    kNoStream,     // NOMKSTREAM and the key is absent: nothing added
    kTooSmall,     // the ID is not above the stream's last ID
    kExhausted,    // the last ID is the largest possible
    kSeqOverflow,  // `ms-*` whose ms is the last ID's, at the largest sequence
  };
  Error error = Error::kNone;
  bool created = false;
  StreamId id;
  size_t trimmed = 0;
};
// XADD. `clock_ms` is the time auto IDs are generated from (a clock that
// went back keeps the stream's IDs increasing).
Result<StreamAddOutcome> StreamAdd(Shard& shard, std::string_view key, const StreamAddId& id,
                                   std::span<const std::string_view> field_values, bool no_create,
                                   const StreamTrim& trim, int64_t clock_ms, int64_t now_ms);

// XDEL: the number of entries deleted (0 for an absent key).
Result<size_t> StreamDelete(Shard& shard, std::string_view key, std::span<const StreamId> ids,
                            int64_t now_ms);

// XTRIM: the number of entries removed (0 for an absent key).
Result<size_t> StreamTrimKey(Shard& shard, std::string_view key, const StreamTrim& trim,
                             int64_t now_ms);

}  // namespace sluice::storage
