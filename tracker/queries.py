"""Opening the graph database, and its reads: edges, orphans, stats (plus the admin write, reset).

``open_connection`` identifies the file (``PRAGMA application_id``) and, for writers, migrates
it (``tracker.migrations``); ``connect`` is the readers' way in: it never migrates and turns
every problem into a one-line StoreError. Every read pages or streams from an index: none scans
the edges (schema.sql, version 2). The writes belong to ``tracker.store``.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from lsp_backoff.tracker.errors import StoreError
from lsp_backoff.tracker.migrations import (
    APPLICATION_ID,
    MIGRATIONS,
    SCHEMA_VERSION,
    check,
    header,
    migrate,
    needs_migration,
)
from lsp_backoff.tracker.model import OPERATIONS, FailureState
from lsp_backoff.tracker.orphans import (
    ORPHANS_PAGE_SQL,
    ORPHANS_SQL,
    Orphan,
    after_prefix,
    iso,
    iter_orphans,
    orphan_rows,
    orphans,
)
from lsp_backoff.tracker.rehash import rehash
from lsp_backoff.tracker.store_sql import CURRENT, KEY, KINDS, OPERATION_ID, symbol_id

__all__ = [
    "APPLICATION_ID",
    "MIGRATIONS",
    "ORPHANS_PAGE_SQL",
    "ORPHANS_SQL",
    "SCHEMA_VERSION",
    "Orphan",
    "iter_orphans",
    "migrate",
    "orphan_rows",
    "orphans",
]

StorePath = str | os.PathLike[str]


def open_connection(
    path: StorePath | None,
    *,
    create: bool,
    busy_timeout: float = 5.0,
    same_thread: bool = False,
    upgrade: bool = True,
) -> sqlite3.Connection:
    """Open (creating 0600 in a 0700 directory if asked), identify and migrate a database.

    With ``upgrade=False`` an older schema is refused instead (a StoreError naming the command
    that migrates). Raises StoreError for a missing (``create=False``), empty, foreign or
    too-new file; sqlite3.Error / OSError for trouble that may pass (locked, unwritable).
    """
    if path is None:
        conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=same_thread)
        migrate(conn, "the in-memory database")
        return conn
    file = Path(path)
    if not file.exists():
        if not create:
            raise StoreError(f"no database at {file}")
        file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(file, os.O_CREAT | os.O_WRONLY, 0o600))  # WAL/SHM files copy this mode
    uri = file.resolve().as_uri() + ("?mode=rwc" if create else "?mode=rw")
    conn = sqlite3.connect(
        uri, uri=True, timeout=busy_timeout, isolation_level=None, check_same_thread=same_thread
    )
    try:
        try:
            app, _, objects = header(conn)
        except sqlite3.DatabaseError as exc:
            if exc.sqlite_errorcode != sqlite3.SQLITE_NOTADB:  # type: ignore[attr-defined]
                raise
            raise StoreError(f"{file} is not an lsp-backoff database (not SQLite)") from exc
        if app != APPLICATION_ID and (objects or not create):
            raise StoreError(f"{file} is not an lsp-backoff database")
        if not upgrade:
            why = needs_migration(conn, str(file))
            if why is not None:
                raise StoreError(why)
            if check(conn, str(file)) == 0:
                raise StoreError(f"{file} is not an lsp-backoff database (empty)")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: safe against kill -9
        if upgrade:
            migrate(conn, str(file))
            rehash(conn, str(file))  # content hashes written before issue 22
    except BaseException:
        conn.close()
        raise
    return conn


def connect(path: StorePath, *, create: bool = False, upgrade: bool = False) -> sqlite3.Connection:
    """A connection for readers (CLI, tests); every problem is a one-line StoreError.

    Readers never migrate (``upgrade=False``): an older file is refused with a line naming
    ``lsp-backoff migrate``, which passes ``upgrade=True``.
    """
    try:
        return open_connection(path, create=create, upgrade=upgrade or create)
    except (sqlite3.Error, OSError) as exc:
        raise StoreError(f"cannot open database {path}: {exc}") from exc


#: Current edges and placeholders in position order; {where} holds the filters.
EDGES_SQL = f"""
SELECT {KEY} AS symbol, s.name AS name, d.uri AS uri, s.line, s.character,
       p.operation, p.kind, t.uri, e.line, e.character, p.detail, p.recorded_at
FROM symbol AS s
JOIN document AS d ON d.id = s.document
JOIN pair AS p ON p.symbol = s.id
LEFT JOIN edge AS e ON e.symbol = p.symbol AND e.operation = p.operation
LEFT JOIN document AS t ON t.id = e.document
WHERE {{where}}
ORDER BY s.document, s.line, s.character, s.id, p.operation, e.document, e.line, e.character
"""


def edges(
    conn: sqlite3.Connection, *, symbol: str | None = None, operation: str | None = None
) -> list[dict[str, Any]]:
    """Current edges and placeholders, in the CLI's JSON shape."""
    return list(iter_edges(conn, symbol=symbol, operation=operation))


def iter_edges(
    conn: sqlite3.Connection, *, symbol: str | None = None, operation: str | None = None
) -> Iterator[dict[str, Any]]:
    """Current edges and placeholders in position order, lazily; each filter is an index seek
    (``symbol``: symbol_identity; ``operation``: the pair key after the symbol)."""
    where = [CURRENT.format("p")]
    params: dict[str, Any] = {}
    if symbol is not None:
        sid = symbol_id(conn, symbol)
        if sid is None:
            return
        where.append("s.id = :symbol")
        params["symbol"] = sid
    if operation is not None:
        if operation not in OPERATION_ID:
            raise ValueError(f"unknown operation {operation!r}")
        where.append("p.operation = :operation")
        params["operation"] = OPERATION_ID[operation]
    cursor = conn.execute(EDGES_SQL.format(where=" AND ".join(where)), params)
    for key, name, uri, line, character, op, kind, t_uri, t_line, t_char, detail, at in cursor:
        target = None if t_uri is None else {"uri": t_uri, "line": t_line, "character": t_char}
        yield {
            "symbol": key,
            "name": name,
            "uri": uri,
            "line": line,
            "character": character,
            "operation": OPERATIONS[op],
            "kind": KINDS[kind],
            "target": target,
            "detail": detail,
            "recorded_at": iso(at),
        }


