"""The graph store's writes as data: functions of a connection, and the batch commit.

Each ``*_op`` function turns one ``GraphStore.put_*`` call into an ``Op`` — steps run in order,
all inside the writer's batch transaction — so ``tracker.store`` only queues and commits them.
Validation happens here, in the caller's thread, so a bad argument raises at the call site
instead of poisoning a batch on the writer thread. The schema's triggers keep ``orphan`` and
``tally`` in step with every write (schema.sql, version 2).
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import threading
from collections.abc import Callable, Sequence
from typing import Any

from lsp_backoff.tracker.model import OPERATIONS, FailureState, SymbolRef, Target
from lsp_backoff.tracker.staleness import stale_targets

#: Where a symbol row came from (``put_symbols``' ``source``); stored as its index.
SOURCES = ("request", "document_symbol", "workspace_symbol")
#: Pair kinds, stored as their index.
KINDS = ("edge", "none", "error")
PLACEHOLDER_KINDS = ("none", "error")
OPERATION_ID = {name: i for i, name in enumerate(OPERATIONS)}

#: "Current", defined once: a row recorded at ``{0}.version`` counts while that is the content
#: of its document ``d`` (a ``document`` row, or NULL from a LEFT JOIN), or while the
#: document's content was never recorded.
CURRENT = "(d.version IS NULL OR {0}.version = d.version)"
#: The full key of symbol ``s`` in document ``d`` (symbol.key drops a leading "URI").
KEY = "(CASE WHEN s.key GLOB '#*' THEN d.uri || s.key ELSE s.key END)"

Step = Callable[[sqlite3.Connection], None]
Op = tuple[Step, ...]

DOCUMENT_ID = "SELECT id FROM document WHERE uri = ?"
ADD_DOCUMENT = "INSERT INTO document (uri) VALUES (?) ON CONFLICT (uri) DO NOTHING"
UPSERT_DOCUMENT = """
INSERT INTO document (uri, version, updated_at) VALUES (?, ?, ?)
ON CONFLICT (uri) DO UPDATE SET version = excluded.version, updated_at = excluded.updated_at
"""

UPSERT_SYMBOL = """
INSERT INTO symbol (document, key, name, kind, line, character, version, source, recorded_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (document, key) DO UPDATE SET
    name = CASE excluded.name WHEN '' THEN symbol.name ELSE excluded.name END,
    kind = CASE WHEN excluded.source = 1 THEN coalesce(excluded.kind, symbol.kind)
                ELSE coalesce(symbol.kind, excluded.kind) END,
    line = excluded.line, character = excluded.character, version = excluded.version,
    recorded_at = excluded.recorded_at
RETURNING id
"""  # source keeps where the symbol was first seen; kind: see _kind; a name keeps a label a
# listing gave a symbol keyed by position (no name cut there): a request on it knows none, and
# the row must not depend on which came last (a watched file's kept answers are not asked
# again: issue 24)

UPSERT_SYMBOL_MANY = UPSERT_SYMBOL.replace("RETURNING id", "")

DELETE_PAIR = "DELETE FROM pair WHERE symbol = ? AND operation = ?"  # its edges: a trigger
INSERT_PAIR = """
INSERT INTO pair (symbol, operation, kind, edges, detail, version, recorded_at)
VALUES (?, ?, ?, ?, ?, ?, ?)
"""
INSERT_EDGE = (
    "INSERT INTO edge (symbol, operation, document, line, character) VALUES (?, ?, ?, ?, ?)"
)

UPSERT_FAILURE = """
INSERT OR REPLACE INTO failures (symbol, operation, document, failures, transient, retry_at,
    skipped, last_error, version, empty_since, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""
DELETE_FAILURE = "DELETE FROM failures WHERE symbol = ? AND operation = ?"

DELETE_PLACEHOLDER = """
DELETE FROM pair WHERE symbol = ? AND operation = ? AND kind = ? AND substr(detail, 1, ?) = ?
"""


def check_operation(operation: str) -> None:
    if operation not in OPERATION_ID:
        raise ValueError(f"unknown operation {operation!r}")


def key_tail(key: str, document: str) -> str:
    """How ``symbol.key`` stores ``key``: without "URI" when it starts with "URI#"."""
    if key.startswith(document) and key[len(document) : len(document) + 1] == "#":
        return key[len(document) :]
    if key.startswith("#"):
        raise ValueError(f"a symbol key starting with '#' must start with its document: {key!r}")
    return key


#: Where a "URI#line:character[:name]" key's own part starts. Not simply at the first '#': a
#: notebook cell's URI has a fragment (``vscode-notebook-cell:/w/a.ipynb#W0sZmlsZQ%3D%3D``).
_KEY_TAIL = re.compile(r"#\d+:\d+(?::|$)")


def split_key(key: str) -> tuple[str, str]:
    """(document URI, stored key) as a key read back from the CLI splits: at the '#' that
    starts "#line:character", else at the first '#'."""
    match = _KEY_TAIL.search(key, 1)
    at = match.start() if match is not None else key.find("#")
    return (key[:at], key[at:]) if at > 0 else ("", key)


#: Document ids known in the current batch transaction, per writer thread (cleared at BEGIN: a
#: rolled-back batch's ids are gone; ids of deleted documents may be reused by SQLite).
_known = threading.local()


def document_id(conn: sqlite3.Connection, uri: str) -> int:
    ids: dict[str, int] | None = getattr(_known, "ids", None)
    if ids is not None and uri in ids:
        return ids[uri]
    row = conn.execute(DOCUMENT_ID, (uri,)).fetchone()
    if row is None:
        conn.execute(ADD_DOCUMENT, (uri,))
        row = conn.execute(DOCUMENT_ID, (uri,)).fetchone()
    if ids is not None:
        ids[uri] = int(row[0])
    return int(row[0])


def symbol_id(conn: sqlite3.Connection, key: str) -> int | None:
    """The id of the symbol with ``key``, by its identity index when the key is "URI#…"."""
    uri, tail = split_key(key)
    if uri:
        sql = (
            "SELECT s.id FROM document AS d JOIN symbol AS s ON s.document = d.id "
            "WHERE d.uri = ? AND s.key = ?"
        )
        row = conn.execute(sql, (uri, tail)).fetchone()
    else:  # not a "URI#…" key (never made by the proxy): no index knows it
        row = conn.execute("SELECT id FROM symbol WHERE key = ?", (tail,)).fetchone()
    return None if row is None else int(row[0])


def _fields(s: SymbolRef) -> tuple[Any, ...]:
    return (s.name, s.kind, s.line, s.character, s.version)


SYMBOL_AS_IS = """
SELECT id, name, kind, line, character, version FROM symbol WHERE document = ? AND key = ?
"""


def _kind(source: int, new: int | None, known: int | None) -> int | None:
    """A symbol's kind is what its declaration's documentSymbol says (UPSERT_SYMBOL does the
    same in SQL): a documentSymbol entry sets it; a call hierarchy item (source "request") or a
    workspace/symbol entry only fills it in while unknown. basedpyright lists a property as a
    Method (6) and names it a Property (7) in its call hierarchy items: with the last writer
    winning, 80 properties of `rich` changed kind between two runs (issue 21)."""
    if source == SOURCES.index("document_symbol"):
        return new if new is not None else known
    return known if known is not None else new


def _upsert_symbol(conn: sqlite3.Connection, s: SymbolRef, source: int, now: float) -> int:
    """The symbol's id, written only when new or changed: the read is much cheaper than a
    row write, and a put on a known symbol (the common case) changes nothing about it."""
    identity = (document_id(conn, s.document), key_tail(s.key, s.document))
    known = conn.execute(SYMBOL_AS_IS, identity).fetchone()
    if known is not None and known[1:] == (
        s.name or known[1],
        _kind(source, s.kind, known[2]),
        *_fields(s)[2:],
    ):
        return int(known[0])
    (sid,) = conn.execute(UPSERT_SYMBOL, (*identity, *_fields(s), source, now)).fetchone()
    return int(sid)


def _statement(sql: str, params: tuple[Any, ...]) -> Step:
    def step(conn: sqlite3.Connection) -> None:
        conn.execute(sql, params)

    return step


def document_op(uri: str, version: str, now: float) -> Op:
    # A new version first applies the target rule (tracker.staleness): answers elsewhere that
    # point into the old content stop counting.
    def step(conn: sqlite3.Connection) -> None:
        row = conn.execute("SELECT id, version FROM document WHERE uri = ?", (uri,)).fetchone()
        if row is not None and row[1] is not None and row[1] != version:
            stale_targets(conn, row[0])
        conn.execute(UPSERT_DOCUMENT, (uri, version, now))

    return (step,)


def symbols_op(symbols: Sequence[SymbolRef], source: str, now: float) -> Op:
    """Upsert ``symbols``; an empty sequence gives an empty op (nothing to queue)."""
    if source not in SOURCES:
        raise ValueError(f"unknown symbol source {source!r}")
    for s in symbols:
        key_tail(s.key, s.document)
    if not symbols:
        return ()
    code = SOURCES.index(source)

    def step(conn: sqlite3.Connection) -> None:
        rows = [
            (document_id(conn, s.document), key_tail(s.key, s.document), *_fields(s), code, now)
            for s in symbols
        ]
        conn.executemany(UPSERT_SYMBOL_MANY, rows)

    return (step,)


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
    distinct = list(dict.fromkeys((t.uri, t.line, t.character) for t in targets))
    return _replace(symbol, operation, 0, "", distinct, now, clear_failure=True)


def placeholder_op(symbol: SymbolRef, operation: str, kind: str, detail: str, now: float) -> Op:
    if kind not in PLACEHOLDER_KINDS:
        raise ValueError(f"unknown placeholder kind {kind!r}")
    # "none" is a definitive answer and clears the failure row; "error" keeps it (skipped).
    code = KINDS.index(kind)
    return _replace(symbol, operation, code, detail, [], now, clear_failure=kind == "none")


def _replace(
    symbol: SymbolRef,
    operation: str,
    kind: int,
    detail: str,
    targets: list[tuple[str, int, int]],
    now: float,
    *,
    clear_failure: bool,
) -> Op:
    check_operation(operation)
    key_tail(symbol.key, symbol.document)
    op = OPERATION_ID[operation]

    def step(conn: sqlite3.Connection) -> None:
        sid = _upsert_symbol(conn, symbol, 0, now)
        conn.execute(DELETE_PAIR, (sid, op))
        pair = (sid, op, kind, len(targets), detail, symbol.version, now)
        conn.execute(INSERT_PAIR, pair)
        if targets:
            ids: dict[str, int] = {}
            rows = []
            for uri, line, character in targets:
                if uri not in ids:
                    ids[uri] = document_id(conn, uri)
                rows.append((sid, op, ids[uri], line, character))
            conn.executemany(INSERT_EDGE, rows)
        if clear_failure:
            conn.execute(DELETE_FAILURE, (symbol.key, operation))

    return (step,)


def failure_op(f: FailureState) -> Op:
    check_operation(f.operation)
    row: tuple[Any, ...] = (f.symbol, f.operation, f.document, f.failures, f.transient)
    row += (f.retry_at, int(f.skipped), f.last_error, f.version, f.empty_since, f.updated_at)
    return (_statement(UPSERT_FAILURE, row),)


def clear_failure_op(symbol: str, operation: str) -> Op:
    return (_statement(DELETE_FAILURE, (symbol, operation)),)


def withdraw_op(symbol: str, operation: str, kind: str, detail_prefix: str) -> Op:
    check_operation(operation)
    if kind not in PLACEHOLDER_KINDS:
        raise ValueError(f"unknown placeholder kind {kind!r}")

    def step(conn: sqlite3.Connection) -> None:
        sid = symbol_id(conn, symbol)
        if sid is not None:
            row = (sid, OPERATION_ID[operation], KINDS.index(kind), len(detail_prefix))
            conn.execute(DELETE_PLACEHOLDER, (*row, detail_prefix))

    return (step,)


def commit_batch(conn: sqlite3.Connection, batch: Sequence[Op]) -> None:
    """Run every op of ``batch`` in one ``BEGIN IMMEDIATE … COMMIT``; roll back on any error.

    Raises what SQLite raises: the caller tells passing trouble (OperationalError) from the rest.
    """
    conn.execute("BEGIN IMMEDIATE")
    _known.ids = {}
    try:
        for op in batch:
            for step in op:
                step(conn)
        conn.execute("COMMIT")
    finally:
        _known.ids = None
        if conn.in_transaction:
            # Fails when SQLite already rolled back (e.g. after SQLITE_FULL); the retry starts
            # afresh either way.
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
