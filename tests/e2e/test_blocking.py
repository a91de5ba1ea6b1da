"""Blocking pops: BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN, BZPOPMAX
and BZMPOP. Their argument errors (arity, timeouts, numkeys, COUNT), wrong
types, immediate replies and timeouts in RESP2 and RESP3; waking by every
kind of write (pushes, MULTI/EXEC, scripts, LMOVE, RENAME, COPY, MOVE, SWAPDB,
SORT STORE, ZADD, ZUNIONSTORE, ...), first-come first-served order across
clients, chained wake-ups, databases; no blocking inside MULTI and scripts;
CLIENT UNBLOCK, CLIENT KILL and disconnects; INFO clients fields and the
CLIENT LIST `b` flag; many idle blocked clients.

A waiter is a raw connection that sent its blocking command; the tests wait
(with a timeout) until INFO says it is blocked before they write. Several
tests run on private servers with one or more I/O threads, so that waiter
and writer are on the same thread or on different ones (connections are
handed to the threads round-robin).

Everything but the sluice_only tests also passes against redis-server 7.0
(the timeout overflow errors and total_blocking_keys are 7.2's)."""

import os
import socket
import time

import pytest

from helpers import (SYNTAX, WRONGTYPE, RawConn, RespError, arity_error, encode_command,
                     error_of, wait_until)
from conftest import IS_REDIS

NEGATIVE = "ERR timeout is negative"
NOT_FLOAT = "ERR timeout is not a float or out of range"
OUT_OF_RANGE = "ERR timeout is out of range"
NUMKEYS = "ERR numkeys should be greater than 0"
COUNT_POSITIVE = "ERR count should be greater than 0"
UNBLOCKED = "UNBLOCKED client unblocked via CLIENT UNBLOCK"
WAIT = 10.0  # seconds any one wait may take

# Each blocking command with `{t}` for its timeout, on an empty list key "l"
# (destination "d") or an empty sorted-set key "z".
COMMANDS = {
    "blpop": ["BLPOP", "l", "{t}"],
    "brpop": ["BRPOP", "l", "{t}"],
    "blmove": ["BLMOVE", "l", "d", "LEFT", "RIGHT", "{t}"],
    "brpoplpush": ["BRPOPLPUSH", "l", "d", "{t}"],
    "blmpop": ["BLMPOP", "{t}", "1", "l", "LEFT"],
    "bzpopmin": ["BZPOPMIN", "z", "{t}"],
    "bzpopmax": ["BZPOPMAX", "z", "{t}"],
    "bzmpop": ["BZMPOP", "{t}", "1", "z", "MIN"],
}
LIST_COMMANDS = ["blpop", "brpop", "blmove", "brpoplpush", "blmpop"]
ZSET_COMMANDS = ["bzpopmin", "bzpopmax", "bzmpop"]
MOVES = ["blmove", "brpoplpush"]


def command(name, timeout):
    return [timeout if a == "{t}" else a for a in COMMANDS[name]]


def fill(r, name):
    """Gives the command's source key one element (or member) 'a' (score 1)."""
    if name in ZSET_COMMANDS:
        r.zadd("z", {"a": 1})
    else:
        r.rpush("l", "a")


def served_reply(name):
    """What `name` replies when its source holds just 'a' (score 1)."""
    return {
        "blpop": [b"l", b"a"], "brpop": [b"l", b"a"], "blmove": b"a", "brpoplpush": b"a",
        "blmpop": [b"l", [b"a"]], "bzpopmin": [b"z", b"a", b"1"],
        "bzpopmax": [b"z", b"a", b"1"], "bzmpop": [b"z", [[b"a", b"1"]]],
    }[name]


def blocked(r):
    return r.info("clients")["blocked_clients"]


def wait_blocked(r, n):
    wait_until(lambda: blocked(r) == n, timeout=WAIT, interval=0.01,
               message="%d blocked clients" % n)


def block(conn, *args):
    """Sends a blocking command without reading its reply."""
    conn.send(encode_command(*args))


def waiter(r, raw, *args):
    """A new raw connection blocked in `args` (the only blocked client)."""
    w = raw()
    block(w, *args)
    wait_blocked(r, 1)
    return w


def still_blocked(r, n, settle=0.2):
    """After a moment, the server still counts n blocked clients (used where
    a write must not have woken anyone; the moment lets a wrong wake land)."""
    time.sleep(settle)
    return blocked(r) == n


@pytest.fixture
def threaded(start_server):
    """start(n): a private server with n I/O threads and a client to it."""
    def start(n):
        s = start_server("--io-threads", str(n))
        return s, s.client()
    return start


# ---- Argument errors ----

WRONG_ARITY = [
    ("blpop", []), ("blpop", ["l"]), ("brpop", []), ("brpop", ["l"]),
    ("blmove", ["a", "b", "LEFT", "RIGHT"]), ("blmove", ["a", "b", "LEFT", "RIGHT", "0", "x"]),
    ("brpoplpush", ["a", "b"]), ("brpoplpush", ["a", "b", "0", "x"]),
    ("blmpop", ["0", "1", "l"]), ("blmpop", []), ("bzpopmin", ["z"]), ("bzpopmax", ["z"]),
    ("bzpopmin", []), ("bzmpop", ["0", "1", "z"]), ("bzmpop", ["0"]),
]


@pytest.mark.parametrize("cmd,args", WRONG_ARITY,
                         ids=["%s-%d" % (c, len(a)) for c, a in WRONG_ARITY])
def test_wrong_arity(c, cmd, args):
    assert error_of(c, cmd, *args) == arity_error(cmd)
    assert c.call("PING") == "PONG"


BAD_TIMEOUTS = [("-1", NEGATIVE), ("-0.5", NEGATIVE), ("-inf", NEGATIVE), ("abc", NOT_FLOAT),
                ("", NOT_FLOAT), ("nan", NOT_FLOAT), ("1x", NOT_FLOAT), (" 1", NOT_FLOAT),
                ("1e5000", NOT_FLOAT)]


@pytest.mark.parametrize("name", COMMANDS)
@pytest.mark.parametrize("timeout,error", BAD_TIMEOUTS, ids=[t or "empty" for t, _ in BAD_TIMEOUTS])
def test_bad_timeout(c, name, timeout, error):
    assert error_of(c, *command(name, timeout)) == error
    assert c.call("PING") == "PONG"


@pytest.mark.sluice_only
@pytest.mark.parametrize("name", COMMANDS)
@pytest.mark.parametrize("timeout", ["inf", "9223372036854775807", "1e300",
                                     "9223372036854775.807"])
def test_timeout_out_of_range(c, name, timeout):
    # Redis 7.2's check (7.0 says "timeout is negative" after overflowing).
    assert error_of(c, *command(name, timeout)) == OUT_OF_RANGE


@pytest.mark.parametrize("name", COMMANDS)
def test_bad_timeout_checked_before_keys(c, name):
    # Even with data there, a bad timeout is an error and nothing is popped.
    c.call("RPUSH", "l", "a")
    c.call("ZADD", "z", "1", "a")
    assert error_of(c, *command(name, "x")) == NOT_FLOAT
    assert c.call("LLEN", "l") == 1 and c.call("ZCARD", "z") == 1


