"""Server commands (COMMAND, INFO, CONFIG, TIME, LASTSAVE, SHUTDOWN), command
dispatch errors, start-up options and signals."""

import os
import signal
import time

import pytest
import redis

from conftest import IS_REDIS, run_server_expecting_failure
from helpers import RawConn, RespError, SYNTAX, Verbatim, arity_error, error_of, wait_until

# ---- dispatch errors -------------------------------------------------------------------------


def test_unknown_command(c):
    assert error_of(c, "FOO", "a", "b") == \
        "ERR unknown command 'FOO', with args beginning with: 'a' 'b' "
    assert error_of(c, "nosuch") == "ERR unknown command 'nosuch', with args beginning with: "
    assert error_of(c, "x y", "1") == "ERR unknown command 'x y', with args beginning with: '1' "
    assert c.call("PING") == "PONG"


def test_unknown_command_long_args_are_cut(c):
    # Redis quotes arguments only until they reach 128 bytes together.
    # Each argument is cut so the quoted list stays within 128 bytes.
    args = ["a" * 100, "b" * 100, "c" * 100]
    err = error_of(c, "NOPE", *args)
    assert err == "ERR unknown command 'NOPE', with args beginning with: '%s' '%s' " % (
        "a" * 100, "b" * 25)


def test_wrong_arity_text(c):
    assert error_of(c, "GET") == "ERR wrong number of arguments for 'get' command"
    assert error_of(c, "SET", "k") == "ERR wrong number of arguments for 'set' command"
    assert error_of(c, "CONFIG", "GET") == "ERR wrong number of arguments for 'config|get' command"


def test_command_names_are_case_insensitive(r, c):
    assert c.call("sEt", "k", "v") == "OK"
    assert c.call("GET", "k") == b"v"
    assert c.call("get", "k") == b"v"
    assert c.call("GeT", "k") == b"v"
    assert c.call("config", "get", "MAXCLIENTS")[1] == b"10000"


def test_error_counter(r, c):
    before = r.info("stats")["total_error_replies"]
    error_of(c, "NOPE")
    error_of(c, "GET")
    after = r.info("stats")["total_error_replies"]
    assert after - before >= 2


# ---- COMMAND ---------------------------------------------------------------------------------


def find_info(all_info, name):
    for entry in all_info:
        if entry[0] == name.encode():
            return entry
    return None


def test_command_reply_shape(c):
    reply = c.call("COMMAND")
    assert isinstance(reply, list) and len(reply) > 40
    names = {e[0] for e in reply}
    for name in ["get", "set", "del", "ping", "client", "config", "info", "command", "scan",
                 "incrbyfloat", "hello", "expire"]:
        assert name.encode() in names, name
    for entry in reply:
        assert len(entry) == 10, entry
        assert isinstance(entry[1], int)
    get = find_info(reply, "get")
    assert get[1] == 2
    assert set(get[2]) >= {"readonly", "fast"}
    assert get[3:6] == [1, 1, 1]
    assert set(get[6]) >= {"@read", "@string", "@fast"}
    set_ = find_info(reply, "set")
    assert set_[1] == -3
    assert "write" in set_[2] and "denyoom" in set_[2]
    mset = find_info(reply, "mset")
    assert mset[1] == -3 and mset[3:6] == [1, -1, 2]
    ping = find_info(reply, "ping")
    assert ping[1] == -1 and ping[3:6] == [0, 0, 0]
    client = find_info(reply, "client")
    subs = {e[0] for e in client[9]}
    assert {b"client|id", b"client|kill", b"client|list", b"client|setname"} <= subs


def test_command_count(c):
    count = c.call("COMMAND", "COUNT")
    assert isinstance(count, int)
    assert count == len(c.call("COMMAND"))


