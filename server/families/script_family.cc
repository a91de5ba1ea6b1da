// Scripting commands: EVAL, EVALSHA, their read-only variants, SCRIPT LOAD /
// EXISTS / FLUSH / KILL / HELP, and FUNCTION FLUSH (sluice has no function
// libraries, so there is nothing to flush). The engine is server/scripting.h.

#include "common/strings.h"
#include "protocol/arg_reader.h"
#include "protocol/errors.h"
#include "server/dispatch/command.h"
#include "server/dispatch/lock_planner.h"
#include "server/process/server.h"
#include "server/scripting/scripting.h"
#include "server/scripting/sha1.h"

namespace sluice::server {
namespace {

using protocol::EqualsIgnoreCase;

template <bool kBySha, bool kReadOnly>
void CmdEval(CommandContext& ctx) {
  ctx.server.scripts().Eval(ctx, kBySha, kReadOnly);
}

// The rows' lock planner: the declared keys (numkeys), and the scope the
// script learned it needs (its database, or every one) when it touched keys
// it did not declare. A script is named by the SHA-1 of its body; working
// that out costs nothing until some script has learned a scope.
template <bool kBySha>
void PlanScript(const protocol::CommandArgs& args, LockPlan& plan) {
  PlanCountedKeys<2>(args, plan);
  if (plan.scripts == nullptr || plan.scripts->size() == 0) return;
  plan.AddScope(plan.scripts->Get(kBySha ? AsciiLower(args[1]) : Sha1Hex(args[1])));
}

void CmdScriptLoad(CommandContext& ctx) { ctx.server.scripts().Load(ctx, ctx.arg(2)); }

void CmdScriptExists(CommandContext& ctx) {
  ctx.w.ArrayHeader(ctx.argc() - 2);
  for (size_t i = 2; i < ctx.argc(); ++i) {
    ctx.w.Integer(ctx.server.scripts().Exists(ctx.arg(i)) ? 1 : 0);
  }
}

// [ASYNC|SYNC]: both flush at once (the cache is small).
bool FlushModeValid(CommandContext& ctx) {
  if (ctx.argc() == 2) return true;
  return ctx.argc() == 3 &&
         (EqualsIgnoreCase(ctx.arg(2), "ASYNC") || EqualsIgnoreCase(ctx.arg(2), "SYNC"));
}

void CmdScriptFlush(CommandContext& ctx) {
  if (!FlushModeValid(ctx)) return ctx.w.Error("ERR SCRIPT FLUSH only support SYNC|ASYNC option");
  ctx.server.scripts().Flush();
  ctx.w.Ok();
}

void CmdScriptKill(CommandContext& ctx) {
  switch (ctx.server.scripts().Kill(ctx.now_ms)) {
    case ScriptEngine::KillOutcome::kKilled:
      return ctx.w.Ok();
    case ScriptEngine::KillOutcome::kNotBusy:
      return ctx.w.Error("NOTBUSY No scripts in execution right now.");
    case ScriptEngine::KillOutcome::kUnkillable:
      return ctx.w.Error(
          "UNKILLABLE Sorry the script already executed write commands against the dataset. You "
          "can either wait the script termination or kill the server in a hard way using the "
          "SHUTDOWN NOSAVE command.");
  }
}

void CmdScriptHelp(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "EXISTS <sha1> [<sha1> ...]",
      "    Tell, for each SHA1, whether a script with that digest is cached.",
      "FLUSH [ASYNC|SYNC]",
      "    Forget every cached script (both modes flush at once).",
      "KILL",
      "    Stop the scripts running for longer than busy-reply-threshold that have not",
      "    written yet.",
      "LOAD <script>",
      "    Compile and cache a script without running it; replies its SHA1.",
      "HELP",
      "    Print this help.",
  };
  WriteHelp(ctx.w, kLines);
}

void CmdFunctionFlush(CommandContext& ctx) {
  if (!FlushModeValid(ctx)) {
    return ctx.w.Error("ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
  }
  ctx.w.Ok();
}

constexpr std::string_view kAcl = "@slow @scripting";

CommandSpec Row(std::string name, int arity, uint32_t flags, CommandHandler h,
                std::string_view summary, std::string_view since, std::string_view complexity) {
  return CommandSpec{std::move(name),
                     arity,
                     flags,
                     0,
                     0,
                     0,
                     h,
                     CommandDoc{summary, since, "scripting", complexity},
                     kAcl,
                     {}};
}

}  // namespace

void RegisterScriptFamily(CommandTable& t) {
  // The declared keys (numkeys), or the scope learned for the script, are
  // locked before the script starts: PlanScript is the rows' lock planner.
  constexpr uint32_t kEval = kNoScript | kStale | kSkipMonitor;
  constexpr std::string_view kDepends = "Depends on the script that is executed.";
  t.Add(Row("eval", -3, kEval, CmdEval<false, false>,
            "Run a Lua script on the server, atomically, with its keys and arguments.", "2.6.0",
            kDepends))
      .keys = PlanScript<false>;
  t.Add(Row("evalsha", -3, kEval, CmdEval<true, false>,
            "Run a cached Lua script, named by the SHA1 of its text.", "2.6.0", kDepends))
      .keys = PlanScript<true>;
  t.Add(Row("eval_ro", -3, kEval | kReadOnly, CmdEval<false, true>,
            "Run a Lua script that may only read.", "7.0.0", kDepends))
      .keys = PlanScript<false>;
  t.Add(Row("evalsha_ro", -3, kEval | kReadOnly, CmdEval<true, true>,
            "Run a cached Lua script that may only read.", "7.0.0", kDepends))
      .keys = PlanScript<true>;

  CommandSpec& script = t.Add(Row("script", -2, 0, nullptr, "Manage the Lua script cache.", "2.6.0",
                                  "Depends on subcommand."));
  t.AddSubcommand(script, Row("load", 3, kNoScript | kStale, CmdScriptLoad,
                              "Compile and cache a script without running it.", "2.6.0",
                              "O(N) with N the length in bytes of the script body."));
  t.AddSubcommand(script, Row("exists", -3, kNoScript, CmdScriptExists,
                              "Tell whether scripts are in the cache.", "2.6.0",
                              "O(N) with N the number of scripts to check."));
  t.AddSubcommand(script,
                  Row("flush", -2, kNoScript, CmdScriptFlush, "Remove every script from the cache.",
                      "2.6.0", "O(N) with N the number of scripts in cache."));
  t.AddSubcommand(script, Row("kill", 2, kNoScript | kAllowBusy, CmdScriptKill,
                              "Stop the busy scripts that have not written.", "2.6.0", "O(1)"));
  t.AddSubcommand(script, Row("help", 2, kLoading | kStale, CmdScriptHelp,
                              "Show SCRIPT's subcommands.", "5.0.0", "O(1)"));

  CommandSpec& function =
      t.Add(Row("function", -2, 0, nullptr, "Manage function libraries (sluice has none).", "7.0.0",
                "Depends on subcommand."));
  t.AddSubcommand(function,
                  Row("flush", -2, kNoScript | kWrite, CmdFunctionFlush,
                      "Remove every function library (there are none: a no-op).", "7.0.0", "O(1)"));
}

}  // namespace sluice::server
