#include "storage/types/quick_list.h"

#include <cstdint>
#include <cstdio>
#include <deque>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace sluice::storage {
namespace {

std::vector<std::string> Items(const QuickList& q) {
  std::vector<std::string> out;
  std::string scratch;
  for (QuickList::Iter it = q.Front(); it.valid(); q.Next(it)) {
    out.emplace_back(q.Get(it).AsString(&scratch));
  }
  return out;
}

std::vector<std::string> Backwards(const QuickList& q) {
  std::vector<std::string> out;
  std::string scratch;
  for (QuickList::Iter it = q.Back(); it.valid(); q.Prev(it)) {
    out.insert(out.begin(), std::string(q.Get(it).AsString(&scratch)));
  }
  return out;
}

void ExpectSame(const QuickList& q, const std::deque<std::string>& d) {
  ASSERT_TRUE(q.CheckConsistency());
  ASSERT_EQ(q.size(), d.size());
  const std::vector<std::string> want(d.begin(), d.end());
  ASSERT_EQ(Items(q), want);
  ASSERT_EQ(Backwards(q), want);
}

TEST(QuickListTest, PushPopBothEnds) {
  QuickList q(4);
  for (int i = 0; i < 10; ++i) q.PushBack(std::to_string(i));
  q.PushFront("x");
  EXPECT_EQ(q.size(), 11u);
  EXPECT_GE(q.node_count(), 3u);
  std::string scratch;
  EXPECT_EQ(q.Get(q.At(0)).AsString(&scratch), "x");
  EXPECT_EQ(q.Get(q.At(-1)).AsString(&scratch), "9");
  EXPECT_EQ(q.Get(q.At(5)).AsString(&scratch), "4");
  EXPECT_FALSE(q.At(11).valid());
  EXPECT_FALSE(q.At(-12).valid());
  q.PopFront();
  q.PopBack();
  EXPECT_EQ(Items(q), (std::vector<std::string>{"0", "1", "2", "3", "4", "5", "6", "7", "8"}));
  EXPECT_TRUE(q.CheckConsistency());
}

TEST(QuickListTest, ByteLimitedNodes) {
  QuickList q(-1);  // 4 KiB nodes
  const std::string big(1000, 'a');
  for (int i = 0; i < 20; ++i) q.PushBack(big);
  EXPECT_GE(q.node_count(), 5u);
  for (const QuickList::Node* n = q.head(); n != nullptr; n = n->next) {
    EXPECT_LE(n->list.bytes(), 4096u);
  }
  const std::string huge(10000, 'b');
  q.PushFront(huge);
  EXPECT_EQ(q.head()->list.size(), 1u);
  EXPECT_TRUE(q.CheckConsistency());
}

TEST(QuickListTest, LendKeepsTheNode) {
  QuickList::Node node;
  node.list.PushBack("a");
  node.list.PushBack("b");
  {
    QuickList q(2);
    q.Lend(&node);
    q.PushBack("c");  // a new node: the lent one is full
    EXPECT_EQ(q.node_count(), 2u);
    q.Unlend();
    EXPECT_TRUE(node.list.empty());
    EXPECT_EQ(Items(q), (std::vector<std::string>{"a", "b", "c"}));
  }
  node.list.PushBack("z");
  QuickList q(2);
  q.Lend(&node);
  q.PopFront();
  EXPECT_TRUE(q.empty());
  EXPECT_FALSE(q.lent_linked());
}

class QuickListDepthTest : public ::testing::TestWithParam<int> {};

TEST_P(QuickListDepthTest, RandomizedAgainstDeque) {
  std::mt19937_64 rng(7 + GetParam());
  for (int fill : {-2, -1, 1, 3, 16}) {
    QuickList q(fill);
    q.set_compress_depth(GetParam());
    std::deque<std::string> d;
    auto value = [&] {
      switch (rng() % 4) {
        case 0:
          return std::to_string(static_cast<int64_t>(rng() % 2000) - 1000);
        case 1:
          return std::string(rng() % 300, static_cast<char>('a' + rng() % 26));
        default:
          return std::string(1 + rng() % 8, static_cast<char>('a' + rng() % 3));
      }
    };
    for (int step = 0; step < 4000; ++step) {
      const int op = static_cast<int>(rng() % 10);
      if (op <= 1) {
        const std::string v = value();
        q.PushBack(v);
        d.push_back(v);
      } else if (op == 2) {
        const std::string v = value();
        q.PushFront(v);
        d.push_front(v);
      } else if (op == 3 && !d.empty()) {
        q.PopFront();
        d.pop_front();
      } else if (op == 4 && !d.empty()) {
        q.PopBack();
        d.pop_back();
      } else if (op == 5 && !d.empty()) {
        const size_t i = rng() % d.size();
        const std::string v = value();
        q.Replace(q.At(static_cast<int64_t>(i)), v);
        d[i] = v;
      } else if (op == 6 && !d.empty()) {
        const size_t i = rng() % d.size();
        const bool after = rng() % 2 == 0;
        const std::string v = value();
        q.Insert(q.At(static_cast<int64_t>(i)), v, after);
        d.insert(d.begin() + static_cast<std::ptrdiff_t>(i + (after ? 1 : 0)), v);
      } else if (op == 7 && !d.empty()) {
        const size_t i = rng() % d.size();
        q.Erase(q.At(static_cast<int64_t>(i)));
        d.erase(d.begin() + static_cast<std::ptrdiff_t>(i));
      } else if (op == 8 && !d.empty() && rng() % 8 == 0) {
        const size_t front = rng() % (d.size() / 4 + 1), back = rng() % (d.size() / 4 + 1);
        q.EraseFront(front);
        d.erase(d.begin(), d.begin() + static_cast<std::ptrdiff_t>(std::min(front, d.size())));
        q.EraseBack(back);
        d.erase(d.end() - static_cast<std::ptrdiff_t>(std::min(back, d.size())), d.end());
      } else if (op == 9 && !d.empty()) {
        const int64_t i =
            static_cast<int64_t>(rng() % (2 * d.size())) - static_cast<int64_t>(d.size());
        std::string scratch;
        const size_t at = static_cast<size_t>(i < 0 ? i + static_cast<int64_t>(d.size()) : i);
        ASSERT_EQ(q.Get(q.At(i)).AsString(&scratch), d[at]);
      }
      if (step % 97 == 0) ExpectSame(q, d);
    }
    ExpectSame(q, d);
    QuickList moved(std::move(q));
    ExpectSame(moved, d);
    EXPECT_GT(moved.AllocatedBytes(), 0u);
  }
}

INSTANTIATE_TEST_SUITE_P(Depths, QuickListDepthTest, ::testing::Values(0, 1, 2, 3));

std::string Element(uint64_t i) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "v%09llu", static_cast<unsigned long long>(i));
  return buf;
}

