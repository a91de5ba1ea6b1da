"""Small helpers shared by the end-to-end tests.

RawConn speaks RESP over a plain socket so protocol tests can send exact bytes
and check the exact bytes of each reply (redis-py 4.3 only speaks RESP2 and
hides the wire format). Every socket operation has a timeout.
"""

import signal
import socket
import subprocess
import threading
import time

DEFAULT_TIMEOUT = 10.0


class RespError(Exception):
    """An error reply (-ERR ... or !<len> blob error)."""

    def __eq__(self, other):
        return isinstance(other, RespError) and str(self) == str(other)

    def __hash__(self):
        return hash(str(self))


class Verbatim(str):
    """A RESP3 verbatim string; `fmt` is the three-letter format ('txt')."""

    def __new__(cls, fmt, text):
        obj = super().__new__(cls, text)
        obj.fmt = fmt
        return obj


class Push(list):
    """A RESP3 push message."""


class Incomplete(Exception):
    pass


def encode_command(*args):
    """Multibulk encoding of one command; str args are UTF-8 encoded."""
    out = [b"*%d\r\n" % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        elif isinstance(a, int):
            a = str(a).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(a), a))
    return b"".join(out)


def _line(buf, pos):
    end = buf.find(b"\r\n", pos)
    if end < 0:
        raise Incomplete()
    return buf[pos:end], end + 2


def parse_reply(buf, pos=0):
    """Parses one complete reply starting at buf[pos].

    Returns (value, next_pos); raises Incomplete when more bytes are needed.
    Bulk strings come back as bytes, simple strings as str, maps as a list of
    (key, value) pairs (order matters for the tests), sets as a Python set
    when hashable else a list, null as None, doubles as float, booleans as bool.
    """
    if pos >= len(buf):
        raise Incomplete()
    t = buf[pos:pos + 1]
    line, pos = _line(buf, pos + 1)
    if t == b"+":
        return line.decode(), pos
    if t == b"-":
        return RespError(line.decode(errors="replace")), pos
    if t == b":":
        return int(line), pos
    if t == b"(":
        return int(line), pos
    if t == b",":
        return float(line), pos
    if t == b"#":
        return line == b"t", pos
    if t == b"_":
        return None, pos
    if t in (b"$", b"=", b"!"):
        n = int(line)
        if n < 0:
            return None, pos
        if len(buf) < pos + n + 2:
            raise Incomplete()
        data = buf[pos:pos + n]
        pos += n + 2
        if t == b"=":
            return Verbatim(data[:3].decode(), data[4:].decode()), pos
        if t == b"!":
            return RespError(data.decode(errors="replace")), pos
        return data, pos
    if t in (b"*", b"~", b">"):
        n = int(line)
        if n < 0:
            return None, pos
        items = []
        for _ in range(n):
            v, pos = parse_reply(buf, pos)
            items.append(v)
        if t == b">":
            return Push(items), pos
        if t == b"~":
            try:
                return set(items), pos
            except TypeError:
                return items, pos
        return items, pos
    if t in (b"%", b"|"):
        n = int(line)
        pairs = []
        for _ in range(n):
            k, pos = parse_reply(buf, pos)
            v, pos = parse_reply(buf, pos)
            pairs.append((k, v))
        return pairs, pos
    raise ValueError("unknown RESP type byte %r in %r" % (t, buf[pos - 20:pos + 20]))


