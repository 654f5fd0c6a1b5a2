"""The orphan reads: which (symbol, operation) pairs lack current data, from the orphan index.

``orphan`` (schema.sql, version 2) holds the pairs without data at their symbol's content, in
position order per operation; these queries only check each row they return (the symbol still
current, not skipped, backoff or ready), so reading a page costs what the page holds.
"""

from __future__ import annotations

import heapq
import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lsp_backoff.tracker.model import DEFAULT_ORPHAN_OPERATIONS
from lsp_backoff.tracker.store_sql import CURRENT, KEY, OPERATION_ID, symbol_id


def iso(t: float | None) -> str | None:
    if t is None:
        return None
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True, slots=True)
class Orphan:
    """One (symbol, operation) pair without current data, as the orphan index gives it."""

    symbol: str
    name: str
    uri: str
    line: int
    character: int
    kind: int | None
    operation: str
    state: str  # "ready" | "backoff"
    #: When the pair may be asked again (seconds since the epoch) while in backoff, else None.
    retry_at: float | None
    #: The content version its symbol was recorded at; only enrich attaches it (not a column
    #: of the orphan query, and not in :meth:`as_dict`).
    version: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The row as printed (``graph orphans --json``, the enrich summary): retry_at ISO 8601."""
        return {
            "symbol": self.symbol,
            "name": self.name,
            "uri": self.uri,
            "line": self.line,
            "character": self.character,
            "kind": self.kind,
            "operation": self.operation,
            "state": self.state,
            "retry_at": iso(self.retry_at),
        }


_ORPHAN_COLUMNS = f"""\
SELECT {KEY} AS symbol, s.name AS name, d.uri AS uri, s.line AS line,
       s.character AS character, s.kind AS kind, o.name AS operation,
       CASE WHEN f.retry_at > :now THEN 'backoff' ELSE 'ready' END AS state,
       CASE WHEN f.retry_at > :now THEN f.retry_at END AS retry_at"""

_ORPHAN_FILTER = f"""\
JOIN symbol AS s ON s.id = x.symbol
JOIN document AS d ON d.id = x.document
LEFT JOIN failures AS f
       ON f.symbol = {KEY} AND f.operation = o.name AND {CURRENT.format("f")}
WHERE {CURRENT.format("s")}
  AND (d.version IS NOT NULL OR NOT EXISTS (
        -- a document never recorded: every row counts, whatever content it was recorded at
        SELECT 1 FROM pair AS q WHERE q.symbol = x.symbol AND q.operation = x.operation))
  AND coalesce(f.skipped, 0) = 0
  AND (:ready_only = 0 OR coalesce(f.retry_at, 0) <= :now)"""

#: The missing-data query. Parameters: :operations (a JSON array of operation names), :now
#: (seconds since the epoch), :ready_only (0 or 1). retry_at is in seconds since the epoch.
#: All rows at once, sorted like schema 1's query: ORPHANS_PAGE_SQL pages.
ORPHANS_SQL = f"""\
{_ORPHAN_COLUMNS}
FROM json_each(:operations) AS op
JOIN operation AS o ON o.name = op.value
JOIN orphan AS x ON x.operation = o.id
{_ORPHAN_FILTER}
ORDER BY d.uri, s.line, s.character, symbol, op.key
"""

#: One page of one operation's orphans, in position order (documents by id), from the index.
#: Parameters: :operation (a name), :now, :ready_only as above, :after (the last symbol key of
#: the previous page, or NULL for the first page), :limit (-1: no limit).
ORPHANS_PAGE_SQL = f"""\
WITH after (document, line, character, symbol) AS (
    SELECT s.document, s.line, s.character, s.id
    FROM document AS ad JOIN symbol AS s ON s.document = ad.id
    WHERE ad.uri = substr(:after, 1, instr(:after, '#') - 1)
      AND s.key = substr(:after, instr(:after, '#'))
    UNION ALL
    SELECT -1, -1, -1, -1 WHERE :after IS NULL
)
{_ORPHAN_COLUMNS}
FROM operation AS o
JOIN orphan AS x ON x.operation = o.id
{_ORPHAN_FILTER}
  AND o.name = :operation
  AND (x.document, x.line, x.character, x.symbol) > (
        (SELECT document FROM after), (SELECT line FROM after),
        (SELECT character FROM after), (SELECT symbol FROM after))
