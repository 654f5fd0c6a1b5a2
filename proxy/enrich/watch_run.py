"""`enrich --watch` end to end: after the first pass, changes are told, re-listed and re-asked.

The loop (`WatchLoop.run`) takes what the watcher gathered (watch.py), resolves it off the event
loop, plans it (watch_plan.py) and applies the plan *between* requests, never across one:
1. the monitor is held — its rounds wait, its queued questions are dropped unsent (the next
   round plans them again from the graph as it is then), and the requests in flight finish and
   are recorded — so no answer given before the change can be recorded after it as current;
2. the servers are told (a gone file is closed where it is open; one didChangeWatchedFiles;
   didChange to a server that has a changed file open; a Deleted file leaves the graph in the
   proxy, as it does for an editor's) — watch_servers.py says how, for a pool of servers;
3. changed and created files have their symbols listed again;
4. the cross-file rules run for every created or deleted file (tracker/staleness.py: answers
   pointing into it, and symbols elsewhere named in its old or new text, lose their data), and
   the monitor forgets its verdicts on pairs that had data (they may be asked anew);
   a changed file whose text before is known has its rows moved through the edit's line map
   instead, before step 2 (tracker/moves.py; the names: only what the edit added or removed,
   proxy/edits.py) — a save costs about what the edit is (issue 24);
5. the monitor is released and woken: its next round asks whatever the change made missing.

`WatchMonitor` is the monitor that keeps running when nothing is missing, waiting for a change.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from lsp_backoff.proxy.edits import Edit, compare
from lsp_backoff.tracker.moves import LineMap
from lsp_backoff.tracker.staleness import STALE_OPERATIONS

from .asking import Asker
from .monitor import Monitor
from .watch import Watcher, resolve
from .watch_changes import ChangeSet
from .watch_plan import Change, Plan, Planner
from .watch_servers import Servers


class _Either:
    """Looks like an asyncio.Event to the asker (`is_set`): set when either one is."""

    def __init__(self, first: asyncio.Event, second: asyncio.Event) -> None:
        self.first, self.second = first, second

    def is_set(self) -> bool:
        return self.first.is_set() or self.second.is_set()


class WatchAsker(Asker):
    """The asker, plus `hold`: while set, questions not sent yet are dropped as on a stop."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.hold = asyncio.Event()
        self._run_stop = asyncio.Event()
        super().__init__(*args, **kwargs)

    @property  # type: ignore[override]
    def stop(self) -> _Either:
        return _Either(self._run_stop, self.hold)

    @stop.setter
    def stop(self, value: asyncio.Event) -> None:
        self._run_stop = value


class WatchMonitor(Monitor):
    """A monitor that never ends on its own: with nothing missing it waits for `wake`."""

    asker_class = WatchAsker
    watching = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.wake = asyncio.Event()
        self._gate = asyncio.Lock()
        self.on_idle: Callable[[], None] = lambda: None

    async def _round(self) -> Any:
        async with self._gate:  # never while a change is being applied
            return await super()._round()

    async def _idle(self, stop: asyncio.Event) -> bool:
        self.on_idle()
        waiters = {asyncio.ensure_future(e.wait()) for e in (stop, self.wake)}
        waiters.add(asyncio.ensure_future(self.session.connection.exited.wait()))
        try:
            await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
        self.wake.clear()
        return not stop.is_set()

    @contextlib.asynccontextmanager
    async def held(self) -> AsyncIterator[None]:
        """No request of the monitor is in flight or sent while the body runs."""
        async with self._gate:
            asker = self.asker
            assert isinstance(asker, WatchAsker)
            asker.hold.set()
            try:
                await asker.drain()  # queued ones return unsent; sent ones are answered
                yield
            finally:
                asker.hold.clear()
        self.wake.set()

    def forget_settled(self) -> None:
        """Verdicts on pairs that had data go: if a change re-armed them they are asked anew.
        Pairs still missing keep theirs (errors count toward the backoff; stuck stays stuck)."""
        stuck = self.last.stuck
        for key in [k for k, r in self.asked.items() if r.outcome != "error" and k not in stuck]:
            del self.asked[key]
        # The progress total counts from this change on (symbol keys move with every edit: a
        # set of every key ever seen would only grow for as long as the watch runs).
        self.seen.clear()


