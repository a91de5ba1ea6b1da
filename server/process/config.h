#pragma once
// Server configuration: defaults, the command line (`sluice-server [file]
// --port 7000 ...`), redis.conf-style files, and the parameter registry that
// CONFIG GET / CONFIG SET read and write.
//
// A Config value is plain data. The running server keeps one behind
// ServerConfig, which is thread-safe: CONFIG SET from any connection thread
// updates it under a mutex, and hot settings are mirrored in atomics.

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "storage/eviction.h"
#include "storage/hash_ops.h"
#include "storage/list_ops.h"
#include "storage/set_ops.h"
#include "storage/zset_ops.h"

namespace sluice::server {

enum class LogLevel { kDebug, kVerbose, kNotice, kWarning, kNothing };

// client-output-buffer-limit classes, in the order CONFIG GET prints them.
enum class ClientClass { kNormal = 0, kReplica = 1, kPubSub = 2 };
inline constexpr int kClientClasses = 3;

// A connection whose pending output exceeds `hard` bytes, or stays above
// `soft` bytes for more than `soft_seconds`, is closed. 0 disables a limit.
struct OutputBufferLimit {
  uint64_t hard = 0;
  uint64_t soft = 0;
  int64_t soft_seconds = 0;
};

// One `save <seconds> <changes>` point: snapshot when at least `changes`
// writes happened and `seconds` passed since the last successful save.
struct SavePoint {
  int64_t seconds = 0;
  int64_t changes = 0;
  bool operator==(const SavePoint&) const = default;
};

struct Config {
  int port = 6379;
  std::vector<std::string> bind = {"127.0.0.1"};
  int threads = 0;  // 0: one per core
  int databases = 16;
  int shards = 0;  // shards per database, 0: chosen from threads (power of two)
  std::string requirepass;
  int maxclients = 10000;
  int timeout = 0;  // idle seconds before a client is closed, 0: never
  LogLevel loglevel = LogLevel::kNotice;
  std::string config_file;
  uint32_t notify_keyspace_events = 0;  // KeyspaceEventFlag bits
  // A script running longer than this is busy: SCRIPT KILL may stop it.
  int busy_reply_threshold_ms = 5000;
  OutputBufferLimit output_limits[kClientClasses] = {
      {0, 0, 0}, {256ull << 20, 64ull << 20, 60}, {32ull << 20, 8ull << 20, 60}};
  // Memory bound and eviction (docs/eviction.md). maxmemory 0: no bound.
  uint64_t maxmemory = 0;
  storage::EvictionPolicy maxmemory_policy = storage::EvictionPolicy::kNoEviction;
  int maxmemory_samples = 5;
  int maxmemory_eviction_tenacity = 10;
  int lfu_log_factor = 10;
  int lfu_decay_time = 1;
  // Hashes stay packed up to this many fields and field/value bytes.
  int hash_max_listpack_entries = 128;
  int hash_max_listpack_value = 64;
  // Sets stay an intset up to this many integer members, a listpack up to
  // this many members of at most this many bytes.
  int set_max_intset_entries = 512;
  int set_max_listpack_entries = 128;
  int set_max_listpack_value = 64;
  int zset_max_listpack_entries = 128;
  int zset_max_listpack_value = 64;
  int list_max_listpack_size = -2;
  // Nodes kept LZF-compressed beyond this many from each end. sluice's
  // default is 1 (Redis's is 0, no compression): see docs/configuration.md.
  int list_compress_depth = 1;
  // Snapshots (docs/persistence.md). Redis's defaults: save points on, the
  // file dump.rdb in the working directory.
  std::vector<SavePoint> save_points = {{3600, 1}, {300, 100}, {60, 10000}};
  // Set once a `save` directive was read: a later one in the same file or
  // command line adds points instead of replacing them, as in Redis.
  bool save_points_from_directive = false;
  std::string dir = ".";  // made absolute by Finalize
  std::string dbfilename = "dump.rdb";
  bool rdbcompression = true;
  bool rdbchecksum = true;
  bool stop_writes_on_bgsave_error = true;
  // enable-protected-configs: whether CONFIG SET may change the protected
  // parameters (dir, dbfilename), which choose where the server writes
  // files: never (Redis's default), always, or from loopback clients only.
  enum class Protected { kNo, kYes, kLocal };
  Protected enable_protected_configs = Protected::kNo;
  // enable-debug-command: whether DEBUG runs (never, Redis 7's default;
  // always; from loopback clients only). Set at start-up only.
  Protected enable_debug_command = Protected::kNo;
};

// The `save` value as CONFIG GET prints it: "3600 1 300 100", "" for none.
std::string SavePointsText(const std::vector<SavePoint>& points);
// Parses "<seconds> <changes> ..." (or "" for none); false when malformed.
bool ParseSavePoints(std::string_view text, std::vector<SavePoint>* points);

// Parses argv (argv[0] is the program). A first argument that does not start
// with "--" names a config file, read first; later options win. Errors name
// the bad option or value.
absl::StatusOr<Config> ParseCommandLine(int argc, const char* const* argv);
// Applies one directive (`name` lower-cased, `values` its arguments).
absl::Status ApplyDirective(Config& config, std::string_view name,
                            const std::vector<std::string>& values);
// Reads a redis.conf-style file (directive + arguments per line, # comments,
// quoted arguments) into `config`.
absl::Status LoadConfigFile(Config& config, const std::string& path);
// Checks cross-field constraints after parsing and fills defaults.
absl::Status Finalize(Config& config);

std::string_view LogLevelName(LogLevel level);

// The running configuration, shared by all threads.
class ServerConfig {
 public:
  explicit ServerConfig(Config config);

