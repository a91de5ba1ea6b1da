#include "storage/types/str_set.h"

#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "absl/random/random.h"
#include "gtest/gtest.h"

namespace sluice::storage {
namespace {

std::string Member(uint64_t i) { return "member:" + std::to_string(i); }

std::set<std::string> Contents(const StrSet& s) {
  std::set<std::string> out;
  s.ForEach([&](std::string_view m) { EXPECT_TRUE(out.emplace(m).second) << m; });
  return out;
}

TEST(StrSetTest, Empty) {
  StrSet s;
  EXPECT_EQ(s.size(), 0u);
  EXPECT_FALSE(s.Contains(""));
  EXPECT_FALSE(s.Erase("x"));
  EXPECT_EQ(s.AllocatedBytes(), 0u);
  EXPECT_EQ(s.Scan(0, [](std::string_view) { ADD_FAILURE(); }), 0u);
  EXPECT_TRUE(s.CheckConsistency());
}

TEST(StrSetTest, OneElementAndTheEmptyString) {
  StrSet s;
  EXPECT_TRUE(s.Insert(""));
  EXPECT_FALSE(s.Insert(""));
  EXPECT_TRUE(s.Contains(""));
  absl::BitGen gen;
  EXPECT_EQ(s.Random(gen), "");
  EXPECT_EQ(s.PopRandom(gen), "");
  EXPECT_TRUE(s.empty());
  EXPECT_EQ(s.AllocatedBytes(), 0u);  // the last erase frees everything
}

TEST(StrSetTest, BinaryAndLargeMembers) {
  StrSet s;
  const std::string with_nul("a\0b", 3);
  const std::string big(100 * 1024, 'z');
  EXPECT_TRUE(s.Insert(with_nul));
  EXPECT_TRUE(s.Insert(std::string("a\0c", 3)));
  EXPECT_TRUE(s.Insert(big));
  EXPECT_TRUE(s.Contains(with_nul));
  EXPECT_FALSE(s.Contains("a"));
  EXPECT_TRUE(s.Contains(big));
  EXPECT_FALSE(s.Contains(big.substr(1)));
  EXPECT_GE(s.AllocatedBytes(), big.size());
  EXPECT_TRUE(s.Erase(big));
  EXPECT_LT(s.AllocatedBytes(), 1024u);
  EXPECT_TRUE(s.CheckConsistency());
}

TEST(StrSetTest, GrowsAndShrinksThroughIncrementalResizes) {
  StrSet s;
  for (int i = 0; i < 20000; ++i) {
    ASSERT_TRUE(s.Insert(Member(i)));
    if (i % 1000 == 0) {
      ASSERT_TRUE(s.CheckConsistency());
    }
  }
  for (int i = 0; i < 20000; ++i) ASSERT_TRUE(s.Contains(Member(i))) << i;
  const size_t full = s.AllocatedBytes();
  for (int i = 0; i < 19990; ++i) {
    ASSERT_TRUE(s.Erase(Member(i)));
    if (i % 1000 == 0) {
      ASSERT_TRUE(s.CheckConsistency());
    }
  }
  while (s.RehashStep()) {
  }
  EXPECT_EQ(s.size(), 10u);
  EXPECT_LT(s.AllocatedBytes(), full / 100);
  for (int i = 19990; i < 20000; ++i) EXPECT_TRUE(s.Contains(Member(i)));
  EXPECT_TRUE(s.CheckConsistency());
}

TEST(StrSetTest, RandomAndPopCoverEveryMember) {
  StrSet s;
  for (int i = 0; i < 50; ++i) s.Insert(Member(i));
  absl::BitGen gen;
  std::set<std::string> seen;
  for (int i = 0; i < 5000; ++i) seen.emplace(s.Random(gen));
  EXPECT_EQ(seen.size(), 50u);
  std::set<std::string> popped;
  while (!s.empty()) EXPECT_TRUE(popped.insert(s.PopRandom(gen)).second);
  EXPECT_EQ(popped, seen);
}

// The SCAN guarantee: a member present from the first call to the last is
// returned, while other members come and go and the table grows and shrinks.
TEST(StrSetTest, ScanReturnsStableMembersAcrossResizes) {
  for (int round = 0; round < 4; ++round) {
    std::mt19937_64 rng(round);
    StrSet s;
    std::set<std::string> stable;
    for (int i = 0; i < 300; ++i) {
      s.Insert(Member(i));
      stable.insert(Member(i));
    }
    std::set<std::string> seen;
    uint64_t cursor = 0;
    int calls = 0;
    uint64_t next_id = 1000;
    std::vector<std::string> transient;
    do {
      cursor = s.Scan(cursor, [&](std::string_view m) { seen.emplace(m); });
      // Rounds 0-1 grow the set a lot while scanning, 2-3 shrink it.
      const int changes = 1 + static_cast<int>(rng() % 40);
      for (int c = 0; c < changes; ++c) {
        if (round < 2 || transient.empty() || rng() % 4 == 0) {
          transient.push_back(Member(next_id++));
          s.Insert(transient.back());
        }
        if (round >= 2 && !transient.empty()) {
          s.Erase(transient.back());
          transient.pop_back();
        }
      }
      if (round >= 2 && calls == 3) {  // a big burst then mass removal: shrinks
        for (int i = 0; i < 5000; ++i) s.Insert(Member(next_id + i));
        for (int i = 0; i < 5000; ++i) s.Erase(Member(next_id + i));
        next_id += 5000;
      }
      ++calls;
      ASSERT_LT(calls, 100000);
    } while (cursor != 0);
    for (const auto& m : stable) EXPECT_TRUE(seen.count(m)) << "round " << round << " " << m;
    EXPECT_TRUE(s.CheckConsistency());
  }
}

TEST(StrSetTest, ScanWithoutChangesReturnsEachMemberOnce) {
  StrSet s;
  for (int i = 0; i < 1000; ++i) s.Insert(Member(i));
  while (s.RehashStep()) {
  }
  std::multiset<std::string> seen;
  uint64_t cursor = 0;
  do {
    cursor = s.Scan(cursor, [&](std::string_view m) { seen.emplace(m); });
  } while (cursor != 0);
  EXPECT_EQ(seen.size(), 1000u);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 1000u);
}

TEST(StrSetTest, RandomAgainstStdSet) {
  std::mt19937_64 rng(1);
  StrSet s;
  std::set<std::string> model;
  for (int step = 0; step < 200000; ++step) {
    // Phases of net growth and net shrinkage so both resizes happen often.
    const bool growing = (step / 20000) % 2 == 0;
    const std::string m = rng() % 50 == 0 ? std::string(rng() % 2000, 'x') : Member(rng() % 30000);
    const uint64_t op = rng() % 10;
    if (op < (growing ? 6u : 3u)) {
      ASSERT_EQ(s.Insert(m), model.insert(m).second);
    } else if (op < 8) {
      ASSERT_EQ(s.Erase(m), model.erase(m) == 1);
    } else {
      ASSERT_EQ(s.Contains(m), model.count(m) == 1);
    }
    ASSERT_EQ(s.size(), model.size());
    if (step % 9973 == 0) {
      ASSERT_TRUE(s.CheckConsistency());
      ASSERT_EQ(Contents(s), model);
    }
  }
  EXPECT_EQ(Contents(s), model);
}

TEST(StrMapTest, EmptyAndOneField) {
  StrMap m;
  std::string_view v;
  EXPECT_FALSE(m.Find("f", &v));
  EXPECT_FALSE(m.Erase("f"));
  EXPECT_TRUE(m.Set("f", "v"));
  ASSERT_TRUE(m.Find("f", &v));
  EXPECT_EQ(v, "v");
  absl::BitGen gen;
  EXPECT_EQ(m.Random(gen), std::make_pair(std::string_view("f"), std::string_view("v")));
  EXPECT_TRUE(m.Erase("f"));
  EXPECT_TRUE(m.empty());
  EXPECT_EQ(m.AllocatedBytes(), 0u);
}

TEST(StrMapTest, OverwriteChangesTheValueSize) {
  StrMap m;
  for (int i = 0; i < 100; ++i) m.Set(Member(i), "x");
  EXPECT_FALSE(m.Set(Member(5), std::string(70000, 'y')));
  EXPECT_FALSE(m.Set(Member(6), ""));
  std::string_view v;
  ASSERT_TRUE(m.Find(Member(5), &v));
  EXPECT_EQ(v, std::string(70000, 'y'));
  ASSERT_TRUE(m.Find(Member(6), &v));
  EXPECT_EQ(v, "");
  EXPECT_FALSE(m.Set(Member(5), "short"));
  ASSERT_TRUE(m.Find(Member(5), &v));
  EXPECT_EQ(v, "short");
  EXPECT_FALSE(m.SetIfAbsent(Member(5), "other"));
  EXPECT_TRUE(m.SetIfAbsent("new", "n"));
  ASSERT_TRUE(m.Find(Member(5), &v));
  EXPECT_EQ(v, "short");
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(m.Find(Member(i), &v)) << i;
    if (i != 5 && i != 6) {
      EXPECT_EQ(v, "x");
    }
  }
  EXPECT_TRUE(m.CheckConsistency());
}

