#!/usr/bin/env python3
"""Collections: memory per element and command throughput of hashes, sets and sorted sets.

Two sections of `make bench` (bench/run.py) live here:

  collections-memory      A fresh server per row; INFO memory (used_memory,
                          used_memory_rss) before and after loading one data
                          shape through `redis-cli --pipe`, divided by the
                          elements loaded:
                            1M hashes of 5 fields (10-byte fields and values)
                            one hash of 1M fields (10-byte fields and values)
                            one sorted set of 1M members (16 bytes, distinct
                            float scores)
                            one set of 1M 16-byte strings
                            one set of 1M integers
                          Each row has sluice's target for sluice / redis
                          next to it.
  collections-throughput  redis-benchmark at pipeline 16 and at pipeline 1,
                          50 clients: HSET, HGET, SADD, SISMEMBER, SPOP, ZADD,
                          ZRANGEBYSCORE ... LIMIT 0 10 and ZRANK over a
                          1M-member sorted set; requests/s, p99, server CPU
                          per request (utime + stime from /proc/<pid>/stat),
                          and the geometric mean of the pipeline-16 ratios.

A server that answers a command with "ERR unknown command" (sluice before
sorted sets land) gets "n/a (command unsupported)" in that row instead of a
figure; nothing else about the run changes.

Standalone (both sections, one round, quick sizes unless --elements):

    bench/collections_bench.py [--sluice build-release/sluice-server]
                               [--redis /usr/bin/redis-server]
                               [--elements 1000000] [--requests 100000]
"""
import argparse
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

from common import BenchError, SampleLog, Server, log, redis_benchmark, sluice_args_for_bench

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVERS = ("sluice", "redis")
ELEMENTS = 1_000_000
# redis-benchmark requests per pipeline-16 run; unpipelined runs get a fifth. At 100k a
# pipelined run lasted 0.1 s, too short for the 10 ms CPU ticks and for client start-up
# not to weigh in.
REQUESTS = 500_000
BATCH = 100  # elements per HSET/SADD/ZADD of the single-key loads
UNSUPPORTED_TEXT = "n/a (command unsupported)"

# (section, label) -> {server: command that was unknown}; filled during the run,
# read by the report.
UNSUPPORTED = {}
# collections-memory row label -> OBJECT ENCODING per server.
MEMORY_NOTES = {}
TARGETS = {}  # collections-memory row label -> sluice's goal for sluice / redis
ALLOCATORS = {}  # server -> INFO memory's mem_allocator


def order_for_round(r):
    return SERVERS if r % 2 == 0 else tuple(reversed(SERVERS))


