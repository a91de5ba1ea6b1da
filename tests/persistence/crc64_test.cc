#include "persistence/crc64.h"

#include <string>

#include "gtest/gtest.h"

namespace sluice::persistence {
namespace {

TEST(Crc64Test, CheckValueOfTheJonesPolynomial) {
  EXPECT_EQ(Crc64(0, "123456789"), 0xe9c6d914c4b8d9caULL);
}

TEST(Crc64Test, EmptyInputLeavesTheCrc) {
  EXPECT_EQ(Crc64(0, ""), 0u);
  EXPECT_EQ(Crc64(0x1234, ""), 0x1234u);
}

// Byte-at-a-time reference: the slicing-by-8 path must agree with it at
// every length and alignment.
uint64_t BitwiseCrc64(std::string_view data) {
  uint64_t crc = 0;
  for (unsigned char c : data) {
    crc ^= c;
    for (int bit = 0; bit < 8; ++bit)
      crc = (crc & 1) ? (crc >> 1) ^ 0x95ac9329ac4bc9b5ULL : crc >> 1;
  }
  return crc;
}

TEST(Crc64Test, AgreesWithTheBitwiseDefinitionAtEveryLength) {
  std::string data;
  for (int i = 0; i < 300; ++i) data.push_back(static_cast<char>((i * 131 + 7) & 0xff));
  for (size_t start = 0; start < 9; ++start) {
    for (size_t len = 0; start + len <= data.size(); len += 7) {
      const std::string_view piece = std::string_view(data).substr(start, len);
      EXPECT_EQ(Crc64(0, piece), BitwiseCrc64(piece)) << start << " " << len;
    }
  }
}

TEST(Crc64Test, ContinuesAcrossPieces) {
  const std::string data = "The quick brown fox jumps over the lazy dog";
  for (size_t cut = 0; cut <= data.size(); ++cut) {
    const uint64_t first = Crc64(0, std::string_view(data).substr(0, cut));
    EXPECT_EQ(Crc64(first, std::string_view(data).substr(cut)), Crc64(0, data));
  }
}

}  // namespace
}  // namespace sluice::persistence
