#pragma once
// Keyspace notifications (Redis's notify-keyspace-events): the event classes,
// their flag letters, and the queue through which commands and expiry raise
// events.
//
// Raising an event costs one relaxed atomic load when its class is off. When
// it is on, the event is queued on the calling thread (never published under
// a shard lock: the expiry hook runs under one) and published, in the order
// raised, by PublishQueuedKeyspaceEvents() once the command or the expiry
// pass is done.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::server {

struct CommandContext;
class Server;

enum KeyspaceEventFlag : uint32_t {
  kNotifyKeyspace = 1u << 0,  // K: __keyspace@<db>__:<key> channels
  kNotifyKeyevent = 1u << 1,  // E: __keyevent@<db>__:<event> channels
  kNotifyGeneric = 1u << 2,   // g: DEL, EXPIRE, RENAME, ...
  kNotifyString = 1u << 3,    // $
  kNotifyList = 1u << 4,      // l
  kNotifySet = 1u << 5,       // s
  kNotifyHash = 1u << 6,      // h
  kNotifyZset = 1u << 7,      // z
  kNotifyExpired = 1u << 8,   // x
  kNotifyEvicted = 1u << 9,   // e
  kNotifyStream = 1u << 10,   // t
  kNotifyKeyMiss = 1u << 11,  // m (not part of A)
  kNotifyModule = 1u << 12,   // d
  kNotifyNew = 1u << 13,      // n (not part of A)
  // A: every class but m and n.
  kNotifyAll = kNotifyGeneric | kNotifyString | kNotifyList | kNotifySet | kNotifyHash |
               kNotifyZset | kNotifyExpired | kNotifyEvicted | kNotifyStream | kNotifyModule,
};

// Parses a notify-keyspace-events value ("KEA", "Ex", ""); nullopt on an
// unknown letter.
std::optional<uint32_t> ParseKeyspaceEventFlags(std::string_view text);
// The canonical text CONFIG GET prints for `flags`, as Redis writes it.
std::string KeyspaceEventFlagsText(uint32_t flags);

// Raises `event` (a string literal) of class `type` for `key` in the
// client's selected database.
void NotifyKeyspace(CommandContext& ctx, uint32_t type, const char* event, std::string_view key);
// The same for database `db` (MOVE, COPY ... DB, expiry).
void NotifyKeyspace(Server& server, int db, uint32_t type, const char* event,
                    std::string_view key);
// True if an event of class `type` would be published (e.g. to decide whether
// to look up a key first for the `new` event).
bool KeyspaceEventsWanted(Server& server, uint32_t type);

// Whether this thread has queued events.
bool HasQueuedKeyspaceEvents();
// Publishes this thread's queued events. REQUIRES: no shard lock held.
void PublishQueuedKeyspaceEvents(Server& server);

}  // namespace sluice::server
