"""Scripts that touch keys they did not declare run atomically and succeed.

Redis runs every script atomically whatever keys it touches; job queues
(Bull, BullMQ) build key names inside their scripts. sluice locks a script's
declared keys' shards; a script that needs a shard below those (in the global
lock order) learns that it needs its whole database and starts over holding
it, or, once it has written, try-locks the shard (docs/scripting.md,
"Undeclared keys"). Every test here but the INFO counters' passes against
redis-server too.
"""

import random
import threading
import time

import pytest
import redis

from conftest import IS_REDIS, SANITIZER
from helpers import RespError, run_threads, wait_until

# Undeclared keys enough that some of them fall below any declared key's
# shard, whatever --shards is.
MANY = 200
ANSWER_WITHIN = 2.0 if not SANITIZER else 6.0

INCR_MANY = """
local total = 0
for i = 1, tonumber(ARGV[1]) do
  total = total + redis.call('INCR', ARGV[2] .. i)
end
return total
"""


def unique(body):
    """The script with a comment that makes its SHA-1 new on the shared
    server, so that it starts unlearned."""
    return "-- %d %f\n%s" % (random.getrandbits(62), time.time(), body)


def stats(client):
    info = client.info("stats")
    return {k: int(v) for k, v in info.items() if k.startswith("sluice_script_")}


def test_undeclared_keys_in_and_out_of_shard_order(r):
    body = unique(INCR_MANY)
    for declared in ["a", "b", "c", "d", "e", "f", "g", "h"]:
        r.set(declared, "x")
        assert r.eval(body, 1, declared, MANY, "u:" + declared + ":") == MANY
    for declared in ["a", "b", "c", "d", "e", "f", "g", "h"]:
        keys = ["u:%s:%d" % (declared, i) for i in range(1, MANY + 1)]
        assert r.mget(keys) == ["1"] * MANY
    # Running again adds again: every run holds what it needs.
    assert r.eval(body, 1, "a", MANY, "u:a:") == 2 * MANY


def test_many_undeclared_keys_read_and_written(r):
    n = 3000
    r.mset({"m:%d" % i: i for i in range(n)})
    script = unique("""
local sum = 0
for i = 0, tonumber(ARGV[1]) - 1 do
  local v = tonumber(redis.call('GET', 'm:' .. i))
  sum = sum + v
  redis.call('SET', 'm:' .. i, v * 2)
end
return sum
""")
    assert r.eval(script, 1, "m:0", n) == n * (n - 1) // 2
    assert sum(int(v) for v in r.mget(["m:%d" % i for i in range(n)])) == n * (n - 1)


def test_eval_and_evalsha_of_the_same_script(r):
    body = unique(INCR_MANY)
    sha = r.script_load(body)
    assert r.eval(body, 1, "decl", 50, "s:") == 50
    assert r.evalsha(sha, 1, "decl", 50, "s:") == 100
    assert r.evalsha(sha.upper(), 1, "decl", 50, "s:") == 150
    assert r.execute_command("EVALSHA_RO", sha, 0, 0, "s:") == 0
    assert r.mget(["s:%d" % i for i in range(1, 51)]) == ["3"] * 50


def test_script_flush_forgets_and_the_script_still_works(r):
    body = unique(INCR_MANY)
    assert r.eval(body, 1, "decl", 100, "f:") == 100
    assert r.script_flush() is True
    sha = r.script_load(body)
    assert r.evalsha(sha, 1, "decl", 100, "f:") == 200
    assert r.script_flush() is True
    with pytest.raises(redis.exceptions.NoScriptError):
        r.evalsha(sha, 1, "decl", 100, "f:")
    assert r.eval(body, 1, "decl", 100, "f:") == 300


def test_write_then_undeclared_keys(r):
    # The script writes before it touches keys it did not declare: it can no
    # longer start over, so the shards are try-locked (uncontended here).
    script = unique("""
redis.call('SET', KEYS[1], 'first')
for i = 1, tonumber(ARGV[1]) do
  redis.call('SET', 'w:' .. i, i)
end
return redis.call('GET', KEYS[1])
""")
    for declared in ["p", "q", "r", "s"]:
        assert r.eval(script, 1, declared, MANY) == "first"
    assert r.mget(["w:%d" % i for i in range(1, MANY + 1)]) == [str(i) for i in range(1, MANY + 1)]


