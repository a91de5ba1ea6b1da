"""maxmemory and eviction, as a Redis user meets them: CONFIG GET/SET of the
parameters, every policy keeping used_memory at the bound, noeviction and
volatile-* refusing exactly the denyoom commands, lowering maxmemory at run
time, many databases, OBJECT FREQ/IDLETIME, the `evicted` keyspace event,
INFO fields, and MULTI/EXEC and scripts under a full memory.

Bounds are set relative to the server's own used_memory at the start, so the
tests mean the same under the sanitizers' allocators."""

import re
import time

import pytest

from conftest import IS_REDIS
from helpers import RawConn, RespError, encode_command, wait_until

OOM = "OOM command not allowed when used memory > 'maxmemory'."
MB = 1024 * 1024
POLICIES = ["allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru", "volatile-lfu",
            "volatile-random", "volatile-ttl"] + ([] if IS_REDIS else ["allkeys-s3fifo"])


def used(r):
    return r.info("memory")["used_memory"]


def fill(r, n, size=200, prefix="k", ex=None, db_client=None, batch=500, first=0):
    """SETs keys first..n-1 of `size` bytes in pipelined batches; returns how many
    were refused with OOM."""
    c = db_client or r
    refused = 0
    value = "v" * size
    for start in range(first, n, batch):
        p = c.pipeline(transaction=False)
        for i in range(start, min(n, start + batch)):
            if ex:
                p.set("%s:%d" % (prefix, i), value, ex=ex(i))
            else:
                p.set("%s:%d" % (prefix, i), value)
        for res in p.execute(raise_on_error=False):
            if isinstance(res, Exception):
                assert OOM in str(res), res
                refused += 1
    return refused


def bound(r, policy, extra=3 * MB):
    """Sets maxmemory to the current usage plus `extra` and the policy."""
    limit = used(r) + extra
    r.config_set("maxmemory-policy", policy)
    r.config_set("maxmemory", limit)
    return limit


# ---- configuration -------------------------------------------------------------

def test_config_parameters_round_trip(start_server):
    s = start_server("--maxmemory", "100mb", "--maxmemory-policy", "allkeys-lru")
    r = s.client()
    assert r.config_get("maxmemory") == {"maxmemory": str(100 * MB)}
    assert r.config_get("maxmemory-policy") == {"maxmemory-policy": "allkeys-lru"}
    for name, value, want in [("maxmemory", "1gb", str(1024 * MB)), ("maxmemory", "2k", "2000"),
                              ("maxmemory", "0", "0"), ("maxmemory-samples", "10", "10"),
                              ("maxmemory-eviction-tenacity", "50", "50"),
                              ("lfu-log-factor", "20", "20"), ("lfu-decay-time", "5", "5"),
                              ("maxmemory-policy", "VOLATILE-TTL", "volatile-ttl")]:
        assert r.config_set(name, value)
        assert r.config_get(name) == {name: want}
    info = r.info("memory")
    assert info["maxmemory_policy"] == "volatile-ttl"
    assert info["maxmemory"] == 0


@pytest.mark.parametrize("name,value", [
    ("maxmemory", "lots"), ("maxmemory", "10xb"), ("maxmemory", "-1"),
    ("maxmemory-policy", "lru"), ("maxmemory-samples", "0"), ("maxmemory-samples", "x"),
    ("maxmemory-eviction-tenacity", "101"), ("lfu-log-factor", "-1"),
    ("lfu-decay-time", "abc")])
def test_config_set_bad_values(r, name, value):
    with RawConn(r.connection_pool.connection_kwargs["port"]) as c:
        reply = c.call("CONFIG", "SET", name, value)
    assert isinstance(reply, RespError)
    assert str(reply).startswith(
        "ERR CONFIG SET failed (possibly related to argument '%s') - " % name), reply


