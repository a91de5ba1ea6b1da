#include "persistence/rdb_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <thread>

#include "persistence/crc64.h"
#include "persistence/rdb_format.h"
#include "persistence/rdb_string.h"

namespace sluice::persistence {
namespace {

constexpr std::string_view kMagic = "REDIS";
constexpr size_t kHeaderBytes = 9;  // "REDIS" + 4 digits
// From this size on the checksum of the file's body runs on a thread of its
// own while the records are decoded.
constexpr size_t kParallelCrcBytes = size_t{8} << 20;

std::string Hex(uint64_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s = "0x";
  for (int shift = 60; shift >= 0; shift -= 4) s.push_back(kDigits[(v >> shift) & 0xf]);
  return s;
}

// A read-only private mapping of a whole file.
class MappedFile {
 public:
  ~MappedFile() {
    if (data_ != nullptr) munmap(data_, size_);
  }
  bool Open(const std::string& path, std::string* error) {
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      *error = std::strerror(errno);
      return false;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
      *error = std::strerror(errno);
      close(fd);
      return false;
    }
    size_ = static_cast<size_t>(st.st_size);
    if (size_ > 0) {
      void* p = mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
      if (p == MAP_FAILED) {
        *error = std::strerror(errno);
        close(fd);
        return false;
      }
      data_ = p;
      madvise(data_, size_, MADV_SEQUENTIAL);
    }
    close(fd);
    return true;
  }
  std::string_view bytes() const {
    return size_ == 0 ? std::string_view() : std::string_view(static_cast<char*>(data_), size_);
  }

 private:
  void* data_ = nullptr;
  size_t size_ = 0;
};

// One pass over the records.
class FileParser {
 public:
  FileParser(std::string_view bytes, std::string_view name, const RdbReadOptions& options,
             RdbVisitor& visitor, RdbFileSummary* summary, std::string* error)
      : bytes_(bytes),
        in_(bytes),
        name_(name),
        options_(options),
        visitor_(visitor),
        summary_(*summary),
        error_(*error) {
    summary_ = RdbFileSummary{};
    summary_.file_bytes = bytes.size();
  }

  RdbReadResult Run() {
    // The checksum covers everything up to and including the EOF opcode; in
    // a well-formed file that is all but the last 8 bytes, so a big file's
    // is computed alongside the decoding.
    std::thread crc_thread;
    uint64_t body_crc = 0;
    std::atomic<bool> abandon{false};
    const bool parallel = bytes_.size() >= kParallelCrcBytes;
    if (parallel) {
      crc_thread = std::thread([this, &body_crc, &abandon] {
        // In pieces, so that a read that failed early does not wait for it.
        const std::string_view body = bytes_.substr(0, bytes_.size() - 8);
        for (size_t at = 0; at < body.size() && !abandon.load(std::memory_order_relaxed);
             at += kParallelCrcBytes) {
          body_crc = Crc64(body_crc, body.substr(at, kParallelCrcBytes));
        }
      });
    }
    size_t eof_offset = 0;
    RdbReadResult r = Records(&eof_offset);
    if (crc_thread.joinable()) {
      if (r != RdbReadResult::kOk) abandon.store(true, std::memory_order_relaxed);
      crc_thread.join();
    }
    if (r != RdbReadResult::kOk || summary_.version < 5) return r;
    in_ = RdbReader(bytes_.substr(eof_offset + 1));
    uint64_t stored = 0;
    if (!ReadLittleEndian(8, &stored)) {
      return Fail(eof_offset + 1, "unexpected end of file (the checksum is missing)");
    }
    summary_.checksum = stored;
    if (stored == 0) return RdbReadResult::kOk;
    summary_.checksum_checked = true;
    const uint64_t computed = parallel && eof_offset + 9 == bytes_.size()
                                  ? body_crc
                                  : Crc64(0, bytes_.substr(0, eof_offset + 1));
    if (computed != stored) {
      return Fail(eof_offset + 1, "wrong checksum (the file says " + Hex(stored) +
                                      ", its contents give " + Hex(computed) + ")");
    }
    return RdbReadResult::kOk;
  }

 private:
  size_t offset() const { return bytes_.size() - in_.remaining(); }

  RdbReadResult Fail(size_t at, std::string_view what) {
    error_ = "Bad file format reading the RDB file ";
    error_.append(name_).append(" at offset ").append(std::to_string(at)).append(": ");
    error_.append(what);
    return RdbReadResult::kError;
  }
  // A failed read of `what` that started at `at`: the end of the file, or
  // bad data.
  RdbReadResult FailRead(size_t at, std::string_view what) {
    if (in_.ran_out()) return Fail(at, "unexpected end of file reading " + std::string(what));
    return Fail(at, "bad data reading " + std::string(what));
  }

