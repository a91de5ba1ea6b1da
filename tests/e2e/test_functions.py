"""Redis 7 functions: FUNCTION LOAD / DELETE / FLUSH / LIST / DUMP / RESTORE /
STATS / KILL / HELP and FCALL / FCALL_RO.

Every expectation was checked against redis-server 7.0 (SLUICE_SERVER=
/usr/bin/redis-server); where 7.0 differs from 7.2 the test is sluice_only.
The payload tests build FUNCTION DUMP payloads by hand (the CRC-64 below is
the one Redis uses) and, when /usr/bin/redis-server exists, move payloads
between a Redis and the server under test in both directions.
"""

import os
import shutil
import struct
import threading
import time

import pytest
import redis

from conftest import IS_REDIS, SANITIZER, free_port
from helpers import RawConn, RespError, arity_error, error_of, wait_until

REDIS_SERVER = "/usr/bin/redis-server"
OOM = "OOM command not allowed when used memory > 'maxmemory'."
BUSY_SCRIPT = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
BUSY_FUNCTION = ("BUSY Redis is busy running a script. You can only call FUNCTION KILL or "
                 "SHUTDOWN NOSAVE.")
NAMES_ERROR = ("Library names can only contain letters, numbers, or underscores(_) and must be "
               "at least one character long")
NOTBUSY = "NOTBUSY No scripts in execution right now."
UNKILLABLE = ("UNKILLABLE Sorry the script already executed write commands against the dataset. "
              "You can either wait the script termination or kill the server in a hard way using "
              "the SHUTDOWN NOSAVE command.")
BAD_PAYLOAD = "ERR DUMP payload version or checksum are wrong"


def lib(name, body):
    return "#!lua name=%s\n%s" % (name, body)


def one(name, fn, body, flags=None):
    """A library `name` with one function `fn(keys, args)` running `body`."""
    if flags is None:
        return lib(name, "redis.register_function('%s', function(keys, args) %s end)" % (fn, body))
    return lib(name, "redis.register_function{function_name='%s', callback=function(keys, args) "
                     "%s end, flags={%s}}" % (fn, body, ", ".join("'%s'" % f for f in flags)))


def listing(r, *args):
    """FUNCTION LIST as a list of dicts (redis-py leaves RESP2 maps flat), by name."""
    def as_dict(flat):
        return {(k.decode() if isinstance(k, bytes) else k): v
                for k, v in zip(flat[0::2], flat[1::2])}
    out = []
    for entry in r.execute_command("FUNCTION", "LIST", *args):
        d = as_dict(entry)
        d["functions"] = sorted((as_dict(fn) for fn in d["functions"]), key=lambda x: x["name"])
        out.append(d)
    return sorted(out, key=lambda d: d["library_name"])


def rmap(pairs):
    """A RESP3 map from RawConn (a list of pairs) as a dict, recursively."""
    if isinstance(pairs, list) and all(isinstance(p, tuple) and len(p) == 2 for p in pairs):
        return {k: rmap(v) for k, v in pairs}
    if isinstance(pairs, list):
        return [rmap(p) for p in pairs]
    return pairs


@pytest.fixture
def f(r):
    """`r` with no function libraries before and after the test."""
    r.function_flush()
    yield r
    r.function_flush()


@pytest.fixture
def fc(f, raw):
    """A raw connection (errors come back as values), libraries flushed."""
    return raw()


# ---- the CRC-64 and payload framing, for hand-made payloads ------------------------------------

_POLY = 0x95AC9329AC4BC9B5  # the Jones polynomial, reflected
_TABLE = []
for _b in range(256):
    _c = _b
    for _ in range(8):
        _c = (_c >> 1) ^ _POLY if _c & 1 else _c >> 1
    _TABLE.append(_c)


def crc64(data, crc=0):
    for byte in data:
        crc = _TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc


def frame(body, version=10):
    data = body + struct.pack("<H", version)
    return data + struct.pack("<Q", crc64(data))


def rdb_string(s):
    if isinstance(s, str):
        s = s.encode()
    if len(s) < 64:
        return bytes([len(s)]) + s
    if len(s) < 16384:
        return bytes([0x40 | (len(s) >> 8), len(s) & 0xFF]) + s
    return b"\x80" + struct.pack(">I", len(s)) + s


def payload(*codes, version=10):
    return frame(b"".join(b"\xf5" + rdb_string(c) for c in codes), version)


def test_crc64_check_value():
    assert crc64(b"123456789") == 0xE9C6D914C4B8D9CA


# ---- FUNCTION LOAD ------------------------------------------------------------------------------

def test_load_returns_library_name_and_fcall_runs(f):
    assert f.function_load(one("mylib", "hello", "return 'world'")) == "mylib"
    assert f.fcall("hello", 0) == "world"


def test_functions_get_keys_and_argv_as_arguments(f):
    f.function_load(lib("kv", "redis.register_function('kv', function(keys, args) "
                              "return {#keys, #args, keys[1], args[2]} end)"))
    assert f.fcall("kv", 2, "k1", "k2", "a1", "a2") == [2, 2, "k1", "a2"]
    assert f.fcall("kv", 0) == [0, 0]
    # keys[1] is nil: the array reply stops there.
    assert f.fcall("kv", 0, "a1", "a2") == [0, 2]


@pytest.mark.parametrize("body", ["KEYS", "ARGV"])
def test_keys_and_argv_are_not_globals_in_functions(fc, body):
    fc.call("FUNCTION", "LOAD", one("g", "g", "return type(%s)" % body))
    assert error_of(fc, "FCALL", "g", "1", "k") == (
        "ERR user_function:2: Script attempted to access nonexistent global variable '%s' "
        "script: g, on @user_function:2." % body)


def test_function_redis_call_with_declared_keys(f):
    f.function_load(lib("kv", "redis.register_function('set', function(keys, args) "
                              "return redis.call('set', keys[1], args[1]) end)\n"
                              "redis.register_function('get', function(keys, args) "
                              "return redis.call('get', keys[1]) end)"))
    assert f.fcall("set", 1, "k", "v") == "OK"
    assert f.get("k") == "v"
    assert f.fcall("get", 1, "k") == "v"
    assert f.fcall("get", 1, "missing") is None


def test_function_uses_the_script_libraries(f):
    f.function_load(one("libs", "libs", "return {string.format('%d', 5), cjson.encode({1}), "
                                        "tostring(bit.band(7, 3)), redis.sha1hex('')}"))
    assert f.fcall("libs", 0) == ["5", "[1]", "3", "da39a3ee5e6b4b0d3255bfef95601890afd80709"]


