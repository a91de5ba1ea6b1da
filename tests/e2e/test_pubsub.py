"""Pub/sub: (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PUBLISH / SPUBLISH / PUBSUB,
RESP2 subscribed state and RESP3 push frames, fan-out across I/O threads,
slow subscribers and client-output-buffer-limit, keyspace notifications.

Expected replies were taken from redis-server 7.0 (SLUICE_SERVER=/usr/bin/redis-server
runs this file against it)."""

import selectors
import socket
import subprocess
import threading
import time

import pytest

from conftest import IS_REDIS, SANITIZER
from helpers import Push, RawConn, RespError, encode_command, wait_until

SUBSCRIBED_ONLY = ("ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / "
                   "QUIT / RESET are allowed in this context")


def subscribe_conn(server, *args, resp3=False):
    """A raw connection that has sent args (e.g. SUBSCRIBE a b) and read the
    confirmations."""
    c = server.raw()
    if resp3:
        c.call("HELLO", "3")
    c.send(encode_command(*args))
    confirmations = c.read_many(len(args) - 1)
    return c, confirmations


# ---- replies of the (un)subscribe commands -----------------------------------------------

def test_subscribe_confirmations_have_running_counts(raw):
    c = raw()
    assert c.call_raw("SUBSCRIBE", "a") == b"*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"
    c.send(encode_command("SUBSCRIBE", "b", "a"))
    assert c.read_many(2) == [[b"subscribe", b"b", 2], [b"subscribe", b"a", 2]]
    c.send(encode_command("PSUBSCRIBE", "h*", "h?"))
    assert c.read_many(2) == [[b"psubscribe", b"h*", 3], [b"psubscribe", b"h?", 4]]
    # Shard channels have their own count.
    assert c.call("SSUBSCRIBE", "s1") == [b"ssubscribe", b"s1", 1]
    c.send(encode_command("UNSUBSCRIBE"))
    # One confirmation per channel (in no promised order), counting down.
    gone = c.read_many(2)
    assert [g[2] for g in gone] == [3, 2]
    assert sorted(g[1] for g in gone) == [b"a", b"b"]
    assert c.call("UNSUBSCRIBE", "never") == [b"unsubscribe", b"never", 2]
    c.send(encode_command("PUNSUBSCRIBE"))
    gone = c.read_many(2)
    assert [g[0] for g in gone] == [b"punsubscribe"] * 2 and [g[2] for g in gone] == [1, 0]
    assert sorted(g[1] for g in gone) == [b"h*", b"h?"]
    assert c.call("SUNSUBSCRIBE") == [b"sunsubscribe", b"s1", 0]
    # Back in normal mode.
    assert c.call("GET", "x") is None


def test_unsubscribe_without_subscriptions_replies_null_channel(raw):
    c = raw()
    assert c.call_raw("UNSUBSCRIBE") == b"*3\r\n$11\r\nunsubscribe\r\n$-1\r\n:0\r\n"
    assert c.call_raw("PUNSUBSCRIBE") == b"*3\r\n$12\r\npunsubscribe\r\n$-1\r\n:0\r\n"
    assert c.call_raw("SUNSUBSCRIBE") == b"*3\r\n$12\r\nsunsubscribe\r\n$-1\r\n:0\r\n"
    # With only patterns left, UNSUBSCRIBE reports null and the pattern count.
    c.call("PSUBSCRIBE", "p*")
    assert c.call("UNSUBSCRIBE") == [b"unsubscribe", None, 1]


def test_resp2_subscribed_state_allows_only_pubsub_commands(raw):
    c = raw()
    c.call("SUBSCRIBE", "a")
    assert c.call("GET", "x") == RespError(SUBSCRIBED_ONLY % "get")
    assert c.call("client", "ID") == RespError(SUBSCRIBED_ONLY % "client|id")
    assert c.call("PING") == [b"pong", b""]
    assert c.call("PING", "hi") == [b"pong", b"hi"]
    # Unknown commands and arity are checked first.
    assert str(c.call("NOSUCH")).startswith("ERR unknown command 'NOSUCH'")
    assert c.call("SUBSCRIBE") == RespError(
        "ERR wrong number of arguments for 'subscribe' command")
    assert c.call("RESET") == "RESET"
    assert c.call("PING") == "PONG"
    assert c.call("QUIT") == "OK"


