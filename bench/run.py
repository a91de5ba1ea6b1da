#!/usr/bin/python3
"""Side-by-side benchmark of sluice against redis-server.

`make bench` runs this. It builds a Release sluice in build-release/, starts
sluice and redis-server on loopback ports with the same settings (no
persistence), and measures both in one run, interleaved A B A B over several
rounds so that drift on a shared machine hits both servers alike:

  throughput  redis-benchmark SET, GET, INCR, MSET (10 keys), SET ... EX at
              50 clients, 50 clients with pipeline 16, and 500 clients:
              requests/s, p50, p99, and the server's CPU time per request
              (utime + stime from /proc/<pid>/stat).
  memory      resident memory per key after loading 1M keys through
              `redis-cli --pipe` (fresh servers for every row).
  expiry      1M keys with a 1-hour TTL plus 100k with a 1-second TTL: how
              many of the 100k are gone 3 s after the load, the RSS change,
              and p99 of a GET load running meanwhile against a quiet p99.
  pubsub      PUBLISH fan-out to 1 and to 100 subscribers: messages delivered
              per second and paced delivery p99 (bench/pubsub_bench.py).
  scripting   EVALSHA of rate-limiter-flexible's script, sluice's CL.THROTTLE
              against the same GCRA as a Lua script on redis-server, that Lua
              script on both (bench/scripting_bench.py).
  growth      GET latency (max, p99.9, p99) of GETs paced at 5k/s on their own
              connection while another client loads 20M keys into one
              database, and the load time (bench/growth_bench.py).
  eviction    hit ratio of a cache-aside replay (Zipf 0.99 over 2M keys, and
              the same with 20% one-time scan keys) at maxmemory 16 and 64 MiB
              for every sluice allkeys policy against redis-server's
              allkeys-lru and allkeys-lfu; SET and GET throughput while
              evicting (bench/eviction_bench.py).
  collections-memory
              used_memory and RSS per element of 1M 5-field hashes, a
              1M-field hash, a 1M-member sorted set, a set of 1M strings and
              one of 1M integers, each loaded into a fresh server, against the
              sluice's targets (bench/collections_bench.py).
  collections-throughput
              redis-benchmark HSET, HGET, SADD, SISMEMBER, SPOP, ZADD,
              ZRANGEBYSCORE ... LIMIT, ZRANK at pipeline 16 and 1: requests/s,
              p99, CPU per request, geometric mean of the pipeline-16 ratios
              (bench/collections_bench.py). A command a server does not know
              reads "n/a (command unsupported)".
  lists-throughput
              redis-benchmark LPUSH, RPUSH, LPOP, RPOP, LRANGE 0 99 and 0 599
              of a 600-element list at pipeline 16 and 1 (bench/lists_bench.py).
  lists-memory
              used_memory and RSS per element of one list of 1M 10-byte
              strings (bench/lists_bench.py).
  lists-wakeup
              push-to-delivery latency p50/p99 of LPUSHes to a list that 100
              consumers block on with BRPOP (bench/lists_bench.py).
  queues      jobs per second through Bull (node worker processes) and RQ
              (SimpleWorker processes), and the server's CPU time per job
              (bench/queue_bench.py). A server that lacks what a library needs
              (BRPOPLPUSH, undeclared keys in scripts, BLPOP, XADD) reads
              "n/a (needs ...)".
  snapshot    BGSAVE of 10M keys (16-byte keys and values, half with TTLs)
              while a client writes at 10k SETs/s: BGSAVE time, SET p99 during
              it against quiet, peak memory above the dataset, file size and
              start-up load time (bench/snapshot_bench.py).

Every figure in the report is the median over rounds; ratios are
sluice / redis. The report is a Markdown table and a gnuplot PNG in
bench/results/ (a --quick smoke run writes to bench/results/tmp/ instead, so
it never replaces the committed full results).

Usage: bench/run.py [--quick] [--rounds N] [--requests N] [--micro] ...
"""

import argparse
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import collections_bench
import eviction_bench
import growth_bench
import lists_bench
import pubsub_bench
import queue_bench
import scripting_bench
import snapshot_bench
from common import (VALUE_SIZE, BenchError, Server, ensure_running, log, redis_benchmark,
                    sluice_threads_for)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD_DIR = os.path.join(ROOT, "build-release")
RESULTS_DIR = os.path.join(ROOT, "bench", "results")
SERVERS = ("sluice", "redis")
SECTIONS = ("throughput", "memory", "expiry", "pubsub", "scripting", "growth", "eviction",
            "collections-memory", "collections-throughput", "lists-throughput", "lists-memory",
            "lists-wakeup", "queues", "snapshot")
# The eviction section's hit-ratio rows (one per trace, maxmemory, server and
# policy: sluice has more policies than redis, so they are not pairs).
HIT_ROWS = []

# redis-benchmark rows: (label, arguments that select the command).
# -t tests use the key names redis-benchmark documents: key:<12 digits> for
# SET/GET/MSET, counter:<12 digits> for INCR.
COMMANDS = [
    ("SET", ["-t", "set"]),
    ("GET", ["-t", "get"]),
    ("INCR", ["-t", "incr"]),
    ("MSET (10 keys)", ["-t", "mset"]),
    ("SET EX 100", ["SET", "key:__rand_int__", "x" * VALUE_SIZE, "EX", "100"]),
]
# (label, clients, pipeline)
LOADS = [
    ("50 clients", 50, 1),
    ("50 clients, pipeline 16", 50, 16),
    ("500 clients", 500, 1),
]


