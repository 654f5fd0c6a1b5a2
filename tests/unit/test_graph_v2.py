"""Schema 2: every read is an index seek (EXPLAIN QUERY PLAN), paging, and the orphan index and
counters kept in step with the pairs under every write the store does."""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from lsp_backoff.tracker import orphans as orphan_sql
from lsp_backoff.tracker import queries
from lsp_backoff.tracker.model import OPERATIONS, FailureState, SymbolRef, Target
from lsp_backoff.tracker.store import GraphStore

NOW = 1_700_000_000.0
DOCS = [f"file:///w/m{i}.py" for i in range(3)]
BIG = ("symbol", "pair", "edge", "orphan")


def sym(doc: int, line: int, version: str | None = "h1", name: str = "") -> SymbolRef:
    uri = DOCS[doc]
    name = name or f"n{doc}_{line}"
    return SymbolRef(f"{uri}#{line}:2:{name}", uri, name, line, 2, 12, version)


@pytest.fixture
def store() -> Iterator[GraphStore]:
    s = GraphStore(None, clock=lambda: NOW)
    s.start()
    yield s
    s.close()


def read(store: GraphStore, fn: Callable[[sqlite3.Connection], Any]) -> Any:
    assert store.flush()
    return store.query(fn)


def plan(conn: sqlite3.Connection, sql: str, params: Any = ()) -> list[str]:
    return [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params)]


def no_scan_of_the_graph(steps: list[str]) -> None:
    """No full scan of a table that grows with the graph, no sort of its rows."""
    for step in steps:
        if step.startswith("SCAN "):
            assert step.split()[1] not in BIG and " AS " not in step, steps
        assert "TEMP B-TREE" not in step, steps


# -- query plans ------------------------------------------------------------------------------


def test_every_cli_read_is_an_index_seek(store: GraphStore) -> None:
    store.put_symbols([sym(0, 1)], "document_symbol")

    def plans(conn: sqlite3.Connection) -> dict[str, list[str]]:
        cursor = {"document": -1, "line": -1, "character": -1, "symbol": -1}
        base = {"now": NOW, "ready_only": 1, "low": "", "high": "\U0010ffff"}
        out = {
            "orphans page (CLI, monitor)": plan(
                conn, orphan_sql._ORPHANS_AFTER_SQL, {**base, **cursor, "op": 4}
            ),
            "ORPHANS_PAGE_SQL": plan(
                conn,
                queries.ORPHANS_PAGE_SQL,
                {"now": NOW, "ready_only": 0, "after": DOCS[0] + "#1:2:x", "operation": "x"}
                | {"limit": 10},
            ),
            "symbol key": plan(
                conn,
                "SELECT s.id FROM document AS d JOIN symbol AS s ON s.document = d.id "
                "WHERE d.uri = ? AND s.key = ?",
                ("a", "#b"),
            ),
        }
        for name, kwargs in {
            "edges --symbol": {"symbol": 1},
            "edges --symbol --operation": {"symbol": 1, "operation": 4},
        }.items():
            where = " AND ".join(
                [queries.CURRENT.format("p")]
                + [f"{'s.id' if k == 'symbol' else 'p.operation'} = :{k}" for k in kwargs]
            )
            sql = queries.EDGES_SQL.format(where=where)
            out[name] = plan(conn, sql, kwargs)
        return out

    for name, steps in read(store, plans).items():
        no_scan_of_the_graph(steps)
        assert any(step.startswith("SEARCH") for step in steps), name


def test_stats_read_the_counters_not_the_graph(store: GraphStore) -> None:
    def plans(conn: sqlite3.Connection) -> list[str]:
        return plan(conn, queries._TALLY.format(where=""))

    steps = read(store, plans)
    assert steps[0] == "SCAN t"  # tally: a row per document, version, operation and kind
    assert not any(step.split()[1] in BIG for step in steps)


