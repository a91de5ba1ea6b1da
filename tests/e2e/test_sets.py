"""Set commands: SADD and friends, SPOP/SRANDMEMBER, SMOVE, SSCAN, the
algebra (SINTER/SUNION/SDIFF, their STORE forms, SINTERCARD); the intset ->
listpack -> hashtable conversions; sets under the generic key commands,
RESP3, keyspace events and scripts. Everything here but the sluice_only tests
also passes against redis-server 7.0."""

import pytest

from helpers import (NOT_INT, SYNTAX, WRONGTYPE, arity_error, error_of, subscribed,
                     wait_until)

POSITIVE = "ERR value is out of range, must be positive"

WRONG_ARITY = [
    ("sadd", []), ("sadd", ["s"]), ("srem", ["s"]), ("sismember", ["s"]),
    ("sismember", ["s", "a", "b"]), ("smismember", ["s"]), ("scard", []), ("scard", ["s", "x"]),
    ("smembers", []), ("smembers", ["s", "x"]), ("spop", []), ("srandmember", []),
    ("smove", ["a", "b"]), ("smove", ["a", "b", "m", "x"]), ("sscan", ["s"]),
    ("sinter", []), ("sunion", []), ("sdiff", []), ("sinterstore", ["d"]),
    ("sunionstore", ["d"]), ("sdiffstore", ["d"]), ("sintercard", ["1"]),
]


@pytest.mark.parametrize("cmd,args", WRONG_ARITY,
                         ids=lambda v: v if isinstance(v, str) else str(len(v)))
def test_wrong_arity(c, cmd, args):
    assert error_of(c, cmd, *args) == arity_error(cmd)
    assert c.call("PING") == "PONG"


@pytest.fixture
def set_limits(r):
    """Sets set-max-intset-entries / set-max-listpack-* for a test, restoring them after."""
    # redis-server 7.0 has no listpack sets (7.2 added them), so only the
    # parameters the server knows are set; tests that look for a listpack
    # are sluice_only.
    saved = r.config_get("set-max-*")

    def apply(intset=512, entries=128, value=64):
        r.config_set("set-max-intset-entries", intset)
        if "set-max-listpack-entries" in saved:
            r.config_set("set-max-listpack-entries", entries)
            r.config_set("set-max-listpack-value", value)
    apply()
    yield apply
    for k, v in saved.items():
        r.config_set(k, v)


# ---- writes and reads ----------------------------------------------------------------------


def test_sadd_srem_sismember_scard(r):
    assert r.scard("s") == 0
    assert r.sismember("s", "a") == 0
    assert r.sadd("s", "a", "b", "a") == 2
    assert r.sadd("s", "b", "c") == 1
    assert r.scard("s") == 3
    assert r.sismember("s", "a") == 1 and r.sismember("s", "z") == 0
    assert r.smembers("s") == {"a", "b", "c"}
    assert r.srem("s", "a", "zz") == 1
    assert r.srem("nokey", "a") == 0
    assert r.smismember("s", "a", "b", "c") == [0, 1, 1]
    assert r.smismember("nokey", "a", "b") == [0, 0]
    assert r.smembers("nokey") == set()


def test_integer_members(r, set_limits):
    assert r.sadd("s", "1", "-5", "100000000000", "1") == 3
    assert r.object("encoding", "s") == "intset"
    assert r.smembers("s") == {"1", "-5", "100000000000"}
    assert r.sismember("s", "-5") == 1 and r.sismember("s", "01") == 0
    assert r.sadd("s", "01", " 1") == 2  # not canonical integers: strings
    assert r.smembers("s") == {"1", "-5", "100000000000", "01", " 1"}
    assert r.srem("s", "1", "01") == 2
    assert r.smembers("s") == {"-5", "100000000000", " 1"}


def test_binary_members(rb):
    assert rb.sadd("s", b"\x00\xff", b"", b"a\r\nb") == 3
    assert rb.smembers("s") == {b"\x00\xff", b"", b"a\r\nb"}
    assert rb.sismember("s", b"") == 1


def test_srem_deletes_the_empty_key(r):
    r.sadd("s", "a", "1")
    assert r.srem("s", "a", "1", "x") == 2
    assert r.exists("s") == 0


