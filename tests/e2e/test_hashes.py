"""Hash commands: HSET and friends, reads, increments, HRANDFIELD, HSCAN;
the listpack -> hashtable conversion; hashes under the generic key commands,
RESP3, keyspace events and scripts. Everything here but the sluice_only tests
also passes against redis-server 7.0."""

import pytest

from helpers import (INT64_MAX, INT64_MIN, NOT_FLOAT, NOT_INT, OVERFLOW, SYNTAX, WRONGTYPE,
                     arity_error, error_of, subscribed, wait_until)

HASH_NOT_INT = "ERR hash value is not an integer"
HASH_NOT_FLOAT = "ERR hash value is not a float"

WRONG_ARITY = [
    ("hset", []), ("hset", ["h"]), ("hset", ["h", "f"]), ("hset", ["h", "f", "v", "g"]),
    ("hmset", ["h", "f"]), ("hmset", ["h", "f", "v", "g"]),
    ("hsetnx", ["h", "f"]), ("hsetnx", ["h", "f", "v", "x"]),
    ("hget", ["h"]), ("hget", ["h", "f", "g"]),
    ("hmget", ["h"]),
    ("hgetall", []), ("hgetall", ["h", "x"]),
    ("hkeys", []), ("hvals", ["h", "x"]),
    ("hdel", ["h"]),
    ("hexists", ["h"]), ("hlen", []), ("hstrlen", ["h"]),
    ("hincrby", ["h", "f"]), ("hincrby", ["h", "f", "1", "2"]),
    ("hincrbyfloat", ["h", "f"]),
    ("hrandfield", []),
    ("hscan", ["h"]),
]


@pytest.mark.parametrize("cmd,args", WRONG_ARITY,
                         ids=lambda v: v if isinstance(v, str) else str(len(v)))
def test_wrong_arity(c, cmd, args):
    assert error_of(c, cmd, *args) == arity_error(cmd)
    assert c.call("PING") == "PONG"


@pytest.fixture
def listpack_limits(r):
    """Sets hash-max-listpack-entries/-value for a test, restoring them after."""
    saved = {k: r.config_get(k)[k]
             for k in ("hash-max-listpack-entries", "hash-max-listpack-value")}

    def set_limits(entries=128, value=64):
        r.config_set("hash-max-listpack-entries", entries)
        r.config_set("hash-max-listpack-value", value)
    yield set_limits
    for k, v in saved.items():
        r.config_set(k, v)


# ---- writes and reads ----------------------------------------------------------------------


def test_hset_hget_and_counts(r):
    assert r.hget("h", "f") is None
    assert r.hset("h", "f", "v") == 1
    assert r.hset("h", mapping={"f": "v2", "g": "1", "e": ""}) == 2
    assert r.hget("h", "f") == "v2"
    assert r.hget("h", "e") == ""
    assert r.hget("h", "missing") is None
    assert r.hlen("h") == 3
    assert r.hlen("nokey") == 0
    # A field given twice: the last value wins and counts once.
    assert r.execute_command("HSET", "h2", "a", "1", "a", "2") == 1
    assert r.hgetall("h2") == {"a": "2"}


def test_hmset_replies_ok(c):
    assert c.call("HMSET", "h", "a", "1", "b", "2") == "OK"
    assert c.call("HGETALL", "h") == [b"a", b"1", b"b", b"2"]


def test_hsetnx(r):
    assert r.hsetnx("h", "f", "1") == 1
    assert r.hsetnx("h", "f", "2") == 0
    assert r.hget("h", "f") == "1"


def test_hmget(r):
    r.hset("h", mapping={"a": "1", "b": "2"})
    assert r.hmget("h", ["a", "x", "b"]) == ["1", None, "2"]
    assert r.hmget("nokey", ["a", "b"]) == [None, None]


def test_hgetall_hkeys_hvals_keep_insertion_order_while_small(r):
    pairs = [("f%d" % i, "v%d" % i) for i in range(10)]
    for f, v in pairs:
        r.hset("h", f, v)
    assert list(r.hgetall("h").items()) == pairs
    assert r.hkeys("h") == [f for f, _ in pairs]
    assert r.hvals("h") == [v for _, v in pairs]
    assert r.hgetall("nokey") == {}
    assert r.hkeys("nokey") == []
    assert r.hvals("nokey") == []


