"""SORT and SORT_RO over lists, sets and sorted sets: numeric and ALPHA order,
DESC, LIMIT (negative and overflowing values), BY patterns (string keys, hash
fields, nosort), GET patterns (#, missing keys, patterns without '*'), STORE
(a list; an empty result deletes the destination), WRONGTYPE and syntax
errors, RESP3 replies, keyspace events, transactions, scripts and the lock
planning behind COMMAND GETKEYS.

Everything here but the sluice_only tests also passes against redis-server
7.0 (run under the C locale, where ALPHA's strcoll() compares bytes up to the
first NUL)."""

import random
import threading
import time

import pytest
import redis

from helpers import (INT64_MAX, INT64_MIN, NOT_INT, SYNTAX, WRONGTYPE, arity_error, error_of,
                     subscribed)

BAD_SCORE = "ERR One or more scores can't be converted into double"


def items(r, key, *args):
    return r.execute_command("SORT", key, *args)


# ---- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize("cmd", ["SORT", "SORT_RO"])
def test_wrong_arity(c, cmd):
    assert error_of(c, cmd) == arity_error(cmd.lower())
    assert c.call("PING") == "PONG"


SYNTAX_CASES = [
    ["foo"], ["limit"], ["limit", "1"], ["by"], ["get"], ["store"], ["asc", "bogus"],
    ["limit", "0", "1", "extra"], ["alpha", "limit", "0"], ["descending"], ["alpha", ""],
    ["get", "#", "get"], ["by", "w_*", "alpha", "store"], ["foo", "limit", "a", "1"],
]


@pytest.mark.parametrize("args", SYNTAX_CASES, ids=lambda a: " ".join(a) or "empty")
def test_syntax_errors(c, args):
    c.call("RPUSH", "l", "2", "1")
    assert error_of(c, "SORT", "l", *args) == SYNTAX
    assert error_of(c, "SORT_RO", "l", *args) == SYNTAX
    assert c.call("LRANGE", "l", "0", "-1") == [b"2", b"1"]


NOT_INT_CASES = [
    ["a", "1"], ["0", "a"], ["1.5", "1"], ["0", "9223372036854775808"],
    ["-9223372036854775809", "1"], [" 1", "1"], ["", "1"], ["0x1", "1"],
]


@pytest.mark.parametrize("limit", NOT_INT_CASES, ids=lambda a: ",".join(a))
def test_limit_not_an_integer(c, limit):
    c.call("RPUSH", "l", "2", "1")
    assert error_of(c, "SORT", "l", "LIMIT", *limit) == NOT_INT
    assert error_of(c, "SORT_RO", "l", "LIMIT", *limit) == NOT_INT


def test_first_bad_option_wins(c):
    c.call("RPUSH", "l", "1")
    assert error_of(c, "SORT", "l", "LIMIT", "a", "1", "foo") == NOT_INT
    assert error_of(c, "SORT", "l", "foo", "LIMIT", "a", "1") == SYNTAX


def test_sort_ro_refuses_store(c):
    c.call("RPUSH", "l", "2", "1")
    assert error_of(c, "SORT_RO", "l", "STORE", "d") == SYNTAX
    assert error_of(c, "SORT_RO", "l", "ALPHA", "STORE", "d") == SYNTAX
    assert c.call("EXISTS", "d") == 0
    assert c.call("SORT_RO", "l") == [b"1", b"2"]


@pytest.mark.parametrize("cmd", ["SORT", "SORT_RO"])
def test_wrongtype(c, cmd):
    c.call("SET", "s", "x")
    c.call("HSET", "h", "f", "v")
    for key in ("s", "h"):
        assert error_of(c, cmd, key) == WRONGTYPE
        assert error_of(c, cmd, key, "ALPHA", "BY", "w_*", "GET", "#") == WRONGTYPE
    # Options are parsed before the key is looked at.
    assert error_of(c, cmd, "s", "foo") == SYNTAX
    assert error_of(c, cmd, "s", "LIMIT", "x", "1") == NOT_INT


def test_wrongtype_store_leaves_destination(r):
    r.set("s", "x")
    r.set("d", "keep", ex=100)
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        r.sort("s", store="d")
    assert r.get("d") == "keep" and r.ttl("d") > 0