def test_config_file_and_units(start_server, tmp_path):
    conf = tmp_path / "s.conf"
    conf.write_text("maxmemory 64mb\nmaxmemory-policy allkeys-lfu\nmaxmemory-samples 7\n")
    r = start_server(config_file=str(conf)).client()
    assert r.config_get("maxmemory")["maxmemory"] == str(64 * MB)
    assert r.config_get("maxmemory-policy")["maxmemory-policy"] == "allkeys-lfu"
    assert r.config_get("maxmemory-samples")["maxmemory-samples"] == "7"
    info = r.info("memory")
    assert info["maxmemory_human"] == "64.00M"


def test_info_fields(r):
    mem = r.info("memory")
    for field in ["maxmemory", "maxmemory_human", "maxmemory_policy",
                  "mem_not_counted_for_evict", "mem_fragmentation_ratio"]:
        assert field in mem, field
    stats = r.info("stats")
    for field in ["evicted_keys", "total_eviction_exceeded_time",
                  "current_eviction_exceeded_time"]:
        assert field in stats, field
    with RawConn(r.connection_pool.connection_kwargs["port"]) as c:
        raw = c.call("INFO", "memory").decode()
    line = [l for l in raw.splitlines() if l.startswith("mem_fragmentation_ratio:")][0]
    assert re.fullmatch(r"mem_fragmentation_ratio:\d+\.\d\d", line), line


# ---- policies ------------------------------------------------------------------

@pytest.mark.parametrize("policy", POLICIES)
def test_every_policy_keeps_used_memory_at_the_bound(start_server, policy):
    r = start_server().client()
    limit = bound(r, policy)
    volatile = policy.startswith("volatile")
    ex = (lambda i: 1000 + i) if volatile else None
    refused = fill(r, 39900, ex=ex)
    # LRU clocks tick once a second (Redis's too): keys written in the same second
    # tie, and a slow build writes the last thousands of keys in one. The newest 100
    # go in a second of their own.
    time.sleep(1.1)
    refused += fill(r, 40000, ex=ex, first=39900)
    assert refused == 0
    assert used(r) <= limit * 1.05
    assert r.info("stats")["evicted_keys"] > 0
    assert 0 < r.dbsize() < 40000
    # The newest keys are there: eviction made room for them. (Not necessarily every
    # one: under the LFU and random policies all these keys tie, and a sample taken
    # after the last writes may pick one of them.)
    recent = sum(r.exists("k:%d" % i) for i in range(39900, 40000))
    assert recent >= 90, recent


def test_noeviction_refuses_exactly_the_denyoom_commands(start_server):
    r = start_server().client()
    r.set("keep", "1")
    bound(r, "noeviction", extra=2 * MB)
    refused = fill(r, 40000)
    assert refused > 0
    assert r.info("stats")["evicted_keys"] == 0
    # Clearly over the bound from here on: a connection buffer freed after the
    # fill (sluice shrinks a read buffer a large pipeline grew) must not bring
    # usage back under it between two of the commands below.
    r.config_set("maxmemory", used(r) - 512 * 1024)
    with RawConn(r.connection_pool.connection_kwargs["port"]) as c:
        for cmd in (["SET", "x", "1"], ["INCR", "counter"], ["APPEND", "keep", "zz"],
                    ["SETNX", "y", "1"], ["MSET", "a", "1", "b", "2"]):
            reply = c.call(*cmd)
            assert isinstance(reply, RespError) and str(reply) == OOM, (cmd, reply)
        # Reads, deletes and other commands that do not grow memory work.
        assert c.call("GET", "keep") == b"1"
        assert c.call("EXISTS", "keep") == 1
        assert c.call("EXPIRE", "keep", "100") == 1
        assert c.call("PING") == "PONG"
        assert c.call("DEL", "k:1") == 1
        assert c.call("DBSIZE") > 0
    # With room again, writes are accepted.
    r.config_set("maxmemory", 0)
    assert r.set("x", "1")


def test_volatile_policy_without_ttl_keys_refuses(start_server):
    r = start_server().client()
    bound(r, "volatile-lru", extra=2 * MB)
    refused = fill(r, 40000)
    assert refused > 0
    assert r.info("stats")["evicted_keys"] == 0
    assert r.get("k:0") is not None


