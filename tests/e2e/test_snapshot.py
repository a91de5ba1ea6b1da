"""RDB snapshots: SAVE, BGSAVE, save points, SHUTDOWN and signals, MISCONF,
INFO persistence. The files are checked by the oracle: redis-check-rdb
accepts them and redis-server 7.0, started on them, holds every key, value
and TTL."""

import os
import random
import shutil
import signal
import subprocess
import tempfile
import time

import pytest
import redis

from conftest import IS_REDIS, free_port
from helpers import arity_error, error_of, info_field, wait_until

REDIS_SERVER = "/usr/bin/redis-server"
CHECK_RDB = "/usr/bin/redis-check-rdb"
MISCONF = ("MISCONF Redis is configured to save RDB snapshots, but it's currently unable to "
           "persist to disk. Commands that may modify the data set are disabled, because this "
           "instance is configured to report errors during writes if RDB snapshotting fails "
           "(stop-writes-on-bgsave-error option). Please check the Redis logs for details "
           "about the RDB error.")
LIBRARY = "#!lua name=snaplib\nredis.register_function('snapf', function() return 7 end)"


def check_rdb(path):
    out = subprocess.run([CHECK_RDB, path], capture_output=True, timeout=120)
    text = (out.stdout + out.stderr).decode(errors="replace")
    assert out.returncode == 0, text
    assert "RDB looks OK" in text, text
    return text


class Oracle:
    """redis-server 7.0 started on a copy of an RDB file."""

    def __init__(self, rdb_path):
        self.dir = tempfile.mkdtemp(prefix="sluice-oracle-")
        shutil.copy(rdb_path, os.path.join(self.dir, "dump.rdb"))
        self.port = free_port()
        self.proc = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
             "--dbfilename", "dump.rdb", "--save", "", "--appendonly", "no"],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.client = redis.Redis(port=self.port, socket_timeout=30)

        def ready():
            if self.proc.poll() is not None:
                raise AssertionError("redis-server exited: %s" % self.proc.stdout.read())
            try:
                return self.client.ping()
            except (redis.ConnectionError, redis.BusyLoadingError):
                return False
        wait_until(ready, timeout=60, message="redis-server loading the file")

    def close(self):
        self.proc.kill()
        self.proc.wait(10)
        self.proc.stdout.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def contents(client, dbs=range(16)):
    """{db: {key: (type, value, has_ttl, pttl)}} of every key (binary-safe)."""
    out = {}
    for db in dbs:
        client.execute_command("SELECT", db)
        keys = list(client.scan_iter(count=1000))
        if not keys:
            continue
        pipe = client.pipeline(transaction=False)
        for k in keys:
            pipe.type(k)
        types = pipe.execute()
        pipe = client.pipeline(transaction=False)
        for k, t in zip(keys, types):
            t = t.decode() if isinstance(t, bytes) else t
            if t == "string":
                pipe.get(k)
            elif t == "list":
                pipe.lrange(k, 0, -1)
            elif t == "set":
                pipe.smembers(k)
            elif t == "zset":
                pipe.zrange(k, 0, -1, withscores=True)
            elif t == "hash":
                pipe.hgetall(k)
            elif t == "stream":
                pipe.xrange(k)
            pipe.pttl(k)
        replies = pipe.execute()
        table = {}
        for i, (k, t) in enumerate(zip(keys, types)):
            value, pttl = replies[2 * i], replies[2 * i + 1]
            if isinstance(value, set):
                value = sorted(value)
            table[k] = (t, value, pttl)
        out[db] = table
    client.execute_command("SELECT", 0)
    return out


def assert_same(got, want):
    """Contents equal, TTLs within a few seconds of each other."""
    assert sorted(got) == sorted(want)
    for db in want:
        g, w = got[db], want[db]
        assert len(g) == len(w), "db %d: %d keys, want %d" % (db, len(g), len(w))
        for k, (t, v, pttl) in w.items():
            assert k in g, "db %d: missing %r" % (db, k)
            gt, gv, gpttl = g[k]
            assert (gt, gv) == (t, v), "db %d key %r" % (db, k)
            if pttl < 0:
                assert gpttl == pttl, "db %d key %r ttl" % (db, k)
            else:
                assert gpttl > 0 and abs(gpttl - pttl) < 10000, "db %d key %r ttl" % (db, k)