def test_missing_key(r):
    assert items(r, "nokey") == []
    assert r.execute_command("SORT_RO", "nokey", "BY", "w_*", "GET", "#", "ALPHA") == []
    assert items(r, "nokey", "LIMIT", "0", "10", "DESC") == []


# ---- numeric order ----------------------------------------------------------------------------


def test_numeric_list(r):
    r.rpush("l", 3, -1, 2.5, 10, 0, -20)
    assert items(r, "l") == ["-20", "-1", "0", "2.5", "3", "10"]
    assert items(r, "l", "DESC") == ["10", "3", "2.5", "0", "-1", "-20"]
    assert items(r, "l", "ASC") == items(r, "l")
    assert r.execute_command("SORT_RO", "l") == items(r, "l")
    assert r.lrange("l", 0, -1) == ["3", "-1", "2.5", "10", "0", "-20"]


def test_numeric_forms_strtod_accepts(r):
    r.rpush("l", " 1", "0x10", "", "1e3", "inf", "-inf", "2.5", "+7", ".5")
    assert items(r, "l") == ["-inf", "", ".5", " 1", "2.5", "+7", "0x10", "1e3", "inf"]


@pytest.mark.parametrize("bad", ["abc", "1e400", "-1e400", "1e-400", "nan", "2 ", "1x", "--1"])
def test_bad_scores(r, bad):
    r.rpush("l", "1", bad, "3")
    with pytest.raises(redis.ResponseError, match="One or more scores can't be converted"):
        items(r, "l")
    # Every element is converted, also those LIMIT leaves out.
    with pytest.raises(redis.ResponseError, match="converted into double"):
        items(r, "l", "LIMIT", "0", "1")
    # ALPHA and BY nosort do not convert.
    assert len(items(r, "l", "ALPHA")) == 3
    assert items(r, "l", "BY", "nosort") == ["1", bad, "3"]


def test_bad_score_store_leaves_destination(r):
    r.rpush("l", "1", "x")
    r.rpush("d", "old")
    r.expire("d", 100)
    with pytest.raises(redis.ResponseError, match="converted into double"):
        r.sort("l", store="d")
    assert r.lrange("d", 0, -1) == ["old"] and r.ttl("d") > 0


def test_equal_scores_order_by_element(r):
    r.rpush("l", "b", "a", "c", "a")
    r.mset({"w_a": 5, "w_b": 5, "w_c": 5})
    assert items(r, "l", "BY", "w_*") == ["a", "a", "b", "c"]
    assert items(r, "l", "BY", "w_*", "DESC") == ["c", "b", "a", "a"]
    r.rpush("n", "1.0", "1", "01", "1e0")
    assert items(r, "n") == ["01", "1", "1.0", "1e0"]
    assert items(r, "n", "DESC") == ["1e0", "1.0", "1", "01"]


def test_duplicates_kept(r):
    r.rpush("l", 2, 1, 2, 1)
    assert items(r, "l") == ["1", "1", "2", "2"]


def test_large_random_list(r):
    rnd = random.Random(7)
    values = [rnd.randint(-10**6, 10**6) for _ in range(3000)]
    r.rpush("l", *values)
    assert items(r, "l") == [str(v) for v in sorted(values)]
    assert items(r, "l", "DESC", "LIMIT", "10", "20") == \
        [str(v) for v in sorted(values, reverse=True)[10:30]]


def test_zset_sorted_by_member_value(r):
    r.zadd("z", {"3": 1, "1": 2, "2": 3})
    assert items(r, "z") == ["1", "2", "3"]
    r.zadd("w", {"b": 1, "a": 2})
    with pytest.raises(redis.ResponseError, match="converted into double"):
        items(r, "w")
    assert items(r, "w", "ALPHA") == ["a", "b"]


def test_sets(r):
    r.sadd("ints", 5, -3, 100, 7)
    assert items(r, "ints") == ["-3", "5", "7", "100"]
    assert items(r, "ints", "ALPHA") == ["-3", "100", "5", "7"]
    r.sadd("s", *["m%03d" % i for i in range(300)])
    assert items(r, "s", "ALPHA", "DESC", "LIMIT", "0", "3") == ["m299", "m298", "m297"]


# ---- ALPHA ------------------------------------------------------------------------------------


