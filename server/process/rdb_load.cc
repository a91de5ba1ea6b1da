#include "server/process/rdb_load.h"

#include <sys/stat.h>

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "common/strings.h"
#include "persistence/rdb_file.h"
#include "server/process/allocator.h"
#include "server/process/server.h"
#include "server/scripting/scripting.h"
#include "storage/clock.h"
#include "storage/eviction.h"

namespace sluice::server {
namespace {

using storage::Entry;
using storage::Shard;

// Entries handed to an inserter at a time.
constexpr size_t kBatchEntries = 4096;
// Inserter threads at most.
constexpr unsigned kMaxInserters = 8;

// How many entries ahead of its insert an inserter hints its bucket slot
// (twice this) and its chain's first entry (this): a load's inserts are
// mostly cache misses on the key tables.
constexpr size_t kPrefetchAhead = 8;

struct Pending {
  Shard* shard;
  Entry* entry;
  uint64_t key_hash;
  int access;  // the access byte the file's IDLE/FREQ give, -1: a new key's
  size_t db;
  size_t offset;  // where its record starts in the file
};

// The first key a file held twice (Redis refuses such a file too).
struct Duplicate {
  bool found = false;
  size_t offset = 0;
  size_t db = 0;
  std::string key;
};
using Batch = std::vector<Pending>;

// One thread linking entries into the shards it owns (no other inserter
// touches them), taking each shard's lock per entry: uncontended, since
// every command that could touch the keyspace is refused while loading.
class Inserter {
 public:
  Inserter() : thread_([this] { Run(); }) {}
  ~Inserter() { Finish(); }

  void Push(Batch batch) {
    {
      std::lock_guard lock(mu_);
      queue_.push_back(std::move(batch));
    }
    cv_.notify_one();
  }
  // Inserts what is queued, then stops the thread.
  void Finish() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_one();
    if (thread_.joinable()) thread_.join();
  }
  // After Finish(): the duplicated key met first in the file, if any.
  const Duplicate& duplicate() const { return duplicate_; }

 private:
  void Run() {
    std::vector<Batch> work;
    for (;;) {
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return done_ || !queue_.empty(); });
        if (queue_.empty()) return;
        work.swap(queue_);
      }
      for (Batch& batch : work) {
        const size_t n = batch.size();
        for (size_t i = 0; i < n; ++i) {
          if (i + 2 * kPrefetchAhead < n) {
            const Pending& p = batch[i + 2 * kPrefetchAhead];
            p.shard->Prefetch(p.key_hash, 0);
          }
          if (i + kPrefetchAhead < n) {
            const Pending& p = batch[i + kPrefetchAhead];
            p.shard->Prefetch(p.key_hash, 1);
          }
          const Pending& p = batch[i];
          std::lock_guard lock(p.shard->mu());
          if (p.shard->Insert(p.entry) &&
              (!duplicate_.found || p.offset < duplicate_.offset)) {
            duplicate_ = Duplicate{true, p.offset, p.db, std::string(p.entry->key())};
          }
          if (p.access >= 0) p.entry->set_access(static_cast<uint8_t>(p.access));
        }
      }
      work.clear();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Batch> queue_;
  bool done_ = false;
  Duplicate duplicate_;  // the inserter thread's own until Finish()
  std::thread thread_;
};

class Loader : public persistence::RdbVisitor {
 public:
  explicit Loader(Server& server) : server_(server), keyspace_(server.keyspace()) {
    const size_t shards = keyspace_.database_count() * keyspace_.shards_per_db();
    const unsigned cores = std::max(2u, std::thread::hardware_concurrency());
    const size_t n = std::min<size_t>({kMaxInserters, std::max(2u, cores - 1), shards});
    for (size_t i = 0; i < n; ++i) inserters_.push_back(std::make_unique<Inserter>());
    pending_.resize(n);
    db_has_keys_.resize(keyspace_.database_count());
  }
  // Hands over what is pending and waits for every insert.
  void Finish() {
    for (size_t i = 0; i < inserters_.size(); ++i) {
      if (!pending_[i].empty()) inserters_[i]->Push(std::move(pending_[i]));
      inserters_[i]->Finish();
    }
  }
  // After Finish(): the key the file held twice that came first, if any.
  Duplicate duplicate() const {
    Duplicate first;
    for (const auto& in : inserters_) {
      const Duplicate& d = in->duplicate();
      if (d.found && (!first.found || d.offset < first.offset)) first = d;
    }
    return first;
  }

