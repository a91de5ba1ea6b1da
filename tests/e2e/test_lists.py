"""List commands (the non-blocking ones): the pushes and pops with and without
a count, LLEN, LRANGE, LINDEX, LSET, LINSERT, LREM, LTRIM, LPOS, LMOVE,
RPOPLPUSH and LMPOP; their null replies in RESP2 and RESP3; the listpack ->
quicklist conversion; lists under the generic key commands, keyspace events,
transactions and scripts; a randomized comparison with a model.

Everything here but the sluice_only tests also passes against redis-server
7.0. Redis 7.0 always reports the "quicklist" encoding (small lists became
listpacks in 7.2), and it answers LPOS ... RANK -9223372036854775808 instead
of rejecting the rank as 7.2 does; those 7.2 behaviours are sluice_only."""

import random
import string

import pytest

from helpers import (INT64_MAX, INT64_MIN, NOT_INT, SYNTAX, WRONGTYPE, RespError, arity_error,
                     encode_command, error_of, subscribed, wait_until)

POSITIVE = "ERR value is out of range, must be positive"
NO_SUCH_KEY = "ERR no such key"
INDEX_RANGE = "ERR index out of range"
RANK_ZERO = ("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... "
             "or use negative to start from the end of the list")
COUNT_NEGATIVE = "ERR COUNT can't be negative"
MAXLEN_NEGATIVE = "ERR MAXLEN can't be negative"
NUMKEYS = "ERR numkeys should be greater than 0"
COUNT_POSITIVE = "ERR count should be greater than 0"
RANK_RANGE = ("ERR value is out of range, value must between -9223372036854775807 and "
              "9223372036854775807")


WRONG_ARITY = [
    ("lpush", []), ("lpush", ["l"]), ("rpush", ["l"]), ("lpushx", ["l"]), ("rpushx", ["l"]),
    ("lpop", []), ("lpop", ["l", "1", "2"]), ("rpop", []), ("rpop", ["l", "1", "2"]),
    ("llen", []), ("llen", ["l", "x"]), ("lrange", ["l", "0"]), ("lrange", ["l", "0", "1", "2"]),
    ("lindex", ["l"]), ("lindex", ["l", "0", "1"]), ("lset", ["l", "0"]),
    ("lset", ["l", "0", "v", "x"]), ("linsert", ["l", "BEFORE", "p"]),
    ("linsert", ["l", "BEFORE", "p", "v", "x"]), ("lrem", ["l", "0"]),
    ("lrem", ["l", "0", "v", "x"]), ("ltrim", ["l", "0"]), ("ltrim", ["l", "0", "1", "2"]),
    ("lpos", ["l"]), ("lmove", ["a", "b", "LEFT"]), ("lmove", ["a", "b", "LEFT", "RIGHT", "x"]),
    ("rpoplpush", ["a"]), ("rpoplpush", ["a", "b", "c"]), ("lmpop", []), ("lmpop", ["1"]),
    ("lmpop", ["1", "l"]),
]


@pytest.mark.parametrize("cmd,args", WRONG_ARITY,
                         ids=lambda v: v if isinstance(v, str) else str(len(v)))
def test_wrong_arity(c, cmd, args):
    c.call("RPUSH", "l", "a")
    assert error_of(c, cmd, *args) == arity_error(cmd)
    assert c.call("LRANGE", "l", "0", "-1") == [b"a"]
    assert c.call("PING") == "PONG"


@pytest.fixture
def list_limits(r):
    """Sets list-max-listpack-size for a test, restoring it (and the
    compress depth) afterwards."""
    saved = {k: r.config_get(k)[k] for k in ("list-max-listpack-size", "list-compress-depth")}

    def set_size(size):
        r.config_set("list-max-listpack-size", size)
    yield set_size
    for k, v in saved.items():
        r.config_set(k, v)


@pytest.fixture
def l5(c):
    """The raw connection with l = a b c d e."""
    assert c.call("RPUSH", "l", "a", "b", "c", "d", "e") == 5
    return c


def items(*names):
    return [n.encode() for n in names]


# ---- pushes --------------------------------------------------------------------------------


def test_lpush_rpush_order_and_length(c):
    assert c.call("RPUSH", "l", "a", "b") == 2
    assert c.call("RPUSH", "l", "c") == 3
    assert c.call("LPUSH", "l", "x", "y") == 5  # each goes to the head in turn
    assert c.call("LRANGE", "l", "0", "-1") == items("y", "x", "a", "b", "c")
    assert c.call("LPUSH", "new", "1", "2", "3") == 3
    assert c.call("LRANGE", "new", "0", "-1") == items("3", "2", "1")
    assert c.call("TYPE", "l") == "list"
    assert c.call("LLEN", "l") == 5
    assert c.call("LLEN", "nokey") == 0


def test_pushx_only_on_existing_lists(c):
    assert c.call("LPUSHX", "l", "a") == 0
    assert c.call("RPUSHX", "l", "a", "b") == 0
    assert c.call("EXISTS", "l") == 0
    c.call("RPUSH", "l", "m")
    assert c.call("LPUSHX", "l", "a", "b") == 3
    assert c.call("RPUSHX", "l", "y", "z") == 5
    assert c.call("LRANGE", "l", "0", "-1") == items("b", "a", "m", "y", "z")


def test_binary_and_empty_elements(rb):
    vals = [b"", b"\x00", b"a\r\nb", b"\xff\xfe", b" "]
    assert rb.rpush(b"l", *vals) == 5
    assert rb.lrange(b"l", 0, -1) == vals
    assert rb.lindex(b"l", 0) == b""
    assert rb.lpos(b"l", b"\x00") == 1
    assert rb.lrem(b"l", 0, b"") == 1
    assert rb.lpop(b"l") == b"\x00"


@pytest.mark.parametrize("value", ["123", "0123", "-1", "-0", "+5", "1.5", "9223372036854775807",
                                   "9223372036854775808", "-9223372036854775808", " 7", "0",
                                   "00", "1e3", "0x10"])
def test_integer_like_elements_round_trip(c, value):
    c.call("RPUSH", "l", value, "x")
    c.call("LPUSH", "l", value)
    assert c.call("LRANGE", "l", "0", "-1") == [value.encode(), value.encode(), b"x"]
    assert c.call("LINDEX", "l", "1") == value.encode()
    assert c.call("LPOS", "l", value, "COUNT", "0") == [0, 1]
    assert c.call("LREM", "l", "1", value) == 1
    assert c.call("RPOP", "l", "2") == [b"x", value.encode()]


def test_large_elements(rb):
    big = bytes(random.Random(7).getrandbits(8) for _ in range(100 * 1024))
    other = b"y" * 100 * 1024
    assert rb.rpush(b"l", big, b"small", other) == 3
    assert rb.lindex(b"l", 0) == big
    assert rb.lrange(b"l", 0, -1) == [big, b"small", other]
    assert rb.lpos(b"l", other) == 2
    assert rb.lset(b"l", 1, big) is True
    assert rb.lrem(b"l", 0, big) == 2
    assert rb.lpop(b"l") == other
    assert rb.exists(b"l") == 0


def test_many_elements_in_one_command(c):
    args = ["e%d" % i for i in range(5000)]
    assert c.call("RPUSH", "l", *args) == 5000
    assert c.call("LPUSH", "l", *args) == 10000
    assert c.call("LLEN", "l") == 10000
    assert c.call("LINDEX", "l", "0") == b"e4999"
    assert c.call("LINDEX", "l", "4999") == b"e0"
    assert c.call("LINDEX", "l", "5000") == b"e0"
    assert c.call("LINDEX", "l", "-1") == b"e4999"
    assert c.call("LRANGE", "l", "4998", "5001") == items("e1", "e0", "e0", "e1")
    assert len(c.call("LRANGE", "l", "0", "-1")) == 10000
    assert c.call("LPOS", "l", "e0", "COUNT", "0") == [4999, 5000]
    assert c.call("LREM", "l", "-1", "e4999") == 1
    assert c.call("LINDEX", "l", "-1") == b"e4998"


