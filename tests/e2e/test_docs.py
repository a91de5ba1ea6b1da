"""docs/commands.md is generated from the running server's command table; it must match."""
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts"))

import command_docs  # noqa: E402


@pytest.mark.sluice_only
def test_commands_page_matches_command_table(r):
    expected = command_docs.render(r)
    with open(os.path.join(ROOT, "docs", "commands.md")) as f:
        committed = f.read()
    assert committed == expected, (
        "docs/commands.md is out of date: run /usr/bin/python3 scripts/command_docs.py --start")


@pytest.mark.sluice_only
def test_every_command_row_has_documentation(r):
    page = command_docs.render(r)
    count = r.execute_command("COMMAND", "COUNT")
    # Every top-level command appears as one table row.
    rows = [line for line in page.splitlines() if line.startswith("| ") and "---" not in line
            and not line.startswith("| Command")]
    top_level = [row for row in rows if " " not in row.split("|")[1].strip()]
    assert len(top_level) == count
