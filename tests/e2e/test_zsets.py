"""Sorted-set commands: ZADD and its flags, ZINCRBY, reads by rank, score and
lex, the removals and pops, ZMPOP, ZRANDMEMBER, ZSCAN, the algebra (ZUNION,
ZINTER, ZDIFF, their STORE forms, ZINTERCARD); score formatting; the listpack
-> skiplist conversion; sorted sets under the generic key commands, RESP3,
keyspace events, transactions and scripts; a randomized comparison with a
model. Everything here but the sluice_only tests (Redis 7.2 behaviour that
redis-server 7.0 lacks, such as ZRANK ... WITHSCORE and shortest round-trip
score text) also passes against redis-server 7.0."""

import random

import pytest

from helpers import (INT64_MAX, INT64_MIN, NOT_FLOAT, NOT_INT, SYNTAX, WRONGTYPE, RespError,
                     arity_error, error_of, subscribed, wait_until)

POSITIVE = "ERR value is out of range, must be positive"
NAN_RESULT = "ERR resulting score is not a number (NaN)"
XX_NX = "ERR XX and NX options at the same time are not compatible"
GT_LT_NX = "ERR GT, LT, and/or NX options at the same time are not compatible"
INCR_PAIR = "ERR INCR option supports a single increment-element pair"
MINMAX_FLOAT = "ERR min or max is not a float"
MINMAX_LEX = "ERR min or max not valid string range item"
LIMIT_NEEDS_BY = ("ERR syntax error, LIMIT is only supported in combination with either "
                  "BYSCORE or BYLEX")
WITHSCORES_BYLEX = "ERR syntax error, WITHSCORES not supported in combination with BYLEX"
WEIGHT_FLOAT = "ERR weight value is not a float"
RANDOM_RANGE = ("ERR value is out of range, value must between -9223372036854775807 and "
                "9223372036854775807")


def at_least_one_key(cmd):
    return "ERR at least 1 input key is needed for '%s' command" % cmd


WRONG_ARITY = [
    ("zadd", []), ("zadd", ["z"]), ("zadd", ["z", "1"]), ("zadd", ["z", "NX"]),
    ("zadd", ["z", "INCR"]),
    ("zincrby", ["z", "1"]), ("zincrby", ["z", "1", "m", "x"]),
    ("zrem", ["z"]), ("zcard", []), ("zcard", ["z", "x"]),
    ("zcount", ["z", "0"]), ("zcount", ["z", "0", "1", "2"]),
    ("zlexcount", ["z", "-"]), ("zlexcount", ["z", "-", "+", "x"]),
    ("zscore", ["z"]), ("zscore", ["z", "m", "n"]), ("zmscore", ["z"]),
    ("zrank", ["z"]), ("zrevrank", ["z"]),
    ("zrank", ["z", "m", "WITHSCORE", "x"]), ("zrevrank", ["z", "m", "WITHSCORE", "x"]),
    ("zrange", ["z", "0"]), ("zrangestore", ["d", "z", "0"]),
    ("zrangebyscore", ["z", "0"]), ("zrevrangebyscore", ["z", "0"]),
    ("zrangebylex", ["z", "-"]), ("zrevrangebylex", ["z", "+"]), ("zrevrange", ["z", "0"]),
    ("zremrangebyrank", ["z", "0"]), ("zremrangebyrank", ["z", "0", "1", "2"]),
    ("zremrangebyscore", ["z", "0"]), ("zremrangebylex", ["z", "-"]),
    ("zpopmin", []), ("zpopmax", []),
    ("zmpop", []), ("zmpop", ["1"]), ("zmpop", ["1", "z"]),
    ("zrandmember", []), ("zscan", ["z"]),
    ("zunion", ["1"]), ("zinter", ["1"]), ("zdiff", ["1"]),
    ("zunionstore", ["d", "1"]), ("zinterstore", ["d", "1"]), ("zdiffstore", ["d", "1"]),
    ("zintercard", ["1"]),
]


@pytest.mark.parametrize("cmd,args", WRONG_ARITY,
                         ids=lambda v: v if isinstance(v, str) else str(len(v)))
def test_wrong_arity(c, cmd, args):
    assert error_of(c, cmd, *args) == arity_error(cmd)
    assert c.call("PING") == "PONG"


@pytest.fixture
def zset_limits(r):
    """Sets zset-max-listpack-entries/-value for a test, restoring them after."""
    saved = {k: r.config_get(k)[k]
             for k in ("zset-max-listpack-entries", "zset-max-listpack-value")}

    def set_limits(entries=128, value=64):
        r.config_set("zset-max-listpack-entries", entries)
        r.config_set("zset-max-listpack-value", value)
    yield set_limits
    for k, v in saved.items():
        r.config_set(k, v)


def flat(*pairs):
    """[(m, score_text), ...] -> the RESP2 WITHSCORES array as bytes."""
    out = []
    for m, s in pairs:
        out += [m.encode(), s.encode()]
    return out


@pytest.fixture
def z5(c):
    """The raw connection with z = a:1 b:2 c:3 d:4 e:5."""
    assert c.call("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e") == 5
    return c


@pytest.fixture
def lex(c):
    """The raw connection with l = a b c d e f g, all scored 0."""
    args = []
    for m in "abcdefg":
        args += ["0", m]
    assert c.call("ZADD", "l", *args) == 7
    return c


# ---- ZADD ----------------------------------------------------------------------------------


def test_zadd_adds_and_updates(c):
    assert c.call("ZADD", "z", "1", "a", "2", "b") == 2
    assert c.call("ZADD", "z", "3", "a", "4", "c") == 1  # a updated: not counted
    assert c.call("ZADD", "z", "3", "a") == 0
    assert c.call("ZCARD", "z") == 3
    assert c.call("ZRANGE", "z", "0", "-1", "WITHSCORES") == flat(("b", "2"), ("a", "3"),
                                                                  ("c", "4"))
    # A member given twice: the last score wins and it counts once.
    assert c.call("ZADD", "y", "1", "m", "5", "m") == 1
    assert c.call("ZSCORE", "y", "m") == b"5"
    assert c.call("TYPE", "z") == "zset"


def test_zadd_orders_by_score_then_member(r):
    r.zadd("z", {"b": 1, "a": 1, "c": 0, "B": 1, "aa": 1, "": 1})
    assert r.zrange("z", 0, -1) == ["c", "", "B", "a", "aa", "b"]


def test_zadd_binary_members(rb):
    members = {b"\x00\xff": 1, b"": 2, b"a\r\nb": 3, b"\x00": 4}
    assert rb.zadd(b"z", members) == 4
    assert rb.zrange(b"z", 0, -1) == [b"\x00\xff", b"", b"a\r\nb", b"\x00"]
    assert rb.zscore(b"z", b"\x00") == 4.0
    assert rb.zrank(b"z", b"") == 1


def test_zadd_nx_xx(c):
    c.call("ZADD", "z", "1", "a")
    assert c.call("ZADD", "z", "NX", "5", "a", "2", "b") == 1
    assert c.call("ZSCORE", "z", "a") == b"1"
    assert c.call("ZADD", "z", "XX", "7", "a", "3", "new") == 0
    assert c.call("ZSCORE", "z", "a") == b"7"
    assert c.call("ZSCORE", "z", "new") is None
    assert c.call("ZADD", "nokey", "XX", "1", "a") == 0
    assert c.call("EXISTS", "nokey") == 0


def test_zadd_gt_lt_ch(c):
    c.call("ZADD", "w", "1", "a")
    assert c.call("ZADD", "w", "GT", "0", "a") == 0
    assert c.call("ZSCORE", "w", "a") == b"1"
    assert c.call("ZADD", "w", "LT", "0", "a") == 0
    assert c.call("ZSCORE", "w", "a") == b"0"
    # CH counts changed scores as well as new members; GT/LT still add new ones.
    assert c.call("ZADD", "w", "GT", "CH", "5", "a", "1", "b") == 2
    assert c.call("ZADD", "w", "LT", "CH", "5", "a", "1", "b") == 0
    assert c.call("ZADD", "w", "NX", "CH", "9", "a", "9", "c") == 1
    assert c.call("ZADD", "w", "XX", "CH", "9", "a", "9", "d") == 1
    assert c.call("ZADD", "w", "CH", "9", "a", "9", "c") == 0
    assert c.call("ZRANGE", "w", "0", "-1", "WITHSCORES") == flat(("b", "1"), ("a", "9"),
                                                                  ("c", "9"))
    assert c.call("ZADD", "w", "XX", "GT", "10", "a", "10", "f") == 0
    assert c.call("ZADD", "w", "lt", "xx", "ch", "1", "a") == 1  # options are case-insensitive
    assert c.call("ZRANGE", "w", "0", "-1", "WITHSCORES") == flat(("a", "1"), ("b", "1"),
                                                                  ("c", "9"))


def test_zadd_incr(c):
    assert c.call("ZADD", "z", "INCR", "2", "a") == b"2"
    assert c.call("ZADD", "z", "INCR", "-0.5", "a") == b"1.5"
    assert c.call("ZADD", "z", "XX", "INCR", "1", "nope") is None
    assert c.call("ZADD", "z", "NX", "INCR", "1", "a") is None
    assert c.call("ZADD", "z", "NX", "INCR", "1", "e") == b"1"
    assert c.call("ZADD", "z", "GT", "INCR", "-1", "a") is None
    assert c.call("ZADD", "z", "LT", "INCR", "-1", "a") == b"0.5"
    assert c.call("ZADD", "z", "GT", "INCR", "1", "g") == b"1"
    assert c.call("ZADD", "z", "CH", "INCR", "1", "g") == b"2"
    assert c.call("ZRANGE", "z", "0", "-1", "WITHSCORES") == flat(("a", "0.5"), ("e", "1"),
                                                                  ("g", "2"))


def test_zadd_flag_combination_errors(c):
    c.call("ZADD", "z", "1", "a")
    assert error_of(c, "ZADD", "z", "NX", "XX", "1", "a") == XX_NX
    assert error_of(c, "ZADD", "z", "XX", "NX", "GT", "1", "a") == XX_NX
    assert error_of(c, "ZADD", "z", "GT", "LT", "1", "a") == GT_LT_NX
    assert error_of(c, "ZADD", "z", "GT", "NX", "1", "a") == GT_LT_NX
    assert error_of(c, "ZADD", "z", "LT", "NX", "1", "a") == GT_LT_NX
    assert error_of(c, "ZADD", "z", "INCR", "1", "a", "2", "b") == INCR_PAIR
    assert error_of(c, "ZADD", "z", "INCR", "1") == SYNTAX
    assert error_of(c, "ZADD", "z", "1", "a", "2") == SYNTAX
    assert error_of(c, "ZADD", "z", "1", "a", "CH") == SYNTAX  # flags come first
    assert c.call("ZRANGE", "z", "0", "-1", "WITHSCORES") == flat(("a", "1"))


@pytest.mark.parametrize("score", ["x", "nan", "NaN", "", " 1", "1 ", "1.5e", "--1", "1e400",
                                   "-1e400", "inff"])
def test_zadd_bad_scores(c, score):
    c.call("ZADD", "z", "1", "a")
    assert error_of(c, "ZADD", "z", score, "b") == NOT_FLOAT
    assert error_of(c, "ZADD", "z", "2", "c", score, "b") == NOT_FLOAT  # nothing is added
    assert error_of(c, "ZADD", "new", score, "b") == NOT_FLOAT
    assert c.call("ZCARD", "z") == 1 and c.call("EXISTS", "new") == 0


def test_zadd_infinities(c):
    assert c.call("ZADD", "z", "inf", "a", "-inf", "b", "+inf", "c", "0", "d") == 4
    assert c.call("ZRANGE", "z", "0", "-1", "WITHSCORES") == flat(
        ("b", "-inf"), ("d", "0"), ("a", "inf"), ("c", "inf"))
    assert c.call("ZADD", "y", "INF", "a", "-Infinity", "b", "+infinity", "c") == 3
    assert c.call("ZMSCORE", "y", "a", "b", "c") == [b"inf", b"-inf", b"inf"]
    assert error_of(c, "ZINCRBY", "z", "-inf", "a") == NAN_RESULT
    assert error_of(c, "ZADD", "z", "INCR", "inf", "b") == NAN_RESULT
    assert c.call("ZADD", "z", "INCR", "inf", "a") == b"inf"
    assert c.call("ZINCRBY", "z", "5", "b") == b"-inf"
    assert c.call("ZSCORE", "z", "a") == b"inf" and c.call("ZSCORE", "z", "b") == b"-inf"


