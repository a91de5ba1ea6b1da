"""Lua scripting: EVAL / EVALSHA / SCRIPT, the Lua <-> RESP conversions, the
sandbox, error texts, SCRIPT KILL, and atomicity under concurrent clients.

Every expectation was checked against redis-server 7.0 (SLUICE_SERVER=
/usr/bin/redis-server); tests of documented sluice behaviour are sluice_only.
"""

import hashlib
import threading
import time

import pytest
import redis

from conftest import SANITIZER
from helpers import RespError, error_of, wait_until


def sha1(text):
    return hashlib.sha1(text.encode()).hexdigest()


def at(script, line=1):
    """The suffix Redis adds to a script's runtime error."""
    return " script: %s, on @user_script:%d." % (sha1(script), line)


# ---- basics and conversions -------------------------------------------------------------------

def test_eval_keys_and_argv(r):
    assert r.eval("return {KEYS[1], KEYS[2], ARGV[1], #ARGV}", 2, "k1", "k2", "a1", "a2") == \
        ["k1", "k2", "a1", 2]
    assert r.eval("return redis.call('set', KEYS[1], ARGV[1])", 1, "k", "v") == "OK"
    assert r.get("k") == "v"
    assert r.eval("return redis.call('get', KEYS[1])", 1, "k") == "v"


def test_lua_to_resp_conversions(c):
    assert c.call("EVAL", "return 42", 0) == 42
    assert c.call("EVAL", "return 3.99", 0) == 3  # truncated
    assert c.call("EVAL", "return -3.99", 0) == -3
    assert c.call("EVAL", "return 'abc'", 0) == b"abc"
    assert c.call("EVAL", "return nil", 0) is None
    assert c.call("EVAL", "return false", 0) is None
    assert c.call("EVAL", "return true", 0) == 1
    assert c.call("EVAL", "return {1, 2.7, 'a', {3, nil, 4}, false, true}", 0) == \
        [1, 2, b"a", [3], None, 1]
    assert c.call("EVAL", "return {1, 2, nil, 4}", 0) == [1, 2]  # up to the first nil
    assert c.call("EVAL", "return {ok = 'fine'}", 0) == "fine"
    assert c.call("EVAL", "return {err = 'MYERR bad thing'}", 0) == RespError("MYERR bad thing")
    assert c.call("EVAL", "return {1, {err = 'x'}, {ok = 'y'}}", 0) == [1, RespError("x"), "y"]
    assert c.call("EVAL", "return {a = 1}", 0) == []
    assert c.call("EVAL", "return {double = 1.5}", 0) == b"1.5"
    assert c.call("EVAL", "return redis.status_reply('FINE')", 0) == "FINE"
    assert c.call("EVAL", "return redis.error_reply('MYERR x')", 0) == RespError("MYERR x")
    assert c.call("EVAL", "return 1e20", 0) == -9223372036854775808


def test_resp3_conversions(raw):
    c = raw()
    c.call("HELLO", 3)
    assert c.call("EVAL", "return nil", 0) is None
    assert c.call("EVAL", "return {double = 1.5}", 0) == 1.5
    assert c.call("EVAL", "return {map = {a = 1}}", 0) == [(b"a", 1)]
    assert c.call("EVAL", "redis.setresp(3) return true", 0) is True
    assert c.call("EVAL", "redis.setresp(3) return false", 0) is False
    assert c.call("EVAL", "redis.setresp(3) return type(redis.call('get', 'nokey'))", 0) == b"nil"


