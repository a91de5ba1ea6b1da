#include "storage/sort_ops.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "storage/hash_ops.h"
#include "storage/list_ops.h"
#include "storage/set_ops.h"
#include "storage/string_ops.h"
#include "storage/zset_ops.h"

namespace sluice::storage {
namespace {

constexpr int64_t kNow = 1'700'000'000'000;

using Values = std::vector<std::optional<std::string>>;

class SortOpsTest : public ::testing::Test {
 protected:
  Shard& ShardOf(std::string_view key) { return db_.ShardFor(key); }
  void Str(std::string_view key, std::string_view value) {
    SetString(ShardOf(key), key, value, SetOptions{}, kNow);
  }
  void Push(std::string_view key, std::vector<std::string_view> values) {
    ASSERT_TRUE(ListPush(ShardOf(key), key, values, false, false, ListLimits{}, kNow).ok());
  }
  void Hash(std::string_view key, std::vector<std::string_view> pairs) {
    ASSERT_TRUE(HashSet(ShardOf(key), key, pairs, HashLimits{}, kNow).ok());
  }
  void Set(std::string_view key, std::vector<std::string_view> members) {
    ASSERT_TRUE(SetAdd(ShardOf(key), key, members, SetLimits{}, kNow).ok());
  }
  void ZSet(std::string_view key, std::vector<ZAddInput> inputs) {
    ASSERT_TRUE(ZSetAdd(ShardOf(key), key, inputs, ZAddFlags{}, ZSetLimits{}, kNow).ok());
  }
  SortOutcome Run(std::string_view key, const SortRequest& req) {
    Result<SortOutcome> r = Sort(db_, key, req, kNow);
    EXPECT_TRUE(r.ok());
    return r.value;
  }
  Values Sorted(std::string_view key, const SortRequest& req) {
    SortOutcome out = Run(key, req);
    EXPECT_FALSE(out.bad_score);
    return out.values;
  }
  static Values V(std::vector<const char*> items) {
    Values out;
    for (const char* s : items) {
      if (s == nullptr) {
        out.emplace_back(std::nullopt);
      } else {
        out.emplace_back(s);
      }
    }
    return out;
  }