def binary_client(s):
    return s.client(decode_responses=False)


def populate(c):
    """Strings of every shape, TTLs, several databases, a function library."""
    c.set("plain", "hello")
    c.set("empty", "")
    c.set("int", "12345")
    c.set("negative", "-9000000000")
    c.set("not-canonical", "007")
    c.set("binary", bytes(range(256)))
    c.set("long", "abc" * 1000)
    c.set("unicode", "héllo wörld ☃")
    c.set("ttl", "soon", ex=3600)
    c.set("pttl", "later", px=7200000)
    c.set("", "empty key")
    c.mset({"m:%d" % i: "v%d" % i for i in range(500)})
    c.execute_command("SELECT", 5)
    c.set("in5", "five")
    c.set("ttl5", "x", ex=500)
    c.execute_command("SELECT", 15)
    c.set("in15", "fifteen")
    c.execute_command("SELECT", 0)
    c.function_load(LIBRARY, replace=True)


def status_of(s, *args):
    """The reply of one command on a raw connection (simple strings as sent)."""
    with s.raw() as conn:
        return conn.call(*args)


def wait_saved(c, timeout=60):
    wait_until(lambda: info_field(c, "persistence", "rdb_bgsave_in_progress") == 0,
               timeout=timeout, message="the background save to finish")


def fill(c, n, size, prefix="k:"):
    pipe = c.pipeline(transaction=False)
    value = "x" * size
    for start in range(0, n, 1000):
        pipe.mset({"%s%d" % (prefix, i): value for i in range(start, min(n, start + 1000))})
    pipe.execute()


def test_bgsave_file_loads_in_redis(start_server):
    s = start_server("--save", "")
    c = binary_client(s)
    populate(c)
    want = contents(c)
    assert status_of(s, "BGSAVE") == "Background saving started"
    wait_saved(c)
    assert info_field(c, "persistence", "rdb_last_bgsave_status") == "ok"
    path = os.path.join(s.dir, "dump.rdb")
    text = check_rdb(path)
    assert "Checksum OK" in text
    with Oracle(path) as o:
        assert_same(contents(o.client), want)
        libs = o.client.function_list()
        assert len(libs) == 1 and b"snaplib" in libs[0]
        assert o.client.fcall("snapf", 0) == 7


def populate_collections(c):
    """Every collection type in each of its encodings, some with TTLs."""
    c.rpush("list:small", "a", "b", "1", "-2", "x" * 100)
    c.rpush("list:big", *["item-%d" % i for i in range(5000)])
    c.rpush("list:ints", *range(-300, 300))
    c.sadd("set:intset", *range(100))
    c.sadd("set:listpack", "a", "b", "c", "10")
    c.sadd("set:table", *["m%d" % i for i in range(1000)])
    c.sadd("set:bigints", *[2 ** 40 + i for i in range(600)])
    c.zadd("zset:small", {"a": 1, "b": 2.5, "c": -3, "inf": float("inf"), "ninf": float("-inf")})
    c.zadd("zset:big", {"m%d" % i: i / 7 for i in range(1000)})
    c.hset("hash:small", mapping={"f1": "v1", "f2": "2", "f3": ""})
    c.hset("hash:big", mapping={"f%d" % i: "v" * (i % 70) for i in range(1000)})
    c.hset("hash:longvalue", mapping={"f": "y" * 200})
    for i in range(300):
        c.xadd("stream:s", {"n": i, "text": "entry %d" % i})
    ids = [e[0] for e in c.xrange("stream:s", count=10)]
    c.xdel("stream:s", ids[3], ids[5])
    c.xadd("stream:explicit", {"a": "1"}, id="5-1")
    c.xadd("stream:explicit", {"a": "2"}, id="5-9")
    c.expire("hash:big", 3600)
    c.pexpire("list:big", 7200000)
    c.execute_command("SELECT", 3)
    c.sadd("set:in3", "x", "y")
    c.zadd("zset:in3", {"only": 42})
    c.execute_command("SELECT", 0)


def stream_meta(client, dbs=range(16)):
    out = {}
    for db in dbs:
        client.execute_command("SELECT", db)
        for k in client.scan_iter(_type="stream"):
            info = client.xinfo_stream(k)
            out[(db, k)] = (info["length"], info["last-generated-id"])
    client.execute_command("SELECT", 0)
    return out


