"""DEBUG: off by default (enable-debug-command, as in Redis 7), and the
subcommands tools and test suites use: POPULATE, OBJECT, SLEEP, ERROR, LOG,
HELP. Run against both servers."""

import time

import pytest

from conftest import run_server_expecting_failure
from helpers import RespError, arity_error

NOT_ALLOWED = ("ERR DEBUG command not allowed. If the enable-debug-command option is set to "
               "\"local\", you can run it from a local connection, otherwise you need to set this "
               "option in the configuration file, and then restart the server.")
POSITIVE = "ERR value is out of range, must be positive"


def unknown(sub):
    return RespError("ERR unknown subcommand or wrong number of arguments for '%s'. "
                     "Try DEBUG HELP." % sub)


@pytest.fixture
def debug_server(start_server):
    return start_server("--enable-debug-command", "yes")


@pytest.fixture
def d(debug_server):
    with debug_server.raw() as conn:
        yield conn


def test_off_by_default(c):
    assert c.call("DEBUG", "POPULATE", "1") == RespError(NOT_ALLOWED)
    assert c.call("DEBUG", "HELP") == RespError(NOT_ALLOWED)
    assert c.call("DBSIZE") == 0
    # Arity is checked first.
    assert c.call("DEBUG") == RespError(arity_error("debug"))


def test_cannot_be_enabled_at_run_time(c):
    assert c.call("CONFIG", "GET", "enable-debug-command") == [b"enable-debug-command", b"no"]
    assert c.call("CONFIG", "SET", "enable-debug-command", "yes") == RespError(
        "ERR CONFIG SET failed (possibly related to argument 'enable-debug-command') - "
        "can't set immutable config")


def test_local_allows_loopback_clients(start_server):
    s = start_server("--enable-debug-command", "local")
    with s.raw() as conn:
        assert conn.call("CONFIG", "GET", "enable-debug-command") == [
            b"enable-debug-command", b"local"]
        assert conn.call("DEBUG", "POPULATE", "2") == "OK"
        assert conn.call("DBSIZE") == 2


def test_bad_value_at_start_up_is_refused():
    status, out = run_server_expecting_failure(["--enable-debug-command", "maybe"])
    assert status != 0
    assert "enable-debug-command" in out


def test_populate(d):
    assert d.call("DEBUG", "POPULATE", "3") == "OK"
    assert sorted(d.call("KEYS", "*")) == [b"key:0", b"key:1", b"key:2"]
    assert d.call("GET", "key:2") == b"value:2"
    assert d.call("DEBUG", "POPULATE", "2", "p", "12") == "OK"
    assert d.call("GET", "p:1") == b"value:1\0\0\0\0\0"
    assert d.call("DEBUG", "POPULATE", "1", "t", "3") == "OK"
    assert d.call("GET", "t:0") == b"val"
    assert d.call("DEBUG", "POPULATE", "1", "z", "0") == "OK"
    assert d.call("GET", "z:0") == b"value:0"
    assert d.call("DEBUG", "POPULATE", "2", "") == "OK"
    assert d.call("GET", ":1") == b"value:1"
    assert d.call("DBSIZE") == 9


def test_populate_keeps_existing_keys(d):
    d.call("SET", "key:1", "mine")
    d.call("RPUSH", "key:2", "a")
    assert d.call("DEBUG", "POPULATE", "4") == "OK"
    assert d.call("GET", "key:1") == b"mine"
    assert d.call("TYPE", "key:2") == "list"
    assert d.call("GET", "key:3") == b"value:3"
    assert d.call("DBSIZE") == 4


def test_populate_in_the_selected_database(d):
    d.call("SELECT", "3")
    assert d.call("DEBUG", "POPULATE", "5") == "OK"
    assert d.call("DBSIZE") == 5
    d.call("SELECT", "0")
    assert d.call("DBSIZE") == 0


