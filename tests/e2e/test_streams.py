"""Stream commands: XADD (IDs, NOMKSTREAM, MAXLEN/MINID trimming), XRANGE and
XREVRANGE, XLEN, XDEL, XTRIM, XREAD (non-blocking) and XINFO STREAM; their
errors, RESP2 and RESP3 reply shapes; streams under the generic key commands,
keyspace events, transactions, scripts and eviction; a large stream and a
randomized comparison with a model; RQ's job-result path.

Everything here but the sluice_only tests also passes against redis-server
7.0. Approximate trimming is compared loosely: it removes whole nodes of at
most 100 entries in both servers, but where node boundaries fall differs.
XINFO's radix-tree counters are only checked to be numbers."""

import random
import threading
import time

import pytest

from helpers import NOT_INT, SYNTAX, WRONGTYPE, arity_error, error_of, subscribed, wait_until

import conftest

U64 = 18446744073709551615
MAX_ID = "%d-%d" % (U64, U64)
INVALID_ID = "ERR Invalid stream ID specified as stream command argument"
TOO_SMALL = "ERR The ID specified in XADD is equal or smaller than the target stream top item"
ZERO_ID = "ERR The ID specified in XADD must be greater than 0-0"
EXHAUSTED = "ERR The stream has exhausted the last possible ID, unable to add more items"
LIMIT_NO_TILDE = "ERR syntax error, LIMIT cannot be used without the special ~ option"
LIMIT_NO_STRATEGY = "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy"
BOTH_STRATEGIES = "ERR syntax error, MAXLEN and MINID options at the same time are not compatible"
MAXLEN_NEGATIVE = "ERR The MAXLEN argument must be >= 0."
LIMIT_NEGATIVE = "ERR The LIMIT argument must be >= 0."
BAD_START = "ERR invalid start ID for the interval"
BAD_END = "ERR invalid end ID for the interval"
GT_ID = ("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> "
         "<consumer> option.")


def ids_of(entries):
    return [e[0] for e in entries]


def raw_ids(entries):
    return [e[0].decode() for e in entries]


@pytest.fixture
def s5(c):
    """A raw connection with stream `s` holding 1-1 .. 5-1 (field f, value i)."""
    for i in range(1, 6):
        assert c.call("XADD", "s", "%d-1" % i, "f", str(i)) == b"%d-1" % i
    return c


# ---- arity -------------------------------------------------------------------------------

WRONG_ARITY = [
    ("xadd", []), ("xadd", ["s"]), ("xadd", ["s", "*"]), ("xadd", ["s", "*", "f"]),
    ("xadd", ["s", "*", "f", "v", "g"]), ("xadd", ["s", "MAXLEN", "1", "*", "f"]),
    ("xadd", ["s", "NOMKSTREAM", "*", "f"]), ("xadd", ["s", "1-1", "f", "v", "g"]),
    ("xrange", ["s", "-"]), ("xrange", ["s"]), ("xrevrange", ["s", "+"]), ("xlen", []),
    ("xlen", ["s", "x"]), ("xdel", ["s"]), ("xtrim", ["s", "MAXLEN"]), ("xtrim", ["s"]),
    ("xread", ["STREAMS", "s"]), ("xread", ["COUNT", "1"]), ("xinfo", []),
]


@pytest.mark.parametrize("cmd,args", WRONG_ARITY,
                         ids=lambda v: v if isinstance(v, str) else str(len(v)))
def test_wrong_arity(s5, cmd, args):
    assert error_of(s5, cmd, *args) == arity_error(cmd)
    assert s5.call("XLEN", "s") == 5


def test_xinfo_stream_arity(c):
    assert error_of(c, "XINFO", "STREAM") == arity_error("xinfo|stream")


# ---- XADD: IDs ---------------------------------------------------------------------------


def test_xadd_auto_ids_increase(r):
    ids = [r.xadd("s", {"n": i}) for i in range(200)]
    parsed = [tuple(int(p) for p in i.split("-")) for i in ids]
    assert parsed == sorted(parsed) and len(set(parsed)) == 200
    assert all(ms > 1_600_000_000_000 for ms, _ in parsed)
    assert r.xlen("s") == 200


def test_xadd_auto_id_after_a_future_id(r):
    # The clock is behind the stream's top: the sequence goes on from it.
    future = 99999999999999
    assert r.xadd("s", {"a": 1}, id="%d-5" % future) == "%d-5" % future
    assert r.xadd("s", {"a": 2}) == "%d-6" % future
    assert r.xadd("s", {"a": 3}) == "%d-7" % future
    assert r.xadd("s", {"a": 4}, id="%d-*" % future) == "%d-8" % future


def test_xadd_auto_id_rolls_over_the_sequence(r):
    future = 99999999999999
    r.xadd("s", {"a": 1}, id="%d-%d" % (future, U64))
    assert r.xadd("s", {"a": 2}) == "%d-0" % (future + 1)


def test_xadd_explicit_ids(c):
    assert c.call("XADD", "s", "5", "f", "v") == b"5-0"
    assert c.call("XADD", "s", "5-1", "f", "v") == b"5-1"
    assert c.call("XADD", "s", "6-0", "f", "v") == b"6-0"
    assert c.call("XADD", "s", "7-*", "f", "v") == b"7-0"
    assert c.call("XADD", "s", "7-*", "f", "v") == b"7-1"
    assert c.call("XADD", "s", MAX_ID, "f", "v") == MAX_ID.encode()
    assert c.call("XLEN", "s") == 6


def test_xadd_star_seq_on_empty_stream(c):
    assert c.call("XADD", "s", "0-*", "f", "v") == b"0-1"
    assert c.call("XADD", "s", "0-*", "f", "v") == b"0-2"
    assert c.call("XADD", "t", "3-*", "f", "v") == b"3-0"


@pytest.mark.parametrize("bad", ["0-0", "0", "00", "0-00"])
def test_xadd_zero_id(c, bad):
    assert error_of(c, "XADD", "s", bad, "f", "v") == ZERO_ID
    assert c.call("EXISTS", "s") == 0


def test_xadd_zero_id_comes_before_wrongtype(c):
    c.call("SET", "str", "x")
    assert error_of(c, "XADD", "str", "0-0", "f", "v") == ZERO_ID
    assert error_of(c, "XADD", "str", "1-1", "f", "v") == WRONGTYPE
    assert error_of(c, "XADD", "str", "*", "f") == arity_error("xadd")


