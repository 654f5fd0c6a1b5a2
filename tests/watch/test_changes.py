"""The change set coalesces and bounds bursts; the event filter drops what no listing contains."""

from __future__ import annotations

import pytest

from lsp_backoff.proxy.enrich.watch_changes import ChangeSet, keep_event


def test_a_path_changed_many_times_is_kept_once_in_first_seen_order() -> None:
    changes = ChangeSet(limit=10)
    for name in ["b.py", "a.py", "b.py", "b.py", "c.py", "a.py"]:
        changes.add(name)
    assert changes.ready.is_set()
    batch = changes.take()
    assert batch.paths == ("b.py", "a.py", "c.py")
    assert (batch.overflow, batch.events) == (False, 6)
    # Taking empties the set.
    assert not changes.ready.is_set()
    assert not changes.take()


def test_a_burst_of_500_files_is_one_batch_of_500_paths() -> None:
    changes = ChangeSet()
    for _ in range(3):  # a formatter writes each file, then its tool touches it twice more
        for i in range(500):
            changes.add(f"pkg/m{i}.py")
    batch = changes.take()
    assert len(batch.paths) == 500
    assert batch.events == 1500
    assert not batch.overflow


def test_past_the_limit_the_set_keeps_no_paths_and_asks_for_a_full_listing() -> None:
    changes = ChangeSet(limit=100)
    for i in range(100):
        changes.add(f"m{i}.py")
    assert len(changes) == 100
    for i in range(100, 50_000):
        changes.add(f"m{i}.py")
        # Bounded at every step: memory does not grow with the burst.
        assert len(changes._paths) <= 100
    batch = changes.take()
    assert batch.overflow and batch.paths == () and batch.events == 50_000
    assert batch  # an overflow is work to do
    # After the take the set is an ordinary one again.
    changes.add("x.py")
    assert changes.take().paths == ("x.py",)


@pytest.mark.parametrize("name", [".gitignore", "sub/.gitignore"])
def test_a_gitignore_change_asks_for_a_full_listing(name: str) -> None:
    changes = ChangeSet()
    changes.add("a.py")
    changes.add(name)
    changes.add("b.py")
    batch = changes.take()
    assert batch.overflow and batch.paths == ()


@pytest.mark.parametrize(
    ("rel", "kept"),
    [
        ("src/app.py", True),
        ("src", True),  # maybe a directory moved in or out
        ("README.md", True),  # resolve decides with the listing rules
        (".git/index.lock", False),
        (".git", False),
        ("node_modules/pkg/index.js", False),
        (".venv/lib/site.py", False),
        ("pkg/__pycache__/m.cpython-311.pyc", False),
        (".github/tool.py", False),
        (".github", True),  # the directory itself may hold known files
        ("build/lib/copy.py", True),  # known: git tracks it there
        ("", False),
    ],
)
def test_the_event_filter(rel: str, kept: bool) -> None:
    assert keep_event(rel, {"build/lib/copy.py"}) is kept
