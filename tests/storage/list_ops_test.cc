#include "storage/list_ops.h"

#include <deque>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace sluice::storage {
namespace {

constexpr int64_t kNow = 1'700'000'000'000;

class ListOpsTest : public ::testing::Test {
 protected:
  size_t Push(std::string_view key, std::vector<std::string_view> values, bool left = false) {
    Result<size_t> r = ListPush(shard_, key, values, left, false, limits_, kNow);
    EXPECT_TRUE(r.ok());
    return r.value;
  }
  std::vector<std::string> Pop(std::string_view key, size_t count, bool left = true) {
    std::vector<std::string> out;
    Result<ListPopOutcome> r = ListPop(
        shard_, key, left, count, limits_, kNow, [](size_t) {},
        [&](std::string_view v) { out.emplace_back(v); });
    EXPECT_TRUE(r.ok());
    return out;
  }
  const Entry* List(std::string_view key) {
    Result<const Entry*> r = FindList(shard_, key, kNow);
    EXPECT_TRUE(r.ok());
    return r.value;
  }
  std::vector<std::string> All(std::string_view key) {
    std::vector<std::string> out;
    const Entry* e = List(key);
    if (e == nullptr) return out;
    const ListReader reader(e);
    std::string scratch;
    for (QuickList::Iter it = reader.list().Front(); it.valid(); reader.list().Next(it)) {
      out.emplace_back(reader.list().Get(it).AsString(&scratch));
    }
    return out;
  }
  std::string Encoding(std::string_view key) { return ListEncodingName(List(key)); }
  void ExpectBytesConsistent() {
    size_t sum = 0;
    shard_.ForEach(kNow, [&](const Entry& e) { sum += e.UsedBytes(); });
    EXPECT_EQ(shard_.used_bytes(), sum);
  }

  ListLimits limits_;
  Shard shard_{0};
};

TEST_F(ListOpsTest, PushPopAndKeyRemoval) {
  EXPECT_EQ(Push("l", {"a", "b"}), 2u);
  EXPECT_EQ(Push("l", {"x"}, /*left=*/true), 3u);
  EXPECT_EQ(All("l"), (std::vector<std::string>{"x", "a", "b"}));
  EXPECT_EQ(Encoding("l"), "listpack");
  EXPECT_EQ(Pop("l", 2), (std::vector<std::string>{"x", "a"}));
  EXPECT_EQ(Pop("l", 5, /*left=*/false), (std::vector<std::string>{"b"}));
  EXPECT_EQ(List("l"), nullptr);
  EXPECT_EQ(shard_.used_bytes(), 0u);
}

TEST_F(ListOpsTest, ConvertsBothWaysByCount) {
  limits_.fill = 4;
  Push("l", {"1", "2", "3", "4"});
  EXPECT_EQ(Encoding("l"), "listpack");
  Push("l", {"5"});
  EXPECT_EQ(Encoding("l"), "quicklist");
  ExpectBytesConsistent();
  Pop("l", 3, /*left=*/false);
  EXPECT_EQ(Encoding("l"), "listpack");
  EXPECT_EQ(All("l"), (std::vector<std::string>{"1", "2"}));
  ExpectBytesConsistent();
}

TEST_F(ListOpsTest, WrongType) {
  Entry* e = Entry::CreateObject("h", ValueType::kHash, ObjectRef::Packed(nullptr), 0);
  shard_.Insert(e);
  EXPECT_EQ(
      ListPush(shard_, "h", std::vector<std::string_view>{"a"}, true, false, limits_, kNow).status,
      Status::kWrongType);
  EXPECT_EQ(FindList(shard_, "h", kNow).status, Status::kWrongType);
}

TEST_F(ListOpsTest, RandomizedAgainstDequeKeepsBytesRight) {
  std::mt19937_64 rng(11);
  for (int fill : {-2, -1, 3}) {
    limits_.fill = fill;
    std::deque<std::string> model;
    for (int step = 0; step < 3000; ++step) {
      const std::string v = std::string(rng() % 200, 'a' + static_cast<char>(rng() % 3));
      switch (rng() % 7) {
        case 0:
        case 1:
          Push("l", {v}, rng() % 2 == 0);
          break;
        default:
          break;
      }
      // Re-derive the model from the list (pushes above), then check edits.
      const std::vector<std::string> now = All("l");
      model.assign(now.begin(), now.end());
      if (!model.empty() && rng() % 5 == 0) {
        const int64_t i = static_cast<int64_t>(rng() % model.size());
        EXPECT_EQ(ListSet(shard_, "l", i, "set", limits_, kNow).value, ListSetResult::kOk);
        model[static_cast<size_t>(i)] = "set";
      }
      if (!model.empty() && rng() % 7 == 0) {
        auto r = ListRemove(shard_, "l", 0, "set", limits_, kNow);
        size_t n = 0;
        for (const auto& m : model) n += m == "set";
        EXPECT_EQ(r.value.removed, n);
        std::erase(model, "set");
      }
      if (!model.empty() && rng() % 11 == 0) {
        ListTrim(shard_, "l", 1, -2, limits_, kNow);
        model.pop_front();
        if (!model.empty()) model.pop_back();
      }
      const std::vector<std::string> got = All("l");
      ASSERT_EQ(got, std::vector<std::string>(model.begin(), model.end()));
      if (step % 50 == 0) ExpectBytesConsistent();
    }
    ExpectBytesConsistent();
    shard_.Erase("l", kNow);
  }
}

}  // namespace
}  // namespace sluice::storage
