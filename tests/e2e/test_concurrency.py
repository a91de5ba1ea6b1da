"""Many clients at once: counters stay exact, multi-key commands stay atomic,
and one misbehaving connection does not disturb the others. Run again on the
ThreadSanitizer build (-m concurrency)."""

import socket
import threading

import pytest

from conftest import SANITIZER
from helpers import RawConn, encode_command, run_threads

pytestmark = pytest.mark.concurrency

# The sanitizer builds are several times slower: shrink the work, not the checks.
SCALE = 4 if SANITIZER else 1




def test_incr_from_many_threads_is_exact(server, r):
    per_thread = 2000 // SCALE
    keys = ["counter:%d" % i for i in range(4)]

    def work(i):
        c = server.client()
        try:
            for j in range(per_thread):
                c.incr(keys[(i + j) % 4])
        finally:
            c.close()
    run_threads(work, 8)
    total = 8 * per_thread
    values = [int(v) for v in r.mget(keys)]
    assert sum(values) == total
    assert values == [total // 4] * 4


def test_incrby_and_decrby_mixed(server, r):
    n = 1000 // SCALE

    def work(i):
        with server.raw() as c:
            for _ in range(n):
                if i % 2:
                    c.send(encode_command("INCRBY", "mixed", "3"))
                else:
                    c.send(encode_command("DECRBY", "mixed", "2"))
                c.read()
    run_threads(work, 6)
    assert int(r.get("mixed")) == 3 * (3 * n) - 3 * (2 * n)


def test_incrbyfloat_from_many_threads(server, r):
    n = 500 // SCALE

    def work(i):
        with server.raw() as c:
            for _ in range(n):
                c.call("INCRBYFLOAT", "f", "0.5")
    run_threads(work, 4)
    assert float(r.get("f")) == 4 * n * 0.5


def test_thousand_simultaneous_connections(server, r):
    n = 1000 // SCALE
    conns = []
    try:
        for i in range(n):
            conns.append(RawConn(server.port, timeout=30))
        # Every connection is open at once; now each sends, then each reads.
        for i, c in enumerate(conns):
            c.send(encode_command("SET", "conn:%d" % i, "value-%d" % i) +
                   encode_command("GET", "conn:%d" % i))
        for i, c in enumerate(conns):
            assert c.read() == "OK"
            assert c.read() == b"value-%d" % i
        assert r.info("clients")["connected_clients"] >= n
    finally:
        for c in conns:
            c.close()
    assert r.dbsize() == n
    assert r.get("conn:%d" % (n - 1)) == "value-%d" % (n - 1)


def test_connection_churn(server, r):
    def work(i):
        for j in range(100 // SCALE):
            with server.raw() as c:
                assert c.call("SET", "churn:%d:%d" % (i, j), "x") == "OK"
    run_threads(work, 8)
    assert r.dbsize() == 8 * (100 // SCALE)


def test_pipelined_batches_from_several_threads(server, r):
    batches = 20 // SCALE
    batch = 500

    def work(i):
        with server.raw(timeout=30) as c:
            for b in range(batches):
                data = b"".join(encode_command("SET", "t%d:%d" % (i, b * batch + k), str(k))
                                for k in range(batch))
                data += b"".join(encode_command("INCR", "shared") for _ in range(batch))
                data += encode_command("GET", "t%d:%d" % (i, b * batch + batch - 1))
                c.send(data)
                replies = c.read_many(2 * batch + 1, timeout=30)
                assert replies[:batch] == ["OK"] * batch
                incrs = replies[batch:2 * batch]
                assert all(isinstance(v, int) for v in incrs)
                assert incrs == sorted(incrs)  # this client's INCRs run in order
                assert replies[-1] == str(batch - 1).encode()
    run_threads(work, 4)
    assert int(r.get("shared")) == 4 * batches * batch
    assert r.dbsize() == 4 * batches * batch + 1


def test_malformed_input_while_others_work(server, r):
    stop = threading.Event()
    n_good = 4
    done = [0] * n_good

    def good(i):
        with server.raw() as c:
            while not stop.is_set():
                assert c.call("INCR", "good:%d" % i) == done[i] + 1
                done[i] += 1

    def bad(_):
        bad_inputs = [b"*abc\r\n", b"*1\r\n$-7\r\n", b'SET "x\r\n', b"*1\r\nfoo\r\n",
                      b"a" * 70000, b"*" + b"9" * 70000]
        for k in range(60 // SCALE):
            s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            try:
                s.sendall(bad_inputs[k % len(bad_inputs)])
                s.settimeout(5)
                data = b""
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                assert data.startswith(b"-ERR Protocol error: "), data
            finally:
                s.close()

    good_threads = [threading.Thread(target=good, args=(i,), daemon=True) for i in range(n_good)]
    for t in good_threads:
        t.start()
    try:
        run_threads(bad, 2)
    finally:
        stop.set()
        for t in good_threads:
            t.join(30)
    assert all(d > 0 for d in done)
    assert [int(r.get("good:%d" % i)) for i in range(n_good)] == done


def test_mset_mget_atomicity(server, r):
    r.mset({"pair:a": "0", "pair:b": "0"})
    stop = threading.Event()
    mismatches = []
    reads = [0]
    writes = 2000 // SCALE

    def writer(_):
        c = server.client()
        try:
            for v in range(1, writes + 1):
                c.mset({"pair:a": str(v), "pair:b": str(v)})
        finally:
            stop.set()
            c.close()

    def reader(_):
        c = server.client()
        try:
            while not stop.is_set():
                a, b = c.mget("pair:a", "pair:b")
                reads[0] += 1
                if a != b:
                    mismatches.append((a, b))
        finally:
            c.close()

    readers = [threading.Thread(target=reader, args=(i,), daemon=True) for i in range(3)]
    for t in readers:
        t.start()
    run_threads(writer, 1)
    for t in readers:
        t.join(30)
    assert not mismatches, "MGET saw a half-applied MSET: %r" % mismatches[:5]
    assert reads[0] > 0
    assert r.mget("pair:a", "pair:b") == [str(writes)] * 2


def test_msetnx_only_one_winner(server, r):
    # Several clients race to claim overlapping key sets; MSETNX is all or
    # nothing, so each key ends up owned by exactly one winner's whole set.
    rounds = 200 // SCALE
    results = {}

    def work(i):
        with server.raw() as c:
            for k in range(rounds):
                keys = ["race:%d:a" % k, "race:%d:b" % k]
                won = c.call("MSETNX", keys[0], str(i), keys[1], str(i))
                results[(i, k)] = won
    run_threads(work, 4)
    for k in range(rounds):
        winners = [i for i in range(4) if results[(i, k)] == 1]
        assert len(winners) == 1, (k, winners)
        assert r.mget("race:%d:a" % k, "race:%d:b" % k) == [str(winners[0])] * 2


def test_rename_under_concurrent_access(server, r):
    r.set("ping", "token")
    n = 500 // SCALE

    def mover(i):
        with server.raw() as c:
            for _ in range(n):
                c.call("RENAME", "ping", "pong")
                c.call("RENAME", "pong", "ping")

    def reader(_):
        with server.raw() as c:
            for _ in range(n):
                c.call("MGET", "ping", "pong")
    run_threads(lambda i: mover(i) if i < 2 else reader(i), 4)
    # Exactly one of the two names holds the token.
    assert sorted(v for v in r.mget("ping", "pong") if v is not None) == ["token"]