def test_zadd_number_forms(c):
    assert c.call("ZADD", "z", "1e3", "a", "-.5", "b", "+7", "c", "3.0", "d", "0.250", "e") == 5
    assert c.call("ZMSCORE", "z", "a", "b", "c", "d", "e") == [b"1000", b"-0.5", b"7", b"3",
                                                              b"0.25"]
    assert c.call("ZADD", "z", "9007199254740993", "big") == 1  # rounded to the double
    assert c.call("ZSCORE", "z", "big") == b"9007199254740992"


# ---- ZINCRBY, ZSCORE, ZMSCORE, ZCARD, ZREM --------------------------------------------------


def test_zincrby(c):
    assert c.call("ZINCRBY", "z", "5", "a") == b"5"
    assert c.call("ZINCRBY", "z", "-7.5", "a") == b"-2.5"
    assert c.call("ZINCRBY", "z", "0", "b") == b"0"
    assert c.call("ZCARD", "z") == 2
    assert error_of(c, "ZINCRBY", "z", "x", "a") == NOT_FLOAT
    assert error_of(c, "ZINCRBY", "z", "nan", "a") == NOT_FLOAT
    assert error_of(c, "ZINCRBY", "new", "x", "a") == NOT_FLOAT
    assert c.call("EXISTS", "new") == 0
    assert c.call("ZSCORE", "z", "a") == b"-2.5"


def test_score_text_common_to_redis_7_0_and_7_2(c):
    c.call("ZADD", "z", "0.1", "a")
    # 0.1 + 0.2 has the same 17-digit and shortest round-trip text.
    assert c.call("ZINCRBY", "z", "0.2", "a") == b"0.30000000000000004"
    c.call("ZADD", "z", "123456789", "b", "-0.125", "c", "1e15", "d", "0.0001", "e",
           "1e20", "f", "5e18", "g")
    assert c.call("ZMSCORE", "z", "b", "c", "d", "e", "f", "g") == [
        b"123456789", b"-0.125", b"1000000000000000", b"0.0001", b"1e+20", b"5e+18"]


@pytest.mark.sluice_only  # Redis 7.2 replies the shortest text that reads back the same
def test_score_text_is_shortest_round_trip(c):
    c.call("ZADD", "z", "1.1", "a", "0.1", "b", "3.3", "c")
    assert c.call("ZSCORE", "z", "a") == b"1.1"
    assert c.call("ZMSCORE", "z", "b", "c") == [b"0.1", b"3.3"]
    assert c.call("ZRANGE", "z", "0", "0", "WITHSCORES") == [b"b", b"0.1"]
    assert c.call("ZINCRBY", "z", "1.1", "a") == b"2.2"
    # Redis 7.2: integral scores (within +-2^62) are written as integers; other scores as
    # their shortest digits, plainly while there are fewer than 7 zeros after the point,
    # else in exponent form with as few exponent digits as needed.
    c.call("ZADD", "e", "1e15", "a", "100000000", "b", "1.5e-5", "c", "1e-7", "d",
           "-2.5e-10", "f", "123e300", "g", "0.000123", "h")
    assert c.call("ZMSCORE", "e", "a", "b", "c", "d", "f", "g", "h") == [
        b"1000000000000000", b"100000000", b"0.000015", b"1e-7", b"-2.5e-10", b"1.23e+302",
        b"0.000123"]
    assert c.call("HELLO", "3")
    assert c.call_raw("ZSCORE", "z", "c") == b",3.3\r\n"
    assert c.call_raw("ZSCORE", "e", "c") == b",0.000015\r\n"
    assert c.call_raw("ZSCORE", "e", "a") == b",1000000000000000\r\n"


@pytest.mark.redis_only  # Redis 7.0 replies %.17g
def test_score_text_is_17_digits_in_redis_7_0(c):
    c.call("ZADD", "z", "1.1", "a", "0.1", "b")
    assert c.call("ZSCORE", "z", "a") == b"1.1000000000000001"
    assert c.call("ZSCORE", "z", "b") == b"0.10000000000000001"
    c.call("ZADD", "e", "1.5e-5", "c", "1e-7", "d", "4e18", "f")
    assert c.call("ZMSCORE", "e", "c", "d", "f") == [b"1.5e-05", b"9.9999999999999995e-08",
                                                     b"4e+18"]


def test_zscore_zmscore(c):
    c.call("ZADD", "z", "1", "a", "2.5", "b")
    assert c.call("ZSCORE", "z", "b") == b"2.5"
    assert c.call("ZSCORE", "z", "nope") is None
    assert c.call("ZSCORE", "nokey", "a") is None
    assert c.call("ZMSCORE", "z", "a", "nope", "b", "a") == [b"1", None, b"2.5", b"1"]
    assert c.call("ZMSCORE", "nokey", "a", "b") == [None, None]
    assert c.call_raw("ZSCORE", "z", "nope") == b"$-1\r\n"
    assert c.call_raw("ZMSCORE", "z", "nope") == b"*1\r\n$-1\r\n"


def test_zrem_and_zcard(r):
    assert r.zcard("nokey") == 0
    r.zadd("z", {"a": 1, "b": 2, "c": 3})
    assert r.zrem("z", "a", "x", "a") == 1
    assert r.zrem("z", "a") == 0
    assert r.zrem("nokey", "a") == 0
    assert r.zcard("z") == 2
    assert r.zrem("z", "b", "c") == 2
    assert r.exists("z") == 0 and r.type("z") == "none"


# ---- ranks and counts ----------------------------------------------------------------------


def test_zrank_zrevrank(z5):
    c = z5
    assert c.call("ZRANK", "z", "a") == 0
    assert c.call("ZRANK", "z", "e") == 4
    assert c.call("ZREVRANK", "z", "a") == 4
    assert c.call("ZREVRANK", "z", "d") == 1
    assert c.call("ZRANK", "z", "nope") is None
    assert c.call("ZREVRANK", "nokey", "a") is None
    assert c.call_raw("ZRANK", "z", "nope") == b"$-1\r\n"


@pytest.mark.sluice_only  # ZRANK ... WITHSCORE is new in Redis 7.2
def test_zrank_withscore(z5):
    c = z5
    c.call("ZADD", "z", "2.5", "b")
    assert c.call("ZRANK", "z", "b", "WITHSCORE") == [1, b"2.5"]
    assert c.call("ZREVRANK", "z", "b", "withscore") == [3, b"2.5"]
    assert c.call_raw("ZRANK", "z", "a", "WITHSCORE") == b"*2\r\n:0\r\n$1\r\n1\r\n"
    assert c.call_raw("ZRANK", "z", "nope", "WITHSCORE") == b"*-1\r\n"
    assert c.call_raw("ZREVRANK", "nokey", "a", "WITHSCORE") == b"*-1\r\n"
    assert error_of(c, "ZRANK", "z", "a", "WITHSCORES") == SYNTAX
    assert c.call("HELLO", "3")
    assert c.call_raw("ZRANK", "z", "b", "WITHSCORE") == b"*2\r\n:1\r\n,2.5\r\n"
    assert c.call_raw("ZRANK", "z", "nope", "WITHSCORE") == b"_\r\n"


@pytest.mark.redis_only  # Redis 7.0's ZRANK takes exactly two arguments
def test_zrank_withscore_is_unknown_to_redis_7_0(z5):
    assert error_of(z5, "ZRANK", "z", "a", "WITHSCORE") == arity_error("zrank")


def test_zcount(z5):
    c = z5
    assert c.call("ZCOUNT", "z", "-inf", "+inf") == 5
    assert c.call("ZCOUNT", "z", "2", "4") == 3
    assert c.call("ZCOUNT", "z", "(2", "4") == 2
    assert c.call("ZCOUNT", "z", "(1", "(5") == 3
    assert c.call("ZCOUNT", "z", "4", "2") == 0
    assert c.call("ZCOUNT", "z", "(3", "3") == 0
    assert c.call("ZCOUNT", "z", "2.5", "inf") == 3
    assert c.call("ZCOUNT", "nokey", "0", "1") == 0
    for bad in (("x", "1"), ("1", "y"), ("(x", "1"), ("nan", "1"), ("(nan", "1"), ("1 ", "2"),
                ("[1", "2")):
        assert error_of(c, "ZCOUNT", "z", *bad) == MINMAX_FLOAT


def test_zlexcount(lex):
    c = lex
    assert c.call("ZLEXCOUNT", "l", "-", "+") == 7
    assert c.call("ZLEXCOUNT", "l", "[b", "[d") == 3
    assert c.call("ZLEXCOUNT", "l", "(b", "(d") == 1
    assert c.call("ZLEXCOUNT", "l", "[b", "(b") == 0
    assert c.call("ZLEXCOUNT", "l", "+", "-") == 0
    assert c.call("ZLEXCOUNT", "l", "[aa", "+") == 6
    assert c.call("ZLEXCOUNT", "nokey", "-", "+") == 0
    for bad in (("a", "b"), ("[a", "b"), ("-x", "+"), ("", "+")):
        assert error_of(c, "ZLEXCOUNT", "l", *bad) == MINMAX_LEX


# ---- ZRANGE and its older forms ------------------------------------------------------------


def test_zrange_by_rank(z5):
    c = z5
    assert c.call("ZRANGE", "z", "0", "-1") == [b"a", b"b", b"c", b"d", b"e"]
    assert c.call("ZRANGE", "z", "1", "2") == [b"b", b"c"]
    assert c.call("ZRANGE", "z", "-2", "-1", "WITHSCORES") == flat(("d", "4"), ("e", "5"))
    assert c.call("ZRANGE", "z", "-100", "1") == [b"a", b"b"]
    assert c.call("ZRANGE", "z", "3", "100") == [b"d", b"e"]
    assert c.call("ZRANGE", "z", "3", "1") == []
    assert c.call("ZRANGE", "z", "5", "10") == []
    assert c.call("ZRANGE", "z", "0", "-6") == []
    assert c.call("ZRANGE", "z", "0", "0", "REV") == [b"e"]
    assert c.call("ZRANGE", "z", "1", "3", "REV", "WITHSCORES") == flat(("d", "4"), ("c", "3"),
                                                                        ("b", "2"))
    assert c.call("ZRANGE", "z", str(INT64_MIN), str(INT64_MAX)) == [b"a", b"b", b"c", b"d",
                                                                     b"e"]
    assert c.call("ZRANGE", "nokey", "0", "-1") == []
    assert c.call_raw("ZRANGE", "nokey", "0", "-1", "WITHSCORES") == b"*0\r\n"