TEST(QuickListCompressTest, InteriorNodesCompressAndReadBack) {
  QuickList raw(-2), packed(-2);
  packed.set_compress_depth(1);
  std::deque<std::string> d;
  for (uint64_t i = 0; i < 30000; ++i) {
    raw.PushBack(Element(i));
    packed.PushBack(Element(i));
    d.push_back(Element(i));
  }
  ASSERT_TRUE(packed.CheckConsistency());
  // All but the two ends and at most kRawInterior nodes are compressed.
  EXPECT_GE(packed.compressed_nodes() + 2 + QuickList::kRawInterior, packed.node_count());
  EXPECT_LT(packed.AllocatedBytes(), raw.AllocatedBytes() * 3 / 4);
  ExpectSame(packed, d);
  // Reads never change the memory the list reports.
  const size_t bytes = packed.AllocatedBytes();
  std::string scratch;
  for (int64_t i = 0; i < 30000; i += 997) {
    ASSERT_EQ(packed.Get(packed.At(i)).AsString(&scratch), d[static_cast<size_t>(i)]);
  }
  EXPECT_EQ(packed.AllocatedBytes(), bytes);
  // Edits in the middle decompress a node; it is compressed again later.
  packed.Replace(packed.At(15000), "middle");
  d[15000] = "middle";
  packed.Insert(packed.At(9000), "inserted", true);
  d.insert(d.begin() + 9001, "inserted");
  packed.Erase(packed.At(21000));
  d.erase(d.begin() + 21000);
  ExpectSame(packed, d);
  // Popping everything from one end decompresses each node as it reaches the end.
  while (!d.empty()) {
    ASSERT_EQ(packed.Get(packed.Front()).AsString(&scratch), d.front());
    packed.PopFront();
    d.pop_front();
    if (d.size() % 4999 == 0) ASSERT_TRUE(packed.CheckConsistency());
  }
  EXPECT_EQ(packed.compressed_nodes(), 0u);
  EXPECT_EQ(packed.node_count(), 0u);
}

