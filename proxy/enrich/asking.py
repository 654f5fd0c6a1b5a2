"""How `lsp-backoff enrich` asks: the requests for one orphan, bounded concurrency, and the
per-run memory of what was asked and how it ended (the monitor's protection against loops).

Outcomes are only "edges" (a non-empty answer), "empty" or "error" (an error answer, a timeout
or a server death); what they mean for the graph is for the proxy to record, not for us.
Each question is submitted with its document: which server asks it, with its document open,
and how many are in flight is window.py's business.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from lsp_backoff.proxy.operations import CALL_OPERATIONS
from lsp_backoff.proxy.operations import PREPARE_CALLS as PREPARE

from .client import LspConnection
from .pool import EnrichError
from .window import Work

__all__ = ["CALL_OPERATIONS", "NOT_SENT", "PREPARE", "Asked", "Asker", "Connection", "Session"]

#: What a question that never reached a server returns instead of an outcome.
NOT_SENT: Any = object()


class Connection(Protocol):
    """The proxy as the monitor sees it: every server of the run at once (pool.Pool)."""

    @property
    def exited(self) -> asyncio.Event: ...

    async def flush(self) -> bool: ...

    async def stats(self) -> dict[str, int]: ...


class Session(Protocol):
    """What the monitor and the asker need from the runner."""

    @property
    def connection(self) -> Connection: ...

    async def revive(self) -> None: ...

    def submit(self, uri: str, work: Work) -> asyncio.Future[Any]:
        """Run `work` on a server that has `uri`'s document open (window.py)."""
        ...


@dataclass
class Asked:
    """What this run already asked about one (symbol, operation) and how it ended."""

    asks: int = 0
    outcome: str = ""  # "edges" | "empty" | "error"
    answered_at: float = 0.0  # monotonic
    seq: int = 0  # completion order, compared with the round's snapshot
    waiting_since: float | None = None  # monotonic, while the database shows it in backoff


@dataclass
class Counts:
    sent: int = 0  # tracked requests sent, each one counted
    errors: int = 0  # of those, answered with an error (or lost with the server)
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
        #: Set by the monitor on Ctrl-C: queued requests are dropped, sent ones finish.
        self.stop = asyncio.Event()
        #: Completion order: the monitor compares it with a snapshot taken before its flush.
        self.seq = 0

    def locate(self, row: dict[str, Any]) -> None:
        """Ask definition/declaration/type_definition/implementation/references for a row."""
        self.in_flight.add((row["symbol"], row["operation"]))
        self._spawn(self._locate(row))

    def call_hierarchy(self, row: dict[str, Any], ops: set[str]) -> None:
        """Ask prepare (+ incoming/outgoing calls) once for all of `ops` of one symbol."""
        for op in ops:
            self.in_flight.add((row["symbol"], op))
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
        task.add_done_callback(self.tasks.discard)

    def _record(self, key: tuple[str, str], outcome: str) -> None:
        self.in_flight.discard(key)
        record = self.asked.setdefault(key, Asked())
        self.seq += 1
        record.asks += 1
        record.outcome = outcome
        record.answered_at = self.clock()
        record.seq = self.seq
        if outcome == "edges":
            self.counts.edges += 1
        elif outcome == "empty":
            self.counts.empty += 1

    async def _send(self, request: Any) -> tuple[str, Any]:
        """Await one tracked request; errors and timeouts are expected (the proxy records them)."""
        self.counts.sent += 1
        try:
            result = await request
        except Exception:  # an error answer, a death or the backstop timeout: the proxy tracks it
            self.counts.errors += 1
            return "error", None
        return ("edges" if result else "empty"), result

    async def _on_server(self, uri: str, work: Work) -> Any:
        """`work` run by a server with `uri` open; NOT_SENT when no server ever will."""
        try:
            return await self.session.submit(uri, work)
        except EnrichError:
            return NOT_SENT  # every server is gone: the monitor's revive() says why

    async def _locate(self, row: dict[str, Any]) -> None:
        key = (row["symbol"], row["operation"])

        async def ask(conn: LspConnection) -> Any:
            if self.stop.is_set():
                return NOT_SENT  # queued, never sent: the next run asks it
            return await self._send(
                conn.locate(row["operation"], row["uri"], row["line"], row["character"])
            )

        try:
            answer = await self._on_server(row["uri"], ask)
        finally:
            self.in_flight.discard(key)
        if answer is not NOT_SENT:
            self._record(key, answer[0])

    async def _call_hierarchy(self, row: dict[str, Any], ops: set[str]) -> None:
        """prepare once for the symbol, then whichever of incoming/outgoing calls are missing."""
        symbol = row["symbol"]
        outcomes: dict[str, str] = {}

        async def ask(conn: LspConnection) -> None:
            if self.stop.is_set():
                return
            # Once prepare is sent the calls follow even after a stop: an item left without
            # its calls would make the next run ask prepare again. The calls are asked while
            # the document is still open: the item lives in it.
            outcome, items = await self._send(
                conn.prepare_call_hierarchy(row["uri"], row["line"], row["character"])
            )
            outcomes[PREPARE] = outcome
            item = pick_item(items or [], row["line"], row["character"])
            for op in sorted(ops & CALL_OPERATIONS):
                if item is None:
                    # Nothing to ask about: the proxy records these with prepare's outcome.
                    outcomes[op] = outcome
                    continue
                outcomes[op], _ = await self._send(conn.calls(op, item))

        try:
            await self._on_server(row["uri"], ask)
        finally:
            for op in ops:
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
