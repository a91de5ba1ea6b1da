#include "server/pubsub/pubsub_hub.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace sluice::server {
namespace {

// Records what it receives; deliveries run inline (see Hub()).
class Recorder : public Subscriber, public std::enable_shared_from_this<Recorder> {
 public:
  explicit Recorder(size_t thread = 0) : Subscriber(thread) {}
  std::shared_ptr<Subscriber> SharedSelf() override { return shared_from_this(); }
  void Deliver(const PubSubMessage& m, const std::string* pattern) override {
    got.push_back((pattern ? "p:" + *pattern + ":" : std::string(m.sharded ? "s:" : "c:")) +
                  m.channel + "=" + m.payload);
  }
  std::vector<std::string> got;
};

struct Dispatched {
  size_t thread;
  size_t receivers;
};

class PubSubHubTest : public ::testing::Test {
 protected:
  PubSubHub hub_{4, [this](size_t t, PubSubHub::Batch b) {
                   dispatched_.push_back({t, b.receivers});
                   b.Run();
                 }};
  std::vector<Dispatched> dispatched_;
};

TEST_F(PubSubHubTest, ChannelSubscriptionsAndCounts) {
  auto a = std::make_shared<Recorder>(0);
  EXPECT_TRUE(hub_.Subscribe(*a, SubscriptionKind::kChannel, "news"));
  EXPECT_FALSE(hub_.Subscribe(*a, SubscriptionKind::kChannel, "news")) << "already subscribed";
  EXPECT_TRUE(hub_.Subscribe(*a, SubscriptionKind::kChannel, "sport"));
  EXPECT_EQ(hub_.CountOf(*a, SubscriptionKind::kChannel), 2u);
  EXPECT_EQ(hub_.channel_count(false), 2u);
  EXPECT_EQ(hub_.NumSub(false, "news"), 1u);
  EXPECT_EQ(hub_.NumSub(false, "nothing"), 0u);
  EXPECT_EQ(hub_.SubscriptionsOf(*a, SubscriptionKind::kChannel),
            (std::vector<std::string>{"news", "sport"}));

  EXPECT_EQ(hub_.Publish(false, "news", "hello"), 1u);
  EXPECT_EQ(hub_.Publish(false, "weather", "rain"), 0u);
  EXPECT_EQ(a->got, (std::vector<std::string>{"c:news=hello"}));

  EXPECT_TRUE(hub_.Unsubscribe(*a, SubscriptionKind::kChannel, "news"));
  EXPECT_FALSE(hub_.Unsubscribe(*a, SubscriptionKind::kChannel, "news"));
  EXPECT_EQ(hub_.channel_count(false), 1u);
  EXPECT_EQ(hub_.Publish(false, "news", "again"), 0u);
}

TEST_F(PubSubHubTest, PatternsMatchWithGlobRulesAfterChannel) {
  auto a = std::make_shared<Recorder>(1);
  hub_.Subscribe(*a, SubscriptionKind::kChannel, "news.tech");
  hub_.Subscribe(*a, SubscriptionKind::kPattern, "news.*");
  hub_.Subscribe(*a, SubscriptionKind::kPattern, "n[aeiou]ws.t?ch");
  hub_.Subscribe(*a, SubscriptionKind::kPattern, "sport.*");
  EXPECT_EQ(hub_.pattern_count(), 3u);
  // A subscriber matched by its channel and two patterns receives it three times.
  EXPECT_EQ(hub_.Publish(false, "news.tech", "m"), 3u);
  EXPECT_EQ(a->got, (std::vector<std::string>{"c:news.tech=m", "p:news.*:news.tech=m",
                                              "p:n[aeiou]ws.t?ch:news.tech=m"}));
  ASSERT_EQ(dispatched_.size(), 1u) << "one batch for the one thread";
  EXPECT_EQ(dispatched_[0].thread, 1u);
  EXPECT_EQ(dispatched_[0].receivers, 3u);

  // Patterns do not see shard channels.
  EXPECT_EQ(hub_.Publish(true, "news.tech", "m"), 0u);
}

TEST_F(PubSubHubTest, OneBatchPerThreadHowManySubscribersThereAre) {
  std::vector<std::shared_ptr<Recorder>> subs;
  for (int i = 0; i < 100; ++i) {
    subs.push_back(std::make_shared<Recorder>(i % 2 == 0 ? 0 : 3));
    hub_.Subscribe(*subs.back(), SubscriptionKind::kChannel, "fanout");
  }
  EXPECT_EQ(hub_.NumSub(false, "fanout"), 100u);
  EXPECT_EQ(hub_.Publish(false, "fanout", "x"), 100u);
  ASSERT_EQ(dispatched_.size(), 2u);
  EXPECT_EQ(dispatched_[0].thread, 0u);
  EXPECT_EQ(dispatched_[0].receivers, 50u);
  EXPECT_EQ(dispatched_[1].thread, 3u);
  EXPECT_EQ(dispatched_[1].receivers, 50u);
  for (const auto& s : subs) EXPECT_EQ(s->got, (std::vector<std::string>{"c:fanout=x"}));
}

TEST_F(PubSubHubTest, ShardChannelsAreSeparate) {
  auto a = std::make_shared<Recorder>();
  hub_.Subscribe(*a, SubscriptionKind::kShardChannel, "orders");
  EXPECT_EQ(hub_.channel_count(true), 1u);
  EXPECT_EQ(hub_.channel_count(false), 0u);
  EXPECT_EQ(hub_.Publish(false, "orders", "m"), 0u);
  EXPECT_EQ(hub_.Publish(true, "orders", "m"), 1u);
  EXPECT_EQ(a->got, (std::vector<std::string>{"s:orders=m"}));
  EXPECT_EQ(hub_.NumSub(true, "orders"), 1u);
  EXPECT_EQ(hub_.Channels(true, ""), (std::vector<std::string>{"orders"}));
  EXPECT_TRUE(hub_.Channels(false, "").empty());
}

TEST_F(PubSubHubTest, ChannelsFiltersByPattern) {
  auto a = std::make_shared<Recorder>();
  auto b = std::make_shared<Recorder>(2);
  hub_.Subscribe(*a, SubscriptionKind::kChannel, "news.a");
  hub_.Subscribe(*b, SubscriptionKind::kChannel, "news.a");
  hub_.Subscribe(*b, SubscriptionKind::kChannel, "other");
  auto all = hub_.Channels(false, "");
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, (std::vector<std::string>{"news.a", "other"}));
  EXPECT_EQ(hub_.Channels(false, "news.*"), (std::vector<std::string>{"news.a"}));
  EXPECT_EQ(hub_.NumSub(false, "news.a"), 2u);
}

