// Lua scripting in process: the Lua <-> RESP conversions, the sandbox, error
// texts and the script cache, each checked against redis-server 7.0's replies
// (raw RESP) unless a comment says otherwise.

#include "server/scripting/scripting.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "protocol/reply_reader.h"
#include "protocol/reply_writer.h"
#include "server/dispatch/dispatch.h"
#include "server/process/server.h"
#include "server/scripting/sha1.h"
#include "storage/clock.h"

namespace sluice::server {
namespace {

class ScriptingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Config config;
    config.threads = 1;
    config.shards = 16;
    server_ = std::move(Server::Create(config)).value();
    client_ = std::make_unique<ClientState>(1, "127.0.0.1:1", "127.0.0.1:2", -1, 0);
  }

  // Runs one command as a client would and returns its raw reply.
  std::string Run(const std::vector<std::string>& args, int resp = 2) {
    protocol::CommandArgs a;
    for (const auto& s : args) a.Push(s);
    std::string out;
    protocol::ReplyWriter w(&out);
    w.set_protocol(resp);
    CommandContext ctx{*server_, *client_, a, w, storage::NowMs(), nullptr};
    DispatchResult r = Dispatch(ctx, Origin::kClient);
    if (r.kind == DispatchResult::kRefused) w.Error(r.error);
    return out;
  }

  std::string Eval(const std::string& script, std::vector<std::string> keys = {},
                   std::vector<std::string> argv = {}, int resp = 2) {
    std::vector<std::string> args = {"EVAL", script, std::to_string(keys.size())};
    args.insert(args.end(), keys.begin(), keys.end());
    args.insert(args.end(), argv.begin(), argv.end());
    return Run(args, resp);
  }

  // The error suffix Redis adds to a script's runtime error.
  static std::string At(const std::string& script, int line = 1) {
    return " script: " + Sha1Hex(script) + ", on @user_script:" + std::to_string(line) + ".";
  }

  std::unique_ptr<Server> server_;
  std::unique_ptr<ClientState> client_;
};

TEST_F(ScriptingTest, LuaToRespConversions) {
  EXPECT_EQ(Eval("return 1"), ":1\r\n");
  EXPECT_EQ(Eval("return 3.99"), ":3\r\n");
  EXPECT_EQ(Eval("return -3.99"), ":-3\r\n");
  EXPECT_EQ(Eval("return 1e20"), ":-9223372036854775808\r\n");
  EXPECT_EQ(Eval("return 0/0"), ":-9223372036854775808\r\n");
  EXPECT_EQ(Eval("return 'abc'"), "$3\r\nabc\r\n");
  EXPECT_EQ(Eval("return nil"), "$-1\r\n");
  EXPECT_EQ(Eval("return false"), "$-1\r\n");
  EXPECT_EQ(Eval("return true"), ":1\r\n");
  EXPECT_EQ(Eval("return {1,2.7,'a',{3,nil,4},false,true}"),
            "*6\r\n:1\r\n:2\r\n$1\r\na\r\n*1\r\n:3\r\n$-1\r\n:1\r\n");
  EXPECT_EQ(Eval("return {1,2,nil,4}"), "*2\r\n:1\r\n:2\r\n");
  EXPECT_EQ(Eval("return {ok='fine'}"), "+fine\r\n");
  EXPECT_EQ(Eval("return {err='MYERR bad'}"), "-MYERR bad\r\n");
  EXPECT_EQ(Eval("return {1, {err='x'}, {ok='y'}}"), "*3\r\n:1\r\n-x\r\n+y\r\n");
  EXPECT_EQ(Eval("return {err=5}"), "*0\r\n");
  EXPECT_EQ(Eval("return {a=1}"), "*0\r\n");
  EXPECT_EQ(Eval("return {double=1.5}"), "$3\r\n1.5\r\n");
  EXPECT_EQ(Eval("return redis.error_reply('-MYERR x')"), "-MYERR x\r\n");
  EXPECT_EQ(Eval("return redis.status_reply('-x')"), "+-x\r\n");
  EXPECT_EQ(Eval("return redis.error_reply()"), "-ERR wrong number or type of arguments\r\n");
  EXPECT_EQ(Eval("return print"),
            "-ERR user_script:1: Script attempted to access nonexistent "
            "global variable 'print'" +
                At("return print") + "\r\n");
  // A table that contains itself stops at the nesting limit.
  std::string deep = Eval("local t = {} t[1] = t return t");
  EXPECT_NE(deep.find("-ERR reached lua stack limit\r\n"), std::string::npos);
}