def test_spop(r):
    assert r.spop("nokey") is None
    assert r.spop("nokey", 3) == []
    r.sadd("s", *[str(i) for i in range(10)])
    got = r.spop("s")
    assert got in {str(i) for i in range(10)} and r.scard("s") == 9
    three = r.spop("s", 3)
    assert len(set(three)) == 3 and r.scard("s") == 6
    assert not set(three) & r.smembers("s") and got not in three
    assert r.spop("s", 0) == [] and r.scard("s") == 6
    rest = r.spop("s", 100)
    assert len(rest) == 6 and r.exists("s") == 0


@pytest.mark.parametrize("encoding_members", [["1", "2", "3", "4", "5"],
                                              ["a", "b", "c", "d", "e"]])
def test_spop_and_srandmember_on_small_sets(r, encoding_members):
    r.sadd("s", *encoding_members)
    picked = r.srandmember("s", 3)
    assert len(picked) == 3 and len(set(picked)) == 3 and set(picked) <= set(encoding_members)
    assert sorted(r.srandmember("s", 10)) == sorted(encoding_members)
    rep = r.srandmember("s", -20)
    assert len(rep) == 20 and set(rep) <= set(encoding_members)
    assert r.srandmember("s") in encoding_members
    popped = r.spop("s", 2)
    assert len(set(popped)) == 2 and r.scard("s") == 3


def test_spop_and_srandmember_on_a_large_set(r, set_limits):
    set_limits(entries=4)
    members = {"m%d" % i for i in range(300)}
    r.sadd("s", *members)
    assert r.object("encoding", "s") == "hashtable"
    picked = r.srandmember("s", 50)
    assert len(set(picked)) == 50 and set(picked) <= members
    assert set(r.srandmember("s", 300)) == members
    assert len(r.srandmember("s", -500)) == 500
    popped = r.spop("s", 250)
    assert len(set(popped)) == 250 and set(popped) <= members
    assert r.smembers("s") == members - set(popped)


def test_srandmember_missing_key(r):
    assert r.srandmember("nokey") is None
    assert r.srandmember("nokey", 5) == []
    assert r.srandmember("nokey", -5) == []
    r.sadd("s", "a")
    assert r.srandmember("s", 0) == []


def test_spop_srandmember_count_errors(c):
    c.call("SADD", "s", "a")
    assert error_of(c, "SPOP", "s", "-1") == POSITIVE
    assert error_of(c, "SPOP", "s", "x") == POSITIVE
    assert error_of(c, "SPOP", "s", "1.5") == POSITIVE
    assert error_of(c, "SPOP", "s", "1", "2") == SYNTAX
    assert error_of(c, "SRANDMEMBER", "s", "x") == NOT_INT
    assert error_of(c, "SRANDMEMBER", "s", "99999999999999999999") == NOT_INT
    assert error_of(c, "SRANDMEMBER", "s", "-9223372036854775808") == (
        "ERR value is out of range, value must between -9223372036854775807 and "
        "9223372036854775807")
    assert error_of(c, "SRANDMEMBER", "s", "1", "2") == SYNTAX
    assert error_of(c, "SPOP", "nokey", "-1") == POSITIVE
    assert c.call("SCARD", "s") == 1


def test_smove(r):
    r.sadd("a", "x", "y")
    r.sadd("b", "z")
    assert r.smove("a", "b", "x") == 1
    assert r.smembers("a") == {"y"} and r.smembers("b") == {"x", "z"}
    assert r.smove("a", "b", "nope") == 0
    assert r.smove("nokey", "b", "x") == 0
    assert r.smove("a", "new", "y") == 1
    assert r.exists("a") == 0 and r.smembers("new") == {"y"}
    assert r.smove("new", "new", "y") == 1
    assert r.smove("new", "new", "q") == 0
    assert r.smembers("new") == {"y"}
    r.sadd("c", "z")
    assert r.smove("b", "c", "z") == 1  # already in the destination
    assert r.smembers("c") == {"z"} and r.smembers("b") == {"x"}


