#include "persistence/rdb_value.h"

#include "persistence/rdb_format.h"

namespace sluice::persistence {

using storage::Entry;
using storage::ValueType;

void AppendRdbValue(const Entry& entry, const RdbWriteOptions& options, std::string* out) {
  // First cut: strings only. Collections follow (the codec work of issue 12).
  std::string scratch;
  out->push_back(static_cast<char>(kRdbTypeString));
  AppendRdbString(out, entry.string_value(&scratch));
}

Entry* ReadRdbValue(uint8_t type, RdbReader& in, std::string_view key, int64_t expire_at_ms,
                    const ValueLimits& limits, std::string* error) {
  if (type != kRdbTypeString) {
    *error = "unsupported value type " + std::to_string(type);
    return nullptr;
  }
  std::string value;
  if (!in.ReadString(&value)) {
    *error = "bad string value";
    return nullptr;
  }
  int64_t n;
  if (storage::LooksLikeInt64(value, &n)) return Entry::CreateInt(key, n, expire_at_ms);
  return Entry::CreateString(key, value, expire_at_ms);
}

}  // namespace sluice::persistence
