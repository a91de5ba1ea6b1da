// RdbSnapshot: the file's layout (magic, AUX, functions, SELECTDB/RESIZEDB,
// records with deadlines, EOF, CRC-64), the point in time under writes made
// while it is written, and the crash-safety rules on I/O errors.

#include "persistence/rdb_snapshot.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "persistence/crc64.h"
#include "persistence/rdb_format.h"
#include "persistence/rdb_string.h"
#include "storage/keyspace.h"

namespace sluice::persistence {
namespace {

using storage::Entry;
using storage::Keyspace;
using storage::Shard;

constexpr int64_t kNow = 1'700'000'000'000;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/rdb_snapshot_test.XXXXXX";
    path = mkdtemp(tmpl);
  }
  ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
  std::string path;
};

struct Parsed {
  std::map<std::string, std::string> aux;
  std::vector<std::string> functions;
  // db -> key -> (value, deadline)
  std::map<uint64_t, std::map<std::string, std::pair<std::string, int64_t>>> dbs;
  std::map<uint64_t, std::pair<uint64_t, uint64_t>> resize;
  uint64_t stored_crc = 0;
  uint64_t computed_crc = 0;
};

// A small reader for the subset the writer emits with string values.
Parsed Parse(const std::string& file) {
  Parsed p;
  EXPECT_EQ(file.substr(0, 9), "REDIS0010");
  RdbReader in(std::string_view(file).substr(9));
  uint64_t db = 0;
  int64_t deadline = 0;
  while (true) {
    uint8_t op;
    if (!in.ReadByte(&op)) {
      ADD_FAILURE() << "truncated";
      return p;
    }
    if (op == kRdbOpEof) break;
    if (op == kRdbOpAux) {
      std::string k, v;
      EXPECT_TRUE(in.ReadString(&k) && in.ReadString(&v));
      p.aux[k] = v;
    } else if (op == kRdbOpFunction2) {
      std::string code;
      EXPECT_TRUE(in.ReadString(&code));
      p.functions.push_back(code);
    } else if (op == kRdbOpSelectDb) {
      EXPECT_TRUE(in.ReadLength(&db));
    } else if (op == kRdbOpResizeDb) {
      uint64_t a, b;
      EXPECT_TRUE(in.ReadLength(&a) && in.ReadLength(&b));
      p.resize[db] = {a, b};
    } else if (op == kRdbOpExpireTimeMs) {
      uint64_t v = 0;
      for (int i = 0; i < 8; ++i) {
        uint8_t b;
        EXPECT_TRUE(in.ReadByte(&b));
        v |= uint64_t{b} << (8 * i);
      }
      deadline = static_cast<int64_t>(v);
    } else {
      EXPECT_EQ(op, kRdbTypeString);
      std::string k, v;
      EXPECT_TRUE(in.ReadString(&k) && in.ReadString(&v));
      EXPECT_EQ(p.dbs[db].count(k), 0u) << "duplicate " << k;
      p.dbs[db][k] = {v, deadline};
      deadline = 0;
    }
  }
  EXPECT_EQ(in.remaining(), 8u);
  const size_t body = file.size() - 8;
  for (int i = 0; i < 8; ++i) {
    p.stored_crc |= uint64_t{static_cast<uint8_t>(file[body + i])} << (8 * i);
  }
  p.computed_crc = Crc64(0, std::string_view(file).substr(0, body));
  return p;
}

void Put(Keyspace& ks, size_t db, const std::string& key, const std::string& value,
         int64_t deadline = 0) {
  Shard& shard = ks.db(db).ShardFor(key);
  std::lock_guard lock(shard.mu());
  shard.Insert(Entry::CreateString(key, value, deadline));
}

// Begins a snapshot with every shard locked, as the server does.
std::unique_ptr<RdbSnapshot> Begin(Keyspace& ks, SnapshotFileOptions options) {
  std::vector<Shard*> all;
  for (size_t d = 0; d < ks.database_count(); ++d) {
    for (size_t j = 0; j < ks.db(d).shard_count(); ++j) all.push_back(&ks.db(d).shard(j));
  }
  storage::MultiLock lock(all);
  return std::make_unique<RdbSnapshot>(ks, std::move(options), kNow);
}

SnapshotFileOptions Options(const std::string& dir) {
  SnapshotFileOptions o;
  o.dir = dir;
  o.dbfilename = "dump.rdb";
  o.ctime_s = kNow / 1000;
  o.used_mem = 12345;
  return o;
}

