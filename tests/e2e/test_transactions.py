"""MULTI / EXEC / DISCARD / WATCH / UNWATCH: queueing, errors before and
during EXEC, optimistic locking with WATCH (changes by other clients, by
expiry, by FLUSHALL and SWAPDB), redis-py's transactional pipelines, and
atomicity against concurrent readers and writers. Every expectation here was
checked against redis-server 7.0."""

import ctypes
import threading
import time

import pytest
import redis

from conftest import IS_REDIS, SANITIZER
from helpers import RespError, run_threads, wait_until

SCALE = 4 if SANITIZER else 1
EXECABORT = "EXECABORT Transaction discarded because of previous errors."




# ---- queueing and EXEC ------------------------------------------------------

def test_commands_are_queued_and_run_by_exec(c):
    assert c.call_raw("MULTI") == b"+OK\r\n"
    assert c.call_raw("SET", "a", "1") == b"+QUEUED\r\n"
    assert c.call_raw("INCR", "a") == b"+QUEUED\r\n"
    assert c.call_raw("GET", "a") == b"+QUEUED\r\n"
    assert c.call_raw("EXEC") == b"*3\r\n+OK\r\n:2\r\n$1\r\n2\r\n"
    assert c.call("GET", "a") == b"2"


def test_queued_commands_do_not_run_before_exec(server, c):
    other = server.client()
    c.call("MULTI")
    c.call("SET", "k", "v")
    assert other.get("k") is None
    assert c.call("EXEC") == ["OK"]
    assert other.get("k") == "v"
    other.close()


def test_empty_transaction(c):
    assert c.call("MULTI") == "OK"
    assert c.call_raw("EXEC") == b"*0\r\n"


def test_runtime_errors_are_returned_inside_exec(c):
    c.call("SET", "s", "abc")
    c.call("MULTI")
    assert c.call("INCR", "s") == "QUEUED"
    assert c.call("SET", "t", "1") == "QUEUED"
    assert c.call_raw("EXEC") == (b"*2\r\n-ERR value is not an integer or out of range\r\n"
                                  b"+OK\r\n")
    assert c.call("GET", "t") == b"1"


def test_unknown_command_aborts_exec(c):
    c.call("MULTI")
    assert c.call("NOPE") == RespError(
        "ERR unknown command 'NOPE', with args beginning with: ")
    assert c.call("SET", "x", "1") == "QUEUED"
    assert c.call("EXEC") == RespError(EXECABORT)
    assert c.call("EXISTS", "x") == 0
    # The transaction is over.
    assert c.call("EXEC") == RespError("ERR EXEC without MULTI")


def test_wrong_arity_aborts_exec(c):
    c.call("MULTI")
    assert c.call("GET") == RespError("ERR wrong number of arguments for 'get' command")
    assert c.call("EXEC") == RespError(EXECABORT)


def test_command_not_allowed_in_multi_aborts_exec(c):
    c.call("MULTI")
    assert c.call("SHUTDOWN", "NOSAVE") == RespError(
        "ERR Command not allowed inside a transaction")
    assert c.call("EXEC") == RespError(EXECABORT)


def test_discard_drops_the_queue(c):
    c.call("MULTI")
    c.call("SET", "x", "1")
    assert c.call("DISCARD") == "OK"
    assert c.call("EXISTS", "x") == 0
    assert c.call("DISCARD") == RespError("ERR DISCARD without MULTI")


def test_discard_after_a_queueing_error(c):
    c.call("MULTI")
    c.call("GET")
    assert c.call("DISCARD") == "OK"
    assert c.call("MULTI") == "OK"
    assert c.call("SET", "x", "1") == "QUEUED"
    assert c.call("EXEC") == ["OK"]


def test_nested_multi_is_an_error_but_keeps_the_transaction(c):
    c.call("MULTI")
    assert c.call("MULTI") == RespError("ERR MULTI calls can not be nested")
    assert c.call("SET", "a", "1") == "QUEUED"
    assert c.call("EXEC") == ["OK"]