def test_function_redis_pcall_and_error_reply(fc):
    fc.call("FUNCTION", "LOAD", lib("e", "\n".join([
        "redis.register_function('pc', function() return redis.pcall('nosuchcmd') end)",
        "redis.register_function('er', function() return redis.error_reply('MY bad') end)",
        "redis.register_function('st', function() return redis.status_reply('FINE') end)",
    ])))
    assert error_of(fc, "FCALL", "pc", "0") == "ERR Unknown Redis command called from script"
    assert error_of(fc, "FCALL", "er", "0") == "MY bad"
    assert fc.call("FCALL", "st", "0") == "FINE"


def test_function_runtime_errors_name_the_function_and_line(fc):
    fc.call("FUNCTION", "LOAD", lib("errs", "\n".join([
        "redis.register_function('boom', function() error('boom') end)",
        "redis.register_function('unknown', function() return redis.call('nosuch') end)",
        "redis.register_function('setg', function() x = 1 end)",
        "redis.register_function('reg', function() redis.register_function('z', function() end) end)",
    ])))
    assert error_of(fc, "FCALL", "boom", "0") == \
        "ERR user_function:2: boom script: boom, on @user_function:2."
    assert error_of(fc, "FCALL", "unknown", "0") == \
        "ERR Unknown Redis command called from script script: unknown, on @user_function:3."
    assert error_of(fc, "FCALL", "setg", "0") == \
        "ERR user_function:4: Attempt to modify a readonly table script: setg, on @user_function:4."
    assert error_of(fc, "FCALL", "reg", "0") == (
        "ERR user_function:5: attempt to call field 'register_function' (a nil value) "
        "script: reg, on @user_function:5.")


def test_function_names_are_case_insensitive_for_fcall(f):
    f.function_load(one("ci", "MyFunc", "return 'hi'"))
    assert f.fcall("myfunc", 0) == "hi"
    assert f.fcall("MYFUNC", 0) == "hi"


def test_library_names_are_case_sensitive(f):
    f.function_load(one("lib", "a", "return 1"))
    assert f.function_load(one("LIB", "b", "return 2")) == "LIB"
    assert [x["library_name"] for x in listing(f)] == ["LIB", "lib"]


def test_register_function_named_arguments(f):
    f.function_load(lib("named", "redis.register_function{function_name='n', "
                                 "callback=function() return 'named' end, description='a d', "
                                 "flags={'no-writes'}}"))
    assert f.fcall("n", 0) == "named"
    [entry] = listing(f)
    assert entry["functions"] == [{"name": "n", "description": "a d", "flags": ["no-writes"]}]


def test_register_function_number_name_is_taken_as_text(f):
    f.function_load(lib("num", "redis.register_function{function_name=123, "
                               "callback=function() return 'n' end}"))
    assert f.fcall("123", 0) == "n"


def test_load_with_several_functions_and_redis_log(f):
    f.function_load(lib("many", "redis.log(redis.LOG_WARNING, 'loading many')\n"
                                "redis.register_function('one', function() return 1 end)\n"
                                "redis.register_function('two', function() return 2 end)\n"
                                "redis.register_function('three', function() return 3 end)"))
    assert [f.fcall(n, 0) for n in ("one", "two", "three")] == [1, 2, 3]


def test_load_sees_version_constants(f):
    f.function_load(lib("ver", "local v = redis.REDIS_VERSION local n = redis.REDIS_VERSION_NUM\n"
                               "redis.register_function('v', function() return {v, n} end)"))
    v, n = f.fcall("v", 0)
    major, minor, patch = (int(x) for x in v.split("."))
    assert n == (major << 16) | (minor << 8) | patch


@pytest.mark.parametrize(("code", "expected"), [
    ("return 1", "ERR Missing library metadata"),
    ("", "ERR Missing library metadata"),
    ("#!lua name=nolf", "ERR Invalid library metadata"),
    ("#!lua\nredis.register_function('f', function() return 1 end)",
     "ERR Library name was not given"),
    ("#!js name=lib\nreturn 1", "ERR Engine 'js' not found"),
    ("#! name=lib\nreturn 1", "ERR Engine '' not found"),
    ("#!lua name=lib foo=bar\nreturn 1", "ERR Invalid metadata value given: foo=bar"),
    ("#!lua name=lib extra\nreturn 1", "ERR Invalid metadata value given: extra"),
    ("#!lua name=a name=b\nreturn 1",
     "ERR Invalid metadata value, name argument was given multiple times"),
    ("#!lua name=bad-name\nreturn 1", "ERR " + NAMES_ERROR),
    ("#!lua name=\nreturn 1", "ERR " + NAMES_ERROR),
    ("#!js name=bad-name\nreturn 1", "ERR " + NAMES_ERROR),
    ("#!lua name=lib\nreturn 1", "ERR No functions registered"),
    ("#!lua name=lib\n", "ERR No functions registered"),
    ("#!lua name=lib\n(", "ERR Error compiling function: user_function:2: unexpected symbol "
                          "near '<eof>'"),
])
def test_load_rejects_bad_headers_and_bodies(fc, code, expected):
    assert error_of(fc, "FUNCTION", "LOAD", code) == expected


@pytest.mark.parametrize("header", ["#!LUA name=up", "#!lua NAME=up", "#!lua  name=up ",
                                    "#!lua\tname=up", '#!lua name="up"'])
def test_load_header_spellings(f, header):
    assert f.function_load(header + "\nredis.register_function('u', function() return 1 end)") \
        == "up"


@pytest.mark.parametrize(("body", "expected"), [
    ("redis.register_function{function_name='g', callback=function() return 1 end, flags={'bad'}}",
     "ERR unknown flag given"),
    ("redis.register_function{function_name='g', callback=function() return 1 end, flags={1}}",
     "ERR unknown flag given"),
    ("redis.register_function{function_name='g', callback=function() return 1 end, "
     "flags='no-writes'}",
     "ERR flags argument to redis.register_function must be a table representing function "
     "flags"),
    ("redis.register_function{function_name='g', callback=function() return 1 end, foo=1}",
     "ERR unknown argument given to redis.register_function"),
    ("redis.register_function{'g', function() return 1 end}",
     "ERR unknown argument given to redis.register_function"),
    ("redis.register_function{[{}] = 1}",
     "ERR named argument key given to redis.register_function is not a string"),
    ("redis.register_function{function_name='g', callback=1}",
     "ERR callback argument given to redis.register_function must be a function"),
    ("redis.register_function{function_name={}, callback=function() end}",
     "ERR function_name argument given to redis.register_function must be a string"),
    ("redis.register_function{function_name='g', callback=function() end, description={}}",
     "ERR description argument given to redis.register_function must be a string"),
    ("redis.register_function{function_name='g'}",
     "ERR redis.register_function must get a callback argument"),
    ("redis.register_function{callback=function() end}",
     "ERR redis.register_function must get a function name argument"),
    ("redis.register_function('g')",
     "ERR calling redis.register_function with a single argument is only applicable to Lua "
     "table (representing named arguments)."),
    ("redis.register_function('g', 1)",
     "ERR second argument to redis.register_function must be a function"),
    ("redis.register_function({}, function() end)",
     "ERR first argument to redis.register_function must be a string"),
    ("redis.register_function('g', function() end, 3)",
     "ERR wrong number of arguments to redis.register_function"),
    ("redis.register_function()", "ERR wrong number of arguments to redis.register_function"),
    ("redis.register_function('g', function() end) redis.register_function('g', function() end)",
     "ERR Function already exists in the library"),
    ("redis.log(1)", "ERR redis.log() requires two arguments or more."),
    ("redis.log(9, 'x')", "ERR Invalid debug level."),
])
def test_register_function_errors(fc, body, expected):
    assert error_of(fc, "FUNCTION", "LOAD", lib("b", body)) == \
        "ERR Error registering functions: " + expected