def test_alpha_byte_order(r):
    r.rpush("l", "b", "B", "a", "10", "9", "\u00e9", "e", "", "a b")
    assert items(r, "l", "ALPHA") == ["", "10", "9", "B", "a", "a b", "b", "e", "\u00e9"]
    assert items(r, "l", "ALPHA", "DESC") == ["\u00e9", "e", "b", "a b", "a", "B", "9", "10", ""]


def test_alpha_last_direction_wins(r):
    r.rpush("l", "b", "a", "c")
    assert items(r, "l", "ALPHA", "ASC", "DESC") == ["c", "b", "a"]
    assert items(r, "l", "alpha", "desc", "asc") == ["a", "b", "c"]
    assert items(r, "l", "AlPhA", "DeSc") == ["c", "b", "a"]


def test_alpha_nul_bytes(rb):
    # Replies compare as C strings (strcoll in the C locale stops at NUL, ties
    # keep the list's order); STORE compares whole strings.
    rb.rpush("l", b"a\x00c", b"a\x00b", b"a", b"B", b"b")
    assert rb.sort("l", alpha=True) == [b"B", b"a\x00c", b"a\x00b", b"a", b"b"]
    assert rb.sort("l", alpha=True, desc=True) == [b"b", b"a\x00c", b"a\x00b", b"a", b"B"]
    assert rb.sort("l", alpha=True, store="d") == 5
    assert rb.lrange("d", 0, -1) == [b"B", b"a", b"a\x00b", b"a\x00c", b"b"]


# ---- LIMIT ------------------------------------------------------------------------------------


def expected_limit(values, offset, count):
    start = min(max(offset, 0), len(values))
    if start >= len(values) or count == 0:
        return []
    return values[start:] if count < 0 else values[start:start + count]


LIMITS = [(0, 2), (1, 2), (-5, 2), (1, -1), (0, 0), (5, 1), (4, 10), (3, 1), (INT64_MAX, INT64_MAX),
          (1, INT64_MAX), (INT64_MIN, INT64_MAX), (-1, -1), (2, INT64_MIN), (0, -5), (INT64_MIN, 1)]


@pytest.mark.parametrize("offset,count", LIMITS, ids=str)
def test_limit(r, offset, count):
    r.rpush("l", 5, 3, 1, 4, 2)
    want = expected_limit(["1", "2", "3", "4", "5"], offset, count)
    assert items(r, "l", "LIMIT", offset, count) == want
    assert items(r, "l", "BY", "nosort", "LIMIT", offset, count) == \
        expected_limit(["5", "3", "1", "4", "2"], offset, count)
    assert items(r, "l", "LIMIT", offset, count, "STORE", "d") == len(want)
    assert r.lrange("d", 0, -1) == want


def test_limit_last_wins(r):
    r.rpush("l", 3, 2, 1)
    assert items(r, "l", "LIMIT", "0", "1", "LIMIT", "1", "5") == ["2", "3"]


# ---- BY ---------------------------------------------------------------------------------------


def test_by_string_keys(r):
    r.rpush("l", "a", "b", "c", "d")
    r.mset({"w_a": 30, "w_b": 10, "w_c": 20})  # w_d is missing: 0
    assert items(r, "l", "BY", "w_*") == ["d", "b", "c", "a"]
    assert items(r, "l", "BY", "w_*", "DESC") == ["a", "c", "b", "d"]
    assert items(r, "l", "BY", "w_*", "LIMIT", "1", "2") == ["b", "c"]
    r.set("w_d", "not a number")
    with pytest.raises(redis.ResponseError, match="converted into double"):
        items(r, "l", "BY", "w_*")


def test_by_alpha(r):
    r.rpush("l", "1", "2", "3", "4")
    r.mset({"n_1": "pear", "n_2": "apple", "n_3": "fig"})  # n_4 missing sorts first
    assert items(r, "l", "BY", "n_*", "ALPHA") == ["4", "2", "3", "1"]
    assert items(r, "l", "BY", "n_*", "ALPHA", "DESC") == ["1", "3", "2", "4"]


def test_by_prefix_and_suffix(r):
    r.rpush("l", "x", "y")
    r.mset({"pre_x_post": 2, "pre_y_post": 1, "pre_x_*": 0, "pre_y_*": 5})
    assert items(r, "l", "BY", "pre_*_post") == ["y", "x"]
    # Only the first '*' is replaced.
    assert items(r, "l", "BY", "pre_*_*") == ["x", "y"]