def _eval_from_threads(server, script, prefix, rounds, threads=6):
    """Runs `script` (returning 1) `rounds` times on each of `threads`
    connections at once, thread t declaring the key prefix + t."""
    def worker(t):
        c = server.client(socket_timeout=60)
        try:
            for _ in range(rounds):
                assert c.eval(script, 1, "%s%d" % (prefix, t)) == 1
        finally:
            c.close()
    run_threads(worker, threads)


def test_write_then_undeclared_keys_under_concurrency(server, r):
    script = unique("""
redis.call('INCR', KEYS[1])
for i = 1, 40 do
  redis.call('INCR', 'wc:' .. i)
end
return 1
""")
    rounds = 30 if not SANITIZER else 8
    # One run first: it writes, then meets the undeclared keys (try-locked)
    # and learns. Several first runs at once that have each written could
    # hold what the other needs, and one of them gives up after its bounded
    # try (docs/compatibility.md); the later runs lock the database up front.
    assert r.eval(script, 1, "wdecl:warm") == 1

    _eval_from_threads(server, script, "wdecl:", rounds)
    assert r.mget(["wc:%d" % i for i in range(1, 41)]) == [str(6 * rounds + 1)] * 40
    assert sum(int(r.get("wdecl:%d" % t)) for t in range(6)) == 6 * rounds


TRANSFER = """
local n = tonumber(ARGV[1])
local from = 'acct:' .. ARGV[2]
local to = 'acct:' .. ARGV[3]
local total = 0
for i = 0, n - 1 do
  total = total + tonumber(redis.call('GET', 'acct:' .. i) or 0)
end
local v = tonumber(redis.call('GET', from))
redis.call('SET', from, v - 1)
redis.call('SET', to, tonumber(redis.call('GET', to)) + 1)
redis.call('INCR', 'transfers')
return total
"""


def _atomic_transfers(port, clients, rounds, accounts, initial):
    script = unique(TRANSFER)
    seen = []

    def worker(t):
        c = redis.Redis(port=port, decode_responses=True, socket_timeout=60)
        rnd = random.Random(t)
        try:
            for _ in range(rounds):
                a, b = rnd.sample(range(accounts), 2)
                # Each run reads every account before it moves one unit: an
                # atomic script always sees the same total.
                seen.append(c.eval(script, 1, "bank", accounts, a, b))
        finally:
            c.close()
    run_threads(worker, clients)
    return seen


def test_undeclared_read_modify_write_is_atomic(r, server):
    accounts, initial = 50, 100
    r.mset({"acct:%d" % i: initial for i in range(accounts)})
    clients, rounds = 6, (40 if not SANITIZER else 10)
    seen = _atomic_transfers(server.port, clients, rounds, accounts, initial)
    assert seen == [accounts * initial] * (clients * rounds)
    assert int(r.get("transfers")) == clients * rounds
    assert sum(int(v) for v in r.mget(["acct:%d" % i for i in range(accounts)])) == \
        accounts * initial


def test_concurrent_increments_of_undeclared_keys_add_up(server, r):
    # Read-modify-write (GET then SET, not INCR) of undeclared keys from many
    # connections: a lost update would show in the totals.
    script = unique("""
for i = 1, 30 do
  local k = 'rmw:' .. i
  local v = tonumber(redis.call('GET', k) or 0)
  redis.call('SET', k, v + 1)
end
return 1
""")
    rounds = 40 if not SANITIZER else 10
    # It writes before it reaches most of its keys: one run first, to learn
    # (see above).
    assert r.eval(script, 1, "rmwdecl:warm") == 1

    _eval_from_threads(server, script, "rmwdecl:", rounds)
    assert r.mget(["rmw:%d" % i for i in range(1, 31)]) == [str(6 * rounds + 1)] * 30