class WatchLoop:
    def __init__(
        self,
        root: Path,
        planner: Planner,
        servers: Servers,
        *,
        include: tuple[str, ...] = (),
        exclude: tuple[str, ...] = (),
        changes: ChangeSet | None = None,
        jobs: int = 8,
        progress: Any = None,
    ) -> None:
        self.root = root.resolve()
        self.planner = planner
        self.monitor: WatchMonitor | None = None
        self.servers = servers
        self.include, self.exclude = include, exclude
        self.changes = changes if changes is not None else ChangeSet()
        self.jobs = jobs
        self.progress = progress
        #: Files whose change has been applied, over the whole run (the progress line's N).
        self.files_changed = 0
        self.batches = 0
        #: Set after each applied batch (tests and the freshness benchmark wait on it).
        self.applied = asyncio.Event()
        self.watcher = Watcher(self.root, self.changes, self._known, on_events=self.report)
        self._watching: asyncio.Task[None] | None = None

    def _known(self) -> set[str]:
        prefix = len(str(self.root)) + 1
        return {str(path)[prefix:] for path in self.planner.files}

    def report(self) -> None:
        """The live line: on each idle round, and as changes arrive (the "+N to apply")."""
        if self.progress is not None and self.monitor is not None:
            self.progress.watching(self.files_changed, len(self.changes), self.monitor.last.missing)

    def stats(self) -> dict[str, int]:
        """The summary's `watch` object: what the watch did over the whole run. `peak_waiting`
        is the most changed paths ever gathered at once (bounded: see watch_changes.py)."""
        return {
            "batches": self.batches,
            "files_changed": self.files_changed,
            "events": self.changes.events_total,
            "paths_taken": self.changes.paths_taken,
            "peak_waiting": self.changes.peak,
        }

    def start(self, stop: asyncio.Event) -> None:
        """Start watching (before the first pass: what changes meanwhile is not missed)."""
        self._watching = asyncio.create_task(self.watcher.run(stop))

    async def run(self, monitor: WatchMonitor, stop: asyncio.Event) -> None:
        """Until `stop`: the monitor's rounds, and each batch of changes applied between them.
        Changes made while a batch is applied gather into the next one."""
        self.monitor = monitor
        monitor.on_idle = self.report
        if self._watching is None:
            self.start(stop)
        rounds = asyncio.ensure_future(monitor.run(stop))
        try:
            while not stop.is_set() and not rounds.done():
                await _first(stop.wait(), self.changes.ready.wait(), rounds)
                if self.changes.ready.is_set() and not stop.is_set() and not rounds.done():
                    await self.apply()
            await rounds  # its error (a server that cannot be restarted) ends the run
        finally:
            stop.set()  # the watcher ends too, whatever ended this loop
            watching = [t for t in (self._watching, rounds) if t is not None]
            await asyncio.gather(*watching, return_exceptions=True)

    async def apply(self) -> Plan:
        batch = self.changes.take()
        known = set(self.planner.files)
        stats = self.planner.stats() if batch.overflow else None
        observed = await asyncio.to_thread(
            resolve, self.root, batch, known, self.include, self.exclude, stats
        )
        plan = self.planner.plan(observed)
        monitor = self.monitor
        assert monitor is not None
        # Each changed file's edit, diffed off the loop (proxy/edits.py): its line map and the
        # names it added or removed.
        edits = await asyncio.to_thread(_compare, plan.edits) if plan.edits else {}
        if plan:
            async with monitor.held():
                # Before the servers hear of the change: the rows move while the graph still
                # holds the old content, so recording the new one finds nothing to drop.
                for path, (change, edit) in edits.items():
                    self.servers.translate(
                        path.as_uri(),
                        change.old_digest,
                        change.new_digest,
                        LineMap(edit.blocks, edit.holes),
                        edit.names,
                    )
                if edits:
                    await self.servers.flush()
                for path in plan.gone:  # closed first, as the planner closes its own
                    self.servers.gone(path)
                for method, params in plan.notifications:
                    self.servers.notify(method, params)
                for item in observed:
                    if item.text is not None and item.path in plan.relist:
                        self.servers.changed(item.path, item.text)
                await self._outline(plan.relist)
                await self.servers.flush()  # the proxy has recorded the new versions
                for path, names in plan.mentions.items():
                    self.servers.rearm(path.as_uri(), names)
                await self.servers.flush()
                monitor.forget_settled()
            self.files_changed += len(set(plan.changed) | set(plan.relist))
        self.batches += 1
        # No progress line here: the monitor's next round tells what is pending, once idle.
        self.applied.set()
        return plan

    async def _outline(self, paths: list[Path]) -> None:
        semaphore = asyncio.Semaphore(self.jobs)

        async def one(path: Path) -> None:
            async with semaphore:
                await self.servers.outline(path)

        await asyncio.gather(*(one(path) for path in paths))


def _compare(changes: dict[Path, Change]) -> dict[Path, tuple[Change, Edit]]:
    return {path: (c, compare(c.before, c.after, path.name)) for path, c in changes.items()}


async def _first(*awaitables: Awaitable[Any]) -> None:
    """Wait until one is done. Futures passed in go on running; the waiters made here stop."""
    given = [a for a in awaitables if isinstance(a, asyncio.Future)]
    made = [asyncio.ensure_future(a) for a in awaitables if not isinstance(a, asyncio.Future)]
    try:
        await asyncio.wait([*given, *made], return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in made:
            waiter.cancel()


__all__ = ["STALE_OPERATIONS", "WatchLoop", "WatchMonitor"]
