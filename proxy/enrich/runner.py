"""The `lsp-backoff enrich` run: start the proxy, phase 1 (open files, documentSymbol), phase 2
(the monitor), the summary — plus Ctrl-C and server restarts around all of it.

The proxy sessions run in this process; each server is their child, in its own process
session. The servers and their windows of open documents are pool.py's and window.py's: every
question goes to a server that has its document open. A server that dies is restarted after
1, 2, 4 s (at most len(RESTART_DELAYS) times each) and the run resumes. Everything the proxy
recorded stays in the database, so an interrupted run continues where it stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import signal
import sqlite3
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

from lsp_backoff.proxy.config import ProxyConfig
from lsp_backoff.proxy.core import Core
from lsp_backoff.proxy.session import loop_factory
from lsp_backoff.tracker import queries
from lsp_backoff.tracker.errors import LspBackoffError
from lsp_backoff.tracker.model import FailureState, SymbolRef
from lsp_backoff.tracker.orphans import Orphan

from .capabilities import unsupported
from .client import LspConnection, ProxyConnection, ServerDied
from .files import list_files
from .monitor import Monitor
from .pool import EnrichError, Pool
from .progress import Progress, make_progress
from .summary import build_summary, exit_status, print_summary
from .watch_plan import Planner
from .watch_run import WatchLoop, WatchMonitor
from .watch_servers import forget_gone, pool_servers, registering
from .window import Work

__all__ = ["EnrichError", "EnrichOptions", "Runner", "run_enrich"]

#: Pauses before each restart of a proxy+server that died; its length bounds the restarts.
RESTART_DELAYS: tuple[float, ...] = (1.0, 2.0, 4.0)
#: After the first Ctrl-C, requests in flight get this long to be answered (and recorded).
INTERRUPT_GRACE = 5.0
EXIT_INTERRUPTED = 130


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
    #: Documents open at once per server; 0: every document stays open once opened; None
    #: (`auto`): per server, from what its initialize answer names it (window.auto_window).
    open_files: int | None = None
    servers: int = 1
    #: Keep running after the first pass, applying every change to the workspace (watch_run.py).
    watch: bool = False


class Runner:
    def __init__(self, options: EnrichOptions, progress: Progress | None = None) -> None:
        self.options = options
        self.progress = progress if progress is not None else make_progress()
        self.config = dataclasses.replace(
            options.proxy, db=options.db, no_db=False, server=tuple(options.server)
        )
        self.files = 0
        self.symbols = 0
        self.symbol_errors = 0
        self.proxy_stats: dict[str, int] = {}
        self.stop = asyncio.Event()
        # One core for every server: one tracker, one writer, one set of counters (pool.py).
        self.core = Core.open(self.config)
        if options.watch:
            # The watch loop applies the name rule itself, with every file's names (files the
            # proxies never read too) and while the monitor is held; a proxy's own rule for a
            # watched file would land after its read, possibly after the loop let go.
            self.core.outcomes.mentions = None
        #: What each file was told as (`--watch` only): the watch loop plans changes from it.
        self.planner: Planner | None = Planner(keep_open=False) if options.watch else None
        read = _read_text if self.planner is None else registering(_read_text, self.planner)
        self.pool = Pool(
            options.servers,
            self._new_connection,
            core=self.core,
            command=" ".join(options.server),
            window=options.open_files,
            jobs=options.jobs,
            read=read,
            delays=RESTART_DELAYS,
            progress=self.progress,
            settle=self._settle,
        )
        self._paths: dict[str, Path] = {}
        self._smallest: Path | None = None

    @property
    def connection(self) -> Pool:
        """What the monitor flushes and watches: every proxy of the run at once."""
        return self.pool

    @property
    def restarts(self) -> int:
        return self.pool.restarts

    def _new_connection(self) -> ProxyConnection:
        # The backstop outlives the proxy's own --timeout so that the proxy's answer wins.
        return ProxyConnection(
            self.config, self.options.workspace, self.options.timeout + 15, core=self.core
        )

    async def revive(self) -> None:
        """A server running again after every one died, or EnrichError."""
        await self.pool.revive()

    def submit(self, uri: str, work: Work) -> asyncio.Future[Any]:
        """Run `work` on a server with `uri`'s document open (see window.py)."""
        path = self._paths.get(uri) or Path(url2pathname(urlsplit(uri).path))
        return self.pool.submit(path, work, uri)

    def unsupported(self, operations: Sequence[str]) -> dict[str, str]:
        """Of `operations`, those the servers cannot answer (capabilities.py); every server of
        the pool runs the same command, so the first one initialized speaks for all."""
        for worker in self.pool.workers:
            connection = worker.connection
            if connection is not None and connection.capabilities is not None:
                return unsupported(connection.capabilities, connection.registered, operations)
        return {}

    def record_unsupported(self, row: Orphan, operation: str, detail: str) -> None:
        """Have the proxy record what a -32601 answer would: an error placeholder."""
        ref = SymbolRef(
            row.symbol, row.uri, row.name, row.line, row.character, row.kind, row.version
        )
        self.core.outcomes.unsupported(ref, operation, detail)

    def failure_state(self, symbol: str, operation: str) -> FailureState | None:
        """The shared tracker's state of the pair (monitor.py: held back by the proxy?)."""
        self.core.drain()  # answers some session has relayed but not recorded yet
        return self.core.tracker.get(symbol, operation)

    async def _settle(self, connection: LspConnection) -> None:
        """Before a server gets its first didOpen: documentSymbol of the smallest file, not
        opened. Servers that apply their configuration after `initialized` (basedpyright asks
        for it with workspace/configuration) answer requests only once configured; a file
        basedpyright saw opened before that is never taken into its program, so once closed
        it is dropped, and every reference from it is missing from then on. The answer is
        recorded like any other (the same one phase 1 gets).

        Then, for a server that lists the workspace's sources before it answers in full
        (pyright's family: servers.LISTS_SOURCES), the end of that listing: a file opened
        before it postpones the listing, and a references answer given meanwhile misses every
        closed file — recorded as current, the graph would lack those edges for good."""
        if self._smallest is not None:
            await connection.document_symbols(self._smallest.as_uri())
        if not await connection.workspace_listed(self.options.timeout):
            self.progress.note(
                f"the server has not said it listed the workspace's sources within"
                f" {self.options.timeout} s; references asked now may miss files not open"
            )

    async def _phase1(self, files: Sequence[Path]) -> None:
        self.progress.files(len(files))
        # The largest files first: the last ones to finish are then small, so no server sits
        # idle at the end while another still lists a big file (sizes read off the loop).
        ordered = await asyncio.to_thread(sorted, files, key=_size, reverse=True)

        async def one(path: Path) -> None:
            while not self.stop.is_set():
                try:
                    done = await self.pool.submit(path, functools.partial(self._outline, path))
                except ServerDied:
                    continue  # asked again on a server that runs (restarted or another)
                if done:
                    self.files += 1
                    self.progress.file_done()
                return

        await asyncio.gather(*(one(path) for path in ordered))

    async def _outline(self, path: Path, connection: LspConnection) -> bool:
        """documentSymbol of one open file; False when the run is stopping (nothing sent)."""
        if self.stop.is_set():
            return False
        try:
            result = await connection.document_symbols(path.as_uri())
        except ServerDied:
            raise
        except Exception:  # an error answer for one file must not stop the run
            self.symbol_errors += 1
            return True
        self.symbols += _count_symbols(result if isinstance(result, list) else [])
        return True

    async def run(self) -> int:
        started = time.monotonic()
        files = list_files(self.options.workspace, self.options.include, self.options.exclude)
        self._paths = {path.as_uri(): path for path in files}
        if files:
            self._smallest = await asyncio.to_thread(min, files, key=_size)
        try:
            await self.pool.start()
        except BaseException:
            await self.core.close()  # a session that started attached the store's writer
            raise
        db: sqlite3.Connection | None = None
        monitor: Monitor | None = None
        interrupted = False
        watch = None
        if self.planner is not None:
            watch = WatchLoop(
                self.options.workspace,
                self.planner,
                pool_servers(self),
                include=self.options.include,
                exclude=self.options.exclude,
                jobs=self.options.jobs,
                progress=self.progress,
            )
            watch.start(self.stop)  # before the first pass: changes meanwhile are not missed
        try:
            await self._phase1(files)
            await self.pool.flush()
            db = queries.connect(self.options.db)
            await forget_gone(self, db, files)
            monitor = (WatchMonitor if watch is not None else Monitor)(
                self,
                db,
                self.options.operations,
                interval=self.options.interval,
                max_wait=self.options.max_wait,
                backoff_base=self.options.backoff_base,
                max_attempts=self.options.max_retries + 1,
                progress=self.progress,
                uri_prefix=self.options.workspace.as_uri() + "/",
            )
            if isinstance(monitor, WatchMonitor) and watch is not None:
                await watch.run(monitor, self.stop)  # until Ctrl-C
            elif not self.stop.is_set():
                await monitor.run(self.stop)
            interrupted = self.stop.is_set()
            if interrupted and monitor is not None:
                await _bounded(monitor.drain(), INTERRUPT_GRACE, monitor)
            await self.pool.flush(need_server=False)  # every server may be gone by now
            self.proxy_stats = await self.pool.stats()
            summary = build_summary(
                db,
                workspace=self.options.workspace,
                operations=monitor.query_operations,
                files=self.files,
                symbols=self.symbols,
                symbol_errors=self.symbol_errors,
                monitor=monitor,
                proxy_stats=self.proxy_stats,
                restarts=self.restarts,
                elapsed=time.monotonic() - started,
                interrupted=interrupted,
                at_fault=self.pool.at_fault(),
            )
            if watch is not None:
                summary["watch"] = watch.stats()
        finally:
            self.progress.close()
            await self.pool.close()
            await self.core.close()  # every session has ended: commit, stop the writer
            if db is not None:
                db.close()
        print_summary(summary, as_json=self.options.json, stream=sys.stdout)
        if interrupted:
            print("lsp-backoff enrich: interrupted; run it again to continue", file=sys.stderr)
            return EXIT_INTERRUPTED
        return exit_status(summary)


async def _bounded(awaitable: Any, seconds: float, monitor: Monitor) -> None:
    try:
        await asyncio.wait_for(awaitable, seconds)
    except TimeoutError:
        await monitor.cancel()


def _read(path: Path) -> str:
    # Undecodable bytes become U+FFFD rather than aborting the run; the proxy reads the same
    # file from disk for keys only when the document is not open, so this text is what counts.
    return path.read_text(encoding="utf-8", errors="replace")


async def _read_text(path: Path) -> str | None:
    """The text for didOpen, read off the event loop (the proxy sessions share it)."""
    try:
        return await asyncio.to_thread(_read, path)
    except OSError:
        return None  # gone since it was listed: the server is asked without it


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


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
