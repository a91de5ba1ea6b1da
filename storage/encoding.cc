#include "storage/encoding.h"

#include "storage/hash_ops.h"
#include "storage/list_ops.h"
#include "storage/set_ops.h"
#include "storage/zset_ops.h"

namespace sluice::storage {

std::string_view EncodingName(const Entry& entry) {
  switch (entry.type()) {
    case ValueType::kHash:
      return HashView(&entry).packed() ? "listpack" : "hashtable";
    case ValueType::kSet:
      return SetView(&entry).encoding_name();
    case ValueType::kZset:
      return ZSetView(&entry).encoding_name();
    case ValueType::kList:
      return ListEncodingName(&entry);
    case ValueType::kStream:
      return "stream";
    case ValueType::kString:
      break;
  }
  // Redis's names for string encodings: integers, strings of up to 44 bytes
  // (embedded with their header), longer ones.
  if (entry.is_int()) return "int";
  return entry.string_length() <= 44 ? "embstr" : "raw";
}

}  // namespace sluice::storage