TEST(QuickListCompressTest, IncompressibleNodesStayRaw) {
  std::mt19937_64 rng(11);
  QuickList q(-2);
  q.set_compress_depth(1);
  for (int i = 0; i < 20000; ++i) {
    std::string v(16, ' ');
    for (char& c : v) c = static_cast<char>(rng());
    q.PushBack(v);
  }
  ASSERT_TRUE(q.CheckConsistency());
  EXPECT_EQ(q.compressed_nodes(), 0u);
}

// Random tokens over 62 letters have no repeats for LZF to find; zstd's
// entropy coding still takes a node to about three quarters.
TEST(QuickListCompressTest, TokensWithoutRepeatsCompressWithZstd) {
  std::mt19937_64 rng(12);
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  QuickList raw(-2), packed(-2);
  packed.set_compress_depth(1);
  std::deque<std::string> d;
  for (int i = 0; i < 50000; ++i) {
    std::string v(10, ' ');
    for (char& c : v) c = kAlphabet[rng() % 62];
    raw.PushBack(v);
    packed.PushBack(v);
    d.push_back(v);
  }
  EXPECT_GE(packed.compressed_nodes() + 2 + QuickList::kRawInterior, packed.node_count());
  EXPECT_LT(packed.AllocatedBytes(), raw.AllocatedBytes() * 4 / 5);
  ExpectSame(packed, d);
  std::string scratch;
  for (int64_t i = 0; i < 50000; i += 1009) {
    ASSERT_EQ(packed.Get(packed.At(i)).AsString(&scratch), d[static_cast<size_t>(i)]);
  }
  packed.Replace(packed.At(25000), "middle");
  d[25000] = "middle";
  packed.Erase(packed.At(12345));
  d.erase(d.begin() + 12345);
  ExpectSame(packed, d);
  while (!d.empty()) {
    ASSERT_EQ(packed.Get(packed.Back()).AsString(&scratch), d.back());
    packed.PopBack();
    d.pop_back();
  }
  EXPECT_EQ(packed.compressed_nodes(), 0u);
}

TEST(QuickListCompressTest, DepthZeroStopsCompressing) {
  QuickList q(-2);
  q.set_compress_depth(2);
  for (uint64_t i = 0; i < 30000; ++i) q.PushFront(Element(i));
  const size_t compressed = q.compressed_nodes();
  EXPECT_GT(compressed, 0u);
  q.set_compress_depth(0);
  for (uint64_t i = 0; i < 30000; ++i) q.PushFront(Element(i));
  ASSERT_TRUE(q.CheckConsistency());
  EXPECT_EQ(q.compressed_nodes(), compressed);  // the old ones stay until edited
}

}  // namespace
}  // namespace sluice::storage
