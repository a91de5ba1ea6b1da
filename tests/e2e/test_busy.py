"""Nothing a looping script does wedges the server.

A script that never ends (`while true do end`) holds the shard of its key.
Other clients must keep getting answers: before busy-reply-threshold their
commands run or wait briefly, past it they get Redis's BUSY error, whether
they are served by the script's own I/O thread or another one, whether they
send a GET on the script's key, PING, MULTI/EXEC or connect anew. SCRIPT KILL
ends the script and SIGTERM ends the process. These are the cases that wedged
the server before the gate path and lock planner (every wait is bounded now).
"""

import os
import signal
import socket
import threading
import time

import pytest
import redis

from conftest import IS_REDIS, SANITIZER
from helpers import Push, RawConn, RespError, encode_command, wait_until

BUSY = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
EXECABORT_BUSY = "EXECABORT Transaction discarded because of: " + BUSY
THRESHOLD_MS = 100
# How long a client may wait for BUSY or its reply. The threshold is 100 ms;
# sanitizer builds are several times slower.
ANSWER_WITHIN = 1.0 if not SANITIZER else 3.0


def _loop_in_thread(port, key="k"):
    """Starts `EVAL 'while true do end' 1 key` on its own connection;
    returns (thread, result dict)."""
    client = redis.Redis(port=port, decode_responses=True, socket_timeout=30)
    client.ping()
    result = {}

    def run():
        try:
            result["reply"] = client.eval("while true do end", 1, key)
        except redis.ResponseError as e:
            result["error"] = str(e)
        except redis.RedisError as e:  # connection closed by shutdown
            result["closed"] = str(e)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, result


def _timed(fn):
    start = time.monotonic()
    value = fn()
    return value, time.monotonic() - start


def _answered(reply):
    """BUSY, or a real reply."""
    return reply == RespError(BUSY) or not isinstance(reply, RespError)


def _wait_busy(conn):
    """Waits until the server says BUSY to `conn` (the script passed the threshold)."""
    def busy():
        reply = conn.call("PING")
        return reply == RespError(BUSY)
    wait_until(busy, timeout=10, message="BUSY")


@pytest.mark.parametrize("threads", [1, 2, 4])
def test_looping_script_leaves_every_client_an_answer(start_server, threads):
    s = start_server("--io-threads", str(threads), "--busy-reply-threshold", str(THRESHOLD_MS))
    others = [s.raw() for _ in range(8)]
    runner_thread, result = _loop_in_thread(s.port)
    # Connections are spread round-robin over the I/O threads: the 8 above and
    # the script's cover every thread, the script's own included.
    _wait_busy(others[0])
    for conn in others:
        for args in (("GET", "k"), ("PING",), ("SET", "k", "v"), ("GET", "other")):
            reply, took = _timed(lambda: conn.call(*args))
            assert _answered(reply), (args, reply)
            assert reply == RespError(BUSY), (args, reply)
            assert took < ANSWER_WITHIN, (args, took)
        # MULTI is allowed while busy, the commands after it are refused (as
        # in Redis), and EXEC is refused and discards the transaction.
        assert conn.call("MULTI") == "OK"
        assert conn.call("SET", "k", "1") == RespError(BUSY)
        reply, took = _timed(lambda: conn.call("EXEC"))
        assert reply == RespError(EXECABORT_BUSY)
        assert took < ANSWER_WITHIN
        assert conn.call("GET", "k") == RespError(BUSY)  # not in MULTI any more
    # New connections are accepted and answered too.
    for _ in range(threads * 2):
        reply, took = _timed(lambda: RawConn(s.port).call("GET", "k"))
        assert reply == RespError(BUSY)
        assert took < ANSWER_WITHIN
    assert others[3].call("SCRIPT", "KILL") == "OK"
    runner_thread.join(10)
    assert not runner_thread.is_alive()
    assert "Script killed by user with SCRIPT KILL" in result["error"]
    # Everyone is served normally afterwards.
    for conn in others:
        assert conn.call("PING") == "PONG"
        assert conn.call("SET", "k", "v") == "OK"
        assert conn.call("GET", "k") == b"v"


