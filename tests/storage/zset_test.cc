#include "storage/types/zset.h"

#include <cmath>
#include <cstdint>
#include <iterator>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/random/random.h"
#include "gtest/gtest.h"

namespace sluice::storage {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

using Pairs = std::vector<std::pair<double, std::string>>;

Pairs Forward(const ZSet& z) {
  Pairs out;
  for (auto it = z.begin(); it.valid(); it.Next()) out.emplace_back(it.score(), it.member());
  return out;
}

Pairs Backward(const ZSet& z) {
  Pairs out;
  auto it = z.end();
  for (it.Prev(); it.valid(); it.Prev()) out.emplace_back(it.score(), it.member());
  return {out.rbegin(), out.rend()};
}

size_t RankOf(const ZSet& z, std::string_view member) {
  size_t rank = SIZE_MAX;
  EXPECT_TRUE(z.Rank(member, &rank)) << member;
  return rank;
}

TEST(ZSetTest, Empty) {
  ZSet z;
  EXPECT_EQ(z.size(), 0u);
  EXPECT_FALSE(z.begin().valid());
  EXPECT_TRUE(z.begin() == z.end());
  EXPECT_FALSE(z.AtRank(0).valid());
  size_t rank = 7;
  EXPECT_FALSE(z.SeekScore(0, false, &rank).valid());
  EXPECT_EQ(rank, 0u);
  double score;
  EXPECT_FALSE(z.Score("a", &score));
  EXPECT_FALSE(z.Rank("a", &rank));
  EXPECT_FALSE(z.Erase("a"));
  EXPECT_EQ(z.AllocatedBytes(), 0u);
  EXPECT_TRUE(z.CheckConsistency());
}

TEST(ZSetTest, OneMember) {
  ZSet z;
  EXPECT_TRUE(z.Insert("a", 1.5));
  EXPECT_FALSE(z.Insert("a", 1.5));
  double score;
  ASSERT_TRUE(z.Score("a", &score));
  EXPECT_EQ(score, 1.5);
  EXPECT_EQ(RankOf(z, "a"), 0u);
  EXPECT_EQ(z.AtRank(0).member(), "a");
  EXPECT_FALSE(z.AtRank(1).valid());
  auto last = z.end();
  last.Prev();
  EXPECT_EQ(last.member(), "a");
  last.Prev();
  EXPECT_FALSE(last.valid());
  EXPECT_TRUE(z.Erase("a"));
  EXPECT_TRUE(z.empty());
  EXPECT_EQ(z.AllocatedBytes(), 0u);
  EXPECT_TRUE(z.CheckConsistency());
}

TEST(ZSetTest, EqualScoresOrderByMemberBytes) {
  ZSet z;
  for (const char* m : {"b", "a", "\xff", "ab", "", "B"}) z.Insert(m, 1);
  EXPECT_EQ(Forward(z), (Pairs{{1, ""}, {1, "B"}, {1, "a"}, {1, "ab"}, {1, "b"}, {1, "\xff"}}));
  EXPECT_EQ(RankOf(z, "\xff"), 5u);
  EXPECT_EQ(RankOf(z, ""), 0u);
  // Lex seeks: [a, (ab, (b.
  size_t rank;
  EXPECT_EQ(z.SeekLex("a", false, &rank).member(), "a");
  EXPECT_EQ(rank, 2u);
  EXPECT_EQ(z.SeekLex("a", true, &rank).member(), "ab");
  EXPECT_EQ(z.SeekLex("b", true, &rank).member(), "\xff");
  EXPECT_EQ(z.SeekLex("", false, &rank).member(), "");  // "-"
  EXPECT_TRUE(z.SeekLex("\xff", true, &rank) == z.end());
  EXPECT_EQ(rank, 6u);
}

TEST(ZSetTest, NegativeZeroEqualsZeroAndInfinities) {
  ZSet z;
  z.Insert("pos", 0.0);
  z.Insert("neg", -0.0);
  z.Insert("top", kInf);
  z.Insert("bottom", -kInf);
  z.Insert("max", std::numeric_limits<double>::max());
  EXPECT_EQ(Forward(z), (Pairs{{-kInf, "bottom"},
                               {0.0, "neg"},
                               {0.0, "pos"},
                               {std::numeric_limits<double>::max(), "max"},
                               {kInf, "top"}}));
  double score;
  ASSERT_TRUE(z.Score("neg", &score));
  EXPECT_TRUE(std::signbit(score));  // the stored score keeps its sign
  // Updating -0.0 to 0.0 is no change.
  EXPECT_FALSE(z.Insert("neg", 0.0));
  ASSERT_TRUE(z.Score("neg", &score));
  EXPECT_TRUE(std::signbit(score));
  size_t rank;
  EXPECT_EQ(z.SeekScore(-0.0, false, &rank).member(), "neg");
  EXPECT_EQ(rank, 1u);
  EXPECT_EQ(z.SeekScore(0.0, true, &rank).member(), "max");
  EXPECT_EQ(z.SeekScore(-kInf, false, &rank).member(), "bottom");
  EXPECT_EQ(z.SeekScore(-kInf, true, &rank).member(), "neg");
  EXPECT_EQ(z.SeekScore(kInf, false, &rank).member(), "top");
  EXPECT_TRUE(z.SeekScore(kInf, true, &rank) == z.end());
  EXPECT_EQ(rank, 5u);
  // ZCOUNT z (0 +inf: ranks of the two bounds.
  size_t lo, hi;
  z.SeekScore(0, true, &lo);
  z.SeekScore(kInf, true, &hi);
  EXPECT_EQ(hi - lo, 2u);
}

TEST(ZSetTest, ScoreUpdatesMoveTheMember) {
  ZSet z;
  for (int i = 0; i < 1000; ++i) z.Insert("m" + std::to_string(i), i);
  EXPECT_EQ(RankOf(z, "m999"), 999u);
  EXPECT_FALSE(z.Insert("m999", -1));
  EXPECT_EQ(RankOf(z, "m999"), 0u);
  EXPECT_EQ(RankOf(z, "m0"), 1u);
  EXPECT_FALSE(z.Insert("m0", 5000));
  EXPECT_EQ(RankOf(z, "m0"), 999u);
  EXPECT_EQ(z.size(), 1000u);
  EXPECT_TRUE(z.CheckConsistency());
}

TEST(ZSetTest, AppendsFillLeavesAndErasesMergeThem) {
  ZSet z;
  const int n = 100000;
  for (int i = 0; i < n; ++i) z.Insert("member:" + std::to_string(i), i);
  ASSERT_TRUE(z.CheckConsistency());
  // Leaves are full: the tree costs a little over 8 bytes per member.
  const size_t full = z.AllocatedBytes();
  for (int i = 0; i < n; i += 997) {
    EXPECT_EQ(RankOf(z, "member:" + std::to_string(i)), static_cast<size_t>(i));
    EXPECT_EQ(z.AtRank(i).member(), "member:" + std::to_string(i));
  }
  // Erase 90% in a scattered order; the tree shrinks with it.
  for (int i = 0; i < n; ++i) {
    if (i % 10 != 0) {
      ASSERT_TRUE(z.Erase("member:" + std::to_string(i)));
    }
  }
  ASSERT_TRUE(z.CheckConsistency());
  while (z.RehashStep()) {
  }
  EXPECT_EQ(z.size(), static_cast<size_t>(n / 10));
  EXPECT_LT(z.AllocatedBytes(), full / 5);
  for (int i = 0; i < n; i += 10) {
    ASSERT_EQ(RankOf(z, "member:" + std::to_string(i)), static_cast<size_t>(i / 10));
  }
  z.Clear();
  EXPECT_EQ(z.AllocatedBytes(), 0u);
  EXPECT_TRUE(z.CheckConsistency());
}

TEST(ZSetTest, ScanAndRandomCoverEveryMember) {
  ZSet z;
  std::map<std::string, double> want;
  for (int i = 0; i < 500; ++i) {
    want["m" + std::to_string(i)] = i * 0.5;
    z.Insert("m" + std::to_string(i), i * 0.5);
  }
  std::map<std::string, double> scanned;
  uint64_t cursor = 0;
  do {
    cursor = z.Scan(cursor, [&](std::string_view m, double s) { scanned.emplace(m, s); });
  } while (cursor != 0);
  EXPECT_EQ(scanned, want);
  absl::BitGen gen;
  std::set<std::string> seen;
  for (int i = 0; i < 20000; ++i) seen.emplace(z.Random(gen).member());
  EXPECT_EQ(seen.size(), want.size());
}

TEST(ZSetTest, LargeMembers) {
  ZSet z;
  const std::string big(100 * 1024, 'b');
  z.Insert(big, 1);
  z.Insert(big + "x", 1);
  z.Insert("a", 1);
  EXPECT_EQ(RankOf(z, big), 1u);
  EXPECT_EQ(RankOf(z, big + "x"), 2u);
  EXPECT_EQ(z.AtRank(1).member(), big);
  EXPECT_GE(z.AllocatedBytes(), 2 * big.size());
  EXPECT_TRUE(z.Erase(big));
  EXPECT_TRUE(z.CheckConsistency());
}

TEST(ZSetTest, DescendingInsertsAndFullErase) {
  ZSet z;
  for (int i = 20000; i > 0; --i) z.Insert(std::to_string(i), i);
  ASSERT_TRUE(z.CheckConsistency());
  EXPECT_EQ(z.begin().member(), "1");
  for (int i = 1; i <= 20000; ++i) ASSERT_TRUE(z.Erase(std::to_string(i)));
  EXPECT_TRUE(z.empty());
  EXPECT_EQ(z.AllocatedBytes(), 0u);
  EXPECT_TRUE(z.CheckConsistency());
}

// Random operations against a std::map (member -> score) and a std::set of
// (score, member) pairs.
TEST(ZSetTest, RandomAgainstStdSet) {
  std::mt19937_64 rng(3);
  ZSet z;
  std::map<std::string, double> scores;
  std::set<std::pair<double, std::string>> order;
  auto random_score = [&rng]() -> double {
    switch (rng() % 8) {
      case 0:
        return rng() % 2 ? kInf : -kInf;
      case 1:
        return rng() % 2 ? 0.0 : -0.0;
      case 2:
        return std::ldexp(static_cast<double>(rng() % 1000), -static_cast<int>(rng() % 8));
      default:
        return static_cast<double>(rng() % 50);  // many ties
    }
  };
  auto model_rank = [&](double score, bool exclusive) {
    auto it = exclusive ? order.upper_bound({score, std::string(1000, '\xff')})
                        : order.lower_bound({score, std::string()});
    // upper_bound on (score, max string) is the first with a larger score.
    return static_cast<size_t>(std::distance(order.begin(), it));
  };
  for (int step = 0; step < 100000; ++step) {
    const bool growing = (step / 10000) % 2 == 0;
    const std::string m = "m" + std::to_string(rng() % 4000) + std::string(rng() % 3, 'x');
    const uint64_t op = rng() % 20;
    if (op < (growing ? 10u : 5u)) {
      const double s = random_score();
      auto it = scores.find(m);
      const bool added = it == scores.end();
      if (!added && it->second != s) {
        order.erase({it->second, m});
        order.insert({s, m});
        it->second = s;
      } else if (added) {
        scores[m] = s;
        order.insert({s, m});
      }
      ASSERT_EQ(z.Insert(m, s), added);
    } else if (op < 15) {
      auto it = scores.find(m);
      ASSERT_EQ(z.Erase(m), it != scores.end());
      if (it != scores.end()) {
        order.erase({it->second, m});
        scores.erase(it);
      }
    } else if (op < 17) {
      double s;
      auto it = scores.find(m);
      ASSERT_EQ(z.Score(m, &s), it != scores.end());
      if (it != scores.end()) {
        ASSERT_EQ(s, it->second);
        ASSERT_EQ(std::signbit(s), std::signbit(it->second));
        size_t rank;
        ASSERT_TRUE(z.Rank(m, &rank));
        ASSERT_EQ(rank, std::distance(order.begin(), order.find({it->second, m})));
      }
    } else if (op < 18) {
      if (!order.empty()) {
        const size_t r = rng() % order.size();
        auto want = std::next(order.begin(), static_cast<std::ptrdiff_t>(r));
        auto got = z.AtRank(r);
        ASSERT_TRUE(got.valid());
        ASSERT_EQ(got.member(), want->second);
        ASSERT_EQ(got.score(), want->first);
      }
    } else {
      const double bound = random_score();
      const bool exclusive = rng() % 2;
      size_t rank;
      auto it = z.SeekScore(bound, exclusive, &rank);
      const size_t want = model_rank(bound, exclusive);
      ASSERT_EQ(rank, want) << bound << " " << exclusive;
      if (want == order.size()) {
        ASSERT_TRUE(it == z.end());
      } else {
        ASSERT_EQ(it.member(), std::next(order.begin(), static_cast<std::ptrdiff_t>(want))->second);
      }
    }
    ASSERT_EQ(z.size(), scores.size());
    if (step % 4999 == 0) {
      ASSERT_TRUE(z.CheckConsistency());
      Pairs want(order.begin(), order.end());
      ASSERT_EQ(Forward(z), want);
      ASSERT_EQ(Backward(z), want);
    }
  }
  ASSERT_TRUE(z.CheckConsistency());
}

TEST(ZSetTest, RandomLexRangesWithEqualScores) {
  std::mt19937_64 rng(4);
  ZSet z;
  std::set<std::string> model;
  for (int i = 0; i < 3000; ++i) {
    std::string m(1 + rng() % 4, 'a');
    for (char& c : m) c = static_cast<char>('a' + rng() % 4);
    z.Insert(m, 0);
    model.insert(m);
  }
  for (int i = 0; i < 2000; ++i) {
    std::string bound(rng() % 4, 'a');
    for (char& c : bound) c = static_cast<char>('a' + rng() % 5);
    const bool exclusive = rng() % 2;
    size_t rank;
    auto it = z.SeekLex(bound, exclusive, &rank);
    auto want = exclusive ? model.upper_bound(bound) : model.lower_bound(bound);
    ASSERT_EQ(rank, static_cast<size_t>(std::distance(model.begin(), want)));
    if (want == model.end()) {
      ASSERT_TRUE(it == z.end());
    } else {
      ASSERT_EQ(it.member(), *want);
    }
  }
}

}  // namespace
}  // namespace sluice::storage
