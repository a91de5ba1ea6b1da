#!/usr/bin/env python3
"""Pub/sub fan-out benchmark: sluice against redis-server, side by side.

For each scenario (one channel with 1 subscriber, and with 100 subscribers)
there are two phases. Throughput: a publisher sends PUBLISH commands pipelined
`--depth` deep as fast as it can, and subscriber processes read every message;
reported is messages delivered per second, all subscribers together. Latency:
the publisher sends one PUBLISH at a time, paced (`--pace-us` apart), so that
no queue builds up; reported is the p99 of the delay from the publisher
stamping a message to a subscriber reading it (every 16th message of each
subscriber is sampled).

Rounds alternate between the servers (sluice, redis, sluice, redis, ...) so
that machine noise hits both alike; the table shows medians over rounds and
the sluice/redis ratios. `make bench` runs the same scenarios as its "pubsub"
section (bench/run.py); standalone:

    bench/pubsub_bench.py [--sluice build/sluice-server] [--redis /usr/bin/redis-server]
                          [--rounds 3] [--messages 20000] [--depth 32]
"""
import argparse
import multiprocessing as mp
import os
import selectors
import socket
import statistics
import sys
import tempfile
import time

from common import Server, sluice_args_for_bench

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAYLOAD = 64  # bytes: a 20-digit monotonic stamp, padded
CHANNEL = b"bench"
SAMPLE = 16  # measure the latency of every 16th message of each subscriber


def enc(*args):
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


FRAME_HEAD = b"*3\r\n$7\r\nmessage\r\n$%d\r\n%s\r\n$%d\r\n" % (len(CHANNEL), CHANNEL, PAYLOAD)
FRAME = len(FRAME_HEAD) + PAYLOAD + 2


# Subscribers that fall behind must not be disconnected mid-measurement.
NO_PUBSUB_LIMIT = ["--client-output-buffer-limit", "pubsub 0 0 0"]


def measure(port, n_subs, messages, depth, latency_messages, pace_us):
    """(messages delivered per second, p99 delivery latency in us) for one server."""
    rate, _ = run_scenario(port, n_subs, messages, depth)
    _, p99 = run_scenario(port, n_subs, latency_messages, 1, pace_us)
    return rate, p99


