"""How `lsp-backoff enrich` asks: the requests for one orphan, bounded concurrency, and the
per-run memory of what was asked and how it ended (the monitor's protection against loops).

Outcomes are only "edges" (a non-empty answer), "empty", "error" (an error answer, a timeout
or a server death) or "transient"; what they mean for the graph is for the proxy to record, not
for us. "transient" is no answer at all: the server said ContentModified, ServerCancelled or
RequestCancelled (ty and pyrefly cancel the requests in flight whenever a document opens or
closes — the window does that all the time), or the null came from the proxy's tracker rather
than the server (a short-circuit of a pair it backs off, or an empty answer it counts as the
server being busy). Such a pair is asked again once the tracker allows it, and never counts as
an empty answer.
Each question is submitted with its document: which server asks it, with its document open,
and how many are in flight is window.py's business.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from lsp_backoff.proxy.messages import REQUEST_CANCELLED, TRANSIENT_CODES
from lsp_backoff.proxy.operations import CALL_OPERATIONS
from lsp_backoff.proxy.operations import PREPARE_CALLS as PREPARE
from lsp_backoff.tracker.model import FailureState
from lsp_backoff.tracker.orphans import Orphan

from .client import LspConnection
from .jsonrpc import ResponseError
from .pool import EnrichError
from .window import Work

__all__ = [
    "CALL_OPERATIONS",
    "NOT_SENT",
    "PREPARE",
    "Asked",
    "Asker",
    "Connection",
    "Session",
    "held_back",
    "held_until",
]

#: What a question that never reached a server returns instead of an outcome.
NOT_SENT: Any = object()
#: Error codes that are no answer about the symbol: ContentModified and ServerCancelled (the
#: proxy backs the pair off briefly), and RequestCancelled, which enrich never asks for —
#: pyrefly answers it "canceled due to subsequent mutation" when a document opens or closes
#: (the proxy records nothing for it).
NO_ANSWER_CODES = TRANSIENT_CODES | {REQUEST_CANCELLED}


class Connection(Protocol):
    """The proxy as the monitor sees it: every server of the run at once (pool.Pool)."""

    @property
    def exited(self) -> asyncio.Event: ...

    async def flush(self) -> bool: ...

    async def stats(self) -> dict[str, int]: ...


class Session(Protocol):
    """What the monitor and the asker need from the run's servers (fleet.Fleet)."""

    @property
    def connection(self) -> Connection: ...

    async def revive(self) -> None: ...

    def submit(self, uri: str, work: Work) -> asyncio.Future[Any]:
        """Run `work` on a server that has `uri`'s document open (window.py)."""
        ...

    def failure_state(self, symbol: str, operation: str) -> FailureState | None:
        """The proxy's tracker state of the pair, with every answer relayed so far applied."""
        ...

    def unsupported(self, operations: Sequence[str]) -> dict[str, str]:
        """operation → why, for the `operations` the server cannot answer (capabilities.py)."""
        ...

    def record_unsupported(self, row: Orphan, operation: str, detail: str) -> None:
        """The proxy records "not supported" for the row's symbol, nothing is sent."""
        ...


def held_back(state: FailureState | None) -> bool:
    """True when the proxy answers the pair `null` itself until `state.retry_at` (the tracker's
    BACKOFF verdict): failures or transient failures recorded, not skipped for good. A pair
    whose only state is a tentative empty answer is never held back (its repeat must reach
    the server)."""
    return state is not None and not state.skipped and (state.failures + state.transient) > 0


def held_until(session: Session, key: tuple[str, str], now: float) -> float | None:
    """When (epoch seconds) the proxy lets the pair `key` through again, if not `now`; for
    incoming/outgoing calls, the prepare they are asked with counts too."""
    keys = [key, (key[0], PREPARE)] if key[1] in CALL_OPERATIONS else [key]
    until: float | None = None
    for symbol, operation in keys:
        state = session.failure_state(symbol, operation)
        if state is not None and held_back(state) and state.retry_at > now:
            until = state.retry_at if until is None else max(until, state.retry_at)
    return until


@dataclass
class Asked:
    """What this run already asked about one (symbol, operation) and how it ended."""

    asks: int = 0
    outcome: str = ""  # "edges" | "empty" | "error" | "transient"
    answered_at: float = 0.0  # monotonic
    seq: int = 0  # completion order, compared with the round's snapshot
    waiting_since: float | None = None  # monotonic, while the database shows it in backoff
    #: Empty answers in a row (any other outcome breaks the row, as it does the proxy's rule).
    empties: int = 0
    errors: int = 0
    transients: int = 0


@dataclass
class Counts:
    sent: int = 0  # tracked requests sent, each one counted
    errors: int = 0  # of those, answered with an error (or lost with the server)
    transient: int = 0  # of those, no answer after all: ContentModified, or the proxy's null
    edges: int = 0  # (symbol, operation) outcomes, the last one each time it was asked
    empty: int = 0
    rounds: int = 0