ORDER BY x.document, x.line, x.character, x.symbol
LIMIT :limit
"""

# The page query with the cursor as positions (the CLI resolves a key once) and a URI range.
_ORPHANS_AFTER_SQL = f"""\
{_ORPHAN_COLUMNS}, x.document AS _document, x.symbol AS _symbol
FROM operation AS o
JOIN orphan AS x ON x.operation = o.id
{_ORPHAN_FILTER}
  AND o.id = :op
  AND (x.document, x.line, x.character, x.symbol) > (:document, :line, :character, :symbol)
  AND d.uri >= :low AND d.uri < :high
ORDER BY x.document, x.line, x.character, x.symbol
"""


def orphans(
    conn: sqlite3.Connection,
    *,
    operations: tuple[str, ...] | list[str] = DEFAULT_ORPHAN_OPERATIONS,
    ready_only: bool = False,
    now: float | None = None,
    after: str | None = None,
    limit: int | None = None,
    uri_prefix: str = "",
) -> list[dict[str, Any]]:
    """Symbols lacking current data per operation, as printed (retry_at ISO 8601, see
    :meth:`Orphan.as_dict`). See iter_orphans."""
    rows = orphan_rows(
        conn,
        operations=operations,
        ready_only=ready_only,
        now=now,
        after=after,
        limit=limit,
        uri_prefix=uri_prefix,
    )
    return [row.as_dict() for row in rows]


def orphan_rows(
    conn: sqlite3.Connection,
    *,
    operations: tuple[str, ...] | list[str] = DEFAULT_ORPHAN_OPERATIONS,
    ready_only: bool = False,
    now: float | None = None,
    after: str | None = None,
    limit: int | None = None,
    uri_prefix: str = "",
) -> list[Orphan]:
    """:func:`orphans` typed, retry_at in seconds since the epoch. See iter_orphans."""
    rows = iter_orphans(
        conn,
        operations=operations,
        ready_only=ready_only,
        now=now,
        after=after,
        limit=limit,
        uri_prefix=uri_prefix,
    )
    return list(rows)


def iter_orphans(
    conn: sqlite3.Connection,
    *,
    operations: Iterable[str] = DEFAULT_ORPHAN_OPERATIONS,
    ready_only: bool = False,
    now: float | None = None,
    after: str | None = None,
    limit: int | None = None,
    uri_prefix: str = "",
) -> Iterator[Orphan]:
    """Orphans in position order (documents in the order first recorded), then ``operations``'
    order; lazily, so the first row costs what one index seek costs.

    ``after`` continues after that symbol (all its operations); ``limit`` stops after that
    many rows but finishes the last symbol, so the next page can start ``after`` it. Only
    documents whose URI starts with ``uri_prefix``. Raises KeyError for an unknown ``after``.
    """
    ops = list(dict.fromkeys(operations))
    for op in ops:
        if op not in OPERATION_ID:
            raise ValueError(f"unknown operation {op!r}")
    cursor = (-1, -1, -1, -1)
    if after is not None:
        sid = symbol_id(conn, after)
        if sid is None:
            raise KeyError(after)
        cursor = conn.execute(
            "SELECT document, line, character, id FROM symbol WHERE id = ?", (sid,)
        ).fetchone()
    params = {
        "now": time.time() if now is None else now,
        "ready_only": int(ready_only),
        "document": cursor[0],
        "line": cursor[1],
        "character": cursor[2],
        "symbol": cursor[3],
        "low": uri_prefix,
        "high": after_prefix(uri_prefix),
    }

    def stream(rank: int, op: str) -> Iterator[tuple[tuple[int, ...], Orphan]]:
        rows = conn.execute(_ORPHANS_AFTER_SQL, {**params, "op": OPERATION_ID[op]})
        for *values, document, symbol in rows:
            row = Orphan(*values)
            yield (document, row.line, row.character, symbol, rank), row

    merged = heapq.merge(*(stream(i, op) for i, op in enumerate(ops)), key=lambda r: r[0])
    last: tuple[int, ...] | None = None
    for count, (order, row) in enumerate(merged):
        if limit is not None and count >= limit and order[:4] != last:
            return
        last = order[:4]
        yield row


def after_prefix(prefix: str) -> str:
    """The smallest string greater than every string starting with ``prefix``."""
    return prefix + "\U0010ffff" * 2 if prefix else "\U0010ffff" * 2