def test_edges_and_orphan_listing_stream_in_index_order(store: GraphStore) -> None:
    def plans(conn: sqlite3.Connection) -> list[str]:
        return plan(conn, queries.EDGES_SQL.format(where=queries.CURRENT.format("p")))

    steps = read(store, plans)
    assert steps[0] == "SCAN s USING INDEX symbol_by_position"
    assert not any("TEMP B-TREE" in step for step in steps)


# -- paging -----------------------------------------------------------------------------------


def test_pages_continue_after_a_symbol_and_never_split_one(store: GraphStore) -> None:
    symbols = [sym(d, line) for d in (0, 1) for line in (1, 2, 3)]
    store.put_symbols(symbols, "document_symbol")
    ops = ("references", "implementation")
    everything = read(store, lambda c: queries.orphans(c, operations=ops, now=NOW))
    assert len(everything) == 12
    pages: list[list[dict[str, Any]]] = []
    after = None
    while True:
        page = read(
            store,
            lambda c, a=after: queries.orphans(c, operations=ops, now=NOW, after=a, limit=3),
        )
        if not page:
            break
        pages.append(page)
        after = page[-1]["symbol"]
    assert [len(p) for p in pages] == [4, 4, 4]  # 3 rows, then the rest of the last symbol
    assert [r for p in pages for r in p] == everything


def test_the_documented_page_query_walks_the_same_rows(store: GraphStore) -> None:
    store.put_symbols([sym(d, line) for d in (0, 1) for line in (5, 1, 3)], "document_symbol")
    store.put_placeholder(sym(0, 3), "references", "none")
    expected = read(store, lambda c: queries.orphans(c, operations=("references",), now=NOW))
    walked: list[str] = []
    after = None
    while True:
        params = {"operation": "references", "now": NOW, "ready_only": 0, "after": after}
        rows = read(
            store,
            lambda c, p=params: c.execute(queries.ORPHANS_PAGE_SQL, {**p, "limit": 2}).fetchall(),
        )
        if not rows:
            break
        walked += [r[0] for r in rows]
        after = rows[-1][0]
    assert walked == [r["symbol"] for r in expected]
    assert len(walked) == 5


def test_unknown_after_is_an_error(store: GraphStore) -> None:
    store.put_symbols([sym(0, 1)], "document_symbol")
    with pytest.raises(KeyError):
        read(store, lambda c: queries.orphans(c, after=DOCS[0] + "#9:9:nope"))


def test_orphans_of_one_workspace_only(store: GraphStore) -> None:
    other = SymbolRef("file:///elsewhere/x.py#0:0:x", "file:///elsewhere/x.py", "x", 0, 0)
    store.put_symbols([sym(0, 1), other], "document_symbol")
    rows = read(
        store,
        lambda c: queries.orphans(c, operations=("references",), uri_prefix="file:///w/"),
    )
    assert [(r["symbol"], r["uri"]) for r in rows] == [(sym(0, 1).key, DOCS[0])]


# -- the orphan index and the counters, in step under every write -----------------------------


def expected_orphans(conn: sqlite3.Connection) -> set[tuple[int, ...]]:
    return set(
        conn.execute(
            """SELECT o.id, s.document, s.line, s.character, s.id FROM symbol AS s, operation AS o
            WHERE NOT EXISTS (SELECT 1 FROM pair AS p WHERE p.symbol = s.id
                              AND p.operation = o.id AND p.version IS s.version)"""
        )
    )


