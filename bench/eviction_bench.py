#!/usr/bin/env python3
"""Eviction: hit ratio of a cache-aside replay at a fixed maxmemory.

A cache in front of a database, as an application uses one: for each request
GET the key; on a miss "fetch from the database" and SET the key (a 100-byte
value). Requests go in pipelined batches of BATCH GETs, then the batch's SETs,
like a busy application server. Both servers get the same trace with the same
maxmemory and policy, from empty.

Traces (a fixed seed, so every server and policy sees the same requests):
  zipf  REQUESTS requests over a UNIVERSE-key universe, Zipf alpha 0.99, ranks
        mapped to key names in a shuffled order (hot keys are not adjacent).
  scan  the same Zipf stream with SCAN_SHARE of the requests replaced by
        one-time keys in sequence (scan:0, scan:1, ...), never read again:
        a batch job or crawler polluting the cache.

Reported per (trace, maxmemory, server, policy): hit ratio (hits / GETs),
keys held at the end, evicted keys, used_memory / maxmemory and RSS growth
(RSS at the end minus RSS of the empty server) / maxmemory.

`make bench` runs this as its "eviction" section (bench/run.py); standalone:

    bench/eviction_bench.py [--sluice build-release/sluice-server]
                            [--redis /usr/bin/redis-server] [--requests N]
"""
import argparse
import bisect
import os
import random
import shutil
import socket
import sys
import tempfile
import time

from common import BenchError, Server, log, sluice_args_for_bench

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
UNIVERSE = 2_000_000
REQUESTS = 2_000_000
ALPHA = 0.99
SCAN_SHARE = 0.2
VALUE = b"v" * 100
BATCH = 100
SLUICE_POLICIES = ("allkeys-lru", "allkeys-lfu", "allkeys-random", "allkeys-s3fifo")
REDIS_POLICIES = ("allkeys-lru", "allkeys-lfu")

_GET = b"*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n"


def set_template(value):
    return b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$" + b"%d\r\n" % len(value) + value + b"\r\n"


_SET = set_template(VALUE)


def make_trace(kind, requests=REQUESTS, universe=UNIVERSE, seed=1):
    """The list of keys (bytes) the replay requests, in order."""
    rng = random.Random(seed)
    cdf = []
    total = 0.0
    for i in range(universe):
        total += 1.0 / (i + 1) ** ALPHA
        cdf.append(total)
    names = list(range(universe))
    rng.shuffle(names)
    scan_rng = random.Random(seed + 1)
    out = []
    seq = 0
    for _ in range(requests):
        if kind == "scan" and scan_rng.random() < SCAN_SHARE:
            out.append(b"scan:%d" % seq)
            seq += 1
            continue
        rank = bisect.bisect_left(cdf, rng.random() * total)
        out.append(b"key:%d" % names[min(rank, universe - 1)])
    return out


class Conn:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=60)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.pos = 0

    def close(self):
        self.sock.close()

    def _fill(self):
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise BenchError("server closed the connection")
        if self.pos > (1 << 20):
            del self.buf[:self.pos]
            self.pos = 0
        self.buf += chunk

    def _line_end(self):
        while True:
            i = self.buf.find(b"\r\n", self.pos)
            if i >= 0:
                return i
            self._fill()

    def read_gets(self, n):
        """Reads n GET replies; returns a list of hit booleans."""
        hits = []
        for _ in range(n):
            end = self._line_end()
            head = bytes(self.buf[self.pos:end])
            if head[:1] != b"$":
                raise BenchError(f"unexpected GET reply {head[:80]!r}")
            length = int(head[1:])
            if length < 0:
                self.pos = end + 2
                hits.append(False)
                continue
            need = end + 2 + length + 2
            while len(self.buf) < need:
                self._fill()
            self.pos = need
            hits.append(True)
        return hits

    def read_simple(self, n):
        """Reads n one-line replies; returns how many were errors."""
        errors = 0
        for _ in range(n):
            end = self._line_end()
            if self.buf[self.pos:self.pos + 1] == b"-":
                errors += 1
            self.pos = end + 2
        return errors


def replay(port, trace, set_cmd=_SET):
    """Runs the cache-aside replay; returns (hits, gets, set errors)."""
    conn = Conn(port)
    hits = 0
    set_errors = 0
    try:
        for start in range(0, len(trace), BATCH):
            keys = trace[start:start + BATCH]
            conn.sock.sendall(b"".join(_GET % (len(k), k) for k in keys))
            got = conn.read_gets(len(keys))
            misses = [k for k, h in zip(keys, got) if not h]
            hits += len(keys) - len(misses)
            if misses:
                conn.sock.sendall(b"".join(set_cmd % (len(k), k) for k in misses))
                set_errors += conn.read_simple(len(misses))
    finally:
        conn.close()
    return hits, len(trace), set_errors


def info(server):
    out = {}
    for line in server.cli("INFO").splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            out[k] = v.strip()
    return out


def measure(server, trace, maxmemory, policy, value=VALUE):
    """One replay on a fresh `server` (started here, left running); returns a dict."""
    server.stop()
    server.start()
    rss0 = server.rss_kb() * 1024
    server.cli("CONFIG", "SET", "maxmemory-policy", policy)
    server.cli("CONFIG", "SET", "maxmemory", str(maxmemory))
    t0 = time.time()
    hits, gets, set_errors = replay(server.port, trace, set_template(value))
    elapsed = time.time() - t0
    i = info(server)
    rss = server.rss_kb() * 1024
    return {
        "hit_ratio": hits / gets,
        "keys": server.dbsize(),
        "evicted": int(i.get("evicted_keys", 0)),
        "used_ratio": int(i["used_memory"]) / maxmemory,
        "rss_growth_ratio": (rss - rss0) / maxmemory,
        "set_errors": set_errors,
        "seconds": elapsed,
    }


def describe(kind, policy, res):
    return (f"{kind:<6} {policy:<15} hit {res['hit_ratio']:.4f}  keys {res['keys']:>8,}  "
            f"evicted {res['evicted']:>9,}  used/max {res['used_ratio']:.3f}  "
            f"rss growth/max {res['rss_growth_ratio']:.3f}  ({res['seconds']:.0f} s)")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sluice", default=os.path.join(ROOT, "build-release", "sluice-server"))
    p.add_argument("--redis", default=shutil.which("redis-server") or "redis-server")
    p.add_argument("--requests", type=int, default=REQUESTS)
    p.add_argument("--maxmemory-mb", default="16,64")
    p.add_argument("--traces", default="zipf,scan")
    p.add_argument("--value-size", type=int, default=len(VALUE),
                   help="bytes per cached value (100)")
    opt = p.parse_args()
    workdir = tempfile.mkdtemp(prefix="sluice-eviction-")
    servers = {"sluice": Server("sluice", opt.sluice, workdir, sluice_args_for_bench()),
               "redis": Server("redis", opt.redis, workdir, [])}
    try:
        for trace_kind in opt.traces.split(","):
            trace = make_trace(trace_kind, opt.requests)
            for mb in (int(x) for x in opt.maxmemory_mb.split(",")):
                log(f"--- {trace_kind} trace, maxmemory {mb} MiB")
                for kind, policies in (("sluice", SLUICE_POLICIES), ("redis", REDIS_POLICIES)):
                    for policy in policies:
                        res = measure(servers[kind], trace, mb << 20, policy,
                                      b"v" * opt.value_size)
                        log(describe(kind, policy, res))
                        servers[kind].stop()
    finally:
        for s in servers.values():
            s.stop()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
