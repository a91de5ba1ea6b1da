"""Connection commands: PING, ECHO, HELLO, AUTH, QUIT, RESET, CLIENT, and the
--maxclients / --timeout limits."""

import re
import socket
import time

import pytest

from helpers import RawConn, RespError, SYNTAX, Verbatim, arity_error, error_of, wait_until

NOAUTH = "NOAUTH Authentication required."
WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled."


def parse_client_line(line):
    """'id=3 addr=127.0.0.1:5 name= ...' -> dict (values may be empty)."""
    fields = {}
    for part in line.strip().split(" "):
        k, _, v = part.partition("=")
        fields[k] = v
    return fields


def client_lines(text):
    if isinstance(text, bytes):
        text = text.decode()
    return [parse_client_line(l) for l in text.split("\n") if l.strip()]


# ---- PING / ECHO ---------------------------------------------------------------------------


def test_ping(c):
    assert c.call_raw("PING") == b"+PONG\r\n"
    assert c.call_raw("PING", "hello world") == b"$11\r\nhello world\r\n"
    assert c.call_raw("ping", "") == b"$0\r\n\r\n"
    assert error_of(c, "PING", "a", "b") == arity_error("ping")


def test_echo(c):
    assert c.call_raw("ECHO", "hi") == b"$2\r\nhi\r\n"
    assert c.call_raw("ECHO", "") == b"$0\r\n\r\n"
    assert c.call("ECHO", b"\x00\r\n\xff") == b"\x00\r\n\xff"
    assert error_of(c, "ECHO") == arity_error("echo")
    assert error_of(c, "ECHO", "a", "b") == arity_error("echo")


# ---- HELLO -----------------------------------------------------------------------------------


def check_hello_fields(pairs, proto, client_id=None):
    keys = [k for k, _ in pairs]
    assert keys == [b"server", b"version", b"proto", b"id", b"mode", b"role", b"modules"]
    d = dict(pairs)
    assert d[b"server"] == b"redis"
    assert d[b"version"].count(b".") == 2
    assert d[b"proto"] == proto
    assert isinstance(d[b"id"], int) and d[b"id"] > 0
    if client_id is not None:
        assert d[b"id"] == client_id
    assert d[b"mode"] == b"standalone"
    assert d[b"role"] == b"master"
    assert d[b"modules"] == []


def test_hello_default_is_resp2(c):
    reply = c.call("HELLO")
    assert isinstance(reply, list) and len(reply) == 14
    pairs = list(zip(reply[0::2], reply[1::2]))
    check_hello_fields(pairs, 2)


def test_hello_2(c):
    my_id = c.call("CLIENT", "ID")
    raw = c.call_raw("HELLO", "2")
    assert raw.startswith(b"*14\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n")
    reply = c.call("HELLO", "2")
    check_hello_fields(list(zip(reply[0::2], reply[1::2])), 2, my_id)


def test_hello_3(c):
    my_id = c.call("CLIENT", "ID")
    raw = c.call_raw("HELLO", "3")
    assert raw.startswith(b"%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n")
    assert b"$5\r\nproto\r\n:3\r\n$2\r\nid\r\n:%d\r\n" % my_id in raw
    assert raw.endswith(b"$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n"
                        b"$7\r\nmodules\r\n*0\r\n")
    # Now in RESP3: HELLO with no version keeps 3.
    reply = c.call("HELLO")
    check_hello_fields(reply, 3, my_id)
    # And back to 2.
    assert c.call_raw("HELLO", "2").startswith(b"*14\r\n")
    assert c.call_raw("GET", "nope") == b"$-1\r\n"


def test_hello_bad_versions(c):
    for v in ["1", "4", "0", "-1", "99999999999"]:
        assert error_of(c, "HELLO", v) == "NOPROTO unsupported protocol version"
    for v in ["abc", "3.0", "", "99999999999999999999"]:
        assert error_of(c, "HELLO", v) == \
            "ERR Protocol version is not an integer or out of range"
    # The protocol is unchanged after an error.
    assert c.call_raw("GET", "nope") == b"$-1\r\n"


def test_hello_setname(c):
    reply = c.call("HELLO", "3", "SETNAME", "myconn")
    assert dict(reply)[b"proto"] == 3
    assert c.call_raw("CLIENT", "GETNAME") == b"$6\r\nmyconn\r\n"
    assert error_of(c, "HELLO", "3", "SETNAME", "bad name") == \
        "ERR Client names cannot contain spaces, newlines or special characters."
    assert c.call("CLIENT", "GETNAME") == b"myconn"


