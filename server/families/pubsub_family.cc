// Pub/sub commands: (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PUBLISH, SPUBLISH and
// PUBSUB. Subscriptions live in the server's PubSubHub; this file turns them
// into Redis's confirmation replies and keeps the client's counts current.

#include <algorithm>

#include "common/strings.h"
#include "protocol/errors.h"
#include "server/dispatch/command.h"
#include "server/pubsub/pubsub_hub.h"
#include "server/process/server.h"

namespace sluice::server {
namespace {

using Kind = SubscriptionKind;

struct KindNames {
  std::string_view subscribe;
  std::string_view unsubscribe;
};

constexpr KindNames Names(Kind kind) {
  switch (kind) {
    case Kind::kChannel: return {"subscribe", "unsubscribe"};
    case Kind::kPattern: return {"psubscribe", "punsubscribe"};
    case Kind::kShardChannel: return {"ssubscribe", "sunsubscribe"};
  }
  return {"", ""};
}

void SyncCounts(CommandContext& ctx) {
  const PubSubHub& hub = ctx.server.pubsub();
  const Subscriber& s = *ctx.subscriber;
  ctx.client.set_subscriptions(hub.CountOf(s, Kind::kChannel), hub.CountOf(s, Kind::kPattern),
                               hub.CountOf(s, Kind::kShardChannel));
}

// The running count Redis puts in a confirmation: channels + patterns for
// the classic commands, shard channels for the sharded ones.
int64_t RunningCount(CommandContext& ctx, Kind kind) {
  const PubSubHub& hub = ctx.server.pubsub();
  const Subscriber& s = *ctx.subscriber;
  if (kind == Kind::kShardChannel) return static_cast<int64_t>(hub.CountOf(s, kind));
  return static_cast<int64_t>(hub.CountOf(s, Kind::kChannel) + hub.CountOf(s, Kind::kPattern));
}

void Confirm(CommandContext& ctx, std::string_view what, const std::string_view* name,
             Kind kind) {
  ctx.w.PushHeader(3);
  ctx.w.Bulk(what);
  if (name != nullptr) {
    ctx.w.Bulk(*name);
  } else {
    ctx.w.Null();
  }
  ctx.w.Integer(RunningCount(ctx, kind));
}

bool HaveSubscriber(CommandContext& ctx) {
  if (ctx.subscriber != nullptr) return true;
  ctx.w.Error("ERR pub/sub is not available on this connection");
  return false;
}

template <Kind kKind>
void CmdSubscribe(CommandContext& ctx) {
  if (!HaveSubscriber(ctx)) return;
  for (size_t i = 1; i < ctx.argc(); ++i) {
    const std::string_view name = ctx.arg(i);
    ctx.server.pubsub().Subscribe(*ctx.subscriber, kKind, name);
    SyncCounts(ctx);
    Confirm(ctx, Names(kKind).subscribe, &name, kKind);
  }
}

template <Kind kKind>
void CmdUnsubscribe(CommandContext& ctx) {
  if (!HaveSubscriber(ctx)) return;
  PubSubHub& hub = ctx.server.pubsub();
  if (ctx.argc() == 1) {
    const std::vector<std::string> all = hub.SubscriptionsOf(*ctx.subscriber, kKind);
    if (all.empty()) return Confirm(ctx, Names(kKind).unsubscribe, nullptr, kKind);
    for (const std::string& name : all) {
      hub.Unsubscribe(*ctx.subscriber, kKind, name);
      SyncCounts(ctx);
      const std::string_view view = name;
      Confirm(ctx, Names(kKind).unsubscribe, &view, kKind);
    }
    return;
  }
  for (size_t i = 1; i < ctx.argc(); ++i) {
    const std::string_view name = ctx.arg(i);
    hub.Unsubscribe(*ctx.subscriber, kKind, name);
    SyncCounts(ctx);
    Confirm(ctx, Names(kKind).unsubscribe, &name, kKind);
  }
}

template <bool kSharded>
void CmdPublish(CommandContext& ctx) {
  ctx.w.Integer(
      static_cast<int64_t>(ctx.server.pubsub().Publish(kSharded, ctx.arg(1), ctx.arg(2))));
}

// PUBSUB CHANNELS / SHARDCHANNELS [pattern].
template <bool kSharded>
void CmdPubSubChannels(CommandContext& ctx) {
  if (ctx.argc() > 3) {
    return ctx.w.Error(
        protocol::errors::WrongArity(kSharded ? "pubsub|shardchannels" : "pubsub|channels"));
  }
  const std::string_view pattern = ctx.argc() == 3 ? ctx.arg(2) : std::string_view();
  std::vector<std::string> names = ctx.server.pubsub().Channels(kSharded, pattern);
  std::sort(names.begin(), names.end());
  ctx.w.BulkArray(names);
}

// PUBSUB NUMSUB / SHARDNUMSUB [channel ...]: a map of channel -> count.
template <bool kSharded>
void CmdPubSubNumSub(CommandContext& ctx) {
  ctx.w.MapHeader(ctx.argc() - 2);
  for (size_t i = 2; i < ctx.argc(); ++i) {
    ctx.w.Bulk(ctx.arg(i));
    ctx.w.Integer(static_cast<int64_t>(ctx.server.pubsub().NumSub(kSharded, ctx.arg(i))));
  }
}

void CmdPubSubNumPat(CommandContext& ctx) {
  ctx.w.Integer(static_cast<int64_t>(ctx.server.pubsub().pattern_count()));
}

void CmdPubSubHelp(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "CHANNELS [<pattern>]",
      "    List the channels that have subscribers, optionally only those matching <pattern>.",
      "NUMPAT",
      "    Number of distinct patterns with subscribers.",
      "NUMSUB [<channel> ...]",
      "    Number of subscribers of each channel (pattern subscribers not counted).",
      "SHARDCHANNELS [<pattern>]",
      "    List the shard channels that have subscribers, optionally matching <pattern>.",
      "SHARDNUMSUB [<shardchannel> ...]",
      "    Number of subscribers of each shard channel.",
      "HELP",
      "    Print this help."};
  WriteHelp(ctx.w, kLines);
}

constexpr FamilyRows Row("pubsub");

}  // namespace