def test_by_the_elements_themselves(r):
    r.rpush("l", "k1", "k2", "k3")
    r.mset({"k1": 3, "k2": 1, "k3": 2})
    assert items(r, "l", "BY", "*") == ["k2", "k3", "k1"]
    assert items(r, "l", "BY", "*", "GET", "*") == ["1", "2", "3"]


def test_by_hash_fields(r):
    r.rpush("l", "a", "b", "c", "d")
    r.hset("h_a", mapping={"age": 40, "name": "zed"})
    r.hset("h_b", mapping={"age": 20, "name": "amy"})
    r.hset("h_c", mapping={"name": "bob"})  # no age: 0
    r.rpush("h_d", "x")  # not a hash: 0
    assert items(r, "l", "BY", "h_*->age") == ["c", "d", "b", "a"]
    assert items(r, "l", "BY", "h_*->name", "ALPHA") == ["d", "b", "c", "a"]
    assert items(r, "l", "BY", "h_*->age", "GET", "h_*->name", "GET", "#") == \
        ["bob", "c", None, "d", "amy", "b", "zed", "a"]


def test_arrow_edges(r):
    r.rpush("l", "a", "b")
    r.mset({"s_a->": 2, "s_b->": 1, "h->a": 2, "h->b": 1})
    # An empty field is no field: the key is "s_a->".
    assert items(r, "l", "BY", "s_*->") == ["b", "a"]
    # "->" before the '*' is part of the key name.
    assert items(r, "l", "BY", "h->*") == ["b", "a"]


def test_by_nosort_list_order(r):
    r.rpush("l", "3", "b", "1", "a")
    assert items(r, "l", "BY", "nosort") == ["3", "b", "1", "a"]
    assert items(r, "l", "BY", "nosort", "DESC") == ["a", "1", "b", "3"]
    assert items(r, "l", "BY", "nosort", "LIMIT", "1", "2") == ["b", "1"]
    assert items(r, "l", "BY", "nosort", "LIMIT", "1", "2", "DESC") == ["1", "b"]
    assert items(r, "l", "BY", "nosort", "ALPHA") == ["3", "b", "1", "a"]
    assert items(r, "l", "BY", "#") == ["3", "b", "1", "a"]


def test_by_nosort_zset_order_and_range(r):
    r.zadd("z", {"d": 4, "c": 3, "b": 2, "a": 1, "e": 5})
    assert items(r, "z", "BY", "nosort") == ["a", "b", "c", "d", "e"]
    assert items(r, "z", "BY", "nosort", "DESC") == ["e", "d", "c", "b", "a"]
    assert items(r, "z", "BY", "nosort", "LIMIT", "1", "2") == ["b", "c"]
    assert items(r, "z", "BY", "nosort", "LIMIT", "1", "2", "DESC") == ["d", "c"]
    assert items(r, "z", "BY", "nosort", "LIMIT", "3", "-1", "DESC") == ["b", "a"]
    assert items(r, "z", "BY", "nosort", "LIMIT", "9", "1") == []
    big = {"m%d" % i: i for i in range(500)}
    r.zadd("big", big)
    assert items(r, "big", "BY", "nosort", "LIMIT", "490", "100") == \
        ["m%d" % i for i in range(490, 500)]
    assert items(r, "big", "BY", "nosort", "DESC", "LIMIT", "0", "3") == ["m499", "m498", "m497"]


def test_by_nosort_is_sticky(r):
    r.rpush("l", "b", "a", "c")
    r.mset({"w_a": 1, "w_b": 2, "w_c": 3})
    assert items(r, "l", "BY", "nosort", "BY", "w_*") == ["b", "a", "c"]
    assert items(r, "l", "BY", "w_*", "BY", "nosort") == ["b", "a", "c"]
    assert items(r, "l", "BY", "missing_*", "BY", "w_*", "DESC") == ["c", "b", "a"]


