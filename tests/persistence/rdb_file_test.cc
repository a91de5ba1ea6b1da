#include "persistence/rdb_file.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "persistence/crc64.h"
#include "persistence/rdb_format.h"
#include "persistence/rdb_string.h"

namespace sluice::persistence {
namespace {

// Builds an RDB file's bytes.
class FileBuilder {
 public:
  explicit FileBuilder(int version = 10) {
    char header[16];
    std::snprintf(header, sizeof(header), "REDIS%04d", version);
    bytes_ = header;
  }
  FileBuilder& Op(uint8_t op) {
    bytes_.push_back(static_cast<char>(op));
    return *this;
  }
  FileBuilder& Length(uint64_t n) {
    AppendRdbLength(&bytes_, n);
    return *this;
  }
  FileBuilder& Str(std::string_view s) {
    AppendRdbString(&bytes_, s);
    return *this;
  }
  FileBuilder& LittleEndian(uint64_t v, int width) {
    for (int i = 0; i < width; ++i) bytes_.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    return *this;
  }
  FileBuilder& Aux(std::string_view k, std::string_view v) { return Op(kRdbOpAux).Str(k).Str(v); }
  FileBuilder& Select(uint64_t db) { return Op(kRdbOpSelectDb).Length(db); }
  FileBuilder& StringKey(std::string_view k, std::string_view v) {
    return Op(kRdbTypeString).Str(k).Str(v);
  }
  FileBuilder& ExpireMs(int64_t at) {
    return Op(kRdbOpExpireTimeMs).LittleEndian(static_cast<uint64_t>(at), 8);
  }
  // EOF and the checksum (or `crc` as given).
  std::string Finish(bool checksum = true) {
    Op(kRdbOpEof);
    LittleEndian(checksum ? Crc64(0, bytes_) : 0, 8);
    return bytes_;
  }
  size_t size() const { return bytes_.size(); }

 private:
  std::string bytes_;
};

struct Seen {
  std::string key;
  std::string value;
  size_t db;
  int64_t expire_at_ms;
  bool expired;
};

class Recorder : public RdbVisitor {
 public:
  void OnAux(std::string_view name, std::string_view value) override {
    aux[std::string(name)] = std::string(value);
  }
  void OnResizeDb(size_t db, uint64_t keys, uint64_t expires) override {
    resize.push_back({db, keys, expires});
  }
  bool OnFunction(std::string_view code, std::string* error) override {
    functions.emplace_back(code);
    if (!function_error.empty()) *error = function_error;
    return function_error.empty();
  }
  bool OnKey(const RdbKey& key, storage::Entry* entry, std::string*) override {
    std::string scratch;
    keys.push_back({std::string(entry->key()), std::string(entry->string_value(&scratch)), key.db,
                    key.expire_at_ms, key.expired});
    storage::Entry::Destroy(entry);
    return true;
  }
  bool OnProgress(size_t) override {
    ++progress_calls;
    return !stop;
  }

