"""enrich waits until a pyright-like server has listed the workspace's sources before it opens
a document (Fleet._settle, servers.LISTS_SOURCES): pyright answers references from open files
only until then, and every didOpen postpones the listing, so an early answer would be recorded
as current while missing the references of every closed file.

The fake server (servers/lists_sources.py) announces itself as pyright and writes the order of
its events; the tests read that order, never the clock.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from enrich_helpers import ROOT, env, summary

FAKE = Path(__file__).parent / "servers" / "lists_sources.py"


def run(
    tmp_path: Path, *server_args: str, timeout: str = "30"
) -> tuple[subprocess.CompletedProcess[str], list[dict[str, str]]]:
    ws = tmp_path / "ws"
    ws.mkdir()
    for name in ("one", "two", "three"):
        (ws / f"{name}.py").write_text(f"def {name}():\n    pass\n")
    events = tmp_path / "events.jsonl"
    argv = [
        sys.executable, "-m", "lsp_backoff", "enrich", str(ws), "--db", str(tmp_path / "g.db"),
        "--json", "--operation", "references", "--timeout", timeout, "--servers", "1",
        "--", sys.executable, str(FAKE), "--events", str(events), *server_args,
    ]  # fmt: skip
    process = subprocess.run(
        argv, capture_output=True, text=True, cwd=ROOT, env=env(), timeout=90, check=False
    )
    lines = events.read_text().splitlines() if events.exists() else []
    return process, [json.loads(line) for line in lines]


@pytest.mark.parametrize(
    "greeting",
    [
        "Fake pyright language server 0.1 starting",
        # The first log lines of the real servers (basedpyright's went unrecognised once).
        "Pyright language server 1.1.407 starting",
        "basedpyright language server 1.40.2 starting",
    ],
)
def test_no_document_is_opened_or_asked_about_before_the_server_listed_its_sources(
    tmp_path: Path, greeting: str
) -> None:
    process, events = run(tmp_path, "--after", "1.0", "--greeting", greeting)
    assert process.returncode == 0, process.stderr
    kinds = [e["event"] for e in events]
    assert "listed" in kinds, kinds
    first = kinds.index("listed")
    assert "open" in kinds[first:] and "ask" in kinds[first:], kinds
    assert not {"open", "ask"} & set(kinds[:first]), kinds
    assert summary(process)["symbols"] == 3


def test_a_server_that_never_says_it_listed_is_waited_for_only_until_the_timeout(
    tmp_path: Path,
) -> None:
    process, events = run(tmp_path, "--never", timeout="2")
    assert process.returncode == 0, process.stderr
    assert "has not said it listed the workspace's sources within 2.0 s" in process.stderr
    kinds = [e["event"] for e in events]
    assert "listed" not in kinds
    assert kinds.count("ask") == 3, kinds  # every symbol still asked, once