TEST_F(ScriptingTest, Resp3ConversionsToClient) {
  EXPECT_EQ(Eval("return nil", {}, {}, 3), "_\r\n");
  EXPECT_EQ(Eval("return true", {}, {}, 3), ":1\r\n");
  EXPECT_EQ(Eval("redis.setresp(3) return true", {}, {}, 3), "#t\r\n");
  EXPECT_EQ(Eval("redis.setresp(3) return false", {}, {}, 3), "#f\r\n");
  EXPECT_EQ(Eval("redis.setresp(3) return false"), ":0\r\n");
  EXPECT_EQ(Eval("return {double=1.5}", {}, {}, 3), ",1.5\r\n");
  EXPECT_EQ(Eval("return {map={a=1}}", {}, {}, 3), "%1\r\n$1\r\na\r\n:1\r\n");
  EXPECT_EQ(Eval("return {set={a=true}}", {}, {}, 3), "~1\r\n$1\r\na\r\n");
  EXPECT_EQ(Eval("return {big_number='123'}", {}, {}, 3), "(123\r\n");
  EXPECT_EQ(Eval("return {verbatim_string={format='txt', string='hi'}}", {}, {}, 3),
            "=6\r\ntxt:hi\r\n");
}

TEST_F(ScriptingTest, RespToLuaConversions) {
  EXPECT_EQ(Run({"SET", "s", "str"}), "+OK\r\n");
  EXPECT_EQ(Eval("return type(redis.call('get', 'nokey'))"), "$7\r\nboolean\r\n");
  EXPECT_EQ(Eval("redis.setresp(3) return type(redis.call('get', 'nokey'))"), "$3\r\nnil\r\n");
  EXPECT_EQ(Eval("local t = redis.call('ping') return type(t) .. t['ok']"), "$9\r\ntablePONG\r\n");
  EXPECT_EQ(Eval("return redis.call('get', KEYS[1])", {"s"}), "$3\r\nstr\r\n");
  EXPECT_EQ(Eval("return redis.pcall('incr', KEYS[1])['err']", {"s"}),
            "$43\r\nERR value is not an integer or out of range\r\n");
  EXPECT_EQ(Eval("return redis.pcall('incr', KEYS[1])", {"s"}),
            "-ERR value is not an integer or out of range\r\n");
  const std::string call = "return redis.call('incr', KEYS[1])";
  EXPECT_EQ(Eval(call, {"s"}), "-ERR value is not an integer or out of range" + At(call) + "\r\n");
  EXPECT_EQ(Eval("return redis.call('set', KEYS[1], 3.0)", {"f"}), "+OK\r\n");
  EXPECT_EQ(Run({"GET", "f"}), "$1\r\n3\r\n");
  EXPECT_EQ(Eval("return redis.call('incrby', KEYS[1], 5)", {"n"}), ":5\r\n");
  // Number arguments are written with 17 significant digits, as Redis does.
  EXPECT_EQ(Eval("redis.call('set', KEYS[1], 0.1) redis.call('set', KEYS[2], 2^53) "
                 "redis.call('set', KEYS[3], 1e15) "
                 "return {redis.call('get', KEYS[1]), redis.call('get', KEYS[2]), "
                 "redis.call('get', KEYS[3])}",
                 {"a", "b", "c"}),
            "*3\r\n$19\r\n0.10000000000000001\r\n$16\r\n9007199254740992\r\n"
            "$16\r\n1000000000000000\r\n");
  // Lua's pcall turns the error table redis.call raises into its text.
  EXPECT_EQ(Eval("local ok, e = pcall(redis.call, 'incr', KEYS[1]) return e", {"s"}),
            "$43\r\nERR value is not an integer or out of range\r\n");
  EXPECT_EQ(Eval("local v = redis.call('incr', KEYS[1]) return type(v)", {"n"}),
            "$6\r\nnumber\r\n");
}