MPOP_ERRORS = [
    (["0", "0", "k", "{dir}"], NUMKEYS), (["0", "-1", "k", "{dir}"], NUMKEYS),
    (["0", "x", "k", "{dir}"], NUMKEYS), (["0", "2", "k", "{dir}"], SYNTAX),
    (["0", "1", "k", "UP"], SYNTAX), (["0", "1", "k", "{dir}", "COUNT", "0"], COUNT_POSITIVE),
    (["0", "1", "k", "{dir}", "COUNT", "-1"], COUNT_POSITIVE),
    (["0", "1", "k", "{dir}", "COUNT", "x"], COUNT_POSITIVE),
    (["0", "1", "k", "{dir}", "COUNT"], SYNTAX),
    (["0", "1", "k", "{dir}", "COUNT", "1", "COUNT", "2"], SYNTAX),
    (["0", "1", "k", "{dir}", "EXTRA"], SYNTAX),
    # numkeys and the options come before the timeout.
    (["x", "0", "k", "{dir}"], NUMKEYS), (["-1", "1", "k", "UP"], SYNTAX),
    (["x", "1", "k", "{dir}"], NOT_FLOAT), (["-1", "1", "k", "{dir}"], NEGATIVE),
]


@pytest.mark.parametrize("cmd,direction", [("BLMPOP", "LEFT"), ("BZMPOP", "MAX")])
@pytest.mark.parametrize("args,error", MPOP_ERRORS, ids=[str(i) for i in range(len(MPOP_ERRORS))])
def test_mpop_errors(c, cmd, direction, args, error):
    args = [direction if a == "{dir}" else a for a in args]
    assert error_of(c, cmd, *args) == error


@pytest.mark.parametrize("args", [["l", "d", "UP", "LEFT", "0"], ["l", "d", "LEFT", "x", "0"],
                                  ["l", "d", "UP", "LEFT", "-1"]])
def test_blmove_bad_direction(c, args):
    # The directions are checked before the timeout.
    assert error_of(c, "BLMOVE", *args) == SYNTAX


# ---- Wrong types ----

@pytest.mark.parametrize("name", COMMANDS)
def test_wrong_type_source_fails_at_once(c, name):
    c.call("SET", "l", "v")
    c.call("SET", "z", "v")
    assert error_of(c, *command(name, "0")) == WRONGTYPE


@pytest.mark.parametrize("name", ["blpop", "brpop", "bzpopmin", "bzpopmax"])
def test_wrong_type_after_empty_key_fails(c, name):
    c.call("SET", "s", "v")
    args = command(name, "0")
    args.insert(2, "s")  # [CMD, key, s, timeout]
    assert error_of(c, *args) == WRONGTYPE


@pytest.mark.parametrize("name", ["blpop", "bzpopmin"])
def test_served_key_before_wrong_type(c, name):
    if name == "blpop":
        c.call("RPUSH", "l", "a")
    else:
        c.call("ZADD", "z", "1", "a")
    c.call("SET", "s", "v")
    key = "l" if name == "blpop" else "z"
    reply = c.call(name, key, "s", "0")
    assert reply[:2] == [key.encode(), b"a"]


@pytest.mark.parametrize("name", MOVES)
def test_move_wrong_type_destination(c, name):
    c.call("RPUSH", "l", "a")
    c.call("SET", "d", "v")
    assert error_of(c, *command(name, "0")) == WRONGTYPE
    assert c.call("LLEN", "l") == 1


@pytest.mark.parametrize("name", MOVES)
def test_move_wrong_type_destination_of_empty_source_times_out(c, name):
    # The destination is only looked at when there is something to move.
    c.call("SET", "d", "v")
    assert c.call(*command(name, "0.05")) is None


@pytest.mark.parametrize("name", COMMANDS)
def test_key_of_wrong_type_while_blocked_keeps_waiting(r, raw, name):
    w = waiter(r, raw, *command(name, "0"))
    key = "z" if name in ZSET_COMMANDS else "l"
    r.set(key, "string")
    assert still_blocked(r, 1)
    r.delete(key)
    r.hset(key, "f", "v")
    assert still_blocked(r, 1)
    r.delete(key)
    fill(r, name)
    assert w.read(WAIT) == served_reply(name)
    wait_blocked(r, 0)


def test_brpoplpush_destination_turns_wrong_type_while_blocked(r, raw):
    w = waiter(r, raw, "BRPOPLPUSH", "l", "d", "0")
    r.set("d", "v")
    r.rpush("l", "a")
    assert w.read(WAIT) == RespError(WRONGTYPE)
    assert r.lrange("l", 0, -1) == ["a"]
    wait_blocked(r, 0)


# ---- Immediate replies ----

@pytest.mark.parametrize("name", COMMANDS)
def test_served_at_once(c, name):
    fill(c_adapter(c), name)
    assert c.call(*command(name, "0")) == served_reply(name)
    assert c.call("EXISTS", "l", "z") == 0


def c_adapter(c):
    """A tiny redis-py-like face over a RawConn for fill()."""
    class A:
        def zadd(self, key, mapping):
            for m, s in mapping.items():
                c.call("ZADD", key, str(s), m)

        def rpush(self, key, *vals):
            c.call("RPUSH", key, *vals)
    return A()


def test_blpop_brpop_ends(r):
    r.rpush("l", "a", "b", "c")
    assert r.blpop("l", 0) == ("l", "a")
    assert r.brpop("l", 0) == ("l", "c")
    assert r.blpop(["missing", "l"], 0) == ("l", "b")


def test_blmove_directions(r):
    r.rpush("l", "a", "b", "c")
    assert r.blmove("l", "d", 0, "LEFT", "LEFT") == "a"
    assert r.blmove("l", "d", 0, "RIGHT", "RIGHT") == "c"
    assert r.lrange("d", 0, -1) == ["a", "c"]
    assert r.brpoplpush("l", "d", 0) == "b"
    assert r.lrange("d", 0, -1) == ["b", "a", "c"]
    assert r.exists("l") == 0


def test_blmove_same_key_rotates(r):
    r.rpush("l", "a", "b", "c")
    assert r.blmove("l", "l", 0, "LEFT", "RIGHT") == "a"
    assert r.lrange("l", 0, -1) == ["b", "c", "a"]


@pytest.mark.parametrize("count,expected", [("1", [b"a"]), ("2", [b"a", b"b"]),
                                            ("10", [b"a", b"b", b"c"])])
def test_blmpop_count(c, count, expected):
    c.call("RPUSH", "l", "a", "b", "c")
    assert c.call("BLMPOP", "0", "2", "x", "l", "LEFT", "COUNT", count) == [b"l", expected]


def test_blmpop_right(c):
    c.call("RPUSH", "l", "a", "b", "c")
    assert c.call("BLMPOP", "0", "1", "l", "RIGHT", "COUNT", "2") == [b"l", [b"c", b"b"]]


@pytest.mark.parametrize("count,expected", [("1", [[b"c", b"3"]]),
                                            ("5", [[b"c", b"3"], [b"b", b"2"], [b"a", b"1"]])])
def test_bzmpop_max_count(c, count, expected):
    c.call("ZADD", "z", "1", "a", "2", "b", "3", "c")
    assert c.call("BZMPOP", "0", "1", "z", "MAX", "COUNT", count) == [b"z", expected]


