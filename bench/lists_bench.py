#!/usr/bin/env python3
"""Lists: command throughput, memory per element and blocking-pop wake-up latency.

Three sections of `make bench` (bench/run.py) live here:

  lists-throughput  redis-benchmark at pipeline 16 and at pipeline 1, 50 clients:
                    LPUSH, RPUSH, LPOP, RPOP, LRANGE 0 99 and LRANGE 0 599 of a
                    600-element list (redis-benchmark's LRANGE_100 / LRANGE_600);
                    requests/s, p99, server CPU per request, and the geometric
                    mean of the pipeline-16 ratios.
  lists-memory      a fresh server; used_memory and RSS per element after RPUSHing
                    1M 10-byte strings into one list through `redis-cli --pipe`.
  lists-wakeup      100 consumers block in BRPOP on one list, each on its own
                    connection; a producer LPUSHes one element (its send time) every
                    millisecond; push-to-delivery latency p50 / p99 / max, measured in
                    one single-threaded event loop so both servers see the same client.

A server that answers a command with "ERR unknown command" gets
"n/a (command unsupported)" in that row.

Standalone (quick sizes unless given):

    bench/lists_bench.py [--sluice build-release/sluice-server] [--redis /usr/bin/redis-server]
                         [--requests 20000] [--elements 1000000]
                         [--sections lists-throughput,lists-memory,lists-wakeup]
"""
import argparse
import os
import random
import selectors
import shutil
import socket
import statistics
import sys
import tempfile
import time

import collections_bench as cb
from common import BenchError, Server, log, redis_benchmark, sluice_args_for_bench

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVERS = cb.SERVERS
ELEMENTS = 1_000_000
REQUESTS = 200_000
VALUE = "v" * 10  # the pushed value: 10 bytes, not integer-like
RANGE_LEN = 600   # as redis-benchmark's LRANGE tests
CONSUMERS = 100
PUSHES = 3000
PUSH_INTERVAL_S = 0.001
SECTIONS = ("lists-throughput", "lists-memory", "lists-wakeup")

LOADS = [("pipeline 16", 16), ("pipeline 1", 1)]
REFERENCE_LABEL = "PING (reference, " + cb.NOT_IN_MEAN + ")"


def throughput_rows():
    """(label, command, needs): needs "poplist" (refilled before each run) or "rangelist"
    (a 600-element list loaded once per server process) or None."""
    return [
        ("LPUSH", ["LPUSH", "pushlist", VALUE], None),
        ("RPUSH", ["RPUSH", "pushlist", VALUE], None),
        ("LPOP", ["LPOP", "poplist"], "poplist"),
        ("RPOP", ["RPOP", "poplist"], "poplist"),
        ("LRANGE_100 (first 100 of 600)", ["LRANGE", "rangelist", "0", "99"], "rangelist"),
        ("LRANGE_600 (all 600)", ["LRANGE", "rangelist", "0", "599"], "rangelist"),
        # What redis-benchmark itself can drive on this machine: the server does
        # next to nothing, so the rate is the client's (or the link's) ceiling.
        (REFERENCE_LABEL, ["PING"], None),
    ]