def test_hello_syntax_errors(c):
    assert error_of(c, "HELLO", "3", "FOO") == "ERR Syntax error in HELLO option 'FOO'"
    assert error_of(c, "HELLO", "3", "AUTH", "default") == \
        "ERR Syntax error in HELLO option 'AUTH'"
    assert error_of(c, "HELLO", "2", "SETNAME") == "ERR Syntax error in HELLO option 'SETNAME'"


def test_hello_auth_without_password_configured(c):
    reply = c.call("HELLO", "2", "AUTH", "default", "anything")
    assert isinstance(reply, list) and len(reply) == 14
    assert error_of(c, "HELLO", "2", "AUTH", "someone", "pw") == WRONGPASS


# ---- AUTH ------------------------------------------------------------------------------------


def test_auth_without_password_configured(c):
    assert error_of(c, "AUTH", "foo") == (
        "ERR AUTH <password> called without any password configured for the default user. "
        "Are you sure your configuration is correct?")
    assert c.call("AUTH", "default", "whatever") == "OK"
    assert error_of(c, "AUTH", "nobody", "whatever") == WRONGPASS
    assert error_of(c, "AUTH") == arity_error("auth")
    assert error_of(c, "AUTH", "a", "b", "c") == SYNTAX


@pytest.fixture(scope="module")
def pw_server():
    from conftest import ServerProcess
    s = ServerProcess(["--requirepass", "s3cret"])
    yield s
    s.stop()


def test_requirepass_blocks_commands(pw_server):
    with pw_server.raw() as c:
        assert error_of(c, "GET", "k") == NOAUTH
        assert error_of(c, "SET", "k", "v") == NOAUTH
        assert error_of(c, "PING") == NOAUTH
        assert error_of(c, "CLIENT", "ID") == NOAUTH
        # Unknown commands and arity errors are still reported as such.
        reply = c.call("NOSUCHCMD")
        assert isinstance(reply, RespError)
        assert error_of(c, "AUTH", "wrong") == WRONGPASS
        assert error_of(c, "GET", "k") == NOAUTH
        assert c.call("AUTH", "s3cret") == "OK"
        assert c.call("PING") == "PONG"
        assert c.call("SET", "k", "v") == "OK"
        assert c.call("GET", "k") == b"v"


def test_auth_with_username(pw_server):
    with pw_server.raw() as c:
        assert error_of(c, "AUTH", "default", "nope") == WRONGPASS
        assert error_of(c, "AUTH", "admin", "s3cret") == WRONGPASS
        assert c.call("AUTH", "default", "s3cret") == "OK"
        assert c.call("PING") == "PONG"
        # A failed AUTH after a successful one does not log the client out.
        assert error_of(c, "AUTH", "bad") == WRONGPASS
        assert c.call("PING") == "PONG"


def test_hello_requires_auth(pw_server):
    with pw_server.raw() as c:
        err = error_of(c, "HELLO", "3")
        assert err.startswith("NOAUTH HELLO must be called with the client already authenticated")
        assert error_of(c, "HELLO", "3", "AUTH", "default", "wrong") == WRONGPASS
        assert error_of(c, "GET", "k") == NOAUTH
        raw = c.call_raw("HELLO", "3", "AUTH", "default", "s3cret")
        assert raw.startswith(b"%7\r\n")
        assert c.call_raw("GET", "nokey") == b"_\r\n"


def test_hello_auth_setname_together(pw_server):
    with pw_server.raw() as c:
        reply = c.call("HELLO", "2", "AUTH", "default", "s3cret", "SETNAME", "both")
        assert isinstance(reply, list) and len(reply) == 14
        assert c.call("CLIENT", "GETNAME") == b"both"


def test_reset_deauthenticates(pw_server):
    with pw_server.raw() as c:
        assert c.call("AUTH", "s3cret") == "OK"
        assert c.call("RESET") == "RESET"
        assert error_of(c, "GET", "k") == NOAUTH


def test_redis_py_with_password(pw_server):
    cl = pw_server.client(password="s3cret")
    try:
        assert cl.set("x", "1")
        assert cl.get("x") == "1"
    finally:
        cl.close()


# ---- QUIT / RESET ----------------------------------------------------------------------------


def test_quit(c):
    c.send(b"*1\r\n$4\r\nQUIT\r\n")
    assert c.read_until_close() == b"+OK\r\n"


def test_quit_in_pipeline_stops_processing(server, r):
    with server.raw() as c:
        c.send(b"SET q1 a\r\nQUIT\r\nSET q2 b\r\n")
        assert c.read_until_close() == b"+OK\r\n+OK\r\n"
    assert r.get("q1") == "a"
    assert r.get("q2") is None