TEST_F(ScriptingTest, RedisCallErrors) {
  EXPECT_EQ(Eval("return redis.pcall('nosuch')"),
            "-ERR Unknown Redis command called from script\r\n");
  EXPECT_EQ(Eval("return redis.pcall('get')"),
            "-ERR Wrong number of args calling Redis command from script\r\n");
  EXPECT_EQ(Eval("return redis.pcall('client', 'foo')"),
            "-ERR Unknown Redis command called from script\r\n");
  EXPECT_EQ(Eval("return redis.pcall()"),
            "-ERR Please specify at least one argument for this redis lib call\r\n");
  EXPECT_EQ(Eval("return redis.pcall('get', {})"),
            "-ERR Lua redis lib command arguments must be strings or integers\r\n");
  EXPECT_EQ(Eval("return redis.pcall('eval', 'return 1', 0)"),
            "-ERR This Redis command is not allowed from script\r\n");
  EXPECT_EQ(Eval("return redis.pcall('subscribe', 'c')"),
            "-ERR This Redis command is not allowed from script\r\n");
  EXPECT_EQ(Run({"EVAL_RO", "return redis.pcall('set', KEYS[1], 'v')", "1", "k"}),
            "-ERR Write commands are not allowed from read-only scripts.\r\n");
  EXPECT_EQ(
      Run({"EVAL", "#!lua flags=no-writes\nreturn redis.pcall('set', KEYS[1], 'v')", "1", "k"}),
      "-ERR Write commands are not allowed from read-only scripts.\r\n");
}

TEST_F(ScriptingTest, ScriptErrorsCarryTheLine) {
  const std::string boom = "local a = 1\nerror('boom')";
  EXPECT_EQ(Eval(boom), "-ERR user_script:2: boom" + At(boom, 2) + "\r\n");
  const std::string table = "error({err='FOO bar'})";
  EXPECT_EQ(Eval(table), "-FOO bar" + At(table) + "\r\n");
  const std::string index = "local a = {}\n\na.b.c = 1";
  EXPECT_EQ(Eval(index),
            "-ERR user_script:3: attempt to index field 'b' (a nil value)" + At(index, 3) + "\r\n");
  EXPECT_EQ(Eval("local x = "),
            "-ERR Error compiling script (new function): user_script:1: "
            "unexpected symbol near '<eof>'\r\n");
  const std::string resp = "redis.setresp(4)";
  EXPECT_EQ(Eval(resp), "-ERR RESP version must be 2 or 3." + At(resp) + "\r\n");
}

TEST_F(ScriptingTest, SandboxRefusesGlobalsAndSystemAccess) {
  for (const char* name : {"os", "io", "loadfile", "dofile", "require", "debug", "setfenv",
                           "package", "module", "newproxy"}) {
    const std::string script = std::string("return ") + name;
    EXPECT_EQ(Eval(script), std::string("-ERR user_script:1: Script attempted to access "
                                        "nonexistent global variable '") +
                                name + "'" + At(script) + "\r\n")
        << name;
  }
  for (const char* script :
       {"x = 1", "function f() end", "redis.call = nil", "string.x = 1", "KEYS = {}"}) {
    EXPECT_EQ(Eval(script),
              "-ERR user_script:1: Attempt to modify a readonly table" + At(script) + "\r\n")
        << script;
  }
  EXPECT_EQ(Eval("rawset(_G, 'zz', 1)").substr(0, 41), "-ERR Attempt to modify a readonly table s");
  EXPECT_EQ(Eval("getmetatable('').__index = nil").substr(0, 22), "-ERR user_script:1: at");
  // Nothing leaked into the next script.
  EXPECT_EQ(Eval("return type(string.x)"), "$3\r\nnil\r\n");
  EXPECT_EQ(Eval("return ('a'):upper()"), "$1\r\nA\r\n");
  // What stays available.
  EXPECT_EQ(Eval("return loadstring('return 5')()"), ":5\r\n");
  EXPECT_EQ(Eval("local t = {} t.x = 1 return t.x"), ":1\r\n");
  EXPECT_EQ(Eval("return {type(pcall), type(unpack), type(coroutine.create), "
                 "type(table.concat), type(math.floor), type(string.format)}"),
            "*6\r\n$8\r\nfunction\r\n$8\r\nfunction\r\n$8\r\nfunction\r\n$8\r\nfunction\r\n"
            "$8\r\nfunction\r\n$8\r\nfunction\r\n");
  // Code loaded at run time gets the same read-only globals.
  EXPECT_NE(Eval("return loadstring('y = 1')()").find("Attempt to modify a readonly table"),
            std::string::npos);
}