def full_dataset(start_server):
    """A server holding every type (populate, populate_collections), its
    binary client, and what it holds (contents, stream_meta)."""
    s = start_server("--save", "")
    c = binary_client(s)
    populate(c)
    populate_collections(c)
    return s, c, contents(c), stream_meta(c)


def test_every_type_loads_in_redis(start_server):
    s, c, want, want_streams = full_dataset(start_server)
    for compression in ("yes", "no"):
        c.config_set("rdbcompression", compression)
        assert c.save() is True
        path = os.path.join(s.dir, "dump.rdb")
        check_rdb(path)
        with Oracle(path) as o:
            assert_same(contents(o.client), want)
            assert stream_meta(o.client) == want_streams


def test_collections_changed_during_bgsave_keep_the_instant(start_server):
    s = start_server("--save", "")
    c = binary_client(s)
    n = 20000
    pipe = c.pipeline(transaction=False)
    for i in range(n):
        pipe.hset("h:%d" % i, mapping={"a": "1", "b": "2", "c": "3"})
        pipe.rpush("l:%d" % i, "x", "y")
        pipe.zadd("z:%d" % i, {"m": i})
        pipe.sadd("s:%d" % i, "p", "q")
    pipe.execute()
    want = contents(c, dbs=[0])
    assert status_of(s, "BGSAVE") == "Background saving started"
    pipe = c.pipeline(transaction=False)
    for i in range(n):
        pipe.hset("h:%d" % i, "a", "changed")
        pipe.hdel("h:%d" % i, "b")
        pipe.lpush("l:%d" % i, "front")
        pipe.rpop("l:%d" % i)
        pipe.zincrby("z:%d" % i, 1, "m")
        pipe.srem("s:%d" % i, "p")
        pipe.sadd("s:%d" % i, "r")
        if i % 10 == 0:
            pipe.delete("h:%d" % i)
            pipe.rename("l:%d" % i, "moved:%d" % i)
    pipe.execute()
    wait_saved(c)
    with Oracle(os.path.join(s.dir, "dump.rdb")) as o:
        assert_same(contents(o.client, dbs=[0]), want)


def test_save_writes_and_resets_changes(start_server):
    s = start_server("--save", "")
    c = s.client()
    before = c.lastsave()
    c.set("a", "1")
    c.mset({"b": "2", "c": "3"})
    c.delete("a", "nope")
    assert info_field(c, "persistence", "rdb_changes_since_last_save") == 4
    time.sleep(1.1)  # LASTSAVE has second resolution
    assert c.save() is True
    assert info_field(c, "persistence", "rdb_changes_since_last_save") == 0
    assert c.lastsave() > before
    with Oracle(os.path.join(s.dir, "dump.rdb")) as o:
        assert o.client.mget("a", "b", "c") == [None, b"2", b"3"]


def test_rdbchecksum_no_writes_a_zero_checksum(start_server):
    s = start_server("--save", "", "--rdbchecksum", "no")
    c = s.client()
    c.set("k", "v")
    assert c.save() is True
    with open(os.path.join(s.dir, "dump.rdb"), "rb") as f:
        assert f.read()[-8:] == b"\0" * 8
    check_rdb(os.path.join(s.dir, "dump.rdb"))


def test_writes_during_bgsave_land_in_the_next_snapshot(start_server):
    s = start_server("--save", "")
    c = s.client()
    n = 150000
    fill(c, n, 300)
    assert status_of(s, "BGSAVE") == "Background saving started"
    with s.raw() as conn:
        busy = "ERR Background save already in progress"
        assert error_of(conn, "BGSAVE") == busy
        # No append-only file: SCHEDULE has nothing to wait for but this save.
        assert error_of(conn, "BGSAVE", "SCHEDULE") == busy
        assert error_of(conn, "SAVE") == busy
    rng = random.Random(5)
    expect = {}
    during = 0
    while True:
        in_progress = info_field(c, "persistence", "rdb_bgsave_in_progress") == 1
        pipe = c.pipeline(transaction=False)
        for _ in range(200):
            key = "k:%d" % rng.randrange(n)
            op = rng.randrange(3)
            if op == 0:
                pipe.set(key, "changed")
                expect[key] = b"changed"
            elif op == 1:
                pipe.delete(key)
                expect[key] = None
            else:
                key = "new:%d" % len(expect)
                pipe.set(key, "n")
                expect[key] = b"n"
        pipe.execute()
        if not in_progress:
            break
        during += 1
    if not IS_REDIS:
        assert during > 0, "the background save finished before any write"
    wait_saved(c)
    assert status_of(s, "BGSAVE") == "Background saving started"
    wait_saved(c)
    path = os.path.join(s.dir, "dump.rdb")
    check_rdb(path)
    with Oracle(path) as o:
        oc = o.client
        assert oc.dbsize() == c.dbsize()
        keys = sorted(expect)
        assert oc.mget(keys) == [expect[k] for k in keys]


