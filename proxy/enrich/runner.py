"""The `lsp-backoff enrich` run: start the proxy, phase 1 (open files, documentSymbol), phase 2
(the monitor), the summary — plus Ctrl-C and server restarts around all of it.

The proxy session runs in this process; the server is its child, in its own process session.
When the server dies the run restarts it after 1, 2, 4 s (at most len(RESTART_DELAYS) times),
re-opens the files opened so far and resumes. Everything the proxy recorded stays in the
database, so an interrupted run continues where it stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import signal
import sqlite3
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lsp_backoff.proxy.config import ProxyConfig
from lsp_backoff.proxy.session import loop_factory
from lsp_backoff.tracker import queries
from lsp_backoff.tracker.errors import LspBackoffError

from .client import ProxyConnection, ServerDied
from .files import list_files
from .jsonrpc import ResponseError
from .monitor import Monitor
from .progress import Progress, make_progress
from .summary import build_summary, print_summary

#: Pauses before each restart of a proxy+server that died; its length bounds the restarts.
RESTART_DELAYS: tuple[float, ...] = (1.0, 2.0, 4.0)
#: After the first Ctrl-C, requests in flight get this long to be answered (and recorded).
INTERRUPT_GRACE = 5.0
EXIT_INTERRUPTED = 130


class EnrichError(LspBackoffError):
    """The run cannot go on (no server, restarts exhausted); the message is one line."""


@dataclass(frozen=True)
class EnrichOptions:
    workspace: Path
    db: str
    server: list[str]
    #: The proxy's settings (backoff, timeout, logging); its db and server are the two above.
    proxy: ProxyConfig
    operations: tuple[str, ...]
    interval: float
    jobs: int
    include: tuple[str, ...]
    exclude: tuple[str, ...]
    max_wait: float
    backoff_base: float
    max_retries: int
    timeout: float
    json: bool


class Runner:
    def __init__(self, options: EnrichOptions, progress: Progress | None = None) -> None:
        self.options = options
        self.progress = progress if progress is not None else make_progress()
        self.config = dataclasses.replace(
            options.proxy, db=options.db, no_db=False, server=tuple(options.server)
        )
        self.opened: list[Path] = []
        self.restarts = 0
        self.symbols = 0
        self.symbol_errors = 0
        self.proxy_stats: dict[str, int] = {}
        self._connection: ProxyConnection | None = None
        self.stop = asyncio.Event()
        self._revive_lock = asyncio.Lock()

    @property
    def connection(self) -> ProxyConnection:
        if self._connection is None:
            raise EnrichError("the proxy is not running")
        return self._connection

    def _new_connection(self) -> ProxyConnection:
        # The backstop outlives the proxy's own --timeout so that the proxy's answer wins.
        return ProxyConnection(self.config, self.options.workspace, self.options.timeout + 15)

    async def _start(self) -> None:
        connection = self._new_connection()
        self._connection = connection
        try:
            await connection.start()
        except (ServerDied, TimeoutError, OSError, ResponseError) as exc:
            await connection.close(grace=1.0)
            detail = connection.describe_exit() if isinstance(exc, ResponseError) else str(exc)
            raise EnrichError(f"cannot start {' '.join(self.options.server)}: {detail}") from exc

    async def revive(self) -> None:
        """Restart a proxy+server that died, re-open the files, or raise EnrichError."""
        async with self._revive_lock:
            # Every task that saw the death calls this; only the first one restarts.
            if self.connection.exited.is_set():
                await self._revive()

    async def _revive(self) -> None:
        reason = self.connection.describe_exit()
        self._keep_stats(self.connection)
        await self.connection.close(grace=1.0)
        while self.restarts < len(RESTART_DELAYS):
            delay = RESTART_DELAYS[self.restarts]
            self.restarts += 1
            self.progress.note(f"server died ({reason}); restart {self.restarts} in {delay:g} s")
            await asyncio.sleep(delay)
            try:
                await self._start()
                for path in self.opened:
                    self.connection.open(path, _read(path))
                return
            except EnrichError as exc:
                reason = str(exc)
        raise EnrichError(
            f"the server kept dying and could not be restarted again "
            f"({len(RESTART_DELAYS)} restarts used): {reason}"
        )

    def _keep_stats(self, connection: ProxyConnection) -> None:
        """Counters of a proxy that is gone can't be asked for; the last ones seen are kept."""
        for key, value in connection.last_stats.items():
            self.proxy_stats[key] = self.proxy_stats.get(key, 0) + value

    async def _phase1(self, files: Sequence[Path]) -> None:
        self.progress.files(len(files))
        semaphore = asyncio.Semaphore(self.options.jobs)
        pending = list(files)

        async def one(path: Path) -> None:
            async with semaphore:
                if self.stop.is_set():
                    return
                while True:
                    if self.connection.exited.is_set():
                        await self.revive()
                    try:
                        await self._document_symbols(path)
                        break
                    except ServerDied:
                        continue
            self.progress.file_done()

        await asyncio.gather(*(one(path) for path in pending))

    async def _document_symbols(self, path: Path) -> None:
        connection = self.connection
        if path not in self.opened:
            connection.open(path, _read(path))
            self.opened.append(path)
        try:
            result = await connection.document_symbols(path.as_uri())
        except ServerDied:
            raise
        except Exception:  # an error answer for one file must not stop the run
            self.symbol_errors += 1
            return
        self.symbols += _count_symbols(result if isinstance(result, list) else [])

    async def run(self) -> int:
        started = time.monotonic()
        files = list_files(self.options.workspace, self.options.include, self.options.exclude)
        await self._start()
        db: sqlite3.Connection | None = None
        monitor: Monitor | None = None
        interrupted = False
        try:
            await self._phase1(files)
            await self.connection.flush()
            db = queries.connect(self.options.db)
            monitor = Monitor(
                self,
                db,
                self.options.operations,
                interval=self.options.interval,
                jobs=self.options.jobs,
                max_wait=self.options.max_wait,
                backoff_base=self.options.backoff_base,
                max_attempts=self.options.max_retries + 1,
                progress=self.progress,
                uri_prefix=self.options.workspace.as_uri() + "/",
            )
            if not self.stop.is_set():
                await monitor.run(self.stop)
            interrupted = self.stop.is_set()
            if interrupted and monitor is not None:
                await _bounded(monitor.drain(), INTERRUPT_GRACE, monitor)
            # A session that ended with its server committed everything first (the counters
            # then are the last ones fetched).
            with contextlib.suppress(ServerDied):
                await self.connection.flush()
                with contextlib.suppress(ResponseError):  # counters are informative only
                    await self.connection.stats()
            self._keep_stats(self.connection)
            summary = build_summary(
                db,
                workspace=self.options.workspace,
                operations=monitor.query_operations,
                files=len(self.opened),
                symbols=self.symbols,
                symbol_errors=self.symbol_errors,
                monitor=monitor,
                proxy_stats=self.proxy_stats,
                restarts=self.restarts,
                elapsed=time.monotonic() - started,
                interrupted=interrupted,
            )
        finally:
            self.progress.close()
            if self._connection is not None:
                await self._connection.close()
            if db is not None:
                db.close()
        print_summary(summary, as_json=self.options.json, stream=sys.stdout)
        if interrupted:
            print("lsp-backoff enrich: interrupted; run it again to continue", file=sys.stderr)
            return EXIT_INTERRUPTED
        return 0