def test_shard_only_subscriber_is_in_subscribed_state(raw):
    c = raw()
    c.call("SSUBSCRIBE", "s")
    assert c.call("SET", "k", "v") == RespError(SUBSCRIBED_ONLY % "set")


def test_publish_counts_receivers_and_delivers_message_and_pmessage(raw):
    sub = raw()
    sub.send(encode_command("SUBSCRIBE", "news.tech"))
    sub.read()
    sub.send(encode_command("PSUBSCRIBE", "news.*", "n[aeiou]ws.t?ch", "other.*"))
    sub.read_many(3)
    pub = raw()
    assert pub.call("PUBLISH", "news.tech", "hello") == 3
    assert sub.read_raw() == b"*3\r\n$7\r\nmessage\r\n$9\r\nnews.tech\r\n$5\r\nhello\r\n"
    # Then one pmessage per matching pattern (Redis does not promise their order).
    raw_pmessages = sorted([sub.read_raw(), sub.read_raw()])
    assert raw_pmessages == [
        b"*4\r\n$8\r\npmessage\r\n$15\r\nn[aeiou]ws.t?ch\r\n$9\r\nnews.tech\r\n$5\r\nhello\r\n",
        b"*4\r\n$8\r\npmessage\r\n$6\r\nnews.*\r\n$9\r\nnews.tech\r\n$5\r\nhello\r\n"]
    assert pub.call("PUBLISH", "nobody", "x") == 0
    assert pub.call("PUBLISH", "news.sport", "goal") == 1
    assert sub.read() == [b"pmessage", b"news.*", b"news.sport", b"goal"]
    assert pub.call("PUBLISH", "x") == RespError(
        "ERR wrong number of arguments for 'publish' command")


def test_binary_channel_and_payload(raw):
    sub = raw()
    sub.call("SUBSCRIBE", b"ch\x00\xff")
    pub = raw()
    payload = bytes(range(256)) * 4
    assert pub.call("PUBLISH", b"ch\x00\xff", payload) == 1
    assert sub.read() == [b"message", b"ch\x00\xff", payload]


def test_no_message_after_unsubscribe_reply(raw):
    sub = raw()
    sub.call("SUBSCRIBE", "c")
    pub = raw()
    for i in range(200):
        pub.send(encode_command("PUBLISH", "c", str(i)))
    sub.send(encode_command("UNSUBSCRIBE", "c"))
    pub.read_many(200)
    # Messages, then the confirmation; nothing for "c" after it.
    while True:
        reply = sub.read()
        if reply[0] == b"unsubscribe":
            break
        assert reply[0] == b"message"
    assert sub.call("GET", "nothing") is None


def test_sharded_publish(raw):
    sub = raw()
    sub.call("SSUBSCRIBE", "orders")
    sub.call("SUBSCRIBE", "orders")
    pub = raw()
    assert pub.call("SPUBLISH", "orders", "o1") == 1
    assert sub.read() == [b"smessage", b"orders", b"o1"]
    assert pub.call("PUBLISH", "orders", "o2") == 1
    assert sub.read() == [b"message", b"orders", b"o2"]


def test_reset_leaves_every_subscription(raw, r):
    sub = raw()
    sub.call("SUBSCRIBE", "a")
    sub.call("PSUBSCRIBE", "b*")
    sub.call("SSUBSCRIBE", "c")
    assert sub.call("RESET") == "RESET"
    assert r.publish("a", "x") == 0
    assert r.publish("bb", "x") == 0
    assert r.execute_command("SPUBLISH", "c", "x") == 0
    assert sub.call("GET", "k") is None