def test_hexists_hstrlen(r):
    r.hset("h", mapping={"s": "hello", "n": "-12345", "e": ""})
    assert r.hexists("h", "s") is True
    assert r.hexists("h", "x") is False
    assert r.hexists("nokey", "x") is False
    assert r.hstrlen("h", "s") == 5
    assert r.hstrlen("h", "n") == 6
    assert r.hstrlen("h", "e") == 0
    assert r.hstrlen("h", "x") == 0
    assert r.hstrlen("nokey", "x") == 0


def test_integer_looking_values_read_back_as_given(r):
    values = ["0", "-1", "123", "0123", "+5", "-0", "9223372036854775807",
              "9223372036854775808", "1.5", " 7"]
    for i, v in enumerate(values):
        r.hset("h", "f%d" % i, v)
    assert [r.hget("h", "f%d" % i) for i in range(len(values))] == values


def test_binary_fields_and_values(rb):
    field, value = b"\x00\xff\r\n", b"\x01\x00\x02" * 30
    rb.hset(b"h", field, value)
    assert rb.hget(b"h", field) == value
    assert rb.hgetall(b"h") == {field: value}


def test_hdel_removes_fields_and_the_empty_key(r):
    r.hset("h", mapping={"a": "1", "b": "2", "c": "3"})
    assert r.hdel("h", "a", "x") == 1
    assert r.hdel("h", "a") == 0
    assert r.hdel("nokey", "a") == 0
    assert r.exists("h") == 1
    assert r.hdel("h", "b", "c", "b") == 2
    assert r.exists("h") == 0
    assert r.type("h") == "none"


# ---- increments ----------------------------------------------------------------------------


def test_hincrby(r):
    assert r.hincrby("h", "n", 5) == 5
    assert r.hincrby("h", "n", -7) == -2
    assert r.hget("h", "n") == "-2"
    r.hset("h", "big", INT64_MAX - 1)
    assert r.hincrby("h", "big", 1) == INT64_MAX


def test_hincrby_errors(c):
    c.call("HSET", "h", "s", "abc", "max", str(INT64_MAX), "min", str(INT64_MIN),
           "sp", " 1", "lead", "01")
    assert error_of(c, "HINCRBY", "h", "s", "1") == HASH_NOT_INT
    assert error_of(c, "HINCRBY", "h", "sp", "1") == HASH_NOT_INT
    assert error_of(c, "HINCRBY", "h", "lead", "1") == HASH_NOT_INT
    assert error_of(c, "HINCRBY", "h", "max", "1") == OVERFLOW
    assert error_of(c, "HINCRBY", "h", "min", "-1") == OVERFLOW
    assert error_of(c, "HINCRBY", "h", "f", "x") == NOT_INT
    assert error_of(c, "HINCRBY", "h", "f", "1.5") == NOT_INT
    # Errors leave nothing behind.
    assert error_of(c, "HINCRBY", "new", "f", "x") == NOT_INT
    assert c.call("EXISTS", "new") == 0
    assert c.call("HGET", "h", "max") == str(INT64_MAX).encode()


def test_hincrbyfloat(c):
    assert c.call("HINCRBYFLOAT", "h", "x", "10.5") == b"10.5"
    assert c.call("HINCRBYFLOAT", "h", "x", "0.1") == b"10.6"
    c.call("HSET", "h", "e", "5.0e3")
    assert c.call("HINCRBYFLOAT", "h", "e", "2.0e2") == b"5200"
    c.call("HSET", "h", "i", "3")
    assert c.call("HINCRBYFLOAT", "h", "i", "1") == b"4"
    assert c.call("HINCRBYFLOAT", "h", "i", "-4") == b"0"
    assert c.call("HINCRBYFLOAT", "h", "i", "-1.5") == b"-1.5"
    assert c.call("HGET", "h", "x") == b"10.6"


def test_hincrbyfloat_errors(c):
    c.call("HSET", "h", "s", "abc", "f", "1")
    assert error_of(c, "HINCRBYFLOAT", "h", "s", "1") == HASH_NOT_FLOAT
    assert error_of(c, "HINCRBYFLOAT", "h", "f", "abc") == NOT_FLOAT
    assert error_of(c, "HINCRBYFLOAT", "h", "f", "inf") == "ERR value is NaN or Infinity"
    assert error_of(c, "HINCRBYFLOAT", "h", "f", "nan") == NOT_FLOAT
    assert c.call("HGET", "h", "f") == b"1"