@pytest.mark.parametrize("smaller", ["5-1", "5-0", "4-9", "5", "1-*", "0-1"])
def test_xadd_id_not_above_top(s5, smaller):
    assert error_of(s5, "XADD", "s", smaller, "f", "v") == TOO_SMALL
    assert s5.call("XLEN", "s") == 5


def test_xadd_top_id_survives_deleting_the_top(s5):
    assert s5.call("XDEL", "s", "5-1") == 1
    assert error_of(s5, "XADD", "s", "5-1", "f", "v") == TOO_SMALL
    assert s5.call("XADD", "s", "5-2", "f", "v") == b"5-2"


@pytest.mark.parametrize("bad", [
    "abc", "1-x", "1-", "-1", "1--1", "+", "-", "*-1", "1-2-3", "18446744073709551616",
    "1-18446744073709551616", "", " ", "1.5", "0x10", "1-**", "1 -1", "99999999999999999999999",
])
def test_xadd_invalid_ids(c, bad):
    assert error_of(c, "XADD", "s", bad, "f", "v") == INVALID_ID
    assert c.call("EXISTS", "s") == 0


@pytest.mark.parametrize("text,want", [("+7", b"7-0"), ("007", b"7-0"), ("7-+3", b"7-3")])
def test_xadd_lenient_numbers(c, text, want):
    # Redis reads non-canonical numbers with strtoull's rules.
    assert c.call("XADD", "s", text, "f", "v") == want


def test_xadd_check_order(c):
    # The ID is parsed first, then the field count, then 0-0.
    assert error_of(c, "XADD", "s", "abc", "f", "v", "g") == INVALID_ID
    assert error_of(c, "XADD", "s", "0-0", "f", "v", "g") == arity_error("xadd")
    assert error_of(c, "XADD", "s", "MAXLEN", "1", "NOMKSTREAM", "f") == INVALID_ID
    assert error_of(c, "XADD", "s", "NOMKSTREAM", "MAXLEN", "1", "NOMKSTREAM") == \
        arity_error("xadd")


def test_xadd_exhausted_stream(c):
    assert c.call("XADD", "s", MAX_ID, "f", "v") == MAX_ID.encode()
    assert error_of(c, "XADD", "s", "*", "f", "v") == EXHAUSTED
    assert error_of(c, "XADD", "s", "%d-*" % U64, "f", "v") == EXHAUSTED
    assert error_of(c, "XADD", "s", MAX_ID, "f", "v") == EXHAUSTED
    assert c.call("XLEN", "s") == 1


def test_xadd_star_seq_overflow(c):
    assert c.call("XADD", "s", "5-%d" % U64, "f", "v") == b"5-%d" % U64
    assert error_of(c, "XADD", "s", "5-*", "f", "v") == "ERR Elements are too large to be stored"
    assert c.call("XADD", "s", "6-*", "f", "v") == b"6-0"


def test_xadd_wrongtype(c):
    c.call("RPUSH", "l", "a")
    assert error_of(c, "XADD", "l", "*", "f", "v") == WRONGTYPE
    assert error_of(c, "XADD", "l", "NOMKSTREAM", "*", "f", "v") == WRONGTYPE
    assert c.call("TYPE", "l") == "list"


def test_xadd_many_fields_and_binary(rb):
    fields = {b"f%d" % i: bytes(range(i % 256)) * 3 for i in range(300)}
    fields[b""] = b""
    fields[b"\x00\r\n"] = b"\xff" * 10000
    i = rb.xadd(b"s", fields)
    [(got_id, got)] = rb.xrange(b"s")
    assert got_id == i and got == fields


def test_xadd_repeated_fields_are_kept(c):
    c.call("XADD", "s", "1-1", "f", "a", "f", "b")
    assert c.call("XRANGE", "s", "-", "+") == [[b"1-1", [b"f", b"a", b"f", b"b"]]]


def test_xadd_option_words_as_fields(c):
    assert c.call("XADD", "s", "1-1", "MAXLEN", "1", "NOMKSTREAM", "x") == b"1-1"
    assert c.call("XRANGE", "s", "-", "+") == [[b"1-1", [b"MAXLEN", b"1", b"NOMKSTREAM", b"x"]]]


# ---- XADD: NOMKSTREAM and trimming --------------------------------------------------------


def test_nomkstream(c):
    assert c.call_raw("XADD", "s", "NOMKSTREAM", "*", "f", "v") == b"$-1\r\n"
    assert c.call_raw("XADD", "s", "nomkstream", "MAXLEN", "1", "*", "f", "v") == b"$-1\r\n"
    assert c.call("EXISTS", "s") == 0
    assert c.call("HELLO", "3")
    assert c.call_raw("XADD", "s", "NOMKSTREAM", "*", "f", "v") == b"_\r\n"
    c.call("XADD", "s", "1-1", "f", "v")
    assert c.call("XADD", "s", "NOMKSTREAM", "2-1", "f", "v") == b"2-1"
    assert c.call("XLEN", "s") == 2


def test_xadd_maxlen_exact(c):
    for i in range(1, 11):
        c.call("XADD", "s", "MAXLEN", "3", "%d-0" % i, "f", str(i))
    assert c.call("XLEN", "s") == 3
    assert raw_ids(c.call("XRANGE", "s", "-", "+")) == ["8-0", "9-0", "10-0"]
    c.call("XADD", "s", "MAXLEN", "=", "1", "11-0", "f", "v")
    assert raw_ids(c.call("XRANGE", "s", "-", "+")) == ["11-0"]


def test_xadd_maxlen_zero_keeps_an_empty_stream(c):
    assert c.call("XADD", "s", "MAXLEN", "0", "1-1", "f", "v") == b"1-1"
    assert c.call("XLEN", "s") == 0
    assert c.call("EXISTS", "s") == 1
    assert c.call("TYPE", "s") == "stream"
    assert error_of(c, "XADD", "s", "1-1", "f", "v") == TOO_SMALL