@pytest.mark.sluice_only  # Redis 7.0 words this one as the library-name error (fixed in 7.2)
def test_register_function_invalid_function_name(fc):
    assert error_of(fc, "FUNCTION", "LOAD", lib("b", "redis.register_function('f-x', "
                                                     "function() end)")) == (
        "ERR Error registering functions: ERR Function names can only contain letters, numbers, "
        "or underscores(_) and must be at least one character long")


@pytest.mark.parametrize("name", ["setresp", "call", "pcall", "sha1hex", "error_reply",
                                  "status_reply", "set_repl", "replicate_commands", "REPL_ALL"])
def test_load_time_redis_api_is_limited(fc, name):
    # Only register_function, log and the constants exist while a library loads.
    assert error_of(fc, "FUNCTION", "LOAD", lib("b", "local x = redis.%s" % name)) == (
        "ERR Error registering functions: ERR user_function:2: Script attempted to access "
        "nonexistent global variable '%s'" % name)


@pytest.mark.parametrize("name", ["string", "table", "math", "cjson", "bit", "tostring",
                                  "pairs", "error", "pcall", "KEYS", "ARGV", "_G", "loadstring"])
def test_load_time_globals_are_limited(fc, name):
    assert error_of(fc, "FUNCTION", "LOAD", lib("b", "local x = %s" % name)) == (
        "ERR Error registering functions: ERR user_function:2: Script attempted to access "
        "nonexistent global variable '%s'" % name)


def test_load_cannot_set_globals(fc):
    assert error_of(fc, "FUNCTION", "LOAD", lib("b", "x = 1")) == (
        "ERR Error registering functions: ERR user_function:2: Attempt to modify a readonly "
        "table")


def test_load_timeout(fc):
    assert error_of(fc, "FUNCTION", "LOAD", lib("slow", "local a = 0 while true do a = a + 1 end")) \
        == "ERR Error registering functions: ERR FUNCTION LOAD timeout"
    assert fc.call("FUNCTION", "LIST") == []
    assert fc.call("PING") == "PONG"


def test_load_existing_library_needs_replace(fc):
    assert fc.call("FUNCTION", "LOAD", one("a", "f", "return 1")) == b"a"
    assert error_of(fc, "FUNCTION", "LOAD", one("a", "g", "return 1")) == \
        "ERR Library 'a' already exists"
    # Checked before the code is compiled.
    assert error_of(fc, "FUNCTION", "LOAD", lib("a", "(")) == "ERR Library 'a' already exists"


def test_load_function_name_taken_by_another_library(fc):
    fc.call("FUNCTION", "LOAD", one("a", "f", "return 1"))
    assert error_of(fc, "FUNCTION", "LOAD", one("b", "f", "return 2")) == \
        "ERR Function f already exists"
    assert error_of(fc, "FUNCTION", "LOAD", one("b", "F", "return 2")) == \
        "ERR Function F already exists"
    assert fc.call("FCALL", "f", "0") == 1


def test_load_replace_swaps_the_library(f):
    f.function_load(lib("r", "redis.register_function('x', function() return 'x1' end)\n"
                             "redis.register_function('y', function() return 'y1' end)"))
    assert f.function_load(one("r", "y", "return 'y2'"), replace=True) == "r"
    assert f.fcall("y", 0) == "y2"
    with pytest.raises(redis.ResponseError, match="Function not found"):
        f.fcall("x", 0)


def test_load_replace_failure_keeps_the_old_library(f):
    f.function_load(one("r", "x", "return 'old'"))
    with pytest.raises(redis.ResponseError, match="Error compiling function"):
        f.function_load(lib("r", "("), replace=True)
    with pytest.raises(redis.ResponseError, match="No functions registered"):
        f.function_load(lib("r", "local a = 1"), replace=True)
    assert f.fcall("x", 0) == "old"


def test_load_replace_cannot_take_another_librarys_function(fc):
    fc.call("FUNCTION", "LOAD", one("a", "f", "return 1"))
    fc.call("FUNCTION", "LOAD", one("b", "g", "return 2"))
    assert error_of(fc, "FUNCTION", "LOAD", "REPLACE", one("b", "f", "return 3")) == \
        "ERR Function f already exists"
    assert fc.call("FCALL", "g", "0") == 2


def test_load_options(fc):
    assert arity_error("function|load") == error_of(fc, "FUNCTION", "LOAD")
    assert error_of(fc, "FUNCTION", "LOAD", "foo", one("a", "f", "return 1")) == \
        "ERR Unknown option given: foo"
    assert error_of(fc, "FUNCTION", "LOAD", "a", "b", "c") == "ERR Unknown option given: a"
    assert fc.call("FUNCTION", "LOAD", "replace", "REPLACE", one("a", "f", "return 1")) == b"a"
    assert fc.call("FUNCTION", "LOAD", "Replace", one("a", "f", "return 2")) == b"a"
    assert fc.call("FCALL", "f", "0") == 2


def test_functions_survive_flushall_and_script_flush(f):
    f.function_load(one("keep", "k", "return 'kept'"))
    f.flushall()
    f.script_flush()
    assert f.fcall("k", 0) == "kept"
    assert len(listing(f)) == 1


# ---- FCALL / FCALL_RO ---------------------------------------------------------------------------

