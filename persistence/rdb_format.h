#pragma once
// The constants of Redis's RDB format that sluice reads and writes: the
// value type bytes and the opcodes of an RDB file. A file is
//
//   "REDIS" + 4-digit version | AUX fields | per database: SELECTDB n,
//   RESIZEDB sizes, then records | EOF | CRC-64 of all before it (8 bytes LE,
//   zero when checksums are off)
//
// and a record is [EXPIRETIME_MS t] [IDLE n | FREQ f] <type byte> <key as an
// RDB string> <value in that type's encoding> (persistence/rdb_value.h).
// Lengths and strings: persistence/rdb_string.h. CRC: persistence/crc64.h.

#include <cstdint>

namespace sluice::persistence {

// The RDB version sluice writes: Redis 7.0's, so that 7.0 and later load it.
inline constexpr int kRdbWriteVersion = 10;
// The newest version sluice reads (Redis 7.2's).
inline constexpr int kRdbMaxReadVersion = 11;

// Value types.
inline constexpr uint8_t kRdbTypeString = 0;
inline constexpr uint8_t kRdbTypeList = 1;
inline constexpr uint8_t kRdbTypeSet = 2;
inline constexpr uint8_t kRdbTypeZset = 3;
inline constexpr uint8_t kRdbTypeHash = 4;
inline constexpr uint8_t kRdbTypeZset2 = 5;  // binary double scores
inline constexpr uint8_t kRdbTypeModule2 = 7;
inline constexpr uint8_t kRdbTypeHashZipmap = 9;
inline constexpr uint8_t kRdbTypeListZiplist = 10;
inline constexpr uint8_t kRdbTypeSetIntset = 11;
inline constexpr uint8_t kRdbTypeZsetZiplist = 12;
inline constexpr uint8_t kRdbTypeHashZiplist = 13;
inline constexpr uint8_t kRdbTypeListQuicklist = 14;
inline constexpr uint8_t kRdbTypeStreamListpacks = 15;
inline constexpr uint8_t kRdbTypeHashListpack = 16;
inline constexpr uint8_t kRdbTypeZsetListpack = 17;
inline constexpr uint8_t kRdbTypeListQuicklist2 = 18;
inline constexpr uint8_t kRdbTypeStreamListpacks2 = 19;
inline constexpr uint8_t kRdbTypeSetListpack = 20;      // RDB 11 (7.2)
inline constexpr uint8_t kRdbTypeStreamListpacks3 = 21;  // RDB 11 (7.2)

// File opcodes.
inline constexpr uint8_t kRdbOpFunction2 = 245;
inline constexpr uint8_t kRdbOpFunctionPreGa = 246;
inline constexpr uint8_t kRdbOpModuleAux = 247;
inline constexpr uint8_t kRdbOpIdle = 248;
inline constexpr uint8_t kRdbOpFreq = 249;
inline constexpr uint8_t kRdbOpAux = 250;
inline constexpr uint8_t kRdbOpResizeDb = 251;
inline constexpr uint8_t kRdbOpExpireTimeMs = 252;
inline constexpr uint8_t kRdbOpExpireTime = 253;
inline constexpr uint8_t kRdbOpSelectDb = 254;
inline constexpr uint8_t kRdbOpEof = 255;

}  // namespace sluice::persistence