def test_smove_wrongtype(c):
    c.call("SADD", "s", "m")
    c.call("SET", "str", "v")
    assert error_of(c, "SMOVE", "str", "s", "m") == WRONGTYPE
    assert error_of(c, "SMOVE", "s", "str", "m") == WRONGTYPE
    assert c.call("SMOVE", "nokey", "str", "m") == 0  # an absent source is not type-checked
    assert c.call("SMEMBERS", "s") == [b"m"]


def test_sscan_small_set_in_one_call(r):
    r.sadd("s", "a", "b", "1")
    cursor, members = r.sscan("s", 0)
    assert cursor == 0 and sorted(members) == ["1", "a", "b"]
    assert r.sscan("s", 0, match="a*")[1] == ["a"]
    assert r.sscan("nokey", 0) == (0, [])


def test_sscan_large_set_visits_every_member(r, set_limits):
    set_limits(entries=4)
    members = {"m%d" % i for i in range(1000)}
    r.sadd("s", *members)
    seen, cursor, calls = set(), 0, 0
    while True:
        cursor, page = r.sscan("s", cursor, count=50)
        seen.update(page)
        calls += 1
        if cursor == 0:
            break
    assert seen == members and calls > 5
    matched = set()
    for m in r.sscan_iter("s", match="m1?"):
        matched.add(m)
    assert matched == {"m%d" % i for i in range(10, 20)}


def test_sscan_errors(c):
    c.call("SADD", "s", "a")
    assert error_of(c, "SSCAN", "s", "x") == "ERR invalid cursor"
    assert error_of(c, "SSCAN", "s", "0", "COUNT", "0") == SYNTAX
    assert error_of(c, "SSCAN", "s", "0", "COUNT", "x") == NOT_INT
    assert error_of(c, "SSCAN", "s", "0", "BOGUS") == SYNTAX
    assert error_of(c, "SSCAN", "s", "0", "MATCH") == SYNTAX


# ---- algebra -------------------------------------------------------------------------------


@pytest.fixture
def abc(r):
    r.sadd("a", "1", "2", "3", "4", "x")
    r.sadd("b", "3", "4", "5", "x")
    r.sadd("c", "4", "x", "y")
    return r


def test_sinter(abc):
    r = abc
    assert r.sinter("a", "b") == {"3", "4", "x"}
    assert r.sinter("a", "b", "c") == {"4", "x"}
    assert r.sinter("a") == {"1", "2", "3", "4", "x"}
    assert r.sinter("a", "nokey") == set()
    r.set("str", "v")
    with pytest.raises(Exception, match="WRONGTYPE"):
        r.sinter("a", "nokey", "str")  # every key's type is checked


def test_sunion_sdiff(abc):
    r = abc
    assert r.sunion("a", "b", "c") == {"1", "2", "3", "4", "5", "x", "y"}
    assert r.sunion("nokey", "c") == {"4", "x", "y"}
    assert r.sdiff("a", "b") == {"1", "2"}
    assert r.sdiff("a", "b", "c") == {"1", "2"}
    assert r.sdiff("a", "nokey") == {"1", "2", "3", "4", "x"}
    assert r.sdiff("nokey", "a") == set()


def test_store_forms(abc, set_limits):
    r = abc
    assert r.sinterstore("d", "a", "b") == 3
    assert r.smembers("d") == {"3", "4", "x"}
    assert r.sunionstore("d", "a", "c") == 6
    assert r.smembers("d") == {"1", "2", "3", "4", "x", "y"}
    assert r.sdiffstore("d", "a", "b") == 2
    assert r.smembers("d") == {"1", "2"}
    assert r.object("encoding", "d") == "intset"
    r.set("str", "v")
    r.expire("str", 100)
    assert r.sunionstore("str", "a") == 5  # overwrites any type, drops the TTL
    assert r.type("str") == "set" and r.ttl("str") == -1
    assert r.sinterstore("d", "a", "nokey") == 0
    assert r.exists("d") == 0
    assert r.sdiffstore("d", "a", "a") == 0
    assert r.sunionstore("a", "a", "b") == 6  # a source may be the destination
    assert r.smembers("a") == {"1", "2", "3", "4", "5", "x"}


