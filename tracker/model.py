"""The plain data shared by the tracker, the store and their callers.

These are value types only: no I/O, no policy. Times are wall-clock seconds since the epoch
(``time.time()``) so that state written to the database means the same after a restart.
"""

from __future__ import annotations

from dataclasses import dataclass

#: Operation names are a public interface (CLI flags, database rows): never rename one.
OPERATIONS: tuple[str, ...] = (
    "definition",
    "declaration",
    "type_definition",
    "implementation",
    "references",
    "prepare_call_hierarchy",
    "incoming_calls",
    "outgoing_calls",
)

#: What `orphans` looks for when no --operation is given.
DEFAULT_ORPHAN_OPERATIONS: tuple[str, ...] = (
    "references",
    "implementation",
    "incoming_calls",
    "outgoing_calls",
)


@dataclass(frozen=True, slots=True)
class SymbolRef:
    """One symbol: an identifier occurrence in a document.

    ``key`` is the identity (see ``proxy.documents.symbol_key``); ``document`` is the URI it
    belongs to, which groups symbols for invalidation. ``version`` is the content hash of the
    document when the symbol was seen (None when the content is unknown). ``line`` and
    ``character`` (and the key's) count UTF-16 code units (tracker/positions.py).
    """

    key: str
    document: str
    name: str
    line: int
    character: int
    kind: int | None = None
    version: str | None = None


@dataclass(frozen=True, slots=True)
class Target:
    """Where an edge points: a location in some document (``character`` in UTF-16 code units,
    the graph's one unit: tracker/positions.py)."""

    uri: str
    line: int
    character: int


@dataclass(slots=True)
class FailureState:
    """Failure bookkeeping for one (symbol, operation).

    ``failures`` counts consecutive counted failures (transient ones do not count);
    ``retry_at`` is when the next attempt is allowed; ``skipped`` means given up for good.
    ``empty_since`` is set while an empty answer awaits confirmation (see docs/behaviour.md's
    readiness rule); it never short-circuits by itself.
    """

    symbol: str
    document: str
    operation: str
    failures: int = 0
    transient: int = 0
    retry_at: float = 0.0
    skipped: bool = False
    last_error: str = ""
    version: str | None = None
    empty_since: float | None = None
    updated_at: float = 0.0