def test_point_in_time_of_one_bgsave(start_server):
    """The file of one BGSAVE holds the data as of its reply, whatever is
    written while it runs."""
    s = start_server("--save", "")
    c = s.client()
    n = 150000
    fill(c, n, 300)
    c.set("ttlkey", "t", ex=1000)
    c.set("gone-later", "g")
    c.set("moved", "m")
    assert status_of(s, "BGSAVE") == "Background saving started"
    rng = random.Random(9)
    touched = 0
    while info_field(c, "persistence", "rdb_bgsave_in_progress") == 1 or touched == 0:
        pipe = c.pipeline(transaction=False)
        for _ in range(300):
            i = rng.randrange(n)
            r = rng.randrange(4)
            if r == 0:
                pipe.set("k:%d" % i, "after")
            elif r == 1:
                pipe.delete("k:%d" % i)
            elif r == 2:
                pipe.append("k:%d" % i, "tail")
            else:
                pipe.set("added:%d" % rng.randrange(10 ** 9), "a")
        if touched == 0:
            pipe.delete("gone-later")
            pipe.rename("moved", "moved-to")
            pipe.persist("ttlkey")
        pipe.execute()
        touched += 1
    wait_saved(c)
    assert info_field(c, "persistence", "rdb_last_bgsave_status") == "ok"
    path = os.path.join(s.dir, "dump.rdb")
    check_rdb(path)
    with Oracle(path) as o:
        oc = o.client
        assert oc.dbsize() == n + 3
        assert oc.get("gone-later") == b"g"
        assert oc.get("moved") == b"m" and oc.exists("moved-to") == 0
        assert 0 < oc.ttl("ttlkey") <= 1000
        assert oc.keys("added:*") == []
        # Every original key holds its original value.
        pipe = oc.pipeline(transaction=False)
        for i in range(n):
            pipe.get("k:%d" % i)
        values = pipe.execute()
        assert values.count(b"x" * 300) == n


# A SWAPDB during a BGSAVE: the snapshot keeps its point in time.
@pytest.mark.sluice_only
def test_swapdb_during_bgsave(start_server):
    s = start_server("--save", "")
    c = s.client()
    fill(c, 100000, 200, prefix="a:")
    c.execute_command("SELECT", 1)
    fill(c, 50000, 200, prefix="b:")
    c.execute_command("SELECT", 0)
    assert status_of(s, "BGSAVE") == "Background saving started"
    c.swapdb(0, 1)
    c.delete("b:7")
    c.set("after", "swap")
    wait_saved(c)
    with Oracle(os.path.join(s.dir, "dump.rdb")) as o:
        oc = o.client
        assert oc.dbsize() == 100000
        assert oc.get("a:7") == b"x" * 200
        oc.execute_command("SELECT", 1)
        assert oc.dbsize() == 50000
        assert oc.get("b:7") == b"x" * 200