def test_clients_waiting_on_the_scripts_key_get_busy_at_the_threshold(start_server):
    # These clients arrive before the threshold, while the script holds the
    # key's shard: they wait (bounded) and get BUSY once it is passed.
    s = start_server("--io-threads", "2", "--busy-reply-threshold", "300")
    conns = [s.raw() for _ in range(4)]
    runner_thread, result = _loop_in_thread(s.port)
    time.sleep(0.1)  # the script has started and holds k's shard
    replies = [None] * len(conns)

    def get(i):
        replies[i] = conns[i].call("GET", "k")
    workers = [threading.Thread(target=get, args=(i,), daemon=True) for i in range(len(conns))]
    for w in workers:
        w.start()
    for w in workers:
        w.join(5)
    assert all(not w.is_alive() for w in workers)
    for reply in replies:
        assert reply in (RespError(BUSY), None), reply
    assert RespError(BUSY) in replies
    assert conns[1].call("SCRIPT", "KILL") == "OK"
    runner_thread.join(10)
    assert "Script killed" in result["error"]
    assert conns[2].call("GET", "k") is None


def test_exec_touching_the_scripts_key_is_aborted_with_busy(start_server):
    s = start_server("--io-threads", "2", "--busy-reply-threshold", "200")
    tx = s.raw()
    assert tx.call("MULTI") == "OK"
    assert tx.call("INCR", "k") == "QUEUED"
    runner_thread, result = _loop_in_thread(s.port)
    time.sleep(0.05)
    reply, took = _timed(lambda: tx.call("EXEC"))
    # Before the threshold EXEC waits for the script's key; once the script
    # is busy the transaction is discarded, as Redis does.
    assert reply == RespError(EXECABORT_BUSY)
    assert took < 0.2 + ANSWER_WITHIN
    assert tx.call("SCRIPT", "KILL") == "OK"
    runner_thread.join(10)
    assert tx.call("GET", "k") is None
    assert tx.call("EXEC") == RespError("ERR EXEC without MULTI")


@pytest.mark.sluice_only
def test_sigterm_during_a_looping_script_exits_within_two_seconds(start_server):
    s = start_server("--io-threads", "2")  # default threshold (5 s): not even busy yet
    waiter = s.raw()
    runner_thread, result = _loop_in_thread(s.port)
    time.sleep(0.2)
    blocked = threading.Thread(target=lambda: waiter.call("GET", "k"), daemon=True)
    blocked.start()  # waits for the script's shard
    time.sleep(0.1)
    start = time.monotonic()
    s.proc.send_signal(signal.SIGTERM)
    s.proc.wait(timeout=10)
    took = time.monotonic() - start
    s.stopped = True
    assert s.proc.returncode == 0, s.output()
    assert took < 2.0 + (2.0 if SANITIZER else 0), took
    runner_thread.join(5)


@pytest.mark.sluice_only
@pytest.mark.parametrize("wrote", [False, True])
def test_sigterm_never_saves_half_a_script(start_server, wrote):
    """SIGTERM with save points while a script loops: the server stops the script and exits.
    A script that had written left half its work in the data, so the final save is skipped
    and the last snapshot stays as it was (SHUTDOWN NOSAVE is Redis's only way out of such a
    script); a read-only one leaves the data whole, which is saved."""
    s = start_server("--io-threads", "2", "--save", "3600 1")
    c = s.client()
    c.set("k", "before")
    c.save()
    c.set("k2", "after the save")
    client = redis.Redis(port=s.port, decode_responses=True, socket_timeout=30)
    body = ("redis.call('set', KEYS[1], 'half') " if wrote else "redis.call('get', KEYS[1]) ")
    t = threading.Thread(target=lambda: _swallow(lambda: client.eval(body + "while true do end",
                                                                     1, "k")),
                         daemon=True)
    t.start()
    time.sleep(0.3)
    s.proc.send_signal(signal.SIGTERM)
    assert s.wait_exit(timeout=15) == 0, s.output()
    out = s.output()
    with open(os.path.join(s.dir, "dump.rdb"), "rb") as f:
        data = f.read()
    if wrote:
        assert "exiting without the final save" in out, out[-2000:]
        assert b"half" not in data and b"after the save" not in data and b"before" in data
    else:
        assert "DB saved on disk" in out, out[-2000:]
        assert b"after the save" in data and b"before" in data
    t.join(5)