# ---- HRANDFIELD ----------------------------------------------------------------------------


def test_hrandfield_single_and_counts(r):
    fields = {"f%d" % i: "v%d" % i for i in range(20)}
    r.hset("h", mapping=fields)
    assert r.hrandfield("h") in fields
    assert r.hrandfield("nokey") is None
    assert r.hrandfield("nokey", 3) == []
    assert r.hrandfield("h", 0) == []
    picked = r.hrandfield("h", 5)
    assert len(picked) == 5 and len(set(picked)) == 5 and set(picked) <= set(fields)
    assert sorted(r.hrandfield("h", 100)) == sorted(fields)
    repeated = r.hrandfield("h", -50)
    assert len(repeated) == 50 and set(repeated) <= set(fields)
    assert r.hrandfield("h", -3, withvalues=True)[1] in fields.values()
    flat = r.execute_command("HRANDFIELD", "h", "4", "WITHVALUES")
    assert len(flat) == 8
    for f, v in zip(flat[::2], flat[1::2]):
        assert fields[f] == v


def test_hrandfield_on_a_large_hash(r, listpack_limits):
    listpack_limits(entries=16)
    fields = {"f%d" % i: str(i) for i in range(200)}
    r.hset("h", mapping=fields)
    assert r.object("encoding", "h") == "hashtable"
    picked = r.hrandfield("h", 10)
    assert len(set(picked)) == 10 and set(picked) <= set(fields)
    most = r.hrandfield("h", 150)
    assert len(set(most)) == 150 and set(most) <= set(fields)
    assert len(r.hrandfield("h", -300)) == 300


def test_hrandfield_errors(c):
    c.call("HSET", "h", "f", "v")
    assert error_of(c, "HRANDFIELD", "h", "x") == NOT_INT
    assert error_of(c, "HRANDFIELD", "h", "1", "WITHVALUE") == SYNTAX
    assert error_of(c, "HRANDFIELD", "h", "1", "WITHVALUES", "x") == SYNTAX
    assert error_of(c, "HRANDFIELD", "h", str(INT64_MIN)) == (
        "ERR value is out of range, value must between -9223372036854775807 and "
        "9223372036854775807")
    assert error_of(c, "HRANDFIELD", "h", str(INT64_MAX), "WITHVALUES") == (
        "ERR value is out of range")
    # The count is checked before the key's type.
    c.call("SET", "s", "v")
    assert error_of(c, "HRANDFIELD", "s", "x") == NOT_INT
    assert error_of(c, "HRANDFIELD", "s", "1") == WRONGTYPE


# ---- HSCAN ---------------------------------------------------------------------------------


def test_hscan_small_hash_in_one_call(r):
    r.hset("h", mapping={"a": "1", "b": "2", "ab": "3"})
    assert r.hscan("h", 0) == (0, {"a": "1", "b": "2", "ab": "3"})
    assert r.hscan("h", 0, match="a*") == (0, {"a": "1", "ab": "3"})
    assert r.hscan("nokey", 0) == (0, {})


def test_hscan_large_hash_visits_every_field(r, listpack_limits):
    listpack_limits(entries=8)
    fields = {"f%d" % i: str(i) for i in range(500)}
    r.hset("h", mapping=fields)
    seen, cursor, calls = {}, 0, 0
    while True:
        cursor, page = r.hscan("h", cursor, count=20)
        seen.update(page)
        calls += 1
        if cursor == 0:
            break
    assert seen == fields
    assert calls > 1
    matched = {}
    for f, v in r.hscan_iter("h", match="f1*"):
        matched[f] = v
    assert matched == {f: v for f, v in fields.items() if f.startswith("f1")}


