"""The file watcher of `enrich --watch`: workspace events into a change set, and what changed.

`Watcher` runs watchfiles (Rust `notify` underneath: inotify, FSEvents, …, and its own debounce)
over the workspace and feeds every relevant event into a :class:`ChangeSet`, which coalesces
and bounds them. `resolve` turns a taken batch into what each changed file is *now*: its text,
or gone. It decides with files.py's own listing — the same extension/include/exclude globs, the
same git ignore rules, the same skipped directories as the first pass — restricted to the changed
paths, so a file the first pass would not have opened is not watched into the graph either.

`resolve` lists and reads files: run it in a worker thread (`asyncio.to_thread`), never on the
loop that runs the proxy session. Nothing here speaks LSP or touches the database.
"""

from __future__ import annotations

import asyncio
import bisect
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Collection, Container, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import watchfiles

from lsp_backoff.proxy.documents import content_hash
from lsp_backoff.proxy.mentions import identifiers

from .files import _wanted, list_files
from .watch_changes import Batch, ChangeSet, keep_event

log = logging.getLogger("lsp_backoff.enrich.watch")

#: watchfiles yields once no new event came for STEP_MS, or after DEBOUNCE_MS at the latest.
#: A save is seen within a tenth of a second; a checkout's stream of events within 1.6 s.
DEBOUNCE_MS = 1600
STEP_MS = 100


#: A file's (st_mtime_ns, st_size) when it was read: a full re-listing reads again only the
#: files whose stat differs (git's index does the same).
Stat = tuple[int, int]
#: A file modified this shortly (ns) before it is looked at could change again within the same
#: tick of the file system's clock and keep its stat: such a stat is not kept ("racy git").
RACY_NS = 2_000_000_000