  bool ReadLittleEndian(int width, uint64_t* v) {
    *v = 0;
    for (int i = 0; i < width; ++i) {
      uint8_t b;
      if (!in_.ReadByte(&b)) return false;
      *v |= static_cast<uint64_t>(b) << (8 * i);
    }
    return true;
  }

  RdbReadResult Header() {
    if (bytes_.size() < kHeaderBytes) {
      if (bytes_.substr(0, kMagic.size()) != kMagic.substr(0, bytes_.size())) {
        return Fail(0, "not an RDB file (it does not start with REDIS)");
      }
      return Fail(bytes_.size(), "unexpected end of file reading the header");
    }
    if (bytes_.substr(0, kMagic.size()) != kMagic) {
      return Fail(0, "not an RDB file (it does not start with REDIS)");
    }
    int version = 0;
    for (size_t i = kMagic.size(); i < kHeaderBytes; ++i) {
      const char c = bytes_[i];
      if (c < '0' || c > '9') return Fail(kMagic.size(), "bad RDB version number");
      version = version * 10 + (c - '0');
    }
    if (version < 1 || version > kRdbMaxReadVersion) {
      return Fail(kMagic.size(), "can't handle RDB format version " + std::to_string(version));
    }
    summary_.version = version;
    in_ = RdbReader(bytes_.substr(kHeaderBytes));
    return RdbReadResult::kOk;
  }

  RdbReadResult Records(size_t* eof_offset) {
    if (RdbReadResult r = Header(); r != RdbReadResult::kOk) return r;
    size_t db = 0;
    int64_t expire_at_ms = 0;
    size_t record_start = offset();  // of a key's record, its expiry included
    size_t next_progress = options_.progress_bytes;
    std::string name, value, key, callback_error;
    for (;;) {
      const size_t at = offset();
      if (at >= next_progress) {
        next_progress = at + options_.progress_bytes;
        if (!visitor_.OnProgress(at)) return RdbReadResult::kStopped;
      }
      uint8_t op;
      if (!in_.ReadByte(&op)) return Fail(at, "unexpected end of file (no EOF marker)");
      uint64_t a, b;
      switch (op) {
        case kRdbOpEof:
          *eof_offset = at;
          return RdbReadResult::kOk;
        case kRdbOpExpireTimeMs:
          if (!ReadLittleEndian(8, &a)) return FailRead(at, "an expire time");
          expire_at_ms = static_cast<int64_t>(a);
          record_start = at;
          continue;
        case kRdbOpExpireTime:
          if (!ReadLittleEndian(4, &a)) return FailRead(at, "an expire time");
          expire_at_ms = static_cast<int64_t>(static_cast<int32_t>(a)) * 1000;
          record_start = at;
          continue;
        case kRdbOpIdle:
          if (!in_.ReadLength(&a)) return FailRead(at, "an idle time");
          continue;
        case kRdbOpFreq:
          if (!ReadLittleEndian(1, &a)) return FailRead(at, "an access frequency");
          continue;
        case kRdbOpSelectDb:
          if (!in_.ReadLength(&a)) return FailRead(at, "a database number");
          if (a >= options_.databases) {
            return Fail(at, "the file selects database " + std::to_string(a) +
                                " but the server has only " + std::to_string(options_.databases) +
                                " (see the databases option)");
          }
          db = static_cast<size_t>(a);
          continue;
        case kRdbOpResizeDb:
          if (!in_.ReadLength(&a) || !in_.ReadLength(&b)) return FailRead(at, "database sizes");
          visitor_.OnResizeDb(db, a, b);
          continue;
        case kRdbOpAux:
          if (!in_.ReadString(&name) || !in_.ReadString(&value)) {
            return FailRead(at, "an AUX field");
          }
          visitor_.OnAux(name, value);
          continue;
        case kRdbOpModuleAux:
          return Fail(at, "the file holds module data (MODULE_AUX), and sluice has no modules");
        case kRdbOpFunctionPreGa:
          return Fail(at,
                      "the file holds a function library in the pre-release format of Redis "
                      "7.0 release candidates, which sluice does not read");
        case kRdbOpFunction2:
          if (!in_.ReadString(&value)) return FailRead(at, "a function library");
          if (!visitor_.OnFunction(value, &callback_error)) {
            return Fail(at, "function library: " + callback_error);
          }
          ++summary_.functions;
          continue;
        default:
          break;
      }
      // A key's record: its type byte, the key, the value.
      if (expire_at_ms == 0) record_start = at;
      if (RdbTypeName(op).empty()) return Fail(at, "unknown value type " + std::to_string(op));
      if (RdbTypeName(op) == "module") {
        return Fail(at, "the file holds a module value type (" + std::to_string(op) +
                            "), and sluice has no modules");
      }
      const size_t key_at = offset();
      if (!in_.ReadString(&key)) return FailRead(key_at, "a key");
      const size_t value_at = offset();
      std::string value_error;
      storage::Entry* e = ReadRdbValue(op, in_, key, expire_at_ms, options_.limits, &value_error);
      if (e == nullptr) {
        const std::string what = "the value of key '" + key + "' (" + std::string(RdbTypeName(op)) +
                                 ", " + std::string(RdbEncodingName(op)) + ")";
        if (in_.ran_out()) {
          return Fail(value_at, "unexpected end of file reading " + what);
        }
        return Fail(value_at, "bad data reading " + what + ": " + value_error);
      }
      RdbKey k;
      k.db = db;
      k.type = op;
      k.expire_at_ms = expire_at_ms;
      k.expired = expire_at_ms != 0 && expire_at_ms <= options_.now_ms;
      k.offset = record_start;
      ++summary_.keys;
      if (k.expired) ++summary_.expired;
      expire_at_ms = 0;
      if (!visitor_.OnKey(k, e, &callback_error)) return Fail(record_start, callback_error);
    }
  }