@pytest.mark.sluice_only  # listpack sets are Redis 7.2's; redis-server 7.0 has none
def test_store_encodings(r, set_limits):
    set_limits(intset=5, entries=3)
    r.sadd("ints", *range(10))
    r.sadd("few", "a", "b")
    assert r.sunionstore("d", "few") == 2 and r.object("encoding", "d") == "listpack"
    assert r.sunionstore("d", "ints") == 10 and r.object("encoding", "d") == "hashtable"


def test_sintercard(abc):
    r = abc
    assert r.sintercard(2, ["a", "b"]) == 3
    assert r.sintercard(3, ["a", "b", "c"]) == 2
    assert r.sintercard(2, ["a", "b"], limit=1) == 1
    assert r.sintercard(2, ["a", "b"], limit=0) == 3
    assert r.sintercard(2, ["a", "nokey"]) == 0


def test_sintercard_errors(c):
    c.call("SADD", "a", "1")
    assert error_of(c, "SINTERCARD", "0", "a") == "ERR numkeys should be greater than 0"
    assert error_of(c, "SINTERCARD", "x", "a") == "ERR numkeys should be greater than 0"
    assert error_of(c, "SINTERCARD", "3", "a", "b") == (
        "ERR Number of keys can't be greater than number of args")
    assert error_of(c, "SINTERCARD", "1", "a", "LIMIT", "-1") == "ERR LIMIT can't be negative"
    assert error_of(c, "SINTERCARD", "1", "a", "LIMIT") == SYNTAX
    assert error_of(c, "SINTERCARD", "1", "a", "BOGUS", "1") == SYNTAX
    c.call("SET", "str", "v")
    assert error_of(c, "SINTERCARD", "2", "a", "str") == WRONGTYPE


# ---- types ---------------------------------------------------------------------------------

SET_COMMANDS_ON_STRING = [
    ("SADD", "k", "a"), ("SREM", "k", "a"), ("SISMEMBER", "k", "a"), ("SMISMEMBER", "k", "a"),
    ("SCARD", "k"), ("SMEMBERS", "k"), ("SPOP", "k"), ("SPOP", "k", "2"),
    ("SRANDMEMBER", "k"), ("SRANDMEMBER", "k", "2"), ("SSCAN", "k", "0"),
    ("SINTER", "k"), ("SUNION", "k"), ("SDIFF", "k"), ("SINTERSTORE", "d", "k"),
    ("SUNIONSTORE", "d", "k"), ("SDIFFSTORE", "d", "k"), ("SINTERCARD", "1", "k"),
    ("SMOVE", "k", "d", "a"),
]


@pytest.mark.parametrize("args", SET_COMMANDS_ON_STRING, ids=lambda a: " ".join(a[:1] + a[2:]))
@pytest.mark.parametrize("other", ["string", "hash"])
def test_set_commands_on_other_types(c, args, other):
    if other == "string":
        c.call("SET", "k", "v")
    else:
        c.call("HSET", "k", "f", "v")
    assert error_of(c, *args) == WRONGTYPE
    assert c.call("TYPE", "k") == other


OTHER_COMMANDS_ON_SET = [
    ("GET", "s"), ("APPEND", "s", "x"), ("STRLEN", "s"), ("INCR", "s"), ("GETRANGE", "s", "0", "1"),
    ("SETRANGE", "s", "0", "x"), ("GETDEL", "s"), ("INCRBYFLOAT", "s", "1"),
    ("HGET", "s", "f"), ("HSET", "s", "f", "v"), ("HGETALL", "s"), ("HLEN", "s"),
]


@pytest.mark.parametrize("args", OTHER_COMMANDS_ON_SET, ids=lambda a: a[0])
def test_other_commands_on_a_set(c, args):
    c.call("SADD", "s", "a")
    assert error_of(c, *args) == WRONGTYPE
    assert c.call("SMEMBERS", "s") == [b"a"]


def test_type_and_scan_type(r):
    r.sadd("s1", "a")
    r.sadd("s2", "1")
    r.set("str", "v")
    r.hset("h", "f", "v")
    assert r.type("s1") == "set"
    assert set(r.scan_iter(_type="set")) == {"s1", "s2"}


def test_set_overwrites_a_set(r):
    r.sadd("s", "a")
    assert r.set("s", "v") is True
    assert r.get("s") == "v"


