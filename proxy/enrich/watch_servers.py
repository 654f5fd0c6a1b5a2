"""What the watch loop of `enrich --watch` needs from the run's servers (fleet.py), and the
run's bookkeeping around it: the fleet's notify / change / forget / outline / rearm / settled as
the loop's `Servers`; registering each file's first text with the planner; forgetting files
gone from the listing at the start of a run.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from lsp_backoff.proxy.edits import implicit_members
from lsp_backoff.tracker.moves import LineMap
from lsp_backoff.tracker.staleness import SITE_OPERATIONS, STALE_OPERATIONS

from .fleet import Fleet
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


def pool_servers(fleet: Fleet) -> Servers:
    """The run's servers (fleet.py) as the watch loop sees them.

    Every running server gets the notifications. A changed file a window has open (with
    `--open-files 0` every opened file stays open) gets its new text there as a didChange at
    that window's next version; re-listing goes through the windows like the first pass."""

    async def outline(path: Path) -> None:
        await fleet.outline(path)

    def rearm(uri: str, names: frozenset[str]) -> None:
        fleet.rearm(uri, names, STALE_OPERATIONS)

    def translate(uri: str, old: str, new: str, line_map: LineMap, names: frozenset[str]) -> None:
        # Code changed (some name did): answers tied to the code around a kept symbol of the
        # file are asked again; an edit of comments, docstrings or spacing keeps them all.
        redo = SITE_OPERATIONS if names else ()
        members = implicit_members(uri)
        store = fleet.core.store
        store.translate(uri, old, new, line_map, names, STALE_OPERATIONS, redo, members)

    return Servers(
        fleet.notify, outline, fleet.settled, rearm, fleet.change, fleet.forget, translate
    )


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


async def forget_gone(
    fleet: Fleet, db: sqlite3.Connection, files: Sequence[Path], include: tuple[str, ...]
) -> None:
    """Documents of this workspace the graph holds but the listing no longer has leave the
    graph: told to every server's proxy as an editor would tell it (Deleted watched files)."""
    gone = await asyncio.to_thread(gone_documents, db, fleet.workspace, files, include)
    for start in range(0, len(gone), 1000):  # bounded messages, however many are gone
        changes = [{"uri": uri, "type": DELETED} for uri in gone[start : start + 1000]]
        fleet.notify("workspace/didChangeWatchedFiles", {"changes": changes})
    if gone:
        await fleet.settled()
