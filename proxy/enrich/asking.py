"""How `lsp-backoff enrich` asks: the requests for one orphan, bounded concurrency, and the
per-run memory of what was asked and how it ended (the monitor's protection against loops).

Outcomes are only "edges" (a non-empty answer), "empty" or "error" (an error answer, a timeout
or a server death); what they mean for the graph is for the proxy to record, not for us.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from lsp_backoff.proxy.operations import CALL_OPERATIONS
from lsp_backoff.proxy.operations import PREPARE_CALLS as PREPARE

from .client import ProxyConnection

__all__ = ["CALL_OPERATIONS", "PREPARE", "Asked", "Asker", "Session"]


class Session(Protocol):
    """What the monitor needs from the runner: the live connection and a way to revive it."""

    @property
    def connection(self) -> ProxyConnection: ...

    async def revive(self) -> None: ...


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
    def __init__(
        self, session: Session, jobs: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.session = session
        self.clock = clock
        self.counts = Counts()
        self.asked: dict[tuple[str, str], Asked] = {}
        self.in_flight: set[tuple[str, str]] = set()
        self.tasks: set[asyncio.Task[None]] = set()
        self.semaphore = asyncio.Semaphore(jobs)
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

    async def _locate(self, row: dict[str, Any]) -> None:
        key = (row["symbol"], row["operation"])
        try:
            async with self.semaphore:
                if self.stop.is_set():
                    return  # queued, never sent: the next run asks it
                conn = self.session.connection
                outcome, _ = await self._send(
                    conn.locate(row["operation"], row["uri"], row["line"], row["character"])
                )
        finally:
            self.in_flight.discard(key)
        self._record(key, outcome)

    async def _call_hierarchy(self, row: dict[str, Any], ops: set[str]) -> None:
        """prepare once for the symbol, then whichever of incoming/outgoing calls are missing."""
        symbol = row["symbol"]
        outcomes: dict[str, str] = {}
        try:
            async with self.semaphore:
                if self.stop.is_set():
                    return
                conn = self.session.connection
                # Once prepare is sent the calls follow even after a stop: an item left without
                # its calls would make the next run ask prepare again.
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
