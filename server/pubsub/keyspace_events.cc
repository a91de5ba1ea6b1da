#include "server/pubsub/keyspace_events.h"

#include <vector>

#include "common/strings.h"
#include "server/dispatch/command.h"
#include "server/process/server.h"

namespace sluice::server {
namespace {

// Letters of the single classes, in the order CONFIG GET prints them.
constexpr std::pair<char, uint32_t> kClassLetters[] = {
    {'g', kNotifyGeneric}, {'$', kNotifyString}, {'l', kNotifyList},   {'s', kNotifySet},
    {'h', kNotifyHash},    {'z', kNotifyZset},   {'x', kNotifyExpired}, {'e', kNotifyEvicted},
    {'t', kNotifyStream},  {'d', kNotifyModule}, {'n', kNotifyNew}};

struct QueuedEvent {
  int db;
  uint32_t type;
  const char* event;
  std::string key;
};

thread_local std::vector<QueuedEvent> queued_events;

}  // namespace

std::optional<uint32_t> ParseKeyspaceEventFlags(std::string_view text) {
  uint32_t flags = 0;
  for (char c : text) {
    switch (c) {
      case 'A': flags |= kNotifyAll; break;
      case 'K': flags |= kNotifyKeyspace; break;
      case 'E': flags |= kNotifyKeyevent; break;
      case 'm': flags |= kNotifyKeyMiss; break;
      default: {
        bool known = false;
        for (auto [letter, bit] : kClassLetters) {
          if (letter == c) {
            flags |= bit;
            known = true;
          }
        }
        if (!known) return std::nullopt;
      }
    }
  }
  return flags;
}

std::string KeyspaceEventFlagsText(uint32_t flags) {
  std::string out;
  if ((flags & kNotifyAll) == kNotifyAll) {
    // As in Redis, `n` is not printed next to `A` (it is still in effect).
    out += 'A';
  } else {
    for (auto [letter, bit] : kClassLetters) {
      if (flags & bit) out += letter;
    }
  }
  if (flags & kNotifyKeyspace) out += 'K';
  if (flags & kNotifyKeyevent) out += 'E';
  if (flags & kNotifyKeyMiss) out += 'm';
  return out;
}

bool KeyspaceEventsWanted(Server& server, uint32_t type) {
  const uint32_t flags = server.config().notify_keyspace_events();
  return (flags & type) != 0 && (flags & (kNotifyKeyspace | kNotifyKeyevent)) != 0;
}

void NotifyKeyspace(Server& server, int db, uint32_t type, const char* event,
                    std::string_view key) {
  if (!KeyspaceEventsWanted(server, type)) return;
  queued_events.push_back(QueuedEvent{db, type, event, std::string(key)});
}

void NotifyKeyspace(CommandContext& ctx, uint32_t type, const char* event, std::string_view key) {
  NotifyKeyspace(ctx.server, ctx.client.db(), type, event, key);
}

bool HasQueuedKeyspaceEvents() { return !queued_events.empty(); }

void PublishQueuedKeyspaceEvents(Server& server) {
  if (queued_events.empty()) return;
  // Publishing may run deliveries inline, which never raise events; still,
  // take the queue first so that the loop cannot see it change.
  std::vector<QueuedEvent> events;
  events.swap(queued_events);
  const uint32_t flags = server.config().notify_keyspace_events();
  std::string channel;
  for (const QueuedEvent& e : events) {
    if (flags & kNotifyKeyspace) {
      channel.clear();
      StrAppend(&channel, "__keyspace@", e.db, "__:", e.key);
      server.pubsub().Publish(false, channel, e.event);
    }
    if (flags & kNotifyKeyevent) {
      channel.clear();
      StrAppend(&channel, "__keyevent@", e.db, "__:", e.event);
      server.pubsub().Publish(false, channel, e.key);
    }
  }
  events.clear();
  if (queued_events.empty()) queued_events.swap(events);  // keep the capacity
}

}  // namespace sluice::server