def test_multi_with_a_thousand_evalsha_of_an_undeclared_key_script(r):
    # Bull's addBulk: one EXEC of many EVALSHA of a script that builds its
    # job keys from a prefix and an id. The script is new: the first run
    # inside the EXEC learns that it needs its whole database.
    body = unique("""
local id = redis.call('INCR', KEYS[1] .. ':id')
redis.call('HSET', KEYS[1] .. ':job:' .. id, 'name', ARGV[1], 'data', ARGV[2])
redis.call('RPUSH', KEYS[1] .. ':wait', id)
return id
""")
    sha = r.script_load(body)
    pipe = r.pipeline(transaction=True)
    for i in range(1000):
        pipe.evalsha(sha, 1, "bull:q", "job%d" % i, "payload%d" % i)
    results = pipe.execute(raise_on_error=False)
    errors = [e for e in results if isinstance(e, Exception)]
    assert errors == []
    assert results == list(range(1, 1001))
    assert r.llen("bull:q:wait") == 1000
    for i in (1, 2, 500, 999, 1000):
        assert r.hgetall("bull:q:job:%d" % i) == {"name": "job%d" % (i - 1),
                                                   "data": "payload%d" % (i - 1)}
    # Again, now that the script is known (EXEC plans its whole database).
    pipe = r.pipeline(transaction=True)
    for i in range(1000):
        pipe.evalsha(sha, 1, "bull:q", "again%d" % i, "x")
    assert pipe.execute() == list(range(1001, 2001))
    assert r.llen("bull:q:wait") == 2000


def test_multi_mixing_commands_and_undeclared_key_scripts(r):
    body = unique(INCR_MANY)
    sha = r.script_load(body)
    pipe = r.pipeline(transaction=True)
    pipe.set("mix:a", 1)
    pipe.evalsha(sha, 1, "mix:a", 30, "mix:u:")
    pipe.incr("mix:a")
    pipe.eval(body, 0, 30, "mix:u:")
    pipe.keys("mix:u:*")
    pipe.get("mix:a")
    res = pipe.execute()
    assert res[:4] == [True, 30, 2, 60]
    assert sorted(res[4]) == sorted("mix:u:%d" % i for i in range(1, 31))
    assert res[5] == "2"


def test_select_inside_the_script(r):
    script = unique("""
redis.call('SET', KEYS[1], 'db0')
redis.call('SELECT', ARGV[1])
for i = 1, 60 do
  redis.call('SET', 'sel:' .. i, ARGV[1])
end
redis.call('SELECT', 0)
for i = 1, 60 do
  redis.call('SET', 'sel0:' .. i, 'zero')
end
return redis.call('GET', KEYS[1])
""")
    assert r.eval(script, 1, "selkey", 3) == "db0"
    assert r.eval(script, 1, "selkey", 1) == "db0"
    # SELECT inside the script does not leak out.
    assert r.get("sel:1") is None
    assert r.mget(["sel0:%d" % i for i in range(1, 61)]) == ["zero"] * 60
    for db in (1, 3):
        c = redis.Redis(port=r.connection_pool.connection_kwargs["port"], db=db,
                        decode_responses=True, socket_timeout=10)
        try:
            assert c.mget(["sel:%d" % i for i in range(1, 61)]) == [str(db)] * 60
        finally:
            c.close()
    # Read-only: the script switches databases, then goes back below what it
    # holds (it starts over holding every database).
    ro = unique("""
local n = 0
redis.call('SELECT', 3)
for i = 1, 60 do
  if redis.call('GET', 'sel:' .. i) then n = n + 1 end
end
redis.call('SELECT', 0)
for i = 1, 60 do
  if redis.call('GET', 'sel0:' .. i) then n = n + 1 end
end
return n
""")
    assert r.eval(ro, 1, "selkey") == 120


def test_keys_and_scan_inside_a_script_after_touching_keys(r):
    r.mset({"ks:%d" % i: i for i in range(50)})
    keys_script = unique("""
redis.call('GET', KEYS[1])
local k = redis.call('KEYS', 'ks:*')
return #k
""")
    scan_script = unique("""
redis.call('GET', KEYS[1])
local cursor = '0'
local n = 0
repeat
  local reply = redis.call('SCAN', cursor, 'MATCH', 'ks:*', 'COUNT', 7)
  cursor = reply[1]
  n = n + #reply[2]
until cursor == '0'
return n
""")
    for declared in ["a", "b", "c", "d", "e", "f", "g", "h"]:
        assert r.eval(keys_script, 1, declared) == 50
        assert r.eval(scan_script, 1, declared) == 50
    # After a write the whole database is try-locked (uncontended here).
    write_keys = unique("""
redis.call('SET', KEYS[1], 'v')
return #redis.call('KEYS', 'ks:*')
""")
    for declared in ["a", "b", "c", "d"]:
        assert r.eval(write_keys, 1, declared) == 50