  uint64_t loaded() const { return loaded_; }
  uint64_t expired() const { return expired_; }

  void OnAux(std::string_view name, std::string_view value) override {
    if (name == "redis-ver") {
      server_.Log(LogLevel::kNotice, StrCat("Loading RDB produced by version ", value));
    } else if (name == "ctime") {
      if (std::optional<int64_t> t = ParseInt(value)) {
        const int64_t age = storage::NowMs() / 1000 - *t;
        server_.Log(LogLevel::kNotice, StrCat("RDB age ", std::max<int64_t>(age, 0), " seconds"));
      }
    } else if (name == "used-mem") {
      if (std::optional<int64_t> bytes = ParseInt(value)) {
        server_.loading_state().rdb_used_mem.store(*bytes, std::memory_order_relaxed);
        char mb[32];
        std::snprintf(mb, sizeof(mb), "%.2f", static_cast<double>(*bytes) / (1024 * 1024));
        server_.Log(LogLevel::kNotice, StrCat("RDB memory usage when created ", mb, " Mb"));
      }
    }
  }

  void OnResizeDb(size_t db, uint64_t keys, uint64_t expires) override {
    // Only before the database's first key: a shard is then empty and no
    // inserter has touched it (its hints read the table without the lock),
    // and every later batch for it is handed over after this.
    if (db_has_keys_[db]) return;
    storage::Database& d = keyspace_.db(db);
    // Per shard: its share, with room for the spread of the hash.
    const uint64_t share = keys / d.shard_count();
    const uint64_t per_shard = share + share / 16 + 16;
    for (size_t i = 0; i < d.shard_count(); ++i) {
      Shard& s = d.shard(i);
      std::lock_guard lock(s.mu());
      s.Reserve(per_shard);
    }
  }

  bool OnFunction(std::string_view code, std::string* error) override {
    *error = server_.scripts().LoadLibraryCode(code);
    return error->empty();
  }

  bool OnKey(const persistence::RdbKey& key, Entry* entry, std::string*) override {
    if (key.expired) {
      Entry::Destroy(entry);
      ++expired_;
      return true;
    }
    ++loaded_;
    db_has_keys_[key.db] = true;
    storage::Database& d = keyspace_.db(key.db);
    const uint64_t key_hash = storage::KeyHash(entry->key());
    const size_t index = key_hash & (d.shard_count() - 1);  // Database::ShardIndex
    const size_t owner = (key.db * d.shard_count() + index) % inserters_.size();
    Batch& batch = pending_[owner];
    batch.push_back(Pending{&d.shard(index), entry, key_hash, Access(key), key.db, key.offset});
    if (batch.size() >= kBatchEntries) {
      inserters_[owner]->Push(std::move(batch));
      batch = Batch();
      batch.reserve(kBatchEntries);
    }
    return true;
  }

  bool OnProgress(size_t bytes_read) override {
    server_.loading_state().loaded_bytes.store(bytes_read, std::memory_order_relaxed);
    return !server_.stopping();
  }

 private:
  // What the file says of the key's use, as RESTORE's IDLETIME and FREQ
  // apply it: an idle time under an LRU-clock policy, a counter under LFU.
  int Access(const persistence::RdbKey& key) const {
    if (key.idle_s >= 0 && mode_ == storage::AccessMode::kLru) {
      return storage::LruStampIdle(std::min<int64_t>(key.idle_s, INT32_MAX) * 1000, now_ms_);
    }
    if (key.freq >= 0 && mode_ == storage::AccessMode::kLfu) return key.freq;
    return -1;
  }

  static std::optional<int64_t> ParseInt(std::string_view s) {
    int64_t v;
    if (!storage::LooksLikeInt64(s, &v)) return std::nullopt;
    return v;
  }

  Server& server_;
  storage::Keyspace& keyspace_;
  const storage::AccessMode mode_ = keyspace_.eviction().mode();
  const int64_t now_ms_ = storage::NowMs();
  std::vector<std::unique_ptr<Inserter>> inserters_;
  std::vector<Batch> pending_;     // per inserter
  std::vector<bool> db_has_keys_;  // a key of the database was handed over
  uint64_t loaded_ = 0;
  uint64_t expired_ = 0;
};

}  // namespace