@pytest.mark.parametrize(("args", "expected"), [
    (("FCALL", "nosuch", "0"), "ERR Function not found"),
    (("FCALL_RO", "nosuch", "0"), "ERR Function not found"),
    (("FCALL", "nosuch", "x"), "ERR Function not found"),
    (("FCALL", "set", "x"), "ERR Bad number of keys provided"),
    (("FCALL", "set", "1.5", "k"), "ERR Bad number of keys provided"),
    (("FCALL", "set", "99999999999999999999", "a"), "ERR Bad number of keys provided"),
    (("FCALL", "set", "-1"), "ERR Number of keys can't be negative"),
    (("FCALL", "set", "2", "a"), "ERR Number of keys can't be greater than number of args"),
    (("FCALL", "set", "1"), "ERR Number of keys can't be greater than number of args"),
    (("FCALL",), arity_error("fcall")),
    (("FCALL", "set"), arity_error("fcall")),
    (("FCALL_RO", "set"), arity_error("fcall_ro")),
    (("FCALL_RO", "set", "1", "x", "1"),
     "ERR Can not execute a script with write flag using *_ro command."),
])
def test_fcall_errors(fc, args, expected):
    fc.call("FUNCTION", "LOAD", one("s", "set", "return redis.call('set', keys[1], args[1])"))
    assert error_of(fc, *args) == expected


def test_fcall_ro_runs_no_writes_functions(f):
    f.function_load(lib("ro", "redis.register_function{function_name='get', "
                              "callback=function(keys) return redis.call('get', keys[1]) end, "
                              "flags={'no-writes'}}"))
    f.set("x", "1")
    assert f.fcall_ro("get", 1, "x") == "1"
    assert f.fcall("get", 1, "x") == "1"


@pytest.mark.parametrize("command", ["FCALL", "FCALL_RO"])
def test_no_writes_function_cannot_write(fc, command):
    fc.call("FUNCTION", "LOAD", one("ro", "w", "return redis.call('set', keys[1], '1')",
                                    flags=["no-writes"]))
    assert error_of(fc, command, "w", "1", "x") == (
        "ERR Write commands are not allowed from read-only scripts. script: w, on "
        "@user_function:2.")
    assert fc.call("EXISTS", "x") == 0


def test_no_writes_function_pcall_sees_the_refusal(f):
    f.function_load(one("ro", "w", "local r = redis.pcall('set', keys[1], '1') return r['err']",
                        flags=["no-writes"]))
    assert f.fcall("w", 1, "x") == "ERR Write commands are not allowed from read-only scripts."


def test_function_noscript_commands_are_refused(fc):
    fc.call("FUNCTION", "LOAD", lib("n", "\n".join([
        "redis.register_function('a', function() return redis.call('fcall', 'a', 0) end)",
        "redis.register_function('b', function() return redis.call('function', 'flush') end)",
        "redis.register_function('c', function() return redis.call('eval', 'return 1', 0) end)",
    ])))
    for name, line in (("a", 2), ("b", 3), ("c", 4)):
        assert error_of(fc, "FCALL", name, "0") == (
            "ERR This Redis command is not allowed from script script: %s, on "
            "@user_function:%d." % (name, line))


def test_function_select_does_not_leak(f):
    f.function_load(one("sel", "s", "redis.call('select', '3') return redis.call('set', 'k', 'v')"))
    assert f.fcall("s", 0) == "OK"
    assert f.exists("k") == 0
    f.execute_command("SELECT", 3)
    assert f.get("k") == "v"


def test_function_resp3_replies(raw, f):
    f.function_load(lib("r3", "\n".join([
        "redis.register_function('m', function() redis.setresp(3) "
        "return redis.call('hgetall', 'h') end)",
        "redis.register_function('d', function() return {double = 1.5} end)",
        "redis.register_function('b', function() return true end)",
        "redis.register_function('b3', function() redis.setresp(3) return true end)",
    ])))
    f.hset("h", "a", "1")
    c = raw()
    c.call("HELLO", "3")
    assert rmap(c.call("FCALL", "m", "0")) == {b"a": b"1"}
    assert c.call("FCALL", "d", "0") == 1.5
    # A Lua boolean is RESP3's only after redis.setresp(3).
    assert c.call("FCALL", "b", "0") == 1
    assert c.call("FCALL", "b3", "0") is True
    c2 = raw()
    assert c2.call("FCALL", "m", "0") == [b"a", b"1"]
    assert c2.call("FCALL", "b", "0") == 1


def test_fcall_inside_multi(f):
    f.function_load(one("tx", "incr", "return redis.call('incr', keys[1])"))
    p = f.pipeline(transaction=True)
    p.fcall("incr", 1, "n")
    p.fcall("incr", 1, "n")
    assert p.execute() == [1, 2]


def test_fcall_undeclared_key_in_a_function(f):
    # Declared keys are the safe way; an undeclared key works while its shard
    # can still be locked (the same rule as EVAL's, see docs/compatibility.md).
    f.function_load(one("u", "u", "return redis.call('set', keys[1], 'v')"))
    assert f.fcall("u", 1, "declared") == "OK"
    assert f.get("declared") == "v"


INCR_MANY = ("redis.register_function('incr_many', function(keys, args) local total = 0 "
             "for i = 1, tonumber(args[1]) do total = total + redis.call('INCR', args[2] .. i) "
             "end return total end)")


def test_function_with_undeclared_keys_runs_atomically(f):
    # Some of 200 undeclared keys fall below the declared key's shard: the
    # function learns it needs its database and starts over holding it
    # (docs/scripting.md, "Undeclared keys"), as EVAL's scripts do.
    f.function_load(lib("many", INCR_MANY))
    for declared in ["a", "b", "c", "d"]:
        assert f.fcall("incr_many", 1, declared, 200, "u:%s:" % declared) == 200
        assert f.mget(["u:%s:%d" % (declared, i) for i in range(1, 201)]) == ["1"] * 200
    assert f.fcall("incr_many", 1, "a", 200, "u:a:") == 400


@pytest.mark.sluice_only
def test_function_learns_its_scope_by_name(start_server):
    s = start_server()
    c = s.client()
    c.function_load(lib("many", INCR_MANY.replace("INCR", "GET").replace(
        "total = total + redis.call('GET', args[2] .. i)", "redis.call('GET', args[2] .. i)")))
    learned = None
    for key in ["a", "b", "c", "d", "e", "f", "g", "h"]:
        assert c.fcall("incr_many", 1, key, 200, "cnt:") == 0
        if int(c.info("stats")["sluice_script_learned"]) == 1:
            learned = key
            break
    assert learned is not None
    restarts = int(c.info("stats")["sluice_script_restarts"])
    assert restarts == 1
    # The next call starts with the whole database (by the function's name,
    # in any case): no restart.
    assert c.fcall("INCR_MANY", 1, learned, 200, "cnt:") == 0
    assert int(c.info("stats")["sluice_script_restarts"]) == restarts
    c.close()