  Config Snapshot() const;
  // CONFIG GET: every (name, value) whose name matches the glob pattern.
  std::vector<std::pair<std::string, std::string>> Get(std::string_view pattern) const;
  // CONFIG SET name value [name value ...], all or nothing. Returns the Redis
  // error text on failure ("" on success). `local_client`: the client came
  // from loopback (enable-protected-configs local).
  std::string Set(const std::vector<std::pair<std::string, std::string>>& pairs,
                  bool local_client = false);

  int maxclients() const { return maxclients_.load(std::memory_order_relaxed); }
  int timeout() const { return timeout_.load(std::memory_order_relaxed); }
  LogLevel loglevel() const { return loglevel_.load(std::memory_order_relaxed); }
  std::string requirepass() const;
  uint32_t notify_keyspace_events() const {
    return notify_keyspace_events_.load(std::memory_order_relaxed);
  }
  int busy_reply_threshold_ms() const {
    return busy_reply_threshold_ms_.load(std::memory_order_relaxed);
  }
  uint64_t maxmemory() const { return maxmemory_.load(std::memory_order_relaxed); }
  int maxmemory_eviction_tenacity() const { return tenacity_.load(std::memory_order_relaxed); }
  storage::HashLimits hash_limits() const {
    return storage::HashLimits{
        static_cast<size_t>(hash_max_listpack_entries_.load(std::memory_order_relaxed)),
        static_cast<size_t>(hash_max_listpack_value_.load(std::memory_order_relaxed))};
  }
  storage::SetLimits set_limits() const {
    return storage::SetLimits{
        static_cast<size_t>(set_max_intset_entries_.load(std::memory_order_relaxed)),
        static_cast<size_t>(set_max_listpack_entries_.load(std::memory_order_relaxed)),
        static_cast<size_t>(set_max_listpack_value_.load(std::memory_order_relaxed))};
  }
  storage::ListLimits list_limits() const {
    return storage::ListLimits{list_max_listpack_size_.load(std::memory_order_relaxed),
                               list_compress_depth_.load(std::memory_order_relaxed)};
  }
  storage::ZSetLimits zset_limits() const {
    return storage::ZSetLimits{
        static_cast<size_t>(zset_max_listpack_entries_.load(std::memory_order_relaxed)),
        static_cast<size_t>(zset_max_listpack_value_.load(std::memory_order_relaxed))};
  }
  // Called (without the config's lock) with the new configuration after
  // every successful Set(), and once by the server at start-up through
  // Apply: for settings that live elsewhere (the keyspace's eviction).
  void set_on_change(std::function<void(const Config&)> fn) { on_change_ = std::move(fn); }
  OutputBufferLimit output_limit(ClientClass c) const {
    const MirroredLimit& m = output_limits_[static_cast<int>(c)];
    return OutputBufferLimit{m.hard.load(std::memory_order_relaxed),
                             m.soft.load(std::memory_order_relaxed),
                             m.soft_seconds.load(std::memory_order_relaxed)};
  }

 private:
  struct MirroredLimit {
    std::atomic<uint64_t> hard{0};
    std::atomic<uint64_t> soft{0};
    std::atomic<int64_t> soft_seconds{0};
  };
  void Mirror();
  std::string SetLocked(const std::vector<std::pair<std::string, std::string>>& pairs,
                        bool local_client);
  mutable std::mutex mu_;
  Config config_;
  std::atomic<int> maxclients_;
  std::atomic<int> timeout_;
  std::atomic<LogLevel> loglevel_;
  std::atomic<uint32_t> notify_keyspace_events_{0};
  std::atomic<int> busy_reply_threshold_ms_{5000};
  std::atomic<uint64_t> maxmemory_{0};
  std::atomic<int> tenacity_{10};
  std::atomic<int> hash_max_listpack_entries_{128};
  std::atomic<int> hash_max_listpack_value_{64};
  std::atomic<int> set_max_intset_entries_{512};
  std::atomic<int> set_max_listpack_entries_{128};
  std::atomic<int> set_max_listpack_value_{64};
  std::atomic<int> zset_max_listpack_entries_{128};
  std::atomic<int> zset_max_listpack_value_{64};
  std::atomic<int> list_max_listpack_size_{-2};
  std::atomic<int> list_compress_depth_{1};
  MirroredLimit output_limits_[kClientClasses];
  std::function<void(const Config&)> on_change_;
};

}  // namespace sluice::server