def resp(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def write_load_file(path, count, key_fmt, value_len, ttl):
    """A RESP stream of `count` SET commands for redis-cli --pipe.

    Keys are key_fmt % i (16 bytes for the default formats); values are
    value_len bytes ending in the key number so no two values are equal.
    """
    if os.path.exists(path):
        return path
    pad = b"v" * (value_len - 12)
    tail = [b"$2\r\nEX\r\n$%d\r\n%d\r\n" % (len(str(ttl)), ttl)] if ttl else []
    head = b"*5\r\n$3\r\nSET\r\n" if ttl else b"*3\r\n$3\r\nSET\r\n"
    chunk = 100000
    with open(path + ".part", "wb") as f:
        for start in range(0, count, chunk):
            parts = []
            for i in range(start, min(start + chunk, count)):
                key = key_fmt % i
                value = pad + b"%012d" % i
                parts.append(b"%s$%d\r\n%s\r\n$%d\r\n%s\r\n" %
                             (head, len(key), key, len(value), value))
                parts.extend(tail)
            f.write(b"".join(parts))
    os.rename(path + ".part", path)
    return path


def pipe_load(server, path, expected):
    """Feeds a RESP file through redis-cli --pipe; checks every reply was OK."""
    with open(path, "rb") as f:
        try:
            r = subprocess.run(["redis-cli", "-p", str(server.port), "--pipe"], stdin=f,
                               capture_output=True, text=True, timeout=300)
        except subprocess.TimeoutExpired:
            raise BenchError(f"{server.kind}: redis-cli --pipe timed out")
    if not server.alive():
        raise BenchError(f"{server.kind} died during load: {server.log_tail()}")
    summary = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""
    if r.returncode != 0 or f"errors: 0, replies: {expected}" not in summary:
        raise BenchError(f"{server.kind}: redis-cli --pipe: {summary or r.stderr.strip()}")


# ---------------------------------------------------------------------------
# Sections. Each returns rows: {"section", "label", "unit", "better", and per-server
# lists of samples}.

class Recorder:
    def __init__(self):
        self.rows = {}      # key -> row dict
        self.order = []
        self.problems = []

    def add(self, section, label, metric, unit, better, server, value, rnd, ratio=True):
        """One sample of `server` in round `rnd`; ratio=False for figures (deltas) whose
        quotient means nothing."""
        key = (section, label, metric)
        if key not in self.rows:
            self.rows[key] = {"section": section, "label": label, "metric": metric,
                              "unit": unit, "better": better, "has_ratio": ratio,
                              "samples": {s: [] for s in SERVERS},
                              "rounds": {s: [] for s in SERVERS}}
            self.order.append(key)
        self.rows[key]["samples"][server].append(value)
        self.rows[key]["rounds"][server].append(rnd)

    def problem(self, msg):
        log(f"  !! {msg}")
        self.problems.append(msg)


def order_for_round(r):
    """A B in even rounds, B A in odd ones, so neither server always goes first."""
    return SERVERS if r % 2 == 0 else tuple(reversed(SERVERS))


def requests_for(opt, pipeline):
    """Unpipelined runs get half the requests: at 10-30k requests/s on a busy 2-core
    machine they dominate the run time, and 50k samples still fix p99 well."""
    return opt.requests if pipeline > 1 else max(1, opt.requests // 2)


def run_throughput(servers, opt, rec, loadfiles):
    keyspace = 100000
    preload_path = loadfiles("get-preload", keyspace, b"key:%012d", VALUE_SIZE, 0)

    def preload(server):
        pipe_load(server, preload_path, keyspace)

    for s in servers.values():
        ensure_running(s, rec)
        preload(s)
    total = opt.rounds * len(LOADS) * len(COMMANDS) * len(SERVERS)
    step = 0
    for r in range(opt.rounds):
        for load_label, clients, pipeline in LOADS:
            for cmd_label, cmd_args in COMMANDS:
                for kind in order_for_round(r):
                    step += 1
                    server = servers[kind]
                    label = f"{cmd_label}, {load_label}"
                    try:
                        ensure_running(server, rec, preload)
                        res = redis_benchmark(server, cmd_args, requests_for(opt, pipeline),
                                              clients, pipeline,
                                              keyspace, opt.bench_threads)
                    except BenchError as e:
                        rec.problem(f"throughput {label}, round {r + 1}: {e}")
                        continue
                    log(f"[{step}/{total}] round {r + 1} {label:<34} {kind:<6} "
                        f"{res['rps']:>10,.0f} rps  p50 {res['p50']:.3f}  p99 {res['p99']:.3f} ms"
                        f"  cpu {res['cpu_us']:.2f} us/req  ({res['wall']:.1f}s)")
                    if res["errors"]:
                        rec.problem(f"{kind} {label}: redis-benchmark stderr: {res['errors']}")
                    rec.add("throughput", label, "rps", "req/s", "higher", kind, res["rps"], r)
                    rec.add("throughput", label, "p50", "ms", "lower", kind, res["p50"], r)
                    rec.add("throughput", label, "p99", "ms", "lower", kind, res["p99"], r)
                    rec.add("throughput", label, "cpu", "us/req", "lower", kind, res["cpu_us"], r)
                    rec.add("throughput", label, "user", "us/req", "lower", kind, res["user_us"],
                            r)


def settle_rss(server, wait=0.3):
    time.sleep(wait)
    return server.rss_kb()


def run_memory(servers, opt, rec, loadfiles):
    n = opt.keys
    rows = [
        (f"{n // 1000}k keys, 16 B values", loadfiles("mem16", n, b"key:%012d", 16, 0)),
        (f"{n // 1000}k keys, 16 B values, 1 h TTL",
         loadfiles("mem16ttl", n, b"key:%012d", 16, 3600)),
        (f"{n // 1000}k keys, 100 B values", loadfiles("mem100", n, b"key:%012d", 100, 0)),
    ]
    total = opt.memory_rounds * len(rows) * len(SERVERS)
    step = 0
    for r in range(opt.memory_rounds):
        for label, path in rows:
            for kind in order_for_round(r):
                step += 1
                server = servers[kind]
                try:
                    server.stop()
                    server.start()
                    before = settle_rss(server)
                    t0 = time.time()
                    pipe_load(server, path, n)
                    load_s = time.time() - t0
                    after = settle_rss(server, 0.5)
                    size = server.dbsize()
                except BenchError as e:
                    rec.problem(f"memory {label}, round {r + 1}: {e}")
                    continue
                if size != n:
                    rec.problem(f"{kind} memory {label}: DBSIZE {size} after loading {n} keys")
                per_key = (after - before) * 1024 / n
                log(f"[{step}/{total}] round {r + 1} {label:<34} {kind:<6} "
                    f"RSS {before / 1024:.1f} -> {after / 1024:.1f} MiB = {per_key:.1f} B/key  "
                    f"(load {load_s:.1f}s, {n / load_s:,.0f} keys/s)")
                rec.add("memory", label, "bytes/key", "B", "lower", kind, per_key, r)
                rec.add("memory", label, "load rate", "keys/s", "higher", kind, n / load_s, r)


def run_expiry(servers, opt, rec, loadfiles):
    n_long, n_short, wait_s = opt.keys, opt.keys // 10, 3.0
    long_path = loadfiles("mem16ttl", n_long, b"key:%012d", 16, 3600)
    short_path = loadfiles("short1s", n_short, b"tmp:%012d", 16, 1)
    total = opt.rounds * len(SERVERS)
    step = 0
    short_label = f"{n_short // 1000}k keys with 1 s TTL among {n_long // 1000}k with 1 h TTL"
    for r in range(opt.rounds):
        for kind in order_for_round(r):
            step += 1
            server = servers[kind]
            try:
                server.stop()
                server.start()
                pipe_load(server, long_path, n_long)
                # Quiet p99: GETs on the long-lived keys, nothing expiring.
                quiet = redis_benchmark(server, ["-t", "get"], opt.expiry_requests, 50, 1,
                                        n_long, opt.bench_threads)
                rss0 = settle_rss(server)
                pipe_load(server, short_path, n_short)
                loaded_at = time.time()
                rss1 = server.rss_kb()
                # A GET load sized to last about the 3 s window (from the quiet rate).
                busy_n = max(1000, int(quiet["rps"] * wait_s))
                busy = {}

                def busy_load():
                    try:
                        busy["res"] = redis_benchmark(server, ["-t", "get"], busy_n, 50, 1,
                                                      n_long, opt.bench_threads)
                    except BenchError as e:
                        busy["err"] = e

                t = threading.Thread(target=busy_load)
                t.start()
                time.sleep(max(0.0, loaded_at + wait_s - time.time()))
                size = server.dbsize()
                rss2 = server.rss_kb()
                t.join()
                if "err" in busy:
                    raise busy["err"]
            except BenchError as e:
                rec.problem(f"expiry round {r + 1}: {e}")
                continue
            gone = max(0, n_long + n_short - size)
            log(f"[{step}/{total}] round {r + 1} expiry {kind:<6} "
                f"gone after {wait_s:.0f}s: {gone:,}/{n_short:,}  RSS {rss0 / 1024:.1f} -> "
                f"{rss1 / 1024:.1f} -> {rss2 / 1024:.1f} MiB  GET p99 quiet {quiet['p99']:.3f} "
                f"/ expiring {busy['res']['p99']:.3f} ms")
            rec.add("expiry", short_label, f"% gone after {wait_s:.0f} s (DBSIZE)", "%", "higher",
                    kind, 100.0 * gone / n_short, r)
            rec.add("expiry", short_label, f"RSS change from load to +{wait_s:.0f} s", "MiB",
                    "lower", kind, (rss2 - rss1) / 1024, r, ratio=False)
            rec.add("expiry", short_label, "RSS of the 1 s keys at load", "MiB", "lower", kind,
                    (rss1 - rss0) / 1024, r)
            rec.add("expiry", "GET p99, quiet", "p99", "ms", "lower", kind, quiet["p99"], r)
            rec.add("expiry", "GET p99, while the 1 s keys expire", "p99", "ms", "lower", kind,
                    busy["res"]["p99"], r)
            rec.add("expiry", "GET rps, while the 1 s keys expire", "rps", "req/s", "higher",
                    kind, busy["res"]["rps"], r)


def run_pubsub(servers, opt, rec):
    """bench/pubsub_bench.py's scenarios: fan-out rate and paced delivery p99."""
    counts = [1, 100]
    total = opt.rounds * len(counts) * len(SERVERS)
    step = 0
    for r in range(opt.rounds):
        for n in counts:
            for kind in order_for_round(r):
                step += 1
                server = servers[kind]
                label = f"PUBLISH to {n} subscriber{'' if n == 1 else 's'}"
                try:
                    ensure_running(server, rec)
                    server.cli("CONFIG", "SET", "client-output-buffer-limit", "pubsub 0 0 0")
                    rate, p99 = pubsub_bench.measure(server.port, n, opt.pubsub_messages, 32,
                                                     opt.pubsub_messages // 10, 500)
                except (BenchError, OSError, RuntimeError) as e:
                    rec.problem(f"pubsub {label}, round {r + 1}: {e}")
                    continue
                log(f"[{step}/{total}] round {r + 1} {label:<34} {kind:<6} "
                    f"{rate:>10,.0f} msg/s delivered  p99 {p99:,.0f} us")
                rec.add("pubsub", label, "delivered", "msg/s", "higher", kind, rate, r)
                rec.add("pubsub", label, "p99 delivery, paced", "us", "lower", kind, p99, r)


def run_scripting(servers, opt, rec):
    """bench/scripting_bench.py's scenarios through redis-benchmark, pipeline 16."""
    total = opt.rounds * len(scripting_bench.SCENARIOS) * len(SERVERS)
    step = 0
    for r in range(opt.rounds):
        for name, label in scripting_bench.SCENARIOS:
            for kind in order_for_round(r):
                step += 1
                server = servers[kind]
                try:
                    ensure_running(server, rec)
                    server.cli("FLUSHALL")
                    cmd = scripting_bench.commands(server)[name]
                    res = redis_benchmark(server, cmd, opt.requests, 50, 16, 100000,
                                          opt.bench_threads)
                except BenchError as e:
                    rec.problem(f"scripting {label}, round {r + 1}: {e}")
                    continue
                log(f"[{step}/{total}] round {r + 1} {name:<12} {kind:<6} "
                    f"{res['rps']:>10,.0f} rps  p99 {res['p99']:.3f} ms  "
                    f"cpu {res['cpu_us']:.2f} us/req")
                rec.add("scripting", label, "rps", "req/s", "higher", kind, res["rps"], r)
                rec.add("scripting", label, "p50", "ms", "lower", kind, res["p50"], r)
                rec.add("scripting", label, "p99", "ms", "lower", kind, res["p99"], r)
                rec.add("scripting", label, "cpu", "us/req", "lower", kind, res["cpu_us"], r)
                rec.add("scripting", label, "user", "us/req", "lower", kind, res["user_us"], r)


def run_growth(servers, opt, rec, workdir):
    """bench/growth_bench.py: paced GET latency while the key table grows."""
    n = opt.growth_keys
    path = os.path.join(workdir, f"growth-mset-{n}.resp")
    if not os.path.exists(path):
        log(f"generating {os.path.basename(path)} ({n:,} keys in MSETs of "
            f"{growth_bench.BATCH})")
    growth_bench.write_mset_file(path, n)
    label = growth_label(opt)
    total = opt.growth_rounds * len(SERVERS)
    step = 0
    for r in range(opt.growth_rounds):
        for kind in order_for_round(r):
            step += 1
            server = servers[kind]
            try:
                # A fresh server: the table grows from empty.
                server.stop()
                server.start()
                res = growth_bench.measure(server.port, path, n, opt.growth_rate, seed=r + 1)
                size = server.dbsize()
            except BenchError as e:
                rec.problem(f"growth round {r + 1}: {e}")
                continue
            finally:
                server.stop()  # gives back the memory of N keys before the next load
            if size != n:
                rec.problem(f"{kind} growth: DBSIZE {size} after loading {n} keys")
            log(f"[{step}/{total}] round {r + 1} growth " + growth_bench.describe(kind, res, n))
            rec.add("growth", label, "GET max", "us", "lower", kind, res["max_us"], r)
            rec.add("growth", label, "GET p99.9", "us", "lower", kind, res["p999_us"], r)
            rec.add("growth", label, "GET p99", "us", "lower", kind, res["p99_us"], r)
            rec.add("growth", label, "load time", "s", "lower", kind, res["load_s"], r)
            rec.add("growth", label, "GETs sent during the load", "GETs", "higher", kind,
                    res["gets"], r, ratio=False)
            rec.add("growth", label, "load average at the end of the load", "1 min", "lower",
                    kind, res["load_avg"], r, ratio=False)


def run_eviction(servers, opt, rec):
    """bench/eviction_bench.py: hit ratios, then throughput while evicting."""
    for trace_kind in ("zipf", "scan"):
        log(f"generating the {trace_kind} trace ({opt.eviction_requests:,} requests)")
        trace = eviction_bench.make_trace(trace_kind, opt.eviction_requests)
        for mb in opt.eviction_mb:
            for kind, policies in (("sluice", eviction_bench.SLUICE_POLICIES),
                                   ("redis", eviction_bench.REDIS_POLICIES)):
                for policy in policies:
                    try:
                        res = eviction_bench.measure(servers[kind], trace, mb << 20, policy)
                    except BenchError as e:
                        rec.problem(f"eviction {trace_kind} {mb} MiB {kind} {policy}: {e}")
                        continue
                    finally:
                        servers[kind].stop()
                    if res["set_errors"]:
                        rec.problem(f"eviction {kind} {policy}: {res['set_errors']} SETs refused")
                    log(f"{trace_kind} {mb} MiB " + eviction_bench.describe(kind, policy, res))
                    HIT_ROWS.append(dict(res, trace=trace_kind, mb=mb, server=kind,
                                         policy=policy))
    # Throughput with every SET of a new key evicting: a full 16 MiB cache,
    # random keys over 2M. Same policy on both, then each one's best.
    pairs = [("allkeys-lru", "allkeys-lru"), ("allkeys-s3fifo", "allkeys-lfu")]
    total = opt.rounds * len(pairs) * len(SERVERS)
    step = 0
    for r in range(opt.rounds):
        for pair in pairs:
            label = (f"16 MiB, allkeys-lru on both" if pair[0] == pair[1] else
                     f"16 MiB, sluice {pair[0]} vs redis {pair[1]}")
            for kind in order_for_round(r):
                step += 1
                server = servers[kind]
                policy = pair[0] if kind == "sluice" else pair[1]
                try:
                    server.stop()
                    server.start()
                    server.cli("CONFIG", "SET", "maxmemory-policy", policy)
                    server.cli("CONFIG", "SET", "maxmemory", str(16 << 20))
                    redis_benchmark(server, ["-t", "set"], 300000, 50, 16, 2000000,
                                    opt.bench_threads, value_size=100)
                    res = {}
                    for cmd in ("set", "get"):
                        res[cmd] = redis_benchmark(server, ["-t", cmd], opt.requests, 50, 16,
                                                   2000000, opt.bench_threads, value_size=100)
                except BenchError as e:
                    rec.problem(f"eviction throughput {label}, round {r + 1}: {e}")
                    continue
                finally:
                    server.stop()
                log(f"[{step}/{total}] round {r + 1} {label:<44} {kind:<6} "
                    f"SET {res['set']['rps']:>10,.0f} rps p99 {res['set']['p99']:.3f} ms  "
                    f"GET {res['get']['rps']:>10,.0f} rps p99 {res['get']['p99']:.3f} ms")
                for cmd in ("set", "get"):
                    name = cmd.upper()
                    rec.add("eviction", label, f"{name} rps", "req/s", "higher", kind,
                            res[cmd]["rps"], r)
                    rec.add("eviction", label, f"{name} p99", "ms", "lower", kind,
                            res[cmd]["p99"], r)
                    rec.add("eviction", label, f"{name} cpu", "us/req", "lower", kind,
                            res[cmd]["cpu_us"], r)


def hit_table(_rows):
    """The eviction section: the hit-ratio table, then the throughput rows."""
    L = ["| Trace | maxmemory | Server | Policy | Hit ratio | vs redis's best | Keys held | "
         "Evicted | used_memory / maxmemory | RSS growth / maxmemory |",
         "|---|--:|---|---|--:|--:|--:|--:|--:|--:|"]
    for row in HIT_ROWS:
        best = max((x["hit_ratio"] for x in HIT_ROWS if x["server"] == "redis"
                    and x["trace"] == row["trace"] and x["mb"] == row["mb"]), default=None)
        delta = "" if best is None else f"{(row['hit_ratio'] - best) * 100:+.1f} pp"
        L.append(f"| {row['trace']} | {row['mb']} MiB | {row['server']} | {row['policy']} | "
                 f"{row['hit_ratio']:.4f} | {delta} | {row['keys']:,} | {row['evicted']:,} | "
                 f"{row['used_ratio']:.3f} | {row['rss_growth_ratio']:.3f} |")
    L.append("")
    return L + metric_table(_rows)


def growth_label(opt):
    n = opt.growth_keys
    keys = f"{n / 1e6:g}M" if n >= 1_000_000 else f"{n // 1000}k"
    return f"{keys} keys loaded, GETs paced at {opt.growth_rate:,}/s"


def run_micro(opt, rec):
    """Runs build-release/bench/*_bench; returns [(binary, benchmark, time, unit, extra)]."""
    out = []
    bench_dir = os.path.join(BUILD_DIR, "bench")
    names = sorted(f[:-3] for f in os.listdir(os.path.join(ROOT, "bench"))
                   if f.endswith("_bench.cc"))
    for name in names:
        path = os.path.join(bench_dir, name)
        if not os.access(path, os.X_OK):
            rec.problem(f"micro-benchmark {name} was not built")
            continue
        log(f"micro: {name}")
        try:
            r = subprocess.run([path, "--benchmark_format=json",
                                f"--benchmark_min_time={opt.micro_min_time}"],
                               capture_output=True, text=True, timeout=600)
            data = json.loads(r.stdout)
        except (subprocess.TimeoutExpired, json.JSONDecodeError) as e:
            rec.problem(f"micro-benchmark {name}: {e}")
            continue
        if r.returncode != 0:
            rec.problem(f"micro-benchmark {name} exited {r.returncode}: {r.stderr[-300:]}")
        for b in data.get("benchmarks", []):
            if b.get("run_type") == "aggregate":
                continue
            extra = []
            if "items_per_second" in b:
                extra.append(f"{b['items_per_second'] / 1e6:.2f} M items/s")
            if "bytes_per_second" in b:
                extra.append(f"{b['bytes_per_second'] / 2**20:.1f} MiB/s")
            out.append((name, b["name"], b["real_time"], b["time_unit"], ", ".join(extra)))
    return out


# ---------------------------------------------------------------------------
# Build and environment

def build(opt):
    targets = ["sluice-server"]
    if opt.micro:
        targets += sorted(f[:-3] for f in os.listdir(os.path.join(ROOT, "bench"))
                          if f.endswith("_bench.cc"))
    log(f"build: Release sluice in {os.path.relpath(BUILD_DIR, ROOT)}/ ({', '.join(targets)})")
    subprocess.run(["cmake", "-S", ROOT, "-B", BUILD_DIR, "-G", "Ninja",
                    "-DCMAKE_BUILD_TYPE=Release", "-DSLUICE_TESTS=OFF",
                    f"-DSLUICE_BENCH={'ON' if opt.micro else 'OFF'}"],
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["ninja", "-C", BUILD_DIR, f"-j{os.cpu_count()}"] + targets, check=True)


def machine_info():
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    def cmd(*args):
        try:
            return subprocess.run(args, capture_output=True, text=True, cwd=ROOT,
                                  timeout=10).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return ""
    rev = cmd("git", "rev-parse", "--short", "HEAD") or "unknown"
    if cmd("git", "status", "--porcelain", "--untracked-files=no"):
        rev += " (with uncommitted changes)"
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    mem_kb = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "mem_gib": round(mem_kb / 2**20, 1),
        "kernel": os.uname().release,
        "git": rev,
        "redis": cmd("redis-server", "--version"),
        "load_start": load,
    }


# ---------------------------------------------------------------------------
# Report

def fmt(value, unit):
    if value is None:
        return "–"
    if unit in ("req/s", "keys/s", "msg/s", "us", "GETs"):
        return f"{value:,.0f}"
    if unit == "1 min":
        return f"{value:.2f}"
    if unit == "ms":
        return f"{value:.3f}"
    if unit in ("us/req",):
        return f"{value:.2f}"
    if unit == "%":
        return f"{value:.1f}"
    return f"{value:.1f}"


def summarize(rec):
    out = []
    for key in rec.order:
        row = dict(rec.rows[key])
        med = {s: (statistics.median(v) if v else None) for s, v in row["samples"].items()}
        row["median"] = med
        a, b = med["sluice"], med["redis"]
        # A ratio only means something between two positive figures (not for RSS deltas).
        ok = row["has_ratio"] and a is not None and b is not None and a > 0 and b > 0
        row["ratio"] = a / b if ok else None
        # Per-round ratios, where both servers have a sample of that round.
        by_round = {s: dict(zip(row["rounds"][s], row["samples"][s])) for s in SERVERS}
        row["round_ratios"] = [by_round["sluice"][r] / by_round["redis"][r]
                               for r in sorted(by_round["sluice"])
                               if r in by_round["redis"] and by_round["redis"][r] > 0]
        out.append(row)
    return out


def ratio_str(row):
    return f"**{row['ratio']:.2f}**" if row["ratio"] is not None else "–"


def spread(row):
    """The lowest and highest per-round ratio: how much the rounds agree."""
    rr = row.get("round_ratios") or []
    if len(rr) < 2:
        return ""
    return f"{min(rr):.2f}–{max(rr):.2f}"


def request_table(first_column, rows):
    """Markdown lines: a row per label with rps, p50, p99 and CPU per request."""
    L = [f"| {first_column} | rps sluice | rps redis | ratio | (rounds) | p50 ms sluice | redis "
         "| ratio | p99 ms sluice | redis | ratio | CPU µs/req sluice | redis | ratio "
         "| user µs/req sluice | redis | ratio |",
         "|---|--:|--:|--:|:-:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"]
    by_label = {}
    for r in rows:
        by_label.setdefault(r["label"], {})[r["metric"]] = r
    for label, m in by_label.items():
        cells = [label]
        for metric in ("rps", "p50", "p99", "cpu", "user"):
            r = m.get(metric)
            if r is None:
                cells += ["–", "–", "–"]
                continue
            cells += [fmt(r["median"]["sluice"], r["unit"]), fmt(r["median"]["redis"], r["unit"]),
                      ratio_str(r)]
            if metric == "rps":
                cells.append(spread(r))
        L.append("| " + " | ".join(cells) + " |")
    L.append("")
    return L


def metric_table(rows):
    """Markdown lines: a row per (label, metric) with both medians and the ratio."""
    L = ["| Row | Metric | sluice | redis | ratio | (rounds) |", "|---|---|--:|--:|--:|:-:|"]
    for r in rows:
        L.append(f"| {r['label']} | {r['metric']} ({r['unit']}) | "
                 f"{fmt(r['median']['sluice'], r['unit'])} | {fmt(r['median']['redis'], r['unit'])} "
                 f"| {ratio_str(r)} | {spread(r) if r['ratio'] is not None else ''} |")
    L.append("")
    return L


def markdown(info, opt, rows, micro, problems, elapsed, png_name):
    L = []
    L.append(f"# sluice vs redis-server, {info['date']}\n")
    L.append(f"- Machine: {info['nproc']} CPUs, {info['cpu']}, {info['mem_gib']} GiB, "
             f"Linux {info['kernel']}; load average at start {info['load_start']}")
    L.append(f"- sluice: git {info['git']}, Release build (build-release/), "
             f"`--io-threads {opt.sluice_threads}` (the cores redis-benchmark leaves free)"
             f"{', args: ' + ' '.join(opt.sluice_args) if opt.sluice_args else ''}")
    L.append(f"- redis: {info['redis']}, single-threaded defaults")
    L.append("- Both: 127.0.0.1, `--save \"\" --appendonly no`; no CPU pinning; "
             f"redis-benchmark {'--threads ' + str(opt.bench_threads) if opt.bench_threads > 1 else 'single-threaded'}")
    L.append(f"- {opt.rounds} round(s), servers interleaved A B / B A each round; every figure "
             "is the median over rounds; **ratio = sluice / redis**")
    L.append(f"- Run took {elapsed / 60:.1f} min{' (--quick smoke run: numbers are indicative only)' if opt.quick else ''}")
    L.append("")

    thr = [r for r in rows if r["section"] == "throughput"]
    if thr:
        L.append("## Throughput and latency (redis-benchmark)\n")
        L.append(f"{opt.requests:,} requests per pipelined run, {requests_for(opt, 1):,} per "
                 f"unpipelined run, {VALUE_SIZE}-byte values, random keys over "
                 "a 100k keyspace (`-r 100000 -d 32`), 100k keys preloaded so GETs hit. "
                 "CPU = server utime+stime per request (from /proc/<pid>/stat, 10 ms ticks); user = "
                 "utime alone, the server's own code without the kernel's socket work. "
                 "Higher rps is better; lower latency and CPU are better.\n")
        L += request_table("Command, load", thr)

    mem = [r for r in rows if r["section"] == "memory"]
    if mem:
        L.append("## Memory (resident set per key)\n")
        L.append(f"{opt.memory_rounds} round(s). Fresh servers for every row; keys loaded with `redis-cli --pipe`; "
                 "bytes/key = (VmRSS after load − VmRSS before) / keys. 16-byte keys. Lower is "
                 "better.\n")
        L.append("| Row | B/key sluice | B/key redis | ratio | load keys/s sluice | load keys/s redis "
                 "| ratio |")
        L.append("|---|--:|--:|--:|--:|--:|--:|")
        by_label = {}
        for r in mem:
            by_label.setdefault(r["label"], {})[r["metric"]] = r
        for label, m in by_label.items():
            cells = [label]
            for metric in ("bytes/key", "load rate"):
                r = m[metric]
                cells += [fmt(r["median"]["sluice"], r["unit"]), fmt(r["median"]["redis"], r["unit"]),
                          ratio_str(r)]
            L.append("| " + " | ".join(cells) + " |")
        L.append("")

    for section, heading, intro, table in (
        ("expiry", "Expiry",
         f"Load {opt.keys:,} keys with a 1-hour TTL, then {opt.keys // 10:,} keys with a "
         "1-second TTL; 3 s after that load, read DBSIZE and VmRSS. A GET load "
         "(redis-benchmark, 50 clients, sized to the 3 s window) runs meanwhile; the quiet "
         f"p99 is the same GET load ({opt.expiry_requests:,} requests) before the 1 s keys "
         "exist. RSS change is negative when memory is returned to the OS.", metric_table),
        ("pubsub", "Pub/sub fan-out (bench/pubsub_bench.py)",
         f"One channel, 64-byte messages. Delivered: {opt.pubsub_messages:,} PUBLISHes "
         "pipelined 32 deep, subscribers in 4 processes read every message; msg/s counts "
         f"all subscribers together. p99 delivery: {opt.pubsub_messages // 10:,} "
         "PUBLISHes 500 µs apart, delay from the publisher's stamp to a subscriber "
         "reading it. Both servers with `client-output-buffer-limit pubsub 0 0 0`.",
         metric_table),
        ("scripting", "Scripting and rate limiting (bench/scripting_bench.py)",
         f"redis-benchmark, 50 clients, pipeline 16, {opt.requests:,} requests, random "
         "keys over 100k, keyspace flushed before each run. The GCRA row compares "
         "sluice's native CL.THROTTLE with redis-server running the same algorithm as "
         "a Lua script (what a Redis user has to do); the next row runs that script on "
         "both.", lambda rs: request_table("Scenario", rs)),
        ("growth", "Growth latency (bench/growth_bench.py)",
         f"{opt.growth_rounds} round(s), a fresh server each. One client loads "
         f"{opt.growth_keys:,} keys (16-byte keys and values) into database 0 through "
         f"`redis-cli --pipe`, as MSETs of {growth_bench.BATCH} pairs; another client on its "
         f"own connection sends GETs of random keys paced at {opt.growth_rate:,}/s, open-loop "
         "(on schedule even while earlier ones are unanswered, so a stall delays every GET "
         "due during it), and times each from send to reply. Latencies are of the GETs sent "
         "while the load ran, so they include the key table growing (sluice: each of the "
         "database's shards on its own) and waiting behind the loader's batch in the event "
         "loop. "
         "Target: sluice's max within 2x of redis's.", metric_table),
        ("eviction", "Eviction and hit ratio (bench/eviction_bench.py)",
         f"Cache-aside replay from an empty server: GET each key, SET it (100-byte value) "
         f"on a miss, in pipelined batches of {eviction_bench.BATCH}. Traces: "
         f"{opt.eviction_requests:,} requests, Zipf alpha {eviction_bench.ALPHA} over "
         f"{eviction_bench.UNIVERSE:,} keys (zipf), and the same stream with "
         f"{eviction_bench.SCAN_SHARE:.0%} of the requests one-time sequential keys (scan). "
         "RSS growth is RSS at the end minus RSS of the empty server. Then redis-benchmark "
         f"SET and GET, 50 clients, pipeline 16, {opt.requests:,} requests, random keys over "
         "2M with 100-byte values, on a cache filled to its 16 MiB bound (most SETs evict).",
         hit_table),
        ("collections-memory", "Collections: memory per element (bench/collections_bench.py)",
         collections_bench.MEMORY_INTRO.format(batch=collections_bench.BATCH) +
         f" {opt.memory_rounds} round(s).", collections_bench.memory_table),
        ("collections-throughput", "Collections: throughput (bench/collections_bench.py)",
         collections_bench.THROUGHPUT_INTRO.format(
             requests=opt.collection_requests,
             requests1=collections_bench.requests_for(opt, 1),
             n=collections_bench.human(opt.collection_elements),
             n_raw=opt.collection_elements),
         collections_bench.throughput_table),
        ("lists-throughput", "Lists: throughput (bench/lists_bench.py)",
         lists_bench.THROUGHPUT_INTRO.format(
             requests=opt.list_requests, requests1=lists_bench.requests_for(opt, 1)) +
         f" {opt.rounds} round(s).", lists_bench.throughput_table),
        ("lists-memory", "Lists: memory per element (bench/lists_bench.py)",
         lists_bench.MEMORY_INTRO.format(n=collections_bench.human(opt.list_elements)) +
         f" {opt.memory_rounds} round(s).", lists_bench.memory_table),
        ("lists-wakeup", "Lists: blocking-pop wake-up latency (bench/lists_bench.py)",
         lists_bench.WAKEUP_INTRO.format(consumers=lists_bench.CONSUMERS,
                                         pushes=opt.list_pushes) +
         f" {opt.rounds} round(s).", metric_table),
        ("queues", "Job queues (bench/queue_bench.py)", queue_bench.intro(opt),
         queue_bench.table),
        ("snapshot", "Snapshots (bench/snapshot_bench.py)",
         snapshot_bench.INTRO.format(keys=opt.snapshot_keys, rate=opt.snapshot_rate,
                                     rounds=opt.snapshot_rounds), metric_table),
    ):
        selected = [r for r in rows if r["section"] == section]
        if selected:
            L.append(f"## {heading}\n")
            L.append(intro + "\n")
            L += table(selected)

    if micro is not None:
        L.append("## Micro-benchmarks (Google Benchmark, sluice only)\n")
        if micro:
            L.append(f"`--benchmark_min_time={opt.micro_min_time}`.\n")
            L.append("| Binary | Benchmark | Time | Throughput |")
            L.append("|---|---|--:|---|")
            for binary, name, t, unit, extra in micro:
                L.append(f"| {binary} | `{name}` | {t:,.1f} {unit} | {extra} |")
        else:
            L.append("No micro-benchmark results.")
        L.append("")

    if png_name:
        L.append(f"![sluice/redis ratios]({png_name})\n")
    if problems:
        L.append("## Problems seen during the run\n")
        for p in problems:
            L.append(f"- {p}")
        L.append("")
    return "\n".join(L)


def chart(rows, png_path, title, workdir):
    """A PNG of sluice/redis ratios on a log scale: one panel for the throughput,
    pub/sub, scripting and collections-throughput rows (rate, p99, CPU per request),
    one for memory per key and per collection element, expiry p99 and growth latency."""
    if not shutil.which("gnuplot"):
        return False
    thr, other = {}, []
    for r in rows:
        if r["section"] in ("throughput", "scripting", "collections-throughput"):
            thr.setdefault(r["label"], {})[r["metric"]] = r["ratio"]
        elif r["section"] == "pubsub":  # delivered msg/s with rps, delivery p99 with p99
            metric = "rps" if r["metric"] == "delivered" else "p99"
            thr.setdefault(r["label"], {})[metric] = r["ratio"]
        elif r["section"] == "memory" and r["metric"] == "bytes/key":
            other.append((f"memory/key: {r['label']}", r["ratio"]))
        elif r["section"] == "collections-memory" and r["metric"] == "used_memory/element":
            other.append((f"used memory per element: {r['label']}", r["ratio"]))
        elif r["section"] == "expiry" and r["unit"] == "ms":
            other.append((r["label"], r["ratio"]))
        elif r["section"] == "growth" and r["metric"] in ("GET max", "GET p99.9"):
            other.append((f"{r['metric']} while the table grows", r["ratio"]))

    # gnuplot refuses a histogram with no valid point: drop empty panels.
    if all(v is None for m in thr.values() for v in m.values()):
        thr = {}
    if all(v is None for _, v in other):
        other = []

    def val(x):
        return "NaN" if x is None else f"{x:.4f}"

    def lab(x):
        return "" if x is None else f"{x:.2f}"

    series = [("rps", "requests/s (higher is better)", "#2a7ab0"),
              ("p99", "p99 latency (lower is better)", "#e08a2c"),
              ("cpu", "server CPU per request (lower is better)", "#7a7a7a")]
    # A series with no point at all (pub/sub alone has no CPU figure) breaks the plot.
    series = [x for x in series if any(m.get(x[0]) is not None for m in thr.values())]
    panels = []
    if thr:
        path = os.path.join(workdir, "throughput.dat")
        with open(path, "w") as f:
            for i, (label, m) in enumerate(thr.items()):
                cols = " ".join(val(m.get(k)) for k, _, _ in series)
                labs = " ".join(f'"{lab(m.get(k))}"' for k, _, _ in series)
                f.write(f'{i} "{label}" {cols} {labs}\n')
        n, gap = len(series), 1
        plots = []
        for j, (_, name, color) in enumerate(series):
            using = f"{3 + j}:xtic(2)" if j == 0 else f"{3 + j}"
            plots.append(f"'{path}' using {using} title '{name}' lc rgb '{color}'")
        for j in range(n):
            off = (j - (n - 1) / 2) / (n + gap)
            plots.append(f"'{path}' using ($1+{off:.4f}):(clip(${3 + j})):{3 + n + j} "
                         "with labels rotate by 90 left font 'sans,7' notitle")
        panels.append(("throughput and latency: redis-benchmark, pub/sub, scripting "
                       "(sluice / redis)",
                       f"set style histogram clustered gap {gap}", plots))
    if other:
        path = os.path.join(workdir, "other.dat")
        with open(path, "w") as f:
            for i, (label, v) in enumerate(other):
                f.write(f'{i} "{label}" {val(v)} "{lab(v)}"\n')
        plots = [f"'{path}' using 3:xtic(2) title 'sluice / redis (lower is better)' "
                 "lc rgb '#4a9a4a'",
                 f"'{path}' using 1:(clip($3)):4 with labels font 'sans,9' notitle"]
        panels.append(("memory per key and per collection element, GET p99 around expiry, "
                       "GET latency while the table grows (sluice / redis)",
                       "set style histogram clustered gap 2", plots))
    if not panels:
        return False
    height = 620 * len(panels) + 80
    script = [
        f"set terminal pngcairo size 1500,{height} font 'sans,10'",
        f"set output '{png_path}'",
        "set style data histograms",
        "set style fill solid 0.85 border -1",
        "set grid ytics",
        "set key outside top center horizontal",
        "set xtics rotate by 30 right scale 0 nomirror font 'sans,9'",
        "set lmargin 12",
        # Value labels just above a bar, kept inside the plot for bars off the scale.
        "clip(v) = v > 12 ? 12 : (v < 0.0625 ? 0.07 : v * 1.08)",
        "set logscale y 2",
        "set yrange [0.0625:16]",
        "set ytics ('1/16' 0.0625, '1/8' 0.125, '1/4' 0.25, '1/2' 0.5, '1' 1, '2' 2, '4' 4, "
        "'8' 8, '16' 16)",
        "set ylabel 'ratio sluice / redis (log scale)'",
        "set bmargin 11",
    ]
    if len(panels) > 1:
        script.append(f"set multiplot layout {len(panels)},1 title '{title}' font 'sans,13'")
    else:
        script.append(f"set label 99 '{title}' at screen 0.5, screen 0.98 center font 'sans,13'")
    for ptitle, style, plots in panels:
        script.append(f"set title '{ptitle}'")
        script.append(style)
        script.append("plot " + ", \\\n  ".join(plots + ["1 with lines dt 2 lc rgb 'black' notitle"]))
    if len(panels) > 1:
        script.append("unset multiplot")
    gp = os.path.join(workdir, "chart.gp")
    with open(gp, "w") as f:
        f.write("\n".join(script) + "\n")
    r = subprocess.run(["gnuplot", gp], capture_output=True, text=True)
    if r.returncode != 0:
        log(f"gnuplot failed: {r.stderr.strip()}")
        return False
    return True


# ---------------------------------------------------------------------------

def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rounds", type=int, default=5, help="rounds of A B interleaving (5)")
    p.add_argument("--quick", action="store_true",
                   help="fast smoke run: 1 round, 10k requests, 100k keys, 1M keys for "
                        "growth; writes to bench/results/tmp/")
    p.add_argument("--requests", type=int, default=100000,
                   help="requests per pipelined redis-benchmark run; unpipelined runs get "
                        "half (100000)")
    p.add_argument("--keys", type=int, default=1000000,
                   help="keys per memory/expiry load (1000000; expiry adds a tenth with 1 s TTL)")
    p.add_argument("--memory-rounds", type=int, default=1,
                   help="rounds of the memory rows (1: RSS per key varies well under 1%% "
                        "between rounds; each round costs about a minute)")
    p.add_argument("--expiry-requests", type=int, default=50000,
                   help="requests of the quiet GET load in the expiry test (50000)")
    p.add_argument("--sections", default=",".join(SECTIONS),
                   help="comma-separated subset of " + ",".join(SECTIONS))
    p.add_argument("--pubsub-messages", type=int, default=20000,
                   help="PUBLISHes per pub/sub throughput run; a tenth for the paced p99 (20000)")
    p.add_argument("--growth-keys", type=int, default=20_000_000,
                   help="keys loaded in the growth section (20000000; 1000000 with --quick)")
    p.add_argument("--growth-rate", type=int, default=5000,
                   help="paced GETs per second in the growth section (5000)")
    p.add_argument("--growth-rounds", type=int, default=1,
                   help="rounds of the growth section (1: each loads the keys into both "
                        "servers, about 2 minutes at 20M keys)")
    p.add_argument("--eviction-requests", type=int, default=eviction_bench.REQUESTS,
                   help="requests per eviction trace (2M; 500k under --quick)")
    p.add_argument("--eviction-mb", default="16,64",
                   help="maxmemory values of the eviction section, MiB (16,64; 16 under --quick)")
    p.add_argument("--collection-elements", type=int, default=collections_bench.ELEMENTS,
                   help="elements per collection in the collections-* sections (1000000; "
                        "100000 under --quick)")
    p.add_argument("--collection-requests", type=int, default=collections_bench.REQUESTS,
                   help="requests per pipeline-16 run of collections-throughput; unpipelined "
                        "runs get a fifth (500000; 20000 under --quick)")
    p.add_argument("--list-elements", type=int, default=lists_bench.ELEMENTS,
                   help="elements of the lists-memory list (1000000; 100000 under --quick)")
    p.add_argument("--list-requests", type=int, default=lists_bench.REQUESTS,
                   help="requests per pipeline-16 run of lists-throughput; unpipelined runs "
                        "get a fifth (200000; 20000 under --quick)")
    p.add_argument("--list-pushes", type=int, default=lists_bench.PUSHES,
                   help="LPUSHes per lists-wakeup round (3000; 500 under --quick)")
    p.add_argument("--queue-jobs", type=int, default=queue_bench.JOBS,
                   help="jobs per Bull run of the queues section; RQ runs get a quarter "
                        "(20000; 2000 under --quick)")
    p.add_argument("--snapshot-keys", type=int, default=snapshot_bench.KEYS,
                   help="keys of the snapshot section's dataset (10000000; 1000000 under "
                        "--quick)")
    p.add_argument("--snapshot-rate", type=int, default=snapshot_bench.RATE,
                   help="paced SETs per second during the snapshot section (10000)")
    p.add_argument("--snapshot-rounds", type=int, default=3,
                   help="rounds of the snapshot section (3; 1 under --quick; each loads the "
                        "keys into both servers, about 2 minutes at 10M keys)")
    p.add_argument("--micro", action="store_true",
                   help="also build and run the Google Benchmark bench/*_bench binaries")
    p.add_argument("--micro-min-time", default="0.2",
                   help="--benchmark_min_time for --micro (seconds)")
    p.add_argument("--bench-threads", type=int, default=0,
                   help="redis-benchmark --threads (0: single-threaded), same for both servers")
    p.add_argument("--no-build", action="store_true", help="use build-release/ as it is")
    p.add_argument("--sluice-bin", default=os.path.join(BUILD_DIR, "sluice-server"))
    p.add_argument("--redis-bin", default=shutil.which("redis-server") or "redis-server")
    p.add_argument("--sluice-threads", type=int, default=0,
                   help="sluice io-threads (0: the cores redis-benchmark leaves free, at "
                        "least 1; redis-benchmark runs on this machine too)")
    p.add_argument("--sluice-args", nargs=argparse.REMAINDER, default=[],
                   help="extra sluice-server arguments (must come last)")
    p.add_argument("--out", help="results folder (default bench/results, or "
                                 "bench/results/tmp with --quick)")
    opt = p.parse_args()
    if opt.quick:
        opt.rounds = 1 if "--rounds" not in sys.argv else opt.rounds
        opt.requests = 10000 if "--requests" not in sys.argv else opt.requests
        opt.keys = 100000 if "--keys" not in sys.argv else opt.keys
        opt.expiry_requests = 10000 if "--expiry-requests" not in sys.argv else opt.expiry_requests
        opt.pubsub_messages = 2000 if "--pubsub-messages" not in sys.argv else opt.pubsub_messages
        opt.growth_keys = 1_000_000 if "--growth-keys" not in sys.argv else opt.growth_keys
        if "--eviction-requests" not in sys.argv:
            opt.eviction_requests = 500_000
        if "--eviction-mb" not in sys.argv:
            opt.eviction_mb = "16"
        if "--collection-elements" not in sys.argv:
            opt.collection_elements = 100_000
        if "--collection-requests" not in sys.argv:
            opt.collection_requests = 20_000
        if "--list-elements" not in sys.argv:
            opt.list_elements = 100_000
        if "--list-requests" not in sys.argv:
            opt.list_requests = 20_000
        if "--list-pushes" not in sys.argv:
            opt.list_pushes = 500
        if "--queue-jobs" not in sys.argv:
            opt.queue_jobs = 2_000
        if "--snapshot-keys" not in sys.argv:
            opt.snapshot_keys = 1_000_000
        if "--snapshot-rounds" not in sys.argv:
            opt.snapshot_rounds = 1
        opt.micro_min_time = "0.05" if "--micro-min-time" not in sys.argv else opt.micro_min_time
    opt.eviction_mb = [int(x) for x in str(opt.eviction_mb).split(",") if x.strip()]
    opt.sluice_bin = os.path.abspath(opt.sluice_bin)
    out_dir = opt.out or (os.path.join(RESULTS_DIR, "tmp") if opt.quick else RESULTS_DIR)
    sections = [s.strip() for s in opt.sections.split(",") if s.strip()]
    for s in sections:
        if s not in SECTIONS:
            p.error(f"unknown section {s!r}")
    for tool in ("redis-benchmark", "redis-cli"):
        if not shutil.which(tool):
            p.error(f"{tool} not found (run scripts/setup.sh)")

    start = time.time()
    if not opt.no_build:
        try:
            build(opt)
        except subprocess.CalledProcessError as e:
            log(f"build failed ({' '.join(e.cmd[:3])} ...: rc {e.returncode})")
            return 2
    if not os.access(opt.sluice_bin, os.X_OK):
        p.error(f"no sluice binary at {opt.sluice_bin}")
    info = machine_info()
    now = datetime.datetime.now()
    info["date"] = now.strftime("%Y-%m-%d %H:%M")
    log(f"machine: {info['nproc']} CPUs, {info['cpu']}, load {info['load_start']}; "
        f"sluice {info['git']}; {info['redis']}")
    log(f"plan: {', '.join(sections)}; {opt.rounds} round(s), {opt.requests:,}/{requests_for(opt, 1):,} requests per "
        f"pipelined/unpipelined redis-benchmark run, {opt.keys:,} keys per load")

    workdir = tempfile.mkdtemp(prefix="sluice-bench-")
    rec = Recorder()
    if opt.sluice_threads <= 0:
        opt.sluice_threads = sluice_threads_for(os.cpu_count() or 1, opt.bench_threads)
    sluice_args = ["--io-threads", str(opt.sluice_threads)] + opt.sluice_args
    servers = {
        "sluice": Server("sluice", opt.sluice_bin, workdir, sluice_args),
        "redis": Server("redis", opt.redis_bin, workdir, []),
    }

    def loadfiles(name, count, key_fmt, value_len, ttl):
        path = os.path.join(workdir, f"{name}-{count}.resp")
        if not os.path.exists(path):
            log(f"generating {os.path.basename(path)} ({count:,} SETs)")
        return write_load_file(path, count, key_fmt, value_len, ttl)

    micro = None
    try:
        if "throughput" in sections:
            log("== throughput and latency")
            run_throughput(servers, opt, rec, loadfiles)
        if "memory" in sections:
            log("== memory")
            run_memory(servers, opt, rec, loadfiles)
        if "expiry" in sections:
            log("== expiry")
            run_expiry(servers, opt, rec, loadfiles)
        if "pubsub" in sections:
            log("== pub/sub")
            run_pubsub(servers, opt, rec)
        if "scripting" in sections:
            log("== scripting and rate limiting")
            run_scripting(servers, opt, rec)
        if "growth" in sections:
            log("== growth latency")
            run_growth(servers, opt, rec, workdir)
        if "eviction" in sections:
            log("== eviction")
            run_eviction(servers, opt, rec)
        if "collections-memory" in sections:
            log("== collections: memory per element")
            collections_bench.run_memory(servers, opt, rec, workdir)
        if "collections-throughput" in sections:
            log("== collections: throughput")
            collections_bench.run_throughput(servers, opt, rec, workdir)
        if "lists-throughput" in sections:
            log("== lists: throughput")
            lists_bench.run_throughput(servers, opt, rec, workdir)
        if "lists-memory" in sections:
            log("== lists: memory per element")
            lists_bench.run_memory(servers, opt, rec, workdir)
        if "lists-wakeup" in sections:
            log("== lists: blocking-pop wake-up latency")
            lists_bench.run_wakeup(servers, opt, rec)
        if "queues" in sections:
            log("== job queues")
            queue_bench.run_queues(servers, opt, rec, workdir)
        if "snapshot" in sections:
            log("== snapshots")
            for s in servers.values():
                s.stop()
            snapshot_bench.run_section(opt, rec, workdir)
    except KeyboardInterrupt:
        rec.problem("interrupted; the report covers what ran")
    except BenchError as e:
        rec.problem(f"aborted: {e}")
    finally:
        for s in servers.values():
            s.stop()
    if opt.micro:
        log("== micro-benchmarks")
        micro = run_micro(opt, rec)

    rows = summarize(rec)
    elapsed = time.time() - start
    os.makedirs(out_dir, exist_ok=True)
    stamp = now.strftime("%Y-%m-%d_%H%M%S")
    png = os.path.join(out_dir, f"{stamp}.png")
    title = f"sluice / redis-server, {info['date']}, {info['nproc']} CPUs, git {info['git']}"
    have_png = chart(rows, png, title.replace("'", ""), workdir)
    md = markdown(info, opt, rows, micro, rec.problems, elapsed,
                  os.path.basename(png) if have_png else None)
    md_path = os.path.join(out_dir, f"{stamp}.md")
    with open(md_path, "w") as f:
        f.write(md)
    with open(os.path.join(out_dir, f"{stamp}.json"), "w") as f:
        json.dump({"info": info, "options": vars(opt), "rows": [
            {k: v for k, v in r.items()} for r in rows], "micro": micro,
            "problems": rec.problems}, f, indent=1)
    # latest.md points at latest.png.
    with open(os.path.join(out_dir, "latest.md"), "w") as f:
        f.write(md.replace(f"]({os.path.basename(png)})", "](latest.png)"))
    if have_png:
        shutil.copyfile(png, os.path.join(out_dir, "latest.png"))
    shutil.rmtree(workdir, ignore_errors=True)
    log("")
    log(md)
    log(f"wrote {os.path.relpath(md_path, ROOT)} and latest.md"
        f"{', latest.png' if have_png else ''} in {os.path.relpath(out_dir, ROOT)}/ "
        f"({elapsed / 60:.1f} min)")
    return 1 if rec.problems else 0


if __name__ == "__main__":
    sys.exit(main())
