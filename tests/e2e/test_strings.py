"""String and counter commands: GET/SET and variants, MGET/MSET, ranges,
INCR family, INCRBYFLOAT, binary safety and large values."""

import time

import pytest

from helpers import (INT64_MAX, INT64_MIN, NOT_FLOAT, NOT_INT, OVERFLOW, SYNTAX, arity_error,
                     error_of)

# (command, arguments) pairs that have the wrong number of arguments.
WRONG_ARITY = [
    ("get", []), ("get", ["a", "b"]),
    ("set", []), ("set", ["k"]),
    ("setnx", ["k"]), ("setnx", ["k", "v", "x"]),
    ("setex", ["k", "10"]), ("setex", ["k", "10", "v", "x"]),
    ("psetex", ["k", "10"]),
    ("mget", []),
    ("mset", []), ("mset", ["k"]), ("mset", ["a", "1", "b"]),
    ("msetnx", ["k"]), ("msetnx", ["a", "1", "b"]),
    ("getset", ["k"]),
    ("getdel", []), ("getdel", ["a", "b"]),
    ("getex", []),
    ("append", ["k"]),
    ("strlen", []), ("strlen", ["a", "b"]),
    ("getrange", ["k", "0"]), ("getrange", ["k", "0", "1", "2"]),
    ("substr", ["k", "0"]),
    ("setrange", ["k", "0"]),
    ("incr", []), ("incr", ["a", "b"]),
    ("decr", []),
    ("incrby", ["k"]), ("incrby", ["k", "1", "2"]),
    ("decrby", ["k"]),
    ("incrbyfloat", ["k"]), ("incrbyfloat", ["k", "1", "2"]),
]


@pytest.mark.parametrize("cmd,args", WRONG_ARITY, ids=lambda v: v if isinstance(v, str) else
                         str(len(v)))
def test_wrong_arity(c, cmd, args):
    assert error_of(c, cmd, *args) == arity_error(cmd)
    # The connection stays usable after an arity error.
    assert c.call("PING") == "PONG"


def test_arity_error_uses_lowercase_name(c):
    assert error_of(c, "GeT") == arity_error("get")


# ---- GET / SET ------------------------------------------------------------------


def test_get_missing_and_set(r):
    assert r.get("k") is None
    assert r.set("k", "hello") is True
    assert r.get("k") == "hello"
    assert r.set("k", "world") is True
    assert r.get("k") == "world"


def test_set_empty_value_and_empty_key(r):
    assert r.set("", "empty key")
    assert r.get("") == "empty key"
    assert r.set("e", "")
    assert r.get("e") == ""
    assert r.exists("e") == 1


def test_set_clears_ttl(r):
    r.set("k", "v", ex=100)
    assert r.ttl("k") > 0
    r.set("k", "w")
    assert r.ttl("k") == -1


def test_set_nx_xx(r, c):
    assert c.call("SET", "k", "1", "XX") is None
    assert r.exists("k") == 0
    assert c.call("SET", "k", "1", "NX") == "OK"
    assert c.call("SET", "k", "2", "NX") is None
    assert r.get("k") == "1"
    assert c.call("SET", "k", "3", "XX") == "OK"
    assert r.get("k") == "3"
    # Options are case-insensitive.
    assert c.call("set", "k", "4", "xx") == "OK"
    assert c.call("set", "k", "5", "nX") is None


def test_set_get_option(r, c):
    assert c.call("SET", "k", "1", "GET") is None
    assert r.get("k") == "1"
    assert c.call("SET", "k", "2", "GET") == b"1"
    assert r.get("k") == "2"
    # NX and GET together (allowed since Redis 7.0): old value back, no write.
    assert c.call("SET", "k", "3", "NX", "GET") == b"2"
    assert r.get("k") == "2"
    assert c.call("SET", "k", "4", "XX", "GET") == b"2"
    assert r.get("k") == "4"
    assert c.call("SET", "nope", "x", "XX", "GET") is None
    assert r.exists("nope") == 0


