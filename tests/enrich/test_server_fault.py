"""enrich over a server that one cancel breaks (tests/servers/breaks_after_cancel.py, as
pyright and basedpyright): the proxy's own --timeout cancels a slow references request, every
later references then fails for every symbol. The proxy calls that a server fault, enrich
restarts the server as it restarts a dead one and asks again: every symbol gets its edges and no
`error` placeholder comes from the fault (issue 23).

Run in this process (proxy.cli.main) so the restart pauses can be shortened; the proxy session
and the server are real.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from enrich_helpers import env

from lsp_backoff.proxy import cli
from lsp_backoff.proxy.enrich import runner
from lsp_backoff.proxy.enrich.summary import (
    EXIT_ORPHANS,
    EXIT_SERVER_FAULT,
    EXIT_UNFILLED,
    exit_status,
)
from lsp_backoff.tracker import queries
from lsp_backoff.tracker.faults import THRESHOLD

SERVER = Path(__file__).resolve().parents[1] / "servers" / "breaks_after_cancel.py"
#: slow_first is asked first (the first line): its timeout's cancel breaks the server.
NAMES = ["slow_first", *(f"name{i}" for i in range(THRESHOLD + 5))]


@pytest.fixture(autouse=True)
def quick_restarts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner, "RESTART_DELAYS", (0.05, 0.05, 0.05))
    for key, value in env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("LSP_BACKOFF_DB", raising=False)


def enrich(tmp_path: Path, *server_env: str) -> tuple[int, Path]:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "a.py").write_text("".join(f"{name} = 1\n" for name in NAMES))
    db = tmp_path / "graph.db"
    argv = [
        "enrich", str(ws), "--db", str(db), "--json", "--servers", "1", "--jobs", "1",
        "--timeout", "1", "--backoff-base", "0.2", "--interval", "0.1",
        "--operation", "references",
        "--", "env", *server_env, sys.executable, str(SERVER),
    ]  # fmt: skip
    return cli.main(argv), db


def edges(db: Path) -> dict[str, set[str]]:
    conn = queries.connect(db)
    try:
        rows = queries.edges(conn)
    finally:
        conn.close()
    kinds: dict[str, set[str]] = {}
    for row in rows:
        if row["operation"] == "references":
            kinds.setdefault(row["name"], set()).add(row["kind"])
    return kinds


def last_json(capsys: pytest.CaptureFixture[str]) -> dict:
    out = capsys.readouterr().out
    return dict(json.loads(out.strip().splitlines()[-1]))


def test_a_server_broken_by_a_cancel_is_restarted_and_every_symbol_gets_its_edges(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, db = enrich(tmp_path, f"BREAKS_AFTER_CANCEL_SLOW_ONCE={tmp_path / 'slow-once'}")
    summary = last_json(capsys)
    assert summary["requests"]["server_faults"] == 1, summary
    assert summary["restarts"] == 1, summary
    assert summary["at_fault"] == [] and summary["completed"], summary
    assert status == 0
    assert edges(db) == {name: {"edge"} for name in NAMES}


def test_a_server_broken_at_every_start_is_never_a_completed_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every start of this server fails every references: each is a fault, the server is
    restarted until the restarts run out, the last one is kept (its errors charge nothing) —
    never "completed", exit EXIT_SERVER_FAULT, and no `error` placeholder or skip from it."""
    status, db = enrich(tmp_path, "BREAKS_AFTER_CANCEL_BROKEN=1")
    out = capsys.readouterr()
    assert status == EXIT_SERVER_FAULT, out
    summary = json.loads(out.out.strip().splitlines()[-1])
    assert summary["at_fault"] and not summary["completed"], summary
    assert summary["restarts"] == len(runner.RESTART_DELAYS), summary
    assert summary["requests"]["server_faults"] == len(runner.RESTART_DELAYS) + 1, summary
    assert "server fault" in out.err, out.err
    assert not any("error" in found for found in edges(db).values()), edges(db)


def test_a_fault_at_the_end_decides_the_exit_status_before_orphans_and_holes() -> None:
    ended = {"orphans": [{"symbol": "s"}], "missing": 3}
    assert exit_status({**ended, "at_fault": ["server: references failed"]}) == EXIT_SERVER_FAULT
    assert exit_status({**ended, "at_fault": []}) == EXIT_ORPHANS
    assert exit_status({"orphans": [], "missing": 3, "at_fault": []}) == EXIT_UNFILLED
    assert exit_status({"orphans": [], "missing": 0, "at_fault": []}) == 0
