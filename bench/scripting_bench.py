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
sluice/redis ratio. Standalone:

    bench/scripting_bench.py [--sluice build/sluice-server] [--redis /usr/bin/redis-server]
                             [--rounds 3] [--requests 200000] [--clients 50] [--pipeline 16]
"""
import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time

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


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, kind, binary):
        self.kind = kind
        if kind == "redis":
            self.port = free_port()
            cmd = [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                   "--appendonly", "no"]
        else:
            cmd = [binary, "--port", "0", "--bind", "127.0.0.1"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while True:
            line = self.proc.stdout.readline().decode(errors="replace")
            if not line and self.proc.poll() is not None:
                sys.exit("%s did not start" % binary)
            m = re.search(r"Ready to accept connections tcp on port (\d+)", line)
            if m:
                self.port = int(m.group(1))
                break
            if kind == "redis" and "Ready to accept connections" in line:
                break
            if time.monotonic() > deadline:
                sys.exit("%s did not start in time" % binary)
        # Keep draining the log so the server never blocks on a full pipe.
        subprocess.Popen(["cat"], stdin=self.proc.stdout, stdout=subprocess.DEVNULL)

    def cli(self, *args):
        return subprocess.run(["redis-cli", "-p", str(self.port), *map(str, args)],
                              check=True, capture_output=True, text=True).stdout.strip()

    def stop(self):
        self.proc.terminate()
        self.proc.wait(20)


def requests_per_second(server, command, args):
    out = subprocess.run(
        ["redis-benchmark", "-p", str(server.port), "-c", str(args.clients), "-n",
         str(args.requests), "-P", str(args.pipeline), "-r", "100000", "--csv", *command],
        check=True, capture_output=True, text=True).stdout
    # "name","rps",...: the second field of the data line.
    for line in out.splitlines():
        fields = [f.strip('"') for f in line.split(",")]
        if len(fields) > 1 and fields[0] != "test":
            return float(fields[1])
    raise RuntimeError("no result from redis-benchmark: %r" % out)


def scenarios(server):
    rlf = server.cli("SCRIPT", "LOAD", RLF_SCRIPT)
    gcra = server.cli("SCRIPT", "LOAD", GCRA_SCRIPT)
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

    servers = [Server("sluice", args.sluice), Server("redis", args.redis)]
    names = ["rlf-evalsha", "gcra", "gcra-lua", "incr"]
    results = {s.kind: {n: [] for n in names} for s in servers}
    try:
        for rnd in range(args.rounds):
            for name in names:
                for s in servers:
                    s.cli("FLUSHALL")
                    rps = requests_per_second(s, scenarios(s)[name], args)
                    results[s.kind][name].append(rps)
                    print("round %d %-12s %-6s %10.0f req/s" % (rnd + 1, name, s.kind, rps),
                          file=sys.stderr)
    finally:
        for s in servers:
            s.stop()

    print("| scenario | sluice req/s | redis req/s | sluice/redis |")
    print("|---|---|---|---|")
    for name in names:
        a = statistics.median(results["sluice"][name])
        b = statistics.median(results["redis"][name])
        label = "gcra (sluice CL.THROTTLE vs redis Lua)" if name == "gcra" else name
        print("| %s | %.0f | %.0f | %.2f |" % (label, a, b, a / b))
    print("\n%d rounds, medians; %d requests, %d clients, pipeline %d, random keys." %
          (args.rounds, args.requests, args.clients, args.pipeline))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