  Database db_{4, 0};
};

TEST(SortScore, StrtodRules) {
  double d = -1;
  EXPECT_TRUE(ParseSortScore("", &d));
  EXPECT_EQ(d, 0);
  EXPECT_TRUE(ParseSortScore(" 1.5", &d));
  EXPECT_EQ(d, 1.5);
  EXPECT_TRUE(ParseSortScore("0x10", &d));
  EXPECT_EQ(d, 16);
  EXPECT_TRUE(ParseSortScore("-inf", &d));
  EXPECT_TRUE(std::isinf(d) && d < 0);
  // strtod stops at a NUL byte, as it does in Redis.
  EXPECT_TRUE(ParseSortScore(std::string_view("7\0x", 3), &d));
  EXPECT_EQ(d, 7);
  for (const char* bad : {"abc", "1 ", "nan", "1e400", "1e-400", "1x", "--1"}) {
    EXPECT_FALSE(ParseSortScore(bad, &d)) << bad;
  }
}

TEST(SortPatterns, StarsAndReads) {
  EXPECT_TRUE(SortPatternHasStar("w_*"));
  EXPECT_FALSE(SortPatternHasStar("nosort"));
  EXPECT_FALSE(SortPatternHasStar(std::string_view("a\0*", 3)));
  SortRequest req;
  EXPECT_FALSE(SortReadsOtherKeys(req));
  req.gets = {"#", "fixed"};
  EXPECT_FALSE(SortReadsOtherKeys(req));
  req.gets.push_back("g_*");
  EXPECT_TRUE(SortReadsOtherKeys(req));
  req.gets.clear();
  req.by = "w_*";
  EXPECT_TRUE(SortReadsOtherKeys(req));
  req.dont_sort = true;  // an earlier BY nosort: the BY pattern is never read
  EXPECT_FALSE(SortReadsOtherKeys(req));
}

TEST_F(SortOpsTest, LookupPattern) {
  Str("w_a", "1");
  Str("w_a->", "arrow");
  Hash("h_a", {"f", "hv", std::string_view("g\0x", 3), "nul"});
  Push("l_a", {"x"});
  EXPECT_EQ(LookupSortPattern(db_, "#", "a", kNow), "a");
  EXPECT_EQ(LookupSortPattern(db_, "w_*", "a", kNow), "1");
  EXPECT_EQ(LookupSortPattern(db_, "w_*", "b", kNow), std::nullopt);
  EXPECT_EQ(LookupSortPattern(db_, "w_a", "a", kNow), std::nullopt);  // no '*'
  EXPECT_EQ(LookupSortPattern(db_, "h_*->f", "a", kNow), "hv");
  EXPECT_EQ(LookupSortPattern(db_, "h_*->nope", "a", kNow), std::nullopt);
  EXPECT_EQ(LookupSortPattern(db_, "h_*", "a", kNow), std::nullopt);     // a hash, not a string
  EXPECT_EQ(LookupSortPattern(db_, "w_*->f", "a", kNow), std::nullopt);  // a string, not a hash
  EXPECT_EQ(LookupSortPattern(db_, "l_*", "a", kNow), std::nullopt);
  EXPECT_EQ(LookupSortPattern(db_, "w_*->", "a", kNow), "arrow");  // an empty field is no field
  // The field runs past a NUL byte; "#" is "#" up to a NUL.
  EXPECT_EQ(LookupSortPattern(db_, std::string_view("h_*->g\0x", 8), "a", kNow), "nul");
  EXPECT_EQ(LookupSortPattern(db_, std::string_view("#\0z", 3), "a", kNow), "a");
}

TEST_F(SortOpsTest, MissingAndWrongType) {
  EXPECT_TRUE(Sorted("nokey", SortRequest{}).empty());
  Str("s", "x");
  Hash("h", {"f", "v"});
  EXPECT_EQ(Sort(db_, "s", SortRequest{}, kNow).status, Status::kWrongType);
  EXPECT_EQ(Sort(db_, "h", SortRequest{}, kNow).status, Status::kWrongType);
}

TEST_F(SortOpsTest, NumericAlphaDesc) {
  Push("l", {"10", "9", "-1", "2.5", "b"});
  EXPECT_TRUE(Run("l", SortRequest{}).bad_score);
  SortRequest alpha;
  alpha.alpha = true;
  EXPECT_EQ(Sorted("l", alpha), V({"-1", "10", "2.5", "9", "b"}));
  alpha.desc = true;
  EXPECT_EQ(Sorted("l", alpha), V({"b", "9", "2.5", "10", "-1"}));
  Push("n", {"3", "1", "2", "1.0"});
  EXPECT_EQ(Sorted("n", SortRequest{}), V({"1", "1.0", "2", "3"}));
  SortRequest desc;
  desc.desc = true;
  EXPECT_EQ(Sorted("n", desc), V({"3", "2", "1.0", "1"}));
}

TEST_F(SortOpsTest, AlphaNulBytes) {
  const std::string ac("a\0c", 3), ab("a\0b", 3);
  Push("l", {ac, ab, "a"});
  SortRequest req;
  req.alpha = true;
  // C-string order: the three tie and keep the list's order.
  Values want{ac, ab, std::string("a")};
  EXPECT_EQ(Sorted("l", req), want);
  req.binary_alpha = true;
  want = {std::string("a"), ab, ac};
  EXPECT_EQ(Sorted("l", req), want);
}

TEST_F(SortOpsTest, ByAndGet) {
  Push("l", {"a", "b", "c", "d"});
  Str("w_a", "3");
  Str("w_b", "1");
  Str("w_c", "2");
  Hash("h_b", {"name", "bee"});
  SortRequest req;
  req.by = "w_*";
  EXPECT_EQ(Sorted("l", req), V({"d", "b", "c", "a"}));
  req.gets = {"#", "h_*->name", "fixed"};
  req.limit_offset = 1;
  req.limit_count = 2;
  EXPECT_EQ(Sorted("l", req), V({"b", "bee", nullptr, "c", nullptr, nullptr}));
  Str("w_d", "x");
  req.gets.clear();
  EXPECT_TRUE(Run("l", req).bad_score);
  req.alpha = true;  // ALPHA BY compares the values as strings: 1 2 3 x
  EXPECT_EQ(Sorted("l", req), V({"c", "a"}));
  req.by = "nokey_*";  // all missing: a tie, the list's order
  req.limit_count = -1;
  EXPECT_EQ(Sorted("l", req), V({"b", "c", "d"}));
}

TEST_F(SortOpsTest, NoSortKeepsOrder) {
  Push("l", {"c", "a", "b"});
  SortRequest req;
  req.by = "nosort";
  req.dont_sort = true;
  EXPECT_EQ(Sorted("l", req), V({"c", "a", "b"}));
  req.desc = true;
  EXPECT_EQ(Sorted("l", req), V({"b", "a", "c"}));
  req.limit_offset = 1;
  req.limit_count = 5;
  EXPECT_EQ(Sorted("l", req), V({"a", "c"}));
  ZSet("z", {{1, "x"}, {2, "w"}, {3, "v"}, {4, "u"}});
  EXPECT_EQ(Sorted("z", req), V({"v", "w", "x"}));
  req.desc = false;
  EXPECT_EQ(Sorted("z", req), V({"w", "v", "u"}));
  // A set is ordered ALPHA when asked to be.
  Set("s", {"b", "c", "a"});
  req.limit_offset = 0;
  req.limit_count = -1;
  req.order_unsorted_set = true;
  EXPECT_EQ(Sorted("s", req), V({"a", "b", "c"}));
  req.order_unsorted_set = false;
  Values got = Sorted("s", req);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, V({"a", "b", "c"}));
}

TEST_F(SortOpsTest, LimitClamps) {
  Push("l", {"1", "2", "3"});
  struct Case {
    int64_t offset, count;
    std::vector<const char*> want;
  };
  const Case cases[] = {{0, -1, {"1", "2", "3"}},
                        {-5, 2, {"1", "2"}},
                        {2, 100, {"3"}},
                        {3, 1, {}},
                        {0, 0, {}},
                        {INT64_MAX, INT64_MAX, {}},
                        {1, INT64_MAX, {"2", "3"}},
                        {INT64_MIN, INT64_MIN, {"1", "2", "3"}}};
  for (const Case& c : cases) {
    SortRequest req;
    req.limit_offset = c.offset;
    req.limit_count = c.count;
    EXPECT_EQ(Sorted("l", req), V(c.want)) << c.offset << " " << c.count;
  }
}

TEST_F(SortOpsTest, ListStoreReplacesAndDeletes) {
  Str("d", "x");
  const std::vector<std::string_view> values{"b", "a"};
  EXPECT_TRUE(ListStore(ShardOf("d"), "d", values, ListLimits{}, kNow));
  Result<const Entry*> e = FindList(ShardOf("d"), "d", kNow);
  ASSERT_TRUE(e.ok() && e.value != nullptr);
  EXPECT_EQ(ListReader(e.value).size(), 2u);
  EXPECT_FALSE(ListStore(ShardOf("new"), "new", values, ListLimits{}, kNow));
  EXPECT_TRUE(ListStore(ShardOf("d"), "d", {}, ListLimits{}, kNow));
  EXPECT_EQ(ShardOf("d").Find("d", kNow), nullptr);
  EXPECT_FALSE(ListStore(ShardOf("d"), "d", {}, ListLimits{}, kNow));
}

// Random numeric sorts with LIMIT against a model.
TEST_F(SortOpsTest, RandomAgainstModel) {
  std::mt19937 rng(42);
  for (int round = 0; round < 50; ++round) {
    const std::string key = "r" + std::to_string(round);
    std::vector<std::string> elems;
    const size_t n = rng() % 300;
    for (size_t i = 0; i < n; ++i) elems.push_back(std::to_string(static_cast<int>(rng() % 50) - 25));
    std::vector<std::string_view> views(elems.begin(), elems.end());
    if (!views.empty()) Push(key, views);
    std::vector<std::string> model = elems;
    const bool desc = rng() % 2;
    std::stable_sort(model.begin(), model.end(), [&](const std::string& a, const std::string& b) {
      const double x = std::stod(a), y = std::stod(b);
      return desc ? (x != y ? x > y : a > b) : (x != y ? x < y : a < b);
    });
    SortRequest req;
    req.desc = desc;
    req.limit_offset = static_cast<int64_t>(rng() % 320) - 10;
    req.limit_count = static_cast<int64_t>(rng() % 320) - 10;
    const size_t start = static_cast<size_t>(std::max<int64_t>(req.limit_offset, 0));
    Values want;
    for (size_t i = start; i < model.size(); ++i) {
      if (req.limit_count >= 0 && i - start >= static_cast<size_t>(req.limit_count)) break;
      want.emplace_back(model[i]);
    }
    EXPECT_EQ(Sorted(key, req), want) << "round " << round;
  }
}

}  // namespace
}  // namespace sluice::storage
