"""Harness for the end-to-end tests.

$SLUICE_SERVER names the server binary (default <repo>/build/sluice-server);
$SLUICE_E2E_SERVER_ARGS adds options to every sluice server started.
When its basename is `redis-server`, real Redis is started instead, so every
expectation here can be checked against Redis itself.

sluice is started as `<bin> --port 0 --bind 127.0.0.1 [args]` and the port is
read from its "Ready to accept connections tcp on port N" log line. Every
server a test starts is stopped with SIGTERM afterwards and must exit with
status 0; a server that died, or printed a sanitizer report, fails the test
with its output.
"""

import atexit
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import pytest
import redis

from helpers import RawConn

REPO = Path(__file__).resolve().parents[2]
# A relative $SLUICE_SERVER is taken from the directory pytest was started in.
SERVER_BIN = os.path.abspath(os.environ.get("SLUICE_SERVER",
                                            str(REPO / "build" / "sluice-server")))
IS_REDIS = os.path.basename(SERVER_BIN) == "redis-server"
START_TIMEOUT = float(os.environ.get("SLUICE_E2E_START_TIMEOUT", "20"))
# Options put before every sluice server's own (e.g. "--shards 2" for the
# ThreadSanitizer run, whose deadlock detector follows at most 64 held locks
# per thread: FLUSHALL with 16 databases x 2 shards holds 32).
EXTRA_ARGS = os.environ.get("SLUICE_E2E_SERVER_ARGS", "").split()
STOP_TIMEOUT = 20.0
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                     "WARNING: ThreadSanitizer", "ERROR: ThreadSanitizer")
READY_RE = re.compile(rb"Ready to accept connections tcp on port (\d+)")


def _binary_has_sanitizer(path):
    """Whether the binary was built with ASan or TSan (heavy tests are skipped)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError:
        return None
    if b"__asan_init" in data:
        return "asan"
    if b"__tsan_init" in data:
        return "tsan"
    return None


SANITIZER = None if IS_REDIS else _binary_has_sanitizer(SERVER_BIN)


def _raise_fd_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, 8192) if hard != resource.RLIM_INFINITY else 8192
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


_raise_fd_limit()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pytest_configure(config):
    # The markers are also declared in pytest.ini; this keeps them known when
    # the tests are run with another ini file.
    for line in (
            "heavy: long or memory-hungry test; skipped in the sanitizer runs",
            "concurrency: run again on the ThreadSanitizer build",
            "sluice_only: skipped against redis-server",
            "redis_only: skipped against sluice"):
        config.addinivalue_line("markers", line)


def pytest_report_header(config):
    kind = "redis-server" if IS_REDIS else "sluice"
    extra = " (%s build)" % SANITIZER if SANITIZER else ""
    return "e2e server: %s [%s%s]" % (SERVER_BIN, kind, extra)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if IS_REDIS and item.get_closest_marker("sluice_only"):
            item.add_marker(pytest.mark.skip(reason="sluice-specific behaviour"))
        if not IS_REDIS and item.get_closest_marker("redis_only"):
            item.add_marker(pytest.mark.skip(reason="documented sluice difference"))
        if SANITIZER and item.get_closest_marker("heavy"):
            item.add_marker(pytest.mark.skip(reason="heavy test skipped on %s build" % SANITIZER))


class _Pipe:
    """Drains one pipe of the server into memory on a thread (so a chatty
    server never blocks on a full pipe) and signals when a pattern appears."""

    def __init__(self, stream, pattern=None):
        self.data = bytearray()
        self.lock = threading.Lock()
        self.pattern = pattern
        self.match = None
        self.matched = threading.Event()
        self.closed = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(stream,), daemon=True)
        self.thread.start()

    def _run(self, stream):
        try:
            while True:
                chunk = stream.read1(65536) if hasattr(stream, "read1") else stream.read(4096)
                if not chunk:
                    break
                with self.lock:
                    self.data += chunk
                    if self.pattern is not None and self.match is None:
                        m = self.pattern.search(self.data)
                        if m:
                            self.match = m
                            self.matched.set()
        finally:
            self.closed.set()

    def text(self):
        with self.lock:
            return self.data.decode(errors="replace")


# Every server runs in a directory of its own (its `dir`, where a snapshot
# goes with the default save points and SHUTDOWN), removed when pytest exits.
_SERVER_DIRS = tempfile.mkdtemp(prefix="sluice-e2e-")
atexit.register(shutil.rmtree, _SERVER_DIRS, True)


def server_dir():
    """A fresh empty directory for one server's files."""
    return tempfile.mkdtemp(dir=_SERVER_DIRS)


