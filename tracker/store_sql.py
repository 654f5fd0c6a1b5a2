"""The graph store's writes as data: SQL statements, their parameter rows, the batch commit.

Each ``*_op`` function turns one ``GraphStore.put_*`` call into an ``Op`` — statements run in
order, all inside the writer's batch transaction — so ``tracker.store`` only queues and commits
them. Validation happens here, in the caller's thread, so a bad argument raises at the call site
instead of poisoning a batch on the writer thread.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any

from lsp_backoff.tracker.model import OPERATIONS, FailureState, SymbolRef, Target

#: Where a symbol row came from (``put_symbols``' ``source``).
SOURCES = ("request", "document_symbol", "workspace_symbol")
PLACEHOLDER_KINDS = ("none", "error")

# A list of parameter rows means executemany.
Statement = tuple[str, tuple[Any, ...] | list[tuple[Any, ...]]]
Op = tuple[Statement, ...]

UPSERT_DOCUMENT = """
INSERT INTO documents (uri, version, updated_at) VALUES (?, ?, ?)
ON CONFLICT (uri) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at
"""

UPSERT_SYMBOL = """
INSERT INTO symbols (key, uri, name, kind, line, character, version, source, recorded_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (key) DO UPDATE SET
    uri = excluded.uri, name = excluded.name, kind = coalesce(excluded.kind, symbols.kind),
    line = excluded.line, character = excluded.character, version = excluded.version,
    recorded_at = excluded.recorded_at
"""  # source keeps where the symbol was first seen

DELETE_EDGES = "DELETE FROM edges WHERE symbol = ? AND operation = ?"

INSERT_EDGE = """
INSERT OR IGNORE INTO edges (symbol, document, operation, kind, target_uri, target_line,
    target_character, detail, version, recorded_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""

UPSERT_FAILURE = """
INSERT OR REPLACE INTO failures (symbol, operation, document, failures, transient, retry_at,
    skipped, last_error, version, empty_since, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""

DELETE_FAILURE = "DELETE FROM failures WHERE symbol = ? AND operation = ?"


def check_operation(operation: str) -> None:
    if operation not in OPERATIONS:
        raise ValueError(f"unknown operation {operation!r}")


def symbol_row(s: SymbolRef, source: str, now: float) -> tuple[Any, ...]:
    return (s.key, s.document, s.name, s.kind, s.line, s.character, s.version, source, now)


def edge_row(
    s: SymbolRef, operation: str, kind: str, t: Target | None, detail: str, now: float
) -> tuple[Any, ...]:
    target = (t.uri, t.line, t.character) if t is not None else (None, None, None)
    return (s.key, s.document, operation, kind, *target, detail, s.version, now)


def document_op(uri: str, version: str, now: float) -> Op:
    return ((UPSERT_DOCUMENT, (uri, version, now)),)


def symbols_op(symbols: Sequence[SymbolRef], source: str, now: float) -> Op:
    """Upsert ``symbols``; an empty sequence gives an empty op (nothing to queue)."""
    if source not in SOURCES:
        raise ValueError(f"unknown symbol source {source!r}")
    if not symbols:
        return ()
    return ((UPSERT_SYMBOL, [symbol_row(s, source, now) for s in symbols]),)


def edges_op(
    symbol: SymbolRef,
    operation: str,
    targets: Sequence[Target] | Callable[[], Sequence[Target]],
    now: float,
) -> Op:
    """Replace the (symbol, operation) rows, stale ones too, with edges; clear its failure."""
    if callable(targets):
        targets = targets()
    if not targets:
        # An empty success is a definitive "none": the pair must end up with current data.
        return placeholder_op(symbol, operation, "none", "", now)
    rows = [edge_row(symbol, operation, "edge", t, "", now) for t in targets]
    return _replace(symbol, operation, rows, now, clear_failure=True)


def placeholder_op(symbol: SymbolRef, operation: str, kind: str, detail: str, now: float) -> Op:
    if kind not in PLACEHOLDER_KINDS:
        raise ValueError(f"unknown placeholder kind {kind!r}")
    row = edge_row(symbol, operation, kind, None, detail, now)
    # "none" is a definitive answer and clears the failure row; "error" keeps it (skipped).
    return _replace(symbol, operation, [row], now, clear_failure=kind == "none")


def _replace(
    symbol: SymbolRef,
    operation: str,
    rows: list[tuple[Any, ...]],
    now: float,
    *,
    clear_failure: bool,
) -> Op:
    check_operation(operation)
    pair = (symbol.key, operation)
    return (
        (UPSERT_SYMBOL, symbol_row(symbol, "request", now)),
        (DELETE_EDGES, pair),
        (INSERT_EDGE, rows),
        *([(DELETE_FAILURE, pair)] if clear_failure else []),
    )


def failure_op(f: FailureState) -> Op:
    check_operation(f.operation)
    row: tuple[Any, ...] = (f.symbol, f.operation, f.document, f.failures, f.transient)
    row += (f.retry_at, int(f.skipped), f.last_error, f.version, f.empty_since, f.updated_at)
    return ((UPSERT_FAILURE, row),)


def clear_failure_op(symbol: str, operation: str) -> Op:
    return ((DELETE_FAILURE, (symbol, operation)),)


DELETE_PLACEHOLDER = """
DELETE FROM edges WHERE symbol = ? AND operation = ? AND kind = ? AND substr(detail, 1, ?) = ?
"""


def withdraw_op(symbol: str, operation: str, kind: str, detail_prefix: str) -> Op:
    check_operation(operation)
    if kind not in PLACEHOLDER_KINDS:
        raise ValueError(f"unknown placeholder kind {kind!r}")
    row = (symbol, operation, kind, len(detail_prefix), detail_prefix)
    return ((DELETE_PLACEHOLDER, row),)


def commit_batch(conn: sqlite3.Connection, batch: Sequence[Op]) -> None:
    """Run every op of ``batch`` in one ``BEGIN IMMEDIATE … COMMIT``; roll back on any error.

    Raises what SQLite raises: the caller tells passing trouble (OperationalError) from the rest.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        for op in batch:
            for sql, params in op:
                if isinstance(params, list):
                    conn.executemany(sql, params)
                else:
                    conn.execute(sql, params)
        conn.execute("COMMIT")
    finally:
        if conn.in_transaction:
            # Fails when SQLite already rolled back (e.g. after SQLITE_FULL); the retry starts
            # afresh either way.
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
