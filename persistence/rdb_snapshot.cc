#include "persistence/rdb_snapshot.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <thread>

#include "persistence/crc64.h"
#include "persistence/rdb_format.h"
#include "persistence/rdb_string.h"

namespace sluice::persistence {
namespace {

void AppendLe64(std::string* out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void AppendAux(std::string* out, std::string_view name, std::string_view value) {
  out->push_back(static_cast<char>(kRdbOpAux));
  AppendRdbString(out, name);
  AppendRdbString(out, value);
}

std::string ErrnoText(int err) { return std::strerror(err); }

}  // namespace

// Encodes the entries a shard hands over into records, under that shard's
// lock; the writer takes the bytes under the same lock.
class RdbSnapshot::ShardSink : public storage::SnapshotSink {
 public:
  explicit ShardSink(RdbSnapshot& owner) : owner_(owner) {}

  void Save(const storage::Entry& e) override {
    if (owner_.cancelled_.load(std::memory_order_relaxed)) return;
    if (e.has_expiry()) {
      if (e.expire_at_ms() <= owner_.instant_ms_) return;  // gone at the instant
      buffer_.push_back(static_cast<char>(kRdbOpExpireTimeMs));
      AppendLe64(&buffer_, static_cast<uint64_t>(e.expire_at_ms()));
    }
    // AppendRdbValue gives the type byte and the value; the key goes between.
    scratch_.clear();
    AppendRdbValue(e, RdbWriteOptions{owner_.options_.compress}, &scratch_);
    buffer_.push_back(scratch_[0]);
    AppendRdbStringCompact(&buffer_, e.key(), owner_.options_.compress);
    buffer_.append(scratch_, 1, std::string::npos);
    owner_.keys_saved_.fetch_add(1, std::memory_order_relaxed);
  }

  // REQUIRES: the shard's lock. Hands the encoded bytes over in `*out`
  // (whose old capacity the sink keeps using).
  void Take(std::string* out) {
    out->clear();
    out->swap(buffer_);
  }

 private:
  RdbSnapshot& owner_;
  std::string buffer_;
  std::string scratch_;
};

// The temporary file: buffered writes with the running CRC; after the first
// error it only remembers the error.
class RdbSnapshot::FileOutput {
 public:
  static constexpr size_t kFileBuffer = 1 << 20;  // few large writes

  FileOutput(const std::string& dir, bool checksum)
      : checksum_(checksum), temp_path_(dir + "/temp-" + std::to_string(getpid()) + ".rdb") {
    file_ = std::fopen(temp_path_.c_str(), "w");
    if (file_ != nullptr) std::setvbuf(file_, nullptr, _IOFBF, kFileBuffer);
    if (file_ == nullptr) {
      error_ = "Failed opening the temp RDB file " + temp_path_.substr(dir.size() + 1) +
               " (in server root dir " + dir + ") for saving: " + ErrnoText(errno);
    }
  }
  ~FileOutput() { Abandon(); }

  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }
  uint64_t bytes() const { return bytes_; }

  void Append(std::string_view data) {
    if (failed() || data.empty()) return;
    if (checksum_) crc_ = Crc64(crc_, data);
    if (std::fwrite(data.data(), 1, data.size(), file_) != data.size()) {
      Fail("Write error saving DB on disk: " + ErrnoText(errno));
      return;
    }
    bytes_ += data.size();
  }

  // Writes the CRC, syncs, closes and renames over `final_path`, then syncs
  // the directory. Returns false (error() says why) when any step failed.
  bool Commit(const std::string& dir, const std::string& final_path) {
    if (failed()) return false;
    std::string trailer;
    AppendLe64(&trailer, checksum_ ? crc_ : 0);
    if (std::fwrite(trailer.data(), 1, trailer.size(), file_) != trailer.size() ||
        std::fflush(file_) != 0 || fsync(fileno(file_)) != 0) {
      Fail("Write error saving DB on disk: " + ErrnoText(errno));
      return false;
    }
    bytes_ += trailer.size();
    const int closed = std::fclose(file_);
    file_ = nullptr;
    if (closed != 0) {
      Fail("Write error saving DB on disk: " + ErrnoText(errno));
      return false;
    }
    if (std::rename(temp_path_.c_str(), final_path.c_str()) != 0) {
      Fail("Error moving temp DB file " + temp_path_ + " on the final destination " +
           final_path + " (in server root dir " + dir + "): " + ErrnoText(errno));
      return false;
    }
    renamed_ = true;
    // The rename is durable once the directory is.
    const int dfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
      fsync(dfd);
      close(dfd);
    }
    return true;
  }

