#include "storage/types/packed.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace sluice::storage {
namespace {

// The list's elements as the strings a client would read back.
std::vector<std::string> Strings(const PackedList& l) {
  std::vector<std::string> out;
  std::string scratch;
  for (auto pos = l.begin(); pos != l.end(); pos = l.Next(pos)) {
    out.emplace_back(l.Get(pos).AsString(&scratch));
  }
  return out;
}

std::vector<std::string> StringsBackwards(const PackedList& l) {
  std::vector<std::string> out;
  std::string scratch;
  for (auto pos = l.end(); pos != l.begin();) {
    pos = l.Prev(pos);
    out.emplace_back(l.Get(pos).AsString(&scratch));
  }
  return {out.rbegin(), out.rend()};
}

TEST(PackedListTest, EmptyOwnsNothing) {
  PackedList l;
  EXPECT_EQ(l.size(), 0u);
  EXPECT_TRUE(l.empty());
  EXPECT_EQ(l.bytes(), 0u);
  EXPECT_EQ(l.AllocatedBytes(), 0u);
  EXPECT_EQ(l.begin(), l.end());
  EXPECT_EQ(l.Find("x"), l.end());
  EXPECT_EQ(l.At(0), l.end());
  EXPECT_EQ(l.At(-1), l.end());
  EXPECT_EQ(l.Erase(l.begin()), l.begin());
  EXPECT_TRUE(l.CheckConsistency());
}

TEST(PackedListTest, OneElement) {
  PackedList l;
  l.PushBack("hello");
  EXPECT_EQ(l.size(), 1u);
  EXPECT_EQ(l.bytes(), PackedList::kHeaderBytes + 1 + 5 + 1);
  ASSERT_TRUE(l.Get(l.begin()).is_string());
  EXPECT_EQ(l.Get(l.begin()).str(), "hello");
  EXPECT_EQ(l.Next(l.begin()), l.end());
  EXPECT_EQ(l.Prev(l.end()), l.begin());
  EXPECT_EQ(l.Find("hello"), l.begin());
  EXPECT_EQ(l.Find("hell"), l.end());
  l.Erase(l.begin());
  EXPECT_TRUE(l.empty());
  EXPECT_EQ(l.AllocatedBytes(), 0u);
}

TEST(PackedListTest, ShortStringsCostTwoBytes) {
  PackedList l;
  for (int i = 0; i < 10; ++i) l.PushBack("field:" + std::string(4, static_cast<char>('a' + i)));
  EXPECT_EQ(l.bytes(), PackedList::kHeaderBytes + 10 * (10 + 2));
}

TEST(PackedListTest, CanonicalIntegersAreStoredAsIntegers) {
  PackedList l;
  const std::vector<std::string> ints = {"0",
                                         "1",
                                         "127",
                                         "128",
                                         "-1",
                                         "-128",
                                         "-129",
                                         "32767",
                                         "9223372036854775807",
                                         "-9223372036854775808"};
  for (const auto& s : ints) l.PushBack(s);
  for (auto pos = l.begin(); pos != l.end(); pos = l.Next(pos)) EXPECT_TRUE(l.Get(pos).is_int());
  EXPECT_EQ(Strings(l), ints);
  EXPECT_EQ(l.Get(l.At(-1)).int_value(), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(l.Get(l.At(-2)).int_value(), std::numeric_limits<int64_t>::max());
  // "0".."127" take one byte plus the back-length.
  PackedList small;
  small.PushBack("7");
  EXPECT_EQ(small.bytes(), PackedList::kHeaderBytes + 2);
  EXPECT_TRUE(l.CheckConsistency());
}

TEST(PackedListTest, NonCanonicalIntegersStayStrings) {
  PackedList l;
  const std::vector<std::string> not_ints = {
      "0123", "+1",  "-0", "1 ", " 1", "", "-", "9223372036854775808", "-9223372036854775809",
      "1.0",  "1e3", "00"};
  for (const auto& s : not_ints) l.PushBack(s);
  for (auto pos = l.begin(); pos != l.end(); pos = l.Next(pos)) {
    EXPECT_TRUE(l.Get(pos).is_string());
  }
  EXPECT_EQ(Strings(l), not_ints);
  // Find tells "0123" from "123" and "-0" from "0".
  l.PushBack("123");
  l.PushBack("0");
  EXPECT_EQ(l.Find("123"), l.At(-2));
  EXPECT_EQ(l.Find("0123"), l.At(0));
  EXPECT_EQ(l.Find("0"), l.At(-1));
  EXPECT_EQ(l.Find("-0"), l.At(2));
  EXPECT_TRUE(l.CheckConsistency());
}

TEST(PackedListTest, StringLengthBoundaries) {
  PackedList l;
  std::vector<std::string> want;
  for (size_t n : {0, 1, 63, 64, 65, 127, 128, 8255, 8256, 16383, 16384, 70000, 200000}) {
    want.push_back(std::string(n, static_cast<char>('a' + n % 26)));
    l.PushBack(want.back());
  }
  EXPECT_EQ(Strings(l), want);
  EXPECT_EQ(StringsBackwards(l), want);
  for (const auto& s : want) EXPECT_NE(l.Find(s), l.end()) << s.size();
  EXPECT_TRUE(l.CheckConsistency());
}

TEST(PackedListTest, LargeStringOver64KiB) {
  PackedList l;
  std::string big(100 * 1024, 'x');
  big[0] = 'a';
  big.back() = 'z';
  l.PushBack("before");
  l.PushBack(big);
  l.PushBack("after");
  EXPECT_EQ(l.Get(l.At(1)).str(), big);
  EXPECT_EQ(l.Prev(l.Prev(l.end())), l.At(1));
  EXPECT_GE(l.AllocatedBytes(), big.size());
  l.ReplaceString(l.At(1), "tiny");
  EXPECT_EQ(Strings(l), (std::vector<std::string>{"before", "tiny", "after"}));
  EXPECT_LT(l.AllocatedBytes(), 1024u);  // shrank back
  EXPECT_TRUE(l.CheckConsistency());
}

TEST(PackedListTest, Scores) {
  PackedList l;
  const double inf = std::numeric_limits<double>::infinity();
  const std::vector<double> scores = {0.0,
                                      -0.0,
                                      1.0,
                                      -1.0,
                                      1.5,
                                      inf,
                                      -inf,
                                      1e300,
                                      9007199254740993.0,
                                      -9223372036854775808.0,
                                      9223372036854775808.0};
  for (double d : scores) l.InsertDouble(l.end(), d);
  auto pos = l.begin();
  for (double d : scores) {
    const auto v = l.Get(pos);
    ASSERT_FALSE(v.is_string());
    EXPECT_EQ(v.AsDouble(), d);
    EXPECT_EQ(std::signbit(v.AsDouble()), std::signbit(d));
    pos = l.Next(pos);
  }
  // Integral scores take the integer encoding; -0.0 and 2^63 do not.
  EXPECT_TRUE(l.Get(l.At(0)).is_int());
  EXPECT_TRUE(l.Get(l.At(1)).is_double());
  EXPECT_TRUE(l.Get(l.At(2)).is_int());
  EXPECT_TRUE(l.Get(l.At(4)).is_double());
  EXPECT_TRUE(l.Get(l.At(9)).is_int());
  EXPECT_TRUE(l.Get(l.At(10)).is_double());
  // A double element never equals a string.
  EXPECT_EQ(l.Find("1.5"), l.end());
  EXPECT_EQ(l.Find("1"), l.At(2));
  std::string scratch;
  EXPECT_EQ(l.Get(l.At(4)).AsString(&scratch), "1.5");
  EXPECT_TRUE(l.CheckConsistency());
}

TEST(PackedListTest, HashLayoutFindWithSkip) {
  PackedList l;
  // field, value pairs where a value equals a later field.
  for (const char* s : {"a", "b", "b", "c", "c", "a"}) l.PushBack(s);
  EXPECT_EQ(l.Find("b", l.begin(), 1), l.At(2));
  EXPECT_EQ(l.Find("a", l.begin(), 1), l.At(0));
  EXPECT_EQ(l.Find("c", l.begin(), 1), l.At(4));
  EXPECT_EQ(l.Find("a", l.Next(l.begin()), 1), l.At(5));  // values only
  EXPECT_EQ(l.Find("d", l.begin(), 1), l.end());
}

TEST(PackedListTest, InsertEraseReplaceInTheMiddle) {
  PackedList l;
  l.PushBack("a");
  l.PushBack("d");
  auto pos = l.InsertString(l.At(1), "b");
  EXPECT_EQ(l.Get(pos).str(), "b");
  l.InsertInt(l.At(2), 300);
  EXPECT_EQ(Strings(l), (std::vector<std::string>{"a", "b", "300", "d"}));
  l.ReplaceInt(l.At(0), -5);
  l.ReplaceString(l.At(2), "cc");
  EXPECT_EQ(Strings(l), (std::vector<std::string>{"-5", "b", "cc", "d"}));
  pos = l.Erase(l.At(1), 2);
  EXPECT_EQ(l.Get(pos).str(), "d");
  EXPECT_EQ(Strings(l), (std::vector<std::string>{"-5", "d"}));
  pos = l.Erase(l.At(1), 10);  // clipped
  EXPECT_EQ(pos, l.end());
  EXPECT_EQ(Strings(l), (std::vector<std::string>{"-5"}));
  EXPECT_EQ(l.At(-1), l.begin());
  EXPECT_EQ(l.At(1), l.end());
  EXPECT_EQ(l.At(-2), l.end());
}

TEST(PackedListTest, MoveTransfersTheBlock) {
  PackedList a;
  a.PushBack("x");
  PackedList b(std::move(a));
  EXPECT_EQ(a.size(), 0u);  // NOLINT(bugprone-use-after-move): moved-from is empty
  EXPECT_EQ(b.size(), 1u);
  PackedList c;
  c.PushBack("y");
  c = std::move(b);
  EXPECT_EQ(Strings(c), std::vector<std::string>{"x"});
}

// Random inserts, replaces, erases and finds against a std::vector of the
// strings each element should read back as.
TEST(PackedListTest, RandomAgainstVector) {
  std::mt19937_64 rng(42);
  auto random_value = [&rng]() -> std::string {
    switch (rng() % 6) {
      case 0:
        return std::to_string(static_cast<int64_t>(rng()));  // any int64
      case 1:
        return std::to_string(static_cast<int>(rng() % 300) - 150);
      case 2:
        return "0" + std::to_string(rng() % 100);  // non-canonical
      case 3:
        return std::string(rng() % 300, static_cast<char>('a' + rng() % 26));
      case 4:
        return std::string(1 + rng() % 9000, 'q');
      default:
        return "k" + std::to_string(rng() % 50);
    }
  };
  PackedList l;
  std::vector<std::string> model;
  for (int step = 0; step < 20000; ++step) {
    const size_t n = model.size();
    const int op = static_cast<int>(rng() % 10);
    if (op < 4 || n == 0) {
      const size_t i = n == 0 ? 0 : rng() % (n + 1);
      const std::string v = random_value();
      l.InsertString(i == n ? l.end() : l.At(static_cast<int64_t>(i)), v);
      model.insert(model.begin() + static_cast<std::ptrdiff_t>(i), v);
    } else if (op < 6) {
      const size_t i = rng() % n;
      const size_t count = 1 + rng() % 3;
      l.Erase(l.At(static_cast<int64_t>(i)), count);
      model.erase(model.begin() + static_cast<std::ptrdiff_t>(i),
                  model.begin() + static_cast<std::ptrdiff_t>(std::min(n, i + count)));
    } else if (op < 7) {
      const size_t i = rng() % n;
      model[i] = random_value();
      l.ReplaceString(l.At(static_cast<int64_t>(i)), model[i]);
    } else if (op < 8) {
      const size_t i = rng() % n;
      const auto v = static_cast<int64_t>(rng());
      model[i] = std::to_string(v);
      l.ReplaceInt(l.At(-static_cast<int64_t>(n - i)), v);
    } else {
      const std::string probe = rng() % 2 == 0 ? model[rng() % n] : random_value();
      const auto pos = l.Find(probe);
      const auto it = std::find(model.begin(), model.end(), probe);
      if (it == model.end()) {
        EXPECT_EQ(pos, l.end());
      } else {
        EXPECT_EQ(pos, l.At(it - model.begin()));
      }
    }
    ASSERT_EQ(l.size(), model.size());
    if (model.size() > 60) {  // keep it small-ish, as the encoding is used
      l.Erase(l.begin(), 30);
      model.erase(model.begin(), model.begin() + 30);
    }
    if (step % 97 == 0) {
      ASSERT_TRUE(l.CheckConsistency());
      ASSERT_EQ(Strings(l), model);
      ASSERT_EQ(StringsBackwards(l), model);
    }
  }
  EXPECT_EQ(Strings(l), model);
}

// A small sorted set's layout (member, score, member, score, ...) under
// random adds, score updates, removals and member lookups, against a vector
// of (member, score) pairs. Scores are compared bit for bit (-0.0 included).
TEST(PackedListTest, RandomSortedSetLayoutAgainstVector) {
  std::mt19937_64 rng(43);
  const double inf = std::numeric_limits<double>::infinity();
  auto random_score = [&]() -> double {
    switch (rng() % 7) {
      case 0:
        return rng() % 2 ? inf : -inf;
      case 1:
        return rng() % 2 ? 0.0 : -0.0;
      case 2:
        return static_cast<double>(static_cast<int64_t>(rng()));  // large, integral
      case 3:
        return std::ldexp(static_cast<double>(rng() % 100000), -static_cast<int>(rng() % 20));
      case 4:
        return std::bit_cast<double>(rng() & ~(uint64_t{0x7ff} << 52));  // tiny / subnormal
      default:
        return static_cast<double>(static_cast<int>(rng() % 1000) - 500);
    }
  };
  auto same = [](double a, double b) {
    return std::bit_cast<uint64_t>(a) == std::bit_cast<uint64_t>(b);
  };
  PackedList l;
  std::vector<std::pair<std::string, double>> model;
  for (int step = 0; step < 20000; ++step) {
    const std::string member =
        rng() % 3 == 0 ? std::to_string(rng() % 40) : "m" + std::to_string(rng() % 40);
    auto it =
        std::find_if(model.begin(), model.end(), [&](const auto& e) { return e.first == member; });
    const auto pos = l.Find(member, l.begin(), 1);
    if (it == model.end()) {
      ASSERT_EQ(pos, l.end());
    } else {
      ASSERT_EQ(pos, l.At(2 * (it - model.begin())));
      ASSERT_TRUE(same(l.Get(l.Next(pos)).AsDouble(), it->second));
    }
    const double score = random_score();
    switch (rng() % 3) {
      case 0:  // add (at a random pair boundary) or update
        if (it == model.end()) {
          const size_t i = rng() % (model.size() + 1);
          const auto at = l.InsertString(i == model.size() ? l.end() : l.At(2 * i), member);
          l.InsertDouble(l.Next(at), score);
          model.insert(model.begin() + static_cast<std::ptrdiff_t>(i), {member, score});
        } else {
          l.ReplaceDouble(l.Next(pos), score);
          it->second = score;
        }
        break;
      case 1:
        if (it != model.end()) {
          l.Erase(pos, 2);
          model.erase(it);
        }
        break;
      default:
        break;
    }
    ASSERT_EQ(l.size(), 2 * model.size());
    if (step % 101 == 0) {
      ASSERT_TRUE(l.CheckConsistency());
      size_t i = 0;
      for (auto p = l.begin(); p != l.end(); p = l.Next(l.Next(p)), ++i) {
        std::string scratch;
        ASSERT_EQ(l.Get(p).AsString(&scratch), model[i].first);
        ASSERT_TRUE(same(l.Get(l.Next(p)).AsDouble(), model[i].second)) << model[i].second;
      }
      // Backwards too: the last score, then its member.
      if (!model.empty()) {
        ASSERT_TRUE(same(l.Get(l.Prev(l.end())).AsDouble(), model.back().second));
      }
    }
  }
}

}  // namespace
}  // namespace sluice::storage