def test_bzpop_min_max(r):
    r.zadd("z", {"a": 1, "b": 2, "c": 3})
    assert r.bzpopmin("z", 0) == ("z", "a", 1.0)
    assert r.bzpopmax("z", 0) == ("z", "c", 3.0)
    assert r.bzpopmin(["none", "z"], 0) == ("z", "b", 2.0)
    assert r.exists("z") == 0


# ---- Timeouts ----

TIMEOUT_NULLS = {"blpop": b"*-1\r\n", "brpop": b"*-1\r\n", "blmove": b"*-1\r\n",
                 "brpoplpush": b"*-1\r\n", "blmpop": b"*-1\r\n", "bzpopmin": b"*-1\r\n",
                 "bzpopmax": b"*-1\r\n", "bzmpop": b"*-1\r\n"}


@pytest.mark.parametrize("name", COMMANDS)
@pytest.mark.parametrize("timeout", ["0.05", "0.001", ".1", "1e-2"])
def test_timeout_resp2(r, raw, name, timeout):
    w = raw()
    assert w.call_raw(*command(name, timeout)) == TIMEOUT_NULLS[name]
    wait_blocked(r, 0)
    assert w.call("PING") == "PONG"


@pytest.mark.parametrize("name", COMMANDS)
def test_timeout_resp3(r, raw, name):
    w = raw()
    w.call("HELLO", "3")
    assert w.call_raw(*command(name, "0.05")) == b"_\r\n"


def test_timeout_with_redis_py(r):
    assert r.blpop("l", 0.05) is None
    assert r.bzpopmax("z", 0.05) is None
    assert r.brpoplpush("l", "d", 0.05) is None


def test_timeout_table_counts(r, raw):
    w1, w2 = raw(), raw()
    block(w1, "BLPOP", "a", "100")
    block(w2, "BLPOP", "b", "0")
    wait_blocked(r, 2)
    assert r.info("clients")["clients_in_timeout_table"] == 1
    r.rpush("a", "x")
    assert w1.read(WAIT) == [b"a", b"x"]
    wait_until(lambda: r.info("clients")["clients_in_timeout_table"] == 0, timeout=WAIT)
    r.rpush("b", "y")
    assert w2.read(WAIT) == [b"b", b"y"]


def test_tiny_negative_timeout_rounds_to_forever(r, raw):
    # -0.0001 s is -0.1 ms, rounded up to 0: no timeout, as Redis rounds it.
    w = waiter(r, raw, "BLPOP", "l", "-0.0001")
    r.rpush("l", "a")
    assert w.read(WAIT) == [b"l", b"a"]


# ---- Waking ----

def push_for(r, name):
    fill(r, name)


@pytest.mark.concurrency
@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("name", COMMANDS)
def test_woken_by_push(threaded, name, threads):
    s, r = threaded(threads)
    with s.raw() as w:
        block(w, *command(name, "0"))
        wait_blocked(r, 1)
        fill(r, name)
        assert w.read(WAIT) == served_reply(name)
        wait_blocked(r, 0)
        assert w.call("PING") == "PONG"
    if name in MOVES:
        assert r.lrange("d", 0, -1) == ["a"]
    assert r.exists("l", "z") == 0


@pytest.mark.parametrize("name", COMMANDS)
def test_woken_before_timeout(r, raw, name):
    w = waiter(r, raw, *command(name, "30"))
    fill(r, name)
    assert w.read(WAIT) == served_reply(name)


def test_woken_by_second_key(r, raw):
    w = waiter(r, raw, "BRPOP", "a", "b", "c", "0")
    r.rpush("c", "1", "2")
    assert w.read(WAIT) == [b"c", b"2"]
    assert r.lrange("c", 0, -1) == ["1"]


def test_bzpopmax_woken_with_score(r, raw):
    w = waiter(r, raw, "BZPOPMAX", "a", "z", "0")
    r.zadd("z", {"low": 1.5, "high": 2.5})
    assert w.read(WAIT) == [b"z", b"high", b"2.5"]


def test_blmpop_woken_takes_count(r, raw):
    w = waiter(r, raw, "BLMPOP", "0", "2", "a", "b", "RIGHT", "COUNT", "2")
    r.rpush("b", "1", "2", "3")
    assert w.read(WAIT) == [b"b", [b"3", b"2"]]


def test_bzmpop_woken_takes_count(r, raw):
    w = waiter(r, raw, "BZMPOP", "0", "1", "z", "MIN", "COUNT", "10")
    r.zadd("z", {"a": 1, "b": 2})
    assert w.read(WAIT) == [b"z", [[b"a", b"1"], [b"b", b"2"]]]


def test_same_key_twice(r, raw):
    w = waiter(r, raw, "BLPOP", "l", "l", "0")
    r.rpush("l", "a", "b")
    assert w.read(WAIT) == [b"l", b"a"]
    assert r.lrange("l", 0, -1) == ["b"]


def test_commands_after_blocking_one_wait(r, raw):
    w = raw()
    w.send(encode_command("BLPOP", "l", "0") + encode_command("RPUSH", "mine", "x") +
           encode_command("PING"))
    wait_blocked(r, 1)
    assert r.exists("mine") == 0
    r.rpush("l", "a")
    assert w.read_many(3, WAIT) == [[b"l", b"a"], 1, "PONG"]


def test_blocking_command_after_pipelined_ones(r, raw):
    w = raw()
    w.send(encode_command("SET", "x", "1") + encode_command("BLPOP", "l", "0") +
           encode_command("GET", "x"))
    assert w.read(WAIT) == "OK"
    wait_blocked(r, 1)
    r.rpush("l", "a")
    assert w.read_many(2, WAIT) == [[b"l", b"a"], b"1"]


def test_two_blocking_commands_pipelined(r, raw):
    w = raw()
    w.send(encode_command("BLPOP", "a", "0") + encode_command("BLPOP", "b", "0"))
    wait_blocked(r, 1)
    r.rpush("b", "y")
    assert still_blocked(r, 1)
    r.rpush("a", "x")
    assert w.read_many(2, WAIT) == [[b"a", b"x"], [b"b", b"y"]]
    wait_blocked(r, 0)


def test_element_taken_by_someone_else_stays_blocked(r, raw):
    w = waiter(r, raw, "BLPOP", "l", "0")
    # Pushed and popped again inside one transaction: nothing for the waiter.
    p = r.pipeline(transaction=True)
    p.rpush("l", "a")
    p.lpop("l")
    assert p.execute() == [1, "a"]
    assert still_blocked(r, 1)
    r.rpush("l", "b")
    assert w.read(WAIT) == [b"l", b"b"]


def test_delete_does_not_serve(r, raw):
    w = waiter(r, raw, "BLPOP", "l", "0")
    r.delete("l")
    r.set("other", "1")
    assert still_blocked(r, 1)
    r.rpush("l", "a")
    assert w.read(WAIT) == [b"l", b"a"]


# ---- First come, first served ----