def test_every_io_thread_sees_loaded_and_replaced_libraries(start_server):
    s = start_server("--io-threads", "4")
    clients = [s.client() for _ in range(8)]
    clients[0].function_load(one("t", "v", "return 1"))
    assert [c.fcall("v", 0) for c in clients] == [1] * 8
    clients[1].function_load(one("t", "v", "return 2"), replace=True)
    assert [c.fcall("v", 0) for c in clients] == [2] * 8
    clients[2].function_delete("t")
    for c in clients:
        with pytest.raises(redis.ResponseError, match="Function not found"):
            c.fcall("v", 0)
    clients[3].function_load(one("t", "v", "return 3"))
    assert [c.fcall("v", 0) for c in clients] == [3] * 8
    clients[4].script_flush()  # rebuilds that thread's Lua state: it loads the library again
    assert [c.fcall("v", 0) for c in clients] == [3] * 8
    for c in clients:
        c.close()


def test_concurrent_fcall_and_replace(start_server):
    s = start_server("--io-threads", "4")
    admin = s.client()
    admin.function_load(one("c", "v", "return 0"))
    stop = time.monotonic() + 2
    errors = []

    def caller():
        c = s.client()
        try:
            while time.monotonic() < stop:
                assert c.fcall("v", 0) in range(0, 100)
        except Exception as e:  # reported below
            errors.append(e)
        finally:
            c.close()
    threads = [threading.Thread(target=caller, daemon=True) for _ in range(4)]
    for t in threads:
        t.start()
    i = 0
    while time.monotonic() < stop:
        i = (i + 1) % 100
        admin.function_load(one("c", "v", "return %d" % i), replace=True)
    for t in threads:
        t.join(30)
    assert not any(t.is_alive() for t in threads)
    assert not errors, errors[0]


# ---- flags: allow-oom -------------------------------------------------------------------------

def test_functions_under_full_memory(start_server):
    s = start_server()
    r = s.client()
    r.set("g", "1")
    r.function_load(lib("oom", "\n".join([
        "redis.register_function('plain', function(k) return redis.call('get', k[1]) end)",
        "redis.register_function{function_name='ro', callback=function(k) "
        "return redis.call('get', k[1]) end, flags={'no-writes'}}",
        "redis.register_function{function_name='oomok', callback=function(k) "
        "return redis.call('set', k[1], 'y') end, flags={'allow-oom'}}",
    ])))
    r.config_set("maxmemory-policy", "noeviction")
    r.config_set("maxmemory", 1)
    with RawConn(s.port) as c:
        # A function that may write is refused at the start...
        assert str(c.call("FCALL", "plain", "1", "g")) == OOM
        # ...unless it cannot write or allows it.
        assert c.call("FCALL", "ro", "1", "g") == b"1"
        assert c.call("FCALL_RO", "ro", "1", "g") == b"1"
        assert c.call("FCALL", "oomok", "1", "g") == "OK"
        assert str(c.call("FUNCTION", "LOAD", one("x", "x", "return 1"))) == OOM
    r.config_set("maxmemory", 0)
    assert r.get("g") == "y"


# ---- FUNCTION DELETE / FLUSH ------------------------------------------------------------------

def test_delete(fc):
    fc.call("FUNCTION", "LOAD", one("d", "f", "return 1"))
    assert fc.call("FUNCTION", "DELETE", "d") == "OK"
    assert error_of(fc, "FCALL", "f", "0") == "ERR Function not found"
    assert error_of(fc, "FUNCTION", "DELETE", "d") == "ERR Library not found"
    # The function's name is free again.
    assert fc.call("FUNCTION", "LOAD", one("other", "f", "return 2")) == b"other"


@pytest.mark.parametrize(("args", "expected"), [
    (("FUNCTION", "DELETE"), arity_error("function|delete")),
    (("FUNCTION", "DELETE", "a", "b"), arity_error("function|delete")),
    (("FUNCTION", "DELETE", "D"), "ERR Library not found"),
    (("FUNCTION", "FLUSH", "x"), "ERR FUNCTION FLUSH only supports SYNC|ASYNC option"),
    (("FUNCTION", "FLUSH", "async", "x"),
     "ERR unknown subcommand or wrong number of arguments for 'FLUSH'. Try FUNCTION HELP."),
    (("FUNCTION", "flush", "async", "x"),
     "ERR unknown subcommand or wrong number of arguments for 'flush'. Try FUNCTION HELP."),
    (("FUNCTION", "DUMP", "x"), arity_error("function|dump")),
    (("FUNCTION", "STATS", "x"), arity_error("function|stats")),
    (("FUNCTION", "KILL", "x"), arity_error("function|kill")),
    (("FUNCTION", "RESTORE"), arity_error("function|restore")),
    (("FUNCTION", "LIST", "x"), "ERR Unknown argument x"),
    (("FUNCTION", "LIST", "LIBRARYNAME"), "ERR library name argument was not given"),
    (("FUNCTION", "LIST", "WITHCODE", "WITHCODE"), "ERR Unknown argument WITHCODE"),
    (("FUNCTION", "LIST", "LIBRARYNAME", "a", "LIBRARYNAME", "b"),
     "ERR Unknown argument LIBRARYNAME"),
    (("FUNCTION", "NOSUCH"), "ERR unknown subcommand 'NOSUCH'. Try FUNCTION HELP."),
    (("FUNCTION",), arity_error("function")),
])
def test_function_subcommand_errors(fc, args, expected):
    fc.call("FUNCTION", "LOAD", one("d", "f", "return 1"))
    assert error_of(fc, *args) == expected


@pytest.mark.parametrize("mode", [[], ["ASYNC"], ["SYNC"], ["async"], ["sync"]])
def test_flush(fc, mode):
    fc.call("FUNCTION", "LOAD", one("a", "f", "return 1"))
    fc.call("FUNCTION", "LOAD", one("b", "g", "return 1"))
    assert fc.call("FUNCTION", "FLUSH", *mode) == "OK"
    assert fc.call("FUNCTION", "LIST") == []
    assert error_of(fc, "FCALL", "f", "0") == "ERR Function not found"
    assert fc.call("FUNCTION", "LOAD", one("a", "f", "return 2")) == b"a"


# ---- FUNCTION LIST ----------------------------------------------------------------------------

def test_list_resp2_shape(fc):
    fc.call("FUNCTION", "LOAD", lib("shape", "redis.register_function{function_name='f', "
                                             "callback=function() end, description='desc', "
                                             "flags={'allow-stale', 'no-writes'}}\n"
                                             "redis.register_function('g', function() end)"))
    [entry] = fc.call("FUNCTION", "LIST")
    assert entry[:4] == [b"library_name", b"shape", b"engine", b"LUA"]
    assert entry[4] == b"functions"
    fns = sorted(entry[5], key=lambda fn: fn[1])
    # Flags are status replies.
    assert fns[0] == [b"name", b"f", b"description", b"desc", b"flags",
                      ["no-writes", "allow-stale"]]
    assert fns[1] == [b"name", b"g", b"description", None, b"flags", []]
    assert len(entry) == 6