 private:
  void Fail(std::string why) {
    if (error_.empty()) error_ = std::move(why);
    Abandon();
  }
  // Closes and removes the temporary file (unless it became the snapshot).
  void Abandon() {
    if (file_ != nullptr) {
      std::fclose(file_);
      file_ = nullptr;
    }
    if (!renamed_ && !removed_) {
      std::remove(temp_path_.c_str());
      removed_ = true;
    }
  }

  bool checksum_;
  std::string temp_path_;
  std::FILE* file_ = nullptr;
  std::string error_;
  uint64_t crc_ = 0;
  uint64_t bytes_ = 0;
  bool renamed_ = false;
  bool removed_ = false;
};

RdbSnapshot::RdbSnapshot(storage::Keyspace& keyspace, SnapshotFileOptions options,
                         int64_t now_ms)
    : keyspace_(keyspace), options_(std::move(options)), instant_ms_(now_ms) {
  for (size_t d = 0; d < keyspace_.database_count(); ++d) {
    storage::Database& db = keyspace_.db(d);
    db_sizes_.emplace_back(db.Size(), db.ExpiresCount());
    keys_total_ += db.Size();
    for (size_t j = 0; j < db.shard_count(); ++j) {
      sinks_.push_back(std::make_unique<ShardSink>(*this));
      db.shard(j).BeginSnapshot(sinks_.back().get());
    }
  }
}

RdbSnapshot::~RdbSnapshot() = default;

std::string RdbSnapshot::Write() {
  FileOutput file(options_.dir, options_.checksum);
  std::string out;
  char magic[16];
  std::snprintf(magic, sizeof(magic), "REDIS%04d", kRdbWriteVersion);
  out.append(magic);
  AppendAux(&out, "redis-ver", kAuxRedisVersion);
  AppendAux(&out, "redis-bits", "64");
  AppendAux(&out, "ctime", std::to_string(options_.ctime_s));
  AppendAux(&out, "used-mem", std::to_string(options_.used_mem));
  AppendAux(&out, "aof-base", "0");
  for (const std::string& code : options_.function_codes) {
    out.push_back(static_cast<char>(kRdbOpFunction2));
    AppendRdbString(&out, code);
  }
  file.Append(out);

  std::string chunk;
  size_t sink = 0;
  for (size_t d = 0; d < keyspace_.database_count(); ++d) {
    storage::Database& db = keyspace_.db(d);
    if (db_sizes_[d].first != 0) {
      out.clear();
      out.push_back(static_cast<char>(kRdbOpSelectDb));
      AppendRdbLength(&out, d);
      out.push_back(static_cast<char>(kRdbOpResizeDb));
      AppendRdbLength(&out, db_sizes_[d].first);
      AppendRdbLength(&out, db_sizes_[d].second);
      file.Append(out);
    }
    for (size_t j = 0; j < db.shard_count(); ++j, ++sink) {
      storage::Shard& shard = db.shard(j);
      bool done = false;
      while (!done) {
        {
          std::lock_guard lock(shard.mu());
          done = shard.SnapshotStep(kStepEntries);
          sinks_[sink]->Take(&chunk);
        }
        // Commands waiting for this shard go before the next step (see
        // ShardMutex::waiters): the walk must not slow the server down.
        for (int i = 0; i < kMaxYields && shard.mu().waiters() > 0; ++i) {
          std::this_thread::yield();
        }
        file.Append(chunk);
        if (file.failed()) Cancel();  // finish the walks without encoding
      }
    }
  }
  out.assign(1, static_cast<char>(kRdbOpEof));
  file.Append(out);
  if (cancelled_.load(std::memory_order_relaxed) && !file.failed()) return "snapshot cancelled";
  if (!file.Commit(options_.dir, options_.dir + "/" + options_.dbfilename)) return file.error();
  file_bytes_ = file.bytes();
  return "";
}

}  // namespace sluice::persistence