@pytest.mark.concurrency
@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("name", ["blpop", "bzpopmin", "blmove", "blmpop"])
def test_fifo_one_push_many_elements(threaded, name, threads):
    s, r = threaded(threads)
    waiters = []
    try:
        for i in range(5):
            w = s.raw()
            waiters.append(w)
            block(w, *command(name, "0"))
            wait_blocked(r, i + 1)
        if name == "bzpopmin":
            r.zadd("z", {"e%d" % i: i for i in range(5)})
        else:
            r.rpush("l", *["e%d" % i for i in range(5)])
        got = [w.read(WAIT) for w in waiters]
        wait_blocked(r, 0)
    finally:
        for w in waiters:
            w.close()
    expected = {
        "blpop": [[b"l", b"e%d" % i] for i in range(5)],
        "bzpopmin": [[b"z", b"e%d" % i, b"%d" % i] for i in range(5)],
        "blmove": [b"e%d" % i for i in range(5)],
        "blmpop": [[b"l", [b"e%d" % i]] for i in range(5)],
    }[name]
    assert got == expected


@pytest.mark.concurrency
@pytest.mark.parametrize("threads", [1, 2])
def test_fifo_one_push_at_a_time(threaded, threads):
    s, r = threaded(threads)
    waiters = [s.raw() for _ in range(4)]
    try:
        for i, w in enumerate(waiters):
            block(w, "BRPOP", "l", "0")
            wait_blocked(r, i + 1)
        for i, w in enumerate(waiters):
            r.rpush("l", "v%d" % i)
            assert w.read(WAIT) == [b"l", b"v%d" % i]
            wait_blocked(r, len(waiters) - i - 1)
    finally:
        for w in waiters:
            w.close()


def test_fewer_elements_than_waiters(r, raw):
    waiters = [raw() for _ in range(3)]
    for i, w in enumerate(waiters):
        block(w, "BLPOP", "l", "0")
        wait_blocked(r, i + 1)
    r.rpush("l", "a", "b")
    assert waiters[0].read(WAIT) == [b"l", b"a"]
    assert waiters[1].read(WAIT) == [b"l", b"b"]
    wait_blocked(r, 1)
    r.rpush("l", "c")
    assert waiters[2].read(WAIT) == [b"l", b"c"]


def test_fifo_across_keys(r, raw):
    # A waits on a and b, B on b only: a push to b serves A (first there).
    a, b = raw(), raw()
    block(a, "BLPOP", "a", "b", "0")
    wait_blocked(r, 1)
    block(b, "BLPOP", "b", "0")
    wait_blocked(r, 2)
    r.rpush("b", "1")
    assert a.read(WAIT) == [b"b", b"1"]
    wait_blocked(r, 1)
    r.rpush("b", "2")
    assert b.read(WAIT) == [b"b", b"2"]


def test_disconnected_first_waiter_passes_its_turn(r, raw):
    a, b = raw(), raw()
    block(a, "BLPOP", "l", "0")
    wait_blocked(r, 1)
    block(b, "BLPOP", "l", "0")
    wait_blocked(r, 2)
    a.close()
    wait_blocked(r, 1)
    r.rpush("l", "x")
    assert b.read(WAIT) == [b"l", b"x"]


# ---- Chained wake-ups ----

def test_blmove_destination_wakes_next_waiter(r, raw):
    mover, popper = raw(), raw()
    block(mover, "BLMOVE", "src", "dst", "RIGHT", "LEFT", "0")
    wait_blocked(r, 1)
    block(popper, "BLPOP", "dst", "0")
    wait_blocked(r, 2)
    r.rpush("src", "x")
    assert mover.read(WAIT) == b"x"
    assert popper.read(WAIT) == [b"dst", b"x"]
    wait_blocked(r, 0)
    assert r.exists("src", "dst") == 0


def test_chain_of_moves(r, raw):
    conns = [raw() for _ in range(3)]
    block(conns[0], "BRPOPLPUSH", "k0", "k1", "0")
    block(conns[1], "BRPOPLPUSH", "k1", "k2", "0")
    block(conns[2], "BRPOPLPUSH", "k2", "k3", "0")
    wait_blocked(r, 3)
    r.rpush("k0", "v")
    for conn in conns:
        assert conn.read(WAIT) == b"v"
    assert r.lrange("k3", 0, -1) == ["v"]


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_waiters_served_before_the_producers_next_command(threaded, threads):
    # As in Redis, clients blocked on a key are served right after the
    # command that made it ready, before the next command of the producer's
    # pipeline runs: LLEN after the push sees the pop, EXISTS after a push
    # into a chain of moves sees every move. With several I/O threads the
    # waiters sit on other threads than the producer: the producer's thread
    # serves them (a waiter settles into that state just after it blocks,
    # hence the pause).
    s, r = threaded(threads)
    with s.raw() as popper, s.raw() as mover, s.raw() as last, s.raw() as producer:
        block(popper, "BRPOP", "q", "0")
        block(mover, "BRPOPLPUSH", "k0", "k1", "0")
        block(last, "BLPOP", "k1", "0")
        wait_blocked(r, 3)
        time.sleep(0.05)
        producer.send(encode_command("LPUSH", "q", "a") + encode_command("LLEN", "q") +
                      encode_command("RPUSH", "k0", "v") + encode_command("EXISTS", "k0", "k1"))
        assert producer.read_many(4, WAIT) == [1, 0, 1, 0]
        assert popper.read(WAIT) == [b"q", b"a"]
        assert mover.read(WAIT) == b"v"
        assert last.read(WAIT) == [b"k1", b"v"]
        block(popper, "BRPOP", "q", "0")
        wait_blocked(r, 1)
        time.sleep(0.05)
        producer.send(encode_command("MULTI") + encode_command("RPUSH", "q", "x", "y") +
                      encode_command("EXEC") + encode_command("LRANGE", "q", "0", "-1"))
        assert producer.read_many(4, WAIT) == ["OK", "QUEUED", [2], [b"x"]]
        assert popper.read(WAIT) == [b"q", b"y"]

def test_move_into_itself_while_blocked(r, raw):
    w = waiter(r, raw, "BLMOVE", "l", "l", "LEFT", "RIGHT", "0")
    r.rpush("l", "a", "b")
    assert w.read(WAIT) == b"a"
    assert r.lrange("l", 0, -1) == ["b", "a"]


# ---- What makes a key ready ----

LIST_WRITES = {
    "rpush": lambda r: r.rpush("l", "a"),
    "lpush": lambda r: r.lpush("l", "a"),
    "lmove": lambda r: (r.rpush("src", "a"), r.lmove("src", "l", "LEFT", "RIGHT")),
    "rpoplpush": lambda r: (r.rpush("src", "a"), r.rpoplpush("src", "l")),
    "rename": lambda r: (r.rpush("src", "a"), r.rename("src", "l")),
    "copy": lambda r: (r.rpush("src", "a"), r.copy("src", "l")),
    "sort_store": lambda r: (r.rpush("src", "a"), r.sort("src", alpha=True, store="l")),
    "move": lambda r: (r.execute_command("SELECT", "1"), r.rpush("l", "a"),
                       r.execute_command("MOVE", "l", "0"), r.execute_command("SELECT", "0")),
    "multi": lambda r: r.pipeline(transaction=True).rpush("l", "a").execute(),
    "eval": lambda r: r.eval("return redis.call('rpush', KEYS[1], 'a')", 1, "l"),
    "restore": lambda r: (r.rpush("src", "a"), r.restore("l", 0, r.dump("src"))),
}
ZSET_WRITES = {
    "zadd": lambda r: r.zadd("z", {"a": 1}),
    "zincrby": lambda r: r.zincrby("z", 1, "a"),
    "zunionstore": lambda r: (r.zadd("src", {"a": 1}), r.zunionstore("z", ["src"])),
    "zinterstore": lambda r: (r.zadd("src", {"a": 1}), r.zinterstore("z", ["src"])),
    "zdiffstore": lambda r: (r.zadd("src", {"a": 1}), r.zdiffstore("z", ["src"])),
    "zrangestore": lambda r: (r.zadd("src", {"a": 1}), r.zrangestore("z", "src", 0, -1)),
    "rename": lambda r: (r.zadd("src", {"a": 1}), r.rename("src", "z")),
    "copy": lambda r: (r.zadd("src", {"a": 1}), r.copy("src", "z")),
    "eval": lambda r: r.eval("return redis.call('zadd', KEYS[1], 1, 'a')", 1, "z"),
}


