"""The wire protocol over raw sockets: inline and multibulk requests, every
protocol error (one error reply, then the connection closes, other clients
unaffected), fragmentation, pipelining, garbage input, RESP3 encodings."""

import random
import socket
import threading
import time

import pytest

from helpers import RawConn, encode_command, error_of

PROTO_ERRORS = [
    (b"*abc\r\n", "invalid multibulk length"),
    (b"*1x\r\n", "invalid multibulk length"),
    (b"*2147483648\r\n", "invalid multibulk length"),
    (b"*99999999999999999999\r\n", "invalid multibulk length"),
    (b"*1\r\n$abc\r\n", "invalid bulk length"),
    (b"*1\r\n$-1\r\n", "invalid bulk length"),
    (b"*1\r\n$-5\r\n", "invalid bulk length"),
    (b"*1\r\n$536870913\r\n", "invalid bulk length"),
    (b"*1\r\n$99999999999999999999\r\n", "invalid bulk length"),
    (b"*1\r\nx\r\n", "expected '$', got 'x'"),
    (b"*2\r\n$4\r\nECHO\r\n:5\r\n", "expected '$', got ':'"),
    (b"*1\r\n+PING\r\n", "expected '$', got '+'"),
    (b'SET k "unbalanced\r\n', "unbalanced quotes in request"),
    (b"SET k 'single\r\n", "unbalanced quotes in request"),
    (b'ECHO "a"b\r\n', "unbalanced quotes in request"),
]


@pytest.mark.parametrize("data,message", PROTO_ERRORS, ids=[m + "-" + str(i) for i, (_, m) in
                                                          enumerate(PROTO_ERRORS)])
def test_protocol_error_replies_once_and_closes(server, r, data, message):
    with server.raw() as other:
        assert other.call("PING") == "PONG"
        with server.raw() as c:
            c.send(data)
            got = c.read_until_close(timeout=5)
            assert got == b"-ERR Protocol error: " + message.encode() + b"\r\n"
        # Another client keeps working.
        assert other.call("PING") == "PONG"
        assert other.call("SET", "still", "ok") == "OK"


def test_commands_before_protocol_error_are_answered(server, r):
    with server.raw() as c:
        c.send(b"SET a 1\r\n*1\r\n$4\r\nPING\r\n*abc\r\nSET b 2\r\n")
        got = c.read_until_close(timeout=5)
        assert got == b"+OK\r\n+PONG\r\n-ERR Protocol error: invalid multibulk length\r\n"
    assert r.get("a") == "1"
    assert r.get("b") is None


def test_too_big_inline_request(server, r):
    with server.raw() as c:
        c.send(b"a" * (70 * 1024))
        assert c.read_until_close(timeout=5) == \
            b"-ERR Protocol error: too big inline request\r\n"
    assert r.ping()


def test_inline_just_under_limit_is_fine(server, r):
    with server.raw() as c:
        value = "v" * (60 * 1024)
        c.send(b"SET big " + value.encode() + b"\r\n")
        assert c.read() == "OK"
    assert r.strlen("big") == 60 * 1024


def test_too_big_multibulk_count_string(server, r):
    with server.raw() as c:
        c.send(b"*" + b"1" * (70 * 1024))
        assert c.read_until_close(timeout=5) == \
            b"-ERR Protocol error: too big mbulk count string\r\n"


def test_too_big_bulk_count_string(server, r):
    with server.raw() as c:
        c.send(b"*1\r\n$" + b"1" * (70 * 1024))
        assert c.read_until_close(timeout=5) == \
            b"-ERR Protocol error: too big bulk count string\r\n"


@pytest.fixture(scope="module")
def auth_server():
    from conftest import ServerProcess
    s = ServerProcess(["--requirepass", "pw"])
    yield s
    s.stop()