TEST(StrMapTest, RandomAgainstStdMap) {
  std::mt19937_64 rng(2);
  StrMap m;
  std::map<std::string, std::string> model;
  for (int step = 0; step < 200000; ++step) {
    const bool growing = (step / 25000) % 2 == 0;
    const std::string f = Member(rng() % 20000);
    const uint64_t op = rng() % 10;
    if (op < (growing ? 6u : 3u)) {
      const std::string v = std::string(rng() % (rng() % 20 == 0 ? 500 : 12), 'a' + rng() % 26);
      auto [it, added] = model.insert_or_assign(f, v);
      ASSERT_EQ(m.Set(f, v), added);
    } else if (op < 8) {
      ASSERT_EQ(m.Erase(f), model.erase(f) == 1);
    } else {
      std::string_view v;
      const auto it = model.find(f);
      ASSERT_EQ(m.Find(f, &v), it != model.end());
      if (it != model.end()) {
        ASSERT_EQ(v, it->second);
      }
    }
    ASSERT_EQ(m.size(), model.size());
    if (step % 9973 == 0) {
      ASSERT_TRUE(m.CheckConsistency());
      std::map<std::string, std::string> contents;
      m.ForEach([&](std::string_view k, std::string_view v) { contents.emplace(k, v); });
      ASSERT_EQ(contents, model);
    }
  }
  std::map<std::string, std::string> scanned;
  uint64_t cursor = 0;
  do {
    cursor = m.Scan(cursor, [&](std::string_view k, std::string_view v) { scanned.emplace(k, v); });
  } while (cursor != 0);
  EXPECT_EQ(scanned, model);
}

}  // namespace
}  // namespace sluice::storage