@pytest.mark.parametrize("write", LIST_WRITES)
def test_list_ready_through(r, raw, write):
    w = waiter(r, raw, "BLPOP", "l", "0")
    LIST_WRITES[write](r)
    assert w.read(WAIT) == [b"l", b"a"]
    wait_blocked(r, 0)


@pytest.mark.parametrize("write", ZSET_WRITES)
def test_zset_ready_through(r, raw, write):
    w = waiter(r, raw, "BZPOPMIN", "z", "0")
    ZSET_WRITES[write](r)
    reply = w.read(WAIT)
    assert reply[:2] == [b"z", b"a"]
    wait_blocked(r, 0)


def test_linsert_on_other_list_does_not_serve(r, raw):
    w = waiter(r, raw, "BLPOP", "l", "0")
    r.rpush("other", "p")
    r.linsert("other", "BEFORE", "p", "x")
    assert still_blocked(r, 1)
    r.rpush("l", "a")
    assert w.read(WAIT) == [b"l", b"a"]


def test_multi_serves_after_exec(r, raw):
    w = waiter(r, raw, "BLPOP", "l", "0")
    tx = raw()
    assert tx.call("MULTI") == "OK"
    assert tx.call("RPUSH", "l", "a", "b") == "QUEUED"
    assert tx.call("RPUSH", "l", "c") == "QUEUED"
    assert still_blocked(r, 1)
    assert tx.call("EXEC") == [2, 3]
    assert w.read(WAIT) == [b"l", b"a"]
    assert r.lrange("l", 0, -1) == ["b", "c"]


def test_script_serves_after_it_ends(r, raw):
    w = waiter(r, raw, "BLPOP", "l", "0")
    # The script sees its own push whole: the waiter gets served only after.
    script = ("redis.call('rpush', KEYS[1], 'a', 'b') "
              "return redis.call('lrange', KEYS[1], 0, -1)")
    assert r.eval(script, 1, "l") == ["a", "b"]
    assert w.read(WAIT) == [b"l", b"a"]
    assert r.lrange("l", 0, -1) == ["b"]


def test_script_push_then_pop_leaves_waiter_blocked(r, raw):
    w = waiter(r, raw, "BLPOP", "l", "0")
    r.eval("redis.call('rpush', KEYS[1], 'a') return redis.call('lpop', KEYS[1])", 1, "l")
    assert still_blocked(r, 1)
    r.rpush("l", "b")
    assert w.read(WAIT) == [b"l", b"b"]


# ---- No blocking inside MULTI and scripts ----

MULTI_NULLS = {"blpop": None, "brpop": None, "blmove": None, "brpoplpush": None,
               "blmpop": None, "bzpopmin": None, "bzpopmax": None, "bzmpop": None}
MULTI_RAW = {"blpop": b"*-1\r\n", "brpop": b"*-1\r\n", "blmove": b"$-1\r\n",
             "brpoplpush": b"$-1\r\n", "blmpop": b"*-1\r\n", "bzpopmin": b"*-1\r\n",
             "bzpopmax": b"*-1\r\n", "bzmpop": b"*-1\r\n"}


@pytest.mark.parametrize("name", COMMANDS)
def test_no_block_in_multi(r, raw, name):
    c = raw()
    assert c.call("MULTI") == "OK"
    assert c.call(*command(name, "0")) == "QUEUED"
    reply = c.call_raw("EXEC")
    assert reply == b"*1\r\n" + MULTI_RAW[name]
    assert blocked(r) == 0


@pytest.mark.parametrize("name", COMMANDS)
def test_served_in_multi_when_data(r, raw, name):
    c = raw()
    fill(r, name)
    assert c.call("MULTI") == "OK"
    assert c.call(*command(name, "0")) == "QUEUED"
    assert c.call("EXEC") == [served_reply(name)]


@pytest.mark.sluice_only  # Redis 7.0 refuses the older ones from scripts; 7.2 runs them
@pytest.mark.parametrize("name", COMMANDS)
def test_no_block_in_script(r, name):
    args = command(name, "0")
    script = "return redis.call(%s)" % ", ".join("'%s'" % a for a in args)
    assert r.eval(script, 0) is None
    assert blocked(r) == 0


@pytest.mark.parametrize("name", COMMANDS)
def test_no_block_in_multi_resp3(r, raw, name):
    c = raw()
    c.call("HELLO", "3")
    assert c.call("MULTI") == "OK"
    assert c.call(*command(name, "0")) == "QUEUED"
    assert c.call_raw("EXEC") == b"*1\r\n_\r\n"


@pytest.mark.sluice_only  # as above
def test_script_pops_what_is_there(r):
    r.rpush("l", "a")
    assert r.eval("return redis.call('blpop', KEYS[1], 0)", 1, "l") == ["l", "a"]
    r.zadd("z", {"m": 2})
    assert r.eval("return redis.call('bzpopmax', KEYS[1], 0)", 1, "z") == ["z", "m", "2"]


# ---- Ending a wait from outside ----

def client_id(r, name):
    for c in r.client_list():
        if c.get("name") == name:
            return int(c["id"])
    raise AssertionError("no client named %s" % name)


def named_waiter(raw, name, args):
    w = raw()
    assert w.call("CLIENT", "SETNAME", name) == "OK"
    block(w, *args)
    return w


@pytest.mark.parametrize("name", COMMANDS)
def test_client_unblock_timeout(r, raw, name):
    w = named_waiter(raw, "waiter", command(name, "0"))
    wait_blocked(r, 1)
    assert r.execute_command("CLIENT", "UNBLOCK", client_id(r, "waiter"), "TIMEOUT") == 1
    assert w.read(WAIT) is None
    wait_blocked(r, 0)
    assert w.call("PING") == "PONG"


@pytest.mark.parametrize("name", COMMANDS)
def test_client_unblock_error(r, raw, name):
    w = named_waiter(raw, "waiter", command(name, "0"))
    wait_blocked(r, 1)
    assert r.execute_command("CLIENT", "UNBLOCK", client_id(r, "waiter"), "ERROR") == 1
    assert w.read(WAIT) == RespError(UNBLOCKED)
    wait_blocked(r, 0)
    assert w.call("PING") == "PONG"


def test_client_unblock_default_is_timeout(r, raw):
    w = named_waiter(raw, "waiter", ["BLPOP", "l", "0"])
    wait_blocked(r, 1)
    assert r.execute_command("CLIENT", "UNBLOCK", client_id(r, "waiter")) == 1
    assert w.read(WAIT) is None


