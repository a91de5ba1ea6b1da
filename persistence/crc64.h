#pragma once
// CRC-64 with the Jones polynomial (0xad93d23594c935a9), bit-reflected, zero
// initial value and no final xor: the checksum of Redis's DUMP payloads and
// RDB files. Crc64(0, "123456789") is 0xe9c6d914c4b8d9ca.
//
// Pure functions; thread-safe.

#include <cstdint>
#include <string_view>

namespace sluice::persistence {

// Continues `crc` (0 to start) over `data`.
[[nodiscard]] uint64_t Crc64(uint64_t crc, std::string_view data);

}  // namespace sluice::persistence
