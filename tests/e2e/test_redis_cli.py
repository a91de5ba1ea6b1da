"""The stock Redis tools against the server: redis-cli (one-shot, --raw,
--pipe, --scan, interactive under a pseudo-terminal) and redis-benchmark."""

import os
import re
import select
import shutil
import subprocess
import time

import pytest

from helpers import encode_command

REDIS_CLI = shutil.which("redis-cli") or "/usr/bin/redis-cli"
REDIS_BENCHMARK = shutil.which("redis-benchmark") or "/usr/bin/redis-benchmark"

pytestmark = pytest.mark.skipif(not os.path.exists(REDIS_CLI), reason="redis-cli not installed")


def cli(port, *args, input=None, timeout=60):
    env = dict(os.environ, REDISCLI_HISTFILE="/dev/null", REDISCLI_RCFILE="/dev/null")
    p = subprocess.run([REDIS_CLI, "-h", "127.0.0.1", "-p", str(port)] + list(args),
                       input=input, capture_output=True, timeout=timeout, env=env)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def test_cli_set_get(port, r):
    rc, out, err = cli(port, "set", "k", "v")
    assert rc == 0, err
    assert out.strip() == "OK"
    rc, out, _ = cli(port, "get", "k")
    assert out.strip() == "v"
    rc, out, _ = cli(port, "get", "nokey")
    assert out.strip() == ""
    rc, out, _ = cli(port, "incr", "n")
    assert out.strip() == "1"
    rc, out, _ = cli(port, "ping")
    assert out.strip() == "PONG"
    assert r.get("k") == "v"


def test_cli_raw_and_no_raw(port, r):
    r.set("k", "hello world")
    _, out, _ = cli(port, "--raw", "get", "k")
    assert out == "hello world\n"
    _, out, _ = cli(port, "--no-raw", "get", "k")
    assert out.strip() == '"hello world"'
    r.mset({"a": "1", "b": "2"})
    _, out, _ = cli(port, "--raw", "mget", "a", "nokey", "b")
    assert out.split("\n")[:3] == ["1", "", "2"]
    _, out, _ = cli(port, "--no-raw", "mget", "a", "nokey", "b")
    assert out.strip().split("\n") == ['1) "1"', "2) (nil)", '3) "2"']
    _, out, _ = cli(port, "--no-raw", "incr", "a")
    assert out.strip() == "(integer) 2"


def test_cli_errors_are_printed(port, r):
    _, out, err = cli(port, "nosuchcommand", "x")
    assert "ERR unknown command 'nosuchcommand', with args beginning with: 'x'" in out + err
    r.set("s", "abc")
    _, out, err = cli(port, "incr", "s")
    assert "ERR value is not an integer or out of range" in out + err
    _, out, err = cli(port, "get")
    assert "ERR wrong number of arguments for 'get' command" in out + err


def test_cli_reads_args_from_stdin(port, r):
    rc, out, _ = cli(port, "-x", "set", "fromstdin", input=b"piped value")
    assert out.strip() == "OK"
    assert r.get("fromstdin") == "piped value"


def test_cli_info_and_dbsize(port, r):
    r.set("x", "1")
    _, out, _ = cli(port, "dbsize")
    assert out.strip() == "1"
    _, out, _ = cli(port, "info", "server")
    assert "redis_version:" in out


def test_cli_pipe_100k(port, r):
    n = 100000
    data = b"".join(encode_command("SET", "pipe:%d" % i, "value:%d" % i) for i in range(n))
    rc, out, err = cli(port, "--pipe", input=data, timeout=120)
    assert rc == 0, out + err
    assert "errors: 0, replies: %d" % n in out + err, out + err
    assert r.dbsize() == n
    assert r.get("pipe:%d" % (n - 1)) == "value:%d" % (n - 1)