def test_client_unblock_not_blocked(r, raw):
    w = raw()
    w.call("CLIENT", "SETNAME", "idle")
    assert r.execute_command("CLIENT", "UNBLOCK", client_id(r, "idle")) == 0
    assert r.execute_command("CLIENT", "UNBLOCK", 99999999) == 0
    assert r.execute_command("CLIENT", "UNBLOCK", 0) == 0
    assert r.execute_command("CLIENT", "UNBLOCK", -1) == 0


@pytest.mark.parametrize("args,error", [
    (["1", "foo"], "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"),
    (["abc"], "ERR value is not an integer or out of range"),
    (["1", "TIMEOUT", "x"],
     "ERR unknown subcommand or wrong number of arguments for 'UNBLOCK'. Try CLIENT HELP."),
])
def test_client_unblock_errors(c, args, error):
    assert error_of(c, "CLIENT", "UNBLOCK", *args) == error


def test_client_unblock_then_data_goes_to_next(r, raw):
    a = named_waiter(raw, "a", ["BLPOP", "l", "0"])
    wait_blocked(r, 1)
    b = named_waiter(raw, "b", ["BLPOP", "l", "0"])
    wait_blocked(r, 2)
    assert r.execute_command("CLIENT", "UNBLOCK", client_id(r, "a")) == 1
    assert a.read(WAIT) is None
    r.rpush("l", "x")
    assert b.read(WAIT) == [b"l", b"x"]


def test_client_kill_blocked(r, raw):
    w = named_waiter(raw, "victim", ["BLPOP", "l", "0"])
    wait_blocked(r, 1)
    assert r.execute_command("CLIENT", "KILL", "ID", client_id(r, "victim")) == 1
    assert w.is_closed()
    wait_blocked(r, 0)
    r.rpush("l", "a")
    assert r.lrange("l", 0, -1) == ["a"]


@pytest.mark.parametrize("name", COMMANDS)
def test_disconnect_cleans_up(r, raw, name):
    w = waiter(r, raw, *command(name, "0"))
    w.close()
    wait_blocked(r, 0)
    fill(r, name)
    # Nobody took it.
    assert r.exists("l") + r.exists("z") == 1


def test_disconnect_with_timeout_cleans_up(r, raw):
    w = waiter(r, raw, "BLPOP", "l", "100")
    w.close()
    wait_blocked(r, 0)
    assert r.info("clients")["clients_in_timeout_table"] == 0


@pytest.mark.parametrize("after", ["QUIT", "RESET"])
def test_quit_and_reset_wait_for_the_blocked_command(r, raw, after):
    w = raw()
    w.send(encode_command("BLPOP", "l", "0") + encode_command(after))
    wait_blocked(r, 1)
    r.rpush("l", "a")
    assert w.read(WAIT) == [b"l", b"a"]
    assert w.read(WAIT) == ("OK" if after == "QUIT" else "RESET")
    wait_blocked(r, 0)
    if after == "QUIT":
        assert w.is_closed()


def test_idle_timeout_spares_blocked_clients(r, raw):
    r.config_set("timeout", "1")
    try:
        w = raw()
        block(w, "BLPOP", "l", "0")
        wait_blocked(r, 1)
        time.sleep(2.5)
        assert blocked(r) == 1
        r.rpush("l", "a")
        assert w.read(WAIT) == [b"l", b"a"]
    finally:
        r.config_set("timeout", "0")


# ---- CLIENT LIST, INFO, COMMAND ----

def test_client_list_flag_b(r, raw):
    w = named_waiter(raw, "waiter", ["BLPOP", "l", "0"])
    wait_blocked(r, 1)
    entry = [c for c in r.client_list() if c.get("name") == "waiter"][0]
    assert "b" in entry["flags"]
    assert entry["cmd"] == "blpop"
    r.rpush("l", "a")
    assert w.read(WAIT) == [b"l", b"a"]
    entry = [c for c in r.client_list() if c.get("name") == "waiter"][0]
    assert "b" not in entry["flags"]
    info = w.call("CLIENT", "INFO").decode()
    assert "flags=N" in info


def test_client_list_id_of_blocked(r, raw):
    w = named_waiter(raw, "waiter", ["BZPOPMIN", "z", "0"])
    wait_blocked(r, 1)
    line = r.execute_command("CLIENT", "LIST", "ID", client_id(r, "waiter"))
    text = line if isinstance(line, str) else str(line)
    assert " flags=b " in text


def three_waiters(r, raw, z_timeout):
    """Blocked on a+b, on b, and on z (with `z_timeout`): three keys."""
    waiters = [raw() for _ in range(3)]
    block(waiters[0], "BLPOP", "a", "b", "0")
    block(waiters[1], "BLPOP", "b", "0")
    block(waiters[2], "BZPOPMIN", "z", z_timeout)
    wait_blocked(r, 3)
    return waiters


def test_info_blocked_fields(r, raw):
    waiters = three_waiters(r, raw, "100")
    info = r.info("clients")
    assert info["blocked_clients"] == 3
    assert info["clients_in_timeout_table"] == 1
    for w in waiters:
        w.close()
    wait_blocked(r, 0)
    assert r.info("clients")["clients_in_timeout_table"] == 0


@pytest.mark.sluice_only
def test_info_total_blocking_keys(r, raw):
    # Redis 7.2's fields.
    waiters = three_waiters(r, raw, "0")
    info = r.info("clients")
    assert info["total_blocking_keys"] == 3
    assert info["total_blocking_keys_on_nokey"] == 0
    r.rpush("a", "x")
    assert waiters[0].read(WAIT) == [b"a", b"x"]
    wait_until(lambda: r.info("clients")["total_blocking_keys"] == 2, timeout=WAIT)


@pytest.mark.parametrize("name", COMMANDS)
def test_command_info_blocking_flag(c, name):
    info = c.call("COMMAND", "INFO", name)[0]
    assert info[0] == name.encode()
    flags = info[2]
    assert "blocking" in flags and "write" in flags


@pytest.mark.parametrize("name,first,last,step", [
    ("blpop", 1, -2, 1), ("brpop", 1, -2, 1), ("blmove", 1, 2, 1), ("brpoplpush", 1, 2, 1),
    ("bzpopmin", 1, -2, 1), ("bzpopmax", 1, -2, 1)])
def test_command_info_keys(c, name, first, last, step):
    info = c.call("COMMAND", "INFO", name)[0]
    assert info[3:6] == [first, last, step]


@pytest.mark.parametrize("args,keys", [
    (["BLPOP", "a", "b", "0"], ["a", "b"]), (["BLMPOP", "0", "2", "a", "b", "LEFT"], ["a", "b"]),
    (["BZMPOP", "0", "1", "z", "MIN"], ["z"]), (["BLMOVE", "s", "d", "LEFT", "LEFT", "0"],
                                                 ["s", "d"])])
def test_command_getkeys(c, args, keys):
    assert c.call("COMMAND", "GETKEYS", *args) == [k.encode() for k in keys]


# ---- Databases ----

