#include "server/pubsub/pubsub_hub.h"

#include <algorithm>

#include "protocol/reply_writer.h"
#include "storage/glob.h"

namespace sluice::server {
namespace {

// Debian's abseil has its own string_view type for heterogeneous lookups.
absl::string_view Key(std::string_view s) { return absl::string_view(s.data(), s.size()); }

}  // namespace

bool Subscriber::IsSubscribed(SubscriptionKind kind, std::string_view name) const {
  return subscriptions_[static_cast<int>(kind)].contains(Key(name));
}

void PubSubHub::Batch::Run() const {
  for (const Part& part : parts) {
    for (const auto& s : *part.to) s->Deliver(*message, part.pattern);
  }
}

PubSubHub::PubSubHub(size_t threads, Dispatch dispatch)
    : threads_(threads),
      dispatch_(std::move(dispatch)),
      channel_shards_(new ChannelShard[kChannelShards]),
      shard_channel_shards_(new ChannelShard[kChannelShards]),
      patterns_(std::make_shared<const PatternTable>()) {}

PubSubHub::~PubSubHub() = default;

PubSubHub::ChannelShard& PubSubHub::ShardOf(bool sharded, std::string_view channel) const {
  const size_t i = std::hash<std::string_view>{}(channel) % kChannelShards;
  return sharded ? shard_channel_shards_[i] : channel_shards_[i];
}

std::shared_ptr<const PubSubHub::SubscriberList> PubSubHub::AddTo(Audience& a, Subscriber& s) {
  if (a.by_thread.empty()) a.by_thread.resize(threads_);
  std::shared_ptr<const SubscriberList>& slot = a.by_thread[s.thread()];
  auto next = slot ? std::make_shared<SubscriberList>(*slot) : std::make_shared<SubscriberList>();
  next->push_back(s.SharedSelf());
  std::shared_ptr<const SubscriberList> old = std::move(slot);
  slot = std::move(next);
  ++a.size;
  return old;
}

std::shared_ptr<const PubSubHub::SubscriberList> PubSubHub::RemoveFrom(Audience& a,
                                                                       Subscriber& s) {
  std::shared_ptr<const SubscriberList>& slot = a.by_thread[s.thread()];
  if (!slot) return nullptr;
  std::shared_ptr<const SubscriberList> old = slot;
  if (old->size() == 1) {
    if ((*old)[0].get() != &s) return nullptr;
    slot.reset();
  } else {
    auto next = std::make_shared<SubscriberList>();
    next->reserve(old->size() - 1);
    for (const auto& p : *old) {
      if (p.get() != &s) next->push_back(p);
    }
    if (next->size() == old->size()) return nullptr;
    slot = std::move(next);
  }
  --a.size;
  return old;
}

void PubSubHub::AddChannel(bool sharded, Subscriber& s, std::string_view name) {
  ChannelShard& shard = ShardOf(sharded, name);
  std::shared_ptr<const SubscriberList> released;
  std::lock_guard lock(shard.mu);
  auto [it, inserted] = shard.channels.try_emplace(std::string(name));
  if (inserted) (sharded ? shard_channel_count_ : channel_count_).fetch_add(1);
  released = AddTo(it->second, s);
}

void PubSubHub::RemoveChannel(bool sharded, Subscriber& s, std::string_view name) {
  ChannelShard& shard = ShardOf(sharded, name);
  std::shared_ptr<const SubscriberList> released;
  std::lock_guard lock(shard.mu);
  auto it = shard.channels.find(Key(name));
  if (it == shard.channels.end()) return;
  released = RemoveFrom(it->second, s);
  if (it->second.size == 0) {
    shard.channels.erase(it);
    (sharded ? shard_channel_count_ : channel_count_).fetch_sub(1);
  }
}

std::shared_ptr<const PubSubHub::PatternTable> PubSubHub::Patterns() const {
  std::lock_guard lock(patterns_mu_);
  return patterns_;
}

void PubSubHub::AddPattern(Subscriber& s, std::string_view pattern) {
  std::shared_ptr<const PatternTable> old;
  std::lock_guard lock(patterns_mu_);
  auto next = std::make_shared<PatternTable>(*patterns_);
  auto it = std::find_if(next->begin(), next->end(),
                         [&](const PatternEntry& e) { return e.pattern == pattern; });
  if (it == next->end()) {
    next->push_back(PatternEntry{std::string(pattern), Audience{}});
    it = next->end() - 1;
  }
  (void)AddTo(it->audience, s);
  pattern_count_.store(next->size(), std::memory_order_relaxed);
  old = std::move(patterns_);
  patterns_ = std::move(next);
}

void PubSubHub::RemovePattern(Subscriber& s, std::string_view pattern) {
  std::shared_ptr<const PatternTable> old;
  std::lock_guard lock(patterns_mu_);
  auto next = std::make_shared<PatternTable>(*patterns_);
  auto it = std::find_if(next->begin(), next->end(),
                         [&](const PatternEntry& e) { return e.pattern == pattern; });
  if (it == next->end()) return;
  (void)RemoveFrom(it->audience, s);
  if (it->audience.size == 0) next->erase(it);
  pattern_count_.store(next->size(), std::memory_order_relaxed);
  old = std::move(patterns_);
  patterns_ = std::move(next);
}

bool PubSubHub::Subscribe(Subscriber& s, SubscriptionKind kind, std::string_view name) {
  auto& mine = s.subscriptions_[static_cast<int>(kind)];
  if (!mine.try_emplace(std::string(name), s.next_order_).second) return false;
  ++s.next_order_;
  switch (kind) {
    case SubscriptionKind::kChannel: AddChannel(false, s, name); break;
    case SubscriptionKind::kShardChannel: AddChannel(true, s, name); break;
    case SubscriptionKind::kPattern: AddPattern(s, name); break;
  }
  return true;
}

bool PubSubHub::Unsubscribe(Subscriber& s, SubscriptionKind kind, std::string_view name) {
  auto& mine = s.subscriptions_[static_cast<int>(kind)];
  auto it = mine.find(Key(name));
  if (it == mine.end()) return false;
  mine.erase(it);
  switch (kind) {
    case SubscriptionKind::kChannel: RemoveChannel(false, s, name); break;
    case SubscriptionKind::kShardChannel: RemoveChannel(true, s, name); break;
    case SubscriptionKind::kPattern: RemovePattern(s, name); break;
  }
  return true;
}

void PubSubHub::UnsubscribeAll(Subscriber& s) {
  for (SubscriptionKind kind : {SubscriptionKind::kChannel, SubscriptionKind::kPattern,
                                SubscriptionKind::kShardChannel}) {
    for (const std::string& name : SubscriptionsOf(s, kind)) Unsubscribe(s, kind, name);
  }
}

std::vector<std::string> PubSubHub::SubscriptionsOf(const Subscriber& s,
                                                    SubscriptionKind kind) const {
  const auto& mine = s.subscriptions_[static_cast<int>(kind)];
  std::vector<std::pair<uint64_t, const std::string*>> ordered;
  ordered.reserve(mine.size());
  for (const auto& [name, order] : mine) ordered.emplace_back(order, &name);
  std::sort(ordered.begin(), ordered.end());
  std::vector<std::string> out;
  out.reserve(ordered.size());
  for (const auto& [order, name] : ordered) out.push_back(*name);
  return out;
}

size_t PubSubHub::Publish(bool sharded, std::string_view channel, std::string_view payload) {
  // Receivers per thread, in delivery order: the channel's, then each pattern's.
  std::vector<Batch> batches(threads_);
  size_t receivers = 0;
  {
    const ChannelShard& shard = ShardOf(sharded, channel);
    std::lock_guard lock(shard.mu);
    auto it = shard.channels.find(Key(channel));
    if (it != shard.channels.end()) {
      const Audience& a = it->second;
      for (size_t t = 0; t < a.by_thread.size(); ++t) {
        if (!a.by_thread[t]) continue;
        batches[t].parts.push_back(Batch::Part{nullptr, a.by_thread[t]});
        batches[t].receivers += a.by_thread[t]->size();
      }
      receivers += a.size;
    }
  }
  std::shared_ptr<const PatternTable> patterns;
  if (!sharded && pattern_count_.load(std::memory_order_relaxed) > 0) {
    patterns = Patterns();
    for (const PatternEntry& e : *patterns) {
      if (!storage::GlobMatch(e.pattern, channel)) continue;
      for (size_t t = 0; t < e.audience.by_thread.size(); ++t) {
        if (!e.audience.by_thread[t]) continue;
        batches[t].parts.push_back(Batch::Part{&e.pattern, e.audience.by_thread[t]});
        batches[t].receivers += e.audience.by_thread[t]->size();
      }
      receivers += e.audience.size;
    }
  }
  if (receivers == 0) return 0;
  auto message = std::make_shared<PubSubMessage>();
  message->sharded = sharded;
  message->channel.assign(channel);
  message->payload.assign(payload);
  protocol::ReplyWriter frame(&message->frame);
  frame.ArrayHeader(3);
  frame.Bulk(sharded ? "smessage" : "message");
  frame.Bulk(channel);
  frame.Bulk(payload);
  for (size_t t = 0; t < threads_; ++t) {
    if (batches[t].parts.empty()) continue;
    batches[t].message = message;
    batches[t].keep_alive = patterns;
    dispatch_(t, std::move(batches[t]));
  }
  return receivers;
}

std::vector<std::string> PubSubHub::Channels(bool sharded, std::string_view pattern) const {
  std::vector<std::string> out;
  const ChannelShard* shards = sharded ? shard_channel_shards_.get() : channel_shards_.get();
  for (size_t i = 0; i < kChannelShards; ++i) {
    std::lock_guard lock(shards[i].mu);
    for (const auto& [name, audience] : shards[i].channels) {
      if (pattern.empty() || storage::GlobMatch(pattern, name)) out.push_back(name);
    }
  }
  return out;
}

size_t PubSubHub::NumSub(bool sharded, std::string_view channel) const {
  const ChannelShard& shard = ShardOf(sharded, channel);
  std::lock_guard lock(shard.mu);
  auto it = shard.channels.find(Key(channel));
  return it == shard.channels.end() ? 0 : it->second.size;
}

}  // namespace sluice::server