def test_reset(server, r, c):
    c.call("HELLO", "3")
    c.call("SELECT", "5")
    c.call("CLIENT", "SETNAME", "named")
    assert c.call_raw("RESET") == b"+RESET\r\n"
    assert c.call_raw("GET", "nope") == b"$-1\r\n"  # back to RESP2
    assert c.call("CLIENT", "GETNAME") is None
    c.call("SET", "where", "db0")
    assert r.get("where") == "db0"
    assert error_of(c, "RESET", "x") == arity_error("reset")


# ---- CLIENT ----------------------------------------------------------------------------------


def test_client_id_is_unique_and_increasing(server, c):
    ids = []
    for _ in range(3):
        with server.raw() as other:
            ids.append(other.call("CLIENT", "ID"))
    assert all(isinstance(i, int) for i in ids)
    assert ids == sorted(ids) and len(set(ids)) == 3
    assert c.call("CLIENT", "ID") == c.call("CLIENT", "ID")


def test_client_setname_getname(c):
    assert c.call("CLIENT", "GETNAME") is None
    assert c.call("CLIENT", "SETNAME", "worker-1") == "OK"
    assert c.call("CLIENT", "GETNAME") == b"worker-1"
    for bad in ["has space", "new\nline", "tab\t"]:
        assert error_of(c, "CLIENT", "SETNAME", bad) == \
            "ERR Client names cannot contain spaces, newlines or special characters."
    assert c.call("CLIENT", "GETNAME") == b"worker-1"
    assert c.call("CLIENT", "SETNAME", "") == "OK"
    assert c.call("CLIENT", "GETNAME") is None
    assert error_of(c, "CLIENT", "SETNAME") == arity_error("client|setname")
    assert error_of(c, "CLIENT", "GETNAME", "x") == arity_error("client|getname")


def test_client_list_and_info(server, c):
    c.call("CLIENT", "SETNAME", "lister")
    my_id = c.call("CLIENT", "ID")
    with server.raw() as other:
        other.call("CLIENT", "SETNAME", "other")
        other_id = other.call("CLIENT", "ID")
        text = c.call("CLIENT", "LIST")
        assert isinstance(text, bytes) and text.endswith(b"\n")
        lines = client_lines(text)
        by_id = {int(l["id"]): l for l in lines}
        assert my_id in by_id and other_id in by_id
        me = by_id[my_id]
        assert me["name"] == "lister"
        assert me["addr"] == "127.0.0.1:%d" % c.sock.getsockname()[1]
        assert me["laddr"] == "127.0.0.1:%d" % server.port
        assert me["cmd"] == "client|list"
        assert me["db"] == "0"
        for field in ["fd", "age", "idle", "flags", "sub", "psub", "multi", "qbuf", "obl",
                      "oll", "omem", "events", "user", "resp"]:
            assert field in me, field
        assert me["user"] == "default"
        assert by_id[other_id]["name"] == "other"
        # ID filter.
        only = client_lines(c.call("CLIENT", "LIST", "ID", str(other_id)))
        assert [int(l["id"]) for l in only] == [other_id]
        both = client_lines(c.call("CLIENT", "LIST", "ID", str(other_id), str(my_id)))
        assert sorted(int(l["id"]) for l in both) == sorted([my_id, other_id])
        assert client_lines(c.call("CLIENT", "LIST", "TYPE", "normal"))
        assert c.call("CLIENT", "LIST", "TYPE", "pubsub") == b""
        assert error_of(c, "CLIENT", "LIST", "TYPE", "bogus") == \
            "ERR Unknown client type 'bogus'"
        assert error_of(c, "CLIENT", "LIST", "ID", "abc") == "ERR Invalid client ID"
    info = c.call("CLIENT", "INFO")
    assert info.endswith(b"\n") and info.count(b"\n") == 1
    fields = parse_client_line(info.decode())
    assert int(fields["id"]) == my_id
    assert fields["name"] == "lister"
    assert fields["cmd"] == "client|info"


def test_client_list_resp3_is_verbatim(c):
    c.call("HELLO", "3")
    raw = c.call_raw("CLIENT", "LIST")
    assert raw.startswith(b"=")
    body = raw[raw.index(b"\r\n") + 2:]
    assert body.startswith(b"txt:id=")
    raw = c.call_raw("CLIENT", "INFO")
    assert raw.startswith(b"=") and b"\r\ntxt:id=" in raw
    reply = c.call("CLIENT", "INFO")
    assert isinstance(reply, Verbatim) and reply.fmt == "txt"