@pytest.mark.parametrize("save_points", [False, True])
def test_flushall_cancels_a_bgsave_and_saves_the_empty_state(start_server, save_points):
    """As Redis: FLUSHALL stops a background save in progress (its file would bring the
    flushed keys back at the next start) and, with save points configured, saves the
    flushed dataset at once. Without save points the previous file stays."""
    s = start_server("--save", "3600 1" if save_points else "")
    c = s.client()
    c.set("generation", "1")
    assert c.save() is True
    fill(c, 300000, 300)
    saves = info_field(c, "persistence", "rdb_saves")
    assert status_of(s, "BGSAVE") == "Background saving started"
    assert info_field(c, "persistence", "rdb_bgsave_in_progress") == 1
    c.flushall()
    c.set("after", "flush")
    # rdb_saves counts the flush's save, and on sluice the cancelled one too (Redis's
    # killed child counted it in its own memory only).
    more = (1 if save_points else 0) + (0 if IS_REDIS else 1)
    wait_until(lambda: info_field(c, "persistence", "rdb_bgsave_in_progress") == 0 and
               info_field(c, "persistence", "rdb_saves") >= saves + more,
               timeout=30, message="the saves to end")
    wait_saved(c)
    assert info_field(c, "persistence", "rdb_last_bgsave_status") == "ok"
    with Oracle(os.path.join(s.dir, "dump.rdb")) as o:
        if save_points:
            assert o.client.dbsize() <= 1  # empty, or with "after" if it went in first
            assert o.client.get("generation") is None
        else:
            assert o.client.dbsize() == 1 and o.client.get("generation") == b"1"
    if not IS_REDIS:
        assert "Background saving cancelled by FLUSHALL" in s.output()


@pytest.mark.sluice_only
def test_sigkill_during_bgsave_leaves_the_previous_snapshot(start_server):
    s = start_server("--save", "")
    c = s.client()
    c.set("generation", "1")
    assert c.save() is True
    path = os.path.join(s.dir, "dump.rdb")
    with open(path, "rb") as f:
        first = f.read()
    fill(c, 100000, 1000)
    c.set("generation", "2")
    assert status_of(s, "BGSAVE") == "Background saving started"
    s.proc.kill()
    s.wait_exit()
    with open(path, "rb") as f:
        assert f.read() == first
    check_rdb(path)
    with Oracle(path) as o:
        assert o.client.get("generation") == b"1"
        assert o.client.dbsize() == 1


def test_save_points_fire(start_server):
    s = start_server("--save", "1 1")
    c = s.client()
    before = c.lastsave()
    assert not os.path.exists(os.path.join(s.dir, "dump.rdb"))
    c.set("k", "v")
    wait_until(lambda: os.path.exists(os.path.join(s.dir, "dump.rdb")) and
               info_field(c, "persistence", "rdb_changes_since_last_save") == 0,
               timeout=15, message="the save point to fire")
    assert c.lastsave() > before
    assert "changes in 1 seconds. Saving..." in s.output()
    with Oracle(os.path.join(s.dir, "dump.rdb")) as o:
        assert o.client.get("k") == b"v"


def test_save_point_needs_its_changes(start_server):
    s = start_server("--save", "1 3")
    c = s.client()
    c.set("a", "1")
    c.set("b", "2")
    time.sleep(2.5)
    assert not os.path.exists(os.path.join(s.dir, "dump.rdb"))
    assert info_field(c, "persistence", "rdb_changes_since_last_save") == 2


def test_shutdown_save_and_nosave(start_server):
    s = start_server("--save", "")
    c = s.client()
    c.set("k", "saved")
    c.shutdown(save=True)
    assert s.wait_exit() == 0
    with Oracle(os.path.join(s.dir, "dump.rdb")) as o:
        assert o.client.get("k") == b"saved"

    s2 = start_server("--save", "100 1")
    c2 = s2.client()
    c2.set("k", "v")
    c2.shutdown(nosave=True)
    assert s2.wait_exit() == 0
    assert not os.path.exists(os.path.join(s2.dir, "dump.rdb"))

    s3 = start_server("--save", "100 1")  # plain SHUTDOWN saves with save points
    c3 = s3.client()
    c3.set("k", "v3")
    c3.shutdown()
    assert s3.wait_exit() == 0
    with Oracle(os.path.join(s3.dir, "dump.rdb")) as o:
        assert o.client.get("k") == b"v3"

    s4 = start_server("--save", "")  # and saves nothing without
    s4.client().set("k", "v4")
    s4.client().shutdown()
    assert s4.wait_exit() == 0
    assert not os.path.exists(os.path.join(s4.dir, "dump.rdb"))


def test_sigterm_saves_with_save_points(start_server):
    s = start_server("--save", "100 1")
    s.client().set("k", "term")
    s.stop(signal.SIGTERM)
    assert "Saving the final RDB snapshot before exiting." in s.output()
    with Oracle(os.path.join(s.dir, "dump.rdb")) as o:
        assert o.client.get("k") == b"term"

    s2 = start_server("--save", "")
    s2.client().set("k", "term")
    s2.stop(signal.SIGTERM)
    assert not os.path.exists(os.path.join(s2.dir, "dump.rdb"))