def test_xadd_minid(c):
    for i in range(1, 11):
        c.call("XADD", "s", "%d-0" % i, "f", str(i))
    c.call("XADD", "s", "MINID", "8", "11-0", "f", "v")
    assert raw_ids(c.call("XRANGE", "s", "-", "+")) == ["8-0", "9-0", "10-0", "11-0"]
    c.call("XADD", "s", "MINID", "=", "10-0", "12-0", "f", "v")
    assert raw_ids(c.call("XRANGE", "s", "-", "+")) == ["10-0", "11-0", "12-0"]
    # A threshold above every entry removes the new one too.
    assert c.call("XADD", "s", "MINID", "100", "13-0", "f", "v") == b"13-0"
    assert c.call("XLEN", "s") == 0


def test_xadd_approximate_trim_removes_whole_nodes(r):
    p = r.pipeline(transaction=False)
    for i in range(1, 1001):
        p.xadd("s", {"f": "v"}, id="%d-0" % i)
    p.execute()
    r.xadd("s", {"f": "v"}, id="1001-0", maxlen=500, approximate=True)
    n = r.xlen("s")
    assert 500 <= n < 600
    assert r.xrange("s", count=1)[0][0] == "%d-0" % (1002 - n)
    # Fewer entries than a node: nothing to remove whole.
    r.delete("t")
    for i in range(1, 51):
        r.xadd("t", {"f": "v"}, id="%d-0" % i)
    r.xadd("t", {"f": "v"}, id="51-0", maxlen=10, approximate=True)
    assert r.xlen("t") == 51


def test_xadd_approximate_trim_limit(r):
    p = r.pipeline(transaction=False)
    for i in range(1, 1001):
        p.xadd("s", {"f": "v"}, id="%d-0" % i)
    p.execute()
    # A LIMIT below a node's size removes nothing; LIMIT 0 is no limit.
    r.execute_command("XADD", "s", "MAXLEN", "~", "0", "LIMIT", "10", "1001-0", "f", "v")
    assert r.xlen("s") == 1001
    r.execute_command("XADD", "s", "MAXLEN", "~", "0", "LIMIT", "0", "1002-0", "f", "v")
    assert r.xlen("s") < 100
    r.execute_command("XADD", "s", "MINID", "~", "2000", "LIMIT", "100000", "1003-0", "f", "v")
    assert r.xlen("s") < 100


@pytest.mark.parametrize("args,want", [
    (["LIMIT", "10", "*"], LIMIT_NO_STRATEGY),
    (["MAXLEN", "1", "LIMIT", "10", "*"], LIMIT_NO_TILDE),
    (["MAXLEN", "=", "1", "LIMIT", "10", "*"], LIMIT_NO_TILDE),
    (["MAXLEN", "1", "MINID", "1", "*"], BOTH_STRATEGIES),
    (["MINID", "1", "MAXLEN", "1", "*"], BOTH_STRATEGIES),
    (["MAXLEN", "abc", "*"], NOT_INT),
    (["MAXLEN", "~", "abc", "*"], NOT_INT),
    (["MAXLEN", "1.5", "*"], NOT_INT),
    (["MAXLEN", "9223372036854775808", "*"], NOT_INT),
    (["MAXLEN", "-1", "*"], MAXLEN_NEGATIVE),
    (["MAXLEN", "~", "1", "LIMIT", "-1", "*"], LIMIT_NEGATIVE),
    (["MAXLEN", "~", "1", "LIMIT", "x", "*"], NOT_INT),
    (["MINID", "abc", "*"], INVALID_ID),
    (["MINID", "-", "*"], INVALID_ID),
    (["MINID", "1-x", "*"], INVALID_ID),
    (["FOO", "*"], INVALID_ID),
])
def test_xadd_option_errors(c, args, want):
    assert error_of(c, "XADD", "s", *args, "f", "v") == want
    assert c.call("EXISTS", "s") == 0


# ---- XRANGE / XREVRANGE ---------------------------------------------------------------------


@pytest.mark.parametrize("start,end,want", [
    ("-", "+", [1, 2, 3, 4, 5]), ("2-1", "4-1", [2, 3, 4]), ("2", "4", [2, 3, 4]),
    ("2-2", "4-0", [3]), ("(2-1", "(4-1", [3]), ("(1", "+", [1, 2, 3, 4, 5]),
    ("(1-1", "+", [2, 3, 4, 5]), ("-", "(3", [1, 2, 3]), ("-", "(3-1", [1, 2]),
    ("3", "3", [3]), ("5", "1", []), ("6", "+", []), ("-", "0", []), ("0", MAX_ID, [1, 2, 3, 4, 5]),
    ("(0-0", "(" + MAX_ID, [1, 2, 3, 4, 5]), ("(0", "+", [1, 2, 3, 4, 5]),
    ("(%d" % U64, "+", []), ("-", "(0", []), ("3-1", "(3-1", []),
])
def test_xrange_bounds(s5, start, end, want):
    assert raw_ids(s5.call("XRANGE", "s", start, end)) == ["%d-1" % i for i in want]
    assert raw_ids(s5.call("XREVRANGE", "s", end, start)) == ["%d-1" % i for i in reversed(want)]


def test_xrange_reply_shape(s5):
    want = b"*1\r\n*2\r\n$3\r\n2-1\r\n*2\r\n$1\r\nf\r\n$1\r\n2\r\n"
    assert s5.call_raw("XRANGE", "s", "2", "2") == want
    assert s5.call_raw("XRANGE", "s", "9", "+") == b"*0\r\n"
    assert s5.call_raw("XRANGE", "nokey", "-", "+") == b"*0\r\n"
    assert s5.call("HELLO", "3")
    assert s5.call_raw("XRANGE", "s", "2", "2") == want
    assert s5.call_raw("XREVRANGE", "nokey", "+", "-") == b"*0\r\n"


@pytest.mark.parametrize("count,want", [
    ("1", [1]), ("2", [1, 2]), ("5", [1, 2, 3, 4, 5]), ("100", [1, 2, 3, 4, 5]),
    ("9223372036854775807", [1, 2, 3, 4, 5]),
])
def test_xrange_count(s5, count, want):
    assert raw_ids(s5.call("XRANGE", "s", "-", "+", "COUNT", count)) == ["%d-1" % i for i in want]
    rev = s5.call("XREVRANGE", "s", "+", "-", "count", count)
    assert raw_ids(rev) == ["%d-1" % i for i in list(reversed([1, 2, 3, 4, 5]))[:len(want)]]


