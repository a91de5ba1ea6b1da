#include "storage/string_ops.h"

#include <cmath>
#include <limits>
#include <string>

#include "gtest/gtest.h"

namespace sluice::storage {
namespace {

constexpr int64_t kNow = 1'700'000'000'000;
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

class StringOpsTest : public ::testing::Test {
 protected:
  std::string Get(std::string_view key) {
    Entry* e = shard_.Find(key, kNow);
    if (e == nullptr) return "<nil>";
    std::string scratch;
    return std::string(e->string_value(&scratch));
  }
  int64_t Ttl(std::string_view key) { return shard_.Find(key, kNow)->expire_at_ms(); }
  SetOutcome Set(std::string_view key, std::string_view value, SetOptions options = {}) {
    return SetString(shard_, key, value, options, kNow);
  }

  Shard shard_{0};
};

TEST_F(StringOpsTest, SetPlainOverwritesAndClearsTtl) {
  SetOptions ex;
  ex.expire_at_ms = kNow + 10000;
  EXPECT_TRUE(Set("k", "v1", ex).written);
  EXPECT_EQ(Ttl("k"), kNow + 10000);
  EXPECT_TRUE(Set("k", "v2").written);
  EXPECT_EQ(Get("k"), "v2");
  EXPECT_EQ(Ttl("k"), 0);
  EXPECT_EQ(shard_.expires_count(), 0u);
}

TEST_F(StringOpsTest, SetKeepTtl) {
  SetOptions ex;
  ex.expire_at_ms = kNow + 5000;
  Set("k", "v1", ex);
  SetOptions keep;
  keep.keep_ttl = true;
  Set("k", "v2", keep);
  EXPECT_EQ(Get("k"), "v2");
  EXPECT_EQ(Ttl("k"), kNow + 5000);
  Set("fresh", "v", keep);
  EXPECT_EQ(Ttl("fresh"), 0);
}

TEST_F(StringOpsTest, SetNxXx) {
  SetOptions nx;
  nx.condition = SetOptions::Condition::kIfAbsent;
  SetOptions xx;
  xx.condition = SetOptions::Condition::kIfPresent;
  EXPECT_FALSE(Set("k", "v", xx).written);
  EXPECT_EQ(Get("k"), "<nil>");
  EXPECT_TRUE(Set("k", "v", nx).written);
  EXPECT_FALSE(Set("k", "w", nx).written);
  EXPECT_EQ(Get("k"), "v");
  EXPECT_TRUE(Set("k", "x", xx).written);
  EXPECT_EQ(Get("k"), "x");
}

TEST_F(StringOpsTest, SetGetReturnsOldValue) {
  SetOptions get;
  get.return_old = true;
  SetOutcome out = Set("k", "v1", get);
  EXPECT_TRUE(out.written);
  EXPECT_FALSE(out.old_value.has_value());
  out = Set("k", "42", get);
  ASSERT_TRUE(out.old_value.has_value());
  EXPECT_EQ(*out.old_value, "v1");
  out = Set("k", "v3", get);
  EXPECT_EQ(*out.old_value, "42");
  // NX + GET (allowed since 7.0): returns the old value, writes nothing.
  get.condition = SetOptions::Condition::kIfAbsent;
  out = Set("k", "v4", get);
  EXPECT_FALSE(out.written);
  EXPECT_EQ(*out.old_value, "v3");
  EXPECT_EQ(Get("k"), "v3");
}

TEST_F(StringOpsTest, SetWithPastDeadlineLeavesNoKey) {
  Set("k", "v");
  SetOptions past;
  past.expire_at_ms = kNow - 1;
  past.return_old = true;
  SetOutcome out = Set("k", "new", past);
  EXPECT_TRUE(out.written);
  EXPECT_EQ(*out.old_value, "v");
  EXPECT_EQ(Get("k"), "<nil>");
  EXPECT_EQ(shard_.size(), 0u);
  past.expire_at_ms = kNow;  // a deadline equal to now is already due
  Set("k2", "v", past);
  EXPECT_EQ(shard_.size(), 0u);
}

TEST_F(StringOpsTest, SetStoresIntegersCompactly) {
  Set("n", "12345");
  EXPECT_TRUE(shard_.Find("n", kNow)->is_int());
  Set("n", "012345");
  EXPECT_FALSE(shard_.Find("n", kNow)->is_int());
  EXPECT_EQ(Get("n"), "012345");
}

TEST_F(StringOpsTest, IncrementBy) {
  auto r = IncrementBy(shard_, "c", 5, kNow);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value, 5);
  r = IncrementBy(shard_, "c", -7, kNow);
  EXPECT_EQ(r.value, -2);
  EXPECT_EQ(Get("c"), "-2");
  Set("s", "abc");
  EXPECT_EQ(IncrementBy(shard_, "s", 1, kNow).status, Status::kNotInteger);
  for (const char* bad : {"", " 1", "1 ", "01", "-0", "+1", "1.5", "9223372036854775808"}) {
    Set("bad", bad);
    EXPECT_EQ(IncrementBy(shard_, "bad", 1, kNow).status, Status::kNotInteger) << bad;
  }
  // A numeric string held in the growable encoding still counts.
  ASSERT_TRUE(AppendString(shard_, "app", "1", kNow).ok());
  ASSERT_TRUE(AppendString(shard_, "app", "2", kNow).ok());
  EXPECT_EQ(IncrementBy(shard_, "app", 1, kNow).value, 13);
}

TEST_F(StringOpsTest, IncrementByOverflowEdges) {
  Set("c", std::to_string(kMax));
  EXPECT_EQ(IncrementBy(shard_, "c", 1, kNow).status, Status::kOverflow);
  EXPECT_EQ(Get("c"), std::to_string(kMax));
  EXPECT_EQ(IncrementBy(shard_, "c", 0, kNow).value, kMax);
  EXPECT_EQ(IncrementBy(shard_, "c", kMin, kNow).value, -1);
  Set("d", std::to_string(kMin));
  EXPECT_EQ(IncrementBy(shard_, "d", -1, kNow).status, Status::kOverflow);
  EXPECT_EQ(IncrementBy(shard_, "d", kMax, kNow).value, -1);
  Set("e", "-1");
  EXPECT_EQ(IncrementBy(shard_, "e", kMin, kNow).status, Status::kOverflow);
  Set("f", "1");
  EXPECT_EQ(IncrementBy(shard_, "f", kMax, kNow).status, Status::kOverflow);
  EXPECT_EQ(IncrementBy(shard_, "g", kMin, kNow).value, kMin);
}

TEST_F(StringOpsTest, IncrementKeepsTtl) {
  SetOptions ex;
  ex.expire_at_ms = kNow + 9000;
  Set("c", "10", ex);
  EXPECT_EQ(IncrementBy(shard_, "c", 1, kNow).value, 11);
  EXPECT_EQ(Ttl("c"), kNow + 9000);
  ASSERT_TRUE(IncrementByFloat(shard_, "c", 0.5L, kNow).ok());
  EXPECT_EQ(Ttl("c"), kNow + 9000);
  EXPECT_EQ(AppendString(shard_, "c", "0", kNow).value, 5u);
  EXPECT_EQ(Ttl("c"), kNow + 9000);
}

TEST_F(StringOpsTest, IncrementByFloatFormatsLikeRedis) {
  auto r = IncrementByFloat(shard_, "f", 10.5L, kNow);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value, "10.5");
  r = IncrementByFloat(shard_, "f", 0.1L, kNow);
  EXPECT_EQ(r.value, "10.6");
  EXPECT_EQ(Get("f"), "10.6");
  r = IncrementByFloat(shard_, "f", -5.6L, kNow);
  EXPECT_EQ(r.value, "5");
  EXPECT_TRUE(shard_.Find("f", kNow)->is_int());
  Set("g", "5.0e3");
  EXPECT_EQ(IncrementByFloat(shard_, "g", 200.0L, kNow).value, "5200");
  Set("h", "3");
  EXPECT_EQ(IncrementByFloat(shard_, "h", -3.0L, kNow).value, "0");
  EXPECT_EQ(IncrementByFloat(shard_, "h", -0.0L, kNow).value, "0");
  EXPECT_EQ(IncrementByFloat(shard_, "i", -1.25L, kNow).value, "-1.25");
  EXPECT_EQ(IncrementByFloat(shard_, "j", 1e20L, kNow).value, "100000000000000000000");
}

