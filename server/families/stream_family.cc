// Stream commands: XADD, XRANGE/XREVRANGE, XLEN, XDEL, XTRIM, XREAD (not
// blocking yet) and XINFO STREAM. Consumer groups are not here yet. Storage
// work is in storage/stream_ops.h; handlers parse, call, reply straight from
// the stream's nodes and record keyspace events.

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
#include "storage/stream_ops.h"

namespace sluice::server {
namespace {

namespace errors = protocol::errors;
using protocol::EqualsIgnoreCase;
using protocol::ParseInt64;
using storage::Entry;
using storage::Shard;
using storage::Stream;
using storage::StreamEntryView;
using storage::StreamId;
using storage::StreamTrim;

constexpr std::string_view kInvalidId =
    "ERR Invalid stream ID specified as stream command argument";

// "ms" or "ms-seq" (a missing seq is `missing_seq`). With `allow_star_seq`
// "ms-*" sets *star_seq. false on anything else.
bool ParseIdText(std::string_view text, uint64_t missing_seq, StreamId* out,
                 bool allow_star_seq = false, bool* star_seq = nullptr) {
  if (text.size() > 127) return false;
  const size_t dash = text.find('-');
  const std::optional<uint64_t> ms = storage::ParseStreamIdPart(text.substr(0, dash));
  if (!ms) return false;
  out->ms = *ms;
  if (dash == std::string_view::npos) {
    out->seq = missing_seq;
    return true;
  }
  const std::string_view seq_text = text.substr(dash + 1);
  if (allow_star_seq && seq_text == "*") {
    *star_seq = true;
    out->seq = 0;
    return true;
  }
  const std::optional<uint64_t> seq = storage::ParseStreamIdPart(seq_text);
  if (!seq) return false;
  out->seq = *seq;
  return true;
}

// A range bound: "-", "+", an ID or an incomplete one, "(" for exclusive.
bool ParseRangeBound(std::string_view text, uint64_t missing_seq, StreamId* out, bool* exclusive) {
  *exclusive = false;
  if (!text.empty() && text[0] == '(') {
    *exclusive = true;
    text.remove_prefix(1);
    return ParseIdText(text, missing_seq, out);
  }
  if (text == "-") {
    *out = StreamId::Min();
    return true;
  }
  if (text == "+") {
    *out = StreamId::Max();
    return true;
  }
  return ParseIdText(text, missing_seq, out);
}

// The stream at `key` for a read: false after replying WRONGTYPE; *out is
// nullptr when there is no such key.
bool ReadStream(CommandContext& ctx, std::string_view key, const Entry** out) {
  storage::Result<const Entry*> r =
      storage::FindStream(SelectedDb(ctx).ShardFor(key), key, ctx.now_ms);
  if (!r.ok()) {
    ReplyStatus(ctx.w, r.status);
    return false;
  }
  *out = r.value;
  return true;
}

void WriteId(protocol::ReplySink& w, StreamId id) { w.Bulk(id.ToString()); }

void WriteEntry(protocol::ReplySink& w, const StreamEntryView& e) {
  w.ArrayHeader(2);
  WriteId(w, e.id());
  w.ArrayHeader(e.pairs() * 2);
  e.ForEachPair([&](std::string_view field, std::string_view value) {
    w.Bulk(field);
    w.Bulk(value);
  });
}

// The entries of `s` in [start, end] (descending with `reverse`), at most
// `count` (0: all), as an array.
void WriteRange(protocol::ReplySink& w, const Stream& s, StreamId start, StreamId end, bool reverse,
                size_t count) {
  std::vector<StreamEntryView> found;
  s.Range(start, end, reverse, count, [&](const StreamEntryView& e) {
    found.push_back(e);
    return true;
  });
  w.ArrayHeader(found.size());
  for (const StreamEntryView& e : found) WriteEntry(w, e);
}

// MAXLEN's and LIMIT's numbers: false after replying the error.
bool ParseNonNegative(CommandContext& ctx, std::string_view arg, std::string_view negative_error,
                      uint64_t* out) {
  const std::optional<int64_t> n = ParseInt64(arg);
  if (!n) {
    ctx.w.Error(errors::kNotInteger);
    return false;
  }
  if (*n < 0) {
    ctx.w.Error(negative_error);
    return false;
  }
  *out = static_cast<uint64_t>(*n);
  return true;
}

// The trimming options of XADD (from index 2, stopping at the ID, whose
// index goes to *id_at) or XTRIM (every argument from 2). Replies the error
// and returns false on bad input.
bool ParseTrimArgs(CommandContext& ctx, bool xadd, StreamTrim* trim, bool* no_create,
                   size_t* id_at) {
  bool limit_given = false;
  size_t i = 2;
  for (; i < ctx.argc(); ++i) {
    const std::string_view opt = ctx.arg(i);
    const size_t more = ctx.argc() - 1 - i;
    const bool maxlen = EqualsIgnoreCase(opt, "MAXLEN");
    if (xadd && opt == "*") break;
    if ((maxlen || EqualsIgnoreCase(opt, "MINID")) && more > 0) {
      const StreamTrim::Kind kind = maxlen ? StreamTrim::Kind::kMaxLen : StreamTrim::Kind::kMinId;
      if (trim->kind != StreamTrim::Kind::kNone && trim->kind != kind) {
        ctx.w.Error(
            "ERR syntax error, MAXLEN and MINID options at the same time are not compatible");
        return false;
      }
      trim->kind = kind;
      const std::string_view next = ctx.arg(i + 1);
      trim->approx = false;
      if ((next == "~" || next == "=") && more >= 2) {
        trim->approx = next == "~";
        ++i;
      }
      ++i;
      if (maxlen) {
        if (!ParseNonNegative(ctx, ctx.arg(i), "ERR The MAXLEN argument must be >= 0.",
                              &trim->maxlen)) {
          return false;
        }
      } else if (!ParseIdText(ctx.arg(i), 0, &trim->min_id)) {
        ctx.w.Error(kInvalidId);
        return false;
      }
    } else if (EqualsIgnoreCase(opt, "LIMIT") && more > 0) {
      if (!ParseNonNegative(ctx, ctx.arg(++i), "ERR The LIMIT argument must be >= 0.",
                            &trim->limit)) {
        return false;
      }
      limit_given = true;
    } else if (xadd && EqualsIgnoreCase(opt, "NOMKSTREAM")) {
      *no_create = true;
    } else if (xadd) {
      break;  // the ID (checked by the caller)
    } else {
      ctx.w.Error(errors::kSyntax);
      return false;
    }
  }
  if (limit_given && trim->kind == StreamTrim::Kind::kNone) {
    ctx.w.Error("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy");
    return false;
  }
  if (limit_given && !trim->approx) {
    ctx.w.Error("ERR syntax error, LIMIT cannot be used without the special ~ option");
    return false;
  }
  if (trim->approx && !limit_given) trim->limit = storage::kDefaultTrimLimit;
  if (!trim->approx) trim->limit = 0;
  *id_at = i;
  return true;
}

// XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value ...
void CmdXAdd(CommandContext& ctx) {
  StreamTrim trim;
  bool no_create = false;
  size_t id_at = 0;
  if (!ParseTrimArgs(ctx, true, &trim, &no_create, &id_at)) return;
  // As in Redis: the ID is parsed, then the field count checked, then 0-0.
  storage::StreamAddId id;
  if (id_at < ctx.argc() && ctx.arg(id_at) != "*") {
    bool star_seq = false;
    if (!ParseIdText(ctx.arg(id_at), 0, &id.id, true, &star_seq)) return ctx.w.Error(kInvalidId);
    id.kind =
        star_seq ? storage::StreamAddId::Kind::kAutoSeq : storage::StreamAddId::Kind::kExplicit;
  }
  const size_t fields_at = id_at + 1;
  if (fields_at > ctx.argc() || ctx.argc() - fields_at < 2 || (ctx.argc() - fields_at) % 2 == 1) {
    return ctx.w.Error(errors::WrongArity("xadd"));
  }
  if (id.kind == storage::StreamAddId::Kind::kExplicit && id.id == StreamId::Min()) {
    return ctx.w.Error("ERR The ID specified in XADD must be greater than 0-0");
  }
  Shard& shard = KeyShard(ctx);
  const bool absent = AbsentForNewEvent(ctx, shard, ctx.arg(1));
  const std::vector<std::string_view> field_values = ArgsFrom(ctx, fields_at);
  auto r = storage::StreamAdd(shard, ctx.arg(1), id, field_values, no_create, trim, ctx.now_ms,
                              ctx.now_ms);
  if (!r.ok()) return ReplyStatus(ctx.w, r.status);
  using Error = storage::StreamAddOutcome::Error;
  switch (r.value.error) {
    case Error::kNone:
      break;
    case Error::kNoStream:
      return ctx.w.Null();
    case Error::kTooSmall:
      return ctx.w.Error(
          "ERR The ID specified in XADD is equal or smaller than the target stream top item");
    case Error::kExhausted:
      return ctx.w.Error(
          "ERR The stream has exhausted the last possible ID, unable to add more items");
    case Error::kSeqOverflow:
      return ctx.w.Error("ERR Elements are too large to be stored");
  }
  if (absent && r.value.created) ctx.KeyChanged(kNotifyNew, "new", ctx.arg(1));
  ctx.KeyChanged(kNotifyStream, "xadd", ctx.arg(1));
  if (r.value.trimmed > 0) ctx.KeyChanged(kNotifyStream, "xtrim", ctx.arg(1));
  WriteId(ctx.w, r.value.id);
}

// XRANGE key start end [COUNT n] / XREVRANGE key end start [COUNT n].
template <bool kReverse>
void CmdXRange(CommandContext& ctx) {
  const std::string_view start_text = ctx.arg(kReverse ? 3 : 2);
  const std::string_view end_text = ctx.arg(kReverse ? 2 : 3);
  StreamId start, end;
  bool start_ex, end_ex;
  if (!ParseRangeBound(start_text, 0, &start, &start_ex)) return ctx.w.Error(kInvalidId);
  if (start_ex && !start.Increment()) {
    return ctx.w.Error("ERR invalid start ID for the interval");
  }
  if (!ParseRangeBound(end_text, UINT64_MAX, &end, &end_ex)) return ctx.w.Error(kInvalidId);
  if (end_ex && !end.Decrement()) return ctx.w.Error("ERR invalid end ID for the interval");
  int64_t count = -1;
  for (size_t i = 4; i < ctx.argc(); ++i) {
    if (EqualsIgnoreCase(ctx.arg(i), "COUNT") && i + 1 < ctx.argc()) {
      const std::optional<int64_t> n = ParseInt64(ctx.arg(++i));
      if (!n) return ctx.w.Error(errors::kNotInteger);
      count = *n < 0 ? 0 : *n;
    } else {
      return ctx.w.Error(errors::kSyntax);
    }
  }
  const Entry* e;
  if (!ReadStream(ctx, ctx.arg(1), &e)) return;
  if (e == nullptr) return ctx.w.ArrayHeader(0);
  if (count == 0) return ctx.w.NullArray();  // as Redis answers COUNT 0 (or negative)
  WriteRange(ctx.w, storage::StreamOf(e), start, end, kReverse,
             count < 0 ? 0 : static_cast<size_t>(count));
}

void CmdXLen(CommandContext& ctx) {
  const Entry* e;
  if (!ReadStream(ctx, ctx.arg(1), &e)) return;
  ctx.w.Integer(e == nullptr ? 0 : static_cast<int64_t>(storage::StreamOf(e).size()));
}

// XDEL key id [id ...]: as in Redis, the key is looked at before the IDs.
void CmdXDel(CommandContext& ctx) {
  Shard& shard = KeyShard(ctx);
  auto f = storage::FindStream(shard, ctx.arg(1), ctx.now_ms, /*for_read=*/false);
  if (!f.ok()) return ReplyStatus(ctx.w, f.status);
  if (f.value == nullptr) return ctx.w.Integer(0);
  std::vector<StreamId> ids(ctx.argc() - 2);
  for (size_t i = 2; i < ctx.argc(); ++i) {
    if (!ParseIdText(ctx.arg(i), 0, &ids[i - 2])) return ctx.w.Error(kInvalidId);
  }
  auto r = storage::StreamDelete(shard, ctx.arg(1), ids, ctx.now_ms);
  if (!r.ok()) return ReplyStatus(ctx.w, r.status);
  if (r.value > 0) ctx.KeyChanged(kNotifyStream, "xdel", ctx.arg(1));
  ctx.w.Integer(static_cast<int64_t>(r.value));
}

// XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count].
void CmdXTrim(CommandContext& ctx) {
  StreamTrim trim;
  bool no_create = false;
  size_t id_at = 0;
  if (!ParseTrimArgs(ctx, false, &trim, &no_create, &id_at)) return;
  if (trim.kind == StreamTrim::Kind::kNone) return ctx.w.Error(errors::kSyntax);
  auto r = storage::StreamTrimKey(KeyShard(ctx), ctx.arg(1), trim, ctx.now_ms);
  if (!r.ok()) return ReplyStatus(ctx.w, r.status);
  if (r.value > 0) ctx.KeyChanged(kNotifyStream, "xtrim", ctx.arg(1));
  ctx.w.Integer(static_cast<int64_t>(r.value));
}

// XREAD's options: where the keys start and how many streams there are;
// false after replying the error.
bool ParseXRead(CommandContext& ctx, int64_t* count, bool* block, int64_t* block_ms,
                size_t* keys_at, size_t* streams) {
  for (size_t i = 1; i < ctx.argc(); ++i) {
    const std::string_view opt = ctx.arg(i);
    const bool more = i + 1 < ctx.argc();
    if (EqualsIgnoreCase(opt, "BLOCK") && more) {
      const std::optional<int64_t> ms = ParseInt64(ctx.arg(++i));
      if (!ms) {
        ctx.w.Error("ERR timeout is not an integer or out of range");
        return false;
      }
      if (*ms < 0) {
        ctx.w.Error("ERR timeout is negative");
        return false;
      }
      *block = true;
      *block_ms = *ms;
    } else if (EqualsIgnoreCase(opt, "COUNT") && more) {
      const std::optional<int64_t> n = ParseInt64(ctx.arg(++i));
      if (!n) {
        ctx.w.Error(errors::kNotInteger);
        return false;
      }
      *count = *n < 0 ? 0 : *n;
    } else if (EqualsIgnoreCase(opt, "STREAMS") && more) {
      const size_t rest = ctx.argc() - i - 1;
      if (rest % 2 != 0) {
        ctx.w.Error(
            "ERR Unbalanced 'xread' list of streams: for each stream key an ID or '$' must be "
            "specified.");
        return false;
      }
      *keys_at = i + 1;
      *streams = rest / 2;
      return true;
    } else {
      ctx.w.Error(errors::kSyntax);
      return false;
    }
  }
  ctx.w.Error(errors::kSyntax);
  return false;
}

// XREAD [COUNT n] [BLOCK ms] STREAMS key [key ...] id [id ...]. With BLOCK
// and nothing to read, the client waits on the keys (BLOCK 0: forever; inside
// MULTI or a script it answers nil at once); a retry reads after the IDs the
// first run resolved `$` to (ClientState::block_notes).
void CmdXRead(CommandContext& ctx) {
  int64_t count = 0, block_ms = 0;
  bool block = false;
  size_t keys_at = 0, streams = 0;
  if (!ParseXRead(ctx, &count, &block, &block_ms, &keys_at, &streams)) return;
  const bool retry = block && ctx.Retrying();
  std::vector<std::string>& notes = ctx.client.block_notes();
  struct Source {
    const Entry* entry;
    StreamId after;
  };
  std::vector<Source> sources(streams);
  for (size_t k = 0; k < streams; ++k) {
    const Entry* e;
    const std::string_view key = ctx.arg(keys_at + k);
    if (retry) {
      // While waiting, a key of another type reads as empty (as for BLPOP).
      storage::Result<const Entry*> r =
          storage::FindStream(SelectedDb(ctx).ShardFor(key), key, ctx.now_ms);
      e = r.ok() ? r.value : nullptr;
    } else if (!ReadStream(ctx, key, &e)) {
      return;
    }
    const std::string_view id_text = ctx.arg(keys_at + streams + k);
    sources[k].entry = e;
    if (id_text == "$" && retry && k < notes.size()) {
      ParseIdText(notes[k], 0, &sources[k].after);
    } else if (id_text == "$") {
      sources[k].after = e != nullptr ? storage::StreamOf(e).last_id() : StreamId::Min();
    } else if (id_text == ">") {
      return ctx.w.Error(
          "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> "
          "<consumer> option.");
    } else if (!ParseIdText(id_text, 0, &sources[k].after)) {
      return ctx.w.Error(kInvalidId);
    }
  }
  size_t ready = 0;
  for (Source& s : sources) {
    StreamId from = s.after;
    if (s.entry == nullptr || storage::StreamOf(s.entry).last_id() <= s.after ||
        !from.Increment()) {
      s.entry = nullptr;
      continue;
    }
    bool any = false;
    storage::StreamOf(s.entry).Range(from, StreamId::Max(), false, 1, [&](const StreamEntryView&) {
      any = true;
      return false;
    });
    if (!any) {
      s.entry = nullptr;
      continue;
    }
    ++ready;
  }
  if (ready == 0) {
    if (block) {
      int64_t deadline = 0;
      if (block_ms > 0) {
        if (block_ms > std::numeric_limits<int64_t>::max() - ctx.now_ms) {
          return ctx.w.Error("ERR timeout is out of range");
        }
        deadline = ctx.now_ms + block_ms;
      }
      if (!retry) {
        notes.clear();
        for (const Source& s : sources) notes.push_back(s.after.ToString());
      }
      std::vector<std::string_view> keys;
      for (size_t k = 0; k < streams; ++k) keys.push_back(ctx.arg(keys_at + k));
      if (ctx.Block(keys, deadline)) return;
    }
    return ctx.w.NullArray();
  }
  if (ctx.w.resp3()) {
    ctx.w.MapHeader(ready);
  } else {
    ctx.w.ArrayHeader(ready);
  }
  for (size_t k = 0; k < streams; ++k) {
    const Source& s = sources[k];
    if (s.entry == nullptr) continue;
    if (!ctx.w.resp3()) ctx.w.ArrayHeader(2);
    ctx.w.Bulk(ctx.arg(keys_at + k));
    StreamId from = s.after;
    from.Increment();
    WriteRange(ctx.w, storage::StreamOf(s.entry), from, StreamId::Max(), false,
               static_cast<size_t>(count));
  }
}

// XREAD's keys: the first half of the arguments after STREAMS.
void PlanXReadKeys(const protocol::CommandArgs& args, LockPlan& plan) {
  for (size_t i = 1; i < args.size(); ++i) {
    if (!EqualsIgnoreCase(args[i], "STREAMS")) {
      if (EqualsIgnoreCase(args[i], "COUNT") || EqualsIgnoreCase(args[i], "BLOCK")) ++i;
      continue;
    }
    const size_t rest = args.size() - i - 1;
    if (rest == 0 || rest % 2 != 0) return;
    for (size_t k = 0; k < rest / 2; ++k) plan.AddKey(plan.db, args[i + 1 + k]);
    return;
  }
}

// XINFO STREAM key [FULL [COUNT n]].
void CmdXInfoStream(CommandContext& ctx) {
  bool full = false;
  int64_t count = 10;
  if (ctx.argc() > 3) {
    if (!EqualsIgnoreCase(ctx.arg(3), "FULL")) {
      return ctx.w.Error("ERR unknown subcommand or wrong number of arguments for '" +
                         std::string(ctx.arg(1)) + "'. Try XINFO HELP.");
    }
    full = true;
    if (ctx.argc() == 6 && EqualsIgnoreCase(ctx.arg(4), "COUNT")) {
      const std::optional<int64_t> n = ParseInt64(ctx.arg(5));
      if (!n) return ctx.w.Error(errors::kNotInteger);
      count = *n < 0 ? 0 : *n;
    } else if (ctx.argc() != 4) {
      return ctx.w.Error(errors::kSyntax);
    }
  }
  const Entry* e;
  if (!ReadStream(ctx, ctx.arg(2), &e)) return;
  if (e == nullptr) return ctx.w.Error(errors::kNoSuchKey);
  const Stream& s = storage::StreamOf(e);
  ctx.w.MapHeader(full ? 9 : 10);
  ctx.w.Bulk("length");
  ctx.w.Integer(static_cast<int64_t>(s.size()));
  ctx.w.Bulk("radix-tree-keys");
  ctx.w.Integer(static_cast<int64_t>(s.node_count()));
  ctx.w.Bulk("radix-tree-nodes");
  ctx.w.Integer(static_cast<int64_t>(s.node_count() + 1));
  ctx.w.Bulk("last-generated-id");
  WriteId(ctx.w, s.last_id());
  ctx.w.Bulk("max-deleted-entry-id");
  WriteId(ctx.w, s.max_deleted_id());
  ctx.w.Bulk("entries-added");
  ctx.w.Integer(static_cast<int64_t>(s.entries_added()));
  ctx.w.Bulk("recorded-first-entry-id");
  WriteId(ctx.w, s.first_id());
  if (full) {
    ctx.w.Bulk("entries");
    WriteRange(ctx.w, s, StreamId::Min(), StreamId::Max(), false, static_cast<size_t>(count));
    ctx.w.Bulk("groups");
    ctx.w.ArrayHeader(0);
    return;
  }
  ctx.w.Bulk("groups");
  ctx.w.Integer(0);
  for (const bool last : {false, true}) {
    ctx.w.Bulk(last ? "last-entry" : "first-entry");
    const std::optional<StreamEntryView> edge = last ? s.Last() : s.First();
    if (edge) {
      WriteEntry(ctx.w, *edge);
    } else {
      ctx.w.Null();
    }
  }
}

// XINFO GROUPS key: consumer groups are not supported yet, so a stream has none.
void CmdXInfoGroups(CommandContext& ctx) {
  const Entry* e;
  if (!ReadStream(ctx, ctx.arg(2), &e)) return;
  if (e == nullptr) return ctx.w.Error(errors::kNoSuchKey);
  ctx.w.ArrayHeader(0);
}

void CmdXInfoHelp(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "GROUPS <key>",
      "    The consumer groups of the stream at <key> (none: groups are not supported yet).",
      "STREAM <key> [FULL [COUNT <count>]]",
      "    Information about the stream at <key>; FULL also lists up to <count> entries",
      "    (10 by default, 0 for all).",
      "HELP",
      "    Print this help.",
  };
  WriteHelp(ctx.w, kLines);
}

constexpr FamilyRows Row("stream");

}  // namespace

