"""Phase 2 of `lsp-backoff enrich`: the monitor that fills orphans until nothing is left to ask.

Every `interval` seconds (and right after a batch of requests drains) it flushes the proxy, runs
the orphan query on its own read-only connection — in a worker thread, so the loop that relays the
proxy's traffic never waits on SQLite; the query reads the orphan index of this workspace only, so
a round costs what it returns, not the size of the graph — and asks each missing (symbol,
operation) once,
with at most `jobs` requests in flight. The database is the memory between rounds: an answered
orphan disappears from the query, a failed one comes back as `backoff` and then `ready` again when
the proxy's schedule allows. A per-run record of what was asked keeps the loop finite even when the
database cannot express an outcome (see `_verdict`).

It never writes to the database and never interprets results beyond "edges / empty / error /
transient" (asking.py): recording is the proxy's job. The database lags the proxy's tracker by up
to a round, so before asking a pair the database shows ready it also asks the tracker (in this
process): a pair the tracker still holds back would only be answered `null` by the proxy, so it
waits for the tracker's retry time instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from lsp_backoff.tracker import queries
from lsp_backoff.tracker.orphans import Orphan

from .asking import CALL_OPERATIONS, PREPARE, Asked, Asker, Session, held_until
from .capabilities import attach_versions, recorded_as
from .client import ServerDied
from .jsonrpc import ResponseError
from .progress import Progress

#: An empty answer is asked again (after the backoff base) at most this often: that is what turns
#: a tentative empty into the proxy's definitive "none" for servers without progress reports.
MAX_EMPTY_ASKS = 3
#: A pair answered ContentModified (or held back by the proxy) is asked again at most this often:
#: servers like ty cancel the requests in flight at every didOpen/didClose of the window, so a
#: few repeats are normal; a pair that never gets an answer ends unfilled (and the run with it).
MAX_TRANSIENT_ASKS = 10


@dataclass
class RoundResult:
    missing: int = 0  # orphans this round, all states
    asked: int = 0
    waiting: int = 0
    in_flight: int = 0
    backoff: int = 0
    abandoned: set[tuple[str, str]] = field(default_factory=set)
    stuck: set[tuple[str, str]] = field(default_factory=set)
    #: The earliest time (epoch seconds) a pair the proxy's tracker holds back may be asked.
    next_retry: float | None = None

    def wake_by(self, when: float) -> None:
        self.next_retry = when if self.next_retry is None else min(self.next_retry, when)

    @property
    def done(self) -> bool:
        return self.asked == 0 and self.waiting == 0 and self.in_flight == 0


class Monitor:
    #: The asker it builds (watch_run.py's holds its questions while a change is applied).
    asker_class: type[Asker] = Asker
    #: False: the run ends once nothing is missing. True (`enrich --watch`): `_idle` waits.
    watching = False

    def __init__(
        self,
        session: Session,
        db: sqlite3.Connection,
        operations: Iterable[str],
        *,
        interval: float,
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
        self.asker = self.asker_class(session, clock)
        self.counts = self.asker.counts
        self.asked = self.asker.asked
        self.seen: set[tuple[str, str]] = set()
        self.last = RoundResult()
        #: Operations the server cannot answer (operation → why): not asked (capabilities.py).
        self.unsupported: dict[str, str] = {}
        #: (symbol, operation, version) "not supported" was recorded for, by this run.
        self.noted: set[tuple[str, str, str | None]] = set()

    async def run(self, stop: asyncio.Event) -> RoundResult:
        """Rounds until done or `stop`; returns the last round's view of what is left.

        After `stop`, requests already sent run to their end (so their answers are recorded) but
        queued ones are dropped; the caller bounds that with `drain`/`cancel`.
        """
        self.asker.stop = stop
        while not stop.is_set():
            if self.session.connection.exited.is_set():
                await self.drain()
                # The session committed everything before it ended, so the database alone
                # tells whether a new server is needed (a death's failure may have been the
                # last thing left: then the run is over, no restart).
                settled, _, _ = self._plan(await self._fetch(), self.asker.seq)
                if settled.done and not self.watching:
                    self.last = settled
                    break
                await self.session.revive()
            try:
                self.last = await self._round()
            except ServerDied:
                continue  # revived at the top of the loop
            self.counts.rounds += 1
            self.progress.requests(len(self.seen), len(self.seen) - self.last.missing, self.counts)
            if self.last.done:
                if not await self._idle(stop):
                    break
                continue
            await self._pause(stop)
        if not stop.is_set():
            await self.drain()
        return self.last

    async def _idle(self, stop: asyncio.Event) -> bool:
        """Nothing is missing: True to go on with another round (watch mode), False to end."""
        return False

    async def _pause(self, stop: asyncio.Event) -> None:
        """Wait one interval, or less when every request in flight has been answered."""
        waiters: set[asyncio.Future[Any]] = {asyncio.ensure_future(stop.wait())}
        if self.asker.tasks:
            waiters.add(asyncio.ensure_future(self.asker.idle.wait()))
        waiters.add(asyncio.ensure_future(self.session.connection.exited.wait()))
        timeout = self.interval
        if self.last.next_retry is not None:  # no need to sleep past a held-back pair's retry
            timeout = min(timeout, max(0.0, self.last.next_retry - self.wall()))
        try:
            await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    async def drain(self) -> None:
        await self.asker.drain()

    async def cancel(self) -> None:
        await self.asker.cancel()

    async def _round(self) -> RoundResult:
        snapshot = self.asker.seq
        connection = self.session.connection
        await connection.flush()
        # Counters die with a proxy; fetching them each round keeps a restart from losing them.
        with contextlib.suppress(ServerDied, TimeoutError, ResponseError):
            await connection.stats()
        result, locate, calls = self._plan(await self._fetch(), snapshot)
        for row in locate:
            self.asker.locate(row)
        for row, ops in calls.values():
            self.asker.call_hierarchy(row, ops)
        return result

    async def _fetch(self) -> list[Orphan]:
        """This workspace's orphans, read in a worker thread (rounds never overlap, so the
        connection is used by one thread at a time)."""
        rows = await asyncio.to_thread(
            queries.orphan_rows,
            self.db,
            operations=self.query_operations,
            ready_only=False,
            uri_prefix=self.uri_prefix,
        )
        # One database may serve several workspaces; this run enriches only its own.
        rows = [row for row in rows if row.uri.startswith(self.uri_prefix)]
        self.unsupported = self.session.unsupported(self.query_operations)
        if self.unsupported:  # their placeholders carry the symbol's version
            rows = await asyncio.to_thread(attach_versions, self.db, rows, self.unsupported)
        return rows

    def _plan(
        self, rows: list[Orphan], snapshot: int
    ) -> tuple[RoundResult, list[Orphan], dict[str, tuple[Orphan, set[str]]]]:
        """What the database says is missing, and which of it to ask now (nothing is sent)."""
        now, mono = self.wall(), self.clock()
        result = RoundResult(missing=len(rows))
        prepare_waiting = {r.symbol for r in rows if r.operation == PREPARE and r.state != "ready"}
        locate: list[Orphan] = []
        calls: dict[str, tuple[Orphan, set[str]]] = {}
        noted_now: set[tuple[str, str, str | None]] = set()
        for row in rows:
            key = (row.symbol, row.operation)
            self.seen.add(key)
            record = self.asked.get(key)
            is_call = row.operation in CALL_OPERATIONS
            in_flight = self.asker.in_flight
            if key in in_flight or (is_call and (key[0], PREPARE) in in_flight):
                result.in_flight += 1
                continue
            if row.operation in self.unsupported:
                self._not_supported(row, result, noted_now)
                continue
            if row.state != "ready":
                result.backoff += 1
                if self._gives_up_waiting(record, mono, row.retry_at, now):
                    result.abandoned.add(key)
                else:
                    result.waiting += 1
                continue
            if is_call and row.symbol in prepare_waiting:
                result.waiting += 1  # counted again once prepare leaves backoff
                continue
            held = held_until(self.session, key, now)
            if held is not None:
                # The database says ready, the proxy's tracker says not yet (a ContentModified
                # or a failure it has not written yet): asked now, the proxy would answer null.
                if self._gives_up_waiting(record, mono, held, now):
                    result.abandoned.add(key)
                else:
                    result.waiting += 1
                    result.wake_by(held)
                continue
            if record is not None:
                record.waiting_since = None
            verdict = self._verdict(record, snapshot, mono)
            if verdict == "stuck":
                result.stuck.add(key)
            elif verdict == "wait":
                result.waiting += 1
            elif row.operation in CALL_OPERATIONS or row.operation == PREPARE:
                calls.setdefault(row.symbol, (row, set()))[1].add(row.operation)
                result.asked += 1
            else:
                locate.append(row)
                result.asked += 1
        return result, locate, calls

    def _not_supported(
        self, row: Orphan, result: RoundResult, noted_now: set[tuple[str, str, Any]]
    ) -> None:
        """Not asked: the proxy records "not supported", once per content of the symbol (a
        change under --watch re-arms it); the next round sees it filled."""
        key = (row.symbol, recorded_as(row.operation), row.version)
        if key in noted_now:
            result.waiting += 1
        elif key in self.noted:  # recorded a round ago and still missing: it cannot be filled
            result.stuck.add((row.symbol, row.operation))
        else:
            self.noted.add(key)
            noted_now.add(key)
            self.session.record_unsupported(row, key[1], self.unsupported[row.operation])
            result.waiting += 1
            result.wake_by(self.wall())  # the next round needs only the flush

    def _gives_up_waiting(
        self, record: Asked | None, mono: float, retry_at: float | None, now: float
    ) -> bool:
        """True once waiting for this backoff (until `retry_at`, epoch seconds) would pass
        --max-wait (in one stretch)."""
        if record is not None:
            if record.waiting_since is None:
                record.waiting_since = mono
            if mono - record.waiting_since > self.max_wait:
                return True
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
            if record.empties >= MAX_EMPTY_ASKS:
                return "stuck"
            # A repeat at least the base delay later is what makes an empty answer definitive.
            return "ask" if mono - record.answered_at >= self.backoff_base else "wait"
        if record.outcome == "transient":
            # No answer (ContentModified, or the proxy's null): never an empty one. The tracker
            # (checked before this) has let it through again.
            return "ask" if record.transients < MAX_TRANSIENT_ASKS else "stuck"
        # error: the database shows it ready, so the proxy's backoff for it has expired.
        return "ask" if record.errors < self.max_attempts + 2 else "stuck"