def test_sigint_saves_with_save_points(start_server):
    s = start_server("--save", "100 1")
    s.client().set("k", "int")
    s.stop(signal.SIGINT)
    with Oracle(os.path.join(s.dir, "dump.rdb")) as o:
        assert o.client.get("k") == b"int"


def failing_server(start_server):
    """A server whose background saves fail, and a function that mends it.
    sluice: its `dir` is removed (and made again). Redis: dbfilename names a
    directory (dir is fixed at start-up, so removing it cannot be mended)."""
    if IS_REDIS:
        s = start_server("--save", "100 100", "--enable-protected-configs", "yes")
        os.makedirs(os.path.join(s.dir, "adir", "x"))
        s.client().config_set("dbfilename", "adir")

        def mend():
            s.client().config_set("dbfilename", "dump.rdb")
        return s, mend
    snapdir = tempfile.mkdtemp(prefix="sluice-snapdir-")
    s = start_server("--save", "100 100", "--dir", snapdir)
    shutil.rmtree(snapdir)

    def mend():
        os.makedirs(snapdir, exist_ok=True)
    return s, mend


def test_misconf_after_a_failed_bgsave_and_recovery(start_server):
    s, mend = failing_server(start_server)
    c = s.client()
    c.set("before", "1")
    assert c.bgsave() is True
    wait_saved(c)
    assert info_field(c, "persistence", "rdb_last_bgsave_status") == "err"
    for args in (("SET", "k", "v"), ("PING",), ("DEL", "before"), ("INCR", "n")):
        with pytest.raises(redis.ResponseError) as e:
            c.execute_command(*args)
        assert str(e.value) == MISCONF, args
    assert c.get("before") == "1"  # reads are served
    assert c.dbsize() == 1
    # A script's write is refused; MULTI refuses the write when queued.
    with pytest.raises(redis.ResponseError, match="MISCONF"):
        c.eval("return redis.call('set', 'x', '1')", 0)
    assert c.eval("return redis.call('get', 'before')", 0) == "1"
    # Off with stop-writes-on-bgsave-error no, or without save points.
    c.config_set("stop-writes-on-bgsave-error", "no")
    assert c.set("k", "v") is True
    c.config_set("stop-writes-on-bgsave-error", "yes")
    with pytest.raises(redis.ResponseError, match="MISCONF"):
        c.set("k", "v")
    c.config_set("save", "")
    assert c.set("k", "v2") is True
    c.config_set("save", "100 100")
    # A failed SAVE answers ERR and leaves the state as it was.
    with s.raw() as conn:
        assert error_of(conn, "SAVE") == "ERR"
        # SHUTDOWN refuses when its save fails.
        assert error_of(conn, "SHUTDOWN") == "ERR Errors trying to SHUTDOWN. Check logs."
    assert c.get("k") == "v2"
    # So does SIGTERM: the server logs why and keeps serving.
    refused = s.output().count("Error trying to save the DB, can't exit.")
    s.proc.send_signal(signal.SIGTERM)
    wait_until(lambda: s.output().count("Error trying to save the DB, can't exit.") > refused,
               timeout=15, message="the refused shutdown")
    assert s.proc.poll() is None
    assert c.get("k") == "v2"
    # Mended: the next save succeeds and writes are served again.
    mend()
    assert c.bgsave() is True
    wait_saved(c)
    assert info_field(c, "persistence", "rdb_last_bgsave_status") == "ok"
    assert c.set("k", "v3") is True
    assert c.ping() is True


def test_shutdown_force_exits_despite_a_failing_save(start_server):
    s, _ = failing_server(start_server)
    c = s.client()
    c.set("k", "v")
    with pytest.raises(redis.ResponseError, match="Errors trying to SHUTDOWN"):
        c.execute_command("SHUTDOWN", "SAVE")
    with pytest.raises(redis.ConnectionError):
        c.execute_command("SHUTDOWN", "SAVE", "FORCE")
    assert s.wait_exit() == 0
    assert "Error trying to save the DB. Exit anyway." in s.output()


