"""The language servers of one `lsp-backoff enrich` run, as the rest of the run sees them.

A :class:`Fleet` is the one object the first pass, the monitor (its ``Session``, asking.py)
and watch mode (watch_servers.py) talk to: it owns the run's shared :class:`proxy.core.Core`
and its :class:`pool.Pool` of servers and windows, and offers what they need of them —

- ``submit``: work on a server that has the document open (window.py);
- ``outline``: a file's symbols listed through the windows, asked again on a server that runs
  after a death, counted for the summary;
- ``change`` / ``forget``: a file's new text, or its leaving the workspace, told to each server
  that has it open (the window bumps its own version);
- ``notify``: a notification to every running server;
- ``rearm``: the cross-file rule for one file, through the core's sink like any recording;
- ``settled``: every recording so far, by every session, committed (what ``lspBackoff/flush``
  answers for one session);
- the monitor's questions to the proxy's tracker (``failure_state``, ``unsupported``,
  ``record_unsupported``) and ``revive``.

It decides no schedule (monitor.py), plans no change (watch_plan.py) and starts no run
(runner.py). What is known per server is proxy/servers.py's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

from lsp_backoff.proxy.config import ProxyConfig
from lsp_backoff.proxy.core import Core
from lsp_backoff.tracker.model import FailureState, SymbolRef
from lsp_backoff.tracker.orphans import Orphan

from .capabilities import unsupported
from .client import LspConnection, ProxyConnection, ServerDied
from .pool import Pool
from .progress import Progress
from .window import Reader, Work

#: How much longer than the proxy's own --timeout a request may take before the client gives
#: up on it: the proxy's answer (-32803) must win.
BACKSTOP = 15.0


class Fleet:
    def __init__(
        self,
        config: ProxyConfig,
        workspace: Path,
        *,
        servers: int,
        window: int | None,
        jobs: int,
        read: Reader,
        delays: Sequence[float],
        progress: Progress,
        timeout: float,
        names: bool = True,
    ) -> None:
        """``names`` False: the proxies leave the name rule across files to the caller
        (``enrich --watch`` applies it itself, from every file's names)."""
        self.config = config
        self.workspace = workspace
        self.progress = progress
        self.timeout = timeout
        self.stop = asyncio.Event()
        # One core for every server: one tracker, one writer, one set of counters (pool.py).
        self.core = Core.open(config, names=names)
        self.pool = Pool(
            servers,
            self._new_connection,
            core=self.core,
            command=" ".join(config.server),
            window=window,
            jobs=jobs,
            read=read,
            delays=delays,
            progress=progress,
            settle=self._settle,
        )
        #: Files whose symbols were listed, symbols counted, and listings answered with an error.
        self.files = 0
        self.symbols = 0
        self.symbol_errors = 0
        self.paths: dict[str, Path] = {}
        #: The file listed before any is opened (see _settle).
        self.smallest: Path | None = None

    def _new_connection(self) -> ProxyConnection:
        return ProxyConnection(self.config, self.workspace, self.timeout + BACKSTOP, core=self.core)

    @property
    def connection(self) -> Pool:
        """What the monitor flushes and watches: every proxy of the run at once."""
        return self.pool

    def live(self) -> list[ProxyConnection]:
        return [w.connection for w in self.pool.workers if w.alive and w.connection is not None]

    async def revive(self) -> None:
        """A server running again after every one died, or EnrichError."""
        await self.pool.revive()

    def submit(self, uri: str, work: Work) -> asyncio.Future[Any]:
        """Run `work` on a server with `uri`'s document open (see window.py)."""
        path = self.paths.get(uri) or Path(url2pathname(urlsplit(uri).path))
        return self.pool.submit(path, work, uri)

    async def outline(self, path: Path) -> bool:
        """documentSymbol of `path` on a server that has it open, asked again on a server that
        runs after a death; False when the run stopped first (nothing counted)."""
        while not self.stop.is_set():
            try:
                done: bool = await self.pool.submit(path, lambda conn: self._outline(path, conn))
            except ServerDied:
                continue  # asked again on a server that runs (restarted or another)
            return done
        return False

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

    def notify(self, method: str, params: dict[str, Any]) -> None:
        """A notification to every running server."""
        for connection in self.live():
            connection.notify(method, params)

    def change(self, path: Path, text: str) -> None:
        """`path`'s new text, to every server whose window has it open (a didChange there)."""
        uri = path.as_uri()
        for worker in self.pool.workers:
            if worker.alive and worker.connection is not None:
                worker.window.change(worker.connection, uri, text)

    def forget(self, path: Path) -> None:
        """`path` left the workspace: every server that has it open closes it."""
        uri = path.as_uri()
        for worker in self.pool.workers:
            if worker.alive and worker.connection is not None:
                worker.window.forget(worker.connection, uri)

    def rearm(self, uri: str, names: Collection[str], operations: Collection[str]) -> None:
        """The name rule for `uri` (tracker/staleness.py), recorded like the proxies' writes."""
        self.core.sink.rearm(uri, names, operations)

    async def settled(self, *, need_server: bool = True) -> bool:
        """True once everything recorded so far, by every session, is committed (Pool.flush:
        ServerDied when `need_server` and no server runs)."""
        return await self.pool.flush(need_server=need_server)

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
        if self.smallest is not None:
            await connection.document_symbols(self.smallest.as_uri())
        if not await connection.workspace_listed(self.timeout):
            self.progress.note(
                f"the server has not said it listed the workspace's sources within"
                f" {self.timeout} s; references asked now may miss files not open"
            )

    async def close(self) -> None:
        """Stop every server, then the core (commit, stop the writer)."""
        try:
            await self.pool.close()
        finally:
            await self.core.close()


def _count_symbols(result: Sequence[Any]) -> int:
    """DocumentSymbol trees count every node; flat SymbolInformation lists count each entry."""
    total = 0
    for entry in result:
        children = entry.get("children") if isinstance(entry, dict) else None
        total += 1 + _count_symbols(children if isinstance(children, list) else [])
    return total


__all__ = ["BACKSTOP", "Fleet"]
