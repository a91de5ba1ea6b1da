#include "persistence/dump_payload.h"

#include "persistence/crc64.h"
#include "persistence/rdb_string.h"

namespace sluice::persistence {
namespace {

constexpr size_t kTrailerSize = 10;  // version (2) + CRC-64 (8)

void AppendLittleEndian(std::string* out, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t ReadLittleEndian(std::string_view in, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(in[i]);
  return v;
}

}  // namespace

void AppendDumpTrailer(std::string* payload, uint16_t rdb_version) {
  AppendLittleEndian(payload, rdb_version, 2);
  AppendLittleEndian(payload, Crc64(0, *payload), 8);
}

std::optional<std::string_view> OpenDumpPayload(std::string_view payload, uint16_t max_version,
                                                uint16_t* version) {
  if (payload.size() < kTrailerSize) return std::nullopt;
  const size_t body_size = payload.size() - kTrailerSize;
  const auto v = static_cast<uint16_t>(ReadLittleEndian(payload.substr(body_size, 2), 2));
  if (v > max_version) return std::nullopt;
  const uint64_t crc = ReadLittleEndian(payload.substr(body_size + 2, 8), 8);
  if (Crc64(0, payload.substr(0, body_size + 2)) != crc) return std::nullopt;
  if (version != nullptr) *version = v;
  return payload.substr(0, body_size);
}

std::string EncodeFunctionsPayload(const std::vector<std::string_view>& codes) {
  std::string out;
  for (std::string_view code : codes) {
    out.push_back(static_cast<char>(kRdbOpcodeFunction2));
    AppendRdbString(&out, code);
  }
  AppendDumpTrailer(&out);
  return out;
}

bool DecodeFunctionsPayload(std::string_view payload, std::vector<std::string>* codes,
                            std::string* error) {
  codes->clear();
  const std::optional<std::string_view> body = OpenDumpPayload(payload);
  if (!body) {
    *error = "ERR DUMP payload version or checksum are wrong";
    return false;
  }
  RdbReader reader(*body);
  while (reader.remaining() > 0) {
    uint8_t type;
    if (!reader.ReadByte(&type)) {
      *error = "ERR failed loading the payload type";
      return false;
    }
    if (type == kRdbOpcodeFunctionPreGa) {
      *error = "ERR Pre-GA function format not supported";
      return false;
    }
    if (type != kRdbOpcodeFunction2) {
      *error = "ERR given type is not a function";
      return false;
    }
    std::string code;
    if (!reader.ReadString(&code)) {
      *error = "ERR Failed loading library payload";
      return false;
    }
    codes->push_back(std::move(code));
  }
  return true;
}

}  // namespace sluice::persistence
