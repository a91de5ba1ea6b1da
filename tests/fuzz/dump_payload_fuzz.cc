// libFuzzer target for the DUMP payload decoder (persistence/dump_payload.h and
// the RDB string reader under it). Each input is decoded twice: as it is
// (almost always refused by the CRC check) and with a valid trailer appended,
// so the RDB reader and LZF decompression see arbitrary bodies. Invariants:
// no crash or sanitizer report; a refused payload gives one of the known
// error texts; an accepted one re-encodes (plain strings) to a payload that
// decodes to the same library codes.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "persistence/dump_payload.h"
#include "persistence/rdb_string.h"

namespace {

void Check(bool condition) {
  if (!condition) std::abort();
}

bool KnownError(const std::string& error) {
  for (std::string_view known :
       {"ERR DUMP payload version or checksum are wrong", "ERR failed loading the payload type",
        "ERR Pre-GA function format not supported", "ERR given type is not a function",
        "ERR Failed loading library payload"}) {
    if (error == known) return true;
  }
  return false;
}

void Decode(std::string_view payload) {
  std::vector<std::string> codes;
  std::string error;
  if (!sluice::persistence::DecodeFunctionsPayload(payload, &codes, &error)) {
    Check(KnownError(error));
    return;
  }
  std::vector<std::string_view> views(codes.begin(), codes.end());
  const std::string again = sluice::persistence::EncodeFunctionsPayload(views);
  std::vector<std::string> back;
  Check(sluice::persistence::DecodeFunctionsPayload(again, &back, &error));
  Check(back == codes);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  Decode(input);
  // The first byte picks the trailer's version (some above the newest).
  const uint16_t version = size > 0 ? static_cast<uint16_t>(data[0] % 13) : 10;
  std::string framed(input.substr(size > 0 ? 1 : 0));
  sluice::persistence::AppendDumpTrailer(&framed, version);
  Decode(framed);
  // The RDB string reader on its own, over the raw bytes.
  sluice::persistence::RdbReader reader(input);
  std::string s;
  while (reader.remaining() > 0 && reader.ReadString(&s)) {
  }
  return 0;
}
