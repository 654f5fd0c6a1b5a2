"""Schema 5 in place: the listed symbols 0.x keyed at punctuation by position alone (`*args`, a
quoted `__slots__` entry: basedpyright's selectionRange starts there, and the server answers
nothing at that position) go with their false "none" rows, so the next listing keys them at
their name and enrich asks them again (issue 21). Everything else stays."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from lsp_backoff.tracker.migrations import SCHEMA_VERSION, migrate
from lsp_backoff.tracker.model import FailureState, SymbolRef, Target
from lsp_backoff.tracker.store_sql import (
    commit_batch,
    edges_op,
    failure_op,
    placeholder_op,
    symbols_op,
)

U = "file:///w/m.py"
AT_STAR = SymbolRef(f"{U}#1:12", U, "args", 1, 12, 13, "h")  # listed, keyed at the `*`
AT_QUOTE = SymbolRef(f"{U}#2:17", U, "a", 2, 17, 13, "h")  # listed, keyed at the quote
NAMED = SymbolRef(f"{U}#1:4:wrapper", U, "wrapper", 1, 4, 12, "h")
ASKED_THERE = SymbolRef(f"{U}#3:0", U, "", 3, 0, None, "h")  # a client's request at a space


def test_position_keyed_listed_symbols_go_with_their_rows(tmp_path: Path) -> None:
    path = tmp_path / "graph.db"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, "old", target=4)
    commit_batch(
        conn,
        [
            symbols_op([AT_STAR, AT_QUOTE, NAMED], "document_symbol", 1.0),
            symbols_op([ASKED_THERE], "request", 1.0),
            placeholder_op(AT_STAR, "references", "none", "", 2.0),
            placeholder_op(AT_QUOTE, "definition", "none", "", 2.0),
            edges_op(NAMED, "references", [Target(U, 9, 1)], 2.0),
            placeholder_op(ASKED_THERE, "references", "none", "", 2.0),
            failure_op(FailureState(AT_STAR.key, U, "definition", failures=2, retry_at=9.0)),
            failure_op(FailureState(NAMED.key, U, "definition", failures=1, retry_at=9.0)),
        ],
    )
    orphans_before = conn.execute("SELECT count(*) FROM orphan").fetchone()[0]

    assert migrate(conn, "old") is True
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    keys = {key for (key,) in conn.execute("SELECT key FROM symbol")}
    assert keys == {"#1:4:wrapper", "#3:0"}
    pairs = conn.execute("SELECT count(*) FROM pair").fetchone()[0]
    assert pairs == 2  # wrapper's references, the request's none
    assert conn.execute("SELECT count(*) FROM edge").fetchone()[0] == 1
    failures = [key for (key,) in conn.execute("SELECT symbol FROM failures")]
    assert failures == [NAMED.key]
    # 8 operations each for the two symbols gone, none of them had a pair but the none
    orphans = conn.execute("SELECT count(*) FROM orphan").fetchone()[0]
    assert orphans == orphans_before - 2 * 8 + 2
    assert not conn.execute(
        "SELECT * FROM orphan WHERE symbol NOT IN (SELECT id FROM symbol)"
    ).fetchall()
    symbols_counted = conn.execute(
        "SELECT sum(pairs) FROM tally WHERE operation = -1 AND kind = -1"
    ).fetchone()[0]
    assert symbols_counted == 2
    none_counted = conn.execute("SELECT sum(pairs) FROM tally WHERE kind = 1").fetchone()[0]
    assert none_counted == 1
    conn.close()
