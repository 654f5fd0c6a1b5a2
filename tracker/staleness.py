"""The graph's writes for documents that changed or left: staleness across files (issue 13).

A row already stops counting when *its own* document changes (its version differs). These ops
cover what another document's change does to it:
- **the target rule** (`stale_targets`): when document X changes, a (symbol, operation) of a
  symbol outside X with an edge into X loses its data — an answer pointing into X's old content
  may point to the wrong place or to something gone. It runs within every document write that
  changes a recorded version (store_sql.document_op), and again with the name rule.
- **the name rule** (`rearm_op`): symbols outside X whose *name* X's old or new text mentions
  lose their data for the given operations (references, implementation, incoming and outgoing
  calls: the answers a mention in X can change). `error` placeholders are kept: a symbol
  skipped for good stays skipped until its own document changes (the backoff contract).
- **a document leaves** (`forget_document_op`): its symbols (with their pairs, edges and orphan
  rows: the schema's triggers), its failure state, and every pair elsewhere with an edge into it.

Pairs lose their data by being deleted: the schema's triggers put them back into `orphan`, so
the next monitor round asks them again, and nothing stale is served meanwhile.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection
from typing import Any

from lsp_backoff.tracker.model import OPERATIONS

#: Pairs (kind 0: edges) of symbols outside document :doc with an edge into it.
_PAIRS_INTO = """
DELETE FROM pair WHERE kind = 0 AND (symbol, operation) IN (
    SELECT e.symbol, e.operation FROM edge AS e JOIN symbol AS s ON s.id = e.symbol
    WHERE e.document = :doc AND s.document != :doc)
"""

#: Pairs with data (edges or none) of symbols outside :doc named in :names, for :operations.
_NAMED = """
DELETE FROM pair WHERE kind IN (0, 1)
  AND operation IN (SELECT value FROM json_each(:operations))
  AND symbol IN (SELECT id FROM symbol
                 WHERE name IN (SELECT value FROM json_each(:names)) AND document != :doc)
"""

Step = Any  # store_sql.Step: a function of the connection

#: The operations whose answers about a symbol can change when *another* file changes: who
#: refers to it, implements it, calls it, and what it calls (its callees may move or vanish).
STALE_OPERATIONS: tuple[str, ...] = (
    "references",
    "implementation",
    "incoming_calls",
    "outgoing_calls",
)


#: The operations whose answer about a symbol depends on the code at and around the symbol
#: itself (what its name resolves to, its type, its body's calls) rather than on where its name
#: occurs: a symbol of an edited document whose code changed is asked these again even where
#: its line moved untouched (tracker/moves.py). The others follow the name rule, as across files.
SITE_OPERATIONS: tuple[str, ...] = (
    "definition",
    "declaration",
    "type_definition",
    "prepare_call_hierarchy",
    "outgoing_calls",
)


def document_id(conn: sqlite3.Connection, uri: str) -> int | None:
    row = conn.execute("SELECT id FROM document WHERE uri = ?", (uri,)).fetchone()
    return None if row is None else int(row[0])


def stale_targets(conn: sqlite3.Connection, doc: int) -> None:
    """The target rule for document id `doc` (see the module docstring)."""
    conn.execute(_PAIRS_INTO, {"doc": doc})


def name_rule(conn: sqlite3.Connection, doc: int, names: str, operations: str) -> None:
    """The name rule: pairs with data of symbols outside document id `doc` named in `names`,
    for `operations` (both JSON lists: names, operation indices)."""
    conn.execute(_NAMED, {"doc": doc, "names": names, "operations": operations})


def rearm_op(uri: str, names: Collection[str], operations: Collection[str]) -> tuple[Step, ...]:
    """Document `uri` changed, its old and new texts mentioning `names`: the target rule, then
    the name rule for `operations`."""
    check_operations(operations)
    ops = json.dumps(sorted(OPERATIONS.index(op) for op in operations))
    listed = json.dumps(sorted(names))

    def step(conn: sqlite3.Connection) -> None:
        doc = document_id(conn, uri)
        if doc is not None:
            stale_targets(conn, doc)
        if names and operations:  # a document never recorded (a new file) still mentions names
            where = -1 if doc is None else doc
            name_rule(conn, where, listed, ops)

    return (step,)


def check_operations(operations: Collection[str]) -> None:
    for operation in operations:
        if operation not in OPERATIONS:
            raise ValueError(f"unknown operation {operation!r}")


def forget_document_op(uri: str) -> tuple[Step, ...]:
    """Document `uri` left the workspace (deleted, renamed, no longer listed)."""

    def step(conn: sqlite3.Connection) -> None:
        conn.execute("DELETE FROM failures WHERE document = ?", (uri,))
        doc = document_id(conn, uri)
        if doc is None:
            return
        stale_targets(conn, doc)
        conn.execute("DELETE FROM symbol WHERE document = ?", (doc,))  # triggers do the rest
        # Nothing refers to the row any more (edges into it went with their pairs): a file
        # created again under this name starts afresh.
        conn.execute("DELETE FROM tally WHERE document = ?", (doc,))
        conn.execute("DELETE FROM document WHERE id = ?", (doc,))

    return (step,)
