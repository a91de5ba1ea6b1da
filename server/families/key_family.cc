// Generic key commands: deletion, existence, expiry, type, iteration,
// renaming and copying, DUMP / RESTORE, and whole-database commands
// (DBSIZE, FLUSHDB, FLUSHALL, SWAPDB).

#include <limits>
#include <mutex>
#include <optional>
#include <random>

#include "common/strings.h"
#include "persistence/dump_payload.h"
#include "persistence/rdb_value.h"
#include "protocol/arg_reader.h"
#include "protocol/errors.h"
#include "server/dispatch/command.h"
#include "server/dispatch/keyspace_access.h"
#include "server/dispatch/lock_planner.h"
#include "server/pubsub/keyspace_events.h"
#include "storage/encoding.h"
#include "storage/eviction.h"
#include "storage/glob.h"
#include "storage/hash_ops.h"
#include "storage/list_ops.h"
#include "storage/set_ops.h"
#include "storage/zset_ops.h"

namespace sluice::server {
namespace {

namespace errors = protocol::errors;
using protocol::EqualsIgnoreCase;
using protocol::ParseInt64;
using storage::Entry;
using storage::Shard;

std::string_view TypeName(const Entry* e) {
  if (e == nullptr) return "none";
  switch (e->type()) {
    case storage::ValueType::kString:
      return "string";
    case storage::ValueType::kHash:
      return "hash";
    case storage::ValueType::kList:
      return "list";
    case storage::ValueType::kSet:
      return "set";
    case storage::ValueType::kZset:
      return "zset";
    case storage::ValueType::kStream:
      return "stream";
  }
  return "none";
}

// DEL and UNLINK (kUnlink): the same removal, events and reply; UNLINK hands
// a large value to the lazy freer instead of freeing it here.
template <bool kUnlink>
void CmdDel(CommandContext& ctx) {
  storage::Database& db = SelectedDb(ctx);
  int64_t removed = 0;
  for (size_t i = 1; i < ctx.argc(); ++i) {
    Entry* e = db.ShardFor(ctx.arg(i)).Detach(ctx.arg(i), ctx.now_ms);
    if (e == nullptr) continue;
    if constexpr (kUnlink) {
      ctx.server.keyspace().lazy_freer().FreeEntry(e);
    } else {
      Entry::Destroy(e);
    }
    ++removed;
    ctx.KeyChanged(kNotifyGeneric, "del", ctx.arg(i));
  }
  ctx.w.Integer(removed);
}

// EXISTS and TOUCH: count the keys that exist (a repeated key counts again).
void CmdExists(CommandContext& ctx) {
  storage::Database& db = SelectedDb(ctx);
  int64_t found = 0;
  for (size_t i = 1; i < ctx.argc(); ++i) {
    found += db.ShardFor(ctx.arg(i)).Find(ctx.arg(i), ctx.now_ms) != nullptr ? 1 : 0;
  }
  ctx.w.Integer(found);
}

void CmdType(CommandContext& ctx) {
  Shard& shard = KeyShard(ctx);
  ctx.w.SimpleString(TypeName(shard.Peek(ctx.arg(1), ctx.now_ms)));
}

// ---- OBJECT -------------------------------------------------------------------
// OBJECT <sub> key: the key is args[2]. The lookups leave the key's access
// history alone, as Redis's do.

const Entry* ObjectEntry(CommandContext& ctx) {
  return SelectedDb(ctx).ShardFor(ctx.arg(2)).Peek(ctx.arg(2), ctx.now_ms);
}

storage::EvictionPolicy CurrentPolicy(CommandContext& ctx) {
  return ctx.server.keyspace().eviction().policy.load(std::memory_order_relaxed);
}

void CmdObjectEncoding(CommandContext& ctx) {
  const Entry* e = ObjectEntry(ctx);
  if (e == nullptr) return ctx.w.Null();
  ctx.w.Bulk(storage::EncodingName(*e));
}

void CmdObjectFreq(CommandContext& ctx) {
  const storage::EvictionPolicy policy = CurrentPolicy(ctx);
  if (storage::ModeOf(policy) == storage::AccessMode::kLru) {
    return ctx.w.Error(
        "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please "
        "note that when switching between policies at runtime LRU and LFU data will take some "
        "time to adjust.");
  }
  const Entry* e = ObjectEntry(ctx);
  if (e == nullptr) return ctx.w.Null();
  // allkeys-s3fifo keeps a 0-3 use count, LFU policies Redis's counter.
  const uint8_t a = e->access();
  ctx.w.Integer(
      storage::ModeOf(policy) == storage::AccessMode::kS3Fifo ? storage::DecodeS3Fifo(a).freq : a);
}

void CmdObjectIdletime(CommandContext& ctx) {
  const storage::EvictionPolicy policy = CurrentPolicy(ctx);
  if (storage::ModeOf(policy) != storage::AccessMode::kLru) {
    return ctx.w.Error(StrCat(
        "ERR An ", storage::ModeOf(policy) == storage::AccessMode::kLfu ? "LFU" : "S3-FIFO",
        " maxmemory policy is selected, idle time not tracked. Please note that when switching "
        "between policies at runtime LRU and LFU data will take some time to adjust."));
  }
  const Entry* e = ObjectEntry(ctx);
  if (e == nullptr) return ctx.w.Null();
  ctx.w.Integer(storage::LruIdleMs(e->access(), ctx.now_ms) / 1000);
}

void CmdObjectRefcount(CommandContext& ctx) {
  const Entry* e = ObjectEntry(ctx);
  if (e == nullptr) return ctx.w.Null();
  // Values are never shared between keys; Redis reports its shared small
  // integers (0-9999, when no LRU/LFU policy needs per-key history) as
  // INT_MAX, and so does sluice, so that tools comparing the two agree.
  const bool shared = e->is_int() && e->int_value() >= 0 && e->int_value() < 10000 &&
                      (ctx.server.config().maxmemory() == 0 ||
                       CurrentPolicy(ctx) == storage::EvictionPolicy::kNoEviction);
  ctx.w.Integer(shared ? std::numeric_limits<int32_t>::max() : 1);
}

// MEMORY USAGE key [SAMPLES count]: the bytes the key holds on the heap (its
// entry and its value's containers, exactly: sluice counts every allocation,
// so SAMPLES is accepted and checked but does not change the answer).
void CmdMemoryUsage(CommandContext& ctx) {
  if (ctx.argc() != 3 && ctx.argc() != 5) return ctx.w.Error(errors::kSyntax);
  if (ctx.argc() == 5) {
    if (!EqualsIgnoreCase(ctx.arg(3), "samples")) return ctx.w.Error(errors::kSyntax);
    auto n = ParseInt64(ctx.arg(4));
    if (!n) return ctx.w.Error(errors::kNotInteger);
    if (*n < 0) return ctx.w.Error(errors::kSyntax);
  }
  const Entry* e = ObjectEntry(ctx);
  if (e == nullptr) return ctx.w.Null();
  ctx.w.Integer(static_cast<int64_t>(e->AllocatedBytes()));
}

void CmdMemoryHelp(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "MEMORY <subcommand> [<arg> ...]. Subcommands:",
      "USAGE <key> [SAMPLES <count>]",
      "    The bytes <key> and its value take in memory (sluice counts exactly; SAMPLES",
      "    is accepted for compatibility).",
      "HELP",
      "    This text."};
  WriteHelp(ctx.w, kLines);
}

void CmdObjectHelp(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "ENCODING <key>",
      "    Return the kind of internal representation used in order to store the value",
      "    associated with a <key>.",
      "FREQ <key>",
      "    Return the access frequency index of the <key>. The returned integer is",
      "    proportional to the logarithm of the recent access frequency of the key.",
      "IDLETIME <key>",
      "    Return the idle time of the <key>, that is the approximated number of",
      "    seconds elapsed since the last access to the key.",
      "REFCOUNT <key>",
      "    Return the number of references of the value associated with the specified",
      "    <key>.",
      "HELP",
      "    Print this help."};
  WriteHelp(ctx.w, kLines);
}

