// Stream (storage/types/stream.h) and the stream operations on a shard
// (storage/stream_ops.h): IDs, appends across nodes, ranges both ways,
// deletion, exact and approximate trimming, cloning and byte accounting,
// with a randomized comparison against a std::map model.

#include "storage/types/stream.h"

#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "storage/stream_ops.h"

namespace sluice::storage {
namespace {

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
constexpr int64_t kNow = 1'700'000'000'000;

void Add(Stream& s, StreamId id, std::string_view field = "f", std::string_view value = "v") {
  const std::string_view fv[] = {field, value};
  s.Append(id, fv);
}

std::vector<StreamId> Ids(const Stream& s, StreamId start = StreamId::Min(),
                          StreamId end = StreamId::Max(), bool reverse = false, size_t count = 0) {
  std::vector<StreamId> out;
  s.Range(start, end, reverse, count, [&](const StreamEntryView& e) {
    out.push_back(e.id());
    return true;
  });
  return out;
}

TEST(StreamIdTest, IncrementDecrementAndText) {
  StreamId id{5, kMax};
  EXPECT_TRUE(id.Increment());
  EXPECT_EQ(id, (StreamId{6, 0}));
  EXPECT_TRUE(id.Decrement());
  EXPECT_EQ(id, (StreamId{5, kMax}));
  StreamId top = StreamId::Max();
  EXPECT_FALSE(top.Increment());
  EXPECT_EQ(top, StreamId::Max());
  StreamId bottom = StreamId::Min();
  EXPECT_FALSE(bottom.Decrement());
  EXPECT_EQ(StreamId::Max().ToString(), "18446744073709551615-18446744073709551615");
  EXPECT_LT((StreamId{1, kMax}), (StreamId{2, 0}));
}

TEST(StreamIdTest, ParsesPartsAsRedisDoes) {
  EXPECT_EQ(ParseStreamIdPart("0"), 0u);
  EXPECT_EQ(ParseStreamIdPart("18446744073709551615"), kMax);
  EXPECT_EQ(ParseStreamIdPart("007"), 7u);
  EXPECT_EQ(ParseStreamIdPart("+7"), 7u);
  EXPECT_FALSE(ParseStreamIdPart("18446744073709551616"));
  EXPECT_FALSE(ParseStreamIdPart("-1"));
  EXPECT_FALSE(ParseStreamIdPart(""));
  EXPECT_FALSE(ParseStreamIdPart("1x"));
  EXPECT_FALSE(ParseStreamIdPart("*"));
}

TEST(StreamTest, AppendsFillNodesByCountAndBytes) {
  Stream s;
  for (uint64_t i = 1; i <= 250; ++i) Add(s, {i, 0});
  EXPECT_EQ(s.size(), 250u);
  EXPECT_EQ(s.node_count(), 3u);  // 100 + 100 + 50
  EXPECT_EQ(s.last_id(), (StreamId{250, 0}));
  EXPECT_EQ(s.entries_added(), 250u);
  EXPECT_TRUE(s.CheckConsistency());

  Stream big;
  const std::string value(1500, 'x');
  for (uint64_t i = 1; i <= 10; ++i) Add(big, {i, 0}, "f", value);
  EXPECT_EQ(big.node_count(), 5u);  // two 1.5 KiB entries per 4 KiB node
  const std::string huge(10000, 'y');
  Add(big, {11, 0}, "f", huge);  // one entry larger than a node gets its own
  Add(big, {12, 0});
  EXPECT_EQ(big.node_count(), 7u);
  EXPECT_TRUE(big.CheckConsistency());
  std::string got;
  big.Range({11, 0}, {11, 0}, false, 0, [&](const StreamEntryView& e) {
    e.ForEachPair([&](std::string_view, std::string_view v) { got = v; });
    return true;
  });
  EXPECT_EQ(got, huge);
}

TEST(StreamTest, RangesBothWays) {
  Stream s;
  for (uint64_t i = 1; i <= 300; ++i) Add(s, {i / 2, i % 2});
  EXPECT_EQ(Ids(s).size(), 300u);
  EXPECT_EQ(Ids(s, {10, 0}, {11, kMax}),
            (std::vector<StreamId>{{10, 0}, {10, 1}, {11, 0}, {11, 1}}));
  EXPECT_EQ(Ids(s, {10, 0}, {11, kMax}, true),
            (std::vector<StreamId>{{11, 1}, {11, 0}, {10, 1}, {10, 0}}));
  EXPECT_EQ(Ids(s, {49, 1}, {50, 1}), (std::vector<StreamId>{{49, 1}, {50, 0}, {50, 1}}));
  EXPECT_EQ(Ids(s, {0, 0}, StreamId::Max(), false, 2), (std::vector<StreamId>{{0, 1}, {1, 0}}));
  EXPECT_EQ(Ids(s, {0, 0}, StreamId::Max(), true, 2), (std::vector<StreamId>{{150, 0}, {149, 1}}));
  EXPECT_TRUE(Ids(s, {20, 0}, {10, 0}).empty());
  EXPECT_TRUE(Ids(s, {151, 0}, StreamId::Max()).empty());
  EXPECT_TRUE(Ids(s, StreamId::Min(), {0, 0}, true).empty());
  EXPECT_EQ(s.First()->id(), (StreamId{0, 1}));
  EXPECT_EQ(s.Last()->id(), (StreamId{150, 0}));
}

TEST(StreamTest, DeleteKeepsMetadata) {
  Stream s;
  for (uint64_t i = 1; i <= 150; ++i) Add(s, {i, 0});
  EXPECT_TRUE(s.Delete({1, 0}));
  EXPECT_FALSE(s.Delete({1, 0}));
  EXPECT_FALSE(s.Delete({1000, 0}));
  EXPECT_FALSE(s.Delete({0, 5}));
  EXPECT_EQ(s.first_id(), (StreamId{2, 0}));
  EXPECT_TRUE(s.Delete({150, 0}));
  EXPECT_EQ(s.max_deleted_id(), (StreamId{150, 0}));
  EXPECT_TRUE(s.Delete({5, 0}));
  EXPECT_EQ(s.max_deleted_id(), (StreamId{150, 0}));
  EXPECT_EQ(s.last_id(), (StreamId{150, 0}));  // the top stays
  EXPECT_EQ(s.Last()->id(), (StreamId{149, 0}));
  EXPECT_EQ(s.size(), 147u);
  EXPECT_TRUE(s.CheckConsistency());
  // A node whose every entry is deleted is freed.
  const size_t before = s.AllocatedBytes();
  for (uint64_t i = 101; i <= 149; ++i) EXPECT_TRUE(s.Delete({i, 0}));
  EXPECT_EQ(s.node_count(), 1u);
  EXPECT_LT(s.AllocatedBytes(), before);
  EXPECT_TRUE(s.CheckConsistency());
}

TEST(StreamTest, TrimMaxLenExactAndApproximate) {
  Stream s;
  for (uint64_t i = 1; i <= 1000; ++i) Add(s, {i, 0});
  EXPECT_EQ(s.TrimMaxLen(2000, false, 0), 0u);
  EXPECT_EQ(s.TrimMaxLen(950, true, 0), 0u);  // less than a node
  EXPECT_EQ(s.TrimMaxLen(850, true, 0), 100u);
  EXPECT_EQ(s.size(), 900u);
  EXPECT_EQ(s.TrimMaxLen(850, false, 0), 50u);
  EXPECT_EQ(s.size(), 850u);
  EXPECT_EQ(s.first_id(), (StreamId{151, 0}));
  // The limit counts whole nodes' entries.
  EXPECT_EQ(s.TrimMaxLen(0, true, 60), 50u);  // the half-deleted node (50 live)
  EXPECT_EQ(s.TrimMaxLen(0, true, 99), 0u);
  EXPECT_EQ(s.TrimMaxLen(0, true, 250), 200u);
  EXPECT_EQ(s.size(), 600u);
  EXPECT_EQ(s.max_deleted_id(), StreamId::Min());  // trimming is not deleting
  EXPECT_EQ(s.TrimMaxLen(0, false, 0), 600u);
  EXPECT_EQ(s.size(), 0u);
  EXPECT_EQ(s.node_count(), 0u);
  EXPECT_EQ(s.AllocatedBytes(), 0u);
  EXPECT_EQ(s.first_id(), StreamId::Min());
  EXPECT_FALSE(s.First().has_value());
  EXPECT_TRUE(s.CheckConsistency());
}

TEST(StreamTest, TrimMinId) {
  Stream s;
  for (uint64_t i = 1; i <= 300; ++i) Add(s, {i, 0});
  EXPECT_EQ(s.TrimMinId({150, 0}, true, 0), 100u);  // node [1, 100] only
  EXPECT_EQ(s.TrimMinId({150, 0}, false, 0), 49u);
  EXPECT_EQ(s.first_id(), (StreamId{150, 0}));
  EXPECT_EQ(s.TrimMinId({150, 0}, false, 0), 0u);
  EXPECT_EQ(s.TrimMinId(StreamId::Max(), false, 0), 151u);
  EXPECT_EQ(s.size(), 0u);
  EXPECT_TRUE(s.CheckConsistency());
}

TEST(StreamTest, CloneIsDeepAndEqual) {
  Stream s;
  for (uint64_t i = 1; i <= 250; ++i) Add(s, {i, 0}, "field", std::to_string(i));
  s.Delete({7, 0});
  std::unique_ptr<Stream> copy = s.Clone();
  EXPECT_EQ(Ids(*copy), Ids(s));
  EXPECT_EQ(copy->last_id(), s.last_id());
  EXPECT_EQ(copy->max_deleted_id(), s.max_deleted_id());
  EXPECT_EQ(copy->entries_added(), s.entries_added());
  EXPECT_TRUE(copy->CheckConsistency());
  s.TrimMaxLen(0, false, 0);
  EXPECT_EQ(copy->size(), 249u);
}

TEST(StreamTest, RandomAgainstModel) {
  std::mt19937_64 rng(42);
  Stream s;
  std::map<StreamId, std::string> model;
  StreamId last;
  for (int step = 0; step < 20000; ++step) {
    const int op = static_cast<int>(rng() % 100);
    if (op < 60) {
      StreamId id = last;
      if (rng() % 3 == 0) {
        id = {last.ms + 1 + rng() % 5, rng() % 3};
      } else {
        id.Increment();
      }
      const std::string value(rng() % 200, static_cast<char>('a' + step % 26));
      Add(s, id, "f", value);
      model[id] = value;
      last = id;
    } else if (op < 80 && !model.empty()) {
      auto it = model.begin();
      std::advance(it, static_cast<long>(rng() % model.size()));
      EXPECT_TRUE(s.Delete(it->first));
      model.erase(it);
    } else if (op < 83) {
      const size_t keep = rng() % (model.size() + 10);
      const bool approx = rng() % 2 == 0;
      const size_t removed = s.TrimMaxLen(keep, approx, 0);
      ASSERT_LE(removed, model.size());
      for (size_t i = 0; i < removed; ++i) model.erase(model.begin());
      if (!approx) EXPECT_LE(model.size(), keep);
      EXPECT_GE(model.size(), std::min(keep, model.size() + removed));
    } else {
      const StreamId a{rng() % (last.ms + 2), rng() % 3};
      const StreamId b{a.ms + rng() % 20, rng() % 3};
      const bool reverse = rng() % 2 == 0;
      const size_t count = rng() % 30;
      std::vector<StreamId> want;
      for (auto it = model.lower_bound(a); it != model.end() && it->first <= b; ++it) {
        want.push_back(it->first);
      }
      if (reverse) std::reverse(want.begin(), want.end());
      if (count != 0 && want.size() > count) want.resize(count);
      ASSERT_EQ(Ids(s, a, b, reverse, count), want);
    }
    ASSERT_EQ(s.size(), model.size());
    if (step % 500 == 0) ASSERT_TRUE(s.CheckConsistency());
  }
  std::vector<StreamId> all;
  for (const auto& [id, value] : model) all.push_back(id);
  EXPECT_EQ(Ids(s), all);
  EXPECT_TRUE(s.CheckConsistency());
}

// ---- stream operations on a shard -------------------------------------------------------

class StreamOpsTest : public ::testing::Test {
 protected:
  StreamAddOutcome Add(std::string_view key, StreamAddId id, const StreamTrim& trim = {},
                       bool no_create = false, int64_t clock = kNow) {
    const std::string_view fv[] = {"field", "value"};
    Result<StreamAddOutcome> r = StreamAdd(shard_, key, id, fv, no_create, trim, clock, kNow);
    EXPECT_TRUE(r.ok());
    return r.value;
  }
  static StreamAddId Explicit(uint64_t ms, uint64_t seq) {
    return {StreamAddId::Kind::kExplicit, {ms, seq}};
  }
  void ExpectBytesConsistent() {
    size_t sum = 0;
    shard_.ForEach(kNow, [&](const Entry& e) { sum += e.UsedBytes(); });
    EXPECT_EQ(shard_.used_bytes(), sum);
  }
  Shard shard_{0};
};

TEST_F(StreamOpsTest, AutoIdsStayMonotonicWhenTheClockGoesBack) {
  EXPECT_EQ(Add("s", {}).id, (StreamId{static_cast<uint64_t>(kNow), 0}));
  EXPECT_EQ(Add("s", {}).id, (StreamId{static_cast<uint64_t>(kNow), 1}));
  EXPECT_EQ(Add("s", {}, {}, false, kNow - 1000).id, (StreamId{static_cast<uint64_t>(kNow), 2}));
  EXPECT_EQ(Add("s", {}, {}, false, kNow + 1).id, (StreamId{static_cast<uint64_t>(kNow + 1), 0}));
  EXPECT_EQ(Add("s", {StreamAddId::Kind::kAutoSeq, {static_cast<uint64_t>(kNow + 1), 0}}).id,
            (StreamId{static_cast<uint64_t>(kNow + 1), 1}));
}

TEST_F(StreamOpsTest, Errors) {
  using Error = StreamAddOutcome::Error;
  EXPECT_EQ(Add("s", {}, {}, /*no_create=*/true).error, Error::kNoStream);
  EXPECT_EQ(shard_.Find("s", kNow), nullptr);
  EXPECT_EQ(Add("s", Explicit(5, 5)).error, Error::kNone);
  EXPECT_EQ(Add("s", Explicit(5, 5)).error, Error::kTooSmall);
  EXPECT_EQ(Add("s", Explicit(4, 9)).error, Error::kTooSmall);
  EXPECT_EQ(Add("s", {StreamAddId::Kind::kAutoSeq, {4, 0}}).error, Error::kTooSmall);
  EXPECT_EQ(Add("s", Explicit(5, kMax)).error, Error::kNone);
  EXPECT_EQ(Add("s", {StreamAddId::Kind::kAutoSeq, {5, 0}}).error, Error::kSeqOverflow);
  EXPECT_EQ(Add("s", Explicit(kMax, kMax)).error, Error::kNone);
  EXPECT_EQ(Add("s", {}).error, Error::kExhausted);
  EXPECT_EQ(Add("s", Explicit(kMax, kMax)).error, Error::kExhausted);
  Entry* str = Entry::CreateString("str", "x", 0);
  shard_.Insert(str);
  const std::string_view fv[] = {"f", "v"};
  EXPECT_EQ(StreamAdd(shard_, "str", {}, fv, false, {}, kNow, kNow).status, Status::kWrongType);
  EXPECT_EQ(StreamTrimKey(shard_, "str", {}, kNow).status, Status::kWrongType);
}

TEST_F(StreamOpsTest, ShardBytesFollowTheStream) {
  StreamTrim none;
  for (uint64_t i = 1; i <= 2000; ++i) Add("s", Explicit(i, 0), none);
  ExpectBytesConsistent();
  const size_t full = shard_.used_bytes();
  EXPECT_GT(full, 2000u * 12);
  const StreamId ids[] = {{1, 0}, {2, 0}, {3000, 0}};
  Result<size_t> deleted = StreamDelete(shard_, "s", ids, kNow);
  EXPECT_EQ(deleted.value, 2u);
  ExpectBytesConsistent();
  StreamTrim trim;
  trim.kind = StreamTrim::Kind::kMaxLen;
  trim.maxlen = 10;
  Result<size_t> trimmed = StreamTrimKey(shard_, "s", trim, kNow);
  EXPECT_EQ(trimmed.value, 1988u);
  ExpectBytesConsistent();
  EXPECT_LT(shard_.used_bytes(), full / 10);
  // An empty stream stays.
  trim.maxlen = 0;
  EXPECT_EQ(StreamTrimKey(shard_, "s", trim, kNow).value, 10u);
  ASSERT_NE(shard_.Find("s", kNow), nullptr);
  EXPECT_EQ(StreamOf(shard_.Find("s", kNow)).size(), 0u);
  ExpectBytesConsistent();
}

TEST_F(StreamOpsTest, AddTrimsAfterAppending) {
  StreamTrim trim;
  trim.kind = StreamTrim::Kind::kMinId;
  trim.min_id = {100, 0};
  const StreamAddOutcome out = Add("s", Explicit(5, 0), trim);
  EXPECT_TRUE(out.created);
  EXPECT_EQ(out.trimmed, 1u);
  EXPECT_EQ(StreamOf(shard_.Find("s", kNow)).size(), 0u);
}

}  // namespace
}  // namespace sluice::storage
