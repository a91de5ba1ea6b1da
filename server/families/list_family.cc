// List commands: pushes and pops at both ends, LRANGE/LINDEX/LPOS reads,
// LSET/LINSERT/LREM/LTRIM edits, LMOVE/RPOPLPUSH and LMPOP, and the blocking
// forms BLPOP/BRPOP/BLMOVE/BRPOPLPUSH/BLMPOP (when there is nothing to pop
// they wait through CommandContext::Block; see server/blocking/). Storage
// work is in storage/list_ops.h; handlers parse, call, reply (straight from
// the list's nodes) and record keyspace events.

#include <cstdint>
#include <limits>
#include <optional>
#include <span>
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
#include "storage/list_ops.h"

namespace sluice::server {
namespace {

namespace errors = protocol::errors;
using protocol::EqualsIgnoreCase;
using protocol::ParseInt64;
using storage::Entry;
using storage::ListReader;
using storage::QuickList;
using storage::Shard;

storage::ListLimits Limits(CommandContext& ctx) { return ctx.server.config().list_limits(); }

// The list at `key` for a read: false after replying WRONGTYPE; *out is
// nullptr when there is no such key.
bool ReadList(CommandContext& ctx, std::string_view key, const Entry** out) {
  storage::Result<const Entry*> r =
      storage::FindList(SelectedDb(ctx).ShardFor(key), key, ctx.now_ms);
  if (!r.ok()) {
    ReplyStatus(ctx.w, r.status);
    return false;
  }
  *out = r.value;
  return true;
}

// LEFT / RIGHT: false when it is neither.
bool ParseSide(std::string_view arg, bool* left) {
  if (EqualsIgnoreCase(arg, "LEFT")) {
    *left = true;
  } else if (EqualsIgnoreCase(arg, "RIGHT")) {
    *left = false;
  } else {
    return false;
  }
  return true;
}

// LPUSH/RPUSH/LPUSHX/RPUSHX key element [element ...].
template <bool kLeft, bool kOnlyExisting>
void CmdPush(CommandContext& ctx) {
  Shard& shard = KeyShard(ctx);
  const bool created = !kOnlyExisting && AbsentForNewEvent(ctx, shard, ctx.arg(1));
  std::vector<std::string_view> many;
  std::string_view one;
  std::span<const std::string_view> values;
  if (ctx.argc() == 3) {
    one = ctx.arg(2);
    values = {&one, 1};
  } else {
    many = ArgsFrom(ctx, 2);
    values = many;
  }
  auto r =
      storage::ListPush(shard, ctx.arg(1), values, kLeft, kOnlyExisting, Limits(ctx), ctx.now_ms);
  if (!r.ok()) return ReplyStatus(ctx.w, r.status);
  if (created) ctx.KeyChanged(kNotifyNew, "new", ctx.arg(1));
  if (r.value > 0) ctx.KeyChanged(kNotifyList, kLeft ? "lpush" : "rpush", ctx.arg(1));
  ctx.w.Integer(static_cast<int64_t>(r.value));
}

// LPOP/RPOP key [count]: without a count one element or a null bulk; with
// one an array (a null array for a missing key).
template <bool kLeft>
void CmdPop(CommandContext& ctx) {
  if (ctx.argc() > 3) return ctx.w.Error(errors::WrongArity(kLeft ? "lpop" : "rpop"));
  const bool has_count = ctx.argc() == 3;
  size_t count = 1;
  if (has_count) {
    const std::optional<int64_t> n = ParseInt64(ctx.arg(2));
    if (!n || *n < 0) return ctx.w.Error(errors::kNegativeCount);
    count = static_cast<size_t>(*n);
  }
  Shard& shard = KeyShard(ctx);
  if (has_count && count == 0) {
    auto f = storage::FindList(shard, ctx.arg(1), ctx.now_ms, /*for_read=*/false);
    if (!f.ok()) return ReplyStatus(ctx.w, f.status);
    if (f.value == nullptr) return ctx.w.NullArray();
    return ctx.w.ArrayHeader(0);
  }
  bool replied = false;
  auto r = storage::ListPop(
      shard, ctx.arg(1), kLeft, count, Limits(ctx), ctx.now_ms,
      [&](size_t n) {
        replied = true;
        if (has_count) ctx.w.ArrayHeader(n);
      },
      [&](std::string_view v) { ctx.w.Bulk(v); });
  if (!r.ok()) return ReplyStatus(ctx.w, r.status);
  if (!replied) return has_count ? ctx.w.NullArray() : ctx.w.Null();
  if (r.value.popped > 0) ctx.KeyChanged(kNotifyList, kLeft ? "lpop" : "rpop", ctx.arg(1));
  if (r.value.key_removed) ctx.KeyChanged(kNotifyGeneric, "del", ctx.arg(1));
}

void CmdLLen(CommandContext& ctx) {
  const Entry* e;
  if (!ReadList(ctx, ctx.arg(1), &e)) return;
  ctx.w.Integer(e == nullptr ? 0 : static_cast<int64_t>(storage::ObjectElementCount(e->object())));
}

// LRANGE key start stop.
void CmdLRange(CommandContext& ctx) {
  const std::optional<int64_t> a = ParseInt64(ctx.arg(2)), b = ParseInt64(ctx.arg(3));
  if (!a || !b) return ctx.w.Error(errors::kNotInteger);
  const Entry* e;
  if (!ReadList(ctx, ctx.arg(1), &e)) return;
  if (e == nullptr) return ctx.w.ArrayHeader(0);
  const ListReader reader(e);
  const QuickList& q = reader.list();
  const int64_t len = static_cast<int64_t>(q.size());
  int64_t start = *a, stop = *b;
  if (start < 0) start += len;
  if (stop < 0) stop += len;
  if (start < 0) start = 0;
  if (start > stop || start >= len) return ctx.w.ArrayHeader(0);
  if (stop >= len) stop = len - 1;
  const size_t n = static_cast<size_t>(stop - start + 1);
  ctx.w.ArrayHeader(n);
  std::string scratch;
  QuickList::Iter it = q.At(start);
  for (size_t i = 0; i < n; ++i, q.Next(it)) ctx.w.Bulk(q.Get(it).AsString(&scratch));
}

// LINDEX key index. As in Redis, the key is looked at before the index is
// parsed.
void CmdLIndex(CommandContext& ctx) {
  const Entry* e;
  if (!ReadList(ctx, ctx.arg(1), &e)) return;
  if (e == nullptr) return ctx.w.Null();
  const std::optional<int64_t> index = ParseInt64(ctx.arg(2));
  if (!index) return ctx.w.Error(errors::kNotInteger);
  const ListReader reader(e);
  const QuickList::Iter it = reader.list().At(*index);
  if (!it.valid()) return ctx.w.Null();
  std::string scratch;
  ctx.w.Bulk(reader.list().Get(it).AsString(&scratch));
}

// LSET key index element. As in Redis, the key is looked at before the
// index is parsed.
void CmdLSet(CommandContext& ctx) {
  Shard& shard = KeyShard(ctx);
  auto f = storage::FindList(shard, ctx.arg(1), ctx.now_ms, /*for_read=*/false);
  if (!f.ok()) return ReplyStatus(ctx.w, f.status);
  if (f.value == nullptr) return ctx.w.Error(errors::kNoSuchKey);
  const std::optional<int64_t> index = ParseInt64(ctx.arg(2));
  if (!index) return ctx.w.Error(errors::kNotInteger);
  auto r = storage::ListSet(shard, ctx.arg(1), *index, ctx.arg(3), Limits(ctx), ctx.now_ms);
  if (!r.ok()) return ReplyStatus(ctx.w, r.status);
  if (r.value == storage::ListSetResult::kOutOfRange) {
    return ctx.w.Error("ERR index out of range");
  }
  ctx.KeyChanged(kNotifyList, "lset", ctx.arg(1));
  ctx.w.SimpleString("OK");
}

// LINSERT key BEFORE|AFTER pivot element.
void CmdLInsert(CommandContext& ctx) {
  bool after;
  if (EqualsIgnoreCase(ctx.arg(2), "AFTER")) {
    after = true;
  } else if (EqualsIgnoreCase(ctx.arg(2), "BEFORE")) {
    after = false;
  } else {
    return ctx.w.Error(errors::kSyntax);
  }
  auto r = storage::ListInsert(KeyShard(ctx), ctx.arg(1), after, ctx.arg(3), ctx.arg(4),
                               Limits(ctx), ctx.now_ms);
  if (!r.ok()) return ReplyStatus(ctx.w, r.status);
  if (r.value > 0) ctx.KeyChanged(kNotifyList, "linsert", ctx.arg(1));
  ctx.w.Integer(r.value);
}

// LREM key count element.
void CmdLRem(CommandContext& ctx) {
  const std::optional<int64_t> count = ParseInt64(ctx.arg(2));
  if (!count) return ctx.w.Error(errors::kNotInteger);
  auto r =
      storage::ListRemove(KeyShard(ctx), ctx.arg(1), *count, ctx.arg(3), Limits(ctx), ctx.now_ms);
  if (!r.ok()) return ReplyStatus(ctx.w, r.status);
  if (r.value.removed > 0) ctx.KeyChanged(kNotifyList, "lrem", ctx.arg(1));
  if (r.value.key_removed) ctx.KeyChanged(kNotifyGeneric, "del", ctx.arg(1));
  ctx.w.Integer(static_cast<int64_t>(r.value.removed));
}

// LTRIM key start stop.
void CmdLTrim(CommandContext& ctx) {
  const std::optional<int64_t> a = ParseInt64(ctx.arg(2)), b = ParseInt64(ctx.arg(3));
  if (!a || !b) return ctx.w.Error(errors::kNotInteger);
  auto r = storage::ListTrim(KeyShard(ctx), ctx.arg(1), *a, *b, Limits(ctx), ctx.now_ms);
  if (!r.ok()) return ReplyStatus(ctx.w, r.status);
  if (r.value.existed) ctx.KeyChanged(kNotifyList, "ltrim", ctx.arg(1));
  if (r.value.key_removed) ctx.KeyChanged(kNotifyGeneric, "del", ctx.arg(1));
  ctx.w.SimpleString("OK");
}

// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len].
void CmdLPos(CommandContext& ctx) {
  int64_t rank = 1, count = -1, maxlen = 0;
  for (size_t i = 3; i < ctx.argc(); ++i) {
    const std::string_view opt = ctx.arg(i);
    const bool more = i + 1 < ctx.argc();
    if (EqualsIgnoreCase(opt, "RANK") && more) {
      const std::optional<int64_t> v = ParseInt64(ctx.arg(++i));
      if (!v) return ctx.w.Error(errors::kNotInteger);
      if (*v == std::numeric_limits<int64_t>::min()) {
        return ctx.w.Error(
            "ERR value is out of range, value must between -9223372036854775807 and "
            "9223372036854775807");
      }
      if (*v == 0) {
        return ctx.w.Error(
            "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... "
            "or use negative to start from the end of the list");
      }
      rank = *v;
    } else if (EqualsIgnoreCase(opt, "COUNT") && more) {
      const std::optional<int64_t> v = ParseInt64(ctx.arg(++i));
      if (!v || *v < 0) return ctx.w.Error("ERR COUNT can't be negative");
      count = *v;
    } else if (EqualsIgnoreCase(opt, "MAXLEN") && more) {
      const std::optional<int64_t> v = ParseInt64(ctx.arg(++i));
      if (!v || *v < 0) return ctx.w.Error("ERR MAXLEN can't be negative");
      maxlen = *v;
    } else {
      return ctx.w.Error(errors::kSyntax);
    }
  }
  const Entry* e;
  if (!ReadList(ctx, ctx.arg(1), &e)) return;
  if (e == nullptr) return count != -1 ? ctx.w.ArrayHeader(0) : ctx.w.Null();
  const ListReader reader(e);
  const QuickList& q = reader.list();
  const bool forward = rank > 0;
  // Matches to skip before the first one reported.
  uint64_t skip = forward ? static_cast<uint64_t>(rank - 1) : static_cast<uint64_t>(-(rank + 1));
  const int64_t len = static_cast<int64_t>(q.size());
  std::vector<int64_t> found;
  const size_t want = count == -1 ? 1 : static_cast<size_t>(count);
  int64_t index = forward ? 0 : len - 1;
  int64_t compared = 0;
  for (QuickList::Iter it = forward ? q.Front() : q.Back(); it.valid();
       forward ? q.Next(it) : q.Prev(it), index += forward ? 1 : -1) {
    if (maxlen != 0 && compared >= maxlen) break;
    ++compared;
    if (!q.Get(it).Equals(ctx.arg(2))) continue;
    if (skip > 0) {
      --skip;
      continue;
    }
    found.push_back(index);
    if (want != 0 && found.size() >= want) break;
  }
  if (count == -1) {
    if (found.empty()) return ctx.w.Null();
    return ctx.w.Integer(found.front());
  }
  ctx.w.ArrayHeader(found.size());
  for (int64_t at : found) ctx.w.Integer(at);
}

// The shared body of LMOVE and RPOPLPUSH.
void Move(CommandContext& ctx, bool from_left, bool to_left) {
  storage::Database& db = SelectedDb(ctx);
  const std::string_view src_key = ctx.arg(1), dst_key = ctx.arg(2);
  Shard& src = db.ShardFor(src_key);
  Shard& dst = db.ShardFor(dst_key);
  auto r =
      storage::ListMove(src, src_key, dst, dst_key, from_left, to_left, Limits(ctx), ctx.now_ms);
  if (!r.ok()) return ReplyStatus(ctx.w, r.status);
  if (!r.value.moved) return ctx.w.Null();
  if (r.value.dst_created) ctx.KeyChanged(kNotifyNew, "new", dst_key);
  ctx.KeyChanged(kNotifyList, to_left ? "lpush" : "rpush", dst_key);
  ctx.KeyChanged(kNotifyList, from_left ? "lpop" : "rpop", src_key);
  if (r.value.src_removed) ctx.KeyChanged(kNotifyGeneric, "del", src_key);
  ctx.w.Bulk(r.value.value);
}

// LMOVE source destination LEFT|RIGHT LEFT|RIGHT.
void CmdLMove(CommandContext& ctx) {
  bool from_left, to_left;
  if (!ParseSide(ctx.arg(3), &from_left) || !ParseSide(ctx.arg(4), &to_left)) {
    return ctx.w.Error(errors::kSyntax);
  }
  Move(ctx, from_left, to_left);
}

// RPOPLPUSH source destination.
void CmdRPopLPush(CommandContext& ctx) { Move(ctx, false, true); }

// Pops up to `count` elements (from the right end when `right`) from the
// first non-empty list of the keys args[begin, end) and replies [key,
// [elements]] (`flat`: BLPOP's [key, element]). Returns false, having
// written nothing, when every list is absent. A blocked client trying again
// passes over a key of the wrong type (it waits on, as in Redis) instead of
// failing. A PopFirstFn.
bool PopFirst(CommandContext& ctx, size_t begin, size_t end, bool right, uint64_t count,
              bool flat) {
  const bool left = !right;
  const bool retry = ctx.Retrying();
  for (size_t k = begin; k < end; ++k) {
    const std::string_view key = ctx.arg(k);
    bool replied = false;
    auto r = storage::ListPop(
        SelectedDb(ctx).ShardFor(key), key, left, count, Limits(ctx), ctx.now_ms,
        [&](size_t m) {
          replied = true;
          ctx.w.ArrayHeader(2);
          ctx.w.Bulk(key);
          if (!flat) ctx.w.ArrayHeader(m);
        },
        [&](std::string_view v) { ctx.w.Bulk(v); });
    if (!r.ok()) {
      if (retry && r.status == storage::Status::kWrongType) continue;
      ReplyStatus(ctx.w, r.status);
      return true;
    }
    if (!replied) continue;
    ctx.KeyChanged(kNotifyList, left ? "lpop" : "rpop", key);
    if (r.value.key_removed) ctx.KeyChanged(kNotifyGeneric, "del", key);
    return true;
  }
  return false;
}

// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count].
void CmdLMPop(CommandContext& ctx) {
  size_t keys_end;
  bool right;
  uint64_t count;
  if (!ParseMPopArgs(ctx, "LEFT", "RIGHT", &keys_end, &right, &count)) return;
  if (!PopFirst(ctx, 2, keys_end, right, count, false)) ctx.w.NullArray();
}

// BLPOP/BRPOP key [key ...] timeout.
template <bool kLeft>
void CmdBPop(CommandContext& ctx) {
  BlockingPop(ctx, /*second=*/!kLeft, PopFirst);
}

// BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count].
void CmdBLMPop(CommandContext& ctx) { BlockingMPop(ctx, "LEFT", "RIGHT", PopFirst); }

// BLMOVE / BRPOPLPUSH: LMOVE when the source has elements, else a wait on
// the source (the destination is looked at when there is something to move:
// of the wrong type, it fails the command then, waking or not).
void BlockingMove(CommandContext& ctx, bool from_left, bool to_left, std::string_view timeout) {
  int64_t deadline;
  if (!ParseBlockTimeout(ctx, timeout, &deadline)) return;
  auto src = storage::FindList(SelectedDb(ctx).ShardFor(ctx.arg(1)), ctx.arg(1), ctx.now_ms,
                               /*for_read=*/false);
  if (!src.ok() && !ctx.Retrying()) return ReplyStatus(ctx.w, src.status);
  if (src.ok() && src.value != nullptr) return Move(ctx, from_left, to_left);
  if (!BlockOnKeys(ctx, 1, 2, deadline)) ctx.w.Null();
}

// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout.
void CmdBLMove(CommandContext& ctx) {
  bool from_left, to_left;
  if (!ParseSide(ctx.arg(3), &from_left) || !ParseSide(ctx.arg(4), &to_left)) {
    return ctx.w.Error(errors::kSyntax);
  }
  BlockingMove(ctx, from_left, to_left, ctx.arg(5));
}

// BRPOPLPUSH source destination timeout.
void CmdBRPopLPush(CommandContext& ctx) { BlockingMove(ctx, false, true, ctx.arg(3)); }

constexpr uint32_t kWriteFlags = kWrite | kDenyOom;

constexpr FamilyRows Row("list");

constexpr std::string_view kPushCost =
    "O(1) for each element added, so O(N) to add N elements when the command is called with "
    "multiple arguments.";
constexpr std::string_view kPopCost = "O(N) where N is the number of elements returned";

}  // namespace

void RegisterListFamily(CommandTable& t) {
  t.Add(Row("lpush", -3, kWriteFlags | kFast, 1, 1, 1, CmdPush<true, false>,
            "Prepend elements to a list, creating it if needed; returns the new length.", "1.0.0",
            kPushCost, "@write @list @fast"));
  t.Add(Row("rpush", -3, kWriteFlags | kFast, 1, 1, 1, CmdPush<false, false>,
            "Append elements to a list, creating it if needed; returns the new length.", "1.0.0",
            kPushCost, "@write @list @fast"));
  t.Add(Row("lpushx", -3, kWriteFlags | kFast, 1, 1, 1, CmdPush<true, true>,
            "Prepend elements to a list only when it exists.", "2.2.0", kPushCost,
            "@write @list @fast"));
  t.Add(Row("rpushx", -3, kWriteFlags | kFast, 1, 1, 1, CmdPush<false, true>,
            "Append elements to a list only when it exists.", "2.2.0", kPushCost,
            "@write @list @fast"));
  t.Add(Row("lpop", -2, kWrite | kFast, 1, 1, 1, CmdPop<true>,
            "Remove and return the first elements of a list.", "1.0.0", kPopCost,
            "@write @list @fast"));
  t.Add(Row("rpop", -2, kWrite | kFast, 1, 1, 1, CmdPop<false>,
            "Remove and return the last elements of a list.", "1.0.0", kPopCost,
            "@write @list @fast"));
  t.Add(Row("llen", 2, kReadOnly | kFast, 1, 1, 1, CmdLLen, "The length of a list.", "1.0.0",
            "O(1)", "@read @list @fast"));
  t.Add(Row("lrange", 4, kReadOnly, 1, 1, 1, CmdLRange, "A range of elements of a list.", "1.0.0",
            "O(S+N) where S is the distance of start offset from HEAD for small lists, from "
            "nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the "
            "specified range.",
            "@read @list @slow"));
  t.Add(Row("lindex", 3, kReadOnly, 1, 1, 1, CmdLIndex, "The element at an index of a list.",
            "1.0.0",
            "O(N) where N is the number of elements to traverse to get to the element at index.",
            "@read @list @slow"));
  t.Add(Row("lset", 4, kWriteFlags, 1, 1, 1, CmdLSet, "Overwrite the element at an index.", "1.0.0",
            "O(N) where N is the length of the list.", "@write @list @slow"));
  t.Add(Row("linsert", 5, kWriteFlags, 1, 1, 1, CmdLInsert,
            "Insert an element before or after the first occurrence of a pivot.", "2.2.0",
            "O(N) where N is the number of elements to traverse before seeing the value pivot.",
            "@write @list @slow"));
  t.Add(Row("lrem", 4, kWrite, 1, 1, 1, CmdLRem, "Remove occurrences of an element.", "1.0.0",
            "O(N+M) where N is the length of the list and M is the number of elements removed.",
            "@write @list @slow"));
  t.Add(Row("ltrim", 4, kWrite, 1, 1, 1, CmdLTrim, "Keep only a range of elements of a list.",
            "1.0.0", "O(N) where N is the number of elements to be removed by the operation.",
            "@write @list @slow"));
  t.Add(Row("lpos", -3, kReadOnly, 1, 1, 1, CmdLPos,
            "The indexes of the elements equal to a value.", "6.0.6",
            "O(N) where N is the number of elements in the list, for the average case.",
            "@read @list @slow"));
  t.Add(Row("lmove", 5, kWriteFlags, 1, 2, 1, CmdLMove,
            "Pop an element from one end of a list and push it onto an end of another.", "6.2.0",
            "O(1)", "@write @list @slow"));
  t.Add(Row("rpoplpush", 3, kWriteFlags, 1, 2, 1, CmdRPopLPush,
            "Pop the last element of a list and push it onto the front of another.", "1.2.0",
            "O(1)", "@write @list @slow"));
  t.Add(Row("lmpop", -4, kWrite, CmdLMPop, "Pop elements from the first non-empty list of several.",
            "7.0.0",
            "O(N+M) where N is the number of provided keys and M is the number of elements "
            "returned.",
            "@write @list @slow"))
      .keys = PlanCountedKeys<1>;
  // The blocking forms.
  constexpr uint32_t kBlockingWrite = kWrite | kBlocking;
  t.Add(Row("blpop", -3, kBlockingWrite, 1, -2, 1, CmdBPop<true>,
            "Remove and return the first element of the first non-empty list, waiting for one "
            "when all are empty.",
            "2.0.0", "O(N) where N is the number of provided keys.",
            "@write @list @slow @blocking"));
  t.Add(Row("brpop", -3, kBlockingWrite, 1, -2, 1, CmdBPop<false>,
            "Remove and return the last element of the first non-empty list, waiting for one "
            "when all are empty.",
            "2.0.0", "O(N) where N is the number of provided keys.",
            "@write @list @slow @blocking"));
  t.Add(Row("blmove", 6, kBlockingWrite | kDenyOom, 1, 2, 1, CmdBLMove,
            "Pop an element from a list, push it onto another and return it, waiting for one "
            "when the source is empty.",
            "6.2.0", "O(1)", "@write @list @slow @blocking"));
  t.Add(Row("brpoplpush", 4, kBlockingWrite | kDenyOom, 1, 2, 1, CmdBRPopLPush,
            "Pop the last element of a list, push it onto the front of another and return it, "
            "waiting for one when the source is empty.",
            "2.2.0", "O(1)", "@write @list @slow @blocking"));
  t.Add(Row("blmpop", -5, kBlockingWrite, CmdBLMPop,
            "Pop elements from the first non-empty list of several, waiting for one when all "
            "are empty.",
            "7.0.0",
            "O(N+M) where N is the number of provided keys and M is the number of elements "
            "returned.",
            "@write @list @slow @blocking"))
      .keys = PlanCountedKeys<2>;
}

}  // namespace sluice::server
