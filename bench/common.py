"""What every sluice benchmark script shares: the server processes and redis-benchmark.

bench/run.py (`make bench`), bench/pubsub_bench.py and bench/scripting_bench.py
start sluice and redis-server the same way (loopback, no persistence, a free
port), read their CPU time and resident memory from /proc, and drive them with
redis-benchmark through redis_benchmark() below.
"""

import os
import signal
import socket
import subprocess
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")
VALUE_SIZE = 32  # redis-benchmark -d for every run


def sluice_threads_for(cores, bench_threads):
    """I/O threads for sluice: the cores the benchmark client leaves free.

    redis-benchmark runs on the same machine and keeps a core busy per thread.
    More server threads than free cores only makes them preempt each other and
    the client: on 2 cores, 2 I/O threads measured 0.97x the requests/s of 1
    thread with pipelining, 2-3x the p99, and 3x the kernel CPU per MSET
    (futex waits on shared shard locks). redis-server is single-threaded
    anyway, so both servers get the same free cores.
    """
    return max(1, cores - max(1, bench_threads))


def sluice_args_for_bench(bench_threads=1):
    """The sluice-server arguments every benchmark script starts sluice with."""
    return ["--io-threads", str(sluice_threads_for(os.cpu_count() or 1, bench_threads))]


class BenchError(Exception):
    pass


def log(msg):
    print(msg, flush=True)


# ---------------------------------------------------------------------------
# Processes

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_cpu_ticks(pid):
    """(utime, stime) of `pid` in clock ticks."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state); utime and stime are fields 14 and 15.
    return int(fields[11]), int(fields[12])


def proc_rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise BenchError(f"no VmRSS for pid {pid}")


class Server:
    """One server process (sluice or redis-server) on a loopback port."""

    def __init__(self, kind, binary, workdir, extra_args):
        self.kind = kind
        self.binary = os.path.abspath(binary) if os.sep in binary else binary
        self.workdir = workdir
        self.extra_args = extra_args
        self.proc = None
        self.port = None
        self.starts = 0

    def start(self):
        self.starts += 1
        logpath = os.path.join(self.workdir, f"{self.kind}-{self.starts}.log")
        self.logpath = logpath
        common = ["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        if self.kind == "sluice":
            args = [self.binary, "--port", "0"] + common + self.extra_args
        else:
            self.port = free_port()
            args = [self.binary, "--port", str(self.port), "--daemonize", "no",
                    "--dir", self.workdir, "--protected-mode", "no"] + common + self.extra_args
        with open(logpath, "wb") as out:
            self.proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, cwd=self.workdir)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(f"{self.kind} exited at start (rc {self.proc.returncode}): "
                                 f"{self.log_tail()}")
            if self.kind == "sluice" and self.port is None:
                with open(logpath, errors="replace") as f:
                    for line in f:
                        if "Ready to accept connections tcp on port" in line:
                            self.port = int(line.rsplit(" ", 1)[1])
            if self.port and self.ping():
                return
            time.sleep(0.05)
        self.stop()
        raise BenchError(f"{self.kind} did not become ready: {self.log_tail()}")

    def log_tail(self, n=5):
        try:
            with open(self.logpath, errors="replace") as f:
                return " | ".join(f.read().splitlines()[-n:])
        except OSError:
            return ""

    def ping(self):
        try:
            return self.cli("PING", timeout=2).strip() == "PONG"
        except BenchError:
            return False

    def cli(self, *args, timeout=30):
        try:
            r = subprocess.run(["redis-cli", "-p", str(self.port)] + list(args),
                               capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise BenchError(f"{self.kind}: redis-cli {' '.join(args)} timed out")
        if r.returncode != 0 or r.stdout.startswith("Error:"):
            died = "" if self.alive() else (f" ({self.kind} died, rc {self.proc.returncode}; "
                                            f"log: {self.log_tail()})")
            raise BenchError(f"{self.kind}: redis-cli {' '.join(args)}: "
                             f"{(r.stderr or r.stdout).strip()}{died}")
        return r.stdout

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def dbsize(self):
        return int(self.cli("DBSIZE").strip())

    def cpu_ticks(self):
        return proc_cpu_ticks(self.proc.pid)

    def rss_kb(self):
        return proc_rss_kb(self.proc.pid)

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        if self.kind == "sluice":
            self.port = None


def ensure_running(server, rec, preload=None):
    """Starts `server` if it is not running; a server that died is reported to `rec` and
    restarted (then `preload(server)` runs again)."""
    if server.alive():
        return
    if server.proc is not None:
        rec.problem(f"{server.kind} was not running (rc {server.proc.returncode}); "
                    f"restarting. Log: {server.log_tail()}")
        server.proc = None
        server.port = None if server.kind == "sluice" else server.port
    server.start()
    if preload:
        preload(server)


class SampleLog:
    """What a section script run standalone records instead of run.py's Recorder: the
    samples as (section, label, metric, unit, server, value), and the problems."""

    def __init__(self):
        self.samples = []
        self.problems = []

    def add(self, section, label, metric, unit, better, server, value, rnd, ratio=True):
        self.samples.append((section, label, metric, unit, server, value))

    def problem(self, msg):
        log(f"  !! {msg}")
        self.problems.append(msg)


# ---------------------------------------------------------------------------
# Tools

def redis_benchmark(server, cmd_args, requests, clients, pipeline, keyspace, threads=0,
                    value_size=VALUE_SIZE, timeout=300):
    """Runs one redis-benchmark test; returns rps, p50/p99 (ms), server CPU us/request."""
    args = ["redis-benchmark", "-p", str(server.port), "-n", str(requests), "-c", str(clients),
            "-P", str(pipeline), "-r", str(keyspace), "-d", str(value_size), "--csv"]
    if threads > 1:
        args += ["--threads", str(threads)]
    args += cmd_args
    ticks0 = server.cpu_ticks()
    t0 = time.time()
    try:
        r = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise BenchError(f"{server.kind}: redis-benchmark timed out after {timeout}s "
                         f"({' '.join(args[1:])})")
    wall = time.time() - t0
    if not server.alive():
        raise BenchError(f"{server.kind} died during redis-benchmark "
                         f"(rc {server.proc.returncode}): {server.log_tail()}")
    ticks1 = server.cpu_ticks()
    rows = [l for l in r.stdout.splitlines() if l.startswith('"') and not l.startswith('"test"')]
    if r.returncode != 0 or not rows:
        raise BenchError(f"{server.kind}: redis-benchmark failed (rc {r.returncode}): "
                         f"{(r.stderr or r.stdout).strip()[-300:]}")
    cols = [c.strip('"') for c in rows[-1].split('","')]
    # "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms",
    # "p99_latency_ms","max_latency_ms"
    return {
        "rps": float(cols[1]),
        "p50": float(cols[4]),
        "p99": float(cols[6]),
        "cpu_us": (sum(ticks1) - sum(ticks0)) / CLK_TCK * 1e6 / requests,
        # The server's own code, without the kernel's share (socket I/O).
        "user_us": (ticks1[0] - ticks0[0]) / CLK_TCK * 1e6 / requests,
        "wall": wall,
        "errors": r.stderr.strip()[-300:],
    }