def test_closing_a_subscriber_unsubscribes_it(server, r):
    c = server.raw()
    c.call("SUBSCRIBE", "gone")
    c.call("PSUBSCRIBE", "gone*")
    assert r.publish("gone", "x") == 2
    c.close()
    wait_until(lambda: r.publish("gone", "x") == 0, message="subscriber removed on close")
    wait_until(lambda: r.execute_command("PUBSUB", "NUMPAT") == 0)


# ---- RESP3 ------------------------------------------------------------------------------

def test_resp3_push_frames_interleave_with_replies(raw):
    sub = raw()
    sub.call("HELLO", "3")
    assert sub.call_raw("SUBSCRIBE", "a") == b">3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n"
    # Any command is allowed; PING answers normally.
    assert sub.call("PING") == "PONG"
    assert sub.call("SET", "k", "v") == "OK"
    pub = raw()
    assert pub.call("PUBLISH", "a", "m1") == 1
    assert sub.read_raw() == b">3\r\n$7\r\nmessage\r\n$1\r\na\r\n$2\r\nm1\r\n"
    # A message published to itself comes before the PUBLISH reply, as in Redis.
    sub.send(encode_command("PUBLISH", "a", "self"))
    assert sub.read() == Push([b"message", b"a", b"self"])
    assert sub.read() == 1
    # Pushes from another publisher between pipelined replies keep frames whole.
    stop = threading.Event()

    def publish_loop():
        with RawConn(pub.sock.getpeername()[1]) as p2:
            i = 0
            while not stop.is_set() and i < 2000:
                p2.call("PUBLISH", "a", "bg%d" % i)
                i += 1
    t = threading.Thread(target=publish_loop)
    t.start()
    try:
        replies = []
        for i in range(300):
            sub.send(encode_command("INCR", "n"))
            while True:
                v = sub.read()
                if isinstance(v, Push):
                    assert v[0] == b"message" and v[1] == b"a"
                    continue
                replies.append(v)
                break
        assert replies == list(range(1, 301))
    finally:
        stop.set()
        t.join()
    sub.send(encode_command("UNSUBSCRIBE"))
    while True:
        v = sub.read()
        if v[0] == b"unsubscribe":
            assert v == Push([b"unsubscribe", b"a", 0])
            break


def test_resp3_pmessage_and_null_unsubscribe(raw):
    c = raw()
    c.call("HELLO", "3")
    assert c.call_raw("UNSUBSCRIBE") == b">3\r\n$11\r\nunsubscribe\r\n_\r\n:0\r\n"
    c.call("PSUBSCRIBE", "*")
    pub = raw()
    pub.call("PUBLISH", "zz", "m")
    assert c.read_raw() == b">4\r\n$8\r\npmessage\r\n$1\r\n*\r\n$2\r\nzz\r\n$1\r\nm\r\n"
    assert c.call("GET", "missing") is None


# ---- introspection ------------------------------------------------------------------------

def test_pubsub_introspection_and_info(raw, r):
    a = raw()
    a.send(encode_command("SUBSCRIBE", "news.a", "news.b", "other"))
    a.read_many(3)
    a.send(encode_command("PSUBSCRIBE", "n*", "x"))
    a.read_many(2)
    a.call("SSUBSCRIBE", "s1")
    b = raw()
    b.call("SUBSCRIBE", "news.a")
    assert sorted(r.execute_command("PUBSUB", "CHANNELS")) == ["news.a", "news.b", "other"]
    assert sorted(r.execute_command("PUBSUB", "CHANNELS", "news.*")) == ["news.a", "news.b"]
    assert r.execute_command("PUBSUB", "NUMSUB", "news.a", "zz", "other") == [
        "news.a", 2, "zz", 0, "other", 1]
    assert r.execute_command("PUBSUB", "NUMSUB") == []
    assert r.execute_command("PUBSUB", "NUMPAT") == 2
    assert r.execute_command("PUBSUB", "SHARDCHANNELS") == ["s1"]
    assert r.execute_command("PUBSUB", "SHARDNUMSUB", "s1", "s2") == ["s1", 1, "s2", 0]
    with pytest.raises(Exception, match=r"unknown subcommand 'foo'\. Try PUBSUB HELP\."):
        r.execute_command("PUBSUB", "foo")
    assert isinstance(r.execute_command("PUBSUB", "HELP"), list)
    stats = r.info("stats")
    assert stats["pubsub_channels"] == 3
    assert stats["pubsub_patterns"] == 2
    assert stats["pubsubshard_channels"] == 1
    clients = r.client_list()
    mine = [c for c in clients if c["sub"] == "3"]
    assert len(mine) == 1
    assert mine[0]["psub"] == "2" and mine[0]["ssub"] == "1" and "P" in mine[0]["flags"]
    assert any(c["sub"] == "1" and c["psub"] == "0" for c in clients)
    assert len(r.client_list(_type="pubsub")) == 2
    assert all("P" not in c["flags"] for c in r.client_list(_type="normal"))