enum ExpireFlag : uint8_t { kNx = 1, kXx = 2, kGt = 4, kLt = 8 };

// EXPIRE / PEXPIRE / EXPIREAT / PEXPIREAT key time [NX|XX|GT|LT].
template <TimeUnit kUnit>
void CmdExpire(CommandContext& ctx) {
  const std::string_view name = kUnit == TimeUnit::kSeconds        ? "expire"
                                : kUnit == TimeUnit::kMilliseconds ? "pexpire"
                                : kUnit == TimeUnit::kUnixSeconds  ? "expireat"
                                                                   : "pexpireat";
  uint8_t flags = 0;
  for (size_t i = 3; i < ctx.argc(); ++i) {
    std::string_view a = ctx.arg(i);
    if (EqualsIgnoreCase(a, "NX")) {
      flags |= kNx;
    } else if (EqualsIgnoreCase(a, "XX")) {
      flags |= kXx;
    } else if (EqualsIgnoreCase(a, "GT")) {
      flags |= kGt;
    } else if (EqualsIgnoreCase(a, "LT")) {
      flags |= kLt;
    } else {
      return ctx.w.Error(StrCat("ERR Unsupported option ", errors::UserText(a)));
    }
  }
  if ((flags & kNx) && (flags & (kXx | kGt | kLt))) {
    return ctx.w.Error("ERR NX and XX, GT or LT options at the same time are not compatible");
  }
  if ((flags & kGt) && (flags & kLt)) {
    return ctx.w.Error("ERR GT and LT options at the same time are not compatible");
  }
  // The time is read after the options, as in Redis (an option error wins).
  auto when = ParseInt64(ctx.arg(2));
  if (!when) return ctx.w.Error(errors::kNotInteger);
  int64_t deadline = *when;
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  const bool seconds = kUnit == TimeUnit::kSeconds || kUnit == TimeUnit::kUnixSeconds;
  if (seconds) {
    if (deadline > kMax / 1000 || deadline < kMin / 1000) {
      return ctx.w.Error(errors::InvalidExpire(name));
    }
    deadline *= 1000;
  }
  if (kUnit == TimeUnit::kSeconds || kUnit == TimeUnit::kMilliseconds) {
    if ((deadline > 0 && deadline > kMax - ctx.now_ms) ||
        (deadline < 0 && deadline < kMin + ctx.now_ms)) {
      return ctx.w.Error(errors::InvalidExpire(name));
    }
    deadline += ctx.now_ms;
  }
  Shard& shard = KeyShard(ctx);
  Entry* e = shard.Find(ctx.arg(1), ctx.now_ms);
  if (e == nullptr) return ctx.w.Integer(0);
  const bool has = e->has_expiry();
  const int64_t current = e->expire_at_ms();
  if ((flags & kNx) && has) return ctx.w.Integer(0);
  if ((flags & kXx) && !has) return ctx.w.Integer(0);
  if ((flags & kGt) && (!has || deadline <= current)) return ctx.w.Integer(0);
  if ((flags & kLt) && has && deadline >= current) return ctx.w.Integer(0);
  ApplyDeadline(ctx, shard, ctx.arg(1), e, deadline);
  ctx.w.Integer(1);
}

