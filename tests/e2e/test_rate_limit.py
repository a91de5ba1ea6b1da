"""Rate limiting: CL.THROTTLE (redis-cell's command) and GCRA (Redis 8's).

Both answer [limited, limit, remaining, retry_after_s, reset_after_s]; the
durations are whole seconds rounded up. Neither command exists in the
redis-server these tests can also run against, so all are sluice_only.
"""

import threading
import time

import pytest

from conftest import SANITIZER
from helpers import NOT_FLOAT, NOT_INT, SYNTAX, arity_error, error_of, run_threads

pytestmark = pytest.mark.sluice_only

OUT_OF_RANGE = ("ERR rate limit out of range: period / count must be at least one microsecond, "
                "and (max_burst + 1) * period / count at most 2^62 microseconds")


def throttle(r, key, *args):
    return r.execute_command("CL.THROTTLE", key, *args)


def gcra(r, key, *args):
    return r.execute_command("GCRA", key, *args)


# ---- CL.THROTTLE ------------------------------------------------------------------------------

def test_cl_throttle_burst_sequence(r):
    # 5 per 10 s (a token every 2 s) and a burst of 3: 4 tokens when full.
    replies = [throttle(r, "user:1", 3, 5, 10) for _ in range(5)]
    assert replies == [
        [0, 4, 3, -1, 2],
        [0, 4, 2, -1, 4],
        [0, 4, 1, -1, 6],
        [0, 4, 0, -1, 8],
        [1, 4, 0, 2, 8],
    ]
    # A limited call takes nothing: the answer stays the same.
    assert throttle(r, "user:1", 3, 5, 10) == [1, 4, 0, 2, 8]


def test_cl_throttle_readme_example(r):
    # redis-cell's own example: 30 per 60 s, burst 15.
    assert throttle(r, "user123", 15, 30, 60) == [0, 16, 15, -1, 2]
    assert throttle(r, "user123", 15, 30, 60, 1) == [0, 16, 14, -1, 4]


def test_cl_throttle_quantity(r):
    # 10 per 60 s (a token every 6 s), burst 5: 6 tokens when full.
    assert throttle(r, "q", 5, 10, 60, 4) == [0, 6, 2, -1, 24]
    assert throttle(r, "q", 5, 10, 60, 3) == [1, 6, 2, 6, 24]
    assert throttle(r, "q", 5, 10, 60, 2) == [0, 6, 0, -1, 36]
    # More than a full limiter holds can never be admitted: no retry time.
    assert throttle(r, "big", 5, 10, 60, 7) == [1, 6, 6, -1, 0]
    assert r.exists("big") == 0
    # Quantity 0 reports the state without taking anything.
    assert throttle(r, "q", 5, 10, 60, 0) == [0, 6, 0, -1, 36]
    assert throttle(r, "fresh", 5, 10, 60, 0) == [0, 6, 6, -1, 0]
    assert r.exists("fresh") == 0


def test_cl_throttle_refills_after_retry_after(r):
    assert throttle(r, "slow", 0, 1, 1) == [0, 1, 0, -1, 1]
    limited = throttle(r, "slow", 0, 1, 1)
    assert limited[:3] == [1, 1, 0] and limited[3] == 1
    time.sleep(1.05)
    assert throttle(r, "slow", 0, 1, 1) == [0, 1, 0, -1, 1]


def test_cl_throttle_key_state_and_ttl(r):
    before = time.time()
    throttle(r, "state", 0, 1, 10)
    assert r.type("state") == "string"
    tat_us = int(r.get("state"))  # the theoretical arrival time in microseconds
    assert (before + 9) * 1e6 < tat_us < (time.time() + 11) * 1e6
    # Deadlines are rounded up to the next millisecond.
    assert 9000 < r.pttl("state") <= 10001
    # The key is gone once the limiter is full again.
    throttle(r, "short", 1, 1, 1)
    assert 0 < r.pttl("short") <= 1001
    time.sleep(1.1)
    assert r.exists("short") == 0


def test_cl_throttle_keys_are_independent(r):
    assert throttle(r, "a", 0, 1, 60)[0] == 0
    assert throttle(r, "a", 0, 1, 60)[0] == 1
    assert throttle(r, "b", 0, 1, 60)[0] == 0


def test_cl_throttle_is_case_insensitive(r):
    assert r.execute_command("cl.throttle", "k", 1, 1, 60) == [0, 2, 1, -1, 60]
    assert r.execute_command("Cl.Throttle", "k", 1, 1, 60) == [0, 2, 0, -1, 120]


def test_cl_throttle_on_non_integer_value(r, c):
    r.set("text", "hello")
    assert error_of(c, "CL.THROTTLE", "text", "1", "1", "60") == NOT_INT
    assert r.get("text") == "hello"