def test_command_info(c):
    reply = c.call("COMMAND", "INFO", "get", "SET", "nosuchcmd", "client|id")
    assert len(reply) == 4
    assert reply[0][0] == b"get"
    assert reply[1][0] == b"set"
    assert reply[2] is None
    assert reply[3][0] == b"client|id"
    assert reply[3][1] == 2
    everything = c.call("COMMAND", "INFO")
    assert len(everything) == c.call("COMMAND", "COUNT")


def test_command_info_resp3_uses_sets(c):
    c.call("HELLO", "3")
    raw = c.call_raw("COMMAND", "INFO", "get")
    assert raw.startswith(b"*1\r\n*10\r\n$3\r\nget\r\n:2\r\n~")
    entry = c.call("COMMAND", "INFO", "get")[0]
    assert isinstance(entry[2], set) and {"readonly", "fast"} <= entry[2]
    assert isinstance(entry[6], set) and "@read" in entry[6]


def test_command_docs(c):
    reply = c.call("COMMAND", "DOCS", "get", "nosuchcmd")
    assert isinstance(reply, list) and len(reply) == 2
    assert reply[0] == b"get"
    doc = dict(zip(reply[1][0::2], reply[1][1::2]))
    assert doc[b"group"] == b"string"
    assert isinstance(doc[b"summary"], bytes) and doc[b"summary"]
    assert doc[b"since"] == b"1.0.0"
    assert b"complexity" in doc
    c.call("HELLO", "3")
    raw = c.call_raw("COMMAND", "DOCS", "client")
    assert raw.startswith(b"%1\r\n$6\r\nclient\r\n%")
    docs = dict(c.call("COMMAND", "DOCS", "client"))
    client_doc = dict(docs[b"client"])
    subs = dict(client_doc[b"subcommands"])
    assert b"client|list" in subs


def test_command_docs_all_parses(c):
    # Interactive redis-cli reads this at start-up; every entry must be a map.
    c.call("HELLO", "3")
    docs = c.call("COMMAND", "DOCS")
    assert isinstance(docs, list) and len(docs) >= c.call("COMMAND", "COUNT")
    for name, doc in docs:
        d = dict(doc)
        assert b"summary" in d and b"group" in d, name


def test_command_list(c):
    names = c.call("COMMAND", "LIST")
    assert b"get" in names and b"client|list" in names and b"config|get" in names
    assert len(names) == len(set(names))
    got = set(c.call("COMMAND", "LIST", "FILTERBY", "PATTERN", "get*"))
    assert {b"get", b"getdel", b"getex", b"getrange", b"getset"} <= got
    assert all(n.startswith(b"get") for n in got)
    got = set(c.call("COMMAND", "LIST", "FILTERBY", "PATTERN", "client|*"))
    assert {b"client|id", b"client|list", b"client|kill"} <= got
    assert all(n.startswith(b"client|") for n in got)
    assert c.call("COMMAND", "LIST", "FILTERBY", "PATTERN", "zzz*") == []
    assert error_of(c, "COMMAND", "LIST", "FILTERBY", "NOPE", "x") == SYNTAX


def test_command_getkeys(c):
    assert c.call("COMMAND", "GETKEYS", "SET", "k", "v") == [b"k"]
    assert c.call("COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2") == [b"a", b"b"]
    assert c.call("COMMAND", "GETKEYS", "DEL", "a", "b", "c") == [b"a", b"b", b"c"]
    assert error_of(c, "COMMAND", "GETKEYS", "NOSUCH", "x") == "ERR Invalid command specified"


def test_command_getkeys_follows_numkeys_and_key_arguments(c):
    # Commands whose keys a count argument gives (EVAL, SINTERCARD) or that
    # name a key in another database (COPY) answer from their own rules.
    assert c.call("COMMAND", "GETKEYS", "EVAL", "return 1", "2", "a", "b", "x") == [b"a", b"b"]
    assert c.call("COMMAND", "GETKEYS", "EVAL", "return 1", "0") == []
    assert c.call("COMMAND", "GETKEYS", "SINTERCARD", "2", "s1", "s2", "LIMIT", "1") == [b"s1", b"s2"]
    assert c.call("COMMAND", "GETKEYS", "COPY", "a", "b", "DB", "3") == [b"a", b"b"]
    assert c.call("COMMAND", "GETKEYS", "GET", "") == [b""]
    assert error_of(c, "COMMAND", "GETKEYS", "PING", "x") == "ERR The command has no key arguments"
    assert error_of(c, "COMMAND", "GETKEYS", "SET", "k") == \
        "ERR Invalid number of arguments specified for command"