enum class TtlKind { kTtl, kPttl, kExpireTime, kPexpireTime };

template <TtlKind kKind>
void CmdTtl(CommandContext& ctx) {
  Shard& shard = KeyShard(ctx);
  Entry* e = shard.FindForRead(ctx.arg(1), ctx.now_ms);
  if (e == nullptr) return ctx.w.Integer(-2);
  if (!e->has_expiry()) return ctx.w.Integer(-1);
  const int64_t at = e->expire_at_ms();
  int64_t remaining = at - ctx.now_ms;
  if (remaining < 0) remaining = 0;
  switch (kKind) {
    case TtlKind::kTtl:
      return ctx.w.Integer((remaining + 500) / 1000);
    case TtlKind::kPttl:
      return ctx.w.Integer(remaining);
    case TtlKind::kExpireTime:
      return ctx.w.Integer(at / 1000);
    case TtlKind::kPexpireTime:
      return ctx.w.Integer(at);
  }
}

void CmdPersist(CommandContext& ctx) {
  Shard& shard = KeyShard(ctx);
  Entry* e = shard.Find(ctx.arg(1), ctx.now_ms);
  if (e == nullptr || !e->has_expiry()) return ctx.w.Integer(0);
  shard.SetExpiry(e, 0);
  ctx.KeyChanged(kNotifyGeneric, "persist", ctx.arg(1));
  ctx.w.Integer(1);
}

void CmdKeys(CommandContext& ctx) {
  storage::Database& db = SelectedDb(ctx);
  const std::string_view pattern = ctx.arg(1);
  const bool all = pattern == "*";
  std::vector<std::string> keys;
  for (size_t i = 0; i < db.shard_count(); ++i) {
    Shard& shard = db.shard(i);
    shard.ForEach(ctx.now_ms, [&](const Entry& e) {
      if (all || storage::GlobMatch(pattern, e.key())) keys.emplace_back(e.key());
    });
  }
  ctx.w.BulkArray(keys);
}

void CmdScan(CommandContext& ctx) {
  const std::optional<uint64_t> parsed_cursor = ParseCursor(ctx.arg(1));
  if (!parsed_cursor) return ctx.w.Error("ERR invalid cursor");
  const uint64_t cursor = *parsed_cursor;
  std::string_view pattern;
  bool have_pattern = false;
  std::string_view type;
  bool have_type = false;
  int64_t count = 10;
  for (size_t i = 2; i < ctx.argc(); ++i) {
    std::string_view a = ctx.arg(i);
    const bool has_next = i + 1 < ctx.argc();
    if (EqualsIgnoreCase(a, "COUNT") && has_next) {
      auto n = ParseInt64(ctx.arg(++i));
      if (!n) return ctx.w.Error(errors::kNotInteger);
      if (*n < 1) return ctx.w.Error(errors::kSyntax);
      count = *n;
    } else if (EqualsIgnoreCase(a, "MATCH") && has_next) {
      pattern = ctx.arg(++i);
      have_pattern = !(pattern.size() == 1 && pattern[0] == '*');
    } else if (EqualsIgnoreCase(a, "TYPE") && has_next) {
      type = ctx.arg(++i);
      have_type = true;
    } else {
      return ctx.w.Error(errors::kSyntax);
    }
  }
  std::vector<std::string> keys;
  const uint64_t next =
      SelectedDb(ctx).Scan(cursor, static_cast<size_t>(count), ctx.now_ms, [&](const Entry& e) {
        if (have_pattern && !storage::GlobMatch(pattern, e.key())) return;
        if (have_type && !EqualsIgnoreCase(type, TypeName(&e))) return;
        keys.emplace_back(e.key());
      });
  ctx.w.ArrayHeader(2);
  ctx.w.Bulk(StrCat(next));
  ctx.w.BulkArray(keys);
}

