"""Lazy freeing: FLUSHALL/FLUSHDB ASYNC and UNLINK hand their memory to one
background thread with a bounded queue. A flood of FLUSHALL ASYNC must not
grow the server's threads; UNLINK of a large value answers like DEL."""

import os
import threading
import time

import pytest

from helpers import encode_command, wait_until

BIG = 10 * 1024 * 1024


def thread_count(pid):
    return len(os.listdir("/proc/%d/task" % pid))


class ThreadSampler:
    """Samples the thread count of `pid` on a thread of its own until stopped;
    `peak` is the largest count seen (the flushes' threads are short-lived, so
    a count taken only at the end would miss them)."""

    def __init__(self, pid):
        self.pid = pid
        self.peak = thread_count(pid)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopped.wait(0.0005):
            try:
                self.peak = max(self.peak, thread_count(self.pid))
            except OSError:  # the server is gone; the test fails elsewhere
                return

    def stop(self):
        self.stopped.set()
        self.thread.join(5)
        assert not self.thread.is_alive()


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs /proc/<pid>/task")
def test_flushall_async_flood_does_not_grow_threads(start_server):
    # No save points: with them every FLUSHALL also saves the flushed state (as Redis's
    # does), on the one background-save thread, which is not what this test counts.
    s = start_server("--save", "")
    r = s.client()
    r1 = s.client(db=1)
    try:
        # Warm up first, so that helper threads started lazily on the first
        # frees (an allocator's background thread, say) are counted in `before`.
        for _ in range(3):
            r.mset({"warm:%d" % i: "v" * 100 for i in range(5000)})
            assert r.flushall(asynchronous=True)
        wait_until(lambda: r.info("memory")["lazyfree_pending_objects"] == 0, timeout=30,
                   message="lazyfree_pending_objects == 0")
        r.mset({"seed:%d" % i: "v" * 100 for i in range(5000)})
        r1.mset({"seed:%d" % i: "v" for i in range(1000)})
        pid = s.proc.pid
        before = thread_count(pid)
        sampler = ThreadSampler(pid)
        conn = s.raw(timeout=30)
        try:
            # 2000 FLUSHALL ASYNC, each after a SET, pipelined in batches.
            for batch in range(4):
                cmds = []
                for i in range(500):
                    n = batch * 500 + i
                    cmds.append(encode_command("SET", "k%d" % n, "x" * (n % 64)))
                    cmds.append(encode_command("FLUSHALL", "ASYNC"))
                conn.send(b"".join(cmds))
                replies = conn.read_many(len(cmds), timeout=60)
                assert replies == ["OK"] * len(cmds)
        finally:
            sampler.stop()
            conn.close()
        after = thread_count(pid)
        # One lazy-free thread exists from start-up on; the flushes add none.
        assert sampler.peak <= before, (before, sampler.peak)
        assert after <= before, (before, after)
        assert r.dbsize() == 0
        assert r1.dbsize() == 0
        assert r.get("k1999") is None
        assert r.ping()
        assert r.set("after", "1") and r.get("after") == "1"
        wait_until(lambda: r.info("memory")["lazyfree_pending_objects"] == 0, timeout=30,
                   message="lazyfree_pending_objects == 0")
    finally:
        r.close()
        r1.close()


@pytest.mark.sluice_only
def test_flushall_async_counts_lazyfreed_objects(start_server):
    s = start_server()
    r = s.client()
    try:
        mem = r.info("memory")
        assert mem["lazyfree_pending_objects"] == 0
        assert mem["lazyfreed_objects"] == 0
        r.mset({"k%d" % i: "v" for i in range(3000)})
        assert r.flushall(asynchronous=True)
        assert r.dbsize() == 0
        # Every key is freed once, in the background (the queue is nowhere
        # near full here).
        wait_until(lambda: r.info("memory")["lazyfreed_objects"] == 3000, timeout=30,
                   message="lazyfreed_objects == 3000")
        assert r.info("memory")["lazyfree_pending_objects"] == 0
        r.set("a", "1")
        assert r.flushdb(asynchronous=True)
        wait_until(lambda: r.info("memory")["lazyfreed_objects"] == 3001, timeout=30,
                   message="lazyfreed_objects == 3001")
    finally:
        r.close()


def test_unlink_large_value(r):
    # A bytes value can be sent on the decoding client; only replies are decoded.
    value = os.urandom(1024) * (BIG // 1024)
    assert r.set("big", value)
    assert r.strlen("big") == BIG
    assert r.unlink("big") == 1
    assert r.exists("big") == 0
    assert r.get("big") is None
    assert r.unlink("big") == 0
    # The key can be written again at once.
    assert r.set("big", "again")
    assert r.get("big") == "again"
    # Large and small keys in one call, and a missing one: the count of removed keys.
    r.set("big2", value)
    r.set("small", "1")
    assert r.unlink("big", "big2", "small", "missing") == 3
    assert r.dbsize() == 0
    wait_until(lambda: r.info("memory")["lazyfree_pending_objects"] == 0, timeout=30,
               message="lazyfree_pending_objects == 0")


@pytest.mark.sluice_only
def test_unlink_large_value_is_freed_in_the_background(start_server):
    s = start_server()
    r = s.client()
    try:
        r.set("big", b"x" * BIG)
        r.set("small", b"x" * 100)
        assert r.unlink("small") == 1
        assert r.delete("none") == 0
        assert r.info("memory")["lazyfreed_objects"] == 0  # small values are freed inline
        assert r.unlink("big") == 1
        wait_until(lambda: r.info("memory")["lazyfreed_objects"] == 1, timeout=30,
                   message="lazyfreed_objects == 1")
        assert r.info("memory")["lazyfree_pending_objects"] == 0
        # DEL never defers.
        r.set("big", b"x" * BIG)
        assert r.delete("big") == 1
        time.sleep(0.05)
        assert r.info("memory")["lazyfreed_objects"] == 1
    finally:
        r.close()


def test_unlink_large_value_events_and_watch(r, raw):
    value = b"v" * BIG
    r.config_set("notify-keyspace-events", "KEA")
    try:
        sub = raw()
        sub.call("PSUBSCRIBE", "__key*__:*")
        r.set("big", value)
        assert [(m[2], m[3]) for m in sub.read_many(2)] == [
            (b"__keyspace@0__:big", b"set"), (b"__keyevent@0__:set", b"big")]
        assert r.unlink("big") == 1
        assert [(m[2], m[3]) for m in sub.read_many(2)] == [
            (b"__keyspace@0__:big", b"del"), (b"__keyevent@0__:del", b"big")]
    finally:
        r.config_set("notify-keyspace-events", "")
    # WATCH sees the UNLINK as a change, as with DEL.
    r.set("big", value)
    c = raw()
    assert c.call("WATCH", "big") == "OK"
    assert r.unlink("big") == 1
    assert c.call("MULTI") == "OK"
    assert c.call("SET", "big", "1") == "QUEUED"
    assert c.call_raw("EXEC") == b"*-1\r\n"
    assert r.exists("big") == 0