@pytest.mark.parametrize("count", ["0", "-1", "-9223372036854775808"])
def test_xrange_count_zero_is_a_null(s5, count):
    assert s5.call_raw("XRANGE", "s", "-", "+", "COUNT", count) == b"*-1\r\n"
    assert s5.call_raw("XREVRANGE", "s", "+", "-", "COUNT", count) == b"*-1\r\n"
    assert s5.call_raw("XRANGE", "nokey", "-", "+", "COUNT", count) == b"*0\r\n"
    assert s5.call("HELLO", "3")
    assert s5.call_raw("XRANGE", "s", "-", "+", "COUNT", count) == b"_\r\n"


def test_xrange_last_count_wins(s5):
    assert len(s5.call("XRANGE", "s", "-", "+", "COUNT", "1", "COUNT", "3")) == 3


@pytest.mark.parametrize("args,want", [
    (["COUNT"], SYNTAX), (["COUNT", "x"], NOT_INT), (["COUNT", "1.5"], NOT_INT),
    (["COUNT", "9223372036854775808"], NOT_INT), (["FOO", "1"], SYNTAX),
    (["COUNT", "1", "x"], SYNTAX),
])
def test_xrange_option_errors(s5, args, want):
    assert error_of(s5, "XRANGE", "s", "-", "+", *args) == want
    assert error_of(s5, "XREVRANGE", "s", "+", "-", *args) == want


@pytest.mark.parametrize("start,end,want", [
    ("abc", "+", INVALID_ID), ("-", "abc", INVALID_ID), ("(-", "+", INVALID_ID),
    ("-", "(+", INVALID_ID), ("((1", "+", INVALID_ID), ("1-", "+", INVALID_ID),
    ("18446744073709551616", "+", INVALID_ID), ("-", "1-18446744073709551616", INVALID_ID),
    ("(" + MAX_ID, "+", BAD_START), ("-", "(0-0", BAD_END), ("*", "+", INVALID_ID),
    ("", "+", INVALID_ID), ("(", "+", INVALID_ID),
])
def test_xrange_bad_ids(s5, start, end, want):
    assert error_of(s5, "XRANGE", "s", start, end) == want
    # IDs are parsed before the key is looked at.
    assert error_of(s5, "XRANGE", "nokey", start, end) == want


def test_xrevrange_bad_ids_use_its_order(s5):
    assert error_of(s5, "XREVRANGE", "s", "+", "(" + MAX_ID) == BAD_START
    assert error_of(s5, "XREVRANGE", "s", "(0-0", "-") == BAD_END


def test_xrange_wrongtype(c):
    c.call("SET", "str", "x")
    assert error_of(c, "XRANGE", "str", "-", "+") == WRONGTYPE
    assert error_of(c, "XREVRANGE", "str", "+", "-") == WRONGTYPE
    assert error_of(c, "XLEN", "str") == WRONGTYPE
    assert error_of(c, "XRANGE", "str", "abc", "+") == INVALID_ID


def test_xrange_redis_py(r):
    for i in range(1, 21):
        r.xadd("s", {"i": i}, id="%d-0" % i)
    assert ids_of(r.xrange("s", "5", "7")) == ["5-0", "6-0", "7-0"]
    assert ids_of(r.xrevrange("s", "+", "-", count=3)) == ["20-0", "19-0", "18-0"]
    assert r.xrange("s", "3", "3") == [("3-0", {"i": "3"})]
    # Paging with exclusive starts.
    seen, start = [], "-"
    while True:
        page = r.xrange("s", start, "+", count=6)
        if not page:
            break
        seen += ids_of(page)
        start = "(" + page[-1][0]
    assert seen == ["%d-0" % i for i in range(1, 21)]


# ---- XLEN / XDEL / XTRIM ------------------------------------------------------------------


def test_xlen(c):
    assert c.call("XLEN", "nokey") == 0
    c.call("XADD", "s", "1-1", "f", "v")
    assert c.call("XLEN", "s") == 1


def test_xdel(s5):
    c = s5
    assert c.call("XDEL", "s", "1-1", "1-1", "9-9") == 1
    assert c.call("XDEL", "s", "1") == 0  # 1-0
    assert c.call("XDEL", "s", "3-1", "5-1") == 2
    assert raw_ids(c.call("XRANGE", "s", "-", "+")) == ["2-1", "4-1"]
    assert c.call("XLEN", "s") == 2
    assert c.call("XDEL", "s", "2-1", "4-1") == 2
    assert c.call("XLEN", "s") == 0
    assert c.call("EXISTS", "s") == 1  # an empty stream stays


def test_xdel_checks(c):
    c.call("SET", "str", "x")
    assert c.call("XDEL", "nokey", "abc") == 0  # the key is looked at first
    assert error_of(c, "XDEL", "str", "abc") == WRONGTYPE
    c.call("XADD", "s", "1-1", "f", "v")
    # Every ID is parsed before anything is deleted.
    assert error_of(c, "XDEL", "s", "1-1", "abc") == INVALID_ID
    assert error_of(c, "XDEL", "s", "-") == INVALID_ID
    assert error_of(c, "XDEL", "s", "+") == INVALID_ID
    assert c.call("XLEN", "s") == 1


def test_xtrim_maxlen(s5):
    c = s5
    assert c.call("XTRIM", "s", "MAXLEN", "3") == 2
    assert c.call("XTRIM", "s", "MAXLEN", "3") == 0
    assert c.call("XTRIM", "s", "maxlen", "=", "1") == 2
    assert raw_ids(c.call("XRANGE", "s", "-", "+")) == ["5-1"]
    assert c.call("XTRIM", "s", "MAXLEN", "0") == 1
    assert c.call("XLEN", "s") == 0 and c.call("EXISTS", "s") == 1


def test_xtrim_minid(s5):
    c = s5
    assert c.call("XTRIM", "s", "MINID", "3") == 2
    assert c.call("XTRIM", "s", "MINID", "3-1") == 0
    assert c.call("XTRIM", "s", "MINID", "=", "4-2") == 2
    assert raw_ids(c.call("XRANGE", "s", "-", "+")) == ["5-1"]
    assert c.call("XTRIM", "s", "MINID", "~", "100") == 1  # the whole (only) node


def test_xtrim_skips_deleted_entries(s5):
    c = s5
    c.call("XDEL", "s", "2-1", "3-1")
    assert c.call("XTRIM", "s", "MAXLEN", "2") == 1
    assert raw_ids(c.call("XRANGE", "s", "-", "+")) == ["4-1", "5-1"]


