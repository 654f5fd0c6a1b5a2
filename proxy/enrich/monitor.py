"""Phase 2 of `lsp-backoff enrich`: the monitor that fills orphans until nothing is left to ask.

Every `interval` seconds (and right after a batch of requests drains) it flushes the proxy, runs
the orphan query on its own read-only connection and asks each missing (symbol, operation) once,
with at most `jobs` requests in flight. The database is the memory between rounds: an answered
orphan disappears from the query, a failed one comes back as `backoff` and then `ready` again when
the proxy's schedule allows. A per-run record of what was asked keeps the loop finite even when the
database cannot express an outcome (see `_verdict`).

It never writes to the database and never interprets results beyond "edges / empty / error":
recording is the proxy's job.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from lsprotocol import types
from pygls.exceptions import JsonRpcException

from tracker import queries

from .client import ProxyConnection, ServerDied
from .progress import Progress

CALL_OPERATIONS = frozenset({"incoming_calls", "outgoing_calls"})
PREPARE = "prepare_call_hierarchy"

#: An empty answer is asked again (after the backoff base) at most this often: that is what turns
#: a tentative empty into the proxy's definitive "none" for servers without progress reports.
MAX_EMPTY_ASKS = 3


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


@dataclass
class RoundResult:
    missing: int = 0  # orphans this round, all states
    asked: int = 0
    waiting: int = 0
    in_flight: int = 0
    backoff: int = 0
    abandoned: set[tuple[str, str]] = field(default_factory=set)
    stuck: set[tuple[str, str]] = field(default_factory=set)

    @property
    def done(self) -> bool:
        return self.asked == 0 and self.waiting == 0 and self.in_flight == 0


def parse_time(value: str | None) -> float | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


class Monitor:
    def __init__(
        self,
        session: Session,
        db: sqlite3.Connection,
        operations: Iterable[str],
        *,
        interval: float,
        jobs: int,
        max_wait: float,
        backoff_base: float,
        max_attempts: int,
        progress: Progress,
        uri_prefix: str = "",
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.session = session
        self.db = db
        self.operations = tuple(dict.fromkeys(operations))
        # prepare's own backoff decides when incoming/outgoing calls can be asked at all.
        extra = (PREPARE,) if CALL_OPERATIONS & set(self.operations) else ()
        self.query_operations = tuple(dict.fromkeys((*self.operations, *extra)))
        self.interval = interval
        self.max_wait = max_wait
        self.backoff_base = backoff_base
        self.max_attempts = max_attempts
        self.progress = progress
        self.uri_prefix = uri_prefix
        self.clock = clock
        self.wall = wall
        self.counts = Counts()
        self.asked: dict[tuple[str, str], Asked] = {}
        self.seen: set[tuple[str, str]] = set()
        self.last = RoundResult()
        self._seq = 0
        self._in_flight: set[tuple[str, str]] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._semaphore = asyncio.Semaphore(jobs)
        self._stop = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> RoundResult:
        """Rounds until done or `stop`; returns the last round's view of what is left.

        After `stop`, requests already sent run to their end (so their answers are recorded) but
        queued ones are dropped; the caller bounds that with `drain`/`cancel`.
        """
        self._stop = stop
        while not stop.is_set():
            if self.session.connection.exited.is_set():
                await self.drain()
                await self.session.revive()
            try:
                self.last = await self._round()
            except ServerDied:
                continue  # revived at the top of the loop
            self.counts.rounds += 1
            self.progress.requests(len(self.seen), len(self.seen) - self.last.missing, self.counts)
            if self.last.done:
                break
            await self._pause(stop)
        if not stop.is_set():
            await self.drain()
        return self.last

    async def _pause(self, stop: asyncio.Event) -> None:
        """Wait one interval, or less when every request in flight has been answered."""
        waiters: set[asyncio.Future[Any]] = {asyncio.ensure_future(stop.wait())}
        if self._tasks:
            waiters.add(asyncio.ensure_future(asyncio.wait(set(self._tasks))))
        waiters.add(asyncio.ensure_future(self.session.connection.exited.wait()))
        try:
            await asyncio.wait(waiters, timeout=self.interval, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def drain(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def cancel(self) -> None:
        for task in self._tasks:
            task.cancel()
        await self.drain()

    async def _round(self) -> RoundResult:
        snapshot = self._seq
        connection = self.session.connection
        await connection.flush()
        # Counters die with a proxy; fetching them each round keeps a restart from losing them.
        with contextlib.suppress(ServerDied, TimeoutError, JsonRpcException):
            await connection.stats()
        rows = [
            row
            for row in queries.orphans(self.db, operations=self.query_operations, ready_only=False)
            # One database may serve several workspaces; this run enriches only its own.
            if str(row["uri"]).startswith(self.uri_prefix)
        ]
        now, mono = self.wall(), self.clock()
        result = RoundResult(missing=len(rows))
        prepare_waiting = {
            r["symbol"] for r in rows if r["operation"] == PREPARE and r["state"] != "ready"
        }
        locate: list[dict[str, Any]] = []
        calls: dict[str, tuple[dict[str, Any], set[str]]] = {}
        for row in rows:
            key = (row["symbol"], row["operation"])
            self.seen.add(key)
            record = self.asked.get(key)
            if key in self._in_flight:
                result.in_flight += 1
                continue
            if row["state"] != "ready":
                result.backoff += 1
                if self._gives_up_waiting(row, record, now, mono):
                    result.abandoned.add(key)
                else:
                    result.waiting += 1
                continue
            if record is not None:
                record.waiting_since = None
            if row["operation"] in CALL_OPERATIONS and row["symbol"] in prepare_waiting:
                result.waiting += 1  # counted again once prepare leaves backoff
                continue
            verdict = self._verdict(record, snapshot, mono)
            if verdict == "stuck":
                result.stuck.add(key)
            elif verdict == "wait":
                result.waiting += 1
            elif row["operation"] in CALL_OPERATIONS or row["operation"] == PREPARE:
                calls.setdefault(row["symbol"], (row, set()))[1].add(row["operation"])
                result.asked += 1
            else:
                locate.append(row)
                result.asked += 1
        for row in locate:
            self._spawn((row["symbol"], row["operation"]), self._locate(row))
        for symbol, (row, ops) in calls.items():
            for op in ops:
                self._in_flight.add((symbol, op))
            self._spawn(None, self._call_hierarchy(row, ops))
        return result

    def _gives_up_waiting(
        self, row: dict[str, Any], record: Asked | None, now: float, mono: float
    ) -> bool:
        """True once waiting for this backoff would pass --max-wait (in one stretch)."""
        if record is not None:
            if record.waiting_since is None:
                record.waiting_since = mono
            if mono - record.waiting_since > self.max_wait:
                return True
        retry_at = parse_time(row.get("retry_at"))
        return retry_at is not None and retry_at - now > self.max_wait

    def _verdict(self, record: Asked | None, snapshot: int, mono: float) -> str:
        """ask / wait / stuck for a ready orphan, given what this run already saw of it."""
        if record is None:
            return "ask"
        if record.seq > snapshot:
            return "wait"  # answered after the flush: the query may not show its data yet
        if record.outcome == "edges":
            # The proxy answered with data yet the query still lists it: the data landed under
            # another key (e.g. a call hierarchy item at another position). Asking again
            # would only repeat that.
            return "stuck"
        if record.outcome == "empty":
            if record.asks >= MAX_EMPTY_ASKS:
                return "stuck"
            # A repeat at least the base delay later is what makes an empty answer definitive.
            return "ask" if mono - record.answered_at >= self.backoff_base else "wait"
        # error: the database shows it ready, so the proxy's backoff for it has expired.
        return "ask" if record.asks < self.max_attempts + 2 else "stuck"

    def _spawn(self, key: tuple[str, str] | None, coro: Any) -> None:
        if key is not None:
            self._in_flight.add(key)
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _record(self, key: tuple[str, str], outcome: str) -> None:
        self._in_flight.discard(key)
        record = self.asked.setdefault(key, Asked())
        self._seq += 1
        record.asks += 1
        record.outcome = outcome
        record.answered_at = self.clock()
        record.seq = self._seq
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
            async with self._semaphore:
                if self._stop.is_set():
                    return  # queued, never sent: the next run asks it
                conn = self.session.connection
                outcome, _ = await self._send(
                    conn.locate(row["operation"], row["uri"], row["line"], row["character"])
                )
        finally:
            self._in_flight.discard(key)
        self._record(key, outcome)

    async def _call_hierarchy(self, row: dict[str, Any], ops: set[str]) -> None:
        """prepare once for the symbol, then whichever of incoming/outgoing calls are missing."""
        symbol = row["symbol"]
        outcomes: dict[str, str] = {}
        try:
            async with self._semaphore:
                if self._stop.is_set():
                    return
                conn = self.session.connection
                # Once prepare is sent the calls follow even after a stop: an item left without
                # its calls would make the next run ask prepare again.
                outcome, items = await self._send(
                    conn.prepare_call_hierarchy(row["uri"], row["line"], row["character"])
                )
                outcomes[PREPARE] = outcome
                item = _pick_item(items or [], row["line"], row["character"])
                for op in sorted(ops & CALL_OPERATIONS):
                    if item is None:
                        # Nothing to ask about: the proxy records these with prepare's outcome.
                        outcomes[op] = outcome
                        continue
                    outcomes[op], _ = await self._send(conn.calls(op, item))
        finally:
            for op in ops:
                self._in_flight.discard((symbol, op))
        for op in ops:
            if op in outcomes:
                self._record((symbol, op), outcomes[op])


def _pick_item(
    items: list[types.CallHierarchyItem], line: int, character: int
) -> types.CallHierarchyItem | None:
    """The item declared at the symbol's own position, else the server's first choice."""
    for item in items:
        start = item.selection_range.start
        if (start.line, start.character) == (line, character):
            return item
    return items[0] if items else None
