#include "protocol/arg_reader.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <random>
#include <string>

#include "protocol/errors.h"

namespace sluice::protocol {
namespace {

CommandArgs Args(std::initializer_list<std::string_view> items) {
  CommandArgs args;
  for (std::string_view s : items) args.Push(s);
  return args;
}

TEST(ParseInt64Test, AcceptsCanonicalDecimal) {
  EXPECT_EQ(ParseInt64("0"), 0);
  EXPECT_EQ(ParseInt64("7"), 7);
  EXPECT_EQ(ParseInt64("-1"), -1);
  EXPECT_EQ(ParseInt64("1234567890"), 1234567890);
  EXPECT_EQ(ParseInt64("9223372036854775807"), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(ParseInt64("-9223372036854775808"), std::numeric_limits<int64_t>::min());
}

TEST(ParseInt64Test, RejectsWhatRedisRejects) {
  for (std::string_view s : {"",
                             "-",
                             "+1",
                             " 1",
                             "1 ",
                             "01",
                             "00",
                             "-0",
                             "-01",
                             "1a",
                             "a",
                             "1.0",
                             "1e3",
                             "0x10",
                             "9223372036854775808",
                             "-9223372036854775809",
                             "18446744073709551616",
                             "99999999999999999999",
                             "123456789012345678901",
                             "--1"}) {
    EXPECT_EQ(ParseInt64(s), std::nullopt) << "'" << s << "'";
  }
  EXPECT_EQ(ParseInt64(std::string_view("1\0", 2)), std::nullopt);
}

TEST(ParseDoubleTest, AcceptsNumbers) {
  EXPECT_EQ(ParseDouble("1.5"), 1.5);
  EXPECT_EQ(ParseDouble("-1.5"), -1.5);
  EXPECT_EQ(ParseDouble("+1.5"), 1.5);
  EXPECT_EQ(ParseDouble("10"), 10.0);
  EXPECT_EQ(ParseDouble("1e3"), 1000.0);
  EXPECT_EQ(ParseDouble("5.0E-1"), 0.5);
  EXPECT_EQ(ParseDouble(".5"), 0.5);
  EXPECT_EQ(ParseDouble("5."), 5.0);
  EXPECT_EQ(ParseDouble("0x10"), 16.0);
  EXPECT_EQ(ParseDouble("1.7976931348623157e308"), std::numeric_limits<double>::max());
  // Subnormal values are not an underflow to zero.
  EXPECT_TRUE(ParseDouble("1e-310").has_value());
  EXPECT_EQ(ParseDouble(std::string(200, '1') + "e-190"), 1.1111111111111111e9);
}

TEST(ParseDoubleTest, AcceptsInfinity) {
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(ParseDouble("inf"), inf);
  EXPECT_EQ(ParseDouble("+inf"), inf);
  EXPECT_EQ(ParseDouble("-inf"), -inf);
  EXPECT_EQ(ParseDouble("INF"), inf);
  EXPECT_EQ(ParseDouble("-Infinity"), -inf);
}

TEST(ParseDoubleTest, RejectsWhatRedisRejects) {
  for (std::string_view s : {"", " 1", "1 ", "1a", "abc", "nan", "NaN", "-nan", "1e400", "-1e400",
                             "1e-400", "1.5.5", "e5", "--1", "\t1", "1,5"}) {
    EXPECT_EQ(ParseDouble(s), std::nullopt) << "'" << s << "'";
  }
  EXPECT_EQ(ParseDouble(std::string_view("1\0", 2)), std::nullopt);
}

TEST(ParseLongDoubleTest, FollowsStrtold) {
  EXPECT_EQ(ParseLongDouble("10.5"), 10.5L);
  EXPECT_EQ(ParseLongDouble("-inf"), -std::numeric_limits<long double>::infinity());
  EXPECT_EQ(ParseLongDouble("nan"), std::nullopt);
  EXPECT_EQ(ParseLongDouble(""), std::nullopt);
  EXPECT_EQ(ParseLongDouble(" 1"), std::nullopt);
  EXPECT_EQ(ParseLongDouble("1x"), std::nullopt);
  EXPECT_EQ(ParseLongDouble(std::string(5 * 1024, '1')), std::nullopt);
  if (std::numeric_limits<long double>::max_exponent10 > 400) {
    EXPECT_TRUE(ParseLongDouble("1e400").has_value());
  }
  EXPECT_EQ(ParseLongDouble("1e99999"), std::nullopt);
}

TEST(FormatInt64Test, Formats) {
  EXPECT_EQ(FormatInt64(0), "0");
  EXPECT_EQ(FormatInt64(-42), "-42");
  EXPECT_EQ(FormatInt64(std::numeric_limits<int64_t>::max()), "9223372036854775807");
  EXPECT_EQ(FormatInt64(std::numeric_limits<int64_t>::min()), "-9223372036854775808");
}

TEST(FormatLongDoubleTest, FormatsLikeIncrByFloat) {
  EXPECT_EQ(FormatLongDouble(10.5L), "10.5");
  EXPECT_EQ(FormatLongDouble(3.0L), "3");
  EXPECT_EQ(FormatLongDouble(-3.25L), "-3.25");
  EXPECT_EQ(FormatLongDouble(0.0L), "0");
  EXPECT_EQ(FormatLongDouble(-0.0L), "0");
  EXPECT_EQ(FormatLongDouble(*ParseLongDouble("5.0e3")), "5000");
  EXPECT_EQ(FormatLongDouble(*ParseLongDouble("3.0e3") + *ParseLongDouble("2.0e2")), "3200");
  EXPECT_EQ(FormatLongDouble(*ParseLongDouble("10.5") + *ParseLongDouble("0.1")), "10.6");
  EXPECT_EQ(FormatLongDouble(*ParseLongDouble("0.1")), "0.1");
  EXPECT_EQ(FormatLongDouble(1e20L), "100000000000000000000");
  EXPECT_EQ(FormatLongDouble(std::numeric_limits<long double>::infinity()), "inf");
  EXPECT_EQ(FormatLongDouble(-std::numeric_limits<long double>::infinity()), "-inf");
  if (std::numeric_limits<long double>::max_exponent10 > 400) {
    // %.17Lf prints every integer digit of the binary value, as Redis does.
    const std::string text = FormatLongDouble(*ParseLongDouble("1e400"));
    EXPECT_EQ(text.size(), 401u);
    EXPECT_EQ(text.substr(0, 19), "1000000000000000000");
  }
}

TEST(FormatDoubleTest, FormatsLikeRedis72) {
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(FormatDouble(0.0), "0");
  EXPECT_EQ(FormatDouble(-0.0), "-0");
  EXPECT_EQ(FormatDouble(3.0), "3");
  EXPECT_EQ(FormatDouble(-42.0), "-42");
  EXPECT_EQ(FormatDouble(1.5), "1.5");
  EXPECT_EQ(FormatDouble(0.1), "0.1");
  EXPECT_EQ(FormatDouble(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(FormatDouble(-3.14159), "-3.14159");
  EXPECT_EQ(FormatDouble(123456.789), "123456.789");
  EXPECT_EQ(FormatDouble(1234567.1), "1234567.1");
  EXPECT_EQ(FormatDouble(0.0001), "0.0001");
  EXPECT_EQ(FormatDouble(0.00012), "0.00012");
  EXPECT_EQ(FormatDouble(1e-7), "1e-7");
  EXPECT_EQ(FormatDouble(1.5e-6), "1.5e-6");
  EXPECT_EQ(FormatDouble(4611686018427387904.0), "4611686018427387904");  // 2^62
  EXPECT_EQ(FormatDouble(9223372036854775808.0), "9223372036854776000");  // 2^63
  EXPECT_EQ(FormatDouble(1e20), "1e+20");
  EXPECT_EQ(FormatDouble(-1.5e300), "-1.5e+300");
  EXPECT_EQ(FormatDouble(5e-324), "5e-324");
  EXPECT_EQ(FormatDouble(std::numeric_limits<double>::max()), "1.7976931348623157e+308");
  EXPECT_EQ(FormatDouble(-std::numeric_limits<double>::max()), "-1.7976931348623157e+308");
  EXPECT_EQ(FormatDouble(inf), "inf");
  EXPECT_EQ(FormatDouble(-inf), "-inf");
  EXPECT_EQ(FormatDouble(std::nan("")), "nan");
}

TEST(FormatDoubleTest, RoundTrips) {
  std::mt19937_64 rng(7);
  for (int i = 0; i < 100000; ++i) {
    uint64_t bits = rng();
    double v;
    std::memcpy(&v, &bits, sizeof(v));
    if (std::isnan(v)) continue;
    const std::string text = FormatDouble(v);
    ASSERT_LE(text.size(), kMaxDoubleChars);
    if (v == 0 || std::isinf(v)) continue;
    const std::optional<double> back = ParseDouble(text);
    ASSERT_TRUE(back.has_value()) << text;
    EXPECT_EQ(*back, v) << text;
  }
}

TEST(EqualsIgnoreCaseTest, ComparesAscii) {
  EXPECT_TRUE(EqualsIgnoreCase("ex", "EX"));
  EXPECT_TRUE(EqualsIgnoreCase("KeepTTL", "KEEPTTL"));
  EXPECT_TRUE(EqualsIgnoreCase("", ""));
  EXPECT_FALSE(EqualsIgnoreCase("ex", "exx"));
  EXPECT_FALSE(EqualsIgnoreCase("ex", "ey"));
  EXPECT_FALSE(EqualsIgnoreCase("[", "{"));  // 0x5b vs 0x7b: not letters.
  EXPECT_FALSE(EqualsIgnoreCase("\xc9", "\xe9"));
}

TEST(ArgReaderTest, ParsesOptionsStraightThrough) {
  const CommandArgs args = Args({"SET", "k", "v", "ex", "10", "NX", "GET"});
  ArgReader r(args, 3);
  int64_t ttl = 0;
  bool nx = false;
  bool get = false;
  while (r.HasNext()) {
    if (r.NextIs("EX")) {
      ttl = r.NextInt();
    } else if (r.NextIs("NX")) {
      nx = true;
    } else if (r.NextIs("GET")) {
      get = true;
    } else {
      r.Fail(errors::kSyntax);
    }
  }
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(ttl, 10);
  EXPECT_TRUE(nx);
  EXPECT_TRUE(get);
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_EQ(r.position(), 7u);
}

TEST(ArgReaderTest, FirstErrorWins) {
  const CommandArgs args = Args({"X", "abc", "1.5x", "7"});
  ArgReader r(args, 1);
  EXPECT_EQ(r.NextInt(), 0);
  EXPECT_EQ(r.NextDouble(), 0.0);
  r.Fail("ERR later");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.error(), errors::kNotInteger);
  // An error stops option loops, but explicit reads still work.
  EXPECT_FALSE(r.HasNext());
  EXPECT_EQ(r.NextInt(), 7);
  EXPECT_EQ(r.error(), errors::kNotInteger);
}

TEST(ArgReaderTest, CustomErrors) {
  const CommandArgs args = Args({"nope", "nan"});
  ArgReader r(args, 0);
  r.NextInt("ERR timeout is not an integer or out of range");
  EXPECT_EQ(r.error(), "ERR timeout is not an integer or out of range");

  ArgReader d(args, 1);
  EXPECT_EQ(d.NextDouble(), 0.0);
  EXPECT_EQ(d.error(), errors::kNotFloat);
}

TEST(ArgReaderTest, ReadingPastTheEndIsASyntaxError) {
  const CommandArgs args = Args({"GET"});
  ArgReader r(args, 1);
  EXPECT_FALSE(r.HasNext());
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_EQ(r.Next(), "");
  EXPECT_EQ(r.error(), errors::kSyntax);

  ArgReader i(args, 1);
  EXPECT_EQ(i.NextInt(), 0);
  EXPECT_EQ(i.error(), errors::kSyntax);

  ArgReader d(args, 5);
  EXPECT_EQ(d.remaining(), 0u);
  EXPECT_EQ(d.NextDouble(), 0.0);
  EXPECT_EQ(d.error(), errors::kSyntax);
}

TEST(ArgReaderTest, NextIsOnlyConsumesMatches) {
  const CommandArgs args = Args({"withscores", "LIMIT"});
  ArgReader r(args, 0);
  EXPECT_FALSE(r.NextIs("LIMIT"));
  EXPECT_TRUE(r.NextIs("WITHSCORES"));
  EXPECT_FALSE(r.NextIs("LIMITS"));
  EXPECT_TRUE(r.NextIs("limit"));
  EXPECT_FALSE(r.NextIs("limit"));
  EXPECT_TRUE(r.ok());
}

TEST(ArgReaderTest, NextReturnsArguments) {
  const CommandArgs args = Args({"a", "", "c"});
  ArgReader r(args, 0);
  EXPECT_EQ(r.Next(), "a");
  EXPECT_EQ(r.Next(), "");
  EXPECT_EQ(r.remaining(), 1u);
  EXPECT_EQ(r.Next(), "c");
  EXPECT_TRUE(r.ok());
}

TEST(ArgReaderTest, FailWithEmptyMessageStillFails) {
  const CommandArgs args = Args({"a"});
  ArgReader r(args, 0);
  r.Fail("");
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.error(), errors::kSyntax);
}

TEST(ArgReaderTest, ParsesDoubles) {
  const CommandArgs args = Args({"1.5", "-inf", "1e3"});
  ArgReader r(args, 0);
  EXPECT_EQ(r.NextDouble(), 1.5);
  EXPECT_EQ(r.NextDouble(), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(r.NextDouble(), 1000.0);
  EXPECT_TRUE(r.ok());
}

}  // namespace
}  // namespace sluice::protocol