TEST_F(ScriptingTest, KeysArgvAndHelpers) {
  EXPECT_EQ(Eval("return KEYS", {"k1", "k2"}, {"a1"}), "*2\r\n$2\r\nk1\r\n$2\r\nk2\r\n");
  EXPECT_EQ(Eval("return ARGV", {"k1", "k2"}, {"a1"}), "*1\r\n$2\r\na1\r\n");
  EXPECT_EQ(Eval("return #ARGV", {}, {"a", "b", "c"}), ":3\r\n");
  EXPECT_EQ(Eval("return redis.sha1hex('abc')"),
            "$40\r\na9993e364706816aba3e25717850c26c9cd0d89d\r\n");
  EXPECT_EQ(Eval("return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, "
                 "redis.LOG_WARNING}"),
            "*4\r\n:0\r\n:1\r\n:2\r\n:3\r\n");
  EXPECT_EQ(Eval("return redis.log(redis.LOG_DEBUG, 'hello', 1)"), "$-1\r\n");
  EXPECT_EQ(Eval("return bit.band(0xff, 0x0f)"), ":15\r\n");
  EXPECT_EQ(Eval("return {bit.lshift(1, 40), bit.bnot(0), bit.tobit(2^32+5), "
                 "bit.arshift(-256, 4), bit.rshift(-256, 4)}"),
            "*5\r\n:256\r\n:-1\r\n:5\r\n:-16\r\n:268435440\r\n");
  EXPECT_EQ(Eval("return bit.tohex(255)"), "$8\r\n000000ff\r\n");
  EXPECT_EQ(Eval("return cjson.encode({1,2,{a=1}})"), "$13\r\n[1,2,{\"a\":1}]\r\n");
  EXPECT_EQ(Eval("return cjson.encode({1.5, 'x\"y', true, {b={}}})"),
            "$26\r\n[1.5,\"x\\\"y\",true,{\"b\":{}}]\r\n");
  EXPECT_EQ(Eval("return cjson.encode({a=cjson.null})"), "$10\r\n{\"a\":null}\r\n");
  EXPECT_EQ(Eval("return cjson.decode('[1,2,{\"a\":\"b\"}]')[3].a"), "$1\r\nb\r\n");
  EXPECT_EQ(Eval("return cjson.decode('{\"a\":[1,2,null,true]}').a[3] == cjson.null"), ":1\r\n");
  EXPECT_EQ(Eval("return cjson.decode('\"\\\\u00e9\"')"), "$2\r\n\xc3\xa9\r\n");
  EXPECT_EQ(Eval("return cjson.decode('[1,')").substr(0, 45),
            "-ERR user_script:1: Expected value but found ");
}

TEST_F(ScriptingTest, ScriptCache) {
  const std::string sha = Sha1Hex("return 1");
  EXPECT_EQ(Run({"EVALSHA", sha, "0"}), "-NOSCRIPT No matching script. Please use EVAL.\r\n");
  EXPECT_EQ(Run({"SCRIPT", "EXISTS", sha}), "*1\r\n:0\r\n");
  EXPECT_EQ(Run({"SCRIPT", "LOAD", "return 1"}), "$40\r\n" + sha + "\r\n");
  EXPECT_EQ(Run({"SCRIPT", "EXISTS", sha, "ffff"}), "*2\r\n:1\r\n:0\r\n");
  EXPECT_EQ(Run({"EVALSHA", sha, "0"}), ":1\r\n");
  // The SHA1 may be given in upper case.
  std::string upper = sha;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_EQ(Run({"EVALSHA", upper, "0"}), ":1\r\n");
  EXPECT_EQ(Run({"SCRIPT", "FLUSH"}), "+OK\r\n");
  EXPECT_EQ(Run({"EVALSHA", sha, "0"}), "-NOSCRIPT No matching script. Please use EVAL.\r\n");
  // EVAL caches too.
  EXPECT_EQ(Eval("return 1"), ":1\r\n");
  EXPECT_EQ(Run({"EVALSHA", sha, "0"}), ":1\r\n");
  EXPECT_EQ(Run({"SCRIPT", "FLUSH", "ASYNC"}), "+OK\r\n");
  EXPECT_EQ(Run({"SCRIPT", "FLUSH", "LATER"}),
            "-ERR SCRIPT FLUSH only support SYNC|ASYNC option\r\n");
  EXPECT_EQ(Run({"SCRIPT", "LOAD", "return-bad-("}),
            "-ERR Error compiling script (new function): user_script:1: unexpected symbol "
            "near '<eof>'\r\n");
  EXPECT_EQ(Run({"SCRIPT", "KILL"}), "-NOTBUSY No scripts in execution right now.\r\n");
  EXPECT_EQ(Run({"FUNCTION", "FLUSH"}), "+OK\r\n");
}

