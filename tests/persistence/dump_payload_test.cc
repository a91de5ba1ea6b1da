#include "persistence/dump_payload.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "persistence/crc64.h"
#include "persistence/rdb_string.h"

namespace sluice::persistence {
namespace {

std::string FromHex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

TEST(DumpPayloadTest, TrailerIsVersionThenCrcLittleEndian) {
  std::string p = "body";
  AppendDumpTrailer(&p, 10);
  ASSERT_EQ(p.size(), 4u + 10u);
  EXPECT_EQ(p.substr(4, 2), std::string("\x0a\x00", 2));
  const uint64_t crc = Crc64(0, p.substr(0, 6));
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(static_cast<uint8_t>(p[6 + i]), (crc >> (8 * i)) & 0xff) << i;
  }
  uint16_t version = 0;
  const std::optional<std::string_view> body = OpenDumpPayload(p, kMaxRdbVersion, &version);
  ASSERT_TRUE(body.has_value());
  EXPECT_EQ(*body, "body");
  EXPECT_EQ(version, 10);
}

TEST(DumpPayloadTest, RefusesDamagedShortOrNewerPayloads) {
  std::string p = "some body";
  AppendDumpTrailer(&p, 11);
  EXPECT_TRUE(OpenDumpPayload(p).has_value());
  EXPECT_FALSE(OpenDumpPayload(p, 10).has_value());  // newer than allowed
  for (size_t i = 0; i < p.size(); ++i) {
    std::string damaged = p;
    damaged[i] ^= 0x20;
    EXPECT_FALSE(OpenDumpPayload(damaged).has_value()) << i;
  }
  EXPECT_FALSE(OpenDumpPayload("").has_value());
  EXPECT_FALSE(OpenDumpPayload("123456789").has_value());
  std::string empty_body;
  AppendDumpTrailer(&empty_body);
  ASSERT_TRUE(OpenDumpPayload(empty_body).has_value());
  EXPECT_TRUE(OpenDumpPayload(empty_body)->empty());
  std::string twelve;
  AppendDumpTrailer(&twelve, 12);
  EXPECT_FALSE(OpenDumpPayload(twelve).has_value());
}

TEST(RdbStringTest, LengthsRoundTripInEveryWidth) {
  for (uint64_t n :
       {0ULL, 1ULL, 63ULL, 64ULL, 16383ULL, 16384ULL, 0xffffffffULL, 0x100000000ULL, ~0ULL}) {
    std::string out;
    AppendRdbLength(&out, n);
    RdbReader r(out);
    uint64_t back = 0;
    ASSERT_TRUE(r.ReadLength(&back)) << n;
    EXPECT_EQ(back, n);
    EXPECT_EQ(r.remaining(), 0u);
  }
}

TEST(RdbStringTest, StringsRoundTrip) {
  for (size_t len : {0u, 5u, 63u, 64u, 20000u}) {
    const std::string s(len, 'q');
    std::string out;
    AppendRdbString(&out, s);
    RdbReader r(out);
    std::string back;
    ASSERT_TRUE(r.ReadString(&back));
    EXPECT_EQ(back, s);
  }
}

TEST(RdbStringTest, ReadsIntegerEncodedStrings) {
  struct Case {
    std::string bytes;
    std::string text;
  };
  const Case cases[] = {{std::string("\xc0\x05", 2), "5"},
                        {std::string("\xc0\xff", 2), "-1"},
                        {std::string("\xc1\x39\x30", 3), "12345"},
                        {std::string("\xc2\x00\x00\x00\x80", 5), "-2147483648"}};
  for (const Case& c : cases) {
    RdbReader r(c.bytes);
    std::string s;
    ASSERT_TRUE(r.ReadString(&s));
    EXPECT_EQ(s, c.text);
  }
}

TEST(RdbStringTest, RefusesTruncatedAndUnknownForms) {
  for (std::string bad : {std::string("\x05"
                                      "ab"),
                          std::string("\x40"), std::string("\x80\x00"), std::string("\x82"),
                          std::string("\xc4"), std::string("\xc1\x01"),
                          std::string("\xc3\x05\x10"
                                      "abc")}) {
    RdbReader r(bad);
    std::string s;
    EXPECT_FALSE(r.ReadString(&s)) << bad.size();
  }
}

TEST(RdbStringTest, LzfDecompressesLiteralsAndBackReferences) {
  std::string out;
  // "abc" literally, then 6 bytes copied from distance 3: "abcabcabc".
  ASSERT_TRUE(LzfDecompress(std::string("\x02"
                                        "abc"
                                        "\x80\x02",
                                        6),
                            9, &out));
  EXPECT_EQ(out, "abcabcabc");
  // Overlapping run: "a" then 7 + 2 copies at distance 1.
  ASSERT_TRUE(LzfDecompress(std::string("\x00"
                                        "a"
                                        "\xe0\x00\x00",
                                        5),
                            10, &out));
  EXPECT_EQ(out, std::string(10, 'a'));
  EXPECT_FALSE(LzfDecompress(std::string("\x02"
                                         "abc",
                                         4),
                             5, &out));  // too short
  EXPECT_FALSE(LzfDecompress(std::string("\x02"
                                         "abc",
                                         4),
                             2, &out));                              // too long
  EXPECT_FALSE(LzfDecompress(std::string("\x20\x05", 2), 3, &out));  // before the start
  EXPECT_FALSE(LzfDecompress(std::string("\x05"
                                         "ab",
                                         3),
                             6, &out));  // truncated run
  EXPECT_FALSE(LzfDecompress(std::string("\x00"
                                         "a"
                                         "\xe0",
                                         3),
                             12, &out));  // truncated ref
}

// A payload FUNCTION DUMP wrote on Redis 7.0: its library code is LZF-compressed.
constexpr std::string_view kRedisLzfPayload =
    "f5c3404a40681f23216c7561206e616d653d6c7a660a72656469732e72656769737465725f6675086e6374696f6e"
    "282761200002272c20e0001008292072657475726e206019e01300052720656e64290a00bdf827eeaaf8e72c";

TEST(DumpPayloadTest, DecodesRedisWrittenFunctionPayloads) {
  std::vector<std::string> codes;
  std::string error;
  ASSERT_TRUE(DecodeFunctionsPayload(FromHex(kRedisLzfPayload), &codes, &error)) << error;
  ASSERT_EQ(codes.size(), 1u);
  EXPECT_EQ(codes[0],
            "#!lua name=lzf\nredis.register_function('aaaa', function() return "
            "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' end)");
}

TEST(DumpPayloadTest, FunctionsPayloadRoundTrips) {
  const std::string big(100000, 'x');
  const std::string payload = EncodeFunctionsPayload({"#!lua name=a\n", big, ""});
  std::vector<std::string> codes;
  std::string error;
  ASSERT_TRUE(DecodeFunctionsPayload(payload, &codes, &error)) << error;
  EXPECT_EQ(codes, (std::vector<std::string>{"#!lua name=a\n", big, ""}));
  ASSERT_TRUE(DecodeFunctionsPayload(EncodeFunctionsPayload({}), &codes, &error));
  EXPECT_TRUE(codes.empty());
}

TEST(DumpPayloadTest, FunctionsPayloadErrorsNameTheProblem) {
  auto decode = [](std::string body) {
    AppendDumpTrailer(&body);
    std::vector<std::string> codes;
    std::string error;
    EXPECT_FALSE(DecodeFunctionsPayload(body, &codes, &error));
    return error;
  };
  EXPECT_EQ(decode(std::string("\x00\x01x", 3)), "ERR given type is not a function");
  EXPECT_EQ(decode("\xf6\x01x"), "ERR Pre-GA function format not supported");
  EXPECT_EQ(decode("\xf5"), "ERR Failed loading library payload");
  EXPECT_EQ(decode("\xf5\x09x"), "ERR Failed loading library payload");
  std::vector<std::string> codes;
  std::string error;
  EXPECT_FALSE(DecodeFunctionsPayload("not a payload", &codes, &error));
  EXPECT_EQ(error, "ERR DUMP payload version or checksum are wrong");
}

}  // namespace
}  // namespace sluice::persistence
