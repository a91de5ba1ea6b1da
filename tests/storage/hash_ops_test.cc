#include "storage/hash_ops.h"

#include <cstdio>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace sluice::storage {
namespace {

constexpr int64_t kNow = 1'700'000'000'000;
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

class HashOpsTest : public ::testing::Test {
 protected:
  size_t Set(std::string_view key, std::vector<std::string_view> pairs) {
    Result<size_t> r = HashSet(shard_, key, pairs, limits_, kNow);
    EXPECT_TRUE(r.ok());
    return r.value;
  }
  const Entry* Hash(std::string_view key) {
    Result<const Entry*> r = FindHash(shard_, key, kNow);
    EXPECT_TRUE(r.ok());
    return r.value;
  }
  std::string Get(std::string_view key, std::string_view field) {
    const Entry* e = Hash(key);
    if (e == nullptr) return "<nokey>";
    std::string scratch;
    auto v = HashView(e).Get(field, &scratch);
    return v ? std::string(*v) : "<nil>";
  }
  std::map<std::string, std::string> All(std::string_view key) {
    std::map<std::string, std::string> out;
    HashView(Hash(key)).ForEach([&](std::string_view f, std::string_view v) {
      EXPECT_TRUE(out.emplace(f, v).second) << "field twice: " << f;
    });
    return out;
  }
  bool Packed(std::string_view key) { return HashView(Hash(key)).packed(); }
  // The shard's byte count agrees with its entries.
  void ExpectBytesConsistent() {
    size_t sum = 0;
    shard_.ForEach(kNow, [&](const Entry& e) { sum += e.UsedBytes(); });
    EXPECT_EQ(shard_.used_bytes(), sum);
  }