  std::map<std::string, std::string> aux;
  struct Resize {
    size_t db;
    uint64_t keys, expires;
  };
  std::vector<Resize> resize;
  std::vector<std::string> functions;
  std::string function_error;
  std::vector<Seen> keys;
  int progress_calls = 0;
  bool stop = false;
};

RdbReadResult Read(const std::string& bytes, Recorder& rec, std::string* error,
                   RdbFileSummary* summary = nullptr, RdbReadOptions options = {}) {
  RdbFileSummary local;
  return ReadRdbBytes(bytes, "dump.rdb", options, rec, summary ? summary : &local, error);
}

std::string SampleFile() {
  FileBuilder b;
  b.Aux("redis-ver", "7.0.15").Aux("ctime", "1700000000");
  b.Select(0).Op(kRdbOpResizeDb).Length(2).Length(1);
  b.StringKey("a", "1").ExpireMs(4102444800000).StringKey("b", "hello");
  b.Select(5).StringKey("c", std::string(100, 'x'));
  return b.Finish();
}

TEST(RdbFileTest, ReadsHeaderAuxDatabasesKeysAndChecksum) {
  Recorder rec;
  std::string error;
  RdbFileSummary summary;
  const std::string file = SampleFile();
  ASSERT_EQ(Read(file, rec, &error, &summary), RdbReadResult::kOk) << error;
  EXPECT_EQ(summary.version, 10);
  EXPECT_EQ(summary.file_bytes, file.size());
  EXPECT_EQ(summary.keys, 3u);
  EXPECT_EQ(summary.expired, 0u);
  EXPECT_TRUE(summary.checksum_checked);
  EXPECT_EQ(rec.aux["redis-ver"], "7.0.15");
  EXPECT_EQ(rec.aux["ctime"], "1700000000");
  ASSERT_EQ(rec.resize.size(), 1u);
  EXPECT_EQ(rec.resize[0].db, 0u);
  EXPECT_EQ(rec.resize[0].keys, 2u);
  EXPECT_EQ(rec.resize[0].expires, 1u);
  ASSERT_EQ(rec.keys.size(), 3u);
  EXPECT_EQ(rec.keys[0].key, "a");
  EXPECT_EQ(rec.keys[0].value, "1");
  EXPECT_EQ(rec.keys[0].expire_at_ms, 0);
  EXPECT_EQ(rec.keys[1].key, "b");
  EXPECT_EQ(rec.keys[1].expire_at_ms, 4102444800000);  // the expiry applies to the next key only
  EXPECT_EQ(rec.keys[2].db, 5u);
  EXPECT_EQ(rec.keys[2].value, std::string(100, 'x'));
}

TEST(RdbFileTest, ExpiryInSecondsAndPastDeadlinesAreReportedExpired) {
  FileBuilder b;
  b.Op(kRdbOpExpireTime).LittleEndian(1000, 4).StringKey("old", "v");
  b.ExpireMs(5000).StringKey("mid", "v");
  b.ExpireMs(9000).StringKey("new", "v");
  Recorder rec;
  std::string error;
  RdbFileSummary summary;
  RdbReadOptions options;
  options.now_ms = 5000;
  ASSERT_EQ(Read(b.Finish(), rec, &error, &summary, options), RdbReadResult::kOk) << error;
  ASSERT_EQ(rec.keys.size(), 3u);
  EXPECT_EQ(rec.keys[0].expire_at_ms, 1000000);
  EXPECT_FALSE(rec.keys[0].expired);
  EXPECT_TRUE(rec.keys[1].expired);  // a deadline at now has passed
  EXPECT_FALSE(rec.keys[2].expired);
  EXPECT_EQ(summary.expired, 1u);
}

TEST(RdbFileTest, IdleAndFreqAreSkipped) {
  FileBuilder b;
  b.Op(kRdbOpIdle).Length(12345).StringKey("a", "1");
  b.Op(kRdbOpFreq).Op(200).StringKey("b", "2");
  Recorder rec;
  std::string error;
  ASSERT_EQ(Read(b.Finish(), rec, &error), RdbReadResult::kOk) << error;
  ASSERT_EQ(rec.keys.size(), 2u);
  EXPECT_EQ(rec.keys[1].value, "2");
}

TEST(RdbFileTest, ZeroChecksumIsNotChecked) {
  FileBuilder b;
  b.StringKey("a", "1");
  Recorder rec;
  std::string error;
  RdbFileSummary summary;
  ASSERT_EQ(Read(b.Finish(/*checksum=*/false), rec, &error, &summary), RdbReadResult::kOk);
  EXPECT_FALSE(summary.checksum_checked);
  EXPECT_EQ(rec.keys.size(), 1u);
}

TEST(RdbFileTest, OldVersionsHaveNoChecksum) {
  std::string file = "REDIS0004";
  file.push_back(static_cast<char>(kRdbTypeString));
  AppendRdbString(&file, "k");
  AppendRdbString(&file, "v");
  file.push_back(static_cast<char>(kRdbOpEof));
  Recorder rec;
  std::string error;
  RdbFileSummary summary;
  ASSERT_EQ(Read(file, rec, &error, &summary), RdbReadResult::kOk) << error;
  EXPECT_EQ(summary.version, 4);
  EXPECT_EQ(rec.keys.size(), 1u);
}

TEST(RdbFileTest, WrongChecksumNamesFileAndOffset) {
  std::string file = SampleFile();
  file.back() ^= 1;
  Recorder rec;
  std::string error;
  ASSERT_EQ(Read(file, rec, &error), RdbReadResult::kError);
  EXPECT_NE(error.find("Bad file format reading the RDB file dump.rdb at offset " +
                       std::to_string(file.size() - 8) + ": wrong checksum"),
            std::string::npos)
      << error;
}

TEST(RdbFileTest, AFlippedByteInTheBodyIsCaught) {
  const std::string good = SampleFile();
  // Every byte of the last key's value: the checksum (or the structure) notices.
  for (size_t i = good.size() - 60; i < good.size() - 9; ++i) {
    std::string file = good;
    file[i] ^= 0x20;
    Recorder rec;
    std::string error;
    EXPECT_EQ(Read(file, rec, &error), RdbReadResult::kError) << "byte " << i;
    EXPECT_NE(error.find("dump.rdb at offset "), std::string::npos) << error;
  }
}

TEST(RdbFileTest, EveryTruncationIsAnEndOfFileErrorWithItsOffset) {
  const std::string good = SampleFile();
  for (size_t n = 0; n < good.size(); ++n) {
    Recorder rec;
    std::string error;
    ASSERT_EQ(Read(good.substr(0, n), rec, &error), RdbReadResult::kError) << "cut at " << n;
    EXPECT_NE(error.find("Bad file format reading the RDB file dump.rdb at offset "),
              std::string::npos)
        << error;
    EXPECT_NE(error.find("unexpected end of file"), std::string::npos)
        << "cut at " << n << ": " << error;
  }
}

TEST(RdbFileTest, RandomCorruptionNeverCrashesAndAlwaysNamesAnOffset) {
  FileBuilder b;
  b.Aux("redis-ver", "7.0.15").Select(0).Op(kRdbOpResizeDb).Length(40).Length(10);
  for (int i = 0; i < 40; ++i) {
    if (i % 4 == 0) b.ExpireMs(4102444800000 + i);
    b.StringKey("key:" + std::to_string(i), std::string(i * 7, static_cast<char>('a' + i % 26)));
  }
  b.Op(kRdbOpFunction2).Str("#!lua name=x\n");
  const std::string good = b.Finish(/*checksum=*/false);  // only the structure catches damage
  std::mt19937_64 rng(12);
  for (int round = 0; round < 3000; ++round) {
    std::string file = good;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) file[rng() % file.size()] = static_cast<char>(rng());
    if (rng() % 4 == 0) file.resize(rng() % file.size());
    Recorder rec;
    std::string error;
    const RdbReadResult r = Read(file, rec, &error);
    if (r == RdbReadResult::kError) {
      ASSERT_NE(error.find("dump.rdb at offset "), std::string::npos) << error;
    } else {
      ASSERT_EQ(r, RdbReadResult::kOk);
    }
  }
}

TEST(RdbFileTest, HeaderChecks) {
  Recorder rec;
  std::string error;
  EXPECT_EQ(Read("REDIT0010\xff", rec, &error), RdbReadResult::kError);
  EXPECT_NE(error.find("at offset 0: not an RDB file"), std::string::npos) << error;
  EXPECT_EQ(Read("REDIS0012\xff", rec, &error), RdbReadResult::kError);
  EXPECT_NE(error.find("at offset 5: can't handle RDB format version 12"), std::string::npos)
      << error;
  EXPECT_EQ(Read("REDIS0000\xff", rec, &error), RdbReadResult::kError);
  EXPECT_NE(error.find("version 0"), std::string::npos) << error;
  EXPECT_EQ(Read("REDIS00x1\xff", rec, &error), RdbReadResult::kError);
  EXPECT_NE(error.find("bad RDB version"), std::string::npos) << error;
  for (int v = 1; v <= 11; ++v) {
    FileBuilder b(v);
    EXPECT_EQ(Read(b.Finish(), rec, &error), RdbReadResult::kOk) << v << ": " << error;
  }
}

TEST(RdbFileTest, DatabaseBeyondTheConfiguredCountIsAnError) {
  FileBuilder b;
  b.StringKey("a", "1");
  const size_t at = b.size();
  b.Select(16).StringKey("b", "2");
  Recorder rec;
  std::string error;
  ASSERT_EQ(Read(b.Finish(), rec, &error), RdbReadResult::kError);
  EXPECT_NE(error.find("at offset " + std::to_string(at) + ": the file selects database 16"),
            std::string::npos)
      << error;
}

TEST(RdbFileTest, FunctionsGoToTheVisitorAndItsErrorsStopTheRead) {
  FileBuilder b;
  b.Op(kRdbOpFunction2).Str("#!lua name=lib\nredis.register_function('f', function() end)");
  b.StringKey("a", "1");
  const std::string file = b.Finish();
  Recorder rec;
  std::string error;
  RdbFileSummary summary;
  ASSERT_EQ(Read(file, rec, &error, &summary), RdbReadResult::kOk) << error;
  ASSERT_EQ(rec.functions.size(), 1u);
  EXPECT_EQ(rec.functions[0].substr(0, 14), "#!lua name=lib");
  EXPECT_EQ(summary.functions, 1u);

  Recorder refusing;
  refusing.function_error = "ERR Library 'lib' already exists";
  ASSERT_EQ(Read(file, refusing, &error), RdbReadResult::kError);
  EXPECT_NE(error.find("at offset 9: function library: ERR Library 'lib' already exists"),
            std::string::npos)
      << error;
  EXPECT_TRUE(refusing.keys.empty());
}

TEST(RdbFileTest, ModulesAndThePreReleaseFunctionFormatAreRefused) {
  const struct {
    uint8_t op;
    std::string_view says;
  } cases[] = {
      {kRdbOpModuleAux, "module data (MODULE_AUX)"},
      {kRdbTypeModule2, "module value type (7)"},
      {6, "module value type (6)"},
      {kRdbOpFunctionPreGa, "pre-release format"},
      {99, "unknown value type 99"},
      {8, "unknown value type 8"},
  };
  for (const auto& c : cases) {
    FileBuilder b;
    b.Op(c.op).Str("x").Str("y");
    Recorder rec;
    std::string error;
    ASSERT_EQ(Read(b.Finish(), rec, &error), RdbReadResult::kError) << int(c.op);
    EXPECT_NE(error.find("at offset 9: "), std::string::npos) << error;
    EXPECT_NE(error.find(c.says), std::string::npos) << error;
  }
}

TEST(RdbFileTest, BadLengthAndBadValueNameTheirOffset) {
  FileBuilder b;
  b.StringKey("a", "1");
  const size_t at = b.size();
  b.Op(kRdbTypeString).Op(0x85);  // no such length form
  Recorder rec;
  std::string error;
  ASSERT_EQ(Read(b.Finish(), rec, &error), RdbReadResult::kError);
  EXPECT_NE(error.find("at offset " + std::to_string(at + 1) + ": bad data reading a key"),
            std::string::npos)
      << error;

  FileBuilder v;
  v.Op(kRdbTypeString).Str("k");
  const size_t value_at = v.size();
  v.Op(0xc3).Length(5).Length(100000).Str("zzzzz");  // LZF that cannot expand that far
  ASSERT_EQ(Read(v.Finish(), rec, &error), RdbReadResult::kError);
  EXPECT_NE(error.find("at offset " + std::to_string(value_at) +
                       ": bad data reading the value of key 'k'"),
            std::string::npos)
      << error;
}

TEST(RdbFileTest, ProgressCanStopTheRead) {
  FileBuilder b;
  for (int i = 0; i < 1000; ++i) b.StringKey("key:" + std::to_string(i), "value");
  const std::string file = b.Finish();
  Recorder rec;
  std::string error;
  RdbReadOptions options;
  options.progress_bytes = 1024;
  ASSERT_EQ(Read(file, rec, &error, nullptr, options), RdbReadResult::kOk);
  EXPECT_GE(rec.progress_calls, static_cast<int>(file.size() / 1024) - 1);
  Recorder stopping;
  stopping.stop = true;
  EXPECT_EQ(Read(file, stopping, &error, nullptr, options), RdbReadResult::kStopped);
  EXPECT_LT(stopping.keys.size(), 1000u);
}

TEST(RdbFileTest, ReadsAFileAndNamesOneItCannotOpen) {
  char path[] = "/tmp/rdb_file_test_XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  // Big enough for the checksum to be computed alongside the records.
  FileBuilder b;
  for (int i = 0; i < 100000; ++i) b.StringKey("key:" + std::to_string(i), std::string(80, 'v'));
  const std::string file = b.Finish();
  std::ofstream(path, std::ios::binary) << file;
  Recorder rec;
  std::string error;
  RdbFileSummary summary;
  EXPECT_EQ(ReadRdbFile(path, "big.rdb", {}, rec, &summary, &error), RdbReadResult::kOk) << error;
  EXPECT_EQ(summary.keys, 100000u);
  EXPECT_TRUE(summary.checksum_checked);
  std::string bad = file;
  bad[bad.size() / 2] ^= 0x01;  // inside some value: only the checksum sees it
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bad;
  Recorder rec2;
  EXPECT_EQ(ReadRdbFile(path, "big.rdb", {}, rec2, &summary, &error), RdbReadResult::kError);
  EXPECT_NE(error.find("big.rdb at offset " + std::to_string(bad.size() - 8) + ": wrong checksum"),
            std::string::npos)
      << error;
  unlink(path);
  EXPECT_EQ(ReadRdbFile(path, "gone.rdb", {}, rec, &summary, &error), RdbReadResult::kError);
  EXPECT_NE(error.find("Can't open the RDB file gone.rdb"), std::string::npos) << error;
}

TEST(RdbFileTest, TypeNames) {
  EXPECT_EQ(RdbTypeName(kRdbTypeSetIntset), "set");
  EXPECT_EQ(RdbEncodingName(kRdbTypeSetIntset), "intset");
  EXPECT_EQ(RdbTypeName(kRdbTypeListQuicklist2), "list");
  EXPECT_EQ(RdbTypeName(kRdbTypeStreamListpacks3), "stream");
  EXPECT_EQ(RdbTypeName(kRdbTypeModule2), "module");
  EXPECT_EQ(RdbTypeName(42), "");
}

}  // namespace
}  // namespace sluice::persistence