def _swallow(fn):
    try:
        fn()
    except redis.RedisError:
        pass


def test_shutdown_nosave_is_served_while_a_script_loops(start_server):
    s = start_server("--io-threads", "2", "--busy-reply-threshold", str(THRESHOLD_MS))
    admin = s.raw()
    runner_thread, result = _loop_in_thread(s.port)
    _wait_busy(admin)
    admin.send(b"SHUTDOWN NOSAVE\r\n")
    assert admin.is_closed(timeout=5)
    s.proc.wait(timeout=5)
    s.stopped = True
    assert s.proc.returncode == 0, s.output()


SPIN_MS = ("local t = redis.call('time') "
           "local stop = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000 + tonumber(ARGV[1]) "
           "local i = 0 while true do i = i + 1 if i % 10000 == 0 then "
           "local n = redis.call('time') "
           "if tonumber(n[1]) * 1000 + tonumber(n[2]) / 1000 > stop then break end end end "
           "return 'done'")


@pytest.mark.sluice_only
def test_messages_during_a_busy_script_never_land_inside_exec_reply(start_server):
    # Two I/O threads: the publisher (on the other thread) publishes before
    # the threshold; the deliveries queue on the subscriber's thread, whose
    # busy script runs them from its hook while EXEC's reply is half written.
    # They must wait until that reply is complete.
    s = start_server("--io-threads", "2", "--busy-reply-threshold", "150")
    sub = s.raw()
    sub.call("HELLO", "3")
    assert sub.call("SUBSCRIBE", "c") == Push([b"subscribe", b"c", 1])
    pub = s.raw()
    sub.send(encode_command("MULTI") + encode_command("PING") +
             encode_command("EVAL", SPIN_MS, "0", "600") + encode_command("PING") +
             encode_command("EXEC"))
    time.sleep(0.05)
    for _ in range(20):  # before the threshold: queued for the busy thread
        pub.send(encode_command("PUBLISH", "c", "m"))
    replies = sub.read_many(5, timeout=10)
    assert replies[:4] == ["OK", "QUEUED", "QUEUED", "QUEUED"]
    assert replies[4] == ["PONG", b"done", "PONG"]
    # PUBLISH answers (1 subscriber, or BUSY past the threshold) and the
    # messages themselves, each a whole push of its own.
    answers = pub.read_many(20, timeout=10)
    delivered = sum(1 for a in answers if a == 1)
    assert all(a == 1 or a == RespError(BUSY) for a in answers)
    assert delivered > 0
    for _ in range(delivered):
        assert sub.read(timeout=5) == Push([b"message", b"c", b"m"])
    assert sub.call("PING") == "PONG"


def test_commands_redis_allows_while_busy_are_served(start_server):
    s = start_server("--io-threads", "2", "--busy-reply-threshold", str(THRESHOLD_MS))
    conn = s.raw()
    runner_thread, result = _loop_in_thread(s.port)
    _wait_busy(conn)
    assert conn.call("AUTH", "nopass") == RespError(
        "ERR AUTH <password> called without any password configured for the default user. "
        "Are you sure your configuration is correct?")
    assert dict(conn.call("HELLO", "2")[i:i + 2] for i in range(0, 14, 2))[b"proto"] == 2
    assert conn.call("RESET") == "RESET"
    assert conn.call("MULTI") == "OK"
    assert conn.call("DISCARD") == "OK"
    assert conn.call("UNWATCH") == "OK"
    assert conn.call("GET", "k") == RespError(BUSY)
    assert conn.call("SCRIPT", "KILL") == "OK"
    runner_thread.join(10)
    assert conn.call("GET", "k") is None