class ServerProcess:
    """One running server (sluice or redis-server). It runs in its own
    directory, `self.dir` (kept across restart_if_unhealthy)."""

    def __init__(self, args=(), config_file=None, cwd=None):
        self.args = list(args)
        self.config_file = config_file
        self.dir = cwd or server_dir()
        self.clients = []
        self._start()

    def _start(self):
        config_file = self.config_file
        self.port = None
        self.stopped = False
        if IS_REDIS:
            self.port = free_port()
            cmd = [SERVER_BIN]
            if config_file:
                cmd.append(str(config_file))
            cmd += ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                    "--appendonly", "no"] + self.args
            pattern = re.compile(rb"Ready to accept connections")
        else:
            cmd = [SERVER_BIN]
            if config_file:
                cmd.append(str(config_file))
            cmd += ["--port", "0", "--bind", "127.0.0.1"] + EXTRA_ARGS + self.args
            pattern = READY_RE
        self.cmd = cmd
        if not os.path.exists(SERVER_BIN):
            pytest.fail("server binary %s does not exist (build it, or set SLUICE_SERVER)" %
                        SERVER_BIN)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, cwd=self.dir)
        self.out = _Pipe(self.proc.stdout, pattern)
        self.err = _Pipe(self.proc.stderr)
        deadline = time.monotonic() + START_TIMEOUT
        while not self.out.matched.wait(0.05):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self._kill()
                pytest.fail("server did not become ready (exit status %r): %s\n%s" %
                            (self.proc.returncode, " ".join(cmd), self.output()))
        if not IS_REDIS:
            self.port = int(self.out.match.group(1))
        self._wait_connectable(deadline)

    def _wait_connectable(self, deadline):
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    self._kill()
                    pytest.fail("server not accepting on port %d:\n%s" % (self.port,
                                                                          self.output()))
                time.sleep(0.02)

    def output(self):
        if self.proc.poll() is not None:
            self.out.closed.wait(0.5)
            self.err.closed.wait(0.5)
        return "--- stdout ---\n%s\n--- stderr ---\n%s" % (self.out.text()[-20000:],
                                                           self.err.text()[-20000:])

    def sanitizer_report(self):
        text = self.err.text() + self.out.text()
        for marker in SANITIZER_MARKERS:
            at = text.find(marker)
            if at >= 0:
                return text[max(0, at - 200):][:20000]
        return None

    def restart_if_unhealthy(self):
        """For the shared server: if it died or printed a sanitizer report,
        returns a description of what happened and starts a fresh one (so
        the tests after the culprit still run); else returns None."""
        report = self.sanitizer_report()
        dead = self.proc.poll() is not None and not self.stopped
        if not report and not dead:
            return None
        self._kill()
        if report:
            what = "sanitizer report from the server:\n%s" % report
        else:
            what = "server exited unexpectedly with status %r\n%s" % (self.proc.returncode,
                                                                       self.output())
        self._start()
        return what

    def check_healthy(self):
        """Fails if the server died or printed a sanitizer report."""
        report = self.sanitizer_report()
        if report:
            pytest.fail("sanitizer report from the server:\n%s" % report, pytrace=False)
        if self.proc.poll() is not None and not self.stopped:
            pytest.fail("server exited unexpectedly with status %r\n%s" %
                        (self.proc.returncode, self.output()), pytrace=False)

    def client(self, **kw):
        kw.setdefault("decode_responses", True)
        kw.setdefault("socket_timeout", 15)
        kw.setdefault("socket_connect_timeout", 5)
        c = redis.Redis(host="127.0.0.1", port=self.port, **kw)
        self.clients.append(c)
        return c

    def close_clients(self, since=0):
        """Disconnects the clients client() made, from the `since`-th on (the `r`
        fixture closes those of its test, so that forgotten ones do not stay
        connected into the next test)."""
        for c in self.clients[since:]:
            try:
                c.connection_pool.disconnect()
            except Exception:
                pass
        del self.clients[since:]

    def raw(self, timeout=10.0):
        return RawConn(self.port, timeout=timeout)

    def wait_exit(self, timeout=STOP_TIMEOUT):
        """Waits for the process to exit on its own; returns its status."""
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self._kill()
            pytest.fail("server did not exit within %.0fs\n%s" % (timeout, self.output()))
        self.stopped = True
        self.out.closed.wait(2)
        self.err.closed.wait(2)
        return rc

    def stop(self, sig=signal.SIGTERM):
        """Stops the server with `sig`; fails unless it exits with status 0
        and without a sanitizer report."""
        if self.stopped:
            return self.proc.returncode
        died_early = self.proc.poll() is not None
        if not died_early:
            self.proc.send_signal(sig)
        rc = self.wait_exit()
        report = self.sanitizer_report()
        if report:
            pytest.fail("sanitizer report from the server:\n%s" % report, pytrace=False)
        if died_early:
            pytest.fail("server had died before shutdown (status %r)\n%s" %
                        (rc, self.output()), pytrace=False)
        if rc != 0:
            pytest.fail("server exited with status %r after %s\n%s" %
                        (rc, signal.Signals(sig).name, self.output()), pytrace=False)
        return rc

    def _kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
        self.stopped = True


