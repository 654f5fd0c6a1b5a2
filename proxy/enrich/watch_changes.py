"""What `enrich --watch` has seen change and not acted on yet: a bounded, coalescing set of paths.

File events come in bursts — a branch switch, a formatter over the tree, `git stash` — and one
file often changes several times within one. A path is kept once however often it changed, and
what the file *is* gets looked up only when the set is taken (watch.py's `resolve`), so neither
the order nor the kind of the events matters and a file changed ten times costs one look.

Bounded: past `limit` distinct paths the set stops keeping paths and says `overflow` instead;
the taker then re-lists the whole workspace — one listing, never a queue that grows with the
burst. A change of a `.gitignore` is an overflow too: it can change which files are listed.
While the taker works on one batch, new events gather here (coalescing again), so a watcher
faster than the servers never piles up work.

Also the filter deciding which raw events are worth keeping (`keep_event`): cheap string tests
only, because watchfiles applies it on the event loop that also runs the proxy session.
Pure data otherwise: no I/O, no clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import Container
from dataclasses import dataclass

from .files import _skipped_dir

#: Distinct paths kept before the set gives up on paths and asks for a full re-listing. A git
#: checkout of a large branch passes it; a formatter over a mid-sized project does not.
DEFAULT_LIMIT = 2000
#: Files whose change can change the listing itself (files.py lists with git's ignore rules).
RULE_FILES = frozenset({".gitignore"})


@dataclass(frozen=True)
class Batch:
    """One take of the change set."""

    #: Relative POSIX paths (files or directories) in first-seen order; empty on overflow.
    paths: tuple[str, ...]
    #: Too many paths to keep, or the listing rules changed: re-list the whole workspace.
    overflow: bool
    #: Raw events absorbed into this batch (a file saved three times counts three).
    events: int

    def __bool__(self) -> bool:
        return bool(self.paths) or self.overflow


class ChangeSet:
    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self._paths: dict[str, None] = {}  # an ordered set
        self._overflow = False
        self._events = 0
        #: Set while there is something to take.
        self.ready = asyncio.Event()
        #: Over the whole run: the most paths ever waiting at once (never above `limit`: the
        #: bound on what a burst can queue), raw events, and paths taken (summed per batch).
        self.peak = 0
        self.events_total = 0
        self.paths_taken = 0

    def add(self, rel: str) -> None:
        """One raw event on `rel` (a path relative to the workspace, POSIX separators)."""
        self._events += 1
        self.events_total += 1
        self.ready.set()
        if self._overflow or rel in self._paths:
            return
        if rel.rsplit("/", 1)[-1] in RULE_FILES or len(self._paths) >= self.limit:
            # The paths no longer matter: the whole listing is compared instead.
            self._overflow = True
            self._paths.clear()
            self.peak = self.limit
            return
        self._paths[rel] = None
        self.peak = max(self.peak, len(self._paths))

    def take(self) -> Batch:
        """What changed since the last take; the set starts empty again."""
        batch = Batch(tuple(self._paths), self._overflow, self._events)
        self.paths_taken += len(batch.paths)
        self._paths = {}
        self._overflow = False
        self._events = 0
        self.ready.clear()
        return batch

    def __len__(self) -> int:
        """Paths waiting (the limit, once overflowed: the progress line's "files changed")."""
        return self.limit if self._overflow else len(self._paths)


def keep_event(rel: str, known: Container[str]) -> bool:
    """Is an event on `rel` worth a look? Drops git's own files and anything under a directory
    the workspace listing never enters (hidden ones, node_modules, .venv, build, …) unless it
    is a file enrich already knows (git lists tracked files there). Everything else is kept,
    even an unknown extension: it may be a directory moved in or out, which gives one event
    for all the files below it; `resolve` sorts it out by listing."""
    if not rel or rel == ".git" or rel.startswith(".git/"):
        return False
    return rel in known or not _skipped_dir(rel)