def requests_for(opt, pipeline):
    return opt.list_requests if pipeline > 1 else max(1, opt.list_requests // 5)


def fill_commands(key, n):
    def cmds():
        return cb.batched(key.encode(), b"RPUSH", ([b"e%09d" % i] for i in range(n)))
    return cmds


def run_throughput(servers, opt, rec, workdir):
    sec = "lists-throughput"
    loads = cb.Loads(workdir)
    rows = throughput_rows()
    prepared = set()
    unknown = {s: {} for s in SERVERS}

    def prepare(server):
        if server.alive() and server.proc.pid in prepared:
            return
        if not server.alive():
            server.proc = None
            if server.kind == "sluice":
                server.port = None
            server.start()
        path, count = loads.get(f"rangelist-{RANGE_LEN}", fill_commands("rangelist", RANGE_LEN))
        cb.pipe_load(server, path, count)
        for label, cmd, _ in rows:
            reply = cb.raw_cli(server, cmd[0], "probelist", *cmd[2:])
            if cb.unknown_command(reply):
                unknown[server.kind][label] = cb.UNSUPPORTED_TEXT
                cb.UNSUPPORTED.setdefault((sec, label), {})[server.kind] = cmd[0]
        cb.raw_cli(server, "DEL", "probelist")
        prepared.add(server.proc.pid)

    for s in SERVERS:
        servers[s].stop()
    total = opt.rounds * len(LOADS) * len(rows) * len(SERVERS)
    step = 0
    for r in range(opt.rounds):
        for load_label, pipeline in LOADS:
            requests = requests_for(opt, pipeline)
            for label, cmd, needs in rows:
                for kind in cb.order_for_round(r):
                    step += 1
                    server = servers[kind]
                    full = f"{label}, {load_label}"
                    try:
                        prepare(server)
                        if label in unknown[kind]:
                            log(f"[{step}/{total}] round {r + 1} {full:<44} {kind:<6} "
                                f"{unknown[kind][label]}")
                            continue
                        if needs == "poplist":
                            # Twice the requests, so no pop of the run finds the list empty.
                            size = 2 * requests
                            server.cli("DEL", "poplist")
                            path, count = loads.get(f"poplist-{size}",
                                                    fill_commands("poplist", size))
                            cb.pipe_load(server, path, count)
                        res = redis_benchmark(server, cmd, requests, 50, pipeline, 1,
                                              opt.bench_threads)
                        if needs == "poplist":
                            left = int(server.cli("LLEN", "poplist").strip())
                            if left != requests:
                                rec.problem(f"{kind} {full}: LLEN poplist {left} after "
                                            f"{requests:,} pops of {2 * requests:,}")
                        if label.startswith("LPUSH") or label.startswith("RPUSH"):
                            server.cli("DEL", "pushlist")
                    except BenchError as e:
                        rec.problem(f"{sec} {full}, round {r + 1}: {e}")
                        continue
                    log(f"[{step}/{total}] round {r + 1} {full:<44} {kind:<6} "
                        f"{res['rps']:>10,.0f} rps  p99 {res['p99']:.3f} ms  "
                        f"cpu {res['cpu_us']:.2f} us/req  ({res['wall']:.1f}s)")
                    if res["errors"]:
                        rec.problem(f"{kind} {full}: redis-benchmark stderr: {res['errors']}")
                    for metric, unit, better, key in (
                            ("rps", "req/s", "higher", "rps"), ("p50", "ms", "lower", "p50"),
                            ("p99", "ms", "lower", "p99"), ("cpu", "us/req", "lower", "cpu_us"),
                            ("user", "us/req", "lower", "user_us")):
                        rec.add(sec, full, metric, unit, better, kind, res[key], r)
    for s in SERVERS:
        servers[s].stop()


def memory_rows(n):
    """(label, element generator): 10-byte strings with a common prefix (job ids, counters
    in text), and random ones from a 62-letter alphabet (tokens), which LZF cannot shrink."""
    def sequential():
        return ([b"v%09d" % i] for i in range(n))

    def random_tokens():
        rng = random.Random(42)
        alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
        return ([bytes(rng.choice(alphabet) for _ in range(10))] for _ in range(n))

    return [(f"one list of {cb.human(n)} 10-byte strings (v + 9 digits)", "seq", sequential),
            (f"one list of {cb.human(n)} random 10-byte tokens", "rand", random_tokens)]


def run_memory(servers, opt, rec, workdir):
    sec = "lists-memory"
    n = opt.list_elements
    loads = cb.Loads(workdir)
    for label, name, gen in memory_rows(n):
        cb.TARGETS[label] = 0.8
        path, count = loads.get(f"biglist-{name}-{n}",
                                lambda gen=gen: cb.batched(b"biglist", b"RPUSH", gen()))
        for r in range(opt.memory_rounds):
            for kind in cb.order_for_round(r):
                server = servers[kind]
                try:
                    server.stop()
                    server.start()
                    used0, rss0 = cb.settled_info(server, 0.3)
                    t0 = time.time()
                    unknown = cb.pipe_load(server, path, count)
                    load_s = time.time() - t0
                    if unknown:
                        cb.UNSUPPORTED.setdefault((sec, label), {})[kind] = unknown
                        continue
                    used1, rss1 = cb.settled_info(server, 1.0)
                    held = int(server.cli("LLEN", "biglist").strip())
                    enc = cb.raw_cli(server, "OBJECT", "ENCODING", "biglist")
                except BenchError as e:
                    rec.problem(f"{sec}, round {r + 1}: {e}")
                    continue
                finally:
                    server.stop()
                if held != n:
                    rec.problem(f"{kind} {sec}: LLEN biglist {held}, expected {n}")
                cb.MEMORY_NOTES.setdefault(label, {})[kind] = enc
                used_per = (used1 - used0) / n
                rss_per = (rss1 - rss0) / n
                log(f"{label:<52} {kind:<6} used_memory {used_per:.2f} B/element, RSS "
                    f"{rss_per:.2f} B/element ({enc}; load {load_s:.1f}s)")
                rec.add(sec, label, "used_memory/element", "B/element", "lower", kind, used_per,
                        r)
                rec.add(sec, label, "RSS/element", "B/element", "lower", kind, rss_per, r)
                rec.add(sec, label, "load rate", "elements/s", "higher", kind, n / load_s, r)


# ---------------------------------------------------------------------------
# lists-wakeup: one event loop drives 100 blocked consumers and the producer.

def _cmd(*args):
    return cb.resp(*[a if isinstance(a, bytes) else str(a).encode() for a in args])


class _Conn:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def request(self, *args):
        """A blocking round trip (setup only); returns the first reply line."""
        self.sock.sendall(_cmd(*args))
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise BenchError("connection closed")
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line.decode(errors="replace")

    def take_brpop_reply(self):
        """An element out of a complete BRPOP reply in the buffer, or None."""
        # *2\r\n$4\r\nlist\r\n$N\r\n<payload>\r\n
        parts = self.buf.split(b"\r\n", 5)
        if len(parts) < 6:
            return None
        if not parts[0].startswith(b"*2"):
            raise BenchError(f"unexpected BRPOP reply {self.buf[:80]!r}")
        self.buf = parts[5]
        return parts[4]


def wakeup_once(server, pushes):
    """Returns push-to-delivery latencies in ms, or the unknown command's error."""
    producer = _Conn(server.port)
    producer.request("DEL", "wakelist")
    probe = producer.request("BRPOP", "wakeprobe", "0.01")
    if probe.startswith("-ERR unknown command"):
        producer.sock.close()
        return probe
    consumers = [_Conn(server.port) for _ in range(CONSUMERS)]
    sel = selectors.DefaultSelector()
    for c in consumers:
        c.sock.setblocking(False)
        c.sock.sendall(_cmd("BRPOP", "wakelist", "0"))
        sel.register(c.sock, selectors.EVENT_READ, c)
    # Wait until every consumer is blocked (INFO clients: blocked_clients).
    deadline = time.time() + 10
    while True:
        producer.sock.sendall(_cmd("INFO", "clients"))
        info = b""
        while b"blocked_clients" not in info or not info.endswith(b"\r\n\r\n"):
            chunk = producer.sock.recv(65536)
            if not chunk:
                raise BenchError("producer connection closed")
            info += chunk
            if info.count(b"\r\n") > 2 and info.endswith(b"\r\n") and b"blocked_clients" in info:
                break
        blocked = [l for l in info.split(b"\r\n") if l.startswith(b"blocked_clients:")]
        if blocked and int(blocked[0].split(b":")[1]) >= CONSUMERS:
            break
        if time.time() > deadline:
            raise BenchError(f"only {blocked} of {CONSUMERS} consumers blocked after 10 s")
        time.sleep(0.05)
    producer.buf = b""
    latencies = []
    sent = 0
    next_push = time.perf_counter()
    end = time.time() + max(30.0, pushes * PUSH_INTERVAL_S * 10)
    while len(latencies) < pushes:
        now = time.perf_counter()
        if sent < pushes and now >= next_push:
            producer.sock.sendall(_cmd("LPUSH", "wakelist", b"%d" % time.perf_counter_ns()))
            sent += 1
            next_push += PUSH_INTERVAL_S
        timeout = max(0.0, next_push - time.perf_counter()) if sent < pushes else 0.2
        for key, _ in sel.select(timeout):
            c = key.data
            try:
                chunk = c.sock.recv(65536)
            except BlockingIOError:
                continue
            if not chunk:
                raise BenchError("a consumer's connection closed")
            c.buf += chunk
            while True:
                elem = c.take_brpop_reply()
                if elem is None:
                    break
                latencies.append((time.perf_counter_ns() - int(elem)) / 1e6)
                c.sock.sendall(_cmd("BRPOP", "wakelist", "0"))
        # The producer's LPUSH replies are read and dropped.
        try:
            producer.sock.setblocking(False)
            while producer.sock.recv(65536):
                pass
        except BlockingIOError:
            pass
        finally:
            producer.sock.setblocking(True)
        if time.time() > end:
            raise BenchError(f"only {len(latencies)} of {pushes} pushes delivered")
    for c in consumers:
        sel.unregister(c.sock)
        c.sock.close()
    producer.sock.close()
    return latencies


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def run_wakeup(servers, opt, rec):
    sec = "lists-wakeup"
    label = f"BRPOP wake-up, {CONSUMERS} consumers, 1 LPUSH/ms"
    for s in SERVERS:
        servers[s].stop()
    for r in range(opt.rounds):
        for kind in cb.order_for_round(r):
            server = servers[kind]
            try:
                if not server.alive():
                    server.proc = None
                    if server.kind == "sluice":
                        server.port = None
                    server.start()
                lat = wakeup_once(server, opt.list_pushes)
            except (BenchError, OSError) as e:
                rec.problem(f"{sec}, round {r + 1}, {kind}: {e}")
                continue
            if isinstance(lat, str):
                cb.UNSUPPORTED.setdefault((sec, label), {})[kind] = "BRPOP"
                log(f"{label} {kind}: {cb.UNSUPPORTED_TEXT}")
                continue
            p50, p99, mx = pct(lat, 50), pct(lat, 99), max(lat)
            log(f"round {r + 1} {label} {kind:<6} p50 {p50:.3f} ms  p99 {p99:.3f} ms  "
                f"max {mx:.3f} ms ({len(lat)} deliveries)")
            rec.add(sec, label, "p50", "ms", "lower", kind, p50, r)
            rec.add(sec, label, "p99", "ms", "lower", kind, p99, r)
            rec.add(sec, label, "max", "ms", "lower", kind, mx, r)
    for s in SERVERS:
        servers[s].stop()


# ---------------------------------------------------------------------------
# Report

def throughput_table(rows):
    return cb.throughput_table(rows, "lists-throughput")


THROUGHPUT_INTRO = (
    "redis-benchmark, 50 clients, {requests:,} requests at pipeline 16 and {requests1:,} at "
    "pipeline 1, custom-command form. LPUSH and RPUSH push a 10-byte value onto one list "
    "(deleted after each run); LPOP and RPOP pop from a list refilled to twice the run's "
    "requests before every run (10-byte elements); LRANGE reads the first 100 and all "
    "600 elements of a 600-element list, as redis-benchmark's LRANGE_100 and LRANGE_600. "
    "CPU = server utime+stime per request from /proc/<pid>/stat. PING is a reference row, "
    "not in the mean: the server does next to nothing, so its rate is what one "
    "redis-benchmark thread can drive here; a row whose rates are near it on both servers "
    "measures the client. Target: geometric mean of the pipeline-16 ratios at least 1.3x.")

MEMORY_INTRO = (
    "A fresh server per row, round and server; RPUSH of {n} 10-byte strings into one list "
    "through `redis-cli --pipe`, 100 per command: `v` and 9 digits (not integer-like; a "
    "shared prefix, as ids and counters in text have), and random tokens over a 62-letter "
    "alphabet; used_memory and used_memory_rss from INFO memory before and after (1 s "
    "after), divided by the elements. Default settings on both: `list-max-listpack-size "
    "-2`; `list-compress-depth` is 1 on sluice (interior nodes compressed: LZF, or zstd "
    "where LZF saves under a quarter) and 0 on "
    "redis (its default, no compression). Target for sluice / redis used_memory: 0.8x.")

WAKEUP_INTRO = (
    "{consumers} consumers each block in `BRPOP wakelist 0` on their own connection; a "
    "producer on another connection LPUSHes its send time (a monotonic nanosecond clock) "
    "every millisecond, {pushes:,} times per round; each consumer records receive time "
    "minus send time and blocks again. One single-threaded client event loop (Python "
    "selectors) drives all connections for both servers. Target: p50 and p99 at most "
    "redis's.")


def memory_table(rows):
    return cb.memory_table(rows, "lists-memory")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sluice", default=os.path.join(ROOT, "build-release", "sluice-server"))
    p.add_argument("--redis", default=shutil.which("redis-server") or "redis-server")
    p.add_argument("--elements", type=int, default=ELEMENTS)
    p.add_argument("--requests", type=int, default=20_000)
    p.add_argument("--pushes", type=int, default=1000)
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--sections", default=",".join(SECTIONS))
    opt = p.parse_args()
    opt.list_elements = opt.elements
    opt.list_requests = opt.requests
    opt.list_pushes = opt.pushes
    opt.memory_rounds = 1
    opt.bench_threads = 0

    class Rec:
        def __init__(self):
            self.problems = []

        def add(self, section, label, metric, unit, better, server, value, rnd, ratio=True):
            pass

        def problem(self, msg):
            log(f"  !! {msg}")
            self.problems.append(msg)

    workdir = tempfile.mkdtemp(prefix="sluice-lists-")
    rec = Rec()
    servers = {"sluice": Server("sluice", opt.sluice, workdir, sluice_args_for_bench()),
               "redis": Server("redis", opt.redis, workdir, [])}
    try:
        if "lists-throughput" in opt.sections:
            run_throughput(servers, opt, rec, workdir)
        if "lists-memory" in opt.sections:
            run_memory(servers, opt, rec, workdir)
        if "lists-wakeup" in opt.sections:
            run_wakeup(servers, opt, rec)
    finally:
        for s in servers.values():
            s.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    log("(bench/run.py --sections lists-throughput,lists-memory,lists-wakeup writes the "
        "report with ratios and medians)")
    return 1 if rec.problems else 0


if __name__ == "__main__":
    sys.exit(main())