def check_in_step(conn: sqlite3.Connection) -> None:
    assert set(conn.execute("SELECT * FROM orphan")) == expected_orphans(conn)
    tally = {row[:4]: row[4:] for row in conn.execute("SELECT * FROM tally") if row[4] or row[5]}
    recount = {
        row[:4]: row[4:]
        for row in conn.execute(
            """SELECT s.document, coalesce(p.version, ''), p.operation, p.kind, count(*),
                      sum(p.edges)
            FROM pair AS p JOIN symbol AS s ON s.id = p.symbol GROUP BY 1, 2, 3, 4
            UNION ALL
            SELECT document, coalesce(version, ''), -1, -1, count(*), 0 FROM symbol
            GROUP BY 1, 2"""
        )
    }
    assert tally == recount
    assert not conn.execute(
        """SELECT 1 FROM pair AS p WHERE edges != (SELECT count(*) FROM edge AS e
           WHERE e.symbol = p.symbol AND e.operation = p.operation)"""
    ).fetchall()
    # The v2 answer equals the schema-1 definition, evaluated the slow way on the views.
    ops = json.dumps(list(OPERATIONS))
    slow = conn.execute(
        """SELECT s.key, op.value FROM symbols AS s CROSS JOIN json_each(:ops) AS op
        LEFT JOIN documents AS d ON d.uri = s.uri
        LEFT JOIN failures AS f ON f.symbol = s.key AND f.operation = op.value
             AND (d.uri IS NULL OR f.version = d.version)
        WHERE (d.uri IS NULL OR s.version = d.version)
          AND NOT EXISTS (SELECT 1 FROM edges AS e WHERE e.symbol = s.key
                          AND e.operation = op.value AND (d.uri IS NULL OR e.version = d.version))
          AND coalesce(f.skipped, 0) = 0""",
        {"ops": ops},
    ).fetchall()
    fast = [(r.symbol, r.operation) for r in queries.iter_orphans(conn, operations=OPERATIONS)]
    assert sorted(fast) == sorted(slow)


def test_orphans_and_counts_follow_every_kind_of_write(store: GraphStore) -> None:
    rng = random.Random(7)
    pool = [sym(d, line) for d in range(3) for line in range(6)]
    for step in range(400):
        s = rng.choice(pool)
        version = rng.choice(["h1", "h2", None])
        s = SymbolRef(s.key, s.document, s.name, s.line + rng.choice([0, 0, 1]), 2, 12, version)
        op = rng.choice(OPERATIONS)
        action = rng.randrange(9)
        if action == 0:
            store.put_symbols([s], rng.choice(["request", "document_symbol"]))
        elif action == 1:
            targets = [Target(rng.choice(DOCS), rng.randrange(9), 0) for _ in range(3)]
            store.put_edges(s, op, targets)
        elif action == 2:
            store.put_placeholder(s, op, rng.choice(["none", "error"]), "d")
        elif action == 3:
            store.put_document(s.document, rng.choice(["h1", "h2"]))
        elif action == 4:
            store.put_failure(FailureState(s.key, s.document, op, 8, skipped=True, version=version))
        elif action == 5:
            store.clear_failure(s.key, op)
        elif action == 6:
            store.withdraw_placeholder(s.key, op, "none", "")
        elif action == 7:
            store.put_edges(s, op, [])  # an empty success: a "none"
        else:
            read(store, lambda c: queries.reset(c, rng.choice([None, *DOCS])))
        if step % 50 == 49:
            read(store, check_in_step)
    read(store, check_in_step)


def test_deleting_a_symbol_takes_its_rows_and_counts_along(store: GraphStore) -> None:
    store.put_edges(sym(0, 1), "references", [Target(DOCS[1], 1, 1)])
    store.put_placeholder(sym(0, 1), "definition", "none")
    store.put_symbols([sym(0, 2)], "document_symbol")

    def delete(conn: sqlite3.Connection) -> None:
        conn.execute("DELETE FROM symbol WHERE key = ?", ("#1:2:n0_1",))

    read(store, delete)
    read(store, check_in_step)
    assert read(store, lambda c: c.execute("SELECT count(*) FROM edge").fetchone()) == (0,)
    stats = read(store, lambda c: queries.stats(c))
    assert (stats["symbols"], stats["edges"], stats["none"]) == (1, 0, 0)


def test_the_graph_page_shows_the_orphan_query_of_the_code() -> None:
    from pathlib import Path

    page = (Path(__file__).resolve().parents[2] / "docs" / "graph.md").read_text()
    assert "```sql\n" + queries.ORPHANS_SQL + "```" in page