def subscriber_proc(port, n_socks, n_messages, ready, go, results):
    socks = []
    for _ in range(n_socks):
        s = socket.create_connection(("127.0.0.1", port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.sendall(enc(b"SUBSCRIBE", CHANNEL))
        socks.append(s)
    confirm = len(b"*3\r\n$9\r\nsubscribe\r\n$%d\r\n%s\r\n:1\r\n" % (len(CHANNEL), CHANNEL))
    for s in socks:
        got = 0
        while got < confirm:
            got += len(s.recv(confirm - got))
    ready.release()
    go.wait()
    sel = selectors.DefaultSelector()
    state = {}
    for s in socks:
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
        state[s] = [b"", 0]  # leftover bytes, frames seen
    latencies = []
    remaining = len(socks)
    want = n_messages
    last_arrival = 0
    while remaining:
        for key, _ in sel.select(timeout=30):
            s = key.fileobj
            chunk = s.recv(1 << 20)
            if not chunk:
                raise RuntimeError("subscriber connection closed")
            now = time.monotonic_ns()
            st = state[s]
            buf = st[0] + chunk
            frames = len(buf) // FRAME
            seen = st[1]
            # Stamps of the sampled frames in this chunk.
            first = (-seen) % SAMPLE
            for i in range(first, frames, SAMPLE):
                off = i * FRAME + len(FRAME_HEAD)
                latencies.append(now - int(buf[off:off + 20]))
            st[0] = buf[frames * FRAME:]
            st[1] = seen + frames
            last_arrival = now
            if st[1] >= want:
                sel.unregister(s)
                remaining -= 1
    for s in socks:
        s.close()
    results.put((latencies, last_arrival))


def run_scenario(port, n_subs, n_messages, depth, pace_us=0):
    procs_n = min(4, n_subs)
    ready = mp.Semaphore(0)
    go = mp.Event()
    results = mp.Queue()
    procs = []
    for i in range(procs_n):
        share = n_subs // procs_n + (1 if i < n_subs % procs_n else 0)
        p = mp.Process(target=subscriber_proc, args=(port, share, n_messages, ready, go, results))
        p.start()
        procs.append(p)
    for _ in procs:
        ready.acquire()
    pub = socket.create_connection(("127.0.0.1", port))
    pub.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    go.set()
    start = time.monotonic_ns()
    sent = 0
    reply_len = len(b":%d\r\n" % n_subs)
    while sent < n_messages:
        batch = min(depth, n_messages - sent)
        cmds = []
        for _ in range(batch):
            stamp = b"%020d" % time.monotonic_ns()
            cmds.append(enc(b"PUBLISH", CHANNEL, stamp.ljust(PAYLOAD, b".")))
        pub.sendall(b"".join(cmds))
        need = batch * reply_len
        got = b""
        while len(got) < need:
            got += pub.recv(need - len(got))
        sent += batch
        if pace_us:
            time.sleep(pace_us / 1e6)
    latencies = []
    end = start
    for _ in procs:
        lat, last = results.get(timeout=120)
        latencies += lat
        end = max(end, last)
    for p in procs:
        p.join(30)
    pub.close()
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99)] / 1000.0 if latencies else float("nan")
    rate = n_subs * n_messages / ((end - start) / 1e9)
    return rate, p99


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sluice", default=os.environ.get(
        "SLUICE_SERVER", os.path.join(ROOT, "build", "sluice-server")))
    ap.add_argument("--redis", default="/usr/bin/redis-server")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--messages", type=int, default=20000)
    ap.add_argument("--depth", type=int, default=32, help="PUBLISH pipeline depth")
    ap.add_argument("--latency-messages", type=int, default=2000)
    ap.add_argument("--pace-us", type=int, default=500, help="gap between paced PUBLISHes")
    ap.add_argument("--subscribers", default="1,100")
    args = ap.parse_args()
    if not os.path.exists(args.sluice):
        sys.exit("no sluice binary at %s (build it or pass --sluice)" % args.sluice)

    workdir = tempfile.mkdtemp(prefix="sluice-pubsub-bench-")
    servers = {"sluice": Server("sluice", args.sluice, workdir,
                                 sluice_args_for_bench() + NO_PUBSUB_LIMIT),
               "redis": Server("redis", args.redis, workdir, NO_PUBSUB_LIMIT)}
    scenarios = [int(x) for x in args.subscribers.split(",")]
    samples = {(kind, n): [] for kind in servers for n in scenarios}
    try:
        for s in servers.values():
            s.start()
        for rnd in range(args.rounds):
            for n in scenarios:
                for kind in ("sluice", "redis") if rnd % 2 == 0 else ("redis", "sluice"):
                    rate, p99 = measure(servers[kind].port, n, args.messages, args.depth,
                                        args.latency_messages, args.pace_us)
                    samples[(kind, n)].append((rate, p99))
                    print("round %d  %-6s %3d subscriber(s): %10.0f msg/s delivered, p99 %8.0f us"
                          % (rnd + 1, kind, n, rate, p99), flush=True)
    finally:
        for s in servers.values():
            s.stop()

    print()
    print("| scenario | sluice msg/s | redis msg/s | ratio | sluice p99 us | redis p99 us | ratio |")
    print("|---|---|---|---|---|---|---|")
    for n in scenarios:
        s_rate = statistics.median(r for r, _ in samples[("sluice", n)])
        r_rate = statistics.median(r for r, _ in samples[("redis", n)])
        s_p99 = statistics.median(p for _, p in samples[("sluice", n)])
        r_p99 = statistics.median(p for _, p in samples[("redis", n)])
        print("| PUBLISH to %d subscriber%s | %.0f | %.0f | %.2f | %.0f | %.0f | %.2f |" % (
            n, "" if n == 1 else "s", s_rate, r_rate, s_rate / r_rate, s_p99, r_p99,
            s_p99 / r_p99))
    print("\nmsg/s ratio > 1: sluice delivers more; p99 ratio < 1: sluice delivers sooner. "
          "Medians of %d interleaved rounds; throughput: %d messages pipelined %d deep; "
          "latency: %d messages %d us apart." % (args.rounds, args.messages, args.depth,
                                                   args.latency_messages, args.pace_us))


if __name__ == "__main__":
    main()
