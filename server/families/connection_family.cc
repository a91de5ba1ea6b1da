// Connection commands: PING, ECHO, HELLO, AUTH, QUIT, RESET and CLIENT.

#include "protocol/arg_reader.h"
#include "common/strings.h"
#include "protocol/errors.h"
#include "server/dispatch/command.h"
#include "server/process/server.h"

namespace sluice::server {
namespace {

namespace errors = protocol::errors;
using protocol::EqualsIgnoreCase;

// The version sluice reports where clients expect Redis's (HELLO, INFO).
constexpr std::string_view kCompatibleRedisVersion = "7.2.4";

void CmdPing(CommandContext& ctx) {
  if (ctx.argc() > 2) return ctx.w.Error(errors::WrongArity("ping"));
  if (ctx.client.subscribed() && ctx.client.resp() == 2) {
    // A RESP2 subscriber gets PING's answer in the shape of a message.
    ctx.w.ArrayHeader(2);
    ctx.w.Bulk("pong");
    return ctx.w.Bulk(ctx.argc() == 2 ? ctx.arg(1) : std::string_view());
  }
  if (ctx.argc() == 2) return ctx.w.Bulk(ctx.arg(1));
  ctx.w.SimpleString("PONG");
}

void CmdEcho(CommandContext& ctx) { ctx.w.Bulk(ctx.arg(1)); }

// Client and library names: printable ASCII without spaces.
bool ValidName(std::string_view name) {
  for (unsigned char c : name) {
    if (c < '!' || c > '~') return false;
  }
  return true;
}

// Checks a password for `user`; replies with the error and returns false.
bool CheckPassword(CommandContext& ctx, std::string_view user, std::string_view pass) {
  const std::string required = ctx.server.config().requirepass();
  if (user == "default" && (required.empty() || pass == required)) return true;
  ctx.w.Error(errors::kWrongPass);
  return false;
}

void CmdAuth(CommandContext& ctx) {
  if (ctx.argc() > 3) return ctx.w.Error(errors::kSyntax);
  const std::string_view user = ctx.argc() == 3 ? ctx.arg(1) : "default";
  const std::string_view pass = ctx.arg(ctx.argc() - 1);
  if (ctx.argc() == 2 && ctx.server.config().requirepass().empty()) {
    return ctx.w.Error(errors::kAuthNotConfigured);
  }
  if (!CheckPassword(ctx, user, pass)) return;
  ctx.client.set_authenticated(true);
  ctx.w.Ok();
}

void CmdHello(CommandContext& ctx) {
  int version = ctx.client.resp();
  size_t i = 1;
  if (ctx.argc() >= 2) {
    auto v = protocol::ParseInt64(ctx.arg(1));
    if (!v) return ctx.w.Error("ERR Protocol version is not an integer or out of range");
    if (*v != 2 && *v != 3) return ctx.w.Error(errors::kNoProto);
    version = static_cast<int>(*v);
    i = 2;
  }
  std::string_view user, pass, name;
  bool auth = false, setname = false;
  for (; i < ctx.argc(); ++i) {
    const bool more = ctx.argc() - i - 1;
    if (EqualsIgnoreCase(ctx.arg(i), "AUTH") && ctx.argc() - i - 1 >= 2) {
      user = ctx.arg(i + 1);
      pass = ctx.arg(i + 2);
      auth = true;
      i += 2;
    } else if (EqualsIgnoreCase(ctx.arg(i), "SETNAME") && more) {
      name = ctx.arg(++i);
      setname = true;
    } else {
      return ctx.w.Error(
          StrCat("ERR Syntax error in HELLO option '", errors::UserText(ctx.arg(i)), "'"));
    }
  }
  if (!auth && !ctx.client.authenticated()) {
    return ctx.w.Error(
        "NOAUTH HELLO must be called with the client already authenticated, otherwise the "
        "HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and "
        "select the RESP protocol version at the same time");
  }
  if (auth && !CheckPassword(ctx, user, pass)) return;
  if (setname && !ValidName(name)) {
    return ctx.w.Error(
        "ERR Client names cannot contain spaces, newlines or special characters.");
  }
  if (auth) ctx.client.set_authenticated(true);
  if (setname) ctx.client.set_name(std::string(name));
  ctx.client.set_resp(version);
  ctx.w.set_protocol(version);
  ctx.w.MapHeader(7);
  ctx.w.Bulk("server");
  ctx.w.Bulk("redis");
  ctx.w.Bulk("version");
  ctx.w.Bulk(kCompatibleRedisVersion);
  ctx.w.Bulk("proto");
  ctx.w.Integer(version);
  ctx.w.Bulk("id");
  ctx.w.Integer(static_cast<int64_t>(ctx.client.id()));
  ctx.w.Bulk("mode");
  ctx.w.Bulk("standalone");
  ctx.w.Bulk("role");
  ctx.w.Bulk("master");
  ctx.w.Bulk("modules");
  ctx.w.ArrayHeader(0);
}

void CmdQuit(CommandContext& ctx) {
  ctx.client.transaction().End();  // the watches go when the connection closes
  ctx.w.Ok();
  ctx.client.set_close_after_reply();
}

void CmdReset(CommandContext& ctx) {
  LeaveAllSubscriptions(ctx);
  ctx.client.transaction().End();
  ctx.client.transaction().UnwatchAll(ctx.server.keyspace());
  ctx.client.set_db(0);
  ctx.client.set_resp(2);
  ctx.w.set_protocol(2);
  ctx.client.set_name("");
  ctx.client.set_reply_mode(ReplyMode::kOn);
  ctx.client.set_no_evict(false);
  ctx.client.set_no_touch(false);
  if (!ctx.server.config().requirepass().empty()) ctx.client.set_authenticated(false);
  ctx.w.SimpleString("RESET");
}

void CmdClientId(CommandContext& ctx) { ctx.w.Integer(static_cast<int64_t>(ctx.client.id())); }

void CmdClientSetName(CommandContext& ctx) {
  if (!ValidName(ctx.arg(2))) {
    return ctx.w.Error(
        "ERR Client names cannot contain spaces, newlines or special characters.");
  }
  ctx.client.set_name(std::string(ctx.arg(2)));
  ctx.w.Ok();
}

void CmdClientGetName(CommandContext& ctx) {
  std::string name = ctx.client.name();
  if (name.empty()) return ctx.w.Null();
  ctx.w.Bulk(name);
}

void CmdClientList(CommandContext& ctx) {
  std::vector<uint64_t> ids;
  char type_filter = 0;  // 'N' normal clients, 'P' pub/sub clients
  for (size_t i = 2; i < ctx.argc(); ++i) {
    if (EqualsIgnoreCase(ctx.arg(i), "TYPE") && i + 1 < ctx.argc()) {
      std::string_view type = ctx.arg(++i);
      if (EqualsIgnoreCase(type, "normal")) {
        type_filter = 'N';
        continue;
      }
      if (EqualsIgnoreCase(type, "pubsub")) {
        type_filter = 'P';
        continue;
      }
      if (EqualsIgnoreCase(type, "master") || EqualsIgnoreCase(type, "replica")) {
        return ctx.w.Verbatim("txt", "");
      }
      return ctx.w.Error(StrCat("ERR Unknown client type '", errors::UserText(type), "'"));
    } else if (EqualsIgnoreCase(ctx.arg(i), "ID") && i + 1 < ctx.argc()) {
      while (i + 1 < ctx.argc()) {
        auto id = protocol::ParseInt64(ctx.arg(++i));
        if (!id || *id <= 0) return ctx.w.Error("ERR Invalid client ID");
        ids.push_back(static_cast<uint64_t>(*id));
      }
    } else {
      return ctx.w.Error(errors::kSyntax);
    }
  }
  std::string text;
  for (const std::string& line : ctx.server.DescribeClients(ctx.now_ms)) {
    if (!ids.empty()) {
      // Lines start with "id=<n> ".
      uint64_t id = 0;
      for (size_t k = 3; k < line.size() && line[k] != ' '; ++k) id = id * 10 + (line[k] - '0');
      if (std::find(ids.begin(), ids.end(), id) == ids.end()) continue;
    }
    if (type_filter != 0) {
      const size_t at = line.find(" flags=");
      const size_t end = line.find(' ', at + 1);
      const bool pubsub =
          at != std::string::npos && line.substr(at, end - at).find('P') != std::string::npos;
      if (pubsub != (type_filter == 'P')) continue;
    }
    StrAppend(&text, line, "\n");
  }
  ctx.w.Verbatim("txt", text);
}

void CmdClientInfo(CommandContext& ctx) {
  ctx.w.Verbatim("txt", StrCat(ctx.client.Describe(ctx.now_ms), "\n"));
}

void CmdClientKill(CommandContext& ctx) {
  const uint64_t self = ctx.client.id();
  if (ctx.argc() == 3) {
    // Old form: CLIENT KILL addr:port.
    const std::string addr(ctx.arg(2));
    size_t n = ctx.server.KillClients([&](const ClientState& c) { return c.addr() == addr; }, self);
    if (n == 0) return ctx.w.Error("ERR No such client");
    return ctx.w.Ok();
  }
  if (ctx.argc() % 2 != 0) return ctx.w.Error(errors::kSyntax);
  std::optional<uint64_t> id;
  std::optional<std::string> addr, laddr, user;
  std::optional<int64_t> maxage;
  bool skipme = true;
  bool none = false;  // a TYPE that never matches a client sluice has
  std::optional<bool> pubsub;  // TYPE pubsub / normal
  for (size_t i = 2; i + 1 < ctx.argc(); i += 2) {
    std::string_view opt = ctx.arg(i), val = ctx.arg(i + 1);
    if (EqualsIgnoreCase(opt, "ID")) {
      auto v = protocol::ParseInt64(val);
      if (!v || *v <= 0) return ctx.w.Error("ERR client-id should be greater than 0");
      id = static_cast<uint64_t>(*v);
    } else if (EqualsIgnoreCase(opt, "ADDR")) {
      addr = std::string(val);
    } else if (EqualsIgnoreCase(opt, "LADDR")) {
      laddr = std::string(val);
    } else if (EqualsIgnoreCase(opt, "USER")) {
      user = std::string(val);
    } else if (EqualsIgnoreCase(opt, "MAXAGE")) {
      auto v = protocol::ParseInt64(val);
      if (!v) return ctx.w.Error(errors::kNotInteger);
      maxage = *v;
    } else if (EqualsIgnoreCase(opt, "TYPE")) {
      if (EqualsIgnoreCase(val, "normal") || EqualsIgnoreCase(val, "pubsub")) {
        pubsub = EqualsIgnoreCase(val, "pubsub");
        continue;
      }
      if (EqualsIgnoreCase(val, "master") || EqualsIgnoreCase(val, "replica") ||
          EqualsIgnoreCase(val, "slave")) {
        none = true;
        continue;
      }
      return ctx.w.Error(StrCat("ERR Unknown client type '", errors::UserText(val), "'"));
    } else if (EqualsIgnoreCase(opt, "SKIPME")) {
      if (EqualsIgnoreCase(val, "yes")) {
        skipme = true;
      } else if (EqualsIgnoreCase(val, "no")) {
        skipme = false;
      } else {
        return ctx.w.Error(errors::kSyntax);
      }
    } else {
      return ctx.w.Error(errors::kSyntax);
    }
  }
  if (none) return ctx.w.Integer(0);
  const int64_t now = ctx.now_ms;
  size_t n = ctx.server.KillClients(
      [&](const ClientState& c) {
        if (skipme && c.id() == self) return false;
        if (id && c.id() != *id) return false;
        if (addr && c.addr() != *addr) return false;
        if (laddr && c.laddr() != *laddr) return false;
        if (user && *user != "default") return false;
        if (maxage && (now - c.created_ms()) / 1000 < *maxage) return false;
        if (pubsub && c.subscribed() != *pubsub) return false;
        return true;
      },
      self);
  ctx.w.Integer(static_cast<int64_t>(n));
}

// CLIENT UNBLOCK client-id [TIMEOUT|ERROR].
void CmdClientUnblock(CommandContext& ctx) {
  if (ctx.argc() > 4) {
    // Worded as Redis words it, naming the subcommand as it was typed.
    return ctx.w.Error(StrCat("ERR unknown subcommand or wrong number of arguments for '",
                              errors::UserText(ctx.arg(1)), "'. Try CLIENT HELP."));
  }
  const std::optional<int64_t> id = protocol::ParseInt64(ctx.arg(2));
  if (!id) return ctx.w.Error(errors::kNotInteger);
  bool error = false;
  if (ctx.argc() == 4) {
    if (EqualsIgnoreCase(ctx.arg(3), "ERROR")) {
      error = true;
    } else if (!EqualsIgnoreCase(ctx.arg(3), "TIMEOUT")) {
      return ctx.w.Error("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR");
    }
  }
  const bool done = *id > 0 && ctx.server.UnblockClient(static_cast<uint64_t>(*id), error);
  ctx.w.Integer(done ? 1 : 0);
}

void CmdClientSetInfo(CommandContext& ctx) {
  std::string_view attr = ctx.arg(2), value = ctx.arg(3);
  const bool lib_name = EqualsIgnoreCase(attr, "LIB-NAME");
  if (!lib_name && !EqualsIgnoreCase(attr, "LIB-VER")) {
    return ctx.w.Error(StrCat("ERR Unrecognized option '", errors::UserText(attr), "'"));
  }
  if (!ValidName(value)) {
    return ctx.w.Error(StrCat("ERR ", lib_name ? "lib-name" : "lib-ver",
                                    " cannot contain spaces, newlines or special characters."));
  }
  if (lib_name) {
    ctx.client.set_lib_name(std::string(value));
  } else {
    ctx.client.set_lib_ver(std::string(value));
  }
  ctx.w.Ok();
}

// CLIENT NO-EVICT / NO-TOUCH ON|OFF.
template <bool kEvict>
void CmdClientOnOff(CommandContext& ctx) {
  bool on;
  if (EqualsIgnoreCase(ctx.arg(2), "ON")) {
    on = true;
  } else if (EqualsIgnoreCase(ctx.arg(2), "OFF")) {
    on = false;
  } else {
    return ctx.w.Error(errors::kSyntax);
  }
  if (kEvict) {
    ctx.client.set_no_evict(on);
  } else {
    ctx.client.set_no_touch(on);
  }
  ctx.w.Ok();
}

void CmdClientReply(CommandContext& ctx) {
  if (EqualsIgnoreCase(ctx.arg(2), "ON")) {
    ctx.client.set_reply_mode(ReplyMode::kOn);
    ctx.w.Ok();
  } else if (EqualsIgnoreCase(ctx.arg(2), "OFF")) {
    ctx.client.set_reply_mode(ReplyMode::kOff);
  } else if (EqualsIgnoreCase(ctx.arg(2), "SKIP")) {
    ctx.client.set_reply_mode(ReplyMode::kSkipNext);
  } else {
    ctx.w.Error(errors::kSyntax);
  }
}

void CmdClientHelp(CommandContext& ctx) {
  static constexpr std::string_view kLines[] = {
      "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
      "ID", "    Return the ID of the current connection.",
      "SETNAME <name>", "    Name the current connection.",
      "GETNAME", "    Return the name of the current connection.",
      "LIST [TYPE normal|pubsub] [ID id ...]", "    List connected clients.",
      "INFO", "    Describe the current connection.",
      "KILL <ip:port> | <option> <value> [...]",
      "    Close connections chosen by ID, ADDR, LADDR, USER, TYPE, MAXAGE or SKIPME.",
      "UNBLOCK <clientid> [TIMEOUT|ERROR]",
      "    Unblock the specified blocked client.",
      "SETINFO LIB-NAME|LIB-VER <value>", "    Record the client library's name or version.",
      "NO-EVICT ON|OFF", "    Accepted; sluice does not evict clients.",
      "NO-TOUCH ON|OFF", "    Accepted; key access times are not tracked yet.",
      "REPLY ON|OFF|SKIP", "    Control whether the server replies to this connection.",
      "HELP", "    Print this help."};
  WriteHelp(ctx.w, kLines);
}

CommandSpec Row(std::string name, int arity, uint32_t flags, CommandHandler h,
                std::string_view summary, std::string_view since) {
  return CommandSpec{std::move(name), arity, flags, 0, 0, 0, h,
                     CommandDoc{summary, since, "connection", "O(1)"}, "@connection", {}};
}

}  // namespace

void RegisterConnectionFamily(CommandTable& t) {
  constexpr uint32_t kConn = kLoading | kStale | kFast;
  // PING is refused while loading (Redis flags it fast only).
  t.Add(Row("ping", -1, kFast | kAllowedInSubscribe, CmdPing, "Check that the server answers.",
            "1.0.0"));
  t.Add(Row("echo", 2, kConn, CmdEcho, "Reply with the given message.", "1.0.0"));
  t.Add(Row("hello", -1, kConn | kNoAuth | kNoScript | kAllowBusy,
            CmdHello, "Choose the protocol version, optionally authenticate and name the client.",
            "6.0.0"));
  t.Add(Row("auth", -2, kConn | kNoAuth | kNoScript | kAllowBusy, CmdAuth,
            "Authenticate the connection.", "1.0.0"));
  t.Add(Row("quit", -1,
            kConn | kNoAuth | kNoScript | kAllowBusy | kAllowedInSubscribe | kRunsInMulti,
            CmdQuit,
            "Close the connection after this reply.", "1.0.0"));
  t.Add(Row("reset", 1, kConn | kNoAuth | kNoScript | kAllowedInSubscribe | kRunsInMulti | kAllowBusy,
            CmdReset,
            "Return the connection to its initial state.", "6.2.0"));
  CommandSpec& client = t.Add(Row("client", -2, kStale, nullptr,
                                  "Inspect and manage client connections.", "2.4.0"));
  constexpr uint32_t kAdminish = kAdmin | kNoScript | kLoading | kStale;
  constexpr uint32_t kSelf = kNoScript | kLoading | kStale;
  t.AddSubcommand(client, Row("id", 2, kSelf, CmdClientId,
                              "The current connection's ID.", "5.0.0"));
  t.AddSubcommand(client, Row("setname", 3, kSelf, CmdClientSetName,
                              "Name the current connection.", "2.6.9"));
  t.AddSubcommand(client, Row("getname", 2, kSelf, CmdClientGetName,
                              "The current connection's name.", "2.6.9"));
  t.AddSubcommand(client, Row("list", -2, kAdminish, CmdClientList,
                              "List the connected clients.", "2.4.0"));
  t.AddSubcommand(client, Row("info", 2, kSelf, CmdClientInfo,
                              "Describe the current connection.", "6.2.0"));
  t.AddSubcommand(client, Row("kill", -3, kAdminish, CmdClientKill,
                              "Close client connections.", "2.4.0"));
  t.AddSubcommand(client, Row("unblock", -3, kAdminish, CmdClientUnblock,
                              "End the wait of a client blocked in a blocking command.", "5.0.0"));
  t.AddSubcommand(client, Row("setinfo", 4, kSelf, CmdClientSetInfo,
                              "Record the client library's name or version.", "7.2.0"));
  t.AddSubcommand(client, Row("no-evict", 3, kAdminish, CmdClientOnOff<true>,
                              "Exempt this connection from client eviction.", "7.0.0"));
  t.AddSubcommand(client, Row("no-touch", 3, kSelf,
                              CmdClientOnOff<false>,
                              "Keep this connection's reads from changing access times.",
                              "7.2.0"));
  t.AddSubcommand(client, Row("reply", 3, kSelf, CmdClientReply,
                              "Turn replies to this connection on or off.", "3.2.0"));
  t.AddSubcommand(client, Row("help", 2, kLoading | kStale, CmdClientHelp,
                              "Show the CLIENT subcommands.", "5.0.0"));
}

}  // namespace sluice::server