TEST_F(PubSubHubTest, UnsubscribeAllLeavesNothingBehind) {
  auto a = std::make_shared<Recorder>(2);
  auto b = std::make_shared<Recorder>(2);
  hub_.Subscribe(*a, SubscriptionKind::kChannel, "c1");
  hub_.Subscribe(*a, SubscriptionKind::kChannel, "c2");
  hub_.Subscribe(*a, SubscriptionKind::kPattern, "c*");
  hub_.Subscribe(*a, SubscriptionKind::kShardChannel, "s");
  hub_.Subscribe(*b, SubscriptionKind::kChannel, "c1");
  hub_.Subscribe(*b, SubscriptionKind::kPattern, "c*");
  hub_.UnsubscribeAll(*a);
  for (auto kind : {SubscriptionKind::kChannel, SubscriptionKind::kPattern,
                    SubscriptionKind::kShardChannel}) {
    EXPECT_EQ(hub_.CountOf(*a, kind), 0u);
  }
  EXPECT_EQ(hub_.channel_count(false), 1u);
  EXPECT_EQ(hub_.channel_count(true), 0u);
  EXPECT_EQ(hub_.pattern_count(), 1u);
  EXPECT_EQ(hub_.Publish(false, "c1", "m"), 2u);  // b: channel and pattern
  EXPECT_TRUE(a->got.empty());
  EXPECT_EQ(b->got.size(), 2u);
}

TEST_F(PubSubHubTest, SubscriptionsOfKeepsSubscriptionOrder) {
  auto a = std::make_shared<Recorder>();
  for (const char* name : {"zeta", "alpha", "mid", "beta"}) {
    hub_.Subscribe(*a, SubscriptionKind::kPattern, name);
  }
  hub_.Unsubscribe(*a, SubscriptionKind::kPattern, "mid");
  EXPECT_EQ(hub_.SubscriptionsOf(*a, SubscriptionKind::kPattern),
            (std::vector<std::string>{"zeta", "alpha", "beta"}));
  EXPECT_TRUE(a->IsSubscribed(SubscriptionKind::kPattern, "alpha"));
  EXPECT_FALSE(a->IsSubscribed(SubscriptionKind::kPattern, "mid"));
  EXPECT_FALSE(a->IsSubscribed(SubscriptionKind::kChannel, "alpha"));
}

TEST_F(PubSubHubTest, BatchKeepsSubscriberAliveAfterUnsubscribe) {
  std::vector<PubSubHub::Batch> held;
  PubSubHub hub(1, [&](size_t, PubSubHub::Batch b) { held.push_back(std::move(b)); });
  std::weak_ptr<Recorder> weak;
  {
    auto a = std::make_shared<Recorder>();
    weak = a;
    hub.Subscribe(*a, SubscriptionKind::kPattern, "*");
    EXPECT_EQ(hub.Publish(false, "x", "m"), 1u);
    hub.UnsubscribeAll(*a);
  }
  ASSERT_FALSE(weak.expired()) << "the queued batch still owns the subscriber";
  held[0].Run();
  EXPECT_EQ(weak.lock()->got, (std::vector<std::string>{"p:*:x=m"}));
  held.clear();
  EXPECT_TRUE(weak.expired());
}

}  // namespace
}  // namespace sluice::server
