#include "storage/types/intset.h"

#include <cstdint>
#include <limits>
#include <random>
#include <set>
#include <vector>

#include "absl/random/random.h"
#include "gtest/gtest.h"

namespace sluice::storage {
namespace {

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

std::vector<int64_t> Members(const IntSet& s) {
  std::vector<int64_t> out;
  for (size_t i = 0; i < s.size(); ++i) out.push_back(s.At(i));
  return out;
}

TEST(IntSetTest, Empty) {
  IntSet s;
  EXPECT_EQ(s.size(), 0u);
  EXPECT_EQ(s.width(), 2u);
  EXPECT_EQ(s.AllocatedBytes(), 0u);
  EXPECT_FALSE(s.Contains(0));
  EXPECT_FALSE(s.Contains(kMin));
  EXPECT_FALSE(s.Erase(0));
}

TEST(IntSetTest, OneElement) {
  IntSet s;
  EXPECT_TRUE(s.Insert(5));
  EXPECT_FALSE(s.Insert(5));
  EXPECT_EQ(s.size(), 1u);
  EXPECT_TRUE(s.Contains(5));
  absl::BitGen gen;
  EXPECT_EQ(s.Random(gen), 5);
  EXPECT_TRUE(s.Erase(5));
  EXPECT_FALSE(s.Erase(5));
  EXPECT_EQ(s.AllocatedBytes(), 0u);
}

TEST(IntSetTest, WidensAtEachBoundary) {
  IntSet s;
  s.Insert(32767);
  s.Insert(-32768);
  EXPECT_EQ(s.width(), 2u);
  s.Insert(32768);
  EXPECT_EQ(s.width(), 4u);
  s.Insert(-2147483648LL);
  s.Insert(2147483647LL);
  EXPECT_EQ(s.width(), 4u);
  s.Insert(-2147483649LL);  // a new minimum widens and goes first
  EXPECT_EQ(s.width(), 8u);
  s.Insert(kMax);
  s.Insert(kMin);
  EXPECT_EQ(Members(s), (std::vector<int64_t>{kMin, -2147483649LL, -2147483648LL, -32768, 32767,
                                              32768, 2147483647LL, kMax}));
  EXPECT_TRUE(s.Contains(kMin));
  EXPECT_TRUE(s.Contains(kMax));
  EXPECT_FALSE(s.Contains(kMax - 1));
  // Erasing the wide members does not narrow.
  EXPECT_TRUE(s.Erase(kMin));
  EXPECT_TRUE(s.Erase(kMax));
  EXPECT_TRUE(s.Erase(-2147483649LL));
  EXPECT_EQ(s.width(), 8u);
  EXPECT_EQ(s.size(), 5u);
}

TEST(IntSetTest, WideningFromAPositiveMember) {
  IntSet s;
  s.Insert(1);
  s.Insert(-1);
  s.Insert(kMax);
  EXPECT_EQ(Members(s), (std::vector<int64_t>{-1, 1, kMax}));
  IntSet t;
  t.Insert(1);
  t.Insert(kMin);
  EXPECT_EQ(Members(t), (std::vector<int64_t>{kMin, 1}));
}

TEST(IntSetTest, LookupOfWiderValueInNarrowSet) {
  IntSet s;
  for (int i = 0; i < 100; ++i) s.Insert(i);
  EXPECT_FALSE(s.Contains(int64_t{1} << 40));
  EXPECT_FALSE(s.Erase(int64_t{1} << 40));
  EXPECT_FALSE(s.Contains(65536));  // would truncate to 0 at width 2
  EXPECT_EQ(s.width(), 2u);
}

TEST(IntSetTest, RandomCoversAllMembers) {
  IntSet s;
  for (int i = 0; i < 10; ++i) s.Insert(i * 1000);
  absl::BitGen gen;
  std::set<int64_t> seen;
  for (int i = 0; i < 1000; ++i) seen.insert(s.Random(gen));
  EXPECT_EQ(seen.size(), 10u);
}

TEST(IntSetTest, MemoryIsTheArray) {
  IntSet s;
  for (int i = 0; i < 1000; ++i) s.Insert(i);
  EXPECT_GE(s.AllocatedBytes(), 8u + 2000u);
  EXPECT_LT(s.AllocatedBytes(), 8u + 2000u + 64u);
  for (int i = 0; i < 990; ++i) s.Erase(i);
  EXPECT_LT(s.AllocatedBytes(), 128u);
}

TEST(IntSetTest, RandomAgainstStdSet) {
  std::mt19937_64 rng(7);
  IntSet s;
  std::set<int64_t> model;
  auto value = [&rng]() -> int64_t {
    switch (rng() % 4) {
      case 0:
        return static_cast<int64_t>(rng() % 200) - 100;
      case 1:
        return static_cast<int16_t>(rng());
      case 2:
        return static_cast<int32_t>(rng());
      default:
        return rng() % 2 == 0 ? static_cast<int64_t>(rng()) : (rng() % 2 ? kMin : kMax);
    }
  };
  for (int step = 0; step < 50000; ++step) {
    // Restart now and then so the narrow widths are exercised repeatedly.
    if (step % 5000 == 0) {
      s.Clear();
      model.clear();
    }
    const int64_t v = value();
    switch (rng() % 3) {
      case 0:
        ASSERT_EQ(s.Insert(v), model.insert(v).second);
        break;
      case 1:
        ASSERT_EQ(s.Erase(v), model.erase(v) == 1);
        break;
      default:
        ASSERT_EQ(s.Contains(v), model.count(v) == 1);
    }
    ASSERT_EQ(s.size(), model.size());
    if (step % 101 == 0) {
      ASSERT_EQ(Members(s), std::vector<int64_t>(model.begin(), model.end()));
    }
  }
}

}  // namespace
}  // namespace sluice::storage