TEST_F(StringOpsTest, IncrementByFloatErrors) {
  Set("s", "abc");
  EXPECT_EQ(IncrementByFloat(shard_, "s", 1.0L, kNow).status, Status::kNotFloat);
  for (const char* bad : {"", " 1", "1 ", "nan", "1.5x", "1e99999"}) {
    Set("bad", bad);
    EXPECT_EQ(IncrementByFloat(shard_, "bad", 1.0L, kNow).status, Status::kNotFloat) << bad;
  }
  Set("x", "1");
  const long double inf = std::numeric_limits<long double>::infinity();
  EXPECT_EQ(IncrementByFloat(shard_, "x", inf, kNow).status, Status::kNanOrInf);
  EXPECT_EQ(IncrementByFloat(shard_, "x", std::nanl(""), kNow).status, Status::kNanOrInf);
  Set("inf", "inf");  // parses, but any increment leaves it infinite
  EXPECT_EQ(IncrementByFloat(shard_, "inf", 1.0L, kNow).status, Status::kNanOrInf);
  EXPECT_EQ(Get("x"), "1");
}

TEST_F(StringOpsTest, Append) {
  auto r = AppendString(shard_, "a", "Hello", kNow);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value, 5u);
  r = AppendString(shard_, "a", " World", kNow);
  EXPECT_EQ(r.value, 11u);
  EXPECT_EQ(Get("a"), "Hello World");
  EXPECT_EQ(AppendString(shard_, "a", "", kNow).value, 11u);
  Set("n", "12");
  EXPECT_EQ(AppendString(shard_, "n", "3", kNow).value, 3u);
  EXPECT_EQ(Get("n"), "123");
}

