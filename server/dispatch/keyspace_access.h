#pragma once
// What command handlers share: the selected database, storage statuses turned into Redis's error
// replies, and expiry-time arguments (EX/PX/EXAT/PXAT) turned into deadlines.

#include <cstdint>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

#include "protocol/reply_sink.h"
#include "server/dispatch/command.h"
#include "server/process/server.h"
#include "server/pubsub/keyspace_events.h"
#include "storage/keyspace.h"
#include "storage/status.h"

namespace sluice::server {

inline storage::Database& SelectedDb(CommandContext& ctx) {
  return ctx.server.keyspace().db(ctx.client.db());
}

// The shard of the command's first key (args[1]) in the selected database,
// without hashing the key again when the dispatcher already did.
inline storage::Shard& KeyShard(CommandContext& ctx) {
  return ctx.key_shard != nullptr ? *ctx.key_shard : SelectedDb(ctx).ShardFor(ctx.arg(1));
}

// args[from..] as views (the fields, members or keys a command lists).
inline std::vector<std::string_view> ArgsFrom(CommandContext& ctx, size_t from) {
  std::vector<std::string_view> out;
  out.reserve(ctx.argc() - from);
  for (size_t i = from; i < ctx.argc(); ++i) out.push_back(ctx.arg(i));
  return out;
}

// For the `new` keyspace event: whether `key` is absent, looked up only when
// that event is wanted. REQUIRES: the shard's lock.
inline bool AbsentForNewEvent(CommandContext& ctx, storage::Shard& shard, std::string_view key) {
  return ctx.WantsKeyChange(kNotifyNew) && shard.Find(key, ctx.now_ms) == nullptr;
}

// A SCAN-family cursor as Redis reads it (strtoul: "-1" is 2^64 - 1, ""
// is 0); nullopt: "ERR invalid cursor".
std::optional<uint64_t> ParseCursor(std::string_view text);

// LMPOP / ZMPOP numkeys key [key ...] <first|second> [COUNT count], the
// count at args[1]: the keys are args[2, *keys_end); *second says the
// direction word was `second` (RIGHT, MAX). False after replying the error.
// BLMPOP / BZMPOP pass `numkeys_at` 2 (their timeout comes first).
bool ParseMPopArgs(CommandContext& ctx, std::string_view first, std::string_view second,
                   size_t* keys_end, bool* is_second, uint64_t* count, size_t numkeys_at = 1);

// A blocking command's timeout in seconds (decimals allowed, 0: forever), as
// Redis reads it, turned into a deadline in ms (0: none). False after
// replying "timeout is not a float or out of range", "timeout is negative"
// or "timeout is out of range".
bool ParseBlockTimeout(CommandContext& ctx, std::string_view arg, int64_t* deadline_ms);

// Makes the client wait on the keys args[begin, end) until `deadline_ms`
// (0: forever); false where it cannot block (inside MULTI or a script: the
// handler then replies as the non-blocking form would).
inline bool BlockOnKeys(CommandContext& ctx, size_t begin, size_t end, int64_t deadline_ms) {
  std::vector<std::string_view> keys;
  keys.reserve(end - begin);
  for (size_t i = begin; i < end; ++i) keys.push_back(ctx.arg(i));
  return ctx.Block(keys, deadline_ms);
}

// A family's pop from the first non-empty key of args[begin, end): `second`
// is the second direction (RIGHT, MAX); `flat` BLPOP's and BZPOPMIN's reply
// (key, element[, score]) instead of [key, [elements]]. Returns false,
// having written nothing, when every key was empty.
using PopFirstFn = bool (*)(CommandContext& ctx, size_t begin, size_t end, bool second,
                            uint64_t count, bool flat);
// BLPOP / BRPOP / BZPOPMIN / BZPOPMAX key [key ...] timeout.
void BlockingPop(CommandContext& ctx, bool second, PopFirstFn pop);
// BLMPOP / BZMPOP timeout numkeys key [key ...] first|second [COUNT count]. As
// in Redis, the keys and options are checked before the timeout.
void BlockingMPop(CommandContext& ctx, std::string_view first, std::string_view second,
                  PopFirstFn pop);

// The MATCH and COUNT options of HSCAN/SSCAN, args[from..]: false after
// replying the error. *pattern is left empty for "*" (everything).
bool ParseScanOptions(CommandContext& ctx, size_t from, std::string_view* pattern, size_t* count);

// The count of HRANDFIELD/SRANDMEMBER (any int64 but INT64_MIN, as Redis's
// -LONG_MAX..LONG_MAX range): nullopt after replying the error.
std::optional<int64_t> ParseRandomCount(CommandContext& ctx, std::string_view arg);
// HRANDFIELD / ZRANDMEMBER key [count [`with_word`]]: *count (0 when absent)
// and *with; false after replying the error. As in Redis, the count is
// checked before the key, and a count whose pairs would overflow is refused.
bool ParseRandomArgs(CommandContext& ctx, std::string_view with_word, int64_t* count, bool* with);

// The error text for a failed storage status (empty for kOk/kNotFound/kExists).
std::string_view StatusError(storage::Status status);
void ReplyStatus(protocol::ReplySink& w, storage::Status status);

enum class TimeUnit { kSeconds, kMilliseconds, kUnixSeconds, kUnixMilliseconds };

// Turns an expiry argument into an absolute deadline in ms. Replies with the
// error and returns false for a non-integer, for <= 0 (relative units only
// when `allow_non_positive` is false) or on overflow, naming `command` in
// "invalid expire time in '<command>' command".
bool ParseDeadline(protocol::ReplySink& w, std::string_view command, std::string_view arg,
                   TimeUnit unit, int64_t now_ms, int64_t* deadline_ms);

// Gives the entry `e` of `key` the expiry `deadline_ms`, or deletes it when
// that is not in the future (as Redis does), and notifies "expire" or "del".
// REQUIRES: `shard` holds `key` and is locked.
void ApplyDeadline(CommandContext& ctx, storage::Shard& shard, std::string_view key,
                   storage::Entry* e, int64_t deadline_ms);

}  // namespace sluice::server