def test_large_list_by_pipelined_pushes(c):
    n = 20000
    c.send(b"".join(encode_command("RPUSH", "l", "x%d" % i) for i in range(n)))
    replies = c.read_many(n, timeout=30)
    assert replies == list(range(1, n + 1))
    assert c.call("LINDEX", "l", str(n // 2)) == b"x%d" % (n // 2)
    assert c.call("LRANGE", "l", "-2", "-1") == [b"x%d" % (n - 2), b"x%d" % (n - 1)]
    assert c.call("LTRIM", "l", "100", "-101") == "OK"
    assert c.call("LLEN", "l") == n - 200
    assert c.call("LPOP", "l") == b"x100"


# ---- pops ----------------------------------------------------------------------------------


def test_lpop_rpop_without_count(l5):
    c = l5
    assert c.call("LPOP", "l") == b"a"
    assert c.call("RPOP", "l") == b"e"
    assert c.call("LRANGE", "l", "0", "-1") == items("b", "c", "d")
    assert c.call_raw("LPOP", "nokey") == b"$-1\r\n"
    assert c.call_raw("RPOP", "nokey") == b"$-1\r\n"


def test_pop_with_count(l5):
    c = l5
    assert c.call("LPOP", "l", "2") == items("a", "b")
    assert c.call("RPOP", "l", "2") == items("e", "d")
    assert c.call("RPOP", "l", "10") == items("c")  # more than there is: all of it
    assert c.call("EXISTS", "l") == 0


def test_pop_count_null_forms_resp2(l5):
    c = l5
    assert c.call_raw("LPOP", "nokey", "1") == b"*-1\r\n"
    assert c.call_raw("RPOP", "nokey", "5") == b"*-1\r\n"
    assert c.call_raw("LPOP", "nokey", "0") == b"*-1\r\n"
    assert c.call_raw("LPOP", "l", "0") == b"*0\r\n"  # existing key, count 0: empty array
    assert c.call_raw("RPOP", "l", "0") == b"*0\r\n"
    assert c.call_raw("LPOP", "l", "1") == b"*1\r\n$1\r\na\r\n"
    assert c.call("LLEN", "l") == 4


def test_pop_null_forms_resp3(l5):
    c = l5
    assert c.call("HELLO", "3")
    assert c.call_raw("LPOP", "nokey") == b"_\r\n"
    assert c.call_raw("RPOP", "nokey") == b"_\r\n"
    assert c.call_raw("LPOP", "nokey", "2") == b"_\r\n"
    assert c.call_raw("RPOP", "nokey", "0") == b"_\r\n"
    assert c.call_raw("LPOP", "l", "0") == b"*0\r\n"
    assert c.call_raw("RPOP", "l", "2") == b"*2\r\n$1\r\ne\r\n$1\r\nd\r\n"
    assert c.call_raw("LPOP", "l") == b"$1\r\na\r\n"


@pytest.mark.parametrize("count", ["-1", "-9223372036854775808", "x", "1.5", ""])
def test_pop_count_errors(l5, count):
    c = l5
    want = POSITIVE  # a non-integer count is reported the same way
    assert error_of(c, "LPOP", "l", count) == want
    assert error_of(c, "RPOP", "l", count) == want
    assert error_of(c, "LPOP", "nokey", count) == want
    assert c.call("LLEN", "l") == 5


def test_pop_huge_count(l5):
    assert l5.call("LPOP", "l", str(INT64_MAX)) == items("a", "b", "c", "d", "e")
    assert l5.call("EXISTS", "l") == 0


def test_redis_py_pops(r):
    r.rpush("l", 1, 2, 3)
    assert r.lpop("l") == "1"
    assert r.rpop("l", 5) == ["3", "2"]
    assert r.lpop("l") is None
    assert r.lpop("l", 2) is None


# ---- LRANGE, LINDEX, LSET ------------------------------------------------------------------


@pytest.mark.parametrize("start,stop,want", [
    (0, -1, "abcde"), (0, 0, "a"), (1, 3, "bcd"), (-2, -1, "de"), (-100, 1, "ab"),
    (3, 100, "de"), (4, 4, "e"), (5, 10, ""), (3, 1, ""), (-1, -2, ""), (-100, -6, ""),
    (-5, -5, "a"), (0, INT64_MAX, "abcde"), (INT64_MIN, INT64_MAX, "abcde"),
    (INT64_MAX, INT64_MAX, ""), (INT64_MIN, INT64_MIN, ""), (2, INT64_MIN, ""),
])
def test_lrange_indexes(l5, start, stop, want):
    assert l5.call("LRANGE", "l", str(start), str(stop)) == [ch.encode() for ch in want]


@pytest.mark.parametrize("bad", ["x", "1.5", "", "9223372036854775808", "-9223372036854775809",
                                 " 1", "1 ", "0x1"])
def test_lrange_non_integers(l5, bad):
    assert error_of(l5, "LRANGE", "l", bad, "1") == NOT_INT
    assert error_of(l5, "LRANGE", "l", "0", bad) == NOT_INT
    assert error_of(l5, "LTRIM", "l", bad, "1") == NOT_INT
    assert error_of(l5, "LINDEX", "l", bad) == NOT_INT
    assert error_of(l5, "LSET", "l", bad, "v") == NOT_INT
    assert l5.call("LLEN", "l") == 5


def test_lrange_missing_key(c):
    assert c.call_raw("LRANGE", "nokey", "0", "-1") == b"*0\r\n"
    assert c.call("HELLO", "3")
    assert c.call_raw("LRANGE", "nokey", "0", "-1") == b"*0\r\n"


def test_lindex(l5):
    c = l5
    assert c.call("LINDEX", "l", "0") == b"a"
    assert c.call("LINDEX", "l", "4") == b"e"
    assert c.call("LINDEX", "l", "-1") == b"e"
    assert c.call("LINDEX", "l", "-5") == b"a"
    assert c.call_raw("LINDEX", "l", "5") == b"$-1\r\n"
    assert c.call_raw("LINDEX", "l", "-6") == b"$-1\r\n"
    assert c.call_raw("LINDEX", "l", str(INT64_MAX)) == b"$-1\r\n"
    assert c.call_raw("LINDEX", "l", str(INT64_MIN)) == b"$-1\r\n"
    assert c.call_raw("LINDEX", "nokey", "0") == b"$-1\r\n"
    assert c.call("HELLO", "3")
    assert c.call_raw("LINDEX", "l", "9") == b"_\r\n"
    assert c.call_raw("LINDEX", "nokey", "0") == b"_\r\n"


def test_lset(l5):
    c = l5
    assert c.call("LSET", "l", "0", "A") == "OK"
    assert c.call("LSET", "l", "-1", "E") == "OK"
    assert c.call("LSET", "l", "2", "a much longer element than before") == "OK"
    assert c.call("LRANGE", "l", "0", "-1") == items("A", "b", "a much longer element than "
                                                     "before", "d", "E")
    assert error_of(c, "LSET", "l", "5", "x") == INDEX_RANGE
    assert error_of(c, "LSET", "l", "-6", "x") == INDEX_RANGE
    assert error_of(c, "LSET", "l", str(INT64_MAX), "x") == INDEX_RANGE
    assert error_of(c, "LSET", "nokey", "0", "x") == NO_SUCH_KEY
    assert c.call("EXISTS", "nokey") == 0
    assert c.call("LLEN", "l") == 5


# ---- LINSERT, LREM, LTRIM ------------------------------------------------------------------


def test_linsert(l5):
    c = l5
    assert c.call("LINSERT", "l", "BEFORE", "a", "0") == 6
    assert c.call("LINSERT", "l", "AFTER", "e", "9") == 7
    assert c.call("LINSERT", "l", "after", "c", "c2") == 8  # case-insensitive
    assert c.call("LINSERT", "l", "Before", "c", "b2") == 9
    assert c.call("LRANGE", "l", "0", "-1") == items("0", "a", "b", "b2", "c", "c2", "d", "e",
                                                     "9")
    assert c.call("LINSERT", "l", "BEFORE", "zz", "x") == -1
    assert c.call("LINSERT", "nokey", "BEFORE", "a", "x") == 0
    assert c.call("EXISTS", "nokey") == 0
    assert error_of(c, "LINSERT", "l", "MIDDLE", "a", "x") == SYNTAX
    assert error_of(c, "LINSERT", "nokey", "MIDDLE", "a", "x") == SYNTAX
    assert c.call("LLEN", "l") == 9


def test_linsert_uses_the_first_pivot(c):
    c.call("RPUSH", "l", "p", "x", "p")
    assert c.call("LINSERT", "l", "AFTER", "p", "new") == 4
    assert c.call("LINSERT", "l", "BEFORE", "p", "first") == 5
    assert c.call("LRANGE", "l", "0", "-1") == items("first", "p", "new", "x", "p")


@pytest.fixture
def rem(c):
    c.call("RPUSH", "l", "x", "a", "x", "b", "x", "c", "x")
    return c


def test_lrem_from_head(rem):
    assert rem.call("LREM", "l", "2", "x") == 2
    assert rem.call("LRANGE", "l", "0", "-1") == items("a", "b", "x", "c", "x")


def test_lrem_from_tail(rem):
    assert rem.call("LREM", "l", "-3", "x") == 3
    assert rem.call("LRANGE", "l", "0", "-1") == items("x", "a", "b", "c")


def test_lrem_all(rem):
    assert rem.call("LREM", "l", "0", "x") == 4
    assert rem.call("LRANGE", "l", "0", "-1") == items("a", "b", "c")
    assert rem.call("LREM", "l", "0", "zz") == 0
    assert rem.call("LREM", "l", "100", "b") == 1
    assert rem.call("LREM", "l", str(INT64_MIN), "a") == 1
    assert rem.call("LREM", "nokey", "0", "a") == 0
    assert rem.call("LREM", "l", "0", "c") == 1
    assert rem.call("EXISTS", "l") == 0


def test_lrem_is_exact_match(c):
    c.call("RPUSH", "l", "1", "01", "1.0", "X", "x", "1")
    assert c.call("LREM", "l", "0", "1") == 2
    assert c.call("LREM", "l", "0", "X") == 1
    assert c.call("LRANGE", "l", "0", "-1") == items("01", "1.0", "x")


@pytest.mark.parametrize("start,stop,want", [
    (0, -1, "abcde"), (1, -1, "bcde"), (0, 1, "ab"), (-2, -1, "de"), (-100, 2, "abc"),
    (2, 100, "cde"), (2, 2, "c"), (INT64_MIN, INT64_MAX, "abcde"),
])
def test_ltrim(l5, start, stop, want):
    assert l5.call("LTRIM", "l", str(start), str(stop)) == "OK"
    assert l5.call("LRANGE", "l", "0", "-1") == [ch.encode() for ch in want]


@pytest.mark.parametrize("start,stop", [(3, 1), (5, 10), (-1, -2), (0, -6), (INT64_MAX, -1)])
def test_ltrim_to_empty_deletes_the_key(l5, start, stop):
    assert l5.call("LTRIM", "l", str(start), str(stop)) == "OK"
    assert l5.call("EXISTS", "l") == 0


def test_ltrim_missing_key(c):
    assert c.call("LTRIM", "nokey", "0", "1") == "OK"
    assert c.call("EXISTS", "nokey") == 0


# ---- LPOS ----------------------------------------------------------------------------------


@pytest.fixture
def pos(c):
    """l = a b c a b c a (a at 0, 3, 6)."""
    c.call("RPUSH", "l", "a", "b", "c", "a", "b", "c", "a")
    return c


def test_lpos_basic(pos):
    c = pos
    assert c.call("LPOS", "l", "a") == 0
    assert c.call("LPOS", "l", "c") == 2
    assert c.call_raw("LPOS", "l", "zz") == b"$-1\r\n"
    assert c.call_raw("LPOS", "nokey", "a") == b"$-1\r\n"
    assert c.call("HELLO", "3")
    assert c.call_raw("LPOS", "l", "zz") == b"_\r\n"
    assert c.call_raw("LPOS", "nokey", "a") == b"_\r\n"


def test_lpos_rank(pos):
    c = pos
    assert c.call("LPOS", "l", "a", "RANK", "1") == 0
    assert c.call("LPOS", "l", "a", "RANK", "2") == 3
    assert c.call("LPOS", "l", "a", "RANK", "3") == 6
    assert c.call("LPOS", "l", "a", "RANK", "4") is None
    assert c.call("LPOS", "l", "a", "RANK", "-1") == 6
    assert c.call("LPOS", "l", "a", "RANK", "-3") == 0
    assert c.call("LPOS", "l", "a", "RANK", "-4") is None
    assert c.call("LPOS", "l", "b", "rank", "-1") == 4
    assert c.call("LPOS", "l", "a", "RANK", str(INT64_MAX)) is None
    assert c.call("LPOS", "l", "a", "RANK", str(-INT64_MAX)) is None


def test_lpos_count(pos):
    c = pos
    assert c.call("LPOS", "l", "a", "COUNT", "0") == [0, 3, 6]
    assert c.call("LPOS", "l", "a", "COUNT", "2") == [0, 3]
    assert c.call("LPOS", "l", "a", "COUNT", "10") == [0, 3, 6]
    assert c.call("LPOS", "l", "a", "COUNT", str(INT64_MAX)) == [0, 3, 6]
    assert c.call("LPOS", "l", "a", "RANK", "2", "COUNT", "0") == [3, 6]
    assert c.call("LPOS", "l", "a", "RANK", "-1", "COUNT", "2") == [6, 3]
    assert c.call("LPOS", "l", "a", "COUNT", "0", "RANK", "-2") == [3, 0]
    assert c.call_raw("LPOS", "l", "zz", "COUNT", "0") == b"*0\r\n"
    assert c.call_raw("LPOS", "nokey", "a", "COUNT", "1") == b"*0\r\n"
    assert c.call_raw("LPOS", "l", "c", "COUNT", "0") == b"*2\r\n:2\r\n:5\r\n"


def test_lpos_maxlen(pos):
    c = pos
    assert c.call("LPOS", "l", "a", "COUNT", "0", "MAXLEN", "4") == [0, 3]
    assert c.call("LPOS", "l", "a", "COUNT", "0", "MAXLEN", "3") == [0]
    assert c.call("LPOS", "l", "a", "COUNT", "0", "MAXLEN", "0") == [0, 3, 6]  # 0: no limit
    assert c.call("LPOS", "l", "a", "RANK", "-1", "COUNT", "0", "MAXLEN", "1") == [6]
    assert c.call("LPOS", "l", "a", "RANK", "-1", "COUNT", "0", "MAXLEN", "4") == [6, 3]
    assert c.call("LPOS", "l", "c", "MAXLEN", "2") is None
    assert c.call("LPOS", "l", "c", "MAXLEN", "3") == 2
    assert c.call("LPOS", "l", "a", "RANK", "2", "MAXLEN", "3") is None


def test_lpos_option_errors(pos):
    c = pos
    assert error_of(c, "LPOS", "l", "a", "RANK", "0") == RANK_ZERO
    assert error_of(c, "LPOS", "l", "a", "COUNT", "-1") == COUNT_NEGATIVE
    assert error_of(c, "LPOS", "l", "a", "MAXLEN", "-1") == MAXLEN_NEGATIVE
    assert error_of(c, "LPOS", "l", "a", "RANK", "x") == NOT_INT
    assert error_of(c, "LPOS", "l", "a", "COUNT", "x") == COUNT_NEGATIVE
    assert error_of(c, "LPOS", "l", "a", "MAXLEN", "1.5") == MAXLEN_NEGATIVE
    assert error_of(c, "LPOS", "l", "a", "RANK") == SYNTAX
    assert error_of(c, "LPOS", "l", "a", "COUNT") == SYNTAX
    assert error_of(c, "LPOS", "l", "a", "FOO", "1") == SYNTAX
    assert error_of(c, "LPOS", "l", "a", "RANK", "1", "x") == SYNTAX
    assert error_of(c, "LPOS", "nokey", "a", "RANK", "0") == RANK_ZERO


@pytest.mark.sluice_only
def test_lpos_rank_of_long_min_is_rejected(pos):
    # Redis 7.2 rejects it (its negation does not fit); 7.0 answers a position.
    assert error_of(pos, "LPOS", "l", "a", "RANK", str(INT64_MIN)) == RANK_RANGE
    assert error_of(pos, "LPOS", "nokey", "a", "RANK", str(INT64_MIN)) == RANK_RANGE


def test_lpos_redis_py(r):
    r.rpush("l", "a", "b", "a")
    assert r.lpos("l", "a") == 0
    assert r.lpos("l", "a", rank=-1) == 2
    assert r.lpos("l", "a", count=0) == [0, 2]
    assert r.lpos("l", "a", count=0, maxlen=2) == [0]
    assert r.lpos("l", "zz") is None


# ---- LMOVE, RPOPLPUSH ----------------------------------------------------------------------


@pytest.mark.parametrize("wherefrom,whereto,src,dst,moved", [
    ("LEFT", "LEFT", "bc", "a12", "a"), ("LEFT", "RIGHT", "bc", "12a", "a"),
    ("RIGHT", "LEFT", "ab", "c12", "c"), ("RIGHT", "RIGHT", "ab", "12c", "c"),
])
def test_lmove_directions(c, wherefrom, whereto, src, dst, moved):
    c.call("RPUSH", "s", "a", "b", "c")
    c.call("RPUSH", "d", "1", "2")
    assert c.call("LMOVE", "s", "d", wherefrom, whereto) == moved.encode()
    assert c.call("LRANGE", "s", "0", "-1") == [ch.encode() for ch in src]
    assert c.call("LRANGE", "d", "0", "-1") == [ch.encode() for ch in dst]


def test_lmove_creates_destination_and_deletes_empty_source(c):
    c.call("RPUSH", "s", "only")
    assert c.call("LMOVE", "s", "d", "left", "right") == b"only"
    assert c.call("EXISTS", "s") == 0
    assert c.call("LRANGE", "d", "0", "-1") == items("only")
    assert c.call("TYPE", "d") == "list"


def test_lmove_same_key_rotates(c):
    c.call("RPUSH", "l", "a", "b", "c")
    assert c.call("LMOVE", "l", "l", "LEFT", "RIGHT") == b"a"
    assert c.call("LRANGE", "l", "0", "-1") == items("b", "c", "a")
    assert c.call("LMOVE", "l", "l", "RIGHT", "LEFT") == b"a"
    assert c.call("LRANGE", "l", "0", "-1") == items("a", "b", "c")
    assert c.call("LMOVE", "l", "l", "LEFT", "LEFT") == b"a"
    assert c.call("LMOVE", "l", "l", "RIGHT", "RIGHT") == b"c"
    assert c.call("LRANGE", "l", "0", "-1") == items("a", "b", "c")
    c.call("RPUSH", "one", "x")
    assert c.call("LMOVE", "one", "one", "LEFT", "RIGHT") == b"x"
    assert c.call("LRANGE", "one", "0", "-1") == items("x")
    assert c.call("RPOPLPUSH", "l", "l") == b"c"
    assert c.call("LRANGE", "l", "0", "-1") == items("c", "a", "b")


def test_lmove_missing_source(c):
    c.call("RPUSH", "d", "x")
    assert c.call_raw("LMOVE", "nokey", "d", "LEFT", "LEFT") == b"$-1\r\n"
    assert c.call_raw("RPOPLPUSH", "nokey", "d") == b"$-1\r\n"
    assert c.call_raw("LMOVE", "nokey", "new", "LEFT", "LEFT") == b"$-1\r\n"
    assert c.call("EXISTS", "new") == 0
    assert c.call("HELLO", "3")
    assert c.call_raw("LMOVE", "nokey", "d", "RIGHT", "LEFT") == b"_\r\n"
    assert c.call_raw("RPOPLPUSH", "nokey", "d") == b"_\r\n"
    assert c.call("LRANGE", "d", "0", "-1") == items("x")


def test_lmove_direction_errors(c):
    c.call("RPUSH", "s", "a")
    assert error_of(c, "LMOVE", "s", "d", "UP", "LEFT") == SYNTAX
    assert error_of(c, "LMOVE", "s", "d", "LEFT", "DOWN") == SYNTAX
    assert error_of(c, "LMOVE", "nokey", "d", "LEFT", "X") == SYNTAX
    assert c.call("LRANGE", "s", "0", "-1") == items("a")
    assert c.call("EXISTS", "d") == 0


@pytest.mark.parametrize("setup", [("SET", "d", "v"), ("HSET", "d", "f", "v"), ("SADD", "d", "m"),
                                   ("ZADD", "d", "1", "m")], ids=lambda a: a[0])
def test_lmove_to_wrong_type_leaves_source_unchanged(c, setup):
    c.call("RPUSH", "s", "a", "b")
    c.call(*setup)
    for args in (("LMOVE", "s", "d", "LEFT", "RIGHT"), ("LMOVE", "s", "d", "RIGHT", "LEFT"),
                 ("RPOPLPUSH", "s", "d")):
        assert error_of(c, *args) == WRONGTYPE
    assert c.call("LRANGE", "s", "0", "-1") == items("a", "b")
    c.call("DEL", "s")
    c.call("RPUSH", "s", "only")
    assert error_of(c, "LMOVE", "s", "d", "LEFT", "LEFT") == WRONGTYPE
    assert c.call("LRANGE", "s", "0", "-1") == items("only")


def test_rpoplpush(c):
    c.call("RPUSH", "s", "a", "b", "c")
    assert c.call("RPOPLPUSH", "s", "d") == b"c"
    assert c.call("RPOPLPUSH", "s", "d") == b"b"
    assert c.call("LRANGE", "d", "0", "-1") == items("b", "c")
    assert c.call("RPOPLPUSH", "s", "d") == b"a"
    assert c.call("EXISTS", "s") == 0
    assert c.call("LLEN", "d") == 3


def test_lmove_redis_py(r):
    r.rpush("s", "a", "b")
    assert r.lmove("s", "d", "RIGHT", "LEFT") == "b"
    assert r.lmove("s", "d") == "a"  # defaults: LEFT RIGHT
    assert r.lrange("d", 0, -1) == ["b", "a"]
    assert r.rpoplpush("nokey", "d") is None


# ---- LMPOP ---------------------------------------------------------------------------------


def test_lmpop(c):
    c.call("RPUSH", "b", "1", "2", "3")
    c.call("RPUSH", "c", "x")
    assert c.call("LMPOP", "3", "a", "b", "c", "LEFT") == [b"b", [b"1"]]
    assert c.call("LMPOP", "3", "a", "b", "c", "RIGHT") == [b"b", [b"3"]]
    assert c.call("LMPOP", "2", "b", "c", "left", "COUNT", "5") == [b"b", [b"2"]]
    assert c.call("EXISTS", "b") == 0
    assert c.call("LMPOP", "3", "a", "b", "c", "RIGHT", "count", "1") == [b"c", [b"x"]]
    assert c.call_raw("LMPOP", "3", "a", "b", "c", "LEFT") == b"*-1\r\n"
    assert c.call("DBSIZE") == 0


def test_lmpop_count(c):
    c.call("RPUSH", "l", "a", "b", "c", "d")
    assert c.call("LMPOP", "1", "l", "RIGHT", "COUNT", "2") == [b"l", [b"d", b"c"]]
    assert c.call("LMPOP", "1", "l", "LEFT", "COUNT", "1") == [b"l", [b"a"]]
    assert c.call("LMPOP", "1", "l", "LEFT", "COUNT", str(INT64_MAX)) == [b"l", [b"b"]]
    assert c.call("EXISTS", "l") == 0


def test_lmpop_same_key_twice(c):
    c.call("RPUSH", "l", "a", "b")
    assert c.call("LMPOP", "2", "l", "l", "LEFT", "COUNT", "3") == [b"l", [b"a", b"b"]]


def test_lmpop_reply_shapes(c):
    c.call("RPUSH", "l", "a", "b", "c")
    assert c.call_raw("LMPOP", "1", "l", "LEFT", "COUNT", "2") == (
        b"*2\r\n$1\r\nl\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n")
    assert c.call("HELLO", "3")
    assert c.call_raw("LMPOP", "1", "l", "RIGHT") == b"*2\r\n$1\r\nl\r\n*1\r\n$1\r\nc\r\n"
    assert c.call_raw("LMPOP", "2", "x", "y", "RIGHT") == b"_\r\n"


@pytest.mark.parametrize("args,error", [
    (("0", "l", "LEFT"), NUMKEYS), (("-1", "l", "LEFT"), NUMKEYS), (("x", "l", "LEFT"), NUMKEYS),
    (("1", "l", "LEFT", "COUNT", "0"), COUNT_POSITIVE),
    (("1", "l", "LEFT", "COUNT", "-1"), COUNT_POSITIVE),
    (("1", "l", "LEFT", "COUNT", "x"), COUNT_POSITIVE),
    (("1", "l", "UP"), SYNTAX), (("2", "l", "LEFT"), SYNTAX), (("3", "l", "LEFT"), SYNTAX),
    (("1", "l", "LEFT", "COUNT"), SYNTAX), (("1", "l", "LEFT", "COUNT", "1", "COUNT", "2"), SYNTAX),
    (("1", "l", "LEFT", "FOO"), SYNTAX), ((str(INT64_MAX), "l", "LEFT"), SYNTAX),
], ids=lambda v: " ".join(v) if isinstance(v, tuple) else None)
def test_lmpop_errors(c, args, error):
    c.call("RPUSH", "l", "a")
    assert error_of(c, "LMPOP", *args) == error
    assert c.call("LRANGE", "l", "0", "-1") == items("a")


def test_lmpop_wrong_type_key(c):
    c.call("SET", "s", "v")
    c.call("RPUSH", "l", "a")
    assert error_of(c, "LMPOP", "2", "s", "l", "LEFT") == WRONGTYPE
    assert c.call("LMPOP", "2", "l", "s", "LEFT") == [b"l", [b"a"]]  # stops at the first list
    assert c.call("LMPOP", "2", "nokey", "l", "LEFT") is None


# ---- types ---------------------------------------------------------------------------------

LIST_COMMANDS = [
    ("LPUSH", "k", "a"), ("RPUSH", "k", "a"), ("LPUSHX", "k", "a"), ("RPUSHX", "k", "a"),
    ("LPOP", "k"), ("RPOP", "k"), ("LPOP", "k", "2"), ("RPOP", "k", "0"), ("LLEN", "k"),
    ("LRANGE", "k", "0", "-1"), ("LINDEX", "k", "0"), ("LSET", "k", "0", "v"),
    ("LINSERT", "k", "BEFORE", "a", "b"), ("LREM", "k", "0", "a"), ("LTRIM", "k", "0", "1"),
    ("LPOS", "k", "a"), ("LPOS", "k", "a", "COUNT", "0"), ("LMOVE", "k", "d", "LEFT", "RIGHT"),
    ("RPOPLPUSH", "k", "d"), ("LMPOP", "1", "k", "LEFT"),
]


def _make(c, other):
    if other == "string":
        c.call("SET", "k", "v")
    elif other == "hash":
        c.call("HSET", "k", "f", "v")
    elif other == "set":
        c.call("SADD", "k", "a")
    else:
        c.call("ZADD", "k", "1", "a")


@pytest.mark.parametrize("other", ["string", "hash", "set", "zset"])
@pytest.mark.parametrize("args", LIST_COMMANDS, ids=lambda a: " ".join(a[:1] + a[2:]))
def test_list_commands_on_other_types(c, args, other):
    _make(c, other)
    assert error_of(c, *args) == WRONGTYPE
    assert c.call("TYPE", "k") == other
    assert c.call("EXISTS", "d") == 0


ARGUMENTS_BEFORE_TYPE = [
    (("LPOP", "s", "-1"), POSITIVE), (("RPOP", "s", "x"), POSITIVE),
    (("LRANGE", "s", "x", "1"), NOT_INT), (("LTRIM", "s", "0", "x"), NOT_INT),
    (("LREM", "s", "x", "a"), NOT_INT), (("LINSERT", "s", "MIDDLE", "a", "b"), SYNTAX),
    (("LPOS", "s", "a", "RANK", "0"), RANK_ZERO), (("LPOS", "s", "a", "FOO"), SYNTAX),
    (("LPOS", "s", "a", "COUNT", "-1"), COUNT_NEGATIVE),
    (("LPOS", "s", "a", "MAXLEN", "-1"), MAXLEN_NEGATIVE),
    (("LMPOP", "0", "s", "LEFT"), NUMKEYS), (("LMPOP", "1", "s", "UP"), SYNTAX),
    (("LMPOP", "1", "s", "LEFT", "COUNT", "0"), COUNT_POSITIVE),
    (("LMOVE", "s", "d", "UP", "LEFT"), SYNTAX),
    # These look the key up first.
    (("LINDEX", "s", "x"), WRONGTYPE), (("LSET", "s", "x", "v"), WRONGTYPE),
    (("RPOP", "s", "0"), WRONGTYPE), (("LMPOP", "2", "nokey", "s", "LEFT"), WRONGTYPE),
]


@pytest.mark.parametrize("args,error", ARGUMENTS_BEFORE_TYPE, ids=lambda v: (
    " ".join(v[:1] + v[2:]) if isinstance(v, tuple) else None))
def test_which_error_comes_first(c, args, error):
    c.call("SET", "s", "v")
    assert error_of(c, *args) == error
    assert c.call("GET", "s") == b"v" and c.call("EXISTS", "d") == 0


def test_missing_key_comes_before_bad_arguments(c):
    assert c.call_raw("LINDEX", "nokey", "x") == b"$-1\r\n"
    assert error_of(c, "LSET", "nokey", "x", "v") == NO_SUCH_KEY
    c.call("SET", "s", "v")
    # A missing source is checked before the destination's type.
    assert c.call_raw("LMOVE", "nokey", "s", "LEFT", "LEFT") == b"$-1\r\n"
    assert c.call_raw("RPOPLPUSH", "nokey", "s") == b"$-1\r\n"
    assert c.call("GET", "s") == b"v"


OTHER_COMMANDS_ON_LIST = [
    ("GET", "l"), ("SET", "l", "v", "GET"), ("GETSET", "l", "v"), ("GETDEL", "l"),
    ("APPEND", "l", "x"), ("STRLEN", "l"), ("INCR", "l"), ("INCRBYFLOAT", "l", "1"),
    ("GETRANGE", "l", "0", "1"), ("SETRANGE", "l", "0", "x"),
    ("HSET", "l", "f", "v"), ("HGET", "l", "f"), ("HGETALL", "l"), ("HLEN", "l"),
    ("SADD", "l", "a"), ("SMEMBERS", "l"), ("SCARD", "l"), ("SISMEMBER", "l", "a"),
    ("SINTER", "l"), ("SUNIONSTORE", "d", "l"),
    ("ZADD", "l", "1", "a"), ("ZRANGE", "l", "0", "-1"), ("ZCARD", "l"), ("ZSCORE", "l", "a"),
    ("ZUNION", "1", "l"),
]


@pytest.mark.parametrize("args", OTHER_COMMANDS_ON_LIST, ids=lambda a: " ".join(a[:1] + a[3:]))
def test_other_commands_on_a_list(c, args):
    c.call("RPUSH", "l", "a", "1")
    assert error_of(c, *args) == WRONGTYPE
    assert c.call("LRANGE", "l", "0", "-1") == items("a", "1")
    assert c.call("EXISTS", "d") == 0


def test_type_and_scan_type(r):
    r.rpush("l1", "a")
    r.lpush("l2", "b")
    r.set("str", "v")
    r.sadd("s", "a")
    r.hset("h", "f", "v")
    r.zadd("z", {"a": 1})
    assert r.type("l1") == "list"
    keys, cursor = set(), 0
    while True:
        cursor, page = r.scan(cursor, _type="list")
        keys.update(page)
        if cursor == 0:
            break
    assert keys == {"l1", "l2"}


def test_set_overwrites_a_list(r):
    r.rpush("l", "a")
    assert r.mget("l", "x") == [None, None]
    assert r.set("l", "v") is True
    assert r.get("l") == "v"
    assert r.type("l") == "string"


# ---- encodings -----------------------------------------------------------------------------


@pytest.mark.sluice_only
def test_small_lists_are_listpacks(r):
    # Redis 7.2 behaviour; 7.0 reports "quicklist" for every list.
    r.rpush("l", "a", "b", "c")
    assert r.object("encoding", "l") == "listpack"


@pytest.mark.sluice_only
def test_conversion_by_count_from_listpack(r, list_limits):
    list_limits(4)
    r.rpush("l", "1", "2", "3", "4")
    assert r.object("encoding", "l") == "listpack"
    r.rpush("l", "5")
    assert r.object("encoding", "l") == "quicklist"
    assert r.lrange("l", 0, -1) == ["1", "2", "3", "4", "5"]


def test_conversion_by_count(r, list_limits):
    list_limits(4)
    assert r.config_get("list-max-listpack-size") == {"list-max-listpack-size": "4"}
    r.rpush("l", "1", "2", "3", "4", "5")
    assert r.object("encoding", "l") == "quicklist"
    r.rpush("m", "1", "2")
    r.linsert("m", "BEFORE", "1", "0")
    r.lpush("m", "a", "b", "c")
    assert r.object("encoding", "m") == "quicklist"
    assert r.lrange("m", 0, -1) == ["c", "b", "a", "0", "1", "2"]
    assert r.lrange("l", 0, -1) == ["1", "2", "3", "4", "5"]
    assert r.lindex("l", -1) == "5" and r.llen("l") == 5


@pytest.mark.sluice_only
def test_byte_limit_with_long_elements_from_listpack(r, list_limits):
    list_limits(-2)  # 8 KB
    r.rpush("l", *(["x" * 1000] * 7))
    assert r.object("encoding", "l") == "listpack"
    r.rpush("l", *(["y" * 1000] * 3))
    assert r.object("encoding", "l") == "quicklist"


def test_byte_limit_with_long_elements(r, list_limits):
    list_limits(-2)
    r.rpush("l", *(["y" * 1000] * 10))
    assert r.object("encoding", "l") == "quicklist"
    r.rpush("one", "z" * 10000)  # a single element over the limit
    assert r.object("encoding", "one") == "quicklist"
    assert r.lrange("l", 0, -1) == ["y" * 1000] * 10
    assert r.lindex("one", 0) == "z" * 10000


def test_conversion_keeps_every_element(r, list_limits):
    list_limits(8)
    vals = [str(i) if i % 3 else "e%d" % i * (i % 7) for i in range(300)]
    r.rpush("l", *vals)
    assert r.object("encoding", "l") == "quicklist"
    assert r.lrange("l", 0, -1) == vals
    assert [r.lindex("l", i) for i in (0, 7, 8, 150, 299, -1)] == [vals[i] for i in
                                                                    (0, 7, 8, 150, 299, -1)]
    assert r.lpos("l", vals[100]) == vals.index(vals[100])
    assert r.lrem("l", 0, "1") == 1
    vals.remove("1")
    r.ltrim("l", 5, 250)
    assert r.lrange("l", 0, -1) == vals[5:251]


@pytest.mark.sluice_only
def test_lset_and_linsert_of_long_elements_convert(r, list_limits):
    # Redis 7.2: a listpack that would pass the byte limit becomes a quicklist.
    list_limits(-1)  # 4 KB
    r.rpush("a", "x", "y")
    r.rpush("b", "x", "y")
    assert r.object("encoding", "a") == "listpack"
    r.lset("a", 0, "L" * 5000)
    r.linsert("b", "AFTER", "x", "L" * 5000)
    assert r.object("encoding", "a") == "quicklist"
    assert r.object("encoding", "b") == "quicklist"
    assert r.lrange("a", 0, -1) == ["L" * 5000, "y"]
    assert r.lrange("b", 0, -1) == ["x", "L" * 5000, "y"]


def test_operations_across_many_compressed_nodes(r, list_limits):
    """Small nodes and compression: edits in the middle of a long list."""
    list_limits(4)
    r.config_set("list-compress-depth", 1)
    vals = ["%05d-" % i + "p" * 60 for i in range(200)]
    r.rpush("l", *vals)
    rng = random.Random(99)
    for _ in range(150):
        op = rng.random()
        i = rng.randrange(len(vals))
        if op < 0.25:
            assert r.lindex("l", i) == vals[i]
        elif op < 0.45:
            v = "set%d" % rng.randrange(1000) + "q" * 50
            assert r.lset("l", i, v) is True
            vals[i] = v
        elif op < 0.65:
            v = "ins%d" % rng.randrange(1000)
            assert r.linsert("l", "BEFORE", vals[i], v) == len(vals) + 1
            vals.insert(vals.index(vals[i]), v)
        elif op < 0.85:
            target = vals[i]
            assert r.lrem("l", 0, target) == vals.count(target)
            vals = [x for x in vals if x != target]
        else:
            a = rng.randrange(len(vals))
            assert r.lrange("l", a, a + 7) == vals[a:a + 8]
    assert r.lrange("l", 0, -1) == vals
    assert r.llen("l") == len(vals)
    assert r.lpos("l", vals[-1]) == vals.index(vals[-1])


def test_config_names_and_aliases(r, list_limits):
    list_limits(16)
    assert r.config_get("list-max-ziplist-size") == {"list-max-ziplist-size": "16"}
    r.config_set("list-max-ziplist-size", -3)
    assert r.config_get("list-max-listpack-size") == {"list-max-listpack-size": "-3"}
    assert r.config_set("list-compress-depth", 2) is True
    assert r.config_get("list-compress-depth") == {"list-compress-depth": "2"}
    r.rpush("l", *[str(i) for i in range(2000)])
    assert r.lrange("l", 998, 1001) == ["998", "999", "1000", "1001"]
    assert r.config_set("list-compress-depth", 0) is True
    with pytest.raises(Exception):
        r.config_set("list-max-listpack-size", "abc")
    with pytest.raises(Exception):
        r.config_set("list-compress-depth", "abc")


# ---- generic key commands ------------------------------------------------------------------


def test_empty_lists_are_removed(r):
    for cmd in (lambda: r.lpop("l"), lambda: r.rpop("l", 5), lambda: r.lrem("l", 0, "a"),
                lambda: r.ltrim("l", 1, 0), lambda: r.lmove("l", "other"),
                lambda: r.rpoplpush("l", "other"),
                lambda: r.execute_command("LMPOP", "1", "l", "RIGHT", "COUNT", "2")):
        r.delete("other")
        r.rpush("l", "a")
        cmd()
        assert r.exists("l") == 0
        assert r.llen("l") == 0
    r.rpush("l", "a", "a")
    r.lpop("l", 2)
    assert r.exists("l") == 0 and r.lpushx("l", "x") == 0


def test_del_unlink_exists_expire(r):
    r.rpush("a", "x")
    r.rpush("b", *[str(i) for i in range(1000)])
    assert r.exists("a", "b", "c") == 2
    assert r.delete("a") == 1
    assert r.unlink("b") == 1
    assert r.exists("a", "b") == 0
    r.rpush("e", "x")
    assert r.expire("e", 100) is True
    assert r.ttl("e") in (99, 100)
    r.rpush("e", "y")  # a write keeps the TTL
    assert r.ttl("e") in (99, 100)
    assert r.persist("e") is True and r.ttl("e") == -1
    assert r.pexpire("e", 50) is True
    wait_until(lambda: r.exists("e") == 0, timeout=5, message="list expired")
    assert r.lpushx("e", "y") == 0
    assert r.rpush("e", "new") == 1
    assert r.ttl("e") == -1


def test_rename_copy_move(r):
    r.rpush("l", "a", "b")
    r.set("str", "v")
    assert r.rename("l", "m") is True
    assert r.exists("l") == 0 and r.lrange("m", 0, -1) == ["a", "b"]
    assert r.copy("m", "str") is False
    assert r.copy("m", "str", replace=True) is True
    assert r.type("str") == "list"
    r.rpush("str", "c")  # the copy is independent
    assert r.lrange("m", 0, -1) == ["a", "b"] and r.lrange("str", 0, -1) == ["a", "b", "c"]
    assert r.move("m", 1) is True
    assert r.exists("m") == 0
    r.execute_command("SELECT", 1)
    assert r.lrange("m", 0, -1) == ["a", "b"]
    r.execute_command("SELECT", 0)
    r.rpush("m", "other")
    assert r.move("m", 1) is False  # exists there: nothing moves
    assert r.lrange("m", 0, -1) == ["other"]
    r.execute_command("SELECT", 1)
    r.flushdb()
    r.execute_command("SELECT", 0)


def test_copy_large_list(r, list_limits):
    list_limits(8)
    vals = [str(i) for i in range(100)]
    r.rpush("l", *vals)
    assert r.copy("l", "c") is True
    r.lpop("l", 50)
    assert r.lrange("c", 0, -1) == vals
    assert r.object("encoding", "c") == "quicklist"


# ---- events, transactions, scripts ---------------------------------------------------------


def _events(sub, n):
    return [(m[2].decode().split(":", 1)[1], m[3].decode()) for m in sub.read_many(n, timeout=10)]


def test_keyspace_events_of_writes(raw, r, notify):
    sub = subscribed(raw, notify, "KEA", "__keyspace@0__:*", pattern=True)
    r.rpush("l", "a", "b", "c", "d", "e")
    r.lpush("l", "z")
    r.lpushx("nokey", "x")  # no event
    r.rpushx("l", "y")
    r.lpushx("l", "w")
    r.lpop("l")
    r.rpop("l", 2)
    r.linsert("l", "BEFORE", "b", "x")
    r.linsert("l", "BEFORE", "nope", "x")  # no event
    r.lset("l", 0, "A")
    r.lrem("l", 0, "nope")  # no event
    r.lrem("l", 1, "x")
    r.ltrim("l", 0, 1)
    r.lpop("l", 0)  # no event
    r.rpop("l")
    r.lpop("l")
    assert _events(sub, 13) == [
        ("l", "rpush"), ("l", "lpush"), ("l", "rpush"), ("l", "lpush"), ("l", "lpop"),
        ("l", "rpop"), ("l", "linsert"), ("l", "lset"), ("l", "lrem"), ("l", "ltrim"),
        ("l", "rpop"), ("l", "lpop"), ("l", "del")]


def test_keyspace_events_of_moves(raw, r, notify):
    sub = subscribed(raw, notify, "KEA", "__keyspace@0__:*", pattern=True)
    r.rpush("s", "a", "b", "c")
    r.lmove("s", "d", "LEFT", "RIGHT")
    r.lmove("s", "d", "RIGHT", "LEFT")
    r.rpoplpush("s", "d")
    r.lmove("nokey", "d")  # no event
    r.lmove("d", "d", "LEFT", "RIGHT")  # rotation: both events on the one key
    r.rpush("x", "1")
    r.lmove("x", "x", "RIGHT", "LEFT")  # a single element stays: no del
    # Each move reports the push on the destination, then the pop on the
    # source, then the source's del when it became empty.
    assert _events(sub, 13) == [
        ("s", "rpush"), ("d", "rpush"), ("s", "lpop"), ("d", "lpush"), ("s", "rpop"),
        ("d", "lpush"), ("s", "rpop"), ("s", "del"), ("d", "rpush"), ("d", "lpop"),
        ("x", "rpush"), ("x", "lpush"), ("x", "rpop")]
    assert r.lrange("d", 0, -1) == ["c", "a", "b"]
    assert r.exists("s") == 0 and r.lrange("x", 0, -1) == ["1"]


def test_keyspace_events_of_ltrim_and_lmpop(raw, r, notify):
    sub = subscribed(raw, notify, "KEA", "__keyspace@0__:*", pattern=True)
    r.rpush("l", "a", "b", "c")
    r.execute_command("LMPOP", "2", "nokey", "l", "RIGHT")
    r.execute_command("LMPOP", "1", "l", "LEFT", "COUNT", "1")
    r.ltrim("l", 5, 10)
    r.rpush("m", "x", "y")
    r.lrem("m", 0, "x")
    r.lrem("m", 0, "y")
    assert _events(sub, 9) == [
        ("l", "rpush"), ("l", "rpop"), ("l", "lpop"), ("l", "ltrim"), ("l", "del"),
        ("m", "rpush"), ("m", "lrem"), ("m", "lrem"), ("m", "del")]


def test_keyevent_list_class(raw, r, notify):
    sub = subscribed(raw, notify, "El", "__keyevent@0__:*", pattern=True)
    r.set("str", "v")  # not in class l
    r.rpush("l", "a")
    r.lpop("l")  # the del is a generic event, not in class l
    r.lpush("l", "b")
    got = [(m[2].decode().split(":", 1)[1], m[3].decode()) for m in sub.read_many(3, timeout=10)]
    assert got == [("rpush", "l"), ("lpop", "l"), ("lpush", "l")]


def test_new_event_on_creation(raw, r, notify):
    sub = subscribed(raw, notify, "En", "__keyevent@0__:new", pattern=True)
    r.rpush("l", "a")
    r.rpush("l", "b")
    r.lmove("l", "d")
    r.lpush("e", "x")
    assert [m[3].decode() for m in sub.read_many(3, timeout=10)] == ["l", "d", "e"]


def test_transaction_with_lists(r):
    p = r.pipeline(transaction=True)
    p.rpush("l", "a", "b", "c")
    p.lpop("l")
    p.lrange("l", 0, -1)
    p.lmove("l", "d", "RIGHT", "LEFT")
    p.llen("l")
    p.lindex("d", 0)
    assert p.execute() == [3, "a", ["b", "c"], "c", 1, "c"]


def test_transaction_errors_with_lists(c):
    c.call("SET", "s", "v")
    assert c.call("MULTI") == "OK"
    assert c.call("RPUSH", "l", "a") == "QUEUED"
    assert c.call("LSET", "l", "9", "x") == "QUEUED"  # fails at EXEC only
    assert c.call("LPUSH", "s", "x") == "QUEUED"
    assert c.call("RPUSH", "l", "b") == "QUEUED"
    got = c.call("EXEC")
    assert got == [1, RespError(INDEX_RANGE), RespError(WRONGTYPE), 2]
    assert c.call("MULTI") == "OK"
    assert isinstance(c.call("LPUSH", "l"), RespError)  # arity: rejected when queued
    assert str(c.call("EXEC")).startswith("EXECABORT")
    assert c.call("LRANGE", "l", "0", "-1") == items("a", "b")


def test_watch_sees_list_changes(server, r):
    r.rpush("l", "a")
    other = server.client()
    try:
        p = r.pipeline(transaction=True)
        p.watch("l")
        other.lrem("l", 0, "nope")  # no change
        other.lpushx("nokey", "x")
        p.multi()
        p.llen("l")
        assert p.execute() == [1]
        for change in (lambda: other.rpush("l", "b"), lambda: other.lset("l", 0, "z"),
                       lambda: other.lpop("l"), lambda: other.lmove("l", "l")):
            p.watch("l")
            change()
            p.multi()
            p.llen("l")
            with pytest.raises(Exception) as e:
                p.execute()
            assert "Watched variable changed" in str(e.value)
            p.reset()
        p.watch("d")
        other.rpush("l", "q")
        other.lmove("l", "d")  # the destination counts as changed
        p.multi()
        p.llen("d")
        with pytest.raises(Exception):
            p.execute()
        p.reset()
    finally:
        other.close()


def test_lua_script_with_lists(r):
    script = """
        redis.call('RPUSH', KEYS[1], 'a', 'b', 'c', 123)
        redis.call('LPUSH', KEYS[1], 'z')
        local first = redis.call('LPOP', KEYS[1])
        local n = redis.call('LLEN', KEYS[1])
        return {first, n, redis.call('LRANGE', KEYS[1], 0, -1)}
    """
    assert r.eval(script, 1, "l") == ["z", 4, ["a", "b", "c", "123"]]
    assert r.eval("return tostring(redis.call('LPOP', KEYS[1] .. 'x'))", 1, "l") == "false"
    assert r.eval("return tostring(redis.call('LINDEX', KEYS[1], 99))", 1, "l") == "false"
    assert r.eval("return redis.call('LPOS', KEYS[1], 'c')", 1, "l") == 2
    assert r.eval("return redis.call('LMPOP', 1, KEYS[1], 'RIGHT', 'COUNT', 2)", 1, "l") == [
        "l", ["123", "c"]]
    assert r.eval("return redis.pcall('LSET', KEYS[1], 50, 'x')['err']", 1, "l") == INDEX_RANGE
    with pytest.raises(Exception) as e:
        r.eval("return redis.call('GET', KEYS[1])", 1, "l")
    assert "WRONGTYPE" in str(e.value)
    assert r.lrange("l", 0, -1) == ["a", "b"]


def test_lua_null_pops_resp3(c):
    assert c.call("HELLO", "3")
    assert c.call_raw("EVAL", "redis.setresp(3) return redis.call('LPOP', KEYS[1], 2)", "1",
                      "nokey") == b"_\r\n"
    assert c.call_raw("EVAL", "return redis.call('LPOP', KEYS[1])", "1", "nokey") == b"_\r\n"


# ---- randomized comparison with a model ----------------------------------------------------


def test_random_operations_match_a_model(r, list_limits):
    """A few thousand random operations on three keys, with a small listpack
    size so the lists cross the conversion threshold often, checked against
    Python lists after every batch."""
    list_limits(8)
    rng = random.Random(20240603)
    keys = ["k0", "k1", "k2"]
    model = {k: [] for k in keys}
    values = ["v%d" % i for i in range(12)] + ["12", "-3", "x" * 40]
    crossed = False

    def norm(k, i):
        n = len(model[k])
        return i + n if i < 0 else i

    for step in range(40):
        p = r.pipeline(transaction=False)
        ops = []
        for _ in range(100):
            k = rng.choice(keys)
            lst = model[k]
            x = rng.random()
            v = rng.choice(values)
            if x < 0.2:
                vs = [rng.choice(values) for _ in range(rng.randint(1, 4))]
                if rng.random() < 0.5:
                    p.rpush(k, *vs)
                    lst.extend(vs)
                else:
                    p.lpush(k, *vs)
                    for e in vs:
                        lst.insert(0, e)
                ops.append(len(lst))
            elif x < 0.3:
                n = rng.randint(1, 4)
                if rng.random() < 0.5:
                    p.lpop(k, n)
                    got = lst[:n]
                    del lst[:n]
                else:
                    p.rpop(k, n)
                    got = lst[::-1][:n]
                    del lst[len(lst) - len(got):]
                ops.append(got or None)
            elif x < 0.36:
                if rng.random() < 0.5:
                    p.lpop(k)
                    ops.append(lst.pop(0) if lst else None)
                else:
                    p.rpop(k)
                    ops.append(lst.pop() if lst else None)
            elif x < 0.45:
                cnt = rng.randint(-2, 2)
                p.lrem(k, cnt, v)
                removed = 0
                if cnt >= 0:
                    i = 0
                    while i < len(lst) and (cnt == 0 or removed < cnt):
                        if lst[i] == v:
                            del lst[i]
                            removed += 1
                        else:
                            i += 1
                else:
                    i = len(lst) - 1
                    while i >= 0 and removed < -cnt:
                        if lst[i] == v:
                            del lst[i]
                            removed += 1
                        i -= 1
                ops.append(removed)
            elif x < 0.53:
                if lst:
                    i = rng.randint(-len(lst), len(lst) - 1)
                    p.lset(k, i, v)
                    lst[i] = v
                    ops.append(True)
                else:
                    p.lindex(k, 0)
                    ops.append(None)
            elif x < 0.61:
                where = rng.choice(["BEFORE", "AFTER"])
                pivot = rng.choice(values)
                p.linsert(k, where, pivot, v)
                if not lst:
                    ops.append(0)
                elif pivot not in lst:
                    ops.append(-1)
                else:
                    i = lst.index(pivot)
                    lst.insert(i if where == "BEFORE" else i + 1, v)
                    ops.append(len(lst))
            elif x < 0.66:
                a, b = rng.randint(-15, 15), rng.randint(-15, 15)
                p.ltrim(k, a, b)
                n = len(lst)
                s, e = (a + n if a < 0 else a), (b + n if b < 0 else b)
                s = max(s, 0)
                lst[:] = lst[s:e + 1] if s <= e else []
                ops.append(True)
            elif x < 0.78:
                d = rng.choice(keys)
                wf, wt = rng.choice(["LEFT", "RIGHT"]), rng.choice(["LEFT", "RIGHT"])
                p.lmove(k, d, wf, wt)
                if not lst:
                    ops.append(None)
                else:
                    e = lst.pop(0) if wf == "LEFT" else lst.pop()
                    if wt == "LEFT":
                        model[d].insert(0, e)
                    else:
                        model[d].append(e)
                    ops.append(e)
            elif x < 0.84:
                ks = rng.sample(keys, rng.randint(1, 3))
                n = rng.randint(1, 5)
                left = rng.random() < 0.5
                p.execute_command("LMPOP", len(ks), *ks, "LEFT" if left else "RIGHT",
                                  "COUNT", n)
                src = next((q for q in ks if model[q]), None)
                if src is None:
                    ops.append(None)
                else:
                    m = model[src]
                    if left:
                        got = m[:n]
                        del m[:n]
                    else:
                        got = m[::-1][:n]
                        del m[len(m) - len(got):]
                    ops.append([src, got])
            elif x < 0.9:
                i = rng.randint(-12, 12)
                p.lindex(k, i)
                j = norm(k, i)
                ops.append(lst[j] if 0 <= j < len(lst) else None)
            elif x < 0.95:
                rank = rng.choice([1, 2, -1, -2])
                p.lpos(k, v, rank=rank, count=0)
                idx = [i for i, e in enumerate(lst) if e == v]
                ops.append(idx[rank - 1:] if rank > 0 else idx[::-1][-rank - 1:])
            else:
                a, b = rng.randint(-12, 12), rng.randint(-12, 12)
                p.lrange(k, a, b)
                n = len(lst)
                s, e = (a + n if a < 0 else a), (b + n if b < 0 else b)
                s = max(s, 0)
                ops.append(lst[s:e + 1] if s <= e else [])
        replies = p.execute()
        for i, (want, got) in enumerate(zip(ops, replies)):
            assert got == want, (step, i, want, got)
        for k in keys:
            assert r.lrange(k, 0, -1) == model[k], (step, k)
            assert r.llen(k) == len(model[k])
            assert r.exists(k) == (1 if model[k] else 0)
            if len(model[k]) > 8:
                crossed = True
                assert r.object("encoding", k) == "quicklist"
    assert crossed, "no list grew past the listpack limit"


@pytest.mark.parametrize("depth", [1, 2])
def test_compression_shrinks_long_lists_and_reads_back(r, list_limits, depth):
    """Interior nodes compressed at list-compress-depth > 0 (both servers compress): the
    same 100k elements take far less memory, and every command reads them back."""
    vals = ["item:%06d" % i for i in range(100_000)]
    used = {}
    for d in (0, depth):
        r.config_set("list-compress-depth", d)
        r.delete("l")
        for i in range(0, len(vals), 1000):
            r.rpush("l", *vals[i:i + 1000])
        used[d] = r.memory_usage("l", samples=0)
    assert used[depth] < used[0] * 0.75, used
    assert r.lrange("l", 0, -1) == vals
    assert r.lindex("l", 50_000) == vals[50_000]
    assert r.lrange("l", 40_000, 40_009) == vals[40_000:40_010]
    assert r.lpos("l", vals[77_777]) == 77_777
    assert r.lset("l", 60_000, "changed") is True
    vals[60_000] = "changed"
    assert r.linsert("l", "AFTER", vals[30_000], "inserted") == len(vals) + 1
    vals.insert(30_001, "inserted")
    assert r.lrem("l", 1, vals[90_000]) == 1
    del vals[90_000]
    assert r.copy("l", "copy") is True
    assert r.lrange("copy", 0, -1) == vals
    r.ltrim("l", 10_000, -10_000)
    vals = vals[10_000:-9_999]
    assert r.lrange("l", 0, -1) == vals
    popped = [r.lpop("l") for _ in range(5000)] + [r.rpop("l") for _ in range(5000)]
    assert popped[:5000] == vals[:5000] and popped[5000:] == vals[::-1][:5000]
    assert r.llen("l") == len(vals) - 10_000


@pytest.mark.sluice_only
def test_tokens_without_repeats_still_compress(r, list_limits):
    """Random tokens give LZF no repeats to find; sluice's nodes fall back to zstd and still
    shrink (Redis keeps such nodes raw). Reads, edits, DUMP/RESTORE and a save round-trip
    see the same elements."""
    rng = random.Random(5)
    alphabet = string.ascii_letters + string.digits
    vals = ["".join(rng.choice(alphabet) for _ in range(10)) for _ in range(60_000)]
    used = {}
    for d in (0, 1):
        r.config_set("list-compress-depth", d)
        r.delete("l")
        for i in range(0, len(vals), 1000):
            r.rpush("l", *vals[i:i + 1000])
        used[d] = r.memory_usage("l", samples=0)
    assert used[1] < used[0] * 0.85, used
    assert r.lrange("l", 0, -1) == vals
    assert r.lindex("l", 33_333) == vals[33_333]
    assert r.lset("l", 20_000, "changed") is True
    vals[20_000] = "changed"
    assert r.lrange("l", 19_990, 20_010) == vals[19_990:20_011]
    r.restore("copy", 0, r.dump("l"))
    assert r.lrange("copy", 0, -1) == vals
    assert r.lrange("l", 0, -1) == vals
