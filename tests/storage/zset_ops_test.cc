#include "storage/zset_ops.h"

#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace sluice::storage {
namespace {

constexpr int64_t kNow = 1'700'000'000'000;
constexpr double kInf = std::numeric_limits<double>::infinity();

using Items = std::vector<ScoredMember>;

class ZSetOpsTest : public ::testing::Test {
 protected:
  ZAddOutcome Add(std::string_view key, std::vector<std::pair<double, std::string>> pairs,
                  ZAddFlags flags = {}) {
    std::vector<ZAddInput> in;
    for (const auto& [s, m] : pairs) in.push_back({s, m});
    Result<ZAddOutcome> r = ZSetAdd(shard_, key, in, flags, limits_, kNow);
    EXPECT_TRUE(r.ok());
    return r.value;
  }
  const Entry* Z(std::string_view key) {
    Result<const Entry*> r = FindZSet(shard_, key, kNow);
    EXPECT_TRUE(r.ok());
    return r.value;
  }
  Items All(std::string_view key) {
    const Entry* e = Z(key);
    if (e == nullptr) return {};
    return ZSetView(e).Items();
  }
  ZSetEncoding Encoding(std::string_view key) { return ZSetView(Z(key)).encoding(); }
  void ExpectBytesConsistent() {
    size_t sum = 0;
    shard_.ForEach(kNow, [&](const Entry& e) { sum += e.UsedBytes(); });
    EXPECT_EQ(shard_.used_bytes(), sum);
  }

