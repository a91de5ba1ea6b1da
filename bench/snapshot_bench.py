#!/usr/bin/env python3
"""Snapshots: BGSAVE of a large dataset while a client keeps writing.

Each round, for each server: a fresh server loads N keys (16-byte keys
key:<12 digits> and 16-byte values; the odd ones with a TTL of about 11 days)
through `redis-cli --pipe`. Then one client sends SETs of random existing keys,
paced open-loop at --rate per second on its own connection (a SET goes out on
schedule even while earlier ones are unanswered, so a stall shows in every SET
it delays), for a quiet phase of a few seconds and then through a BGSAVE.
Through both phases the main thread polls INFO persistence (on a connection of
its own) every 20 ms and the processes' Pss every 100 ms, so that the phases
differ by the save alone; the save is over when INFO says so.

Measured:
- BGSAVE duration: from the BGSAVE reply until INFO says no save is running;
- SET p99 during the snapshot and during the quiet phase before it;
- peak memory above the dataset during the snapshot: the largest sum of the
  proportional set sizes (Pss, /proc/<pid>/smaps_rollup) of the server and its
  children (Redis's fork child shares pages with its parent until a write
  copies them; Pss counts a shared page once in all) minus that sum just
  before BGSAVE;
- the file's size;
- load time: the server is stopped (SIGTERM, no save points) and started
  again on the file; the time from starting the process until a PING is
  answered with PONG (not -LOADING), and DBSIZE is checked.

`make bench` runs this as its "snapshot" section (bench/run.py,
--snapshot-keys, 1M under --quick); standalone:

    bench/snapshot_bench.py [--sluice build-release/sluice-server]
                            [--redis /usr/bin/redis-server] [--keys 10000000]
"""
import argparse
import os
import random
import selectors
import socket
import subprocess
import sys
import tempfile
import threading
import time

from common import BenchError, Server, free_port, log, sluice_args_for_bench

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVERS = ("sluice", "redis")
KEYS = 10_000_000
RATE = 10_000
QUIET_S = 5.0
BATCH = 100  # key/value pairs per MSET
TTL_S = 1_000_000
POLL_S = 0.02   # INFO persistence
PSS_EVERY = 5   # Pss every fifth poll (100 ms)
KEY_FMT = b"key:%012d"  # 16 bytes
MSET_PAIR = b"$16\r\nkey:%012d\r\n$16\r\nval:%012d\r\n"
SET_EX = b"*5\r\n$3\r\nSET\r\n$16\r\nkey:%012d\r\n$16\r\nval:%012d\r\n$2\r\nEX\r\n$7\r\n%07d\r\n"


def load_commands(count):
    """How many replies loading `count` keys gives: MSETs for the even keys, one SET EX
    for each odd key."""
    evens = (count + 1) // 2
    return (evens + BATCH - 1) // BATCH + count // 2


def cache_dir():
    """Where generated load files are kept between runs (they take a minute to write
    at 10M keys, and are the same every time)."""
    d = os.path.join(tempfile.gettempdir(), "sluice-bench-cache")
    os.makedirs(d, exist_ok=True)
    return d


def write_load_file(path, count):
    """A RESP stream that loads keys 0 .. count-1: the even ones in MSETs of BATCH pairs
    (no TTL), the odd ones with SET ... EX (a TTL)."""
    if os.path.exists(path):
        return path
    chunk = BATCH * 1000
    with open(path + ".part", "wb") as f:
        for start in range(0, count, chunk):
            end = min(start + chunk, count)
            evens = list(range(start + (start & 1), end, 2))
            parts = []
            for i in range(0, len(evens), BATCH):
                group = evens[i:i + BATCH]
                parts.append(b"*%d\r\n$4\r\nMSET\r\n" % (2 * len(group) + 1))
                parts.extend(MSET_PAIR % (k, k) for k in group)
            parts.extend(SET_EX % (k, k, TTL_S) for k in range(start + 1 - (start & 1), end, 2))
            f.write(b"".join(parts))
    os.rename(path + ".part", path)
    return path


