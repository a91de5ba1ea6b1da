"""Sidekiq (Debian ruby-sidekiq 6.4), unmodified: a ruby script enqueues jobs, a
`sidekiq` process runs them.

Sidekiq pushes each job onto a list per queue (LPUSH) and its processors wait with
BRPOP; scheduled jobs and retries sit in sorted sets (`schedule`, `retry`) that the
poller empties with a Lua ZRANGEBYSCORE + ZREM script; a job out of retries lands in the
`dead` sorted set; the process keeps a heartbeat hash and stat counters. SIDEKIQ_COMMANDS
is every command this test saw Sidekiq send (MONITOR against redis-server); the test
skips on a server without any of them, or where ruby-sidekiq is not installed.
"""

import os
import shutil
import subprocess

import pytest

import capabilities
from helpers import LoggedProcess, wait_until

SIDEKIQ_COMMANDS = [
    "brpop", "lpush", "rpush", "rpop", "llen", "lrange", "zadd", "zrangebyscore", "zrem",
    "zcard", "zremrangebyscore", "zremrangebyrank", "zrange", "sadd", "srem", "scard", "sscan",
    "hmset", "hget", "get", "incr", "incrby", "exists", "expire", "unlink", "multi", "exec",
    "evalsha", "script", "info", "ping",
]

JOBS_RB = r'''
require "sidekiq"

Sidekiq.configure_client { |c| c.redis = { url: ENV.fetch("REDIS_URL") } }
Sidekiq.configure_server do |c|
  c.redis = { url: ENV.fetch("REDIS_URL") }
  # Poll the schedule and retry sets about every second, from the start.
  Sidekiq.options[:poll_interval_average] = 1
end

def record(what)
  Sidekiq.redis { |c| c.rpush("sidekiq-test:done", what) }
end

class RecordJob
  include Sidekiq::Worker
  def perform(id)
    record(id)
  end
end

class FlakyJob
  include Sidekiq::Worker
  sidekiq_options retry: 3
  sidekiq_retry_in { |_count, _exception| 1 }
  def perform(id)
    n = Sidekiq.redis { |c| c.incr("sidekiq-test:attempts:#{id}") }
    raise "attempt #{n} of #{id} fails on purpose" if n < 2
    record(id)
  end
end

class DeadJob
  include Sidekiq::Worker
  sidekiq_options retry: 0
  def perform(id)
    raise "#{id} always fails"
  end
end
'''

ENQUEUE_RB = r'''
require_relative "jobs"
50.times { |i| RecordJob.perform_async("now-#{i}") }
3.times { |i| RecordJob.perform_in(1, "later-#{i}") }
FlakyJob.perform_async("flaky-0")
DeadJob.perform_async("dead-0")
puts "enqueued"
'''


def _sidekiq_missing():
    if not shutil.which("ruby") or not shutil.which("sidekiq"):
        return "ruby-sidekiq is not installed"
    p = subprocess.run(["ruby", "-e", 'require "sidekiq"'], capture_output=True, timeout=60)
    if p.returncode != 0:
        return "ruby cannot load sidekiq: %s" % p.stderr.decode(errors="replace")[-500:]
    return None


def test_sidekiq_process_runs_enqueued_scheduled_retried_and_dead_jobs(server, r, tmp_path):
    missing = _sidekiq_missing()
    if missing:
        pytest.skip(missing)
    capabilities.require(r, commands=SIDEKIQ_COMMANDS)
    (tmp_path / "jobs.rb").write_text(JOBS_RB)
    (tmp_path / "enqueue.rb").write_text(ENQUEUE_RB)
    env = dict(os.environ, REDIS_URL="redis://127.0.0.1:%d/0" % server.port)
    p = subprocess.run(["ruby", "enqueue.rb"], cwd=str(tmp_path), env=env, capture_output=True,
                       timeout=60)
    assert p.returncode == 0 and p.stdout == b"enqueued\n", p.stderr.decode(errors="replace")
    assert r.llen("queue:default") == 52
    assert r.zcard("schedule") == 3

    proc = LoggedProcess(["sidekiq", "-r", "./jobs.rb", "-c", "3", "-t", "5", "-q", "default"],
                         tmp_path / "sidekiq.log", cwd=str(tmp_path), env=env)
    try:
        try:
            wait_until(lambda: r.llen("sidekiq-test:done") == 54 and r.zcard("dead") == 1,
                       timeout=60, interval=0.1, message="every job done")
        except AssertionError as e:
            raise AssertionError("%s\n%s" % (e, proc.logs())) from None
        rc = proc.stop()
        assert rc == 0, proc.logs()
    finally:
        proc.close()

    done = r.lrange("sidekiq-test:done", 0, -1)
    expected = (["now-%d" % i for i in range(50)] + ["later-%d" % i for i in range(3)] +
                ["flaky-0"])
    assert sorted(done) == sorted(expected)
    assert r.get("sidekiq-test:attempts:flaky-0") == "2"
    assert r.llen("queue:default") == 0
    assert r.zcard("schedule") == 0
    assert r.zcard("retry") == 0
    [dead] = r.zrange("dead", 0, -1)
    assert '"dead-0"' in dead and "always fails" in dead
    # Executions: 50 + 3 recorded, flaky twice, dead once; failures: flaky's first, dead.
    assert r.get("stat:processed") == "56"
    assert r.get("stat:failed") == "2"
