#include "storage/zset_algebra.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "storage/set_ops.h"
#include "storage/zset_ops.h"

namespace sluice::storage {
namespace {

constexpr int64_t kNow = 1'700'000'000'000;
constexpr double kInf = std::numeric_limits<double>::infinity();

using Items = std::vector<ScoredMember>;

class ZSetAlgebraTest : public ::testing::Test {
 protected:
  void AddZ(std::string_view key, const std::vector<std::pair<double, std::string>>& pairs) {
    std::vector<ZAddInput> in;
    for (const auto& [s, m] : pairs) in.push_back({s, m});
    ASSERT_TRUE(ZSetAdd(shard_, key, in, {}, ZSetLimits{}, kNow).ok());
  }
  void AddSet(std::string_view key, const std::vector<std::string_view>& members) {
    ASSERT_TRUE(SetAdd(shard_, key, members, SetLimits{}, kNow).ok());
  }
  const Entry* In(std::string_view key) {
    Result<const Entry*> r = FindAlgebraInput(shard_, key, kNow);
    EXPECT_TRUE(r.ok());
    return r.value;
  }

  Shard shard_{0};
};

TEST_F(ZSetAlgebraTest, UnionWeightsAndAggregates) {
  AddZ("a", {{1, "x"}, {2, "y"}, {3, "z"}});
  AddZ("b", {{10, "y"}, {20, "z"}, {30, "w"}});
  const std::vector<ZAlgebraInput> in{{In("a"), 1}, {In("b"), 1}};
  EXPECT_EQ(ZSetUnion(in, ZAggregate::kSum), (Items{{"x", 1}, {"y", 12}, {"z", 23}, {"w", 30}}));
  EXPECT_EQ(ZSetUnion(in, ZAggregate::kMin), (Items{{"x", 1}, {"y", 2}, {"z", 3}, {"w", 30}}));
  EXPECT_EQ(ZSetUnion(in, ZAggregate::kMax), (Items{{"x", 1}, {"y", 10}, {"z", 20}, {"w", 30}}));
  const std::vector<ZAlgebraInput> weighted{{In("a"), 2}, {nullptr, 5}, {In("b"), 0.5}};
  EXPECT_EQ(ZSetUnion(weighted, ZAggregate::kSum),
            (Items{{"x", 2}, {"y", 9}, {"w", 15}, {"z", 16}}));
}

TEST_F(ZSetAlgebraTest, InfinitiesNeverGiveNaN) {
  AddZ("a", {{kInf, "x"}, {1, "y"}});
  AddZ("b", {{-kInf, "x"}, {2, "y"}});
  // inf + -inf sums to 0; inf * 0 weighs 0.
  EXPECT_EQ(ZSetUnion(std::vector<ZAlgebraInput>{{In("a"), 1}, {In("b"), 1}}, ZAggregate::kSum),
            (Items{{"x", 0}, {"y", 3}}));
  EXPECT_EQ(
      ZSetIntersection(std::vector<ZAlgebraInput>{{In("a"), 0}, {In("b"), 1}}, ZAggregate::kSum),
      (Items{{"x", -kInf}, {"y", 2}}));
}

TEST_F(ZSetAlgebraTest, SetsScoreOneAndAbsentKeysAreEmpty) {
  AddZ("z", {{5, "a"}, {7, "b"}});
  AddSet("s", {"b", "c", "12"});
  const std::vector<ZAlgebraInput> in{{In("z"), 1}, {In("s"), 1}};
  EXPECT_EQ(ZSetIntersection(in, ZAggregate::kSum), (Items{{"b", 8}}));
  EXPECT_EQ(ZSetUnion(in, ZAggregate::kMax), (Items{{"12", 1}, {"c", 1}, {"a", 5}, {"b", 7}}));
  const std::vector<ZAlgebraInput> with_absent{{In("z"), 1}, {In("nokey"), 1}};
  EXPECT_TRUE(ZSetIntersection(with_absent, ZAggregate::kSum).empty());
  const std::vector<const Entry*> diff{In("s"), In("z")};
  EXPECT_EQ(ZSetDifference(diff), (Items{{"12", 1}, {"c", 1}}));
  const std::vector<const Entry*> card{In("z"), In("s")};
  EXPECT_EQ(ZSetIntersectionCard(card, 0), 1u);
}

TEST_F(ZSetAlgebraTest, WrongTypeInput) {
  Entry* e = Entry::CreateString("str", "v", 0);
  shard_.Insert(e);
  EXPECT_EQ(FindAlgebraInput(shard_, "str", kNow).status, Status::kWrongType);
}

// Random inputs across both encodings, against a std::map model.
TEST_F(ZSetAlgebraTest, RandomizedAgainstModel) {
  std::mt19937 rng(7);
  std::vector<std::map<std::string, double>> models(3);
  for (int k = 0; k < 3; ++k) {
    const int n = k == 0 ? 40 : 400;  // one packed, two large
    std::vector<std::pair<double, std::string>> pairs;
    for (int i = 0; i < n; ++i) {
      const std::string m = "m" + std::to_string(rng() % 600);
      const double s = static_cast<double>(rng() % 50) / 4;
      pairs.push_back({s, m});
      models[k][m] = s;
    }
    AddZ("k" + std::to_string(k), pairs);
  }
  const std::vector<ZAlgebraInput> in{{In("k0"), 2}, {In("k1"), 1}, {In("k2"), -1}};
  std::map<std::string, double> uni;
  std::map<std::string, int> seen;
  const double w[] = {2, 1, -1};
  for (int k = 0; k < 3; ++k) {
    for (const auto& [m, s] : models[k]) {
      uni[m] += s * w[k];
      ++seen[m];
    }
  }
  auto sorted = [](const std::map<std::string, double>& m) {
    Items out(m.begin(), m.end());
    std::sort(out.begin(), out.end(), [](const ScoredMember& a, const ScoredMember& b) {
      return a.second < b.second || (a.second == b.second && a.first < b.first);
    });
    return out;
  };
  EXPECT_EQ(ZSetUnion(in, ZAggregate::kSum), sorted(uni));
  std::map<std::string, double> inter;
  for (const auto& [m, n] : seen) {
    if (n == 3) inter[m] = uni[m];
  }
  EXPECT_EQ(ZSetIntersection(in, ZAggregate::kSum), sorted(inter));
  const std::vector<const Entry*> entries{In("k0"), In("k1"), In("k2")};
  EXPECT_EQ(ZSetIntersectionCard(entries, 0), inter.size());
  std::map<std::string, double> diff;
  for (const auto& [m, s] : models[0]) {
    if (!models[1].contains(m) && !models[2].contains(m)) diff[m] = s;
  }
  EXPECT_EQ(ZSetDifference(entries), sorted(diff));
}

}  // namespace
}  // namespace sluice::storage
