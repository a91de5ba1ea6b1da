#include "server/blocking/blocking_registry.h"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace sluice::server {
namespace {

// Counts its wakes; the test plays its thread (runs the command again and
// reports with Retried).
class Waiter : public BlockedClient {
 public:
  void Wake() override { wakes.fetch_add(1); }
  std::atomic<int> wakes{0};
};

std::vector<std::string_view> Keys(std::initializer_list<std::string_view> keys) {
  return std::vector<std::string_view>(keys);
}

TEST(BlockingRegistryTest, CountsClientsKeysAndTimeouts) {
  BlockingRegistry reg;
  Waiter a, b;
  EXPECT_TRUE(reg.empty());
  reg.Block(&a, 0, Keys({"x", "y", "x"}), /*timeout=*/true);
  reg.Block(&b, 0, Keys({"y"}), false);
  EXPECT_FALSE(reg.empty());
  EXPECT_EQ(reg.blocked_clients(), 2u);
  EXPECT_EQ(reg.clients_with_timeout(), 1u);
  EXPECT_EQ(reg.blocking_keys(), 2u);  // x and y, x named twice
  EXPECT_TRUE(reg.IsBlocked(&a));
  EXPECT_TRUE(reg.MayWatch(0, "x"));
  EXPECT_TRUE(reg.MayWatch(0, "y"));
  EXPECT_TRUE(reg.Unblock(&a));
  EXPECT_FALSE(reg.MayWatch(0, "x"));
  EXPECT_TRUE(reg.MayWatch(0, "y"));
  EXPECT_FALSE(reg.Unblock(&a));
  EXPECT_EQ(reg.blocking_keys(), 1u);
  EXPECT_EQ(reg.clients_with_timeout(), 0u);
  EXPECT_TRUE(reg.Unblock(&b));
  EXPECT_TRUE(reg.empty());
  EXPECT_EQ(reg.blocking_keys(), 0u);
  EXPECT_FALSE(reg.MayWatch(0, "y"));
}

TEST(BlockingRegistryTest, BlockTwiceKeepsThePlace) {
  BlockingRegistry reg;
  Waiter a, b;
  reg.Block(&a, 0, Keys({"k"}), false);
  reg.Block(&b, 0, Keys({"k"}), false);
  reg.Block(&a, 0, Keys({"k"}), false);  // a retry: nothing changes
  EXPECT_EQ(reg.blocked_clients(), 2u);
  reg.Signal(0, "k");
  EXPECT_EQ(a.wakes, 1);
  EXPECT_EQ(b.wakes, 0);
}

TEST(BlockingRegistryTest, SignalWakesTheFirstOnly) {
  BlockingRegistry reg;
  Waiter a, b, c;
  reg.Block(&a, 0, Keys({"k"}), false);
  reg.Block(&b, 0, Keys({"k"}), false);
  reg.Block(&c, 0, Keys({"k"}), false);
  reg.Signal(0, "k");
  reg.Signal(0, "k");  // while a's wake is out: noted, nobody else woken
  EXPECT_EQ(a.wakes, 1);
  EXPECT_EQ(b.wakes, 0);
  // a was served: the next one tries.
  reg.Retried(&a, /*served=*/true);
  EXPECT_FALSE(reg.IsBlocked(&a));
  EXPECT_EQ(b.wakes, 1);
  EXPECT_EQ(c.wakes, 0);
  reg.Retried(&b, true);
  EXPECT_EQ(c.wakes, 1);
  // c found nothing and nothing came meanwhile: it stays, nobody is woken.
  reg.Retried(&c, false);
  EXPECT_TRUE(reg.IsBlocked(&c));
  EXPECT_EQ(c.wakes, 1);
  reg.Signal(0, "k");
  EXPECT_EQ(c.wakes, 2);
}

TEST(BlockingRegistryTest, SignalDuringAFailedRetryWakesAgain) {
  BlockingRegistry reg;
  Waiter a, b;
  reg.Block(&a, 0, Keys({"k"}), false);
  reg.Block(&b, 0, Keys({"k"}), false);
  reg.Signal(0, "k");
  reg.Signal(0, "k");  // a second write while a runs its command again
  reg.Retried(&a, false);
  EXPECT_EQ(a.wakes, 2);  // a is still first: it tries again
  EXPECT_EQ(b.wakes, 0);
}

TEST(BlockingRegistryTest, WokenForOneKeyLooksAtAnotherSignalledMeanwhile) {
  BlockingRegistry reg;
  Waiter a;
  reg.Block(&a, 0, Keys({"x", "y"}), false);
  reg.Signal(0, "x");
  EXPECT_EQ(a.wakes, 1);
  reg.Signal(0, "y");  // a is already out: no second wake now
  EXPECT_EQ(a.wakes, 1);
  reg.Retried(&a, false);  // it may have looked at y before y was written
  EXPECT_EQ(a.wakes, 2);
}

TEST(BlockingRegistryTest, UnblockHandsTheWakeOn) {
  BlockingRegistry reg;
  Waiter a, b;
  reg.Block(&a, 0, Keys({"k"}), false);
  reg.Block(&b, 0, Keys({"k"}), false);
  reg.Signal(0, "k");
  EXPECT_EQ(a.wakes, 1);
  EXPECT_TRUE(reg.Unblock(&a));  // timed out or disconnected before it ran
  EXPECT_EQ(b.wakes, 1);
  reg.Retried(&a, true);  // a late report of a client gone: ignored
  EXPECT_EQ(reg.blocked_clients(), 1u);
}

TEST(BlockingRegistryTest, UnblockOfAnIdleWaiterWakesNobody) {
  BlockingRegistry reg;
  Waiter a, b;
  reg.Block(&a, 0, Keys({"k"}), false);
  reg.Block(&b, 0, Keys({"k"}), false);
  EXPECT_TRUE(reg.Unblock(&a));
  EXPECT_EQ(b.wakes, 0);
  reg.Signal(0, "k");
  EXPECT_EQ(b.wakes, 1);
}

TEST(BlockingRegistryTest, DatabasesAreSeparate) {
  BlockingRegistry reg;
  Waiter a, b;
  reg.Block(&a, 3, Keys({"k"}), false);
  reg.Block(&b, 4, Keys({"k"}), false);
  reg.Signal(0, "k");
  reg.Signal(5, "k");
  EXPECT_EQ(a.wakes + b.wakes, 0);
  reg.Signal(4, "k");
  EXPECT_EQ(a.wakes, 0);
  EXPECT_EQ(b.wakes, 1);
  reg.SignalDb(3);
  EXPECT_EQ(a.wakes, 1);
}

TEST(BlockingRegistryTest, UnwatchedKeyIsIgnored) {
  BlockingRegistry reg;
  Waiter a;
  reg.Signal(0, "nobody");  // empty registry
  reg.Block(&a, 0, Keys({"k"}), false);
  reg.Signal(0, "other");
  reg.Signal(0, std::string_view("k\0x", 3));
  EXPECT_EQ(a.wakes, 0);
}

TEST(BlockingRegistryTest, KeysWithAnyBytes) {
  BlockingRegistry reg;
  Waiter a;
  const std::string binary("\0\xff\r\n", 4);
  reg.Block(&a, 1, Keys({binary, ""}), false);
  EXPECT_EQ(reg.blocking_keys(), 2u);
  reg.Signal(1, "");
  EXPECT_EQ(a.wakes, 1);
  reg.Retried(&a, true);
  EXPECT_EQ(reg.blocking_keys(), 0u);
}

TEST(BlockingRegistryTest, ReadyKeysQueueIsPerThreadAndDrained) {
  BlockingRegistry reg;
  Waiter a, b;
  reg.Block(&a, 0, Keys({"k"}), false);
  reg.Block(&b, 2, Keys({"q"}), false);
  EXPECT_FALSE(HasReadyKeys());
  QueueReadyKey(0, "k");
  QueueReadyDb(2);
  bool other_thread_saw = true;
  std::thread([&] { other_thread_saw = HasReadyKeys(); }).join();
  EXPECT_FALSE(other_thread_saw);
  EXPECT_TRUE(HasReadyKeys());
  SignalReadyKeys(reg);
  EXPECT_FALSE(HasReadyKeys());
  EXPECT_EQ(a.wakes, 1);
  EXPECT_EQ(b.wakes, 1);
}

}  // namespace
}  // namespace sluice::server
