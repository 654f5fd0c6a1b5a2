"""Opening the graph database, and its reads: edges, orphans, stats (plus the admin write, reset).

``connect`` identifies the file (``PRAGMA application_id``), migrates it to the current schema
(``PRAGMA user_version`` + the ``-- version: N`` sections of schema.sql) and turns every problem
into a one-line StoreError. The writes belong to ``tracker.store``.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lsp_backoff.tracker.errors import StoreError
from lsp_backoff.tracker.model import DEFAULT_ORPHAN_OPERATIONS, OPERATIONS, FailureState

StorePath = str | os.PathLike[str]

#: Marks a file as an lsp-backoff database ("LSBP"), so a foreign SQLite file is refused.
APPLICATION_ID = 0x4C534250


def _load_migrations() -> list[list[str]]:
    """schema.sql split at ``-- version: N``: MIGRATIONS[i] takes a database from i to i+1."""
    text = (Path(__file__).with_name("schema.sql")).read_text(encoding="utf-8")
    steps: list[list[str]] = []
    pending = ""
    for line in text.splitlines(keepends=True):
        if line.startswith("-- version:"):
            if int(line.split(":", 1)[1]) != len(steps) + 1:
                raise RuntimeError("schema.sql: versions must be 1, 2, 3, … in order")
            steps.append([])
        elif steps and not (line.startswith("--") and not pending.strip()):
            pending += line
            if sqlite3.complete_statement(pending):
                steps[-1].append(pending.strip())
                pending = ""
    return steps


MIGRATIONS = _load_migrations()
SCHEMA_VERSION = len(MIGRATIONS)


def _header(conn: sqlite3.Connection) -> tuple[int, int, int]:
    app = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    objects = conn.execute("SELECT count(*) FROM sqlite_schema").fetchone()[0]
    return app, version, objects


def migrate(conn: sqlite3.Connection, where: str, *, target: int = SCHEMA_VERSION) -> None:
    """Bring ``conn`` to schema ``target`` in one transaction (an empty database starts at 0)."""
    if _header(conn)[:2] == (APPLICATION_ID, target):
        return
    conn.execute("BEGIN IMMEDIATE")  # re-read under the lock: another process may have migrated
    try:
        app, version, objects = _header(conn)
        if app == 0 and version == 0 and objects == 0:
            version = 0
        elif app != APPLICATION_ID:
            raise StoreError(f"{where} is not an lsp-backoff database")
        elif version > target:
            raise StoreError(
                f"{where} has schema version {version}, newer than this lsp-backoff "
                f"understands ({target}); upgrade lsp-backoff"
            )
        for step in MIGRATIONS[version:target]:
            for statement in step:
                conn.execute(statement)
        # PRAGMAs take no parameters; both values are integers from this module.
        conn.execute(f"PRAGMA user_version = {int(target)}")
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute("COMMIT")
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")


def open_connection(
    path: StorePath | None,
    *,
    create: bool,
    busy_timeout: float = 5.0,
    same_thread: bool = False,
) -> sqlite3.Connection:
    """Open (creating 0600 in a 0700 directory if asked), identify and migrate a database.

    Raises StoreError for a missing (``create=False``), empty, foreign or too-new file;
    sqlite3.Error / OSError for trouble that may pass (locked, unwritable).
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
            app, _, objects = _header(conn)
        except sqlite3.DatabaseError as exc:
            if exc.sqlite_errorcode != sqlite3.SQLITE_NOTADB:  # type: ignore[attr-defined]
                raise
            raise StoreError(f"{file} is not an lsp-backoff database (not SQLite)") from exc
        if app != APPLICATION_ID and (objects or not create):
            raise StoreError(f"{file} is not an lsp-backoff database")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")  # WAL + NORMAL: safe against kill -9
        migrate(conn, str(file))
    except BaseException:
        conn.close()
        raise
    return conn


def connect(path: StorePath, *, create: bool = False) -> sqlite3.Connection:
    """A connection for readers (CLI, tests); every problem is a one-line StoreError."""
    try:
        return open_connection(path, create=create)
    except (sqlite3.Error, OSError) as exc:
        raise StoreError(f"cannot open database {path}: {exc}") from exc


