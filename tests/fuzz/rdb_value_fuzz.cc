// libFuzzer target for the RDB value decoder (persistence/rdb_value.h and the
// listpack / ziplist / intset / zipmap parsers under it). The first input
// byte picks the RDB type (folded onto the types sluice reads, and a few it
// does not), the second small encoding limits (so decoded values take both
// the packed and the large encodings); the rest is the value. Invariants: no
// crash, sanitizer report or unbounded allocation; a refused value gives an
// error text; an accepted one re-encodes (with and without compression) to
// bytes that decode to the same contents.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "persistence/rdb_format.h"
#include "persistence/rdb_value.h"
#include "storage/stream_ops.h"

namespace {

using sluice::persistence::RdbReader;
using sluice::storage::Entry;
using sluice::storage::ValueType;

void Check(bool condition) {
  if (!condition) std::abort();
}

constexpr uint8_t kTypes[] = {0, 1, 2, 3, 4, 5, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21};

// The value's contents, in an order that does not depend on the encoding.
std::string Describe(const Entry* e) {
  std::vector<std::string> parts;
  std::string scratch;
  switch (e->type()) {
    case ValueType::kString:
      return "s:" + std::string(e->string_value(&scratch));
    case ValueType::kList: {
      const sluice::storage::ListReader reader(e);
      for (auto it = reader.list().Front(); it.valid(); reader.list().Next(it)) {
        parts.emplace_back(reader.list().Get(it).AsString(&scratch));
      }
      break;
    }
    case ValueType::kSet:
      parts = sluice::storage::SetView(e).Members();
      std::sort(parts.begin(), parts.end());
      break;
    case ValueType::kZset:
      for (const auto& [m, s] : sluice::storage::ZSetView(e).Items()) {
        parts.push_back(m + "=" + std::to_string(s));
      }
      break;
    case ValueType::kHash:
      sluice::storage::HashView(e).ForEach([&](std::string_view f, std::string_view v) {
        parts.push_back(std::string(f) + "=" + std::string(v));
      });
      std::sort(parts.begin(), parts.end());
      break;
    case ValueType::kStream: {
      const sluice::storage::Stream& s = sluice::storage::StreamOf(e);
      s.Range(sluice::storage::StreamId::Min(), sluice::storage::StreamId::Max(), false, 0,
              [&](const sluice::storage::StreamEntryView& v) {
                std::string p = v.id().ToString();
                v.ForEachPair([&](std::string_view f, std::string_view x) {
                  p += " " + std::string(f) + "=" + std::string(x);
                });
                parts.push_back(p);
                return true;
              });
      parts.push_back(s.last_id().ToString() + " " + s.max_deleted_id().ToString() + " " +
                      std::to_string(s.entries_added()));
      break;
    }
  }
  std::string out = std::to_string(static_cast<int>(e->type())) + ":";
  for (const std::string& p : parts) out += std::to_string(p.size()) + ":" + p;
  return out;
}

Entry* Decode(uint8_t type, std::string_view body, const sluice::persistence::ValueLimits& limits,
              std::string* error) {
  RdbReader in(body);
  return sluice::persistence::ReadRdbValue(type, in, "key", 0, limits, error);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t type = kTypes[data[0] % std::size(kTypes)];
  sluice::persistence::ValueLimits limits;
  if (data[1] & 1) {
    limits.hash.max_packed_entries = 2;
    limits.set.max_intset_entries = 2;
    limits.set.max_packed_entries = 2;
    limits.zset.max_packed_entries = 2;
    limits.list.fill = 2;
    limits.list.compress_depth = 1;
  }
  const std::string_view body(reinterpret_cast<const char*>(data) + 2, size - 2);
  std::string error;
  Entry* e = Decode(type, body, limits, &error);
  if (e == nullptr) {
    Check(!error.empty());
    return 0;
  }
  const std::string want = Describe(e);
  for (bool compress : {true, false}) {
    std::string again;
    sluice::persistence::AppendRdbValue(*e, {compress}, &again);
    Check(!again.empty());
    std::string error2;
    Entry* back = Decode(static_cast<uint8_t>(again[0]), std::string_view(again).substr(1),
                         limits, &error2);
    Check(back != nullptr);
    Check(Describe(back) == want);
    Entry::Destroy(back);
  }
  Entry::Destroy(e);
  return 0;
}
