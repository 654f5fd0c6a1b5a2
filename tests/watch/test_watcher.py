"""The watcher on a real directory: real file events through watchfiles into the change set,
then `resolve` and the planner — bursts end up as one bounded batch of work.

Waits are bounded and wait for events, never for a fixed time.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import shutil
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

from lsp_backoff.proxy.enrich.files import list_files
from lsp_backoff.proxy.enrich.watch import Observed, Watcher, resolve
from lsp_backoff.proxy.enrich.watch_changes import Batch, ChangeSet
from lsp_backoff.proxy.enrich.watch_plan import CREATED, DELETED, Planner

BOUND = 30.0  # seconds: a bound on waiting for events, not an expectation


@contextlib.asynccontextmanager
async def watching(root: Path, changes: ChangeSet, known: set[str]) -> AsyncIterator[Watcher]:
    watcher = Watcher(root, changes, lambda: known, step_ms=50)
    stop = asyncio.Event()
    task = asyncio.create_task(watcher.run(stop))
    # The watch starts inside the task: write a probe until its event arrives. Its later
    # events may land in any batch: _union leaves the probe out.
    probe = root / "probe.py"
    async with asyncio.timeout(BOUND):
        for n in itertools.count():
            probe.write_text(f"# {n}\n")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changes.ready.wait(), 0.2)
                break
    try:
        yield watcher
    finally:
        stop.set()
        async with asyncio.timeout(BOUND):
            await task


async def until(changes: ChangeSet, done, merged: list[Batch] | None = None) -> list[Batch]:
    """Take batches until `done(batch)` says the last one holds what the test waits for."""
    taken = [] if merged is None else merged
    async with asyncio.timeout(BOUND):
        while True:
            await changes.ready.wait()
            await asyncio.sleep(0)  # let the rest of the same yield land
            batch = changes.take()
            taken.append(batch)
            if done(_union(taken)):
                return taken


def _union(batches: list[Batch]) -> Batch:
    paths = tuple(dict.fromkeys(p for b in batches for p in b.paths if p != "probe.py"))
    return Batch(paths, any(b.overflow for b in batches), sum(b.events for b in batches))


def write_tree(root: Path, count: int, text: str) -> list[Path]:
    paths = []
    for i in range(count):
        path = root / "pkg" / f"m{i}.py"
        path.parent.mkdir(exist_ok=True)
        path.write_text(text)
        paths.append(path)
    return paths


async def test_a_burst_of_500_changes_is_bounded_work(tmp_path: Path) -> None:
    root = tmp_path.resolve()
    paths = write_tree(root, 500, "x = 1\n")
    planner = Planner()
    for path in paths:
        planner.seen(path, "x = 1\n")
    changes = ChangeSet()
    async with watching(root, changes, set()):
        for text in ("x = 2\n", "x = 3\n", "x = 3\n"):  # a formatter, then a second pass
            for path in paths:
                path.write_text(text)
        rels = {p.relative_to(root).as_posix() for p in paths}
        batches = await until(changes, lambda b: rels <= set(b.paths))
    merged = _union(batches)
    # Every file once, however many events it gave.
    assert set(merged.paths) == rels and not merged.overflow
    assert merged.events >= 500
    observed = resolve(root, merged, set(planner.files))
    assert [o.path for o in observed] == sorted(paths)
    plan = planner.plan(observed)
    methods = [m for m, _ in plan.notifications]
    assert methods.count("workspace/didChangeWatchedFiles") == 1
    assert methods.count("textDocument/didChange") == 500
    assert len(plan.relist) == 500  # one documentSymbol per file, not per event


async def test_past_the_limit_the_watcher_holds_no_paths(tmp_path: Path) -> None:
    root = tmp_path.resolve()
    changes = ChangeSet(limit=50)
    async with watching(root, changes, set()):
        paths = write_tree(root, 500, "x = 1\n")
        batches = await until(changes, lambda b: b.overflow)
    assert batches[-1].overflow
    assert len(changes._paths) <= 50
    # An overflow re-lists the workspace: every file is seen, once.
    observed = resolve(root, Batch((), True, 500), set())
    assert {o.path for o in observed} >= set(paths)


async def test_a_moved_directory_and_a_git_ignored_file(tmp_path: Path) -> None:
    root = tmp_path.resolve()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / ".gitignore").write_text("generated.py\n")
    paths = write_tree(root, 3, "def f(): pass\n")
    planner = Planner()
    for path in paths:
        planner.seen(path, "def f(): pass\n")
    known = {p.relative_to(root).as_posix() for p in paths}
    changes = ChangeSet()
    async with watching(root, changes, known):
        shutil.move(root / "pkg", root / "moved")
        (root / "generated.py").write_text("x = 1\n")
        batches = await until(changes, lambda b: {"pkg", "moved", "generated.py"} <= set(b.paths))
    observed = resolve(root, _union(batches), set(planner.files))
    moved = sorted(root / "moved" / p.name for p in paths)
    assert observed == sorted(
        [Observed(p, None) for p in paths] + [Observed(p, "def f(): pass\n") for p in moved],
        key=lambda o: o.path,
    )  # the ignored file is not there
    plan = planner.plan(observed)
    changes_sent = plan.notifications[-1][1]["changes"]
    assert sorted(c["type"] for c in changes_sent) == [CREATED] * 3 + [DELETED] * 3
    assert plan.gone == sorted(paths) and plan.relist == moved
    assert list_files(root) == sorted([*moved, root / "probe.py"])
