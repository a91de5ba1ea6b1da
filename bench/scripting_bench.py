#!/usr/bin/env python3
"""Scripting benchmark: sluice against redis-server, side by side.

Scenarios (requests per second, measured with redis-benchmark, random keys):

  rlf-evalsha   rate-limiter-flexible's RateLimiterRedis script (SET NX EX, INCRBY,
                PTTL) through EVALSHA, on both servers.
  gcra          a rate limiter answering like CL.THROTTLE: sluice runs its native
                CL.THROTTLE command, redis-server runs the same algorithm (GCRA) as a
                Lua script through EVALSHA.
  gcra-lua      the GCRA Lua script on both servers (the cost of the script itself).
  incr          plain INCR, for scale.

Rounds alternate between the servers (sluice, redis, sluice, redis, ...) so that machine
noise hits both alike; the table shows the median of each over the rounds and the
sluice/redis ratio. `make bench` runs the same scenarios as its "scripting" section
(bench/run.py); standalone:

    bench/scripting_bench.py [--sluice build/sluice-server] [--redis /usr/bin/redis-server]
                             [--rounds 3] [--requests 200000] [--clients 50] [--pipeline 16]
"""
import argparse
import json
import os
import statistics
import sys
import tempfile

from common import Server, redis_benchmark, sluice_args_for_bench

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# rate-limiter-flexible 11's script for RateLimiterRedis.consume (KEYS[1] = key;
# ARGV = points, duration in seconds, the limiter's points and duration).
RLF_SCRIPT = """redis.call('set', KEYS[1], 0, 'EX', ARGV[2], 'NX') \
local consumed = redis.call('incrby', KEYS[1], ARGV[1]) \
local ttl = redis.call('pttl', KEYS[1]) \
if ttl == -1 then \
  redis.call('expire', KEYS[1], ARGV[2]) \
  ttl = 1000 * ARGV[2] \
end \
return {consumed, ttl} \
"""

# GCRA with CL.THROTTLE's arguments and reply: KEYS[1]; ARGV = max_burst, count per
# period, period in seconds, quantity. Stores the theoretical arrival time (TAT) in
# microseconds. Reply: limited, limit, remaining, retry after (s, -1), reset after (s).
GCRA_SCRIPT = """
local burst = tonumber(ARGV[1])
local interval = tonumber(ARGV[3]) * 1000000 / tonumber(ARGV[2])
local quantity = tonumber(ARGV[4] or '1')
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tolerance = interval * (burst + 1)
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval * quantity
local margin = now - (new_tat - tolerance)
if margin < 0 then
  local remaining = math.floor((now - (tat - tolerance)) / interval)
  if remaining < 0 then remaining = 0 end
  return {1, burst + 1, remaining, math.ceil(-margin / 1000000), math.ceil((tat - now) / 1000000)}
end
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX',
           math.max(1, math.ceil((new_tat - now) / 1000)))
return {0, burst + 1, math.floor(margin / interval), -1, math.ceil((new_tat - now) / 1000000)}
"""


# (name, label) of each scenario, in report order.
SCENARIOS = [
    ("rlf-evalsha", "EVALSHA rate-limiter-flexible consume script"),
    ("gcra", "GCRA limiter: sluice CL.THROTTLE, redis Lua script"),
    ("gcra-lua", "GCRA Lua script on both"),
    ("incr", "INCR (for scale)"),
]


def commands(server):
    """redis-benchmark arguments of every scenario on `server` (loads the scripts)."""
    rlf = server.cli("SCRIPT", "LOAD", RLF_SCRIPT).strip()
    gcra = server.cli("SCRIPT", "LOAD", GCRA_SCRIPT).strip()
    key = "__rand_int__"
    rows = {
        "rlf-evalsha": ["EVALSHA", rlf, "1", "rlf:" + key, "1", "60", "100", "60"],
        "gcra-lua": ["EVALSHA", gcra, "1", "gcra:" + key, "15", "30", "60", "1"],
        "incr": ["INCR", "n:" + key],
    }
    if server.kind == "sluice":
        rows["gcra"] = ["CL.THROTTLE", "cell:" + key, "15", "30", "60", "1"]
    else:
        rows["gcra"] = rows["gcra-lua"]
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sluice", default=os.path.join(ROOT, "build", "sluice-server"))
    p.add_argument("--redis", default="/usr/bin/redis-server")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--requests", type=int, default=200000)
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--pipeline", type=int, default=16)
    p.add_argument("--json", help="also write the raw numbers here")
    args = p.parse_args()

    workdir = tempfile.mkdtemp(prefix="sluice-scripting-bench-")
    servers = [Server("sluice", args.sluice, workdir, sluice_args_for_bench()),
               Server("redis", args.redis, workdir, [])]
    names = [name for name, _ in SCENARIOS]
    results = {s.kind: {n: [] for n in names} for s in servers}
    try:
        for s in servers:
            s.start()
        for rnd in range(args.rounds):
            for name in names:
                for s in servers if rnd % 2 == 0 else reversed(servers):
                    s.cli("FLUSHALL")
                    res = redis_benchmark(s, commands(s)[name], args.requests, args.clients,
                                          args.pipeline, 100000)
                    results[s.kind][name].append(res["rps"])
                    print("round %d %-12s %-6s %10.0f req/s" % (rnd + 1, name, s.kind,
                                                               res["rps"]), file=sys.stderr)
    finally:
        for s in servers:
            s.stop()

    print("| scenario | sluice req/s | redis req/s | sluice/redis |")
    print("|---|---|---|---|")
    for name, label in SCENARIOS:
        a = statistics.median(results["sluice"][name])
        b = statistics.median(results["redis"][name])
        print("| %s | %.0f | %.0f | %.2f |" % (label, a, b, a / b))
    print("\n%d rounds, medians; %d requests, %d clients, pipeline %d, random keys." %
          (args.rounds, args.requests, args.clients, args.pipeline))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
