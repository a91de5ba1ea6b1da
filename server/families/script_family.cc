// Scripting commands: EVAL, EVALSHA, their read-only variants, SCRIPT LOAD /
// EXISTS / FLUSH / KILL / HELP; FCALL, FCALL_RO and FUNCTION LOAD / DELETE /
// FLUSH / LIST / DUMP / RESTORE / STATS / KILL / HELP. The engine is
// server/scripting/scripting.h, the libraries server/scripting/functions.h.

#include <optional>
#include <string>
#include <vector>

#include "common/strings.h"
#include "protocol/arg_reader.h"
#include "protocol/errors.h"
#include "server/dispatch/command.h"
#include "server/dispatch/lock_planner.h"
#include "server/process/server.h"
#include "server/scripting/scripting.h"
#include "server/scripting/sha1.h"
#include "storage/clock.h"
#include "persistence/dump_payload.h"
#include "storage/glob.h"

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

// FCALL's rows: the declared keys, and the scope the function learned (as
// PlanScript, by the function's identity in scopes()).
void PlanFunction(const protocol::CommandArgs& args, LockPlan& plan) {
  PlanCountedKeys<2>(args, plan);
  if (plan.scripts == nullptr || plan.scripts->size() == 0) return;
  plan.AddScope(plan.scripts->Get(FunctionScopeId(args[1])));
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

// SCRIPT KILL (functions false) and FUNCTION KILL (true).
template <bool kFunctions>
void CmdKill(CommandContext& ctx) {
  switch (ctx.server.scripts().Kill(ctx.now_ms, kFunctions)) {
    case ScriptEngine::KillOutcome::kKilled:
      return ctx.w.Ok();
    case ScriptEngine::KillOutcome::kNotBusy:
      return ctx.w.Error("NOTBUSY No scripts in execution right now.");
    case ScriptEngine::KillOutcome::kOtherKind:
      // Only the other KILL can stop what runs.
      return ctx.w.Error(kFunctions ? protocol::errors::kBusyScript
                                    : protocol::errors::kBusyFunction);
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

// ---- functions ----------------------------------------------------------------

// "ERR unknown subcommand or wrong number of arguments for 'flush'. Try
// FUNCTION HELP." (Redis's reply to extra arguments).
void SubcommandSyntaxError(CommandContext& ctx) {
  ctx.w.Error(StrCat("ERR unknown subcommand or wrong number of arguments for '",
                     protocol::errors::UserText(ctx.arg(1)), "'. Try FUNCTION HELP."));
}

template <bool kReadOnly>
void CmdFcall(CommandContext& ctx) {
  ctx.server.scripts().Fcall(ctx, kReadOnly);
}

// FUNCTION LOAD [REPLACE] code: the options come before the code.
void CmdFunctionLoad(CommandContext& ctx) {
  bool replace = false;
  for (size_t i = 2; i + 1 < ctx.argc(); ++i) {
    if (!EqualsIgnoreCase(ctx.arg(i), "REPLACE")) {
      return ctx.w.Error(
          StrCat("ERR Unknown option given: ", protocol::errors::UserText(ctx.arg(i))));
    }
    replace = true;
  }
  ctx.server.scripts().FunctionLoad(ctx, ctx.arg(ctx.argc() - 1), replace);
}

void CmdFunctionDelete(CommandContext& ctx) {
  if (!ctx.server.scripts().functions().Delete(ctx.arg(2))) {
    return ctx.w.Error("ERR Library not found");
  }
  ctx.w.Ok();
}

void CmdFunctionFlush(CommandContext& ctx) {
  if (ctx.argc() > 3) return SubcommandSyntaxError(ctx);
  if (!FlushModeValid(ctx)) {
    return ctx.w.Error("ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
  }
  ctx.server.scripts().functions().Flush();
  ctx.w.Ok();
}

void WriteFunction(protocol::ReplySink& w, const FunctionInfo& f) {
  w.MapHeader(3);
  w.Bulk("name");
  w.Bulk(f.name);
  w.Bulk("description");
  if (f.description) {
    w.Bulk(*f.description);
  } else {
    w.Null();
  }
  w.Bulk("flags");
  size_t n = 0;
  for (const FunctionFlagName& flag : kFunctionFlagNames) n += (f.flags & flag.flag) ? 1 : 0;
  w.SetHeader(n);
  for (const FunctionFlagName& flag : kFunctionFlagNames) {
    if (f.flags & flag.flag) w.SimpleString(flag.name);  // status replies, as Redis
  }
}

// FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE], libraries in name order.
void CmdFunctionList(CommandContext& ctx) {
  bool with_code = false;
  std::optional<std::string_view> pattern;
  for (size_t i = 2; i < ctx.argc(); ++i) {
    if (!with_code && EqualsIgnoreCase(ctx.arg(i), "WITHCODE")) {
      with_code = true;
    } else if (!pattern && EqualsIgnoreCase(ctx.arg(i), "LIBRARYNAME")) {
      if (++i == ctx.argc()) return ctx.w.Error("ERR library name argument was not given");
      pattern = ctx.arg(i);
    } else {
      return ctx.w.Error(StrCat("ERR Unknown argument ", protocol::errors::UserText(ctx.arg(i))));
    }
  }
  std::vector<FunctionLibraries::LibraryPtr> libs = ctx.server.scripts().functions().All();
  if (pattern) {
    std::erase_if(libs, [&](const FunctionLibraries::LibraryPtr& lib) {
      return !storage::GlobMatch(*pattern, lib->name, /*nocase=*/true);
    });
  }
  ctx.w.ArrayHeader(libs.size());
  for (const FunctionLibraries::LibraryPtr& lib : libs) {
    ctx.w.MapHeader(with_code ? 4 : 3);
    ctx.w.Bulk("library_name");
    ctx.w.Bulk(lib->name);
    ctx.w.Bulk("engine");
    ctx.w.Bulk("LUA");
    ctx.w.Bulk("functions");
    ctx.w.ArrayHeader(lib->functions.size());
    for (const FunctionInfo& f : lib->functions) WriteFunction(ctx.w, f);
    if (with_code) {
      ctx.w.Bulk("library_code");
      ctx.w.Bulk(lib->code);
    }
  }
}

void CmdFunctionDump(CommandContext& ctx) {
  const std::vector<FunctionLibraries::LibraryPtr> libs = ctx.server.scripts().functions().All();
  std::vector<std::string_view> codes;
  codes.reserve(libs.size());
  for (const FunctionLibraries::LibraryPtr& lib : libs) codes.push_back(lib->code);
  ctx.w.Bulk(persistence::EncodeFunctionsPayload(codes));
}

// FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE] (APPEND by default).
void CmdFunctionRestore(CommandContext& ctx) {
  if (ctx.argc() > 4) return SubcommandSyntaxError(ctx);
  RestorePolicy policy = RestorePolicy::kAppend;
  if (ctx.argc() == 4) {
    if (EqualsIgnoreCase(ctx.arg(3), "FLUSH")) {
      policy = RestorePolicy::kFlush;
    } else if (EqualsIgnoreCase(ctx.arg(3), "REPLACE")) {
      policy = RestorePolicy::kReplace;
    } else if (!EqualsIgnoreCase(ctx.arg(3), "APPEND")) {
      return ctx.w.Error(
          "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.");
    }
  }
  ctx.server.scripts().FunctionRestore(ctx, ctx.arg(2), policy);
}

// FUNCTION STATS: the running function (or null) and the engine's counts.
void CmdFunctionStats(CommandContext& ctx) {
  ScriptEngine& scripts = ctx.server.scripts();
  ctx.w.MapHeader(2);
  ctx.w.Bulk("running_script");
  ScriptEngine::RunningFunction running;
  if (scripts.FindRunningFunction(storage::NowMs(), &running)) {
    ctx.w.MapHeader(3);
    ctx.w.Bulk("name");
    ctx.w.Bulk(running.name);
    ctx.w.Bulk("command");
    ctx.w.ArrayHeader(running.command.size());
    for (const std::string& arg : running.command) ctx.w.Bulk(arg);
    ctx.w.Bulk("duration_ms");
    ctx.w.Integer(running.duration_ms);
  } else {
    ctx.w.Null();
  }
  ctx.w.Bulk("engines");
  ctx.w.MapHeader(1);
  ctx.w.Bulk("LUA");
  ctx.w.MapHeader(2);
  ctx.w.Bulk("libraries_count");
  ctx.w.Integer(static_cast<int64_t>(scripts.functions().library_count()));
  ctx.w.Bulk("functions_count");
  ctx.w.Integer(static_cast<int64_t>(scripts.functions().function_count()));
}

void CmdFunctionHelp(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "LOAD [REPLACE] <library code>",
      "    Register the library whose code starts with '#!lua name=<library>'; its code",
      "    registers functions with redis.register_function(). REPLACE replaces a",
      "    library of the same name.",
      "DELETE <library name>",
      "    Remove a library and its functions.",
      "LIST [LIBRARYNAME <pattern>] [WITHCODE]",
      "    Describe the libraries (those whose name matches the pattern): their name,",
      "    engine and functions (name, description, flags), and their code with WITHCODE.",
      "STATS",
      "    The function running now (if any) and the number of libraries and functions.",
      "KILL",
      "    Stop the running function if it has not written yet.",
      "FLUSH [ASYNC|SYNC]",
      "    Remove every library (both modes remove them at once).",
      "DUMP",
      "    A payload holding every library, for FUNCTION RESTORE (Redis's format).",
      "RESTORE <payload> [FLUSH|APPEND|REPLACE]",
      "    Register the payload's libraries: FLUSH removes the current ones first;",
      "    APPEND (the default) fails when a library exists; REPLACE replaces them.",
      "HELP",
      "    Print this help.",
  };
  WriteHelp(ctx.w, kLines);
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
  // Keys after numkeys (args[2]), read-write or read-only.
  auto counted = [](CommandSpec& row, std::string_view key_flags) {
    row.keynum_at = 2;
    row.key_spec_flags = key_flags;
  };
  constexpr std::string_view kRw = "RW access update";
  constexpr std::string_view kRo = "RO access";
  // The declared keys (numkeys), or the scope learned for the script, are
  // locked before the script starts: PlanScript is the rows' lock planner.
  constexpr uint32_t kEval = kNoScript | kStale | kSkipMonitor | kNoMandatoryKeys;
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
  // COMMAND INFO's keynum key specification for the EVAL rows.
  for (std::string_view name : {"eval", "evalsha", "eval_ro", "evalsha_ro"}) {
    CommandSpec& row = *t.all().at(std::string(name));
    counted(row, (row.flags & kReadOnly) ? kRo : kRw);
  }

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
  t.AddSubcommand(script, Row("kill", 2, kNoScript | kAllowBusy, CmdKill<false>,
                              "Stop the busy scripts that have not written.", "2.6.0", "O(1)"));
  t.AddSubcommand(script, Row("help", 2, kLoading | kStale, CmdScriptHelp,
                              "Show SCRIPT's subcommands.", "5.0.0", "O(1)"));

  constexpr std::string_view kDependsFn = "Depends on the function that is executed.";
  CommandSpec& fcall = t.Add(Row("fcall", -3, kEval, CmdFcall<false>,
                                 "Invoke a function of a loaded library.", "7.0.0", kDependsFn));
  fcall.keys = PlanFunction;
  counted(fcall, kRw);
  CommandSpec& fcall_ro =
      t.Add(Row("fcall_ro", -3, kEval | kReadOnly, CmdFcall<true>,
                "Invoke a read-only (no-writes) function of a loaded library.", "7.0.0", kDependsFn));
  fcall_ro.keys = PlanFunction;
  counted(fcall_ro, kRo);

  CommandSpec& function = t.Add(Row("function", -2, 0, nullptr, "Manage function libraries.",
                                    "7.0.0", "Depends on subcommand."));
  constexpr std::string_view kAclWrite = "@write @slow @scripting";
  auto write_row = [&](CommandSpec spec) {
    spec.acl_categories = kAclWrite;
    return spec;
  };
  t.AddSubcommand(function, write_row(Row("load", -3, kWrite | kDenyOom | kNoScript,
                                          CmdFunctionLoad, "Create a function library.", "7.0.0",
                                          "O(1) (considering compilation time is redundant)")));
  t.AddSubcommand(function, write_row(Row("delete", 3, kWrite | kNoScript, CmdFunctionDelete,
                                          "Delete a library and its functions.", "7.0.0", "O(1)")));
  t.AddSubcommand(function, write_row(Row("flush", -2, kWrite | kNoScript, CmdFunctionFlush,
                                          "Delete every library and function.", "7.0.0",
                                          "O(N) where N is the number of functions deleted")));
  t.AddSubcommand(function, Row("list", -2, kNoScript, CmdFunctionList,
                                "Describe the libraries and their functions.", "7.0.0",
                                "O(N) where N is the number of functions"));
  t.AddSubcommand(function, Row("dump", 2, kNoScript, CmdFunctionDump,
                                "Serialize every library into a payload.", "7.0.0",
                                "O(N) where N is the number of functions"));
  t.AddSubcommand(function,
                  write_row(Row("restore", -3, kWrite | kDenyOom | kNoScript, CmdFunctionRestore,
                                "Restore libraries from a FUNCTION DUMP payload.", "7.0.0",
                                "O(N) where N is the number of functions on the payload")));
  t.AddSubcommand(function, Row("stats", 2, kNoScript | kAllowBusy, CmdFunctionStats,
                                "The running function and the number of libraries and functions.",
                                "7.0.0", "O(1)"));
  t.AddSubcommand(function,
                  Row("kill", 2, kNoScript | kAllowBusy, CmdKill<true>,
                      "Stop the running function if it has not written.", "7.0.0", "O(1)"));
  t.AddSubcommand(function, Row("help", 2, kLoading | kStale, CmdFunctionHelp,
                                "Show FUNCTION's subcommands.", "7.0.0", "O(1)"));
}

}  // namespace sluice::server
