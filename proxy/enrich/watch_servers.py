"""What the watch loop of `enrich --watch` needs from the run's pool of servers (pool.py,
window.py), and the run's bookkeeping around it: telling every running server, giving a changed
file's new text to windows that have it open, closing a gone file where it is open, listing
symbols again through the windows, re-arming through one proxy's store; registering each file's
first text with the planner; forgetting files gone from the listing at the start of a run.
"""

from __future__ import annotations

import asyncio
import functools
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from lsp_backoff.proxy.edits import implicit_members
from lsp_backoff.tracker.moves import LineMap
from lsp_backoff.tracker.staleness import SITE_OPERATIONS, STALE_OPERATIONS

from .client import ServerDied
from .watch import Observed, gone_documents, stat_of
from .watch_plan import DELETED, Planner
from .window import Reader


class Servers:
    """What the loop needs from the run: tell the servers, list symbols, reach the graph."""

    def __init__(
        self,
        notify: Callable[[str, dict[str, Any]], None],
        outline: Callable[[Path], Awaitable[None]],
        flush: Callable[[], Awaitable[Any]],
        rearm: Callable[[str, frozenset[str]], None],
        changed: Callable[[Path, str], None] = lambda path, text: None,
        gone: Callable[[Path], None] = lambda path: None,
        translate: Callable[[str, str, str, LineMap, frozenset[str]], None] | None = None,
    ) -> None:
        self.notify, self.outline, self.flush, self.rearm = notify, outline, flush, rearm
        #: A file's new text, for servers that have it open (the planner's didChange is for
        #: files it keeps open itself; a pool's windows open and close files on their own).
        self.changed = changed
        #: A file left the workspace: servers that have it open close it.
        self.gone = gone
        self._translate = translate

    def translate(
        self, uri: str, old: str, new: str, line_map: LineMap, names: frozenset[str]
    ) -> None:
        """`uri` changed from content `old` to `new` through `line_map`, adding or removing
        `names` (GraphStore.translate); where the graph cannot be reached this way, the rules
        run as for any change, with the edit's names."""
        if self._translate is not None:
            self._translate(uri, old, new, line_map, names)
        else:
            self.rearm(uri, names)


def pool_servers(runner: Any) -> Servers:
    """The servers of `runner`'s pool (pool.py, window.py) as the watch loop sees them.

    Every running server gets the notifications. A changed file a window has open (with
    `--open-files 0` every opened file stays open) gets its new text there as a didChange at
    that window's next version; re-listing goes through the windows like the first pass."""
    pool = runner.pool

    def live() -> list[Any]:
        return [w.connection for w in pool.workers if w.alive and w.connection is not None]

    def notify(method: str, params: dict[str, Any]) -> None:
        for connection in live():
            connection.notify(method, params)

    def changed(path: Path, text: str) -> None:
        uri = path.as_uri()
        for worker in pool.workers:
            window, connection = worker.window, worker.connection
            doc = window.open.get(uri)
            if doc is None or not doc.sent or connection is None or not worker.alive:
                continue
            version = window.versions[uri] = window.versions.get(uri, 0) + 1
            params = {"textDocument": {"uri": uri, "version": version}}
            connection.notify(
                "textDocument/didChange", {**params, "contentChanges": [{"text": text}]}
            )

    def gone(path: Path) -> None:
        uri = path.as_uri()
        for worker in pool.workers:
            if worker.alive and worker.connection is not None:
                worker.window.forget(worker.connection, uri)

    async def outline(path: Path) -> None:
        while not runner.stop.is_set():
            try:
                await pool.submit(path, functools.partial(runner._outline, path))
                return
            except ServerDied:
                continue  # asked again on a server that runs (restarted or another)

    def rearm(uri: str, names: frozenset[str]) -> None:
        # Every session's core writes the same file; one of them applies the rules.
        connections = live()
        if connections:
            connections[0].core.store.rearm(uri, names, STALE_OPERATIONS)

    def translate(uri: str, old: str, new: str, line_map: LineMap, names: frozenset[str]) -> None:
        # Code changed (some name did): answers tied to the code around a kept symbol of the
        # file are asked again; an edit of comments, docstrings or spacing keeps them all.
        redo = SITE_OPERATIONS if names else ()
        members = implicit_members(uri)
        store = pool.core.store
        store.translate(uri, old, new, line_map, names, STALE_OPERATIONS, redo, members)

    return Servers(notify, outline, pool.flush, rearm, changed, gone, translate)


def registering(read: Reader, planner: Planner) -> Reader:
    """`read` (the windows' reader for didOpen) that also tells the planner each file's text
    the first time the servers get it: later texts are the watch loop's to compare."""

    async def read_and_register(path: Path) -> str | None:
        first = path not in planner.files
        stat = await asyncio.to_thread(stat_of, path) if first else None  # before the read
        text = await read(path)
        if text is not None and first:
            item = await asyncio.to_thread(Observed, path, text, stat)  # hashed off the loop
            if path not in planner.files:
                planner.seen_as(item, is_open=False)
        return text

    return read_and_register


async def forget_gone(runner: Any, db: sqlite3.Connection, files: Sequence[Path]) -> None:
    """Documents of this workspace the graph holds but the listing no longer has leave the
    graph: told to every server's proxy as an editor would tell it (Deleted watched files)."""
    root, include = runner.options.workspace, runner.options.include
    gone = await asyncio.to_thread(gone_documents, db, root, files, include)
    servers = pool_servers(runner)
    for start in range(0, len(gone), 1000):  # bounded messages, however many are gone
        changes = [{"uri": uri, "type": DELETED} for uri in gone[start : start + 1000]]
        servers.notify("workspace/didChangeWatchedFiles", {"changes": changes})
    if gone:
        await runner.pool.flush()