def test_resp_to_lua_conversions(r):
    r.set("s", "str")
    assert r.eval("return type(redis.call('get', 'nokey'))", 0) == "boolean"
    assert r.eval("local t = redis.call('ping') return type(t) .. t.ok", 0) == "tablePONG"
    assert r.eval("local v = redis.call('incr', KEYS[1]) return {type(v), v}", 1, "n") == \
        ["number", 1]
    # redis.pcall returns the error as a table; redis.call raises it.
    assert r.eval("return redis.pcall('incr', KEYS[1]).err", 1, "s") == \
        "ERR value is not an integer or out of range"
    # Lua's pcall gives the error's text.
    assert r.eval("local ok, e = pcall(redis.call, 'incr', KEYS[1]) return {tostring(ok), e}",
                  1, "s") == ["false", "ERR value is not an integer or out of range"]
    script = "local ok, e = pcall(redis.call, 'incr', KEYS[1]) error(e, 0)"
    with pytest.raises(redis.ResponseError) as e:
        r.eval(script, 1, "s")
    assert str(e.value) == "ERR value is not an integer or out of range" + at(script)
    # Numbers become their text as arguments.
    assert r.eval("return redis.call('set', KEYS[1], 3.0)", 1, "f") == "OK"
    assert r.get("f") == "3"
    assert r.eval("return redis.call('incrby', KEYS[1], 5)", 1, "n") == 6
    # Number arguments travel with 17 significant digits.
    assert r.eval("redis.call('set', KEYS[1], 0.1) redis.call('set', KEYS[2], 2^53) "
                  "return {redis.call('get', KEYS[1]), redis.call('get', KEYS[2])}",
                  2, "a", "b") == ["0.10000000000000001", "9007199254740992"]


# ---- the script cache -------------------------------------------------------------------------

def test_evalsha_noscript_and_script_load(r, c):
    body = "return 'cached'"
    digest = sha1(body)
    r.script_flush()
    assert error_of(c, "EVALSHA", digest, 0) == "NOSCRIPT No matching script. Please use EVAL."
    assert r.script_exists(digest) == [False]
    assert r.script_load(body) == digest
    assert r.script_exists(digest, "0" * 40) == [True, False]
    assert r.evalsha(digest, 0) == "cached"
    assert r.evalsha(digest.upper(), 0) == "cached"
    assert c.call("EVALSHA_RO", digest, 0) == b"cached"
    assert r.script_flush() is True
    assert r.script_exists(digest) == [False]
    # EVAL caches the script too.
    assert r.eval(body, 0) == "cached"
    assert r.evalsha(digest, 0) == "cached"
    assert c.call("SCRIPT", "FLUSH", "ASYNC") == "OK"
    assert c.call("SCRIPT", "FLUSH", "SYNC") == "OK"
    assert error_of(c, "SCRIPT", "FLUSH", "NOW") == \
        "ERR SCRIPT FLUSH only support SYNC|ASYNC option"
    assert error_of(c, "SCRIPT", "LOAD", "return +") == \
        "ERR Error compiling script (new function): user_script:1: unexpected symbol near '+'"
    assert c.call("FUNCTION", "FLUSH") == "OK"
    assert c.call("FUNCTION", "FLUSH", "ASYNC") == "OK"


def test_register_script_falls_back_to_eval(r):
    r.script_flush()
    incr_by = r.register_script("return redis.call('incrby', KEYS[1], ARGV[1])")
    assert incr_by(keys=["counter"], args=[5]) == 5  # EVALSHA fails, EVAL runs it
    assert incr_by(keys=["counter"], args=[2]) == 7  # EVALSHA now
    r.script_flush()
    assert incr_by(keys=["counter"], args=[1]) == 8
    pipe = r.pipeline()
    incr_by(keys=["counter"], args=[10], client=pipe)
    assert pipe.execute() == [18]


def test_numkeys_errors(c):
    assert error_of(c, "EVAL", "return 1", -1) == "ERR Number of keys can't be negative"
    assert error_of(c, "EVAL", "return 1", 3, "a") == \
        "ERR Number of keys can't be greater than number of args"
    assert error_of(c, "EVAL", "return 1", "x") == "ERR value is not an integer or out of range"
    assert error_of(c, "EVAL", "return 1") == "ERR wrong number of arguments for 'eval' command"


# ---- errors and the sandbox -------------------------------------------------------------------