def test_pubsub_rows_in_command_table(c):
    info = c.call("COMMAND", "INFO", "subscribe", "publish", "spublish")
    assert info[0][1] == -2 and "pubsub" in info[0][2]
    assert info[1][1] == 3 and "pubsub" in info[1][2] and "fast" in info[1][2]
    assert info[2][3] == 1  # SPUBLISH's shard channel is in the key position


# ---- clients ------------------------------------------------------------------------------

def test_redis_py_pubsub(server, r):
    p = r.pubsub()
    try:
        p.subscribe("rp.chan")
        p.psubscribe("rp.*")
        confirmations = [p.get_message(timeout=5) for _ in range(2)]
        assert [m["type"] for m in confirmations] == ["subscribe", "psubscribe"]
        assert r.publish("rp.chan", "hello") == 2
        got = [p.get_message(timeout=5) for _ in range(2)]
        assert got[0] == {"type": "message", "pattern": None, "channel": "rp.chan",
                          "data": "hello"}
        assert got[1] == {"type": "pmessage", "pattern": "rp.*", "channel": "rp.chan",
                          "data": "hello"}
        p.ping()
        assert p.get_message(timeout=5)["type"] == "pong"
        p.unsubscribe("rp.chan")
        assert p.get_message(timeout=5)["type"] == "unsubscribe"
        assert r.publish("rp.chan", "again") == 1
        assert p.get_message(timeout=5)["type"] == "pmessage"
    finally:
        p.close()