def test_unauthenticated_multibulk_limit(auth_server):
    with auth_server.raw() as ok:
        # Up to 10 arguments are fine before AUTH (and get NOAUTH).
        assert error_of(ok, *(["MGET"] + ["k"] * 9)) == "NOAUTH Authentication required."
    with auth_server.raw() as c:
        c.send(b"*11\r\n")
        assert c.read_until_close(timeout=5) == \
            b"-ERR Protocol error: unauthenticated multibulk length\r\n"


def test_unauthenticated_bulk_limit(auth_server):
    with auth_server.raw() as c:
        c.send(b"*2\r\n$4\r\nAUTH\r\n$16385\r\n")
        assert c.read_until_close(timeout=5) == \
            b"-ERR Protocol error: unauthenticated bulk length\r\n"
    with auth_server.raw() as c:
        c.send(encode_command("ECHO", "x" * 16384))
        assert str(c.read()) == "NOAUTH Authentication required."


def test_limits_lifted_after_auth(auth_server):
    with auth_server.raw() as c:
        assert c.call("AUTH", "pw") == "OK"
        args = ["MSET"]
        for i in range(20):
            args += ["k%d" % i, "v" * 20000]
        assert c.call(*args) == "OK"
        assert c.call("STRLEN", "k19") == 20000
        assert c.call("DEL", *["k%d" % i for i in range(20)]) == 20


# ---- inline commands ------------------------------------------------------------------------


def test_inline_commands(c):
    c.send(b"PING\r\n")
    assert c.read_raw() == b"+PONG\r\n"
    c.send(b"set k v\r\n")
    assert c.read() == "OK"
    c.send(b"GET k\n")  # a bare \n ends an inline command too
    assert c.read() == b"v"
    c.send(b"  ECHO    spaced   \r\n")
    assert c.read() == b"spaced"


def test_inline_quoting(c):
    c.send(b'SET k "hello world"\r\n')
    assert c.read() == "OK"
    assert c.call("GET", "k") == b"hello world"
    c.send(b"SET k 'single quoted'\r\n")
    assert c.read() == "OK"
    assert c.call("GET", "k") == b"single quoted"
    c.send(b'SET k "a\\nb\\t\\x41\\\\\\"q"\r\n')
    assert c.read() == "OK"
    assert c.call("GET", "k") == b'a\nb\tA\\"q'
    c.send(b'SET k ""\r\n')
    assert c.read() == "OK"
    assert c.call("STRLEN", "k") == 0


def test_inline_unknown_command_and_arity(c):
    c.send(b"NOPE a b\r\n")
    assert str(c.read()) == "ERR unknown command 'NOPE', with args beginning with: 'a' 'b' "
    c.send(b"GET\r\n")
    assert str(c.read()) == "ERR wrong number of arguments for 'get' command"


def test_empty_lines_and_empty_multibulk_are_ignored(c):
    c.send(b"\r\n\r\n\n*0\r\n*-1\r\n   \r\nPING\r\n*0\r\n*1\r\n$4\r\nPING\r\n")
    assert c.read_raw() == b"+PONG\r\n"
    assert c.read_raw() == b"+PONG\r\n"
    # Nothing else was sent.
    assert c.call_raw("ECHO", "end") == b"$3\r\nend\r\n"


def test_mixed_inline_and_multibulk_pipeline(c):
    c.send(b"SET a 1\r\n" + encode_command("INCR", "a") + b"INCR a\r\n" +
           encode_command("GET", "a"))
    assert c.read_many(4) == ["OK", 2, 3, b"3"]


# ---- fragmentation and pipelining -----------------------------------------------------------


def test_command_sent_one_byte_at_a_time(c):
    c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    data = encode_command("SET", "frag", "x" * 20) + encode_command("GET", "frag") + \
        b"ECHO inline\r\n"
    for i in range(len(data)):
        c.send(data[i:i + 1])
        if i % 4 == 0:
            time.sleep(0.001)
    assert c.read() == "OK"
    assert c.read() == b"x" * 20
    assert c.read() == b"inline"