def test_watch_inside_multi_is_refused(c):
    c.call("MULTI")
    assert c.call("WATCH", "x") == RespError("ERR WATCH inside MULTI is not allowed")
    assert c.call("SET", "a", "2") == "QUEUED"
    assert c.call("EXEC") == ["OK"]


def test_exec_and_discard_without_multi(c):
    assert c.call("EXEC") == RespError("ERR EXEC without MULTI")
    assert c.call("DISCARD") == RespError("ERR DISCARD without MULTI")
    assert c.call("UNWATCH") == "OK"


EXEC_ARITY_ABORT = RespError("EXECABORT Transaction discarded because of: wrong number of "
                             "arguments for 'exec' command")


def test_refused_exec_discards_the_transaction(server, c):
    # In MULTI: the transaction is gone, its commands never run.
    assert c.call("MULTI") == "OK"
    assert c.call("SET", "x", "1") == "QUEUED"
    assert c.call("EXEC", "extra") == EXEC_ARITY_ABORT
    assert c.call("EXEC") == RespError("ERR EXEC without MULTI")
    assert c.call("GET", "x") is None
    # Outside MULTI it says the same, and drops the watched keys.
    assert c.call("WATCH", "w") == "OK"
    assert c.call("exec", "extra") == EXEC_ARITY_ABORT
    other = server.raw()
    try:
        assert other.call("SET", "w", "changed") == "OK"
    finally:
        other.close()
    assert c.call("MULTI") == "OK"
    assert c.call("EXEC") == []


def test_unauthenticated_exec_is_an_execabort(start_server):
    s = start_server("--requirepass", "pw")
    c = s.raw()
    try:
        assert c.call("EXEC") == RespError(
            "EXECABORT Transaction discarded because of: NOAUTH Authentication required.")
    finally:
        c.close()


def test_reset_leaves_multi(c):
    c.call("MULTI")
    c.call("SET", "a", "1")
    assert c.call_raw("RESET") == b"+RESET\r\n"
    assert c.call("EXEC") == RespError("ERR EXEC without MULTI")
    assert c.call("EXISTS", "a") == 0


def test_quit_inside_multi_closes_without_running(server, c):
    c.call("MULTI")
    c.call("SET", "a", "1")
    assert c.call("QUIT") == "OK"
    assert c.is_closed()
    other = server.client()
    assert other.exists("a") == 0
    other.close()


def test_select_inside_multi_applies_to_later_commands(c):
    c.call("MULTI")
    c.call("SELECT", "1")
    c.call("SET", "q", "1")
    assert c.call("EXEC") == ["OK", "OK"]
    assert c.call("GET", "q") == b"1"
    c.call("SELECT", "0")
    assert c.call("EXISTS", "q") == 0


def test_cross_database_commands_inside_exec(c):
    c.call("SET", "k", "v")
    c.call("MULTI")
    c.call("MOVE", "k", "2")
    c.call("COPY", "k", "k2", "DB", "0")
    c.call("KEYS", "*")
    c.call("DBSIZE")
    c.call("FLUSHDB")
    assert c.call("EXEC") == [1, 0, [], 0, "OK"]
    c.call("SELECT", "2")
    assert c.call("GET", "k") == b"v"


def test_client_list_shows_multi(c):
    c.call("MULTI")
    c.call("SET", "x", "1")
    c.call("CLIENT", "INFO")
    ok, info = c.call("EXEC")
    assert ok == "OK"
    assert b" flags=x " in info and b" multi=2 " in info
    info = c.call("CLIENT", "INFO")
    assert b" flags=N " in info and b" multi=-1 " in info


def test_resp3_exec_replies(raw):
    c = raw()
    c.call("HELLO", "3")
    c.call("WATCH", "z")
    c.call("SET", "z", "1")
    c.call("MULTI")
    c.call("GET", "z")
    assert c.call_raw("EXEC") == b"_\r\n"
    c.call("MULTI")
    c.call("GET", "z")
    assert c.call_raw("EXEC") == b"*1\r\n$1\r\n1\r\n"


# ---- WATCH ------------------------------------------------------------------