@pytest.mark.parametrize("args", [[], ["k"], ["k", "1"], ["k", "1", "1"],
                                  ["k", "1", "1", "60", "1", "extra"]], ids=len)
def test_cl_throttle_arity(c, args):
    assert error_of(c, "CL.THROTTLE", *args) == arity_error("cl.throttle")


@pytest.mark.parametrize("args,error", [
    (["abc", "1", "60"], NOT_INT),
    (["1", "1.5", "60"], NOT_INT),
    (["1", "1", "60.5"], NOT_INT),
    (["1", "1", "60", "x"], NOT_INT),
    (["1", "1", ""], NOT_INT),
    (["99999999999999999999", "1", "60"], NOT_INT),
    (["-1", "1", "60"], "ERR max_burst must not be negative"),
    (["1", "0", "60"], "ERR count per period must be positive"),
    (["1", "-3", "60"], "ERR count per period must be positive"),
    (["1", "1", "0"], "ERR period must be positive"),
    (["1", "1", "-60"], "ERR period must be positive"),
    (["1", "1", "60", "-1"], "ERR quantity must not be negative"),
    # Faster than a token per microsecond, or spans past the 64-bit clock.
    (["0", "2000000", "1"], OUT_OF_RANGE),
    (["9223372036854775807", "1", "1"], OUT_OF_RANGE),
    (["1", "1", "9223372036854775807"], OUT_OF_RANGE),
    (["1000000000", "1", "1000000"], OUT_OF_RANGE),
])
def test_cl_throttle_bad_arguments(c, args, error):
    assert error_of(c, "CL.THROTTLE", "k", *args) == error
    assert c.call("EXISTS", "k") == 0


def test_cl_throttle_huge_quantity_is_limited_not_an_error(r):
    assert throttle(r, "k", 1, 1, 60, 9223372036854775807) == [1, 2, 2, -1, 0]


# ---- GCRA -------------------------------------------------------------------------------------

def test_gcra_burst_sequence(r):
    # 10 per 60 s (a token every 6 s), burst 5: 6 tokens when full.
    replies = [gcra(r, "api:user:123", 5, 10, 60) for _ in range(7)]
    assert replies == [
        [0, 6, 5, -1, 6],
        [0, 6, 4, -1, 12],
        [0, 6, 3, -1, 18],
        [0, 6, 2, -1, 24],
        [0, 6, 1, -1, 30],
        [0, 6, 0, -1, 36],
        [1, 6, 0, 6, 36],
    ]


def test_gcra_walkthrough(r):
    # 5 per 10 s, burst 3: the sequence from the rate-limiting guide.
    replies = [gcra(r, "api:user:1", 3, 5, 10) for _ in range(5)]
    assert replies == [
        [0, 4, 3, -1, 2],
        [0, 4, 2, -1, 4],
        [0, 4, 1, -1, 6],
        [0, 4, 0, -1, 8],
        [1, 4, 0, 2, 8],
    ]


def test_gcra_tokens(r):
    assert gcra(r, "w", 5, 10, 60) == [0, 6, 5, -1, 6]
    assert gcra(r, "w", 5, 10, 60, "TOKENS", 3) == [0, 6, 2, -1, 24]
    assert gcra(r, "w", 5, 10, 60, "tokens", 3) == [1, 6, 2, 6, 24]
    assert gcra(r, "big", 5, 10, 60, "TOKENS", 7) == [1, 6, 6, -1, 0]


def test_gcra_fractional_period_and_refill(r):
    # One token every 1.5 s: durations round up to 2 s.
    assert gcra(r, "frac", 0, 1, "1.5") == [0, 1, 0, -1, 2]
    limited = gcra(r, "frac", 0, 1, 1.5)
    assert limited[:3] == [1, 1, 0] and limited[3] == 2 and limited[4] == 2
    assert 1000 < r.pttl("frac") <= 1501
    time.sleep(1.55)
    assert gcra(r, "frac", 0, 1, 1.5) == [0, 1, 0, -1, 2]


def test_gcra_and_cl_throttle_share_state(r):
    assert gcra(r, "shared", 1, 1, 60) == [0, 2, 1, -1, 60]
    assert throttle(r, "shared", 1, 1, 60) == [0, 2, 0, -1, 120]
    assert gcra(r, "shared", 1, 1, 60)[0] == 1


@pytest.mark.parametrize("args", [[], ["k"], ["k", "1"], ["k", "1", "1"]], ids=len)
def test_gcra_arity(c, args):
    assert error_of(c, "GCRA", *args) == arity_error("gcra")


