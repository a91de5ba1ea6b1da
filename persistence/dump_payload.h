#pragma once
// DUMP payloads, in Redis's format so they travel between sluice and Redis:
//
//   <body: RDB-encoded values> <RDB version: 2 bytes, little-endian>
//   <CRC-64 (persistence/crc64.h) of everything before it: 8 bytes, little-endian>
//
// The framing (AppendDumpTrailer / OpenDumpPayload) is shared by FUNCTION
// DUMP / RESTORE, and is what DUMP / RESTORE of keys and RDB snapshots will
// reuse. The function-library body (one kRdbOpcodeFunction2 byte and the
// library's code as an RDB string, per library) is encoded and decoded here
// too. Pure functions; thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sluice::persistence {

// The RDB version sluice writes into payloads. Function libraries are
// encoded the same in RDB 10 (Redis 7.0) and 11 (7.2), and 10 restores into
// every Redis from 7.0 on.
inline constexpr uint16_t kDumpRdbVersion = 10;
// The newest RDB version a payload may carry (Redis 7.2's).
inline constexpr uint16_t kMaxRdbVersion = 11;

// Appends the version and the checksum of `*payload` (the body so far).
void AppendDumpTrailer(std::string* payload, uint16_t rdb_version = kDumpRdbVersion);

// The body of `payload` when its trailer is intact (the CRC matches) and its
// version is at most `max_version`; nullopt otherwise. `*version`, when
// given, receives the payload's RDB version.
[[nodiscard]] std::optional<std::string_view> OpenDumpPayload(std::string_view payload,
                                                              uint16_t max_version = kMaxRdbVersion,
                                                              uint16_t* version = nullptr);

// FUNCTION DUMP's payload for these library codes (each the full text a
// FUNCTION LOAD was given).
std::string EncodeFunctionsPayload(const std::vector<std::string_view>& codes);

// The library codes of a FUNCTION DUMP payload. On failure returns false
// with *error the reply text, "ERR ..." as Redis words it.
[[nodiscard]] bool DecodeFunctionsPayload(std::string_view payload, std::vector<std::string>* codes,
                                          std::string* error);

}  // namespace sluice::persistence