class Asker:
    def __init__(self, session: Session, clock: Callable[[], float] = time.monotonic) -> None:
        self.session = session
        self.clock = clock
        self.counts = Counts()
        self.asked: dict[tuple[str, str], Asked] = {}
        self.in_flight: set[tuple[str, str]] = set()
        self.tasks: set[asyncio.Task[None]] = set()
        #: Set while no task is running. The monitor waits on it between rounds: an
        #: asyncio.wait on every task would add and remove a callback on each of them (tens of
        #: thousands on a large workspace) every round.
        self.idle = asyncio.Event()
        self.idle.set()
        #: Set by the monitor on Ctrl-C: queued requests are dropped, sent ones finish.
        self.stop = asyncio.Event()
        #: Completion order: the monitor compares it with a snapshot taken before its flush.
        self.seq = 0

    def locate(self, row: Orphan) -> None:
        """Ask definition/declaration/type_definition/implementation/references for a row."""
        self.in_flight.add((row.symbol, row.operation))
        self._spawn(self._locate(row))

    def call_hierarchy(self, row: Orphan, ops: set[str]) -> None:
        """Ask prepare (+ incoming/outgoing calls) once for all of `ops` of one symbol."""
        # prepare is in flight too, even when only calls are missing: a second prepare of the
        # same symbol meanwhile would race the first one's ContentModified into a short-circuit.
        for op in {*ops, PREPARE}:
            self.in_flight.add((row.symbol, op))
        self._spawn(self._call_hierarchy(row, ops))

    async def drain(self) -> None:
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)

    async def cancel(self) -> None:
        for task in self.tasks:
            task.cancel()
        await self.drain()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self.tasks.add(task)
        self.idle.clear()
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self.tasks.discard(task)
        if not self.tasks:
            self.idle.set()

    def _record(self, key: tuple[str, str], outcome: str) -> None:
        self.in_flight.discard(key)
        record = self.asked.setdefault(key, Asked())
        self.seq += 1
        record.asks += 1
        record.outcome = outcome
        record.answered_at = self.clock()
        record.seq = self.seq
        record.empties = record.empties + 1 if outcome == "empty" else 0
        if outcome == "edges":
            self.counts.edges += 1
        elif outcome == "empty":
            self.counts.empty += 1
        elif outcome == "error":
            record.errors += 1
        elif outcome == "transient":
            record.transients += 1

    async def _send(self, request: Any, symbol: str, operation: str) -> tuple[str, Any]:
        """Await one tracked request about (symbol, operation); errors and timeouts are
        expected (the proxy records them)."""
        self.counts.sent += 1
        try:
            result = await request
        except ResponseError as exc:
            if exc.code in NO_ANSWER_CODES:  # the server gave up on it, not on the symbol
                self.counts.transient += 1
                return "transient", None
            self.counts.errors += 1
            return "error", None
        except Exception:  # a death or the backstop timeout: the proxy tracks it
            self.counts.errors += 1
            return "error", None
        if result:
            return "edges", result
        # A null the proxy answered itself (the pair is held back) looks like the server's own;
        # the tracker tells them apart: a real empty answer leaves no failure counted.
        state = self.session.failure_state(symbol, operation)
        if state is not None and state.skipped:
            return "error", None  # skipped for good: its error placeholder is recorded
        if held_back(state):
            self.counts.transient += 1
            return "transient", None
        return "empty", result

    async def _on_server(self, uri: str, work: Work) -> Any:
        """`work` run by a server with `uri` open; NOT_SENT when no server ever will."""
        try:
            return await self.session.submit(uri, work)
        except EnrichError:
            return NOT_SENT  # every server is gone: the monitor's revive() says why

    async def _locate(self, row: Orphan) -> None:
        key = (row.symbol, row.operation)

        async def ask(conn: LspConnection) -> Any:
            if self.stop.is_set():
                return NOT_SENT  # queued, never sent: the next run asks it
            return await self._send(
                conn.locate(row.operation, row.uri, row.line, row.character),
                *key,
            )

        try:
            answer = await self._on_server(row.uri, ask)
        finally:
            self.in_flight.discard(key)
        if answer is not NOT_SENT:
            self._record(key, answer[0])

    async def _call_hierarchy(self, row: Orphan, ops: set[str]) -> None:
        """prepare once for the symbol, then whichever of incoming/outgoing calls are missing."""
        symbol = row.symbol
        outcomes: dict[str, str] = {}

        async def ask(conn: LspConnection) -> None:
            if self.stop.is_set():
                return
            # Once prepare is sent the calls follow even after a stop: an item left without
            # its calls would make the next run ask prepare again. The calls are asked while
            # the document is still open: the item lives in it.
            outcome, items = await self._send(
                conn.prepare_call_hierarchy(row.uri, row.line, row.character),
                symbol,
                PREPARE,
            )
            outcomes[PREPARE] = outcome
            item = pick_item(items or [], row.line, row.character)
            for op in sorted(ops & CALL_OPERATIONS):
                if item is None:
                    # Nothing to ask about: the proxy records these with prepare's outcome.
                    outcomes[op] = outcome
                    continue
                outcomes[op], _ = await self._send(conn.calls(op, item), symbol, op)

        try:
            await self._on_server(row.uri, ask)
        finally:
            for op in {*ops, PREPARE}:
                self.in_flight.discard((symbol, op))
        for op in ops:
            if op in outcomes:
                self._record((symbol, op), outcomes[op])


def pick_item(items: list[Any], line: int, character: int) -> dict[str, Any] | None:
    """The item declared at the symbol's own position, else the server's first choice."""
    items = [item for item in items if isinstance(item, dict)]
    for item in items:
        start = (item.get("selectionRange") or {}).get("start") or {}
        if (start.get("line"), start.get("character")) == (line, character):
            return item
    return items[0] if items else None