_TALLY = f"""SELECT t.operation, t.kind, sum(t.pairs), sum(t.edges)
FROM tally AS t JOIN document AS d ON d.id = t.document
WHERE {CURRENT.format("t")} AND t.operation >= 0 {{where}}
GROUP BY t.operation, t.kind"""


def edge_counts(
    conn: sqlite3.Connection, *, uri_prefix: str | None = None
) -> dict[str, dict[str, int]]:
    """Per operation: current edges, symbols with edges, none and error placeholders — of
    documents whose URI starts with ``uri_prefix`` (a workspace), or of all."""
    where, params = "", {}
    if uri_prefix is not None:
        where = "AND d.uri >= :low AND d.uri < :high"
        params = {"low": uri_prefix, "high": after_prefix(uri_prefix)}
    counts: dict[str, dict[str, int]] = {}
    for op, kind, pairs, rows in conn.execute(_TALLY.format(where=where), params):
        entry = counts.setdefault(
            OPERATIONS[op], {"edges": 0, "symbols_with_edges": 0, "none": 0, "error": 0}
        )
        if kind == 0:
            entry["edges"], entry["symbols_with_edges"] = rows, pairs
        else:
            entry[KINDS[kind]] = pairs
    return counts


def stats(conn: sqlite3.Connection, *, now: float | None = None) -> dict[str, Any]:
    """Counts of current data: totals and per operation (symbols = symbols with data for it).

    From the ``tally`` counters (one row per document, version, operation and kind) and the
    failure rows: nothing here grows with the edges."""
    keys = ("symbols", "edges", "none", "error", "backoff", "skipped")
    per_op: dict[str, dict[str, int]] = {op: dict.fromkeys(keys, 0) for op in OPERATIONS}
    for op, kind, pairs, rows in conn.execute(_TALLY.format(where="")):
        counts = per_op[OPERATIONS[op]]
        counts["symbols"] += pairs
        if kind == 0:
            counts["edges"] = rows
        else:
            counts[KINDS[kind]] = pairs
    for op, backoff, skipped in conn.execute(
        f"""SELECT f.operation, sum(f.skipped = 0 AND f.retry_at > :now), sum(f.skipped)
        FROM failures AS f LEFT JOIN document AS d ON d.uri = f.document
        WHERE {CURRENT.format("f")} GROUP BY f.operation""",
        {"now": time.time() if now is None else now},
    ):
        per_op.setdefault(op, dict.fromkeys(keys, 0)).update(backoff=backoff, skipped=skipped)
    (symbols,) = conn.execute(
        f"""SELECT coalesce(sum(t.pairs), 0) FROM tally AS t
        JOIN document AS d ON d.id = t.document
        WHERE t.operation = -1 AND {CURRENT.format("t")}"""
    ).fetchone()
    (documents,) = conn.execute(
        "SELECT count(*) FROM document WHERE version IS NOT NULL"
    ).fetchone()
    totals = {k: sum(v[k] for v in per_op.values()) for k in keys[1:]}
    return {"documents": documents, "symbols": symbols, **totals, "operations": per_op}


def reset(conn: sqlite3.Connection, uri: str | None = None) -> int:
    """Forget failure state and error placeholders (all, or of one document).

    Returns how many (symbol, operation) pairs were forgotten. A running proxy keeps its
    in-memory state until it restarts.
    """
    where = {"uri": uri}
    errors = f"""SELECT {KEY} AS symbol, o.name AS operation, s.id AS id, p.operation AS op
        FROM document AS d JOIN symbol AS s ON s.document = d.id
        JOIN pair AS p ON p.symbol = s.id JOIN operation AS o ON o.id = p.operation
        WHERE p.kind = 2 AND (:uri IS NULL OR d.uri = :uri)"""
    conn.execute("BEGIN IMMEDIATE")
    try:
        (count,) = conn.execute(
            f"""SELECT count(*) FROM (
                SELECT symbol, operation FROM failures WHERE :uri IS NULL OR document = :uri
                UNION SELECT symbol, operation FROM ({errors}))""",
            where,
        ).fetchone()
        conn.execute("DELETE FROM failures WHERE :uri IS NULL OR document = :uri", where)
        pairs = conn.execute(f"SELECT id, op FROM ({errors})", where).fetchall()
        conn.executemany("DELETE FROM pair WHERE symbol = ? AND operation = ?", pairs)
        conn.execute("COMMIT")
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
    return int(count)


def read_failures(conn: sqlite3.Connection) -> list[FailureState]:
    """Current failure states (their document unchanged since they were recorded)."""
    cursor = conn.execute(
        f"""SELECT f.symbol, f.document, f.operation, f.failures, f.transient, f.retry_at,
               f.skipped, f.last_error, f.version, f.empty_since, f.updated_at
        FROM failures AS f LEFT JOIN document AS d ON d.uri = f.document
        WHERE {CURRENT.format("f")} ORDER BY f.symbol, f.operation"""
    )
    return [FailureState(**{**row, "skipped": bool(row["skipped"])}) for row in _dicts(cursor)]


def _dicts(cursor: sqlite3.Cursor) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]
