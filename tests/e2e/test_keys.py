"""Keyspace commands: DEL/EXISTS/TYPE, expiry, KEYS/SCAN, RENAME/COPY/MOVE,
databases, and active/lazy expiry."""

import time

import redis

import pytest

from helpers import INT64_MAX, NOT_INT, SYNTAX, arity_error, error_of, wait_until

WRONG_ARITY = [
    ("del", []), ("unlink", []), ("exists", []), ("touch", []), ("type", []),
    ("type", ["a", "b"]), ("expire", ["k"]), ("pexpire", ["k"]), ("expireat", ["k"]),
    ("pexpireat", ["k"]), ("ttl", []), ("ttl", ["a", "b"]), ("pttl", []), ("expiretime", []),
    ("pexpiretime", ["a", "b"]), ("persist", []), ("keys", []), ("keys", ["a", "b"]),
    ("scan", []), ("randomkey", ["x"]), ("rename", ["a"]), ("rename", ["a", "b", "c"]),
    ("renamenx", ["a"]), ("copy", ["a"]), ("move", ["a"]), ("move", ["a", "1", "2"]),
    ("dbsize", ["x"]), ("swapdb", ["0"]), ("select", []), ("select", ["0", "1"]),
]


@pytest.mark.parametrize("cmd,args", WRONG_ARITY,
                         ids=lambda v: v if isinstance(v, str) else str(len(v)))
def test_wrong_arity(c, cmd, args):
    assert error_of(c, cmd, *args) == arity_error(cmd)


# ---- DEL / UNLINK / EXISTS / TOUCH / TYPE ------------------------------------------------


@pytest.mark.parametrize("cmd", ["DEL", "UNLINK"])
def test_del(r, c, cmd):
    r.mset({"a": "1", "b": "2", "c": "3"})
    assert c.call(cmd, "a", "b", "nope") == 2
    assert c.call(cmd, "c", "c") == 1
    assert c.call(cmd, "a") == 0
    assert r.dbsize() == 0


def test_exists_counts_duplicates(r, c):
    r.set("a", "1")
    assert c.call("EXISTS", "a") == 1
    assert c.call("EXISTS", "a", "a", "a") == 3
    assert c.call("EXISTS", "a", "nope", "a") == 2
    assert c.call("EXISTS", "nope") == 0


def test_touch(r, c):
    r.set("a", "1")
    r.set("b", "2")
    assert c.call("TOUCH", "a", "b", "nope") == 2
    assert c.call("TOUCH", "nope") == 0


def test_type(r, c):
    r.set("s", "x")
    r.set("n", "12")
    r.incr("n")
    assert c.call("TYPE", "s") == "string"
    assert c.call("TYPE", "n") == "string"
    assert c.call("TYPE", "nope") == "none"


# ---- EXPIRE family -------------------------------------------------------------------------


def test_expire_and_ttl(r, c):
    assert c.call("EXPIRE", "nope", "100") == 0
    assert c.call("TTL", "nope") == -2
    assert c.call("PTTL", "nope") == -2
    r.set("k", "v")
    assert c.call("TTL", "k") == -1
    assert c.call("PTTL", "k") == -1
    assert c.call("EXPIRE", "k", "100") == 1
    assert 99 <= c.call("TTL", "k") <= 100
    assert 99000 <= c.call("PTTL", "k") <= 100000
    assert c.call("PEXPIRE", "k", "5000") == 1
    assert 4000 <= c.call("PTTL", "k") <= 5000
    assert 4 <= c.call("TTL", "k") <= 5


def test_expireat_and_expiretime(r, c):
    now = int(time.time())
    r.set("k", "v")
    assert c.call("EXPIRETIME", "k") == -1
    assert c.call("PEXPIRETIME", "k") == -1
    assert c.call("EXPIRETIME", "nope") == -2
    assert c.call("PEXPIRETIME", "nope") == -2
    assert c.call("EXPIREAT", "k", str(now + 1000)) == 1
    assert c.call("EXPIRETIME", "k") == now + 1000
    assert c.call("PEXPIRETIME", "k") == (now + 1000) * 1000
    assert c.call("PEXPIREAT", "k", str((now + 2000) * 1000 + 123)) == 1
    assert c.call("PEXPIRETIME", "k") == (now + 2000) * 1000 + 123
    assert c.call("EXPIRETIME", "k") == now + 2000
    assert c.call("EXPIREAT", "nope", str(now + 10)) == 0