TEST_F(StringOpsTest, AppendTooLarge) {
  Shard& s = shard_;
  ASSERT_TRUE(SetRange(s, "big", kMaxStringLength - 2, "ab", kNow).ok());
  EXPECT_EQ(AppendString(s, "big", "c", kNow).status, Status::kTooLarge);
  EXPECT_EQ(shard_.Find("big", kNow)->string_length(), kMaxStringLength);
  shard_.Erase("big", kNow);
}

TEST_F(StringOpsTest, SetRange) {
  Set("k", "Hello World");
  auto r = SetRange(shard_, "k", 6, "Redis", kNow);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value, 11u);
  EXPECT_EQ(Get("k"), "Hello Redis");
  r = SetRange(shard_, "pad", 5, "x", kNow);
  EXPECT_EQ(r.value, 6u);
  EXPECT_EQ(Get("pad"), std::string("\0\0\0\0\0x", 6));
  r = SetRange(shard_, "k", 13, "!", kNow);
  EXPECT_EQ(Get("k"), std::string("Hello Redis\0\0!", 14));
}

TEST_F(StringOpsTest, SetRangeEmptyBytesAndLimits) {
  auto r = SetRange(shard_, "absent", 100, "", kNow);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value, 0u);
  EXPECT_EQ(shard_.size(), 0u);  // never creates the key
  // Empty bytes never trip the size limit.
  EXPECT_TRUE(SetRange(shard_, "absent", kMaxStringLength + 10, "", kNow).ok());
  Set("k", "abc");
  r = SetRange(shard_, "k", 1000, "", kNow);
  EXPECT_EQ(r.value, 3u);
  EXPECT_EQ(Get("k"), "abc");
  EXPECT_EQ(SetRange(shard_, "k", kMaxStringLength, "x", kNow).status, Status::kTooLarge);
  EXPECT_EQ(SetRange(shard_, "new", kMaxStringLength - 1, "xy", kNow).status, Status::kTooLarge);
  EXPECT_EQ(shard_.Find("new", kNow), nullptr);
  EXPECT_EQ(SetRange(shard_, "k", static_cast<size_t>(-1), "x", kNow).status, Status::kTooLarge);
  Set("n", "12");
  EXPECT_EQ(SetRange(shard_, "n", 1, "9", kNow).value, 2u);
  EXPECT_EQ(Get("n"), "19");
}

}  // namespace
}  // namespace sluice::storage