def test_hscan_errors(c):
    c.call("HSET", "h", "f", "v")
    assert error_of(c, "HSCAN", "h", "x") == "ERR invalid cursor"
    assert error_of(c, "HSCAN", "h", "0", "COUNT", "0") == SYNTAX
    assert error_of(c, "HSCAN", "h", "0", "COUNT", "x") == NOT_INT
    assert error_of(c, "HSCAN", "h", "0", "FOO") == SYNTAX
    assert error_of(c, "HSCAN", "h", "0", "MATCH") == SYNTAX
    # Options are only looked at when the key exists.
    assert c.call("HSCAN", "nokey", "0", "FOO") == [b"0", []]
    c.call("SET", "s", "v")
    assert error_of(c, "HSCAN", "s", "0") == WRONGTYPE


# ---- types ---------------------------------------------------------------------------------

HASH_COMMANDS_ON_STRING = [
    ("HSET", "s", "f", "v"), ("HMSET", "s", "f", "v"), ("HSETNX", "s", "f", "v"),
    ("HGET", "s", "f"), ("HMGET", "s", "f"), ("HGETALL", "s"), ("HKEYS", "s"),
    ("HVALS", "s"), ("HDEL", "s", "f"), ("HEXISTS", "s", "f"), ("HLEN", "s"),
    ("HSTRLEN", "s", "f"), ("HINCRBY", "s", "f", "1"), ("HINCRBYFLOAT", "s", "f", "1"),
    ("HRANDFIELD", "s"), ("HRANDFIELD", "s", "2", "WITHVALUES"), ("HSCAN", "s", "0"),
]

STRING_COMMANDS_ON_HASH = [
    ("GET", "h"), ("SET", "h", "v", "GET"), ("GETSET", "h", "v"), ("GETDEL", "h"),
    ("GETEX", "h"), ("APPEND", "h", "x"), ("STRLEN", "h"), ("GETRANGE", "h", "0", "1"),
    ("SETRANGE", "h", "0", "x"), ("INCR", "h"), ("DECR", "h"), ("INCRBY", "h", "1"),
    ("DECRBY", "h", "1"), ("INCRBYFLOAT", "h", "1"), ("SUBSTR", "h", "0", "1"),
]


@pytest.mark.parametrize("args", HASH_COMMANDS_ON_STRING, ids=lambda a: a[0])
def test_hash_commands_on_a_string(c, args):
    c.call("SET", "s", "v")
    assert error_of(c, *args) == WRONGTYPE
    assert c.call("GET", "s") == b"v"


@pytest.mark.parametrize("args", STRING_COMMANDS_ON_HASH, ids=lambda a: " ".join(a[:1] + a[3:]))
def test_string_commands_on_a_hash(c, args):
    c.call("HSET", "h", "f", "v")
    assert error_of(c, *args) == WRONGTYPE
    assert c.call("HGETALL", "h") == [b"f", b"v"]


def test_set_overwrites_a_hash_and_mget_skips_it(r):
    r.hset("h", "f", "v")
    assert r.mget("h", "x") == [None, None]
    assert r.set("h", "str") is True
    assert r.get("h") == "str"
    r.hset("h2", "f", "v")
    assert r.set("h2", "x", nx=True) is None
    assert r.type("h2") == "hash"


def test_type_and_scan_type(r):
    r.hset("h1", "f", "v")
    r.hset("h2", "f", "v")
    r.set("s", "v")
    assert r.type("h1") == "hash"
    keys, cursor = set(), 0
    while True:
        cursor, page = r.scan(cursor, _type="hash")
        keys.update(page)
        if cursor == 0:
            break
    assert keys == {"h1", "h2"}


# ---- encodings -----------------------------------------------------------------------------


def test_conversion_by_entry_count(r, listpack_limits):
    listpack_limits(entries=4)
    r.hset("h", mapping={"f%d" % i: "v" for i in range(4)})
    assert r.object("encoding", "h") == "listpack"
    r.hset("h", "f4", "v")
    assert r.object("encoding", "h") == "hashtable"
    # No conversion back.
    r.hdel("h", "f0", "f1", "f2", "f3")
    assert r.object("encoding", "h") == "hashtable"
    assert r.hgetall("h") == {"f4": "v"}


def test_conversion_by_value_length(r, listpack_limits):
    listpack_limits(value=8)
    r.hset("h", "f", "x" * 8)
    assert r.object("encoding", "h") == "listpack"
    r.hset("h", "g", "x" * 9)
    assert r.object("encoding", "h") == "hashtable"
    r.hset("h2", "x" * 9, "v")
    assert r.object("encoding", "h2") == "hashtable"
    assert r.hgetall("h") == {"f": "x" * 8, "g": "x" * 9}