def test_populate_is_not_a_change_for_save_points(d):
    before = d.call("INFO", "persistence")
    changes = int(before.split(b"rdb_changes_since_last_save:")[1].split(b"\r\n")[0])
    assert d.call("DEBUG", "POPULATE", "100") == "OK"
    after = d.call("INFO", "persistence")
    assert int(after.split(b"rdb_changes_since_last_save:")[1].split(b"\r\n")[0]) == changes


@pytest.mark.parametrize("args", [["-1"], ["abc"], ["1.5"], ["100000000000000000000"],
                                  ["1", "p", "-3"], ["1", "p", "x"]])
def test_populate_bad_numbers(d, args):
    assert d.call("DEBUG", "POPULATE", *args) == RespError(POSITIVE)
    assert d.call("DBSIZE") == 0


@pytest.mark.parametrize("args", [["populate"], ["populate", "1", "p", "5", "x"],
                                  ["object"], ["object", "a", "b"], ["sleep"], ["error"],
                                  ["log"], ["help", "x"], ["nosuch"]])
def test_wrong_subcommand_or_count(d, args):
    assert d.call("DEBUG", *args) == unknown(args[0])


def test_populate_zero(d):
    assert d.call("DEBUG", "POPULATE", "0") == "OK"
    assert d.call("DBSIZE") == 0


def test_object(d):
    assert d.call("DEBUG", "OBJECT", "nokey") == RespError("ERR no such key")
    d.call("SET", "n", "12345")
    line = d.call("DEBUG", "OBJECT", "n")
    assert line.startswith("Value at:")
    fields = dict(f.split(":", 1) for f in line.split(" ")[1:])
    assert fields["refcount"] == "1"
    assert fields["encoding"] == "int"
    assert fields["serializedlength"] == "3"
    assert int(fields["lru_seconds_idle"]) >= 0
    d.call("SET", "s", "value:2")
    fields = dict(f.split(":", 1) for f in d.call("DEBUG", "OBJECT", "s").split(" ")[1:])
    assert fields["encoding"] == "embstr"
    assert fields["serializedlength"] == "8"
    d.call("RPUSH", "l", "a")
    fields = dict(f.split(":", 1) for f in d.call("DEBUG", "OBJECT", "l").split(" ")[1:])
    assert fields["encoding"] in ("quicklist", "listpack")
    assert fields["encoding"] == d.call("OBJECT", "ENCODING", "l").decode()


def test_sleep(d, debug_server):
    assert d.call("DEBUG", "SLEEP", "0") == "OK"
    assert d.call("DEBUG", "SLEEP", "abc") == "OK"
    assert d.call("DEBUG", "SLEEP", "-1") == "OK"
    t0 = time.monotonic()
    assert d.call("DEBUG", "SLEEP", "0.3") == "OK"
    assert time.monotonic() - t0 >= 0.3
    assert d.call("PING") == "PONG"


def test_error_and_log(d, debug_server):
    assert d.call("DEBUG", "ERROR", "MYERR boom") == RespError("MYERR boom")
    assert d.call("DEBUG", "LOG", "a marker from the test") == "OK"
    assert d.call("PING") == "PONG"


@pytest.mark.sluice_only
def test_log_reaches_the_log(d, debug_server):
    assert d.call("DEBUG", "LOG", "marker 8f3e") == "OK"
    time.sleep(0.1)
    assert "DEBUG LOG: marker 8f3e" in debug_server.output()


def test_help(d):
    lines = d.call("DEBUG", "HELP")
    assert lines[0].startswith("DEBUG <subcommand>")
    text = "\n".join(lines)
    for sub in ("OBJECT", "POPULATE", "SLEEP", "ERROR", "LOG", "HELP"):
        assert sub in text


def test_not_in_scripts(d):
    err = d.call("EVAL", "return redis.call('debug', 'sleep', '0')", "0")
    assert isinstance(err, RespError)
    assert "not allowed from script" in str(err)