@pytest.mark.parametrize("cmd,arg", [("EXPIRE", "0"), ("EXPIRE", "-10"), ("PEXPIRE", "-1"),
                                     ("PEXPIRE", "0"), ("EXPIREAT", "1"), ("PEXPIREAT", "1"),
                                     ("EXPIREAT", "-5")])
def test_expire_in_the_past_deletes(r, c, cmd, arg):
    r.set("k", "v")
    assert c.call(cmd, "k", arg) == 1
    assert r.exists("k") == 0
    assert c.call("TTL", "k") == -2


def test_expire_options_nx_xx(r, c):
    r.set("k", "v")
    assert c.call("EXPIRE", "k", "100", "XX") == 0
    assert c.call("TTL", "k") == -1
    assert c.call("EXPIRE", "k", "100", "NX") == 1
    assert c.call("EXPIRE", "k", "200", "NX") == 0
    assert 99 <= c.call("TTL", "k") <= 100
    assert c.call("EXPIRE", "k", "300", "xx") == 1
    assert 299 <= c.call("TTL", "k") <= 300


def test_expire_options_gt_lt(r, c):
    r.set("k", "v")
    # A key without TTL counts as an infinite TTL: GT never applies, LT does.
    assert c.call("EXPIRE", "k", "100", "GT") == 0
    assert c.call("TTL", "k") == -1
    assert c.call("EXPIRE", "k", "100", "LT") == 1
    assert c.call("EXPIRE", "k", "50", "GT") == 0
    assert c.call("EXPIRE", "k", "200", "GT") == 1
    assert 199 <= c.call("TTL", "k") <= 200
    assert c.call("EXPIRE", "k", "300", "LT") == 0
    assert c.call("PEXPIRE", "k", "150000", "LT") == 1
    assert 149 <= c.call("TTL", "k") <= 150
    assert c.call("EXPIRE", "k", "150", "XX", "GT") in (0, 1)
    assert c.call("EXPIRE", "k", "500", "XX", "GT") == 1
    assert c.call("EXPIRE", "nope", "10", "LT") == 0


@pytest.mark.parametrize("opts", [["NX", "XX"], ["NX", "GT"], ["NX", "LT"], ["XX", "NX"]])
def test_expire_incompatible_nx(r, c, opts):
    r.set("k", "v")
    assert error_of(c, "EXPIRE", "k", "10", *opts) == \
        "ERR NX and XX, GT or LT options at the same time are not compatible"


def test_expire_incompatible_gt_lt(r, c):
    r.set("k", "v")
    assert error_of(c, "PEXPIRE", "k", "10", "GT", "LT") == \
        "ERR GT and LT options at the same time are not compatible"


def test_expire_unsupported_option(r, c):
    r.set("k", "v")
    assert error_of(c, "EXPIRE", "k", "10", "FOO") == "ERR Unsupported option FOO"
    assert error_of(c, "EXPIREAT", "k", "10", "NX", "bar") == "ERR Unsupported option bar"
    # Redis quotes the option up to its first NUL byte.
    assert error_of(c, "EXPIRE", "k", "10", "a\x00b") == "ERR Unsupported option a"
    assert c.call("TTL", "k") == -1


def test_expire_option_errors_come_before_a_bad_time(r, c):
    r.set("k", "v")
    assert error_of(c, "EXPIRE", "k", "x", "GT", "LT") == \
        "ERR GT and LT options at the same time are not compatible"
    assert error_of(c, "PEXPIRE", "k", "1.5", "NX", "XX") == \
        "ERR NX and XX, GT or LT options at the same time are not compatible"
    assert error_of(c, "EXPIRE", "k", "x", "FOO") == "ERR Unsupported option FOO"
    assert error_of(c, "EXPIRE", "k", "x", "NX") == NOT_INT


