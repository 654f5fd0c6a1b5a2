"""The reads: orphan semantics case by case, edges, stats, reset, ORPHANS_SQL on its own."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lsp_backoff.tracker import queries
from lsp_backoff.tracker.model import FailureState, SymbolRef, Target
from lsp_backoff.tracker.store import GraphStore

NOW = 1_700_000_000.0
DOC = "file:///w/a.py"
OTHER = "file:///w/b.py"
FOO = SymbolRef(f"{DOC}#1:4:foo", DOC, "foo", 1, 4, 12, "h1")
BAR = SymbolRef(f"{DOC}#5:0:bar", DOC, "bar", 5, 0, 5, "h1")
OPS = ("references",)


class Graph:
    """An in-memory store with its data read back through query()."""

    def __init__(self) -> None:
        self.store = GraphStore(None, clock=lambda: NOW)
        self.store.start()
        self.store.put_document(DOC, "h1")
        self.store.put_symbols([FOO, BAR], "document_symbol")

    def read(self, fn: Callable[[sqlite3.Connection], Any]) -> Any:
        assert self.store.flush()
        return self.store.query(fn)

    def orphans(self, **kwargs: Any) -> list[tuple[str, str, str, str | None]]:
        kwargs.setdefault("operations", OPS)
        rows = self.read(lambda c: queries.orphans(c, now=NOW, **kwargs))
        return [(r["name"], r["operation"], r["state"], r["retry_at"]) for r in rows]

    def fail(self, symbol: SymbolRef, **fields: Any) -> None:
        fields.setdefault("version", "h1")
        self.store.put_failure(FailureState(symbol.key, DOC, "references", **fields))


@pytest.fixture
def graph() -> Iterator[Graph]:
    g = Graph()
    yield g
    g.store.close()


def test_symbols_without_data_are_ready_orphans_for_each_operation(graph: Graph) -> None:
    assert graph.orphans(operations=("references", "implementation")) == [
        ("foo", "references", "ready", None),
        ("foo", "implementation", "ready", None),
        ("bar", "references", "ready", None),
        ("bar", "implementation", "ready", None),
    ]


def test_default_operations(graph: Graph) -> None:
    rows = graph.read(lambda c: queries.orphans(c, now=NOW))
    assert {r["operation"] for r in rows} == {
        "references",
        "implementation",
        "incoming_calls",
        "outgoing_calls",
    }


@pytest.mark.parametrize("kind", ["edge", "none", "error"])
def test_any_current_row_ends_the_orphan(graph: Graph, kind: str) -> None:
    if kind == "edge":
        graph.store.put_edges(FOO, "references", [Target(OTHER, 1, 1)])
    else:
        graph.store.put_placeholder(FOO, "references", kind, "detail")
    assert graph.orphans(operations=("references", "definition")) == [
        ("foo", "definition", "ready", None),
        ("bar", "references", "ready", None),
        ("bar", "definition", "ready", None),
    ]


def test_stale_rows_do_not_count_after_the_document_changes(graph: Graph) -> None:
    graph.store.put_edges(FOO, "references", [Target(OTHER, 1, 1)])
    graph.store.put_placeholder(BAR, "references", "none")
    graph.store.put_document(DOC, "h2")
    # The symbols themselves are stale until seen again in the new content.
    assert graph.orphans() == []
    graph.store.put_symbols([SymbolRef(FOO.key, DOC, "foo", 1, 4, 12, "h2")], "document_symbol")
    assert graph.orphans() == [("foo", "references", "ready", None)]
    assert graph.read(lambda c: queries.edges(c)) == []


def test_backoff_is_reported_with_its_retry_time(graph: Graph) -> None:
    graph.fail(FOO, failures=2, retry_at=NOW + 10)
    graph.fail(BAR, failures=1, retry_at=NOW - 1)  # window over: ready again
    assert graph.orphans() == [
        ("foo", "references", "backoff", "2023-11-14T22:13:30.000+00:00"),
        ("bar", "references", "ready", None),
    ]
    assert graph.orphans(ready_only=True) == [("bar", "references", "ready", None)]


def test_tentative_empty_waits_like_backoff(graph: Graph) -> None:
    graph.fail(FOO, empty_since=NOW - 1, retry_at=NOW + 4)
    assert graph.orphans(ready_only=True) == [("bar", "references", "ready", None)]
    assert graph.orphans()[0][:3] == ("foo", "references", "backoff")


def test_skipped_is_not_an_orphan_until_the_document_changes(graph: Graph) -> None:
    graph.fail(FOO, failures=8, skipped=True, retry_at=NOW + 1000)
    assert graph.orphans() == [("bar", "references", "ready", None)]
    graph.store.put_document(DOC, "h2")
    graph.store.put_symbols([SymbolRef(FOO.key, DOC, "foo", 1, 4, 12, "h2")], "request")
    assert graph.orphans() == [("foo", "references", "ready", None)]


def test_unknown_documents_never_go_stale() -> None:
    g = Graph()
    try:
        loose = SymbolRef("file:///x.py#0:0:z", "file:///x.py", "z", 0, 0, None, None)
        g.store.put_symbols([loose], "request")
        g.store.put_edges(FOO, "references", [Target(OTHER, 1, 1)])
        g.store.put_placeholder(BAR, "references", "none")
        assert g.orphans() == [("z", "references", "ready", None)]
        g.store.put_edges(loose, "references", [Target(OTHER, 2, 2)])
        assert g.orphans() == []
    finally:
        g.store.close()


def test_orphans_sql_runs_on_its_own_connection(tmp_path: Path) -> None:
    path = tmp_path / "g.db"
    store = GraphStore(path, clock=lambda: NOW)
    store.start()
    store.put_document(DOC, "h1")
    store.put_symbols([FOO, BAR], "document_symbol")
    store.put_failure(FailureState(FOO.key, DOC, "references", 1, retry_at=NOW + 5, version="h1"))
    store.close()
    conn = sqlite3.connect(path)  # a plain connection, as an indexer would open
    params = {"operations": json.dumps(["references"]), "now": NOW, "ready_only": 0}
    rows = conn.execute(queries.ORPHANS_SQL, params).fetchall()
    assert [(r[1], r[7], r[8]) for r in rows] == [
        ("foo", "backoff", NOW + 5),
        ("bar", "ready", None),
    ]
    params["ready_only"] = 1
    assert [r[1] for r in conn.execute(queries.ORPHANS_SQL, params)] == ["bar"]


def test_edges_rows_have_the_documented_fields(graph: Graph) -> None:
    graph.store.put_edges(FOO, "references", [Target(OTHER, 7, 8)])
    graph.store.put_placeholder(BAR, "definition", "error", "gave up after 8 failures")
    rows = graph.read(lambda c: queries.edges(c))
    assert rows == [
        {
            "symbol": FOO.key,
            "name": "foo",
            "uri": DOC,
            "line": 1,
            "character": 4,
            "operation": "references",
            "kind": "edge",
            "target": {"uri": OTHER, "line": 7, "character": 8},
            "detail": "",
            "recorded_at": "2023-11-14T22:13:20.000+00:00",
        },
        {
            "symbol": BAR.key,
            "name": "bar",
            "uri": DOC,
            "line": 5,
            "character": 0,
            "operation": "definition",
            "kind": "error",
            "target": None,
            "detail": "gave up after 8 failures",
            "recorded_at": "2023-11-14T22:13:20.000+00:00",
        },
    ]
    assert len(graph.read(lambda c: queries.edges(c, symbol=BAR.key))) == 1
    assert len(graph.read(lambda c: queries.edges(c, operation="references"))) == 1
    assert graph.read(lambda c: queries.edges(c, symbol=BAR.key, operation="references")) == []


def test_stats_count_current_rows_per_operation(graph: Graph) -> None:
    graph.store.put_edges(FOO, "references", [Target(OTHER, 1, 1), Target(OTHER, 2, 2)])
    graph.store.put_placeholder(BAR, "references", "none")
    graph.store.put_placeholder(FOO, "definition", "error", "x")
    graph.fail(FOO, failures=8, skipped=True)
    graph.store.put_failure(
        FailureState(BAR.key, DOC, "definition", 1, retry_at=NOW + 5, version="h1")
    )
    result = graph.read(lambda c: queries.stats(c, now=NOW))
    assert result["operations"]["references"] == {
        "symbols": 2,
        "edges": 2,
        "none": 1,
        "error": 0,
        "backoff": 0,
        "skipped": 1,
    }
    assert result["operations"]["definition"] == {
        "symbols": 1,
        "edges": 0,
        "none": 0,
        "error": 1,
        "backoff": 1,
        "skipped": 0,
    }
    assert {k: result[k] for k in ("documents", "symbols", "edges", "none", "error")} == {
        "documents": 1,
        "symbols": 2,
        "edges": 2,
        "none": 1,
        "error": 1,
    }


def test_reset_forgets_failures_and_error_placeholders(graph: Graph) -> None:
    other = SymbolRef(f"{OTHER}#0:0:q", OTHER, "q", 0, 0, None, None)
    graph.fail(FOO, failures=8, skipped=True)
    graph.store.put_placeholder(FOO, "references", "error", "x")
    graph.store.put_placeholder(BAR, "definition", "error", "y")
    graph.store.put_placeholder(BAR, "references", "none")
    graph.store.put_failure(FailureState(other.key, OTHER, "references", 2, retry_at=NOW + 9))
    assert graph.read(lambda c: queries.reset(c, OTHER)) == 1
    assert graph.read(lambda c: queries.reset(c)) == 2
    assert graph.read(lambda c: queries.reset(c)) == 0
    assert [r["kind"] for r in graph.read(lambda c: queries.edges(c))] == ["none"]
    assert graph.orphans() == [("foo", "references", "ready", None)]
