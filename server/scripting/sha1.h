#pragma once
// SHA-1 (FIPS 180-4) of a byte string, as the 40-character lowercase hex
// text that EVALSHA, SCRIPT LOAD and redis.sha1hex use to name scripts.
// Not for security: script names only. Pure function, thread-safe.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::server {

std::array<uint8_t, 20> Sha1(std::string_view data);
// Lowercase hex of Sha1(data).
std::string Sha1Hex(std::string_view data);

}  // namespace sluice::server