def test_by_nosort_set(r):
    members = ["c", "a", "b", "10", "2"]
    r.sadd("s", *members)
    assert sorted(items(r, "s", "BY", "nosort")) == sorted(members)
    assert len(items(r, "s", "BY", "nosort", "LIMIT", "1", "3")) == 3
    # With STORE the set is sorted ALPHA so the result does not depend on its layout.
    assert r.sort("s", by="nosort", store="d") == 5
    assert r.lrange("d", 0, -1) == ["10", "2", "a", "b", "c"]
    assert r.sort("s", by="nosort", store="d", desc=True) == 5
    assert r.lrange("d", 0, -1) == ["c", "b", "a", "2", "10"]


def test_zset_by_weights_and_store(r):
    r.zadd("z", {"a": 1, "b": 2, "c": 3})
    r.mset({"w_a": 30, "w_b": 10, "w_c": 20})
    assert items(r, "z", "BY", "w_*") == ["b", "c", "a"]
    # BY nosort keeps the sorted set's order, also when stored.
    assert r.sort("z", by="nosort", store="d", desc=True) == 3
    assert r.lrange("d", 0, -1) == ["c", "b", "a"]


def test_expired_source_is_missing(r):
    r.rpush("l", 1, 2)
    r.pexpire("l", 1)
    time.sleep(0.05)
    assert items(r, "l") == []
    r.set("d", "x")
    assert r.sort("l", store="d") == 0 and r.exists("d") == 0


# ---- GET --------------------------------------------------------------------------------------


def test_get_patterns(r):
    r.rpush("l", "2", "1", "3")
    r.mset({"o_1": "one", "o_2": "two", "fixed": "F", "i_1": 11})
    r.hset("h_2", "f", "hv")
    assert items(r, "l", "GET", "#") == ["1", "2", "3"]
    assert items(r, "l", "GET", "o_*") == ["one", "two", None]
    assert items(r, "l", "GET", "o_*", "GET", "#", "GET", "h_*->f", "GET", "i_*") == \
        ["one", "1", None, "11", "two", "2", "hv", None, None, "3", None, None]
    # A pattern without '*' names no key, even one that exists.
    assert items(r, "l", "GET", "fixed") == [None, None, None]
    # A key of the wrong type, or a hash without the field, is nil.
    assert items(r, "l", "GET", "h_*") == [None, None, None]
    assert items(r, "l", "GET", "h_*->nofield") == [None, None, None]
    assert items(r, "l", "GET", "o_*->f") == [None, None, None]
    assert items(r, "l", "GET", "#", "LIMIT", "1", "1") == ["2"]
    assert items(r, "l", "GET", "#", "DESC", "BY", "nosort") == ["3", "1", "2"]


def test_get_binary(rb):
    rb.rpush("l", b"\x00\xff", b"k")
    rb.set(b"v_\x00\xff", b"bin\x00")
    assert rb.sort("l", alpha=True, get=[b"v_*", b"#"]) == [b"bin\x00", b"\x00\xff", None, b"k"]


def test_get_from_a_set_of_ints(r):
    r.sadd("s", 3, 1, 2)
    r.mset({"n_1": "a", "n_3": "c"})
    assert items(r, "s", "GET", "n_*") == ["a", None, "c"]


def test_expired_keys_are_missing(r):
    r.rpush("l", "a", "b")
    r.set("w_a", 9, px=1)
    r.set("w_b", 5)
    r.set("g_a", "A", px=1)
    time.sleep(0.05)
    assert items(r, "l", "BY", "w_*", "GET", "g_*", "GET", "#") == [None, "a", None, "b"]


# ---- STORE ------------------------------------------------------------------------------------


def test_store_writes_a_list(r):
    r.rpush("l", 3, 1, 2)
    assert r.sort("l", store="d") == 3
    assert r.type("d") == "list" and r.lrange("d", 0, -1) == ["1", "2", "3"]
    r.set("d", "string", ex=100)
    assert r.sort("l", store="d", desc=True) == 3
    assert r.lrange("d", 0, -1) == ["3", "2", "1"] and r.ttl("d") == -1
    # Into the sorted key itself.
    assert r.sort("l", store="l") == 3
    assert r.lrange("l", 0, -1) == ["1", "2", "3"]


def test_store_empty_result_deletes(r):
    r.rpush("l", 1)
    for args in (["nokey"], ["l", "LIMIT", "5", "1"], ["l", "LIMIT", "0", "0"]):
        r.set("d", "x")
        assert items(r, *args, "STORE", "d") == 0
        assert r.exists("d") == 0
    assert items(r, "nokey", "STORE", "d") == 0


