// The hub used from several threads at once, as the I/O threads use it:
// publishers on every thread, subscribers joining and leaving, deliveries
// run by each subscriber's own worker. Run under ThreadSanitizer.

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "server/pubsub/pubsub_hub.h"

namespace sluice::server {
namespace {

// One event loop per simulated I/O thread: a FIFO of tasks run by one thread.
class Worker {
 public:
  Worker() : thread_([this] { Loop(); }) {}
  ~Worker() {
    Post(nullptr);
    thread_.join();
  }
  void Post(std::function<void()> task) {
    std::lock_guard lock(mu_);
    tasks_.push_back(std::move(task));
    cv_.notify_one();
  }
  // Runs `task` on the worker and waits for it.
  void Sync(const std::function<void()>& task) {
    std::mutex m;
    std::condition_variable cv;
    bool done = false;
    Post([&] {
      task();
      std::lock_guard lock(m);
      done = true;
      cv.notify_one();
    });
    std::unique_lock lock(m);
    cv.wait(lock, [&] { return done; });
  }

 private:
  void Loop() {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return !tasks_.empty(); });
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      if (!task) return;
      task();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  std::thread thread_;
};

// Counts messages per publisher and checks that each publisher's sequence
// numbers arrive in increasing order. Only its worker touches it.
class OrderChecker : public Subscriber, public std::enable_shared_from_this<OrderChecker> {
 public:
  explicit OrderChecker(size_t thread) : Subscriber(thread) {}
  std::shared_ptr<Subscriber> SharedSelf() override { return shared_from_this(); }
  void Deliver(const PubSubMessage& m, const std::string* pattern) override {
    // payload: "<publisher>:<seq>"
    const size_t colon = m.payload.find(':');
    const int publisher = std::stoi(m.payload.substr(0, colon));
    const int seq = std::stoi(m.payload.substr(colon + 1));
    int& last = last_[pattern != nullptr][publisher];
    if (seq <= last) out_of_order.fetch_add(1);
    last = seq;
    received.fetch_add(1);
  }
  std::atomic<int> received{0};
  std::atomic<int> out_of_order{0};

 private:
  std::map<int, int> last_[2];
};

class Churner : public Subscriber, public std::enable_shared_from_this<Churner> {
 public:
  explicit Churner(size_t thread) : Subscriber(thread) {}
  std::shared_ptr<Subscriber> SharedSelf() override { return shared_from_this(); }
  void Deliver(const PubSubMessage&, const std::string*) override {}
};

TEST(PubSubHubConcurrencyTest, EveryMessageOnceAndInOrderPerPublisher) {
  constexpr size_t kThreads = 4;
  constexpr int kPublishers = 4;
  constexpr int kMessages = 2000;
  std::vector<std::unique_ptr<Worker>> workers;
  for (size_t i = 0; i < kThreads; ++i) workers.push_back(std::make_unique<Worker>());
  PubSubHub hub(kThreads, [&](size_t t, PubSubHub::Batch b) {
    workers[t]->Post([b = std::move(b)] { b.Run(); });
  });

  // Stable subscribers: 3 per thread, on the channel and on a pattern.
  std::vector<std::shared_ptr<OrderChecker>> stable;
  for (size_t t = 0; t < kThreads; ++t) {
    for (int k = 0; k < 3; ++k) {
      auto s = std::make_shared<OrderChecker>(t);
      workers[t]->Sync([&] {
        hub.Subscribe(*s, SubscriptionKind::kChannel, "events");
        hub.Subscribe(*s, SubscriptionKind::kPattern, "ev*");
      });
      stable.push_back(s);
    }
  }

  std::atomic<bool> stop{false};
  // Churn: subscribers joining and leaving channels and patterns meanwhile.
  std::vector<std::thread> churners;
  for (size_t t = 0; t < kThreads; ++t) {
    churners.emplace_back([&, t] {
      auto c = std::make_shared<Churner>(t);
      int i = 0;
      while (!stop.load()) {
        const std::string name = "events" + std::to_string(i++ % 3);
        workers[t]->Sync([&] {
          hub.Subscribe(*c, SubscriptionKind::kChannel, "events");
          hub.Subscribe(*c, SubscriptionKind::kPattern, name);
          hub.Subscribe(*c, SubscriptionKind::kShardChannel, name);
        });
        workers[t]->Sync([&] { hub.UnsubscribeAll(*c); });
      }
    });
  }
  std::vector<std::thread> publishers;
  std::atomic<size_t> min_receivers{SIZE_MAX};
  for (int p = 0; p < kPublishers; ++p) {
    publishers.emplace_back([&, p] {
      for (int i = 1; i <= kMessages; ++i) {
        const size_t n = hub.Publish(false, "events", std::to_string(p) + ":" + std::to_string(i));
        size_t cur = min_receivers.load();
        while (n < cur && !min_receivers.compare_exchange_weak(cur, n)) {
        }
        (void)hub.NumSub(false, "events");
        (void)hub.Channels(false, "ev*");
      }
    });
  }
  for (auto& t : publishers) t.join();
  stop = true;
  for (auto& t : churners) t.join();
  for (auto& w : workers) w->Sync([] {});  // drain

  EXPECT_GE(min_receivers.load(), 2 * stable.size());
  for (const auto& s : stable) {
    EXPECT_EQ(s->received.load(), 2 * kPublishers * kMessages);
    EXPECT_EQ(s->out_of_order.load(), 0);
  }
  for (size_t t = 0; t < kThreads; ++t) {
    workers[t]->Sync([&] {
      for (const auto& s : stable) {
        if (s->thread() == t) hub.UnsubscribeAll(*s);
      }
    });
  }
  EXPECT_EQ(hub.channel_count(false), 0u);
  EXPECT_EQ(hub.channel_count(true), 0u);
  EXPECT_EQ(hub.pattern_count(), 0u);
}

}  // namespace
}  // namespace sluice::server
