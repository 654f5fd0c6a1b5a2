"""The language servers of one `lsp-backoff enrich` run: start, restart, hand out work, stop.

Each :class:`Worker` is one proxy session in this process with its server
(:class:`client.ProxyConnection`) and that server's :class:`window.Window` of open documents.
Work is submitted by document to the pool's one :class:`window.DocumentQueue`; whichever
server has room takes it. A server that dies is restarted after `delays` (at most len(delays)
times for that server) once there is work for it — or at once when the caller needs a live one
(:meth:`Pool.revive`); the other servers go on meanwhile. Work it had not started goes back to
the queue; work it had sent fails with ServerDied, which the proxy has recorded as a failure.

All the proxy sessions share one :class:`proxy.core.Core` (one tracker, one short-circuit
decision per (symbol, operation), one set of counters, one writer thread): a failing question
is asked max-retries + 1 times in all, whichever servers get it. The pool also stands for "the
proxy" towards the monitor (`exited`, `flush`, `stats`): exited means no server is running;
flush and stats are the core's and need no server.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from lsp_backoff.proxy.core import STAT_KEYS, Core
from lsp_backoff.tracker.errors import LspBackoffError

from .client import LspConnection, ProxyConnection, ServerDied
from .jsonrpc import ResponseError
from .progress import Progress
from .window import DEFAULT_OPEN_FILES, DocumentQueue, Reader, Window, Work, auto_window

#: `--servers auto` starts at most this many servers, and one per core below that.
MAX_AUTO_SERVERS = 4
#: ... and no more than one per this much available memory (a server holds its own copy of the
#: workspace's program: basedpyright on a 150k-line package takes a few hundred MB).
MEMORY_PER_SERVER = 1 << 30


def auto_servers() -> int:
    """One server per core, at most MAX_AUTO_SERVERS, at most one per GiB of MemAvailable."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on every platform
        cores = os.cpu_count() or 1
    count = min(cores, MAX_AUTO_SERVERS)
    available = _available_memory()
    if available is not None:
        count = min(count, available // MEMORY_PER_SERVER)
    return max(1, count)


def _available_memory() -> int | None:
    """MemAvailable in bytes (Linux); None where it cannot be read."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


class EnrichError(LspBackoffError):
    """The run cannot go on (no server, restarts exhausted); the message is one line."""


class Worker:
    def __init__(self, pool: Pool, index: int, window: Window) -> None:
        self.pool = pool
        self.index = index
        self.window = window
        self.connection: ProxyConnection | None = None
        self.restarts = 0
        #: Out of restarts: this server stays down.
        self.gone = False
        #: A restart in progress (see _shielded_start).
        self.starting: asyncio.Future[None] | None = None
        self._lock = asyncio.Lock()

    @property
    def alive(self) -> bool:
        return self.connection is not None and not self.connection.exited.is_set()

    @property
    def name(self) -> str:
        return "server" if len(self.pool.workers) == 1 else f"server {self.index + 1}"

    async def start(self) -> None:
        connection = self.pool.new_connection()
        self.connection = connection
        connection.may_restart = lambda: self.restarts < len(self.pool.delays)
        # The pool's `exited` follows every death at once, not when this worker gets to it.
        connection.on_lost.append(self.pool.check_exited)
        try:
            await connection.start()
            if self.pool.auto_window:  # the server has said who it is (initialize)
                self.window.size = auto_window(connection.server_info)
            if self.pool.settle is not None:
                with contextlib.suppress(ResponseError, TimeoutError):  # only its timing counts
                    await self.pool.settle(connection)
        except (ServerDied, TimeoutError, OSError, ResponseError) as exc:
            await connection.close(grace=1.0)
            detail = connection.describe_exit() if isinstance(exc, ResponseError) else str(exc)
            raise EnrichError(f"cannot start {self.pool.command}: {detail}") from exc
        self.pool.exited.clear()

    async def _shielded_start(self) -> None:
        """start() that a cancellation (the run ending) does not cut in half: a server spawned
        but not yet known could not be stopped. Pool.close waits for it instead."""
        self.starting = asyncio.ensure_future(self.start())
        try:
            await asyncio.shield(self.starting)
        finally:
            if self.starting.done():
                self.starting = None

    async def ensure_alive(self) -> None:
        """Restart a server that died (after its next delay), or raise EnrichError."""
        async with self._lock:  # whoever saw the death first restarts; the others wait for it
            if self.alive:
                return
            if self.gone:
                raise EnrichError(self._exhausted("no restarts left"))
            connection = self.connection
            assert connection is not None, "start() first"
            reason = connection.describe_exit()
            await connection.close(grace=1.0)
            delays = self.pool.delays
            while self.restarts < len(delays):
                delay = delays[self.restarts]
                self.restarts += 1
                what = reason if connection.fault is not None else f"died ({reason})"
                self.pool.progress.note(
                    f"{self.name} {what}; restart {self.restarts} in {delay:g} s"
                )
                await asyncio.sleep(delay)
                try:
                    await self._shielded_start()
                    return
                except EnrichError as exc:
                    reason = str(exc)
            self.gone = True
            raise EnrichError(self._exhausted(reason))

    def _exhausted(self, reason: str) -> str:
        return (
            f"the {self.name} kept dying and could not be restarted again "
            f"({len(self.pool.delays)} restarts used): {reason}"
        )

    async def run(self) -> None:
        """Start work while the server lives; after a death, restart once work waits."""
        try:
            while True:
                connection = self.connection
                if connection is not None and not connection.exited.is_set():
                    await self.window.pump(connection)
                    continue
                await self.pool.queue.changed.wait()
                await self.ensure_alive()
        except EnrichError as exc:
            self.gone = True
            if all(worker.gone for worker in self.pool.workers):
                self.pool.queue.fail(exc)  # nobody will ever run what waits


class Pool:
    def __init__(
        self,
        count: int,
        new_connection: Callable[[], ProxyConnection],
        *,
        core: Core,
        command: str,
        window: int | None,
        jobs: int,
        read: Reader,
        delays: Sequence[float],
        progress: Progress,
        settle: Callable[[LspConnection], Awaitable[Any]] | None = None,
    ) -> None:
        self.new_connection = new_connection
        #: Shared by every session (`new_connection` hands it to each); closed by the caller.
        self.core = core
        #: Awaited once per server start, before any document is opened (see Fleet._settle).
        self.settle = settle
        self.command = command
        self.delays = tuple(delays)
        self.progress = progress
        self.queue = DocumentQueue()
        #: `--open-files auto` (window None): each window's size is set once its server has
        #: answered initialize (window.auto_window); until then nothing is opened anyway.
        self.auto_window = window is None
        size = DEFAULT_OPEN_FILES if window is None else window
        self.workers = [
            Worker(self, index, Window(self.queue, size=size, jobs=jobs, read=read))
            for index in range(count)
        ]
        #: Set while no server is running (before the start, after the last death).
        self.exited = asyncio.Event()
        self.exited.set()
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def restarts(self) -> int:
        return sum(worker.restarts for worker in self.workers)

    @property
    def peak_open(self) -> list[int]:
        """The most documents each server had open at once."""
        return [worker.window.peak for worker in self.workers]

    async def start(self) -> None:
        """Start every server (concurrently); one that cannot start fails the run."""
        results = await asyncio.gather(
            *(worker.start() for worker in self.workers), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException):
                await self.close(grace=1.0)
                raise result
        self._tasks = [asyncio.ensure_future(worker.run()) for worker in self.workers]

    def submit(self, path: Path, work: Work, uri: str | None = None) -> asyncio.Future[Any]:
        """Run `work` on a server that has `path` open; the future gets what it returns."""
        return self.queue.submit(uri or path.as_uri(), path, work)

    def check_exited(self) -> None:
        if not any(worker.alive for worker in self.workers):
            self.exited.set()

    def at_fault(self) -> list[str]:
        """The faults that stopped a server not restarted since (client.ProxyConnection)."""
        return [
            f"{worker.name}: {worker.connection.fault}"
            for worker in self.workers
            if worker.connection is not None and worker.connection.fault is not None
        ]

    async def revive(self) -> None:
        """At least one server running again, or EnrichError when none can be."""
        if not self.exited.is_set():
            return
        error: EnrichError | None = None
        for worker in self.workers:
            try:
                await worker.ensure_alive()
                return
            except EnrichError as exc:
                error = exc
        assert error is not None
        raise error

    async def flush(self, *, need_server: bool = True) -> bool:
        """True once everything recorded so far, by every session, is committed.

        ServerDied when no server runs (unless `need_server` is False): the monitor takes that
        as "the proxy is gone" and decides about a restart before it plans another round.
        """
        if need_server and not any(worker.alive for worker in self.workers):
            self.check_exited()
            raise ServerDied("no server is running")
        self.core.drain()  # answers some session has relayed but not recorded yet
        return await self.core.flush()

    async def stats(self) -> dict[str, int]:
        """The counters `lspBackoff/stats` reports: one set for every session of the run."""
        self.core.drain()
        return {key: self.core.counters[key] for key in STAT_KEYS}

    async def close(self, grace: float = 5.0) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        starting = [w.starting for w in self.workers if w.starting is not None]
        await asyncio.gather(*starting, return_exceptions=True)
        await asyncio.gather(
            *(w.connection.close(grace) for w in self.workers if w.connection is not None),
            return_exceptions=True,
        )
        self.exited.set()