def test_zrange_byscore(z5):
    c = z5
    assert c.call("ZRANGE", "z", "2", "4", "BYSCORE") == [b"b", b"c", b"d"]
    assert c.call("ZRANGE", "z", "(2", "+inf", "BYSCORE", "WITHSCORES") == flat(
        ("c", "3"), ("d", "4"), ("e", "5"))
    assert c.call("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "1", "2") == [b"b", b"c"]
    # REV takes the range as max then min.
    assert c.call("ZRANGE", "z", "5", "1", "BYSCORE", "REV") == [b"e", b"d", b"c", b"b", b"a"]
    assert c.call("ZRANGE", "z", "1", "5", "BYSCORE", "REV") == []
    assert c.call("ZRANGE", "z", "(5", "1", "BYSCORE", "REV", "LIMIT", "1", "2",
                  "WITHSCORES") == flat(("c", "3"), ("b", "2"))
    # A negative count means all the rest; a negative offset means nothing.
    assert c.call("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "2", "-5") == [b"c", b"d",
                                                                                  b"e"]
    assert c.call("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "2", str(INT64_MAX)) == [
        b"c", b"d", b"e"]
    assert c.call("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "-1", "1") == []
    assert c.call("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "0", "0") == []
    assert c.call("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "10", "1") == []
    assert c.call("ZRANGE", "nokey", "-inf", "+inf", "BYSCORE") == []


def test_zrange_bylex(lex):
    c = lex
    assert c.call("ZRANGE", "l", "-", "+", "BYLEX") == [m.encode() for m in "abcdefg"]
    assert c.call("ZRANGE", "l", "[b", "(e", "BYLEX") == [b"b", b"c", b"d"]
    assert c.call("ZRANGE", "l", "(b", "[e", "BYLEX", "LIMIT", "1", "2") == [b"d", b"e"]
    assert c.call("ZRANGE", "l", "+", "[e", "BYLEX", "REV") == [b"g", b"f", b"e"]
    assert c.call("ZRANGE", "l", "[e", "+", "BYLEX", "REV") == []
    assert c.call("ZRANGE", "l", "(c", "-", "BYLEX", "REV", "LIMIT", "0", "1") == [b"b"]
    assert c.call("ZRANGE", "l", "+", "-", "BYLEX") == []
    assert c.call("ZRANGE", "nokey", "-", "+", "BYLEX") == []


def test_zrange_option_errors(z5):
    c = z5
    assert error_of(c, "ZRANGE", "z", "0", "-1", "LIMIT", "0", "1") == LIMIT_NEEDS_BY
    assert error_of(c, "ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES") == WITHSCORES_BYLEX
    assert error_of(c, "ZRANGE", "z", "0", "1", "BYSCORE", "BYLEX") == SYNTAX
    assert error_of(c, "ZRANGE", "z", "0", "1", "REV", "REV") == SYNTAX
    assert error_of(c, "ZRANGE", "z", "0", "1", "BYSCORE", "LIMIT", "0") == SYNTAX
    assert error_of(c, "ZRANGE", "z", "0", "1", "BYSCORE", "LIMIT") == SYNTAX
    assert error_of(c, "ZRANGE", "z", "0", "1", "FOO") == SYNTAX
    assert error_of(c, "ZRANGE", "z", "0", "1", "BYSCORE", "LIMIT", "x", "1") == NOT_INT
    assert error_of(c, "ZRANGE", "z", "0", "1", "BYSCORE", "LIMIT", "0", "1.5") == NOT_INT
    assert error_of(c, "ZRANGE", "z", "0", "1", "BYSCORE", "LIMIT",
                    "9223372036854775808", "1") == NOT_INT
    assert error_of(c, "ZRANGE", "z", "0", "9223372036854775808") == NOT_INT
    assert error_of(c, "ZRANGE", "z", "-9223372036854775809", "1") == NOT_INT
    assert error_of(c, "ZRANGE", "z", "0", "x") == NOT_INT
    assert error_of(c, "ZRANGE", "z", "1.0", "2") == NOT_INT
    assert error_of(c, "ZRANGE", "z", "x", "1", "BYSCORE") == MINMAX_FLOAT
    assert error_of(c, "ZRANGE", "z", "(x", "1", "BYSCORE") == MINMAX_FLOAT
    assert error_of(c, "ZRANGE", "z", "a", "b", "BYLEX") == MINMAX_LEX
    assert error_of(c, "ZRANGE", "z", "[a", "b", "BYLEX") == MINMAX_LEX
    # WITHSCORES may be repeated.
    assert c.call("ZRANGE", "z", "0", "0", "WITHSCORES", "WITHSCORES") == flat(("a", "1"))
    assert c.call("ZRANGE", "z", "0", "0", "withscores") == flat(("a", "1"))


def test_zrangestore(z5):
    c = z5
    assert c.call("ZRANGESTORE", "d", "z", "1", "2") == 2
    assert c.call("ZRANGE", "d", "0", "-1", "WITHSCORES") == flat(("b", "2"), ("c", "3"))
    assert c.call("ZRANGESTORE", "d", "z", "(1", "4", "BYSCORE", "LIMIT", "1", "5") == 2
    assert c.call("ZRANGE", "d", "0", "-1") == [b"c", b"d"]
    assert c.call("ZRANGESTORE", "d", "z", "0", "1", "REV") == 2
    assert c.call("ZRANGE", "d", "0", "-1") == [b"d", b"e"]
    c.call("ZADD", "l", "0", "x", "0", "y", "0", "z")
    assert c.call("ZRANGESTORE", "d", "l", "[y", "+", "BYLEX") == 2
    assert c.call("ZRANGE", "d", "0", "-1", "WITHSCORES") == flat(("y", "0"), ("z", "0"))
    # An empty result deletes the destination.
    assert c.call("ZRANGESTORE", "d", "z", "10", "20") == 0
    assert c.call("EXISTS", "d") == 0
    assert c.call("ZRANGESTORE", "d", "nokey", "0", "-1") == 0
    assert c.call("EXISTS", "d") == 0
    # The source may be the destination; any type of destination is overwritten.
    assert c.call("ZRANGESTORE", "z", "z", "0", "1") == 2
    assert c.call("ZRANGE", "z", "0", "-1") == [b"a", b"b"]
    c.call("SET", "str", "v")
    c.call("EXPIRE", "str", "100")
    assert c.call("ZRANGESTORE", "str", "z", "0", "0") == 1
    assert c.call("TYPE", "str") == "zset" and c.call("TTL", "str") == -1
    assert error_of(c, "ZRANGESTORE", "d", "z", "0", "1", "WITHSCORES") == SYNTAX
    assert error_of(c, "ZRANGESTORE", "d", "z", "0", "1", "LIMIT", "0", "1") == LIMIT_NEEDS_BY
    assert error_of(c, "ZRANGESTORE", "d", "str2", "0", "1", "FOO") == SYNTAX
    assert error_of(c, "ZRANGESTORE", "d", "z", "x", "1") == NOT_INT
    c.call("SET", "s2", "v")
    assert error_of(c, "ZRANGESTORE", "d", "s2", "0", "1") == WRONGTYPE


def test_zrangebyscore_zrevrangebyscore(z5):
    c = z5
    assert c.call("ZRANGEBYSCORE", "z", "2", "4") == [b"b", b"c", b"d"]
    assert c.call("ZRANGEBYSCORE", "z", "-inf", "(3", "WITHSCORES") == flat(("a", "1"),
                                                                            ("b", "2"))
    assert c.call("ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "1", "2", "WITHSCORES") == flat(
        ("b", "2"), ("c", "3"))
    assert c.call("ZRANGEBYSCORE", "z", "-inf", "+inf", "WITHSCORES", "LIMIT", "4", "9") == flat(
        ("e", "5"))
    assert c.call("ZREVRANGEBYSCORE", "z", "+inf", "-inf") == [b"e", b"d", b"c", b"b", b"a"]
    assert c.call("ZREVRANGEBYSCORE", "z", "+inf", "-inf", "WITHSCORES", "LIMIT", "1",
                  "2") == flat(("d", "4"), ("c", "3"))
    assert c.call("ZREVRANGEBYSCORE", "z", "(4", "(1") == [b"c", b"b"]
    assert c.call("ZREVRANGEBYSCORE", "z", "1", "4") == []
    assert c.call("ZRANGEBYSCORE", "nokey", "0", "1") == []
    assert error_of(c, "ZRANGEBYSCORE", "z", "1", "2", "LIMIT", "0") == SYNTAX
    assert error_of(c, "ZRANGEBYSCORE", "z", "1", "2", "REV") == SYNTAX
    assert error_of(c, "ZRANGEBYSCORE", "z", "1", "2", "BYSCORE") == SYNTAX
    assert error_of(c, "ZRANGEBYSCORE", "z", "1", "2", "WITHSCORES", "LIMIT", "0", "1",
                    "FOO") == SYNTAX
    assert error_of(c, "ZRANGEBYSCORE", "z", "x", "2") == MINMAX_FLOAT
    assert error_of(c, "ZREVRANGEBYSCORE", "z", "2", "nan") == MINMAX_FLOAT
    assert error_of(c, "ZREVRANGEBYSCORE", "z", "2", "1", "LIMIT", "a", "1") == NOT_INT


def test_zrangebylex_zrevrangebylex(lex):
    c = lex
    assert c.call("ZRANGEBYLEX", "l", "-", "[c") == [b"a", b"b", b"c"]
    assert c.call("ZRANGEBYLEX", "l", "(a", "(d", "LIMIT", "1", "5") == [b"c"]
    assert c.call("ZREVRANGEBYLEX", "l", "+", "-", "LIMIT", "1", "2") == [b"f", b"e"]
    assert c.call("ZREVRANGEBYLEX", "l", "[c", "-") == [b"c", b"b", b"a"]
    assert c.call("ZREVRANGEBYLEX", "l", "-", "+") == []
    assert c.call("ZRANGEBYLEX", "nokey", "-", "+") == []
    assert error_of(c, "ZRANGEBYLEX", "l", "-", "+", "WITHSCORES") == WITHSCORES_BYLEX
    assert error_of(c, "ZRANGEBYLEX", "l", "-", "+", "LIMIT", "0") == SYNTAX
    assert error_of(c, "ZRANGEBYLEX", "l", "a", "+") == MINMAX_LEX
    assert error_of(c, "ZREVRANGEBYLEX", "l", "+", "c") == MINMAX_LEX


def test_bylex_compares_bytes(rb):
    rb.zadd(b"l", {b"a": 0, b"B": 0, b"\xff": 0, b"\x00": 0, b"ab": 0, b"": 0})
    assert rb.zrangebylex(b"l", b"-", b"+") == [b"", b"\x00", b"B", b"a", b"ab", b"\xff"]
    assert rb.zrangebylex(b"l", b"(a", b"+") == [b"ab", b"\xff"]
    assert rb.zlexcount(b"l", b"[\x00", b"(a") == 2


def test_zrevrange(z5):
    c = z5
    assert c.call("ZREVRANGE", "z", "0", "-1") == [b"e", b"d", b"c", b"b", b"a"]
    assert c.call("ZREVRANGE", "z", "1", "2", "WITHSCORES") == flat(("d", "4"), ("c", "3"))
    assert c.call("ZREVRANGE", "z", "-1", "-1") == [b"a"]
    assert c.call("ZREVRANGE", "nokey", "0", "-1") == []
    assert error_of(c, "ZREVRANGE", "z", "0", "-1", "LIMIT", "0", "1") == LIMIT_NEEDS_BY
    assert error_of(c, "ZREVRANGE", "z", "0", "-1", "BYSCORE") == SYNTAX
    assert error_of(c, "ZREVRANGE", "z", "0", "x") == NOT_INT


def test_redis_py_range_helpers(r):
    r.zadd("z", {"a": 1, "b": 2.5, "c": 3})
    assert r.zrange("z", 0, -1, withscores=True) == [("a", 1.0), ("b", 2.5), ("c", 3.0)]
    assert r.zrange("z", 0, 0, desc=True) == ["c"]
    assert r.zrangebyscore("z", 2, 3, withscores=True) == [("b", 2.5), ("c", 3.0)]
    assert r.zrevrangebyscore("z", "+inf", "(1") == ["c", "b"]
    assert r.zrange("z", "(1", "+inf", byscore=True, offset=0, num=1) == ["b"]


# ---- removals and pops ---------------------------------------------------------------------


def test_zremrangebyrank(z5):
    c = z5
    assert c.call("ZREMRANGEBYRANK", "z", "1", "2") == 2
    assert c.call("ZRANGE", "z", "0", "-1") == [b"a", b"d", b"e"]
    assert c.call("ZREMRANGEBYRANK", "z", "-1", "-1") == 1
    assert c.call("ZREMRANGEBYRANK", "z", "5", "10") == 0
    assert c.call("ZREMRANGEBYRANK", "z", "1", "0") == 0
    assert c.call("ZREMRANGEBYRANK", "nokey", "0", "-1") == 0
    assert error_of(c, "ZREMRANGEBYRANK", "z", "x", "1") == NOT_INT
    assert error_of(c, "ZREMRANGEBYRANK", "z", "0", "9223372036854775808") == NOT_INT
    assert c.call("ZREMRANGEBYRANK", "z", "0", "-1") == 2
    assert c.call("EXISTS", "z") == 0


def test_zremrangebyscore(z5):
    c = z5
    assert c.call("ZREMRANGEBYSCORE", "z", "(1", "3") == 2
    assert c.call("ZRANGE", "z", "0", "-1") == [b"a", b"d", b"e"]
    assert c.call("ZREMRANGEBYSCORE", "z", "10", "20") == 0
    assert c.call("ZREMRANGEBYSCORE", "z", "5", "1") == 0
    assert c.call("ZREMRANGEBYSCORE", "nokey", "-inf", "+inf") == 0
    assert error_of(c, "ZREMRANGEBYSCORE", "z", "x", "1") == MINMAX_FLOAT
    assert c.call("ZREMRANGEBYSCORE", "z", "-inf", "+inf") == 3
    assert c.call("EXISTS", "z") == 0


def test_zremrangebylex(lex):
    c = lex
    assert c.call("ZREMRANGEBYLEX", "l", "[b", "(d") == 2
    assert c.call("ZRANGE", "l", "0", "-1") == [b"a", b"d", b"e", b"f", b"g"]
    assert c.call("ZREMRANGEBYLEX", "l", "(g", "+") == 0
    assert c.call("ZREMRANGEBYLEX", "nokey", "-", "+") == 0
    assert error_of(c, "ZREMRANGEBYLEX", "l", "x", "+") == MINMAX_LEX
    assert c.call("ZREMRANGEBYLEX", "l", "-", "+") == 5
    assert c.call("EXISTS", "l") == 0


def test_zpopmin_zpopmax(z5):
    c = z5
    assert c.call("ZPOPMIN", "z") == [b"a", b"1"]
    assert c.call("ZPOPMAX", "z") == [b"e", b"5"]
    assert c.call("ZPOPMIN", "z", "2") == flat(("b", "2"), ("c", "3"))
    assert c.call("ZPOPMIN", "z", "0") == []
    assert c.call("ZCARD", "z") == 1
    assert c.call("ZPOPMAX", "z", "10") == flat(("d", "4"))
    assert c.call("EXISTS", "z") == 0
    assert c.call("ZPOPMIN", "nokey") == []
    assert c.call("ZPOPMAX", "nokey", "3") == []
    assert c.call_raw("ZPOPMIN", "nokey") == b"*0\r\n"


def test_zpop_count_errors(z5):
    c = z5
    assert error_of(c, "ZPOPMIN", "z", "-1") == POSITIVE
    assert error_of(c, "ZPOPMAX", "z", "x") == POSITIVE
    assert error_of(c, "ZPOPMIN", "z", "1.5") == POSITIVE
    assert error_of(c, "ZPOPMIN", "z", "1", "2") == SYNTAX
    assert error_of(c, "ZPOPMIN", "nokey", "-1") == POSITIVE
    assert c.call("ZCARD", "z") == 5


def test_zpop_equal_scores_by_member(c):
    c.call("ZADD", "z", "1", "b", "1", "a", "1", "c")
    assert c.call("ZPOPMIN", "z") == [b"a", b"1"]
    assert c.call("ZPOPMAX", "z") == [b"c", b"1"]


def test_zmpop(c):
    c.call("ZADD", "z", "1", "a", "2", "b", "3", "c")
    c.call("ZADD", "y", "10", "x")
    assert c.call("ZMPOP", "1", "z", "MIN") == [b"z", [[b"a", b"1"]]]
    assert c.call("ZMPOP", "2", "nokey", "z", "max", "COUNT", "10") == [
        b"z", [[b"c", b"3"], [b"b", b"2"]]]
    assert c.call("EXISTS", "z") == 0
    assert c.call("ZMPOP", "2", "z", "y", "MIN") == [b"y", [[b"x", b"10"]]]
    assert c.call("ZMPOP", "1", "nokey", "MIN") is None
    assert c.call_raw("ZMPOP", "2", "nokey", "y", "MAX", "COUNT", "5") == b"*-1\r\n"


def test_zmpop_errors(c):
    c.call("ZADD", "z", "1", "a")
    for n in ("0", "-1", "x"):
        assert error_of(c, "ZMPOP", n, "z", "MIN") == "ERR numkeys should be greater than 0"
    assert error_of(c, "ZMPOP", "2", "z", "MIN") == SYNTAX
    assert error_of(c, "ZMPOP", "1", "z", "FOO") == SYNTAX
    assert error_of(c, "ZMPOP", "1", "z", "MIN", "FOO") == SYNTAX
    assert error_of(c, "ZMPOP", "1", "z", "MIN", "COUNT") == SYNTAX
    assert error_of(c, "ZMPOP", "1", "z", "MIN", "COUNT", "1", "COUNT", "1") == SYNTAX
    for n in ("0", "-1", "x"):
        assert error_of(c, "ZMPOP", "1", "z", "MIN", "COUNT", n) == (
            "ERR count should be greater than 0")
    c.call("SET", "s", "v")
    assert error_of(c, "ZMPOP", "2", "s", "z", "MIN") == WRONGTYPE
    assert c.call("ZCARD", "z") == 1


# ---- ZRANDMEMBER ---------------------------------------------------------------------------


def test_zrandmember(r):
    members = {"m%d" % i: i for i in range(20)}
    r.zadd("z", members)
    assert r.zrandmember("z") in members
    assert r.zrandmember("nokey") is None
    assert r.zrandmember("nokey", 3) == []
    assert r.zrandmember("nokey", -3) == []
    assert r.zrandmember("z", 0) == []
    picked = r.zrandmember("z", 5)
    assert len(picked) == 5 and len(set(picked)) == 5 and set(picked) <= set(members)
    assert sorted(r.zrandmember("z", 100)) == sorted(members)
    rep = r.zrandmember("z", -50)
    assert len(rep) == 50 and set(rep) <= set(members)
    flat_reply = r.execute_command("ZRANDMEMBER", "z", "4", "WITHSCORES")
    assert len(flat_reply) == 8
    assert len(set(flat_reply[::2])) == 4
    for m, s in zip(flat_reply[::2], flat_reply[1::2]):
        assert members[m] == int(s)
    neg = r.execute_command("ZRANDMEMBER", "z", "-30", "withscores")
    assert len(neg) == 60
    for m, s in zip(neg[::2], neg[1::2]):
        assert members[m] == int(s)


def test_zrandmember_on_a_large_set(r, zset_limits):
    zset_limits(entries=16)
    members = {"m%d" % i: i for i in range(300)}
    r.zadd("z", members)
    assert r.object("encoding", "z") == "skiplist"
    picked = r.zrandmember("z", 20)
    assert len(set(picked)) == 20 and set(picked) <= set(members)
    most = r.zrandmember("z", 250)
    assert len(set(most)) == 250 and set(most) <= set(members)
    assert set(r.zrandmember("z", 300)) == set(members)
    assert len(r.zrandmember("z", -700)) == 700


def test_zrandmember_errors(c):
    c.call("ZADD", "z", "1", "a")
    assert error_of(c, "ZRANDMEMBER", "z", "x") == NOT_INT
    assert error_of(c, "ZRANDMEMBER", "z", "99999999999999999999") == NOT_INT
    assert error_of(c, "ZRANDMEMBER", "z", str(INT64_MIN)) == RANDOM_RANGE
    assert error_of(c, "ZRANDMEMBER", "z", str(INT64_MAX), "WITHSCORES") == (
        "ERR value is out of range")
    assert error_of(c, "ZRANDMEMBER", "z", str(-INT64_MAX), "WITHSCORES") == (
        "ERR value is out of range")
    assert error_of(c, "ZRANDMEMBER", "z", "1", "WITHSCORE") == SYNTAX
    assert error_of(c, "ZRANDMEMBER", "z", "1", "WITHSCORES", "x") == SYNTAX
    assert c.call_raw("ZRANDMEMBER", "nokey") == b"$-1\r\n"
    assert c.call_raw("ZRANDMEMBER", "z", "1", "WITHSCORES") == b"*2\r\n$1\r\na\r\n$1\r\n1\r\n"


# ---- ZSCAN ---------------------------------------------------------------------------------


def test_zscan_small_set_in_one_call(c):
    c.call("ZADD", "z", "1", "a", "2.5", "b", "3", "ab")
    cursor, items = c.call("ZSCAN", "z", "0")
    assert cursor == b"0"
    assert dict(zip(items[::2], items[1::2])) == {b"a": b"1", b"b": b"2.5", b"ab": b"3"}
    cursor, items = c.call("ZSCAN", "z", "0", "MATCH", "a*")
    assert cursor == b"0" and dict(zip(items[::2], items[1::2])) == {b"a": b"1", b"ab": b"3"}
    assert c.call("ZSCAN", "nokey", "0") == [b"0", []]


def test_zscan_large_set_visits_every_member(r, zset_limits):
    zset_limits(entries=8)
    members = {"m%d" % i: float(i) for i in range(1000)}
    r.zadd("z", members)
    assert r.object("encoding", "z") == "skiplist"
    seen, cursor, calls = {}, 0, 0
    while True:
        cursor, page = r.zscan("z", cursor, count=50)
        seen.update(dict(page))
        calls += 1
        assert calls < 1000, "ZSCAN does not terminate"
        if cursor == 0:
            break
    assert seen == members and calls > 5
    matched = dict(r.zscan_iter("z", match="m1?"))
    assert matched == {"m%d" % i: float(i) for i in range(10, 20)}


def test_zscan_errors(c):
    c.call("ZADD", "z", "1", "a")
    assert error_of(c, "ZSCAN", "z", "x") == "ERR invalid cursor"
    assert error_of(c, "ZSCAN", "z", "0", "COUNT", "0") == SYNTAX
    assert error_of(c, "ZSCAN", "z", "0", "COUNT", "x") == NOT_INT
    assert error_of(c, "ZSCAN", "z", "0", "FOO") == SYNTAX
    assert error_of(c, "ZSCAN", "z", "0", "MATCH") == SYNTAX
    assert c.call("ZSCAN", "nokey", "0", "FOO") == [b"0", []]
    c.call("SET", "s", "v")
    assert error_of(c, "ZSCAN", "s", "0") == WRONGTYPE


# ---- algebra -------------------------------------------------------------------------------


@pytest.fixture
def abc(c):
    c.call("ZADD", "a", "1", "x", "2", "y", "3", "z")
    c.call("ZADD", "b", "10", "y", "20", "z", "30", "w")
    c.call("SADD", "s", "x", "w", "q")
    return c


def test_zunion(abc):
    c = abc
    assert c.call("ZUNION", "2", "a", "b") == [b"x", b"y", b"z", b"w"]
    assert c.call("ZUNION", "2", "a", "b", "WITHSCORES") == flat(
        ("x", "1"), ("y", "12"), ("z", "23"), ("w", "30"))
    assert c.call("ZUNION", "2", "a", "b", "WEIGHTS", "2", "0.5", "WITHSCORES") == flat(
        ("x", "2"), ("y", "9"), ("w", "15"), ("z", "16"))
    assert c.call("ZUNION", "2", "a", "b", "AGGREGATE", "MIN", "WITHSCORES") == flat(
        ("x", "1"), ("y", "2"), ("z", "3"), ("w", "30"))
    assert c.call("ZUNION", "2", "a", "b", "aggregate", "max", "withscores") == flat(
        ("x", "1"), ("y", "10"), ("z", "20"), ("w", "30"))
    assert c.call("ZUNION", "2", "a", "nokey", "WITHSCORES") == flat(("x", "1"), ("y", "2"),
                                                                     ("z", "3"))
    assert c.call("ZUNION", "1", "nokey") == []


def test_zinter(abc):
    c = abc
    assert c.call("ZINTER", "2", "a", "b") == [b"y", b"z"]
    assert c.call("ZINTER", "2", "a", "b", "WITHSCORES") == flat(("y", "12"), ("z", "23"))
    assert c.call("ZINTER", "2", "a", "b", "WEIGHTS", "1", "-1", "WITHSCORES") == flat(
        ("z", "-17"), ("y", "-8"))
    assert c.call("ZINTER", "2", "a", "b", "AGGREGATE", "MAX", "WITHSCORES") == flat(
        ("y", "10"), ("z", "20"))
    assert c.call("ZINTER", "2", "a", "nokey") == []
    assert c.call("ZINTER", "1", "a") == [b"x", b"y", b"z"]


def test_zdiff(abc):
    c = abc
    assert c.call("ZDIFF", "2", "a", "b") == [b"x"]
    assert c.call("ZDIFF", "2", "b", "a", "WITHSCORES") == flat(("w", "30"))
    assert c.call("ZDIFF", "1", "a", "WITHSCORES") == flat(("x", "1"), ("y", "2"), ("z", "3"))
    assert c.call("ZDIFF", "2", "a", "a") == []
    assert c.call("ZDIFF", "2", "nokey", "a") == []
    assert c.call("ZDIFF", "2", "a", "nokey") == [b"x", b"y", b"z"]


def test_plain_sets_count_with_score_one(abc):
    c = abc
    assert c.call("ZUNION", "2", "a", "s", "WITHSCORES") == flat(
        ("q", "1"), ("w", "1"), ("x", "2"), ("y", "2"), ("z", "3"))
    assert c.call("ZINTER", "2", "s", "b", "WITHSCORES") == flat(("w", "31"))
    assert c.call("ZINTER", "2", "s", "a", "WEIGHTS", "5", "1", "WITHSCORES") == flat(("x", "6"))
    assert c.call("ZDIFF", "2", "a", "s") == [b"y", b"z"]
    assert c.call("ZINTERCARD", "2", "s", "b") == 1
    assert c.call("ZUNIONSTORE", "d", "1", "s") == 3
    assert c.call("ZRANGE", "d", "0", "-1", "WITHSCORES") == flat(("q", "1"), ("w", "1"),
                                                                  ("x", "1"))


def test_infinities_in_sum_give_zero(c):
    c.call("ZADD", "p", "inf", "m", "1", "n")
    c.call("ZADD", "q", "-inf", "m", "-inf", "n")
    assert c.call("ZUNION", "2", "p", "q", "WITHSCORES") == flat(("n", "-inf"), ("m", "0"))
    assert c.call("ZINTERSTORE", "d", "2", "p", "q") == 2
    assert c.call("ZSCORE", "d", "m") == b"0"
    assert c.call("ZUNION", "2", "p", "q", "AGGREGATE", "MAX", "WITHSCORES") == flat(
        ("n", "1"), ("m", "inf"))
    # inf times a weight of 0 is 0, not NaN.
    assert c.call("ZUNION", "1", "p", "WEIGHTS", "0", "WITHSCORES") == flat(("m", "0"),
                                                                            ("n", "0"))
    assert c.call("ZUNION", "1", "p", "WEIGHTS", "inf", "WITHSCORES") == flat(("m", "inf"),
                                                                              ("n", "inf"))


def test_store_forms(abc):
    c = abc
    assert c.call("ZUNIONSTORE", "d", "2", "a", "b") == 4
    assert c.call("ZRANGE", "d", "0", "-1", "WITHSCORES") == flat(
        ("x", "1"), ("y", "12"), ("z", "23"), ("w", "30"))
    assert c.call("ZINTERSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2", "AGGREGATE",
                  "MIN") == 2
    assert c.call("ZRANGE", "d", "0", "-1", "WITHSCORES") == flat(("y", "2"), ("z", "3"))
    assert c.call("ZDIFFSTORE", "d", "2", "a", "b") == 1
    assert c.call("ZRANGE", "d", "0", "-1", "WITHSCORES") == flat(("x", "1"))
    c.call("SET", "str", "v")
    c.call("EXPIRE", "str", "100")
    assert c.call("ZUNIONSTORE", "str", "1", "a") == 3  # overwrites any type, drops the TTL
    assert c.call("TYPE", "str") == "zset" and c.call("TTL", "str") == -1
    assert c.call("ZINTERSTORE", "d", "2", "a", "nokey") == 0
    assert c.call("EXISTS", "d") == 0
    assert c.call("ZDIFFSTORE", "d", "2", "a", "a") == 0
    assert c.call("EXISTS", "d") == 0
    assert c.call("ZUNIONSTORE", "a", "2", "a", "b") == 4  # a source may be the destination
    assert c.call("ZRANGE", "a", "0", "-1") == [b"x", b"y", b"z", b"w"]


def test_zintercard(abc):
    c = abc
    c.call("ZADD", "c", "0", "z", "0", "w")
    assert c.call("ZINTERCARD", "2", "a", "b") == 2
    assert c.call("ZINTERCARD", "3", "a", "b", "c") == 1
    assert c.call("ZINTERCARD", "2", "a", "b", "LIMIT", "1") == 1
    assert c.call("ZINTERCARD", "2", "a", "b", "LIMIT", "0") == 2
    assert c.call("ZINTERCARD", "2", "a", "b", "limit", "100") == 2
    assert c.call("ZINTERCARD", "2", "a", "nokey") == 0
    assert c.call("ZINTERCARD", "1", "b") == 3


def test_algebra_errors(abc):
    c = abc
    for cmd in ("ZUNION", "ZINTER", "ZDIFF", "ZINTERCARD"):
        assert error_of(c, cmd, "0", "a") == at_least_one_key(cmd.lower())
    for cmd in ("ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE"):
        assert error_of(c, cmd, "d", "0", "a") == at_least_one_key(cmd.lower())
    assert error_of(c, "ZUNION", "-1", "a") == at_least_one_key("zunion")
    assert error_of(c, "ZUNION", "x", "a") == NOT_INT
    assert error_of(c, "ZUNIONSTORE", "d", "x", "a") == NOT_INT
    assert error_of(c, "ZUNION", "3", "a", "b") == SYNTAX
    assert error_of(c, "ZINTERSTORE", "d", "3", "a", "b") == SYNTAX
    assert error_of(c, "ZUNION", "1", "a", "WEIGHTS") == SYNTAX
    assert error_of(c, "ZUNION", "2", "a", "b", "WEIGHTS", "1") == SYNTAX
    assert error_of(c, "ZUNION", "1", "a", "WEIGHTS", "1", "2") == SYNTAX
    assert error_of(c, "ZUNION", "1", "a", "WEIGHTS", "x") == WEIGHT_FLOAT
    assert error_of(c, "ZINTER", "1", "a", "WEIGHTS", "nan") == WEIGHT_FLOAT
    assert error_of(c, "ZUNION", "1", "a", "AGGREGATE") == SYNTAX
    assert error_of(c, "ZUNION", "1", "a", "AGGREGATE", "AVG") == SYNTAX
    assert error_of(c, "ZUNION", "1", "a", "FOO") == SYNTAX
    assert error_of(c, "ZUNIONSTORE", "d", "1", "a", "WITHSCORES") == SYNTAX
    assert error_of(c, "ZDIFF", "1", "a", "WEIGHTS", "1") == SYNTAX
    assert error_of(c, "ZDIFF", "1", "a", "AGGREGATE", "SUM") == SYNTAX
    assert error_of(c, "ZDIFFSTORE", "d", "1", "a", "WITHSCORES") == SYNTAX
    assert error_of(c, "ZINTER", "1", "a", "LIMIT", "1") == SYNTAX
    assert error_of(c, "ZINTERCARD", "1", "a", "LIMIT", "-1") == "ERR LIMIT can't be negative"
    assert error_of(c, "ZINTERCARD", "1", "a", "LIMIT", "x") == "ERR LIMIT can't be negative"
    assert error_of(c, "ZINTERCARD", "1", "a", "LIMIT") == SYNTAX
    assert error_of(c, "ZINTERCARD", "1", "a", "WITHSCORES") == SYNTAX
    assert error_of(c, "ZINTERCARD", "2", "a") == SYNTAX
    assert error_of(c, "ZINTERCARD", "x", "a") == NOT_INT
    c.call("SET", "str", "v")
    c.call("HSET", "h", "f", "v")
    for args in (("ZUNION", "2", "a", "str"), ("ZINTER", "3", "nokey", "a", "h"),
                 ("ZDIFF", "2", "a", "str"), ("ZUNIONSTORE", "d", "2", "a", "h"),
                 ("ZINTERSTORE", "d", "2", "a", "str"), ("ZDIFFSTORE", "d", "2", "str", "a"),
                 ("ZINTERCARD", "2", "a", "h")):
        assert error_of(c, *args) == WRONGTYPE
    assert c.call("EXISTS", "d") == 0


def test_same_key_twice_in_the_algebra(abc):
    c = abc
    assert c.call("ZUNION", "2", "a", "a", "WITHSCORES") == flat(("x", "2"), ("y", "4"),
                                                                 ("z", "6"))
    assert c.call("ZINTER", "2", "a", "a", "AGGREGATE", "MIN", "WITHSCORES") == flat(
        ("x", "1"), ("y", "2"), ("z", "3"))
    assert c.call("ZINTER", "2", "a", "a", "WEIGHTS", "1", "-1", "WITHSCORES") == flat(
        ("x", "0"), ("y", "0"), ("z", "0"))
    assert c.call("ZINTERCARD", "2", "a", "a") == 3


def test_store_with_an_empty_result_deletes_any_destination(abc):
    c = abc
    for cmd in (("ZUNIONSTORE", "dst", "1", "nokey"), ("ZINTERSTORE", "dst", "2", "a", "nokey"),
                ("ZDIFFSTORE", "dst", "2", "a", "a"), ("ZRANGESTORE", "dst", "a", "5", "9"),
                ("ZRANGESTORE", "dst", "a", "(3", "+inf", "BYSCORE")):
        c.call("SET", "dst", "v")
        assert c.call(*cmd) == 0
        assert c.call("EXISTS", "dst") == 0
    c.call("HSET", "dst", "f", "v")
    assert c.call("ZRANGESTORE", "dst", "a", "0", "0", "REV") == 1
    assert c.call("ZRANGE", "dst", "0", "-1", "WITHSCORES") == flat(("z", "3"))
    assert c.call("ZRANGESTORE", "dst", "a", "3", "1", "BYSCORE", "REV", "LIMIT", "0", "2") == 2
    assert c.call("ZRANGE", "dst", "0", "-1") == [b"y", b"z"]


def test_numeric_limits_of_counts_and_numkeys(z5):
    c = z5
    assert error_of(c, "ZPOPMIN", "z", "9223372036854775808") == POSITIVE
    assert sorted(c.call("ZRANDMEMBER", "z", str(INT64_MAX))) == [b"a", b"b", b"c", b"d", b"e"]
    assert error_of(c, "ZMPOP", "1", "z", "MIN", "COUNT", "9223372036854775808") == (
        "ERR count should be greater than 0")
    assert error_of(c, "ZUNION", "9223372036854775808", "z") == NOT_INT
    assert error_of(c, "ZUNION", "1000", "z") == SYNTAX
    assert error_of(c, "ZUNION", "2147483648", "z") == SYNTAX
    assert error_of(c, "ZINTERCARD", "1", "z", "LIMIT", "9223372036854775808") == (
        "ERR LIMIT can't be negative")
    assert c.call("ZINTERCARD", "1", "z", "LIMIT", str(INT64_MAX)) == 5
    assert c.call("ZREMRANGEBYRANK", "z", "0", str(INT64_MIN)) == 0
    assert c.call("ZRANGE", "z", str(INT64_MIN), str(INT64_MIN)) == []
    assert c.call("ZRANGE", "z", str(INT64_MAX), str(INT64_MAX)) == []
    assert c.call("ZRANGE", "z", "-1", str(INT64_MAX), "REV") == [b"a"]
    assert error_of(c, "ZUNION", "1", "z", "WEIGHTS", "1e400") == WEIGHT_FLOAT
    assert c.call("ZPOPMAX", "z", str(INT64_MAX)) == flat(("e", "5"), ("d", "4"), ("c", "3"),
                                                          ("b", "2"), ("a", "1"))
    assert c.call("EXISTS", "z") == 0
    c.call("ZADD", "z", "1", "a")
    assert c.call("ZMPOP", "1", "z", "MIN", "COUNT", str(INT64_MAX)) == [b"z", [[b"a", b"1"]]]


def test_extreme_scores(c):
    c.call("ZADD", "z", "1.7976931348623157e308", "max", "-1.7976931348623157e308", "min",
           "5e-324", "tiny", "0", "zero")
    assert c.call("ZRANGE", "z", "0", "-1") == [b"min", b"zero", b"tiny", b"max"]
    assert c.call("ZCOUNT", "z", "(0", "+inf") == 2
    assert error_of(c, "ZINCRBY", "z", "1e400", "max") == NOT_FLOAT
    assert c.call("ZINCRBY", "z", "1.7976931348623157e308", "max") == b"inf"  # overflows to inf
    assert c.call("ZRANGEBYSCORE", "z", "inf", "inf") == [b"max"]


def test_zscan_match_applies_to_members(c):
    c.call("ZADD", "z", "1", "a", "12", "b", "1", "1x")
    cursor, items = c.call("ZSCAN", "z", "0", "MATCH", "1*")
    assert cursor == b"0" and items == [b"1x", b"1"]
    cursor, items = c.call("ZSCAN", "z", "0", "MATCH", "a*", "COUNT", "1")
    assert cursor == b"0" and items == [b"a", b"1"]  # a listpack is returned whole


def test_lex_ranges_on_a_large_set(r, zset_limits):
    zset_limits(entries=16)
    rng = random.Random(7)
    members = sorted({"".join(rng.choice("abcde") for _ in range(rng.randint(1, 4)))
                      for _ in range(600)})
    r.zadd("l", {m: 0 for m in members})
    assert r.object("encoding", "l") == "skiplist"
    assert r.zrangebylex("l", "-", "+") == members
    for _ in range(40):
        lo, hi = sorted((rng.choice(members), rng.choice(members)))
        lo_incl, hi_incl = rng.random() < 0.5, rng.random() < 0.5
        want = [m for m in members
                if (lo <= m if lo_incl else lo < m) and (m <= hi if hi_incl else m < hi)]
        lo_arg = ("[" if lo_incl else "(") + lo
        hi_arg = ("[" if hi_incl else "(") + hi
        assert r.zlexcount("l", lo_arg, hi_arg) == len(want)
        assert r.zrangebylex("l", lo_arg, hi_arg) == want
        assert r.zrevrangebylex("l", hi_arg, lo_arg) == want[::-1]
        assert r.zrangebylex("l", lo_arg, hi_arg, start=1, num=3) == want[1:4]
    assert r.zremrangebylex("l", "[b", "(c") == sum(1 for m in members if "b" <= m < "c")
    assert r.zrangebylex("l", "-", "+") == [m for m in members if not "b" <= m < "c"]


def test_score_ranges_and_ranks_on_a_large_set(r, zset_limits):
    zset_limits(entries=16)
    items = {"m%d" % i: (i * 37) % 101 for i in range(500)}
    r.zadd("z", items)
    ordered = sorted(items.items(), key=lambda kv: (kv[1], kv[0]))
    names = [m for m, _ in ordered]
    assert r.zrange("z", 100, 109) == names[100:110]
    assert r.zrange("z", -10, -1, desc=True) == names[:10][::-1]
    assert r.zrangebyscore("z", 50, 52, withscores=True) == [
        (m, float(s)) for m, s in ordered if 50 <= s <= 52]
    assert r.zrevrangebyscore("z", "(52", 50, start=2, num=4) == [
        m for m, s in reversed(ordered) if 50 <= s < 52][2:6]
    assert r.zcount("z", "(10", 20) == sum(1 for s in items.values() if 10 < s <= 20)
    assert r.zrank("z", names[321]) == 321 and r.zrevrank("z", names[321]) == 178
    assert r.zremrangebyrank("z", 10, 19) == 10
    assert r.zrange("z", 0, -1) == names[:10] + names[20:]
    assert r.zremrangebyscore("z", 0, "(50") == sum(
        1 for m, s in ordered[:10] + ordered[20:] if s < 50)
    assert r.zpopmin("z", 2) == [(m, float(s)) for m, s in ordered if s >= 50][:2]


def test_watch_sees_zset_changes(server, r):
    r.zadd("z", {"a": 1})
    other = server.client()
    try:
        p = r.pipeline(transaction=True)
        p.watch("z")
        other.zadd("z", {"a": 1})  # no change: the key is not touched
        p.multi()
        p.zcard("z")
        assert p.execute() == [1]
        p.watch("z")
        other.zincrby("z", 1, "a")
        p.multi()
        p.zcard("z")
        with pytest.raises(Exception) as e:
            p.execute()
        assert "Watched variable changed" in str(e.value)
        p.reset()
    finally:
        other.close()


def test_copy_replace_db_and_rename_over_another_type(r):
    r.zadd("z", {"a": 1, "b": 2})
    r.set("str", "v")
    assert r.copy("z", "str") is False
    assert r.copy("z", "str", replace=True) is True
    assert r.type("str") == "zset" and r.zrange("str", 0, -1) == ["a", "b"]
    assert r.copy("z", "z", destination_db=2) is True
    r.execute_command("SELECT", 2)
    assert r.zscore("z", "b") == 2.0
    r.execute_command("SELECT", 0)
    r.hset("h", "f", "v")
    assert r.rename("z", "h") is True
    assert r.type("h") == "zset" and r.exists("z") == 0
    r.execute_command("SELECT", 2)
    r.zadd("h", {"other": 5})
    r.execute_command("SELECT", 0)
    assert r.move("h", 2) is False  # the key exists there: nothing moves
    assert r.zrange("h", 0, -1) == ["a", "b"]


def test_zadd_after_expiry_starts_a_new_set(r):
    r.zadd("z", {"old": 1})
    r.pexpire("z", 30)
    wait_until(lambda: r.exists("z") == 0, timeout=5, message="zset expired")
    assert r.zadd("z", {"new": 2}) == 1
    assert r.zrange("z", 0, -1) == ["new"] and r.ttl("z") == -1


def test_algebra_over_both_encodings_matches_a_model(r, zset_limits):
    zset_limits(entries=32)
    rng = random.Random(99)
    sets = {}
    for key, size in (("k1", 10), ("k2", 200), ("k3", 60), ("k4", 5)):
        sets[key] = {"m%d" % rng.randint(0, 250): rng.randint(-20, 20) for _ in range(size)}
        r.zadd(key, sets[key])
    r.sadd("plain", *["m%d" % i for i in range(0, 250, 3)])
    sets["plain"] = {"m%d" % i: 1 for i in range(0, 250, 3)}
    assert r.object("encoding", "k2") == "skiplist" and r.object("encoding", "k4") == "listpack"

    def order(d):
        return sorted(((m, float(s)) for m, s in d.items()), key=lambda kv: (kv[1], kv[0]))

    agg = {"SUM": lambda a, b: a + b, "MIN": min, "MAX": max}
    for _ in range(25):
        keys = rng.sample(sorted(sets), rng.randint(1, 4))
        weights = [rng.randint(-3, 3) for _ in keys]
        how = rng.choice(sorted(agg))
        union, inter = {}, None
        for k, w in zip(keys, weights):
            scaled = {m: s * w for m, s in sets[k].items()}
            for m, s in scaled.items():
                union[m] = agg[how](union[m], s) if m in union else s
            if inter is None:
                inter = dict(scaled)
            else:
                inter = {m: agg[how](inter[m], scaled[m]) for m in inter if m in scaled}
        diff = {m: s for m, s in sets[keys[0]].items()
                if not any(m in sets[k] for k in keys[1:])}
        n = str(len(keys))
        opts = ["WEIGHTS"] + [str(w) for w in weights] + ["AGGREGATE", how]
        got = r.execute_command("ZUNION", n, *keys, *opts, "WITHSCORES")
        assert list(zip(got[::2], map(float, got[1::2]))) == order(union)
        got = r.execute_command("ZINTER", n, *keys, *opts, "WITHSCORES")
        assert list(zip(got[::2], map(float, got[1::2]))) == order(inter)
        got = r.execute_command("ZDIFF", n, *keys, "WITHSCORES")
        assert list(zip(got[::2], map(float, got[1::2]))) == order(diff)
        assert r.execute_command("ZINTERCARD", n, *keys) == len(inter)
        assert r.execute_command("ZUNIONSTORE", "dst", n, *keys, *opts) == len(union)
        assert r.zrange("dst", 0, -1, withscores=True) == order(union)
        if union:
            assert r.object("encoding", "dst") == ("listpack" if len(union) <= 32 else "skiplist")
        assert r.execute_command("ZDIFFSTORE", "dst", n, *keys) == len(diff)
        assert r.zrange("dst", 0, -1, withscores=True) == order(diff)


# ---- types ---------------------------------------------------------------------------------

ZSET_COMMANDS = [
    ("ZADD", "k", "1", "a"), ("ZADD", "k", "INCR", "1", "a"), ("ZINCRBY", "k", "1", "a"),
    ("ZREM", "k", "a"), ("ZCARD", "k"), ("ZCOUNT", "k", "0", "1"),
    ("ZLEXCOUNT", "k", "-", "+"), ("ZSCORE", "k", "a"), ("ZMSCORE", "k", "a"),
    ("ZRANK", "k", "a"), ("ZREVRANK", "k", "a"), ("ZRANGE", "k", "0", "-1"),
    ("ZRANGE", "k", "0", "1", "BYSCORE"), ("ZRANGESTORE", "d", "k", "0", "-1"),
    ("ZRANGEBYSCORE", "k", "0", "1"), ("ZREVRANGEBYSCORE", "k", "1", "0"),
    ("ZRANGEBYLEX", "k", "-", "+"), ("ZREVRANGEBYLEX", "k", "+", "-"),
    ("ZREVRANGE", "k", "0", "-1"), ("ZREMRANGEBYRANK", "k", "0", "1"),
    ("ZREMRANGEBYSCORE", "k", "0", "1"), ("ZREMRANGEBYLEX", "k", "-", "+"),
    ("ZPOPMIN", "k"), ("ZPOPMAX", "k", "2"), ("ZMPOP", "1", "k", "MIN"),
    ("ZRANDMEMBER", "k"), ("ZRANDMEMBER", "k", "2", "WITHSCORES"), ("ZSCAN", "k", "0"),
]
# Plain sets are valid inputs of these.
ZSET_ALGEBRA = [
    ("ZUNION", "1", "k"), ("ZINTER", "1", "k"), ("ZDIFF", "1", "k"),
    ("ZUNIONSTORE", "d", "1", "k"), ("ZINTERSTORE", "d", "1", "k"),
    ("ZDIFFSTORE", "d", "1", "k"), ("ZINTERCARD", "1", "k"),
]


def _make(c, other):
    if other == "string":
        c.call("SET", "k", "v")
    elif other == "hash":
        c.call("HSET", "k", "f", "v")
    else:
        c.call("SADD", "k", "a")


WRONGTYPE_CASES = ([(args, other) for args in ZSET_COMMANDS + ZSET_ALGEBRA
                    for other in ("string", "hash")] +
                   [(args, "set") for args in ZSET_COMMANDS])


@pytest.mark.parametrize("args,other", WRONGTYPE_CASES,
                         ids=lambda v: v if isinstance(v, str) else " ".join(v[:1] + v[2:]))
def test_zset_commands_on_other_types(c, args, other):
    _make(c, other)
    assert error_of(c, *args) == WRONGTYPE
    assert c.call("TYPE", "k") == other
    assert c.call("EXISTS", "d") == 0


ARGUMENTS_BEFORE_TYPE = [
    (("ZADD", "s", "x", "a"), NOT_FLOAT), (("ZADD", "s", "NX", "XX", "1", "a"), XX_NX),
    (("ZINCRBY", "s", "x", "a"), NOT_FLOAT), (("ZRANGE", "s", "0", "1", "FOO"), SYNTAX),
    (("ZRANGE", "s", "x", "1"), NOT_INT), (("ZRANGE", "s", "x", "1", "BYSCORE"), MINMAX_FLOAT),
    (("ZRANGEBYLEX", "s", "a", "b"), MINMAX_LEX), (("ZCOUNT", "s", "x", "1"), MINMAX_FLOAT),
    (("ZLEXCOUNT", "s", "a", "b"), MINMAX_LEX), (("ZPOPMIN", "s", "-1"), POSITIVE),
    (("ZRANDMEMBER", "s", "x"), NOT_INT), (("ZMPOP", "1", "s", "FOO"), SYNTAX),
    (("ZMPOP", "1", "s", "MIN", "COUNT", "0"), "ERR count should be greater than 0"),
    (("ZREMRANGEBYSCORE", "s", "x", "1"), MINMAX_FLOAT),
    (("ZREMRANGEBYRANK", "s", "x", "1"), NOT_INT), (("ZSCAN", "s", "x"), "ERR invalid cursor"),
    (("ZRANGESTORE", "d", "s", "0", "1", "FOO"), SYNTAX),
    # The algebra looks its keys up before reading its options.
    (("ZUNION", "1", "s", "FOO"), WRONGTYPE), (("ZUNIONSTORE", "d", "1", "s", "WEIGHTS", "x"),
                                               WRONGTYPE),
    (("ZINTERCARD", "1", "s", "LIMIT", "-1"), WRONGTYPE),
]


@pytest.mark.parametrize("args,error", ARGUMENTS_BEFORE_TYPE, ids=lambda v: (
    " ".join(v[:1] + v[2:]) if isinstance(v, tuple) else None))
def test_which_error_comes_first(c, args, error):
    c.call("SET", "s", "v")
    assert error_of(c, *args) == error
    assert c.call("GET", "s") == b"v" and c.call("EXISTS", "d") == 0


OTHER_COMMANDS_ON_ZSET = [
    ("GET", "z"), ("SET", "z", "v", "GET"), ("GETSET", "z", "v"), ("GETDEL", "z"),
    ("APPEND", "z", "x"), ("STRLEN", "z"), ("INCR", "z"), ("INCRBYFLOAT", "z", "1"),
    ("GETRANGE", "z", "0", "1"), ("SETRANGE", "z", "0", "x"),
    ("HSET", "z", "f", "v"), ("HGET", "z", "f"), ("HGETALL", "z"), ("HLEN", "z"),
    ("SADD", "z", "a"), ("SMEMBERS", "z"), ("SCARD", "z"), ("SISMEMBER", "z", "a"),
    ("SINTER", "z"), ("SUNIONSTORE", "d", "z"),
]


@pytest.mark.parametrize("args", OTHER_COMMANDS_ON_ZSET, ids=lambda a: " ".join(a[:1] + a[3:]))
def test_other_commands_on_a_zset(c, args):
    c.call("ZADD", "z", "1", "a")
    assert error_of(c, *args) == WRONGTYPE
    assert c.call("ZRANGE", "z", "0", "-1", "WITHSCORES") == [b"a", b"1"]


def test_type_and_scan_type(r):
    r.zadd("z1", {"a": 1})
    r.zadd("z2", {"b": 2})
    r.set("str", "v")
    r.sadd("s", "a")
    r.hset("h", "f", "v")
    assert r.type("z1") == "zset"
    keys, cursor = set(), 0
    while True:
        cursor, page = r.scan(cursor, _type="zset")
        keys.update(page)
        if cursor == 0:
            break
    assert keys == {"z1", "z2"}


def test_set_overwrites_a_zset(r):
    r.zadd("z", {"a": 1})
    assert r.mget("z", "x") == [None, None]
    assert r.set("z", "v") is True
    assert r.get("z") == "v"


# ---- encodings -----------------------------------------------------------------------------


def test_small_sets_are_listpacks(r):
    r.zadd("z", {"a": 1, "b": 2})
    assert r.object("encoding", "z") == "listpack"


def test_default_limit_is_128_entries(r):
    r.zadd("z", {"m%d" % i: i for i in range(128)})
    assert r.object("encoding", "z") == "listpack"
    r.zadd("z", {"one-more": 0})
    assert r.object("encoding", "z") == "skiplist"
    assert r.zcard("z") == 129 and r.zrange("z", 0, 1) == ["m0", "one-more"]


def test_default_limit_is_64_bytes_per_member(r):
    r.zadd("z", {"x" * 64: 1})
    assert r.object("encoding", "z") == "listpack"
    r.zadd("z", {"y" * 65: 2})
    assert r.object("encoding", "z") == "skiplist"
    r.zadd("new", {"y" * 65: 2})
    assert r.object("encoding", "new") == "skiplist"
    assert r.zrange("z", 0, -1) == ["x" * 64, "y" * 65]


def test_conversion_by_entry_count(r, zset_limits):
    zset_limits(entries=4)
    r.zadd("z", {"a": 1, "b": 2, "c": 3, "d": 4})
    assert r.object("encoding", "z") == "listpack"
    r.zadd("z", {"e": 5})
    assert r.object("encoding", "z") == "skiplist"
    # No conversion back when it shrinks.
    r.zrem("z", "a", "b", "c", "d")
    assert r.object("encoding", "z") == "skiplist"
    assert r.zrange("z", 0, -1, withscores=True) == [("e", 5.0)]
    r.zadd("n2", {"a": 1, "b": 2, "c": 3, "d": 4, "e": 5})  # created at its final size
    assert r.object("encoding", "n2") == "skiplist"
    r.zincrby("inc", 1, "a")
    assert r.object("encoding", "inc") == "listpack"


def test_conversion_by_member_length(r, zset_limits):
    zset_limits(value=3)
    r.zadd("v", {"abc": 1})
    assert r.object("encoding", "v") == "listpack"
    r.zadd("v", {"abcd": 1})
    assert r.object("encoding", "v") == "skiplist"
    assert r.zrange("v", 0, -1) == ["abc", "abcd"]
    r.zadd("w", {"ab": 1})
    assert r.zincrby("w", 2, "long-member") == 2.0  # a new member by ZINCRBY converts too
    assert r.object("encoding", "w") == "skiplist"
    assert r.zrange("w", 0, -1, withscores=True) == [("ab", 1.0), ("long-member", 2.0)]


def test_zero_entries_limit_makes_every_zset_a_skiplist(r, zset_limits):
    zset_limits(entries=0)
    r.zadd("z", {"a": 1})
    assert r.object("encoding", "z") == "skiplist"
    assert r.zscore("z", "a") == 1.0


def test_conversion_keeps_every_member(r, zset_limits):
    zset_limits(entries=50)
    members = {"member:%d" % i: (i * 7) % 31 + 0.5 for i in range(120)}
    for m, s in members.items():
        r.zadd("z", {m: s})
    assert r.object("encoding", "z") == "skiplist"
    expected = sorted(members.items(), key=lambda kv: (kv[1], kv[0]))
    assert r.zrange("z", 0, -1, withscores=True) == expected
    assert r.zrank("z", expected[60][0]) == 60
    assert r.zrem("z", *members) == 120
    assert r.exists("z") == 0


def test_store_results_are_encoded_by_their_own_size(r, zset_limits):
    zset_limits(entries=4)
    r.zadd("big", {m: i for i, m in enumerate("abcdef")})
    r.zadd("small", {"a": 1, "b": 2})
    assert r.object("encoding", "big") == "skiplist"
    assert r.zrangestore("d", "big", 0, 1) == 2
    assert r.object("encoding", "d") == "listpack"
    assert r.zunionstore("d", ["big"]) == 6
    assert r.object("encoding", "d") == "skiplist"
    assert r.zdiffstore("d3", ["big", "small"]) == 4
    assert r.object("encoding", "d3") == "listpack"
    assert r.zinterstore("d4", ["big", "small"]) == 2
    assert r.object("encoding", "d4") == "listpack"
    zset_limits(value=3)
    r.zadd("long", {"abcd": 1})
    assert r.zunionstore("d5", ["long"]) == 1
    assert r.object("encoding", "d5") == "skiplist"


def test_config_names_and_aliases(r, zset_limits):
    zset_limits(entries=100, value=32)
    assert r.config_get("zset-max-listpack-entries") == {"zset-max-listpack-entries": "100"}
    assert r.config_get("zset-max-ziplist-entries") == {"zset-max-ziplist-entries": "100"}
    r.config_set("zset-max-ziplist-value", 20)
    assert r.config_get("zset-max-listpack-value") == {"zset-max-listpack-value": "20"}
    r.config_set("zset-max-ziplist-entries", 3)
    assert r.config_get("zset-max-listpack-entries") == {"zset-max-listpack-entries": "3"}
    r.zadd("z", {"a": 1, "b": 2, "c": 3, "d": 4})
    assert r.object("encoding", "z") == "skiplist"
    with pytest.raises(Exception):
        r.config_set("zset-max-listpack-entries", "abc")


# ---- generic key commands ------------------------------------------------------------------


def test_empty_zsets_are_removed(r):
    for cmd in (lambda: r.zrem("z", "a", "b"), lambda: r.zpopmin("z", 5),
                lambda: r.zpopmax("z", 2), lambda: r.zremrangebyrank("z", 0, -1),
                lambda: r.zremrangebyscore("z", "-inf", "+inf"),
                lambda: r.zremrangebylex("z", "-", "+"),
                lambda: r.execute_command("ZMPOP", "1", "z", "MAX", "COUNT", "2")):
        r.zadd("z", {"a": 0, "b": 0})
        cmd()
        assert r.exists("z") == 0
    r.zadd("z", {"a": 0})
    r.zpopmin("z")
    assert r.exists("z") == 0


def test_del_unlink_exists_expire(r):
    r.zadd("a", {"x": 1})
    r.zadd("b", {"m%d" % i: i for i in range(500)})
    assert r.exists("a", "b") == 2
    assert r.delete("a") == 1 and r.unlink("b") == 1
    assert r.exists("a", "b") == 0
    r.zadd("e", {"x": 1})
    assert r.expire("e", 100) is True
    r.zadd("e", {"y": 2})  # writing keeps the TTL
    assert 0 < r.ttl("e") <= 100
    assert r.persist("e") is True and r.ttl("e") == -1
    assert r.pexpire("e", 50) is True
    wait_until(lambda: r.exists("e") == 0, timeout=5, message="zset expired")
    assert r.zcard("e") == 0


def test_rename_copy_move(r, zset_limits):
    zset_limits(entries=4)
    r.zadd("small", {"a": 1})
    r.zadd("big", {"m%d" % i: i for i in range(10)})
    assert r.rename("small", "small2") is True
    assert r.zrange("small2", 0, -1, withscores=True) == [("a", 1.0)]
    for src in ("small2", "big"):
        assert r.copy(src, src + "_c") is True
        r.zadd(src + "_c", {"extra": 100})
        assert r.zscore(src, "extra") is None  # the copy is deep
    assert r.object("encoding", "big_c") == "skiplist"
    assert r.object("encoding", "small2_c") == "listpack"
    assert r.zcard("big_c") == 11
    assert r.move("big_c", 1) is True
    assert r.exists("big_c") == 0
    r.execute_command("SELECT", 1)
    assert r.zcard("big_c") == 11 and r.zscore("big_c", "m9") == 9.0
    r.execute_command("SELECT", 0)
    assert r.renamenx("big", "small2") is False
    assert r.zcard("big") == 10


def test_info_memory_follows_a_growing_zset(r):
    before = r.info("memory")["used_memory"]
    for chunk in range(40):
        r.zadd("z", {"x" * 200 + str(chunk * 500 + i): i for i in range(500)})
    grown = r.info("memory")["used_memory"]
    assert grown - before > 3_000_000
    r.delete("z")
    assert grown - r.info("memory")["used_memory"] > 3_000_000


# ---- RESP3 ---------------------------------------------------------------------------------


def test_resp3_scores_are_doubles(c):
    assert c.call("HELLO", "3")
    c.call("ZADD", "z", "1", "a", "2.5", "b", "inf", "c")
    assert c.call_raw("ZSCORE", "z", "b") == b",2.5\r\n"
    assert c.call_raw("ZSCORE", "z", "c") == b",inf\r\n"
    assert c.call_raw("ZSCORE", "z", "nope") == b"_\r\n"
    assert c.call_raw("ZMSCORE", "z", "a", "x", "c") == b"*3\r\n,1\r\n_\r\n,inf\r\n"
    assert c.call_raw("ZINCRBY", "z", "1", "a") == b",2\r\n"
    assert c.call_raw("ZADD", "z", "INCR", "1", "a") == b",3\r\n"
    assert c.call_raw("ZADD", "z", "XX", "INCR", "1", "nope") == b"_\r\n"
    assert c.call_raw("ZRANK", "z", "nope") == b"_\r\n"
    assert c.call_raw("ZRANK", "z", "a") == b":1\r\n"
    c.call("ZADD", "z", "-inf", "m")
    assert c.call_raw("ZSCORE", "z", "m") == b",-inf\r\n"


def test_resp3_withscores_are_pairs(c):
    assert c.call("HELLO", "3")
    c.call("ZADD", "z", "1", "a", "2.5", "b")
    pairs = b"*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n"
    assert c.call_raw("ZRANGE", "z", "0", "-1", "WITHSCORES") == pairs
    assert c.call_raw("ZRANGEBYSCORE", "z", "-inf", "+inf", "WITHSCORES") == pairs
    assert c.call_raw("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "WITHSCORES") == pairs
    assert c.call_raw("ZUNION", "1", "z", "WITHSCORES") == pairs
    assert c.call_raw("ZINTER", "1", "z", "WITHSCORES") == pairs
    assert c.call_raw("ZDIFF", "1", "z", "WITHSCORES") == pairs
    assert c.call("ZREVRANGE", "z", "0", "0", "WITHSCORES") == [[b"b", 2.5]]
    assert c.call("ZREVRANGEBYSCORE", "z", "+inf", "-inf", "WITHSCORES") == [[b"b", 2.5],
                                                                           [b"a", 1.0]]
    assert c.call_raw("ZRANGE", "z", "0", "-1") == b"*2\r\n$1\r\na\r\n$1\r\nb\r\n"
    assert c.call_raw("ZRANGE", "nokey", "0", "-1", "WITHSCORES") == b"*0\r\n"
    # ZSCAN stays flat, with scores as strings.
    assert c.call("ZSCAN", "z", "0") == [b"0", [b"a", b"1", b"b", b"2.5"]]


def test_resp3_pops_and_random_members(c):
    assert c.call("HELLO", "3")
    c.call("ZADD", "z", "1", "a", "2.5", "b", "3", "c", "4", "d")
    assert c.call_raw("ZPOPMIN", "z") == b"*2\r\n$1\r\na\r\n,1\r\n"  # no count: flat
    assert c.call_raw("ZPOPMIN", "z", "1") == b"*1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n"
    assert c.call("ZPOPMAX", "z", "1") == [[b"d", 4.0]]
    assert c.call_raw("ZPOPMIN", "nokey") == b"*0\r\n"
    assert c.call_raw("ZPOPMAX", "nokey", "2") == b"*0\r\n"
    c.call("ZADD", "z", "1", "a", "2", "b")
    scores = {b"a": 1.0, b"b": 2.0, b"c": 3.0}
    pairs = c.call("ZRANDMEMBER", "z", "3", "WITHSCORES")
    assert sorted(pairs) == [[b"a", 1.0], [b"b", 2.0], [b"c", 3.0]]
    pairs = c.call("ZRANDMEMBER", "z", "-5", "WITHSCORES")
    assert len(pairs) == 5 and all(scores[m] == s for m, s in pairs)
    assert c.call_raw("ZRANDMEMBER", "z", "1", "WITHSCORES").startswith(b"*1\r\n*2\r\n")
    assert c.call_raw("ZRANDMEMBER", "nokey") == b"_\r\n"
    assert c.call("ZRANDMEMBER", "z", "1")[0] in scores
    assert c.call_raw("ZMPOP", "1", "z", "MIN") == b"*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\na\r\n,1\r\n"
    assert c.call_raw("ZMPOP", "1", "nokey", "MIN") == b"_\r\n"


def test_resp2_replies_are_flat(c):
    c.call("ZADD", "z", "1", "a", "2.5", "b")
    assert c.call_raw("ZRANGE", "z", "0", "-1", "WITHSCORES") == (
        b"*4\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n$3\r\n2.5\r\n")
    assert c.call_raw("ZSCORE", "z", "b") == b"$3\r\n2.5\r\n"
    assert c.call_raw("ZINCRBY", "z", "0", "b") == b"$3\r\n2.5\r\n"
    assert c.call_raw("ZPOPMIN", "z", "1") == b"*2\r\n$1\r\na\r\n$1\r\n1\r\n"
    assert c.call_raw("ZMPOP", "1", "z", "MAX") == (
        b"*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\nb\r\n$3\r\n2.5\r\n")


# ---- events, transactions, scripts ---------------------------------------------------------


def _events(sub, n):
    return [(m[2].decode().split(":", 1)[1], m[3].decode()) for m in sub.read_many(n, timeout=10)]


def test_keyspace_events_of_writes(raw, r, notify):
    sub = subscribed(raw, notify, "KEA", "__keyspace@0__:*", pattern=True)
    r.zadd("z", {"a": 1, "b": 2, "c": 3, "d": 4, "e": 5, "f": 6})
    r.zadd("z", {"a": 1})  # no change: no event
    r.zadd("z", {"a": 9}, nx=True)  # no event
    r.zadd("z", {"nope": 9}, xx=True)  # no event
    r.zadd("z", {"a": 1}, incr=True)
    r.zadd("z", {"a": 0}, incr=True)  # score unchanged: no event
    r.zincrby("z", 0, "a")  # no event
    r.zincrby("z", 1, "new")
    r.zrem("z", "nope")  # no event
    r.zrem("z", "new")
    r.zremrangebyrank("z", 0, 0)
    r.zremrangebyrank("z", 10, 20)  # no event
    r.zremrangebyscore("z", 3, 3)
    r.zremrangebylex("z", "[d", "[d")
    r.zpopmin("z")
    r.zpopmax("z")
    r.zpopmin("z", 0)  # no event
    r.execute_command("ZMPOP", "1", "z", "MAX")
    assert _events(sub, 11) == [
        ("z", "zadd"), ("z", "zincr"), ("z", "zincr"), ("z", "zrem"), ("z", "zremrangebyrank"),
        ("z", "zremrangebyscore"), ("z", "zremrangebylex"), ("z", "zpopmin"), ("z", "zpopmax"),
        ("z", "zpopmax"), ("z", "del")]


def test_keyspace_events_of_stores(raw, r, notify):
    sub = subscribed(raw, notify, "KEA", "__keyspace@0__:*", pattern=True)
    r.zadd("z", {"a": 1, "b": 2, "c": 3})
    r.zunionstore("d", ["z"])
    r.zinterstore("d", ["z"])
    r.zdiffstore("d", ["z"])
    r.zrangestore("d", "z", 0, -1)
    r.zrangestore("d", "z", 5, 9)  # empty: the destination is deleted
    r.zdiffstore("never", ["z", "z"])  # empty, nothing to delete: no event
    r.zunionstore("d", ["z"])
    r.zdiffstore("d", ["z", "z"])
    r.zremrangebyscore("z", "-inf", "+inf")
    assert _events(sub, 10) == [
        ("z", "zadd"), ("d", "zunionstore"), ("d", "zinterstore"), ("d", "zdiffstore"),
        ("d", "zrangestore"), ("d", "del"), ("d", "zunionstore"), ("d", "del"),
        ("z", "zremrangebyscore"), ("z", "del")]


def test_keyevent_zset_class(raw, r, notify):
    sub = subscribed(raw, notify, "Ez", "__keyevent@0__:*", pattern=True)
    r.set("str", "v")  # not in class z
    r.zadd("z", {"a": 1})
    r.zrem("z", "a")  # the del is a generic event, not in class z
    r.zadd("z", {"b": 1})
    got = [(m[2].decode().split(":", 1)[1], m[3].decode()) for m in sub.read_many(3, timeout=10)]
    assert got == [("zadd", "z"), ("zrem", "z"), ("zadd", "z")]


def test_new_event_on_creation(raw, r, notify):
    sub = subscribed(raw, notify, "En", "__keyevent@0__:new", pattern=True)
    r.zadd("z", {"a": 1})
    r.zadd("z", {"b": 1})
    r.zincrby("y", 1, "a")
    r.zunionstore("u", ["z"])
    assert [m[3].decode() for m in sub.read_many(3, timeout=10)] == ["z", "y", "u"]


def test_transaction_with_zsets(r):
    p = r.pipeline(transaction=True)
    p.zadd("z", {"a": 1, "b": 2})
    p.zincrby("z", 2, "a")
    p.zrange("z", 0, -1, withscores=True)
    p.zscore("z", "a")
    p.zpopmin("z")
    p.zcard("z")
    assert p.execute() == [2, 3.0, [("b", 2.0), ("a", 3.0)], 3.0, [("b", 2.0)], 1]


def test_transaction_errors_with_zsets(c):
    assert c.call("MULTI") == "OK"
    assert c.call("ZADD", "z", "1", "a") == "QUEUED"
    assert c.call("ZADD", "z", "x", "b") == "QUEUED"  # fails at EXEC only
    assert c.call("ZINCRBY", "z", "1", "a") == "QUEUED"
    got = c.call("EXEC")
    assert got[0] == 1 and got[1] == RespError(NOT_FLOAT) and got[2] == b"2"
    assert c.call("MULTI") == "OK"
    assert isinstance(c.call("ZADD", "z", "1"), RespError)  # arity: rejected when queued
    assert str(c.call("EXEC")).startswith("EXECABORT")
    assert c.call("ZCARD", "z") == 1


def test_lua_script_with_zsets(r):
    script = """
        redis.call('ZADD', KEYS[1], 1, 'a', 2.5, 'b')
        redis.call('ZINCRBY', KEYS[1], 1, 'a')
        return redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
    """
    assert r.eval(script, 1, "z") == ["a", "2", "b", "2.5"]
    assert r.eval("return redis.call('ZSCORE', KEYS[1], 'b')", 1, "z") == "2.5"
    assert r.eval("return type(redis.call('ZSCORE', KEYS[1], 'b'))", 1, "z") == "string"
    assert r.eval("return tostring(redis.call('ZSCORE', KEYS[1], 'x'))", 1, "z") == "false"
    assert r.eval("return redis.call('ZCARD', KEYS[1])", 1, "z") == 2
    assert r.eval("return redis.pcall('ZADD', KEYS[1], 'x', 'a')['err']", 1, "z") == NOT_FLOAT
    with pytest.raises(Exception) as e:
        r.eval("return redis.call('GET', KEYS[1])", 1, "z")
    assert "WRONGTYPE" in str(e.value)


def test_lua_resp3_scores_are_double_tables(r):
    r.zadd("z", {"a": 2, "b": 2.5})
    assert r.eval("redis.setresp(3) local s = redis.call('ZSCORE', KEYS[1], 'b') "
                  "return {type(s), tostring(s['double'])}", 1, "z") == ["table", "2.5"]
    assert r.eval("redis.setresp(3) local t = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES') "
                  "return {#t, t[1][1], tostring(t[1][2]['double']), t[2][1], "
                  "tostring(t[2][2]['double'])}", 1, "z") == [2, "a", "2", "b", "2.5"]
    assert r.eval("redis.setresp(3) return tostring(redis.call('ZSCORE', KEYS[1], 'x'))",
                  1, "z") == "nil"
    # A double returned to a RESP2 client is a bulk string; pairs stay nested.
    assert r.eval("redis.setresp(3) return redis.call('ZSCORE', KEYS[1], 'b')", 1, "z") == "2.5"
    assert r.eval("redis.setresp(3) return redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')",
                  1, "z") == [["a", "2"], ["b", "2.5"]]


def test_lua_resp3_double_reaches_a_resp3_client(c):
    c.call("ZADD", "z", "2.5", "b", "2", "a")
    assert c.call("HELLO", "3")
    assert c.call_raw("EVAL", "redis.setresp(3) return redis.call('ZSCORE', KEYS[1], 'b')",
                      "1", "z") == b",2.5\r\n"
    assert c.call_raw("EVAL", "redis.setresp(3) return redis.call('ZRANGE', KEYS[1], 0, -1, "
                      "'WITHSCORES')", "1", "z") == (
        b"*2\r\n*2\r\n$1\r\na\r\n,2\r\n*2\r\n$1\r\nb\r\n,2.5\r\n")
    # Without setresp(3) the script sees RESP2 replies: the score is a string.
    assert c.call_raw("EVAL", "return redis.call('ZSCORE', KEYS[1], 'b')", "1", "z") == (
        b"$3\r\n2.5\r\n")


# ---- randomized comparison with a model ----------------------------------------------------


def test_random_operations_match_a_model(r):
    """A few thousand random writes on one key, growing it past the listpack
    limit, checked against a dict after every batch."""
    rng = random.Random(20240521)
    model = {}
    members = ["m%03d" % i for i in range(400)]
    crossed = False
    for step in range(30):
        p = r.pipeline(transaction=False)
        ops = []
        for _ in range(120):
            kind = rng.random()
            m = rng.choice(members)
            score = rng.randint(-200, 200) / 2
            if kind < 0.5:
                p.zadd("z", {m: score})
                ops.append(("add", m, score))
            elif kind < 0.6:
                flag = rng.choice(["nx", "xx", "gt", "lt"])
                p.zadd("z", {m: score}, ch=True, **{flag: True})
                ops.append((flag, m, score))
            elif kind < 0.78:
                p.zincrby("z", score, m)
                ops.append(("incr", m, score))
            elif kind < 0.97:
                p.zrem("z", m)
                ops.append(("rem", m, None))
            elif kind < 0.985:
                p.zpopmin("z")
                ops.append(("popmin", None, None))
            else:
                p.zremrangebyscore("z", score, score + 2)
                ops.append(("remrange", None, score))
        replies = p.execute()
        for (op, m, score), reply in zip(ops, replies):
            if op == "add":
                assert reply == (0 if m in model else 1)
                model[m] = score
            elif op in ("nx", "xx", "gt", "lt"):
                old = model.get(m)
                if old is None:
                    write = op != "xx"
                else:
                    write = {"nx": False, "xx": True, "gt": score > old, "lt": score < old}[op]
                assert reply == (1 if write and old != score else 0), (op, m, score, old)
                if write:
                    model[m] = score
            elif op == "incr":
                model[m] = model.get(m, 0.0) + score
                assert reply == model[m]
            elif op == "rem":
                assert reply == (1 if m in model else 0)
                model.pop(m, None)
            elif op == "popmin":
                if model:
                    low = min(model.items(), key=lambda kv: (kv[1], kv[0]))
                    assert reply == [low]
                    del model[low[0]]
                else:
                    assert reply == []
            else:
                gone = [k for k, v in model.items() if score <= v <= score + 2]
                assert reply == len(gone)
                for k in gone:
                    del model[k]
        ordered = sorted(model.items(), key=lambda kv: (kv[1], kv[0]))
        assert r.zcard("z") == len(model)
        assert r.zrange("z", 0, -1, withscores=True) == ordered
        if len(model) > 128:
            crossed = True
        if model:
            assert r.object("encoding", "z") == ("skiplist" if crossed else "listpack")
        for _ in range(5):
            m = rng.choice(members)
            want = next((i for i, (k, _) in enumerate(ordered) if k == m), None)
            assert r.zrank("z", m) == want
            assert r.zrevrank("z", m) == (None if want is None else len(ordered) - 1 - want)
            assert r.zscore("z", m) == model.get(m)
            lo, hi = sorted((rng.randint(-120, 120) / 2, rng.randint(-120, 120) / 2))
            assert r.zcount("z", lo, hi) == sum(1 for s in model.values() if lo <= s <= hi)
            assert r.zcount("z", "(%s" % lo, hi) == sum(
                1 for s in model.values() if lo < s <= hi)
            assert r.zrangebyscore("z", lo, hi) == [k for k, s in ordered if lo <= s <= hi]
        start = rng.randint(0, 50)
        assert r.zrange("z", start, start + 10) == [k for k, _ in ordered[start:start + 11]]
        assert r.zrevrange("z", 0, 4) == [k for k, _ in reversed(ordered)][:5]
    assert crossed, "the set never grew past the listpack limit"