def test_xtrim_approximate(r):
    p = r.pipeline(transaction=False)
    for i in range(1, 1001):
        p.xadd("s", {"f": "v"}, id="%d-0" % i)
    p.execute()
    removed = r.xtrim("s", maxlen=250, approximate=True)
    assert 0 < removed <= 750 and 250 <= r.xlen("s") < 350
    assert r.xlen("s") + removed == 1000
    removed = r.xtrim("s", minid="900", approximate=True)
    assert 900 - 100 <= int(r.xrange("s", count=1)[0][0].split("-")[0]) <= 900
    assert r.execute_command("XTRIM", "s", "MAXLEN", "~", "0", "LIMIT", "1") == 0


def test_xtrim_checks(c):
    c.call("SET", "str", "x")
    assert c.call("XTRIM", "nokey", "MAXLEN", "1") == 0
    assert error_of(c, "XTRIM", "nokey", "MAXLEN", "abc") == NOT_INT  # parsed first
    assert error_of(c, "XTRIM", "str", "MAXLEN", "1") == WRONGTYPE
    c.call("XADD", "s", "1-1", "f", "v")
    assert error_of(c, "XTRIM", "s", "FOO", "1") == SYNTAX
    assert error_of(c, "XTRIM", "s", "MAXLEN", "1", "x") == SYNTAX
    assert error_of(c, "XTRIM", "s", "MAXLEN", "1", "LIMIT", "1") == LIMIT_NO_TILDE
    assert error_of(c, "XTRIM", "s", "LIMIT", "1", "MAXLEN", "1") == LIMIT_NO_TILDE
    assert error_of(c, "XTRIM", "s", "LIMIT", "1", "x") == SYNTAX
    assert error_of(c, "XTRIM", "s", "MAXLEN", "1", "MINID", "1") == BOTH_STRATEGIES
    assert error_of(c, "XTRIM", "s", "MAXLEN", "-1") == MAXLEN_NEGATIVE
    assert error_of(c, "XTRIM", "s", "MINID", "x") == INVALID_ID
    assert error_of(c, "XTRIM", "s", "MAXLEN", "~", "1", "LIMIT", "-1") == LIMIT_NEGATIVE
    assert c.call("XLEN", "s") == 1


def test_xtrim_without_strategy(c):
    c.call("XADD", "s", "1-1", "f", "v")
    assert error_of(c, "XTRIM", "s", "LIMIT", "1") == LIMIT_NO_STRATEGY


# ---- XREAD -------------------------------------------------------------------------------


def test_xread(s5):
    c = s5
    c.call("XADD", "t", "9-9", "g", "h")
    got = c.call("XREAD", "STREAMS", "s", "t", "3-1", "0")
    assert got == [[b"s", [[b"4-1", [b"f", b"4"]], [b"5-1", [b"f", b"5"]]]],
                   [b"t", [[b"9-9", [b"g", b"h"]]]]]
    got = c.call("XREAD", "COUNT", "1", "STREAMS", "s", "t", "0", "0")
    assert got == [[b"s", [[b"1-1", [b"f", b"1"]]]], [b"t", [[b"9-9", [b"g", b"h"]]]]]
    # Streams with nothing newer are left out; none at all is a null.
    got = c.call("XREAD", "STREAMS", "s", "t", "nokey", "5-1", "0", "0")
    assert got == [[b"t", [[b"9-9", [b"g", b"h"]]]]]
    assert c.call_raw("XREAD", "STREAMS", "s", "nokey", "5-1", "0") == b"*-1\r\n"
    assert c.call_raw("XREAD", "STREAMS", "s", "$") == b"*-1\r\n"
    assert c.call_raw("XREAD", "STREAMS", "s", MAX_ID) == b"*-1\r\n"


def test_xread_incomplete_id_and_same_key_twice(s5):
    got = s5.call("XREAD", "STREAMS", "s", "s", "4", "4-1")
    assert got == [[b"s", [[b"4-1", [b"f", b"4"]], [b"5-1", [b"f", b"5"]]]],
                   [b"s", [[b"5-1", [b"f", b"5"]]]]]


def test_xread_count(s5):
    for count, n in [("0", 5), ("-5", 5), ("2", 2), ("9223372036854775807", 5)]:
        [[_, entries]] = s5.call("XREAD", "COUNT", count, "STREAMS", "s", "0")
        assert len(entries) == n
    [[_, entries]] = s5.call("XREAD", "COUNT", "1", "count", "3", "STREAMS", "s", "0")
    assert len(entries) == 3


def test_xread_resp3_is_a_map(s5):
    c = s5
    assert c.call("HELLO", "3")
    assert c.call_raw("XREAD", "STREAMS", "s", "4-1") == (
        b"%1\r\n$1\r\ns\r\n*1\r\n*2\r\n$3\r\n5-1\r\n*2\r\n$1\r\nf\r\n$1\r\n5\r\n")
    assert c.call_raw("XREAD", "STREAMS", "s", "5-1") == b"_\r\n"


def test_xread_block_with_data_answers_at_once(s5):
    got = s5.call("XREAD", "BLOCK", "0", "STREAMS", "s", "4-1")
    assert got == [[b"s", [[b"5-1", [b"f", b"5"]]]]]


def _blocked(r, n=1):
    wait_until(lambda: int(r.info("clients")["blocked_clients"]) >= n, 5,
               message=f"{n} blocked client(s)")


def _xread_in_thread(server, *args, timeout=10):
    """Runs XREAD on its own connection in a thread; returns (thread, result dict)."""
    out = {}

    def run():
        c = server.client(socket_timeout=timeout)
        try:
            out["reply"] = c.execute_command("XREAD", *args)
        except Exception as e:  # noqa: BLE001 - reported by the test
            out["error"] = e
        finally:
            c.close()
            c.connection_pool.disconnect()
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, out


def test_xread_block_dollar_wakes_on_the_next_xadd(server, r):
    r.xadd("s", {"old": "1"}, id="1-1")
    t, out = _xread_in_thread(server, "BLOCK", "0", "STREAMS", "s", "$")
    _blocked(r)
    r.xadd("s", {"new": "2"}, id="2-1")
    t.join(10)
    assert not t.is_alive()
    assert out["reply"] == [["s", [("2-1", {"new": "2"})]]] or \
        out["reply"] == [["s", [["2-1", ["new", "2"]]]]]
    assert int(r.info("clients")["blocked_clients"]) == 0


