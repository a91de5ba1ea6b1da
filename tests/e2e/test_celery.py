"""Celery (Debian python3-celery 5.2) with kombu's Redis transport and the Redis result
backend, unmodified: a `celery worker` subprocess runs a few tasks.

kombu's transport keeps a list per queue and waits on all of a worker's queues with one
BRPOP; unacknowledged messages sit in a hash plus a sorted set (`unacked`,
`unacked_index`) guarded by a redis-py Lock (EVALSHA); broadcasts (the worker's control mailbox) go over PUBLISH/PSUBSCRIBE.
The result backend stores each result with SETEX and announces it on a channel the
caller SUBSCRIBEs to. CELERY_COMMANDS is every command this test saw Celery send
(MONITOR against redis-server); the test skips on a server without any of them.
"""

import gc
import os
import sys

import pytest

import capabilities
from helpers import LoggedProcess

CELERY_COMMANDS = [
    "brpop", "lpush", "llen", "hset", "hdel", "zadd", "zrem", "zrevrangebyscore", "set",
    "setex", "get", "del", "incrby", "sadd", "srem", "multi", "exec", "publish", "subscribe",
    "unsubscribe", "psubscribe", "evalsha", "script", "ping", "info",
]

TASKS_MODULE = '''
import os
import redis
from celery import Celery

url = os.environ["CELERY_TEST_URL"]
app = Celery("celery_tasks", broker=url, backend=url)
app.conf.update(task_serializer="json", result_serializer="json", accept_content=["json"],
                broker_transport_options={"visibility_timeout": 60})
counter = redis.Redis.from_url(url)


@app.task
def add(x, y):
    return x + y


@app.task
def explode(message):
    raise ValueError(message)


@app.task(bind=True, max_retries=5)
def flaky(self, key, failures):
    # Fails `failures` times, then returns how many attempts it took.
    n = counter.incr("attempts:" + key)
    if n <= failures:
        raise self.retry(countdown=0.05)
    return n
'''


@pytest.fixture
def celery_app(server, r, tmp_path, monkeypatch):
    capabilities.require(r, commands=CELERY_COMMANDS)
    (tmp_path / "celery_tasks.py").write_text(TASKS_MODULE)
    url = "redis://127.0.0.1:%d/0" % server.port
    monkeypatch.setenv("CELERY_TEST_URL", url)
    monkeypatch.syspath_prepend(str(tmp_path))
    import celery_tasks
    env = dict(os.environ, CELERY_TEST_URL=url)
    worker = LoggedProcess(
        [sys.executable, "-m", "celery", "-A", "celery_tasks", "worker", "-P", "threads",
         "-c", "4", "-n", "w1@test", "--without-gossip", "--without-mingle",
         "--without-heartbeat", "-l", "INFO"],
        tmp_path / "worker.log", cwd=str(tmp_path), env=env)
    celery_tasks.logs = worker.logs
    yield celery_tasks
    rc = worker.stop()
    # Results unsubscribe when they are freed: free them while the server still runs.
    gc.collect()
    celery_tasks.app.backend.result_consumer.stop()
    celery_tasks.app.close()
    sys.modules.pop("celery_tasks", None)
    logs = worker.logs()
    worker.close()
    assert rc == 0, logs


def test_worker_runs_tasks_and_stores_results(celery_app):
    t = celery_app
    try:
        assert t.add.delay(2, 3).get(timeout=30) == 5
        results = [t.add.delay(i, i) for i in range(30)]
        assert [res.get(timeout=30) for res in results] == [2 * i for i in range(30)]
        assert all(res.successful() for res in results)
        assert t.add.apply_async((20, 22), countdown=1).get(timeout=30) == 42
        bad = t.explode.delay("boom")
        with pytest.raises(ValueError, match="boom"):
            bad.get(timeout=30)
        assert bad.state == "FAILURE"
        assert t.flaky.delay("k", 2).get(timeout=30) == 3
    except Exception as e:
        raise AssertionError("%r\nworker log:\n%s" % (e, t.logs())) from e