def test_watch_then_change_by_another_client_aborts(server, c):
    c.call("SET", "w", "1")
    assert c.call("WATCH", "w") == "OK"
    other = server.client()
    other.set("w", "2")
    other.close()
    c.call("MULTI")
    c.call("SET", "w", "3")
    assert c.call_raw("EXEC") == b"*-1\r\n"
    assert c.call("GET", "w") == b"2"


def test_watch_then_change_by_the_same_client_aborts(c):
    c.call("WATCH", "w")
    c.call("SET", "w", "1")
    c.call("MULTI")
    c.call("PING")
    assert c.call("EXEC") is None


def test_watched_key_unchanged_lets_exec_run(c):
    c.call("SET", "w", "1")
    c.call("WATCH", "w")
    c.call("GET", "w")  # reading is not a change
    c.call("MULTI")
    c.call("SET", "w", "2")
    assert c.call("EXEC") == ["OK"]
    # EXEC forgot the watch: a later change does not affect the next one.
    c.call("SET", "w", "3")
    c.call("MULTI")
    c.call("PING")
    assert c.call("EXEC") == ["PONG"]


def test_expire_counts_as_a_change(c):
    c.call("SET", "w", "1")
    c.call("WATCH", "w")
    c.call("EXPIRE", "w", "100")
    c.call("MULTI")
    c.call("PING")
    assert c.call("EXEC") is None


def test_watched_key_that_expires_aborts_exec(c):
    c.call("SET", "p", "1", "PX", "100")
    c.call("WATCH", "p")
    time.sleep(0.25)
    c.call("MULTI")
    c.call("PING")
    assert c.call("EXEC") is None


def test_watched_key_that_expires_after_multi_aborts_exec(c):
    c.call("SET", "p", "1", "PX", "100")
    c.call("WATCH", "p")
    c.call("MULTI")
    c.call("PING")
    time.sleep(0.25)
    assert c.call("EXEC") is None


def test_unwatch_forgets_changes(c):
    c.call("WATCH", "w")
    c.call("SET", "w", "1")
    assert c.call("UNWATCH") == "OK"
    c.call("MULTI")
    c.call("PING")
    assert c.call("EXEC") == ["PONG"]


def test_discard_unwatches(c):
    c.call("WATCH", "w")
    c.call("MULTI")
    c.call("DISCARD")
    c.call("SET", "w", "1")
    c.call("MULTI")
    c.call("PING")
    assert c.call("EXEC") == ["PONG"]


def test_watched_key_deleted_or_renamed_aborts(c):
    for change in (("DEL", "w"), ("RENAME", "w", "w2"), ("MOVE", "w", "1")):
        c.call("FLUSHALL")
        c.call("SET", "w", "1")
        c.call("WATCH", "w")
        c.call(*change)
        c.call("MULTI")
        c.call("PING")
        assert c.call("EXEC") is None, change


def test_watched_key_created_by_rename_target_aborts(c):
    c.call("SET", "src", "1")
    c.call("WATCH", "dst")
    c.call("RENAME", "src", "dst")
    c.call("MULTI")
    c.call("PING")
    assert c.call("EXEC") is None


def test_watch_key_of_another_database(c):
    c.call("WATCH", "k")
    c.call("SELECT", "1")
    c.call("SET", "k", "1")  # db 1: not the watched key
    c.call("SELECT", "0")
    c.call("MULTI")
    c.call("PING")
    assert c.call("EXEC") == ["PONG"]


def test_flushall_aborts_when_the_watched_key_existed(c):
    c.call("SET", "ex", "1")
    c.call("WATCH", "ex")
    c.call("FLUSHALL")
    c.call("MULTI")
    c.call("PING")
    assert c.call("EXEC") is None


def test_flushall_of_an_absent_watched_key_is_no_change(c):
    c.call("WATCH", "nx")
    c.call("FLUSHALL")
    c.call("MULTI")
    c.call("PING")
    assert c.call("EXEC") == ["PONG"]


def test_flushdb_async_aborts(c):
    c.call("SET", "ex", "1")
    c.call("WATCH", "ex")
    c.call("FLUSHDB", "ASYNC")
    c.call("MULTI")
    c.call("PING")
    assert c.call("EXEC") is None