def test_xread_block_on_a_missing_key_and_an_explicit_id(server, r):
    t, out = _xread_in_thread(server, "COUNT", "5", "BLOCK", "5000", "STREAMS", "nokey", "s",
                              "0-0", "$")
    _blocked(r)
    r.xadd("nokey", {"a": "1"}, id="3-3")
    t.join(10)
    assert not t.is_alive()
    assert out["reply"][0][0] == "nokey"
    assert out["reply"][0][1][0][0] == "3-3"


def test_xread_block_times_out_with_nil(server, r):
    t, out = _xread_in_thread(server, "BLOCK", "100", "STREAMS", "s", "$")
    t.join(10)
    assert not t.is_alive()
    assert out == {"reply": []}  # redis-py reads XREAD's nil as []


def test_xread_block_inside_multi_does_not_wait(r):
    p = r.pipeline(transaction=True)
    p.execute_command("XREAD", "BLOCK", "0", "STREAMS", "s", "$")
    assert p.execute() == [[]]  # nil, as redis-py reads it


def test_xread_block_ignores_writes_to_other_keys_and_dbs(server, r):
    t, out = _xread_in_thread(server, "BLOCK", "0", "STREAMS", "s", "$")
    _blocked(r)
    r.xadd("other", {"a": "1"})
    r.lpush("list", "x")
    other = server.client(db=1)
    other.xadd("s", {"db1": "x"})
    other.close()
    other.connection_pool.disconnect()
    time.sleep(0.2)
    assert t.is_alive()
    r.xadd("s", {"done": "1"}, id="9-9")
    t.join(10)
    assert out["reply"][0][1][0][0] == "9-9"


@pytest.mark.parametrize("timeout,error", [
    ("-1", "timeout is negative"), ("x", "timeout is not an integer or out of range"),
    ("1.5", "timeout is not an integer or out of range"),
])
def test_xread_block_timeout_errors(s5, timeout, error):
    assert error in error_of(s5, "XREAD", "BLOCK", timeout, "STREAMS", "s", "$")


@pytest.mark.parametrize("args,want", [
    (["STREAMS", "s", "t", "0"], "unbalanced"), (["STREAMS", "s", "0", "x"], "unbalanced"),
    (["FOO", "1", "STREAMS", "s", "0"], SYNTAX), (["COUNT", "1", "STREAMS"], SYNTAX),
    (["COUNT", "1", "FOO", "s"], SYNTAX), (["COUNT", "x", "STREAMS", "s", "0"], NOT_INT),
    (["STREAMS", "s", ">"], GT_ID), (["STREAMS", "s", "abc"], INVALID_ID),
    (["STREAMS", "s", "+"], INVALID_ID), (["STREAMS", "s", "-"], INVALID_ID),
    (["STREAMS", "s", "1-"], INVALID_ID),
    (["BLOCK", "-1", "STREAMS", "s", "0"], "ERR timeout is negative"),
    (["BLOCK", "x", "STREAMS", "s", "0"], "ERR timeout is not an integer or out of range"),
])
def test_xread_errors(s5, args, want):
    got = error_of(s5, "XREAD", *args)
    if want == "unbalanced":
        # Redis 7.0 names the command XREAD, 7.2 'xread'.
        assert got.startswith("ERR Unbalanced ") and "list of streams: for each stream key an ID " \
            "or '$' must be specified." in got
    else:
        assert got == want


def test_xread_wrongtype(s5):
    s5.call("SET", "str", "x")
    assert error_of(s5, "XREAD", "STREAMS", "s", "str", "0", "0") == WRONGTYPE
    assert error_of(s5, "XREAD", "STREAMS", "str", "$") == WRONGTYPE


def test_xread_redis_py(r):
    r.xadd("a", {"x": 1}, id="1-0")
    r.xadd("b", {"y": 2}, id="2-0")
    assert r.xread({"a": 0, "b": "1-0"}) == [["a", [("1-0", {"x": "1"})]],
                                            ["b", [("2-0", {"y": "2"})]]]
    assert r.xread({"a": "$"}) == []


# ---- XINFO -------------------------------------------------------------------------------


def _info(c, key):
    reply = c.call("XINFO", "STREAM", key)
    if reply and isinstance(reply[0], tuple):
        return dict(reply)
    return dict(zip(reply[::2], reply[1::2]))


def test_xinfo_stream(s5):
    c = s5
    c.call("XDEL", "s", "1-1", "3-1")
    info = _info(c, "s")
    assert [k.decode() for k in info] == [
        "length", "radix-tree-keys", "radix-tree-nodes", "last-generated-id",
        "max-deleted-entry-id", "entries-added", "recorded-first-entry-id", "groups",
        "first-entry", "last-entry"]
    assert info[b"length"] == 3
    assert info[b"radix-tree-keys"] >= 1 and info[b"radix-tree-nodes"] >= 1
    assert info[b"last-generated-id"] == b"5-1"
    assert info[b"max-deleted-entry-id"] == b"3-1"
    assert info[b"entries-added"] == 5
    assert info[b"recorded-first-entry-id"] == b"2-1"
    assert info[b"groups"] == 0
    assert info[b"first-entry"] == [b"2-1", [b"f", b"2"]]
    assert info[b"last-entry"] == [b"5-1", [b"f", b"5"]]


def test_xinfo_empty_stream(s5):
    c = s5
    assert c.call("XTRIM", "s", "MAXLEN", "0") == 5
    info = _info(c, "s")
    assert info[b"length"] == 0
    assert info[b"last-generated-id"] == b"5-1"
    assert info[b"max-deleted-entry-id"] == b"0-0"  # trimming does not count as deleting
    assert info[b"entries-added"] == 5
    assert info[b"recorded-first-entry-id"] == b"0-0"
    assert info[b"first-entry"] is None and info[b"last-entry"] is None


def test_xinfo_resp3_map(s5):
    c = s5
    assert c.call("HELLO", "3")
    raw = c.call_raw("XINFO", "STREAM", "s")
    assert raw.startswith(b"%10\r\n$6\r\nlength\r\n:5\r\n")
    c.call("XTRIM", "s", "MAXLEN", "0")
    assert c.call_raw("XINFO", "STREAM", "s").endswith(
        b"$11\r\nfirst-entry\r\n_\r\n$10\r\nlast-entry\r\n_\r\n")


