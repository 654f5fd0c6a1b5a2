"""`enrich` never calls a run complete while answered symbols stay orphans (issue 15).

The summary is built from a real graph file: symbols the monitor saw answered ("stuck") that the
orphan query still lists are named, counted, listed in `--json`, and make the exit status 3;
any other pair left missing makes it 4 (issue 12): never "completed" with holes in the graph.
Also: the identifier table of docs/identity.md names every languageId proxy/identifiers.py knows.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from lsp_backoff.proxy.enrich.summary import (
    EXIT_ORPHANS,
    EXIT_UNFILLED,
    build_summary,
    exit_status,
    print_summary,
)
from lsp_backoff.proxy.identifiers import LANGUAGES
from lsp_backoff.tracker import queries
from lsp_backoff.tracker.model import FailureState, SymbolRef
from lsp_backoff.tracker.store import GraphStore

IDENTITY = Path(__file__).resolve().parents[2] / "docs" / "identity.md"
OPS = ("references", "implementation", "prepare_call_hierarchy", "incoming_calls")


def summary_of(tmp_path: Path, stuck: set[tuple[str, str]], count: int = 7) -> dict[str, Any]:
    ws = tmp_path / "ws"
    ws.mkdir()
    uri = (ws / "arena.cc").as_uri()
    db = tmp_path / "graph.db"
    store = GraphStore(db)
    store.start()
    refs = [SymbolRef(f"{uri}#{n}:4:f{n}", uri, f"f{n}", n, 4) for n in range(count)]
    store.put_symbols(refs, "document_symbol")
    for ref in refs[1:]:  # f0 has no data at all; the others have references only
        store.put_placeholder(ref, "references", "none")
    for ref in refs:  # every call hierarchy answer came while the server was loading
        busy = "empty answer while the server is busy"
        store.put_failure(FailureState(ref.key, uri, "prepare_call_hierarchy", last_error=busy))
    assert store.flush()
    store.close()
    monitor = SimpleNamespace(
        counts=SimpleNamespace(sent=3, errors=0, transient=0),
        last=SimpleNamespace(abandoned=set(), stuck=stuck),
        asked={},  # no record of how they ended: taken as answered (see summary._answered)
    )
    conn = queries.connect(db)
    try:
        return build_summary(
            conn,
            workspace=ws,
            operations=OPS,
            files=1,
            symbols=count,
            symbol_errors=0,
            monitor=monitor,  # type: ignore[arg-type]
            proxy_stats={},
            restarts=0,
            elapsed=1.0,
            interrupted=False,
        )
    finally:
        conn.close()


def test_answered_orphans_are_a_defect_not_a_completed_run(tmp_path: Path) -> None:
    uri = (tmp_path / "ws" / "arena.cc").as_uri()
    stuck = {(f"{uri}#{n}:4:f{n}", "implementation") for n in range(7)}
    stuck.add((f"{uri}#0:4:f0", "references"))
    stuck.add((f"{uri}#99:0:gone", "references"))  # answered, and no longer an orphan
    # Given up while the server was loading: failure state under their own key (prepare's for
    # the calls), so unresolved but not a keying defect.
    stuck |= {(f"{uri}#1:4:f1", op) for op in ("prepare_call_hierarchy", "incoming_calls")}
    summary = summary_of(tmp_path, stuck)
    assert summary["unresolved"] == 10
    assert len(summary["orphans"]) == 8
    assert summary["completed"] is False
    assert exit_status(summary) == EXIT_ORPHANS == 3
    first = summary["orphans"][0]
    assert first == {
        "symbol": f"{uri}#0:4:f0",
        "name": "f0",
        "uri": uri,
        "line": 0,
        "character": 4,
        "operation": "references",
    }
    out = io.StringIO()
    print_summary(summary, as_json=False, stream=out)
    text = out.getvalue()
    assert "8 answered symbol operations are still orphans" in text, text
    assert "f0 (references, arena.cc:1)" in text and "and 3 more" in text, text
    assert "NOT completed" in text
    out = io.StringIO()
    print_summary(summary, as_json=True, stream=out)
    assert len(json.loads(out.getvalue())["orphans"]) == 8


def test_pairs_left_missing_are_never_a_completed_run(tmp_path: Path) -> None:
    summary = summary_of(tmp_path, stuck=set())
    # e.g. waiting in backoff past --max-wait: no defect, but the graph has holes (issue 12).
    assert summary["missing"] == len(summary["unfilled"]) > 0
    assert (summary["unresolved"], summary["orphans"], summary["completed"]) == (0, [], False)
    assert exit_status(summary) == EXIT_UNFILLED == 4
    out = io.StringIO()
    print_summary(summary, as_json=False, stream=out)
    text = out.getvalue()
    assert f"{summary['missing']} symbol operations are still missing" in text, text
    assert "f0 (references, arena.cc:1)" in text and "NOT completed" in text, text


def test_answers_while_the_server_loads_are_unresolved_not_a_defect(tmp_path: Path) -> None:
    uri = (tmp_path / "ws" / "arena.cc").as_uri()
    stuck = {(f"{uri}#{n}:4:f{n}", "incoming_calls") for n in range(7)}
    summary = summary_of(tmp_path, stuck)
    assert (summary["unresolved"], summary["orphans"], summary["completed"]) == (7, [], False)
    assert exit_status(summary) == EXIT_UNFILLED


def test_identity_page_identifier_table_names_every_language() -> None:
    text = IDENTITY.read_text(encoding="utf-8")
    section = text.split("## Identifiers per language", 1)[1].split("\n\n", 3)[2]
    named = set(re.findall(r"[a-z][a-z+-]*", " ".join(
        row.split("|")[1] for row in section.splitlines()[2:]
    )))  # fmt: skip
    assert set(LANGUAGES) - named == set()