def test_redis_cli_subscribe_and_publish(server):
    proc = subprocess.Popen(["redis-cli", "-p", str(server.port), "subscribe", "cli.chan"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        # Wait until the subscription is visible, then publish from another redis-cli.
        c = server.client()
        wait_until(lambda: c.execute_command("PUBSUB", "NUMSUB", "cli.chan")[1] == 1,
                   message="redis-cli subscribed")
        out = subprocess.run(["redis-cli", "-p", str(server.port), "publish", "cli.chan",
                              "hello from cli"], capture_output=True, timeout=10)
        assert out.stdout.strip() == b"1"
        wait_until(lambda: c.execute_command("PUBSUB", "NUMSUB", "cli.chan")[1] == 1)
        c.close()
    finally:
        time.sleep(0.3)
        proc.terminate()
        text, _ = proc.communicate(timeout=10)
    lines = text.decode().split("\n")
    assert lines[:3] == ["subscribe", "cli.chan", "1"]
    assert "message" in lines and "hello from cli" in lines


# ---- fan-out across I/O threads -------------------------------------------------------------

@pytest.mark.concurrency
def test_thousand_subscribers_receive_every_message_once_in_order(start_server):
    s = start_server("--io-threads", "4")
    n_subs = 250 if SANITIZER else 1000
    n_msgs = 20 if SANITIZER else 50
    socks = []
    sel = selectors.DefaultSelector()
    try:
        for i in range(n_subs):
            sk = socket.create_connection(("127.0.0.1", s.port), timeout=10)
            sk.sendall(encode_command("SUBSCRIBE", "fan"))
            socks.append(sk)
        confirmation = b"*3\r\n$9\r\nsubscribe\r\n$3\r\nfan\r\n:1\r\n"
        for sk in socks:
            data = b""
            while len(data) < len(confirmation):
                data += sk.recv(4096)
            assert data == confirmation
        pub = s.raw()
        wait_until(lambda: pub.call("PUBSUB", "NUMSUB", "fan")[1] == n_subs)
        for i in range(n_msgs):
            pub.send(encode_command("PUBLISH", "fan", "m%d" % i))
        assert pub.read_many(n_msgs, timeout=60) == [n_subs] * n_msgs
        expected = b"".join(b"*3\r\n$7\r\nmessage\r\n$3\r\nfan\r\n$%d\r\nm%d\r\n" %
                            (len(b"m%d" % i), i) for i in range(n_msgs))
        got = {}
        for sk in socks:
            sk.setblocking(False)
            sel.register(sk, selectors.EVENT_READ)
            got[sk] = b""
        deadline = time.monotonic() + 60
        pending = set(socks)
        while pending and time.monotonic() < deadline:
            for key, _ in sel.select(timeout=1):
                sk = key.fileobj
                chunk = sk.recv(65536)
                assert chunk, "subscriber connection closed"
                got[sk] += chunk
                if len(got[sk]) >= len(expected):
                    pending.discard(sk)
                    sel.unregister(sk)
        assert not pending, "%d subscribers did not get every message" % len(pending)
        for sk in socks:
            assert got[sk] == expected  # every message once, in publish order
    finally:
        sel.close()
        for sk in socks:
            sk.close()


@pytest.mark.concurrency
def test_publishers_on_many_threads_keep_per_publisher_order(start_server):
    s = start_server("--io-threads", "4")
    subs = []
    for _ in range(8):
        c = s.raw(timeout=60)
        c.call("SUBSCRIBE", "order")
        subs.append(c)
    n_pub, n_msgs = 4, (100 if SANITIZER else 500)

    def publish(p):
        with s.raw() as c:
            for i in range(n_msgs):
                c.send(encode_command("PUBLISH", "order", "%d:%d" % (p, i)))
            c.read_many(n_msgs, timeout=60)
    threads = [threading.Thread(target=publish, args=(p,)) for p in range(n_pub)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    for c in subs:
        last = {}
        for m in c.read_many(n_pub * n_msgs, timeout=60):
            p, i = map(int, m[2].split(b":"))
            assert i == last.get(p, -1) + 1
            last[p] = i
        c.close()


# ---- slow subscribers -----------------------------------------------------------------------

def test_slow_subscriber_is_disconnected_others_continue(start_server):
    s = start_server()
    admin = s.client()
    assert admin.config_set("client-output-buffer-limit", "pubsub 1mb 512kb 60")
    assert admin.config_get("client-output-buffer-limit")["client-output-buffer-limit"] == (
        "normal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 524288 60")
    slow = socket.socket()
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    slow.connect(("127.0.0.1", s.port))
    slow.sendall(encode_command("SUBSCRIBE", "flood"))
    fast = socket.create_connection(("127.0.0.1", s.port), timeout=30)
    fast.sendall(encode_command("SUBSCRIBE", "flood"))
    confirmation = b"*3\r\n$9\r\nsubscribe\r\n$5\r\nflood\r\n:1\r\n"
    got = b""
    while len(got) < len(confirmation):
        got += fast.recv(4096)
    assert got == confirmation
    wait_until(lambda: admin.execute_command("PUBSUB", "NUMSUB", "flood")[1] == 2)
    payload = b"x" * 16000
    frame = b"*3\r\n$7\r\nmessage\r\n$5\r\nflood\r\n$16000\r\n" + payload + b"\r\n"
    n = 2000  # 32 MB: far past the slow subscriber's 1 MB limit and the kernel's buffers
    received = bytearray()
    done = threading.Event()

    def drain():
        try:
            while len(received) < n * len(frame):
                chunk = fast.recv(1 << 20)
                if not chunk:
                    break
                received.extend(chunk)
        finally:
            done.set()
    reader = threading.Thread(target=drain)
    reader.start()
    pub = s.raw()
    sent = 0
    while sent < n:
        for _ in range(8):
            pub.send(encode_command("PUBLISH", "flood", payload))
        sent += 8
        pub.read_many(8)
        # Keep the reading subscriber within 16 messages (256 KB) of the publisher.
        deadline = time.monotonic() + 30
        while len(received) < (sent - 16) * len(frame) and not done.is_set():
            assert time.monotonic() < deadline, "fast subscriber stalled"
            time.sleep(0.001)
    reader.join(60)
    assert len(received) == n * len(frame) and bytes(received) == frame * n
    # The slow one was cut off: its socket ends after at most what was buffered.
    wait_until(lambda: admin.execute_command("PUBSUB", "NUMSUB", "flood")[1] == 1,
               message="slow subscriber disconnected")
    slow.settimeout(10)
    total = 0
    while True:
        try:
            chunk = slow.recv(1 << 20)
        except ConnectionResetError:
            break
        if not chunk:
            break
        total += len(chunk)
    assert total < n * len(frame) // 2
    slow.close()
    fast.close()
    if not IS_REDIS:
        stats = admin.info("stats")
        assert stats["client_output_buffer_limit_disconnections"] == 1
    # Memory stayed bounded: the server is healthy and answers.
    assert admin.ping()
    admin.close()


def test_output_buffer_limit_config_errors(r):
    prefix = ("CONFIG SET failed (possibly related to argument 'client-output-buffer-limit') - ")
    for value, why in [("pubsub 1 2", "Wrong number of arguments in buffer limit configuration."),
                       ("pubsub x 2 3", "Error in hard, soft or soft_seconds setting in buffer "
                                        "limit configuration."),
                       ("normal 1 2 -3", "Error in hard, soft or soft_seconds setting in buffer "
                                         "limit configuration."),
                       ("foo 1 2 3", "Invalid client class specified in buffer limit "
                                     "configuration.")]:
        with pytest.raises(Exception) as e:
            r.config_set("client-output-buffer-limit", value)
        assert str(e.value) == prefix + why
    old = r.config_get("client-output-buffer-limit")["client-output-buffer-limit"]
    try:
        assert r.config_set("client-output-buffer-limit", "PUBSUB 1G 1gb 3 normal 1k 1kb 0")
        assert r.config_get("client-output-buffer-limit")["client-output-buffer-limit"] == (
            "normal 1000 1024 0 slave 268435456 67108864 60 pubsub 1000000000 1073741824 3")
    finally:
        r.config_set("client-output-buffer-limit", old)


# ---- keyspace notifications -----------------------------------------------------------------

def events(conn, n, timeout=10):
    """n pmessages as (channel, payload) strings."""
    return [(m[2].decode(), m[3].decode()) for m in conn.read_many(n, timeout)]


def test_notify_keyspace_events_config(r, notify):
    assert r.config_get("notify-keyspace-events") == {"notify-keyspace-events": ""}
    for value, shown in [("KEA", "AKE"), ("Kgx", "gxK"), ("En", "nE"), ("x$lshz", "$lshzx"),
                         ("AKEmn", "AKEm"), ("", "")]:
        notify(value)
        assert r.config_get("notify-keyspace-events")["notify-keyspace-events"] == shown
    with pytest.raises(Exception) as e:
        notify("KEZ")
    assert str(e.value) == ("CONFIG SET failed (possibly related to argument "
                            "'notify-keyspace-events') - Invalid event class character. Use "
                            "'Ag$lshzxeKEtmdn'.")


def test_keyspace_and_keyevent_for_set_del_expire(raw, r, notify):
    notify("KEA")
    sub = raw()
    sub.call("PSUBSCRIBE", "__key*__:*")
    r.set("k1", "v")
    assert events(sub, 2) == [("__keyspace@0__:k1", "set"), ("__keyevent@0__:set", "k1")]
    r.expire("k1", 100)
    assert events(sub, 2) == [("__keyspace@0__:k1", "expire"), ("__keyevent@0__:expire", "k1")]
    r.delete("k1", "missing")
    assert events(sub, 2) == [("__keyspace@0__:k1", "del"), ("__keyevent@0__:del", "k1")]
    r.set("k2", "v", ex=100)
    assert events(sub, 4) == [("__keyspace@0__:k2", "set"), ("__keyevent@0__:set", "k2"),
                              ("__keyspace@0__:k2", "expire"), ("__keyevent@0__:expire", "k2")]
    r.expire("k2", -1)
    assert events(sub, 2) == [("__keyspace@0__:k2", "del"), ("__keyevent@0__:del", "k2")]
    # Another database's channels carry its number.
    r.execute_command("SELECT", "3")
    r.set("k3", "v")
    assert events(sub, 2) == [("__keyspace@3__:k3", "set"), ("__keyevent@3__:set", "k3")]
    r.execute_command("SELECT", "0")


def test_keyevent_names_for_each_command(raw, r, notify):
    """Checked against redis-server 7.0 with notify-keyspace-events AEn."""
    notify("En")
    r.execute_command("SELECT", "0")
    sub = raw()
    sub.call("PSUBSCRIBE", "__keyevent@*")

    def expect(*pairs):
        assert events(sub, len(pairs)) == [("__keyevent@%s__:%s" % (db, ev), key)
                                           for db, ev, key in pairs]
    notify("AEn")
    r.set("k", "v")
    expect((0, "new", "k"), (0, "set", "k"))
    r.set("k", "v2")
    expect((0, "set", "k"))
    r.setex("k2", 100, "v")
    expect((0, "new", "k2"), (0, "set", "k2"), (0, "expire", "k2"))
    r.setnx("k3", "1")
    expect((0, "new", "k3"), (0, "set", "k3"))
    r.getset("k3", "2")
    expect((0, "set", "k3"))
    r.mset({"a": "1", "b": "2"})
    expect((0, "new", "a"), (0, "set", "a"), (0, "new", "b"), (0, "set", "b"))
    r.incr("a")
    expect((0, "incrby", "a"))
    r.incrbyfloat("a", 1.5)
    expect((0, "incrbyfloat", "a"))
    r.decr("n")
    expect((0, "new", "n"), (0, "incrby", "n"))
    r.append("s", "x")
    expect((0, "new", "s"), (0, "append", "s"))
    r.setrange("s", 3, "y")
    expect((0, "setrange", "s"))
    r.setrange("s2", 0, "")  # no event
    r.expire("k", 100)
    expect((0, "expire", "k"))
    r.persist("k")
    expect((0, "persist", "k"))
    r.rename("a", "a2")
    expect((0, "new", "a2"), (0, "rename_from", "a"), (0, "rename_to", "a2"))
    r.copy("b", "bc")
    expect((0, "new", "bc"), (0, "copy_to", "bc"))
    r.move("bc", 1)
    expect((1, "new", "bc"), (0, "move_from", "bc"), (1, "move_to", "bc"))
    r.getdel("k3")
    expect((0, "del", "k3"))
    r.set("d", "v")
    expect((0, "new", "d"), (0, "set", "d"))
    r.getex("d", ex=100)
    expect((0, "expire", "d"))
    r.getex("d", persist=True)
    expect((0, "persist", "d"))
    r.getex("d", pxat=1)
    expect((0, "del", "d"))
    r.delete("s", "zz", "n")
    expect((0, "del", "s"), (0, "del", "n"))
    r.execute_command("MOVE", "bc", "1")  # already there in db 1: nothing
    r.set("end", "1")
    expect((0, "new", "end"), (0, "set", "end"))


def test_expired_events_lazy_and_active(raw, r, notify):
    notify("Ex")
    sub = raw()
    sub.call("SUBSCRIBE", "__keyevent@0__:expired")
    # Active expiry: nobody touches the key.
    r.set("short", "v", px=50)
    assert sub.read(timeout=10) == [b"message", b"__keyevent@0__:expired", b"short"]
    # Lazy expiry: found expired on access (before the timer wheel gets there,
    # either way exactly one event).
    r.set("lazy", "v", px=30)
    time.sleep(0.05)
    r.get("lazy")
    assert sub.read(timeout=10) == [b"message", b"__keyevent@0__:expired", b"lazy"]
    r.set("other", "v")  # set events are off ($ not given)
    assert r.publish("__keyevent@0__:expired", "probe") == 1
    assert sub.read() == [b"message", b"__keyevent@0__:expired", b"probe"]


def test_notifications_off_publish_nothing(raw, r):
    sub = raw()
    sub.call("PSUBSCRIBE", "__key*")
    r.set("quiet", "v", px=20)
    r.delete("x")
    time.sleep(0.1)
    assert r.publish("__keyspace@0__:probe", "p") == 1
    assert sub.read() == [b"pmessage", b"__key*", b"__keyspace@0__:probe", b"p"]


def test_notify_keyspace_events_from_command_line(start_server):
    s = start_server("--notify-keyspace-events", "K$")
    c = s.client()
    assert c.config_get("notify-keyspace-events")["notify-keyspace-events"] == "$K"
    p = c.pubsub()
    p.subscribe("__keyspace@0__:cfg")
    assert p.get_message(timeout=5)["type"] == "subscribe"
    c.set("cfg", "1")
    assert p.get_message(timeout=5)["data"] == "set"
    p.close()
    c.close()


# ---- CLIENT REPLY OFF / SKIP: push messages still arrive ----------------------------------
# Subscribe confirmations and messages are push messages: Redis delivers them
# even when the client switched its replies off (a client that waits for its
# confirmations would otherwise hang).

@pytest.mark.parametrize("mode", ["OFF", "SKIP"])
def test_resp3_reply_off_still_delivers_subscribe_confirmations(raw, mode):
    c = raw()
    c.call("HELLO", "3")
    c.send(encode_command("CLIENT", "REPLY", mode))
    c.send(encode_command("SUBSCRIBE", "a", "b"))
    assert c.read_many(2) == [Push([b"subscribe", b"a", 1]), Push([b"subscribe", b"b", 2])]
    c.send(encode_command("PSUBSCRIBE", "p*"))
    assert c.read() == Push([b"psubscribe", b"p*", 3])
    pub = raw()
    assert pub.call("PUBLISH", "a", "hello") == 1
    assert c.read() == Push([b"message", b"a", b"hello"])
    assert pub.call("PUBLISH", "pq", "x") == 1
    assert c.read() == Push([b"pmessage", b"p*", b"pq", b"x"])
    c.send(encode_command("UNSUBSCRIBE", "a"))
    assert c.read() == Push([b"unsubscribe", b"a", 2])
    c.send(encode_command("PUNSUBSCRIBE", "p*"))
    assert c.read() == Push([b"punsubscribe", b"p*", 1])
    # Ordinary replies stay off (OFF) or come back after one skipped (SKIP).
    c.send(encode_command("PING") + encode_command("CLIENT", "REPLY", "ON") +
           encode_command("ECHO", "done"))
    if mode == "OFF":
        assert c.read_many(2) == ["OK", b"done"]
    else:
        assert c.read_many(3) == ["PONG", "OK", b"done"]


def test_resp3_reply_off_keyspace_notifications_still_arrive(raw):
    admin = raw()
    admin.call("CONFIG", "SET", "notify-keyspace-events", "KEA")
    try:
        c = raw()
        c.call("HELLO", "3")
        c.send(encode_command("CLIENT", "REPLY", "OFF"))
        c.send(encode_command("SUBSCRIBE", "__keyevent@0__:set"))
        assert c.read() == Push([b"subscribe", b"__keyevent@0__:set", 1])
        assert admin.call("SET", "watched", "1") == "OK"
        assert c.read() == Push([b"message", b"__keyevent@0__:set", b"watched"])
        # SET from the muted connection itself: no +OK, but the event arrives.
        c.send(encode_command("SET", "own", "2"))
        assert c.read() == Push([b"message", b"__keyevent@0__:set", b"own"])
    finally:
        admin.call("CONFIG", "SET", "notify-keyspace-events", "")