def test_client_kill_old_form(server, c):
    victim = server.raw()
    try:
        victim_addr = "127.0.0.1:%d" % victim.sock.getsockname()[1]
        assert victim.call("PING") == "PONG"
        assert c.call("CLIENT", "KILL", victim_addr) == "OK"
        assert victim.is_closed(timeout=5)
        assert error_of(c, "CLIENT", "KILL", victim_addr) == "ERR No such client"
        assert error_of(c, "CLIENT", "KILL", "1.2.3.4:5") == "ERR No such client"
    finally:
        victim.close()


def test_client_kill_by_id(server, c):
    victim = server.raw()
    try:
        vid = victim.call("CLIENT", "ID")
        assert c.call("CLIENT", "KILL", "ID", str(vid)) == 1
        assert victim.is_closed(timeout=5)
        assert c.call("CLIENT", "KILL", "ID", str(vid)) == 0
        assert c.call("PING") == "PONG"
        ids = [int(l["id"]) for l in client_lines(c.call("CLIENT", "LIST"))]
        assert vid not in ids
    finally:
        victim.close()


def test_client_kill_by_addr_and_skipme(server, c):
    victim = server.raw()
    try:
        vaddr = "127.0.0.1:%d" % victim.sock.getsockname()[1]
        victim.call("PING")
        assert c.call("CLIENT", "KILL", "ADDR", vaddr) == 1
        assert victim.is_closed(timeout=5)
    finally:
        victim.close()
    my_addr = "127.0.0.1:%d" % c.sock.getsockname()[1]
    # SKIPME yes is the default: a client does not kill itself...
    assert c.call("CLIENT", "KILL", "ADDR", my_addr) == 0
    assert c.call("CLIENT", "KILL", "ADDR", my_addr, "SKIPME", "yes") == 0
    assert c.call("PING") == "PONG"
    # ...unless SKIPME no: it gets the reply, then the connection closes.
    c.send(b"CLIENT KILL ADDR %s SKIPME no\r\n" % my_addr.encode())
    assert c.read() == 1
    assert c.is_closed(timeout=5)


def test_client_kill_filters_combined(server, c):
    a = server.raw()
    b = server.raw()
    try:
        aid = a.call("CLIENT", "ID")
        a.call("PING")
        b.call("PING")
        baddr = "127.0.0.1:%d" % b.sock.getsockname()[1]
        # ID and ADDR of different clients: nothing matches both.
        assert c.call("CLIENT", "KILL", "ID", str(aid), "ADDR", baddr) == 0
        assert a.call("PING") == "PONG" and b.call("PING") == "PONG"
    finally:
        a.close()
        b.close()


def test_client_kill_errors(c):
    assert error_of(c, "CLIENT", "KILL", "ID", "abc") == "ERR client-id should be greater than 0"
    assert error_of(c, "CLIENT", "KILL", "ID", "0") == "ERR client-id should be greater than 0"
    assert error_of(c, "CLIENT", "KILL", "ID", "1", "SKIPME", "maybe") == SYNTAX
    assert error_of(c, "CLIENT", "KILL", "FOO", "bar") == SYNTAX
    assert error_of(c, "CLIENT", "KILL", "ID", "1", "ADDR") == SYNTAX
    assert error_of(c, "CLIENT", "KILL", "TYPE", "nope") == "ERR Unknown client type 'nope'"
    assert error_of(c, "CLIENT", "KILL") == arity_error("client|kill")


def test_client_no_evict(c):
    assert c.call("CLIENT", "NO-EVICT", "on") == "OK"
    assert c.call("CLIENT", "NO-EVICT", "OFF") == "OK"
    assert error_of(c, "CLIENT", "NO-EVICT", "maybe") == SYNTAX


@pytest.mark.sluice_only  # CLIENT NO-TOUCH is new in Redis 7.2
def test_client_no_touch(c):
    assert c.call("CLIENT", "NO-TOUCH", "ON") == "OK"
    assert c.call("CLIENT", "NO-TOUCH", "off") == "OK"
    assert error_of(c, "CLIENT", "NO-TOUCH", "x") == SYNTAX


@pytest.mark.sluice_only  # CLIENT SETINFO is new in Redis 7.2
def test_client_setinfo(c):
    assert c.call("CLIENT", "SETINFO", "LIB-NAME", "mylib") == "OK"
    assert c.call("CLIENT", "SETINFO", "lib-ver", "1.2.3") == "OK"
    info = parse_client_line(c.call("CLIENT", "INFO").decode())
    assert info["lib-name"] == "mylib"
    assert info["lib-ver"] == "1.2.3"
    assert error_of(c, "CLIENT", "SETINFO", "LIB-NAME", "has space") == \
        "ERR lib-name cannot contain spaces, newlines or special characters."
    assert error_of(c, "CLIENT", "SETINFO", "FOO", "x") == "ERR Unrecognized option 'FOO'"


