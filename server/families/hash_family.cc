// Hash commands: HSET and friends, reads, increments, HRANDFIELD and HSCAN.
// Storage work is in storage/hash_ops.h; handlers parse, call, reply and
// record keyspace events.

#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/strings.h"
#include "protocol/arg_reader.h"
#include "protocol/errors.h"
#include "server/dispatch/command.h"
#include "server/dispatch/keyspace_access.h"
#include "server/pubsub/keyspace_events.h"
#include "storage/hash_ops.h"

namespace sluice::server {
namespace {

namespace errors = protocol::errors;
using protocol::EqualsIgnoreCase;
using protocol::ParseInt64;
using storage::Entry;
using storage::Shard;

storage::HashLimits Limits(CommandContext& ctx) { return ctx.server.config().hash_limits(); }

// The hash of args[1] for a read: nullptr after replying WRONGTYPE, or
// (with *absent set) when there is no such key.
const Entry* ReadHash(CommandContext& ctx, bool* absent) {
  storage::Result<const Entry*> r = storage::FindHash(KeyShard(ctx), ctx.arg(1), ctx.now_ms);
  *absent = r.ok() && r.value == nullptr;
  if (!r.ok()) ReplyStatus(ctx.w, r.status);
  return r.value;
}

// HSET key field value [field value ...] (reply: fields added) and HMSET (OK).
template <bool kHmset>
void CmdHSet(CommandContext& ctx) {
  if (ctx.argc() % 2 != 0) return ctx.w.Error(errors::WrongArity(kHmset ? "hmset" : "hset"));
  Shard& shard = KeyShard(ctx);
  const bool created = AbsentForNewEvent(ctx, shard, ctx.arg(1));
  const std::vector<std::string_view> pairs = ArgsFrom(ctx, 2);
  auto r = storage::HashSet(shard, ctx.arg(1), pairs, Limits(ctx), ctx.now_ms);
  if (!r.ok()) return ReplyStatus(ctx.w, r.status);
  if (created) ctx.KeyChanged(kNotifyNew, "new", ctx.arg(1));
  ctx.KeyChanged(kNotifyHash, "hset", ctx.arg(1));
  if (kHmset) return ctx.w.Ok();
  ctx.w.Integer(static_cast<int64_t>(r.value));
}

void CmdHSetNx(CommandContext& ctx) {
  Shard& shard = KeyShard(ctx);
  const bool created = AbsentForNewEvent(ctx, shard, ctx.arg(1));
  auto r =
      storage::HashSetIfAbsent(shard, ctx.arg(1), ctx.arg(2), ctx.arg(3), Limits(ctx), ctx.now_ms);
  if (!r.ok()) return ReplyStatus(ctx.w, r.status);
  if (r.value) {
    if (created) ctx.KeyChanged(kNotifyNew, "new", ctx.arg(1));
    ctx.KeyChanged(kNotifyHash, "hset", ctx.arg(1));
  }
  ctx.w.Integer(r.value ? 1 : 0);
}

void CmdHGet(CommandContext& ctx) {
  bool absent;
  const Entry* e = ReadHash(ctx, &absent);
  if (e == nullptr) return absent ? ctx.w.Null() : void();
  std::string scratch;
  const std::optional<std::string_view> v = storage::HashView(e).Get(ctx.arg(2), &scratch);
  if (!v) return ctx.w.Null();
  ctx.w.Bulk(*v);
}

void CmdHMGet(CommandContext& ctx) {
  bool absent;
  const Entry* e = ReadHash(ctx, &absent);
  if (e == nullptr && !absent) return;
  ctx.w.ArrayHeader(ctx.argc() - 2);
  std::string scratch;
  for (size_t i = 2; i < ctx.argc(); ++i) {
    const std::optional<std::string_view> v =
        e == nullptr ? std::nullopt : storage::HashView(e).Get(ctx.arg(i), &scratch);
    if (v) {
      ctx.w.Bulk(*v);
    } else {
      ctx.w.Null();
    }
  }
}

void CmdHExists(CommandContext& ctx) {
  bool absent;
  const Entry* e = ReadHash(ctx, &absent);
  if (e == nullptr) return absent ? ctx.w.Integer(0) : void();
  std::string scratch;
  ctx.w.Integer(storage::HashView(e).Get(ctx.arg(2), &scratch) ? 1 : 0);
}

void CmdHStrLen(CommandContext& ctx) {
  bool absent;
  const Entry* e = ReadHash(ctx, &absent);
  if (e == nullptr) return absent ? ctx.w.Integer(0) : void();
  std::string scratch;
  const std::optional<std::string_view> v = storage::HashView(e).Get(ctx.arg(2), &scratch);
  ctx.w.Integer(v ? static_cast<int64_t>(v->size()) : 0);
}

void CmdHLen(CommandContext& ctx) {
  bool absent;
  const Entry* e = ReadHash(ctx, &absent);
  if (e == nullptr) return absent ? ctx.w.Integer(0) : void();
  ctx.w.Integer(static_cast<int64_t>(storage::HashView(e).size()));
}

// HGETALL (a map in RESP3), HKEYS, HVALS.
enum class Part { kBoth, kFields, kValues };
template <Part kPart>
void CmdHGetAll(CommandContext& ctx) {
  bool absent;
  const Entry* e = ReadHash(ctx, &absent);
  if (e == nullptr && !absent) return;
  const size_t n = e == nullptr ? 0 : storage::HashView(e).size();
  if (kPart == Part::kBoth) {
    ctx.w.MapHeader(n);
  } else {
    ctx.w.ArrayHeader(n);
  }
  if (e == nullptr) return;
  storage::HashView(e).ForEach([&](std::string_view f, std::string_view v) {
    if (kPart != Part::kValues) ctx.w.Bulk(f);
    if (kPart != Part::kFields) ctx.w.Bulk(v);
  });
}

void CmdHDel(CommandContext& ctx) {
  const std::vector<std::string_view> fields = ArgsFrom(ctx, 2);
  auto r = storage::HashDelete(KeyShard(ctx), ctx.arg(1), fields, ctx.now_ms);
  if (!r.ok()) return ReplyStatus(ctx.w, r.status);
  if (r.value.removed > 0) ctx.KeyChanged(kNotifyHash, "hdel", ctx.arg(1));
  if (r.value.key_removed) ctx.KeyChanged(kNotifyGeneric, "del", ctx.arg(1));
  ctx.w.Integer(static_cast<int64_t>(r.value.removed));
}

void CmdHIncrBy(CommandContext& ctx) {
  const std::optional<int64_t> delta = ParseInt64(ctx.arg(3));
  if (!delta) return ctx.w.Error(errors::kNotInteger);
  Shard& shard = KeyShard(ctx);
  const bool created = AbsentForNewEvent(ctx, shard, ctx.arg(1));
  auto r = storage::HashIncrementBy(shard, ctx.arg(1), ctx.arg(2), *delta, Limits(ctx), ctx.now_ms);
  if (!r.ok()) return ReplyStatus(ctx.w, r.status);
  if (created) ctx.KeyChanged(kNotifyNew, "new", ctx.arg(1));
  ctx.KeyChanged(kNotifyHash, "hincrby", ctx.arg(1));
  ctx.w.Integer(r.value);
}

void CmdHIncrByFloat(CommandContext& ctx) {
  const std::optional<long double> delta = protocol::ParseLongDouble(ctx.arg(3));
  if (!delta) return ctx.w.Error(errors::kNotFloat);
  if (std::isnan(*delta) || std::isinf(*delta)) return ctx.w.Error("ERR value is NaN or Infinity");
  Shard& shard = KeyShard(ctx);
  const bool created = AbsentForNewEvent(ctx, shard, ctx.arg(1));
  auto r =
      storage::HashIncrementByFloat(shard, ctx.arg(1), ctx.arg(2), *delta, Limits(ctx), ctx.now_ms);
  if (!r.ok()) return ReplyStatus(ctx.w, r.status);
  if (created) ctx.KeyChanged(kNotifyNew, "new", ctx.arg(1));
  ctx.KeyChanged(kNotifyHash, "hincrbyfloat", ctx.arg(1));
  ctx.w.Bulk(r.value);
}

// HRANDFIELD key [count [WITHVALUES]]. As in Redis, the count is checked
// before the key is looked up.
void CmdHRandField(CommandContext& ctx) {
  int64_t count;
  bool with_values;
  if (!ParseRandomArgs(ctx, "WITHVALUES", &count, &with_values)) return;
  bool absent;
  const Entry* e = ReadHash(ctx, &absent);
  if (e == nullptr && !absent) return;
  if (ctx.argc() == 2) {
    if (e == nullptr) return ctx.w.Null();
    return ctx.w.Bulk(storage::HashRandomFields(e, 1).front().first);
  }
  const std::vector<storage::FieldValue> picked =
      e == nullptr ? std::vector<storage::FieldValue>() : storage::HashRandomFields(e, count);
  if (!with_values) {
    ctx.w.ArrayHeader(picked.size());
    for (const auto& [f, v] : picked) ctx.w.Bulk(f);
    return;
  }
  // RESP3: an array of [field, value] pairs; RESP2: one flat array.
  const bool nested = ctx.w.resp3();
  ctx.w.ArrayHeader(nested ? picked.size() : 2 * picked.size());
  for (const auto& [f, v] : picked) {
    if (nested) ctx.w.ArrayHeader(2);
    ctx.w.Bulk(f);
    ctx.w.Bulk(v);
  }
}

// HSCAN key cursor [MATCH pattern] [COUNT count]. As in Redis, the options
// are only looked at when the key exists.
void CmdHScan(CommandContext& ctx) {
  const std::optional<uint64_t> cursor = ParseCursor(ctx.arg(2));
  if (!cursor) return ctx.w.Error("ERR invalid cursor");
  bool absent;
  const Entry* e = ReadHash(ctx, &absent);
  if (e == nullptr && !absent) return;
  std::string_view pattern;
  size_t count = 10;
  if (e != nullptr && !ParseScanOptions(ctx, 3, &pattern, &count)) return;
  std::vector<storage::FieldValue> items;
  const uint64_t next =
      e == nullptr ? 0 : storage::HashScan(e, *cursor, count, pattern, &items);
  ctx.w.ArrayHeader(2);
  ctx.w.Bulk(StrCat(next));
  ctx.w.ArrayHeader(2 * items.size());
  for (const auto& [f, v] : items) {
    ctx.w.Bulk(f);
    ctx.w.Bulk(v);
  }
}

constexpr uint32_t kWriteFlags = kWrite | kDenyOom;

constexpr FamilyRows Row("hash");

}  // namespace

void RegisterHashFamily(CommandTable& t) {
  t.Add(Row("hset", -4, kWriteFlags | kFast, 1, 1, 1, CmdHSet<false>,
            "Set fields of a hash, creating it if needed; returns how many fields were new.",
            "2.0.0", "O(1) for each field/value pair added.", "@write @hash @fast"));
  t.Add(Row("hmset", -4, kWriteFlags | kFast, 1, 1, 1, CmdHSet<true>,
            "Set fields of a hash (the older form of HSET, replying OK).", "2.0.0",
            "O(N) where N is the number of fields being set.", "@write @hash @fast"));
  t.Add(Row("hsetnx", 4, kWriteFlags | kFast, 1, 1, 1, CmdHSetNx,
            "Set a field of a hash only if the field is absent.", "2.0.0", "O(1)",
            "@write @hash @fast"));
  t.Add(Row("hget", 3, kReadOnly | kFast, 1, 1, 1, CmdHGet, "Read the value of a hash field.",
            "2.0.0", "O(1)", "@read @hash @fast"));
  t.Add(Row("hmget", -3, kReadOnly | kFast, 1, 1, 1, CmdHMGet,
            "Read the values of several hash fields.", "2.0.0",
            "O(N) where N is the number of fields being requested.", "@read @hash @fast"));
  t.Add(Row("hgetall", 2, kReadOnly, 1, 1, 1, CmdHGetAll<Part::kBoth>,
            "Read every field and value of a hash.", "2.0.0",
            "O(N) where N is the size of the hash.", "@read @hash @slow"));
  t.Add(Row("hkeys", 2, kReadOnly, 1, 1, 1, CmdHGetAll<Part::kFields>,
            "Read every field name of a hash.", "2.0.0", "O(N) where N is the size of the hash.",
            "@read @hash @slow"));
  t.Add(Row("hvals", 2, kReadOnly, 1, 1, 1, CmdHGetAll<Part::kValues>,
            "Read every value of a hash.", "2.0.0", "O(N) where N is the size of the hash.",
            "@read @hash @slow"));
  t.Add(Row("hdel", -3, kWrite | kFast, 1, 1, 1, CmdHDel,
            "Delete fields of a hash; the key goes with its last field.", "2.0.0",
            "O(N) where N is the number of fields to be removed.", "@write @hash @fast"));
  t.Add(Row("hexists", 3, kReadOnly | kFast, 1, 1, 1, CmdHExists, "Whether a hash has a field.",
            "2.0.0", "O(1)", "@read @hash @fast"));
  t.Add(Row("hlen", 2, kReadOnly | kFast, 1, 1, 1, CmdHLen, "Number of fields in a hash.", "2.0.0",
            "O(1)", "@read @hash @fast"));
  t.Add(Row("hstrlen", 3, kReadOnly | kFast, 1, 1, 1, CmdHStrLen,
            "Length in bytes of a hash field's value.", "3.2.0", "O(1)", "@read @hash @fast"));
  t.Add(Row("hincrby", 4, kWriteFlags | kFast, 1, 1, 1, CmdHIncrBy,
            "Add an integer to a hash field's integer value (absent counts as 0).", "2.0.0", "O(1)",
            "@write @hash @fast"));
  t.Add(Row("hincrbyfloat", 4, kWriteFlags | kFast, 1, 1, 1, CmdHIncrByFloat,
            "Add a floating-point number to a hash field's value (absent counts as 0).", "2.6.0",
            "O(1)", "@write @hash @fast"));
  t.Add(Row("hrandfield", -2, kReadOnly, 1, 1, 1, CmdHRandField,
            "Random fields of a hash, optionally with their values.", "6.2.0",
            "O(N) where N is the number of fields returned", "@read @hash @slow"));
  t.Add(Row("hscan", -3, kReadOnly, 1, 1, 1, CmdHScan,
            "Iterate over the fields and values of a hash with a cursor.", "2.8.0",
            "O(1) for every call. O(N) for a complete iteration.", "@read @hash @slow"));
}

}  // namespace sluice::server
