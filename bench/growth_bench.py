#!/usr/bin/env python3
"""Growth latency: GET latency while one client loads millions of keys.

One client loads N keys (16-byte keys key:<12 digits>, 16-byte values) into
database 0 as fast as the server takes them: MSET commands of 100 pairs from a
pre-generated file, streamed by `redis-cli --pipe` (which keeps the socket
full and counts the replies). Meanwhile another client, on its own
connection, sends GETs of random keys paced at --rate per second (5k by
default) and records each one's latency from sending the command to reading
the whole reply. The pacing is open-loop: a GET goes out on schedule even when
earlier ones are still unanswered, so a stall shows in every GET it delays. The
table is built from the GETs sent while the load ran: max, p99.9, p99, how
many there were, and the load time.

What this shows is the cost of the key table growing under a live load: the
server's table doubles many times on the way to N keys (in sluice each of the
32 shards of the database grows on its own). A server that rehashed a whole
table at once would stall every GET for the duration.

The pacer waits in select() between GETs (no spinning, which would take a core
from the servers on a small machine); the achieved rate is reported. A GET that
waits behind the loader's batch in the server's event loop measures that wait
too, on both servers alike.

`make bench` runs this as its "growth" section (bench/run.py, --growth-keys,
1M under --quick); standalone:

    bench/growth_bench.py [--sluice build-release/sluice-server]
                          [--redis /usr/bin/redis-server] [--keys 20000000]
"""
import argparse
import collections
import os
import random
import selectors
import shutil
import socket
import subprocess
import sys
import tempfile
import time

from common import BenchError, Server, log, sluice_args_for_bench

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BATCH = 100  # key/value pairs per MSET
KEY_FMT = b"key:%012d"  # 16 bytes
PAIR = b"$16\r\nkey:%012d\r\n$16\r\nval:%012d\r\n"  # 16-byte key, 16-byte value


def mset_commands(count):
    return (count + BATCH - 1) // BATCH


def write_mset_file(path, count):
    """A RESP stream of MSETs of BATCH pairs loading keys 0 .. count-1."""
    if os.path.exists(path):
        return path
    chunk = BATCH * 2000
    with open(path + ".part", "wb") as f:
        for start in range(0, count, chunk):
            parts = []
            for first in range(start, min(start + chunk, count), BATCH):
                n = min(BATCH, count - first)
                parts.append(b"*%d\r\n$4\r\nMSET\r\n" % (2 * n + 1))
                parts.extend([PAIR % (i, i) for i in range(first, first + n)])
            f.write(b"".join(parts))
    os.rename(path + ".part", path)
    return path


def reply_length(buf, pos):
    """Length of the bulk-string or nil reply (what GET answers) at buf[pos:], or 0 when it
    is not complete yet."""
    end = buf.find(b"\r\n", pos)
    if end < 0:
        return 0
    if buf[pos:pos + 1] != b"$":
        raise BenchError(f"unexpected GET reply {bytes(buf[pos:pos + 40])!r}")
    n = int(buf[pos + 1:end])
    total = end + 2 - pos + (n + 2 if n >= 0 else 0)
    return total if len(buf) - pos >= total else 0


def percentile(sorted_values, q):
    if not sorted_values:
        return None
    i = min(len(sorted_values) - 1, int(q * len(sorted_values)))
    return sorted_values[i]