def test_xinfo_errors(s5):
    c = s5
    c.call("SET", "str", "x")
    assert error_of(c, "XINFO", "STREAM", "nokey") == "ERR no such key"
    assert error_of(c, "XINFO", "STREAM", "str") == WRONGTYPE
    assert error_of(c, "XINFO", "FOO", "s") == "ERR unknown subcommand 'FOO'. Try XINFO HELP."
    assert error_of(c, "XINFO", "STREAM", "s", "foo") == (
        "ERR unknown subcommand or wrong number of arguments for 'STREAM'. Try XINFO HELP.")
    assert c.call("XINFO", "GROUPS", "s") == []
    assert error_of(c, "XINFO", "GROUPS", "nokey") == "ERR no such key"
    assert isinstance(c.call("XINFO", "HELP"), list)


def test_xinfo_full(s5):
    reply = s5.call("XINFO", "STREAM", "s", "FULL", "COUNT", "2")
    info = dict(zip(reply[::2], reply[1::2]))
    assert info[b"length"] == 5
    assert info[b"entries"] == [[b"1-1", [b"f", b"1"]], [b"2-1", [b"f", b"2"]]]
    assert info[b"groups"] == []


def test_redis_py_xinfo(r):
    r.xadd("s", {"a": "b"}, id="1-1")
    info = r.xinfo_stream("s")
    assert info["length"] == 1 and info["first-entry"] == ("1-1", {"a": "b"})


# ---- streams under the key commands --------------------------------------------------------


def test_type_object_encoding_and_scan(r):
    r.xadd("s", {"a": 1})
    r.set("str", "x")
    assert r.type("s") == "stream"
    assert r.object("encoding", "s") == "stream"
    assert list(r.scan_iter(_type="stream")) == ["s"]
    assert list(r.scan_iter(_type="STREAM")) == ["s"]


@pytest.mark.parametrize("cmd", [
    ["GET", "s"], ["APPEND", "s", "x"], ["LPUSH", "s", "x"], ["SADD", "s", "x"],
    ["HSET", "s", "f", "v"], ["ZADD", "s", "1", "x"], ["SORT", "s"], ["INCR", "s"],
    ["LLEN", "s"], ["SCARD", "s"], ["HLEN", "s"], ["ZCARD", "s"],
])
def test_other_types_commands_on_a_stream(c, cmd):
    c.call("XADD", "s", "1-1", "f", "v")
    assert error_of(c, *cmd) == WRONGTYPE
    assert c.call("XLEN", "s") == 1


def test_del_unlink_exists(r):
    for k in ("a", "b"):
        r.xadd(k, {"f": "v"})
    assert r.exists("a", "b") == 2
    assert r.delete("a") == 1
    p = r.pipeline(transaction=False)
    for i in range(5000):
        p.xadd("b", {"f": i})
    p.execute()
    assert r.unlink("b") == 1
    assert r.exists("a", "b") == 0


def test_expire(r):
    r.xadd("s", {"f": "v"})
    assert r.pexpire("s", 50)
    wait_until(lambda: r.exists("s") == 0, message="stream expiry")
    r.xadd("t", {"f": "v"})
    r.expire("t", 100)
    r.xadd("t", {"f": "w"})  # writes keep the TTL
    assert 0 < r.ttl("t") <= 100


def test_rename_and_copy(r):
    for i in range(1, 301):
        r.xadd("s", {"i": i}, id="%d-0" % i)
    r.xdel("s", "5-0")
    assert r.rename("s", "t")
    assert r.exists("s") == 0 and r.xlen("t") == 299
    assert r.copy("t", "u")
    r.xadd("u", {"x": 1}, id="1000-0")
    r.xdel("t", "1-0")
    assert r.xlen("t") == 298 and r.xlen("u") == 300
    assert r.xinfo_stream("u")["max-deleted-entry-id"] == "5-0"
    assert r.xinfo_stream("u")["entries-added"] == 301
    assert r.xrange("u", count=1) == [("1-0", {"i": "1"})]
    # COPY keeps the last ID: an ID under it is refused.
    with pytest.raises(Exception, match="equal or smaller"):
        r.xadd("u", {"x": 1}, id="999-0")


def test_move_and_swapdb(r):
    r.xadd("s", {"f": "v"}, id="1-1")
    assert r.move("s", 1)
    r.execute_command("SWAPDB", 0, 1)
    assert r.xrange("s") == [("1-1", {"f": "v"})]


def test_memory_usage_follows(r):
    r.xadd("s", {"f": "v"})
    small = r.memory_usage("s", samples=0)
    p = r.pipeline(transaction=False)
    for i in range(5000):
        p.xadd("s", {"field": "value %d" % i})
    p.execute()
    big = r.memory_usage("s", samples=0)
    assert big > small + 5000 * 10
    used = r.info("memory")["used_memory"]
    r.xtrim("s", maxlen=0, approximate=False)
    assert r.memory_usage("s", samples=0) < big
    assert conftest.IS_REDIS or r.info("memory")["used_memory"] < used


def test_watch_sees_stream_writes(r):
    r.xadd("s", {"f": "v"}, id="1-1")
    with r.pipeline() as p:
        p.watch("s")
        p.multi()
        p.xlen("s")
        r.xadd("s", {"f": "v"}, id="2-1")
        with pytest.raises(Exception):
            p.execute()


def test_multi_and_script(r):
    with r.pipeline() as p:
        p.xadd("s", {"a": 1}, id="1-0")
        p.xadd("s", {"a": 2}, id="1-0")  # fails inside EXEC, the rest goes on
        p.xlen("s")
        res = p.execute(raise_on_error=False)
    assert res[0] == "1-0" and isinstance(res[1], Exception) and res[2] == 1
    got = r.eval("redis.call('XADD', KEYS[1], '5-5', 'k', 'v'); "
                 "return redis.call('XRANGE', KEYS[1], '-', '+')", 1, "t")
    assert got == [["5-5", ["k", "v"]]]


def _events(sub, n):
    return [(m[2].decode().split(":", 1)[1], m[3].decode()) for m in sub.read_many(n, timeout=10)]


