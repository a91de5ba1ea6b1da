#!/usr/bin/env python3
"""Job queues: jobs per second through Bull and RQ, sluice against redis-server.

The `queues` section of `make bench` (bench/run.py) lives here. Each row runs the same
worker setup against both servers, interleaved (A B, then B A the next round):

  Bull  bench/queue_bull.mjs adds the jobs to a paused queue (addBulk), starts the
        worker processes (node, each with `concurrency` jobs in flight), resumes the
        queue and times until Bull counts every job completed.
  RQ    `rq worker -w rq.worker.SimpleWorker` processes (no fork per job, so the
        figure is the queue's cost, not fork's) wait on the queue; the jobs are
        enqueued through one pipeline and timed until the finished-job registry
        holds them all.

Reported: jobs/s (jobs / time from resume or first enqueue to the last completion)
and the server's CPU time per job (utime + stime from /proc/<pid>/stat over the whole
run, adding the jobs included, / jobs). A server that lacks what a library needs
(probed: COMMAND INFO of the commands, and for Bull a script that writes keys it did
not declare) gets "n/a (...)" naming what is missing, and nothing is run on it.

Standalone (one round, small counts unless told):

    bench/queue_bench.py [--sluice build-release/sluice-server]
                         [--redis /usr/bin/redis-server] [--jobs 2000] [--rounds 1]
"""
import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from common import CLK_TCK, BenchError, SampleLog, Server, ensure_running, log, sluice_args_for_bench

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVERS = ("sluice", "redis")
BULL_SCRIPT = os.path.join(ROOT, "bench", "queue_bull.mjs")
JOBS = 20_000  # per Bull run; RQ runs get a quarter (a Python worker is slower)
BULL_WORKERS, BULL_CONCURRENCY = 2, 10
RQ_WORKERS = 2
# What each library needs beyond plain commands, probed before its rows run.
NEEDS = {
    "Bull": {"commands": ["brpoplpush", "evalsha"], "undeclared_keys": True},
    "RQ": {"commands": ["blpop", "xadd"], "undeclared_keys": False},
}
# (section, label) -> {server: why it was not run}; read by the report.
UNSUPPORTED = {}

_UNDECLARED_SCRIPT = ("redis.call('SET', KEYS[1], '1') "
                      "for i = 1, 64 do redis.call('SET', ARGV[1] .. i, '1') end "
                      "for i = 1, 64 do redis.call('DEL', ARGV[1] .. i) end "
                      "redis.call('DEL', KEYS[1]) return 1")


def order_for_round(r):
    return SERVERS if r % 2 == 0 else tuple(reversed(SERVERS))


def missing_capabilities(server, library):
    """What `server` lacks of what `library` needs, in words, or None."""
    need = NEEDS[library]
    reasons = []
    for name in need["commands"]:
        if not server.cli("COMMAND", "INFO", name).strip():
            reasons.append(name.upper())
    if need["undeclared_keys"]:
        for j in range(8):
            try:
                out = server.cli("EVAL", _UNDECLARED_SCRIPT, "1", f"bench-probe:{j}",
                                 f"bench-probe:{j}:").strip()
            except BenchError as e:
                out = str(e)
            if out != "1":
                reasons.append("undeclared keys in scripts")
                break
    return ", ".join(reasons) or None


def bull_label(jobs):
    return f"Bull: {jobs:,} jobs, {BULL_WORKERS} workers x {BULL_CONCURRENCY}"


def rq_label(jobs):
    return f"RQ: {jobs:,} jobs, {RQ_WORKERS} SimpleWorkers"


def measure_bull(server, jobs, queue):
    """(jobs/s, server CPU us/job) of one Bull run."""
    cfg = {"port": server.port, "jobs": jobs, "workers": BULL_WORKERS,
           "concurrency": BULL_CONCURRENCY, "queue": queue}
    ticks0 = server.cpu_ticks()
    try:
        r = subprocess.run(["node", BULL_SCRIPT, json.dumps(cfg)], capture_output=True,
                           text=True, timeout=600, cwd=ROOT)
    except subprocess.TimeoutExpired:
        raise BenchError(f"{server.kind}: Bull run of {jobs} jobs timed out")
    ticks1 = server.cpu_ticks()
    if r.returncode != 0 or not r.stdout.strip():
        raise BenchError(f"{server.kind}: Bull run failed (rc {r.returncode}): "
                         f"{(r.stderr or r.stdout).strip()[-300:]}")
    out = json.loads(r.stdout.strip().splitlines()[-1])
    if out["counts"]["completed"] != jobs or out["counts"]["failed"]:
        raise BenchError(f"{server.kind}: Bull counts after the run: {out['counts']}")
    return jobs / out["seconds"], (sum(ticks1) - sum(ticks0)) / CLK_TCK * 1e6 / jobs


