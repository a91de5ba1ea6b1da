#include "storage/set_ops.h"

#include <limits>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace sluice::storage {
namespace {

constexpr int64_t kNow = 1'700'000'000'000;

class SetOpsTest : public ::testing::Test {
 protected:
  size_t Add(std::string_view key, std::vector<std::string_view> members) {
    Result<size_t> r = SetAdd(shard_, key, members, limits_, kNow);
    EXPECT_TRUE(r.ok());
    return r.value;
  }
  SetRemoveOutcome Remove(std::string_view key, std::vector<std::string_view> members) {
    Result<SetRemoveOutcome> r = SetRemove(shard_, key, members, kNow);
    EXPECT_TRUE(r.ok());
    return r.value;
  }
  const Entry* Set(std::string_view key) {
    Result<const Entry*> r = FindSet(shard_, key, kNow);
    EXPECT_TRUE(r.ok());
    return r.value;
  }
  std::set<std::string> All(std::string_view key) {
    std::set<std::string> out;
    const Entry* e = Set(key);
    if (e == nullptr) return out;
    SetView(e).ForEach(
        [&](std::string_view m) { EXPECT_TRUE(out.emplace(m).second) << "member twice: " << m; });
    EXPECT_EQ(out.size(), SetView(e).size());
    return out;
  }
  SetEncoding Encoding(std::string_view key) { return SetView(Set(key)).encoding(); }
  void ExpectBytesConsistent() {
    size_t sum = 0;
    shard_.ForEach(kNow, [&](const Entry& e) { sum += e.UsedBytes(); });
    EXPECT_EQ(shard_.used_bytes(), sum);
  }
  static std::set<std::string> AsSet(const std::vector<std::string>& v) {
    return std::set<std::string>(v.begin(), v.end());
  }