def test_store_with_gets(r):
    r.rpush("l", "2", "1")
    r.set("v_1", "one")
    assert items(r, "l", "GET", "v_*", "GET", "#", "STORE", "d") == 4
    assert r.lrange("d", 0, -1) == ["one", "1", "", "2"]


def test_store_large(r):
    r.rpush("l", *range(2000, 0, -1))
    assert r.sort("l", store="d") == 2000
    assert r.llen("d") == 2000 and r.lindex("d", 0) == "1" and r.lindex("d", -1) == "2000"
    assert r.lrange("d", 998, 1001) == ["999", "1000", "1001", "1002"]


def test_store_last_destination_wins(r):
    r.rpush("l", 2, 1)
    assert items(r, "l", "STORE", "d1", "STORE", "d2") == 2
    assert r.exists("d1") == 0 and r.lrange("d2", 0, -1) == ["1", "2"]


def test_store_keyspace_events(raw, r, notify):
    sub = subscribed(raw, notify, "KEA", "__keyspace@0__:*", pattern=True)
    r.rpush("l", 2, 1)
    r.sort("l", store="d")
    r.sort("l", store="d")
    r.sort("nokey", store="d")
    r.sort("nokey", store="d")  # nothing to delete: no event
    r.sort("l", store="e")
    got = [(m[2].decode().split(":", 1)[1], m[3].decode()) for m in sub.read_many(5)]
    assert got == [("l", "rpush"), ("d", "sortstore"), ("d", "sortstore"), ("d", "del"),
                   ("e", "sortstore")]


def test_store_event_classes(raw, r, notify):
    sub = subscribed(raw, notify, "Eln", "__keyevent@0__:*", pattern=True)
    r.rpush("l", 1)
    r.sort("l", store="d")
    r.sort("nokey", store="d")  # "del" is generic: not sent
    r.lpush("marker", 1)
    got = [(m[2].decode().split(":", 1)[1], m[3].decode()) for m in sub.read_many(6)]
    assert got == [("new", "l"), ("rpush", "l"), ("new", "d"), ("sortstore", "d"),
                   ("new", "marker"), ("lpush", "marker")]


# ---- RESP3, transactions, scripts, COMMAND --------------------------------------------------


def test_resp3_replies(c):
    assert c.call("HELLO", "3")
    c.call("RPUSH", "l", "2", "1")
    assert c.call_raw("SORT", "l") == b"*2\r\n$1\r\n1\r\n$1\r\n2\r\n"
    assert c.call_raw("SORT", "l", "GET", "x_*", "GET", "#") == \
        b"*4\r\n_\r\n$1\r\n1\r\n_\r\n$1\r\n2\r\n"
    assert c.call_raw("SORT_RO", "nokey") == b"*0\r\n"
    assert c.call_raw("SORT", "l", "STORE", "d") == b":2\r\n"


def test_resp2_nil(c):
    c.call("RPUSH", "l", "1")
    assert c.call_raw("SORT", "l", "GET", "x_*") == b"*1\r\n$-1\r\n"


def test_in_transaction(r):
    r.rpush("l", 3, 1, 2)
    p = r.pipeline(transaction=True)
    p.sort("l", store="d")
    p.lrange("d", 0, -1)
    p.sort("l", by="w_*", get="#")
    assert p.execute() == [3, ["1", "2", "3"], ["1", "2", "3"]]


def test_store_breaks_watch(r, server):
    r.rpush("l", 1)
    other = server.client()
    try:
        p = other.pipeline(transaction=True)
        p.watch("d")
        r.sort("l", store="d")
        p.multi()
        p.set("d", "x")
        with pytest.raises(redis.WatchError):
            p.execute()
    finally:
        other.close()
    assert r.lrange("d", 0, -1) == ["1"]


