#!/usr/bin/env python3
"""Writes docs/commands.md from a running sluice's COMMAND INFO and COMMAND DOCS.

The command table is the single source of truth: this page is generated from it, and the
end-to-end test test_docs.py fails when the committed page is out of date.

    scripts/command_docs.py [--port N]     # server already running
    scripts/command_docs.py --start        # starts build/sluice-server on a free port
"""
import argparse
import os
import re
import subprocess
import sys

import redis

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GROUP_TITLES = [
    ("string", "Strings and counters"),
    ("hash", "Hashes"),
    ("set", "Sets"),
    ("sorted-set", "Sorted sets"),
    ("list", "Lists"),
    ("stream", "Streams"),
    ("generic", "Keys"),
    ("pubsub", "Pub/Sub"),
    ("connection", "Connection"),
    ("server", "Server"),
    ("ratelimit", "Rate limiting"),
    ("scripting", "Scripting"),
    ("transactions", "Transactions"),
]


def _pairs(reply):
    """COMMAND DOCS maps arrive as flat lists in RESP2."""
    if isinstance(reply, dict):
        return reply
    return {reply[i]: reply[i + 1] for i in range(0, len(reply), 2)}


def render(client):
    client.response_callbacks["COMMAND"] = lambda reply, **_: reply  # keep the raw reply
    docs = _pairs(client.execute_command("COMMAND", "DOCS"))
    infos = client.execute_command("COMMAND", "INFO")
    arity = {}
    flags = {}

    def collect(info):
        arity[info[0]] = info[1]
        flags[info[0]] = [f for f in info[2]]
        for sub in info[9]:
            collect(sub)

    for info in infos:
        collect(info)

    rows = {}
    for name, doc in docs.items():
        doc = _pairs(doc)
        rows.setdefault(doc["group"], []).append((name, doc))
        for sub, sdoc in _pairs(doc.get("subcommands", {})).items():
            rows.setdefault(doc["group"], []).append((sub, _pairs(sdoc)))

    out = [
        "# Commands",
        "",
        "Generated from the server's command table by `scripts/command_docs.py --start`; do",
        "not edit by hand. Arity counts the command name: `2` means exactly one argument,",
        "`-2` at least one. Behaviour, replies and errors follow Redis 7.2 (see",
        "[compatibility.md](compatibility.md) for the differences).",
        "",
    ]
    for group, title in GROUP_TITLES:
        out += [f"## {title}", "", "| Command | Arity | Flags | Since | Complexity | Summary |",
                "|---|---|---|---|---|---|"]
        for name, doc in sorted(rows.get(group, []), key=lambda r: r[0]):
            shown = name.upper().replace("|", " ")
            out.append(
                f"| {shown} | {arity.get(name, '')} | {' '.join(flags.get(name, []))} | "
                f"{doc['since']} | {doc['complexity']} | {doc['summary']} |")
        out.append("")
    return "\n".join(out)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=6379)
    parser.add_argument("--start", action="store_true")
    parser.add_argument("--output", default=os.path.join(ROOT, "docs", "commands.md"))
    args = parser.parse_args()
    proc = None
    port = args.port
    if args.start:
        proc = subprocess.Popen([os.path.join(ROOT, "build", "sluice-server"), "--port", "0"],
                                stdout=subprocess.PIPE, text=True)
        for line in proc.stdout:
            m = re.search(r"Ready to accept connections tcp on port (\d+)", line)
            if m:
                port = int(m.group(1))
                break
    try:
        text = render(redis.Redis(port=port, decode_responses=True))
    finally:
        if proc:
            proc.terminate()
            proc.wait(timeout=10)
    with open(args.output, "w") as f:
        f.write(text)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    sys.exit(main())
