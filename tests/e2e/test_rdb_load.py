"""Loading RDB files at start-up: files written by redis-server 7.0 (the
oracle) are loaded and compared key by key, element by element; truncated and
corrupted files are refused with the file name and the offset; clients see
-LOADING while a big file loads; sluice-check-rdb on good and bad files.

Every file here is written by /usr/bin/redis-server (Debian's 7.0), filled
with redis-py and saved with SAVE. With SLUICE_SERVER=/usr/bin/redis-server
the same loads run on Redis itself (the sluice-only wording checks are
skipped)."""

import os
import shutil
import subprocess
import time

import pytest
import redis

from conftest import (EXTRA_ARGS, IS_REDIS, SERVER_BIN, free_port, run_server_expecting_failure,
                      server_dir)
from helpers import read_value, wait_until

REDIS_BIN = "/usr/bin/redis-server"
REDIS_CHECK_BIN = "/usr/bin/redis-check-rdb"
CHECK_BIN = os.path.join(os.path.dirname(SERVER_BIN), "sluice-check-rdb")

pytestmark = pytest.mark.skipif(not os.path.exists(REDIS_BIN),
                                reason="needs redis-server to write the files")


class RedisWriter:
    """A redis-server 7.0 in `dirpath` whose data SAVE writes to dump.rdb."""

    def __init__(self, dirpath, *args):
        self.dir = dirpath
        self.port = free_port()
        self.proc = subprocess.Popen(
            [REDIS_BIN, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", dirpath] + list(args),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.c = self.client()

        def up():
            try:
                return self.c.ping()
            except redis.ConnectionError:
                return False
        wait_until(up, timeout=10, message="redis-server writer to start")

    def client(self, db=0):
        return redis.Redis(host="127.0.0.1", port=self.port, db=db, socket_timeout=120)

    def save_and_stop(self):
        """SAVEs, captures nothing, stops; returns the file's path."""
        assert self.c.save()
        try:
            self.c.execute_command("SHUTDOWN", "NOSAVE")
        except redis.ConnectionError:
            pass
        self.proc.wait(20)
        return os.path.join(self.dir, "dump.rdb")

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def writer():
    """Factory of RedisWriter, each in a fresh directory; killed afterwards."""
    made = []

    def make(*args):
        w = RedisWriter(server_dir(), *args)
        made.append(w)
        return w
    yield make
    for w in made:
        w.kill()


def value_of(c, key):
    """(type, contents, absolute deadline in ms or -1) of one key."""
    t = c.type(key).decode()
    v = read_value(c, key, t)
    if t == "stream":
        info = c.xinfo_stream(key)
        v = (v, info["length"], info["last-generated-id"])
    return t, v, c.execute_command("PEXPIRETIME", key)


def capture(port, dbs):
    """Every key of databases `dbs` on the server at `port`."""
    out = {}
    for db in dbs:
        c = redis.Redis(host="127.0.0.1", port=port, db=db, socket_timeout=60)
        for key in c.scan_iter(count=1000):
            out[(db, key)] = value_of(c, key)
        c.close()
    return out


def assert_same(expected, port, dbs):
    got = capture(port, dbs)
    assert set(got) == set(expected), "keys differ: missing %r, extra %r" % (
        sorted(set(expected) - set(got))[:10], sorted(set(got) - set(expected))[:10])
    for k, v in expected.items():
        assert got[k] == v, "key %r: redis had %r, loaded %r" % (k, v, got[k])


def load(start_server, path, *args):
    """A server started on `path` (its --dir and --dbfilename)."""
    return start_server("--dir", os.path.dirname(path), "--dbfilename",
                        os.path.basename(path), *args)


def roundtrip(writer, start_server, fill, dbs=(0,), writer_args=()):
    """Fills a redis-server with fill(writer), saves, loads the file into the
    server under test and compares every key of `dbs`."""
    w = writer(*writer_args)
    fill(w)
    expected = capture(w.port, dbs)
    assert expected, "the fill wrote nothing"
    path = w.save_and_stop()
    s = load(start_server, path)
    assert_same(expected, s.port, dbs)
    return s, expected, path


# ---- what each type looks like in a file ---------------------------------------------------


def fill_strings(w):
    c = w.c
    c.set("int:small", "12")
    c.set("int:neg", "-7")
    c.set("int:16", "30000")
    c.set("int:32", "-2000000000")
    c.set("int:big", str(2 ** 40))
    c.set("int:leading0", "0123")  # not canonical: a raw string
    c.set("raw:short", "hello")
    c.set("raw:empty", "")
    c.set("raw:binary", bytes(range(256)))
    c.set("raw:long", "abc" * 2000)  # compressible: LZF with rdbcompression yes
    c.set("raw:random", os.urandom(500))  # incompressible: plain
    c.set("raw:float", "3.14159")


def fill_lists(w):
    c = w.c
    c.rpush("list:small", "a", "b", 1, 2, -3)
    c.rpush("list:large", *["element-%d" % i for i in range(10000)])
    c.rpush("list:ints", *range(-300, 300))
    c.rpush("list:bigelems", "x" * 10000, "y" * 20000, "z")  # plain quicklist nodes
    c.rpush("list:binary", b"\x00\xff\r\n", b"")


def fill_lists_compressed(w):
    w.c.config_set("list-compress-depth", 1)
    w.c.rpush("list:compressed", *[("abcdefgh" * 8) + str(i) for i in range(5000)])


def fill_sets(w):
    c = w.c
    c.sadd("set:intset", *range(100))
    c.sadd("set:intset64", 2 ** 40, -(2 ** 40), 0)
    c.sadd("set:small", "a", "b", "c")  # hashtable in 7.0 (listpack in 7.2)
    c.sadd("set:large", *["member-%d" % i for i in range(2000)])
    c.sadd("set:bigints", *range(1000))  # past set-max-intset-entries: hashtable


def fill_zsets(w):
    c = w.c
    c.zadd("zset:small", {"a": 1, "b": 2.5, "c": -3})
    c.zadd("zset:inf", {"lo": float("-inf"), "hi": float("inf"), "zero": 0})
    c.zadd("zset:large", {"m%d" % i: i / 7 for i in range(1000)})
    c.zadd("zset:longmember", {"x" * 100: 1, "y": 2})  # past the listpack value limit


def fill_hashes(w):
    c = w.c
    c.hset("hash:small", mapping={"f1": "v1", "f2": 2, "f3": ""})
    c.hset("hash:large", mapping={"field%d" % i: "value%d" % i for i in range(1000)})
    c.hset("hash:longvalue", mapping={"a": "v" * 100, "b": "w"})
    c.hset("hash:ints", mapping={i: i * 3 for i in range(50)})


def fill_streams(w):
    c = w.c
    for i in range(50):
        c.xadd("stream:small", {"n": i, "name": "item-%d" % i})
    for i in range(3000):
        c.xadd("stream:large", {"f": i}, id="%d-%d" % (1000 + i // 3, i % 3))
    ids = [c.xadd("stream:deleted", {"k": i}) for i in range(20)]
    c.xdel("stream:deleted", ids[3], ids[10], ids[19])
    c.xadd("stream:fields", {"a": 1})
    c.xadd("stream:fields", {"b": 2, "c": 3})  # another field set
    c.xadd("stream:trimmed", {"x": 1}, id="5-1")
    c.xadd("stream:trimmed", {"x": 2}, id="6-1")
    c.xtrim("stream:trimmed", maxlen=0)  # empty, last id kept


def fill_ttls(w):
    c = w.c
    far = int(time.time() * 1000) + 3600 * 1000
    c.set("ttl:string", "v", px=3600 * 1000)
    c.rpush("ttl:list", "a", "b")
    c.pexpireat("ttl:list", far)
    c.hset("ttl:hash", "f", "v")
    c.expire("ttl:hash", 7200)
    c.sadd("ttl:set", 1, 2)
    c.pexpireat("ttl:set", far + 1)
    c.zadd("ttl:zset", {"a": 1})
    c.pexpireat("ttl:zset", far + 2)
    c.set("nottl", "v")


def fill_databases(w):
    for db in (0, 3, 15):
        c = w.client(db)
        c.set("where", "db%d" % db)
        c.set("only-in-%d" % db, db)
        c.set("ttl-in-%d" % db, "x", ex=3600)
        c.close()


TYPE_FILLS = [fill_strings, fill_lists, fill_lists_compressed, fill_sets, fill_zsets,
              fill_hashes, fill_streams, fill_ttls]


@pytest.mark.parametrize("fill", TYPE_FILLS, ids=lambda f: f.__name__[5:])
def test_each_type_and_encoding_loads_as_redis_wrote_it(writer, start_server, fill):
    roundtrip(writer, start_server, fill)


class ServerFiller:
    """What the fills need (`.c`, `.client(db)`) over a server of the harness."""

    def __init__(self, server):
        self.server = server
        self.c = server.client(decode_responses=False)

    def client(self, db=0):
        return self.server.client(db=db, decode_responses=False)


def test_its_own_snapshot_loads_back(start_server):
    """Every fill at once into the server under test, SAVE, restart on the file."""
    s = start_server("--save", "")
    filler = ServerFiller(s)
    for fill in TYPE_FILLS + [fill_databases]:
        fill(filler)
    expected = capture(s.port, range(16))
    assert filler.c.save()
    path = os.path.join(s.dir, "dump.rdb")
    s.stop()
    s2 = load(start_server, path, "--save", "")
    assert_same(expected, s2.port, range(16))


def test_strings_without_compression(writer, start_server):
    roundtrip(writer, start_server, fill_strings, writer_args=("--rdbcompression", "no"))


def test_several_databases(writer, start_server):
    s, _, _ = roundtrip(writer, start_server, fill_databases, dbs=range(16))
    c = s.client()
    keyspace = c.info("keyspace")
    assert sorted(keyspace) == ["db0", "db15", "db3"]
    assert keyspace["db3"]["keys"] == 3 and keyspace["db3"]["expires"] == 1


def test_a_database_beyond_databases_is_an_error_naming_it(writer):
    w = writer()
    w.client(15).set("k", "v")
    path = w.save_and_stop()
    rc, out = run_server_expecting_failure(["--dir", os.path.dirname(path), "--databases", "4"])
    assert rc != 0
    if not IS_REDIS:
        assert "dump.rdb at offset" in out and "database 15" in out, out


def test_loaded_counts_and_log_lines(writer, start_server):
    w = writer()
    w.c.set("a", 1)
    w.c.set("b", 2)
    w.c.set("gone", "x", px=300)
    path = w.save_and_stop()
    time.sleep(0.5)
    s = load(start_server, path)
    c = s.client()
    info = c.info("persistence")
    assert info["loading"] == 0
    assert info["rdb_last_load_keys_loaded"] == 2
    assert info["rdb_last_load_keys_expired"] == 1
    assert c.dbsize() == 2
    out = s.output()
    assert "DB loaded from disk: " in out
    if not IS_REDIS:
        assert "Loading RDB produced by version 7.0" in out
        assert "Done loading RDB, keys loaded: 2, keys expired: 1." in out


def test_functions_are_loaded(writer, start_server):
    w = writer()
    w.c.execute_command(
        "FUNCTION", "LOAD",
        "#!lua name=mylib\n"
        "redis.register_function('hello', function(keys, args) return 'hi ' .. args[1] end)\n"
        "redis.register_function{function_name='ro', callback=function() return 1 end,"
        " flags={'no-writes'}}")
    w.c.set("k", "v")
    path = w.save_and_stop()
    s = load(start_server, path)
    c = s.client(decode_responses=True)
    assert c.execute_command("FCALL", "hello", 0, "there") == "hi there"
    assert c.execute_command("FCALL_RO", "ro", 0) == 1
    libs = c.execute_command("FUNCTION", "LIST")
    assert len(libs) == 1
    assert c.get("k") == "v"


def test_keys_whose_ttl_passed_while_down_are_gone(writer, start_server):
    w = writer()
    written = time.monotonic()
    w.c.set("short", "s", px=1500)
    w.c.set("shortint", 12, px=1500)
    w.c.set("long", "l", ex=3600)
    w.c.set("forever", "f")
    path = w.save_and_stop()
    s = load(start_server, path)
    c = s.client(decode_responses=True)
    assert c.get("short") == "s" and c.get("shortint") == "12"
    assert 0 < c.pttl("short") <= 1500
    s.stop()
    if not IS_REDIS:
        # Default save points: the shutdown wrote the file again, sluice's own now.
        assert "Saving the final RDB snapshot before exiting." in s.output()
        assert "DB saved on disk" in s.output()
    # Down until the short TTLs have passed.
    time.sleep(max(0.0, written + 1.7 - time.monotonic()))
    s2 = load(start_server, path)
    c2 = s2.client(decode_responses=True)
    assert c2.exists("short", "shortint") == 0
    assert c2.get("long") == "l" and c2.get("forever") == "f"
    assert 3500 < c2.ttl("long") <= 3600
    assert c2.info("persistence")["rdb_last_load_keys_expired"] == 2


def test_lfu_counters_and_lru_idle_times_come_along(writer, start_server):
    # An LFU policy's writer stores each key's counter (FREQ records)...
    w = writer("--maxmemory-policy", "allkeys-lfu")
    w.c.set("hot", "v")
    w.c.set("cold", "v")
    for _ in range(300):
        w.c.get("hot")
    freqs = {k: w.c.object("freq", k) for k in ("hot", "cold")}
    assert freqs["hot"] > freqs["cold"]
    path = w.save_and_stop()
    s = load(start_server, path, "--maxmemory-policy", "allkeys-lfu", "--save", "")
    c = s.client()
    assert {k: c.object("freq", k) for k in ("hot", "cold")} == freqs
    s.stop()
    # ...an LRU policy's its idle time in seconds (IDLE records).
    w = writer("--maxmemory-policy", "allkeys-lru")
    w.c.set("idle", "v")
    time.sleep(2.2)
    w.c.set("fresh", "v")
    assert w.c.object("idletime", "idle") >= 2
    path = w.save_and_stop()
    s = load(start_server, path, "--maxmemory-policy", "allkeys-lru", "--save", "")
    c = s.client()
    assert 2 <= c.object("idletime", "idle") <= 4
    assert c.object("idletime", "fresh") <= 1


def test_no_checksum_file_loads(writer, start_server):
    roundtrip(writer, start_server, fill_strings, writer_args=("--rdbchecksum", "no"))


# ---- bad files -------------------------------------------------------------------------------


def small_file(writer):
    w = writer()
    fill_strings(w)
    w.c.set("ttl", "v", ex=3600)
    return w.save_and_stop()


def refused(path, expect_offset=True):
    """Starts the server on `path` and asserts that it refuses it; returns
    its output."""
    rc, out = run_server_expecting_failure(
        ["--dir", os.path.dirname(path), "--dbfilename", os.path.basename(path)])
    assert rc != 0, out
    if not IS_REDIS:
        assert "Bad file format reading the RDB file " in out, out
        assert os.path.basename(path) in out, out
        if expect_offset:
            assert " at offset " in out, out
        assert "Ready to accept" not in out, out
    return out


def test_truncated_files_are_refused_at_every_cut(writer):
    path = small_file(writer)
    data = open(path, "rb").read()
    d = server_dir()
    cuts = sorted(set(list(range(0, 12)) + list(range(12, len(data), max(1, len(data) // 40))) +
                      [len(data) - 9, len(data) - 8, len(data) - 1]))
    for cut in cuts:
        p = os.path.join(d, "cut-%d.rdb" % cut)
        with open(p, "wb") as f:
            f.write(data[:cut])
        out = refused(p)
        if not IS_REDIS and cut >= 9:
            assert "unexpected end of file" in out, (cut, out)
        # The oracle agrees the file is bad.
        r = subprocess.run([REDIS_CHECK_BIN, p], capture_output=True, timeout=30)
        assert r.returncode != 0, cut


def test_bad_checksum_is_refused(writer):
    path = small_file(writer)
    data = bytearray(open(path, "rb").read())
    data[-1] ^= 0xff
    p = os.path.join(server_dir(), "badcrc.rdb")
    open(p, "wb").write(bytes(data))
    out = refused(p)
    if not IS_REDIS:
        assert "at offset %d: wrong checksum" % (len(data) - 8) in out, out


def test_corrupted_bytes_are_refused(writer):
    path = small_file(writer)
    data = open(path, "rb").read()
    d = server_dir()
    for at in range(9, len(data) - 8, max(1, len(data) // 30)):
        bad = bytearray(data)
        bad[at] ^= 0x5a
        p = os.path.join(d, "flip-%d.rdb" % at)
        open(p, "wb").write(bytes(bad))
        refused(p)


def test_bad_header_and_version_are_refused(writer):
    path = small_file(writer)
    data = open(path, "rb").read()
    d = server_dir()
    p = os.path.join(d, "v12.rdb")
    open(p, "wb").write(b"REDIS0012" + data[9:])
    out = refused(p)
    if not IS_REDIS:
        assert "at offset 5: can't handle RDB format version 12" in out, out
    p = os.path.join(d, "notrdb.rdb")
    open(p, "wb").write(b"HELLO WORLD, not a snapshot")
    out = refused(p)
    if not IS_REDIS:
        assert "at offset 0: not an RDB file" in out, out
    p = os.path.join(d, "empty.rdb")
    open(p, "wb").close()
    refused(p)


def test_unknown_type_and_module_data_are_refused(writer):
    path = small_file(writer)
    data = open(path, "rb").read()
    eof = len(data) - 9
    assert data[eof] == 0xff
    d = server_dir()
    for what, record in [("unknown value type 99", b"\x63\x01k\x01v"),
                         ("no modules", b"\x07\x01k\x00"),
                         ("no modules", b"\xf7\x00")]:
        p = os.path.join(d, "rec.rdb")
        # Without a checksum (stored 0), so that the record itself is what is refused.
        open(p, "wb").write(data[:eof] + record + b"\xff" + b"\x00" * 8)
        out = refused(p)
        if not IS_REDIS:
            assert "at offset %d: " % eof in out and what in out, out


# ---- while loading ---------------------------------------------------------------------------


def big_file(writer, keys):
    w = writer("--enable-debug-command", "yes")
    w.c.execute_command("DEBUG", "POPULATE", keys)
    return w.save_and_stop()


def start_loading(writer, keys):
    """The server under test on a file of `keys` DEBUG POPULATE keys, on a port
    chosen here (the harness learns a server's port from its Ready line, which
    comes after the load); returns (process, port, path) once INFO says it is
    loading. Its output is piped."""
    path = big_file(writer, keys)
    port = free_port()
    proc = subprocess.Popen(
        [SERVER_BIN, "--port", str(port), "--bind", "127.0.0.1"] + EXTRA_ARGS +
        ["--dir", os.path.dirname(path)], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT)

    def loading():
        try:
            c = redis.Redis(host="127.0.0.1", port=port, socket_timeout=5)
            return c.info("persistence")["loading"] == 1
        except redis.ConnectionError:
            return False
    try:
        wait_until(loading, timeout=10, interval=0.005, message="the load to start")
    except BaseException:
        proc.kill()
        proc.communicate(timeout=30)
        raise
    return proc, port, path


def stop_cleanly(proc, terminate=True):
    """SIGTERMs `proc` (or, without `terminate`, waits for it to exit); asserts
    that it exits with status 0; returns its output."""
    if terminate and proc.poll() is None:
        proc.terminate()
    try:
        out, _ = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate(timeout=30)
        raise AssertionError("the server did not stop on SIGTERM: %r" % out[-4000:])
    assert proc.returncode == 0, out
    return out.decode(errors="replace")


@pytest.mark.skipif(IS_REDIS, reason="starts the binary itself on a known port")
def test_clients_get_loading_during_a_long_load(writer):
    proc, port, path = start_loading(writer, 3000000)
    try:
        c = redis.Redis(host="127.0.0.1", port=port, socket_timeout=10, decode_responses=True)
        with pytest.raises(redis.exceptions.BusyLoadingError) as e:
            c.get("key:1")
        assert "Redis is loading the dataset in memory" in str(e.value)
        with pytest.raises(redis.exceptions.BusyLoadingError):
            c.ping()
        # Commands flagged for loading are served.
        assert c.echo("hi") == "hi"
        info = c.info("persistence")
        assert info["loading"] == 1 and info["async_loading"] == 0
        assert info["loading_total_bytes"] == os.path.getsize(path)
        assert 0 <= info["loading_loaded_bytes"] <= info["loading_total_bytes"]
        assert 0 <= float(info["loading_loaded_perc"]) <= 100
        for field in ("loading_start_time", "loading_rdb_used_mem", "loading_eta_seconds"):
            assert field in info

        def loaded():
            try:
                return c.ping()
            except redis.exceptions.BusyLoadingError:
                return False
        wait_until(loaded, timeout=120, interval=0.05, message="the load to finish")
        assert c.dbsize() == 3000000
        assert c.get("key:2999999") == "value:2999999"
        assert "loading_total_bytes" not in c.info("persistence")
        c.close()
    finally:
        text = stop_cleanly(proc)
    # Ready comes after the load, as in Redis.
    assert text.index("DB loaded from disk") < text.index("Ready to accept"), text


@pytest.mark.skipif(IS_REDIS, reason="starts the binary itself on a known port")
def test_sigterm_during_a_load_stops_the_server(writer):
    proc, _, path = start_loading(writer, 2000000)
    before = open(path, "rb").read()
    text = stop_cleanly(proc)
    assert "Ready to accept" not in text, text
    # Save points are on by default, yet a half-loaded dataset is never saved.
    assert "Saving the final RDB snapshot" not in text, text
    assert open(path, "rb").read() == before
    assert sorted(os.listdir(os.path.dirname(path))) == ["dump.rdb"]


@pytest.mark.skipif(IS_REDIS, reason="starts the binary itself on a known port")
def test_shutdown_during_a_load_saves_nothing(writer):
    proc, port, path = start_loading(writer, 2000000)
    before = open(path, "rb").read()
    c = redis.Redis(host="127.0.0.1", port=port, socket_timeout=10)
    try:
        c.execute_command("SHUTDOWN")
    except redis.ConnectionError:
        pass
    text = stop_cleanly(proc, terminate=False)
    assert "Ready to accept" not in text and "Saving the final" not in text, text
    assert open(path, "rb").read() == before


# ---- sluice-check-rdb ------------------------------------------------------------------------


def check(path):
    r = subprocess.run([CHECK_BIN, path], capture_output=True, timeout=60)
    return r.returncode, r.stdout.decode(errors="replace") + r.stderr.decode(errors="replace")


needs_tool = pytest.mark.skipif(IS_REDIS or not os.path.exists(CHECK_BIN),
                                reason="sluice-check-rdb is sluice's")


@needs_tool
def test_check_tool_describes_a_good_file(writer):
    w = writer()
    fill_strings(w)
    w.client(2).set("in-two", "x", ex=100)
    w.client(2).set("soon-gone", "x", px=200)
    w.c.execute_command("FUNCTION", "LOAD",
                        "#!lua name=checked\nredis.register_function('f', function() return 1 end)")
    path = w.save_and_stop()
    time.sleep(0.4)
    rc, out = check(path)
    assert rc == 0, out
    assert out.rstrip().endswith("OK"), out
    assert "RDB version 10" in out
    assert "AUX redis-ver = '7.0.15'" in out or "AUX redis-ver = '7.0" in out, out
    assert "function library 'checked'" in out
    assert "db 0: 12 keys, 0 with a TTL, 0 already expired" in out, out
    assert "db 2: 2 keys, 2 with a TTL, 1 already expired" in out, out
    assert "type string: 14 keys" in out, out
    assert "checksum" in out and "OK" in out
    # The oracle agrees.
    assert subprocess.run([REDIS_CHECK_BIN, path], capture_output=True).returncode == 0


@needs_tool
@pytest.mark.parametrize("fill", TYPE_FILLS, ids=lambda f: f.__name__[5:])
def test_check_tool_decodes_every_type(writer, fill):
    w = writer()
    fill(w)
    keys = w.c.dbsize()
    path = w.save_and_stop()
    rc, out = check(path)
    assert rc == 0, out
    assert "%d keys in all" % keys in out, out


@needs_tool
def test_check_tool_refuses_bad_files(writer):
    path = small_file(writer)
    data = open(path, "rb").read()
    d = server_dir()
    cases = {
        "cut.rdb": (data[:len(data) // 2], "unexpected end of file"),
        "crc.rdb": (data[:-1] + bytes([data[-1] ^ 1]), "wrong checksum"),
        "version.rdb": (b"REDIS0099" + data[9:], "can't handle RDB format version 99"),
    }
    for name, (content, says) in cases.items():
        p = os.path.join(d, name)
        open(p, "wb").write(content)
        rc, out = check(p)
        assert rc == 1, out
        assert "[error] Bad file format reading the RDB file %s at offset " % p in out, out
        assert says in out, out
        assert out.rstrip().endswith("FAILED"), out
        assert subprocess.run([REDIS_CHECK_BIN, p], capture_output=True).returncode != 0
    rc, out = check(os.path.join(d, "missing.rdb"))
    assert rc == 1 and "Can't open the RDB file" in out, out
    r = subprocess.run([CHECK_BIN], capture_output=True)
    assert r.returncode == 2 and b"Usage" in r.stderr


def test_a_key_held_twice_is_refused(tmp_path):
    """No server writes a key twice into one database; a file that does is refused (Redis
    panics on it) instead of silently keeping one of the values."""
    def string_record(key, value):
        return b"\x00" + bytes([len(key)]) + key + bytes([len(value)]) + value
    body = (b"REDIS0011" + b"\xfe\x00" + string_record(b"other", b"x") +
            string_record(b"k", b"first") + string_record(b"k", b"second") + b"\xff")
    p = tmp_path / "dup.rdb"
    p.write_bytes(body + b"\x00" * 8)  # a zero checksum: not checked
    out = refused(str(p))
    if not IS_REDIS:
        dup_at = len(b"REDIS0011\xfe\x00") + len(string_record(b"other", b"x")) + \
            len(string_record(b"k", b"first"))
        assert "at offset %d: duplicated key 'k' in DB 0" % dup_at in out, out