def test_list_resp3_shape(raw, f):
    code = lib("shape", "redis.register_function{function_name='f', callback=function() end, "
                        "flags={'no-writes', 'allow-oom', 'allow-stale', 'no-cluster', "
                        "'allow-cross-slot-keys'}}")
    f.function_load(code)
    c = raw()
    c.call("HELLO", "3")
    [entry] = rmap(c.call("FUNCTION", "LIST", "WITHCODE"))
    assert entry[b"library_name"] == b"shape"
    assert entry[b"engine"] == b"LUA"
    assert entry[b"library_code"] == code.encode()
    [fn] = entry[b"functions"]
    assert fn[b"name"] == b"f"
    assert fn[b"description"] is None
    assert fn[b"flags"] == {"no-writes", "allow-oom", "allow-stale", "no-cluster",
                            "allow-cross-slot-keys"}


def test_list_withcode_and_libraryname(f):
    codes = {n: one(n, "f_" + n, "return 1") for n in ("alpha", "beta", "Alpine")}
    for code in codes.values():
        f.function_load(code)
    assert [x["library_name"] for x in listing(f)] == ["Alpine", "alpha", "beta"]
    # LIBRARYNAME is a glob pattern, matched ignoring case.
    assert [x["library_name"] for x in listing(f, "LIBRARYNAME", "al*")] == ["Alpine", "alpha"]
    assert [x["library_name"] for x in listing(f, "LIBRARYNAME", "beta")] == ["beta"]
    assert [x["library_name"] for x in listing(f, "libraryname", "?ETA")] == ["beta"]
    assert listing(f, "LIBRARYNAME", "nomatch*") == []
    listed = listing(f, "LIBRARYNAME", "beta", "WITHCODE")
    assert listed[0]["library_code"] == codes["beta"]
    raw_reply = f.execute_command("FUNCTION", "LIST", "WITHCODE", "LIBRARYNAME", "beta")
    assert raw_reply[0][-2:] == ["library_code", codes["beta"]]
    assert "library_code" not in listing(f, "LIBRARYNAME", "beta")[0]


def test_list_empty(fc):
    assert fc.call("FUNCTION", "LIST") == []
    assert fc.call("FUNCTION", "LIST", "WITHCODE") == []


# ---- FUNCTION DUMP / RESTORE ------------------------------------------------------------------

def test_dump_restore_round_trip(f):
    f.function_load(one("a", "fa", "return 'a'"))
    f.function_load(one("b", "fb", "return 'b'", flags=["no-writes"]))
    before = listing(f, "WITHCODE")
    dump = f.function_dump()
    f.function_flush()
    assert f.function_restore(dump) is True
    assert listing(f, "WITHCODE") == before
    assert f.fcall("fa", 0) == "a"
    assert f.fcall_ro("fb", 0) == "b"


def test_dump_of_nothing_restores_nothing(f):
    dump = f.function_dump()
    f.function_load(one("a", "fa", "return 1"))
    assert f.function_restore(dump) is True
    assert len(listing(f)) == 1


def test_dump_payload_layout(rb, f):
    code = one("lay", "f", "return 1")
    f.function_load(code)
    dump = rb.function_dump()
    version, crc = struct.unpack("<HQ", dump[-10:])
    assert version in (10, 11)
    assert crc == crc64(dump[:-8])
    assert dump[0] == 0xF5  # RDB_OPCODE_FUNCTION2


@pytest.mark.sluice_only  # Redis compresses long codes with LZF; sluice writes them plain
def test_dump_payload_is_plain_rdb_string(rb, f):
    code = one("lay", "f", "return 1")
    f.function_load(code)
    assert rb.function_dump() == payload(code)


def test_restore_handmade_payload(f):
    code = one("hand", "h", "return 'made'")
    assert f.function_restore(payload(code)) is True
    assert f.fcall("h", 0) == "made"


def test_restore_long_handmade_payload(f):
    code = one("long", "h", "return '%s'" % ("x" * 20000))
    assert f.function_restore(payload(code)) is True
    assert f.fcall("h", 0) == "x" * 20000


@pytest.mark.sluice_only  # Redis 7.0 refuses RDB 11 payloads (7.2 writes them)
def test_restore_accepts_rdb_version_11(f):
    assert f.function_restore(payload(one("v11", "h", "return 1"), version=11)) is True


@pytest.mark.parametrize("data", [
    b"", b"bad_payload", b"\x00" * 9, b"\x01" * 10,
    payload(one("a", "f", "return 1"), version=12),
    payload(one("a", "f", "return 1"))[:-1] + b"\x00",
    b"\xf6" + payload(one("a", "f", "return 1"))[1:],
])
def test_restore_bad_payload(fc, data):
    fc.call("FUNCTION", "LOAD", one("keep", "k", "return 1"))
    assert error_of(fc, "FUNCTION", "RESTORE", data) == BAD_PAYLOAD
    assert fc.call("FCALL", "k", "0") == 1


@pytest.mark.parametrize(("body", "expected"), [
    (b"\x00\x01x", "ERR given type is not a function"),
    (b"\xf5", "ERR Failed loading library payload"),
    (b"\xf5" + rdb_string("return 1"), "ERR Missing library metadata"),
    (b"\xf5" + rdb_string("#!lua name=z\nreturn 1"), "ERR No functions registered"),
    (b"\xf5" + rdb_string("#!lua name=z\n("),
     "ERR Error compiling function: user_function:2: unexpected symbol near '<eof>'"),
    (b"\xf5" + rdb_string(one("d", "f", "return 1")) + b"\xf5" + rdb_string(one("d", "g", "")),
     "ERR Library 'd' already exists"),
    (b"\xf5" + rdb_string(one("d", "f", "return 1")) + b"\xf5" + rdb_string(one("e", "f", "")),
     "ERR Function f already exists"),
])
def test_restore_bad_contents(fc, body, expected):
    fc.call("FUNCTION", "LOAD", one("keep", "k", "return 1"))
    assert error_of(fc, "FUNCTION", "RESTORE", frame(body)) == expected
    assert fc.call("FCALL", "k", "0") == 1
    assert len(fc.call("FUNCTION", "LIST")) == 1


@pytest.mark.sluice_only  # Redis 7.0 tries to read the pre-release format instead
def test_restore_pre_ga_format(fc):
    assert error_of(fc, "FUNCTION", "RESTORE", frame(b"\xf6" + rdb_string("x"))) == \
        "ERR Pre-GA function format not supported"


