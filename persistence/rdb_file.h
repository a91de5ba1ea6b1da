#pragma once
// Reading a whole RDB snapshot file (the layout in persistence/rdb_format.h),
// shared by the server's start-up load and the sluice-check-rdb tool.
//
// ReadRdbFile maps the file and walks it once: the header ("REDIS" and a
// version 1..11), AUX fields, SELECTDB / RESIZEDB, each record's expiry
// (EXPIRETIME_MS, EXPIRETIME in seconds), IDLE and FREQ (read and passed on
// to no one: sluice restarts every key's access history), function libraries
// (FUNCTION2, handed to the visitor), every key's value (decoded by
// persistence/rdb_value.h into a new storage::Entry, handed to the visitor),
// EOF and the CRC-64 that follows it (checked unless it is stored as 0, which
// is what a writer with checksums off stores). Module data (MODULE_AUX,
// module value types) and the pre-release function format are refused:
// sluice has no modules.
//
// Every error names the file and the byte offset of the item it was found
// in: "Bad file format reading the RDB file <name> at offset <n>: <what>".
//
// Thread-compatible: one read runs on the calling thread, and so do the
// visitor's callbacks.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "persistence/rdb_value.h"
#include "storage/entry.h"

namespace sluice::persistence {

// What the reader knows about one key it hands over.
struct RdbKey {
  size_t db = 0;
  uint8_t type = 0;          // the RDB type byte
  int64_t expire_at_ms = 0;  // 0: none
  bool expired = false;      // a deadline at or before RdbReadOptions::now_ms
  size_t offset = 0;         // where its record starts
};

// The callbacks of one read. Each returns false (with *error set) to stop
// the read with that error, which the reader then reports at the item's
// offset.
class RdbVisitor {
 public:
  virtual ~RdbVisitor() = default;
  virtual void OnAux(std::string_view name, std::string_view value) {}
  // A RESIZEDB hint for the database selected last.
  virtual void OnResizeDb(size_t db, uint64_t keys, uint64_t expires) {}
  // A library's code (as FUNCTION LOAD takes it).
  virtual bool OnFunction(std::string_view code, std::string* error) { return true; }
  // Takes ownership of `entry` (storage::Entry::Destroy or a shard's Insert).
  virtual bool OnKey(const RdbKey& key, storage::Entry* entry, std::string* error) = 0;
  // Every RdbReadOptions::progress_bytes of the file; false abandons the
  // read (RdbReadResult::kStopped).
  virtual bool OnProgress(size_t bytes_read) { return true; }
};

struct RdbReadOptions {
  size_t databases = 16;  // SELECTDB of an index at or beyond this is an error
  ValueLimits limits;     // the encodings values are built in
  int64_t now_ms = 0;     // deadlines at or before this are reported expired
  size_t progress_bytes = size_t{1} << 20;
};

// What a read found (filled as far as it got).
struct RdbFileSummary {
  int version = 0;
  size_t file_bytes = 0;
  uint64_t keys = 0;  // records handed to OnKey, expired ones included
  uint64_t expired = 0;
  uint64_t functions = 0;
  bool checksum_checked = false;  // false when the file stores 0 (or has none: version < 5)
  uint64_t checksum = 0;          // as stored
};

enum class RdbReadResult { kOk, kError, kStopped };

// Reads the file at `path`; `name` is how errors name it.
RdbReadResult ReadRdbFile(const std::string& path, std::string_view name,
                          const RdbReadOptions& options, RdbVisitor& visitor,
                          RdbFileSummary* summary, std::string* error);
// The same over bytes already in memory.
RdbReadResult ReadRdbBytes(std::string_view bytes, std::string_view name,
                           const RdbReadOptions& options, RdbVisitor& visitor,
                           RdbFileSummary* summary, std::string* error);

// The Redis type an RDB value type byte holds ("string", "list", "set",
// "zset", "hash", "stream", "module"), "" for a byte that is no value type.
std::string_view RdbTypeName(uint8_t type);
// The encoding it names ("intset", "listpack", "quicklist-2", ...; "" as above).
std::string_view RdbEncodingName(uint8_t type);

}  // namespace sluice::persistence
