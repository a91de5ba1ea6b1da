#include "server/scripting/scripting.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "common/strings.h"
#include "protocol/arg_reader.h"
#include "protocol/errors.h"
#include "protocol/reply_capture.h"
#include "protocol/reply_reader.h"
#include "server/dispatch/dispatch.h"
#include "server/dispatch/lock_planner.h"
#include "server/process/server.h"
#include "server/scripting/lua_libs.h"
#include "server/scripting/sha1.h"
#include "storage/clock.h"
#include "persistence/dump_payload.h"

extern "C" {
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
}

// Lua reports errors with longjmp. A C function called from Lua therefore
// never keeps a C++ object with a destructor on its own stack across a Lua
// API call that may raise: what a call needs lives in the ScriptRun (owned by
// Eval's frame, outside the protected call), and the C++ work is done in
// helpers that return before anything is pushed.

namespace sluice::server {
namespace {

using protocol::ReplyType;
using protocol::ReplyValue;

// The Redis version scripts see (redis.REDIS_VERSION), as INFO reports it.
constexpr std::string_view kRedisVersion = "7.2.4";
constexpr int kRedisVersionNum = 0x070204;
// How often (in Lua VM instructions) the hook checks for SCRIPT KILL.
constexpr int kHookInstructions = 100000;
// Nesting limit when turning a Lua value into a reply.
constexpr int kMaxReplyDepth = 1000;
constexpr const char* kSourceName = "@user_script";
constexpr const char* kFunctionSourceName = "@user_function";
// How long FUNCTION LOAD lets a library's code run, as Redis.
constexpr int64_t kLoadTimeoutMs = 500;
constexpr const char* kKilledError = kScriptKilledError.data();
constexpr const char* kReadonlyError = "Attempt to modify a readonly table";
// Raised through a script that starts over with wider locks (never replied).
constexpr const char* kRestartError = "ERR script restarts with its whole database locked";

// Unique across engines, so a thread's Lua state never outlives the registry
// (or the flush) it was built for.
std::atomic<uint64_t> g_epoch_counter{0};

// Everything one EVAL or FCALL needs while its Lua code runs.
struct ScriptRun {
  ScriptEngine* engine;
  CommandContext* ctx;
  std::string name;      // the script's SHA-1 or the function's name
  std::string scope_id;  // its identity, for ScriptScopes
  bool function = false;
  bool read_only = false;
  bool oom = false;        // memory was full when the script started
  bool allow_oom = false;  // allow-oom in its shebang
  int resp = 2;  // protocol of redis.call replies (redis.setresp)
  int64_t now_ms = 0;
  int busy_threshold_ms = 0;
  bool busy_logged = false;
  bool killed = false;
  // The undeclared-key lock mode: the scope the run was planned with, the
  // database it started in and whether it has left it, whether it may start
  // over (its EVAL owns its locks), and whether it is unwinding to do so.
  ScriptScopes::Scope scope = ScriptScopes::Scope::kKeys;
  int start_db = 0;
  bool switched_db = false;
  ScriptScopes::Scope told = ScriptScopes::Scope::kKeys;  // what it put in scopes()
  bool restartable = false;
  bool restart = false;
  RunningScript running;
  // The shard locks the script holds: its caller's (EXEC's) set when it runs
  // inside a transaction, else its own. Everything added stays held until
  // the script ends.
  ShardLocks* locks = nullptr;
  // Scratch for redis.call, reused by every call of this script.
  protocol::CommandArgs args;
  protocol::ReplyCapture capture;
  std::string error;
};

thread_local ScriptRun* t_run = nullptr;

// What a library's code registers while FUNCTION LOAD (or a thread's first
// FCALL of it) runs it. The callbacks go into the Lua table `callbacks_ref`
// (index i + 1 for functions[i]).
struct LibraryLoad {
  Server* server = nullptr;
  std::vector<FunctionInfo> functions;
  int callbacks_ref = LUA_NOREF;
  int64_t deadline_ms = 0;
};

thread_local LibraryLoad* t_load = nullptr;

// ---- Lua helpers ------------------------------------------------------------

// Pushes {err = text}.
void PushErrorTable(lua_State* L, std::string_view text) {
  lua_createtable(L, 0, 1);
  lua_pushlstring(L, text.data(), text.size());
  lua_setfield(L, -2, "err");
}

int RaiseError(lua_State* L, const char* text) {
  PushErrorTable(L, text);
  return lua_error(L);
}

// Scripts see a Lua number as a reply integer by truncation; out-of-range
// values and NaN become INT64_MIN, as on Redis (x86).
int64_t LuaNumberToInteger(double d) {
  if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) {
    return std::numeric_limits<int64_t>::min();
  }
  return static_cast<int64_t>(d);
}

// ---- reply -> Lua -----------------------------------------------------------

void PushReply(lua_State* L, const ReplyValue& v, int resp) {
  if (!lua_checkstack(L, 4)) {
    lua_pushnil(L);
    return;
  }
  switch (v.type) {
    case ReplyType::kStatus:
      lua_createtable(L, 0, 1);
      lua_pushlstring(L, v.str.data(), v.str.size());
      lua_setfield(L, -2, "ok");
      return;
    case ReplyType::kError:
      PushErrorTable(L, v.str);
      return;
    case ReplyType::kInteger:
      lua_pushnumber(L, static_cast<lua_Number>(v.integer));
      return;
    case ReplyType::kBulk:
      lua_pushlstring(L, v.str.data(), v.str.size());
      return;
    case ReplyType::kNull:
      if (resp == 3) {
        lua_pushnil(L);
      } else {
        lua_pushboolean(L, 0);
      }
      return;
    case ReplyType::kArray:
    case ReplyType::kPush:
      lua_createtable(L, static_cast<int>(v.elements.size()), 0);
      for (size_t i = 0; i < v.elements.size(); ++i) {
        PushReply(L, v.elements[i], resp);
        lua_rawseti(L, -2, static_cast<int>(i + 1));
      }
      return;
    case ReplyType::kMap:
    case ReplyType::kSet: {
      const bool map = v.type == ReplyType::kMap;
      lua_createtable(L, 0, 1);
      lua_createtable(L, 0, static_cast<int>(v.elements.size()));
      for (size_t i = 0; i < v.elements.size(); i += map ? 2 : 1) {
        PushReply(L, v.elements[i], resp);
        if (map) {
          PushReply(L, v.elements[i + 1], resp);
        } else {
          lua_pushboolean(L, 1);
        }
        lua_rawset(L, -3);
      }
      lua_setfield(L, -2, map ? "map" : "set");
      return;
    }
    case ReplyType::kDouble:
      lua_createtable(L, 0, 1);
      lua_pushnumber(L, v.number);
      lua_setfield(L, -2, "double");
      return;
    case ReplyType::kBool:
      lua_pushboolean(L, v.integer != 0);
      return;
    case ReplyType::kBigNumber:
      lua_createtable(L, 0, 1);
      lua_pushlstring(L, v.str.data(), v.str.size());
      lua_setfield(L, -2, "big_number");
      return;
    case ReplyType::kVerbatim:
      lua_createtable(L, 0, 1);
      lua_createtable(L, 0, 2);
      lua_pushlstring(L, v.format.data(), v.format.size());
      lua_setfield(L, -2, "format");
      lua_pushlstring(L, v.str.data(), v.str.size());
      lua_setfield(L, -2, "string");
      lua_setfield(L, -2, "verbatim_string");
      return;
  }
  lua_pushnil(L);
}

// ---- Lua -> reply -----------------------------------------------------------

// The field `name` of the table at `idx` (raw), left on the stack when it has
// type `type`; returns whether it was left.
bool RawField(lua_State* L, int idx, const char* name, int type) {
  lua_pushstring(L, name);
  lua_rawget(L, idx);
  if (lua_type(L, -1) == type) return true;
  lua_pop(L, 1);
  return false;
}

void WriteLuaValue(lua_State* L, int idx, protocol::ReplySink& w, int resp, int depth);

// Writes the table at `idx`, converted as Redis does.
void WriteLuaTable(lua_State* L, int idx, protocol::ReplySink& w, int resp, int depth) {
  if (depth > kMaxReplyDepth || !lua_checkstack(L, 8)) {
    return w.Error("ERR reached lua stack limit");
  }
  if (RawField(L, idx, "err", LUA_TSTRING)) {
    size_t len;
    const char* s = lua_tolstring(L, -1, &len);
    w.Error(std::string_view(s, len));
    return lua_pop(L, 1);
  }
  if (RawField(L, idx, "ok", LUA_TSTRING)) {
    size_t len;
    const char* s = lua_tolstring(L, -1, &len);
    w.SimpleString(std::string_view(s, len));
    return lua_pop(L, 1);
  }
  if (RawField(L, idx, "double", LUA_TNUMBER)) {
    w.Double(lua_tonumber(L, -1));
    return lua_pop(L, 1);
  }
  if (RawField(L, idx, "big_number", LUA_TSTRING)) {
    size_t len;
    const char* s = lua_tolstring(L, -1, &len);
    w.BigNumber(std::string_view(s, len));
    return lua_pop(L, 1);
  }
  const bool is_map = RawField(L, idx, "map", LUA_TTABLE);
  if (is_map || RawField(L, idx, "set", LUA_TTABLE)) {
    const int t = lua_gettop(L);
    size_t n = 0;
    lua_pushnil(L);
    while (lua_next(L, t) != 0) {
      ++n;
      lua_pop(L, 1);
    }
    if (is_map) {
      w.MapHeader(n);
    } else {
      w.SetHeader(n);
    }
    lua_pushnil(L);
    while (lua_next(L, t) != 0) {
      // Convert a copy of the key: lua_tolstring on the key itself would
      // confuse lua_next.
      lua_pushvalue(L, -2);
      WriteLuaValue(L, lua_gettop(L), w, resp, depth + 1);
      lua_pop(L, 1);
      if (is_map) WriteLuaValue(L, lua_gettop(L), w, resp, depth + 1);
      lua_pop(L, 1);
    }
    return lua_pop(L, 1);
  }
  if (RawField(L, idx, "verbatim_string", LUA_TTABLE)) {
    const int t = lua_gettop(L);
    if (RawField(L, t, "format", LUA_TSTRING)) {
      if (RawField(L, t, "string", LUA_TSTRING)) {
        size_t flen, slen;
        const char* f = lua_tolstring(L, -2, &flen);
        const char* s = lua_tolstring(L, -1, &slen);
        w.Verbatim(std::string_view(f, flen), std::string_view(s, slen));
        return lua_pop(L, 3);
      }
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  // An array: elements 1..n up to the first nil.
  size_t n = 0;
  while (true) {
    lua_rawgeti(L, idx, static_cast<int>(n + 1));
    const bool present = !lua_isnil(L, -1);
    lua_pop(L, 1);
    if (!present) break;
    ++n;
  }
  w.ArrayHeader(n);
  for (size_t i = 1; i <= n; ++i) {
    lua_rawgeti(L, idx, static_cast<int>(i));
    WriteLuaValue(L, lua_gettop(L), w, resp, depth + 1);
    lua_pop(L, 1);
  }
}

void WriteLuaValue(lua_State* L, int idx, protocol::ReplySink& w, int resp, int depth) {
  switch (lua_type(L, idx)) {
    case LUA_TSTRING: {
      size_t len;
      const char* s = lua_tolstring(L, idx, &len);
      return w.Bulk(std::string_view(s, len));
    }
    case LUA_TNUMBER:
      return w.Integer(LuaNumberToInteger(lua_tonumber(L, idx)));
    case LUA_TBOOLEAN: {
      const bool b = lua_toboolean(L, idx) != 0;
      if (resp == 3) return w.Bool(b);
      if (b) return w.Integer(1);
      return w.Null();
    }
    case LUA_TTABLE:
      return WriteLuaTable(L, idx, w, resp, depth);
    default:
      return w.Null();
  }
}

// ---- redis.call -------------------------------------------------------------

void Hook(lua_State* L, lua_Debug* ar);

// The scope a script needs that met a shard out of order, having been
// planned with `planned`: out of order in the database it started in,
// planned with its keys, its database suffices; with its database held, or
// after it changed databases, every database.
ScriptScopes::Scope WiderScope(ScriptScopes::Scope planned, bool switched_db) {
  return planned == ScriptScopes::Scope::kKeys && !switched_db ? ScriptScopes::Scope::kWholeDb
                                                               : ScriptScopes::Scope::kAllDbs;
}

// Runs the command in run.args through the gate. On success the captured
// reply is run.capture.values()[0] and the result is true; false with
// run.error set when it could not run.
bool RunCommand(ScriptRun& run) {
  if (run.restart) {
    run.error = kRestartError;
    return false;
  }
  if (run.args.empty()) {
    run.error = "ERR Please specify at least one argument for this redis lib call";
    return false;
  }
  run.capture.Clear();
  run.capture.set_protocol(run.resp);
  // Time stands still inside a script, as in Redis: every command sees the
  // script's start time.
  CommandContext inner{run.ctx->server, run.ctx->client, run.args, run.capture, run.now_ms,
                       nullptr};
  inner.locks = run.locks;
  inner.from_script = true;
  ScriptCall call{run.read_only, &run.running, run.oom, run.allow_oom, run.restartable};
  DispatchResult r = Dispatch(inner, Origin::kScript, &call);
  if (run.ctx->client.db() != run.start_db) run.switched_db = true;
  if (r.out_of_order) {
    const ScriptScopes::Scope wider = WiderScope(run.scope, run.switched_db);
    if (wider > run.told) {
      run.told = wider;
      run.engine->scopes().Widen(run.scope_id, wider);
    }
  }
  switch (r.kind) {
    case DispatchResult::kRan:
      break;
    case DispatchResult::kRestart:
      run.restart = true;
      run.error = kRestartError;
      return false;
    case DispatchResult::kQueued:  // not reachable: scripts never queue
    case DispatchResult::kRefused:
      switch (r.resolve) {
        case ResolveError::kNone: run.error = std::move(r.error); break;
        case ResolveError::kUnknownCommand:
        case ResolveError::kUnknownSubcommand:
          run.error = "ERR Unknown Redis command called from script";
          break;
        case ResolveError::kWrongArity:
          run.error = "ERR Wrong number of args calling Redis command from script";
          break;
      }
      return false;
  }
  if (run.capture.values().size() != 1 || !run.capture.complete()) {
    run.error = "ERR the command's reply could not be read back";
    return false;
  }
  return true;
}

int CallCommon(lua_State* L, bool raise) {
  ScriptRun* run = t_run;
  if (run == nullptr) return RaiseError(L, "ERR redis.call is only available inside a script");
  run->args.Clear();
  const int argc = lua_gettop(L);
  for (int i = 1; i <= argc; ++i) {
    const int t = lua_type(L, i);
    if (t != LUA_TSTRING && t != LUA_TNUMBER) {
      PushErrorTable(L, "ERR Lua redis lib command arguments must be strings or integers");
      return raise ? lua_error(L) : 1;
    }
    if (t == LUA_TNUMBER) {
      // Numbers travel as "%.17g", as in Redis (0.1 is 0.10000000000000001, 2^53 all
      // digits), not as tostring() writes them.
      char buf[32];
      const int n = std::snprintf(buf, sizeof(buf), "%.17g", lua_tonumber(L, i));
      run->args.Push(std::string_view(buf, static_cast<size_t>(n)));
      continue;
    }
    size_t len;
    const char* s = lua_tolstring(L, i, &len);
    run->args.Push(std::string_view(s, len));
  }
  if (!RunCommand(*run)) {
    PushErrorTable(L, run->error);
    if (run->restart) {
      // Unwind whatever the script does: raise again at every instruction,
      // so that no pcall in it can carry on (as for SCRIPT KILL).
      lua_sethook(L, Hook, LUA_MASKCOUNT, 1);
      return lua_error(L);
    }
    return raise ? lua_error(L) : 1;
  }
  const ReplyValue& reply = run->capture.values()[0];
  PushReply(L, reply, run->resp);
  if (raise && reply.type == ReplyType::kError) return lua_error(L);
  return 1;
}

int LuaCall(lua_State* L) { return CallCommon(L, true); }
int LuaPcall(lua_State* L) { return CallCommon(L, false); }

// ---- the rest of the redis table --------------------------------------------

int LuaErrorReply(lua_State* L) {
  if (lua_gettop(L) != 1 || lua_type(L, 1) != LUA_TSTRING) {
    PushErrorTable(L, "ERR wrong number or type of arguments");
    return 1;
  }
  size_t len;
  const char* s = lua_tolstring(L, 1, &len);
  std::string_view text(s, len);
  if (!text.empty() && text[0] == '-') text.remove_prefix(1);
  PushErrorTable(L, text);
  return 1;
}

int LuaStatusReply(lua_State* L) {
  if (lua_gettop(L) != 1 || lua_type(L, 1) != LUA_TSTRING) {
    PushErrorTable(L, "ERR wrong number or type of arguments");
    return 1;
  }
  lua_createtable(L, 0, 1);
  lua_pushvalue(L, 1);
  lua_setfield(L, -2, "ok");
  return 1;
}

int LuaSha1Hex(lua_State* L) {
  if (lua_gettop(L) != 1) return RaiseError(L, "ERR wrong number of arguments");
  size_t len;
  const char* s = lua_tolstring(L, 1, &len);
  if (s == nullptr) return RaiseError(L, "ERR wrong number of arguments");
  const std::array<uint8_t, 20> d = Sha1(std::string_view(s, len));
  static constexpr char kHex[] = "0123456789abcdef";
  char hex[40];
  for (size_t i = 0; i < d.size(); ++i) {
    hex[2 * i] = kHex[d[i] >> 4];
    hex[2 * i + 1] = kHex[d[i] & 15];
  }
  lua_pushlstring(L, hex, sizeof(hex));
  return 1;
}

int LuaLog(lua_State* L) {
  const int argc = lua_gettop(L);
  if (argc < 2) return RaiseError(L, "ERR redis.log() requires two arguments or more.");
  if (lua_type(L, 1) != LUA_TNUMBER)
    return RaiseError(L, "ERR First argument must be a number (log level).");
  const int level = static_cast<int>(lua_tonumber(L, 1));
  if (level < 0 || level > 3) return RaiseError(L, "ERR Invalid debug level.");
  // The message: the other arguments joined by spaces.
  for (int i = 2; i <= argc; ++i) {
    if (lua_tostring(L, i) == nullptr) {
      lua_pushstring(L, luaL_typename(L, i));
      lua_replace(L, i);
    }
    if (i < argc) {
      lua_pushliteral(L, " ");
      lua_insert(L, i + 1 + (i - 2));
    }
  }
  // Stack: level, a, " ", b, " ", c ...: concatenate everything above 1.
  lua_concat(L, lua_gettop(L) - 1);
  Server* server = t_run != nullptr    ? &t_run->ctx->server
                   : t_load != nullptr ? t_load->server
                                       : nullptr;
  if (server != nullptr) {
    static constexpr LogLevel kLevels[] = {LogLevel::kDebug, LogLevel::kVerbose, LogLevel::kNotice,
                                           LogLevel::kWarning};
    size_t len;
    const char* msg = lua_tolstring(L, -1, &len);
    server->Log(kLevels[level], std::string_view(msg, len));
  }
  return 0;
}

// ---- redis.register_function (library loading only) ------------------------

bool ValidFunctionName(const char* s, size_t len) {
  if (len == 0) return false;
  for (size_t i = 0; i < len; ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (!std::isalnum(c) && c != '_') return false;
  }
  return true;
}

// Reads the flags table at `idx` into *flags; false on a non-string or
// unknown flag.
bool ReadFunctionFlags(lua_State* L, int idx, uint32_t* flags) {
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    if (lua_type(L, -1) != LUA_TSTRING) {
      lua_pop(L, 2);
      return false;
    }
    size_t len;
    const char* s = lua_tolstring(L, -1, &len);
    bool known = false;
    for (const FunctionFlagName& f : kFunctionFlagNames) {
      if (std::string_view(s, len) == f.name) {
        *flags |= f.flag;
        known = true;
      }
    }
    lua_pop(L, 1);
    if (!known) {
      lua_pop(L, 1);
      return false;
    }
  }
  return true;
}

// redis.register_function('name', callback) or
// redis.register_function{function_name=..., callback=..., flags={...},
// description=...}. Every check raises before any C++ object is built.
int LuaRegisterFunction(lua_State* L) {
  LibraryLoad* load = t_load;
  if (load == nullptr)
    return RaiseError(L, "ERR redis.register_function can only be called on FUNCTION LOAD command");
  const int argc = lua_gettop(L);
  int name_idx = 0, callback_idx = 0, description_idx = 0;
  uint32_t flags = 0;
  if (argc == 1) {
    if (!lua_istable(L, 1)) {
      return RaiseError(L,
                        "ERR calling redis.register_function with a single argument is only "
                        "applicable to Lua table (representing named arguments).");
    }
    // Slots: [2] the name, [3] the callback, [4] the description (nil until
    // given); lua_next's key and value above them.
    lua_settop(L, 4);
    lua_pushnil(L);
    while (lua_next(L, 1) != 0) {
      if (!lua_isstring(L, -2)) {
        return RaiseError(L,
                          "ERR named argument key given to redis.register_function is not a "
                          "string");
      }
      // A copy of the key (a number would be converted in place, confusing
      // lua_next); it stays above the value until the end of the turn.
      const int value = lua_gettop(L);
      lua_pushvalue(L, -2);
      const char* key = lua_tostring(L, -1);
      int slot = 0;
      if (std::strcmp(key, "function_name") == 0) {
        if (!lua_isstring(L, value)) {
          return RaiseError(
              L, "ERR function_name argument given to redis.register_function must be a string");
        }
        slot = 2;
      } else if (std::strcmp(key, "callback") == 0) {
        if (!lua_isfunction(L, value)) {
          return RaiseError(
              L, "ERR callback argument given to redis.register_function must be a function");
        }
        slot = 3;
      } else if (std::strcmp(key, "description") == 0) {
        if (!lua_isstring(L, value)) {
          return RaiseError(
              L, "ERR description argument given to redis.register_function must be a string");
        }
        slot = 4;
      } else if (std::strcmp(key, "flags") == 0) {
        if (!lua_istable(L, value)) {
          return RaiseError(L,
                            "ERR flags argument to redis.register_function must be a table "
                            "representing function flags");
        }
        if (!ReadFunctionFlags(L, value, &flags)) return RaiseError(L, "ERR unknown flag given");
      } else {
        return RaiseError(L, "ERR unknown argument given to redis.register_function");
      }
      if (slot != 0) {
        // A copy: converting a number to a string in place would confuse
        // lua_next.
        lua_pushvalue(L, value);
        lua_replace(L, slot);
      }
      lua_pop(L, 2);  // the key's copy and the value; the key stays for lua_next
    }
    if (lua_isnil(L, 2)) {
      return RaiseError(L, "ERR redis.register_function must get a function name argument");
    }
    if (lua_isnil(L, 3)) {
      return RaiseError(L, "ERR redis.register_function must get a callback argument");
    }
    lua_tostring(L, 2);
    name_idx = 2;
    callback_idx = 3;
    if (!lua_isnil(L, 4)) {
      lua_tostring(L, 4);
      description_idx = 4;
    }
  } else if (argc == 2) {
    if (lua_type(L, 1) != LUA_TSTRING && lua_type(L, 1) != LUA_TNUMBER) {
      return RaiseError(L, "ERR first argument to redis.register_function must be a string");
    }
    if (!lua_isfunction(L, 2)) {
      return RaiseError(L, "ERR second argument to redis.register_function must be a function");
    }
    lua_tostring(L, 1);
    name_idx = 1;
    callback_idx = 2;
  } else {
    return RaiseError(L, "ERR wrong number of arguments to redis.register_function");
  }
  size_t name_len;
  const char* name = lua_tolstring(L, name_idx, &name_len);
  if (!ValidFunctionName(name, name_len)) {
    return RaiseError(L,
                      "ERR Function names can only contain letters, numbers, or underscores(_) "
                      "and must be at least one character long");
  }
  for (const FunctionInfo& f : load->functions) {
    if (f.name.size() == name_len && strncasecmp(f.name.data(), name, name_len) == 0) {
      return RaiseError(L, "ERR Function already exists in the library");
    }
  }
  lua_rawgeti(L, LUA_REGISTRYINDEX, load->callbacks_ref);
  lua_pushvalue(L, callback_idx);
  lua_rawseti(L, -2, static_cast<int>(load->functions.size() + 1));
  lua_pop(L, 1);
  FunctionInfo& info = load->functions.emplace_back();
  info.name.assign(name, name_len);
  info.flags = flags;
  if (description_idx != 0) {
    size_t len;
    const char* d = lua_tolstring(L, description_idx, &len);
    info.description.emplace(d, len);
  }
  return 0;
}

int LuaSetResp(lua_State* L) {
  if (lua_gettop(L) != 1) return RaiseError(L, "ERR redis.setresp() requires one argument.");
  const int v = static_cast<int>(lua_tonumber(L, 1));
  if (v != 2 && v != 3) return RaiseError(L, "ERR RESP version must be 2 or 3.");
  if (t_run != nullptr) t_run->resp = v;
  return 0;
}

int LuaReturnTrue(lua_State* L) {
  lua_pushboolean(L, 1);
  return 1;
}
int LuaReturnFalse(lua_State* L) {
  lua_pushboolean(L, 0);
  return 1;
}
int LuaNothing(lua_State*) { return 0; }

// ---- sandbox ----------------------------------------------------------------

int ReadonlyNewIndex(lua_State* L) { return luaL_error(L, kReadonlyError); }

int MissingGlobal(lua_State* L) {
  const char* name = lua_tostring(L, 2);
  return luaL_error(L, "Script attempted to access nonexistent global variable '%s'",
                    name != nullptr ? name : "?");
}

// rawset that refuses the protected tables (the globals and the libraries).
int SafeRawSet(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checkany(L, 2);
  luaL_checkany(L, 3);
  lua_pushvalue(L, 1);
  lua_rawget(L, lua_upvalueindex(1));  // the set of protected tables
  if (lua_toboolean(L, -1)) {
    lua_pushstring(L, kReadonlyError);
    return lua_error(L);
  }
  lua_pop(L, 1);
  lua_settop(L, 3);
  lua_rawset(L, 1);
  lua_settop(L, 1);
  return 1;
}

// pcall as Redis gives it to scripts: an error table raised by redis.call
// ({err = text}) comes back as its text.
int ScriptPcall(lua_State* L) {
  luaL_checkany(L, 1);
  if (lua_pcall(L, lua_gettop(L) - 1, LUA_MULTRET, 0) != 0) {
    if (lua_istable(L, -1)) {
      lua_getfield(L, -1, "err");
      if (lua_isstring(L, -1)) {
        lua_replace(L, -2);
      } else {
        lua_pop(L, 1);
      }
    }
    lua_pushboolean(L, 0);
    lua_insert(L, -2);
    return 2;
  }
  lua_pushboolean(L, 1);
  lua_insert(L, 1);
  return lua_gettop(L);
}

// Replaces the table at the top of the stack by a read-only proxy of it: an
// empty table whose metatable reads through to it and refuses writes.
void MakeReadonlyProxy(lua_State* L, int protected_set) {
  const int target = lua_gettop(L);
  lua_newtable(L);           // proxy
  lua_createtable(L, 0, 3);  // its metatable
  lua_pushvalue(L, target);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, ReadonlyNewIndex);
  lua_setfield(L, -2, "__newindex");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");  // getmetatable() cannot reach the target
  lua_setmetatable(L, -2);
  lua_pushvalue(L, -1);
  lua_pushboolean(L, 1);
  lua_rawset(L, protected_set);
  lua_replace(L, target);
}

// Records, for the error reply, where the script was when it failed:
// returns {err = text, line = n} (line -1 when no script frame is found).
int ErrorHandler(lua_State* L) {
  int line = -1;
  lua_Debug ar;
  for (int level = 1; lua_getstack(L, level, &ar); ++level) {
    lua_getinfo(L, "Sl", &ar);
    if (ar.source != nullptr && (std::strcmp(ar.source, kSourceName) == 0 ||
                                 std::strcmp(ar.source, kFunctionSourceName) == 0)) {
      line = ar.currentline;
      break;
    }
  }
  lua_settop(L, 1);
  if (lua_istable(L, 1)) {
    lua_getfield(L, 1, "err");
    if (!lua_isstring(L, -1)) {
      lua_pop(L, 1);
      lua_pushliteral(L, "ERR unknown error");
    }
  } else if (lua_isstring(L, 1)) {
    lua_pushfstring(L, "ERR %s", lua_tostring(L, 1));
  } else {
    lua_pushfstring(L, "ERR %s", luaL_typename(L, 1));
  }
  lua_createtable(L, 0, 2);
  lua_insert(L, -2);
  lua_setfield(L, -2, "err");
  lua_pushinteger(L, line);
  lua_setfield(L, -2, "line");
  return 1;
}

void Hook(lua_State* L, lua_Debug*) {
  ScriptRun* run = t_run;
  if (run == nullptr) return;
  if (run->running.kill.load(std::memory_order_relaxed)) {
    run->killed = true;
    // Raise again at every instruction, so a pcall in the script cannot
    // swallow the kill.
    lua_sethook(L, Hook, LUA_MASKCOUNT, 1);
    RaiseError(L, kKilledError);
    return;
  }
  if (run->restart) {
    RaiseError(L, kRestartError);
    return;
  }
  const int64_t ran_ms = storage::NowMs() - run->running.start_ms;
  // Past the threshold other clients get BUSY; those on this script's own
  // I/O thread are served from here, as Redis serves clients during a busy
  // script.
  if (ran_ms >= run->busy_threshold_ms) run->ctx->server.ServeOthersWhileBusy();
  if (!run->busy_logged && ran_ms > run->busy_threshold_ms) {
    run->busy_logged = true;
    run->ctx->server.Log(LogLevel::kWarning,
                         StrCat("Slow script detected: still in execution after ",
                                storage::NowMs() - run->running.start_ms,
                                " milliseconds. You can try killing the script using the ",
                                run->function ? "FUNCTION KILL" : "SCRIPT KILL",
                                " command. Script name is: ", run->name, "."));
  }
}

// FUNCTION LOAD's watchdog: a library's code may run for kLoadTimeoutMs.
void LoadHook(lua_State* L, lua_Debug*) {
  if (t_load != nullptr && storage::NowMs() > t_load->deadline_ms) {
    RaiseError(L, "ERR FUNCTION LOAD timeout");
  }
}

// Runs the compiled script (stack: [1] the function, [2] the writer as
// light userdata, [3...] the function's arguments) and writes its result
// into the writer.
int RunAndConvert(lua_State* L) {
  auto* w = static_cast<protocol::ReplySink*>(lua_touserdata(L, 2));
  lua_remove(L, 2);
  lua_call(L, lua_gettop(L) - 1, 1);
  WriteLuaValue(L, 1, *w, t_run->resp, 0);
  return 0;
}

// A function library's global environment: reads go to the scripts'
// globals, except KEYS and ARGV (functions get them as arguments).
int FunctionGlobalIndex(lua_State* L) {
  if (lua_type(L, 2) == LUA_TSTRING) {
    const char* name = lua_tostring(L, 2);
    if (std::strcmp(name, "KEYS") == 0 || std::strcmp(name, "ARGV") == 0) {
      return luaL_error(L, "Script attempted to access nonexistent global variable '%s'", name);
    }
  }
  lua_settop(L, 2);
  lua_gettable(L, lua_upvalueindex(1));
  return 1;
}

std::string AsciiLowerCopy(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The flags of a "#!lua flags=a,b" first line. Returns false with `*error`
// set for another engine or an unknown flag.
struct ShebangFlags {
  bool present = false;  // the script has a shebang line (flags or not)
  bool no_writes = false;
  bool allow_oom = false;
};

bool ParseShebang(std::string_view body, ShebangFlags* flags, std::string* error) {
  *flags = ShebangFlags{};
  if (body.substr(0, 2) != "#!") return true;
  flags->present = true;
  std::string_view line = body.substr(0, body.find('\n'));
  std::vector<std::string_view> words = SplitNonEmpty(line.substr(2), ' ');
  if (words.empty() || words[0] != "lua") {
    *error = StrCat("ERR Unexpected engine in script shebang: ",
                    words.empty() ? std::string_view() : words[0]);
    return false;
  }
  for (size_t i = 1; i < words.size(); ++i) {
    if (words[i].substr(0, 6) != "flags=") {
      *error = StrCat("ERR Unknown lua shebang option: ", words[i]);
      return false;
    }
    for (std::string_view f : SplitNonEmpty(words[i].substr(6), ',')) {
      if (f == "no-writes") {
        flags->no_writes = true;
      } else if (f == "allow-oom") {
        flags->allow_oom = true;
      } else if (f != "allow-stale" && f != "no-cluster" &&
                 f != "allow-cross-slot-keys") {
        *error = StrCat("ERR Unexpected flag in script shebang: ", f);
        return false;
      }
    }
  }
  return true;
}

// One thread's Lua state with the sandboxed environment and the scripts it
// has compiled.
class LuaVm {
 public:
  LuaVm(const ScriptEngine* owner, uint64_t epoch) : owner_(owner), epoch_(epoch) {
    L_ = luaL_newstate();
    Build();
  }
  ~LuaVm() { lua_close(L_); }
  LuaVm(const LuaVm&) = delete;
  LuaVm& operator=(const LuaVm&) = delete;

  lua_State* L() { return L_; }
  const ScriptEngine* owner() const { return owner_; }
  uint64_t epoch() const { return epoch_; }

  // Pushes the compiled function for `sha`; false (nothing pushed) if this
  // thread has not compiled it.
  bool PushCompiled(const std::string& sha) {
    lua_rawgeti(L_, LUA_REGISTRYINDEX, functions_ref_);
    lua_getfield(L_, -1, sha.c_str());
    lua_remove(L_, -2);
    if (lua_isfunction(L_, -1)) return true;
    lua_pop(L_, 1);
    return false;
  }

  // Compiles `body` under `sha` and pushes the function; on a syntax error
  // pushes nothing and sets `*error` to the reply text.
  bool Compile(const std::string& sha, std::string_view body, std::string* error) {
    ShebangFlags flags;
    if (!ParseShebang(body, &flags, error)) return false;
    std::string source;
    std::string_view code = body;
    if (body.substr(0, 2) == "#!") {
      // A shebang line ("#!lua flags=..."): keep the line count, hide the line.
      source = StrCat("--", body);
      code = source;
    }
    if (luaL_loadbuffer(L_, code.data(), code.size(), kSourceName) != 0) {
      *error = StrCat("ERR Error compiling script (new function): ", lua_tostring(L_, -1));
      lua_pop(L_, 1);
      return false;
    }
    lua_rawgeti(L_, LUA_REGISTRYINDEX, functions_ref_);
    lua_pushvalue(L_, -2);
    lua_setfield(L_, -2, sha.c_str());
    lua_pop(L_, 1);
    if (flags.present) flags_[sha] = flags;
    return true;
  }

  // Whether the script's shebang declared no-writes.
  ShebangFlags Flags(const std::string& sha) const {
    if (flags_.empty()) return ShebangFlags{};
    auto it = flags_.find(sha);
    return it == flags_.end() ? ShebangFlags{} : it->second;
  }

  // Sets KEYS and ARGV from args[3 ...] (EVAL's globals), and puts back the
  // library settings a previous script changed (cjson's), as each script
  // starts.
  void SetKeysAndArgv(const protocol::CommandArgs& args, size_t numkeys) {
    PushKeysAndArgv(args, numkeys);  // [-2] KEYS [-1] ARGV
    lua_rawgeti(L_, LUA_REGISTRYINDEX, globals_ref_);
    lua_pushliteral(L_, "KEYS");
    lua_pushvalue(L_, -4);
    lua_rawset(L_, -3);
    lua_pushliteral(L_, "ARGV");
    lua_pushvalue(L_, -3);
    lua_rawset(L_, -3);
    lua_pop(L_, 3);
  }

  void RestoreHook() { lua_sethook(L_, Hook, LUA_MASKCOUNT, kHookInstructions); }

  // Puts back the library settings a previous script changed (cjson's), as
  // each function starts, and pushes its two arguments: the KEYS and ARGV
  // tables from args[3 ...].
  void PushKeysAndArgv(const protocol::CommandArgs& args, size_t numkeys) {
    ResetJsonSettings(L_);
    for (int pass = 0; pass < 2; ++pass) {
      const size_t begin = pass == 0 ? 3 : 3 + numkeys;
      const size_t end = pass == 0 ? 3 + numkeys : args.size();
      lua_createtable(L_, static_cast<int>(end - begin), 0);
      for (size_t i = begin; i < end; ++i) {
        lua_pushlstring(L_, args[i].data(), args[i].size());
        lua_rawseti(L_, -2, static_cast<int>(i - begin + 1));
      }
    }
  }

  // Runs a library's code (`code`, its shebang line first) in the load
  // environment, collecting what it registers into *load. Leaves the stack
  // as it was. On failure sets *error to the reply and returns false.
  bool LoadLibrary(std::string_view code, LibraryLoad* load, std::string* error) {
    const int top = lua_gettop(L_);
    // The code from the shebang's newline on: line numbers stay the file's.
    const size_t nl = code.find('\n');
    const std::string_view body = nl == std::string_view::npos ? "" : code.substr(nl);
    lua_pushcfunction(L_, ErrorHandler);
    if (luaL_loadbuffer(L_, body.data(), body.size(), kFunctionSourceName) != 0) {
      *error = StrCat("ERR Error compiling function: ", lua_tostring(L_, -1));
      lua_settop(L_, top);
      return false;
    }
    lua_rawgeti(L_, LUA_REGISTRYINDEX, function_env_ref_);
    lua_setfenv(L_, -2);
    SetFunctionEnvIndex(load_api_ref_);
    lua_newtable(L_);
    load->callbacks_ref = luaL_ref(L_, LUA_REGISTRYINDEX);
    load->deadline_ms = storage::NowMs() + kLoadTimeoutMs;
    t_load = load;
    lua_sethook(L_, LoadHook, LUA_MASKCOUNT, kHookInstructions / 10);
    const int rc = lua_pcall(L_, 0, 0, top + 1);
    t_load = nullptr;
    RestoreHook();
    SetFunctionEnvIndex(runtime_index_ref_);
    lua_gc(L_, LUA_GCRESTART, 0);
    bool ok = true;
    if (rc != 0) {
      ok = false;
      std::string message = "ERR unknown error";
      if (lua_istable(L_, -1)) {
        lua_getfield(L_, -1, "err");
        if (const char* m = lua_tostring(L_, -1)) message = m;
      } else if (const char* m = lua_tostring(L_, -1)) {
        message = StrCat("ERR ", m);
      }
      *error = StrCat("ERR Error registering functions: ", message);
    } else if (load->functions.empty()) {
      ok = false;
      *error = "ERR No functions registered";
    }
    lua_settop(L_, top);
    if (!ok) {
      luaL_unref(L_, LUA_REGISTRYINDEX, load->callbacks_ref);
      load->callbacks_ref = LUA_NOREF;
      return false;
    }
    return true;
  }

  // Keeps a library loaded by LoadLibrary in this state under `id`.
  void AdoptLibrary(uint64_t id, int callbacks_ref) {
    auto [it, added] = libraries_.try_emplace(id, callbacks_ref);
    if (!added) luaL_unref(L_, LUA_REGISTRYINDEX, callbacks_ref);
  }

  // Pushes function `index` of `lib`, loading the library into this state
  // first if it has not been. On failure pushes nothing and sets *error.
  bool PushFunction(const FunctionLibraries& registry, const Library& lib, size_t index,
                    Server* server, std::string* error) {
    DropUnregistered(registry);
    auto it = libraries_.find(lib.id);
    if (it == libraries_.end()) {
      LibraryLoad load;
      load.server = server;
      if (!LoadLibrary(lib.code, &load, error)) return false;
      if (load.functions.size() != lib.functions.size()) {
        luaL_unref(L_, LUA_REGISTRYINDEX, load.callbacks_ref);
        *error = "ERR the library registered other functions on this thread";
        return false;
      }
      it = libraries_.emplace(lib.id, load.callbacks_ref).first;
    }
    lua_rawgeti(L_, LUA_REGISTRYINDEX, it->second);
    lua_rawgeti(L_, -1, static_cast<int>(index + 1));
    lua_remove(L_, -2);
    if (lua_isfunction(L_, -1)) return true;
    lua_pop(L_, 1);
    *error = "ERR Function not found";
    return false;
  }

 private:
  void OpenLibrary(lua_CFunction open, const char* name) {
    lua_pushcfunction(L_, open);
    lua_pushstring(L_, name);
    lua_call(L_, 1, 0);
  }

  void SetFunction(const char* name, lua_CFunction f) {
    lua_pushcfunction(L_, f);
    lua_setfield(L_, -2, name);
  }

  // Forgets the libraries no longer registered (replaced, deleted, flushed)
  // once the registry's generation moved.
  void DropUnregistered(const FunctionLibraries& registry) {
    const uint64_t generation = registry.generation();
    if (generation == libraries_generation_) return;
    absl::flat_hash_set<uint64_t> live;
    for (const FunctionLibraries::LibraryPtr& lib : registry.All()) live.insert(lib->id);
    for (auto it = libraries_.begin(); it != libraries_.end();) {
      if (live.contains(it->first)) {
        ++it;
        continue;
      }
      luaL_unref(L_, LUA_REGISTRYINDEX, it->second);
      libraries_.erase(it++);
    }
    libraries_generation_ = generation;
  }

  void SetFunctionEnvIndex(int ref) {
    lua_rawgeti(L_, LUA_REGISTRYINDEX, env_meta_ref_);
    lua_rawgeti(L_, LUA_REGISTRYINDEX, ref);
    lua_setfield(L_, -2, "__index");
    lua_pop(L_, 1);
  }

  // Pushes a metatable that refuses writes and raises on reading a missing
  // name, as the globals do.
  void PushStrictMetatable() {
    lua_createtable(L_, 0, 3);
    lua_pushcfunction(L_, MissingGlobal);
    lua_setfield(L_, -2, "__index");
    lua_pushcfunction(L_, ReadonlyNewIndex);
    lua_setfield(L_, -2, "__newindex");
    lua_pushboolean(L_, 0);
    lua_setfield(L_, -2, "__metatable");
  }

  // The environment of function libraries (one table every library's code
  // and callbacks share): empty, read-only, and reading through its
  // metatable's __index, which points at the load API while a library's
  // code runs and at the scripts' globals otherwise. REQUIRES: the real
  // globals at index `globals`.
  void BuildFunctionEnvironment(int globals) {
    lua_newtable(L_);           // the environment
    lua_createtable(L_, 0, 3);  // its metatable
    lua_pushvalue(L_, globals);
    lua_pushcclosure(L_, FunctionGlobalIndex, 1);
    lua_pushvalue(L_, -1);
    runtime_index_ref_ = luaL_ref(L_, LUA_REGISTRYINDEX);
    lua_setfield(L_, -2, "__index");
    lua_pushcfunction(L_, ReadonlyNewIndex);
    lua_setfield(L_, -2, "__newindex");
    lua_pushboolean(L_, 0);
    lua_setfield(L_, -2, "__metatable");
    lua_pushvalue(L_, -1);
    env_meta_ref_ = luaL_ref(L_, LUA_REGISTRYINDEX);
    lua_setmetatable(L_, -2);
    function_env_ref_ = luaL_ref(L_, LUA_REGISTRYINDEX);

    // What a library's code sees while it loads: redis.register_function,
    // redis.log and the constants, nothing else.
    lua_newtable(L_);  // the load-time globals
    lua_newtable(L_);  // their redis
    SetFunction("register_function", LuaRegisterFunction);
    SetFunction("log", LuaLog);
    const std::pair<const char*, int> kConstants[] = {{"LOG_DEBUG", 0},
                                                      {"LOG_VERBOSE", 1},
                                                      {"LOG_NOTICE", 2},
                                                      {"LOG_WARNING", 3},
                                                      {"REDIS_VERSION_NUM", kRedisVersionNum}};
    for (const auto& [name, value] : kConstants) {
      lua_pushinteger(L_, value);
      lua_setfield(L_, -2, name);
    }
    lua_pushlstring(L_, kRedisVersion.data(), kRedisVersion.size());
    lua_setfield(L_, -2, "REDIS_VERSION");
    PushStrictMetatable();
    lua_setmetatable(L_, -2);
    lua_setfield(L_, -2, "redis");
    PushStrictMetatable();
    lua_setmetatable(L_, -2);
    load_api_ref_ = luaL_ref(L_, LUA_REGISTRYINDEX);
  }

  void Build() {
    OpenLibrary(luaopen_base, "");
    OpenLibrary(luaopen_table, LUA_TABLIBNAME);
    OpenLibrary(luaopen_string, LUA_STRLIBNAME);
    OpenLibrary(luaopen_math, LUA_MATHLIBNAME);
    OpenBitLibrary(L_);
    OpenJsonLibrary(L_);
    OpenMsgpackLibrary(L_);
    OpenStructLibrary(L_);
    // What Redis leaves out of the base library: file access, printing, and
    // environment manipulation.
    for (const char* name : {"dofile", "loadfile", "print", "setfenv", "getfenv", "newproxy"}) {
      lua_pushnil(L_);
      lua_setfield(L_, LUA_GLOBALSINDEX, name);
    }

    lua_newtable(L_);  // the set of protected tables (weak keys)
    lua_createtable(L_, 0, 1);
    lua_pushliteral(L_, "k");
    lua_setfield(L_, -2, "__mode");
    lua_setmetatable(L_, -2);
    const int protected_set = lua_gettop(L_);

    lua_pushvalue(L_, protected_set);
    lua_pushcclosure(L_, SafeRawSet, 1);
    lua_setfield(L_, LUA_GLOBALSINDEX, "rawset");
    lua_pushcfunction(L_, ScriptPcall);
    lua_setfield(L_, LUA_GLOBALSINDEX, "pcall");

    lua_newtable(L_);  // redis
    SetFunction("call", LuaCall);
    SetFunction("pcall", LuaPcall);
    SetFunction("error_reply", LuaErrorReply);
    SetFunction("status_reply", LuaStatusReply);
    SetFunction("sha1hex", LuaSha1Hex);
    SetFunction("log", LuaLog);
    SetFunction("setresp", LuaSetResp);
    SetFunction("replicate_commands", LuaReturnTrue);
    SetFunction("set_repl", LuaNothing);
    SetFunction("breakpoint", LuaReturnFalse);
    SetFunction("debug", LuaNothing);
    const std::pair<const char*, int> kConstants[] = {
        {"LOG_DEBUG", 0},    {"LOG_VERBOSE", 1},
        {"LOG_NOTICE", 2},   {"LOG_WARNING", 3},
        {"REPL_NONE", 0},    {"REPL_SLAVE", 1},
        {"REPL_REPLICA", 1}, {"REPL_AOF", 2},
        {"REPL_ALL", 3},     {"REDIS_VERSION_NUM", kRedisVersionNum}};
    for (const auto& [name, value] : kConstants) {
      lua_pushinteger(L_, value);
      lua_setfield(L_, -2, name);
    }
    lua_pushlstring(L_, kRedisVersion.data(), kRedisVersion.size());
    lua_setfield(L_, -2, "REDIS_VERSION");
    lua_setfield(L_, LUA_GLOBALSINDEX, "redis");

    // Libraries become read-only proxies.
    for (const char* name :
         {"string", "table", "math", "coroutine", "bit", "cjson", "cmsgpack", "struct", "redis"}) {
      lua_getfield(L_, LUA_GLOBALSINDEX, name);
      MakeReadonlyProxy(L_, protected_set);
      lua_setfield(L_, LUA_GLOBALSINDEX, name);
    }
    // Strings index the read-only string library, and their metatable is hidden.
    lua_pushliteral(L_, "");
    lua_getmetatable(L_, -1);
    lua_getfield(L_, LUA_GLOBALSINDEX, "string");
    lua_setfield(L_, -2, "__index");
    lua_pushboolean(L_, 0);
    lua_setfield(L_, -2, "__metatable");
    lua_pop(L_, 2);

    // The real globals: reading a missing name is an error.
    lua_pushvalue(L_, LUA_GLOBALSINDEX);
    const int globals = lua_gettop(L_);
    lua_createtable(L_, 0, 1);
    lua_pushcfunction(L_, MissingGlobal);
    lua_setfield(L_, -2, "__index");
    lua_setmetatable(L_, globals);
    lua_pushvalue(L_, globals);
    globals_ref_ = luaL_ref(L_, LUA_REGISTRYINDEX);
    BuildFunctionEnvironment(globals);
    // Scripts (and code they load) see a read-only proxy of them.
    lua_pushvalue(L_, globals);
    MakeReadonlyProxy(L_, protected_set);
    lua_pushvalue(L_, -1);
    lua_setfield(L_, globals, "_G");
    lua_replace(L_, LUA_GLOBALSINDEX);

    lua_newtable(L_);
    functions_ref_ = luaL_ref(L_, LUA_REGISTRYINDEX);
    lua_settop(L_, 0);
    RestoreHook();
  }

  lua_State* L_;
  const ScriptEngine* owner_;
  uint64_t epoch_;
  int globals_ref_ = LUA_NOREF;
  int functions_ref_ = LUA_NOREF;
  // Function libraries (BuildFunctionEnvironment).
  int function_env_ref_ = LUA_NOREF;
  int env_meta_ref_ = LUA_NOREF;
  int runtime_index_ref_ = LUA_NOREF;
  int load_api_ref_ = LUA_NOREF;
  // The libraries loaded into this state: library id -> the registry ref
  // of its callbacks table. Checked against the registry's generation.
  absl::flat_hash_map<uint64_t, int> libraries_;
  uint64_t libraries_generation_ = 0;
  absl::flat_hash_map<std::string, ShebangFlags> flags_;  // scripts with a shebang
};

thread_local std::unique_ptr<LuaVm> t_vm;

LuaVm& ThreadVm(const ScriptEngine& engine);

LuaVm& ThreadVm(const ScriptEngine& engine) {
  if (t_vm == nullptr || t_vm->owner() != &engine || t_vm->epoch() != engine.epoch()) {
    t_vm.reset();
    t_vm = std::make_unique<LuaVm>(&engine, engine.epoch());
  }
  return *t_vm;
}

// What RunScript runs.
struct RunSpec {
  std::string name;      // the script's SHA-1 or the function's name
  std::string scope_id;  // its identity in ScriptScopes
  bool function;     // FCALL (KEYS and ARGV are its arguments) or EVAL
  bool read_only;    // refuse write commands
  bool allow_oom;
};

// Runs a script or function and writes its result, or its error, to ctx.w:
// the one run path of EVAL and FCALL. Stack: [1] ErrorHandler [2] the
// function [3 .. 2 + nargs] its arguments.
void RunScript(ScriptEngine& engine, CommandContext& ctx, LuaVm& vm, int nargs,
               const RunSpec& spec) {
  ScriptRun run;
  run.engine = &engine;
  run.ctx = &ctx;
  run.name = spec.name;
  run.function = spec.function;
  run.read_only = spec.read_only;
  run.oom = ctx.oom;
  run.allow_oom = spec.allow_oom;
  run.now_ms = ctx.now_ms;
  run.busy_threshold_ms = engine.server().config().busy_reply_threshold_ms();
  run.running.start_ms = storage::NowMs();
  run.running.function = spec.function;
  run.running.name = spec.name;
  run.running.command = &ctx.args;
  run.scope_id = spec.scope_id;
  run.scope = engine.scopes().Get(spec.scope_id);
  run.start_db = ctx.client.db();
  run.restartable = ctx.may_rerun;

  // The declared keys' shards were locked by the dispatcher (EVAL's row
  // plans them), into ctx.locks; redis.call adds to that set.
  run.locks = ctx.locks;
  ShardLocks own;
  if (run.locks == nullptr) run.locks = &own;
  const int db_before = ctx.client.db();

  lua_State* L = vm.L();
  protocol::ReplyCapture out;
  out.set_protocol(ctx.w.protocol());
  lua_pushcfunction(L, RunAndConvert);
  lua_insert(L, 2);  // [1] handler [2] RunAndConvert [3] function [4...] arguments
  lua_pushlightuserdata(L, &out);
  lua_insert(L, 4);  // [4] writer [5...] arguments

  engine.AddRunning(&run.running);
  t_run = &run;
  const int rc = lua_pcall(L, 2 + nargs, 0, 1);
  t_run = nullptr;
  engine.RemoveRunning(&run.running);

  ctx.client.set_db(db_before);  // SELECT inside a script does not leak out
  if (run.killed || run.restart) vm.RestoreHook();
  lua_gc(L, LUA_GCRESTART, 0);
  engine.CountRun(run.scope, run.restart && !run.killed);
  if (run.restart && !run.killed) {
    // Nothing was written or replied: the dispatcher runs this EVAL or FCALL
    // again, planned with the scope just learned.
    lua_settop(L, 0);
    ctx.rerun = true;
    return;
  }

  if (rc == 0) {
    lua_settop(L, 0);
    if (out.values().size() == 1 && out.complete()) {
      return protocol::WriteReplyValue(ctx.w, out.values()[0]);
    }
    return ctx.w.Error("ERR the script's reply could not be converted");
  }
  std::string message;
  int line = -1;
  if (lua_istable(L, -1)) {
    lua_getfield(L, -1, "err");
    if (const char* s = lua_tostring(L, -1)) message = s;
    lua_getfield(L, -2, "line");
    line = static_cast<int>(lua_tointeger(L, -1));
  } else {
    // Out of memory, or an error in the error handler: the bare message.
    const char* s = lua_tostring(L, -1);
    message = StrCat("ERR ", s != nullptr ? s : "unknown error");
  }
  lua_settop(L, 0);
  if (run.killed) message = kKilledError;
  if (line > 0) {
    ctx.w.Error(StrCat(message, " script: ", spec.name, ", on ",
                       spec.function ? kFunctionSourceName : kSourceName, ":", line, "."));
  } else {
    ctx.w.Error(StrCat(message, " script: ", spec.name));
  }
}

}  // namespace

// ---- ScriptEngine -------------------------------------------------------------

ScriptEngine::ScriptEngine(Server& server) : server_(server) {
  epoch_.store(g_epoch_counter.fetch_add(1) + 1);
}

ScriptEngine::~ScriptEngine() = default;

bool ScriptEngine::Lookup(std::string_view sha, std::string* body) const {
  std::lock_guard lock(mu_);
  auto it = bodies_.find(absl::string_view(sha.data(), sha.size()));
  if (it == bodies_.end()) return false;
  *body = it->second;
  return true;
}

void ScriptEngine::Register(const std::string& sha, std::string_view body) {
  std::lock_guard lock(mu_);
  bodies_.try_emplace(sha, std::string(body));
}

bool ScriptEngine::Exists(std::string_view sha) const {
  const std::string lower = AsciiLowerCopy(sha);
  std::lock_guard lock(mu_);
  return bodies_.contains(lower);
}

size_t ScriptEngine::cached_scripts() const {
  std::lock_guard lock(mu_);
  return bodies_.size();
}

void ScriptEngine::Flush() {
  std::lock_guard lock(mu_);
  bodies_.clear();
  scopes_.Clear();
  epoch_.store(g_epoch_counter.fetch_add(1) + 1, std::memory_order_release);
}

void ScriptEngine::CountRun(ScriptScopes::Scope scope, bool restarted) {
  if (scope != ScriptScopes::Scope::kKeys) whole_db_runs_.fetch_add(1, std::memory_order_relaxed);
  if (restarted) restarts_.fetch_add(1, std::memory_order_relaxed);
}

ScriptEngine::LockModeStats ScriptEngine::lock_mode_stats() const {
  return LockModeStats{whole_db_runs_.load(std::memory_order_relaxed),
                       restarts_.load(std::memory_order_relaxed), scopes_.size(),
                       late_locks_.load(std::memory_order_relaxed),
                       late_lock_failures_.load(std::memory_order_relaxed)};
}

void ScriptEngine::AddRunning(RunningScript* r) {
  std::lock_guard lock(running_mu_);
  running_.push_back(r);
  running_count_.store(static_cast<int>(running_.size()), std::memory_order_relaxed);
}

void ScriptEngine::RemoveRunning(RunningScript* r) {
  std::lock_guard lock(running_mu_);
  if (r->kill.load(std::memory_order_relaxed) && r->wrote.load(std::memory_order_relaxed)) {
    stopped_after_writes_.store(true);
  }
  running_.erase(std::remove(running_.begin(), running_.end(), r), running_.end());
  running_count_.store(static_cast<int>(running_.size()), std::memory_order_relaxed);
}

bool ScriptEngine::BusySlow(int64_t now_ms, const RunningScript* except) {
  const int64_t threshold = server_.config().busy_reply_threshold_ms();
  std::lock_guard lock(running_mu_);
  for (const RunningScript* r : running_) {
    if (r != except && now_ms - r->start_ms >= threshold) return true;
  }
  return false;
}

ScriptEngine::KillOutcome ScriptEngine::Kill(int64_t now_ms, bool functions) {
  const int64_t threshold = server_.config().busy_reply_threshold_ms();
  std::lock_guard lock(running_mu_);
  bool busy = false;
  bool other_kind = false;
  bool other_wrote = false;
  bool killed = false;
  for (RunningScript* r : running_) {
    if (now_ms - r->start_ms < threshold) continue;
    if (r->function != functions) {
      other_kind = true;
      other_wrote = other_wrote || r->wrote.load(std::memory_order_relaxed);
      continue;
    }
    busy = true;
    if (r->wrote.load(std::memory_order_relaxed)) continue;
    r->kill.store(true, std::memory_order_relaxed);
    killed = true;
  }
  if (killed) return KillOutcome::kKilled;
  if (busy) return KillOutcome::kUnkillable;
  // As in Redis, "it wrote" is answered before "the other KILL stops it".
  if (other_kind) return other_wrote ? KillOutcome::kUnkillable : KillOutcome::kOtherKind;
  return KillOutcome::kNotBusy;
}

std::string_view ScriptEngine::BusyError(int64_t now_ms) {
  const int64_t threshold = server_.config().busy_reply_threshold_ms();
  std::lock_guard lock(running_mu_);
  for (const RunningScript* r : running_) {
    if (now_ms - r->start_ms >= threshold && r->function) return protocol::errors::kBusyFunction;
  }
  return protocol::errors::kBusyScript;
}

bool ScriptEngine::FindRunningFunction(int64_t now_ms, RunningFunction* out) {
  std::lock_guard lock(running_mu_);
  for (const RunningScript* r : running_) {
    if (!r->function) continue;
    out->name = r->name;
    out->command.clear();
    if (r->command != nullptr) {
      for (size_t i = 0; i < r->command->size(); ++i) out->command.emplace_back((*r->command)[i]);
    }
    out->duration_ms = std::max<int64_t>(0, now_ms - r->start_ms);
    return true;
  }
  return false;
}

void ScriptEngine::KillAll() {
  std::lock_guard lock(running_mu_);
  for (RunningScript* r : running_) r->kill.store(true, std::memory_order_relaxed);
}

bool ScriptEngine::WaitStopped(std::chrono::milliseconds limit) {
  const auto until = std::chrono::steady_clock::now() + limit;
  while (running_count_.load() != 0 && std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return stopped_after_writes_.load();
}

void ScriptEngine::Load(CommandContext& ctx, std::string_view body) {
  std::string error;
  const std::string sha = Sha1Hex(body);
  LuaVm& vm = ThreadVm(*this);
  if (vm.PushCompiled(sha)) {
    lua_pop(vm.L(), 1);
  } else {
    if (!vm.Compile(sha, body, &error)) return ctx.w.Error(error);
    lua_pop(vm.L(), 1);
  }
  Register(sha, body);
  ctx.w.Bulk(sha);
}

void ScriptEngine::Eval(CommandContext& ctx, bool by_sha, bool read_only) {
  std::optional<int64_t> numkeys = protocol::ParseInt64(ctx.arg(2));
  if (!numkeys) return ctx.w.Error("ERR value is not an integer or out of range");
  if (*numkeys > static_cast<int64_t>(ctx.argc() - 3)) {
    return ctx.w.Error("ERR Number of keys can't be greater than number of args");
  }
  if (*numkeys < 0) return ctx.w.Error("ERR Number of keys can't be negative");

  LuaVm& vm = ThreadVm(*this);
  lua_State* L = vm.L();
  lua_settop(L, 0);
  lua_pushcfunction(L, ErrorHandler);  // [1]
  std::string sha;
  std::string fetched;  // EVALSHA's body when this thread has not compiled it
  std::string_view body;
  bool compiled;
  if (by_sha) {
    sha = AsciiLowerCopy(ctx.arg(1));
    compiled = sha.size() == 40 && sha.find('\0') == std::string::npos && vm.PushCompiled(sha);
    if (!compiled) {
      if (sha.size() != 40 || !Lookup(sha, &fetched)) {
        lua_settop(L, 0);
        return ctx.w.Error("NOSCRIPT No matching script. Please use EVAL.");
      }
      body = fetched;
    }
  } else {
    body = ctx.arg(1);
    sha = Sha1Hex(body);
    // Compiled on this thread in this epoch implies registered.
    compiled = vm.PushCompiled(sha);
  }
  if (!compiled) {
    std::string error;
    if (!vm.Compile(sha, body, &error)) {
      lua_settop(L, 0);
      return ctx.w.Error(error);
    }
    if (!by_sha) Register(sha, body);
  }
  // [2] the function.
  const ShebangFlags flags = vm.Flags(sha);
  if (flags.no_writes) read_only = true;
  // Memory full at the start: a script that declared flags may run only if
  // it cannot write or allows it; one without flags runs and is refused at
  // its first denyoom command before any write (Redis's rules).
  if (ctx.oom && flags.present && !flags.no_writes && !flags.allow_oom) {
    lua_settop(L, 0);
    return ctx.w.Error(protocol::errors::kOom);
  }

  vm.SetKeysAndArgv(ctx.args, static_cast<size_t>(*numkeys));
  RunScript(*this, ctx, vm, 0, RunSpec{sha, sha, false, read_only, flags.allow_oom});
}

// ---- functions ------------------------------------------------------------------

std::string FunctionScopeId(std::string_view name) { return StrCat("fcall:", AsciiLower(name)); }

namespace {

// The name in a library's shebang ("#!lua name=mylib"): Redis's checks, in
// its order. Returns false with *error the reply.
bool ParseLibraryHeader(std::string_view code, std::string* name, std::string* error) {
  if (code.substr(0, 2) != "#!") {
    *error = "ERR Missing library metadata";
    return false;
  }
  const size_t nl = code.find('\n');
  if (nl == std::string_view::npos) {
    *error = "ERR Invalid library metadata";
    return false;
  }
  // Words split on white space; a word in double quotes loses them.
  std::vector<std::string_view> words;
  const std::string_view line = code.substr(0, nl);
  for (size_t i = 0; i < line.size();) {
    while (i < line.size() && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    if (i == line.size()) break;
    size_t j = i;
    while (j < line.size() && !std::isspace(static_cast<unsigned char>(line[j]))) ++j;
    words.push_back(line.substr(i, j - i));
    i = j;
  }
  const std::string_view engine = words[0].substr(2);
  bool named = false;
  for (size_t i = 1; i < words.size(); ++i) {
    std::string_view w = words[i];
    if (w.size() >= 5 && protocol::EqualsIgnoreCase(w.substr(0, 5), "name=")) {
      if (named) {
        *error = "ERR Invalid metadata value, name argument was given multiple times";
        return false;
      }
      named = true;
      std::string_view v = w.substr(5);
      if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
      name->assign(v);
      continue;
    }
    *error = StrCat("ERR Invalid metadata value given: ", w);
    return false;
  }
  if (!named) {
    *error = "ERR Library name was not given";
    return false;
  }
  if (!ValidFunctionName(name->data(), name->size())) {
    *error =
        "ERR Library names can only contain letters, numbers, or underscores(_) and must be at "
        "least one character long";
    return false;
  }
  if (!protocol::EqualsIgnoreCase(engine, "lua")) {
    *error = StrCat("ERR Engine '", engine, "' not found");
    return false;
  }
  return true;
}

// Checks and runs `code` in this thread's state: the library it makes, or
// false with *error the reply. `*callbacks_ref` receives its loaded
// callbacks (the caller adopts or unrefs them).
bool CompileLibrary(ScriptEngine& engine, LuaVm& vm, std::string_view code, Library* lib,
                    int* callbacks_ref, std::string* error) {
  if (!ParseLibraryHeader(code, &lib->name, error)) return false;
  LibraryLoad load;
  load.server = &engine.server();
  if (!vm.LoadLibrary(code, &load, error)) return false;
  lib->code.assign(code);
  lib->functions = std::move(load.functions);
  *callbacks_ref = load.callbacks_ref;
  return true;
}

}  // namespace

void ScriptEngine::FunctionLoad(CommandContext& ctx, std::string_view code, bool replace) {
  Library lib;
  std::string error;
  if (!ParseLibraryHeader(code, &lib.name, &error)) return ctx.w.Error(error);
  if (!replace && functions_.HasLibrary(lib.name)) {
    return ctx.w.Error(StrCat("ERR Library '", lib.name, "' already exists"));
  }
  LuaVm& vm = ThreadVm(*this);
  int callbacks = LUA_NOREF;
  if (!CompileLibrary(*this, vm, code, &lib, &callbacks, &error)) return ctx.w.Error(error);
  const std::string name = lib.name;
  uint64_t id = 0;
  error = functions_.Load(std::move(lib), replace, &id);
  if (!error.empty()) {
    luaL_unref(vm.L(), LUA_REGISTRYINDEX, callbacks);
    return ctx.w.Error(error);
  }
  vm.AdoptLibrary(id, callbacks);
  ctx.w.Bulk(name);
}

std::string ScriptEngine::LoadLibraryCode(std::string_view code) {
  LuaVm& vm = ThreadVm(*this);
  Library lib;
  int callbacks = LUA_NOREF;
  std::string error;
  if (!CompileLibrary(*this, vm, code, &lib, &callbacks, &error)) return error;
  luaL_unref(vm.L(), LUA_REGISTRYINDEX, callbacks);  // each thread loads it at its first FCALL
  uint64_t id = 0;
  return functions_.Load(std::move(lib), /*replace=*/false, &id);
}

void ScriptEngine::FunctionRestore(CommandContext& ctx, std::string_view payload,
                                   RestorePolicy policy) {
  std::vector<std::string> codes;
  std::string error;
  if (!persistence::DecodeFunctionsPayload(payload, &codes, &error)) return ctx.w.Error(error);
  LuaVm& vm = ThreadVm(*this);
  std::vector<Library> libs;
  absl::flat_hash_set<std::string> lib_names, function_names;
  for (const std::string& code : codes) {
    Library lib;
    int callbacks = LUA_NOREF;
    if (!CompileLibrary(*this, vm, code, &lib, &callbacks, &error)) return ctx.w.Error(error);
    luaL_unref(vm.L(), LUA_REGISTRYINDEX, callbacks);  // each thread loads it at its first FCALL
    if (!lib_names.insert(lib.name).second) {
      return ctx.w.Error(StrCat("ERR Library '", lib.name, "' already exists"));
    }
    for (const FunctionInfo& f : lib.functions) {
      if (!function_names.insert(AsciiLower(f.name)).second) {
        return ctx.w.Error(StrCat("ERR Function ", f.name, " already exists"));
      }
    }
    libs.push_back(std::move(lib));
  }
  error = functions_.Restore(std::move(libs), policy);
  if (!error.empty()) return ctx.w.Error(error);
  ctx.w.Ok();
}

void ScriptEngine::Fcall(CommandContext& ctx, bool read_only) {
  size_t index = 0;
  const FunctionLibraries::LibraryPtr lib = functions_.FindFunction(ctx.arg(1), &index);
  if (lib == nullptr) return ctx.w.Error("ERR Function not found");
  std::optional<int64_t> numkeys = protocol::ParseInt64(ctx.arg(2));
  if (!numkeys) return ctx.w.Error("ERR Bad number of keys provided");
  if (*numkeys > static_cast<int64_t>(ctx.argc() - 3)) {
    return ctx.w.Error("ERR Number of keys can't be greater than number of args");
  }
  if (*numkeys < 0) return ctx.w.Error("ERR Number of keys can't be negative");
  const FunctionInfo& fn = lib->functions[index];
  const bool no_writes = (fn.flags & kFunctionNoWrites) != 0;
  const bool allow_oom = (fn.flags & kFunctionAllowOom) != 0;
  if (read_only && !no_writes) {
    return ctx.w.Error("ERR Can not execute a script with write flag using *_ro command.");
  }
  // Memory full at the start: a function that may write must allow it.
  if (ctx.oom && !no_writes && !allow_oom) return ctx.w.Error(protocol::errors::kOom);

  LuaVm& vm = ThreadVm(*this);
  lua_State* L = vm.L();
  lua_settop(L, 0);
  lua_pushcfunction(L, ErrorHandler);  // [1]
  std::string error;
  if (!vm.PushFunction(functions_, *lib, index, &server_, &error)) {  // [2]
    lua_settop(L, 0);
    return ctx.w.Error(error);
  }
  vm.PushKeysAndArgv(ctx.args, static_cast<size_t>(*numkeys));  // [3] KEYS [4] ARGV
  RunScript(*this, ctx, vm, 2,
            RunSpec{fn.name, FunctionScopeId(fn.name), true, no_writes, allow_oom});
}

}  // namespace sluice::server