void RegisterStreamFamily(CommandTable& t) {
  t.Add(Row("xadd", -5, kWrite | kDenyOom | kFast, 1, 1, 1, CmdXAdd,
            "Append an entry to a stream, creating it if needed; returns the entry's ID.", "5.0.0",
            "O(1) when adding a new entry, O(N) when trimming where N being the number of "
            "entries evicted.",
            "@write @stream @fast"));
  t.Add(Row("xrange", -4, kReadOnly, 1, 1, 1, CmdXRange<false>,
            "The entries of a stream within a range of IDs.", "5.0.0",
            "O(N) with N being the number of elements being returned. If N is constant (e.g. "
            "always asking for the first 10 elements with COUNT), you can consider it O(1).",
            "@read @stream @slow"));
  t.Add(Row("xrevrange", -4, kReadOnly, 1, 1, 1, CmdXRange<true>,
            "The entries of a stream within a range of IDs, in reverse order.", "5.0.0",
            "O(N) with N being the number of elements returned. If N is constant (e.g. always "
            "asking for the first 10 elements with COUNT), you can consider it O(1).",
            "@read @stream @slow"));
  t.Add(Row("xlen", 2, kReadOnly | kFast, 1, 1, 1, CmdXLen, "The number of entries of a stream.",
            "5.0.0", "O(1)", "@read @stream @fast"));
  t.Add(Row("xdel", -3, kWrite | kFast, 1, 1, 1, CmdXDel,
            "Delete entries of a stream by ID; returns how many were deleted.", "5.0.0",
            "O(1) for each single item to delete in the stream, regardless of the stream size.",
            "@write @stream @fast"));
  t.Add(Row("xtrim", -4, kWrite, 1, 1, 1, CmdXTrim,
            "Delete a stream's oldest entries, down to a length or below an ID.", "5.0.0",
            "O(N), with N being the number of evicted entries. Constant times are very small "
            "however, since entries are organized in macro nodes containing multiple entries "
            "that can be released with a single deallocation.",
            "@write @stream @slow"));
  t.Add(Row("xread", -4, kReadOnly | kBlocking, CmdXRead,
            "Read the entries of one or more streams after given IDs, optionally waiting.", "5.0.0",
            "For each stream mentioned: O(N) with N being the number of elements being "
            "returned, it means that XREAD-ing with a fixed COUNT is O(1). Note that when the "
            "BLOCK option is used, XADD will pay O(M) time in order to serve the M clients "
            "blocked on the stream getting new data.",
            "@read @stream @slow @blocking"))
      .keys = PlanXReadKeys;
  CommandSpec& xinfo = t.Add(Row("xinfo", -2, 0, nullptr, "Information about streams.", "5.0.0",
                                 "Depends on subcommand.", "@slow"));
  t.AddSubcommand(
      xinfo, Row("stream", -3, kReadOnly, 2, 2, 1, CmdXInfoStream, "Information about a stream.",
                 "5.0.0", "O(1)", "@read @stream @slow"));
  t.AddSubcommand(xinfo,
                  Row("groups", 3, kReadOnly, 2, 2, 1, CmdXInfoGroups,
                      "The consumer groups of a stream.", "5.0.0", "O(1)", "@read @stream @slow"));
  t.AddSubcommand(xinfo, Row("help", 2, kLoading | kStale, 0, 0, 0, CmdXInfoHelp,
                             "Show helpful text about the different subcommands.", "5.0.0", "O(1)",
                             "@stream @slow"));
}

}  // namespace sluice::server