def test_set_ex_px(r, c):
    assert c.call("SET", "k", "v", "EX", "100") == "OK"
    assert 99 <= r.ttl("k") <= 100
    assert c.call("SET", "k", "v", "PX", "100000") == "OK"
    assert 99000 <= r.pttl("k") <= 100000
    assert c.call("SET", "k", "v", "ex", "50", "nx") is None
    assert c.call("SET", "k", "v", "xx", "ex", "50") == "OK"
    assert 49 <= r.ttl("k") <= 50


def test_set_exat_pxat(r, c):
    now = int(time.time())
    assert c.call("SET", "k", "v", "EXAT", str(now + 100)) == "OK"
    assert 98 <= r.ttl("k") <= 100
    assert c.call("EXPIRETIME", "k") == now + 100
    assert c.call("PEXPIRETIME", "k") == (now + 100) * 1000
    assert c.call("SET", "k", "v", "PXAT", str((now + 200) * 1000 + 5)) == "OK"
    assert c.call("PEXPIRETIME", "k") == (now + 200) * 1000 + 5


def test_set_repeated_option_last_one_wins(r, c):
    # Redis accepts the same option twice; the later value wins.
    assert c.call("SET", "k", "v", "EX", "10", "EX", "20") == "OK"
    assert 19 <= r.ttl("k") <= 20
    assert c.call("SET", "k", "v", "PX", "100", "PX", "200000") == "OK"
    assert 199000 <= r.pttl("k") <= 200000
    assert c.call("SET", "k", "w", "XX", "XX") == "OK"
    assert c.call("SET", "k", "x", "NX", "NX") is None
    r.expire("k", 100)
    assert c.call("SET", "k", "y", "KEEPTTL", "KEEPTTL") == "OK"
    assert r.ttl("k") > 0
    assert c.call("SET", "k", "z", "GET", "GET") == b"y"


def test_getex_repeated_option_last_one_wins(r, c):
    r.set("k", "v")
    assert c.call("GETEX", "k", "EX", "10", "EX", "30") == b"v"
    assert 29 <= r.ttl("k") <= 30
    assert c.call("GETEX", "k", "PERSIST", "PERSIST") == b"v"
    assert r.ttl("k") == -1


def test_set_exat_in_the_past_deletes(r, c):
    r.set("k", "old")
    assert c.call("SET", "k", "v", "EXAT", "1") == "OK"
    assert r.exists("k") == 0
    assert c.call("SET", "k2", "v", "PXAT", "1000") == "OK"
    assert r.exists("k2") == 0


def test_set_keepttl(r, c):
    r.set("k", "v", ex=100)
    assert c.call("SET", "k", "w", "KEEPTTL") == "OK"
    assert r.get("k") == "w"
    assert 99 <= r.ttl("k") <= 100
    assert c.call("SET", "n", "w", "KEEPTTL") == "OK"
    assert r.ttl("n") == -1


@pytest.mark.parametrize("opts", [
    ["NX", "XX"], ["XX", "NX"], ["EX", "10", "PX", "100"], ["PX", "100", "EX", "10"],
    ["EX", "10", "EXAT", "99999999999"], ["PXAT", "99999999999999", "EXAT", "99999999999"],
    ["KEEPTTL", "EX", "10"], ["EX", "10", "KEEPTTL"], ["PX", "10", "KEEPTTL"],
    ["EX"], ["PX"], ["EXAT"], ["PXAT"], ["NX", "EX"], ["FOO"], ["EX", "10", "BAR"],
    ["10"],
])
def test_set_syntax_errors(r, c, opts):
    assert error_of(c, "SET", "k", "v", *opts) == SYNTAX
    assert r.exists("k") == 0


