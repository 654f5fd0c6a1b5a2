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

from .files import list_files
from .fleet import Fleet
from .modules import fill_modules, supported
from .monitor import Monitor
from .pool import EnrichError
from .progress import Progress, make_progress
from .summary import build_summary, exit_status, print_summary
from .watch_plan import Planner
from .watch_run import WatchLoop, WatchMonitor
from .watch_servers import forget_gone, pool_servers, registering

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
    #: Modules as symbols (modules.py) after phase 1, when references are asked.
    modules: bool = False


class Runner:
    """One run: the first pass, the monitor (and the watch loop), the summary, over a fleet."""

    def __init__(self, options: EnrichOptions, progress: Progress | None = None) -> None:
        self.options = options
        self.progress = progress if progress is not None else make_progress()
        self.config = dataclasses.replace(
            options.proxy, db=options.db, no_db=False, server=tuple(options.server)
        )
        self.modules: dict[str, int] = {}  # --modules: symbols recorded, requests asked
        self.proxy_stats: dict[str, int] = {}
        #: What each file was told as (`--watch` only): the watch loop plans changes from it.
        self.planner: Planner | None = Planner(keep_open=False) if options.watch else None
        read = _read_text if self.planner is None else registering(_read_text, self.planner)
        self.fleet = Fleet(
            self.config,
            options.workspace,
            servers=options.servers,
            window=options.open_files,
            jobs=options.jobs,
            read=read,
            delays=RESTART_DELAYS,
            progress=self.progress,
            timeout=options.timeout,
            # The watch loop applies the name rule itself, with every file's names (files the
            # proxies never read too) and while the monitor is held; a proxy's own rule for a
            # watched file would land after its read, possibly after the loop let go.
            names=not options.watch,
        )
        self.stop = self.fleet.stop
        self.pool = self.fleet.pool
        self.core = self.fleet.core

    @property
    def files(self) -> int:
        return self.fleet.files

    @property
    def symbols(self) -> int:
        return self.fleet.symbols

    @property
    def restarts(self) -> int:
        return self.pool.restarts

    async def _phase1(self, files: Sequence[Path]) -> None:
        self.progress.files(len(files))
        # The largest files first: the last ones to finish are then small, so no server sits
        # idle at the end while another still lists a big file (sizes read off the loop).
        ordered = await asyncio.to_thread(sorted, files, key=_size, reverse=True)

        async def one(path: Path) -> None:
            if await self.fleet.outline(path):
                self.fleet.files += 1
                self.progress.file_done()

        await asyncio.gather(*(one(path) for path in ordered))

    async def _modules(self, files: list[Path]) -> None:
        """Modules as symbols (modules.py) with --modules, for the servers that answer
        references at a module name in an import statement, when references are asked."""
        if not self.options.modules or "references" not in self.options.operations:
            return
        if self.stop.is_set():
            return
        if not any(w.connection is not None and supported(w.connection) for w in self.pool.workers):
            return
        counts = await fill_modules(
            self.options.workspace, files, _read_text, self.fleet.submit, self.core.outcomes.sink
        )
        self.modules = {"symbols": counts.modules, "requests": counts.requests}

    async def run(self) -> int:
        started = time.monotonic()
        files = list_files(self.options.workspace, self.options.include, self.options.exclude)
        self.fleet.paths = {path.as_uri(): path for path in files}
        if files:
            self.fleet.smallest = await asyncio.to_thread(min, files, key=_size)
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
                pool_servers(self.fleet),
                include=self.options.include,
                exclude=self.options.exclude,
                jobs=self.options.jobs,
                progress=self.progress,
            )
            watch.start(self.stop)  # before the first pass: changes meanwhile are not missed
        try:
            await self._phase1(files)
            await self._modules(files)
            await self.fleet.settled()
            db = queries.connect(self.options.db)
            await forget_gone(self.fleet, db, files, self.options.include)
            monitor = (WatchMonitor if watch is not None else Monitor)(
                self.fleet,
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
            await self.fleet.settled(need_server=False)  # every server may be gone by now
            self.proxy_stats = await self.pool.stats()
            summary = build_summary(
                db,
                workspace=self.options.workspace,
                operations=monitor.query_operations,
                files=self.files,
                symbols=self.symbols,
                symbol_errors=self.fleet.symbol_errors,
                monitor=monitor,
                proxy_stats=self.proxy_stats,
                restarts=self.restarts,
                elapsed=time.monotonic() - started,
                interrupted=interrupted,
                at_fault=self.pool.at_fault(),
            )
            if self.modules:
                summary["modules"] = self.modules  # modules.py: symbols recorded, requests
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