# ---- encodings -----------------------------------------------------------------------------


def test_intset_to_hashtable_by_count(r, set_limits):
    set_limits(intset=4)
    r.sadd("s", 1, 2, 3, 4)
    assert r.object("encoding", "s") == "intset"
    r.sadd("s", 5)
    assert r.object("encoding", "s") == "hashtable"
    assert r.smembers("s") == {"1", "2", "3", "4", "5"}


@pytest.mark.sluice_only  # listpack sets are Redis 7.2's; redis-server 7.0 has none
def test_intset_to_listpack_on_a_string(r, set_limits):
    r.sadd("s", 1, 2, 3)
    r.sadd("s", "a")
    assert r.object("encoding", "s") == "listpack"
    assert r.smembers("s") == {"1", "2", "3", "a"}


def test_intset_to_hashtable_when_listpack_would_be_full(r, set_limits):
    set_limits(entries=3)
    r.sadd("s", 1, 2, 3)
    r.sadd("s", "a")
    assert r.object("encoding", "s") == "hashtable"


@pytest.mark.sluice_only  # listpack sets are Redis 7.2's; redis-server 7.0 has none
def test_listpack_to_hashtable(r, set_limits):
    set_limits(entries=3, value=5)
    r.sadd("s", "a", "b", "c")
    assert r.object("encoding", "s") == "listpack"
    r.sadd("s", "d")
    assert r.object("encoding", "s") == "hashtable"
    r.sadd("t", "a")
    r.sadd("t", "123456")
    assert r.object("encoding", "t") == "hashtable"
    assert r.smembers("t") == {"a", "123456"}


def test_sets_do_not_convert_back(r, set_limits):
    set_limits(entries=3)
    r.sadd("s", "a", "b", "c", "d")
    r.srem("s", "b", "c", "d")
    assert r.object("encoding", "s") == "hashtable"
    assert r.smembers("s") == {"a"}


@pytest.mark.sluice_only  # listpack sets are Redis 7.2's; redis-server 7.0 has none
def test_creation_picks_by_argument_count(r, set_limits):
    set_limits(intset=3, entries=5)
    r.sadd("s", 1, 2, 3, 4)
    assert r.object("encoding", "s") == "listpack"
    r.sadd("t", *"abcdef")
    assert r.object("encoding", "t") == "hashtable"


@pytest.mark.sluice_only  # listpack sets are Redis 7.2's; redis-server 7.0 has none
def test_config_names(r, set_limits):
    set_limits(intset=7, entries=9, value=11)
    assert r.config_get("set-max-*") == {"set-max-intset-entries": "7",
                                         "set-max-listpack-entries": "9",
                                         "set-max-listpack-value": "11"}


# ---- generic key commands ------------------------------------------------------------------


def test_del_unlink_exists_expire(r):
    r.sadd("a", "x")
    r.sadd("b", "1")
    assert r.exists("a", "b") == 2
    assert r.delete("a") == 1 and r.unlink("b") == 1
    r.sadd("e", "x")
    assert r.pexpire("e", 50) is True
    wait_until(lambda: r.exists("e") == 0, timeout=5, message="set expired")


def test_rename_copy_move(r, set_limits):
    set_limits(entries=4)
    r.sadd("small", "a")
    r.sadd("ints", 1, 2)
    r.sadd("big", *["m%d" % i for i in range(10)])
    assert r.rename("small", "small2") is True
    assert r.smembers("small2") == {"a"}
    for src in ("small2", "ints", "big"):
        assert r.copy(src, src + "_c") is True
        r.sadd(src + "_c", "extra")
        assert "extra" not in r.smembers(src)
    assert r.object("encoding", "big_c") == "hashtable"
    assert r.scard("ints_c") == 3
    assert r.move("big_c", 1) is True
    r.execute_command("SELECT", 1)
    assert r.scard("big_c") == 11
    r.execute_command("SELECT", 0)


def test_info_memory_follows_a_growing_set(r):
    before = r.info("memory")["used_memory"]
    for chunk in range(40):
        r.sadd("s", *["x" * 200 + str(chunk * 500 + i) for i in range(500)])
    grown = r.info("memory")["used_memory"]
    assert grown - before > 3_000_000
    r.delete("s")
    assert grown - r.info("memory")["used_memory"] > 3_000_000


