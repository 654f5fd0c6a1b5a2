"""Content hashes written before issue 22 are re-keyed when a writer opens the database
(tracker/rehash.py): an upgrade loses no answer, and keeps none that is stale."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from lsp_backoff.proxy.documents import Documents
from lsp_backoff.tracker import queries
from lsp_backoff.tracker.digest import content_hash, legacy_hash
from lsp_backoff.tracker.model import FailureState, SymbolRef, Target
from lsp_backoff.tracker.store import GraphStore

TEXT = "def area(r):\n    return 3.14 * r * r\n\nprint(area(2))\n"


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db)
    try:
        return sorted(conn.execute(sql).fetchall(), key=repr)
    finally:
        conn.close()


def record(store: GraphStore, uri: str, version: str, n: int) -> None:
    """A document with two symbols: one answered (an edge into `uri`), one failing."""
    store.put_document(uri, version)
    answered = SymbolRef(f"{uri}#0:4:area{n}", uri, f"area{n}", 0, 4, 12, version)
    failing = SymbolRef(f"{uri}#3:0:print{n}", uri, f"print{n}", 3, 0, 12, version)
    store.put_edges(answered, "references", [Target(uri, 3, 6)])
    store.put_placeholder(failing, "definition", "none")
    state = FailureState(failing.key, uri, "references", failures=2, retry_at=9e9, version=version)
    store.put_failure(state)


def test_old_hashes_move_to_the_new_definition_when_the_file_is_unchanged(tmp_path: Path) -> None:
    same, changed = tmp_path / "same.py", tmp_path / "changed.py"
    same.write_text(TEXT)
    changed.write_text(TEXT)
    db = tmp_path / "graph.db"
    store = GraphStore(db)
    store.start()
    record(store, same.as_uri(), legacy_hash(TEXT), 1)
    record(store, changed.as_uri(), legacy_hash(TEXT), 2)
    record(store, "untitled:Untitled-1", legacy_hash(TEXT), 3)
    assert store.flush()
    store.close()
    changed.write_text(TEXT + "# edited since\n")
    conn = queries.connect(db)
    before = queries.stats(conn, now=0.0)
    orphans = conn.execute("SELECT * FROM orphan ORDER BY 1, 2, 3, 4, 5").fetchall()
    conn.close()

    store = GraphStore(db)  # a writer: re-keys on open
    store.start()
    assert store.flush()
    store.close()

    new, marked = content_hash(TEXT), "b2:" + legacy_hash(TEXT)
    assert new != legacy_hash(TEXT)
    assert rows(db, "SELECT uri, version FROM document") == sorted(
        [(same.as_uri(), new), (changed.as_uri(), marked), ("untitled:Untitled-1", marked)],
        key=repr,
    )
    for table in ("symbol", "pair", "failures"):
        versions = rows(db, f"SELECT DISTINCT version FROM {table}")
        assert sorted(versions) == sorted([(new,), (marked,)]), table
    conn = queries.connect(db)
    # Everything counts as before: the same current answers, failures and orphans.
    assert queries.stats(conn, now=0.0) == before
    assert conn.execute("SELECT * FROM orphan ORDER BY 1, 2, 3, 4, 5").fetchall() == orphans
    conn.close()
    # The proxy reading the unchanged file gets the stored hash: nothing looks changed.
    docs = Documents()
    docs.open(same.as_uri(), same.read_text())
    assert docs.version(same.as_uri()) == new
    # Opened again: nothing left to do.
    store = GraphStore(db)
    store.start()
    assert store.flush()
    store.close()
    assert rows(db, "SELECT count(*) FROM document WHERE length(version) = 16") == [(0,)]
