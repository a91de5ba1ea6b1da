"""Capability probes for the tests of third-party software (job queues, rate limiters).

Such software needs server capabilities beyond plain commands: blocking list pops
(BLPOP, BRPOP), streams (XADD), Lua scripts that touch keys they did not declare.
A test asks the server under test for what its library needs and skips, naming what
is missing, when the server lacks it. Nothing here looks at which server it is, so the
same test runs for real wherever the capability exists.
"""

import pytest
import redis


def missing_commands(client, names):
    """The names in `names` that COMMAND INFO answers nil for."""
    # Read straight off a connection: redis-py 4.3's COMMAND reply parser fails on nils.
    conn = client.connection_pool.get_connection("COMMAND")
    try:
        conn.send_command("COMMAND", "INFO", *names)
        info = conn.read_response()
    finally:
        client.connection_pool.release(conn)
    return [n for n, i in zip(names, info) if i is None]


_UNDECLARED_SCRIPT = """
redis.call('SET', KEYS[1], '1')
for i = 1, 64 do redis.call('SET', ARGV[1] .. i, '1') end
for i = 1, 64 do redis.call('DEL', ARGV[1] .. i) end
redis.call('DEL', KEYS[1])
return 1
"""


def undeclared_keys_problem(client):
    """None when a Lua script may write keys it did not declare, in any order relative
    to the declared one (Redis allows it outside cluster mode); else the server's error.
    Eight runs with different declared keys, 64 undeclared keys each, so undeclared keys
    land before and after the declared one in any key-to-lock mapping."""
    for j in range(8):
        try:
            client.eval(_UNDECLARED_SCRIPT, 1, "cap-probe:declared:%d" % j,
                        "cap-probe:undeclared:%d:" % j)
        except redis.ResponseError as e:
            return str(e)
    return None


_KEYS_SCRIPT = """
redis.call('SET', KEYS[1], '1')
local found = redis.call('KEYS', ARGV[1])
redis.call('DEL', KEYS[1])
return #found
"""


def keys_in_script_problem(client):
    """None when a script that declared a key may also run KEYS (a whole-database
    command); else the server's error."""
    try:
        client.eval(_KEYS_SCRIPT, 1, "cap-probe:keys", "cap-probe:*")
    except redis.ResponseError as e:
        return str(e)
    return None


def missing_capabilities(client, commands=(), undeclared_keys=False, keys_in_script=False):
    """A sentence naming what the server lacks of `commands` and (when asked) scripts
    with undeclared keys or KEYS, or None."""
    reasons = []
    missing = missing_commands(client, list(commands)) if commands else []
    if missing:
        reasons.append("server lacks %s (COMMAND INFO is empty)" % ", ".join(missing))
    if undeclared_keys:
        problem = undeclared_keys_problem(client)
        if problem:
            reasons.append("a script writing undeclared keys fails: %s" % problem)
    if keys_in_script:
        problem = keys_in_script_problem(client)
        if problem:
            reasons.append("a script running KEYS fails: %s" % problem)
    return "; ".join(reasons) or None


def require(client, commands=(), undeclared_keys=False, keys_in_script=False):
    """Skips the calling test when the server lacks what it needs."""
    reason = missing_capabilities(client, commands, undeclared_keys, keys_in_script)
    if reason:
        pytest.skip(reason)