# ---- RESP3, events, scripts ----------------------------------------------------------------


def test_resp3_replies(c):
    assert c.call("HELLO", "3")
    c.call("SADD", "s", "a", "b")
    c.call("SADD", "t", "b", "c")
    assert c.call("SMEMBERS", "s") == {b"a", b"b"}
    assert c.call_raw("SMEMBERS", "nokey") == b"~0\r\n"
    assert c.call_raw("SINTER", "s", "t") == b"~1\r\n$1\r\nb\r\n"
    assert c.call("SUNION", "s", "t") == {b"a", b"b", b"c"}
    assert c.call("SDIFF", "s", "t") == {b"a"}
    assert c.call_raw("SPOP", "nokey", "1").startswith(b"~0")
    assert c.call_raw("SRANDMEMBER", "s", "5").startswith(b"*2")
    assert c.call_raw("SRANDMEMBER", "nokey") == b"_\r\n"
    assert c.call_raw("SPOP", "s", "1").startswith(b"~1")
    assert c.call("SMISMEMBER", "t", "b", "x") == [1, 0]


def test_resp2_smembers_is_an_array(c):
    c.call("SADD", "s", "a")
    assert c.call_raw("SMEMBERS", "s") == b"*1\r\n$1\r\na\r\n"


def test_keyspace_events(raw, r, notify):
    sub = subscribed(raw, notify, "KEA", "__keyspace@0__:*", pattern=True)
    r.sadd("s", "a", "b", "c")
    r.sadd("s", "a")  # no event
    r.srem("s", "zz")  # no event
    r.srem("s", "a")
    r.spop("s")
    r.spop("s", 0)  # no event
    r.sadd("t", "x")
    r.smove("t", "s", "x")
    r.sinterstore("d", "s", "s")
    r.sunionstore("d", "s")
    r.sdiffstore("d", "s", "s")
    r.spop("s", 5)
    got = [(m[2].decode().split(":", 1)[1], m[3].decode()) for m in sub.read_many(12)]
    assert got == [("s", "sadd"), ("s", "srem"), ("s", "spop"), ("t", "sadd"), ("t", "srem"),
                   ("t", "del"), ("s", "sadd"), ("d", "sinterstore"), ("d", "sunionstore"),
                   ("d", "del"), ("s", "spop"), ("s", "del")]


def test_new_event_on_creation(raw, r, notify):
    sub = subscribed(raw, notify, "En", "__keyevent@0__:new", pattern=True)
    r.sadd("s", "a")
    r.sadd("s", "b")
    r.smove("s", "t", "a")
    r.sunionstore("u", "s")
    assert [m[3].decode() for m in sub.read_many(3)] == ["s", "t", "u"]


def test_lua_and_transaction(r):
    assert r.eval("redis.call('SADD', KEYS[1], 'a', 'b') return redis.call('SCARD', KEYS[1])",
                  1, "s") == 2
    p = r.pipeline(transaction=True)
    p.sadd("t", "1")
    p.sinter("s", "t")
    p.sunion("s", "t")
    assert p.execute() == [1, set(), {"a", "b", "1"}]


@pytest.mark.sluice_only
def test_default_limits(r):
    assert r.config_get("set-max-*") == {"set-max-intset-entries": "512",
                                         "set-max-listpack-entries": "128",
                                         "set-max-listpack-value": "64"}


@pytest.mark.sluice_only
def test_unlink_of_a_large_set_is_freed_in_the_background(start_server):
    s = start_server()
    r = s.client()
    try:
        r.sadd("small", *["m%d" % i for i in range(50)])
        assert r.unlink("small") == 1
        assert r.info("memory")["lazyfreed_objects"] == 0
        for chunk in range(4):
            r.sadd("big", *["m%d" % (chunk * 500 + i) + "x" * 100 for i in range(500)])
        assert r.unlink("big") == 1
        wait_until(lambda: r.info("memory")["lazyfreed_objects"] == 1, timeout=30,
                   message="lazyfreed_objects == 1")
    finally:
        r.close()