@pytest.mark.parametrize("args,error", [
    (["x", "1", "60"], NOT_INT),
    (["1", "1.0", "60"], NOT_INT),
    (["1", "1", "sixty"], NOT_FLOAT),
    (["1", "1", "nan"], NOT_FLOAT),
    (["1", "1", "60", "TOKENS", "x"], NOT_INT),
    (["1", "1", "60", "TOKENS"], SYNTAX),
    (["1", "1", "60", "COST", "2"], SYNTAX),
    (["1", "1", "60", "TOKENS", "2", "extra"], SYNTAX),
    (["-1", "1", "60"], "ERR max-burst must not be negative"),
    (["1", "0", "60"], "ERR tokens-per-period must be positive"),
    (["1", "1", "0.999"], "ERR period must be at least 1 second"),
    (["1", "1", "-5"], "ERR period must be at least 1 second"),
    (["1", "1", "-inf"], "ERR period must be at least 1 second"),
    (["1", "1", "60", "TOKENS", "0"], "ERR TOKENS count must be positive"),
    (["1", "1", "60", "TOKENS", "-2"], "ERR TOKENS count must be positive"),
    (["1", "1", "inf"], OUT_OF_RANGE),
    (["1", "1", "1e300"], OUT_OF_RANGE),
    (["0", "2000000", "1"], OUT_OF_RANGE),
    (["9223372036854775807", "1", "1"], OUT_OF_RANGE),
])
def test_gcra_bad_arguments(c, args, error):
    assert error_of(c, "GCRA", "k", *args) == error
    assert c.call("EXISTS", "k") == 0


# ---- Both -------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["cl.throttle", "gcra"])
def test_command_info_and_docs(c, name):
    info = c.call("COMMAND", "INFO", name)[0]
    assert info[0] == name.encode()
    assert info[1] == -5
    assert {f if isinstance(f, str) else f.decode() for f in info[2]} == {"write", "denyoom",
                                                                          "fast"}
    assert info[3:6] == [1, 1, 1]
    reply = c.call("COMMAND", "DOCS", name)
    doc = dict(zip(reply[1][0::2], reply[1][1::2]))
    assert doc[b"group"] == b"ratelimit"
    assert doc[b"summary"]


def test_rate_limit_in_a_pipeline(r):
    p = r.pipeline(transaction=False)
    for _ in range(3):
        p.execute_command("CL.THROTTLE", "pipe", 1, 1, 60)
    assert [reply[0] for reply in p.execute()] == [0, 0, 1]


# ---- Concurrency ------------------------------------------------------------------------------



@pytest.mark.concurrency
@pytest.mark.parametrize("command", ["CL.THROTTLE", "GCRA"])
def test_many_threads_never_exceed_the_limit(server, r, command):
    # 20 tokens, one back per hour: within the test nothing refills, so
    # exactly 20 of the 16 * 40 calls are admitted.
    per_thread = 40 if not SANITIZER else 15
    admitted = []
    lock = threading.Lock()

    def work(i):
        c = server.client()
        try:
            for _ in range(per_thread):
                reply = c.execute_command(command, "hot", 19, 1, 3600)
                assert reply[1] == 20
                if reply[0] == 0:
                    with lock:
                        admitted.append(reply[2])
        finally:
            c.close()
    run_threads(work, 16)
    assert len(admitted) == 20
    # Each admission saw a different number of tokens left: 19 down to 0.
    assert sorted(admitted) == list(range(20))
    assert throttle(r, "hot", 19, 1, 3600)[0] == 1


@pytest.mark.concurrency
def test_many_threads_follow_the_rate(server, r):
    # 5 tokens when full, one back every 100 ms, for about 1.5 s of hammering.
    admitted = []
    lock = threading.Lock()
    start = time.monotonic()
    deadline = start + 1.5

    def work(i):
        c = server.client()
        try:
            while time.monotonic() < deadline:
                if c.execute_command("GCRA", "rate", 4, 10, 1)[0] == 0:
                    with lock:
                        admitted.append(time.monotonic())
        finally:
            c.close()
    run_threads(work, 8)
    elapsed = time.monotonic() - start
    # GCRA's bound: the burst plus one token per elapsed interval.
    assert len(admitted) <= 5 + int(elapsed / 0.1) + 1
    assert len(admitted) >= 5 + int(1.5 / 0.1) - 3
    # In any one-second window: at most the burst plus ten refills.
    admitted.sort()
    lo = 0
    for hi in range(len(admitted)):
        while admitted[hi] - admitted[lo] >= 1.0:
            lo += 1
        assert hi - lo + 1 <= 5 + 10 + 1  # +1: client-side timestamps lag the server