def test_swapdb_aborts_when_the_watched_key_appears(c):
    c.call("SELECT", "1")
    c.call("SET", "k", "1")
    c.call("SELECT", "0")
    c.call("WATCH", "k")
    c.call("SWAPDB", "0", "1")
    c.call("MULTI")
    c.call("PING")
    assert c.call("EXEC") is None


def test_swapdb_of_a_key_absent_on_both_sides_is_no_change(c):
    c.call("WATCH", "k")
    c.call("SWAPDB", "0", "1")
    c.call("MULTI")
    c.call("PING")
    assert c.call("EXEC") == ["PONG"]


def test_watch_of_many_keys_one_changed(server, c):
    keys = ["wk:%d" % i for i in range(50)]
    c.call("WATCH", *keys)
    other = server.client()
    other.set(keys[37], "x")
    other.close()
    c.call("MULTI")
    c.call("PING")
    assert c.call("EXEC") is None


def test_watching_client_disconnects(server, r):
    # A client that watched and went away leaves nothing behind that breaks
    # other clients' writes or transactions.
    for _ in range(20):
        c = server.client()
        c.watch("gone")
        c.close()
    r.set("gone", "1")
    p = r.pipeline(transaction=True)
    p.watch("gone")
    p.multi()
    p.set("gone", "2")
    assert p.execute() == [True]


# ---- redis-py ---------------------------------------------------------------

def test_redis_py_transactional_pipeline(r):
    p = r.pipeline(transaction=True)
    p.set("a", "1").incr("a").get("a").mget("a", "b")
    assert p.execute() == [True, 2, "2", ["2", None]]


def test_redis_py_pipeline_with_a_runtime_error(r):
    r.set("s", "abc")
    p = r.pipeline(transaction=True)
    p.set("t", "1").incr("s")
    with pytest.raises(redis.ResponseError):
        p.execute()
    assert r.get("t") == "1"
    p = r.pipeline(transaction=True)
    p.set("u", "1").incr("s")
    out = p.execute(raise_on_error=False)
    assert out[0] is True and isinstance(out[1], redis.ResponseError)


def test_redis_py_transaction_helper_retries_on_watch_error(server, r):
    r.set("n", "10")
    attempts = []

    def body(pipe):
        attempts.append(1)
        value = int(pipe.get("n"))
        if len(attempts) == 1:
            other = server.client()
            other.incr("n")  # makes the first attempt fail
            other.close()
        pipe.multi()
        pipe.set("n", value * 2)

    assert r.transaction(body, "n") == [True]
    assert len(attempts) == 2
    assert r.get("n") == "22"


def test_redis_py_watch_error(server, r):
    with r.pipeline() as p:
        p.watch("k")
        r.set("k", "changed")
        p.multi()
        p.set("k", "mine")
        with pytest.raises(redis.WatchError):
            p.execute()
    assert r.get("k") == "changed"


# ---- concurrency ------------------------------------------------------------

@pytest.mark.concurrency
def test_optimistic_locking_counter_is_exact(server, r):
    per_thread = 150 // SCALE
    r.set("counter", "0")

    def work(i):
        c = server.client()
        try:
            done = 0
            while done < per_thread:
                with c.pipeline() as p:
                    try:
                        p.watch("counter")
                        value = int(p.get("counter"))
                        p.multi()
                        p.set("counter", value + 1)
                        p.execute()
                        done += 1
                    except redis.WatchError:
                        continue
        finally:
            c.close()
    run_threads(work, 8)
    assert int(r.get("counter")) == 8 * per_thread


@pytest.mark.concurrency
def test_readers_never_see_half_a_transaction(server, r):
    rounds = 1500 // SCALE
    r.mset({"a": "0", "b": "0"})
    stop = threading.Event()
    seen = []

    def writer():
        c = server.client()
        try:
            for i in range(rounds):
                p = c.pipeline(transaction=True)
                p.set("a", i).set("b", i)
                p.execute()
        finally:
            stop.set()
            c.close()

    def reader(_):
        c = server.client()
        try:
            while not stop.is_set():
                a, b = c.mget("a", "b")
                assert a == b, (a, b)
                seen.append(a)
        finally:
            c.close()

    t = threading.Thread(target=writer, daemon=True)
    t.start()
    run_threads(reader, 4)
    t.join(60)
    assert not t.is_alive()
    assert seen  # the readers did run
    assert r.mget("a", "b") == [str(rounds - 1)] * 2