def resp(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def human(n):
    return f"{n / 1e6:g}M" if n >= 1_000_000 else f"{n / 1000:g}k"


# ---------------------------------------------------------------------------
# Load files: RESP streams for redis-cli --pipe, one reply per command.

def write_commands(path, commands):
    """Writes the RESP of every command from the iterable `commands` (lists of bytes);
    returns the number of commands (= replies expected)."""
    n = 0
    with open(path + ".part", "wb") as f:
        buf = []
        for cmd in commands:
            buf.append(resp(*cmd))
            n += 1
            if len(buf) >= 20000:
                f.write(b"".join(buf))
                buf = []
        f.write(b"".join(buf))
    os.rename(path + ".part", path)
    with open(path + ".count", "w") as f:
        f.write(str(n))
    return n


def batched(key, verb, items, batch=BATCH):
    """verb key item... commands of `batch` items each (items: lists of bytes args)."""
    cmd = [verb, key]
    for item in items:
        cmd.extend(item)
        if len(cmd) - 2 >= batch * len(item):
            yield cmd
            cmd = [verb, key]
    if len(cmd) > 2:
        yield cmd


def string_member(i):
    return b"member:%09d" % i  # 16 bytes


def int_member(i):
    return b"%d" % (i * 7919)  # distinct integers up to ~8e9 at 1M (int64 range)


def zset_score(i, n):
    # Distinct non-integer scores in a scrambled order (not ascending with the member).
    step = 7919 if math.gcd(7919, n) == 1 else 1
    return b"%d.25" % ((i * step) % n)


def memory_loads(n):
    """The collections-memory rows: (label, element word, target ratio, commands, what the
    server must hold afterwards: (command args, expected integer reply))."""
    hashes = max(1, n)

    def many_hashes():
        for i in range(hashes):
            cmd = [b"HSET", b"hash:%011d" % i]  # 16-byte keys
            for j in range(5):
                # 10-byte fields and values; the values are not integers (a listpack would
                # store a number in fewer bytes).
                cmd += [b"fieldname%d" % j, b"v%09d" % (i * 5 + j)]
            yield cmd

    def big_hash():
        return batched(b"bighash", b"HSET",
                       ([b"f%09d" % i, b"v%09d" % i] for i in range(n)))

    def zset():
        return batched(b"bigzset", b"ZADD", ([zset_score(i, n), string_member(i)]
                                             for i in range(n)))

    def str_set():
        return batched(b"strset", b"SADD", ([string_member(i)] for i in range(n)))

    def int_set():
        return batched(b"intset", b"SADD", ([int_member(i)] for i in range(n)))

    return [
        (f"{human(n)} hashes of 5 fields", "hash", 0.7, many_hashes,
         (["DBSIZE"], n), ["hash:00000000000"]),
        (f"one hash of {human(n)} fields", "field", 0.7, big_hash,
         (["HLEN", "bighash"], n), ["bighash"]),
        (f"one sorted set of {human(n)} members", "member", 0.6, zset,
         (["ZCARD", "bigzset"], n), ["bigzset"]),
        (f"one set of {human(n)} 16-byte strings", "member", 0.7, str_set,
         (["SCARD", "strset"], n), ["strset"]),
        (f"one set of {human(n)} integers", "member", 1.0, int_set,
         (["SCARD", "intset"], n), ["intset"]),
    ]


class Loads:
    """Load files in a work folder, written on first use."""

    def __init__(self, workdir):
        self.workdir = workdir

    def get(self, name, commands):
        path = os.path.join(self.workdir, f"coll-{name}.resp")
        if not os.path.exists(path):
            t0 = time.time()
            count = write_commands(path, commands())
            log(f"generated {os.path.basename(path)} ({count:,} commands, "
                f"{os.path.getsize(path) / 2**20:.0f} MiB, {time.time() - t0:.1f}s)")
        with open(path + ".count") as f:
            return path, int(f.read())


def pipe_load(server, path, expected):
    """redis-cli --pipe of a RESP file. Returns None when every reply was a success, the
    unknown command's name when the server did not know the command (every reply an
    error), and raises on any other failure."""
    with open(path, "rb") as f:
        try:
            r = subprocess.run(["redis-cli", "-p", str(server.port), "--pipe"], stdin=f,
                               capture_output=True, text=True, timeout=600)
        except subprocess.TimeoutExpired:
            raise BenchError(f"{server.kind}: redis-cli --pipe timed out")
    if not server.alive():
        raise BenchError(f"{server.kind} died during load (rc {server.proc.returncode}): "
                         f"{server.log_tail()}")
    out = r.stdout + r.stderr
    summary = [l for l in out.splitlines() if l.startswith("errors: ")]
    summary = summary[-1] if summary else ""
    if f"errors: 0, replies: {expected}" in summary:
        return None
    if "unknown command" in out and f"errors: {expected}, replies: {expected}" in summary:
        return out.split("unknown command '", 1)[1].split("'", 1)[0]
    raise BenchError(f"{server.kind}: redis-cli --pipe {os.path.basename(path)}: "
                     f"{summary or out.strip()[-300:]} {out.strip()[:200]}")


def raw_cli(server, *args, timeout=60):
    """redis-cli's text answer, error replies included (Server.cli raises on those)."""
    try:
        r = subprocess.run(["redis-cli", "-p", str(server.port)] + [str(a) for a in args],
                           capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise BenchError(f"{server.kind}: redis-cli {' '.join(map(str, args))} timed out")
    if not server.alive():
        raise BenchError(f"{server.kind} died on {' '.join(map(str, args))} "
                         f"(rc {server.proc.returncode}): {server.log_tail()}")
    return (r.stdout + r.stderr).strip()


def unknown_command(reply):
    return reply.startswith("ERR unknown command") or reply.startswith("(error) ERR unknown")


def info_memory(server):
    text = server.cli("INFO", "memory")
    fields = {}
    for line in text.splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            fields[k.strip()] = v.strip()
    if "mem_allocator" in fields:
        ALLOCATORS[server.kind] = fields["mem_allocator"]
    try:
        return int(fields["used_memory"]), int(fields["used_memory_rss"])
    except (KeyError, ValueError):
        raise BenchError(f"{server.kind}: INFO memory has no used_memory/used_memory_rss")


def settled_info(server, wait):
    # redis-server refreshes used_memory_rss from its cron (every 100 ms); sluice keeps
    # used_memory exact for small changes and re-reads it on a timer. Wait for both.
    time.sleep(wait)
    return info_memory(server)


# ---------------------------------------------------------------------------
# collections-memory

def run_memory(servers, opt, rec, workdir):
    n = opt.collection_elements
    loads = Loads(workdir)
    rows = memory_loads(n)
    for label, _, target, *_ in rows:
        TARGETS[label] = target
    total = opt.memory_rounds * len(rows) * len(SERVERS)
    step = 0
    for r in range(opt.memory_rounds):
        for label, word, target, commands, (check_cmd, check_want), enc_keys in rows:
            path, count = loads.get(label.replace(" ", "_"), commands)
            for kind in order_for_round(r):
                step += 1
                server = servers[kind]
                try:
                    server.stop()
                    server.start()
                    used0, rss0 = settled_info(server, 0.3)
                    t0 = time.time()
                    unknown = pipe_load(server, path, count)
                    load_s = time.time() - t0
                    if unknown:
                        UNSUPPORTED.setdefault(("collections-memory", label), {})[kind] = unknown
                        log(f"[{step}/{total}] {label:<36} {kind:<6} {UNSUPPORTED_TEXT} "
                            f"({unknown})")
                        continue
                    used1, rss1 = settled_info(server, 1.0)
                    held = int(server.cli(*check_cmd).strip())
                    enc = raw_cli(server, "OBJECT", "ENCODING", enc_keys[0])
                except BenchError as e:
                    rec.problem(f"collections-memory {label}, round {r + 1}: {e}")
                    continue
                finally:
                    server.stop()  # gives the memory back before the next row
                if held != check_want:
                    rec.problem(f"{kind} collections-memory {label}: {' '.join(check_cmd)} "
                                f"answered {held}, expected {check_want}")
                MEMORY_NOTES.setdefault(label, {})[kind] = enc
                used_per = (used1 - used0) / n
                rss_per = (rss1 - rss0) / n
                log(f"[{step}/{total}] {label:<36} {kind:<6} used_memory "
                    f"{used0 / 2**20:.1f} -> {used1 / 2**20:.1f} MiB = {used_per:.1f} B/{word}, "
                    f"RSS {rss0 / 2**20:.1f} -> {rss1 / 2**20:.1f} MiB = {rss_per:.1f} B/{word}"
                    f"  ({enc}; load {load_s:.1f}s)")
                rec.add("collections-memory", label, "used_memory/element", f"B/{word}",
                        "lower", kind, used_per, r)
                rec.add("collections-memory", label, "RSS/element", f"B/{word}", "lower", kind,
                        rss_per, r)
                rec.add("collections-memory", label, "load rate", "elements/s", "higher", kind,
                        n / load_s, r)


# ---------------------------------------------------------------------------
# collections-throughput

# redis-benchmark replaces every __rand_int__ with a 12-digit number below -r.
VALUE = b"x" * 32


def throughput_rows(n):
    """(label, command, keyspace for -r, probe command, needs) per row. `needs`: "popset"
    (refilled before each run) or None; the read rows use keys preloaded once."""
    small = 100_000
    return [
        ("HSET", ["HSET", "myhash", "element:__rand_int__", VALUE.decode()], small,
         ["HSET", "probehash", "f", "v"], None),
        (f"HGET (hash of {human(n)} fields)", ["HGET", "bighash", "element:__rand_int__"], n,
         ["HGET", "bighash", "element:000000000000"], None),
        ("SADD", ["SADD", "myset", "element:__rand_int__"], small,
         ["SADD", "probeset", "m"], None),
        (f"SISMEMBER (set of {human(n)})", ["SISMEMBER", "bigset", "element:__rand_int__"], n,
         ["SISMEMBER", "bigset", "element:000000000000"], None),
        ("SPOP", ["SPOP", "popset"], small, ["SPOP", "probeset"], "popset"),
        ("ZADD", ["ZADD", "myzset", "__rand_int__", "element:__rand_int__"], small,
         ["ZADD", "probezset", "1", "m"], None),
        (f"ZRANGEBYSCORE ... LIMIT 0 10 (zset of {human(n)})",
         ["ZRANGEBYSCORE", "bigzset", "__rand_int__", "+inf", "LIMIT", "0", "10"], n,
         ["ZRANGEBYSCORE", "bigzset", "0", "+inf", "LIMIT", "0", "10"], None),
        (f"ZRANK (zset of {human(n)})", ["ZRANK", "bigzset", "element:__rand_int__"], n,
         ["ZRANK", "bigzset", "element:000000000000"], None),
    ]


LOADS = [("pipeline 16", 16), ("pipeline 1", 1)]


def preload_commands(n):
    """The keys the read rows use: bighash, bigset, bigzset with members element:<12 digits>
    (what __rand_int__ expands to) below n; zset scores equal the member number, so
    ZRANGEBYSCORE <random> +inf LIMIT 0 10 starts at a random rank."""
    def hash_cmds():
        return batched(b"bighash", b"HSET", ([b"element:%012d" % i, b"v%09d" % i]
                                             for i in range(n)))

    def set_cmds():
        return batched(b"bigset", b"SADD", ([b"element:%012d" % i] for i in range(n)))

    def zset_cmds():
        return batched(b"bigzset", b"ZADD", ([b"%d" % i, b"element:%012d" % i]
                                             for i in range(n)))

    return [("preload-bighash", hash_cmds), ("preload-bigset", set_cmds),
            ("preload-bigzset", zset_cmds)]


def popset_commands(size):
    def cmds():
        return batched(b"popset", b"SADD", ([b"pop:%012d" % i] for i in range(size)))
    return cmds


def requests_for(opt, pipeline):
    return opt.collection_requests if pipeline > 1 else max(1, opt.collection_requests // 5)


def run_throughput(servers, opt, rec, workdir):
    n = opt.collection_elements
    loads = Loads(workdir)
    rows = throughput_rows(n)
    preloads = [loads.get(name, cmds) for name, cmds in preload_commands(n)]
    prepared = set()
    unknown = {s: {} for s in SERVERS}  # server -> {row label: command}

    def prepare(server):
        """Starts the server if needed and loads the big keys once per process."""
        if server.alive() and server.proc.pid in prepared:
            return
        if server.proc is not None and not server.alive():
            rec.problem(f"{server.kind} was not running (rc {server.proc.returncode}); "
                        f"restarting. Log: {server.log_tail()}")
            server.proc = None
            if server.kind == "sluice":
                server.port = None
        if not server.alive():
            server.start()
        t0 = time.time()
        for path, count in preloads:
            cmd = pipe_load(server, path, count)
            if cmd:
                log(f"  {server.kind}: preload {os.path.basename(path)}: unknown command {cmd}")
        log(f"  {server.kind}: preloaded bighash, bigset, bigzset ({human(n)} elements each, "
            f"{time.time() - t0:.1f}s)")
        for label, _, _, probe, _ in rows:
            reply = raw_cli(server, *probe)
            if unknown_command(reply):
                unknown[server.kind][label] = UNSUPPORTED_TEXT
                UNSUPPORTED.setdefault(("collections-throughput", label), {})[server.kind] = \
                    probe[0]
            elif reply.startswith(("ERR", "WRONGTYPE", "(error)")):
                # Known but refused (an option not implemented yet, say): a problem, and the
                # row is skipped rather than timing error replies.
                unknown[server.kind][label] = f"skipped: {reply[:60]}"
                rec.problem(f"{server.kind}: {' '.join(probe)} answered {reply[:120]!r}; "
                            f"row {label} skipped")
        raw_cli(server, "DEL", "probehash", "probeset", "probezset")
        prepared.add(server.proc.pid)

    for s in SERVERS:
        servers[s].stop()  # fresh processes: nothing left from earlier sections
    total = opt.rounds * len(LOADS) * len(rows) * len(SERVERS)
    step = 0
    for r in range(opt.rounds):
        for load_label, pipeline in LOADS:
            requests = requests_for(opt, pipeline)
            for label, cmd, keyspace, _, needs in rows:
                for kind in order_for_round(r):
                    step += 1
                    server = servers[kind]
                    full = f"{label}, {load_label}"
                    try:
                        prepare(server)
                        if label in unknown[kind]:
                            log(f"[{step}/{total}] round {r + 1} {full:<52} {kind:<6} "
                                f"{unknown[kind][label]}")
                            continue
                        if needs == "popset":
                            # Twice the requests, so no SPOP of the run finds the set empty.
                            size = 2 * requests
                            server.cli("DEL", "popset")
                            path, count = loads.get(f"popset-{size}", popset_commands(size))
                            pipe_load(server, path, count)
                        res = redis_benchmark(server, cmd, requests, 50, pipeline, keyspace,
                                              opt.bench_threads)
                        if needs == "popset":
                            left = int(server.cli("SCARD", "popset").strip())
                            if left != 2 * requests - requests:
                                rec.problem(f"{kind} {full}: SCARD popset {left} after "
                                            f"{requests:,} SPOPs of {2 * requests:,}")
                    except BenchError as e:
                        rec.problem(f"collections-throughput {full}, round {r + 1}: {e}")
                        continue
                    log(f"[{step}/{total}] round {r + 1} {full:<52} {kind:<6} "
                        f"{res['rps']:>10,.0f} rps  p99 {res['p99']:.3f} ms  "
                        f"cpu {res['cpu_us']:.2f} us/req  ({res['wall']:.1f}s)")
                    if res["errors"]:
                        rec.problem(f"{kind} {full}: redis-benchmark stderr: {res['errors']}")
                    for metric, unit, better, key in (
                            ("rps", "req/s", "higher", "rps"), ("p50", "ms", "lower", "p50"),
                            ("p99", "ms", "lower", "p99"), ("cpu", "us/req", "lower", "cpu_us"),
                            ("user", "us/req", "lower", "user_us")):
                        rec.add("collections-throughput", full, metric, unit, better, kind,
                                res[key], r)
    for s in SERVERS:
        servers[s].stop()


# ---------------------------------------------------------------------------
# Report

def _fmt(v, digits=1):
    return "–" if v is None else f"{v:,.{digits}f}"


def _cell(section, label, kind, value, digits=1, first=True):
    """A figure, or for a server that did not know the command the n/a text (spelled out
    in a row's first column, short in the others)."""
    why = UNSUPPORTED.get((section, label), {})
    if kind in why:
        return UNSUPPORTED_TEXT if first else "n/a"
    return _fmt(value, digits)


def _ratio(section, label, row):
    if UNSUPPORTED.get((section, label)):
        return "n/a"
    return "–" if row is None or row.get("ratio") is None else f"**{row['ratio']:.2f}**"


def memory_table(rows, sec="collections-memory"):
    """Markdown lines for a memory section (rows: run.py's summarized rows)."""
    L = []
    if ALLOCATORS:
        L.append("mem_allocator: " + ", ".join(f"{k} {v}" for k, v in ALLOCATORS.items()) +
                 ".\n")
    by_label = {}
    for r in rows:
        by_label.setdefault(r["label"], {})[r["metric"]] = r
    labels = list(by_label)
    for label in UNSUPPORTED:
        if label[0] == sec and label[1] not in labels:
            labels.append(label[1])
    L += ["| Row | used_memory B/element sluice | redis | ratio | target | met | "
         "RSS B/element sluice | redis | ratio | encoding sluice / redis |",
         "|---|--:|--:|--:|--:|:-:|--:|--:|--:|---|"]
    for label in labels:
        m = by_label.get(label, {})
        used, rss = m.get("used_memory/element"), m.get("RSS/element")
        med = lambda row, k: None if row is None else row["median"][k]
        unit = used["unit"].split("/", 1)[1] if used else "element"
        target = TARGETS.get(label)
        met = ""
        if target is not None and used is not None and used.get("ratio") is not None:
            met = "yes" if used["ratio"] <= target else "**no**"
        notes = MEMORY_NOTES.get(label, {})
        enc = f"{notes.get('sluice', '–')} / {notes.get('redis', '–')}"
        goal = "–" if target is None else f"≤ {target:.1f}x"
        L.append(f"| {label} (per {unit}) | {_cell(sec, label, 'sluice', med(used, 'sluice'))} | "
                 f"{_cell(sec, label, 'redis', med(used, 'redis'))} | {_ratio(sec, label, used)} | "
                 f"{goal} | {met} | "
                 f"{_cell(sec, label, 'sluice', med(rss, 'sluice'), first=False)} | "
                 f"{_cell(sec, label, 'redis', med(rss, 'redis'), first=False)} | {_ratio(sec, label, rss)} | "
                 f"{enc} |")
    L.append("")
    return L


def geomean(values):
    values = [v for v in values if v and v > 0]
    if not values:
        return None
    return math.exp(sum(math.log(v) for v in values) / len(values))


# Marks a throughput row that is a reference point, left out of the geometric mean.
NOT_IN_MEAN = "not in the mean"


def throughput_table(rows, sec="collections-throughput"):
    """Markdown lines for a throughput section (rows labelled "<command>, <load>")."""
    by_label = {}
    for r in rows:
        by_label.setdefault(r["label"], {})[r["metric"]] = r
    labels = list(by_label)
    for key in UNSUPPORTED:
        if key[0] == sec and key[1] not in [l.rsplit(", ", 1)[0] for l in labels]:
            for load_label, _ in LOADS:
                labels.append(f"{key[1]}, {load_label}")
    L = ["| Command, load | rps sluice | rps redis | ratio | (rounds) | p99 ms sluice | redis | "
         "ratio | CPU µs/req sluice | redis | ratio | user µs/req sluice | redis | ratio |",
         "|---|--:|--:|--:|:-:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"]
    p16 = []
    for label in labels:
        base = label.rsplit(", ", 1)[0]
        m = by_label.get(label, {})
        cells = [label]
        for metric, digits in (("rps", 0), ("p99", 3), ("cpu", 2), ("user", 2)):
            row = m.get(metric)
            for kind in SERVERS:
                cells.append(_cell(sec, base, kind,
                                   None if row is None else row["median"][kind], digits,
                                   first=metric == "rps"))
            cells.append(_ratio(sec, base, row))
            if metric == "rps":
                rr = (row or {}).get("round_ratios") or []
                cells.append(f"{min(rr):.2f}–{max(rr):.2f}" if len(rr) > 1 else "")
        L.append("| " + " | ".join(cells) + " |")
        rps = m.get("rps")
        if label.endswith("pipeline 16") and rps is not None and rps.get("ratio") is not None \
                and not UNSUPPORTED.get((sec, base)) and NOT_IN_MEAN not in base:
            p16.append((base, rps["ratio"]))
    L.append("")
    g = geomean([x for _, x in p16])
    if g is not None:
        under = [f"{b} ({x:.2f}x)" for b, x in p16 if x < 1.0]
        skipped = [k[1] for k in UNSUPPORTED if k[0] == sec]
        L.append(f"Geometric mean of the pipeline-16 requests/s ratios (sluice / redis): "
                 f"**{g:.2f}x** over {len(p16)} rows (target ≥ 1.3x: "
                 f"{'met' if g >= 1.3 else '**not met**'}); rows under 1.0x: "
                 f"{', '.join(under) if under else 'none'}"
                 f"{'; left out as unsupported: ' + ', '.join(skipped) if skipped else ''}.\n")
    return L


MEMORY_INTRO = (
    "A fresh server per row and per server; the row's data loaded through "
    "`redis-cli --pipe` (HSET of 5 field/value pairs per hash; HSET, ZADD or SADD of {batch} "
    "elements per command for the single-key rows); used_memory and used_memory_rss from "
    "`INFO memory` before and after the load (1 s after, so both servers have refreshed RSS), "
    "difference divided by the elements (per hash in the first row, since each hash is one "
    "element there). 16-byte keys; hash fields and values 10 bytes (values not "
    "integer-like); zset and string-set members 16 bytes, zset scores distinct non-integer "
    "floats in scrambled order; integers i·7919 (up to ~8e9). Default encodings on both "
    "(128-entry listpacks, 512-entry intsets), so only the 5-field hashes are packed. Lower "
    "is better; the target is sluice's goal for sluice / redis for used_memory.")

THROUGHPUT_INTRO = (
    "redis-benchmark, 50 clients, {requests:,} requests at pipeline 16 and {requests1:,} at "
    "pipeline 1, custom-command form with `__rand_int__` (a 12-digit number below `-r`). "
    "HSET, SADD, ZADD write random members (`-r 100000`) into one key each (myhash, myset, "
    "myzset) that grows over the rounds; HGET, SISMEMBER, ZRANGEBYSCORE "
    "(`bigzset <rand> +inf LIMIT 0 10`) and ZRANK read random members of keys of {n} "
    "elements preloaded once per server process (`-r {n_raw}`, every read hits); SPOP pops "
    "from a set refilled to twice the run's requests before every run. CPU = server "
    "utime+stime per request from /proc/<pid>/stat (10 ms ticks); user = utime alone. "
    "\"n/a (command unsupported)\": the server answered ERR unknown command.")


# ---------------------------------------------------------------------------

def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sluice", default=os.path.join(ROOT, "build-release", "sluice-server"))
    p.add_argument("--redis", default=shutil.which("redis-server") or "redis-server")
    p.add_argument("--elements", type=int, default=100_000)
    p.add_argument("--requests", type=int, default=20_000)
    p.add_argument("--sections", default="collections-memory,collections-throughput")
    opt = p.parse_args()
    opt.collection_elements = opt.elements
    opt.collection_requests = opt.requests
    opt.memory_rounds = opt.rounds = 1
    opt.bench_threads = 0

    workdir = tempfile.mkdtemp(prefix="sluice-coll-")
    rec = SampleLog()
    servers = {"sluice": Server("sluice", opt.sluice, workdir, sluice_args_for_bench()),
               "redis": Server("redis", opt.redis, workdir, [])}
    try:
        if "collections-memory" in opt.sections:
            run_memory(servers, opt, rec, workdir)
        if "collections-throughput" in opt.sections:
            run_throughput(servers, opt, rec, workdir)
    finally:
        for s in servers.values():
            s.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    log("(bench/run.py --sections collections-memory,collections-throughput writes the "
        "report with ratios and medians)")
    return 1 if rec.problems else 0


if __name__ == "__main__":
    sys.exit(main())