TEST(RdbSnapshotTest, FileLayout) {
  TempDir dir;
  Keyspace ks(3, 4);
  for (int i = 0; i < 300; ++i) Put(ks, 0, "k" + std::to_string(i), "v" + std::to_string(i));
  Put(ks, 2, "ttl", "t", kNow + 60'000);
  Put(ks, 2, "gone", "g", kNow - 1);  // already past its deadline: left out
  Put(ks, 2, "int", "12345");
  SnapshotFileOptions o = Options(dir.path);
  o.function_codes = {"#!lua name=lib\nredis.register_function('f', function() return 1 end)"};
  auto snap = Begin(ks, o);
  EXPECT_EQ(snap->keys_total(), 303u);
  ASSERT_EQ(snap->Write(), "");
  const std::string file = ReadFile(dir.path + "/dump.rdb");
  EXPECT_EQ(snap->file_bytes(), file.size());
  Parsed p = Parse(file);
  EXPECT_EQ(p.aux["redis-ver"], RdbSnapshot::kAuxRedisVersion);
  EXPECT_EQ(p.aux["redis-bits"], "64");
  EXPECT_EQ(p.aux["ctime"], std::to_string(kNow / 1000));
  EXPECT_EQ(p.aux["used-mem"], "12345");
  EXPECT_EQ(p.aux["aof-base"], "0");
  EXPECT_EQ(p.functions, o.function_codes);
  EXPECT_EQ(p.dbs.count(1), 0u);  // empty databases get no section
  EXPECT_EQ(p.dbs[0].size(), 300u);
  EXPECT_EQ(p.dbs[0]["k7"].first, "v7");
  EXPECT_EQ(p.dbs[2].size(), 2u);
  EXPECT_EQ(p.dbs[2]["ttl"], std::make_pair(std::string("t"), kNow + 60'000));
  EXPECT_EQ(p.dbs[2]["int"].first, "12345");
  EXPECT_EQ(p.resize[0], std::make_pair(uint64_t{300}, uint64_t{0}));
  EXPECT_EQ(p.stored_crc, p.computed_crc);
  // No temporary file is left behind.
  EXPECT_NE(access((dir.path + "/temp-" + std::to_string(getpid()) + ".rdb").c_str(), F_OK), 0);
}

TEST(RdbSnapshotTest, ChecksumOffWritesZeros) {
  TempDir dir;
  Keyspace ks(1, 1);
  Put(ks, 0, "a", "b");
  SnapshotFileOptions o = Options(dir.path);
  o.checksum = false;
  ASSERT_EQ(Begin(ks, o)->Write(), "");
  Parsed p = Parse(ReadFile(dir.path + "/dump.rdb"));
  EXPECT_EQ(p.stored_crc, 0u);
}

TEST(RdbSnapshotTest, WritesAfterTheInstantStayOut) {
  TempDir dir;
  Keyspace ks(1, 4);
  for (int i = 0; i < 20000; ++i) Put(ks, 0, "k" + std::to_string(i), "old");
  auto snap = Begin(ks, Options(dir.path));
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    int n = 0;
    while (!stop.load()) {
      Put(ks, 0, "k" + std::to_string(n % 20000), "new");
      Put(ks, 0, "added" + std::to_string(n), "x");
      const std::string victim = "k" + std::to_string((n * 7) % 20000);
      Shard& s = ks.db(0).ShardFor(victim);
      std::lock_guard lock(s.mu());
      s.Erase(victim, kNow);
      ++n;
    }
  });
  const std::string error = snap->Write();
  stop.store(true);
  writer.join();
  ASSERT_EQ(error, "");
  Parsed p = Parse(ReadFile(dir.path + "/dump.rdb"));
  ASSERT_EQ(p.dbs[0].size(), 20000u);
  for (const auto& [k, v] : p.dbs[0]) ASSERT_EQ(v.first, "old") << k;
}

TEST(RdbSnapshotTest, FailureKeepsTheOldFileAndRemovesTheTemporary) {
  TempDir dir;
  Keyspace ks(1, 2);
  Put(ks, 0, "a", "1");
  ASSERT_EQ(Begin(ks, Options(dir.path))->Write(), "");
  const std::string before = ReadFile(dir.path + "/dump.rdb");
  Put(ks, 0, "b", "2");
  // A directory named like the target: the rename fails.
  SnapshotFileOptions o = Options(dir.path);
  o.dbfilename = "sub";
  ASSERT_EQ(mkdir((dir.path + "/sub").c_str(), 0755), 0);
  ASSERT_EQ(mkdir((dir.path + "/sub/x").c_str(), 0755), 0);
  const std::string error = Begin(ks, o)->Write();
  EXPECT_NE(error.find("Error moving temp DB file"), std::string::npos) << error;
  EXPECT_EQ(ReadFile(dir.path + "/dump.rdb"), before);
  EXPECT_NE(access((dir.path + "/temp-" + std::to_string(getpid()) + ".rdb").c_str(), F_OK), 0);
  // A missing directory: the temporary file cannot be opened.
  o = Options(dir.path + "/missing");
  EXPECT_NE(Begin(ks, o)->Write().find("Failed opening the temp RDB file"), std::string::npos);
  // The walks finished either way: a new snapshot starts and succeeds.
  ASSERT_EQ(Begin(ks, Options(dir.path))->Write(), "");
  EXPECT_EQ(Parse(ReadFile(dir.path + "/dump.rdb")).dbs[0].size(), 2u);
}

TEST(RdbSnapshotTest, CancelFailsAndFinishesTheWalks) {
  TempDir dir;
  Keyspace ks(1, 2);
  for (int i = 0; i < 1000; ++i) Put(ks, 0, "k" + std::to_string(i), "v");
  auto snap = Begin(ks, Options(dir.path));
  snap->Cancel();
  EXPECT_NE(snap->Write(), "");
  EXPECT_NE(access((dir.path + "/dump.rdb").c_str(), F_OK), 0);
  for (size_t j = 0; j < 2; ++j) EXPECT_FALSE(ks.db(0).shard(j).snapshot_running());
  ASSERT_EQ(Begin(ks, Options(dir.path))->Write(), "");
  EXPECT_EQ(Parse(ReadFile(dir.path + "/dump.rdb")).dbs[0].size(), 1000u);
}

}  // namespace
}  // namespace sluice::persistence