@pytest.mark.parametrize("chunk", [2, 3, 7, 13, 64])
def test_command_in_fragments(c, chunk):
    c.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    value = bytes(range(256))
    data = encode_command("SET", "frag", value) + encode_command("GET", "frag")
    for i in range(0, len(data), chunk):
        c.send(data[i:i + chunk])
        time.sleep(0.0005)
    assert c.read() == "OK"
    assert c.read() == value


def send_in_thread(sock, data):
    errors = []

    def run():
        try:
            sock.sendall(data)
        except OSError as e:
            errors.append(e)
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, errors


def test_ten_thousand_pipelined_commands(server, r):
    n = 10000
    data = b"".join(encode_command("INCR", "counter") for _ in range(n))
    data += b"".join(encode_command("SET", "k%d" % i, "v%d" % i) for i in range(n // 10))
    data += b"".join(encode_command("GET", "k%d" % i) for i in range(n // 10))
    with server.raw(timeout=30) as c:
        t, errors = send_in_thread(c.sock, data)
        replies = c.read_many(n + 2 * (n // 10), timeout=30)
        t.join(10)
        assert not errors
    assert replies[:n] == list(range(1, n + 1))
    assert replies[n:n + n // 10] == ["OK"] * (n // 10)
    assert replies[n + n // 10:] == [b"v%d" % i for i in range(n // 10)]
    assert r.get("counter") == str(n)


def test_pipeline_with_big_replies(server, r):
    r.set("big", "x" * 100000)
    with server.raw(timeout=30) as c:
        data = encode_command("GET", "big") * 200
        t, errors = send_in_thread(c.sock, data)
        replies = c.read_many(200, timeout=30)
        t.join(10)
        assert not errors
    assert all(v == b"x" * 100000 for v in replies)


def test_client_closing_with_unread_replies(server, r):
    # The client sends a lot and disconnects without reading: the server must
    # cope (and keep serving others).
    for _ in range(5):
        s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        r.set("big", "y" * 200000)
        try:
            s.sendall(encode_command("GET", "big") * 50)
        except OSError:
            pass
        s.close()
    assert r.ping()
    assert r.strlen("big") == 200000


def test_half_sent_command_then_disconnect(server, r):
    for partial in [b"*3\r\n$3\r\nSET\r\n$1\r\nk", b"*2\r\n$3\r\nGET\r\n$100\r\nabc", b"GET k"]:
        s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        s.sendall(partial)
        s.close()
    assert r.ping()
    assert r.exists("k") == 0


# ---- garbage ------------------------------------------------------------------------------------


def garbage_streams(seed, count):
    rng = random.Random(seed)
    valid = [encode_command("SET", "g", "v"), encode_command("GET", "g"), b"PING\r\n",
             encode_command("ECHO", "x" * 50)]
    for _ in range(count):
        kind = rng.randrange(4)
        if kind == 0:
            yield bytes(rng.randrange(256) for _ in range(rng.randrange(1, 2000)))
        elif kind == 1:
            # Valid commands with a few bytes flipped.
            data = bytearray(b"".join(rng.choice(valid) for _ in range(rng.randrange(1, 10))))
            for _ in range(rng.randrange(1, 4)):
                data[rng.randrange(len(data))] = rng.randrange(256)
            yield bytes(data)
        elif kind == 2:
            # Protocol-ish tokens in random order.
            tokens = [b"*", b"$", b"\r\n", b"-1", b"0", b"3", b"99999999", b"PING", b"\"",
                      b"'", b"\\", b"\n", b"+", b":", b"%", b" "]
            yield b"".join(rng.choice(tokens) for _ in range(rng.randrange(1, 300)))
        else:
            # Truncated valid commands.
            data = b"".join(rng.choice(valid) for _ in range(3))
            yield data[:rng.randrange(1, len(data))]


@pytest.mark.concurrency
def test_random_garbage_never_crashes_the_server(server, r):
    streams = list(garbage_streams(1234, 120))

    def blast(chunk):
        for data in chunk:
            try:
                s = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            except OSError:
                continue
            try:
                s.settimeout(0.3)
                s.sendall(data)
                try:
                    while s.recv(65536):
                        pass
                except (socket.timeout, OSError):
                    pass
            except OSError:
                pass
            finally:
                s.close()

    threads = [threading.Thread(target=blast, args=(streams[i::6],), daemon=True)
               for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
        assert not t.is_alive()
    server.check_healthy()
    with server.raw() as c:
        assert c.call("PING") == "PONG"
        assert c.call("SET", "after-garbage", "1") == "OK"


# ---- RESP3 encodings ------------------------------------------------------------------------------


@pytest.fixture
def c3(c):
    reply = c.call("HELLO", "3")
    assert dict(reply)[b"proto"] == 3
    return c


def test_resp3_null_replies(c3):
    assert c3.call_raw("GET", "nope") == b"_\r\n"
    assert c3.call_raw("GETDEL", "nope") == b"_\r\n"
    assert c3.call_raw("RANDOMKEY") == b"_\r\n"
    assert c3.call_raw("CLIENT", "GETNAME") == b"_\r\n"
    assert c3.call_raw("SET", "k", "v", "NX", "GET") == b"_\r\n"
    assert c3.call_raw("SET", "k", "v", "NX") == b"_\r\n"
    assert c3.call_raw("MGET", "k", "nope") == b"*2\r\n$1\r\nv\r\n_\r\n"
    assert c3.call_raw("COMMAND", "INFO", "nosuchcmd") == b"*1\r\n_\r\n"


def test_resp3_scalars(c3):
    assert c3.call_raw("SET", "n", "10") == b"+OK\r\n"
    assert c3.call_raw("INCR", "n") == b":11\r\n"
    assert c3.call_raw("INCRBYFLOAT", "n", "0.5") == b"$4\r\n11.5\r\n"
    assert c3.call_raw("PING") == b"+PONG\r\n"
    assert c3.call_raw("EXISTS", "n") == b":1\r\n"
    assert c3.call_raw("TTL", "n") == b":-1\r\n"
    assert c3.call_raw("TYPE", "n") == b"+string\r\n"
    assert c3.call_raw("GET", "nope2") == b"_\r\n"
    assert c3.call_raw("NOPE").startswith(b"-ERR unknown command 'NOPE'")


def test_resp3_aggregates(c3):
    c3.call("SET", "a", "1")
    assert c3.call_raw("KEYS", "*") == b"*1\r\n$1\r\na\r\n"
    assert c3.call_raw("SCAN", "0", "COUNT", "100") == b"*2\r\n$1\r\n0\r\n*1\r\n$1\r\na\r\n"
    assert c3.call_raw("CONFIG", "GET", "timeout") == b"%1\r\n$7\r\ntimeout\r\n$1\r\n0\r\n"
    assert c3.call_raw("CONFIG", "GET", "nosuchparam") == b"%0\r\n"
    t = c3.call_raw("TIME")
    assert t.startswith(b"*2\r\n$")


def test_resp3_verbatim_info(c3):
    raw = c3.call_raw("INFO", "server")
    header, _, rest = raw.partition(b"\r\n")
    assert header.startswith(b"=")
    assert len(rest) == int(header[1:]) + 2
    assert rest.startswith(b"txt:# Server\r\n")


def test_resp3_then_back_to_resp2(c3):
    assert c3.call_raw("GET", "nope") == b"_\r\n"
    c3.call("HELLO", "2")
    assert c3.call_raw("GET", "nope") == b"$-1\r\n"
    assert c3.call_raw("CONFIG", "GET", "timeout") == b"*2\r\n$7\r\ntimeout\r\n$1\r\n0\r\n"
    assert c3.call_raw("MGET", "nope") == b"*1\r\n$-1\r\n"
    assert c3.call_raw("INFO", "server").startswith(b"$")


def test_resp2_null_in_command_info(c):
    assert c.call_raw("COMMAND", "INFO", "nosuchcmd") == b"*1\r\n$-1\r\n"