def test_restore_policies(fc):
    fc.call("FUNCTION", "LOAD", one("p", "f", "return 'dumped'"))
    dump = fc.call("FUNCTION", "DUMP")
    fc.call("FUNCTION", "FLUSH")
    fc.call("FUNCTION", "LOAD", one("p", "f", "return 'current'"))
    # APPEND (the default) refuses a library that exists.
    assert error_of(fc, "FUNCTION", "RESTORE", dump) == "ERR Library p already exists"
    assert error_of(fc, "FUNCTION", "RESTORE", dump, "APPEND") == "ERR Library p already exists"
    assert fc.call("FCALL", "f", "0") == b"current"
    # REPLACE replaces it.
    assert fc.call("FUNCTION", "RESTORE", dump, "REPLACE") == "OK"
    assert fc.call("FCALL", "f", "0") == b"dumped"
    # FLUSH removes everything else first.
    fc.call("FUNCTION", "LOAD", one("other", "o", "return 1"))
    assert fc.call("FUNCTION", "RESTORE", dump, "flush") == "OK"
    assert [e[1] for e in fc.call("FUNCTION", "LIST")] == [b"p"]
    assert error_of(fc, "FCALL", "o", "0") == "ERR Function not found"


def test_restore_append_merges(f):
    f.function_load(one("a", "fa", "return 'a'"))
    dump = f.function_dump()
    f.function_flush()
    f.function_load(one("b", "fb", "return 'b'"))
    assert f.function_restore(dump, "APPEND") is True
    assert (f.fcall("fa", 0), f.fcall("fb", 0)) == ("a", "b")


@pytest.mark.parametrize("policy", ["APPEND", "REPLACE"])
def test_restore_function_collision(fc, policy):
    fc.call("FUNCTION", "LOAD", one("q", "q", "return 1"))
    dump = fc.call("FUNCTION", "DUMP")
    fc.call("FUNCTION", "FLUSH")
    fc.call("FUNCTION", "LOAD", one("w", "q", "return 2"))
    assert error_of(fc, "FUNCTION", "RESTORE", dump, policy) == "ERR Function q already exists"
    assert fc.call("FCALL", "q", "0") == 2


def test_restore_policy_errors(fc):
    dump = fc.call("FUNCTION", "DUMP")
    assert error_of(fc, "FUNCTION", "RESTORE", dump, "BAD") == \
        "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE."
    # The policy is checked before the payload.
    assert error_of(fc, "FUNCTION", "RESTORE", "junk", "BAD") == \
        "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE."
    assert error_of(fc, "FUNCTION", "RESTORE", dump, "FLUSH", "x") == \
        "ERR unknown subcommand or wrong number of arguments for 'RESTORE'. Try FUNCTION HELP."


# ---- payload interchange with Redis -----------------------------------------------------------

