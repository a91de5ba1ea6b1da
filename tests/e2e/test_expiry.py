"""Active expiry at scale: short-lived keys among many long-lived ones are
reclaimed about when they expire, without being touched."""

import os
import shutil
import subprocess
import time

import pytest

from helpers import encode_command, wait_until

REDIS_CLI = shutil.which("redis-cli") or "/usr/bin/redis-cli"

pytestmark = [pytest.mark.heavy,
              pytest.mark.skipif(not os.path.exists(REDIS_CLI), reason="redis-cli not installed")]


def pipe(port, data, timeout=120):
    env = dict(os.environ, REDISCLI_HISTFILE="/dev/null")
    p = subprocess.run([REDIS_CLI, "-h", "127.0.0.1", "-p", str(port), "--pipe"], input=data,
                       capture_output=True, timeout=timeout, env=env)
    out = (p.stdout + p.stderr).decode(errors="replace")
    assert p.returncode == 0, out
    return out


# Redis's own active expiry is probabilistic: it stops sampling a database once
# fewer than ~10% of the sampled keys with a TTL are stale, and here only 9% of
# them are, so it can leave thousands of expired keys in place for a long time.
# sluice keeps a timer wheel per shard (docs: DESIGN.md, "Expiry") and reclaims
# every key about when it expires; that stronger promise is what is tested.
@pytest.mark.sluice_only
def test_short_ttl_keys_reclaimed_among_long_ttl_keys(start_server):
    s = start_server()
    r = s.client()
    try:
        long_n, short_n = 200_000, 20_000
        data = b"".join(encode_command("SET", "long:%d" % i, "v" * 20, "EX", "3600")
                        for i in range(long_n))
        out = pipe(s.port, data)
        assert "errors: 0, replies: %d" % long_n in out, out
        stats0 = r.info("stats")["expired_keys"]
        data = b"".join(encode_command("SET", "short:%d" % i, "x" * 100, "EX", "1")
                        for i in range(short_n))
        out = pipe(s.port, data)
        loaded_at = time.monotonic()
        assert "errors: 0, replies: %d" % short_n in out, out
        used_full = r.info("memory")["used_memory"]
        assert r.dbsize() <= long_n + short_n
        # The last short key expires 1 s after it was written; allow 3 s more.
        deadline = loaded_at + 1 + 3
        while r.dbsize() != long_n:
            assert time.monotonic() < deadline, (
                "DBSIZE still %d (want %d) 3 s after the 1 s TTLs ran out" %
                (r.dbsize(), long_n))
            time.sleep(0.1)
        assert r.info("stats")["expired_keys"] - stats0 >= short_n
        db0 = r.info("keyspace")["db0"]
        assert db0["keys"] == long_n and db0["expires"] == long_n, db0
        assert r.info("memory")["used_memory"] < used_full
        # The long-lived keys are all intact.
        assert r.exists(*["long:%d" % i for i in range(0, long_n, 997)]) == \
            len(range(0, long_n, 997))
        assert r.get("short:0") is None
    finally:
        r.close()


def test_expired_keys_are_reclaimed_without_access(start_server):
    # Only short-lived keys, so Redis's sampling reclaims them too.
    s = start_server()
    r = s.client()
    try:
        n = 50_000
        r.set("keeper", "1")
        data = b"".join(encode_command("SET", "t:%d" % i, "v", "PX", str(500 + i % 500))
                        for i in range(n))
        pipe(s.port, data)
        wait_until(lambda: r.dbsize() == 1, timeout=6, interval=0.1,
                   message="the %d short-lived keys to be reclaimed" % n)
        assert r.info("stats")["expired_keys"] >= n
        assert r.get("keeper") == "1"
    finally:
        r.close()