@pytest.mark.parametrize("opt,value", [
    ("EX", "0"), ("EX", "-1"), ("PX", "0"), ("PX", "-100"), ("EXAT", "0"), ("PXAT", "0"),
    ("EXAT", "-5"), ("PXAT", "-5"),
    ("EX", str(INT64_MAX)), ("EX", str(INT64_MAX // 1000 + 1)), ("PX", str(INT64_MAX)),
    ("EXAT", str(INT64_MAX)),
    ("EX", str(INT64_MIN)),
])
def test_set_invalid_expire_time(r, c, opt, value):
    assert error_of(c, "SET", "k", "v", opt, value) == "ERR invalid expire time in 'set' command"
    assert r.exists("k") == 0


@pytest.mark.parametrize("value", ["abc", "1.5", "", " 10", "10 ", "9223372036854775808",
                                   "0x10"])
def test_set_expire_not_integer(r, c, value):
    assert error_of(c, "SET", "k", "v", "EX", value) == NOT_INT
    assert error_of(c, "SET", "k", "v", "PX", value) == NOT_INT
    assert r.exists("k") == 0


def test_set_px_short_ttl_expires(r):
    assert r.set("k", "v", px=100)
    time.sleep(0.3)
    assert r.get("k") is None


# ---- SETNX / SETEX / PSETEX -------------------------------------------------------


def test_setnx(r, c):
    assert c.call("SETNX", "k", "1") == 1
    assert c.call("SETNX", "k", "2") == 0
    assert r.get("k") == "1"


def test_setnx_keeps_existing_ttl(r, c):
    r.set("k", "v", ex=100)
    assert c.call("SETNX", "k", "w") == 0
    assert r.ttl("k") > 0


def test_setex_psetex(r, c):
    assert c.call("SETEX", "k", "100", "v") == "OK"
    assert r.get("k") == "v"
    assert 99 <= r.ttl("k") <= 100
    assert c.call("PSETEX", "p", "100000", "v") == "OK"
    assert 99000 <= r.pttl("p") <= 100000
    # SETEX replaces an existing value and TTL.
    assert c.call("SETEX", "k", "500", "w") == "OK"
    assert r.get("k") == "w"
    assert 499 <= r.ttl("k") <= 500


@pytest.mark.parametrize("cmd", ["setex", "psetex"])
@pytest.mark.parametrize("ttl", ["0", "-1", str(INT64_MIN)])
def test_setex_invalid_expire(r, c, cmd, ttl):
    assert error_of(c, cmd, "k", ttl, "v") == "ERR invalid expire time in '%s' command" % cmd
    assert r.exists("k") == 0


def test_setex_overflow(c):
    assert error_of(c, "SETEX", "k", str(INT64_MAX), "v") == \
        "ERR invalid expire time in 'setex' command"
    assert error_of(c, "PSETEX", "k", str(INT64_MAX), "v") == \
        "ERR invalid expire time in 'psetex' command"


@pytest.mark.parametrize("cmd", ["SETEX", "PSETEX"])
def test_setex_not_integer(c, cmd):
    assert error_of(c, cmd, "k", "ten", "v") == NOT_INT
    assert error_of(c, cmd, "k", "1.5", "v") == NOT_INT


# ---- MGET / MSET / MSETNX -----------------------------------------------------------


def test_mget_mset(r, c):
    assert c.call("MSET", "a", "1", "b", "2", "c", "3") == "OK"
    assert r.mget("a", "b", "nope", "c") == ["1", "2", None, "3"]
    assert r.mget("a", "a") == ["1", "1"]
    # Later pairs win when a key repeats.
    assert c.call("MSET", "x", "1", "x", "2") == "OK"
    assert r.get("x") == "2"


def test_mset_clears_ttl(r, c):
    r.set("a", "1", ex=100)
    c.call("MSET", "a", "2")
    assert r.ttl("a") == -1


def test_msetnx(r, c):
    assert c.call("MSETNX", "a", "1", "b", "2") == 1
    assert r.mget("a", "b") == ["1", "2"]
    # One existing key: nothing is written.
    assert c.call("MSETNX", "c", "3", "a", "9") == 0
    assert r.exists("c") == 0
    assert r.get("a") == "1"


# ---- GETSET / GETDEL / GETEX ----------------------------------------------------------


def test_getset(r, c):
    assert c.call("GETSET", "k", "1") is None
    assert r.get("k") == "1"
    r.expire("k", 100)
    assert c.call("GETSET", "k", "2") == b"1"
    assert r.get("k") == "2"
    assert r.ttl("k") == -1


def test_getdel(r, c):
    r.set("k", "v")
    assert c.call("GETDEL", "k") == b"v"
    assert r.exists("k") == 0
    assert c.call("GETDEL", "k") is None


def test_getex(r, c):
    assert c.call("GETEX", "nope") is None
    assert c.call("GETEX", "nope", "EX", "10") is None
    assert r.exists("nope") == 0
    r.set("k", "v")
    assert c.call("GETEX", "k") == b"v"
    assert r.ttl("k") == -1
    assert c.call("GETEX", "k", "EX", "100") == b"v"
    assert 99 <= r.ttl("k") <= 100
    assert c.call("GETEX", "k", "PX", "200000") == b"v"
    assert 199000 <= r.pttl("k") <= 200000
    now = int(time.time())
    assert c.call("GETEX", "k", "EXAT", str(now + 300)) == b"v"
    assert c.call("EXPIRETIME", "k") == now + 300
    assert c.call("GETEX", "k", "PXAT", str((now + 400) * 1000)) == b"v"
    assert c.call("PEXPIRETIME", "k") == (now + 400) * 1000
    assert c.call("GETEX", "k", "persist") == b"v"
    assert r.ttl("k") == -1


def test_getex_past_time_deletes(r, c):
    r.set("k", "v")
    assert c.call("GETEX", "k", "EXAT", "1") == b"v"
    assert r.exists("k") == 0


@pytest.mark.parametrize("opts", [
    ["EX"], ["PERSIST", "EX", "10"], ["EX", "10", "PERSIST"], ["EX", "10", "PX", "100"],
    ["FOO"], ["KEEPTTL"], ["PX", "10", "EX", "30"],
])
def test_getex_syntax_errors(r, c, opts):
    r.set("k", "v")
    assert error_of(c, "GETEX", "k", *opts) == SYNTAX
    assert r.ttl("k") == -1


@pytest.mark.parametrize("opt,value", [("EX", "0"), ("EX", "-1"), ("PX", "0"), ("EXAT", "0"),
                                       ("PXAT", "-1"), ("EX", str(INT64_MAX)),
                                       ("PX", str(INT64_MAX))])
def test_getex_invalid_expire(r, c, opt, value):
    r.set("k", "v")
    assert error_of(c, "GETEX", "k", opt, value) == "ERR invalid expire time in 'getex' command"
    assert r.get("k") == "v"
    assert r.ttl("k") == -1


def test_getex_not_integer(r, c):
    r.set("k", "v")
    assert error_of(c, "GETEX", "k", "EX", "soon") == NOT_INT


def test_getex_checks_the_time_only_for_an_existing_key(c):
    # As in Redis: a missing key answers nil before the expiry value is read.
    assert c.call("GETEX", "missing", "EX", "soon") is None
    assert c.call("GETEX", "missing", "PX", "-1") is None


def test_set_option_errors_come_before_a_bad_time(r, c):
    assert error_of(c, "SET", "k", "v", "EX", "-5", "KEEPTTL") == SYNTAX
    assert error_of(c, "SET", "k", "v", "EX", "x", "PX", "10") == SYNTAX
    # A repeated unit: only its last value counts.
    assert c.call("SET", "k", "v", "EX", "x", "EX", "100") == "OK"
    assert 0 < r.ttl("k") <= 100
    assert error_of(c, "SET", "k", "v", "EX", "100", "EX", "0") == \
        "ERR invalid expire time in 'set' command"


# ---- APPEND / STRLEN / GETRANGE / SETRANGE ----------------------------------------------


def test_append_strlen(r, c):
    assert c.call("STRLEN", "k") == 0
    assert c.call("APPEND", "k", "Hello") == 5
    assert c.call("APPEND", "k", " World") == 11
    assert r.get("k") == "Hello World"
    assert c.call("STRLEN", "k") == 11
    assert c.call("APPEND", "k", "") == 11


def test_append_keeps_ttl(r, c):
    r.set("k", "a", ex=100)
    c.call("APPEND", "k", "b")
    assert r.ttl("k") > 0


def test_append_to_integer_value(r, c):
    r.set("n", "12")
    assert c.call("APPEND", "n", "34") == 4
    assert c.call("INCR", "n") == 1235


def test_strlen_of_integer_encoded_value(r, c):
    r.set("n", "-12345")
    assert c.call("STRLEN", "n") == 6
    r.incr("n")
    assert c.call("STRLEN", "n") == 6


@pytest.mark.parametrize("cmd", ["GETRANGE", "SUBSTR"])
def test_getrange(r, c, cmd):
    r.set("k", "This is a string")
    cases = [
        (0, 3, b"This"), (-3, -1, b"ing"), (0, -1, b"This is a string"),
        (10, 100, b"string"), (5, 3, b""), (-100, 3, b"This"), (-1, -5, b""),
        (15, 15, b"g"), (16, 20, b""), (-1, -1, b"g"), (0, -100, b"T"),
    ]
    for start, end, want in cases:
        assert c.call(cmd, "k", str(start), str(end)) == want, (start, end)
    assert c.call(cmd, "nope", "0", "-1") == b""


def test_getrange_integer_value(r, c):
    r.set("n", "123456")
    r.incr("n")
    assert c.call("GETRANGE", "n", "1", "3") == b"234"


def test_getrange_empty_string(r, c):
    r.set("e", "")
    assert c.call("GETRANGE", "e", "0", "-1") == b""


def test_getrange_not_integer(r, c):
    r.set("k", "abc")
    assert error_of(c, "GETRANGE", "k", "a", "1") == NOT_INT
    assert error_of(c, "GETRANGE", "k", "0", "1.5") == NOT_INT
    assert error_of(c, "GETRANGE", "k", "0", "99999999999999999999") == NOT_INT


def test_setrange(r, c):
    r.set("k", "Hello World")
    assert c.call("SETRANGE", "k", "6", "Redis") == 11
    assert r.get("k") == "Hello Redis"
    assert c.call("SETRANGE", "k", "11", "!") == 12
    assert r.get("k") == "Hello Redis!"


def test_setrange_pads_with_zero_bytes(rb, c):
    assert c.call("SETRANGE", "k", "5", "x") == 6
    assert rb.get("k") == b"\x00\x00\x00\x00\x00x"
    rb.set("s", "ab")
    assert c.call("SETRANGE", "s", "4", "z") == 5
    assert rb.get("s") == b"ab\x00\x00z"


def test_setrange_empty_value(r, c):
    assert c.call("SETRANGE", "k", "0", "") == 0
    assert c.call("SETRANGE", "k", "10", "") == 0
    assert r.exists("k") == 0
    r.set("s", "abc")
    assert c.call("SETRANGE", "s", "100", "") == 3
    assert r.get("s") == "abc"


def test_setrange_keeps_ttl(r, c):
    r.set("k", "abc", ex=100)
    c.call("SETRANGE", "k", "1", "X")
    assert r.get("k") == "aXc"
    assert r.ttl("k") > 0


def test_setrange_on_integer_value(r, c):
    r.set("n", "1234")
    r.incr("n")
    assert c.call("SETRANGE", "n", "0", "9") == 4
    assert r.get("n") == "9235"


def test_setrange_errors(r, c):
    r.set("k", "abc")
    assert error_of(c, "SETRANGE", "k", "-1", "x") == "ERR offset is out of range"
    assert error_of(c, "SETRANGE", "k", "x", "x") == NOT_INT
    too_long = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
    assert error_of(c, "SETRANGE", "k", str(512 * 1024 * 1024), "x") == too_long
    assert error_of(c, "SETRANGE", "k", str(512 * 1024 * 1024 - 1), "xy") == too_long
    assert error_of(c, "SETRANGE", "nope", str(INT64_MAX), "x") == too_long
    assert r.exists("nope") == 0
    assert r.get("k") == "abc"


# ---- INCR / DECR / INCRBY / DECRBY ------------------------------------------------------


def test_incr_decr(r, c):
    assert c.call("INCR", "n") == 1
    assert c.call("INCR", "n") == 2
    assert c.call("DECR", "n") == 1
    assert c.call("DECR", "m") == -1
    assert c.call("INCRBY", "n", "10") == 11
    assert c.call("INCRBY", "n", "-20") == -9
    assert c.call("DECRBY", "n", "-9") == 0
    assert c.call("DECRBY", "n", "5") == -5
    assert r.get("n") == "-5"


def test_incr_on_string_number(r, c):
    r.set("n", "41")
    assert c.call("INCR", "n") == 42
    r.set("n", "-9223372036854775807")
    assert c.call("DECR", "n") == INT64_MIN
    r.set("big", "9223372036854775806")
    assert c.call("INCR", "big") == INT64_MAX


@pytest.mark.parametrize("value", ["abc", "1.5", "", " 1", "1 ", "+1", "010", "-0", "1e3",
                                   "9223372036854775808", "-9223372036854775809", "0x1",
                                   "12abc", "\x001"])
def test_incr_non_integer_value(r, c, value):
    r.set("n", value)
    assert error_of(c, "INCR", "n") == NOT_INT
    assert error_of(c, "DECR", "n") == NOT_INT
    assert error_of(c, "INCRBY", "n", "1") == NOT_INT
    assert error_of(c, "DECRBY", "n", "1") == NOT_INT
    assert r.get("n") == value


@pytest.mark.parametrize("cmd", ["INCRBY", "DECRBY"])
@pytest.mark.parametrize("delta", ["abc", "1.0", "", "9223372036854775808", " 1"])
def test_incrby_bad_delta(r, c, cmd, delta):
    assert error_of(c, cmd, "n", delta) == NOT_INT
    assert r.exists("n") == 0


def test_incr_overflow(r, c):
    r.set("n", str(INT64_MAX))
    assert error_of(c, "INCR", "n") == OVERFLOW
    assert error_of(c, "INCRBY", "n", "1") == OVERFLOW
    assert error_of(c, "DECRBY", "n", "-1") == OVERFLOW
    assert r.get("n") == str(INT64_MAX)
    r.set("m", str(INT64_MIN))
    assert error_of(c, "DECR", "m") == OVERFLOW
    assert error_of(c, "INCRBY", "m", "-1") == OVERFLOW
    assert r.get("m") == str(INT64_MIN)
    r.set("x", "1")
    assert error_of(c, "INCRBY", "x", str(INT64_MAX)) == OVERFLOW
    r.set("y", "-2")
    assert error_of(c, "INCRBY", "y", str(INT64_MIN)) == OVERFLOW
    assert c.call("INCRBY", "z", str(INT64_MIN)) == INT64_MIN


def test_decrby_int64_min(r, c):
    # Negating INT64_MIN is impossible: Redis 7 rejects it before reading the key.
    r.set("n", "0")
    assert error_of(c, "DECRBY", "n", str(INT64_MIN)) == "ERR decrement would overflow"
    assert r.get("n") == "0"


def test_incr_keeps_ttl(r, c):
    r.set("n", "1", ex=100)
    c.call("INCR", "n")
    c.call("INCRBY", "n", "5")
    c.call("DECR", "n")
    assert r.get("n") == "6"
    assert 99 <= r.ttl("n") <= 100


# ---- INCRBYFLOAT ------------------------------------------------------------------------------


def test_incrbyfloat_documented_examples(r, c):
    r.set("k", "10.50")
    assert c.call("INCRBYFLOAT", "k", "0.1") == b"10.6"
    assert c.call("INCRBYFLOAT", "k", "-5") == b"5.6"
    r.set("k", "5.0e3")
    assert c.call("INCRBYFLOAT", "k", "2.0e2") == b"5200"
    assert r.get("k") == "5200"


@pytest.mark.parametrize("start,incr,want", [
    (None, "1.5", b"1.5"), (None, "10", b"10"), ("3", "0", b"3"), ("10", "0.5", b"10.5"),
    ("1", "-1", b"0"), ("0.1", "0.2", b"0.3"), ("-1.5", "-1.5", b"-3"),
    ("5.0e3", "0", b"5000"), ("1e-5", "0", b"0.00001"), (None, "3.0e2", b"300"),
    ("100", "-0.25", b"99.75"), (None, "  1.5", None), ("2", "1e2", b"102"),
])
def test_incrbyfloat_formatting(r, c, start, incr, want):
    if start is not None:
        r.set("f", start)
    if want is None:
        assert error_of(c, "INCRBYFLOAT", "f", incr) == NOT_FLOAT
    else:
        assert c.call("INCRBYFLOAT", "f", incr) == want
        assert r.get("f") == want.decode()


@pytest.mark.parametrize("incr", ["abc", "", "1.5.5", "1,5", "nan", "0x", "1e"])
def test_incrbyfloat_bad_increment(r, c, incr):
    assert error_of(c, "INCRBYFLOAT", "f", incr) == NOT_FLOAT
    assert r.exists("f") == 0


@pytest.mark.parametrize("value", ["abc", "1.2.3", "nan", "12x"])
def test_incrbyfloat_bad_value(r, c, value):
    r.set("f", value)
    assert error_of(c, "INCRBYFLOAT", "f", "1") == NOT_FLOAT
    assert r.get("f") == value


@pytest.mark.parametrize("start,incr", [(None, "inf"), (None, "-inf"), ("1e4932", "1e4932"),
                                        ("1", "+inf")])
def test_incrbyfloat_infinity(r, c, start, incr):
    if start is not None:
        r.set("f", start)
    assert error_of(c, "INCRBYFLOAT", "f", incr) == "ERR increment would produce NaN or Infinity"
    if start is None:
        assert r.exists("f") == 0
    else:
        assert r.get("f") == start


def test_incrbyfloat_uses_long_double_range(r, c):
    # Redis parses both the value and the increment as long double.
    first = c.call("INCRBYFLOAT", "f", "1e400")
    assert isinstance(first, bytes) and len(first) > 400, first
    assert c.call("INCRBYFLOAT", "f", "-1e400") == b"0"
    assert r.get("f") == "0"


def test_incrbyfloat_keeps_ttl(r, c):
    r.set("f", "1", ex=100)
    assert c.call("INCRBYFLOAT", "f", "0.5") == b"1.5"
    assert 99 <= r.ttl("f") <= 100


def test_incrbyfloat_then_incr(r, c):
    c.call("INCRBYFLOAT", "f", "2")
    assert c.call("INCR", "f") == 3
    c.call("INCRBYFLOAT", "f", "0.5")
    assert error_of(c, "INCR", "f") == NOT_INT


# ---- binary safety and size ----------------------------------------------------------------


def test_all_byte_values(rb):
    value = bytes(range(256)) * 4
    assert rb.set(b"bin", value)
    assert rb.get(b"bin") == value
    assert rb.strlen(b"bin") == 1024
    assert rb.getrange(b"bin", 10, 13) == bytes([10, 11, 12, 13])


def test_binary_keys(rb):
    key = b"k\r\n\x00\xff key"
    assert rb.set(key, b"v\r\nv")
    assert rb.get(key) == b"v\r\nv"
    assert rb.exists(key) == 1
    assert rb.get(b"k") is None
    assert key in rb.keys(b"*")


def test_crlf_inside_value_over_raw_socket(c):
    c.send(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$6\r\na\r\nb\r\n\r\n")
    assert c.read() == "OK"
    assert c.call_raw("GET", "k") == b"$6\r\na\r\nb\r\n\r\n"


def test_ten_megabyte_value(rb):
    value = bytes(range(256)) * (10 * 1024 * 1024 // 256)
    assert rb.set(b"big", value)
    assert rb.strlen(b"big") == len(value)
    assert rb.get(b"big") == value
    assert rb.append(b"big", b"tail") == len(value) + 4
    assert rb.getrange(b"big", -4, -1) == b"tail"
    assert rb.delete(b"big") == 1


def test_many_values_round_trip(rb):
    pipe = rb.pipeline(transaction=False)
    for i in range(500):
        pipe.set(b"key:%d" % i, b"x" * i)
    pipe.execute()
    pipe = rb.pipeline(transaction=False)
    for i in range(500):
        pipe.get(b"key:%d" % i)
    assert pipe.execute() == [b"x" * i for i in range(500)]