def test_client_reply_off_on(r, c):
    c.send(b"CLIENT REPLY OFF\r\nSET a 1\r\nGET a\r\nCLIENT REPLY ON\r\nGET a\r\n")
    # The only replies are CLIENT REPLY ON's +OK and the last GET.
    assert c.read() == "OK"
    assert c.read() == b"1"
    assert r.get("a") == "1"


def test_client_reply_skip(r, c):
    c.send(b"CLIENT REPLY SKIP\r\nSET a 1\r\nSET b 2\r\nPING\r\n")
    assert c.read() == "OK"  # SET b (SET a was skipped)
    assert c.read() == "PONG"
    assert r.mget("a", "b") == ["1", "2"]
    c.send(b"CLIENT REPLY OFF\r\nPING\r\n")
    c.send(b"CLIENT REPLY SKIP\r\nPING\r\nCLIENT REPLY ON\r\nECHO done\r\n")
    assert c.read() == "OK"
    assert c.read() == b"done"


def test_client_reply_errors(c):
    assert error_of(c, "CLIENT", "REPLY", "MAYBE") == SYNTAX
    assert error_of(c, "CLIENT", "REPLY") == arity_error("client|reply")


def test_client_unknown_subcommand(c):
    assert error_of(c, "CLIENT", "x") == "ERR unknown subcommand 'x'. Try CLIENT HELP."
    assert error_of(c, "client", "Bogus", "1") == \
        "ERR unknown subcommand 'Bogus'. Try CLIENT HELP."
    assert error_of(c, "CLIENT") == arity_error("client")


def test_client_help(c):
    lines = c.call("CLIENT", "HELP")
    assert isinstance(lines, list) and len(lines) > 5
    assert all(isinstance(l, str) for l in lines)
    text = "\n".join(lines)
    for sub in ["ID", "KILL", "LIST", "SETNAME", "GETNAME", "REPLY"]:
        assert sub in text


def test_client_subcommands_case_insensitive(c):
    assert isinstance(c.call("client", "id"), int)
    assert c.call("Client", "SetName", "x") == "OK"
    assert c.call("CLIENT", "getname") == b"x"


# ---- limits: maxclients and timeout ----------------------------------------------------------


def test_maxclients(start_server):
    s = start_server("--maxclients", "3")
    first = s.raw()
    conns = [first]
    try:
        # Let the server forget the start-up probe connection first.
        wait_until(lambda: b"connected_clients:1\r\n" in first.call("INFO", "clients"),
                   timeout=5, message="connected_clients:1")
        conns += [s.raw(), s.raw()]
        for c in conns:
            assert c.call("PING") == "PONG"
        extra = RawConn(s.port)
        try:
            data = extra.read_until_close(timeout=5)
            assert data == b"-ERR max number of clients reached\r\n"
        finally:
            extra.close()
        # The existing clients are unaffected; closing one frees a slot.
        assert conns[0].call("PING") == "PONG"
        conns[0].close()
        conns = conns[1:]

        # The freed slot is usable once the server has seen the close; keep the
        # connection that gets in and ask it for the counter (a second, new
        # connection could still race the server noticing this probe's close).
        def connect_one():
            c = RawConn(s.port)
            try:
                if c.call("PING") == "PONG":
                    return c
            except (ConnectionError, OSError):
                pass
            c.close()
            return None
        fresh = wait_until(connect_one, timeout=5, message="a free client slot")
        conns.append(fresh)
        stats = fresh.call("INFO", "stats")
        assert re.search(rb"rejected_connections:[1-9]", stats), stats
    finally:
        for c in conns:
            c.close()


def test_timeout_closes_idle_clients(start_server):
    s = start_server("--timeout", "1")
    idle = s.raw()
    busy = s.raw()
    try:
        assert idle.call("PING") == "PONG"
        deadline = time.monotonic() + 4
        closed = False
        while time.monotonic() < deadline:
            assert busy.call("PING") == "PONG"
            if idle.is_closed(timeout=0.2):
                closed = True
                break
        assert closed, "idle client was not closed within 4s with --timeout 1"
        # The busy client, active all along, is still served.
        assert busy.call("PING") == "PONG"
    finally:
        idle.close()
        busy.close()


def test_no_timeout_by_default(server, c):
    assert c.call("PING") == "PONG"
    time.sleep(1.5)
    assert c.call("PING") == "PONG"
