// Sorted-set commands: ZADD and friends, the range reads (ZRANGE in all its
// forms, ZCOUNT, ZLEXCOUNT), removals by member and by range, ZPOPMIN/
// ZPOPMAX/ZMPOP, ZRANDMEMBER, ZSCAN and ZRANGESTORE. Storage work is in
// storage/zset_ops.h; handlers parse, call, reply and record keyspace events.
// (ZUNION, ZINTER, ZDIFF and their STORE forms build on the same storage
// API: ZSetView iteration and score lookup, and ZSetStore.)

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/inlined_vector.h"
#include "common/strings.h"
#include "protocol/arg_reader.h"
#include "protocol/errors.h"
#include "server/dispatch/command.h"
#include "server/dispatch/keyspace_access.h"
#include "server/dispatch/lock_planner.h"
#include "server/pubsub/keyspace_events.h"
#include "storage/zset_algebra.h"
#include "storage/zset_ops.h"

namespace sluice::server {
namespace {

namespace errors = protocol::errors;
using protocol::EqualsIgnoreCase;
using protocol::ParseInt64;
using storage::Entry;
using storage::LexBound;
using storage::LexRange;
using storage::ScoredMember;
using storage::ScoreRange;
using storage::Shard;
using storage::ZSetView;

constexpr std::string_view kNotFloat = "ERR value is not a valid float";
constexpr std::string_view kScoreRangeError = "ERR min or max is not a float";
constexpr std::string_view kLexRangeError = "ERR min or max not valid string range item";
constexpr std::string_view kNan = "ERR resulting score is not a number (NaN)";
constexpr std::string_view kMustBePositive = "ERR value is out of range, must be positive";

storage::ZSetLimits Limits(CommandContext& ctx) { return ctx.server.config().zset_limits(); }

// The sorted set at `key` for a read: false after replying WRONGTYPE; *out
// is nullptr when there is no such key.
bool ReadZSet(CommandContext& ctx, std::string_view key, const Entry** out) {
  storage::Result<const Entry*> r =
      storage::FindZSet(SelectedDb(ctx).ShardFor(key), key, ctx.now_ms);
  if (!r.ok()) {
    ReplyStatus(ctx.w, r.status);
    return false;
  }
  *out = r.value;
  return true;
}

// One end of a score range as Redis reads it: an optional "(" (exclusive),
// then whatever strtod takes whole ("", " 1" and "1e400" included), not NaN.
bool ParseScoreBound(std::string_view text, double* value, bool* exclusive) {
  *exclusive = !text.empty() && text[0] == '(';
  if (*exclusive) text.remove_prefix(1);
  char small[64];
  std::string large;
  const char* z;
  if (text.size() < sizeof(small)) {
    text.copy(small, text.size());
    small[text.size()] = '\0';
    z = small;
  } else {
    large.assign(text);
    z = large.c_str();
  }
  if (std::memchr(z, '\0', text.size()) != nullptr) return false;
  char* end;
  *value = std::strtod(z, &end);
  return *end == '\0' && !std::isnan(*value);
}

bool ParseScoreRange(std::string_view min, std::string_view max, ScoreRange* out) {
  return ParseScoreBound(min, &out->min, &out->min_exclusive) &&
         ParseScoreBound(max, &out->max, &out->max_exclusive);
}

// "-", "+", "[member" or "(member".
bool ParseLexBound(std::string_view text, LexBound* out) {
  if (text.empty()) return false;
  switch (text[0]) {
    case '-':
    case '+':
      if (text.size() != 1) return false;
      out->kind = text[0] == '-' ? LexBound::kMinusInf : LexBound::kPlusInf;
      return true;
    case '[':
    case '(':
      out->kind = text[0] == '[' ? LexBound::kInclusive : LexBound::kExclusive;
      out->member = text.substr(1);
      return true;
    default:
      return false;
  }
}

bool ParseLexRange(std::string_view min, std::string_view max, LexRange* out) {
  return ParseLexBound(min, &out->min) && ParseLexBound(max, &out->max);
}

// A member and its score inside a reply: RESP3 a [member, double] pair,
// RESP2 two flat bulk strings.
void ReplyPair(CommandContext& ctx, std::string_view member, double score) {
  if (ctx.w.resp3()) ctx.w.ArrayHeader(2);
  ctx.w.Bulk(member);
  ctx.w.Double(score);
}
// The array header for `n` members, with scores or not.
void PairsHeader(CommandContext& ctx, size_t n, bool with_scores) {
  ctx.w.ArrayHeader(with_scores && !ctx.w.resp3() ? 2 * n : n);
}

void ReplyPairs(CommandContext& ctx, const std::vector<ScoredMember>& items) {
  PairsHeader(ctx, items.size(), true);
  for (const auto& [m, s] : items) ReplyPair(ctx, m, s);
}

// ---- ZADD / ZINCRBY ----

void ReplyAdd(CommandContext& ctx, std::string_view key, const storage::ZAddOutcome& out,
              bool incr) {
  if (out.created) ctx.KeyChanged(kNotifyNew, "new", key);
  if (out.added + out.updated > 0) ctx.KeyChanged(kNotifyZset, incr ? "zincr" : "zadd", key);
}

// ZADD key [NX | XX] [GT | LT] [CH] [INCR] score member [score member ...]
void CmdZAdd(CommandContext& ctx) {
  storage::ZAddFlags flags;
  bool ch = false;
  size_t i = 2;
  for (; i < ctx.argc(); ++i) {
    const std::string_view a = ctx.arg(i);
    if (EqualsIgnoreCase(a, "NX")) {
      flags.nx = true;
    } else if (EqualsIgnoreCase(a, "XX")) {
      flags.xx = true;
    } else if (EqualsIgnoreCase(a, "GT")) {
      flags.gt = true;
    } else if (EqualsIgnoreCase(a, "LT")) {
      flags.lt = true;
    } else if (EqualsIgnoreCase(a, "CH")) {
      ch = true;
    } else if (EqualsIgnoreCase(a, "INCR")) {
      flags.incr = true;
    } else {
      break;
    }
  }
  const size_t elements = ctx.argc() - i;
  if (elements == 0 || elements % 2 != 0) return ctx.w.Error(errors::kSyntax);
  if (flags.nx && flags.xx) {
    return ctx.w.Error("ERR XX and NX options at the same time are not compatible");
  }
  if ((flags.gt && flags.nx) || (flags.lt && flags.nx) || (flags.gt && flags.lt)) {
    return ctx.w.Error("ERR GT, LT, and/or NX options at the same time are not compatible");
  }
  if (flags.incr && elements > 2) {
    return ctx.w.Error("ERR INCR option supports a single increment-element pair");
  }
  absl::InlinedVector<storage::ZAddInput, 8> inputs;
  inputs.reserve(elements / 2);
  for (; i < ctx.argc(); i += 2) {
    const std::optional<double> score = protocol::ParseDouble(ctx.arg(i));
    if (!score) return ctx.w.Error(kNotFloat);
    inputs.push_back({*score, ctx.arg(i + 1)});
  }
  const std::string_view key = ctx.arg(1);
  auto r = storage::ZSetAdd(KeyShard(ctx), key, inputs, flags, Limits(ctx), ctx.now_ms);
  if (!r.ok()) return ReplyStatus(ctx.w, r.status);
  if (r.value.nan) return ctx.w.Error(kNan);
  ReplyAdd(ctx, key, r.value, flags.incr);
  if (flags.incr) {
    if (!r.value.incr_applied) return ctx.w.Null();
    return ctx.w.Double(r.value.incr_score);
  }
  ctx.w.Integer(static_cast<int64_t>(r.value.added + (ch ? r.value.updated : 0)));
}

// ZINCRBY key increment member
void CmdZIncrBy(CommandContext& ctx) {
  const std::optional<double> by = protocol::ParseDouble(ctx.arg(2));
  if (!by) return ctx.w.Error(kNotFloat);
  storage::ZAddFlags flags;
  flags.incr = true;
  const storage::ZAddInput input{*by, ctx.arg(3)};
  auto r = storage::ZSetAdd(KeyShard(ctx), ctx.arg(1), {&input, 1}, flags, Limits(ctx), ctx.now_ms);
  if (!r.ok()) return ReplyStatus(ctx.w, r.status);
  if (r.value.nan) return ctx.w.Error(kNan);
  ReplyAdd(ctx, ctx.arg(1), r.value, true);
  ctx.w.Double(r.value.incr_score);
}

// ---- Removal ----

void ReplyRemoved(CommandContext& ctx, const char* event, const storage::ZSetRemoveOutcome& out) {
  if (out.removed > 0) ctx.KeyChanged(kNotifyZset, event, ctx.arg(1));
  if (out.key_removed) ctx.KeyChanged(kNotifyGeneric, "del", ctx.arg(1));
  ctx.w.Integer(static_cast<int64_t>(out.removed));
}

void CmdZRem(CommandContext& ctx) {
  const std::vector<std::string_view> members = ArgsFrom(ctx, 2);
  auto r = storage::ZSetRemove(KeyShard(ctx), ctx.arg(1), members, ctx.now_ms);
  if (!r.ok()) return ReplyStatus(ctx.w, r.status);
  ReplyRemoved(ctx, "zrem", r.value);
}

void CmdZRemRangeByRank(CommandContext& ctx) {
  const std::optional<int64_t> start = ParseInt64(ctx.arg(2));
  const std::optional<int64_t> stop = ParseInt64(ctx.arg(3));
  if (!start || !stop) return ctx.w.Error(errors::kNotInteger);
  auto r = storage::ZSetRemoveRangeByRank(KeyShard(ctx), ctx.arg(1), *start, *stop, ctx.now_ms);
  if (!r.ok()) return ReplyStatus(ctx.w, r.status);
  ReplyRemoved(ctx, "zremrangebyrank", r.value);
}

void CmdZRemRangeByScore(CommandContext& ctx) {
  ScoreRange range;
  if (!ParseScoreRange(ctx.arg(2), ctx.arg(3), &range)) return ctx.w.Error(kScoreRangeError);
  auto r = storage::ZSetRemoveRangeByScore(KeyShard(ctx), ctx.arg(1), range, ctx.now_ms);
  if (!r.ok()) return ReplyStatus(ctx.w, r.status);
  ReplyRemoved(ctx, "zremrangebyscore", r.value);
}

void CmdZRemRangeByLex(CommandContext& ctx) {
  LexRange range;
  if (!ParseLexRange(ctx.arg(2), ctx.arg(3), &range)) return ctx.w.Error(kLexRangeError);
  auto r = storage::ZSetRemoveRangeByLex(KeyShard(ctx), ctx.arg(1), range, ctx.now_ms);
  if (!r.ok()) return ReplyStatus(ctx.w, r.status);
  ReplyRemoved(ctx, "zremrangebylex", r.value);
}

// ---- Point reads ----

void CmdZCard(CommandContext& ctx) {
  const Entry* e;
  if (!ReadZSet(ctx, ctx.arg(1), &e)) return;
  ctx.w.Integer(e == nullptr ? 0 : static_cast<int64_t>(ZSetView(e).size()));
}

void CmdZScore(CommandContext& ctx) {
  const Entry* e;
  if (!ReadZSet(ctx, ctx.arg(1), &e)) return;
  double score;
  if (e == nullptr || !ZSetView(e).Score(ctx.arg(2), &score)) return ctx.w.Null();
  ctx.w.Double(score);
}

void CmdZMScore(CommandContext& ctx) {
  const Entry* e;
  if (!ReadZSet(ctx, ctx.arg(1), &e)) return;
  ctx.w.ArrayHeader(ctx.argc() - 2);
  for (size_t i = 2; i < ctx.argc(); ++i) {
    double score;
    if (e != nullptr && ZSetView(e).Score(ctx.arg(i), &score)) {
      ctx.w.Double(score);
    } else {
      ctx.w.Null();
    }
  }
}

// ZRANK / ZREVRANK key member [WITHSCORE]
template <bool kReverse>
void CmdZRank(CommandContext& ctx) {
  if (ctx.argc() > 4) return ctx.w.Error(errors::WrongArity(kReverse ? "zrevrank" : "zrank"));
  if (ctx.argc() == 4 && !EqualsIgnoreCase(ctx.arg(3), "WITHSCORE")) {
    return ctx.w.Error(errors::kSyntax);
  }
  const bool with_score = ctx.argc() == 4;
  const Entry* e;
  if (!ReadZSet(ctx, ctx.arg(1), &e)) return;
  size_t rank;
  if (e == nullptr || !ZSetView(e).Rank(ctx.arg(2), &rank)) {
    return with_score ? ctx.w.NullArray() : ctx.w.Null();
  }
  const ZSetView view(e);
  if (kReverse) rank = view.size() - 1 - rank;
  if (!with_score) return ctx.w.Integer(static_cast<int64_t>(rank));
  double score = 0;
  (void)view.Score(ctx.arg(2), &score);
  ctx.w.ArrayHeader(2);
  ctx.w.Integer(static_cast<int64_t>(rank));
  ctx.w.Double(score);
}

void CmdZCount(CommandContext& ctx) {
  ScoreRange range;
  if (!ParseScoreRange(ctx.arg(2), ctx.arg(3), &range)) return ctx.w.Error(kScoreRangeError);
  const Entry* e;
  if (!ReadZSet(ctx, ctx.arg(1), &e)) return;
  if (e == nullptr) return ctx.w.Integer(0);
  const auto [first, last] = ZSetView(e).ScoreRanks(range);
  ctx.w.Integer(static_cast<int64_t>(last - first));
}

void CmdZLexCount(CommandContext& ctx) {
  LexRange range;
  if (!ParseLexRange(ctx.arg(2), ctx.arg(3), &range)) return ctx.w.Error(kLexRangeError);
  const Entry* e;
  if (!ReadZSet(ctx, ctx.arg(1), &e)) return;
  if (e == nullptr) return ctx.w.Integer(0);
  const auto [first, last] = ZSetView(e).LexRanks(range);
  ctx.w.Integer(static_cast<int64_t>(last - first));
}

// ---- ZRANGE and its older forms ----

enum class RangeBy { kAuto, kRank, kScore, kLex };
enum class Direction { kAuto, kForward, kReverse };

// How a range command reads its arguments.
struct RangeCommand {
  RangeBy by;
  Direction direction;
  bool store;
};

// The ascending ranks [first, last) a range command selects, walked
// backwards when `reverse`.
struct Selection {
  size_t first = 0;
  size_t last = 0;
  bool reverse = false;
};

// Applies LIMIT offset count to the ranks [first, last) walked in order.
Selection Limit(size_t first, size_t last, bool reverse, int64_t offset, int64_t count) {
  if (offset < 0 || first >= last) return {};
  const size_t span = last - first;
  const auto off = static_cast<uint64_t>(offset);
  if (off >= span) return {};
  size_t take = span - static_cast<size_t>(off);
  if (count >= 0 && static_cast<uint64_t>(count) < take) take = static_cast<size_t>(count);
  if (!reverse)
    return {first + static_cast<size_t>(off), first + static_cast<size_t>(off) + take, false};
  const size_t top = last - static_cast<size_t>(off);
  return {top - take, top, true};
}

// ZRANGE key start stop [BYSCORE | BYLEX] [REV] [LIMIT offset count] [WITHSCORES],
// ZRANGESTORE dst src ..., ZRANGEBYSCORE, ZREVRANGEBYSCORE, ZRANGEBYLEX,
// ZREVRANGEBYLEX, ZREVRANGE.
template <RangeBy kBy, Direction kDirection, bool kStore>
void CmdRange(CommandContext& ctx) {
  const size_t key_at = kStore ? 2 : 1;
  RangeBy by = kBy;
  Direction direction = kDirection;
  bool with_scores = false;
  bool limited = false;
  int64_t offset = 0, count = -1;
  for (size_t j = key_at + 3; j < ctx.argc(); ++j) {
    const std::string_view a = ctx.arg(j);
    const size_t left = ctx.argc() - j - 1;
    if (!kStore && EqualsIgnoreCase(a, "WITHSCORES")) {
      with_scores = true;
    } else if (EqualsIgnoreCase(a, "LIMIT") && left >= 2) {
      const std::optional<int64_t> o = ParseInt64(ctx.arg(j + 1));
      const std::optional<int64_t> c = o ? ParseInt64(ctx.arg(j + 2)) : std::nullopt;
      if (!o || !c) return ctx.w.Error(errors::kNotInteger);
      offset = *o;
      count = *c;
      limited = true;
      j += 2;
    } else if (direction == Direction::kAuto && EqualsIgnoreCase(a, "REV")) {
      direction = Direction::kReverse;
    } else if (by == RangeBy::kAuto && EqualsIgnoreCase(a, "BYLEX")) {
      by = RangeBy::kLex;
    } else if (by == RangeBy::kAuto && EqualsIgnoreCase(a, "BYSCORE")) {
      by = RangeBy::kScore;
    } else {
      return ctx.w.Error(errors::kSyntax);
    }
  }
  if (by == RangeBy::kAuto) by = RangeBy::kRank;
  const bool reverse = direction == Direction::kReverse;
  // As in Redis, "LIMIT x -1" passes as no limit.
  if (limited && count != -1 && by == RangeBy::kRank) {
    return ctx.w.Error(
        "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
  }
  if (with_scores && by == RangeBy::kLex) {
    return ctx.w.Error("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
  }
  // Reversed score and lex ranges are given as max, min.
  std::string_view lo = ctx.arg(key_at + 1), hi = ctx.arg(key_at + 2);
  if (reverse && by != RangeBy::kRank) std::swap(lo, hi);
  int64_t start = 0, stop = 0;
  ScoreRange score_range;
  LexRange lex_range;
  switch (by) {
    case RangeBy::kScore:
      if (!ParseScoreRange(lo, hi, &score_range)) return ctx.w.Error(kScoreRangeError);
      break;
    case RangeBy::kLex:
      if (!ParseLexRange(lo, hi, &lex_range)) return ctx.w.Error(kLexRangeError);
      break;
    default: {
      const std::optional<int64_t> a = ParseInt64(lo), b = ParseInt64(hi);
      if (!a || !b) return ctx.w.Error(errors::kNotInteger);
      start = *a;
      stop = *b;
    }
  }
  const Entry* e;
  if (!ReadZSet(ctx, ctx.arg(key_at), &e)) return;
  Selection sel;
  if (e != nullptr) {
    const ZSetView view(e);
    switch (by) {
      case RangeBy::kScore: {
        const auto [f, l] = view.ScoreRanks(score_range);
        sel = Limit(f, l, reverse, offset, count);
        break;
      }
      case RangeBy::kLex: {
        const auto [f, l] = view.LexRanks(lex_range);
        sel = Limit(f, l, reverse, offset, count);
        break;
      }
      default: {
        const size_t n = view.size();
        const auto [f, l] = storage::NormalizeRankRange(start, stop, n);
        sel = reverse ? Selection{n - l, n - f, true} : Selection{f, l, false};
      }
    }
  }
  const size_t n = sel.last - sel.first;
  if constexpr (kStore) {
    std::vector<ScoredMember> items;
    items.reserve(n);
    if (n > 0) {
      ZSetView(e).ForRanks(sel.first, sel.last, false, [&](std::string_view m, double s) {
        items.emplace_back(std::string(m), s);
      });
    }
    const std::string_view dst = ctx.arg(1);
    const bool existed = storage::ZSetStore(SelectedDb(ctx).ShardFor(dst), dst, std::move(items),
                                            Limits(ctx), ctx.now_ms);
    if (n == 0) {
      if (existed) ctx.KeyChanged(kNotifyGeneric, "del", dst);
    } else {
      if (!existed) ctx.KeyChanged(kNotifyNew, "new", dst);
      ctx.KeyChanged(kNotifyZset, "zrangestore", dst);
    }
    return ctx.w.Integer(static_cast<int64_t>(n));
  } else {
    PairsHeader(ctx, n, with_scores);
    if (n == 0) return;
    ZSetView(e).ForRanks(sel.first, sel.last, sel.reverse, [&](std::string_view m, double s) {
      if (with_scores) {
        ReplyPair(ctx, m, s);
      } else {
        ctx.w.Bulk(m);
      }
    });
  }
}

// ---- Pops ----

// ZPOPMIN / ZPOPMAX key [count]
template <bool kMax>
void CmdZPop(CommandContext& ctx) {
  if (ctx.argc() > 3) return ctx.w.Error(errors::kSyntax);
  uint64_t count = 1;
  if (ctx.argc() == 3) {
    const std::optional<int64_t> n = ParseInt64(ctx.arg(2));
    if (!n || *n < 0) return ctx.w.Error(kMustBePositive);
    count = static_cast<uint64_t>(*n);
  }
  bool key_removed = false;
  auto r = storage::ZSetPop(KeyShard(ctx), ctx.arg(1), count, kMax, ctx.now_ms, &key_removed);
  if (!r.ok()) return ReplyStatus(ctx.w, r.status);
  if (!r.value.empty()) ctx.KeyChanged(kNotifyZset, kMax ? "zpopmax" : "zpopmin", ctx.arg(1));
  if (key_removed) ctx.KeyChanged(kNotifyGeneric, "del", ctx.arg(1));
  if (ctx.argc() == 2) {
    // Without a count: one flat member, score (or nothing) in both protocols.
    ctx.w.ArrayHeader(2 * r.value.size());
    for (const auto& [m, s] : r.value) {
      ctx.w.Bulk(m);
      ctx.w.Double(s);
    }
    return;
  }
  ReplyPairs(ctx, r.value);
}

// Pops up to `count` members from the first non-empty sorted set of the keys
// args[begin, end) and replies [key, [[member, score], ...]] (`flat`:
// BZPOPMIN's [key, member, score]). Returns false, having written nothing,
// when every set is absent. A blocked client trying again passes over a key
// of the wrong type (it waits on, as in Redis) instead of failing. A
// PopFirstFn.
bool ZPopFirst(CommandContext& ctx, size_t begin, size_t end, bool max, uint64_t count, bool flat) {
  const bool retry = ctx.Retrying();
  for (size_t k = begin; k < end; ++k) {
    const std::string_view key = ctx.arg(k);
    bool key_removed = false;
    auto r =
        storage::ZSetPop(SelectedDb(ctx).ShardFor(key), key, count, max, ctx.now_ms, &key_removed);
    if (!r.ok()) {
      if (retry && r.status == storage::Status::kWrongType) continue;
      ReplyStatus(ctx.w, r.status);
      return true;
    }
    if (r.value.empty()) continue;
    ctx.KeyChanged(kNotifyZset, max ? "zpopmax" : "zpopmin", key);
    if (key_removed) ctx.KeyChanged(kNotifyGeneric, "del", key);
    if (flat) {
      ctx.w.ArrayHeader(3);
      ctx.w.Bulk(key);
      ctx.w.Bulk(r.value.front().first);
      ctx.w.Double(r.value.front().second);
      return true;
    }
    ctx.w.ArrayHeader(2);
    ctx.w.Bulk(key);
    ctx.w.ArrayHeader(r.value.size());
    for (const auto& [m, s] : r.value) {
      ctx.w.ArrayHeader(2);
      ctx.w.Bulk(m);
      ctx.w.Double(s);
    }
    return true;
  }
  return false;
}

// ZMPOP numkeys key [key ...] MIN | MAX [COUNT count]
void CmdZMPop(CommandContext& ctx) {
  size_t keys_end;
  bool max;
  uint64_t count;
  if (!ParseMPopArgs(ctx, "MIN", "MAX", &keys_end, &max, &count)) return;
  if (!ZPopFirst(ctx, 2, keys_end, max, count, false)) ctx.w.NullArray();
}

// BZPOPMIN / BZPOPMAX key [key ...] timeout
template <bool kMax>
void CmdBZPop(CommandContext& ctx) {
  BlockingPop(ctx, /*second=*/kMax, ZPopFirst);
}

// BZMPOP timeout numkeys key [key ...] MIN | MAX [COUNT count]
void CmdBZMPop(CommandContext& ctx) { BlockingMPop(ctx, "MIN", "MAX", ZPopFirst); }

// ---- Random members and scans ----

// ZRANDMEMBER key [count [WITHSCORES]]. As in Redis, the count is checked
// before the key.
void CmdZRandMember(CommandContext& ctx) {
  int64_t count;
  bool with_scores;
  if (!ParseRandomArgs(ctx, "WITHSCORES", &count, &with_scores)) return;
  const Entry* e;
  if (!ReadZSet(ctx, ctx.arg(1), &e)) return;
  if (ctx.argc() == 2) {
    if (e == nullptr) return ctx.w.Null();
    return ctx.w.Bulk(storage::ZSetRandomMembers(e, 1).front().first);
  }
  const std::vector<ScoredMember> picked =
      e == nullptr ? std::vector<ScoredMember>() : storage::ZSetRandomMembers(e, count);
  if (with_scores) return ReplyPairs(ctx, picked);
  ctx.w.ArrayHeader(picked.size());
  for (const auto& [m, s] : picked) ctx.w.Bulk(m);
}

// ZSCAN key cursor [MATCH pattern] [COUNT count]: member, score as flat
// bulk strings in both protocols.
void CmdZScan(CommandContext& ctx) {
  const std::optional<uint64_t> cursor = ParseCursor(ctx.arg(2));
  if (!cursor) return ctx.w.Error("ERR invalid cursor");
  const Entry* e;
  if (!ReadZSet(ctx, ctx.arg(1), &e)) return;
  std::string_view pattern;
  size_t count = 10;
  if (e != nullptr && !ParseScanOptions(ctx, 3, &pattern, &count)) return;
  std::vector<ScoredMember> items;
  const uint64_t next = e == nullptr ? 0 : storage::ZSetScan(e, *cursor, count, pattern, &items);
  ctx.w.ArrayHeader(2);
  ctx.w.Bulk(StrCat(next));
  ctx.w.ArrayHeader(2 * items.size());
  char buf[protocol::kMaxDoubleChars];
  for (const auto& [m, s] : items) {
    ctx.w.Bulk(m);
    ctx.w.Bulk(std::string_view(buf, protocol::FormatDoubleTo(s, buf)));
  }
}

// ---- ZUNION, ZINTER, ZDIFF, their STORE forms, ZINTERCARD ----

enum class ZOp { kUnion, kInter, kDiff };

// The inputs of a numkeys command: the count at `at`, the keys after it.
// False after replying the error Redis gives (`name` is the command's).
bool ParseInputKeys(CommandContext& ctx, size_t at, std::string_view name, size_t* count) {
  const std::optional<int64_t> n = ParseInt64(ctx.arg(at));
  if (!n) {
    ctx.w.Error(errors::kNotInteger);
    return false;
  }
  if (*n < 1) {
    ctx.w.Error(StrCat("ERR at least 1 input key is needed for '", name, "' command"));
    return false;
  }
  if (*n > static_cast<int64_t>(ctx.argc() - at - 1)) {
    ctx.w.Error(errors::kSyntax);
    return false;
  }
  *count = static_cast<size_t>(*n);
  return true;
}

// The sets and sorted sets named by args[from, from + count): false after
// replying WRONGTYPE. As in Redis every key's type is checked before the
// options are read.
bool ReadInputs(CommandContext& ctx, size_t from, size_t count, std::vector<const Entry*>* out) {
  for (size_t i = from; i < from + count; ++i) {
    storage::Result<const Entry*> r =
        storage::FindAlgebraInput(SelectedDb(ctx).ShardFor(ctx.arg(i)), ctx.arg(i), ctx.now_ms);
    if (!r.ok()) {
      ReplyStatus(ctx.w, r.status);
      return false;
    }
    out->push_back(r.value);
  }
  return true;
}

struct AlgebraOptions {
  std::vector<double> weights;  // empty: all 1
  storage::ZAggregate aggregate = storage::ZAggregate::kSum;
  bool withscores = false;
};

// [WEIGHTS w ...] [AGGREGATE SUM|MIN|MAX] [WITHSCORES] from args[from..];
// ZDIFF takes only WITHSCORES, the STORE forms no WITHSCORES.
bool ParseAlgebraOptions(CommandContext& ctx, size_t from, size_t count, ZOp op, bool store,
                         AlgebraOptions* opts) {
  for (size_t i = from; i < ctx.argc(); ++i) {
    const std::string_view a = ctx.arg(i);
    const size_t left = ctx.argc() - i - 1;
    if (op != ZOp::kDiff && EqualsIgnoreCase(a, "WEIGHTS") && left >= count) {
      opts->weights.clear();
      for (size_t k = 0; k < count; ++k) {
        const std::optional<double> w = protocol::ParseDouble(ctx.arg(++i));
        if (!w) {
          ctx.w.Error("ERR weight value is not a float");
          return false;
        }
        opts->weights.push_back(*w);
      }
    } else if (op != ZOp::kDiff && EqualsIgnoreCase(a, "AGGREGATE") && left >= 1) {
      const std::string_view how = ctx.arg(++i);
      if (EqualsIgnoreCase(how, "SUM")) {
        opts->aggregate = storage::ZAggregate::kSum;
      } else if (EqualsIgnoreCase(how, "MIN")) {
        opts->aggregate = storage::ZAggregate::kMin;
      } else if (EqualsIgnoreCase(how, "MAX")) {
        opts->aggregate = storage::ZAggregate::kMax;
      } else {
        ctx.w.Error(errors::kSyntax);
        return false;
      }
    } else if (!store && EqualsIgnoreCase(a, "WITHSCORES")) {
      opts->withscores = true;
    } else {
      ctx.w.Error(errors::kSyntax);
      return false;
    }
  }
  return true;
}

std::vector<storage::ScoredMember> Combine(ZOp op, const std::vector<const Entry*>& entries,
                                           const AlgebraOptions& opts) {
  if (op == ZOp::kDiff) return storage::ZSetDifference(entries);
  std::vector<storage::ZAlgebraInput> inputs;
  inputs.reserve(entries.size());
  for (size_t i = 0; i < entries.size(); ++i) {
    inputs.push_back({entries[i], opts.weights.empty() ? 1.0 : opts.weights[i]});
  }
  return op == ZOp::kUnion ? storage::ZSetUnion(inputs, opts.aggregate)
                           : storage::ZSetIntersection(inputs, opts.aggregate);
}

constexpr const char* OpName(ZOp op, bool store) {
  switch (op) {
    case ZOp::kUnion:
      return store ? "zunionstore" : "zunion";
    case ZOp::kInter:
      return store ? "zinterstore" : "zinter";
    case ZOp::kDiff:
      return store ? "zdiffstore" : "zdiff";
  }
  return "";
}

// ZUNION, ZINTER, ZDIFF numkeys key [key ...] [options] [WITHSCORES].
template <ZOp kOp>
void CmdZAlgebra(CommandContext& ctx) {
  size_t count;
  if (!ParseInputKeys(ctx, 1, OpName(kOp, false), &count)) return;
  std::vector<const Entry*> entries;
  if (!ReadInputs(ctx, 2, count, &entries)) return;
  AlgebraOptions opts;
  if (!ParseAlgebraOptions(ctx, 2 + count, count, kOp, false, &opts)) return;
  const std::vector<ScoredMember> result = Combine(kOp, entries, opts);
  if (opts.withscores) return ReplyPairs(ctx, result);
  ctx.w.ArrayHeader(result.size());
  for (const auto& [m, s] : result) ctx.w.Bulk(m);
}

// ZUNIONSTORE, ZINTERSTORE, ZDIFFSTORE destination numkeys key [key ...].
template <ZOp kOp>
void CmdZAlgebraStore(CommandContext& ctx) {
  size_t count;
  if (!ParseInputKeys(ctx, 2, OpName(kOp, true), &count)) return;
  std::vector<const Entry*> entries;
  if (!ReadInputs(ctx, 3, count, &entries)) return;
  AlgebraOptions opts;
  if (!ParseAlgebraOptions(ctx, 3 + count, count, kOp, true, &opts)) return;
  std::vector<storage::ScoredMember> result = Combine(kOp, entries, opts);
  const size_t n = result.size();
  const std::string_view dst = ctx.arg(1);
  const bool existed = storage::ZSetStore(SelectedDb(ctx).ShardFor(dst), dst, std::move(result),
                                          Limits(ctx), ctx.now_ms);
  if (n == 0) {
    if (existed) ctx.KeyChanged(kNotifyGeneric, "del", dst);
  } else {
    if (!existed) ctx.KeyChanged(kNotifyNew, "new", dst);
    ctx.KeyChanged(kNotifyZset, OpName(kOp, true), dst);
  }
  ctx.w.Integer(static_cast<int64_t>(n));
}

// ZINTERCARD numkeys key [key ...] [LIMIT limit].
void CmdZInterCard(CommandContext& ctx) {
  size_t count;
  if (!ParseInputKeys(ctx, 1, "zintercard", &count)) return;
  std::vector<const Entry*> entries;
  if (!ReadInputs(ctx, 2, count, &entries)) return;
  int64_t limit = 0;
  for (size_t i = 2 + count; i < ctx.argc(); ++i) {
    if (EqualsIgnoreCase(ctx.arg(i), "LIMIT") && i + 1 < ctx.argc()) {
      const std::optional<int64_t> l = ParseInt64(ctx.arg(++i));
      if (!l || *l < 0) return ctx.w.Error("ERR LIMIT can't be negative");
      limit = *l;
    } else {
      return ctx.w.Error(errors::kSyntax);
    }
  }
  ctx.w.Integer(
      static_cast<int64_t>(storage::ZSetIntersectionCard(entries, static_cast<size_t>(limit))));
}

constexpr uint32_t kWriteFlags = kWrite | kDenyOom;

constexpr FamilyRows Row("sorted-set");

constexpr std::string_view kRangeCost =
    "O(log(N)+M) with N being the number of elements in the sorted set and M the number of "
    "elements returned.";
constexpr std::string_view kRemoveRangeCost =
    "O(log(N)+M) with N being the number of elements in the sorted set and M the number of "
    "elements removed by the operation.";
constexpr std::string_view kLogN =
    "O(log(N)) with N being the number of elements in the sorted set.";

constexpr std::string_view kUnionCost =
    "O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being "
    "the number of elements in the resulting sorted set.";
constexpr std::string_view kInterCost =
    "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the "
    "number of input sorted sets and M being the number of elements in the resulting sorted "
    "set.";
constexpr std::string_view kDiffCost =
    "O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N "
    "is the size of the first set, and K is the size of the result set.";

}  // namespace

void RegisterZSetFamily(CommandTable& t) {
  t.Add(Row("zadd", -4, kWriteFlags | kFast, 1, 1, 1, CmdZAdd,
            "Add members to a sorted set or update their scores, creating it if needed.", "1.2.0",
            "O(log(N)) for each item added, where N is the number of elements in the sorted set.",
            "@write @sortedset @fast"));
  t.Add(Row("zincrby", 4, kWriteFlags | kFast, 1, 1, 1, CmdZIncrBy,
            "Increment the score of a member of a sorted set.", "1.2.0", kLogN,
            "@write @sortedset @fast"));
  t.Add(Row("zrem", -3, kWrite | kFast, 1, 1, 1, CmdZRem,
            "Remove members from a sorted set; the key goes with its last member.", "1.2.0",
            "O(M*log(N)) with N being the number of elements in the sorted set and M the number "
            "of elements to be removed.",
            "@write @sortedset @fast"));
  t.Add(Row("zcard", 2, kReadOnly | kFast, 1, 1, 1, CmdZCard, "Number of members in a sorted set.",
            "1.2.0", "O(1)", "@read @sortedset @fast"));
  t.Add(Row("zscore", 3, kReadOnly | kFast, 1, 1, 1, CmdZScore,
            "The score of a member of a sorted set.", "1.2.0", "O(1)", "@read @sortedset @fast"));
  t.Add(Row("zmscore", -3, kReadOnly | kFast, 1, 1, 1, CmdZMScore,
            "The scores of several members of a sorted set.", "6.2.0",
            "O(N) where N is the number of members being requested.", "@read @sortedset @fast"));
  t.Add(Row("zrank", -3, kReadOnly | kFast, 1, 1, 1, CmdZRank<false>,
            "The rank of a member in ascending score order, optionally with its score.", "2.0.0",
            "O(log(N))", "@read @sortedset @fast"));
  t.Add(Row("zrevrank", -3, kReadOnly | kFast, 1, 1, 1, CmdZRank<true>,
            "The rank of a member in descending score order, optionally with its score.", "2.0.0",
            "O(log(N))", "@read @sortedset @fast"));
  t.Add(Row("zcount", 4, kReadOnly | kFast, 1, 1, 1, CmdZCount,
            "Number of members with scores within a range.", "2.0.0", kLogN,
            "@read @sortedset @fast"));
  t.Add(Row("zlexcount", 4, kReadOnly | kFast, 1, 1, 1, CmdZLexCount,
            "Number of members within a lexicographical range.", "2.8.9", kLogN,
            "@read @sortedset @fast"));
  t.Add(Row("zrange", -4, kReadOnly, 1, 1, 1, CmdRange<RangeBy::kAuto, Direction::kAuto, false>,
            "Members of a sorted set within a range of ranks, scores or lexicographical order.",
            "1.2.0", kRangeCost, "@read @sortedset @slow"));
  t.Add(Row("zrangestore", -5, kWriteFlags, 1, 2, 1,
            CmdRange<RangeBy::kAuto, Direction::kAuto, true>,
            "Store a range of members of a sorted set in another key.", "6.2.0",
            "O(log(N)+M) with N being the number of elements in the sorted set and M the number "
            "of elements stored into the destination key.",
            "@write @sortedset @slow"));
  t.Add(Row("zrangebyscore", -4, kReadOnly, 1, 1, 1,
            CmdRange<RangeBy::kScore, Direction::kForward, false>,
            "Members of a sorted set within a range of scores.", "1.0.5", kRangeCost,
            "@read @sortedset @slow"));
  t.Add(Row("zrevrangebyscore", -4, kReadOnly, 1, 1, 1,
            CmdRange<RangeBy::kScore, Direction::kReverse, false>,
            "Members of a sorted set within a range of scores, highest first.", "2.2.0", kRangeCost,
            "@read @sortedset @slow"));
  t.Add(Row("zrangebylex", -4, kReadOnly, 1, 1, 1,
            CmdRange<RangeBy::kLex, Direction::kForward, false>,
            "Members of a sorted set within a lexicographical range.", "2.8.9", kRangeCost,
            "@read @sortedset @slow"));
  t.Add(Row("zrevrangebylex", -4, kReadOnly, 1, 1, 1,
            CmdRange<RangeBy::kLex, Direction::kReverse, false>,
            "Members of a sorted set within a lexicographical range, in reverse order.", "2.8.9",
            kRangeCost, "@read @sortedset @slow"));
  t.Add(Row("zrevrange", -4, kReadOnly, 1, 1, 1,
            CmdRange<RangeBy::kRank, Direction::kReverse, false>,
            "Members of a sorted set within a range of ranks, highest score first.", "1.2.0",
            kRangeCost, "@read @sortedset @slow"));
  t.Add(Row("zremrangebyrank", 4, kWrite, 1, 1, 1, CmdZRemRangeByRank,
            "Remove the members within a range of ranks.", "2.0.0", kRemoveRangeCost,
            "@write @sortedset @slow"));
  t.Add(Row("zremrangebyscore", 4, kWrite, 1, 1, 1, CmdZRemRangeByScore,
            "Remove the members within a range of scores.", "1.2.0", kRemoveRangeCost,
            "@write @sortedset @slow"));
  t.Add(Row("zremrangebylex", 4, kWrite, 1, 1, 1, CmdZRemRangeByLex,
            "Remove the members within a lexicographical range.", "2.8.9", kRemoveRangeCost,
            "@write @sortedset @slow"));
  t.Add(Row("zpopmin", -2, kWrite | kFast, 1, 1, 1, CmdZPop<false>,
            "Remove and return the members with the lowest scores.", "5.0.0",
            "O(log(N)*M) with N being the number of elements in the sorted set, and M being the "
            "number of elements popped.",
            "@write @sortedset @fast"));
  t.Add(Row("zpopmax", -2, kWrite | kFast, 1, 1, 1, CmdZPop<true>,
            "Remove and return the members with the highest scores.", "5.0.0",
            "O(log(N)*M) with N being the number of elements in the sorted set, and M being the "
            "number of elements popped.",
            "@write @sortedset @fast"));
  t.Add(Row("zmpop", -4, kWrite, CmdZMPop,
            "Remove and return members with the lowest or highest scores from the first "
            "non-empty sorted set.",
            "7.0.0",
            "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of "
            "elements in the sorted set, and M being the number of elements popped.",
            "@write @sortedset @slow"))
      .keys = PlanCountedKeys<1>;
  t.Add(Row("bzpopmin", -3, kWrite | kFast | kBlocking, 1, -2, 1, CmdBZPop<false>,
            "Remove and return the member with the lowest score from the first non-empty sorted "
            "set, waiting for one when all are empty.",
            "5.0.0", "O(log(N)) with N being the number of elements in the sorted set.",
            "@write @sortedset @fast @blocking"));
  t.Add(Row("bzpopmax", -3, kWrite | kFast | kBlocking, 1, -2, 1, CmdBZPop<true>,
            "Remove and return the member with the highest score from the first non-empty "
            "sorted set, waiting for one when all are empty.",
            "5.0.0", "O(log(N)) with N being the number of elements in the sorted set.",
            "@write @sortedset @fast @blocking"));
  t.Add(Row("bzmpop", -5, kWrite | kBlocking, CmdBZMPop,
            "Remove and return members with the lowest or highest scores from the first "
            "non-empty sorted set, waiting for one when all are empty.",
            "7.0.0",
            "O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of "
            "elements in the sorted set, and M being the number of elements popped.",
            "@write @sortedset @slow @blocking"))
      .keys = PlanCountedKeys<2>;
  t.Add(Row("zrandmember", -2, kReadOnly, 1, 1, 1, CmdZRandMember,
            "Random members of a sorted set, optionally with their scores.", "6.2.0",
            "O(N) where N is the number of members returned", "@read @sortedset @slow"));
  t.Add(Row("zunion", -3, kReadOnly, CmdZAlgebra<ZOp::kUnion>,
            "The union of sorted sets (and sets), scores weighted and aggregated.", "6.2.0",
            kUnionCost, "@read @sortedset @slow"))
      .keys = PlanCountedKeys<1>;
  t.Add(Row("zinter", -3, kReadOnly, CmdZAlgebra<ZOp::kInter>,
            "The intersection of sorted sets (and sets), scores weighted and aggregated.", "6.2.0",
            kInterCost, "@read @sortedset @slow"))
      .keys = PlanCountedKeys<1>;
  t.Add(Row("zdiff", -3, kReadOnly, CmdZAlgebra<ZOp::kDiff>,
            "The members of the first sorted set that are in none of the others.", "6.2.0",
            kDiffCost, "@read @sortedset @slow"))
      .keys = PlanCountedKeys<1>;
  t.Add(Row("zunionstore", -4, kWriteFlags, 1, 1, 1, CmdZAlgebraStore<ZOp::kUnion>,
            "Store the union of sorted sets (and sets) in a key.", "2.0.0", kUnionCost,
            "@write @sortedset @slow"))
      .keys = PlanCountedKeys<2>;
  t.Add(Row("zinterstore", -4, kWriteFlags, 1, 1, 1, CmdZAlgebraStore<ZOp::kInter>,
            "Store the intersection of sorted sets (and sets) in a key.", "2.0.0", kInterCost,
            "@write @sortedset @slow"))
      .keys = PlanCountedKeys<2>;
  t.Add(Row("zdiffstore", -4, kWriteFlags, 1, 1, 1, CmdZAlgebraStore<ZOp::kDiff>,
            "Store the difference of sorted sets in a key.", "6.2.0", kDiffCost,
            "@write @sortedset @slow"))
      .keys = PlanCountedKeys<2>;
  t.Add(Row("zintercard", -3, kReadOnly, CmdZInterCard,
            "The number of members common to every given sorted set, optionally capped.", "7.0.0",
            "O(N*K) worst case with N being the smallest input sorted set, K being the number "
            "of input sorted sets.",
            "@read @sortedset @slow"))
      .keys = PlanCountedKeys<1>;
  t.Add(Row("zscan", -3, kReadOnly, 1, 1, 1, CmdZScan,
            "Iterate over the members and scores of a sorted set with a cursor.", "2.8.0",
            "O(1) for every call. O(N) for a complete iteration.", "@read @sortedset @slow"));
}

}  // namespace sluice::server
