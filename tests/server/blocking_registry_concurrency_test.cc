#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "server/blocking/blocking_registry.h"

namespace sluice::server {
namespace {

std::vector<std::string_view> Keys(std::initializer_list<std::string_view> keys) {
  return std::vector<std::string_view>(keys);
}

// Many threads block, signal, retry and unblock at once (ThreadSanitizer
// checks the locking); the counts come back to zero.
class CountingWaiter : public BlockedClient {
 public:
  void Wake() override { out.store(true); }
  std::atomic<bool> out{false};
};

TEST(BlockingRegistryConcurrencyTest, ManyThreads) {
  BlockingRegistry reg;
  constexpr int kThreads = 4;
  constexpr int kRounds = 2000;
  std::vector<CountingWaiter> waiters(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      CountingWaiter& me = waiters[t];
      const std::string mine = "k" + std::to_string(t % 2);
      for (int i = 0; i < kRounds; ++i) {
        reg.Block(&me, 0, Keys({mine, "shared"}), i % 2 == 0);
        reg.Signal(0, (i % 3 == 0) ? "shared" : "k" + std::to_string((t + 1) % 2));
        if (me.out.exchange(false)) {
          reg.Retried(&me, i % 2 == 0);
        }
        reg.Unblock(&me);
        me.out.store(false);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_TRUE(reg.empty());
  EXPECT_EQ(reg.blocking_keys(), 0u);
  EXPECT_EQ(reg.clients_with_timeout(), 0u);
}

}  // namespace
}  // namespace sluice::server