void CmdRandomKey(CommandContext& ctx) {
  storage::Database& db = SelectedDb(ctx);
  thread_local std::mt19937_64 rng(std::random_device{}());
  const size_t n = db.shard_count();
  const size_t start = rng() % n;
  // Start at a random shard and take the first one that has keys; shards are
  // filled evenly by hashing, so this is close to uniform.
  for (size_t k = 0; k < n; ++k) {
    Shard& shard = db.shard((start + k) % n);
    if (Entry* e = shard.Random(rng(), ctx.now_ms)) return ctx.w.Bulk(e->key());
  }
  ctx.w.Null();
}

// RENAME and RENAMENX.
template <bool kOnlyIfAbsent>
void CmdRename(CommandContext& ctx) {
  storage::Database& db = SelectedDb(ctx);
  const std::string_view from = ctx.arg(1), to = ctx.arg(2);
  Shard& src = db.ShardFor(from);
  Shard& dst = db.ShardFor(to);
  if (src.Find(from, ctx.now_ms) == nullptr) return ctx.w.Error(errors::kNoSuchKey);
  if (from == to) return kOnlyIfAbsent ? ctx.w.Integer(0) : ctx.w.Ok();
  if (kOnlyIfAbsent && dst.Find(to, ctx.now_ms) != nullptr) return ctx.w.Integer(0);
  dst.Insert(Entry::Rekey(src.Detach(from, ctx.now_ms), to));
  ctx.KeyChanged(kNotifyNew, "new", to);
  ctx.KeyChanged(kNotifyGeneric, "rename_from", from);
  ctx.KeyChanged(kNotifyGeneric, "rename_to", to);
  return kOnlyIfAbsent ? ctx.w.Integer(1) : ctx.w.Ok();
}

// Parses a database index argument; replies with the error and returns -1.
// A database index is read as a C int, as Redis does: a number outside the
// int range gets Redis's int-range error (or `bad_int` when given), a
// non-number kNotInteger (or `bad_int`).
std::optional<int64_t> ParseDbInt(CommandContext& ctx, std::string_view arg,
                                  std::string_view bad_int = {}) {
  auto v = ParseInt64(arg);
  if (v && *v >= std::numeric_limits<int32_t>::min() && *v <= std::numeric_limits<int32_t>::max()) {
    return v;
  }
  if (!bad_int.empty()) {
    ctx.w.Error(bad_int);
  } else if (!v) {
    ctx.w.Error(errors::kNotInteger);
  } else {
    ctx.w.Error("ERR value is out of range, value must between -2147483648 and 2147483647");
  }
  return std::nullopt;
}

int ParseDbIndex(CommandContext& ctx, std::string_view arg) {
  auto v = ParseDbInt(ctx, arg);
  if (!v) return -1;
  if (*v < 0 || *v >= static_cast<int64_t>(ctx.server.keyspace().database_count())) {
    ctx.w.Error(errors::kDbIndexOutOfRange);
    return -1;
  }
  return static_cast<int>(*v);
}

void CmdCopy(CommandContext& ctx) {
  int target_db = ctx.client.db();
  bool replace = false;
  for (size_t i = 3; i < ctx.argc(); ++i) {
    if (EqualsIgnoreCase(ctx.arg(i), "REPLACE")) {
      replace = true;
    } else if (EqualsIgnoreCase(ctx.arg(i), "DB") && i + 1 < ctx.argc()) {
      target_db = ParseDbIndex(ctx, ctx.arg(++i));
      if (target_db < 0) return;
    } else {
      return ctx.w.Error(errors::kSyntax);
    }
  }
  const std::string_view from = ctx.arg(1), to = ctx.arg(2);
  if (target_db == ctx.client.db() && from == to) return ctx.w.Error(errors::kSameObject);
  storage::Database& sdb = SelectedDb(ctx);
  storage::Database& ddb = ctx.server.keyspace().db(target_db);
  Shard& src = sdb.ShardFor(from);
  Shard& dst = ddb.ShardFor(to);
  Entry* e = src.Find(from, ctx.now_ms);
  if (e == nullptr) return ctx.w.Integer(0);
  if (!replace && dst.Find(to, ctx.now_ms) != nullptr) return ctx.w.Integer(0);
  dst.Insert(Entry::CloneAs(e, to));
  ctx.KeyChanged(target_db, kNotifyNew, "new", to);
  ctx.KeyChanged(target_db, kNotifyGeneric, "copy_to", to);
  ctx.w.Integer(1);
}

