#include "storage/types/quick_list.h"

#include <cstdint>
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

TEST(QuickListTest, RandomizedAgainstDeque) {
  std::mt19937_64 rng(7);
  for (int fill : {-2, -1, 1, 3, 16}) {
    QuickList q(fill);
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

}  // namespace
}  // namespace sluice::storage
