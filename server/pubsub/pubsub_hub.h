#pragma once
// PubSubHub: who is subscribed to what, and the fan-out of published
// messages to the subscribers' own I/O threads.
//
// Thread-safe. Channels (and shard channels) live in kChannelShards maps,
// each behind its own mutex; a channel's subscribers are kept grouped by I/O
// thread as copy-on-write lists, so PUBLISH holds a channel shard's lock only
// to copy one pointer per thread, never per subscriber. Patterns are one
// copy-on-write table; PUBLISH skips it without locking when there are none.
//
// A publish produces at most one Batch per I/O thread that has receivers and
// hands it to the dispatch function given at construction (the server posts
// it to that thread's event loop, or runs it at once when already there).
// Batches from one publishing thread reach each target thread in publish
// order, so every subscriber sees one publisher's messages in order.
//
// A Subscriber's own subscription sets are only touched on the subscriber's
// thread: Subscribe / Unsubscribe / UnsubscribeAll / SubscriptionsOf /
// CountOf REQUIRE being called from there (or with no concurrent caller for
// that subscriber).

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"

namespace sluice::server {

enum class SubscriptionKind : uint8_t { kChannel, kPattern, kShardChannel };

struct PubSubMessage {
  bool sharded = false;  // SPUBLISH: delivered as "smessage"
  std::string channel;
  std::string payload;
  // The channel subscribers' reply, ["message" or "smessage", channel,
  // payload], encoded once as a RESP2 array (ReplyWriter::EncodedPush).
  std::string frame;
};

class PubSubHub;

// A receiver of messages: in the server, one connection.
class Subscriber {
 public:
  explicit Subscriber(size_t thread) : thread_(thread) {}
  virtual ~Subscriber() = default;
  Subscriber(const Subscriber&) = delete;
  Subscriber& operator=(const Subscriber&) = delete;

  // The I/O thread whose event loop runs Deliver().
  size_t thread() const { return thread_; }
  // A strong reference to this subscriber (it must be owned by a shared_ptr).
  virtual std::shared_ptr<Subscriber> SharedSelf() = 0;
  // On the subscriber's thread: one message for one of its subscriptions;
  // `pattern` is the matching pattern, or nullptr for a channel subscription.
  virtual void Deliver(const PubSubMessage& message, const std::string* pattern) = 0;

  // Whether this subscriber holds the subscription. On its own thread: a
  // message published before an UNSUBSCRIBE but delivered after it is dropped
  // by checking here.
  bool IsSubscribed(SubscriptionKind kind, std::string_view name) const;

 private:
  friend class PubSubHub;
  // name -> order of subscription (UNSUBSCRIBE with no arguments replies in it).
  absl::flat_hash_map<std::string, uint64_t> subscriptions_[3];
  uint64_t next_order_ = 0;
  const size_t thread_;
};

class PubSubHub {
 public:
  using SubscriberList = std::vector<std::shared_ptr<Subscriber>>;

  // The receivers on one I/O thread of one published message.
  struct Batch {
    std::shared_ptr<const PubSubMessage> message;
    struct Part {
      const std::string* pattern;  // nullptr: channel subscribers
      std::shared_ptr<const SubscriberList> to;
    };
    std::vector<Part> parts;  // the channel's subscribers first, then each pattern's
    std::shared_ptr<const void> keep_alive;  // owns the pattern strings
    size_t receivers = 0;

    // Delivers to every receiver. Run on the batch's thread.
    void Run() const;
  };
  using Dispatch = std::function<void(size_t thread, Batch batch)>;

  // `threads`: number of I/O threads (Subscriber::thread() < threads).
  PubSubHub(size_t threads, Dispatch dispatch);
  ~PubSubHub();
  PubSubHub(const PubSubHub&) = delete;
  PubSubHub& operator=(const PubSubHub&) = delete;

  // Adds one subscription; false when `s` already had it.
  bool Subscribe(Subscriber& s, SubscriptionKind kind, std::string_view name);
  // Removes one subscription; false when `s` did not have it.
  bool Unsubscribe(Subscriber& s, SubscriptionKind kind, std::string_view name);
  // Removes every subscription of `s` (connection closed, RESET).
  void UnsubscribeAll(Subscriber& s);
  // `s`'s subscriptions of `kind`, oldest first.
  std::vector<std::string> SubscriptionsOf(const Subscriber& s, SubscriptionKind kind) const;
  size_t CountOf(const Subscriber& s, SubscriptionKind kind) const {
    return s.subscriptions_[static_cast<int>(kind)].size();
  }

  // PUBLISH (sharded = false: channel and pattern subscribers) or SPUBLISH
  // (sharded = true: shard-channel subscribers). Returns the number of
  // receivers (a subscriber matched by a channel and a pattern counts twice).
  size_t Publish(bool sharded, std::string_view channel, std::string_view payload);

  // PUBSUB CHANNELS / SHARDCHANNELS: active channels matching `pattern`
  // (every channel when `pattern` is empty).
  std::vector<std::string> Channels(bool sharded, std::string_view pattern) const;
  // PUBSUB NUMSUB / SHARDNUMSUB for one channel.
  size_t NumSub(bool sharded, std::string_view channel) const;
  // Distinct channels (or shard channels) with at least one subscriber.
  size_t channel_count(bool sharded) const {
    return (sharded ? shard_channel_count_ : channel_count_).load(std::memory_order_relaxed);
  }
  // Distinct patterns with at least one subscriber (PUBSUB NUMPAT).
  size_t pattern_count() const { return pattern_count_.load(std::memory_order_relaxed); }

 private:
  // The subscribers of one channel or pattern, grouped by I/O thread
  // (nullptr for a thread without any).
  struct Audience {
    std::vector<std::shared_ptr<const SubscriberList>> by_thread;
    size_t size = 0;
  };
  struct ChannelShard {
    mutable std::mutex mu;
    absl::flat_hash_map<std::string, Audience> channels;
  };
  struct PatternEntry {
    std::string pattern;
    Audience audience;
  };
  using PatternTable = std::vector<PatternEntry>;

  static constexpr size_t kChannelShards = 64;

  ChannelShard& ShardOf(bool sharded, std::string_view channel) const;
  // Returns the list replaced, to be released outside any lock.
  std::shared_ptr<const SubscriberList> AddTo(Audience& a, Subscriber& s);
  std::shared_ptr<const SubscriberList> RemoveFrom(Audience& a, Subscriber& s);
  void AddChannel(bool sharded, Subscriber& s, std::string_view name);
  void RemoveChannel(bool sharded, Subscriber& s, std::string_view name);
  void AddPattern(Subscriber& s, std::string_view pattern);
  void RemovePattern(Subscriber& s, std::string_view pattern);
  std::shared_ptr<const PatternTable> Patterns() const;

  const size_t threads_;
  const Dispatch dispatch_;
  std::unique_ptr<ChannelShard[]> channel_shards_;
  std::unique_ptr<ChannelShard[]> shard_channel_shards_;
  std::atomic<size_t> channel_count_{0};
  std::atomic<size_t> shard_channel_count_{0};

  mutable std::mutex patterns_mu_;  // guards the pointer; the table itself is immutable
  std::shared_ptr<const PatternTable> patterns_;
  std::atomic<size_t> pattern_count_{0};
};

}  // namespace sluice::server
