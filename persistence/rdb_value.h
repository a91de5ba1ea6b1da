#pragma once
// The RDB encoding of one key's value, in Redis's format: what a snapshot
// record and a DUMP payload carry after the key (persistence/rdb_format.h).
//
// Writing: AppendRdbValue emits the type byte and the value for an entry of
// any type, in the encodings Redis 7.0 writes (RDB version 10, so every Redis
// from 7.0 on reads it): integer and LZF strings, quicklist nodes of
// listpacks, intsets or plain sets, listpack or plain hashes and sorted sets
// (binary scores), STREAM_LISTPACKS_2 streams without consumer groups.
// Reading: ReadRdbValue decodes a value of a given type byte, in every
// encoding Redis 7.0 and 7.2 write (and the older ones still found in files:
// ziplists, zipmaps, text scores, version 1 streams), into a new Entry that
// the caller links into a shard, built in the encoding the limits choose, as
// the commands would build it. Stream consumer groups are read and dropped.
// Byte formats inside the values: persistence/packed_formats.h.
//
// Pure functions over caller-owned data; thread-compatible. The entry passed
// to AppendRdbValue must be guarded by its shard's lock for the call.

#include <cstdint>
#include <string>
#include <string_view>

#include "persistence/rdb_string.h"
#include "storage/entry.h"
#include "storage/hash_ops.h"
#include "storage/list_ops.h"
#include "storage/set_ops.h"
#include "storage/zset_ops.h"

namespace sluice::persistence {

struct RdbWriteOptions {
  bool compress = true;  // rdbcompression: LZF for strings over 20 bytes
};

// Appends `entry`'s value: its RDB type byte, then the value.
void AppendRdbValue(const storage::Entry& entry, const RdbWriteOptions& options,
                    std::string* out);

// The encodings a decoded value is built in (the server's current limits).
struct ValueLimits {
  storage::HashLimits hash;
  storage::SetLimits set;
  storage::ListLimits list;
  storage::ZSetLimits zset;
};

// Decodes a value of RDB type `type` from `in` into a new entry for `key`
// with deadline `expire_at_ms` (0: none). Returns nullptr, with *error
// saying what is wrong, on an unknown type or malformed or truncated data
// (every internal length and count is checked, as Redis's deep sanitization
// does; nothing is allocated beyond what the input holds); a collection with
// no elements (which Redis never writes; a stream may be empty), repeated
// set members, hash fields or sorted-set members, and NaN scores are refused
// too. The caller owns the entry (storage::Entry::Destroy or Shard::Insert).
[[nodiscard]] storage::Entry* ReadRdbValue(uint8_t type, RdbReader& in, std::string_view key,
                                           int64_t expire_at_ms, const ValueLimits& limits,
                                           std::string* error);

}  // namespace sluice::persistence