def loadavg():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def measure(port, path, count, rate, seed=1, timeout=900):
    """Loads the file through redis-cli --pipe while pacing GETs at `rate`.

    The GETs are open-loop: each goes out at its scheduled time whether or not
    the previous one has been answered (replies come back in order on the one
    connection), so a stall delays every GET scheduled during it instead of
    just the one in flight. One thread multiplexes sending and reading.

    Returns {"load_s", "gets", "rate", "max_us", "p999_us", "p99_us", "load_avg"}.
    """
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ)
    rng = random.Random(seed)
    sent = collections.deque()  # send times (ns) of GETs not answered yet
    lat_ns = []
    buf = bytearray()
    interval = 1.0 / rate

    def read_replies():
        nonlocal buf
        try:
            data = sock.recv(1 << 16)
        except BlockingIOError:
            return
        if not data:
            raise BenchError("connection closed during the paced GETs")
        now = time.perf_counter_ns()
        buf += data
        pos = 0
        while sent:
            n = reply_length(buf, pos)
            if n == 0:
                break
            pos += n
            lat_ns.append(now - sent.popleft())
        del buf[:pos]

    with open(path, "rb") as f:
        t_start = time.perf_counter()
        loader = subprocess.Popen(["redis-cli", "-p", str(port), "--pipe"], stdin=f,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        next_t = t_start
        try:
            while loader.poll() is None:
                now = time.perf_counter()
                if now - t_start > timeout:
                    raise BenchError(f"load did not finish within {timeout}s")
                if next_t > now:
                    if sel.select(next_t - now):
                        read_replies()
                    continue
                if now - next_t > 0.05:
                    next_t = now  # the pacer itself was held up: no burst to catch up
                cmd = b"*2\r\n$3\r\nGET\r\n$16\r\n%s\r\n" % (KEY_FMT % rng.randrange(count))
                sent.append(time.perf_counter_ns())
                sock.sendall(cmd)  # 35 bytes: the socket buffer takes it
                next_t += interval
            load_s = time.perf_counter() - t_start
            # The replies to GETs sent during the load.
            deadline = time.perf_counter() + 30
            while sent and time.perf_counter() < deadline:
                if sel.select(1.0):
                    read_replies()
            if sent:
                raise BenchError(f"{len(sent)} GETs unanswered 30 s after the load")
        finally:
            if loader.poll() is None:
                loader.kill()
            out, err = loader.communicate()
            sel.close()
            sock.close()
    summary = out.strip().splitlines()[-1] if out.strip() else ""
    expected = mset_commands(count)
    if loader.returncode != 0 or f"errors: 0, replies: {expected}" not in summary:
        raise BenchError(f"redis-cli --pipe: {summary or err.strip()}")
    lat_ns.sort()
    us = [x / 1000 for x in lat_ns]
    return {
        "load_s": load_s,
        "gets": len(us),
        "rate": len(us) / load_s,
        "max_us": us[-1] if us else None,
        "p999_us": percentile(us, 0.999),
        "p99_us": percentile(us, 0.99),
        "load_avg": loadavg(),
    }


def describe(kind, res, count):
    return (f"{kind:<6} load {res['load_s']:.1f}s ({count / res['load_s']:,.0f} keys/s); "
            f"{res['gets']:,} GETs ({res['rate']:,.0f}/s): max {res['max_us']:,.0f} us, "
            f"p99.9 {res['p999_us']:,.0f} us, p99 {res['p99_us']:,.0f} us; "
            f"load average {res['load_avg']:.2f}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sluice", default=os.path.join(ROOT, "build-release", "sluice-server"))
    p.add_argument("--redis", default="redis-server")
    p.add_argument("--keys", type=int, default=20_000_000)
    p.add_argument("--rate", type=int, default=5000, help="paced GETs per second (5000)")
    p.add_argument("--rounds", type=int, default=1)
    opt = p.parse_args()
    workdir = tempfile.mkdtemp(prefix="sluice-growth-")
    path = os.path.join(workdir, f"mset-{opt.keys}.resp")
    log(f"generating {opt.keys:,} keys as MSETs of {BATCH}")
    write_mset_file(path, opt.keys)
    servers = [Server("sluice", opt.sluice, workdir, sluice_args_for_bench()),
               Server("redis", opt.redis, workdir, [])]
    try:
        for r in range(opt.rounds):
            for server in servers if r % 2 == 0 else reversed(servers):
                server.start()
                try:
                    res = measure(server.port, path, opt.keys, opt.rate, seed=r + 1)
                    size = server.dbsize()
                finally:
                    server.stop()
                log(describe(server.kind, res, opt.keys) + f"; DBSIZE {size:,}")
    finally:
        for s in servers:
            s.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