def test_script_errors_name_the_line(c):
    script = "local a = 1\nlocal b = 2\nerror('boom')"
    assert error_of(c, "EVAL", script, 0) == "ERR user_script:3: boom" + at(script, 3)
    script = "local t = {}\nt.a.b = 1"
    assert error_of(c, "EVAL", script, 0) == \
        "ERR user_script:2: attempt to index field 'a' (a nil value)" + at(script, 2)
    script = "error({err = 'MYERR custom'})"
    assert error_of(c, "EVAL", script, 0) == "MYERR custom" + at(script)
    c.call("SET", "s", "str")
    script = "\nreturn redis.call('incr', KEYS[1])"
    assert error_of(c, "EVAL", script, 1, "s") == \
        "ERR value is not an integer or out of range" + at(script, 2)
    script = "return redis.call('nosuchcommand')"
    assert error_of(c, "EVAL", script, 0) == \
        "ERR Unknown Redis command called from script" + at(script)
    script = "return redis.call('get')"
    assert error_of(c, "EVAL", script, 0) == \
        "ERR Wrong number of args calling Redis command from script" + at(script)
    script = "return redis.call('eval', 'return 1', 0)"
    assert error_of(c, "EVAL", script, 0) == \
        "ERR This Redis command is not allowed from script" + at(script)
    assert error_of(c, "EVAL", "return redis.pcall('get', {})", 0) == \
        "ERR Lua redis lib command arguments must be strings or integers"
    assert error_of(c, "EVAL_RO", "return redis.pcall('set', KEYS[1], 1)", 1, "k") == \
        "ERR Write commands are not allowed from read-only scripts."
    assert error_of(c, "EVAL", "return (", 0) == \
        "ERR Error compiling script (new function): user_script:1: unexpected symbol near '<eof>'"
    # The connection is still usable.
    assert c.call("PING") == "PONG"


@pytest.mark.parametrize("name", ["os", "io", "loadfile", "dofile", "require", "debug",
                                  "package", "print", "setfenv", "undefined_thing"])
def test_sandbox_hides_globals(c, name):
    script = "return %s" % name
    assert error_of(c, "EVAL", script, 0) == \
        ("ERR user_script:1: Script attempted to access nonexistent global variable '%s'" %
         name) + at(script)


@pytest.mark.parametrize("script", ["x = 1", "function f() end", "redis.call = nil",
                                    "string.rep = nil", "KEYS = {}"])
def test_sandbox_refuses_global_writes(c, script):
    assert error_of(c, "EVAL", script, 0) == \
        "ERR user_script:1: Attempt to modify a readonly table" + at(script)


def test_sandbox_keeps_the_useful_libraries(r):
    assert r.eval("return string.format('%d-%s', 3, 'x')", 0) == "3-x"
    assert r.eval("return table.concat({1, 2}, ',')", 0) == "1,2"
    assert r.eval("return math.floor(2.5)", 0) == 2
    assert r.eval("return loadstring('return 5')()", 0) == 5
    assert r.eval("return tonumber('12') + #KEYS", 1, "k") == 13
    assert r.eval("return redis.sha1hex('abc')", 0) == "a9993e364706816aba3e25717850c26c9cd0d89d"
    assert r.eval("return bit.bxor(5, 3)", 0) == 6
    assert r.eval("return cjson.encode({a = {1, 2}})", 0) == '{"a":[1,2]}'
    assert r.eval("return cjson.decode('{\"n\": [10, 20]}').n[2]", 0) == 20
    assert r.eval("redis.log(redis.LOG_WARNING, 'from a script') return 1", 0) == 1
    # Nothing a script changes survives into the next one.
    with pytest.raises(redis.ResponseError):
        r.eval("string.x = 1", 0)
    assert r.eval("return type(string.x)", 0) == "nil"


def test_busy_threshold_config(r):
    assert r.config_get("busy-reply-threshold") == {"busy-reply-threshold": "5000"}
    assert r.config_get("lua-time-limit") == {"lua-time-limit": "5000"}
    try:
        r.config_set("lua-time-limit", 250)
        assert r.config_get("busy-reply-threshold") == {"busy-reply-threshold": "250"}
    finally:
        r.config_set("busy-reply-threshold", 5000)


def test_script_kill_without_script(c):
    assert error_of(c, "SCRIPT", "KILL") == "NOTBUSY No scripts in execution right now."


def _run_in_thread(client, *args):
    result = {}

    def run():
        try:
            result["reply"] = client.eval(*args)
        except redis.ResponseError as e:
            result["error"] = str(e)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, result


