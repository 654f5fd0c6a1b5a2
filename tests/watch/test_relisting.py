"""A full re-listing (an overflow: more changed paths than kept, or a .gitignore changed) reads
again only the files whose stat changed since they were read; a stat taken within moments of a
write is not trusted (the file could change again within the same tick of the file system's
clock), so such a file is read again."""

from __future__ import annotations

import os
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from lsp_backoff.proxy.enrich import watch
from lsp_backoff.proxy.enrich.watch import Observed, resolve, stat_of
from lsp_backoff.proxy.enrich.watch_changes import Batch
from lsp_backoff.proxy.enrich.watch_plan import Planner

OVERFLOW = Batch((), True, 5000)
HOUR_NS = 3600 * 10**9


def aged(path: Path, text: str, age_ns: int) -> None:
    """Write `text`, then date the file back `age_ns` (as a checkout that keeps times would)."""
    path.write_text(text)
    then = time.time_ns() - age_ns
    os.utime(path, ns=(then, then))


def test_an_overflow_reads_only_files_whose_stat_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = ("a", "b", "c", "d")
    files = {name: tmp_path / f"{name}.py" for name in names}
    for name, path in files.items():
        aged(path, f"{name} = 1\n", HOUR_NS)
    planner = Planner(keep_open=False)
    for path in files.values():
        planner.seen(path, path.read_text(), is_open=False, stat=stat_of(path))
    assert set(planner.stats()) == set(files.values())

    aged(files["a"], "a = 100\n", HOUR_NS - 10**9)  # new size and time
    aged(files["b"], "b = 2\n", HOUR_NS - 2 * 10**9)  # same size, new time
    # d was written a moment ago: its stat is not to be trusted. The clock the listing reads is
    # held just inside that moment, however long this machine takes to get there.
    now = time.time_ns()
    os.utime(files["d"], ns=(now, now))
    clock = SimpleNamespace(time_ns=lambda: now + watch.RACY_NS - 1)
    monkeypatch.setattr(watch, "time", clock)
    (tmp_path / "e.py").write_text("e = 1\n")  # created
    # c is untouched: not read, not reported.
    observed = resolve(tmp_path, OVERFLOW, set(files.values()), stats=planner.stats())
    assert [item.path.name for item in observed] == ["a.py", "b.py", "d.py", "e.py"]
    assert [item.text for item in observed] == ["a = 100\n", "b = 2\n", "d = 1\n", "e = 1\n"]
    assert observed[2].stat is None and observed[0].stat is not None

    plan = planner.plan(observed)
    assert sorted(path.name for path in plan.relist) == ["a.py", "b.py", "e.py"]  # d: same text
    assert files["d"] not in planner.stats()  # re-read at the next overflow, until it is old
    assert planner.stats()[files["a"]] == observed[0].stat


def test_without_stats_or_on_a_plain_batch_every_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "a.py"
    aged(path, "a = 1\n", HOUR_NS)
    stat = stat_of(path)
    assert stat is not None
    assert resolve(tmp_path, OVERFLOW, {path}) == [Observed(path, "a = 1\n", stat)]
    batch = Batch(("a.py",), False, 1)  # an event on the file itself: always read
    assert resolve(tmp_path, batch, {path}, stats={path: stat}) == [Observed(path, "a = 1\n", stat)]


def test_a_file_gone_is_reported_whatever_the_stats(tmp_path: Path) -> None:
    path = tmp_path / "a.py"
    aged(path, "a = 1\n", HOUR_NS)
    stat = stat_of(path)
    assert stat is not None
    path.unlink()
    assert resolve(tmp_path, OVERFLOW, {path}, stats={path: stat}) == [Observed(path, None)]