  ZSetLimits limits_;
  Shard shard_{0};
};

TEST_F(ZSetOpsTest, AddScoreRankRemove) {
  EXPECT_EQ(Z("z"), nullptr);
  ZAddOutcome o = Add("z", {{2, "b"}, {1, "a"}, {3, "c"}, {1, "a"}});
  EXPECT_EQ(o.added, 3u);
  EXPECT_TRUE(o.created);
  EXPECT_EQ(All("z"), (Items{{"a", 1}, {"b", 2}, {"c", 3}}));
  EXPECT_EQ(Encoding("z"), ZSetEncoding::kPacked);
  double s;
  ASSERT_TRUE(ZSetView(Z("z")).Score("b", &s));
  EXPECT_EQ(s, 2);
  EXPECT_FALSE(ZSetView(Z("z")).Score("zz", &s));
  size_t rank;
  ASSERT_TRUE(ZSetView(Z("z")).Rank("c", &rank));
  EXPECT_EQ(rank, 2u);
  o = Add("z", {{0, "c"}});
  EXPECT_EQ(o.added, 0u);
  EXPECT_EQ(o.updated, 1u);
  EXPECT_EQ(All("z"), (Items{{"c", 0}, {"a", 1}, {"b", 2}}));
  const std::vector<std::string_view> gone = {"a", "nope"};
  Result<ZSetRemoveOutcome> r = ZSetRemove(shard_, "z", gone, kNow);
  EXPECT_EQ(r.value.removed, 1u);
  EXPECT_FALSE(r.value.key_removed);
  const std::vector<std::string_view> rest = {"b", "c"};
  r = ZSetRemove(shard_, "z", rest, kNow);
  EXPECT_EQ(r.value.removed, 2u);
  EXPECT_TRUE(r.value.key_removed);
  EXPECT_EQ(Z("z"), nullptr);
  EXPECT_EQ(shard_.used_bytes(), 0u);
}

TEST_F(ZSetOpsTest, EqualScoresOrderByMemberBytes) {
  Add("z", {{1, "b"}, {1, "a"}, {1, "10"}, {1, "9"}, {1, "\xff"}, {0, "z"}});
  EXPECT_EQ(All("z"), (Items{{"z", 0}, {"10", 1}, {"9", 1}, {"a", 1}, {"b", 1}, {"\xff", 1}}));
}

TEST_F(ZSetOpsTest, Flags) {
  Add("z", {{5, "a"}});
  ZAddFlags nx;
  nx.nx = true;
  ZAddOutcome o = Add("z", {{1, "a"}, {2, "b"}}, nx);
  EXPECT_EQ(o.added, 1u);
  EXPECT_EQ(o.updated, 0u);
  ZAddFlags xx;
  xx.xx = true;
  o = Add("z", {{7, "a"}, {2, "c"}}, xx);
  EXPECT_EQ(o.added, 0u);
  EXPECT_EQ(o.updated, 1u);
  EXPECT_EQ(All("z"), (Items{{"b", 2}, {"a", 7}}));
  ZAddFlags gt;
  gt.gt = true;
  o = Add("z", {{6, "a"}, {3, "b"}, {1, "d"}}, gt);
  EXPECT_EQ(o.updated, 1u);
  EXPECT_EQ(o.added, 1u);  // GT still adds new members
  ZAddFlags lt;
  lt.lt = true;
  o = Add("z", {{8, "a"}, {0, "b"}}, lt);
  EXPECT_EQ(o.updated, 1u);
  EXPECT_EQ(All("z"), (Items{{"b", 0}, {"d", 1}, {"a", 7}}));
  // XX on an absent key creates nothing.
  o = Add("none", {{1, "a"}}, xx);
  EXPECT_FALSE(o.created);
  EXPECT_EQ(Z("none"), nullptr);
}

TEST_F(ZSetOpsTest, Incr) {
  ZAddFlags incr;
  incr.incr = true;
  ZAddOutcome o = Add("z", {{1.5, "a"}}, incr);
  EXPECT_TRUE(o.incr_applied);
  EXPECT_EQ(o.incr_score, 1.5);
  o = Add("z", {{2, "a"}}, incr);
  EXPECT_EQ(o.incr_score, 3.5);
  o = Add("z", {{kInf, "a"}}, incr);
  EXPECT_EQ(o.incr_score, kInf);
  o = Add("z", {{-kInf, "a"}}, incr);
  EXPECT_TRUE(o.nan);
  EXPECT_EQ(All("z"), (Items{{"a", kInf}}));
  ZAddFlags incr_gt = incr;
  incr_gt.gt = true;
  o = Add("z", {{-1, "a"}}, incr_gt);
  EXPECT_FALSE(o.incr_applied);
  ZAddFlags incr_nx = incr;
  incr_nx.nx = true;
  o = Add("z", {{1, "a"}}, incr_nx);
  EXPECT_FALSE(o.incr_applied);
}

TEST_F(ZSetOpsTest, ConvertsOnEntriesAndValueLength) {
  limits_.max_packed_entries = 4;
  limits_.max_packed_value = 8;
  Add("z", {{1, "a"}, {2, "b"}, {3, "c"}, {4, "d"}});
  EXPECT_EQ(Encoding("z"), ZSetEncoding::kPacked);
  Add("z", {{4, "d"}});  // an update adds nothing
  EXPECT_EQ(Encoding("z"), ZSetEncoding::kPacked);
  Add("z", {{5, "e"}});
  EXPECT_EQ(Encoding("z"), ZSetEncoding::kSkipList);
  EXPECT_EQ(All("z").size(), 5u);
  // No conversion back on removal.
  Result<ZSetRemoveOutcome> r = ZSetRemoveRangeByRank(shard_, "z", 0, 2, kNow);
  EXPECT_EQ(r.value.removed, 3u);
  EXPECT_EQ(Encoding("z"), ZSetEncoding::kSkipList);
  EXPECT_EQ(All("z"), (Items{{"d", 4}, {"e", 5}}));

  Add("v", {{1, "12345678"}});
  EXPECT_EQ(Encoding("v"), ZSetEncoding::kPacked);
  Add("v", {{2, "123456789"}});
  EXPECT_EQ(Encoding("v"), ZSetEncoding::kSkipList);
  // Created large when the command's members do not fit.
  Add("w", {{1, "a"}, {2, "b"}, {3, "c"}, {4, "d"}, {5, "e"}});
  EXPECT_EQ(Encoding("w"), ZSetEncoding::kSkipList);
  Add("x", {{1, "a-long-member"}});
  EXPECT_EQ(Encoding("x"), ZSetEncoding::kSkipList);
  // A ZADD of more pairs than a packed set holds converts it first, even
  // when they are members already (Redis 7.2).
  Add("u", {{1, "a"}, {2, "b"}});
  EXPECT_EQ(Encoding("u"), ZSetEncoding::kPacked);
  Add("u", {{3, "a"}, {3, "b"}, {3, "a"}, {3, "b"}, {3, "a"}});
  EXPECT_EQ(Encoding("u"), ZSetEncoding::kSkipList);
  EXPECT_EQ(All("u"), (Items{{"a", 3}, {"b", 3}}));
  limits_.max_packed_entries = 0;
  Add("y", {{1, "a"}});
  EXPECT_EQ(Encoding("y"), ZSetEncoding::kSkipList);
  ExpectBytesConsistent();
}

TEST_F(ZSetOpsTest, StoreEncodesBySize) {
  limits_.max_packed_entries = 3;
  limits_.max_packed_value = 4;
  EXPECT_FALSE(ZSetStore(shard_, "d", {{"b", 2}, {"a", 1}}, limits_, kNow));
  EXPECT_EQ(Encoding("d"), ZSetEncoding::kPacked);
  EXPECT_EQ(All("d"), (Items{{"a", 1}, {"b", 2}}));
  EXPECT_TRUE(ZSetStore(shard_, "d", {{"a", 1}, {"b", 2}, {"c", 3}, {"d", 4}}, limits_, kNow));
  EXPECT_EQ(Encoding("d"), ZSetEncoding::kSkipList);
  EXPECT_TRUE(ZSetStore(shard_, "d", {{"abcde", 1}}, limits_, kNow));
  EXPECT_EQ(Encoding("d"), ZSetEncoding::kSkipList);
  // A big set stored small is packed again.
  EXPECT_TRUE(ZSetStore(shard_, "d", {{"abcd", 1}}, limits_, kNow));
  EXPECT_EQ(Encoding("d"), ZSetEncoding::kPacked);
  EXPECT_TRUE(ZSetStore(shard_, "d", {}, limits_, kNow));
  EXPECT_EQ(Z("d"), nullptr);
  shard_.Insert(Entry::CreateString("s", "v", 0));
  EXPECT_TRUE(ZSetStore(shard_, "s", {{"a", 1}}, limits_, kNow));
  EXPECT_EQ(All("s"), (Items{{"a", 1}}));
  ExpectBytesConsistent();
}

TEST_F(ZSetOpsTest, WrongType) {
  shard_.Insert(Entry::CreateString("str", "v", 0));
  const ZAddInput in{1, "a"};
  EXPECT_EQ(ZSetAdd(shard_, "str", {&in, 1}, {}, limits_, kNow).status, Status::kWrongType);
  const std::vector<std::string_view> one = {"a"};
  EXPECT_EQ(ZSetRemove(shard_, "str", one, kNow).status, Status::kWrongType);
  EXPECT_EQ(FindZSet(shard_, "str", kNow).status, Status::kWrongType);
  bool removed;
  EXPECT_EQ(ZSetPop(shard_, "str", 0, false, kNow, &removed).status, Status::kWrongType);
  EXPECT_EQ(ZSetRemoveRangeByRank(shard_, "str", 0, -1, kNow).status, Status::kWrongType);
}

TEST_F(ZSetOpsTest, RankRanges) {
  EXPECT_EQ(NormalizeRankRange(0, -1, 5), (std::pair<size_t, size_t>{0, 5}));
  EXPECT_EQ(NormalizeRankRange(-2, -1, 5), (std::pair<size_t, size_t>{3, 5}));
  EXPECT_EQ(NormalizeRankRange(-100, 1, 5), (std::pair<size_t, size_t>{0, 2}));
  EXPECT_EQ(NormalizeRankRange(3, 100, 5), (std::pair<size_t, size_t>{3, 5}));
  EXPECT_EQ(NormalizeRankRange(5, 6, 5).second, NormalizeRankRange(5, 6, 5).first);
  EXPECT_EQ(NormalizeRankRange(2, 1, 5).second, NormalizeRankRange(2, 1, 5).first);
  EXPECT_EQ(NormalizeRankRange(0, -1, 0).second, 0u);
}

TEST_F(ZSetOpsTest, PopBothEnds) {
  Add("z", {{1, "a"}, {2, "b"}, {3, "c"}});
  bool removed;
  Result<Items> r = ZSetPop(shard_, "z", 2, true, kNow, &removed);
  EXPECT_EQ(r.value, (Items{{"c", 3}, {"b", 2}}));
  EXPECT_FALSE(removed);
  r = ZSetPop(shard_, "z", 5, false, kNow, &removed);
  EXPECT_EQ(r.value, (Items{{"a", 1}}));
  EXPECT_TRUE(removed);
  EXPECT_EQ(Z("z"), nullptr);
}

TEST_F(ZSetOpsTest, LargeMembers) {
  const std::string big(100000, 'x');
  Add("z", {{1, big}, {0, "small"}});
  EXPECT_EQ(Encoding("z"), ZSetEncoding::kSkipList);
  EXPECT_EQ(All("z"), (Items{{"small", 0}, {big, 1}}));
  double s;
  EXPECT_TRUE(ZSetView(Z("z")).Score(big, &s));
  EXPECT_EQ(s, 1);
  Entry* copy = Entry::CloneAs(Z("z"), "copy");
  shard_.Insert(copy);
  EXPECT_EQ(All("copy"), All("z"));
  ExpectBytesConsistent();
}

TEST_F(ZSetOpsTest, CloneAndBytesBothEncodings) {
  Add("p", {{1, "a"}, {2, "b"}});
  std::vector<std::pair<double, std::string>> many;
  for (int i = 0; i < 500; ++i) many.push_back({i * 0.5, "m" + std::to_string(i)});
  Add("s", many);
  EXPECT_EQ(Encoding("s"), ZSetEncoding::kSkipList);
  EXPECT_GT(ObjectAllocatedBytes(Z("s")->object()), 500u * 16);
  EXPECT_EQ(ObjectElementCount(Z("s")->object()), 500u);
  for (const char* key : {"p", "s"}) {
    const ObjectRef clone = CloneObject(Z(key)->object());
    EXPECT_EQ(ZSetView(clone).Items(), All(key));
    EXPECT_EQ(ZSetView(clone).encoding(), Encoding(key));
    DestroyObject(clone);
  }
  ExpectBytesConsistent();
}

TEST_F(ZSetOpsTest, RandomAndScan) {
  Add("p", {{1, "a"}, {2, "b"}, {3, "c"}});
  std::vector<std::pair<double, std::string>> many;
  for (int i = 0; i < 300; ++i) many.push_back({static_cast<double>(i), "m" + std::to_string(i)});
  Add("s", many);
  for (const char* key : {"p", "s"}) {
    const size_t n = ZSetView(Z(key)).size();
    Items picked = ZSetRandomMembers(Z(key), 2);
    EXPECT_EQ(picked.size(), 2u);
    EXPECT_NE(picked[0].first, picked[1].first);
    for (const auto& [m, s] : picked) {
      double score;
      EXPECT_TRUE(ZSetView(Z(key)).Score(m, &score));
      EXPECT_EQ(score, s);
    }
    EXPECT_EQ(ZSetRandomMembers(Z(key), 1000).size(), n);
    EXPECT_EQ(ZSetRandomMembers(Z(key), -1000).size(), 1000u);
    std::set<std::string> seen;
    uint64_t cursor = 0;
    do {
      Items out;
      cursor = ZSetScan(Z(key), cursor, 10, "", &out);
      for (const auto& [m, s] : out) seen.insert(m);
    } while (cursor != 0);
    EXPECT_EQ(seen.size(), n);
  }
  Items out;
  EXPECT_EQ(ZSetScan(Z("s"), 0, 1000, "m1?", &out) == 0 || !out.empty(), true);
}

// Both encodings against a std::set model under random operations.
class ZSetModelTest : public ZSetOpsTest, public ::testing::WithParamInterface<bool> {};

TEST_P(ZSetModelTest, RandomOperations) {
  const bool packed = GetParam();
  limits_.max_packed_entries = packed ? 100000 : 0;
  limits_.max_packed_value = packed ? 100000 : 0;
  std::mt19937 rng(packed ? 7 : 11);
  std::map<std::string, double> scores;
  auto model_items = [&] {
    std::set<std::pair<double, std::string>> ordered;
    for (const auto& [m, s] : scores) ordered.insert({s, m});
    Items out;
    for (const auto& [s, m] : ordered) out.push_back({m, s});
    return out;
  };
  auto member = [&] { return std::to_string(rng() % 200) + (rng() % 2 ? "x" : ""); };
  auto score = [&] { return static_cast<double>(static_cast<int>(rng() % 50) - 25) / 2; };
  for (int step = 0; step < 3000; ++step) {
    const int op = static_cast<int>(rng() % 10);
    if (op < 5) {
      const std::string m = member();
      const double s = score();
      Add("z", {{s, m}});
      scores[m] = s;
    } else if (op == 5) {
      const std::string m = member();
      const std::vector<std::string_view> one = {m};
      (void)ZSetRemove(shard_, "z", one, kNow);
      scores.erase(m);
    } else if (op == 6) {
      ScoreRange range{score(), score(), rng() % 2 == 0, rng() % 2 == 0};
      Items model = model_items();
      size_t expect = 0;
      for (const auto& [m, s] : model) {
        const bool above = range.min_exclusive ? s > range.min : s >= range.min;
        const bool below = range.max_exclusive ? s < range.max : s <= range.max;
        if (above && below) {
          ++expect;
          if (rng() % 4 == 0) scores.erase(m);
        }
      }
      if (Z("z") != nullptr) {
        const auto [f, l] = ZSetView(Z("z")).ScoreRanks(range);
        EXPECT_EQ(l - f, expect);
      }
      // Re-sync the model's random erasures by removing them from the set too.
      std::vector<std::string> doomed;
      for (const auto& [m, s] : model) {
        if (scores.count(m) == 0) doomed.push_back(m);
      }
      std::vector<std::string_view> views(doomed.begin(), doomed.end());
      if (!views.empty()) (void)ZSetRemove(shard_, "z", views, kNow);
    } else if (op == 7) {
      bool removed;
      const bool max = rng() % 2 == 0;
      Result<Items> r = ZSetPop(shard_, "z", rng() % 3, max, kNow, &removed);
      Items model = model_items();
      for (size_t i = 0; i < r.value.size(); ++i) {
        const ScoredMember& want = max ? model[model.size() - 1 - i] : model[i];
        EXPECT_EQ(r.value[i], want);
        scores.erase(want.first);
      }
    } else if (op == 8) {
      const int64_t a = static_cast<int64_t>(rng() % 20) - 10;
      const int64_t b = static_cast<int64_t>(rng() % 20) - 5;
      Items model = model_items();
      const auto [f, l] = NormalizeRankRange(a, b, model.size());
      Result<ZSetRemoveOutcome> r = ZSetRemoveRangeByRank(shard_, "z", a, b, kNow);
      EXPECT_EQ(r.value.removed, l - f);
      for (size_t i = f; i < l; ++i) scores.erase(model[i].first);
    } else {
      // Ranks, scores and reverse walks of the whole set.
      const Items model = model_items();
      const Entry* e = Z("z");
      if (e == nullptr) {
        EXPECT_TRUE(model.empty());
        continue;
      }
      const ZSetView view(e);
      ASSERT_EQ(view.size(), model.size());
      Items reversed;
      view.ForRanks(0, view.size(), true, [&](std::string_view m, double s) {
        reversed.push_back({std::string(m), s});
      });
      EXPECT_EQ(Items(reversed.rbegin(), reversed.rend()), model);
      const size_t i = rng() % model.size();
      size_t rank;
      ASSERT_TRUE(view.Rank(model[i].first, &rank));
      EXPECT_EQ(rank, i);
      double s;
      ASSERT_TRUE(view.Score(model[i].first, &s));
      EXPECT_EQ(s, model[i].second);
    }
    ASSERT_EQ(All("z"), model_items()) << "step " << step;
    if (!scores.empty()) {
      ASSERT_EQ(Encoding("z"), packed ? ZSetEncoding::kPacked : ZSetEncoding::kSkipList);
    }
  }
  ExpectBytesConsistent();
}

INSTANTIATE_TEST_SUITE_P(Encodings, ZSetModelTest, ::testing::Values(true, false));

TEST_F(ZSetOpsTest, LexRanges) {
  Add("z", {{0, "a"}, {0, "b"}, {0, "c"}, {0, "d"}});
  std::vector<std::pair<double, std::string>> many;
  for (char c = 'a'; c <= 'z'; ++c) many.push_back({0, std::string(1, c)});
  for (int i = 0; i < 200; ++i) many.push_back({0, "q" + std::to_string(i)});
  Add("big", many);
  EXPECT_EQ(Encoding("big"), ZSetEncoding::kSkipList);
  for (const char* key : {"z", "big"}) {
    const ZSetView view(Z(key));
    auto count = [&](LexBound lo, LexBound hi) {
      const auto [f, l] = view.LexRanks({lo, hi});
      return l - f;
    };
    const LexBound minus{LexBound::kMinusInf, {}}, plus{LexBound::kPlusInf, {}};
    EXPECT_EQ(count(minus, plus), view.size());
    EXPECT_EQ(count(plus, minus), 0u);
    EXPECT_EQ(count({LexBound::kInclusive, "b"}, {LexBound::kExclusive, "d"}), 2u);
    EXPECT_EQ(count({LexBound::kExclusive, "b"}, {LexBound::kInclusive, "d"}), 2u);
    EXPECT_EQ(count({LexBound::kExclusive, "b"}, {LexBound::kExclusive, "b"}), 0u);
    EXPECT_EQ(count({LexBound::kInclusive, "b"}, {LexBound::kInclusive, "b"}), 1u);
    EXPECT_EQ(count({LexBound::kInclusive, "d"}, {LexBound::kInclusive, "b"}), 0u);
  }
}

}  // namespace
}  // namespace sluice::storage

namespace sluice::storage {
namespace {

// Every member's rank, in a tree of several levels with runs of equal
// scores (leaf boundaries inside a run included).
TEST(ZSetRankTest, EveryRankInADeepTree) {
  ZSet z;
  std::mt19937 rng(3);
  for (int i = 0; i < 20000; ++i) {
    z.Insert("m" + std::to_string(rng() % 50000), static_cast<double>(rng() % 40));
  }
  size_t i = 0;
  for (ZSet::Iterator it = z.begin(); it.valid(); it.Next(), ++i) {
    size_t rank = 0;
    ASSERT_TRUE(z.Rank(it.member(), &rank));
    ASSERT_EQ(rank, i) << it.member();
  }
  EXPECT_EQ(i, z.size());
  size_t rank;
  EXPECT_FALSE(z.Rank("absent", &rank));
}

}  // namespace
}  // namespace sluice::storage