def test_volatile_policies_never_evict_keys_without_ttl(start_server):
    r = start_server().client()
    fill(r, 2000, prefix="persistent")
    bound(r, "volatile-random")
    fill(r, 30000, prefix="session", ex=lambda i: 3600)
    assert r.info("stats")["evicted_keys"] > 0
    p = r.pipeline(transaction=False)
    for i in range(2000):
        p.exists("persistent:%d" % i)
    assert sum(p.execute()) == 2000


def test_volatile_ttl_evicts_the_nearest_deadlines_first(start_server):
    r = start_server().client()
    limit = bound(r, "volatile-ttl")
    # Deadlines grow with the index: k:0 expires first.
    fill(r, 30000, ex=lambda i: 10000 + i)
    assert used(r) <= limit * 1.05
    present = r.pipeline(transaction=False)
    for i in range(30000):
        present.exists("k:%d" % i)
    flags = present.execute()
    gone = [i for i, f in enumerate(flags) if not f]
    assert gone
    # Sampled, as in Redis: most victims come from the early (near-deadline)
    # part of the key range, and the last keys written are all there.
    early = sum(1 for i in gone if i < 15000)
    assert early > 0.6 * len(gone), (early, len(gone))


def test_expired_keys_go_before_live_ones(start_server):
    r = start_server().client()
    limit = used(r) + 3 * MB
    r.config_set("maxmemory-policy", "allkeys-lru")
    # Keys that are already due (PEXPIRE 1), then live keys past the bound.
    fill(r, 8000, prefix="dead", ex=lambda i: 1000)
    p = r.pipeline(transaction=False)
    for i in range(8000):
        p.pexpire("dead:%d" % i, 1)
    p.execute()
    time.sleep(0.05)
    r.config_set("notify-keyspace-events", "")
    r.config_set("maxmemory", limit)
    fill(r, 8000, prefix="live")
    stats = r.info("stats")
    assert stats["expired_keys"] > 0
    p = r.pipeline(transaction=False)
    for i in range(8000):
        p.exists("live:%d" % i)
    assert sum(p.execute()) == 8000


def test_lowering_maxmemory_at_run_time_evicts_down_to_it(start_server):
    r = start_server().client()
    r.config_set("maxmemory-policy", "allkeys-lru")
    base = used(r)
    fill(r, 40000)
    before = r.dbsize()
    assert before == 40000
    limit = base + 2 * MB
    assert used(r) > limit
    r.config_set("maxmemory", limit)
    wait_until(lambda: used(r) <= limit, timeout=10, message="used_memory under the new bound")
    assert r.dbsize() < before
    assert r.info("stats")["evicted_keys"] > 0


def test_eviction_spreads_over_many_databases(start_server):
    r = start_server().client()
    limit = bound(r, "allkeys-random", extra=4 * MB)
    port = r.connection_pool.connection_kwargs["port"]
    import redis
    clients = [redis.Redis(port=port, db=d) for d in range(4)]
    for round_ in range(40):
        for c in clients:
            fill(r, 500, prefix="r%d" % round_, db_client=c)
    assert used(r) <= limit * 1.05
    sizes = [c.dbsize() for c in clients]
    # Every database gave up some keys and kept some, in proportion.
    assert all(0 < s < 20000 for s in sizes), sizes
    assert max(sizes) < 2 * min(sizes), sizes


# ---- OBJECT --------------------------------------------------------------------

def test_object_idletime_counts_seconds_and_is_not_an_access(r):
    r.config_set("maxmemory-policy", "noeviction")
    r.set("idle", "v")
    time.sleep(2.1)
    assert r.object("idletime", "idle") >= 2
    # OBJECT itself does not reset it; a GET does.
    assert r.object("idletime", "idle") >= 2
    r.get("idle")
    assert r.object("idletime", "idle") <= 1
    assert r.object("idletime", "missing") is None