def test_errors_inside_undeclared_key_scripts_keep_their_text(r):
    r.set("str", "x")
    script = unique("""
for i = 1, 50 do redis.call('GET', 'e:' .. i) end
return redis.call('LPUSH', ARGV[1], 'v')
""")
    with pytest.raises(redis.ResponseError) as e:
        r.eval(script, 1, "decl", "str")
    text = str(e.value)
    assert text.startswith("WRONGTYPE Operation against a key holding the wrong kind of value")
    # redis.pcall sees the command's own error, and the script goes on.
    caught = unique("""
for i = 1, 50 do redis.call('GET', 'e:' .. i) end
local e = redis.pcall('LPUSH', ARGV[1], 'v')
return e['err']
""")
    assert r.eval(caught, 1, "decl", "str").startswith("WRONGTYPE")


def test_busy_undeclared_key_script_is_killable_and_others_get_busy(start_server):
    s = start_server("--io-threads", "2", "--busy-reply-threshold", "100")
    c = s.client()
    c.mset({"bk:%d" % i: i for i in range(100)})
    result = {}
    runner = redis.Redis(port=s.port, decode_responses=True, socket_timeout=30)

    def run():
        try:
            result["reply"] = runner.eval(
                "for i = 0, 99 do redis.call('GET', 'bk:' .. i) end while true do end",
                1, "bkdecl")
        except redis.ResponseError as e:
            result["error"] = str(e)
    t = threading.Thread(target=run, daemon=True)
    t.start()
    others = [s.client(socket_timeout=10) for _ in range(4)]

    def busy(conn, *args):
        try:
            conn.execute_command(*args)
        except redis.exceptions.BusyLoadingError:
            return False
        except redis.ResponseError as e:
            return str(e).startswith("BUSY")
        return False
    wait_until(lambda: busy(others[0], "GET", "bk:1"), timeout=10, message="BUSY")
    for conn in others:
        for args in (("GET", "bk:5"), ("SET", "elsewhere", "1"), ("KEYS", "*")):
            start = time.monotonic()
            assert busy(conn, *args), args
            assert time.monotonic() - start < ANSWER_WITHIN
    assert others[1].script_kill() is True
    t.join(10)
    assert not t.is_alive()
    assert "Script killed by user with SCRIPT KILL" in result.get("error", "")
    for conn in others:
        assert conn.get("bk:7") == "7"
        conn.close()
    runner.close()
    c.close()


def test_io_threads_clients_on_different_threads(start_server):
    s = start_server("--io-threads", "2")
    c = s.client()
    accounts, initial = 40, 50
    c.mset({"acct:%d" % i: initial for i in range(accounts)})
    clients, rounds = 6, (30 if not SANITIZER else 8)
    seen = _atomic_transfers(s.port, clients, rounds, accounts, initial)
    assert seen == [accounts * initial] * (clients * rounds)
    assert sum(int(v) for v in c.mget(["acct:%d" % i for i in range(accounts)])) == \
        accounts * initial
    # Bull's addBulk from two connections at once.
    body = "return redis.call('RPUSH', KEYS[1] .. ':list:' .. ARGV[1], ARGV[2])"
    sha = c.script_load(body)

    def bulk(t):
        cl = redis.Redis(port=s.port, decode_responses=True, socket_timeout=60)
        try:
            pipe = cl.pipeline(transaction=True)
            for i in range(300):
                pipe.evalsha(sha, 1, "iot", i % 7, "%d:%d" % (t, i))
            assert all(isinstance(x, int) for x in pipe.execute())
        finally:
            cl.close()
    run_threads(bulk, 4)
    assert sum(c.llen("iot:list:%d" % k) for k in range(7)) == 1200
    c.close()