def measure_rq(server, jobs, queue_name, workdir):
    """(jobs/s, server CPU us/job) of one RQ run."""
    import redis
    from rq import Queue, Worker
    from rq.registry import FinishedJobRegistry

    conn = redis.Redis(host="127.0.0.1", port=server.port, socket_timeout=60)
    url = f"redis://127.0.0.1:{server.port}"
    procs = []
    ticks0 = server.cpu_ticks()
    try:
        for i in range(RQ_WORKERS):
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "rq.cli", "worker", "--url", url, "-w",
                 "rq.worker.SimpleWorker", "--name", f"{queue_name}-w{i}", "-q", queue_name],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                cwd=workdir))
        deadline = time.time() + 30
        while Worker.count(connection=conn) < RQ_WORKERS:
            if time.time() > deadline:
                raise BenchError(f"{server.kind}: RQ workers did not register")
            time.sleep(0.05)
        q = Queue(queue_name, connection=conn)
        finished = FinishedJobRegistry(queue=q)
        t0 = time.perf_counter()
        with conn.pipeline() as pipe:
            q.enqueue_many([Queue.prepare_data("operator.add", (i, 1)) for i in range(jobs)],
                           pipeline=pipe)
            pipe.execute()
        deadline = time.time() + 600
        while finished.count < jobs:
            if time.time() > deadline:
                raise BenchError(f"{server.kind}: RQ finished {finished.count} of {jobs}")
            time.sleep(0.01)
        seconds = time.perf_counter() - t0
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        conn.close()
    ticks1 = server.cpu_ticks()
    return jobs / seconds, (sum(ticks1) - sum(ticks0)) / CLK_TCK * 1e6 / jobs