void CmdMove(CommandContext& ctx) {
  const int target_db = ParseDbIndex(ctx, ctx.arg(2));
  if (target_db < 0) return;
  if (target_db == ctx.client.db()) return ctx.w.Error(errors::kSameObject);
  const std::string_view key = ctx.arg(1);
  Shard& src = SelectedDb(ctx).ShardFor(key);
  Shard& dst = ctx.server.keyspace().db(target_db).ShardFor(key);
  if (src.Find(key, ctx.now_ms) == nullptr) return ctx.w.Integer(0);
  if (dst.Find(key, ctx.now_ms) != nullptr) return ctx.w.Integer(0);
  dst.Insert(src.Detach(key, ctx.now_ms));
  ctx.KeyChanged(target_db, kNotifyNew, "new", key);
  ctx.KeyChanged(kNotifyGeneric, "move_from", key);
  ctx.KeyChanged(target_db, kNotifyGeneric, "move_to", key);
  ctx.w.Integer(1);
}

// ---- DUMP / RESTORE ------------------------------------------------------------

// DUMP key: the value in Redis's DUMP format (RDB 10 encodings, version and
// CRC-64 trailer), nil when the key is absent.
void CmdDump(CommandContext& ctx) {
  const Entry* e = KeyShard(ctx).FindForRead(ctx.arg(1), ctx.now_ms);
  if (e == nullptr) return ctx.w.Null();
  persistence::RdbWriteOptions options;
  options.compress = ctx.server.config().Snapshot().rdbcompression;
  std::string payload;
  persistence::AppendRdbValue(*e, options, &payload);
  persistence::AppendDumpTrailer(&payload);
  ctx.w.Bulk(payload);
}

// RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ f]:
// Redis's checks in Redis's order (options, BUSYKEY, the TTL, the trailer,
// the value), then the key is created (or, when its deadline has passed
// already, only the old one removed).
void CmdRestore(CommandContext& ctx) {
  bool replace = false, absttl = false;
  int64_t idle = -1, freq = -1;
  for (size_t i = 4; i < ctx.argc(); ++i) {
    const std::string_view a = ctx.arg(i);
    const bool has_next = i + 1 < ctx.argc();
    if (EqualsIgnoreCase(a, "REPLACE")) {
      replace = true;
    } else if (EqualsIgnoreCase(a, "ABSTTL")) {
      absttl = true;
    } else if (EqualsIgnoreCase(a, "IDLETIME") && has_next && freq < 0) {
      auto n = ParseInt64(ctx.arg(++i));
      if (!n) return ctx.w.Error(errors::kNotInteger);
      if (*n < 0) return ctx.w.Error("ERR Invalid IDLETIME value, must be >= 0");
      idle = *n;
    } else if (EqualsIgnoreCase(a, "FREQ") && has_next && idle < 0) {
      auto n = ParseInt64(ctx.arg(++i));
      if (!n) return ctx.w.Error(errors::kNotInteger);
      if (*n < 0 || *n > 255) return ctx.w.Error("ERR Invalid FREQ value, must be >= 0 and <= 255");
      freq = *n;
    } else {
      return ctx.w.Error(errors::kSyntax);
    }
  }
  const std::string_view key = ctx.arg(1);
  Shard& shard = KeyShard(ctx);
  if (!replace && shard.Find(key, ctx.now_ms) != nullptr) {
    return ctx.w.Error("BUSYKEY Target key name already exists.");
  }
  auto ttl = ParseInt64(ctx.arg(2));
  if (!ttl) return ctx.w.Error(errors::kNotInteger);
  if (*ttl < 0) return ctx.w.Error("ERR Invalid TTL value, must be >= 0");
  const std::optional<std::string_view> body = persistence::OpenDumpPayload(ctx.arg(3));
  if (!body) return ctx.w.Error("ERR DUMP payload version or checksum are wrong");
  if (body->empty()) return ctx.w.Error("ERR Bad data format");
  int64_t deadline = *ttl;
  if (deadline != 0 && !absttl) {
    if (deadline > std::numeric_limits<int64_t>::max() - ctx.now_ms) {
      return ctx.w.Error(errors::InvalidExpire("restore"));
    }
    deadline += ctx.now_ms;
  }
  persistence::RdbReader in(body->substr(1));
  const ServerConfig& config = ctx.server.config();
  const persistence::ValueLimits limits{config.hash_limits(), config.set_limits(),
                                        config.list_limits(), config.zset_limits()};
  std::string error;
  Entry* e = persistence::ReadRdbValue(static_cast<uint8_t>((*body)[0]), in, key, deadline,
                                       limits, &error);
  if (e == nullptr) return ctx.w.Error("ERR Bad data format");
  const bool deleted = replace && shard.Erase(key, ctx.now_ms);
  if (deadline != 0 && deadline <= ctx.now_ms) {
    // Already expired: nothing is created; a replaced key is gone.
    Entry::Destroy(e);
    if (deleted) ctx.KeyChanged(kNotifyGeneric, "del", key);
    return ctx.w.Ok();
  }
  shard.Insert(e);
  const storage::AccessMode mode = storage::ModeOf(CurrentPolicy(ctx));
  if (idle >= 0 && mode == storage::AccessMode::kLru) {
    e->set_access(storage::LruStampIdle(std::min<int64_t>(idle, INT32_MAX) * 1000, ctx.now_ms));
  } else if (freq >= 0 && mode == storage::AccessMode::kLfu) {
    e->set_access(static_cast<uint8_t>(freq));
  }
  ctx.KeyChanged(kNotifyGeneric, "restore", key);
  ctx.w.Ok();
}