void LeaveAllSubscriptions(CommandContext& ctx) {
  if (ctx.subscriber == nullptr) return;
  ctx.server.pubsub().UnsubscribeAll(*ctx.subscriber);
  ctx.client.set_subscriptions(0, 0, 0);
}

void RegisterPubSubFamily(CommandTable& t) {
  // May be sent by a RESP2 connection in subscribed state.
  constexpr uint32_t kSub = kPubSub | kNoScript | kLoading | kStale | kAllowedInSubscribe;
  t.Add(Row("subscribe", -2, kSub, 0, 0, 0, CmdSubscribe<Kind::kChannel>,
            "Receive the messages published to the given channels.", "2.0.0",
            "O(N) for N channels named.", "@pubsub @slow"));
  t.Add(Row("unsubscribe", -1, kSub, 0, 0, 0, CmdUnsubscribe<Kind::kChannel>,
            "Stop receiving the given channels (all of them when none is named).", "2.0.0",
            "O(N) for N channels named (or held).", "@pubsub @slow"));
  t.Add(Row("psubscribe", -2, kSub, 0, 0, 0, CmdSubscribe<Kind::kPattern>,
            "Receive the messages of every channel matching the given glob patterns.", "2.0.0",
            "O(N) for N patterns named.", "@pubsub @slow"));
  t.Add(Row("punsubscribe", -1, kSub, 0, 0, 0, CmdUnsubscribe<Kind::kPattern>,
            "Stop receiving the given patterns (all of them when none is named).", "2.0.0",
            "O(N) for N patterns named (or held).", "@pubsub @slow"));
  t.Add(Row("ssubscribe", -2, kSub, 1, -1, 1, CmdSubscribe<Kind::kShardChannel>,
            "Receive the messages published to the given shard channels.", "7.0.0",
            "O(N) for N shard channels named.", "@pubsub @slow"));
  t.Add(Row("sunsubscribe", -1, kSub, 1, -1, 1, CmdUnsubscribe<Kind::kShardChannel>,
            "Stop receiving the given shard channels (all of them when none is named).",
            "7.0.0", "O(N) for N shard channels named (or held).",
            "@pubsub @slow"));
  constexpr uint32_t kPublish = kPubSub | kLoading | kStale | kFast;
  t.Add(Row("publish", 3, kPublish, 0, 0, 0, CmdPublish<false>,
            "Send a message to a channel; returns how many subscribers received it.", "2.0.0",
            "O(N+M): N subscribers of the channel, M patterns subscribed server-wide.",
            "@pubsub @fast"));
  t.Add(Row("spublish", 3, kPublish, 1, 1, 1, CmdPublish<true>,
            "Send a message to a shard channel; returns how many subscribers received it.",
            "7.0.0", "O(N): N subscribers of the shard channel.", "@pubsub @fast"));
  CommandSpec& pubsub = t.Add(Row("pubsub", -2, 0, 0, 0, 0, nullptr,
                                  "Inspect the state of pub/sub.", "2.8.0",
                                  "Depends on subcommand.", "@slow"));
  constexpr uint32_t kInspect = kPubSub | kLoading | kStale;
  t.AddSubcommand(pubsub, Row("channels", -2, kInspect, 0, 0, 0, CmdPubSubChannels<false>,
                              "List the channels that have subscribers.", "2.8.0",
                              "O(N) over the channels that have subscribers.",
                              "@pubsub @slow"));
  t.AddSubcommand(pubsub, Row("numsub", -2, kInspect, 0, 0, 0, CmdPubSubNumSub<false>,
                              "Count the subscribers of channels.", "2.8.0",
                              "O(N) for N channels named.", "@pubsub @slow"));
  t.AddSubcommand(pubsub, Row("numpat", 2, kInspect, 0, 0, 0, CmdPubSubNumPat,
                              "Count the distinct patterns that have subscribers.", "2.8.0",
                              "O(1)", "@pubsub @slow"));
  t.AddSubcommand(pubsub, Row("shardchannels", -2, kInspect, 0, 0, 0, CmdPubSubChannels<true>,
                              "List the shard channels that have subscribers.", "7.0.0",
                              "O(N) over the shard channels that have subscribers.",
                              "@pubsub @slow"));
  t.AddSubcommand(pubsub, Row("shardnumsub", -2, kInspect, 0, 0, 0, CmdPubSubNumSub<true>,
                              "Count the subscribers of shard channels.", "7.0.0",
                              "O(N) for N shard channels named.",
                              "@pubsub @slow"));
  t.AddSubcommand(pubsub, Row("help", 2, kLoading | kStale, 0, 0, 0, CmdPubSubHelp,
                              "Show the PUBSUB subcommands.", "6.2.0", "O(1)", "@slow"));
}

}  // namespace sluice::server