@pytest.mark.concurrency
def test_concurrent_transfers_keep_the_total(start_server):
    # Transactions over overlapping keys (and keyless ones, which lock every
    # shard) from many clients neither deadlock nor lose updates. A small
    # keyspace on sluice: ThreadSanitizer's deadlock detector can track at
    # most 64 locks held at once by one thread.
    server = start_server("--databases", "2") if IS_REDIS else start_server(
        "--databases", "2", "--shards", "16")
    r = server.client()
    accounts = ["acct:%d" % i for i in range(16)]
    r.mset({a: 100 for a in accounts})
    per_thread = 200 // SCALE

    def work(i):
        c = server.client()
        try:
            for j in range(per_thread):
                src = accounts[(i * 7 + j) % 16]
                dst = accounts[(i * 3 + j * 5 + 1) % 16]
                p = c.pipeline(transaction=True)
                p.decrby(src, 1).incrby(dst, 1)
                if j % 10 == 0:
                    p.dbsize()
                p.execute()
        finally:
            c.close()
    run_threads(work, 8)
    assert sum(int(v) for v in r.mget(accounts)) == 1600
    r.close()


# ---- what EXEC locks ---------------------------------------------------------------------------

BUSY_SCRIPT = ("local t = redis.call('time') "
               "local deadline = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000 + 2000 "
               "local i = 0 while true do i = i + 1 if i % 10000 == 0 then "
               "local n = redis.call('time') if tonumber(n[1]) * 1000 + tonumber(n[2]) / 1000 > "
               "deadline then break end end end return redis.call('get', KEYS[1])")


def shard_of(key, shards):
    """sluice's shard of `key`: XXH3_64bits(key) & (shards - 1) (DESIGN.md), computed
    with the same libxxhash the server links."""
    xxh = ctypes.CDLL("libxxhash.so.0")
    xxh.XXH3_64bits.restype = ctypes.c_uint64
    xxh.XXH3_64bits.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
    return xxh.XXH3_64bits(key.encode(), len(key)) & (shards - 1)


@pytest.mark.sluice_only  # redis-server runs nothing else while a script runs
def test_exec_locks_only_the_shards_of_its_keys(start_server):
    # A script holds the shard of "held" for about 2 s on one I/O thread; a
    # transaction from the other thread must not wait for it: PING, ECHO and
    # PUBLISH need no lock, and the keys below are in other shards. (A lock
    # wait blocks the waiting I/O thread, so nothing here may touch that shard.)
    # Two databases: SIGTERM's save locks every shard, and ThreadSanitizer's
    # deadlock detector follows at most 64 locks held by one thread.
    s = start_server("--io-threads", "2", "--shards", "4", "--databases", "2")
    keys = [k for k in ("k%d" % i for i in range(20)) if shard_of(k, 4) != shard_of("held", 4)]
    runner = s.client()
    runner.ping()
    other = s.client()
    other.ping()
    result = {}

    def run():
        result["reply"] = runner.eval(BUSY_SCRIPT, 1, "held")

    t = threading.Thread(target=run, daemon=True)
    t.start()
    wait_until(lambda: any(c.get("cmd") == "eval" for c in other.client_list()),
               timeout=10, message="the script to start")
    pipe = other.pipeline(transaction=True)
    pipe.ping().echo("x").publish("ch", "m")
    assert pipe.execute() == [True, "x", 0]
    assert t.is_alive(), "the keyless transaction waited for the script"
    pipe = other.pipeline(transaction=True)
    pipe.ping().set(keys[0], "v").incr(keys[1]).get(keys[0])
    assert pipe.execute() == [True, True, 1, "v"]
    assert t.is_alive(), "the transaction waited for a shard it does not use"
    t.join(15)
    assert result["reply"] is None