TEST_F(ScriptingTest, NumkeysValidation) {
  EXPECT_EQ(Run({"EVAL", "return 1", "-1"}), "-ERR Number of keys can't be negative\r\n");
  EXPECT_EQ(Run({"EVAL", "return 1", "3", "a"}),
            "-ERR Number of keys can't be greater than number of args\r\n");
  EXPECT_EQ(Run({"EVAL", "return 1", "x"}), "-ERR value is not an integer or out of range\r\n");
}

// sluice-specific: a script that needs a shard below the ones it holds
// learns that it needs its whole database (docs/scripting.md).
TEST_F(ScriptingTest, UndeclaredKeysBelowTheHeldOnesWidenTheScript) {
  storage::Database& db = server_->keyspace().db(0);
  // Find two keys in different shards, `low` in the lower-ordered one.
  std::string low, high;
  for (int i = 0; low.empty() || high.empty(); ++i) {
    std::string k = "key" + std::to_string(i);
    const size_t shard = db.ShardIndex(k);
    if (shard == 0 && low.empty()) low = k;
    if (shard == 5 && high.empty()) high = k;
  }
  ScriptEngine& engine = server_->scripts();
  // Declared: low. high comes later in the order: it is locked on demand,
  // and nothing is learned.
  EXPECT_EQ(Eval("return redis.call('set', ARGV[1], 'v')", {low}, {high}), "+OK\r\n");
  EXPECT_EQ(engine.lock_mode_stats().learned, 0u);
  // Declared: high. Touching low (an earlier shard) before any write: the
  // script starts over holding the whole database.
  const std::string read_low = "return redis.pcall('get', ARGV[1])";
  EXPECT_EQ(Eval(read_low, {high}, {low}), "$-1\r\n");
  EXPECT_EQ(engine.scopes().Get(Sha1Hex(read_low)), ScriptScopes::Scope::kWholeDb);
  EXPECT_EQ(engine.lock_mode_stats().restarts, 1u);
  EXPECT_EQ(Eval(read_low, {high}, {low}), "$-1\r\n");
  EXPECT_EQ(engine.lock_mode_stats().restarts, 1u);
  EXPECT_EQ(engine.lock_mode_stats().whole_db_runs, 2u);
  // A whole-database command after touching a key: the same.
  EXPECT_EQ(Eval("return redis.pcall('keys', '*')", {high}), "*1\r\n$4\r\n" + high + "\r\n");
  EXPECT_EQ(engine.lock_mode_stats().restarts, 2u);
  // After a write it cannot start over: the shard is try-locked.
  const std::string write_then_low =
      "redis.call('set', KEYS[1], 'w') return redis.pcall('get', ARGV[1])";
  EXPECT_EQ(Eval(write_then_low, {high}, {low}), "$-1\r\n");
  EXPECT_EQ(engine.lock_mode_stats().late_locks, 1u);
  EXPECT_EQ(engine.lock_mode_stats().restarts, 2u);
  // ... and while another holds it past the budget, the call fails with the
  // error, once prefixed.
  SCOPED_TRACE("low's shard held elsewhere");
  const std::string write_then_low2 =
      "redis.call('set', KEYS[1], 'w2') return redis.pcall('get', ARGV[1])";
  db.shard(0).mu().lock();
  EXPECT_EQ(Eval(write_then_low2, {high}, {low}),
            "-ERR script tried accessing undeclared key '" + low + "'\r\n");
  db.shard(0).mu().unlock();
  EXPECT_EQ(engine.lock_mode_stats().late_lock_failures, 1u);
  // SCRIPT FLUSH forgets every learned scope.
  EXPECT_EQ(engine.lock_mode_stats().learned, 4u);
  EXPECT_EQ(Run({"SCRIPT", "FLUSH"}), "+OK\r\n");
  EXPECT_EQ(engine.lock_mode_stats().learned, 0u);
  EXPECT_EQ(engine.scopes().Get(Sha1Hex(read_low)), ScriptScopes::Scope::kKeys);
}