def test_conversion_keeps_every_field(r, listpack_limits):
    listpack_limits(entries=100)
    fields = {"field:%d" % i: ("%d" % i if i % 2 else "value %d" % i) for i in range(150)}
    for f, v in fields.items():
        r.hset("h", f, v)
    assert r.object("encoding", "h") == "hashtable"
    assert r.hgetall("h") == fields
    assert r.hlen("h") == 150
    assert r.hincrby("h", "field:1", 10) == 11
    assert r.hdel("h", *fields) == 150
    assert r.exists("h") == 0


def test_zero_entries_limit_makes_every_hash_a_table(r, listpack_limits):
    listpack_limits(entries=0)
    r.hset("h", "f", "v")
    assert r.object("encoding", "h") == "hashtable"


def test_config_names_and_aliases(r, listpack_limits):
    listpack_limits(entries=100, value=32)
    assert r.config_get("hash-max-listpack-entries") == {"hash-max-listpack-entries": "100"}
    assert r.config_get("hash-max-ziplist-entries") == {"hash-max-ziplist-entries": "100"}
    r.config_set("hash-max-ziplist-value", 20)
    assert r.config_get("hash-max-listpack-value") == {"hash-max-listpack-value": "20"}
    with pytest.raises(Exception):
        r.config_set("hash-max-listpack-entries", "abc")


# ---- generic key commands ------------------------------------------------------------------


def test_del_unlink_exists_on_hashes(r):
    r.hset("a", "f", "v")
    r.hset("b", mapping={"f%d" % i: "x" * 100 for i in range(1000)})
    assert r.exists("a", "b") == 2
    assert r.delete("a") == 1
    assert r.unlink("b") == 1
    assert r.exists("a", "b") == 0


def test_expiry_on_hashes(r):
    r.hset("h", "f", "v")
    assert r.expire("h", 100) is True
    assert 0 < r.ttl("h") <= 100
    r.hset("h", "g", "w")  # writing a field keeps the TTL
    assert r.ttl("h") > 0
    assert r.persist("h") is True
    assert r.ttl("h") == -1
    r.pexpire("h", 30)
    import time
    time.sleep(0.1)
    assert r.hgetall("h") == {}
    assert r.exists("h") == 0


def test_rename_copy_move_randomkey(r, listpack_limits):
    listpack_limits(entries=4)
    r.hset("small", mapping={"a": "1"})
    r.hset("big", mapping={"f%d" % i: str(i) for i in range(10)})
    assert r.rename("small", "small2") is True
    assert r.hgetall("small2") == {"a": "1"}
    assert r.copy("big", "big2") is True
    r.hset("big2", "extra", "x")  # the copy is deep
    assert r.hlen("big") == 10 and r.hlen("big2") == 11
    assert r.object("encoding", "big2") == "hashtable"
    assert r.copy("small2", "small3") is True
    r.hset("small3", "b", "2")
    assert r.hgetall("small2") == {"a": "1"}
    assert r.move("big2", 1) is True
    r.execute_command("SELECT", 1)
    assert r.hlen("big2") == 11
    r.execute_command("SELECT", 0)
    r.delete("big", "small3")
    assert r.randomkey() == "small2"
    r.flushall()
    assert r.dbsize() == 0


def test_info_memory_follows_a_growing_hash(r):
    # 4 MB of values, so that the allocator's thread caches (which its
    # statistics see late) are noise.
    before = r.info("memory")["used_memory"]
    for chunk in range(40):
        r.hset("h", mapping={"f%d" % (chunk * 500 + i): "x" * 200 for i in range(500)})
    grown = r.info("memory")["used_memory"]
    assert grown - before > 3_000_000
    r.delete("h")
    assert grown - r.info("memory")["used_memory"] > 3_000_000


# ---- RESP3, events, scripts ----------------------------------------------------------------


