// Set commands: SADD and friends, SPOP/SRANDMEMBER, SMOVE, SSCAN and the
// multi-key algebra (SINTER, SUNION, SDIFF and their STORE forms,
// SINTERCARD). Storage work is in storage/set_ops.h; handlers parse, call,
// reply and record keyspace events.

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
#include "server/dispatch/lock_planner.h"
#include "server/pubsub/keyspace_events.h"
#include "storage/set_ops.h"

namespace sluice::server {
namespace {

namespace errors = protocol::errors;
using protocol::EqualsIgnoreCase;
using protocol::ParseInt64;
using storage::Entry;
using storage::Shard;

storage::SetLimits Limits(CommandContext& ctx) { return ctx.server.config().set_limits(); }

// The set at `key` for a read: false after replying WRONGTYPE; *out is
// nullptr when there is no such key.
bool ReadSet(CommandContext& ctx, std::string_view key, const Entry** out) {
  storage::Result<const Entry*> r =
      storage::FindSet(SelectedDb(ctx).ShardFor(key), key, ctx.now_ms);
  if (!r.ok()) {
    ReplyStatus(ctx.w, r.status);
    return false;
  }
  *out = r.value;
  return true;
}

void ReplyMembers(CommandContext& ctx, const std::vector<std::string>& members) {
  ctx.w.SetHeader(members.size());
  for (const std::string& m : members) ctx.w.Bulk(m);
}

void CmdSAdd(CommandContext& ctx) {
  Shard& shard = KeyShard(ctx);
  const bool created = AbsentForNewEvent(ctx, shard, ctx.arg(1));
  const std::vector<std::string_view> members = ArgsFrom(ctx, 2);
  auto r = storage::SetAdd(shard, ctx.arg(1), members, Limits(ctx), ctx.now_ms);
  if (!r.ok()) return ReplyStatus(ctx.w, r.status);
  if (created) ctx.KeyChanged(kNotifyNew, "new", ctx.arg(1));
  if (r.value > 0) ctx.KeyChanged(kNotifySet, "sadd", ctx.arg(1));
  ctx.w.Integer(static_cast<int64_t>(r.value));
}

void CmdSRem(CommandContext& ctx) {
  const std::vector<std::string_view> members = ArgsFrom(ctx, 2);
  auto r = storage::SetRemove(KeyShard(ctx), ctx.arg(1), members, ctx.now_ms);
  if (!r.ok()) return ReplyStatus(ctx.w, r.status);
  if (r.value.removed > 0) ctx.KeyChanged(kNotifySet, "srem", ctx.arg(1));
  if (r.value.key_removed) ctx.KeyChanged(kNotifyGeneric, "del", ctx.arg(1));
  ctx.w.Integer(static_cast<int64_t>(r.value.removed));
}

void CmdSIsMember(CommandContext& ctx) {
  const Entry* e;
  if (!ReadSet(ctx, ctx.arg(1), &e)) return;
  ctx.w.Integer(e != nullptr && storage::SetView(e).Contains(ctx.arg(2)) ? 1 : 0);
}

void CmdSMIsMember(CommandContext& ctx) {
  const Entry* e;
  if (!ReadSet(ctx, ctx.arg(1), &e)) return;
  ctx.w.ArrayHeader(ctx.argc() - 2);
  for (size_t i = 2; i < ctx.argc(); ++i) {
    ctx.w.Integer(e != nullptr && storage::SetView(e).Contains(ctx.arg(i)) ? 1 : 0);
  }
}

void CmdSCard(CommandContext& ctx) {
  const Entry* e;
  if (!ReadSet(ctx, ctx.arg(1), &e)) return;
  ctx.w.Integer(e == nullptr ? 0 : static_cast<int64_t>(storage::SetView(e).size()));
}

void CmdSMembers(CommandContext& ctx) {
  const Entry* e;
  if (!ReadSet(ctx, ctx.arg(1), &e)) return;
  if (e == nullptr) return ctx.w.SetHeader(0);
  const storage::SetView view(e);
  ctx.w.SetHeader(view.size());
  view.ForEach([&](std::string_view m) { ctx.w.Bulk(m); });
}

// SPOP key [count]: without a count one member (or null); with one, a set.
void CmdSPop(CommandContext& ctx) {
  if (ctx.argc() > 3) return ctx.w.Error(errors::kSyntax);
  uint64_t count = 1;
  if (ctx.argc() == 3) {
    const std::optional<int64_t> n = ParseInt64(ctx.arg(2));
    if (!n || *n < 0) return ctx.w.Error("ERR value is out of range, must be positive");
    count = static_cast<uint64_t>(*n);
  }
  bool key_removed = false;
  auto r = storage::SetPop(KeyShard(ctx), ctx.arg(1), count, ctx.now_ms, &key_removed);
  if (!r.ok()) return ReplyStatus(ctx.w, r.status);
  if (!r.value.empty()) ctx.KeyChanged(kNotifySet, "spop", ctx.arg(1));
  if (key_removed) ctx.KeyChanged(kNotifyGeneric, "del", ctx.arg(1));
  if (ctx.argc() == 2) {
    if (r.value.empty()) return ctx.w.Null();
    return ctx.w.Bulk(r.value.front());
  }
  ReplyMembers(ctx, r.value);
}

// SRANDMEMBER key [count]. As in Redis, the count is checked before the key.
void CmdSRandMember(CommandContext& ctx) {
  if (ctx.argc() > 3) return ctx.w.Error(errors::kSyntax);
  int64_t count = 1;
  if (ctx.argc() == 3) {
    const std::optional<int64_t> n = ParseRandomCount(ctx, ctx.arg(2));
    if (!n) return;
    count = *n;
  }
  const Entry* e;
  if (!ReadSet(ctx, ctx.arg(1), &e)) return;
  if (ctx.argc() == 2) {
    if (e == nullptr) return ctx.w.Null();
    return ctx.w.Bulk(storage::SetRandomMembers(e, 1).front());
  }
  const std::vector<std::string> picked =
      e == nullptr ? std::vector<std::string>() : storage::SetRandomMembers(e, count);
  ctx.w.ArrayHeader(picked.size());
  for (const std::string& m : picked) ctx.w.Bulk(m);
}

// SMOVE source destination member.
void CmdSMove(CommandContext& ctx) {
  storage::Database& db = SelectedDb(ctx);
  const std::string_view src_key = ctx.arg(1), dst_key = ctx.arg(2), member = ctx.arg(3);
  Shard& src = db.ShardFor(src_key);
  Shard& dst = db.ShardFor(dst_key);
  // As in Redis: an absent source answers 0 before the types are checked.
  auto s = storage::FindSet(src, src_key, ctx.now_ms, /*for_read=*/false);
  if (s.ok() && s.value == nullptr) return ctx.w.Integer(0);
  if (!s.ok()) return ReplyStatus(ctx.w, s.status);
  auto d = storage::FindSet(dst, dst_key, ctx.now_ms, /*for_read=*/false);
  if (!d.ok()) return ReplyStatus(ctx.w, d.status);
  if (&src == &dst && src_key == dst_key) {
    return ctx.w.Integer(storage::SetView(s.value).Contains(member) ? 1 : 0);
  }
  const bool created = d.value == nullptr;
  auto removed = storage::SetRemove(src, src_key, {&member, 1}, ctx.now_ms);
  if (removed.value.removed == 0) return ctx.w.Integer(0);
  ctx.KeyChanged(kNotifySet, "srem", src_key);
  if (removed.value.key_removed) ctx.KeyChanged(kNotifyGeneric, "del", src_key);
  auto added = storage::SetAdd(dst, dst_key, {&member, 1}, Limits(ctx), ctx.now_ms);
  if (created) ctx.KeyChanged(kNotifyNew, "new", dst_key);
  if (added.value > 0) ctx.KeyChanged(kNotifySet, "sadd", dst_key);
  ctx.w.Integer(1);
}

// SSCAN key cursor [MATCH pattern] [COUNT count]. As in Redis, the options
// are only looked at when the key exists.
void CmdSScan(CommandContext& ctx) {
  const std::optional<uint64_t> cursor = ParseCursor(ctx.arg(2));
  if (!cursor) return ctx.w.Error("ERR invalid cursor");
  const Entry* e;
  if (!ReadSet(ctx, ctx.arg(1), &e)) return;
  std::string_view pattern;
  size_t count = 10;
  if (e != nullptr && !ParseScanOptions(ctx, 3, &pattern, &count)) return;
  std::vector<std::string> items;
  const uint64_t next = e == nullptr ? 0 : storage::SetScan(e, *cursor, count, pattern, &items);
  ctx.w.ArrayHeader(2);
  ctx.w.Bulk(StrCat(next));
  ctx.w.ArrayHeader(items.size());
  for (const std::string& m : items) ctx.w.Bulk(m);
}

enum class Op { kInter, kUnion, kDiff };

// The sets named by args[from, to) (nullptr for an absent key, an empty
// set): false after replying WRONGTYPE. As in Redis, every key's type is
// checked, even after an absent key has made an intersection empty.
bool ReadSets(CommandContext& ctx, size_t from, size_t to, std::vector<const Entry*>* out) {
  for (size_t i = from; i < to; ++i) {
    const Entry* e;
    if (!ReadSet(ctx, ctx.arg(i), &e)) return false;
    out->push_back(e);
  }
  return true;
}

std::vector<std::string> Compute(Op op, const std::vector<const Entry*>& sets) {
  switch (op) {
    case Op::kInter:
      return storage::SetIntersection(sets);
    case Op::kUnion:
      return storage::SetUnion(sets);
    case Op::kDiff:
      return storage::SetDifference(sets);
  }
  return {};
}

// SINTER, SUNION, SDIFF key [key ...].
template <Op kOp>
void CmdAlgebra(CommandContext& ctx) {
  std::vector<const Entry*> sets;
  if (!ReadSets(ctx, 1, ctx.argc(), &sets)) return;
  ReplyMembers(ctx, Compute(kOp, sets));
}

// SINTERSTORE, SUNIONSTORE, SDIFFSTORE destination key [key ...].
template <Op kOp>
void CmdAlgebraStore(CommandContext& ctx) {
  std::vector<const Entry*> sets;
  if (!ReadSets(ctx, 2, ctx.argc(), &sets)) return;
  const std::vector<std::string> result = Compute(kOp, sets);
  const std::string_view dst = ctx.arg(1);
  const bool existed =
      storage::SetStore(SelectedDb(ctx).ShardFor(dst), dst, result, Limits(ctx), ctx.now_ms);
  if (result.empty()) {
    if (existed) ctx.KeyChanged(kNotifyGeneric, "del", dst);
  } else {
    if (!existed) ctx.KeyChanged(kNotifyNew, "new", dst);
    constexpr const char* kEvent = kOp == Op::kInter   ? "sinterstore"
                                   : kOp == Op::kUnion ? "sunionstore"
                                                       : "sdiffstore";
    ctx.KeyChanged(kNotifySet, kEvent, dst);
  }
  ctx.w.Integer(static_cast<int64_t>(result.size()));
}

// SINTERCARD numkeys key [key ...] [LIMIT limit].
void CmdSInterCard(CommandContext& ctx) {
  const std::optional<int64_t> n = ParseInt64(ctx.arg(1));
  if (!n || *n <= 0) return ctx.w.Error("ERR numkeys should be greater than 0");
  if (*n > static_cast<int64_t>(ctx.argc() - 2)) {
    return ctx.w.Error("ERR Number of keys can't be greater than number of args");
  }
  const size_t end = 2 + static_cast<size_t>(*n);
  int64_t limit = 0;
  for (size_t i = end; i < ctx.argc(); ++i) {
    if (EqualsIgnoreCase(ctx.arg(i), "LIMIT") && i + 1 < ctx.argc()) {
      const std::optional<int64_t> l = ParseInt64(ctx.arg(++i));
      if (!l || *l < 0) return ctx.w.Error("ERR LIMIT can't be negative");
      limit = *l;
    } else {
      return ctx.w.Error(errors::kSyntax);
    }
  }
  std::vector<const Entry*> sets;
  if (!ReadSets(ctx, 2, end, &sets)) return;
  ctx.w.Integer(
      static_cast<int64_t>(storage::SetIntersection(sets, static_cast<size_t>(limit)).size()));
}

constexpr uint32_t kWriteFlags = kWrite | kDenyOom;

constexpr FamilyRows Row("set");

constexpr std::string_view kInterCost =
    "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of "
    "sets.";
constexpr std::string_view kTotalCost =
    "O(N) where N is the total number of elements in all given sets.";

}  // namespace

void RegisterSetFamily(CommandTable& t) {
  t.Add(Row("sadd", -3, kWriteFlags | kFast, 1, 1, 1, CmdSAdd,
            "Add members to a set, creating it if needed; returns how many were new.", "1.0.0",
            "O(1) for each element added, so O(N) to add N elements when the command is called "
            "with multiple arguments.",
            "@write @set @fast"));
  t.Add(Row("srem", -3, kWrite | kFast, 1, 1, 1, CmdSRem,
            "Remove members from a set; the key goes with its last member.", "1.0.0",
            "O(N) where N is the number of members to be removed.", "@write @set @fast"));
  t.Add(Row("sismember", 3, kReadOnly | kFast, 1, 1, 1, CmdSIsMember,
            "Whether a member belongs to a set.", "1.0.0", "O(1)", "@read @set @fast"));
  t.Add(Row("smismember", -3, kReadOnly | kFast, 1, 1, 1, CmdSMIsMember,
            "Whether each of several members belongs to a set.", "6.2.0",
            "O(N) where N is the number of elements being checked for membership",
            "@read @set @fast"));
  t.Add(Row("scard", 2, kReadOnly | kFast, 1, 1, 1, CmdSCard, "Number of members in a set.",
            "1.0.0", "O(1)", "@read @set @fast"));
  t.Add(Row("smembers", 2, kReadOnly, 1, 1, 1, CmdSMembers, "Every member of a set.", "1.0.0",
            "O(N) where N is the set cardinality.", "@read @set @slow"));
  t.Add(Row("spop", -2, kWrite | kFast, 1, 1, 1, CmdSPop,
            "Remove and return random members of a set.", "1.0.0",
            "Without the count argument O(1), otherwise O(N) where N is the value of the passed "
            "count.",
            "@write @set @fast"));
  t.Add(Row("srandmember", -2, kReadOnly, 1, 1, 1, CmdSRandMember,
            "Random members of a set (repeats allowed with a negative count).", "1.0.0",
            "Without the count argument O(1), otherwise O(N) where N is the absolute value of the "
            "passed count.",
            "@read @set @slow"));
  t.Add(Row("smove", 4, kWrite | kFast, 1, 2, 1, CmdSMove, "Move a member from one set to another.",
            "1.0.0", "O(1)", "@write @set @fast"));
  t.Add(Row("sscan", -3, kReadOnly, 1, 1, 1, CmdSScan,
            "Iterate over the members of a set with a cursor.", "2.8.0",
            "O(1) for every call. O(N) for a complete iteration.", "@read @set @slow"));
  t.Add(Row("sinter", -2, kReadOnly, 1, -1, 1, CmdAlgebra<Op::kInter>,
            "The members common to every given set.", "1.0.0", kInterCost, "@read @set @slow"));
  t.Add(Row("sintercard", -3, kReadOnly, CmdSInterCard,
            "The number of members common to every given set, optionally capped.", "7.0.0",
            kInterCost, "@read @set @slow"))
      .keys = PlanCountedKeys<1>;
  t.Add(Row("sinterstore", -3, kWriteFlags, 1, -1, 1, CmdAlgebraStore<Op::kInter>,
            "Store the intersection of sets in a key.", "1.0.0", kInterCost, "@write @set @slow"));
  t.Add(Row("sunion", -2, kReadOnly, 1, -1, 1, CmdAlgebra<Op::kUnion>,
            "The members of any of the given sets.", "1.0.0", kTotalCost, "@read @set @slow"));
  t.Add(Row("sunionstore", -3, kWriteFlags, 1, -1, 1, CmdAlgebraStore<Op::kUnion>,
            "Store the union of sets in a key.", "1.0.0", kTotalCost, "@write @set @slow"));
  t.Add(Row("sdiff", -2, kReadOnly, 1, -1, 1, CmdAlgebra<Op::kDiff>,
            "The members of the first set that are in none of the others.", "1.0.0", kTotalCost,
            "@read @set @slow"));
  t.Add(Row("sdiffstore", -3, kWriteFlags, 1, -1, 1, CmdAlgebraStore<Op::kDiff>,
            "Store the difference of sets in a key.", "1.0.0", kTotalCost, "@write @set @slow"));
}

}  // namespace sluice::server