def test_info_persistence_fields(start_server):
    s = start_server("--save", "")
    c = s.client()
    info = c.info("persistence")
    for field in ("loading", "async_loading", "current_cow_peak", "current_cow_size",
                  "current_cow_size_age", "current_fork_perc", "current_save_keys_processed",
                  "current_save_keys_total", "rdb_changes_since_last_save",
                  "rdb_bgsave_in_progress", "rdb_last_save_time", "rdb_last_bgsave_status",
                  "rdb_last_bgsave_time_sec", "rdb_current_bgsave_time_sec", "rdb_saves",
                  "rdb_last_cow_size", "rdb_last_load_keys_expired",
                  "rdb_last_load_keys_loaded", "aof_enabled", "aof_rewrite_in_progress"):
        assert field in info, field
    assert info["rdb_bgsave_in_progress"] == 0
    assert info["rdb_last_bgsave_status"] == "ok"
    assert info["rdb_last_bgsave_time_sec"] == -1
    assert info["rdb_current_bgsave_time_sec"] == -1
    assert info["rdb_saves"] == 0
    assert info["rdb_last_save_time"] == int(c.lastsave().timestamp())
    c.set("a", 1)
    assert c.bgsave() is True
    wait_saved(c)
    info = c.info("persistence")
    assert info["rdb_saves"] == 1
    assert info["rdb_last_bgsave_time_sec"] >= 0
    assert info["rdb_changes_since_last_save"] == 0


def test_bad_arguments(start_server):
    s = start_server("--save", "")
    c = s.client()
    cases = [
        (("SAVE", "x"), arity_error("save")),
        (("LASTSAVE", "x"), arity_error("lastsave")),
        (("BGSAVE", "foo"), "ERR syntax error"),
        (("BGSAVE", "SCHEDULE", "x"), "ERR syntax error"),
        (("SHUTDOWN", "foo"), "ERR syntax error"),
        (("SHUTDOWN", "NOSAVE", "SAVE"), "ERR syntax error"),
        (("SHUTDOWN", "ABORT", "NOW"), "ERR syntax error"),
        (("SHUTDOWN", "ABORT"), "ERR No shutdown in progress."),
    ]
    with s.raw() as conn:
        for args, want in cases:
            assert error_of(conn, *args) == want, args
    # With nothing running, BGSAVE SCHEDULE just starts one.
    assert status_of(s, "BGSAVE", "schedule") == "Background saving started"
    wait_saved(c)
    # SAVE is refused inside MULTI and in scripts; BGSAVE in scripts.
    with pytest.raises(redis.ResponseError, match="not allowed from script"):
        c.eval("return redis.call('bgsave')", 0)
    assert c.ping() is True


def test_bgsave_inside_exec_is_scheduled_after_the_transaction(start_server):
    """BGSAVE queued in MULTI answers `Background saving scheduled` and saves once EXEC is
    over, so the file holds the whole transaction, the commands after BGSAVE too."""
    s = start_server("--save", "")
    c = s.client()
    before = info_field(c, "persistence", "rdb_saves")
    with s.raw() as conn:
        assert conn.call("MULTI") == "OK"
        for args in (("SET", "a", "1"), ("BGSAVE",), ("SET", "b", "2")):
            assert conn.call(*args) == "QUEUED"
        assert conn.call("EXEC") == ["OK", "Background saving scheduled", "OK"]
    wait_until(lambda: info_field(c, "persistence", "rdb_saves") == before + 1, timeout=10,
               message="the scheduled save to start")
    wait_saved(c)
    assert info_field(c, "persistence", "rdb_last_bgsave_status") == "ok"
    with Oracle(os.path.join(s.dir, "dump.rdb")) as o:
        assert o.client.get("a") == b"1" and o.client.get("b") == b"2"


def test_restart_loads_what_it_saved(start_server):
    """A file the server writes is the one it starts from: every type, TTL,
    database and function library comes back."""
    s, c, want, want_streams = full_dataset(start_server)
    c.shutdown(save=True)
    assert s.wait_exit() == 0
    s2 = start_server("--save", "", cwd=s.dir)
    c2 = binary_client(s2)
    assert_same(contents(c2), want)
    assert stream_meta(c2) == want_streams
    assert c2.fcall("snapf", 0) == 7
