"""Work grouped by document, and each server's window of open documents (`--open-files`).

Every question enrich asks is about one document. Work waits in a :class:`DocumentQueue`, by
document, shared by every server of the pool. A server's :class:`Window` takes the document
with the most work waiting, opens it (didOpen) and starts its work with at most `jobs` requests
in flight. It takes another document only when the open ones have nothing left to start, and
never has more than `size` open at once: servers that check every open file (basedpyright
publishes diagnostics for each) do that for a few files at a time instead of the whole
workspace, and servers that answer only for open documents (clangd) get every question with
its document open. didOpen version numbers increase per document and server, across re-opens.

A document whose work is done stays open until its slot is needed for another document that
waits; then the one idle longest is closed (didClose). Later work on it goes to the window that
has it open when that one has a request slot free, else to whichever window takes it first: a
busy server's open documents never hold work back from an idle one (with `size` 0 one server
would otherwise keep, after phase 1, most of the workspace's questions to itself). Every
didOpen and didClose is a change to the server's program: basedpyright
cancels its analysis and starts it again 250 ms later, and an empty answer that arrives while
that analysis runs is tentative to the proxy (the server says it is busy), so it is asked again
after --backoff-base — 5 s that were the whole difference between a one-server run on
`examples/` and a direct connection. Not closing what nothing else needs keeps phase 1's files
open for phase 2 and a workspace no larger than the window opened once.

`size` 0: a document opened stays open — what `--open-files auto` gives the servers in
proxy/servers.py marks `open_all`, and the behaviour before the window.

This module sends didOpen, didChange (a file changed under `enrich --watch`) and didClose and
nothing else, and owns each document's version numbers; what the work asks is the caller's.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsp_backoff.proxy.servers import named
from lsp_backoff.tracker.errors import LspBackoffError

from .client import LspConnection

#: The window when `--open-files auto` (the default) meets a server whose entry in
#: proxy/servers.py is not `open_all`: clangd, whose open documents each keep a parsed
#: preamble, and any server not measured.
DEFAULT_OPEN_FILES = 8


def auto_window(server_info: Any) -> int:
    """The window `--open-files auto` gives a server whose initialize answer carried
    `server_info` (its serverInfo: {"name", "version"}; anything else when it sent none)."""
    return 0 if named(server_info).open_all else DEFAULT_OPEN_FILES


#: One piece of work: it gets the connection of the server whose window has its document open.
Work = Callable[[LspConnection], Awaitable[Any]]
#: Reads a document's text for didOpen (off the event loop); None when it cannot be read.
Reader = Callable[[Path], Awaitable[str | None]]


class NoServerLeft(LspBackoffError):
    """Every server of the pool is gone for good: queued work can never run."""


@dataclass(eq=False)
class _Item:
    uri: str
    path: Path
    work: Work
    future: asyncio.Future[Any]


@dataclass(eq=False)
class _Open:
    """A document open on one server: its work not started yet, and how much is running."""

    waiting: deque[_Item] = field(default_factory=deque)
    running: int = 0
    #: False when its file could not be read: nothing was sent, so nothing is closed.
    sent: bool = True


class DocumentQueue:
    """Work not started yet, by document, shared by every server's window.

    A document is held by at most one window at a time; work submitted for a held document
    goes straight to that window, so one didOpen serves all of it.
    """

    def __init__(self) -> None:
        self.waiting: dict[str, deque[_Item]] = {}
        self._holders: dict[str, Window] = {}
        self._windows: list[Window] = []
        # (-items waiting, first come, uri): the most work first (its server stays busy
        # longest), then first come. Pushed again whenever a document's work grows.
        self._heap: list[tuple[int, int, str]] = []
        self._order = itertools.count()
        self._first: dict[str, int] = {}
        self._failed: BaseException | None = None
        self.changed = asyncio.Event()

    def attach(self, window: Window) -> None:
        self._windows.append(window)

    def submit(self, uri: str, path: Path, work: Work) -> asyncio.Future[Any]:
        """Queue `work` on `uri`'s document (file `path`); the future gets what it returns."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if self._failed is not None:
            future.set_exception(self._failed)
            return future
        item = _Item(uri, path, work, future)
        holder = self._holders.get(uri) or self._keeping(uri)
        if holder is not None:
            holder.add(item)
            return future
        self._put(uri, [item], front=False)
        return future

    def _keeping(self, uri: str) -> Window | None:
        """A window that has `uri` open with nothing to do on it, and a request slot free
        (counting the work it was given and has not started): it takes the work without
        another didOpen. Otherwise the work waits for any window
        (a busy server's open documents do not hold work back from an idle one)."""
        for window in self._windows:
            if uri in window.open and window.running + window.queued < window.jobs:
                self._holders[uri] = window
                return window
        return None

    def _put(self, uri: str, items: list[_Item], *, front: bool) -> None:
        queued = self.waiting.get(uri)
        if queued is None:
            queued = self.waiting[uri] = deque()
            self._first[uri] = next(self._order)
        if front:
            queued.extendleft(reversed(items))
        else:
            queued.extend(items)
        # One entry per growth: the one with the current length is the valid one.
        heapq.heappush(self._heap, (-len(queued), self._first[uri], uri))
        self.changed.set()
        for window in self._windows:
            window.wake()

    def take(self, window: Window) -> tuple[str, deque[_Item]] | None:
        """The waiting document with the most work, now held by `window`; None if none."""
        while self._heap:
            size, _, uri = heapq.heappop(self._heap)
            queued = self.waiting.get(uri)
            if queued is None or len(queued) != -size:
                continue  # taken already, or an entry from before the document's work grew
            del self.waiting[uri]
            del self._first[uri]
            if not self.waiting:
                self.changed.clear()
            self._holders[uri] = window
            return uri, queued
        return None

    def release(self, uri: str, window: Window) -> None:
        if self._holders.get(uri) is window:
            del self._holders[uri]

    def give_back(self, uri: str, window: Window, items: list[_Item]) -> None:
        """A window lost its server: its unstarted work on `uri` waits for another one."""
        self.release(uri, window)
        if items:
            self._put(uri, items, front=True)

    def fail(self, reason: BaseException) -> None:
        """No server will ever take the waiting work: it fails, and so does later work."""
        self._failed = reason
        waiting, self.waiting = self.waiting, {}
        self._heap.clear()
        self._first.clear()
        for items in waiting.values():
            for item in items:
                if not item.future.done():
                    item.future.set_exception(reason)