void CmdDbSize(CommandContext& ctx) { ctx.w.Integer(static_cast<int64_t>(SelectedDb(ctx).Size())); }

// FLUSHDB / FLUSHALL [ASYNC|SYNC].
template <bool kAll>
void CmdFlush(CommandContext& ctx) {
  bool async = false;
  if (ctx.argc() > 2) return ctx.w.Error(errors::kSyntax);
  if (ctx.argc() == 2) {
    if (EqualsIgnoreCase(ctx.arg(1), "ASYNC")) {
      async = true;
    } else if (!EqualsIgnoreCase(ctx.arg(1), "SYNC")) {
      return ctx.w.Error(errors::kSyntax);
    }
  }
  storage::Keyspace& ks = ctx.server.keyspace();
  if (kAll) {
    for (size_t i = 0; i < ks.database_count(); ++i) ctx.dirty += ks.db(i).Size();
    ks.FlushAll(async);
    ctx.flushed_all = true;
  } else {
    ctx.dirty += ks.db(ctx.client.db()).Size();
    ks.FlushDb(ctx.client.db(), async);
  }
  ctx.w.Ok();
}

void CmdSwapDb(CommandContext& ctx) {
  auto a = ParseDbInt(ctx, ctx.arg(1), "ERR invalid first DB index");
  if (!a) return;
  auto b = ParseDbInt(ctx, ctx.arg(2), "ERR invalid second DB index");
  if (!b) return;
  const int64_t n = static_cast<int64_t>(ctx.server.keyspace().database_count());
  if (*a < 0 || *a >= n || *b < 0 || *b >= n) return ctx.w.Error(errors::kDbIndexOutOfRange);
  if (*a != *b) {
    ctx.server.keyspace().SwapDatabases(*a, *b);
    ctx.DatabaseChanged(static_cast<int>(*a));
    ctx.DatabaseChanged(static_cast<int>(*b));
  }
  ctx.w.Ok();
}

void CmdSelect(CommandContext& ctx) {
  const int db = ParseDbIndex(ctx, ctx.arg(1));
  if (db < 0) return;
  ctx.client.set_db(db);
  ctx.w.Ok();
}

// Lock planners of the rows whose keys reach another database.
std::optional<int64_t> DbArg(std::string_view arg) {
  auto v = ParseInt64(arg);
  if (v && *v >= 0 && *v <= std::numeric_limits<int32_t>::max()) return v;
  return std::nullopt;
}

// COPY src dst [DB n] [REPLACE]: dst in database n.
void PlanCopy(const protocol::CommandArgs& args, LockPlan& plan) {
  for (size_t i = 3; i + 1 < args.size(); ++i) {
    if (!EqualsIgnoreCase(args[i], "DB")) continue;
    if (auto n = DbArg(args[i + 1])) plan.AddKey(*n, args[2]);
  }
}

// MOVE key db: the key in database db too.
void PlanMove(const protocol::CommandArgs& args, LockPlan& plan) {
  if (auto n = DbArg(args[2])) plan.AddKey(*n, args[1]);
}

void PlanSwapDb(const protocol::CommandArgs& args, LockPlan& plan) {
  auto a = DbArg(args[1]);
  auto b = DbArg(args[2]);
  if (!a || !b || *a == *b) return;
  plan.AddDb(*a);
  plan.AddDb(*b);
}