def iso(t: float | None) -> str | None:
    if t is None:
        return None
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds")


# A row is current iff its version equals its document's hash, or the document is unknown.
_CURRENT = "(d.uri IS NULL OR {0}.version = d.version)"

#: The missing-data query. Parameters: :operations (a JSON array of operation names), :now
#: (seconds since the epoch), :ready_only (0 or 1). retry_at is in seconds since the epoch.
ORPHANS_SQL = """\
SELECT s.key AS symbol, s.name AS name, s.uri AS uri, s.line AS line,
       s.character AS character, s.kind AS kind, op.value AS operation,
       CASE WHEN f.retry_at > :now THEN 'backoff' ELSE 'ready' END AS state,
       CASE WHEN f.retry_at > :now THEN f.retry_at END AS retry_at
FROM symbols AS s
CROSS JOIN json_each(:operations) AS op
LEFT JOIN documents AS d ON d.uri = s.uri
LEFT JOIN failures AS f
       ON f.symbol = s.key AND f.operation = op.value
      AND (d.uri IS NULL OR f.version = d.version)
WHERE (d.uri IS NULL OR s.version = d.version)
  AND NOT EXISTS (
        SELECT 1 FROM edges AS e
        WHERE e.symbol = s.key AND e.operation = op.value
          AND (d.uri IS NULL OR e.version = d.version))
  AND coalesce(f.skipped, 0) = 0
  AND (:ready_only = 0 OR coalesce(f.retry_at, 0) <= :now)
ORDER BY s.uri, s.line, s.character, s.key, op.key
"""


def orphans(
    conn: sqlite3.Connection,
    *,
    operations: tuple[str, ...] | list[str] = DEFAULT_ORPHAN_OPERATIONS,
    ready_only: bool = False,
    now: float | None = None,
) -> list[dict[str, Any]]:
    """Symbols lacking current data per operation (ORPHANS_SQL); retry_at as ISO 8601."""
    params = {
        "operations": json.dumps(list(operations)),
        "now": time.time() if now is None else now,
        "ready_only": int(ready_only),
    }
    rows = _dicts(conn.execute(ORPHANS_SQL, params))
    for row in rows:
        row["retry_at"] = iso(row["retry_at"])
    return rows


def edges(
    conn: sqlite3.Connection, *, symbol: str | None = None, operation: str | None = None
) -> list[dict[str, Any]]:
    """Current edges and placeholders, in the CLI's JSON shape."""
    cursor = conn.execute(
        f"""
        SELECT e.symbol, coalesce(s.name, '') AS name, e.document AS uri, s.line, s.character,
               e.operation, e.kind, e.target_uri, e.target_line, e.target_character, e.detail,
               e.recorded_at
        FROM edges AS e
        LEFT JOIN symbols AS s ON s.key = e.symbol
        LEFT JOIN documents AS d ON d.uri = e.document
        WHERE {_CURRENT.format("e")}
          AND (:symbol IS NULL OR e.symbol = :symbol)
          AND (:operation IS NULL OR e.operation = :operation)
        ORDER BY e.document, s.line, s.character, e.symbol, e.operation, e.kind,
                 e.target_uri, e.target_line, e.target_character
        """,
        {"symbol": symbol, "operation": operation},
    )
    result = []
    for row in _dicts(cursor):  # popping the rest leaves symbol … kind, in the JSON order
        uri, line, character = (row.pop(f"target_{k}") for k in ("uri", "line", "character"))
        target = None if uri is None else {"uri": uri, "line": line, "character": character}
        detail, recorded_at = row.pop("detail"), iso(row.pop("recorded_at"))
        result.append({**row, "target": target, "detail": detail, "recorded_at": recorded_at})
    return result


