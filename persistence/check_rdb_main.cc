// sluice-check-rdb <file>: validates an RDB file the way sluice-server's
// start-up load reads it (header, structure, every value decoded, the
// checksum) and describes it: the RDB version, AUX fields, keys per database
// and per type, keys with a TTL and those already expired, function
// libraries. Prints "OK" and exits 0 for a good file; prints the error, with
// the offset where it was found, and exits 1 otherwise (2 for bad usage).

#include <cstdio>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "persistence/rdb_file.h"
#include "storage/clock.h"

namespace {

using sluice::persistence::RdbKey;

// A function library's name, from its "#!lua name=<name>" first line.
std::string LibraryName(std::string_view code) {
  const size_t eol = code.find('\n');
  std::string_view first = code.substr(0, eol);
  const size_t at = first.find("name=");
  if (at == std::string_view::npos) return "(unnamed)";
  std::string_view name = first.substr(at + 5);
  return std::string(name.substr(0, name.find(' ')));
}

class Checker : public sluice::persistence::RdbVisitor {
 public:
  struct DbCounts {
    uint64_t keys = 0;
    uint64_t with_ttl = 0;
    uint64_t expired = 0;
  };

  void OnAux(std::string_view name, std::string_view value) override {
    aux.emplace_back(std::string(name), std::string(value));
  }
  bool OnFunction(std::string_view code, std::string*) override {
    libraries.push_back(LibraryName(code));
    return true;
  }
  bool OnKey(const RdbKey& key, sluice::storage::Entry* entry, std::string*) override {
    sluice::storage::Entry::Destroy(entry);
    DbCounts& d = dbs[key.db];
    ++d.keys;
    if (key.expire_at_ms != 0) ++d.with_ttl;
    if (key.expired) ++d.expired;
    ++types[std::string(sluice::persistence::RdbTypeName(key.type))];
    ++encodings[std::string(sluice::persistence::RdbTypeName(key.type)) + " " +
                std::string(sluice::persistence::RdbEncodingName(key.type))];
    return true;
  }

  std::vector<std::pair<std::string, std::string>> aux;
  std::vector<std::string> libraries;
  std::map<size_t, DbCounts> dbs;
  std::map<std::string, uint64_t> types, encodings;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "Usage: %s <rdb-file>\n", argc > 0 ? argv[0] : "sluice-check-rdb");
    return 2;
  }
  const std::string path = argv[1];
  sluice::persistence::RdbReadOptions options;
  // Any database index a file may name is fine here; the server checks its
  // own `databases` at load time.
  options.databases = size_t{1} << 32;
  options.now_ms = sluice::storage::NowMs();
  Checker checker;
  sluice::persistence::RdbFileSummary summary;
  std::string error;
  const auto result =
      sluice::persistence::ReadRdbFile(path, path, options, checker, &summary, &error);

  std::printf("[info] checking RDB file %s (%zu bytes)\n", path.c_str(), summary.file_bytes);
  if (summary.version != 0) std::printf("[info] RDB version %d\n", summary.version);
  for (const auto& [name, value] : checker.aux) {
    std::printf("[info] AUX %s = '%s'\n", name.c_str(), value.c_str());
  }
  for (const std::string& lib : checker.libraries) {
    std::printf("[info] function library '%s'\n", lib.c_str());
  }
  for (const auto& [db, d] : checker.dbs) {
    std::printf("[info] db %zu: %llu keys, %llu with a TTL, %llu already expired\n", db,
                static_cast<unsigned long long>(d.keys),
                static_cast<unsigned long long>(d.with_ttl),
                static_cast<unsigned long long>(d.expired));
  }
  for (const auto& [type, n] : checker.types) {
    std::printf("[info] type %s: %llu keys\n", type.c_str(), static_cast<unsigned long long>(n));
  }
  for (const auto& [encoding, n] : checker.encodings) {
    std::printf("[info] encoding %s: %llu keys\n", encoding.c_str(),
                static_cast<unsigned long long>(n));
  }
  std::printf("[info] %llu keys in all, %llu already expired, %llu function libraries\n",
              static_cast<unsigned long long>(summary.keys),
              static_cast<unsigned long long>(summary.expired),
              static_cast<unsigned long long>(summary.functions));
  if (result != sluice::persistence::RdbReadResult::kOk) {
    std::printf("[error] %s\n", error.c_str());
    std::printf("FAILED\n");
    return 1;
  }
  if (summary.checksum_checked) {
    std::printf("[info] checksum %016llx: OK\n", static_cast<unsigned long long>(summary.checksum));
  } else {
    std::printf("[info] no checksum stored (written with rdbchecksum no)\n");
  }
  std::printf("OK\n");
  return 0;
}
