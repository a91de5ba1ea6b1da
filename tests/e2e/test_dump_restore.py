"""DUMP and RESTORE: payloads in Redis's format, for every type and encoding.

Values go sluice -> sluice, sluice -> redis-server 7.0 and redis-server ->
sluice (a private redis-server with sanitize-dump-payload yes, so Redis
checks every byte of what sluice writes), and are compared element by
element; redis-check-rdb reads a file made of sluice's payloads. Then
RESTORE's options, replies and errors, and its keyspace event. The
cross-server parts are skipped when the suite runs against Redis itself.
"""

import shutil
import subprocess
import tempfile
import time

import pytest
import redis

from conftest import IS_REDIS, free_port
from helpers import read_value, wait_until

REDIS_SERVER = shutil.which("redis-server")
REDIS_CHECK_RDB = shutil.which("redis-check-rdb")


@pytest.fixture(scope="module")
def oracle():
    """A private redis-server (binary responses) checking payloads deeply."""
    if IS_REDIS:
        pytest.skip("the suite runs against Redis: no cross-server check")
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed")
    tmp = tempfile.mkdtemp(prefix="oracle-")
    port = free_port()
    proc = subprocess.Popen([REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1",
                             "--save", "", "--appendonly", "no", "--dir", tmp,
                             "--sanitize-dump-payload", "yes"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL)
    client = redis.Redis(port=port, socket_timeout=10)

    def up():
        try:
            return client.ping()
        except redis.ConnectionError:
            return False

    wait_until(up, timeout=10, message="redis-server started")
    yield client
    client.close()
    proc.terminate()
    proc.wait(10)
    shutil.rmtree(tmp, ignore_errors=True)


def contents(c, key):
    """The value at `key` as comparable Python data, and its encoding."""
    t = c.type(key)
    t = t.decode() if isinstance(t, bytes) else t
    enc = c.object("encoding", key)
    v = read_value(c, key, t)
    if t == "stream":
        info = c.xinfo_stream(key)
        meta = {k: info[k] for k in (b"length", b"last-generated-id", b"max-deleted-entry-id",
                                     b"entries-added", b"recorded-first-entry-id")
                if k in info}
        v = (v, meta)
    return t, v, enc


def fill(c):
    """One key of every type, in each encoding; returns the key names."""
    c.set("str:int", 12345)
    c.set("str:neg", -2000000000)
    c.set("str:big", 2 ** 62)
    c.set("str:short", "hello")
    c.set("str:lzf", "abc" * 200)
    c.set("str:bin", bytes(range(256)))
    c.set("str:empty", "")
    c.rpush("list:small", "a", 1, -2, 300, 70000, "x" * 70, -9000000000)
    c.rpush("list:big", *[f"element-{i}" for i in range(3000)])
    c.rpush("list:long", "y" * 20000, "z")
    c.sadd("set:ints", 5, -3, 100000, 2)
    c.sadd("set:ints64", 1, 10000000000)
    c.sadd("set:small", "a", "b", "c")
    c.sadd("set:bigints", *range(1000))
    c.sadd("set:big", *[f"m{i}" for i in range(500)])
    c.zadd("zset:small", {"a": 1, "b": 2.5, "c": -3, "d": float("inf"), "e": 0.1, "f": 1e20})
    c.zadd("zset:big", {f"m{i}": i * 0.37 - 50 for i in range(400)})
    c.zadd("zset:longmember", {"q" * 100: 1})
    c.hset("hash:tiny", mapping={"f1": "v1", "f2": 2})
    c.hset("hash:small", mapping={f"field-{i}": f"value-{i}" for i in range(20)})
    c.hset("hash:big", mapping={f"f{i}": i for i in range(600)})
    c.hset("hash:longvalue", "f", "v" * 100)
    for i in range(1, 260):
        fields = {"a": i, "b": "x" * (i % 7)} if i % 5 else {"other": i}
        c.xadd("stream:big", fields, id=f"{1000 + i // 3}-{i % 3}")
    c.xdel("stream:big", "1001-2")
    c.xadd("stream:empty", {"a": 1}, id="5-5")
    c.xdel("stream:empty", "5-5")
    return [k.decode() if isinstance(k, bytes) else k for k in c.keys("*")]


def ok(reply):
    return reply in (True, b"OK", "OK")


def copy_all(src, dst, keys, prefix=""):
    for key in keys:
        payload = src.dump(key)
        assert payload is not None, key
        assert ok(dst.restore(prefix + key, 0, payload)), key


def test_dump_of_a_missing_key_is_nil(r):
    assert r.dump("nothing") is None


def test_round_trip_every_type_and_encoding(rb):
    keys = fill(rb)
    assert len(keys) == 24
    copy_all(rb, rb, keys, prefix="copy:")
    for key in keys:
        assert contents(rb, "copy:" + key) == contents(rb, key), key
        assert rb.ttl("copy:" + key) == -1


def test_dump_follows_rdbcompression(r, rb):
    value = b"abc" * 200
    rb.set("s", value)
    compressed = rb.dump("s")
    assert value not in compressed
    assert len(compressed) < len(value)
    r.config_set("rdbcompression", "no")
    try:
        plain = rb.dump("s")
    finally:
        r.config_set("rdbcompression", "yes")
    assert value in plain
    for payload in (compressed, plain):
        assert ok(rb.restore("copy", 0, payload, replace=True))
        assert rb.get("copy") == value


def _compare_values(a, b, keys, prefix=""):
    for key in keys:
        ta, va, _ = contents(a, key)
        tb, vb, _ = contents(b, prefix + key)
        assert (ta, va) == (tb, vb), key


def test_sluice_payloads_restore_into_redis(rb, oracle):
    oracle.flushall()
    keys = fill(rb)
    copy_all(rb, oracle, keys)
    _compare_values(rb, oracle, keys)
    # And back: what Redis re-dumps restores into sluice unchanged.
    copy_all(oracle, rb, keys, prefix="back:")
    _compare_values(oracle, rb, keys, prefix="back:")


def test_redis_payloads_restore_into_sluice(rb, oracle):
    oracle.flushall()
    keys = fill(oracle)
    # Redis's small-limit encodings too: several quicklist nodes, plain sets,
    # skiplists and hash tables of few elements.
    oracle.config_set("list-max-listpack-size", 3)
    oracle.config_set("zset-max-listpack-entries", 2)
    oracle.config_set("hash-max-listpack-entries", 2)
    oracle.config_set("set-max-intset-entries", 2)
    oracle.config_set("stream-node-max-entries", 2)
    try:
        oracle.rpush("small:list", *range(10))
        oracle.zadd("small:zset", {"a": 1, "b": 2, "c": 3})
        oracle.hset("small:hash", mapping={"a": 1, "b": 2, "c": 3})
        oracle.sadd("small:set", 1, 2, 3)
        for i in range(7):
            oracle.xadd("small:stream", {"f": i}, id=f"1-{i + 1}")
        oracle.xgroup_create("small:stream", "group", id="0")
        oracle.xreadgroup("group", "consumer", {"small:stream": ">"}, count=3)
    finally:
        for name, value in (("list-max-listpack-size", -2), ("zset-max-listpack-entries", 128),
                            ("hash-max-listpack-entries", 512), ("set-max-intset-entries", 512),
                            ("stream-node-max-entries", 100)):
            oracle.config_set(name, value)
    keys += ["small:list", "small:zset", "small:hash", "small:set", "small:stream"]
    copy_all(oracle, rb, keys)
    _compare_values(oracle, rb, keys)
    # Encodings are sluice's own choice under its limits.
    assert rb.object("encoding", "small:zset") == b"listpack"
    assert rb.object("encoding", "set:bigints") == b"hashtable"
    assert rb.object("encoding", "set:ints") == b"intset"


def _rdb_file(records):
    """An RDB 10 file (checksum 0: not checked) of (key, payload) records."""
    out = bytearray(b"REDIS0010")
    out += b"\xfe\x00"  # SELECTDB 0
    for key, payload in records:
        body = payload[:-10]  # the version and CRC trailer
        kb = key.encode()
        assert len(kb) < 64
        out += body[:1] + bytes([len(kb)]) + kb + body[1:]
    out += b"\xff" + b"\x00" * 8
    return bytes(out)


@pytest.mark.skipif(REDIS_CHECK_RDB is None, reason="redis-check-rdb is not installed")
def test_redis_check_rdb_accepts_sluice_values(rb, tmp_path):
    keys = fill(rb)
    path = tmp_path / "dump.rdb"
    path.write_bytes(_rdb_file([(k, rb.dump(k)) for k in keys]))
    p = subprocess.run([REDIS_CHECK_RDB, str(path)], capture_output=True, timeout=60)
    out = (p.stdout + p.stderr).decode(errors="replace")
    assert p.returncode == 0, out
    assert "RDB looks OK" in out, out
    assert f"[info] {len(keys)} keys read" in out, out


def test_restore_ttl_replace_and_busykey(r, rb):
    r.rpush("src", "a", "b")
    dump = rb.dump("src")
    assert ok(rb.restore("dst", 0, dump))
    assert r.lrange("dst", 0, -1) == ["a", "b"]
    assert r.ttl("dst") == -1
    with pytest.raises(redis.ResponseError, match="^BUSYKEY Target key name already exists.$"):
        rb.restore("dst", 0, dump)
    r.set("dst", "other")
    assert ok(rb.restore("dst", 5000, dump, replace=True))
    assert r.type("dst") == "list"
    assert 0 < r.pttl("dst") <= 5000
    deadline = int(time.time() * 1000) + 100000
    assert ok(rb.restore("abs", deadline, dump, absttl=True))
    assert r.pexpiretime("abs") == deadline
    # A deadline in the past: OK, and nothing is created (a replaced key
    # is deleted).
    assert ok(rb.restore("gone", 1, dump, absttl=True))
    assert r.exists("gone") == 0
    assert ok(rb.restore("dst", 1, dump, absttl=True, replace=True))
    assert r.exists("dst") == 0
    # Options in any case and order; BUSYKEY is checked before the TTL.
    assert rb.execute_command("RESTORE", "x", 0, dump, "replace", "AbsTtl") == b"OK"
    with pytest.raises(redis.ResponseError, match="^BUSYKEY"):
        rb.execute_command("RESTORE", "x", "notanumber", dump)


def test_restore_errors(r, rb):
    rb.set("s", "v")
    dump = rb.dump("s")

    def err(*args):
        with pytest.raises(redis.ResponseError) as e:
            rb.execute_command("RESTORE", *args)
        return str(e.value)

    assert err("k", -1, dump) == "Invalid TTL value, must be >= 0"
    assert err("k", "x", dump) == "value is not an integer or out of range"
    assert err("k", 0, dump, "bogus") == "syntax error"
    assert err("k", 0, dump, "IDLETIME") == "syntax error"
    assert err("k", 0, dump, "IDLETIME", -1) == "Invalid IDLETIME value, must be >= 0"
    assert err("k", 0, dump, "IDLETIME", "x") == "value is not an integer or out of range"
    assert err("k", 0, dump, "FREQ", 256) == "Invalid FREQ value, must be >= 0 and <= 255"
    assert err("k", 0, dump, "FREQ", -1) == "Invalid FREQ value, must be >= 0 and <= 255"
    assert err("k", 0, dump, "FREQ", 1, "IDLETIME", 1) == "syntax error"
    assert err("k", 0, dump, "IDLETIME", 1, "FREQ", 1) == "syntax error"
    # Checksum and version.
    damaged = bytearray(dump)
    damaged[1] ^= 0xff
    assert err("k", 0, bytes(damaged)) == "DUMP payload version or checksum are wrong"
    assert err("k", 0, b"") == "DUMP payload version or checksum are wrong"
    assert err("k", 0, b"short") == "DUMP payload version or checksum are wrong"
    newer = bytearray(dump)
    newer[-10] = 12  # version 12, and the CRC no longer matches either
    assert err("k", 0, bytes(newer)) == "DUMP payload version or checksum are wrong"
    with pytest.raises(redis.ResponseError, match="wrong number of arguments"):
        rb.execute_command("RESTORE", "k", 0)
    with pytest.raises(redis.ResponseError, match="wrong number of arguments"):
        rb.execute_command("DUMP")
    assert r.exists("k") == 0


def _crc64(data):
    """Redis's CRC-64 (Jones polynomial, reflected)."""
    poly = 0x95ac9329ac4bc9b5  # 0xad93d23594c935a9 bit-reversed
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
    return crc


def _framed(body, version=10):
    data = body + bytes([version & 0xff, version >> 8])
    return data + _crc64(data).to_bytes(8, "little")


@pytest.mark.parametrize("body", [
    b"",                                    # no type byte
    b"\x07abc",                             # a module value
    b"\x06",                                # no such type
    b"\x00\x40\x50ab",                      # a string far shorter than its length
    b"\x02\x02\x01a\x01a",                  # a set with a repeated member
    b"\x02\x00",                            # an empty set
    b"\x04\x81" + b"\xff" * 8,              # a hash of 2^64-1 pairs, none there
    b"\x10\x07\x09\x00\x00\x00\x00\x00\xff",  # a listpack claiming 9 bytes, holding 7
    b"\x03\x01\x01a\xfd",                   # a zset with a NaN score
    b"\x05\x01\x01a" + b"\x00" * 6 + b"\xf8\x7f",  # a binary NaN score
    b"\x13\x01\x03abc\x01x",                # a stream node whose key is not an ID
], ids=["empty", "module", "unknown-type", "short-string", "duplicate-member", "empty-set",
        "huge-hash", "lying-listpack", "nan-score", "nan-binary", "bad-stream"])
def test_restore_refuses_bad_data(r, rb, body):
    with pytest.raises(redis.ResponseError, match="^Bad data format$"):
        rb.restore("k", 0, _framed(body))
    assert r.exists("k") == 0
    assert r.ping()


def test_restore_accepts_rdb_11_payloads(r, rb):
    """A 7.2 payload (RDB 11) restores; a listpack set is a type only 7.2 has."""
    lp = b"\x0d\x00\x00\x00\x02\x00\x81a\x02\x81b\x02\xff"
    body = b"\x14" + bytes([len(lp)]) + lp
    if IS_REDIS and rb.info("server")["redis_version"].startswith("7.0"):
        pytest.skip("Redis 7.0 reads RDB 10 payloads only")
    assert ok(rb.restore("k", 0, _framed(body, 11)))
    assert r.smembers("k") == {"a", "b"}


def test_restore_idletime_and_freq(r, rb):
    rb.set("s", "v")
    dump = rb.dump("s")
    assert ok(rb.restore("idle", 0, dump, idletime=1000))
    # sluice keeps idle times of this age at minute resolution.
    assert 1000 - 60 <= r.object("idletime", "idle") <= 1000 + 60
    r.config_set("maxmemory-policy", "allkeys-lfu")
    try:
        assert ok(rb.restore("hot", 0, dump, frequency=100))
        assert r.object("freq", "hot") == 100
    finally:
        r.config_set("maxmemory-policy", "noeviction")


def test_restore_fires_its_keyspace_event(r, rb, raw, notify):
    notify("KEA")
    sub = raw()
    sub.call("SUBSCRIBE", "__keyevent@0__:restore")
    r.set("s", "v")
    dump = rb.dump("s")
    assert ok(rb.restore("t", 0, dump))
    msg = sub.read()
    assert [x.decode() if isinstance(x, bytes) else x for x in msg] == \
        ["message", "__keyevent@0__:restore", "t"]