  std::string_view bytes_;
  RdbReader in_;
  std::string_view name_;
  const RdbReadOptions& options_;
  RdbVisitor& visitor_;
  RdbFileSummary& summary_;
  std::string& error_;
};

}  // namespace

RdbReadResult ReadRdbBytes(std::string_view bytes, std::string_view name,
                           const RdbReadOptions& options, RdbVisitor& visitor,
                           RdbFileSummary* summary, std::string* error) {
  return FileParser(bytes, name, options, visitor, summary, error).Run();
}

RdbReadResult ReadRdbFile(const std::string& path, std::string_view name,
                          const RdbReadOptions& options, RdbVisitor& visitor,
                          RdbFileSummary* summary, std::string* error) {
  MappedFile file;
  std::string why;
  if (!file.Open(path, &why)) {
    *summary = RdbFileSummary{};
    *error = "Can't open the RDB file " + std::string(name) + ": " + why;
    return RdbReadResult::kError;
  }
  return ReadRdbBytes(file.bytes(), name, options, visitor, summary, error);
}

std::string_view RdbTypeName(uint8_t type) {
  switch (type) {
    case kRdbTypeString:
      return "string";
    case kRdbTypeList:
    case kRdbTypeListZiplist:
    case kRdbTypeListQuicklist:
    case kRdbTypeListQuicklist2:
      return "list";
    case kRdbTypeSet:
    case kRdbTypeSetIntset:
    case kRdbTypeSetListpack:
      return "set";
    case kRdbTypeZset:
    case kRdbTypeZset2:
    case kRdbTypeZsetZiplist:
    case kRdbTypeZsetListpack:
      return "zset";
    case kRdbTypeHash:
    case kRdbTypeHashZipmap:
    case kRdbTypeHashZiplist:
    case kRdbTypeHashListpack:
      return "hash";
    case kRdbTypeStreamListpacks:
    case kRdbTypeStreamListpacks2:
    case kRdbTypeStreamListpacks3:
      return "stream";
    case 6:  // RDB_TYPE_MODULE (pre-release module format)
    case kRdbTypeModule2:
      return "module";
    default:
      return "";
  }
}

std::string_view RdbEncodingName(uint8_t type) {
  switch (type) {
    case kRdbTypeString:
      return "string";
    case kRdbTypeList:
      return "linkedlist";
    case kRdbTypeListZiplist:
      return "ziplist";
    case kRdbTypeListQuicklist:
      return "quicklist";
    case kRdbTypeListQuicklist2:
      return "quicklist-2";
    case kRdbTypeSet:
      return "hashtable";
    case kRdbTypeSetIntset:
      return "intset";
    case kRdbTypeSetListpack:
      return "listpack";
    case kRdbTypeZset:
      return "skiplist";
    case kRdbTypeZset2:
      return "skiplist-2";
    case kRdbTypeZsetZiplist:
      return "ziplist";
    case kRdbTypeZsetListpack:
      return "listpack";
    case kRdbTypeHash:
      return "hashtable";
    case kRdbTypeHashZipmap:
      return "zipmap";
    case kRdbTypeHashZiplist:
      return "ziplist";
    case kRdbTypeHashListpack:
      return "listpack";
    case kRdbTypeStreamListpacks:
      return "listpacks";
    case kRdbTypeStreamListpacks2:
      return "listpacks-2";
    case kRdbTypeStreamListpacks3:
      return "listpacks-3";
    case 6:
    case kRdbTypeModule2:
      return "module";
    default:
      return "";
  }
}

}  // namespace sluice::persistence