@pytest.mark.parametrize("cmd", ["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"])
def test_expire_not_integer(r, c, cmd):
    r.set("k", "v")
    for bad in ["abc", "1.5", "", "9223372036854775808"]:
        assert error_of(c, cmd, "k", bad) == NOT_INT


@pytest.mark.parametrize("cmd,value", [
    ("EXPIRE", str(INT64_MAX)), ("EXPIRE", str(INT64_MAX // 1000 + 1)),
    ("PEXPIRE", str(INT64_MAX)), ("EXPIREAT", str(INT64_MAX)),
    ("EXPIRE", str(-INT64_MAX)),
])
def test_expire_overflow(r, c, cmd, value):
    r.set("k", "v")
    assert error_of(c, cmd, "k", value) == "ERR invalid expire time in '%s' command" % \
        cmd.lower()
    assert r.get("k") == "v"
    assert c.call("TTL", "k") == -1


def test_pexpireat_int64_max_is_accepted(r, c):
    # An absolute time in milliseconds needs no conversion: it cannot overflow.
    r.set("k", "v")
    assert c.call("PEXPIREAT", "k", str(INT64_MAX)) == 1
    assert c.call("PEXPIRETIME", "k") == INT64_MAX


def test_persist(r, c):
    r.set("k", "v")
    assert c.call("PERSIST", "k") == 0
    assert c.call("PERSIST", "nope") == 0
    r.expire("k", 100)
    assert c.call("PERSIST", "k") == 1
    assert c.call("TTL", "k") == -1
    assert r.get("k") == "v"


# ---- KEYS ------------------------------------------------------------------------------------


@pytest.fixture
def glob_keys(r):
    keys = ["hello", "hallo", "hxllo", "hllo", "heeeello", "h*llo", "h?llo", "abc", "a", "",
            "h[a]llo", "user:1", "user:22", "User:3"]
    for k in keys:
        r.set(k, "v")
    return keys


@pytest.mark.parametrize("pattern,want", [
    ("*", None),
    ("h?llo", {"hello", "hallo", "hxllo", "h*llo", "h?llo"}),
    ("h*llo", {"hello", "hallo", "hxllo", "hllo", "heeeello", "h*llo", "h?llo", "h[a]llo"}),
    ("h[ae]llo", {"hello", "hallo"}),
    ("h[^e]llo", {"hallo", "hxllo", "h*llo", "h?llo"}),
    ("h[a-e]llo", {"hello", "hallo"}),
    ("h\\*llo", {"h*llo"}),
    ("h\\?llo", {"h?llo"}),
    ("h\\[a\\]llo", {"h[a]llo"}),
    ("user:*", {"user:1", "user:22"}),
    ("user:?", {"user:1"}),
    ("a", {"a"}),
    ("nomatch*", set()),
    ("*llo", {"hello", "hallo", "hxllo", "hllo", "heeeello", "h*llo", "h?llo", "h[a]llo"}),
    ("[a-b]*", {"abc", "a"}),
])
def test_keys_glob(r, glob_keys, pattern, want):
    if want is None:
        want = set(glob_keys)
    got = r.keys(pattern)
    assert len(got) == len(set(got))
    assert set(got) == want


def test_keys_empty_db(r):
    assert r.keys("*") == []


def test_keys_skips_expired(r):
    r.set("live", "1")
    r.set("dead", "1", px=50)
    time.sleep(0.15)
    assert r.keys("*") == ["live"]


# ---- SCAN ------------------------------------------------------------------------------------


def scan_all(c, *opts, max_calls=10000):
    cursor = "0"
    seen = []
    for _ in range(max_calls):
        reply = c.call("SCAN", cursor, *opts)
        assert isinstance(reply, list) and len(reply) == 2, reply
        cursor = reply[0].decode()
        assert cursor.isdigit(), cursor
        seen.extend(k.decode() for k in reply[1])
        if cursor == "0":
            return seen
    raise AssertionError("SCAN did not finish")


def test_scan_empty(c):
    assert c.call("SCAN", "0") == [b"0", []]


def test_scan_full_iteration(r, c):
    keys = {"key:%d" % i for i in range(1000)}
    r.mset({k: "v" for k in keys})
    seen = scan_all(c)
    assert set(seen) == keys
    seen = scan_all(c, "COUNT", "100")
    assert set(seen) == keys
    seen = scan_all(c, "COUNT", "100000")
    assert set(seen) == keys


def test_scan_match_and_count(r, c):
    r.mset({"user:%d" % i: "v" for i in range(300)})
    r.mset({"other:%d" % i: "v" for i in range(300)})
    seen = scan_all(c, "MATCH", "user:*", "COUNT", "50")
    assert set(seen) == {"user:%d" % i for i in range(300)}
    seen = scan_all(c, "match", "user:1?")
    assert set(seen) == {"user:%d" % i for i in range(10, 20)}
    seen = scan_all(c, "MATCH", "*")
    assert len(set(seen)) == 600


def test_scan_type(r, c):
    r.mset({"s%d" % i: "v" for i in range(50)})
    assert set(scan_all(c, "TYPE", "string")) == {"s%d" % i for i in range(50)}
    assert scan_all(c, "TYPE", "list") == []
    assert set(scan_all(c, "type", "STRING", "MATCH", "s1*")) == \
        {"s1"} | {"s1%d" % i for i in range(10)}


def test_scan_returns_keys_present_throughout_while_keys_are_added(r, c):
    base = {"base:%d" % i for i in range(2000)}
    r.mset({k: "v" for k in base})
    cursor = "0"
    seen = set()
    added = 0
    for _ in range(100000):
        cursor_b, keys = c.call("SCAN", cursor, "COUNT", "20")
        seen.update(k.decode() for k in keys)
        cursor = cursor_b.decode()
        if cursor == "0":
            break
        # Grow the keyspace between calls (forcing rehashes along the way).
        r.mset({"new:%d" % (added + i): "v" for i in range(40)})
        added += 40
    else:
        raise AssertionError("SCAN did not finish")
    missing = base - seen
    assert not missing, "%d keys present throughout were never returned, e.g. %s" % (
        len(missing), sorted(missing)[:5])
    assert added > 0


def test_scan_with_deletions_between_calls(r, c):
    keep = {"keep:%d" % i for i in range(1000)}
    drop = ["drop:%d" % i for i in range(1000)]
    r.mset({k: "v" for k in keep})
    r.mset({k: "v" for k in drop})
    cursor = "0"
    seen = set()
    while True:
        cursor_b, keys = c.call("SCAN", cursor, "COUNT", "25")
        seen.update(k.decode() for k in keys)
        cursor = cursor_b.decode()
        if cursor == "0":
            break
        if drop:
            r.delete(*drop[:30])
            drop = drop[30:]
    assert keep <= seen


@pytest.mark.parametrize("cursor", ["abc", "1.5", "18446744073709551616", " 1", "1x"])
def test_scan_invalid_cursor(c, cursor):
    assert error_of(c, "SCAN", cursor) == "ERR invalid cursor"


@pytest.mark.parametrize("cursor", ["", "+0", "-0"])
def test_scan_cursor_read_as_strtoul_does(c, cursor):
    assert c.call("SCAN", cursor) == [b"0", []]


@pytest.mark.parametrize("opts,err", [
    (["COUNT", "0"], SYNTAX), (["COUNT", "-1"], SYNTAX), (["COUNT", "abc"], NOT_INT),
    (["COUNT"], SYNTAX), (["MATCH"], SYNTAX), (["TYPE"], SYNTAX), (["FOO", "bar"], SYNTAX),
    (["MATCH", "*", "COUNT"], SYNTAX),
])
def test_scan_option_errors(r, c, opts, err):
    r.set("k", "v")
    assert error_of(c, "SCAN", "0", *opts) == err


def test_scan_large_cursor_is_accepted(r, c):
    r.set("k", "v")
    reply = c.call("SCAN", "18446744073709551615")
    assert isinstance(reply, list) and len(reply) == 2


# ---- RANDOMKEY -------------------------------------------------------------------------------


def test_randomkey(r, c):
    assert c.call("RANDOMKEY") is None
    r.set("only", "1")
    assert c.call("RANDOMKEY") == b"only"
    r.mset({"k%d" % i: "v" for i in range(20)})
    seen = {c.call("RANDOMKEY") for _ in range(200)}
    assert seen <= {b"only"} | {b"k%d" % i for i in range(20)}
    assert len(seen) > 3


# ---- RENAME / RENAMENX -----------------------------------------------------------------------


def test_rename(r, c):
    assert error_of(c, "RENAME", "nope", "x") == "ERR no such key"
    r.set("a", "1")
    assert c.call("RENAME", "a", "b") == "OK"
    assert r.exists("a") == 0
    assert r.get("b") == "1"
    r.set("c", "3")
    assert c.call("RENAME", "b", "c") == "OK"
    assert r.get("c") == "1"
    assert c.call("RENAME", "c", "c") == "OK"
    assert r.get("c") == "1"


def test_rename_carries_ttl(r, c):
    r.set("a", "1", ex=100)
    r.set("b", "2")
    c.call("RENAME", "a", "b")
    assert 99 <= r.ttl("b") <= 100
    r.set("x", "1")
    r.set("y", "2", ex=100)
    c.call("RENAME", "x", "y")
    assert r.ttl("y") == -1


def test_renamenx(r, c):
    assert error_of(c, "RENAMENX", "nope", "x") == "ERR no such key"
    r.set("a", "1")
    r.set("b", "2")
    assert c.call("RENAMENX", "a", "b") == 0
    assert r.mget("a", "b") == ["1", "2"]
    assert c.call("RENAMENX", "a", "c") == 1
    assert r.exists("a") == 0
    assert r.get("c") == "1"
    assert c.call("RENAMENX", "c", "c") == 0


# ---- COPY / MOVE -----------------------------------------------------------------------------


def test_copy(r, c):
    assert c.call("COPY", "nope", "x") == 0
    r.set("a", "1", ex=100)
    assert c.call("COPY", "a", "b") == 1
    assert r.get("b") == "1"
    assert 99 <= r.ttl("b") <= 100
    r.set("a", "2")
    assert c.call("COPY", "a", "b") == 0
    assert r.get("b") == "1"
    assert c.call("COPY", "a", "b", "REPLACE") == 1
    assert r.get("b") == "2"
    assert r.ttl("b") == -1
    # The copy is independent of the source.
    r.append("a", "x")
    assert r.get("b") == "2"


def test_copy_to_other_db(server, r, c):
    r.set("a", "1")
    assert c.call("COPY", "a", "a", "DB", "1") == 1
    r1 = server.client(db=1)
    try:
        assert r1.get("a") == "1"
        r1.set("b", "other")
        assert c.call("COPY", "a", "b", "DB", "1") == 0
        assert c.call("COPY", "a", "b", "db", "1", "replace") == 1
        assert r1.get("b") == "1"
    finally:
        r1.close()


def test_copy_errors(r, c):
    r.set("a", "1")
    assert error_of(c, "COPY", "a", "a") == "ERR source and destination objects are the same"
    assert error_of(c, "COPY", "a", "b", "DB", "16") == "ERR DB index is out of range"
    assert error_of(c, "COPY", "a", "b", "DB", "-1") == "ERR DB index is out of range"
    assert error_of(c, "COPY", "a", "b", "DB", "x") == NOT_INT
    assert error_of(c, "COPY", "a", "b", "FOO") == SYNTAX
    assert error_of(c, "COPY", "a", "b", "DB") == SYNTAX
    assert r.exists("b") == 0


def test_move(server, r, c):
    r.set("a", "1", ex=100)
    assert c.call("MOVE", "a", "2") == 1
    assert r.exists("a") == 0
    r2 = server.client(db=2)
    try:
        assert r2.get("a") == "1"
        assert 99 <= r2.ttl("a") <= 100
        r.set("a", "again")
        assert c.call("MOVE", "a", "2") == 0
        assert r.get("a") == "again"
        assert r2.get("a") == "1"
        assert c.call("MOVE", "nope", "2") == 0
    finally:
        r2.close()


def test_move_errors(r, c):
    r.set("a", "1")
    assert error_of(c, "MOVE", "a", "0") == "ERR source and destination objects are the same"
    assert error_of(c, "MOVE", "a", "16") == "ERR DB index is out of range"
    assert error_of(c, "MOVE", "a", "x") == NOT_INT
    assert r.get("a") == "1"


# ---- databases -------------------------------------------------------------------------------


def test_select_and_dbsize(r, c):
    r.mset({"a": "1", "b": "2"})
    assert c.call("DBSIZE") == 2
    assert c.call("SELECT", "1") == "OK"
    assert c.call("DBSIZE") == 0
    assert c.call("GET", "a") is None
    assert c.call("SET", "a", "db1") == "OK"
    assert c.call("SELECT", "0") == "OK"
    assert c.call("GET", "a") == b"1"
    assert c.call("SELECT", "15") == "OK"


def test_select_errors(c):
    assert error_of(c, "SELECT", "16") == "ERR DB index is out of range"
    assert error_of(c, "SELECT", "-1") == "ERR DB index is out of range"
    assert error_of(c, "SELECT", "abc") == NOT_INT
    # Indexes are C ints in Redis: beyond that range the error says so.
    out_of_int = "ERR value is out of range, value must between -2147483648 and 2147483647"
    assert error_of(c, "SELECT", "2147483648") == out_of_int
    assert error_of(c, "SELECT", str(INT64_MAX)) == out_of_int
    assert error_of(c, "MOVE", "k", "-2147483649") == out_of_int
    assert error_of(c, "COPY", "k", "k2", "DB", "2147483648") == out_of_int


def test_databases_option(start_server):
    s = start_server("--databases", "4")
    c = s.raw()
    try:
        assert c.call("SELECT", "3") == "OK"
        assert error_of(c, "SELECT", "4") == "ERR DB index is out of range"
        assert c.call("CONFIG", "GET", "databases") == [b"databases", b"4"]
    finally:
        c.close()


def test_flushdb_flushall(server, r, c):
    r1 = server.client(db=1)
    try:
        r.set("a", "1")
        r1.set("b", "2")
        assert c.call("FLUSHDB") == "OK"
        assert r.dbsize() == 0
        assert r1.dbsize() == 1
        r.set("a", "1")
        assert c.call("FLUSHALL") == "OK"
        assert r.dbsize() == 0
        assert r1.dbsize() == 0
        for cmd in ["FLUSHDB", "FLUSHALL"]:
            for mode in ["ASYNC", "SYNC", "async", "sync"]:
                r.set("a", "1")
                r1.set("b", "2")
                assert c.call(cmd, mode) == "OK"
                assert r.dbsize() == 0
            assert error_of(c, cmd, "FOO") == SYNTAX
            assert error_of(c, cmd, "SYNC", "ASYNC") == SYNTAX
    finally:
        r1.close()


def test_flush_async_big(r, c):
    r.mset({"k%d" % i: "v" * 100 for i in range(20000)})
    assert c.call("FLUSHALL", "ASYNC") == "OK"
    assert c.call("DBSIZE") == 0
    assert c.call("SET", "after", "1") == "OK"
    assert c.call("DBSIZE") == 1


def test_swapdb(server, r, c):
    r1 = server.client(db=1)
    try:
        r.set("a", "in0")
        r1.set("b", "in1")
        assert c.call("SWAPDB", "0", "1") == "OK"
        assert r.get("b") == "in1"
        assert r.get("a") is None
        assert r1.get("a") == "in0"
        assert c.call("SWAPDB", "1", "1") == "OK"
        assert c.call("SWAPDB", "1", "0") == "OK"
        assert r.get("a") == "in0"
    finally:
        r1.flushdb()
        r1.close()


def test_swapdb_errors(c):
    assert error_of(c, "SWAPDB", "a", "1") == "ERR invalid first DB index"
    assert error_of(c, "SWAPDB", "0", "b") == "ERR invalid second DB index"
    assert error_of(c, "SWAPDB", "0", "16") == "ERR DB index is out of range"
    assert error_of(c, "SWAPDB", "-1", "0") == "ERR DB index is out of range"
    assert error_of(c, "SWAPDB", "2147483648", "0") == "ERR invalid first DB index"
    assert error_of(c, "SWAPDB", "0", str(INT64_MAX)) == "ERR invalid second DB index"


# ---- active and lazy expiry ------------------------------------------------------------------


def info_keyspace_db0(client):
    return client.info("keyspace").get("db0")


def test_lazy_expiry_on_access(r, c):
    r.set("k", "v", px=100)
    r.set("k2", "v", px=100)
    time.sleep(0.25)
    assert c.call("GET", "k") is None
    assert c.call("EXISTS", "k2") == 0
    assert c.call("TTL", "k") == -2


def test_active_expiry_without_access(r):
    before = r.info("stats")["expired_keys"]
    r.set("keep", "1")
    pipe = r.pipeline(transaction=False)
    for i in range(300):
        pipe.set("short:%d" % i, "v", px=100 + (i % 3) * 100)
    pipe.execute()
    assert r.dbsize() >= 1
    wait_until(lambda: r.dbsize() == 1, timeout=2.5, message="DBSIZE to drop to 1")
    db0 = info_keyspace_db0(r)
    assert db0 is not None and db0["keys"] == 1, db0
    assert db0["expires"] == 0, db0
    assert r.info("stats")["expired_keys"] - before >= 300


def test_info_keyspace_counts_expires(r):
    r.set("a", "1")
    r.set("b", "1", ex=100)
    r.set("c", "1", ex=100)
    db0 = info_keyspace_db0(r)
    assert db0["keys"] == 3
    assert db0["expires"] == 2
    r.flushall()
    assert info_keyspace_db0(r) is None


def test_expired_keys_not_visible_anywhere(r, c):
    r.set("gone", "v", px=50)
    time.sleep(0.2)
    assert c.call("MGET", "gone") == [None]
    assert c.call("KEYS", "*") == []
    assert c.call("RANDOMKEY") is None
    assert c.call("TYPE", "gone") == "none"
    assert error_of(c, "RENAME", "gone", "x") == "ERR no such key"
    assert c.call("COPY", "gone", "x") == 0
    assert c.call("EXPIRE", "gone", "100") == 0
    assert c.call("PERSIST", "gone") == 0
    assert c.call("DEL", "gone") == 0
    assert c.call("SET", "gone", "v2", "GET") is None
    assert c.call("DEL", "gone") == 1
    assert c.call("SETNX", "gone", "new") == 1
    assert c.call("GET", "gone") == b"new"


# ---- MEMORY USAGE ---------------------------------------------------------------------------


def test_memory_usage_counts_the_value(r):
    assert r.execute_command("MEMORY", "USAGE", "missing") is None
    r.set("small", "x")
    r.set("big", "x" * 100_000)
    small = r.execute_command("MEMORY", "USAGE", "small")
    big = r.execute_command("MEMORY", "USAGE", "big")
    assert 0 < small < 200
    assert 100_000 <= big < 140_000
    r.rpush("list", *["e%d" % i for i in range(10_000)])
    assert r.execute_command("MEMORY", "USAGE", "list", "SAMPLES", "0") > 10_000
    assert r.execute_command("MEMORY", "usage", "list", "samples", "5") > 0


@pytest.mark.parametrize("args,error", [
    (["USAGE"], "wrong number of arguments"),
    (["USAGE", "k", "SAMPLES"], "syntax error"),
    (["USAGE", "k", "SAMPLES", "x"], "not an integer"),
    (["USAGE", "k", "SAMPLES", "-1"], "syntax error"),
    (["USAGE", "k", "OTHER", "1"], "syntax error"),
    (["USAGE", "k", "SAMPLES", "1", "extra"], "syntax error"),
    (["NOSUCH"], "unknown subcommand"),
])
def test_memory_usage_errors(r, args, error):
    r.set("k", "v")
    with pytest.raises(redis.ResponseError, match=error):
        r.execute_command("MEMORY", *args)