async def _bounded(awaitable: Any, seconds: float, monitor: Monitor) -> None:
    try:
        await asyncio.wait_for(awaitable, seconds)
    except TimeoutError:
        await monitor.cancel()


def _read(path: Path) -> str:
    # Undecodable bytes become U+FFFD rather than aborting the run; the proxy reads the same
    # file from disk for keys only when the document is not open, so this text is what counts.
    return path.read_text(encoding="utf-8", errors="replace")


def _count_symbols(result: Sequence[Any]) -> int:
    """DocumentSymbol trees count every node; flat SymbolInformation lists count each entry."""
    total = 0
    for entry in result:
        children = entry.get("children") if isinstance(entry, dict) else None
        total += 1 + _count_symbols(children if isinstance(children, list) else [])
    return total


def run_enrich(options: EnrichOptions) -> int:
    """Run to the end; SIGINT once stops after the requests in flight, twice stops at once.

    SIGTERM and SIGHUP stop at once, the same clean way: the server is shut down (it runs in
    its own process session, so nobody else would) and what was recorded is committed.
    """

    async def main() -> int:
        runner = Runner(options)
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        presses = 0
        terminated_by: signal.Signals | None = None

        def on_sigint() -> None:
            nonlocal presses
            presses += 1
            runner.stop.set()
            if presses == 1:
                runner.progress.note("stopping after the requests in flight (Ctrl-C again: now)")
            elif task is not None:
                task.cancel()

        def on_terminate(sig: signal.Signals) -> None:
            nonlocal terminated_by
            terminated_by = sig
            runner.stop.set()
            if task is not None:
                task.cancel()

        with contextlib.suppress(NotImplementedError):  # no signal handlers on Windows loops
            loop.add_signal_handler(signal.SIGINT, on_sigint)
            for sig in (signal.SIGTERM, signal.SIGHUP):
                loop.add_signal_handler(sig, on_terminate, sig)
        try:
            return await runner.run()
        except asyncio.CancelledError:
            if terminated_by is not None:
                print(f"lsp-backoff enrich: stopped by {terminated_by.name}", file=sys.stderr)
                return 128 + terminated_by
            print("lsp-backoff enrich: interrupted", file=sys.stderr)
            return EXIT_INTERRUPTED

    try:
        with asyncio.Runner(loop_factory=loop_factory()) as runner:
            return runner.run(main())
    except (EnrichError, LspBackoffError) as exc:
        print(f"lsp-backoff enrich: {exc}", file=sys.stderr)
        return 1