def test_woken_only_by_own_database(r, raw):
    w = raw()
    w.call("SELECT", "3")
    block(w, "BLPOP", "l", "0")
    wait_blocked(r, 1)
    r.rpush("l", "db0")
    other = raw()
    other.call("SELECT", "4")
    other.call("RPUSH", "l", "db4")
    assert still_blocked(r, 1)
    other.call("SELECT", "3")
    other.call("RPUSH", "l", "db3")
    assert w.read(WAIT) == [b"l", b"db3"]
    assert r.lrange("l", 0, -1) == ["db0"]


def test_move_into_watched_database(r, raw):
    w = raw()
    w.call("SELECT", "3")
    block(w, "BLPOP", "l", "0")
    wait_blocked(r, 1)
    r.rpush("l", "a")
    assert r.move("l", 3)
    assert w.read(WAIT) == [b"l", b"a"]


def test_copy_into_watched_database(r, raw):
    w = raw()
    w.call("SELECT", "2")
    block(w, "BZPOPMIN", "z", "0")
    wait_blocked(r, 1)
    r.zadd("src", {"m": 4})
    assert r.copy("src", "z", destination_db=2)
    assert w.read(WAIT) == [b"z", b"m", b"4"]


@pytest.mark.parametrize("waiting_db", [1, 5])
def test_swapdb_makes_ready(r, raw, waiting_db):
    w = raw()
    w.call("SELECT", str(waiting_db))
    block(w, "BLPOP", "l", "0")
    wait_blocked(r, 1)
    other = 5 if waiting_db == 1 else 1
    c = raw()
    c.call("SELECT", str(other))
    c.call("RPUSH", "l", "swapped")
    assert still_blocked(r, 1)
    assert r.swapdb(waiting_db, other)
    assert w.read(WAIT) == [b"l", b"swapped"]


def test_flushdb_does_not_serve(r, raw):
    w = raw()
    w.call("SELECT", "3")
    block(w, "BLPOP", "l", "0")
    wait_blocked(r, 1)
    c = raw()
    c.call("SELECT", "3")
    c.call("FLUSHDB")
    r.flushall()
    assert still_blocked(r, 1)
    c.call("RPUSH", "l", "a")
    assert w.read(WAIT) == [b"l", b"a"]


@pytest.mark.concurrency
@pytest.mark.parametrize("threads", [1, 2])
def test_waiters_in_many_databases(threaded, threads):
    s, r = threaded(threads)
    waiters = []
    try:
        for db in range(8):
            w = s.raw()
            waiters.append(w)
            w.call("SELECT", str(db))
            block(w, "BLPOP", "k", "0")
            wait_blocked(r, db + 1)
        for db in reversed(range(8)):
            with s.raw() as p:
                p.call("SELECT", str(db))
                p.call("RPUSH", "k", "v%d" % db)
        for db, w in enumerate(waiters):
            assert w.read(WAIT) == [b"k", b"v%d" % db]
    finally:
        for w in waiters:
            w.close()


# ---- RESP3 ----

def test_resp3_bzpop_double_score(r, raw):
    w = raw()
    w.call("HELLO", "3")
    r.zadd("z", {"a": 1.5})
    assert w.call_raw("BZPOPMIN", "z", "0") == b"*3\r\n$1\r\nz\r\n$1\r\na\r\n,1.5\r\n"


def test_resp3_bzpop_woken(r, raw):
    w = raw()
    w.call("HELLO", "3")
    block(w, "BZPOPMAX", "z", "0")
    wait_blocked(r, 1)
    r.zadd("z", {"a": 2})
    assert w.read_raw(WAIT) == b"*3\r\n$1\r\nz\r\n$1\r\na\r\n,2\r\n"


def test_resp3_bzmpop(r, raw):
    w = raw()
    w.call("HELLO", "3")
    r.zadd("z", {"a": 1})
    assert w.call_raw("BZMPOP", "0", "1", "z", "MIN") == (
        b"*2\r\n$1\r\nz\r\n*1\r\n*2\r\n$1\r\na\r\n,1\r\n")


def test_resp3_blpop_woken(r, raw):
    w = raw()
    w.call("HELLO", "3")
    block(w, "BLPOP", "l", "0")
    wait_blocked(r, 1)
    r.rpush("l", "a")
    assert w.read_raw(WAIT) == b"*2\r\n$1\r\nl\r\n$1\r\na\r\n"


def test_resp3_client_unblock_timeout_is_null(r, raw):
    w = raw()
    w.call("HELLO", "3")
    w.call("CLIENT", "SETNAME", "w3")
    block(w, "BLMOVE", "l", "d", "LEFT", "LEFT", "0")
    wait_blocked(r, 1)
    assert r.execute_command("CLIENT", "UNBLOCK", client_id(r, "w3")) == 1
    assert w.read_raw(WAIT) == b"_\r\n"


# ---- Many clients ----

def _open_blocked(port, n, prefix):
    socks = []
    for i in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
        s.sendall(encode_command("BLPOP", "%s%d" % (prefix, i % 50), "0"))
        socks.append(s)
    return socks


@pytest.mark.concurrency
def test_thousand_idle_blocked_clients_stay_responsive(start_server):
    s = start_server("--io-threads", "2")
    r = s.client()
    socks = _open_blocked(s.port, 1000, "k")
    try:
        wait_until(lambda: blocked(r) == 1000, timeout=60, interval=0.1,
                   message="1000 blocked clients")
        assert r.ping()
        # Every one of them is still served, in order per key.
        for i in range(50):
            r.rpush("k%d" % i, *["v"] * 20)
        wait_until(lambda: blocked(r) == 0, timeout=60, interval=0.1,
                   message="every client served")
        assert r.dbsize() == 0
    finally:
        for sock in socks:
            sock.close()


def _cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


@pytest.mark.heavy
def test_idle_blocked_clients_cost_no_cpu(start_server):
    """Ten thousand idle blocked clients (fewer if this process may not open that many
    sockets): no CPU, a bounded memory cost each, the server still answers."""
    import resource
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    n = max(1000, min(10_000, soft - 300))
    s = start_server("--io-threads", "2", "--maxclients", str(n + 100))
    r = s.client()
    rss_before = _rss_kb(s.proc.pid)
    socks = _open_blocked(s.port, n, "idle")
    try:
        wait_until(lambda: blocked(r) == n, timeout=120, interval=0.1,
                   message="%d blocked clients" % n)
        before = _cpu_seconds(s.proc.pid)
        time.sleep(2)
        spent = _cpu_seconds(s.proc.pid) - before
        # Generous: a busy-polling server would burn ~2 s per thread here.
        assert spent < 0.5, "server used %.2fs of CPU in 2s with idle blocked clients" % spent
        # Each costs a connection's buffers and a registry entry: well under 64 KiB.
        per_client_kb = (_rss_kb(s.proc.pid) - rss_before) / n
        assert per_client_kb < 64, "%.1f KiB of RSS per blocked client" % per_client_kb
        assert r.ping()
    finally:
        for sock in socks:
            sock.close()
    wait_until(lambda: blocked(r) == 0, timeout=60, interval=0.1)