def test_command_unknown_subcommand(c):
    assert error_of(c, "COMMAND", "FOO") == "ERR unknown subcommand 'FOO'. Try COMMAND HELP."


# ---- INFO ------------------------------------------------------------------------------------


def parse_info(text):
    if isinstance(text, bytes):
        text = text.decode()
    sections = {}
    current = None
    for line in text.split("\r\n"):
        if line.startswith("# "):
            current = line[2:].lower()
            sections[current] = {}
        elif line and current is not None:
            k, _, v = line.partition(":")
            sections[current][k] = v
    return sections


def test_info_default_sections(c):
    text = c.call("INFO")
    assert isinstance(text, bytes) and "\r\n" in text.decode()
    secs = parse_info(text)
    for name in ["server", "clients", "memory", "persistence", "stats", "replication", "cpu",
                 "keyspace"]:
        assert name in secs, name
    server = secs["server"]
    major = int(server["redis_version"].split(".")[0])
    assert major >= 7
    assert server["redis_mode"] == "standalone"
    assert int(server["process_id"]) > 0
    assert int(server["uptime_in_seconds"]) >= 0
    assert len(server["run_id"]) == 40
    assert int(server["tcp_port"]) > 0
    assert int(secs["clients"]["connected_clients"]) >= 1
    assert int(secs["memory"]["used_memory"]) > 0
    assert secs["replication"]["role"] == "master"
    assert float(secs["cpu"]["used_cpu_sys"]) >= 0
    assert float(secs["cpu"]["used_cpu_user"]) >= 0
    for field in ["total_connections_received", "total_commands_processed", "expired_keys",
                  "keyspace_hits", "keyspace_misses", "rejected_connections"]:
        assert int(secs["stats"][field]) >= 0, field


def test_info_tcp_port(server, c):
    assert parse_info(c.call("INFO", "server"))["server"]["tcp_port"] == str(server.port)


def test_info_single_sections(c):
    secs = parse_info(c.call("INFO", "server"))
    assert list(secs) == ["server"]
    secs = parse_info(c.call("info", "CPU"))
    assert list(secs) == ["cpu"]
    secs = parse_info(c.call("INFO", "clients", "memory"))
    assert set(secs) == {"clients", "memory"}
    secs = parse_info(c.call("INFO", "all"))
    assert {"server", "stats", "keyspace"} <= set(secs)
    assert c.call("INFO", "nosuchsection") == b""


def test_info_keyspace(r, c):
    assert parse_info(c.call("INFO", "keyspace"))["keyspace"] == {}
    r.set("a", "1")
    r.set("b", "2", ex=100)
    ks = parse_info(c.call("INFO", "keyspace"))["keyspace"]
    assert ks["db0"].startswith("keys=2,expires=1,avg_ttl=")
    c.call("SELECT", "3")
    c.call("SET", "x", "1")
    ks = parse_info(c.call("INFO", "keyspace"))["keyspace"]
    assert ks["db3"].startswith("keys=1,expires=0,")
    assert list(ks) == ["db0", "db3"]
    c.call("FLUSHDB")


def test_info_hits_and_misses(r, c):
    def stats():
        s = r.info("stats")
        return s["keyspace_hits"], s["keyspace_misses"]
    r.set("k", "v")
    h0, m0 = stats()
    c.call("GET", "k")
    c.call("GET", "k")
    c.call("GET", "nope")
    c.call("MGET", "k", "nope", "nope2")
    h1, m1 = stats()
    assert h1 - h0 == 3
    assert m1 - m0 == 3