def test_keyspace_events(raw, r, notify):
    sub = subscribed(raw, notify, "KEA", "__keyspace@0__:*", pattern=True)
    r.xadd("s", {"f": "v"}, id="1-0")
    r.xadd("s", {"f": "v"}, id="2-0", maxlen=1, approximate=False)
    r.xadd("s", {"f": "v"}, id="3-0", maxlen=5, approximate=False)  # nothing trimmed: no xtrim
    r.xadd("nokey", {"f": "v"}, nomkstream=True)  # no event
    r.xdel("s", "9-9")  # no event
    r.xdel("s", "2-0")
    r.xtrim("s", maxlen=5, approximate=False)  # no event
    r.xtrim("s", maxlen=0, approximate=False)
    r.delete("s")
    assert _events(sub, 7) == [("s", "xadd"), ("s", "xadd"), ("s", "xtrim"), ("s", "xadd"),
                               ("s", "xdel"), ("s", "xtrim"), ("s", "del")]


def test_keyspace_event_class_t(raw, r, notify):
    sub = subscribed(raw, notify, "Et", "__keyevent@0__:xadd")
    r.xadd("s", {"f": "v"})
    [msg] = sub.read_many(1, timeout=10)
    assert msg[1] == b"__keyevent@0__:xadd" and msg[2] == b"s"


def test_eviction_can_evict_streams(start_server):
    s = start_server("--maxmemory", "4mb", "--maxmemory-policy", "allkeys-lru")
    r = s.client()
    value = "x" * 500
    for k in range(200):
        p = r.pipeline(transaction=False)
        for i in range(100):
            p.xadd("s%d" % k, {"f": value})
        p.execute()
    assert r.dbsize() < 200
    assert r.info("stats")["evicted_keys"] > 0
    assert r.info("memory")["used_memory"] <= 6 * 1024 * 1024


# ---- big streams and a model ---------------------------------------------------------------


@pytest.mark.skipif(conftest.SANITIZER is not None, reason="slow under sanitizers")
def test_hundred_thousand_entries(r):
    n = 100_000

    def sid(i):
        return "%d-%d" % (i // 3, i % 3)
    p = r.pipeline(transaction=False)
    for i in range(1, n + 1):
        p.execute_command("XADD", "s", sid(i), "i", i)
        if i % 5000 == 0:
            p.execute()
    p.execute()
    assert r.xlen("s") == n
    got = r.xrange("s", "10000", "10010")
    assert [e[1]["i"] for e in got] == [str(i) for i in range(30000, 30033)]
    assert [e[0] for e in r.xrange("s", "(20000-1", "20001-0")] == ["20000-2", "20001-0"]
    rev = r.xrevrange("s", "+", "-", count=4)
    assert [e[1]["i"] for e in rev] == [str(i) for i in range(n, n - 4, -1)]
    everything = r.xrange("s", "-", "+")
    assert [int(e[1]["i"]) for e in everything] == list(range(1, n + 1))
    assert r.xdel("s", *[sid(i) for i in range(2, n, 2)]) == n // 2 - 1
    assert r.xlen("s") == n // 2 + 1
    assert [e[1]["i"] for e in r.xrange("s", "-", "+", count=3)] == ["1", "3", "5"]
    assert [e[1]["i"] for e in r.xrevrange("s", "+", "-", count=3)] == [str(n), str(n - 1),
                                                                       str(n - 3)]
    assert r.xtrim("s", maxlen=1000, approximate=False) == n // 2 + 1 - 1000
    assert r.xlen("s") == 1000
    assert r.xrange("s", count=1)[0][1]["i"] == str(n - 1 - 2 * 998)


def test_random_against_model(r):
    rnd = random.Random(7)
    model = []  # (ms, seq, value)
    last = (0, 0)
    for step in range(3000):
        op = rnd.random()
        if op < 0.6:
            ms = last[0] + rnd.choice([0, 0, 1, 2])
            seq = last[1] + 1 if ms == last[0] else rnd.randint(0, 3)
            r.xadd("s", {"v": step}, id="%d-%d" % (ms, seq))
            model.append((ms, seq, str(step)))
            last = (ms, seq)
        elif op < 0.75 and model:
            victim = rnd.choice(model)
            assert r.xdel("s", "%d-%d" % victim[:2]) == 1
            model.remove(victim)
        elif op < 0.8:
            keep = rnd.randint(0, len(model) + 3)
            removed = r.xtrim("s", maxlen=keep, approximate=False)
            assert removed == max(0, len(model) - keep)
            model = model[max(0, len(model) - keep):]
        elif model:
            a, b = sorted(rnd.sample(model, 2)) if len(model) > 1 else (model[0], model[0])
            count = rnd.randint(1, 50)
            got = r.xrange("s", "%d-%d" % a[:2], "%d-%d" % b[:2], count=count)
            want = [m for m in model if a[:2] <= m[:2] <= b[:2]][:count]
            assert [(e[0], e[1]["v"]) for e in got] == [("%d-%d" % m[:2], m[2]) for m in want]
            got = r.xrevrange("s", "%d-%d" % b[:2], "%d-%d" % a[:2], count=count)
            want = [m for m in reversed(model) if a[:2] <= m[:2] <= b[:2]][:count]
            assert [e[0] for e in got] == ["%d-%d" % m[:2] for m in want]
        assert r.xlen("s") == len(model)
    assert [(e[0], e[1]["v"]) for e in r.xrange("s")] == [("%d-%d" % m[:2], m[2]) for m in model]


# ---- RQ ----------------------------------------------------------------------------------


def test_rq_job_result(server, r):
    rq = pytest.importorskip("rq")
    from rq import Queue, Worker
    q = Queue("streams-test", connection=server.client(decode_responses=False))
    job = q.enqueue("builtins.len", "abcd")
    worker = Worker([q], connection=q.connection)
    assert worker.work(burst=True)
    job.refresh()
    assert job.get_status() == "finished"
    assert job.return_value() == 4
    result = job.latest_result()
    assert result is not None and result.return_value == 4
    assert r.type("rq:results:%s" % job.id) == "stream"
    assert r.xlen("rq:results:%s" % job.id) == 1
    assert rq.__version__


def test_xread_block_timeout_is_a_null_array(s5):
    assert s5.call_raw("XREAD", "BLOCK", "50", "STREAMS", "s", "$") == b"*-1\r\n"