// SELECT locks nothing; the commands after it in a transaction run in the
// new database.
void PlanSelect(const protocol::CommandArgs& args, LockPlan& plan) {
  auto n = DbArg(args[1]);
  if (n && static_cast<size_t>(*n) < plan.keyspace.database_count()) plan.db = static_cast<int>(*n);
}

constexpr FamilyRows Row("generic");

}  // namespace

void RegisterKeyFamily(CommandTable& t) {
  t.Add(Row("del", -2, kWrite, 1, -1, 1, CmdDel<false>, "Delete keys.", "1.0.0",
            "O(N) where N is the number of keys", "@keyspace @write @slow"));
  t.Add(Row("unlink", -2, kWrite | kFast, 1, -1, 1, CmdDel<true>,
            "Delete keys (large values are freed in the background).", "4.0.0", "O(1) per key",
            "@keyspace @write @fast"));
  t.Add(Row("exists", -2, kReadOnly | kFast, 1, -1, 1, CmdExists,
            "Count how many of the given keys exist.", "1.0.0",
            "O(N) where N is the number of keys", "@keyspace @read @fast"));
  t.Add(Row("touch", -2, kReadOnly | kFast, 1, -1, 1, CmdExists,
            "Mark keys as accessed; returns how many exist.", "3.2.1",
            "O(N) where N is the number of keys", "@keyspace @read @fast"));
  t.Add(Row("type", 2, kReadOnly | kFast, 1, 1, 1, CmdType, "Name the type of a key's value.",
            "1.0.0", "O(1)", "@keyspace @read @fast"));
  CommandSpec& object =
      t.Add(Row("object", -2, 0, 0, 0, 0, nullptr, "Inspect the internals of a key's value.",
                "2.2.3", "Depends on subcommand.", "@slow"));
  t.AddSubcommand(object, Row("encoding", 3, kReadOnly, 2, 2, 1, CmdObjectEncoding,
                              "The internal encoding of a key's value.", "2.2.3", "O(1)",
                              "@keyspace @read @slow"));
  t.AddSubcommand(object, Row("freq", 3, kReadOnly, 2, 2, 1, CmdObjectFreq,
                              "The logarithmic access frequency counter of a key.", "4.0.0", "O(1)",
                              "@keyspace @read @slow"));
  t.AddSubcommand(object, Row("idletime", 3, kReadOnly, 2, 2, 1, CmdObjectIdletime,
                              "Seconds since a key was last read or written.", "2.2.3", "O(1)",
                              "@keyspace @read @slow"));
  t.AddSubcommand(object, Row("refcount", 3, kReadOnly, 2, 2, 1, CmdObjectRefcount,
                              "The reference count of a key's value.", "2.2.3", "O(1)",
                              "@keyspace @read @slow"));
  t.AddSubcommand(object, Row("help", 2, kLoading | kStale, 0, 0, 0, CmdObjectHelp,
                              "Show the OBJECT subcommands.", "6.2.0", "O(1)", "@keyspace @slow"));
  CommandSpec& memory =
      t.Add(Row("memory", -2, 0, 0, 0, 0, nullptr, "Inspect memory use.", "4.0.0",
                "Depends on subcommand.", "@slow"));
  t.AddSubcommand(memory, Row("usage", -3, kReadOnly, 2, 2, 1, CmdMemoryUsage,
                              "The bytes a key and its value take in memory.", "4.0.0", "O(1)",
                              "@read @slow"));
  t.AddSubcommand(memory, Row("help", 2, kLoading | kStale, 0, 0, 0, CmdMemoryHelp,
                              "Show the MEMORY subcommands.", "4.0.0", "O(1)", "@slow"));
  t.Add(Row("expire", -3, kWrite | kFast, 1, 1, 1, CmdExpire<TimeUnit::kSeconds>,
            "Give a key a time to live in seconds.", "1.0.0", "O(1)", "@keyspace @write @fast"));
  t.Add(Row("pexpire", -3, kWrite | kFast, 1, 1, 1, CmdExpire<TimeUnit::kMilliseconds>,
            "Give a key a time to live in milliseconds.", "2.6.0", "O(1)",
            "@keyspace @write @fast"));
  t.Add(Row("expireat", -3, kWrite | kFast, 1, 1, 1, CmdExpire<TimeUnit::kUnixSeconds>,
            "Make a key expire at a Unix time in seconds.", "1.2.0", "O(1)",
            "@keyspace @write @fast"));
  t.Add(Row("pexpireat", -3, kWrite | kFast, 1, 1, 1, CmdExpire<TimeUnit::kUnixMilliseconds>,
            "Make a key expire at a Unix time in milliseconds.", "2.6.0", "O(1)",
            "@keyspace @write @fast"));
  t.Add(Row("ttl", 2, kReadOnly | kFast, 1, 1, 1, CmdTtl<TtlKind::kTtl>,
            "Seconds until a key expires.", "1.0.0", "O(1)", "@keyspace @read @fast"));
  t.Add(Row("pttl", 2, kReadOnly | kFast, 1, 1, 1, CmdTtl<TtlKind::kPttl>,
            "Milliseconds until a key expires.", "2.6.0", "O(1)", "@keyspace @read @fast"));
  t.Add(Row("expiretime", 2, kReadOnly | kFast, 1, 1, 1, CmdTtl<TtlKind::kExpireTime>,
            "Unix time in seconds at which a key expires.", "7.0.0", "O(1)",
            "@keyspace @read @fast"));
  t.Add(Row("pexpiretime", 2, kReadOnly | kFast, 1, 1, 1, CmdTtl<TtlKind::kPexpireTime>,
            "Unix time in milliseconds at which a key expires.", "7.0.0", "O(1)",
            "@keyspace @read @fast"));
  t.Add(Row("persist", 2, kWrite | kFast, 1, 1, 1, CmdPersist, "Remove a key's expiry.", "2.2.0",
            "O(1)", "@keyspace @write @fast"));
  t.Add(Row("keys", 2, kReadOnly | kWholeDb, 0, 0, 0, CmdKeys,
            "List the keys that match a glob pattern.", "1.0.0",
            "O(N) with N the number of keys in the database", "@keyspace @read @slow @dangerous"));
  t.Add(Row("scan", -2, kReadOnly | kWholeDb, 0, 0, 0, CmdScan,
            "Iterate over the keys with a cursor.", "2.8.0",
            "O(1) for every call. O(N) for a complete iteration", "@keyspace @read @slow"));
  t.Add(Row("randomkey", 1, kReadOnly | kWholeDb, 0, 0, 0, CmdRandomKey,
            "Name a random existing key.", "1.0.0", "O(1)", "@keyspace @read @slow"));
  t.Add(Row("rename", 3, kWrite, 1, 2, 1, CmdRename<false>, "Give a key a new name.", "1.0.0",
            "O(1)", "@keyspace @write @slow"));
  t.Add(Row("renamenx", 3, kWrite | kFast, 1, 2, 1, CmdRename<true>,
            "Give a key a new name only if that name is free.", "1.0.0", "O(1)",
            "@keyspace @write @fast"));
  t.Add(Row("copy", -3, kWrite | kDenyOom, 1, 2, 1, CmdCopy,
            "Copy a key's value, optionally to another database.", "6.2.0",
            "O(N) worst case for collections", "@keyspace @write @slow"))
      .keys = PlanCopy;
  t.Add(Row("move", 3, kWrite | kFast, 1, 1, 1, CmdMove, "Move a key to another database.", "1.0.0",
            "O(1)", "@keyspace @write @fast"))
      .keys = PlanMove;
  t.Add(Row("dump", 2, kReadOnly, 1, 1, 1, CmdDump,
            "Serialize a key's value in Redis's DUMP format.", "2.6.0",
            "O(1) to access the key and O(N*M) to serialize it", "@keyspace @read @slow"));
  t.Add(Row("restore", -4, kWrite | kDenyOom, 1, 1, 1, CmdRestore,
            "Create a key from a DUMP payload.", "2.6.0",
            "O(1) to create the new key and O(N*M) to reconstruct the serialized value",
            "@keyspace @write @slow @dangerous"));
  t.Add(Row("dbsize", 1, kReadOnly | kFast, 0, 0, 0, CmdDbSize,
            "Number of keys in the selected database.", "1.0.0", "O(1)", "@keyspace @read @fast"));
  t.Add(Row("flushdb", -1, kWrite | kWholeDb, 0, 0, 0, CmdFlush<false>,
            "Remove every key of the selected database.", "1.0.0",
            "O(N) where N is the number of keys in the selected database",
            "@keyspace @write @slow @dangerous"));
  t.Add(Row("flushall", -1, kWrite | kAllDbs, 0, 0, 0, CmdFlush<true>,
            "Remove every key of every database.", "1.0.0",
            "O(N) where N is the total number of keys in all databases",
            "@keyspace @write @slow @dangerous"));
  t.Add(Row("swapdb", 3, kWrite | kFast, 0, 0, 0, CmdSwapDb, "Exchange two databases.", "4.0.0",
            "O(N) where N is the count of clients watching or blocking on keys",
            "@keyspace @write @fast @dangerous"))
      .keys = PlanSwapDb;
  CommandSpec select = Row("select", 2, kLoading | kStale | kFast, 0, 0, 0, CmdSelect,
                           "Change the selected database.", "1.0.0", "O(1)", "@keyspace @fast");
  select.doc.group = "connection";
  select.keys = PlanSelect;
  t.Add(std::move(select));
}

}  // namespace sluice::server