def test_info_expired_keys(r):
    before = r.info("stats")["expired_keys"]
    r.set("x", "1", px=20)
    r.set("y", "1", px=20)
    time.sleep(0.1)
    r.get("x")
    wait_until(lambda: r.info("stats")["expired_keys"] - before >= 2, timeout=3,
               message="expired_keys to grow by 2")


def test_info_commands_processed_and_connections(server, r):
    s0 = r.info("stats")
    for _ in range(10):
        r.ping()
    with server.raw() as extra:
        extra.call("PING")
    s1 = r.info("stats")
    assert s1["total_commands_processed"] - s0["total_commands_processed"] >= 11
    assert s1["total_connections_received"] - s0["total_connections_received"] >= 1


def test_info_connected_clients(server, r):
    base = r.info("clients")["connected_clients"]
    conns = [server.raw() for _ in range(5)]
    try:
        for c in conns:
            c.call("PING")
        assert r.info("clients")["connected_clients"] == base + 5
    finally:
        for c in conns:
            c.close()
    wait_until(lambda: r.info("clients")["connected_clients"] == base, timeout=5,
               message="connected_clients back to %d" % base)


def test_info_resp3_is_verbatim(c):
    c.call("HELLO", "3")
    raw = c.call_raw("INFO", "server")
    assert raw.startswith(b"=")
    length = int(raw[1:raw.index(b"\r\n")])
    body = raw[raw.index(b"\r\n") + 2:-2]
    assert len(body) == length
    assert body.startswith(b"txt:# Server\r\n")
    assert isinstance(c.call("INFO"), Verbatim)


def test_info_memory_tracks_data(r):
    base = r.info("memory")["used_memory"]
    r.mset({"m:%d" % i: "x" * 1000 for i in range(5000)})
    grown = r.info("memory")["used_memory"]
    assert grown - base > 2_000_000
    r.flushall()
    assert r.info("memory")["used_memory"] < grown


# ---- CONFIG ----------------------------------------------------------------------------------


def config_dict(reply):
    return {k.decode(): v.decode() for k, v in zip(reply[0::2], reply[1::2])}


def test_config_get(c):
    assert config_dict(c.call("CONFIG", "GET", "maxclients")) == {"maxclients": "10000"}
    assert config_dict(c.call("CONFIG", "GET", "timeout")) == {"timeout": "0"}
    assert config_dict(c.call("CONFIG", "GET", "databases")) == {"databases": "16"}
    assert config_dict(c.call("CONFIG", "GET", "requirepass")) == {"requirepass": ""}
    assert c.call("CONFIG", "GET", "nosuchparam") == []


def test_config_get_patterns(c):
    got = config_dict(c.call("CONFIG", "GET", "max*"))
    assert {"maxclients", "maxmemory", "maxmemory-policy"} <= set(got)
    assert all(k.startswith("max") for k in got)
    assert got["maxmemory"] == "0"
    got = config_dict(c.call("CONFIG", "GET", "MAX?LIENTS"))
    assert got == {"maxclients": "10000"}
    got = config_dict(c.call("CONFIG", "GET", "*"))
    assert {"maxclients", "timeout", "databases", "port", "bind", "requirepass",
            "save", "appendonly"} <= set(got)
    got = config_dict(c.call("CONFIG", "GET", "?imeout"))
    assert got == {"timeout": "0"}


def test_config_get_exact_name_is_echoed_as_given(c):
    # A name without glob characters is looked up case-insensitively and the
    # reply repeats it as the client spelled it.
    assert c.call("CONFIG", "GET", "MaxClients") == [b"MaxClients", b"10000"]


def test_config_get_multiple(c):
    got = config_dict(c.call("CONFIG", "GET", "timeout", "maxclients", "timeout", "max*"))
    assert got["timeout"] == "0" and got["maxclients"] == "10000"
    reply = c.call("CONFIG", "GET", "timeout", "timeout")
    assert reply == [b"timeout", b"0"]