def test_cli_pipe_reports_errors(port, r):
    r.set("s", "abc")
    data = encode_command("SET", "a", "1") + encode_command("INCR", "s") + \
        encode_command("GET", "a")
    rc, out, err = cli(port, "--pipe", input=data, timeout=60)
    assert "errors: 1, replies: 3" in out + err, out + err


def test_cli_scan_pattern(port, r):
    users = {"user:%d" % i for i in range(500)}
    r.mset({k: "v" for k in users})
    r.mset({"session:%d" % i: "v" for i in range(500)})
    r.set("user", "not matched")
    rc, out, _ = cli(port, "--scan", "--pattern", "user:*", timeout=60)
    assert rc == 0
    got = [l for l in out.split("\n") if l]
    assert len(got) == len(set(got)) == len(users)
    assert set(got) == users
    rc, out, _ = cli(port, "--scan", timeout=60)
    assert len({l for l in out.split("\n") if l}) == 1001


def test_cli_interactive_under_pty(port, r):
    """Interactive redis-cli asks COMMAND DOCS at start-up and crashes on a
    malformed reply; this drives it like a person would."""
    master, slave = os.openpty()
    env = dict(os.environ, REDISCLI_HISTFILE="/dev/null", REDISCLI_RCFILE="/dev/null",
               TERM="dumb")
    p = subprocess.Popen([REDIS_CLI, "-h", "127.0.0.1", "-p", str(port)], stdin=slave,
                         stdout=slave, stderr=slave, env=env, close_fds=True)
    os.close(slave)
    output = bytearray()

    def read_until(pattern, timeout=10):
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while time.monotonic() < deadline:
            if regex.search(output.decode(errors="replace")):
                return
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                output.extend(chunk)
            elif p.poll() is not None:
                break
        raise AssertionError("redis-cli output never matched %r (exit status %r):\n%s" %
                             (pattern, p.poll(), output.decode(errors="replace")))

    prompt = r"127\.0\.0\.1:%d> " % port
    try:
        read_until(prompt)
        os.write(master, b"set a 1\r")
        read_until(r"OK")
        del output[:]
        os.write(master, b"get a\r")
        read_until(r'"1"')
        del output[:]
        os.write(master, b"incr a\r")
        read_until(r"\(integer\) 2")
        del output[:]
        os.write(master, b"get nokey\r")
        read_until(r"\(nil\)")
        del output[:]
        os.write(master, b"nosuchcmd\r")
        read_until(r"ERR unknown command 'nosuchcmd'")
        del output[:]
        os.write(master, b"quit\r")
        try:
            rc = p.wait(10)
        except subprocess.TimeoutExpired:
            raise AssertionError("redis-cli did not exit after quit:\n%s" %
                                 output.decode(errors="replace"))
        assert rc == 0, output.decode(errors="replace")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(5)
        os.close(master)
    assert r.get("a") == "2"


@pytest.mark.heavy
@pytest.mark.skipif(not os.path.exists(REDIS_BENCHMARK), reason="redis-benchmark not installed")
def test_redis_benchmark(port, r):
    p = subprocess.run([REDIS_BENCHMARK, "-h", "127.0.0.1", "-p", str(port), "-t",
                        "set,get,incr,mset", "-n", "20000", "-q"],
                       capture_output=True, timeout=180, stdin=subprocess.DEVNULL)
    out = (p.stdout + p.stderr).decode(errors="replace")
    assert p.returncode == 0, out
    # Progress lines are separated by carriage returns; the summaries end in \n.
    lines = [l.strip() for l in re.split(r"[\r\n]", out) if l.strip()]
    for name in ["SET", "GET", "INCR", "MSET (10 keys)"]:
        summary = [l for l in lines if re.match(r"%s: [\d.]+ requests per second" %
                                                re.escape(name), l)]
        assert summary, "no summary for %s:\n%s" % (name, out)
    assert "Error" not in out and "ERR" not in out, out
    assert "WARNING" not in out, out