class Window:
    """One server's open documents and the work running on it."""

    def __init__(self, queue: DocumentQueue, *, size: int, jobs: int, read: Reader) -> None:
        self.queue = queue
        self.size = size
        self.jobs = jobs
        self.read = read
        self.open: dict[str, _Open] = {}
        #: Documents with work not started yet, oldest open first (an ordered set).
        self._ready: dict[str, None] = {}
        #: Open documents with no work left, the longest idle first (an ordered set).
        self._idle: dict[str, None] = {}
        self.versions: dict[str, int] = {}
        self.running = 0
        #: Work given to this window and not started yet (on its open documents).
        self.queued = 0
        #: The most documents this window had open at once (the benchmark reports it).
        self.peak = 0
        self._wake = asyncio.Event()
        queue.attach(self)

    def wake(self) -> None:
        self._wake.set()

    def add(self, item: _Item) -> None:
        """Work for a document this window holds."""
        self.open[item.uri].waiting.append(item)
        self.queued += 1
        self._ready[item.uri] = None
        self._idle.pop(item.uri, None)
        self.wake()

    async def pump(self, connection: LspConnection) -> None:
        """Start work on `connection` until the server is gone; its unstarted work (and the
        documents it held) then go back to the queue for whichever server takes them next."""
        died = asyncio.ensure_future(connection.exited.wait())
        died.add_done_callback(lambda _: self.wake())
        try:
            while not connection.exited.is_set():
                if self.running < self.jobs:
                    item = self._next()
                    if item is not None:
                        self._start(item, connection)
                        continue
                    if self.size == 0 or len(self.open) < self.size or self._evict(connection):
                        taken = self.queue.take(self)
                        if taken is not None:
                            await self._open(connection, *taken)
                            continue
                self._wake.clear()
                await self._wake.wait()
        finally:
            died.cancel()
            self._lost()

    def _next(self) -> _Item | None:
        while self._ready:
            uri = next(iter(self._ready))
            doc = self.open.get(uri)
            if doc is not None and doc.waiting:
                item = doc.waiting.popleft()
                self.queued -= 1
                if not doc.waiting:
                    del self._ready[uri]
                return item
            del self._ready[uri]
        return None

    async def _open(self, connection: LspConnection, uri: str, items: deque[_Item]) -> None:
        kept = self.open.get(uri)
        if kept is not None:  # still open here from earlier work: no second didOpen
            kept.waiting.extend(items)
            self.queued += len(items)
            self._ready[uri] = None
            self._idle.pop(uri, None)
            return
        doc = self.open[uri] = _Open(items)
        self.queued += len(items)
        self._ready[uri] = None
        self.peak = max(self.peak, len(self.open))
        text = await self.read(items[0].path)
        if text is None:
            doc.sent = False  # the server is asked anyway: its answer says what it knows
            return
        version = self.versions[uri] = self.versions.get(uri, 0) + 1
        connection.open(items[0].path, text, version)

    def _start(self, item: _Item, connection: LspConnection) -> None:
        doc = self.open[item.uri]
        doc.running += 1
        self.running += 1
        task = asyncio.ensure_future(item.work(connection))
        task.add_done_callback(lambda done: self._finished(item, doc, connection, done))

    def _finished(
        self, item: _Item, doc: _Open, connection: LspConnection, done: asyncio.Future[Any]
    ) -> None:
        if not item.future.done():
            if done.cancelled():
                item.future.cancel()
            elif done.exception() is not None:
                item.future.set_exception(done.exception())  # type: ignore[arg-type]
            else:
                item.future.set_result(done.result())
        self.running -= 1
        doc.running -= 1
        # The document may be gone from this window already (its server died).
        if self.open.get(item.uri) is doc and not doc.waiting and doc.running == 0:
            # Idle: it stays open here, but later work on it may go to another server when
            # this one is busy (DocumentQueue._keeping); a bounded window closes it when its
            # slot is needed.
            self._idle[item.uri] = None
            self.queue.release(item.uri, self)
        self.wake()

    def _evict(self, connection: LspConnection) -> bool:
        """Close the longest idle document when another one waits for its slot."""
        if not self._idle or not self.queue.waiting:
            return False
        uri = next(iter(self._idle))
        self._close(connection, uri, self.open[uri])
        return True

    def change(self, connection: LspConnection, uri: str, text: str) -> None:
        """`uri`'s file has new text (enrich --watch): if this window has it open, the server
        gets it as a didChange at the document's next version."""
        doc = self.open.get(uri)
        if doc is None or not doc.sent:
            return
        version = self.versions[uri] = self.versions.get(uri, 0) + 1
        connection.change(uri, version, text)

    def forget(self, connection: LspConnection, uri: str) -> None:
        """`uri`'s file left the workspace (enrich --watch): close it now if nothing is waiting
        or running on it — an open document outlives its file in the server, which would go
        on answering from it (references into a deleted file)."""
        doc = self.open.get(uri)
        if doc is not None and not doc.waiting and doc.running == 0:
            self._close(connection, uri, doc)

    def _close(self, connection: LspConnection, uri: str, doc: _Open) -> None:
        del self.open[uri]
        self._ready.pop(uri, None)
        self._idle.pop(uri, None)
        self.queue.release(uri, self)
        if doc.sent:
            connection.close_document(uri)

    def _lost(self) -> None:
        open_docs, self.open = self.open, {}
        self._ready.clear()
        self._idle.clear()
        self.queued = 0
        for uri, doc in open_docs.items():
            self.queue.give_back(uri, self, list(doc.waiting))