def test_object_freq_needs_an_lfu_policy(r):
    r.config_set("maxmemory-policy", "allkeys-lru")
    r.set("f", "v")
    with pytest.raises(Exception, match="An LFU maxmemory policy is not selected"):
        r.object("freq", "f")
    r.config_set("maxmemory-policy", "allkeys-lfu")
    try:
        r.set("f2", "v")
        assert r.object("freq", "f2") in (5, 6)  # new keys start at 5
        for _ in range(200):
            r.get("f2")
        assert r.object("freq", "f2") > 6
        with pytest.raises(Exception, match="An LFU maxmemory policy is selected"):
            r.object("idletime", "f2")
        assert r.object("freq", "missing") is None
    finally:
        r.config_set("maxmemory-policy", "noeviction")


def test_object_encoding_refcount_help(r):
    r.set("n", "123")
    r.set("s", "hello")
    r.set("long", "x" * 100)
    assert r.object("encoding", "n") == "int"
    assert r.object("encoding", "s") == "embstr"
    assert r.object("encoding", "long") == "raw"
    assert r.object("encoding", "missing") is None
    assert r.object("refcount", "s") == 1
    with RawConn(r.connection_pool.connection_kwargs["port"]) as c:
        assert any("FREQ" in str(l) for l in c.call("OBJECT", "HELP"))
        assert str(c.call("OBJECT", "NOPE", "k")).startswith("ERR unknown subcommand 'NOPE'")
        assert str(c.call("OBJECT")) == "ERR wrong number of arguments for 'object' command"
        assert str(c.call("OBJECT", "ENCODING")) == (
            "ERR wrong number of arguments for 'object|encoding' command")


# ---- events, transactions, scripts -----------------------------------------------

def test_evicted_keyspace_event(start_server):
    r = start_server().client()
    r.config_set("notify-keyspace-events", "Ee")
    p = r.pubsub()
    p.subscribe("__keyevent@0__:evicted")
    wait_until(lambda: p.get_message(timeout=0.1) is not None, message="subscribe confirmation")
    bound(r, "allkeys-random", extra=2 * MB)
    fill(r, 30000)
    msg = wait_until(lambda: p.get_message(timeout=0.2), timeout=10, message="evicted event")
    assert msg["channel"] == "__keyevent@0__:evicted"
    assert msg["data"].startswith("k:")
    p.close()


def test_multi_exec_under_full_memory(start_server):
    r = start_server().client()
    r.set("g", "1")
    bound(r, "noeviction", extra=2 * MB)
    fill(r, 40000)
    with RawConn(r.connection_pool.connection_kwargs["port"]) as c:
        # A transaction of reads still runs.
        assert c.call("MULTI") == "OK"
        # Queuing is refused while memory is full (the queue would grow it)...
        assert str(c.call("GET", "g")) == OOM
        reply = c.call("EXEC")
        assert str(reply).startswith("EXECABORT"), reply
        # ...and so is an EXEC whose queue was built before it filled up.
    r.config_set("maxmemory", 0)
    with RawConn(r.connection_pool.connection_kwargs["port"]) as c:
        assert c.call("MULTI") == "OK"
        assert c.call("SET", "t", "1") == "QUEUED"
        r.config_set("maxmemory", used(r) - MB)
        reply = c.call("EXEC")
        assert str(reply) == "EXECABORT Transaction discarded because of: " + OOM, reply


def test_scripts_under_full_memory(start_server):
    r = start_server().client()
    r.set("g", "1")
    bound(r, "noeviction", extra=2 * MB)
    fill(r, 40000)
    with RawConn(r.connection_pool.connection_kwargs["port"]) as c:
        # No flags: it runs, reads work, its first write is refused.
        assert c.call("EVAL", "return redis.call('get', KEYS[1])", "1", "g") == b"1"
        reply = c.call("EVAL", "return redis.call('set', KEYS[1], 'x')", "1", "g")
        assert isinstance(reply, RespError) and OOM in str(reply), reply
        # Flags without no-writes or allow-oom: refused at the start.
        reply = c.call("EVAL", "#!lua\nreturn redis.call('get', KEYS[1])", "1", "g")
        assert str(reply) == OOM, reply
        assert c.call("EVAL", "#!lua flags=no-writes\nreturn redis.call('get', KEYS[1])",
                      "1", "g") == b"1"
        assert c.call("EVAL", "#!lua flags=allow-oom\nreturn redis.call('set', KEYS[1], 'y')",
                      "1", "g") == "OK"
    assert r.get("g") == "y"


