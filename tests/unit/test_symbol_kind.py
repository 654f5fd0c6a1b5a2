"""A symbol's kind is what its declaration's documentSymbol says (issue 21 item 2).

basedpyright lists a property as a Method (6) in documentSymbol and names it a Property (7) in
its call hierarchy items; with the last write winning, the kind of 80 properties of `rich`
depended on which answer was recorded last. Both write paths of the store (one symbol with a
pair, many symbols at once) are checked, in both orders.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest

from lsp_backoff.tracker.migrations import migrate
from lsp_backoff.tracker.model import SymbolRef, Target
from lsp_backoff.tracker.store_sql import Op, commit_batch, edges_op, symbols_op

U = "file:///w/m.py"
METHOD, PROPERTY, FIELD = 6, 7, 8


def ref(kind: int | None) -> SymbolRef:
    return SymbolRef(f"{U}#19:8:total", U, "total", 19, 8, kind, "h")


@pytest.fixture
def conn() -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    migrate(conn, ":memory:")
    yield conn
    conn.close()


def listed(kind: int | None, source: str = "document_symbol") -> Op:
    return symbols_op([ref(kind)], source, 1.0)


def call_item(kind: int | None) -> Op:
    """incomingCalls asked with the item: its symbol (source "request") carries its kind."""
    return edges_op(ref(kind), "incoming_calls", [Target(U, 30, 4)], 2.0)


def kind_after(conn: sqlite3.Connection, *ops: Op) -> int | None:
    for op in ops:  # one transaction each, as separate batches of the writer would be
        commit_batch(conn, [op])
    (kind,) = conn.execute("SELECT kind FROM symbol").fetchone()
    return kind if kind is None else int(kind)


def test_a_call_item_never_overwrites_the_listed_kind(conn: sqlite3.Connection) -> None:
    assert kind_after(conn, listed(METHOD), call_item(PROPERTY)) == METHOD


def test_the_listed_kind_replaces_a_call_items(conn: sqlite3.Connection) -> None:
    assert kind_after(conn, call_item(PROPERTY), listed(METHOD)) == METHOD


def test_a_call_item_fills_an_unknown_kind(conn: sqlite3.Connection) -> None:
    assert kind_after(conn, call_item(None), call_item(PROPERTY)) == PROPERTY


def test_a_listing_without_a_kind_keeps_the_known_one(conn: sqlite3.Connection) -> None:
    assert kind_after(conn, listed(METHOD), listed(None)) == METHOD


def test_many_symbols_at_once_follow_the_same_rule(conn: sqlite3.Connection) -> None:
    assert kind_after(conn, listed(METHOD), listed(PROPERTY, "request")) == METHOD
    assert kind_after(conn, listed(FIELD, "workspace_symbol")) == METHOD
    assert kind_after(conn, listed(PROPERTY)) == PROPERTY  # the declaration's listing changed