def test_script_kill_stops_a_busy_script(start_server):
    # Two I/O threads; connections are spread round-robin, so the two clients
    # below (opened one after the other) are served by different threads. In
    # sluice a busy script blocks only its own thread's connections.
    s = start_server("--io-threads", "2")
    runner = s.client()
    runner.ping()
    killer = s.client()
    killer.ping()
    killer.config_set("busy-reply-threshold", 100)
    t, result = _run_in_thread(runner, "while true do end", 0)
    # Not busy before the threshold, on Redis too (it just queues the command).
    wait_until(lambda: _try_kill(killer) == "OK", timeout=10, message="SCRIPT KILL accepted")
    t.join(10)
    assert not t.is_alive()
    assert result["error"] == "Script killed by user with SCRIPT KILL..." + \
        at("while true do end")
    # A script that catches errors cannot swallow the kill.
    script = "while true do pcall(function() while true do end end) end"
    t, result = _run_in_thread(runner, script, 0)
    wait_until(lambda: _try_kill(killer) == "OK", timeout=10, message="SCRIPT KILL accepted")
    t.join(10)
    assert "Script killed by user with SCRIPT KILL..." in result["error"]
    assert killer.ping() and runner.ping()


def test_script_kill_refuses_a_script_that_wrote(start_server):
    s = start_server("--io-threads", "2")
    runner = s.client()
    runner.ping()
    killer = s.client()
    killer.ping()
    killer.config_set("busy-reply-threshold", 100)
    script = ("redis.call('set', KEYS[1], 'v') local t = redis.call('time') "
              "local deadline = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000 + 1500 "
              "local i = 0 while true do i = i + 1 if i % 100000 == 0 then "
              "local n = redis.call('time') if tonumber(n[1]) * 1000 + tonumber(n[2]) / 1000 > "
              "deadline then break end end end return i > 0")
    t, result = _run_in_thread(runner, script, 1, "wrote")
    time.sleep(0.5)
    reply = _try_kill(killer)
    assert reply.startswith("UNKILLABLE Sorry the script already executed write commands")
    t.join(15)
    assert result.get("reply") == 1


BUSY = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."


def test_other_clients_get_busy_past_the_threshold(start_server):
    s = start_server("--io-threads", "2")
    runner = s.client()
    runner.ping()
    other = s.raw()  # the next connection: served by the other I/O thread
    assert other.call("CONFIG", "SET", "busy-reply-threshold", "200") == "OK"
    t, result = _run_in_thread(runner, "while true do end", 0)

    def get_error():
        reply = other.call("GET", "k")
        return str(reply) if isinstance(reply, RespError) else None
    # Before the threshold the command runs (on Redis it waits for the script).
    assert wait_until(get_error, timeout=10, message="BUSY") == BUSY
    assert error_of(other, "PING") == BUSY
    assert error_of(other, "EVAL", "return 1", "0") == BUSY
    assert other.call("SCRIPT", "KILL") == "OK"
    t.join(10)
    assert "Script killed by user with SCRIPT KILL" in result["error"]
    assert other.call("GET", "k") is None
    assert other.call("PING") == "PONG"


def _try_kill(client):
    try:
        return "OK" if client.script_kill() else "?"
    except redis.ResponseError as e:
        return str(e)


# ---- atomicity and concurrency ----------------------------------------------------------------

RATE_LIMIT = """
local n = redis.call('incr', KEYS[1])
if n == 1 then redis.call('pexpire', KEYS[1], ARGV[2]) end
if n > tonumber(ARGV[1]) then return 0 end
return 1
"""


@pytest.mark.concurrency
def test_rate_limit_script_never_admits_more_than_the_limit(server, r):
    threads = 4 if SANITIZER else 8
    calls = 50 if SANITIZER else 200
    limit = 100
    admitted = []
    errors = []

    def worker():
        c = server.client()
        script = c.register_script(RATE_LIMIT)
        mine = 0
        try:
            for _ in range(calls):
                mine += script(keys=["rl:user"], args=[limit, 60000])
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))
        admitted.append(mine)
        c.close()

    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    assert not errors
    assert sum(admitted) == min(limit, threads * calls)
    assert int(r.get("rl:user")) == threads * calls
    assert 0 < r.pttl("rl:user") <= 60000