# ---- concurrency and busy scripts --------------------------------------------------

def test_concurrent_writers_stay_at_the_bound(start_server):
    s = start_server("--io-threads", "2")
    r = s.client()
    limit = bound(r, "allkeys-lru" if IS_REDIS else "allkeys-s3fifo", extra=4 * MB)
    import redis
    errors = []

    def writer(i):
        c = redis.Redis(port=s.port)
        try:
            assert fill(c, 15000, prefix="w%d" % i) == 0
        except Exception as e:  # reported below
            errors.append(e)
    from helpers import run_threads
    run_threads(writer, 4)
    assert not errors, errors
    assert used(r) <= limit * 1.05
    assert r.info("stats")["evicted_keys"] > 0
    assert r.ping()


def test_eviction_passes_over_a_scripts_shard(start_server):
    # A script runs for a second (under the busy threshold) holding its key's
    # shard while another client writes past the bound: eviction takes keys
    # from the other shards instead of waiting, and memory stays bounded.
    import threading
    import redis
    s = start_server("--io-threads", "2")
    r = s.client()
    limit = bound(r, "allkeys-lru", extra=3 * MB)
    client = redis.Redis(port=s.port, decode_responses=True, socket_timeout=30)
    script = """
local t0 = redis.call('TIME')
local start = t0[1] * 1000000 + t0[2]
redis.call('SET', KEYS[1], 'held')
while true do
  local t = redis.call('TIME')
  if t[1] * 1000000 + t[2] - start > 1000000 then break end
end
return 'done'
"""
    result = {}

    def run():
        result["reply"] = client.eval(script, 1, "held-key")

    t = threading.Thread(target=run, daemon=True)
    t.start()
    time.sleep(0.1)
    writer = redis.Redis(port=s.port, socket_timeout=30)
    assert fill(writer, 30000, prefix="during") == 0
    t.join(15)
    assert result.get("reply") == "done"
    assert used(r) <= limit * 1.05
    assert r.info("stats")["evicted_keys"] > 0
    assert r.get("held-key") in ("held", None)


def test_hashes_count_toward_the_bound_and_are_evicted(start_server):
    r = start_server().client()
    limit = bound(r, "allkeys-lru", extra=2 * MB)
    value = "x" * 40
    # About 11 MiB of hashes against a 2 MiB allowance.
    for start in range(0, 24000, 200):
        p = r.pipeline(transaction=False)
        for i in range(start, start + 200):
            # Small (packed) and large (table) hashes alike.
            fields = 200 if i % 50 == 0 else 5
            p.hset("h:%d" % i, mapping={"f%d" % j: value for j in range(fields)})
        p.execute()
    assert used(r) <= limit * 1.05
    assert r.info("stats")["evicted_keys"] > 0
    assert 0 < r.dbsize() < 24000
    assert r.hlen("h:23999") == 5


def test_a_quiet_thread_sees_what_other_threads_filled(start_server):
    """The bound holds for a connection on an I/O thread that ran no command while
    connections on another thread filled memory: its check does not go on with the usage
    it last summed."""
    s = start_server("--io-threads", "2", "--maxmemory", "1gb",
                     "--maxmemory-policy", "noeviction")
    quiet, filler = s.raw(), s.raw()  # accepted one after the other: one per thread
    for i in range(3):
        assert quiet.call("SET", "warm:%d" % i, "1") == "OK"
    value = "v" * (1 << 20)
    for start in range(0, 40, 10):
        filler.send(b"".join(encode_command("SET", "big:%d" % i, value)
                             for i in range(start, start + 10)))
        assert filler.read_many(10, timeout=30) == ["OK"] * 10
    usage = int(dict(l.split(":", 1) for l in filler.call("INFO", "memory").decode().split()
                     if ":" in l)["used_memory"])
    assert filler.call("CONFIG", "SET", "maxmemory", str(usage - MB)) == "OK"
    reply = quiet.call("SET", "x", "1")
    assert isinstance(reply, RespError) and str(reply) == OOM, reply