def test_config_get_port_and_bind(server, c):
    got = config_dict(c.call("CONFIG", "GET", "port"))
    assert got["port"] in (str(server.port), "0")
    assert config_dict(c.call("CONFIG", "GET", "bind"))["bind"] == "127.0.0.1"


def test_config_get_resp3_map(c):
    c.call("HELLO", "3")
    assert c.call_raw("CONFIG", "GET", "timeout") == b"%1\r\n$7\r\ntimeout\r\n$1\r\n0\r\n"


def test_config_set_errors(c):
    assert error_of(c, "CONFIG", "SET", "nosuch", "1") == \
        "ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'"
    assert error_of(c, "CONFIG", "SET", "maxclients", "abc") == \
        "ERR CONFIG SET failed (possibly related to argument 'maxclients') - " \
        "argument couldn't be parsed into an integer"
    assert error_of(c, "CONFIG", "SET", "databases", "4") == \
        "ERR CONFIG SET failed (possibly related to argument 'databases') - " \
        "can't set immutable config"
    assert error_of(c, "CONFIG", "SET", "timeout", "1", "timeout", "2") == \
        "ERR CONFIG SET failed (possibly related to argument 'timeout') - duplicate parameter"
    assert error_of(c, "CONFIG", "SET", "timeout", "-1") .startswith(
        "ERR CONFIG SET failed (possibly related to argument 'timeout') - argument must be "
        "between 0 and ")
    assert error_of(c, "CONFIG", "SET", "timeout") == arity_error("config|set")
    assert error_of(c, "CONFIG", "SET", "timeout", "1", "maxclients") == SYNTAX
    # A failed multi-parameter SET changes nothing.
    assert error_of(c, "CONFIG", "SET", "timeout", "7", "maxclients", "x").startswith("ERR")
    assert config_dict(c.call("CONFIG", "GET", "timeout")) == {"timeout": "0"}
    assert error_of(c, "CONFIG", "NOPE") == "ERR unknown subcommand 'NOPE'. Try CONFIG HELP."
    assert error_of(c, "CONFIG") == arity_error("config")


def test_config_set_maxclients_at_runtime(start_server):
    s = start_server()
    admin = s.raw()
    try:
        assert admin.call("CONFIG", "SET", "maxclients", "2") == "OK"
        assert config_dict(admin.call("CONFIG", "GET", "maxclients")) == {"maxclients": "2"}
        wait_until(lambda: b"connected_clients:1\r\n" in admin.call("INFO", "clients"),
                   timeout=5, message="connected_clients:1")
        second = s.raw()
        try:
            assert second.call("PING") == "PONG"
            third = RawConn(s.port)
            try:
                assert third.read_until_close() == b"-ERR max number of clients reached\r\n"
            finally:
                third.close()
        finally:
            second.close()
        assert admin.call("CONFIG", "SET", "maxclients", "100") == "OK"
    finally:
        admin.close()


def test_config_set_timeout_at_runtime(start_server):
    s = start_server()
    admin = s.raw()
    idle = s.raw()
    try:
        assert idle.call("PING") == "PONG"
        assert admin.call("CONFIG", "SET", "timeout", "1") == "OK"
        deadline = time.monotonic() + 5
        closed = False
        while time.monotonic() < deadline:
            admin.call("PING")
            if idle.is_closed(timeout=0.2):
                closed = True
                break
        assert closed, "idle client not closed after CONFIG SET timeout 1"
        assert admin.call("CONFIG", "SET", "timeout", "0") == "OK"
    finally:
        admin.close()
        idle.close()


