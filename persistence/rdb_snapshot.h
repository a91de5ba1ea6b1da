#pragma once
// RdbSnapshot: one point-in-time snapshot of a keyspace, written as a Redis
// RDB file (persistence/rdb_format.h) without fork and without stopping the
// server.
//
// The constructor is the instant: with every shard locked by the caller it
// begins a snapshot on each (storage/snapshot_sink.h), giving each shard a
// sink of its own that encodes records into a per-shard buffer, and notes
// the databases' sizes. Write() then walks the shards one after another, in
// bounded steps: lock one shard, let it save up to kStepEntries entries,
// take its buffer (which also holds the pre-images that commands saved
// before changing entries the walk had not reached), unlock, write the
// bytes. No lock is held across file I/O.
//
// The file: "REDIS0010", AUX fields (redis-ver, redis-bits, ctime, used-mem,
// aof-base), one FUNCTION2 record per function library, then for each
// database that had keys SELECTDB, RESIZEDB and its records, EOF and the
// CRC-64 (zeros when checksums are off). It is written to temp-<pid>.rdb in
// `dir`, flushed and fsync'ed, renamed over `dbfilename` and the directory
// fsync'ed; on any error the temporary file is removed and the old file
// stays as it was.
//
// Thread-safety: the constructor and Write() run on one thread (Write may run
// on another than the constructor's); Cancel(), keys_saved() and
// keys_total() may be called from any thread while Write() runs.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "persistence/rdb_value.h"
#include "storage/keyspace.h"

namespace sluice::persistence {

struct SnapshotFileOptions {
  std::string dir;         // where the file goes (absolute)
  std::string dbfilename;  // its name in `dir`
  bool compress = true;    // rdbcompression
  bool checksum = true;    // rdbchecksum
  int64_t ctime_s = 0;     // the AUX ctime: the snapshot's instant
  uint64_t used_mem = 0;   // the AUX used-mem
  // The code of each function library (FUNCTION2 records).
  std::vector<std::string> function_codes;
};

class RdbSnapshot {
 public:
  // Entries a step saves at most before the shard's lock is let go.
  static constexpr size_t kStepEntries = 128;
  // Yields at most this many times per step for waiting commands.
  static constexpr int kMaxYields = 1000;
  // The redis-ver AUX field: Redis 7.0's release, whose RDB version (10) is
  // the one written.
  static constexpr const char* kAuxRedisVersion = "7.0.15";

  // Begins the snapshot at this instant (`now_ms`: the instant's clock,
  // against which keys already past their deadline are left out).
  // REQUIRES: every shard of `keyspace` locked by the caller, and no other
  // snapshot running on it.
  RdbSnapshot(storage::Keyspace& keyspace, SnapshotFileOptions options, int64_t now_ms);
  ~RdbSnapshot();
  RdbSnapshot(const RdbSnapshot&) = delete;
  RdbSnapshot& operator=(const RdbSnapshot&) = delete;

  // Writes the file and finishes every shard's walk. Returns "" on success,
  // else what went wrong (the old file is untouched). Locks each shard in
  // turn, briefly; the caller must hold none. Call it exactly once: the
  // shards refer to this snapshot until it returns.
  std::string Write();
  // Makes a running Write() stop writing: it still finishes the walks
  // (quickly, encoding nothing), removes the temporary file and fails.
  void Cancel() { cancelled_.store(true, std::memory_order_relaxed); }

  // Records encoded so far, and keys the databases held at the instant.
  uint64_t keys_saved() const { return keys_saved_.load(std::memory_order_relaxed); }
  uint64_t keys_total() const { return keys_total_; }
  // Bytes the file came to (after Write() succeeded).
  uint64_t file_bytes() const { return file_bytes_; }

 private:
  class ShardSink;
  class FileOutput;

  storage::Keyspace& keyspace_;
  SnapshotFileOptions options_;
  int64_t instant_ms_;
  std::atomic<bool> cancelled_{false};
  std::atomic<uint64_t> keys_saved_{0};
  uint64_t keys_total_ = 0;
  uint64_t file_bytes_ = 0;
  // Per database: keys and keys with a deadline at the instant.
  std::vector<std::pair<uint64_t, uint64_t>> db_sizes_;
  // One sink per shard, database-major.
  std::vector<std::unique_ptr<ShardSink>> sinks_;
};

}  // namespace sluice::persistence