@pytest.mark.sluice_only
def test_late_lock_gives_up_with_one_error_prefix(start_server):
    # A script that has written can no longer start over: a shard it needs
    # below those it holds is try-locked for a bounded time, and while
    # another script keeps it, redis.call fails with the documented error.
    s = start_server("--io-threads", "2", "--busy-reply-threshold", "3000")
    # Probes in database 1 (every shard of it comes after database 0's),
    # connected first: the holder's own I/O thread serves nobody else until
    # it is busy, so some of them must be on the other thread.
    probes = [s.client(db=1, socket_timeout=30) for _ in range(4)]
    for p in probes:
        p.ping()
    holder = s.client(socket_timeout=30)
    result = {}

    def hold():
        try:
            holder.eval("redis.call('GET', KEYS[1]) while true do end", 1, "held")
        except redis.ResponseError as e:
            result["error"] = str(e)
    t = threading.Thread(target=hold, daemon=True)
    t.start()
    # Each probe writes its declared key, then reads the held key in
    # database 0. A new script each time: one that got its shard (before the
    # holder took it) has learned, and would lock every database up front.
    late = ("redis.call('SET', KEYS[1], 'w') redis.call('SELECT', 0) "
            "return redis.call('GET', ARGV[1])")
    refused = {}

    def probe(i):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not refused:
            try:
                probes[i].eval(unique(late), 1, "mine%d" % i, "held")
            except redis.ResponseError as e:
                if str(e).startswith("BUSY"):
                    return
                refused.setdefault(i, str(e))
                return
            time.sleep(0.02)
    probers = [threading.Thread(target=probe, args=(i,), daemon=True) for i in range(4)]
    for p in probers:
        p.start()
    wait_until(lambda: refused, timeout=10, message="the late lock to give up")
    i, text = next(iter(refused.items()))
    # redis-py drops the leading "ERR ": a doubled prefix would show here.
    assert text.startswith("script tried accessing undeclared key 'held' script: "), text
    c = probes[i]  # on the other I/O thread
    assert c.get("mine%d" % i) == "w"  # what it wrote before stays written, as in Redis
    assert c.info("stats")["sluice_script_late_lock_failures"] >= 1

    # Past the threshold the holder is busy: everyone gets BUSY, and it can
    # be killed.
    def busy():
        try:
            c.ping()
        except redis.ResponseError as e:
            return str(e).startswith("BUSY")
        return False
    wait_until(busy, timeout=10, message="BUSY")
    assert c.script_kill() is True
    t.join(10)
    assert not t.is_alive()
    assert "Script killed by user with SCRIPT KILL" in result.get("error", "")
    for p in probers:
        p.join(15)
        assert not p.is_alive()
    assert c.eval(late, 1, "mine", "held") is None
    for cl in probes + [holder]:
        cl.close()


@pytest.mark.sluice_only
def test_learned_mode_counters_in_info(start_server):
    s = start_server()
    c = s.client()
    before = stats(c)
    assert set(before) >= {"sluice_script_whole_db_runs", "sluice_script_restarts",
                           "sluice_script_learned", "sluice_script_late_locks",
                           "sluice_script_late_lock_failures"}
    assert before["sluice_script_learned"] == 0
    # A declared-key script keeps its narrow locks: no counter moves.
    assert c.eval("return redis.call('INCR', KEYS[1])", 1, "narrow") == 1
    assert stats(c) == before
    # A read-only start touching many undeclared keys: learned, one restart
    # (for a declared key whose shard is not the first: some of the others
    # then come before it, whatever --shards is).
    reads = "for i = 1, tonumber(ARGV[1]) do redis.call('GET', 'cnt:' .. i) end return 0"
    declared = None
    for key in ["a", "b", "c", "d", "e", "f", "g", "h"]:
        assert c.eval(reads, 1, key, MANY) == 0
        if stats(c)["sluice_script_learned"] == 1:
            declared = key
            break
        assert stats(c) == before  # in order: narrow locks, nothing counted
    assert declared is not None
    after = stats(c)
    assert after["sluice_script_restarts"] == 1
    # Its next run starts with the whole database: no restart.
    assert c.eval(reads, 1, declared, MANY) == 0
    again = stats(c)
    assert again["sluice_script_restarts"] == 1
    assert again["sluice_script_whole_db_runs"] == after["sluice_script_whole_db_runs"] + 1
    # A script that writes first takes the late shards with try-lock.
    c.eval("redis.call('SET', KEYS[1], 1) for i = 1, 200 do redis.call('SET', 'late:' .. i, 1) "
           "end return 1", 1, declared)
    late = stats(c)
    assert late["sluice_script_late_locks"] > again["sluice_script_late_locks"]
    assert late["sluice_script_late_lock_failures"] == 0
    assert late["sluice_script_learned"] == 2
    # SCRIPT FLUSH forgets what was learned.
    c.script_flush()
    assert stats(c)["sluice_script_learned"] == 0
    c.close()
