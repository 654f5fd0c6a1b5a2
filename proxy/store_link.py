"""The core's link to the graph store: opened off the event loop, fed without waiting.

The database location may depend on the workspace, known only once ``initialize`` arrives,
and opening it is disk I/O: both happen in a worker thread while the relay goes on. Writes
made before the store is open are held (bounded) and replayed; failure state read back from
the database is handed to the tracker, so a restarted proxy keeps backing off.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable, Collection
from typing import Any
from urllib.parse import unquote, urlparse

from lsp_backoff.proxy.config import DB_ENV, ProxyConfig
from lsp_backoff.tracker.errors import LspBackoffError
from lsp_backoff.tracker.failures import FailureTracker
from lsp_backoff.tracker.model import FailureState, SymbolRef, Target
from lsp_backoff.tracker.moves import Edited, LineMap
from lsp_backoff.tracker.store import GraphStore

log = logging.getLogger("lsp_backoff.store")

MAX_HELD = 10_000
#: A write made before the store is open: replayed on it once it is.
_Held = Callable[[GraphStore], None]


def workspace_of(params: dict[str, Any]) -> str | None:
    """The workspace folder an ``initialize`` names (first folder, rootUri, rootPath)."""
    folders = params.get("workspaceFolders")
    uri = None
    if isinstance(folders, list) and folders and isinstance(folders[0], dict):
        uri = folders[0].get("uri")
    uri = uri if isinstance(uri, str) else params.get("rootUri")
    if isinstance(uri, str) and uri.startswith("file:"):
        return unquote(urlparse(uri).path)
    root = params.get("rootPath")
    return root if isinstance(root, str) else None


class StoreLink:
    def __init__(self, config: ProxyConfig, tracker: FailureTracker) -> None:
        self.config = config
        self.tracker = tracker
        self.store: GraphStore | None = None
        self._held: list[_Held] = []
        self._opening: asyncio.Future[Any] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._dropped = 0
        self._rewrite: set[tuple[str, str]] = set()

    # -- lifecycle ---------------------------------------------------------------------
    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Idempotent: every session on a shared core starts it; the first one counts."""
        if self._loop is not None:
            return
        self._loop = loop
        if config_knows_path(self.config):
            self._open(None)

    def on_initialize(self, params: dict[str, Any]) -> None:
        if self._opening is None:
            self._open(workspace_of(params))

    def _open(self, workspace: str | None) -> None:
        assert self._loop is not None
        path = self.config.database_path(workspace)
        opening = asyncio.ensure_future(self._loop.run_in_executor(None, self._open_blocking, path))
        opening.add_done_callback(self._opened)
        self._opening = opening

    def _open_blocking(self, path: str | None) -> tuple[GraphStore, list[Any]]:
        store = GraphStore(path)
        try:
            store.start()
            # The failure states arrive once the file opens: at once, or after another
            # process's lock or migration (the store retries and logs why).
            return store, []
        except (LspBackoffError, OSError, sqlite3.Error) as exc:
            # The relay must go on: without a usable file we keep the graph in memory.
            log.error("cannot use database %s (%s): keeping the graph in memory", path, exc)
            store.close()
            store = GraphStore(None)
            store.start()
            return store, []

    def _opened(self, future: asyncio.Future[Any]) -> None:
        if future.cancelled():
            return
        if future.exception() is not None:
            log.error("opening the database failed: %s", future.exception())
            return
        store, states = future.result()
        self.tracker.restore(states)
        self.store = store
        store.load_failures_later(self._restore_soon)
        held, self._held = self._held, []
        for write in held:
            write(store)

    def _restore_soon(self, states: list[Any]) -> None:
        """On the writer thread: hand the states to the loop (gone if the proxy ended)."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._restore, states)

    def _restore(self, states: list[Any]) -> None:
        self.tracker.restore(states)
        log.debug("restored %d failure states from the database", len(states))
        rewrite, self._rewrite = self._rewrite, set()
        for symbol, operation in rewrite:
            state = self.tracker.get(symbol, operation)
            if state is not None and self.store is not None:
                self.store.put_failure(state)

    async def flush(self, timeout: float = 10.0) -> bool:
        if self._opening is not None:
            # A failed open was logged already; there is nothing to flush then.
            await asyncio.gather(asyncio.shield(self._opening), return_exceptions=True)
        if self.store is None:
            return True
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self.store.flush, timeout)

    async def close(self) -> None:
        if self._opening is not None and not self._opening.done():
            await asyncio.gather(asyncio.shield(self._opening), return_exceptions=True)
        if self.store is not None:
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, self.store.close)

    # -- the sink (outcomes.Sink): straight to the store, held until it is open ----------
    def put_document(self, uri: str, version: str) -> None:
        if self.store is not None:
            self.store.put_document(uri, version)
        else:
            self._hold(lambda store: store.put_document(uri, version))

    def put_symbols(self, symbols: list[SymbolRef], source: str) -> None:
        if self.store is not None:
            self.store.put_symbols(symbols, source)
        else:
            self._hold(lambda store: store.put_symbols(symbols, source))

    def put_edges(
        self, symbol: SymbolRef, operation: str, targets: Callable[[], list[Target]]
    ) -> None:
        if self.store is not None:
            self.store.put_edges(symbol, operation, targets)
        else:
            self._hold(lambda store: store.put_edges(symbol, operation, targets))

    def put_placeholder(
        self, symbol: SymbolRef, operation: str, kind: str, detail: str = ""
    ) -> None:
        if self.store is not None:
            self.store.put_placeholder(symbol, operation, kind, detail)
        else:
            self._hold(lambda store: store.put_placeholder(symbol, operation, kind, detail))

    def put_failure(self, state: FailureState) -> None:
        if self.store is not None:
            self.store.put_failure(state)
        else:
            self._hold(lambda store: self._replay_failure(store, state))

    def clear_failure(self, symbol: str, operation: str) -> None:
        if self.store is not None:
            self.store.clear_failure(symbol, operation)
        else:
            self._hold(lambda store: store.clear_failure(symbol, operation))

    def withdraw_placeholder(
        self, symbol: str, operation: str, kind: str, detail_prefix: str
    ) -> None:
        if self.store is not None:
            self.store.withdraw_placeholder(symbol, operation, kind, detail_prefix)
        else:
            self._hold(
                lambda store: store.withdraw_placeholder(symbol, operation, kind, detail_prefix)
            )

    def forget_document(self, uri: str) -> None:
        if self.store is not None:
            self.store.forget_document(uri)
        else:
            self._hold(lambda store: store.forget_document(uri))

    def rearm(
        self,
        uri: str,
        names: Collection[str] | Callable[[], Collection[str] | Edited | None],
        operations: Collection[str],
    ) -> None:
        if self.store is not None:
            self.store.rearm(uri, names, operations)
        else:
            self._hold(lambda store: store.rearm(uri, names, operations))

    def translate(
        self,
        uri: str,
        old: str,
        new: str,
        line_map: LineMap,
        names: Collection[str],
        operations: Collection[str],
        redo: Collection[str] = (),
        members: Collection[str] = (),
    ) -> None:
        args = (uri, old, new, line_map, names, operations, redo, members)
        if self.store is not None:
            self.store.translate(*args)
        else:
            self._hold(lambda store: store.translate(*args))

    def _replay_failure(self, store: GraphStore, state: FailureState) -> None:
        # Decided before the stored states arrived: written now, and again once they are
        # merged (_restore), so the file keeps whichever state knows more.
        current = self.tracker.get(state.symbol, state.operation)
        if current is not None:
            store.put_failure(current)
            self._rewrite.add((state.symbol, state.operation))

    def _hold(self, write: _Held) -> None:
        if len(self._held) < MAX_HELD:
            self._held.append(write)
            return
        self._dropped += 1
        if self._dropped == 1:
            log.warning("database not open yet: dropping graph writes")


def config_knows_path(config: ProxyConfig) -> bool:
    """True when the database location does not wait for the workspace."""
    import os

    return config.no_db or bool(config.db) or bool(os.environ.get(DB_ENV))