// sluice-specific: a script that changed databases and then needs a shard
// below the ones it holds learns that it needs every database.
TEST_F(ScriptingTest, UndeclaredKeysAfterSelectWidenToEveryDatabase) {
  // Few databases: every shard of every database stays within what
  // ThreadSanitizer's deadlock detector follows (64 locks held at once).
  Config config;
  config.threads = 1;
  config.shards = 8;
  config.databases = 2;
  server_ = std::move(Server::Create(config)).value();
  const std::string script =
      "redis.call('select', 1) redis.call('get', 'x') redis.call('select', 0) "
      "for i = 1, 40 do redis.call('get', 'u' .. i) end return redis.call('get', KEYS[1])";
  EXPECT_EQ(Run({"SET", "k", "v"}), "+OK\r\n");
  EXPECT_EQ(Eval(script, {"k"}), "$1\r\nv\r\n");
  EXPECT_EQ(server_->scripts().scopes().Get(Sha1Hex(script)), ScriptScopes::Scope::kAllDbs);
  EXPECT_EQ(Eval(script, {"k"}), "$1\r\nv\r\n");
  EXPECT_EQ(client_->db(), 0);
}

TEST_F(ScriptingTest, SelectInsideScriptDoesNotLeak) {
  EXPECT_EQ(Eval("redis.call('select', 1) return redis.call('set', 'k', 'v')"), "+OK\r\n");
  EXPECT_EQ(client_->db(), 0);
  EXPECT_EQ(Run({"EXISTS", "k"}), ":0\r\n");
}

TEST(ReplyReaderTest, ReadsEveryType) {
  protocol::ReplyValue v;
  size_t n = 0;
  const std::string in =
      "*8\r\n+OK\r\n-ERR x\r\n:-5\r\n$3\r\nabc\r\n$-1\r\n%1\r\n$1\r\na\r\n#t\r\n,1.5\r\n"
      "=6\r\ntxt:hi\r\n";
  ASSERT_TRUE(protocol::ReadReply(in, &v, &n));
  EXPECT_EQ(n, in.size());
  ASSERT_EQ(v.elements.size(), 8u);
  EXPECT_EQ(v.elements[0].type, protocol::ReplyType::kStatus);
  EXPECT_EQ(v.elements[1].str, "ERR x");
  EXPECT_EQ(v.elements[2].integer, -5);
  EXPECT_EQ(v.elements[3].str, "abc");
  EXPECT_EQ(v.elements[4].type, protocol::ReplyType::kNull);
  EXPECT_EQ(v.elements[5].type, protocol::ReplyType::kMap);
  ASSERT_EQ(v.elements[5].elements.size(), 2u);
  EXPECT_EQ(v.elements[5].elements[1].type, protocol::ReplyType::kBool);
  EXPECT_EQ(v.elements[6].number, 1.5);
  EXPECT_EQ(v.elements[7].format, "txt");
  EXPECT_EQ(v.elements[7].str, "hi");
  // Truncated or malformed input is refused, never trusted.
  for (size_t len = 0; len < in.size(); ++len) {
    EXPECT_FALSE(protocol::ReadReply(in.substr(0, len), &v, &n)) << len;
  }
  EXPECT_FALSE(protocol::ReadReply("*1000000\r\n", &v, &n));
  EXPECT_FALSE(protocol::ReadReply("$5\r\nab\r\n", &v, &n));
  EXPECT_FALSE(protocol::ReadReply("?\r\n", &v, &n));
}

}  // namespace
}  // namespace sluice::server