def pipe_load(server, path, count, timeout=1800):
    t0 = time.perf_counter()
    with open(path, "rb") as f:
        try:
            r = subprocess.run(["redis-cli", "-p", str(server.port), "--pipe"], stdin=f,
                               capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise BenchError(f"{server.kind}: loading {count} keys took over {timeout}s")
    summary = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ""
    if r.returncode != 0 or f"errors: 0, replies: {load_commands(count)}" not in summary:
        raise BenchError(f"{server.kind}: redis-cli --pipe: {summary or r.stderr.strip()}")
    return time.perf_counter() - t0


def children(pid):
    """Child processes of `pid` (Redis's fork child during BGSAVE)."""
    out = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out += [int(c) for c in f.read().split()]
    except OSError:
        pass
    return out


def pss_kb(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        return 0
    return 0


def tree_pss_kb(pid):
    return pss_kb(pid) + sum(pss_kb(c) for c in children(pid))


class InfoConn:
    """One connection kept open for polling INFO during the save (starting a redis-cli
    process every 20 ms competes with the server and the writer for the two cores and
    showed in the SET latencies it is meant to measure)."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)

    def info(self, section):
        self.sock.sendall(b"*2\r\n$4\r\nINFO\r\n$%d\r\n%s\r\n" % (len(section),
                                                                          section.encode()))
        buf = b""
        while b"\r\n" not in buf:
            buf += self._recv()
        head, _, rest = buf.partition(b"\r\n")
        if not head.startswith(b"$"):
            raise BenchError(f"INFO {section} answered {head[:80]!r}")
        size = int(head[1:])
        while len(rest) < size + 2:
            rest += self._recv()
        return rest[:size].decode()

    def _recv(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise BenchError("INFO connection closed")
        return chunk

    def close(self):
        self.sock.close()


def info_field(server, section, field, conn=None):
    text = conn.info(section) if conn is not None else server.cli("INFO", section)
    for line in text.splitlines():
        if line.startswith(field + ":"):
            return line.split(":", 1)[1].strip()
    raise BenchError(f"{server.kind}: INFO {section} has no {field}")


class PacedWriter:
    """SETs of random existing keys, paced open-loop at `rate` per second on one
    connection, on a thread of its own. latencies() returns (send time, latency) pairs
    in seconds (perf_counter clock) for every SET answered."""

    def __init__(self, port, count, rate, seed=1):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setblocking(False)
        self.count = count
        self.interval = 1.0 / rate
        self.rng = random.Random(seed)
        self.stop_flag = threading.Event()
        self.samples = []
        self.error = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        sel = selectors.DefaultSelector()
        sel.register(self.sock, selectors.EVENT_READ)
        sent = []  # send times of SETs not answered yet, oldest first
        head = 0
        buf = b""
        next_t = time.perf_counter()
        try:
            while not self.stop_flag.is_set() or head < len(sent):
                now = time.perf_counter()
                if not self.stop_flag.is_set() and next_t <= now:
                    if now - next_t > 0.05:
                        next_t = now  # the pacer itself was held up: no burst
                    k = self.rng.randrange(self.count)
                    self.sock.sendall(b"*3\r\n$3\r\nSET\r\n$16\r\n%s\r\n$16\r\nnew:%012d\r\n"
                                      % (KEY_FMT % k, k))
                    sent.append(time.perf_counter())
                    next_t += self.interval
                    continue
                wait = max(0.0, next_t - now) if not self.stop_flag.is_set() else 0.5
                if sel.select(wait):
                    data = self.sock.recv(1 << 16)
                    if not data:
                        raise BenchError("connection closed during the paced SETs")
                    t = time.perf_counter()
                    buf += data
                    while head < len(sent):
                        end = buf.find(b"\r\n")
                        if end < 0:
                            break
                        if not buf.startswith(b"+OK"):
                            raise BenchError(f"unexpected SET reply {buf[:60]!r}")
                        buf = buf[end + 2:]
                        self.samples.append((sent[head], t - sent[head]))
                        head += 1
                elif self.stop_flag.is_set() and head < len(sent):
                    raise BenchError(f"{len(sent) - head} SETs unanswered 0.5 s after stopping")
        except (OSError, BenchError) as e:
            self.error = e
        finally:
            sel.close()
            self.sock.close()

    def stop(self, timeout=30):
        self.stop_flag.set()
        self.thread.join(timeout)
        if self.thread.is_alive():
            raise BenchError("the paced writer did not finish")
        if self.error:
            raise BenchError(f"paced writer: {self.error}")
        return self.samples


def p99_ms(samples, t0, t1):
    lat = sorted(l for t, l in samples if t0 <= t < t1)
    if not lat:
        return None, 0
    return lat[min(len(lat) - 1, int(0.99 * len(lat)))] * 1000, len(lat)


def wait_ready(server, timeout=600):
    """After start(): waits until PING gets PONG (not -LOADING); returns the seconds
    from process start."""
    t0 = server.started_at
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if not server.alive():
            raise BenchError(f"{server.kind} exited while loading: {server.log_tail()}")
        try:
            if server.cli("PING", timeout=5).strip() == "PONG":
                return time.perf_counter() - t0
        except BenchError:
            pass
        time.sleep(0.01)
    raise BenchError(f"{server.kind} still loading after {timeout}s")


class SnapshotServer(Server):
    """A Server on a fixed port whose start() returns as soon as the process accepts
    connections (it may still be loading: wait_ready polls PING), with its snapshot
    in its own directory."""

    def start(self):
        if self.port is None:
            self.port = free_port()
        self.starts += 1
        self.logpath = os.path.join(self.workdir, f"{self.kind}-{self.starts}.log")
        args = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", self.workdir]
        if self.kind == "redis":
            args += ["--daemonize", "no", "--protected-mode", "no"]
        args += self.extra_args
        self.started_at = time.perf_counter()
        with open(self.logpath, "wb") as out:
            self.proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=self.workdir)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"{self.kind} exited at start (rc {self.proc.returncode}): "
                                 f"{self.log_tail()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.01)
        self.stop()
        raise BenchError(f"{self.kind} did not accept connections: {self.log_tail()}")

    def stop(self):
        port = self.port
        super().stop()
        self.port = port  # the same port next time


def measure(server, path, count, rate, quiet_s, seed, timeout=1800):
    """One round on one server (started fresh, empty). Returns the figures."""
    server.cli("CONFIG", "SET", "save", "")
    pipe_load(server, path, count)
    if server.dbsize() != count:
        raise BenchError(f"{server.kind}: DBSIZE {server.dbsize()} after loading {count} keys")
    time.sleep(1)
    base_kb = tree_pss_kb(server.proc.pid)
    writer = PacedWriter(server.port, count, rate, seed)
    poll = InfoConn(server.port)
    try:
        t_quiet = time.perf_counter()
        # The quiet phase polls as the save phase does, so the two differ by the save
        # alone: INFO every 20 ms, Pss every 100 ms (reading smaps_rollup walks the
        # process's page tables under its mmap lock, which stalls the server a moment).
        polls = 0
        while time.perf_counter() < t_quiet + quiet_s:
            if polls % PSS_EVERY == 0:
                tree_pss_kb(server.proc.pid)
            polls += 1
            info_field(server, "persistence", "rdb_bgsave_in_progress", poll)
            time.sleep(POLL_S)
        t_save = time.perf_counter()
        reply = server.cli("BGSAVE").strip()
        if "Background saving started" not in reply:
            raise BenchError(f"{server.kind}: BGSAVE answered {reply!r}")
        peak_kb = base_kb
        deadline = time.perf_counter() + timeout
        polls = 0
        while True:
            if polls % PSS_EVERY == 0:
                peak_kb = max(peak_kb, tree_pss_kb(server.proc.pid))
            polls += 1
            if info_field(server, "persistence", "rdb_bgsave_in_progress", poll) == "0":
                break
            if time.perf_counter() > deadline:
                raise BenchError(f"{server.kind}: BGSAVE still running after {timeout}s")
            time.sleep(POLL_S)
        t_done = time.perf_counter()
    except BaseException:
        poll.close()
        try:
            writer.stop()
        except BenchError:
            pass
        raise
    samples = writer.stop()
    poll.close()
    status = info_field(server, "persistence", "rdb_last_bgsave_status")
    if status != "ok":
        raise BenchError(f"{server.kind}: rdb_last_bgsave_status {status}")
    quiet_p99, quiet_n = p99_ms(samples, t_quiet, t_save)
    save_p99, save_n = p99_ms(samples, t_save, t_done)
    rdb = os.path.join(server.snapshot_dir, "dump.rdb")
    file_bytes = os.path.getsize(rdb)
    # Load time: the same server on the file it just wrote.
    server.stop()
    server.start()
    load_s = wait_ready(server)
    size = server.dbsize()
    if size != count:
        raise BenchError(f"{server.kind}: DBSIZE {size} after loading the snapshot of {count}")
    server.stop()
    return {
        "bgsave_s": t_done - t_save,
        "quiet_p99_ms": quiet_p99, "quiet_n": quiet_n,
        "save_p99_ms": save_p99, "save_n": save_n,
        "dataset_mb": base_kb / 1024,
        "extra_mb": (peak_kb - base_kb) / 1024,
        "file_mb": file_bytes / 1e6,
        "load_s": load_s,
    }


def describe(kind, res):
    return (f"{kind:<6} BGSAVE {res['bgsave_s']:.2f}s; SET p99 {res['save_p99_ms']:.2f} ms "
            f"during ({res['save_n']:,}) vs {res['quiet_p99_ms']:.2f} ms quiet "
            f"({res['quiet_n']:,}); memory {res['dataset_mb']:,.0f} MB + peak "
            f"{res['extra_mb']:,.1f} MB during; file {res['file_mb']:,.0f} MB; "
            f"load {res['load_s']:.2f}s")


def make_servers(sluice_bin, redis_bin, workdir, bench_threads=2):
    """One server of each kind, each with its snapshot directory."""
    servers = {}
    for kind, binary in (("sluice", sluice_bin), ("redis", redis_bin)):
        d = os.path.join(workdir, f"snapshot-{kind}")
        os.makedirs(d, exist_ok=True)
        for stale in os.listdir(d):
            os.unlink(os.path.join(d, stale))
        extra = ["--dbfilename", "dump.rdb"]
        if kind == "sluice":
            extra = sluice_args_for_bench(bench_threads) + extra
        s = SnapshotServer(kind, binary, d, extra)
        s.snapshot_dir = d
        servers[kind] = s
    return servers


def label(count, rate):
    keys = f"{count // 1_000_000}M" if count % 1_000_000 == 0 else f"{count:,}"
    return f"{keys} keys (half with TTLs), SETs paced at {rate:,}/s"


def run_rounds(servers, path, count, rate, quiet_s, rounds, add, problem):
    """Interleaved rounds (the server order alternates); add(kind, res, round) per
    result, problem(msg) per failure."""
    kinds = tuple(servers)
    for r in range(rounds):
        order = kinds if r % 2 == 0 else tuple(reversed(kinds))
        for kind in order:
            server = servers[kind]
            try:
                server.stop()
                for stale in os.listdir(server.snapshot_dir):
                    if stale.endswith(".rdb"):
                        os.unlink(os.path.join(server.snapshot_dir, stale))
                server.start()
                wait_ready(server)
                res = measure(server, path, count, rate, quiet_s, seed=r + 1)
            except BenchError as e:
                problem(f"snapshot round {r + 1} {kind}: {e}")
                server.stop()
                continue
            log(f"round {r + 1} " + describe(kind, res))
            add(kind, res, r)


INTRO = (
    "{rounds} round(s), servers interleaved, a fresh server each. {keys:,} keys (16-byte "
    "keys and values; every other one with a TTL of 11 days) loaded through `redis-cli "
    "--pipe`; then one client sends SETs of random existing keys paced open-loop at "
    "{rate:,}/s for " + f"{QUIET_S:.0f}" + " s (quiet) and on through a BGSAVE; through "
    "both phases INFO persistence (on a connection kept open) is polled every 20 ms and the "
    "processes' Pss every 100 ms, so the phases differ by the save alone. BGSAVE time: from its reply until INFO shows no save in progress. Extra "
    "memory: the peak, during the save, of the summed Pss of the server and its children "
    "(Redis's fork child; shared pages counted once) minus that sum before BGSAVE. Load "
    "time: the server restarted on its file, from process start until PING answers PONG. "
    "Targets: extra memory at most 0.1x the dataset, SET p99 during the snapshot within "
    "1.5x of quiet, load time at most redis's.")


def run_section(opt, rec, workdir):
    """bench/run.py's `snapshot` section: rows into the Recorder `rec`."""
    count, rate = opt.snapshot_keys, opt.snapshot_rate
    path = os.path.join(cache_dir(), f"snapshot-load-{count}.resp")
    if not os.path.exists(path):
        log(f"generating {os.path.basename(path)} ({count:,} keys)")
    write_load_file(path, count)
    servers = make_servers(opt.sluice_bin, opt.redis_bin, workdir,
                           max(1, opt.bench_threads))
    row = label(count, rate)

    def add(kind, res, r):
        rec.add("snapshot", row, "BGSAVE time", "s", "lower", kind, res["bgsave_s"], r)
        rec.add("snapshot", row, "SET p99 during the snapshot", "ms", "lower", kind,
                res["save_p99_ms"], r)
        rec.add("snapshot", row, "SET p99 quiet", "ms", "lower", kind, res["quiet_p99_ms"], r)
        rec.add("snapshot", row, "p99 during / quiet", "x", "lower", kind,
                res["save_p99_ms"] / res["quiet_p99_ms"], r)
        rec.add("snapshot", row, "dataset (Pss before BGSAVE)", "MB", "lower", kind,
                res["dataset_mb"], r)
        rec.add("snapshot", row, "peak extra memory during BGSAVE", "MB", "lower", kind,
                res["extra_mb"], r)
        rec.add("snapshot", row, "extra memory / dataset", "x", "lower", kind,
                res["extra_mb"] / res["dataset_mb"], r)
        rec.add("snapshot", row, "file size", "MB", "lower", kind, res["file_mb"], r)
        rec.add("snapshot", row, "load time", "s", "lower", kind, res["load_s"], r)

    try:
        run_rounds(servers, path, count, rate, QUIET_S, opt.snapshot_rounds, add, rec.problem)
    finally:
        for s in servers.values():
            s.stop()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sluice", default=os.path.join(ROOT, "build-release", "sluice-server"))
    p.add_argument("--redis", default="redis-server")
    p.add_argument("--keys", type=int, default=KEYS)
    p.add_argument("--rate", type=int, default=RATE, help="paced SETs per second (10000)")
    p.add_argument("--quiet", type=float, default=QUIET_S, help="seconds of the quiet phase (5)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--only", choices=SERVERS, help="run one server only")
    opt = p.parse_args()
    workdir = tempfile.mkdtemp(prefix="sluice-snapshot-bench-")
    path = write_load_file(os.path.join(cache_dir(), f"snapshot-load-{opt.keys}.resp"), opt.keys)
    servers = make_servers(opt.sluice, opt.redis, workdir)
    if opt.only:
        servers = {opt.only: servers[opt.only]}
    results = {k: [] for k in servers}
    problems = []
    try:
        run_rounds(servers, path, opt.keys, opt.rate, opt.quiet, opt.rounds,
                   lambda kind, res, r: results[kind].append(res), problems.append)
    finally:
        for s in servers.values():
            s.stop()
    for kind, rows in results.items():
        for res in rows:
            print(describe(kind, res))
    for msg in problems:
        print("problem:", msg)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