@pytest.mark.concurrency
@pytest.mark.parametrize("threads", [2, 4])
def test_concurrent_pushers_and_waiters(threaded, threads):
    """Waiters on several threads, pushers on several others: every element
    reaches exactly one waiter."""
    import threading
    s, r = threaded(threads)
    n = 40
    got = []
    lock = threading.Lock()

    def wait_one(i):
        with s.raw(timeout=30) as w:
            reply = w.call("BLPOP", "q", "30")
            with lock:
                got.append(reply)

    def push(i):
        with s.raw(timeout=30) as p:
            p.call("RPUSH", "q", "e%d" % i)

    threads_ = [threading.Thread(target=wait_one, args=(i,), daemon=True) for i in range(n)]
    for t in threads_:
        t.start()
    wait_until(lambda: blocked(r) >= n // 2, timeout=30, interval=0.02)
    pushers = [threading.Thread(target=push, args=(i,), daemon=True) for i in range(n)]
    for t in pushers:
        t.start()
    for t in pushers + threads_:
        t.join(60)
    assert not any(t.is_alive() for t in pushers + threads_)
    assert sorted(v[1] for v in got) == sorted(b"e%d" % i for i in range(n))
    assert r.llen("q") == 0
    assert blocked(r) == 0


@pytest.mark.concurrency
@pytest.mark.parametrize("threads", [2, 3])
def test_handover_under_churn(threaded, threads):
    """Waiters on every thread served by pushers on the others while they
    time out, pipeline commands after the blocking one, get CLIENT UNBLOCKed
    and disconnect: every element is popped exactly once or left in the
    list, every pipelined reply arrives in order, and the server ends with
    nobody blocked."""
    import random
    import threading
    s, r = threaded(threads)
    rounds, waiters, pushers, per_pusher = 120, 8, 3, 60
    popped, errors = [], []
    lock = threading.Lock()
    stop = threading.Event()

    def waiter(seed):
        rnd = random.Random(seed)
        conn = s.raw(timeout=30)
        try:
            for i in range(rounds):
                if stop.is_set():
                    break
                kind = rnd.randrange(4)
                if kind == 0:  # a blocking pop with a pipelined tail
                    conn.send(encode_command("BLPOP", "q", "0.05") +
                              encode_command("ECHO", "tail%d" % i))
                    reply, tail = conn.read_many(2, 30)
                    assert tail == b"tail%d" % i
                elif kind == 1:  # a plain short wait
                    reply = conn.call("BRPOP", "q", "0.02")
                elif kind == 2:  # a move into a list another waiter watches
                    reply = conn.call("BLMOVE", "q", "q2", "LEFT", "RIGHT", "0.03")
                    if reply is not None:
                        reply = [b"q2", reply]
                        with lock:
                            popped.append(("moved", reply[1]))
                        reply = conn.call("BLPOP", "q2", "0.05")
                else:  # leave in the middle of a wait, come back
                    conn.send(encode_command("BLPOP", "q", "0"))
                    time.sleep(rnd.random() * 0.01)
                    conn.close()
                    conn = s.raw(timeout=30)
                    continue
                if reply is not None:
                    with lock:
                        popped.append((reply[0], reply[1]))
        except Exception as e:  # reported below: a thread's assert is lost otherwise
            errors.append(repr(e))
        finally:
            conn.close()

    def pusher(p):
        with s.raw(timeout=30) as conn:
            for i in range(per_pusher):
                conn.send(encode_command("RPUSH", "q", "p%d-%d" % (p, i)) +
                          encode_command("LLEN", "q"))
                conn.read_many(2, 30)
                time.sleep(0.002)

    def unblocker():
        while not stop.is_set():
            ids = [c["id"] for c in r.client_list() if "b" in c.get("flags", "")]
            for cid in ids[:2]:
                r.execute_command("CLIENT", "UNBLOCK", cid)
            time.sleep(0.01)

    ts = [threading.Thread(target=waiter, args=(w,), daemon=True) for w in range(waiters)]
    ts += [threading.Thread(target=pusher, args=(p,), daemon=True) for p in range(pushers)]
    u = threading.Thread(target=unblocker, daemon=True)
    for t in ts:
        t.start()
    u.start()
    for t in ts:
        t.join(90)
    stop.set()
    u.join(30)
    assert not any(t.is_alive() for t in ts + [u])
    assert errors == []
    # A waiter that left mid-wait may have been served just before: its pop
    # is in neither list then, so count what is still there and what the
    # survivors got, and check nothing was delivered twice.
    final = [("q", v) for v in r.lrange("q", 0, -1)] + [("q2", v) for v in r.lrange("q2", 0, -1)]
    got = [v for k, v in popped if k != "moved"]
    assert len(got) == len(set(got)), "an element was delivered twice"
    everything = {"p%d-%d" % (p, i) for p in range(pushers) for i in range(per_pusher)}
    seen = {v.decode() if isinstance(v, bytes) else v for v in got} | {v for _, v in final}
    assert seen <= everything
    wait_until(lambda: blocked(r) == 0, timeout=WAIT, interval=0.02)
    assert r.ping()


# ---- Alongside other features ----

@pytest.mark.parametrize("args,push,events", [
    (["BLPOP", "l", "0"], ("RPUSH", "l", "a"), ["rpush", "lpop", "del"]),
    (["BLMOVE", "l", "d", "LEFT", "RIGHT", "0"], ("RPUSH", "l", "a"),
     ["rpush", "rpush", "lpop", "del"]),
    (["BZPOPMAX", "z", "0"], ("ZADD", "z", "1", "a"), ["zadd", "zpopmax", "del"]),
])
def test_keyspace_events_of_a_served_pop(r, raw, notify, args, push, events):
    sub = raw()
    notify("KEA")
    sub.call("PSUBSCRIBE", "__keyevent@0__:*")
    w = waiter(r, raw, *args)
    r.execute_command(*push)
    w.read(WAIT)
    got = [sub.read(WAIT)[2].decode().split(":")[-1] for _ in events]
    assert got == events


def test_blocked_client_woken_after_hello3(r, raw):
    w = raw()
    assert w.call("HELLO", "3")
    block(w, "BLMPOP", "0", "1", "l", "LEFT")
    wait_blocked(r, 1)
    r.rpush("l", "x")
    assert w.read_raw(WAIT) == b"*2\r\n$1\r\nl\r\n*1\r\n$1\r\nx\r\n"


@pytest.mark.concurrency
def test_woken_while_a_script_is_busy_on_its_thread(start_server):
    """The waiter's I/O thread runs a script past busy-reply-threshold when the
    push wakes it: it is served once the script is over (with two threads,
    connections a and c share one)."""
    s = start_server("--io-threads", "2")
    r = s.client()
    r.config_set("busy-reply-threshold", "100")
    a, b, c = s.raw(), s.raw(), s.raw()
    try:
        block(a, "BLPOP", "l", "0")
        wait_blocked(r, 1)
        spin = ("local t = redis.call('TIME') local stop = t[1] * 1000000 + t[2] + 600000 "
                "repeat t = redis.call('TIME') until t[1] * 1000000 + t[2] > stop return 1")
        c.send(encode_command("EVAL", spin, "0"))
        # Pushed while the script runs: before it turns busy, or refused with
        # BUSY (then pushed again once it is over).
        def push():
            reply = b.call("RPUSH", "l", "a")
            return not isinstance(reply, RespError)
        wait_until(push, timeout=WAIT, interval=0.05, message="the push")
        assert a.read(WAIT) == [b"l", b"a"]
        assert c.read(WAIT) == 1
    finally:
        for conn in (a, b, c):
            conn.close()