def test_config_set_requirepass_at_runtime(start_server):
    s = start_server()
    admin = s.raw()
    try:
        assert admin.call("CONFIG", "SET", "requirepass", "pw1") == "OK"
        # The connection that set it stays authenticated.
        assert admin.call("PING") == "PONG"
        with s.raw() as newcomer:
            assert error_of(newcomer, "PING") == "NOAUTH Authentication required."
            assert newcomer.call("AUTH", "pw1") == "OK"
            assert newcomer.call("PING") == "PONG"
        assert config_dict(admin.call("CONFIG", "GET", "requirepass")) == {"requirepass": "pw1"}
        assert admin.call("CONFIG", "SET", "requirepass", "") == "OK"
        with s.raw() as free:
            assert free.call("PING") == "PONG"
    finally:
        admin.close()


def test_config_set_multiple_and_case(start_server):
    s = start_server()
    with s.raw() as c:
        assert c.call("CONFIG", "SET", "TIMEOUT", "100", "MaxClients", "50") == "OK"
        got = config_dict(c.call("CONFIG", "GET", "timeout", "maxclients"))
        assert got == {"timeout": "100", "maxclients": "50"}


def test_config_resetstat(start_server):
    s = start_server()
    with s.raw() as c:
        c.call("SET", "k", "v")
        for _ in range(5):
            c.call("GET", "k")
            c.call("GET", "nope")
        error_of(c, "NOPE")
        assert c.call("CONFIG", "RESETSTAT") == "OK"
        stats = parse_info(c.call("INFO", "stats"))["stats"]
        assert stats["keyspace_hits"] == "0"
        assert stats["keyspace_misses"] == "0"
        assert stats["total_error_replies"] == "0"
        assert stats["expired_keys"] == "0"
        assert int(stats["total_commands_processed"]) <= 2
        assert error_of(c, "CONFIG", "RESETSTAT", "x") == arity_error("config|resetstat")


# ---- TIME / LASTSAVE / SHUTDOWN --------------------------------------------------------------


def test_time(c):
    reply = c.call("TIME")
    assert isinstance(reply, list) and len(reply) == 2
    secs, usecs = int(reply[0]), int(reply[1])
    assert abs(secs - time.time()) < 5
    assert 0 <= usecs < 1_000_000
    assert c.call_raw("TIME").startswith(b"*2\r\n$")
    assert error_of(c, "TIME", "x") == arity_error("time")


def test_lastsave(c):
    t = c.call("LASTSAVE")
    assert isinstance(t, int)
    assert 0 < t <= time.time() + 1


def test_shutdown_command(start_server):
    s = start_server()
    c = s.raw()
    try:
        c.send(b"*1\r\n$8\r\nSHUTDOWN\r\n")
        data = c.read_until_close(timeout=10)
        assert data == b"" or data.startswith(b"-"), data
        assert not data.startswith(b"-"), "SHUTDOWN refused: %r" % data
    finally:
        c.close()
    assert s.wait_exit() == 0
    assert s.sanitizer_report() is None


def test_shutdown_with_other_clients(start_server):
    s = start_server()
    others = [s.raw() for _ in range(5)]
    try:
        for o in others:
            o.call("SET", "k", "v")
        with s.raw() as c:
            c.send(b"SHUTDOWN NOSAVE\r\n")
            c.read_until_close(timeout=10)
        assert s.wait_exit() == 0
        for o in others:
            assert o.is_closed(timeout=5)
    finally:
        for o in others:
            o.close()


def test_shutdown_syntax_error(c):
    assert error_of(c, "SHUTDOWN", "BOGUS") == SYNTAX
    assert c.call("PING") == "PONG"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signals_shut_down_cleanly(start_server, sig):
    s = start_server()
    conns = [s.raw() for _ in range(3)]
    try:
        for c in conns:
            c.call("SET", "k", "v")
        assert s.stop(sig) == 0
    finally:
        for c in conns:
            c.close()


# ---- start-up options and config file ----------------------------------------------------------


def test_bad_port_value():
    rc, out = run_server_expecting_failure(["--port", "abc"])
    assert rc != 0
    assert "port" in out


