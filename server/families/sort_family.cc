// SORT and SORT_RO: the rows, their argument parser, their lock planner and
// thin handlers. The sorting is storage/sort_ops.h; STORE writes a list with
// storage::ListStore.
//
// Locks: a SORT whose BY or GET patterns name other keys (SortReadsOtherKeys)
// locks its whole database; otherwise its key and the STORE destination.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/arg_reader.h"
#include "protocol/errors.h"
#include "server/dispatch/command.h"
#include "server/dispatch/keyspace_access.h"
#include "server/dispatch/lock_planner.h"
#include "server/pubsub/keyspace_events.h"
#include "storage/list_ops.h"
#include "storage/sort_ops.h"

namespace sluice::server {
namespace {

namespace errors = protocol::errors;
using protocol::EqualsIgnoreCase;

enum class SortParse { kOk, kSyntax, kNotInteger };

// SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC]
// [ALPHA] [STORE destination], options in any order, the last of a kind
// winning; SORT_RO (`read_only`) knows no STORE. Stops at the first bad
// option, as Redis does.
SortParse ParseSortArgs(const protocol::CommandArgs& args, bool read_only,
                        storage::SortRequest* req, std::optional<std::string_view>* store) {
  for (size_t j = 2; j < args.size(); ++j) {
    const std::string_view opt = args[j];
    const size_t left = args.size() - j - 1;
    if (EqualsIgnoreCase(opt, "ASC")) {
      req->desc = false;
    } else if (EqualsIgnoreCase(opt, "DESC")) {
      req->desc = true;
    } else if (EqualsIgnoreCase(opt, "ALPHA")) {
      req->alpha = true;
    } else if (EqualsIgnoreCase(opt, "LIMIT") && left >= 2) {
      const std::optional<int64_t> offset = protocol::ParseInt64(args[j + 1]);
      const std::optional<int64_t> count = protocol::ParseInt64(args[j + 2]);
      if (!offset || !count) return SortParse::kNotInteger;
      req->limit_offset = *offset;
      req->limit_count = *count;
      j += 2;
    } else if (!read_only && EqualsIgnoreCase(opt, "STORE") && left >= 1) {
      *store = args[++j];
    } else if (EqualsIgnoreCase(opt, "BY") && left >= 1) {
      req->by = args[++j];
      if (!storage::SortPatternHasStar(*req->by)) req->dont_sort = true;
    } else if (EqualsIgnoreCase(opt, "GET") && left >= 1) {
      req->gets.push_back(args[++j]);
    } else {
      return SortParse::kSyntax;
    }
  }
  return SortParse::kOk;
}

// The row's planner: the whole database when patterns name other keys,
// and the STORE destination (arguments that do not parse plan nothing
// more: the handler replies the error).
template <bool kReadOnly>
void PlanSort(const protocol::CommandArgs& args, LockPlan& plan) {
  storage::SortRequest req;
  std::optional<std::string_view> store;
  if (ParseSortArgs(args, kReadOnly, &req, &store) != SortParse::kOk) return;
  if (storage::SortReadsOtherKeys(req)) plan.AddDb(plan.db);
  if (store) plan.AddKey(plan.db, *store);
}

template <bool kReadOnly>
void CmdSort(CommandContext& ctx) {
  storage::SortRequest req;
  std::optional<std::string_view> store;
  switch (ParseSortArgs(ctx.args, kReadOnly, &req, &store)) {
    case SortParse::kOk:
      break;
    case SortParse::kSyntax:
      return ctx.w.Error(errors::kSyntax);
    case SortParse::kNotInteger:
      return ctx.w.Error(errors::kNotInteger);
  }
  req.binary_alpha = store.has_value();
  req.order_unsorted_set = store.has_value() || ctx.from_script;
  storage::Result<storage::SortOutcome> r =
      storage::Sort(SelectedDb(ctx), ctx.arg(1), req, ctx.now_ms);
  if (!r.ok()) return ReplyStatus(ctx.w, r.status);
  if (r.value.bad_score) {
    return ctx.w.Error("ERR One or more scores can't be converted into double");
  }
  const std::vector<std::optional<std::string>>& values = r.value.values;
  if (!store) {
    ctx.w.ArrayHeader(values.size());
    for (const std::optional<std::string>& v : values) {
      if (v) {
        ctx.w.Bulk(*v);
      } else {
        ctx.w.Null();
      }
    }
    return;
  }
  // A list holds no nils: a GET that found nothing stores "".
  std::vector<std::string_view> list;
  list.reserve(values.size());
  for (const std::optional<std::string>& v : values) list.emplace_back(v ? *v : std::string_view());
  const std::string_view dst = *store;
  storage::Shard& shard = SelectedDb(ctx).ShardFor(dst);
  const bool created = AbsentForNewEvent(ctx, shard, dst);
  const bool existed = storage::ListStore(shard, dst, list, ctx.server.config().list_limits(),
                                          ctx.now_ms);
  if (list.empty()) {
    if (existed) ctx.KeyChanged(kNotifyGeneric, "del", dst);
  } else {
    if (created) ctx.KeyChanged(kNotifyNew, "new", dst);
    ctx.KeyChanged(kNotifyList, "sortstore", dst);
  }
  ctx.w.Integer(static_cast<int64_t>(list.size()));
}

constexpr FamilyRows Row("generic");

constexpr std::string_view kComplexity =
    "O(N + M log M): N elements read, M of them sorted and returned (O(N) unsorted)";

}  // namespace

void RegisterSortFamily(CommandTable& t) {
  t.Add(Row("sort", -2, kWrite | kDenyOom, 1, 1, 1, CmdSort<false>,
            "Sort the elements of a list, set or sorted set, optionally storing the result.",
            "1.0.0", kComplexity, "@write @set @sortedset @list @slow @dangerous"))
      .keys = PlanSort<false>;
  t.Add(Row("sort_ro", -2, kReadOnly, 1, 1, 1, CmdSort<true>,
            "Sort the elements of a list, set or sorted set (the read-only SORT).", "7.0.0",
            kComplexity, "@read @set @sortedset @list @slow @dangerous"))
      .keys = PlanSort<true>;
}

}  // namespace sluice::server