  HashLimits limits_;
  Shard shard_{0};
};

TEST_F(HashOpsTest, SetGetAndCounts) {
  EXPECT_EQ(Hash("h"), nullptr);
  EXPECT_EQ(Set("h", {"a", "1", "b", "x"}), 2u);
  EXPECT_EQ(Set("h", {"a", "2", "c", ""}), 1u);
  EXPECT_EQ(Get("h", "a"), "2");
  EXPECT_EQ(Get("h", "b"), "x");
  EXPECT_EQ(Get("h", "c"), "");
  EXPECT_EQ(Get("h", "z"), "<nil>");
  EXPECT_EQ(HashView(Hash("h")).size(), 3u);
  EXPECT_EQ(Hash("h")->type(), ValueType::kHash);
  ExpectBytesConsistent();
}

TEST_F(HashOpsTest, WrongTypeBothWays) {
  shard_.Insert(Entry::CreateString("s", "v", 0));
  const std::vector<std::string_view> pairs = {"f", "v"};
  EXPECT_EQ(HashSet(shard_, "s", pairs, limits_, kNow).status, Status::kWrongType);
  EXPECT_EQ(FindHash(shard_, "s", kNow).status, Status::kWrongType);
  EXPECT_EQ(HashIncrementBy(shard_, "s", "f", 1, limits_, kNow).status, Status::kWrongType);
  EXPECT_EQ(HashDelete(shard_, "s", pairs, kNow).status, Status::kWrongType);
}

TEST_F(HashOpsTest, ConvertsPastTheEntryLimitAndNeverBack) {
  limits_.max_packed_entries = 4;
  for (int i = 0; i < 4; ++i) Set("h", {"f" + std::to_string(i), std::to_string(i)});
  EXPECT_TRUE(Packed("h"));
  ExpectBytesConsistent();
  Set("h", {"f4", "4"});
  EXPECT_FALSE(Packed("h"));
  ExpectBytesConsistent();
  const std::map<std::string, std::string> want = {
      {"f0", "0"}, {"f1", "1"}, {"f2", "2"}, {"f3", "3"}, {"f4", "4"}};
  EXPECT_EQ(All("h"), want);
  const std::vector<std::string_view> gone = {"f0", "f1", "f2", "f3"};
  EXPECT_EQ(HashDelete(shard_, "h", gone, kNow).value.removed, 4u);
  EXPECT_FALSE(Packed("h"));
  ExpectBytesConsistent();
}

TEST_F(HashOpsTest, ConvertsForALongFieldOrValue) {
  limits_.max_packed_value = 8;
  Set("h", {"f", std::string(8, 'x')});
  EXPECT_TRUE(Packed("h"));
  Set("h", {"g", std::string(9, 'x')});
  EXPECT_FALSE(Packed("h"));
  Set("h2", {std::string(9, 'k'), "v"});
  EXPECT_FALSE(Packed("h2"));
  EXPECT_EQ(Get("h", "f"), std::string(8, 'x'));
  EXPECT_EQ(Get("h", "g"), std::string(9, 'x'));
}

TEST_F(HashOpsTest, ZeroEntryLimitStoresEveryHashAsATable) {
  limits_.max_packed_entries = 0;
  Set("h", {"f", "v"});
  EXPECT_FALSE(Packed("h"));
}

TEST_F(HashOpsTest, TinyMapUntilTooManyPairsOrALongString) {
  // Up to tiny_map::kMaxPairs short pairs live inside the entry.
  for (size_t i = 0; i < tiny_map::kMaxPairs; ++i) {
    Set("h", {"f" + std::to_string(i), std::to_string(i * 1000)});
    ASSERT_FALSE(Hash("h")->is_object()) << i;
    ExpectBytesConsistent();
  }
  EXPECT_TRUE(Packed("h"));
  Set("h", {"one-more", "v"});
  EXPECT_TRUE(Hash("h")->is_object());
  EXPECT_TRUE(Packed("h"));  // now an out-of-line PackedList
  EXPECT_EQ(HashView(Hash("h")).size(), tiny_map::kMaxPairs + 1);
  EXPECT_EQ(Get("h", "f7"), "7000");
  ExpectBytesConsistent();
  // A value longer than tiny_map::kMaxLength: packed, not a table.
  Set("long", {"f", std::string(tiny_map::kMaxLength, 'x')});
  EXPECT_FALSE(Hash("long")->is_object());
  Set("long", {"g", std::string(tiny_map::kMaxLength + 1, 'x')});
  EXPECT_TRUE(Hash("long")->is_object());
  EXPECT_TRUE(Packed("long"));
  EXPECT_EQ(All("long"), (std::map<std::string, std::string>{{"f", std::string(15, 'x')},
                                                             {"g", std::string(16, 'x')}}));
  // Updating, deleting and incrementing in a TinyMap.
  Set("t", {"a", "1", "b", "2"});
  const std::vector<std::string_view> a = {"a"};
  EXPECT_EQ(HashDelete(shard_, "t", a, kNow).value.removed, 1u);
  EXPECT_EQ(HashIncrementBy(shard_, "t", "b", 40, limits_, kNow).value, 42);
  EXPECT_EQ(All("t"), (std::map<std::string, std::string>{{"b", "42"}}));
  EXPECT_FALSE(Hash("t")->is_object());
  ExpectBytesConsistent();
}

TEST_F(HashOpsTest, SetIfAbsent) {
  EXPECT_TRUE(HashSetIfAbsent(shard_, "h", "f", "1", limits_, kNow).value);
  EXPECT_FALSE(HashSetIfAbsent(shard_, "h", "f", "2", limits_, kNow).value);
  EXPECT_EQ(Get("h", "f"), "1");
}

TEST_F(HashOpsTest, DeletingTheLastFieldRemovesTheKey) {
  Set("h", {"a", "1", "b", "2"});
  const std::vector<std::string_view> fields = {"a", "x", "b", "a"};
  Result<HashDeleteOutcome> r = HashDelete(shard_, "h", fields, kNow);
  EXPECT_EQ(r.value.removed, 2u);
  EXPECT_TRUE(r.value.key_removed);
  EXPECT_EQ(shard_.size(), 0u);
  EXPECT_EQ(shard_.used_bytes(), 0u);
  EXPECT_FALSE(HashDelete(shard_, "h", fields, kNow).value.key_removed);
}

TEST_F(HashOpsTest, IncrementBy) {
  EXPECT_EQ(HashIncrementBy(shard_, "h", "n", 5, limits_, kNow).value, 5);
  EXPECT_EQ(HashIncrementBy(shard_, "h", "n", -7, limits_, kNow).value, -2);
  EXPECT_EQ(Get("h", "n"), "-2");
  Set("h", {"s", "abc", "lead", "01", "max", std::to_string(kMax)});
  EXPECT_EQ(HashIncrementBy(shard_, "h", "s", 1, limits_, kNow).status,
            Status::kHashValueNotInteger);
  EXPECT_EQ(HashIncrementBy(shard_, "h", "lead", 1, limits_, kNow).status,
            Status::kHashValueNotInteger);
  EXPECT_EQ(HashIncrementBy(shard_, "h", "max", 1, limits_, kNow).status, Status::kOverflow);
  EXPECT_EQ(Get("h", "max"), std::to_string(kMax));
  ExpectBytesConsistent();
}

TEST_F(HashOpsTest, IncrementByFloat) {
  EXPECT_EQ(HashIncrementByFloat(shard_, "h", "x", 10.5L, limits_, kNow).value, "10.5");
  EXPECT_EQ(HashIncrementByFloat(shard_, "h", "x", 0.1L, limits_, kNow).value, "10.6");
  Set("h", {"s", "abc"});
  EXPECT_EQ(HashIncrementByFloat(shard_, "h", "s", 1, limits_, kNow).status,
            Status::kHashValueNotFloat);
  // A failed increment on an absent key creates nothing.
  EXPECT_EQ(HashIncrementBy(shard_, "new", "f", 1, limits_, kNow).value, 1);
}

TEST_F(HashOpsTest, RandomFields) {
  for (const bool packed : {true, false}) {
    limits_.max_packed_entries = packed ? 128 : 4;
    const std::string key = packed ? "p" : "t";
    for (int i = 0; i < 50; ++i) Set(key, {"f" + std::to_string(i), std::to_string(i)});
    ASSERT_EQ(Packed(key), packed);
    const Entry* e = Hash(key);
    for (int64_t count : {1, 5, 20, 49, 50, 60}) {
      std::vector<FieldValue> got = HashRandomFields(e, count);
      std::set<std::string> distinct;
      for (const auto& [f, v] : got) {
        distinct.insert(f);
        EXPECT_EQ("f" + v, f);
      }
      EXPECT_EQ(got.size(), std::min<size_t>(count, 50));
      EXPECT_EQ(distinct.size(), got.size()) << "count " << count;
    }
    std::vector<FieldValue> repeated = HashRandomFields(e, -200);
    EXPECT_EQ(repeated.size(), 200u);
    EXPECT_TRUE(HashRandomFields(e, 0).empty());
  }
}

TEST_F(HashOpsTest, ScanVisitsEveryFieldOfATable) {
  limits_.max_packed_entries = 4;
  std::map<std::string, std::string> want;
  for (int i = 0; i < 300; ++i) {
    const std::string f = "f" + std::to_string(i);
    Set("h", {f, std::to_string(i)});
    want[f] = std::to_string(i);
  }
  std::map<std::string, std::string> seen;
  uint64_t cursor = 0;
  int calls = 0;
  do {
    std::vector<FieldValue> page;
    cursor = HashScan(Hash("h"), cursor, 10, "", &page);
    for (auto& [f, v] : page) seen[f] = v;
    ++calls;
  } while (cursor != 0);
  EXPECT_EQ(seen, want);
  EXPECT_GT(calls, 1);
  std::vector<FieldValue> matched;
  uint64_t c = 0;
  do {
    c = HashScan(Hash("h"), c, 1000, "f1?", &matched);
  } while (c != 0);
  EXPECT_EQ(matched.size(), 10u);
}

TEST_F(HashOpsTest, CloneIsDeepAndDestroyFreesBoth) {
  for (const size_t entries : {size_t{128}, size_t{2}}) {
    limits_.max_packed_entries = entries;
    Set("h", {"a", "1", "b", "2", "c", "3"});
    EXPECT_EQ(Hash("h")->is_object(), entries == 2);  // a TinyMap while small
    Entry* copy = Entry::CloneAs(Hash("h"), "h2");
    shard_.Insert(copy);
    Set("h2", {"d", "4"});
    EXPECT_EQ(All("h").size(), 3u);
    EXPECT_EQ(All("h2").size(), 4u);
    EXPECT_EQ(HashView(Hash("h2")).packed(), entries == 128);
    EXPECT_GE(Hash("h2")->AllocatedBytes() + 32, Hash("h2")->UsedBytes());
    ExpectBytesConsistent();
    shard_.Clear();
  }
}

TEST_F(HashOpsTest, BytesFollowAGrowingAndShrinkingHash) {
  limits_.max_packed_entries = 64;
  const size_t empty = shard_.used_bytes();
  for (int i = 0; i < 1000; ++i) {
    Set("h", {"field" + std::to_string(i), std::string(50, 'v')});
    if (i % 97 == 0) ExpectBytesConsistent();
  }
  EXPECT_GT(shard_.used_bytes(), empty + 1000 * 50);
  for (int i = 0; i < 1000; ++i) {
    const std::string f = "field" + std::to_string(i);
    const std::vector<std::string_view> one = {f};
    ASSERT_EQ(HashDelete(shard_, "h", one, kNow).value.removed, 1u);
    if (i % 97 == 0) ExpectBytesConsistent();
  }
  EXPECT_EQ(shard_.used_bytes(), 0u);
}

// Prints (does not assert) what a 5-field hash of 10-byte fields and values
// costs: Entry::AllocatedBytes (usable sizes of this process's allocator:
// glibc, or jemalloc's classes under
// LD_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2) and the shard's
// MemoryBytes (with the key table). redis-server 7.0 uses about 200 bytes
// per such hash (INFO used_memory, 12-byte keys).
TEST_F(HashOpsTest, BytesPerSmallHash) {
  constexpr int kHashes = 100'000;
  size_t allocated = 0;
  char key[16], field[16], value[16];
  for (int i = 0; i < kHashes; ++i) {
    std::snprintf(key, sizeof(key), "hash:%07d", i);
    std::vector<std::string> strings;
    for (int j = 0; j < 5; ++j) {
      std::snprintf(field, sizeof(field), "field%05d", j);
      std::snprintf(value, sizeof(value), "value%05d", i % 100000);
      strings.emplace_back(field);
      strings.emplace_back(value);
    }
    std::vector<std::string_view> pairs(strings.begin(), strings.end());
    ASSERT_TRUE(HashSet(shard_, key, pairs, limits_, kNow).ok());
  }
  shard_.ForEach(kNow, [&](const Entry& e) { allocated += e.AllocatedBytes(); });
  std::printf(
      "5-field hash (12-byte key, 10-byte fields and values): %.1f bytes of entry and "
      "hash, %.1f with the key table\n",
      static_cast<double>(allocated) / kHashes,
      static_cast<double>(shard_.MemoryBytes()) / kHashes);
}

}  // namespace
}  // namespace sluice::storage