def run_queues(servers, opt, rec, workdir):
    """The `queues` section: Bull and RQ rows, rounds interleaved."""
    bull_jobs = opt.queue_jobs
    rq_jobs = max(1, opt.queue_jobs // 4)
    rows = [("Bull", bull_label(bull_jobs), lambda s, name: measure_bull(s, bull_jobs, name))]
    if rq_available():
        rows.append(("RQ", rq_label(rq_jobs), lambda s, name: measure_rq(s, rq_jobs, name, workdir)))
    else:
        rec.problem("queues: RQ rows skipped: python3-rq is not installed")
    for s in SERVERS:
        servers[s].stop()  # fresh processes: nothing left from earlier sections
        servers[s].start()
    for library, label, _ in rows:
        for kind in SERVERS:
            why = missing_capabilities(servers[kind], library)
            if why:
                UNSUPPORTED.setdefault(("queues", label), {})[kind] = f"n/a (needs {why})"
    total = opt.rounds * len(rows) * len(SERVERS)
    step = 0
    for r in range(opt.rounds):
        for library, label, measure in rows:
            for kind in order_for_round(r):
                step += 1
                server = servers[kind]
                why = UNSUPPORTED.get(("queues", label), {}).get(kind)
                if why:
                    log(f"[{step}/{total}] round {r + 1} {label:<40} {kind:<6} {why}")
                    continue
                try:
                    ensure_running(server, rec)
                    server.cli("FLUSHALL")
                    rate, cpu = measure(server, f"bench-{r}")
                except BenchError as e:
                    rec.problem(f"queues {label}, round {r + 1}: {e}")
                    continue
                log(f"[{step}/{total}] round {r + 1} {label:<40} {kind:<6} "
                    f"{rate:>9,.0f} jobs/s  server cpu {cpu:.1f} us/job")
                rec.add("queues", label, "jobs/s", "jobs/s", "higher", kind, rate, r)
                rec.add("queues", label, "server CPU per job", "us/job", "lower", kind, cpu, r)
    for s in SERVERS:
        servers[s].stop()


def rq_available():
    try:
        import rq  # noqa: F401
    except ImportError:
        return False
    return True


# ---------------------------------------------------------------------------
# Report

INTRO = (
    "Bull {bull_version}: {bull_jobs:,} jobs added to a paused queue (addBulk), "
    f"{BULL_WORKERS} node worker processes with {BULL_CONCURRENCY} jobs each in flight, "
    "timed from resume to Bull's completed count reaching every job. RQ {rq_version}: "
    f"{RQ_WORKERS} `rq worker -w rq.worker.SimpleWorker` processes waiting (BLPOP); "
    "{rq_jobs:,} jobs enqueued through one pipeline, timed from the first enqueue to "
    "the finished registry holding every job. Server CPU per job = utime+stime of the "
    "server process over the whole run (adding the jobs included) / jobs, from "
    "/proc/<pid>/stat (10 ms ticks). \"n/a (needs ...)\": the server lacks what the "
    "library needs (COMMAND INFO probes; for Bull a script writing undeclared keys), so "
    "the row was not run on it.")


def versions():
    def npm_version(pkg):
        try:
            with open(os.path.join(ROOT, "node_modules", pkg, "package.json")) as f:
                return json.load(f)["version"]
        except (OSError, ValueError, KeyError):
            return "?"
    try:
        import rq
        rq_version = rq.__version__
    except ImportError:
        rq_version = "(not installed)"
    return {"bull_version": npm_version("bull"), "rq_version": rq_version}


def intro(opt):
    return INTRO.format(bull_jobs=opt.queue_jobs, rq_jobs=max(1, opt.queue_jobs // 4),
                        **versions())


def _cell(label, kind, value, unit):
    why = UNSUPPORTED.get(("queues", label), {}).get(kind)
    if why:
        return why
    if value is None:
        return "–"
    return f"{value:,.0f}" if unit == "jobs/s" else f"{value:.1f}"


def table(rows):
    """Markdown lines: a row per library with jobs/s and server CPU per job."""
    L = ["| Row | jobs/s sluice | jobs/s redis | ratio | (rounds) | server CPU µs/job sluice "
         "| redis | ratio |", "|---|--:|--:|--:|:-:|--:|--:|--:|"]
    by_label = {}
    for r in rows:
        by_label.setdefault(r["label"], {})[r["metric"]] = r
    labels = list(by_label) + [lab for (sec, lab) in UNSUPPORTED
                               if sec == "queues" and lab not in by_label]
    for label in labels:
        m = by_label.get(label, {})
        cells = [label]
        for metric in ("jobs/s", "server CPU per job"):
            r = m.get(metric)
            med = r["median"] if r else {}
            unit = r["unit"] if r else "jobs/s"
            cells += [_cell(label, "sluice", med.get("sluice"), unit),
                      _cell(label, "redis", med.get("redis"), unit),
                      f"**{r['ratio']:.2f}**" if r and r.get("ratio") is not None else "–"]
            if metric == "jobs/s":
                rr = (r or {}).get("round_ratios") or []
                cells.append(f"{min(rr):.2f}–{max(rr):.2f}" if len(rr) >= 2 else "")
        L.append("| " + " | ".join(cells) + " |")
    L.append("")
    return L


# ---------------------------------------------------------------------------

def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sluice", default=os.path.join(ROOT, "build-release", "sluice-server"))
    p.add_argument("--redis", default=shutil.which("redis-server") or "redis-server")
    p.add_argument("--jobs", type=int, default=2000, help="jobs per Bull run; RQ a quarter")
    p.add_argument("--rounds", type=int, default=1)
    opt = p.parse_args()
    opt.queue_jobs = opt.jobs

    workdir = tempfile.mkdtemp(prefix="sluice-queues-")
    rec = SampleLog()
    servers = {"sluice": Server("sluice", opt.sluice, workdir, sluice_args_for_bench()),
               "redis": Server("redis", opt.redis, workdir, [])}
    try:
        run_queues(servers, opt, rec, workdir)
    finally:
        for s in servers.values():
            s.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    medians = {}
    for _, label, metric, _, server, value in rec.samples:
        medians.setdefault((label, metric, server), []).append(value)
    for (label, metric, server), values in sorted(medians.items()):
        log(f"{label}  {metric}  {server}: median {statistics.median(values):,.1f}")
    for (_, label), why in UNSUPPORTED.items():
        for server, text in why.items():
            log(f"{label}  {server}: {text}")
    return 1 if rec.problems else 0


if __name__ == "__main__":
    sys.exit(main())