class RawConn:
    """A blocking socket that sends raw bytes and reads whole RESP replies."""

    def __init__(self, port, host="127.0.0.1", timeout=DEFAULT_TIMEOUT):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.settimeout(timeout)
        self.timeout = timeout
        self.buf = b""

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("no complete reply within %.1fs; have %r" %
                               (self.timeout, self.buf[:200]))
        self.sock.settimeout(remaining)
        chunk = self.sock.recv(1 << 20)
        if not chunk:
            raise ConnectionError("connection closed by server; unparsed %r" % self.buf[:200])
        self.buf += chunk

    def read_raw(self, timeout=None):
        """The exact bytes of the next complete reply."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            try:
                _, end = parse_reply(self.buf)
                data, self.buf = self.buf[:end], self.buf[end:]
                return data
            except Incomplete:
                self._fill(deadline)

    def read(self, timeout=None):
        """The next complete reply, parsed (see parse_reply)."""
        raw = self.read_raw(timeout)
        return parse_reply(raw)[0]

    def read_many(self, n, timeout=None):
        """n replies, parsed; efficient for long pipelines."""
        deadline = time.monotonic() + (timeout or self.timeout)
        out = []
        pos = 0
        while len(out) < n:
            try:
                v, pos2 = parse_reply(self.buf, pos)
                out.append(v)
                pos = pos2
            except Incomplete:
                self.buf = self.buf[pos:]
                pos = 0
                self._fill(deadline)
        self.buf = self.buf[pos:]
        return out

    def call(self, *args):
        """Sends one command and returns its parsed reply."""
        self.send(encode_command(*args))
        return self.read()

    def call_raw(self, *args):
        self.send(encode_command(*args))
        return self.read_raw()

    def is_closed(self, timeout=3.0):
        """True if the server closes the connection within `timeout` (any
        bytes still buffered are discarded)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                return False
            except (ConnectionResetError, BrokenPipeError):
                return True
            if not chunk:
                return True
        return False

    def read_until_close(self, timeout=5.0):
        """Everything the server sends until it closes the connection."""
        deadline = time.monotonic() + timeout
        data = self.buf
        self.buf = b""
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("connection not closed; got %r" % data[:300])
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(65536)
            except (ConnectionResetError, BrokenPipeError):
                return data
            if not chunk:
                return data
            data += chunk


def wait_until(predicate, timeout=5.0, interval=0.05, message="condition"):
    """Polls predicate() until it returns a truthy value; returns that value."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError("timed out after %.1fs waiting for %s (last: %r)" %
                         (timeout, message, last))


def info_field(client, section, field):
    """An INFO field as int when numeric, else str."""
    info = client.info(section)
    return info.get(field)


def error_of(conn, *args):
    """Sends one command on a RawConn and returns the full error text; fails
    if the reply is not an error."""
    reply = conn.call(*args)
    assert isinstance(reply, RespError), "expected an error from %r, got %r" % (args, reply)
    return str(reply)


def arity_error(name):
    return "ERR wrong number of arguments for '%s' command" % name


SYNTAX = "ERR syntax error"
NOT_INT = "ERR value is not an integer or out of range"
NOT_FLOAT = "ERR value is not a valid float"
OVERFLOW = "ERR increment or decrement would overflow"
WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
INT64_MAX = 9223372036854775807
INT64_MIN = -9223372036854775808


def run_threads(target, n, timeout=120):
    """Runs target(i) for i in range(n) on n threads; re-raises the first failure."""
    errors = []

    def wrapper(i):
        try:
            target(i)
        except BaseException as e:  # reported in the main thread
            errors.append(e)
    threads = [threading.Thread(target=wrapper, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    assert not any(t.is_alive() for t in threads), "threads did not finish in %ds" % timeout
    if errors:
        raise errors[0]


def subscribed(raw, notify, flags, channel, pattern=False):
    """A raw connection subscribed (PSUBSCRIBE when `pattern`) to `channel`,
    with notify-keyspace-events set to `flags`."""
    notify(flags)
    sub = raw()
    sub.call("PSUBSCRIBE" if pattern else "SUBSCRIBE", channel)
    return sub


class LoggedProcess:
    """A helper process (a queue worker, say) whose stdout and stderr go to a log file.

    stop() sends SIGTERM (a warm shutdown for the workers these tests run) and returns the
    exit status, or "killed" when it had to SIGKILL it after `timeout` seconds."""

    def __init__(self, cmd, logpath, **popen_kw):
        self.log = open(logpath, "w+b")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, **popen_kw)

    def logs(self, limit=8000):
        self.log.flush()
        self.log.seek(0)
        return self.log.read().decode(errors="replace")[-limit:]

    def stop(self, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            return "killed"

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        self.log.close()


def read_value(c, key, t):
    """The value of `key`, of type `t` ("string", "list", ...), as comparable Python data:
    sets sorted, hashes as sorted (field, value) pairs, streams as XRANGE's entries."""
    if t == "string":
        return c.get(key)
    if t == "list":
        return c.lrange(key, 0, -1)
    if t == "set":
        return sorted(c.smembers(key))
    if t == "zset":
        return c.zrange(key, 0, -1, withscores=True)
    if t == "hash":
        return sorted(c.hgetall(key).items())
    if t == "stream":
        return c.xrange(key)
    raise AssertionError("unexpected type %r of %r" % (t, key))
