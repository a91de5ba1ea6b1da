"""The `limits` library (Debian python3-limits), unmodified, with its Redis storage.

Moving window: a list of hit timestamps per key (Lua: LINDEX, LPUSH, LTRIM, EXPIRE;
LRANGE for the window stats). Fixed window: a counter per window (Lua: INCRBY, EXPIRE).
`RedisStorage.reset()` runs KEYS and DELs what it found from Lua, keys the script never
declared.
"""

import threading

import pytest
from limits import RateLimitItemPerMinute, RateLimitItemPerSecond
from limits.storage import RedisStorage
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter

import capabilities
from helpers import run_threads, wait_until

STRATEGIES = [MovingWindowRateLimiter, FixedWindowRateLimiter]


@pytest.fixture
def storage(server, r):
    s = RedisStorage("redis://127.0.0.1:%d" % server.port, socket_timeout=15)
    yield s
    s.storage.close()
    s.storage.connection_pool.disconnect()


@pytest.mark.parametrize("strategy", STRATEGIES, ids=lambda s: s.__name__)
def test_hits_up_to_the_limit_then_refuses(storage, strategy):
    limiter = strategy(storage)
    item = RateLimitItemPerMinute(10)
    assert [limiter.hit(item, "user", "a") for _ in range(12)] == [True] * 10 + [False] * 2
    assert limiter.test(item, "user", "a") is False
    # Another identifier has its own window.
    assert limiter.hit(item, "user", "b") is True
    reset, remaining = limiter.get_window_stats(item, "user", "a")
    assert remaining == 0
    reset_b, remaining_b = limiter.get_window_stats(item, "user", "b")
    assert remaining_b == 9
    assert reset > 0 and reset_b > 0
    limiter.clear(item, "user", "a")
    assert limiter.hit(item, "user", "a") is True


# The moving window records only the hits it allows; the fixed window's counter also
# counts refused ones (INCRBY first, then compare).
@pytest.mark.parametrize("strategy,expected", [
    (MovingWindowRateLimiter, [True, False, True, False]),
    (FixedWindowRateLimiter, [True, False, False, False]),
], ids=["MovingWindowRateLimiter", "FixedWindowRateLimiter"])
def test_cost_counts_several_hits(storage, strategy, expected):
    limiter = strategy(storage)
    item = RateLimitItemPerMinute(10)
    got = [limiter.hit(item, "bulk", cost=n) for n in (7, 4, 3, 1)]
    assert got == expected


@pytest.mark.parametrize("strategy", STRATEGIES, ids=lambda s: s.__name__)
def test_window_passes(storage, strategy):
    limiter = strategy(storage)
    item = RateLimitItemPerSecond(3, 1)
    assert [limiter.hit(item, "short") for _ in range(4)] == [True, True, True, False]
    # Within about a second (the key's TTL for the fixed window, the timestamps' age
    # for the moving one) the hits are allowed again.
    wait_until(lambda: limiter.test(item, "short"), timeout=5, message="window passed")
    assert limiter.hit(item, "short") is True


@pytest.mark.concurrency
@pytest.mark.parametrize("strategy", STRATEGIES, ids=lambda s: s.__name__)
def test_concurrent_hits_allow_exactly_the_limit(server, r, strategy):
    item = RateLimitItemPerMinute(100)
    allowed = []
    lock = threading.Lock()

    def worker(_):
        s = RedisStorage("redis://127.0.0.1:%d" % server.port, socket_timeout=15)
        limiter = strategy(s)
        n = sum(limiter.hit(item, "shared") for _ in range(50))
        with lock:
            allowed.append(n)
        s.storage.connection_pool.disconnect()

    run_threads(worker, 6)
    assert sum(allowed) == 100


def test_storage_check(storage):
    assert storage.check() is True


def test_storage_reset_deletes_limiter_keys(storage, r):
    capabilities.require(r, undeclared_keys=True, keys_in_script=True)
    limiter = MovingWindowRateLimiter(storage)
    item = RateLimitItemPerMinute(5)
    for ident in ("a", "b", "c"):
        limiter.hit(item, ident)
    FixedWindowRateLimiter(storage).hit(item, "d")
    r.set("other", "kept")
    assert storage.reset() == 4
    assert r.keys("LIMITER*") == []
    assert r.get("other") == "kept"
    assert limiter.hit(item, "a") is True
