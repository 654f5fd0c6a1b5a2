"""The graph side of issue 13, through GraphStore's own write path and the documented reads:
a document that leaves takes its symbols, rows, failure state and the answers pointing into it
along; a document that changes stops the answers pointing into it counting (the target rule);
symbols elsewhere named in its text lose their cross-file answers (the name rule)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lsp_backoff.tracker import queries
from lsp_backoff.tracker.model import FailureState, SymbolRef, Target
from lsp_backoff.tracker.store import GraphStore

A, B, C = "file:///w/a.py", "file:///w/b.py", "file:///w/c.py"
STALE = ("references", "implementation", "incoming_calls", "outgoing_calls")


def sym(doc: str, name: str, line: int = 0) -> SymbolRef:
    return SymbolRef(f"{doc}#{line}:4:{name}", doc, name, line, 4, 12, "v1")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[GraphStore]:
    s = GraphStore(tmp_path / "graph.db")
    s.start()
    for doc in (A, B, C):
        s.put_document(doc, "v1")
    yield s
    s.close()


@pytest.fixture
def graph(store: GraphStore) -> dict[str, SymbolRef]:
    """a.py: area, used by b.py's main and c.py's other; unrelated rows in c.py."""
    area, main, other, lonely = sym(A, "area"), sym(B, "main"), sym(C, "other"), sym(C, "lonely", 3)
    store.put_symbols([area, main, other, lonely], "document_symbol")
    store.put_edges(area, "references", [Target(B, 2, 8), Target(C, 1, 0)])
    store.put_edges(main, "definition", [Target(A, 0, 4)])  # points into a.py
    store.put_edges(main, "outgoing_calls", [Target(A, 0, 4)])
    store.put_edges(other, "references", [Target(C, 5, 0)])  # c.py only
    store.put_placeholder(lonely, "references", "none")
    store.put_placeholder(lonely, "implementation", "error", "error -32603: boom")
    failing = FailureState(area.key, A, "implementation", failures=1, retry_at=9e9, version="v1")
    store.put_failure(failing)
    assert store.flush()
    return {"area": area, "main": main, "other": other, "lonely": lonely}


def rows(store: GraphStore) -> set[tuple[str, str, str]]:
    """(name, operation, kind) of every current row."""
    found = store.query(queries.edges)
    return {(r["name"], r["operation"], r["kind"]) for r in found}


def orphans(store: GraphStore, name: str, ops: tuple[str, ...] = STALE) -> set[str]:
    found = store.query(lambda conn: queries.orphans(conn, operations=ops))
    return {r["operation"] for r in found if r["name"] == name}


def test_a_forgotten_document_takes_everything_of_it_and_pointing_into_it(store, graph) -> None:
    store.forget_document(A)
    assert store.flush()
    assert rows(store) == {
        ("other", "references", "edge"),
        ("lonely", "references", "none"),
        ("lonely", "implementation", "error"),
    }
    symbols = store.query(lambda c: c.execute("SELECT name FROM symbols ORDER BY name").fetchall())
    assert symbols == [("lonely",), ("main",), ("other",)]
    assert store.query(lambda c: c.execute("SELECT count(*) FROM failures").fetchone()) == (0,)
    docs = store.query(lambda c: c.execute("SELECT uri FROM documents ORDER BY uri").fetchall())
    assert docs == [(B,), (C,)]
    # main's answers pointed into a.py: they are asked again.
    assert orphans(store, "main", ("definition", "outgoing_calls")) == {
        "definition",
        "outgoing_calls",
    }


def test_a_new_version_stops_the_answers_pointing_into_it(store, graph) -> None:
    store.put_document(A, "v1")  # the same content again: nothing changes
    assert store.flush()
    assert ("main", "definition", "edge") in rows(store)
    store.put_document(A, "v2")
    assert store.flush()
    found = rows(store)
    assert ("main", "definition", "edge") not in found
    assert ("main", "outgoing_calls", "edge") not in found
    # a.py's own rows are stale by their version; c.py's stay.
    assert ("area", "references", "edge") not in found
    assert ("other", "references", "edge") in found
    assert orphans(store, "main", ("definition",)) == {"definition"}


def test_the_name_rule_rearms_symbols_elsewhere_named_in_the_text(store, graph) -> None:
    store.rearm(C, {"area", "lonely", "print"}, STALE)
    assert store.flush()
    found = rows(store)
    # area (in a.py) is named in c.py: its references are asked again.
    assert ("area", "references", "edge") not in found
    assert orphans(store, "area") >= {"references"}
    # c.py's own symbols are not the name rule's business (their version decides) ...
    assert ("lonely", "references", "none") in found
    # ... nor are operations outside the rule, nor symbols not named.
    assert ("main", "definition", "edge") in found
    assert ("other", "references", "edge") in found


def test_the_name_rule_keeps_errors_and_other_operations(store, graph) -> None:
    store.rearm(B, {"lonely", "main"}, STALE)
    assert store.flush()
    found = rows(store)
    assert ("lonely", "references", "none") not in found  # none placeholders are re-armed
    assert ("lonely", "implementation", "error") in found  # skipped for good stays skipped
    assert ("main", "definition", "edge") in found  # main lives in b.py itself


def test_rearm_applies_the_target_rule_again(store, graph) -> None:
    """An answer recorded after X changed but given before it: re-applying catches it."""
    store.rearm(A, set(), STALE)
    assert store.flush()
    assert ("main", "definition", "edge") not in rows(store)


def test_unknown_operations_are_refused_at_the_call() -> None:
    store = GraphStore(None)
    with pytest.raises(ValueError):
        store.rearm(A, {"x"}, ("references", "no_such_operation"))


def test_documents_gone_from_the_listing(tmp_path: Path) -> None:
    from lsp_backoff.proxy.enrich.watch import gone_documents

    ws = tmp_path / "ws"
    ws.mkdir()
    for name in ("kept.py", "ignored.py", "README.md"):
        (ws / name).write_text("x = 1\n")
    store = GraphStore(tmp_path / "graph.db")
    store.start()
    try:
        for name in ("kept.py", "ignored.py", "README.md", "deleted.py"):
            store.put_document((ws / name).as_uri(), "v1")
        store.put_document("file:///elsewhere/other.py", "v1")  # another workspace
        assert store.flush()
        listed = [ws / "kept.py"]  # as if .gitignore now left ignored.py out
        gone = store.query(lambda conn: gone_documents(conn, ws, listed))
    finally:
        store.close()
    assert gone == [(ws / "deleted.py").as_uri(), (ws / "ignored.py").as_uri()]