def stat_of(path: Path) -> Stat | None:
    """`path`'s stat, taken before reading it; None when gone or modified too recently to be
    trusted to show a later change."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    if time.time_ns() - st.st_mtime_ns < RACY_NS:
        return None
    return (st.st_mtime_ns, st.st_size)


@dataclass(frozen=True)
class Observed:
    """One changed workspace file as it is now.

    Built where the file is read (a worker thread): its content hash and the names it mentions
    are computed there too, so the planner, which runs on the loop the proxy sessions share,
    only compares them.
    """

    path: Path
    #: Its text; None when it is gone from the listing (deleted, moved away, now ignored).
    text: str | None
    #: Its stat when read (stat_of), None when not to be trusted.
    stat: Stat | None = None
    #: The text's content hash ("" when gone).
    digest: str = field(init=False, default="")
    #: The identifiers the text mentions (proxy/mentions.py; empty when gone).
    names: frozenset[str] = field(init=False, default=frozenset())

    def __post_init__(self) -> None:
        if self.text is not None:
            object.__setattr__(self, "digest", content_hash(self.text))
            object.__setattr__(self, "names", identifiers(self.text))


class Watcher:
    """Feeds workspace events into `changes` until `stop` is set."""

    def __init__(
        self,
        root: Path,
        changes: ChangeSet,
        known: Callable[[], Container[str]] = frozenset,
        *,
        debounce_ms: int = DEBOUNCE_MS,
        step_ms: int = STEP_MS,
        on_events: Callable[[], None] = lambda: None,
    ) -> None:
        self.root = root.resolve()
        self.changes = changes
        #: Called after each group of events is in `changes` (the live progress line).
        self.on_events = on_events
        #: Relative paths of the files enrich knows (keep_event keeps those wherever they are).
        self.known = known
        self.debounce_ms = debounce_ms
        self.step_ms = step_ms
        self._prefix = str(self.root).rstrip("/") + "/"

    def relative(self, path: str) -> str | None:
        if not path.startswith(self._prefix):
            return None  # the root itself, or a path outside it
        return path[len(self._prefix) :]

    def _keep(self, change: watchfiles.Change, path: str) -> bool:
        rel = self.relative(path)
        return rel is not None and keep_event(rel, self.known())

    async def run(self, stop: asyncio.Event) -> None:
        async for events in watchfiles.awatch(
            self.root,
            watch_filter=self._keep,
            stop_event=stop,
            debounce=self.debounce_ms,
            step=self.step_ms,
            recursive=True,
            # A directory we may not read (another user's cache) must not end the watch.
            ignore_permission_denied=True,
        ):
            for _change, path in events:
                rel = self.relative(path)
                if rel is not None:
                    self.changes.add(rel)
            self.on_events()


def resolve(
    root: Path,
    batch: Batch,
    known: Collection[Path],
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    stats: Mapping[Path, Stat] | None = None,
) -> list[Observed]:
    """What each file `batch` touches is now, in path order: every listed file at or below a
    changed path with its text, and every `known` file there that is no longer listed as gone.

    A deleted or moved directory is one event for all its files; `known` files below it count.
    On overflow the whole workspace is listed, and every file read whose stat differs from the
    one in `stats` (the stat when it was last read): a file whose stat is the same is left out
    as unchanged. (Its hash decides later whether a file read really changed.)
    """
    root = root.resolve()
    if batch.overflow:
        listed = list_files(root, include, exclude)
        affected = set(known)
    elif batch.paths:
        listed = list_files(root, include, exclude, under=batch.paths)
        affected = _below(root, batch.paths, known)
    else:
        return []
    found = {path: Observed(path, None) for path in affected}
    for path in listed:
        stat = stat_of(path)  # before the read: a write after it changes the stat again
        if batch.overflow and stat is not None and stats and stats.get(path) == stat:
            found.pop(path, None)  # unchanged since it was read
            continue
        found[path] = Observed(path, _read(path), stat)
    return [found[path] for path in sorted(found)]


def _below(root: Path, changed: Sequence[str], known: Collection[Path]) -> set[Path]:
    """The known files equal to or below any changed path."""
    ordered = sorted(
        path.relative_to(root).as_posix() for path in known if path.is_relative_to(root)
    )
    found: set[Path] = set()
    for rel in changed:
        start = bisect.bisect_left(ordered, rel)
        for name in ordered[start:]:
            if name != rel and not name.startswith(rel + "/"):
                if not name.startswith(rel):
                    break  # sorted: nothing further shares the prefix
                continue  # "a.py" after "a" but not below it
            found.add(root / name)
    return found


def _read(path: Path) -> str | None:
    try:
        # As the first pass reads: undecodable bytes become U+FFFD rather than fail the file.
        return path.read_text(encoding="utf-8", errors="replace")
    except (FileNotFoundError, NotADirectoryError):
        return None  # removed between the listing and the read: gone
    except OSError as exc:
        log.warning("enrich --watch: cannot read %s: %s", path, exc)
        return None


def gone_documents(
    db: sqlite3.Connection,
    root: Path,
    listed: Collection[Path],
    include: Sequence[str] = (),
) -> list[str]:
    """URIs of documents of this workspace the graph holds but the listing no longer has: a
    file deleted or renamed since, or one the rules now leave out (ignored, excluded) although
    its name is a source file's. A file the listing never took (a README an editor opened into
    the same database) is no business of enrich's and stays."""
    root = root.resolve()
    prefix = root.as_uri() + "/"
    listed_uris = {path.as_uri() for path in listed}
    # The `documents` view or table: documents whose content the proxy recorded.
    rows = db.execute(
        "SELECT uri FROM documents WHERE substr(uri, 1, length(?1)) = ?1 ORDER BY uri", (prefix,)
    )
    gone = []
    for (uri,) in rows:
        if uri in listed_uris:
            continue
        path = Path(url2pathname(urlsplit(uri).path))
        rel = path.relative_to(root).as_posix() if path.is_relative_to(root) else ""
        if not path.is_file() or (rel and _wanted(rel, include, ())):
            gone.append(uri)
    return gone