def run_server_expecting_failure(args, config_file=None, timeout=15):
    """Runs the server with options that must make it exit at start-up.

    Returns (exit status, stdout + stderr). Fails if it starts serving."""
    cmd = [SERVER_BIN]
    if config_file:
        cmd.append(str(config_file))
    if IS_REDIS:
        cmd += ["--port", str(free_port()), "--save", "", "--appendonly", "no"]
    else:
        cmd += ["--port", "0"]
    cmd += ["--bind", "127.0.0.1"] + list(args)
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout,
                           cwd=server_dir())
    except subprocess.TimeoutExpired as e:
        pytest.fail("server kept running with bad options %r: %r" % (args, e.stdout))
    return p.returncode, (p.stdout + p.stderr).decode(errors="replace")


@pytest.fixture(scope="session")
def server():
    """The shared server; stopped (and checked for a clean exit) at the end."""
    s = ServerProcess()
    yield s
    s.stop()


@pytest.fixture
def start_server():
    """Factory: start_server('--requirepass', 'pw') starts a private server
    for this test; every one is stopped and checked afterwards."""
    started = []

    def start(*args, config_file=None, cwd=None):
        s = ServerProcess(args, config_file=config_file, cwd=cwd)
        started.append(s)
        return s

    yield start
    errors = []
    for s in started:
        try:
            s.stop()
        except BaseException as e:  # pytest.fail raises an OutcomeException
            errors.append(str(e))
    if errors:
        pytest.fail("\n".join(errors), pytrace=False)


# Ids of client connections that outlived the start-of-test wait (see `r`).
_LEAKED_CLIENTS = set()


def _others(c, me):
    """Ids of the server's other normal clients, leaked ones left out."""
    return {int(x["id"]) for x in c.client_list(_type="normal")} - {me} - _LEAKED_CLIENTS


@pytest.fixture
def r(server):
    """A decode_responses client on the shared server, after FLUSHALL.

    A crash or sanitizer report fails the test during which it appeared;
    the shared server is then restarted for the tests that follow."""
    problem = server.restart_if_unhealthy()
    if problem:
        pytest.fail("before this test: " + problem, pytrace=False)
    first_client = len(server.clients)
    c = server.client()
    c.flushall()
    # The previous test's connections may still be closing on the server's
    # side: let them go before taking this one. Connections that outlive the
    # wait were leaked by some test; they are remembered (by client id) and
    # not waited for again, so one leak does not slow every later test.
    me = c.client_id()
    deadline = time.monotonic() + 2
    while _others(c, me) and time.monotonic() < deadline:
        time.sleep(0.01)
    _LEAKED_CLIENTS.update(_others(c, me))
    clients_before = c.info("clients")["connected_clients"]
    yield c
    # The fixtures built on this one (raw, rb) have closed their connections by
    # now; wait until the server has seen those closes, so that the next test
    # does not count this one's clients or subscriptions. Connections the test
    # took from this client's pool (pipelines with WATCH, pubsub objects), and
    # other clients it made with server.client(), are closed first: the info()
    # below opens one in place of the original.
    server.close_clients(first_client)
    deadline = time.monotonic() + 5
    try:
        while (c.info("clients")["connected_clients"] > clients_before and
               time.monotonic() < deadline):
            time.sleep(0.01)
    except Exception:  # the server may be gone; restart_if_unhealthy says why
        pass
    c.close()
    c.connection_pool.disconnect()  # redis-py 4.3's close() leaves it open
    problem = server.restart_if_unhealthy()
    if problem:
        pytest.fail(problem, pytrace=False)


@pytest.fixture
def rb(server, r):
    """Like `r` but returns bytes (for binary values)."""
    c = server.client(decode_responses=False)
    yield c
    # redis-py 4.3's close() leaves the pool's connections open, and `r`
    # would then wait its 5 s for them to go.
    c.close()
    c.connection_pool.disconnect()


@pytest.fixture
def raw(server, r):
    """Factory of raw-socket connections to the shared server (closed after
    the test); the keyspace is flushed first."""
    conns = []

    def make(timeout=10.0):
        c = server.raw(timeout)
        conns.append(c)
        return c

    yield make
    for c in conns:
        c.close()


@pytest.fixture
def port(server):
    return server.port


@pytest.fixture
def c(raw):
    """One raw-socket connection to the shared server (keyspace flushed)."""
    return raw()



@pytest.fixture
def notify(r):
    """Turns keyspace notifications on for the test (notify("KEA")) and off afterwards."""
    def set_flags(flags):
        r.config_set("notify-keyspace-events", flags)
    yield set_flags
    r.config_set("notify-keyspace-events", "")