  SetLimits limits_;
  Shard shard_{0};
};

TEST_F(SetOpsTest, AddRemoveContains) {
  EXPECT_EQ(Set("s"), nullptr);
  EXPECT_EQ(Add("s", {"a", "b", "a"}), 2u);
  EXPECT_EQ(Add("s", {"b", "c"}), 1u);
  EXPECT_TRUE(SetView(Set("s")).Contains("a"));
  EXPECT_FALSE(SetView(Set("s")).Contains("z"));
  EXPECT_EQ(All("s"), (std::set<std::string>{"a", "b", "c"}));
  EXPECT_EQ(Remove("s", {"a", "zz"}).removed, 1u);
  const SetRemoveOutcome last = Remove("s", {"b", "c"});
  EXPECT_EQ(last.removed, 2u);
  EXPECT_TRUE(last.key_removed);
  EXPECT_EQ(Set("s"), nullptr);
  EXPECT_EQ(shard_.used_bytes(), 0u);
}

TEST_F(SetOpsTest, WrongTypeBothWays) {
  shard_.Insert(Entry::CreateString("str", "v", 0));
  const std::vector<std::string_view> one = {"a"};
  EXPECT_EQ(SetAdd(shard_, "str", one, limits_, kNow).status, Status::kWrongType);
  EXPECT_EQ(SetRemove(shard_, "str", one, kNow).status, Status::kWrongType);
  EXPECT_EQ(FindSet(shard_, "str", kNow).status, Status::kWrongType);
  bool removed;
  EXPECT_EQ(SetPop(shard_, "str", 1, kNow, &removed).status, Status::kWrongType);
  EXPECT_EQ(SetPop(shard_, "str", 0, kNow, &removed).status, Status::kWrongType);
}

TEST_F(SetOpsTest, IntegersAreAnIntSetUntilTheLimit) {
  limits_.max_intset_entries = 4;
  Add("s", {"1", "-2", "300000000000"});
  EXPECT_EQ(Encoding("s"), SetEncoding::kIntSet);
  EXPECT_TRUE(SetView(Set("s")).Contains("-2"));
  EXPECT_FALSE(SetView(Set("s")).Contains("02"));
  Add("s", {"4"});
  EXPECT_EQ(Encoding("s"), SetEncoding::kIntSet);
  Add("s", {"5"});
  EXPECT_EQ(Encoding("s"), SetEncoding::kTable);
  EXPECT_EQ(All("s"), (std::set<std::string>{"1", "-2", "300000000000", "4", "5"}));
}

TEST_F(SetOpsTest, IntSetTakesAStringAsAListpackOrATable) {
  Add("s", {"1", "2"});
  Add("s", {"x"});
  EXPECT_EQ(Encoding("s"), SetEncoding::kPacked);
  EXPECT_EQ(All("s"), (std::set<std::string>{"1", "2", "x"}));
  limits_.max_packed_entries = 2;
  Add("t", {"1", "2"});
  Add("t", {"x"});
  EXPECT_EQ(Encoding("t"), SetEncoding::kTable);
  limits_.max_packed_entries = 128;
  limits_.max_packed_value = 3;
  Add("u", {"1", "1234"});  // an integer wider than the value limit
  Add("u", {"x"});
  EXPECT_EQ(Encoding("u"), SetEncoding::kTable);
  EXPECT_EQ(All("u"), (std::set<std::string>{"1", "1234", "x"}));
}

TEST_F(SetOpsTest, ListpackToTableByCountOrLengthAndNeverBack) {
  limits_.max_packed_entries = 3;
  limits_.max_packed_value = 4;
  Add("s", {"a", "b", "c"});
  EXPECT_EQ(Encoding("s"), SetEncoding::kPacked);
  Add("s", {"d"});
  EXPECT_EQ(Encoding("s"), SetEncoding::kTable);
  Remove("s", {"b", "c", "d"});
  EXPECT_EQ(Encoding("s"), SetEncoding::kTable);
  EXPECT_EQ(All("s"), (std::set<std::string>{"a"}));
  Add("t", {"a"});
  Add("t", {"abcde"});
  EXPECT_EQ(Encoding("t"), SetEncoding::kTable);
  ExpectBytesConsistent();
}

TEST_F(SetOpsTest, CreationFollowsTheArgumentCount) {
  limits_.max_intset_entries = 2;
  limits_.max_packed_entries = 3;
  Add("a", {"1", "2", "3"});
  EXPECT_EQ(Encoding("a"), SetEncoding::kPacked);
  Add("b", {"x", "y", "z", "w"});
  EXPECT_EQ(Encoding("b"), SetEncoding::kTable);
}

TEST_F(SetOpsTest, PopRemovesDistinctMembers) {
  for (const size_t entries : {size_t{128}, size_t{4}}) {
    for (const bool ints : {true, false}) {
      limits_.max_packed_entries = entries;
      std::vector<std::string> members;
      for (int i = 0; i < 50; ++i) members.push_back((ints ? "" : "m") + std::to_string(i));
      const std::vector<std::string_view> views(members.begin(), members.end());
      Add("s", views);
      bool removed = false;
      const std::vector<std::string> popped = SetPop(shard_, "s", 20, kNow, &removed).value;
      EXPECT_EQ(AsSet(popped).size(), 20u);
      EXPECT_FALSE(removed);
      std::set<std::string> rest = All("s");
      EXPECT_EQ(rest.size(), 30u);
      for (const std::string& p : popped) EXPECT_EQ(rest.count(p), 0u);
      ExpectBytesConsistent();
      const std::vector<std::string> others = SetPop(shard_, "s", 100, kNow, &removed).value;
      EXPECT_EQ(AsSet(others), rest);
      EXPECT_TRUE(removed);
      EXPECT_EQ(Set("s"), nullptr);
    }
  }
}

TEST_F(SetOpsTest, RandomMembers) {
  for (const size_t entries : {size_t{128}, size_t{4}}) {
    limits_.max_packed_entries = entries;
    std::vector<std::string> members;
    for (int i = 0; i < 40; ++i) members.push_back("m" + std::to_string(i));
    const std::vector<std::string_view> views(members.begin(), members.end());
    Add("s", views);
    const std::set<std::string> all = All("s");
    EXPECT_EQ(AsSet(SetRandomMembers(Set("s"), 5)).size(), 5u);
    EXPECT_EQ(AsSet(SetRandomMembers(Set("s"), 30)).size(), 30u);
    EXPECT_EQ(AsSet(SetRandomMembers(Set("s"), 100)), all);
    const std::vector<std::string> repeats = SetRandomMembers(Set("s"), -200);
    EXPECT_EQ(repeats.size(), 200u);
    for (const std::string& m : repeats) EXPECT_EQ(all.count(m), 1u);
    EXPECT_TRUE(SetRandomMembers(Set("s"), 0).empty());
    shard_.Clear();
  }
}

TEST_F(SetOpsTest, ScanVisitsEveryMemberOfATable) {
  limits_.max_packed_entries = 4;
  std::vector<std::string> members;
  for (int i = 0; i < 500; ++i) members.push_back("m" + std::to_string(i));
  const std::vector<std::string_view> views(members.begin(), members.end());
  Add("s", views);
  std::set<std::string> seen;
  uint64_t cursor = 0;
  int calls = 0;
  do {
    std::vector<std::string> page;
    cursor = SetScan(Set("s"), cursor, 20, "", &page);
    seen.insert(page.begin(), page.end());
    ++calls;
  } while (cursor != 0);
  EXPECT_EQ(seen, AsSet(members));
  EXPECT_GT(calls, 5);
  std::vector<std::string> matched;
  Add("small", {"ab", "ac", "b"});
  EXPECT_EQ(SetScan(Set("small"), 0, 1, "a*", &matched), 0u);
  EXPECT_EQ(AsSet(matched), (std::set<std::string>{"ab", "ac"}));
}

TEST_F(SetOpsTest, Algebra) {
  Add("a", {"1", "2", "3", "x"});
  Add("b", {"2", "3", "y"});
  Add("c", {"3", "x", "y"});
  const Entry* a = Set("a");
  const Entry* b = Set("b");
  const Entry* c = Set("c");
  const std::vector<const Entry*> ab = {a, b}, abc = {a, b, c}, a_none = {a, nullptr};
  EXPECT_EQ(AsSet(SetIntersection(ab)), (std::set<std::string>{"2", "3"}));
  EXPECT_EQ(AsSet(SetIntersection(abc)), (std::set<std::string>{"3"}));
  EXPECT_TRUE(SetIntersection(a_none).empty());
  EXPECT_EQ(SetIntersection(ab, 1).size(), 1u);
  EXPECT_EQ(AsSet(SetUnion(abc)), (std::set<std::string>{"1", "2", "3", "x", "y"}));
  EXPECT_EQ(AsSet(SetUnion(a_none)), All("a"));
  EXPECT_EQ(AsSet(SetDifference(ab)), (std::set<std::string>{"1", "x"}));
  EXPECT_EQ(AsSet(SetDifference(abc)), (std::set<std::string>{"1"}));
  const std::vector<const Entry*> none_a = {nullptr, a};
  EXPECT_TRUE(SetDifference(none_a).empty());
}

TEST_F(SetOpsTest, StoreReplacesAnyValueAndDeletesOnEmpty) {
  shard_.Insert(Entry::CreateString("d", "v", kNow + 1000));
  EXPECT_TRUE(SetStore(shard_, "d", {"1", "2"}, limits_, kNow));
  EXPECT_EQ(Encoding("d"), SetEncoding::kIntSet);
  EXPECT_EQ(Set("d")->expire_at_ms(), 0);
  EXPECT_FALSE(SetStore(shard_, "e", {"a", "1"}, limits_, kNow));
  EXPECT_EQ(Encoding("e"), SetEncoding::kPacked);
  EXPECT_TRUE(SetStore(shard_, "e", {}, limits_, kNow));
  EXPECT_EQ(Set("e"), nullptr);
  ExpectBytesConsistent();
}

TEST_F(SetOpsTest, CloneIsDeepForEveryEncoding) {
  limits_.max_packed_entries = 3;
  Add("i", {"1", "2"});
  Add("p", {"a", "b"});
  Add("t", {"a", "b", "c", "d"});
  for (const char* key : {"i", "p", "t"}) {
    const std::string copy_key = std::string(key) + "2";
    shard_.Insert(Entry::CloneAs(Set(key), copy_key));
    Add(copy_key, {"extra"});
    EXPECT_EQ(All(copy_key).size(), All(key).size() + 1) << key;
    EXPECT_EQ(All(key).count("extra"), 0u);
  }
  ExpectBytesConsistent();
}

TEST_F(SetOpsTest, BytesFollowAGrowingAndShrinkingSet) {
  limits_.max_packed_entries = 64;
  const size_t empty = shard_.used_bytes();
  for (int i = 0; i < 1000; ++i) {
    const std::string m = "member" + std::to_string(i) + std::string(40, 'x');
    Add("s", {m});
    if (i % 97 == 0) ExpectBytesConsistent();
  }
  EXPECT_GT(shard_.used_bytes(), empty + 1000 * 40);
  for (int i = 0; i < 1000; ++i) {
    const std::string m = "member" + std::to_string(i) + std::string(40, 'x');
    ASSERT_EQ(Remove("s", {m}).removed, 1u);
    if (i % 97 == 0) ExpectBytesConsistent();
  }
  EXPECT_EQ(shard_.used_bytes(), 0u);
}

}  // namespace
}  // namespace sluice::storage