def edge_counts(
    conn: sqlite3.Connection, *, uri_prefix: str | None = None
) -> dict[str, dict[str, int]]:
    """Per operation: current edges, symbols with edges, none and error placeholders — of
    documents whose URI starts with ``uri_prefix`` (a workspace), or of all."""
    counts: dict[str, dict[str, int]] = {}
    for op, kind, rows, symbols in conn.execute(
        f"""SELECT e.operation, e.kind, count(*), count(DISTINCT e.symbol) FROM edges AS e
        LEFT JOIN documents AS d ON d.uri = e.document
        WHERE {_CURRENT.format("e")}
          AND (:prefix IS NULL OR substr(e.document, 1, length(:prefix)) = :prefix)
        GROUP BY e.operation, e.kind""",
        {"prefix": uri_prefix},
    ):
        entry = counts.setdefault(op, {"edges": 0, "symbols_with_edges": 0, "none": 0, "error": 0})
        if kind == "edge":
            entry["edges"], entry["symbols_with_edges"] = rows, symbols
        else:
            entry[kind] = rows
    return counts


def stats(conn: sqlite3.Connection, *, now: float | None = None) -> dict[str, Any]:
    """Counts of current data: totals and per operation (symbols = symbols with data for it)."""
    keys = ("symbols", "edges", "none", "error", "backoff", "skipped")
    per_op: dict[str, dict[str, int]] = {op: dict.fromkeys(keys, 0) for op in OPERATIONS}
    for op, kind, count in conn.execute(
        f"""SELECT e.operation, e.kind, count(*) FROM edges AS e
        LEFT JOIN documents AS d ON d.uri = e.document WHERE {_CURRENT.format("e")}
        GROUP BY e.operation, e.kind"""
    ):
        per_op.setdefault(op, dict.fromkeys(keys, 0))["edges" if kind == "edge" else kind] = count
    for op, symbols in conn.execute(
        f"""SELECT e.operation, count(DISTINCT e.symbol) FROM edges AS e
        LEFT JOIN documents AS d ON d.uri = e.document WHERE {_CURRENT.format("e")}
        GROUP BY e.operation"""
    ):
        per_op[op]["symbols"] = symbols
    for op, backoff, skipped in conn.execute(
        f"""SELECT f.operation, sum(f.skipped = 0 AND f.retry_at > :now), sum(f.skipped)
        FROM failures AS f LEFT JOIN documents AS d ON d.uri = f.document
        WHERE {_CURRENT.format("f")} GROUP BY f.operation""",
        {"now": time.time() if now is None else now},
    ):
        per_op.setdefault(op, dict.fromkeys(keys, 0)).update(backoff=backoff, skipped=skipped)
    (symbols,) = conn.execute(
        f"""SELECT count(*) FROM symbols AS s LEFT JOIN documents AS d ON d.uri = s.uri
        WHERE {_CURRENT.format("s")}"""
    ).fetchone()
    (documents,) = conn.execute("SELECT count(*) FROM documents").fetchone()
    totals = {k: sum(v[k] for v in per_op.values()) for k in keys[1:]}
    return {"documents": documents, "symbols": symbols, **totals, "operations": per_op}


def reset(conn: sqlite3.Connection, uri: str | None = None) -> int:
    """Forget failure state and error placeholders (all, or of one document).

    Returns how many (symbol, operation) pairs were forgotten. A running proxy keeps its
    in-memory state until it restarts.
    """
    where = {"uri": uri}
    conn.execute("BEGIN IMMEDIATE")
    try:
        (count,) = conn.execute(
            """SELECT count(*) FROM (
                SELECT symbol, operation FROM failures WHERE :uri IS NULL OR document = :uri
                UNION
                SELECT symbol, operation FROM edges
                WHERE kind = 'error' AND (:uri IS NULL OR document = :uri))""",
            where,
        ).fetchone()
        conn.execute("DELETE FROM failures WHERE :uri IS NULL OR document = :uri", where)
        conn.execute(
            "DELETE FROM edges WHERE kind = 'error' AND (:uri IS NULL OR document = :uri)", where
        )
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
        FROM failures AS f LEFT JOIN documents AS d ON d.uri = f.document
        WHERE {_CURRENT.format("f")} ORDER BY f.symbol, f.operation"""
    )
    return [FailureState(**{**row, "skipped": bool(row["skipped"])}) for row in _dicts(cursor)]


def _dicts(cursor: sqlite3.Cursor) -> list[dict[str, Any]]:
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor]