@pytest.fixture
def other_redis(tmp_path):
    """A redis-server beside the server under test (skipped where none is installed)."""
    if not os.path.exists(REDIS_SERVER) or shutil.which(REDIS_SERVER) is None:
        pytest.skip("redis-server is not installed")
    import subprocess
    port = free_port()
    proc = subprocess.Popen([REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1",
                             "--save", "", "--appendonly", "no", "--dir", str(tmp_path)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL)
    client = redis.Redis(port=port, socket_timeout=10)
    try:
        wait_until(lambda: _pings(client), timeout=10, message="redis-server up")
        yield client
    finally:
        client.close()
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def _pings(client):
    try:
        return client.ping()
    except redis.ConnectionError:
        return False


INTEROP_LIBS = [
    one("lzf", "aaaa", "return '%s'" % ("a" * 64)),  # long enough for Redis to compress
    lib("other", "redis.register_function{function_name='bbbb', callback=function() return 2 "
                 "end, flags={'no-writes', 'allow-oom'}, description='desc'}"),
    one("big", "cccc", "return '%s'" % "".join(chr(48 + i % 40) for i in range(20000))),
]


def test_payload_from_redis_restores_here(f, other_redis):
    other_redis.function_flush()
    for code in INTEROP_LIBS:
        other_redis.function_load(code)
    dump = other_redis.function_dump()
    assert f.function_restore(dump) is True
    assert f.fcall("aaaa", 0) == "a" * 64
    assert f.fcall_ro("bbbb", 0) == 2
    assert len(f.fcall("cccc", 0)) == 20000
    mine = {e["library_name"]: e["library_code"] for e in listing(f, "WITHCODE")}
    assert mine == {c.split("\n")[0].split("=")[1]: c for c in INTEROP_LIBS}


def test_payload_from_here_restores_into_redis(f, other_redis):
    for code in INTEROP_LIBS:
        f.function_load(code)
    other_redis.function_flush()
    assert other_redis.function_restore(f.function_dump()) is True
    assert other_redis.fcall("aaaa", 0) == b"a" * 64
    assert other_redis.fcall_ro("bbbb", 0) == 2
    assert [e["library_name"] for e in listing(other_redis)] == [b"big", b"lzf", b"other"]


# ---- FUNCTION STATS / KILL and busy functions -------------------------------------------------

THRESHOLD_MS = 100
ANSWER_WITHIN = 1.0 if not SANITIZER else 3.0


def test_stats_when_idle(fc):
    assert fc.call("FUNCTION", "STATS") == [
        b"running_script", None, b"engines", [b"LUA", [b"libraries_count", 0,
                                                        b"functions_count", 0]]]
    fc.call("FUNCTION", "LOAD", lib("s", "redis.register_function('a', function() end)\n"
                                         "redis.register_function('b', function() end)"))
    fc.call("FUNCTION", "LOAD", one("t", "c", ""))
    assert fc.call("FUNCTION", "STATS")[3] == [b"LUA", [b"libraries_count", 2,
                                                        b"functions_count", 3]]


def test_stats_resp3(raw, f):
    f.function_load(one("s", "a", ""))
    c = raw()
    c.call("HELLO", "3")
    assert rmap(c.call("FUNCTION", "STATS")) == {
        b"running_script": None,
        b"engines": {b"LUA": {b"libraries_count": 1, b"functions_count": 1}}}


def _start_in_thread(port, *args):
    """Sends args on a fresh connection in a thread; returns (thread, result)."""
    conn = RawConn(port, timeout=30)
    result = {}

    def run():
        try:
            result["reply"] = conn.call(*args)
        finally:
            conn.close()
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, result


def _wait_busy(conn, text):
    wait_until(lambda: conn.call("PING") == RespError(text), timeout=10, message="BUSY")


@pytest.fixture
def busy_server(start_server):
    s = start_server("--busy-reply-threshold", str(THRESHOLD_MS))
    return s


def test_function_kill_stops_a_looping_function(busy_server):
    s = busy_server
    with RawConn(s.port) as c:
        c.call("FUNCTION", "LOAD", one("loop", "spin", "local a = 1 while true do a = a + 1 end"))
        t, result = _start_in_thread(s.port, "FCALL", "spin", "0")
        _wait_busy(c, BUSY_FUNCTION)
        stats = c.call("FUNCTION", "STATS")
        running = stats[1]
        assert running[:4] == [b"name", b"spin", b"command", [b"FCALL", b"spin", b"0"]]
        assert running[4] == b"duration_ms" and running[5] >= 0
        # SCRIPT KILL cannot stop a function.
        assert c.call("SCRIPT", "KILL") == RespError(BUSY_FUNCTION)
        assert c.call("FUNCTION", "KILL") == "OK"
        t.join(10)
        assert not t.is_alive()
        assert str(result["reply"]).startswith("ERR Script killed by user with")
        wait_until(lambda: c.call("PING") == "PONG", timeout=5, message="PONG")
        assert c.call("FUNCTION", "STATS")[1] is None
        assert c.call("FUNCTION", "KILL") == RespError(NOTBUSY)


def test_function_kill_does_not_stop_eval(busy_server):
    s = busy_server
    with RawConn(s.port) as c:
        t, result = _start_in_thread(s.port, "EVAL", "local a = 1 while true do a = a + 1 end",
                                     "0")
        _wait_busy(c, BUSY_SCRIPT)
        assert c.call("FUNCTION", "KILL") == RespError(BUSY_SCRIPT)
        assert c.call("SCRIPT", "KILL") == "OK"
        t.join(10)
        assert not t.is_alive()
        wait_until(lambda: c.call("PING") == "PONG", timeout=5, message="PONG")


def test_function_that_wrote_is_unkillable(busy_server):
    s = busy_server
    with RawConn(s.port) as c:
        c.call("FUNCTION", "LOAD", one("w", "w", "redis.call('set', keys[1], 'x') "
                                                 "local a = 0 while a < 1e300 do a = a + 1 end"))
        t, result = _start_in_thread(s.port, "FCALL", "w", "1", "k")
        _wait_busy(c, BUSY_FUNCTION)
        assert c.call("FUNCTION", "KILL") == RespError(UNKILLABLE)
        # SHUTDOWN NOSAVE is the way out.
        c.send(b"SHUTDOWN NOSAVE\r\n")
        assert c.is_closed(timeout=5)
    assert s.wait_exit() == 0, s.output()
    t.join(15)
    assert not t.is_alive()


@pytest.mark.parametrize("first,kill", [("FUNCTION", "SCRIPT"), ("EVAL", "FUNCTION")])
def test_the_other_kill_of_a_script_that_wrote_is_unkillable(busy_server, first, kill):
    # Redis answers "it wrote" before "only the other KILL can stop it".
    s = busy_server
    body = "redis.call('set', KEYS[1], 'x') local a = 0 while a < 1e300 do a = a + 1 end"
    with RawConn(s.port) as c:
        if first == "FUNCTION":
            c.call("FUNCTION", "LOAD", one("w", "w", body.replace("KEYS", "keys")))
            t, result = _start_in_thread(s.port, "FCALL", "w", "1", "k")
            _wait_busy(c, BUSY_FUNCTION)
        else:
            t, result = _start_in_thread(s.port, "EVAL", body, "1", "k")
            _wait_busy(c, BUSY_SCRIPT)
        assert c.call(kill, "KILL") == RespError(UNKILLABLE)
        c.send(b"SHUTDOWN NOSAVE\r\n")
        assert c.is_closed(timeout=5)
    assert s.wait_exit() == 0, s.output()
    t.join(15)
    assert not t.is_alive()


@pytest.mark.sluice_only
def test_function_kill_when_idle(fc):
    assert fc.call("FUNCTION", "KILL") == RespError(NOTBUSY)


def test_load_time_loop_cannot_wedge_the_server(fc):
    t0 = time.monotonic()
    assert "FUNCTION LOAD timeout" in error_of(fc, "FUNCTION", "LOAD",
                                               lib("l", "while true do end"))
    assert time.monotonic() - t0 < 30
    assert fc.call("PING") == "PONG"


# ---- HELP, COMMAND, INFO ----------------------------------------------------------------------

def test_help(fc):
    lines = fc.call("FUNCTION", "HELP")
    text = "\n".join(str(x) for x in lines)
    for sub in ("LOAD", "DELETE", "LIST", "STATS", "KILL", "FLUSH", "DUMP", "RESTORE", "HELP"):
        assert sub in text


def test_command_info_rows(fc):
    info = fc.call("COMMAND", "INFO", "fcall", "fcall_ro", "function|load",
                   "function|stats", "function|kill", "function|restore")
    by_name = {row[0].decode(): row for row in info}
    assert by_name["fcall"][1] == -3
    assert {"noscript", "stale", "skip_monitor"} <= set(by_name["fcall"][2])
    assert "readonly" in by_name["fcall_ro"][2]
    assert {"write", "denyoom", "noscript"} <= set(by_name["function|load"][2])
    assert "allow_busy" in by_name["function|stats"][2]
    assert "allow_busy" in by_name["function|kill"][2]
    assert {"write", "denyoom", "noscript"} <= set(by_name["function|restore"][2])


def test_info_counts_functions(f):
    f.function_load(lib("i", "redis.register_function('a', function() end)\n"
                             "redis.register_function('b', function() end)"))
    mem = f.info("memory")
    assert mem["number_of_functions"] == 2
    assert mem["number_of_libraries"] == 1
    assert mem["used_memory_functions"] > 0


@pytest.mark.parametrize(("name", "flags", "key_flags"), [
    ("fcall", {"noscript", "stale", "skip_monitor", "no_mandatory_keys", "movablekeys"},
     ["RW", "access", "update"]),
    ("fcall_ro", {"readonly", "noscript", "stale", "skip_monitor", "no_mandatory_keys",
                  "movablekeys"}, ["RO", "access"]),
    ("eval", {"noscript", "stale", "skip_monitor", "no_mandatory_keys", "movablekeys"},
     ["RW", "access", "update"]),
    ("evalsha_ro", {"readonly", "noscript", "stale", "skip_monitor", "no_mandatory_keys",
                    "movablekeys"}, ["RO", "access"]),
])
def test_command_info_keynum_key_specs(fc, name, flags, key_flags):
    [row] = fc.call("COMMAND", "INFO", name)
    assert set(row[2]) == flags
    [spec] = row[8]
    fields = dict(zip(spec[0::2], spec[1::2]))
    assert fields[b"flags"] == key_flags
    assert fields[b"begin_search"] == [b"type", b"index", b"spec", [b"index", 2]]
    assert fields[b"find_keys"] == [b"type", b"keynum", b"spec",
                                    [b"keynumidx", 0, b"firstkey", 1, b"keystep", 1]]


@pytest.mark.parametrize("command", ["FCALL", "FCALL_RO"])
def test_command_getkeys_follows_numkeys(fc, command):
    assert fc.call("COMMAND", "GETKEYS", command, "f", "2", "k1", "k2", "a1") == [b"k1", b"k2"]
    assert fc.call("COMMAND", "GETKEYS", command, "f", "1", "k1") == [b"k1"]