def test_scripts(r):
    r.rpush("l", 3, 1, 2)
    r.mset({"w_1": 3, "w_2": 2, "w_3": 1})
    assert r.eval("return redis.call('SORT', KEYS[1])", 1, "l") == ["1", "2", "3"]
    assert r.eval("return redis.call('SORT', KEYS[1], 'STORE', KEYS[2])", 2, "l", "d") == 3
    assert r.lrange("d", 0, -1) == ["1", "2", "3"]
    # Patterns with no declared keys: the script may read the whole database.
    assert r.eval("return redis.call('SORT', 'l', 'BY', 'w_*', 'GET', 'w_*')", 0) == \
        ["1", "2", "3"]
    assert r.execute_command("EVAL_RO", "return redis.call('SORT_RO', KEYS[1], 'DESC')", 1,
                             "l") == ["3", "2", "1"]
    assert r.execute_command("EVAL_RO", "return redis.call('SORT_RO', 'l', 'BY', 'w_*')",
                             0) == ["3", "2", "1"]
    with pytest.raises(redis.ResponseError, match="Write commands are not allowed"):
        r.execute_command("EVAL_RO", "return redis.call('SORT', KEYS[1])", 1, "l")
    # A nil GET is false in Lua.
    assert r.eval("return redis.call('SORT', 'l', 'GET', 'x_*')[1] == false", 0) == 1


def test_script_sorts_an_unsorted_set(r):
    r.sadd("s", "c", "a", "b", "10", "2")
    script = "return redis.call('SORT', KEYS[1], 'BY', 'nosort')"
    assert r.eval(script, 1, "s") == ["10", "2", "a", "b", "c"]
    script = "return redis.call('SORT_RO', KEYS[1], 'BY', 'nosort', 'DESC', 'LIMIT', 1, 2)"
    assert r.execute_command("EVAL_RO", script, 1, "s") == ["b", "a"]
    # Lists keep their order.
    r.rpush("l", "b", "a")
    assert r.eval("return redis.call('SORT', KEYS[1], 'BY', 'nosort')", 1, "l") == ["b", "a"]


@pytest.mark.sluice_only
def test_script_with_keys_and_patterns(r):
    # A script holding its keys' shards that needs the whole database learns
    # it and runs again holding it (docs/scripting.md).
    r.rpush("l", 2, 1)
    for key in ["a", "b", "c", "d", "e", "f", "g", "h"]:
        assert r.eval("return redis.call('SORT', 'l', 'BY', 'w_*')", 1, key) == ["1", "2"]


GETKEYS = [
    (["SORT", "l"], ["l"]),
    (["SORT", "l", "STORE", "d"], ["l", "d"]),
    (["SORT", "l", "BY", "w_*", "GET", "g_*", "STORE", "d", "ALPHA"], ["l", "d"]),
    (["SORT", "l", "LIMIT", "0", "1", "STORE", "d"], ["l", "d"]),
    (["SORT_RO", "l", "BY", "w_*"], ["l"]),
    (["SORT_RO", "l", "STORE", "d"], ["l"]),
]


@pytest.mark.parametrize("cmd,keys", GETKEYS, ids=lambda v: " ".join(v))
def test_command_getkeys(c, cmd, keys):
    assert c.call("COMMAND", "GETKEYS", *cmd) == [k.encode() for k in keys]


def test_command_info(c):
    (sort, sort_ro) = c.call("COMMAND", "INFO", "SORT", "SORT_RO")
    assert sort[0] == b"sort" and sort[1] == -2 and sort[3:6] == [1, 1, 1]
    assert "write" in sort[2] and "denyoom" in sort[2]
    assert sort_ro[0] == b"sort_ro" and sort_ro[1] == -2 and sort_ro[3:6] == [1, 1, 1]
    assert "readonly" in sort_ro[2]


def test_concurrent_writers(server, r):
    """SORT BY/GET reads other keys while other clients write them."""
    r.rpush("l", *range(50))
    stop = threading.Event()
    errors = []

    def writer():
        c = server.client()
        try:
            i = 0
            while not stop.is_set():
                c.mset({"w_%d" % (i % 50): i, "g_%d" % (i % 50): "v"})
                c.sort("l", store="d%d" % (i % 3))
                i += 1
        except Exception as e:  # reported below
            errors.append(e)
        finally:
            c.close()

    threads = [threading.Thread(target=writer, daemon=True) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        for _ in range(100):
            got = items(r, "l", "BY", "w_*", "GET", "#", "GET", "g_*")
            assert len(got) == 100
            assert sorted(got[0::2], key=int) == [str(i) for i in range(50)]
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    assert not errors
    assert not any(t.is_alive() for t in threads)