def test_resp3_replies(c):
    assert c.call("HELLO", "3")
    c.call("HSET", "h", "a", "1", "b", "2")
    assert c.call("HGETALL", "h") == [(b"a", b"1"), (b"b", b"2")]
    assert c.call("HGETALL", "nokey") == []
    assert c.call_raw("HGETALL", "nokey") == b"%0\r\n"
    assert c.call_raw("HGET", "h", "x") == b"_\r\n"
    pairs = c.call("HRANDFIELD", "h", "2", "WITHVALUES")
    assert sorted(pairs) == [[b"a", b"1"], [b"b", b"2"]]
    pairs = c.call("HRANDFIELD", "h", "-3", "WITHVALUES")
    assert len(pairs) == 3 and all(len(p) == 2 for p in pairs)
    assert c.call("HRANDFIELD", "h", "2") in ([b"a", b"b"], [b"b", b"a"])
    assert c.call("HMGET", "h", "a", "x") == [b"1", None]
    assert c.call("HSCAN", "h", "0") == [b"0", [b"a", b"1", b"b", b"2"]]


def test_resp2_hgetall_is_flat(c):
    c.call("HSET", "h", "a", "1")
    assert c.call_raw("HGETALL", "h") == b"*2\r\n$1\r\na\r\n$1\r\n1\r\n"


def test_keyspace_events(raw, r, notify):
    sub = subscribed(raw, notify, "KEA", "__keyspace@0__:h")
    r.hset("h", "a", "1")
    r.hset("h", "b", "2")
    r.hsetnx("h", "a", "x")  # no event
    r.hsetnx("h", "c", "3")
    r.execute_command("HMSET", "h", "d", "4")
    r.hincrby("h", "a", 1)
    r.hincrbyfloat("h", "a", 1.5)
    r.hdel("h", "zz")  # no event
    r.hdel("h", "a", "b", "c")
    r.hdel("h", "d")
    got = [m[2].decode() for m in sub.read_many(9)]
    assert got == ["hset", "hset", "hset", "hset", "hincrby", "hincrbyfloat", "hdel", "hdel",
                   "del"]


def test_new_event_on_creation(raw, r, notify):
    sub = subscribed(raw, notify, "En", "__keyevent@0__:new")
    for command in (["HSET", "h", "a", "1"], ["HSET", "h", "b", "1"], ["HINCRBY", "h2", "a", 1]):
        r.execute_command(*command)
    assert [m[2].decode() for m in sub.read_many(2)] == ["h", "h2"]


def test_lua_script_hset_hgetall(r):
    script = """
        redis.call('HSET', KEYS[1], 'a', ARGV[1], 'b', ARGV[2])
        redis.call('HINCRBY', KEYS[1], 'a', 1)
        return redis.call('HGETALL', KEYS[1])
    """
    assert r.eval(script, 1, "h", "1", "x") == ["a", "2", "b", "x"]
    assert r.eval("return redis.call('HGET', KEYS[1], 'nope')", 1, "h") is None
    with pytest.raises(Exception) as e:
        r.eval("return redis.call('GET', KEYS[1])", 1, "h")
    assert "WRONGTYPE" in str(e.value)


def test_transaction_with_hashes(r):
    p = r.pipeline(transaction=True)
    p.hset("h", "a", "1")
    p.hincrby("h", "a", 2)
    p.hgetall("h")
    assert p.execute() == [1, 3, {"a": "3"}]


@pytest.mark.sluice_only
def test_packed_default_limit_is_128(r):
    r.hset("h", mapping={"f%d" % i: "v" for i in range(128)})
    assert r.object("encoding", "h") == "listpack"
    r.hset("h", "one-more", "v")
    assert r.object("encoding", "h") == "hashtable"


@pytest.mark.sluice_only
def test_unlink_of_a_large_hash_is_freed_in_the_background(start_server):
    s = start_server()
    r = s.client()
    try:
        r.hset("small", mapping={"f%d" % i: "v" for i in range(50)})
        assert r.unlink("small") == 1
        assert r.info("memory")["lazyfreed_objects"] == 0  # small hashes are freed inline
        for chunk in range(4):
            r.hset("big", mapping={"f%d" % (chunk * 500 + i): "x" * 100 for i in range(500)})
        assert r.unlink("big") == 1
        wait_until(lambda: r.info("memory")["lazyfreed_objects"] == 1, timeout=30,
                   message="lazyfreed_objects == 1")
    finally:
        r.close()
