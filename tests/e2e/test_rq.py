"""RQ (Debian python3-rq 1.13), unmodified: `rq worker --with-scheduler` processes.

RQ keeps a list per queue (workers wait on it with BLPOP, or LPOP in burst mode), a hash
per job, sorted-set registries (scheduled, started, finished, failed, deferred), a set
per job's dependents, and with a server that reports redis_version >= 5 it stores every
job's result in a stream of its own (XADD with MAXLEN, read back with XREVRANGE). The
scheduler takes a per-queue lock (SET NX EX) and moves due jobs with ZRANGEBYSCORE,
ZREM and RPUSH in a MULTI. RQ_COMMANDS is every command this test saw RQ send
(MONITOR against redis-server); the test skips on a server without any of them.
"""

import os
import sys
from datetime import timedelta

import pytest
from rq import Queue, Worker
from rq.job import Job
from rq.registry import (DeferredJobRegistry, FailedJobRegistry, FinishedJobRegistry,
                         ScheduledJobRegistry, StartedJobRegistry)

import capabilities
from helpers import LoggedProcess, wait_until

RQ_COMMANDS = [
    "blpop", "lpop", "rpush", "llen", "xadd", "xrevrange", "hset", "hget", "hgetall", "hmget",
    "hdel", "hincrby", "hincrbyfloat", "zadd", "zrem", "zrange", "zrangebyscore", "zcard",
    "zremrangebyscore", "sadd", "srem", "smembers", "set", "del", "exists", "expire", "persist",
    "ttl", "multi", "exec", "watch", "unwatch", "info", "client", "subscribe", "unsubscribe",
]

JOBS_MODULE = '''
import time

def add(a, b):
    return a + b

def slow(value, seconds):
    time.sleep(seconds)
    return value

def explode(message):
    raise ValueError(message)
'''


class RqWorkers:
    """`rq worker` subprocesses on the test's server; stopped with SIGTERM (RQ's warm
    shutdown) and required to exit 0."""

    def __init__(self, port, path):
        self.port = port
        self.path = path
        self.procs = []

    def start(self, n, queue="default"):
        for _ in range(n):
            i = len(self.procs)
            cmd = [sys.executable, "-m", "rq.cli", "worker", "--url",
                   "redis://127.0.0.1:%d" % self.port, "--path", self.path,
                   "--with-scheduler", "--name", "w%d" % i, queue]
            self.procs.append(LoggedProcess(cmd, os.path.join(self.path, "worker-%d.log" % i)))

    def logs(self):
        return "\n----\n".join(p.logs(5000) for p in self.procs)

    def stop(self):
        return [p.stop(20) for p in self.procs]

    def close(self):
        for p in self.procs:
            p.close()


@pytest.fixture
def rq_env(server, r, tmp_path):
    (tmp_path / "rq_jobs.py").write_text(JOBS_MODULE)
    conn = server.client(decode_responses=False)  # RQ stores pickles
    workers = RqWorkers(server.port, str(tmp_path))
    yield conn, workers
    workers.close()
    conn.close()
    conn.connection_pool.disconnect()


def test_workers_with_scheduler_run_every_kind_of_job(rq_env):
    conn, workers = rq_env
    capabilities.require(conn, commands=RQ_COMMANDS)
    q = Queue("default", connection=conn)
    plain = [q.enqueue("rq_jobs.add", i, i) for i in range(100)]
    failing = [q.enqueue("rq_jobs.explode", "boom %d" % i) for i in range(3)]
    parent = q.enqueue("rq_jobs.slow", "parent", 0.3)
    child = q.enqueue("rq_jobs.add", 20, 22, depends_on=parent)
    scheduled = ScheduledJobRegistry(queue=q)
    later = [q.enqueue_in(timedelta(seconds=2), "rq_jobs.add", i, 1000) for i in range(5)]
    due = {j.id: scheduled.get_scheduled_time(j) for j in later}
    assert child.get_status() == "deferred"
    assert DeferredJobRegistry(queue=q).get_job_ids() == [child.id]
    assert sorted(scheduled.get_job_ids()) == sorted(j.id for j in later)
    assert len(q) == 104

    workers.start(2)
    finished = FinishedJobRegistry(queue=q)
    failed = FailedJobRegistry(queue=q)
    total = len(plain) + 2 + len(later)
    try:
        wait_until(lambda: len(finished) == total and len(failed) == len(failing), timeout=60,
                   message="every job done")
    except AssertionError as e:
        raise AssertionError("%s\n%s" % (e, workers.logs())) from None
    codes = workers.stop()
    assert codes == [0, 0], workers.logs()

    for i, job in enumerate(plain):
        job.refresh()
        assert job.get_status() == "finished"
        assert job.return_value() == 2 * i
        assert job.latest_result().return_value == 2 * i
    assert Job.fetch(child.id, connection=conn).return_value() == 42
    parent.refresh()
    child.refresh()
    assert child.started_at >= parent.ended_at
    for job in later:
        job.refresh()
        assert job.return_value() == job.args[0] + 1000
        # The scheduler works in whole seconds.
        assert job.enqueued_at.replace(tzinfo=None) >= due[job.id].replace(tzinfo=None) - timedelta(seconds=1)
    assert sorted(failed.get_job_ids()) == sorted(j.id for j in failing)
    for job in failing:
        job.refresh()
        assert job.get_status() == "failed"
        assert "ValueError: %s" % job.args[0] in job.latest_result().exc_string
    assert sorted(finished.get_job_ids()) == sorted(
        [j.id for j in plain] + [parent.id, child.id] + [j.id for j in later])
    assert len(q) == 0
    assert len(scheduled) == 0
    assert len(StartedJobRegistry(queue=q)) == 0
    assert DeferredJobRegistry(queue=q).get_job_ids() == []
    # Workers deregister on a warm shutdown.
    assert Worker.all(connection=conn) == []


def test_burst_worker_in_process(rq_env, monkeypatch):
    conn, _ = rq_env
    capabilities.require(conn, commands=[c for c in RQ_COMMANDS if c != "blpop"])
    monkeypatch.syspath_prepend(rq_env[1].path)
    q = Queue("burst", connection=conn)
    jobs = [q.enqueue("rq_jobs.add", i, 1) for i in range(20)]
    bad = q.enqueue("rq_jobs.explode", "no")
    worker = Worker([q], connection=conn, name="burst-worker")
    assert worker.work(burst=True) is True
    assert [Job.fetch(j.id, connection=conn).return_value() for j in jobs] == [i + 1 for i in range(20)]
    assert FailedJobRegistry(queue=q).get_job_ids() == [bad.id]
    assert len(FinishedJobRegistry(queue=q)) == 20