def test_port_out_of_range():
    rc, out = run_server_expecting_failure(["--port", "70000"])
    assert rc != 0
    assert "port" in out


def test_unknown_option():
    rc, out = run_server_expecting_failure(["--nope", "1"])
    assert rc != 0
    assert "nope" in out


def test_bad_option_value_names_the_option():
    rc, out = run_server_expecting_failure(["--maxclients", "lots"])
    assert rc != 0
    assert "maxclients" in out


def test_config_file_then_command_line(start_server, tmp_path):
    conf = tmp_path / "sluice.conf"
    conf.write_text("# a comment\n\nport 1\ndatabases 4\ntimeout 30\nmaxclients 77\n")
    s = start_server("--databases", "6", config_file=conf)
    with s.raw() as c:
        got = config_dict(c.call("CONFIG", "GET", "databases", "timeout", "maxclients"))
        assert got == {"databases": "6", "timeout": "30", "maxclients": "77"}
        assert c.call("SELECT", "5") == "OK"
        assert error_of(c, "SELECT", "6") == "ERR DB index is out of range"


def test_config_file_quoted_values(start_server, tmp_path):
    conf = tmp_path / "sluice.conf"
    conf.write_text('requirepass "pass with spaces"\n')
    s = start_server(config_file=conf)
    with s.raw() as c:
        assert error_of(c, "PING") == "NOAUTH Authentication required."
        assert c.call("AUTH", "pass with spaces") == "OK"


def test_bad_config_line(tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text("timeout 10\nnope 1\n")
    rc, out = run_server_expecting_failure([], config_file=conf)
    assert rc != 0
    assert "nope" in out


def test_bad_config_value(tmp_path):
    conf = tmp_path / "bad.conf"
    conf.write_text("maxclients many\n")
    rc, out = run_server_expecting_failure([], config_file=conf)
    assert rc != 0
    assert "maxclients" in out


def test_missing_config_file(tmp_path):
    rc, out = run_server_expecting_failure([], config_file=tmp_path / "does-not-exist.conf")
    assert rc != 0
    assert "does-not-exist.conf" in out


@pytest.mark.parametrize("mode", ["no", "yes", "local"])
def test_protected_configs(start_server, mode, tmp_path):
    """dir and dbfilename choose where the server writes files: CONFIG SET changes them only
    as enable-protected-configs allows (no by default, as Redis 7); the option itself is
    fixed at start-up."""
    args = () if mode == "no" else ("--enable-protected-configs", mode)
    s = start_server(*args)
    c = s.client()
    assert c.config_get("enable-protected-configs") == {"enable-protected-configs": mode}
    with pytest.raises(redis.ResponseError) as e:
        c.config_set("enable-protected-configs", "yes")
    assert str(e.value) == ("CONFIG SET failed (possibly related to argument "
                            "'enable-protected-configs') - can't set immutable config")
    target = tmp_path / "snapshots"
    target.mkdir()
    if mode == "no":
        for name, value in (("dir", str(target)), ("dbfilename", "other.rdb")):
            with pytest.raises(redis.ResponseError) as e:
                c.config_set(name, value)
            assert str(e.value) == ("CONFIG SET failed (possibly related to argument '%s') - "
                                    "can't set protected config" % name)
        assert c.config_get("dbfilename") == {"dbfilename": "dump.rdb"}
        return
    # This client is on 127.0.0.1, which "local" allows.
    assert c.config_set("dir", str(target)) is True
    assert c.config_get("dir") == {"dir": os.path.realpath(target)}
    assert c.config_set("dbfilename", "other.rdb") is True
    c.set("k", "v")
    assert c.save() is True
    assert os.path.exists(target / "other.rdb")
    with pytest.raises(redis.ResponseError) as e:
        c.config_set("dir", str(tmp_path / "missing"))
    assert str(e.value) == ("CONFIG SET failed (possibly related to argument 'dir') - "
                            "No such file or directory")
    assert c.config_get("dir") == {"dir": os.path.realpath(target)}