@pytest.mark.concurrency
def test_script_is_atomic_against_other_clients(server, r):
    # A script reads, waits (busy loop) and writes back; concurrent INCRs on
    # the same key must not be lost in between.
    script = ("local v = tonumber(redis.call('get', KEYS[1]) or '0') "
              "local i = 0 while i < 200000 do i = i + 1 end "
              "return redis.call('set', KEYS[1], v + 1)")
    rounds = 10 if SANITIZER else 30
    incrs = 50 if SANITIZER else 200
    done = threading.Event()

    def scripts():
        c = server.client()
        for _ in range(rounds):
            c.eval(script, 1, "atomic")
        c.close()
        done.set()

    def increments():
        c = server.client()
        for _ in range(incrs):
            c.incr("atomic")
        c.close()

    ts = [threading.Thread(target=scripts), threading.Thread(target=increments)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(120)
    assert int(r.get("atomic")) == rounds + incrs


# ---- sluice's key rule ------------------------------------------------------------------------

@pytest.mark.sluice_only
def test_undeclared_keys_and_whole_keyspace_commands(r):
    # With no declared keys a script may touch any key and run KEYS/DBSIZE.
    r.set("a", 1)
    assert r.eval("return redis.call('dbsize')", 0) == 1
    assert r.eval("return redis.call('get', 'a')", 0) == "1"
    # DBSIZE and INFO need no lock, so they work while holding key locks.
    assert r.eval("return redis.call('dbsize')", 1, "a") == 1
    assert "db0:keys=1" in r.eval("return redis.call('info', 'keyspace')", 1, "a")
    # A whole-database command (KEYS) needs every shard of the database: a
    # script holding its key's shard learns that it needs them all and runs
    # again holding them (docs/scripting.md), whatever the key's shard.
    for key in ["a", "b", "c", "d", "e", "f", "g", "h"]:
        assert r.eval("return redis.call('keys', '*')", 1, key) == ["a"]
    # Undeclared keys work in and out of the lock order.
    for i in range(40):
        assert r.eval("return redis.call('set', ARGV[1], 'x')", 1, "declared",
                      "other%d" % i) == "OK"
    assert r.mget(["other%d" % i for i in range(40)]) == ["x"] * 40


# ---- Collections under redis.setresp(3) ------------------------------------------------------


def test_lua_resp3_hash_is_a_map_table_and_set_a_set_table(r):
    r.hset("h", mapping={"f1": "v1", "f2": "v2"})
    r.sadd("s", "a", "b")
    # Under RESP3 a script sees HGETALL as {map = {field = value}} and
    # SMEMBERS as {set = {member = true}}.
    got = r.eval("redis.setresp(3) local t = redis.call('HGETALL', KEYS[1]) "
                 "return {type(t.map), t.map.f1, t.map.f2, tostring(t.map.nofield)}", 1, "h")
    assert got == ["table", "v1", "v2", "nil"]
    got = r.eval("redis.setresp(3) local t = redis.call('SMEMBERS', KEYS[1]) "
                 "return {type(t.set), tostring(t.set.a), tostring(t.set.b), tostring(t.set.z)}",
                 1, "s")
    assert got == ["table", "true", "true", "nil"]
    # Under RESP2 (the default) the same replies are flat arrays.
    assert r.eval("return #redis.call('HGETALL', KEYS[1])", 1, "h") == 4
    assert r.eval("return #redis.call('SMEMBERS', KEYS[1])", 1, "s") == 2


def test_lua_resp3_map_and_set_reach_clients_in_their_protocol(c):
    assert c.call("HSET", "h", "f1", "v1", "f2", "v2") == 2
    assert c.call("SADD", "s", "a", "b") == 2
    hgetall = "redis.setresp(3) return redis.call('HGETALL', KEYS[1])"
    smembers = "redis.setresp(3) return redis.call('SMEMBERS', KEYS[1])"
    # A RESP2 caller gets a map as a flat array and a set as an array.
    assert sorted(c.call("EVAL", hgetall, "1", "h")) == [b"f1", b"f2", b"v1", b"v2"]
    assert c.call_raw("EVAL", smembers, "1", "s").startswith(b"*2\r\n")
    assert c.call("HELLO", "3")
    raw = c.call_raw("EVAL", hgetall, "1", "h")
    assert raw.startswith(b"%2\r\n")
    assert c.call_raw("EVAL", smembers, "1", "s").startswith(b"~2\r\n")
    assert sorted(c.call("EVAL", hgetall, "1", "h")) == [(b"f1", b"v1"), (b"f2", b"v2")]
    assert c.call("EVAL", smembers, "1", "s") == {b"a", b"b"}
