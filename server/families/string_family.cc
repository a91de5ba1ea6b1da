// String and counter commands: GET, SET and its variants, MGET/MSET,
// APPEND, ranges, INCR/DECR and INCRBYFLOAT.

#include <mutex>

#include "protocol/arg_reader.h"
#include "protocol/errors.h"
#include "server/dispatch/command.h"
#include "server/dispatch/keyspace_access.h"
#include "server/pubsub/keyspace_events.h"
#include "storage/string_ops.h"

namespace sluice::server {
namespace {

namespace errors = protocol::errors;
using protocol::ArgReader;
using protocol::ParseInt64;
using storage::Entry;
using storage::Shard;
using storage::Status;

// The events of a string write: `new` (if it created the key), `event`, and
// `expire` when the write set a deadline.
void NotifyStringWrite(CommandContext& ctx, std::string_view key, bool created,
                       const char* event, bool expire = false) {
  if (created) ctx.KeyChanged(kNotifyNew, "new", key);
  ctx.KeyChanged(kNotifyString, event, key);
  if (expire) ctx.KeyChanged(kNotifyGeneric, "expire", key);
}

// Writes a string entry's value, or WRONGTYPE.
void ReplyStringValue(protocol::ReplySink& w, const Entry* e) {
  if (e == nullptr) return w.Null();
  if (e->type() != storage::ValueType::kString) return w.Error(errors::kWrongType);
  std::string scratch;
  w.Bulk(e->string_value(&scratch));
}

void CmdGet(CommandContext& ctx) {
  Shard& shard = KeyShard(ctx);
  ReplyStringValue(ctx.w, shard.FindForRead(ctx.arg(1), ctx.now_ms));
}

// EX, PX, EXAT or PXAT (any case) as a unit; nullopt for anything else.
std::optional<TimeUnit> ExpiryUnit(std::string_view a) {
  if (protocol::EqualsIgnoreCase(a, "EX")) return TimeUnit::kSeconds;
  if (protocol::EqualsIgnoreCase(a, "PX")) return TimeUnit::kMilliseconds;
  if (protocol::EqualsIgnoreCase(a, "EXAT")) return TimeUnit::kUnixSeconds;
  if (protocol::EqualsIgnoreCase(a, "PXAT")) return TimeUnit::kUnixMilliseconds;
  return std::nullopt;
}

// Parses SET's options from args[3..]. Returns false after replying an error.
// As in Redis, repeating an option is allowed (the last value wins); options
// that contradict each other (NX and XX, two expiry units, KEEPTTL and an
// expiry) are a syntax error.
bool ParseSetOptions(CommandContext& ctx, storage::SetOptions* opts) {
  using Cond = storage::SetOptions::Condition;
  std::string_view unit_seen;  // "EX", "PX", "EXAT" or "PXAT" once one was given
  // The expiry value is checked after every option has been read, as Redis
  // does: a syntax error wins over a bad number, and a repeated unit's last
  // value is the one that counts.
  std::string_view expiry_arg;
  TimeUnit expiry_unit = TimeUnit::kSeconds;
  for (size_t i = 3; i < ctx.argc(); ++i) {
    std::string_view a = ctx.arg(i);
    const bool has_next = i + 1 < ctx.argc();
    auto is = [&](std::string_view w) { return protocol::EqualsIgnoreCase(a, w); };
    if (is("NX") && opts->condition != Cond::kIfPresent) {
      opts->condition = Cond::kIfAbsent;
    } else if (is("XX") && opts->condition != Cond::kIfAbsent) {
      opts->condition = Cond::kIfPresent;
    } else if (is("GET")) {
      opts->return_old = true;
    } else if (is("KEEPTTL") && unit_seen.empty()) {
      opts->keep_ttl = true;
    } else if (std::optional<TimeUnit> unit = ExpiryUnit(a);
               unit && !opts->keep_ttl && has_next &&
               (unit_seen.empty() || protocol::EqualsIgnoreCase(unit_seen, a))) {
      expiry_arg = ctx.arg(++i);
      expiry_unit = *unit;
      unit_seen = a;
    } else {
      ctx.w.Error(errors::kSyntax);
      return false;
    }
  }
  return unit_seen.empty() ||
         ParseDeadline(ctx.w, "set", expiry_arg, expiry_unit, ctx.now_ms, &opts->expire_at_ms);
}

void ReplySetOutcome(CommandContext& ctx, const storage::SetOutcome& out, bool return_old) {
  if (out.status != Status::kOk) return ReplyStatus(ctx.w, out.status);
  if (return_old) {
    if (out.old_value) return ctx.w.Bulk(*out.old_value);
    return ctx.w.Null();
  }
  if (out.written) return ctx.w.Ok();
  ctx.w.Null();
}

void CmdSet(CommandContext& ctx) {
  storage::SetOptions opts;
  if (!ParseSetOptions(ctx, &opts)) return;
  Shard& shard = KeyShard(ctx);
  const bool created = AbsentForNewEvent(ctx, shard, ctx.arg(1));
  auto out = storage::SetString(shard, ctx.arg(1), ctx.arg(2), opts, ctx.now_ms);
  if (out.status == Status::kOk && out.written) {
    NotifyStringWrite(ctx, ctx.arg(1), created, "set", opts.expire_at_ms != 0);
  }
  ReplySetOutcome(ctx, out, opts.return_old);
}

void CmdSetNx(CommandContext& ctx) {
  storage::SetOptions opts;
  opts.condition = storage::SetOptions::Condition::kIfAbsent;
  Shard& shard = KeyShard(ctx);
  const bool created = AbsentForNewEvent(ctx, shard, ctx.arg(1));
  auto out = storage::SetString(shard, ctx.arg(1), ctx.arg(2), opts, ctx.now_ms);
  if (out.written) NotifyStringWrite(ctx, ctx.arg(1), created, "set");
  ctx.w.Integer(out.written ? 1 : 0);
}

// SETEX key seconds value / PSETEX key milliseconds value.
template <TimeUnit kUnit>
void CmdSetWithTtl(CommandContext& ctx) {
  storage::SetOptions opts;
  const std::string_view name = kUnit == TimeUnit::kSeconds ? "setex" : "psetex";
  if (!ParseDeadline(ctx.w, name, ctx.arg(2), kUnit, ctx.now_ms, &opts.expire_at_ms)) return;
  Shard& shard = KeyShard(ctx);
  const bool created = AbsentForNewEvent(ctx, shard, ctx.arg(1));
  auto out = storage::SetString(shard, ctx.arg(1), ctx.arg(3), opts, ctx.now_ms);
  if (out.status == Status::kOk && out.written) {
    NotifyStringWrite(ctx, ctx.arg(1), created, "set", true);
  }
  ReplySetOutcome(ctx, out, false);
}

void CmdGetSet(CommandContext& ctx) {
  storage::SetOptions opts;
  opts.return_old = true;
  Shard& shard = KeyShard(ctx);
  const bool created = AbsentForNewEvent(ctx, shard, ctx.arg(1));
  auto out = storage::SetString(shard, ctx.arg(1), ctx.arg(2), opts, ctx.now_ms);
  if (out.status == Status::kOk && out.written) NotifyStringWrite(ctx, ctx.arg(1), created, "set");
  ReplySetOutcome(ctx, out, true);
}

void CmdGetDel(CommandContext& ctx) {
  Shard& shard = KeyShard(ctx);
  Entry* e = shard.FindForRead(ctx.arg(1), ctx.now_ms);
  if (e == nullptr) return ctx.w.Null();
  if (e->type() != storage::ValueType::kString) return ctx.w.Error(errors::kWrongType);
  std::string scratch;
  ctx.w.Bulk(e->string_value(&scratch));
  (void)shard.Erase(ctx.arg(1), ctx.now_ms);
  ctx.KeyChanged(kNotifyGeneric, "del", ctx.arg(1));
}

void CmdGetEx(CommandContext& ctx) {
  // The same option may repeat (the last wins); different ones conflict.
  enum class Action { kNone, kSet, kPersist } action = Action::kNone;
  std::string_view unit_seen;
  std::string_view expiry_arg;
  TimeUnit expiry_unit = TimeUnit::kSeconds;
  for (size_t i = 2; i < ctx.argc(); ++i) {
    std::string_view a = ctx.arg(i);
    if (protocol::EqualsIgnoreCase(a, "PERSIST") && action != Action::kSet) {
      action = Action::kPersist;
    } else if (std::optional<TimeUnit> unit = ExpiryUnit(a);
               unit && action != Action::kPersist && i + 1 < ctx.argc() &&
               (unit_seen.empty() || protocol::EqualsIgnoreCase(unit_seen, a))) {
      expiry_arg = ctx.arg(++i);
      expiry_unit = *unit;
      action = Action::kSet;
      unit_seen = a;
    } else {
      return ctx.w.Error(errors::kSyntax);
    }
  }
  Shard& shard = KeyShard(ctx);
  Entry* e = shard.FindForRead(ctx.arg(1), ctx.now_ms);
  if (e == nullptr) return ctx.w.Null();
  if (e->type() != storage::ValueType::kString) return ctx.w.Error(errors::kWrongType);
  // As in Redis, the expiry value is only checked once the key is found.
  int64_t deadline = 0;
  if (action == Action::kSet &&
      !ParseDeadline(ctx.w, "getex", expiry_arg, expiry_unit, ctx.now_ms, &deadline)) {
    return;
  }
  std::string scratch;
  ctx.w.Bulk(e->string_value(&scratch));
  if (action == Action::kSet) {
    ApplyDeadline(ctx, shard, ctx.arg(1), e, deadline);
  } else if (action == Action::kPersist && e->has_expiry()) {
    shard.SetExpiry(e, 0);
    ctx.KeyChanged(kNotifyGeneric, "persist", ctx.arg(1));
  }
}

void CmdMGet(CommandContext& ctx) {
  storage::Database& db = SelectedDb(ctx);
  ctx.w.ArrayHeader(ctx.argc() - 1);
  std::string scratch;
  for (size_t i = 1; i < ctx.argc(); ++i) {
    Entry* e = db.ShardFor(ctx.arg(i)).FindForRead(ctx.arg(i), ctx.now_ms);
    if (e == nullptr || e->type() != storage::ValueType::kString) {
      ctx.w.Null();
    } else {
      ctx.w.Bulk(e->string_value(&scratch));
    }
  }
}

void CmdMSet(CommandContext& ctx) {
  if (ctx.argc() % 2 == 0) return ctx.w.Error(errors::WrongArity("mset"));
  storage::Database& db = SelectedDb(ctx);
  storage::SetOptions opts;
  for (size_t i = 1; i < ctx.argc(); i += 2) {
    Shard& shard = db.ShardFor(ctx.arg(i));
    const bool created = AbsentForNewEvent(ctx, shard, ctx.arg(i));
    (void)storage::SetString(shard, ctx.arg(i), ctx.arg(i + 1), opts, ctx.now_ms);
    NotifyStringWrite(ctx, ctx.arg(i), created, "set");
  }
  ctx.w.Ok();
}

void CmdMSetNx(CommandContext& ctx) {
  if (ctx.argc() % 2 == 0) return ctx.w.Error(errors::WrongArity("msetnx"));
  storage::Database& db = SelectedDb(ctx);
  for (size_t i = 1; i < ctx.argc(); i += 2) {
    if (db.ShardFor(ctx.arg(i)).Find(ctx.arg(i), ctx.now_ms) != nullptr) return ctx.w.Integer(0);
  }
  storage::SetOptions opts;
  for (size_t i = 1; i < ctx.argc(); i += 2) {
    Shard& shard = db.ShardFor(ctx.arg(i));
    const bool created = AbsentForNewEvent(ctx, shard, ctx.arg(i));
    (void)storage::SetString(shard, ctx.arg(i), ctx.arg(i + 1), opts, ctx.now_ms);
    NotifyStringWrite(ctx, ctx.arg(i), created, "set");
  }
  ctx.w.Integer(1);
}

void CmdAppend(CommandContext& ctx) {
  Shard& shard = KeyShard(ctx);
  const bool created = AbsentForNewEvent(ctx, shard, ctx.arg(1));
  auto r = storage::AppendString(shard, ctx.arg(1), ctx.arg(2), ctx.now_ms);
  if (!r.ok()) return ReplyStatus(ctx.w, r.status);
  NotifyStringWrite(ctx, ctx.arg(1), created, "append");
  ctx.w.Integer(static_cast<int64_t>(r.value));
}

void CmdStrlen(CommandContext& ctx) {
  Shard& shard = KeyShard(ctx);
  Entry* e = shard.FindForRead(ctx.arg(1), ctx.now_ms);
  if (e == nullptr) return ctx.w.Integer(0);
  if (e->type() != storage::ValueType::kString) return ctx.w.Error(errors::kWrongType);
  ctx.w.Integer(static_cast<int64_t>(e->string_length()));
}

// GETRANGE / SUBSTR: inclusive range with negative indexes from the end.
void CmdGetRange(CommandContext& ctx) {
  auto start = ParseInt64(ctx.arg(2));
  auto end = ParseInt64(ctx.arg(3));
  if (!start || !end) return ctx.w.Error(errors::kNotInteger);
  Shard& shard = KeyShard(ctx);
  Entry* e = shard.FindForRead(ctx.arg(1), ctx.now_ms);
  if (e == nullptr) return ctx.w.Bulk("");
  if (e->type() != storage::ValueType::kString) return ctx.w.Error(errors::kWrongType);
  std::string scratch;
  std::string_view v = e->string_value(&scratch);
  const int64_t len = static_cast<int64_t>(v.size());
  int64_t s = *start, t = *end;
  if (s < 0 && t < 0 && s > t) return ctx.w.Bulk("");
  if (s < 0) s += len;
  if (t < 0) t += len;
  if (s < 0) s = 0;
  if (t < 0) t = 0;
  if (t >= len) t = len - 1;
  if (len == 0 || s > t) return ctx.w.Bulk("");
  ctx.w.Bulk(v.substr(static_cast<size_t>(s), static_cast<size_t>(t - s + 1)));
}

void CmdSetRange(CommandContext& ctx) {
  auto offset = ParseInt64(ctx.arg(2));
  if (!offset) return ctx.w.Error(errors::kNotInteger);
  if (*offset < 0) return ctx.w.Error(errors::kOffsetOutOfRange);
  // The size limit is checked by SetRange, after the key's type, as Redis does.
  std::string_view bytes = ctx.arg(3);
  Shard& shard = KeyShard(ctx);
  const bool created = AbsentForNewEvent(ctx, shard, ctx.arg(1));
  auto r = storage::SetRange(shard, ctx.arg(1), static_cast<size_t>(*offset), bytes, ctx.now_ms);
  if (!r.ok()) return ReplyStatus(ctx.w, r.status);
  if (!bytes.empty()) NotifyStringWrite(ctx, ctx.arg(1), created, "setrange");
  ctx.w.Integer(static_cast<int64_t>(r.value));
}

void IncrementReply(CommandContext& ctx, int64_t delta) {
  Shard& shard = KeyShard(ctx);
  const bool created = AbsentForNewEvent(ctx, shard, ctx.arg(1));
  auto r = storage::IncrementBy(shard, ctx.arg(1), delta, ctx.now_ms);
  if (!r.ok()) return ReplyStatus(ctx.w, r.status);
  NotifyStringWrite(ctx, ctx.arg(1), created, "incrby");
  ctx.w.Integer(r.value);
}

void CmdIncr(CommandContext& ctx) { IncrementReply(ctx, 1); }
void CmdDecr(CommandContext& ctx) { IncrementReply(ctx, -1); }

void CmdIncrBy(CommandContext& ctx) {
  auto delta = ParseInt64(ctx.arg(2));
  if (!delta) return ctx.w.Error(errors::kNotInteger);
  IncrementReply(ctx, *delta);
}

void CmdDecrBy(CommandContext& ctx) {
  auto delta = ParseInt64(ctx.arg(2));
  if (!delta) return ctx.w.Error(errors::kNotInteger);
  if (*delta == std::numeric_limits<int64_t>::min()) {
    return ctx.w.Error("ERR decrement would overflow");
  }
  IncrementReply(ctx, -*delta);
}

void CmdIncrByFloat(CommandContext& ctx) {
  Shard& shard = KeyShard(ctx);
  // As in Redis, the key's type is checked before the increment is parsed.
  if (const Entry* e = shard.Find(ctx.arg(1), ctx.now_ms);
      e != nullptr && e->type() != storage::ValueType::kString) {
    return ctx.w.Error(errors::kWrongType);
  }
  auto delta = protocol::ParseLongDouble(ctx.arg(2));
  if (!delta) return ctx.w.Error(errors::kNotFloat);
  const bool created = AbsentForNewEvent(ctx, shard, ctx.arg(1));
  auto r = storage::IncrementByFloat(shard, ctx.arg(1), *delta, ctx.now_ms);
  if (!r.ok()) return ReplyStatus(ctx.w, r.status);
  NotifyStringWrite(ctx, ctx.arg(1), created, "incrbyfloat");
  ctx.w.Bulk(r.value);
}

constexpr uint32_t kWriteFlags = kWrite | kDenyOom;

constexpr FamilyRows Row("string");

}  // namespace

void RegisterStringFamily(CommandTable& t) {
  t.Add(Row("get", 2, kReadOnly | kFast, 1, 1, 1, CmdGet,
            "Read a string value.", "1.0.0", "O(1)", "@read @string @fast"));
  t.Add(Row("set", -3, kWriteFlags, 1, 1, 1, CmdSet,
            "Store a string value, with optional expiry and NX/XX/GET conditions.", "1.0.0", "O(1)", "@write @string @slow"));
  t.Add(Row("setnx", 3, kWriteFlags | kFast, 1, 1, 1, CmdSetNx,
            "Store a string value only if the key is absent.", "1.0.0", "O(1)",
            "@write @string @fast"));
  t.Add(Row("setex", 4, kWriteFlags, 1, 1, 1, CmdSetWithTtl<TimeUnit::kSeconds>,
            "Store a string value with a time to live in seconds.", "2.0.0", "O(1)", "@write @string @slow"));
  t.Add(Row("psetex", 4, kWriteFlags, 1, 1, 1, CmdSetWithTtl<TimeUnit::kMilliseconds>,
            "Store a string value with a time to live in milliseconds.", "2.6.0", "O(1)", "@write @string @slow"));
  t.Add(Row("getset", 3, kWriteFlags | kFast, 1, 1, 1, CmdGetSet,
            "Store a new string value and return the old one.", "1.0.0", "O(1)", "@write @string @fast"));
  t.Add(Row("getdel", 2, kWrite | kFast, 1, 1, 1, CmdGetDel,
            "Return a string value and delete its key.", "6.2.0", "O(1)",
            "@write @string @fast"));
  t.Add(Row("getex", -2, kWrite | kFast, 1, 1, 1, CmdGetEx,
            "Return a string value and change or remove its expiry.", "6.2.0",
            "O(1)", "@write @string @fast"));
  t.Add(Row("mget", -2, kReadOnly | kFast, 1, -1, 1, CmdMGet,
            "Read the string values of several keys at once.", "1.0.0",
            "O(N) where N is the number of keys to retrieve.", "@read @string @fast"));
  t.Add(Row("mset", -3, kWriteFlags, 1, -1, 2, CmdMSet,
            "Store several string values at once.", "1.0.1",
            "O(N) where N is the number of keys to set.", "@write @string @slow"));
  t.Add(Row("msetnx", -3, kWriteFlags, 1, -1, 2, CmdMSetNx,
            "Store several string values at once, only if none of the keys exists.", "1.0.1", "O(N) where N is the number of keys to set.", "@write @string @slow"));
  t.Add(Row("append", 3, kWriteFlags | kFast, 1, 1, 1, CmdAppend,
            "Add bytes to the end of a string value, creating it if needed.", "2.0.0", "O(1)", "@write @string @fast"));
  t.Add(Row("strlen", 2, kReadOnly | kFast, 1, 1, 1, CmdStrlen,
            "Length in bytes of a string value.", "2.2.0", "O(1)", "@read @string @fast"));
  t.Add(Row("getrange", 4, kReadOnly, 1, 1, 1, CmdGetRange,
            "Part of a string value between two offsets.", "2.4.0",
            "O(N) where N is the length of the returned string.", "@read @string @slow"));
  t.Add(Row("substr", 4, kReadOnly, 1, 1, 1, CmdGetRange,
            "Part of a string value between two offsets (old name of GETRANGE).", "1.0.0",
            "O(N) where N is the length of the returned string.", "@read @string @slow"));
  t.Add(Row("setrange", 4, kWriteFlags, 1, 1, 1, CmdSetRange,
            "Overwrite part of a string value at an offset, padding with zero bytes.", "2.2.0", "O(1), not counting the time taken to copy the new string in place.",
            "@write @string @slow"));
  t.Add(Row("incr", 2, kWriteFlags | kFast, 1, 1, 1, CmdIncr,
            "Add one to an integer value (absent counts as 0).", "1.0.0", "O(1)", "@write @string @fast"));
  t.Add(Row("decr", 2, kWriteFlags | kFast, 1, 1, 1, CmdDecr,
            "Subtract one from an integer value (absent counts as 0).", "1.0.0", "O(1)", "@write @string @fast"));
  t.Add(Row("incrby", 3, kWriteFlags | kFast, 1, 1, 1, CmdIncrBy,
            "Add an integer to an integer value (absent counts as 0).", "1.0.0", "O(1)", "@write @string @fast"));
  t.Add(Row("decrby", 3, kWriteFlags | kFast, 1, 1, 1, CmdDecrBy,
            "Subtract an integer from an integer value (absent counts as 0).", "1.0.0", "O(1)", "@write @string @fast"));
  t.Add(Row("incrbyfloat", 3, kWriteFlags | kFast, 1, 1, 1, CmdIncrByFloat,
            "Add a floating-point number to a value (absent counts as 0).", "2.6.0", "O(1)", "@write @string @fast"));
}

}  // namespace sluice::server