absl::Status LoadRdbAtStartup(Server& server, const std::string& path) {
  const Config cfg = server.config().Snapshot();
  LoadingState& state = server.loading_state();
  struct stat st;
  const uint64_t size = stat(path.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
  state.start_time_s.store(storage::NowMs() / 1000, std::memory_order_relaxed);
  state.total_bytes.store(size, std::memory_order_relaxed);
  state.loaded_bytes.store(0, std::memory_order_relaxed);
  state.rdb_used_mem.store(0, std::memory_order_relaxed);
  state.loading.store(true, std::memory_order_release);
  const auto started = std::chrono::steady_clock::now();

  persistence::RdbReadOptions options;
  options.databases = static_cast<size_t>(cfg.databases);
  options.limits =
      persistence::ValueLimits{server.config().hash_limits(), server.config().set_limits(),
                               server.config().list_limits(), server.config().zset_limits()};
  options.now_ms = storage::NowMs();
  persistence::RdbFileSummary summary;
  std::string error;
  Loader loader(server);
  const persistence::RdbReadResult result =
      persistence::ReadRdbFile(path, path, options, loader, &summary, &error);
  loader.Finish();
  SyncUsedMemory();
  state.loaded_bytes.store(size, std::memory_order_relaxed);
  state.last_keys_loaded.store(loader.loaded(), std::memory_order_relaxed);
  state.last_keys_expired.store(loader.expired(), std::memory_order_relaxed);
  state.loading.store(false, std::memory_order_release);
  switch (result) {
    case persistence::RdbReadResult::kOk:
      break;
    case persistence::RdbReadResult::kStopped:
      server.Log(LogLevel::kWarning, "Loading the RDB file stopped: the server is shutting down");
      return absl::OkStatus();
    case persistence::RdbReadResult::kError:
      return absl::DataLossError(error);
  }
  if (const Duplicate dup = loader.duplicate(); dup.found) {
    // The file is not what any server wrote; refused as a bad one, so no
    // key is silently dropped.
    return absl::DataLossError(StrCat("Bad file format reading the RDB file ", path,
                                      " at offset ", dup.offset, ": duplicated key '", dup.key,
                                      "' in DB ", dup.db));
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  server.Log(LogLevel::kNotice, StrCat("Done loading RDB, keys loaded: ", loader.loaded(),
                                       ", keys expired: ", loader.expired(), "."));
  char when[32];
  std::snprintf(when, sizeof(when), "%.3f", seconds);
  server.Log(LogLevel::kNotice, StrCat("DB loaded from disk: ", when, " seconds"));
  return absl::OkStatus();
}

void AppendLastLoadInfo(Server& server, std::string* out) {
  const LoadingState& s = server.loading_state();
  StrAppend(out, "rdb_last_load_keys_expired:", s.last_keys_expired.load(std::memory_order_relaxed),
            "\r\n",
            "rdb_last_load_keys_loaded:", s.last_keys_loaded.load(std::memory_order_relaxed),
            "\r\n");
}

void AppendLoadingProgressInfo(Server& server, std::string* out) {
  if (!server.loading()) return;
  const LoadingState& s = server.loading_state();
  const int64_t start = s.start_time_s.load(std::memory_order_relaxed);
  const uint64_t total = s.total_bytes.load(std::memory_order_relaxed);
  const uint64_t loaded = s.loaded_bytes.load(std::memory_order_relaxed);
  const int64_t elapsed = storage::NowMs() / 1000 - start;
  const double perc = total == 0 ? 0.0 : 100.0 * static_cast<double>(loaded) / total;
  // Seconds left at the rate so far (1 until the first progress report).
  const int64_t eta =
      loaded == 0 ? 1
                  : static_cast<int64_t>(static_cast<double>(elapsed) *
                                         static_cast<double>(total - std::min(total, loaded)) /
                                         static_cast<double>(loaded));
  char perc_text[32];
  std::snprintf(perc_text, sizeof(perc_text), "%.2f", perc);
  StrAppend(out, "loading_start_time:", start, "\r\n", "loading_total_bytes:", total, "\r\n",
            "loading_rdb_used_mem:", s.rdb_used_mem.load(std::memory_order_relaxed), "\r\n",
            "loading_loaded_bytes:", loaded, "\r\n", "loading_loaded_perc:", perc_text, "\r\n",
            "loading_eta_seconds:", eta, "\r\n");
}

}  // namespace sluice::server
