"""The planner: changed files in, notifications and work out — no processes, no files."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from lsp_backoff.proxy.enrich import watch, watch_plan
from lsp_backoff.proxy.enrich.watch import Observed
from lsp_backoff.proxy.enrich.watch_plan import (
    CHANGED,
    CREATED,
    DELETED,
    Planner,
    mentioned_names,
)
from lsp_backoff.proxy.enrich.watch_servers import registering

A, B, C = Path("/ws/a.py"), Path("/ws/b.py"), Path("/ws/c.py")


def planner(keep_open: bool = True) -> Planner:
    p = Planner(keep_open=keep_open)
    p.seen(A, "def area():\n    return 1\n")
    p.seen(B, "from a import area\n\narea()\n", is_open=False)
    return p


def methods(plan) -> list[str]:
    return [method for method, _ in plan.notifications]


def watched(plan) -> list[tuple[str, int]]:
    method, params = plan.notifications[-1]
    assert method == "workspace/didChangeWatchedFiles"
    return [(Path(c["uri"][len("file://") :]).name, c["type"]) for c in params["changes"]]


def test_an_open_file_changed_gets_the_whole_text_at_the_next_version() -> None:
    p = planner()
    plan = p.plan([Observed(A, "def area():\n    return 2\n\ndef perimeter(): pass\n")])
    assert methods(plan) == ["textDocument/didChange", "workspace/didChangeWatchedFiles"]
    params = plan.notifications[0][1]
    assert params["textDocument"] == {"uri": A.as_uri(), "version": 2}
    assert params["contentChanges"] == [
        {"text": "def area():\n    return 2\n\ndef perimeter(): pass\n"}
    ]
    assert watched(plan) == [("a.py", CHANGED)]
    assert plan.relist == [A] and plan.changed == [A] and plan.gone == []
    # The next change is version 3.
    plan = p.plan([Observed(A, "")])
    assert plan.notifications[0][1]["textDocument"]["version"] == 3


def test_a_closed_file_changed_is_told_through_the_watched_files_only() -> None:
    plan = planner().plan([Observed(B, "area()\n")])
    assert methods(plan) == ["workspace/didChangeWatchedFiles"]
    assert watched(plan) == [("b.py", CHANGED)]
    assert plan.relist == [B]


def test_unchanged_content_costs_nothing() -> None:
    plan = planner().plan([Observed(A, "def area():\n    return 1\n"), Observed(C, None)])
    assert not plan
    assert (plan.relist, plan.gone, plan.changed, plan.mentioned) == ([], [], [], frozenset())


def test_a_new_file_is_opened_when_files_are_kept_open() -> None:
    p = planner()
    plan = p.plan([Observed(C, "def c(): area()\n")])
    assert methods(plan) == ["textDocument/didOpen", "workspace/didChangeWatchedFiles"]
    document = plan.notifications[0][1]["textDocument"]
    assert document == {
        "uri": C.as_uri(),
        "languageId": "python",
        "version": 1,
        "text": "def c(): area()\n",
    }
    assert watched(plan) == [("c.py", CREATED)]
    assert plan.relist == [C] and plan.changed == []
    assert p.files[C].is_open
    # Without keep_open it is only listed again (whoever lists it opens it).
    p = planner(keep_open=False)
    plan = p.plan([Observed(C, "def c(): pass\n")])
    assert methods(plan) == ["workspace/didChangeWatchedFiles"] and plan.relist == [C]
    assert not p.files[C].is_open


def test_a_deleted_file_is_closed_and_leaves() -> None:
    p = planner()
    plan = p.plan([Observed(A, None), Observed(B, None)])
    assert methods(plan) == ["textDocument/didClose", "workspace/didChangeWatchedFiles"]
    assert plan.notifications[0][1] == {"textDocument": {"uri": A.as_uri()}}
    assert watched(plan) == [("a.py", DELETED), ("b.py", DELETED)]
    assert plan.gone == [A, B] and plan.changed == [A, B] and plan.relist == []
    assert p.files == {}
    # Created again later: a new file, version 1.
    plan = p.plan([Observed(A, "x = 1\n")])
    assert watched(plan) == [("a.py", CREATED)]
    assert plan.notifications[0][1]["textDocument"]["version"] == 1


def test_a_rename_is_a_delete_and_a_create_in_one_notification() -> None:
    plan = planner().plan([Observed(A, None), Observed(C, "def area():\n    return 1\n")])
    assert watched(plan) == [("a.py", DELETED), ("c.py", CREATED)]
    assert methods(plan) == [
        "textDocument/didClose",
        "textDocument/didOpen",
        "workspace/didChangeWatchedFiles",
    ]


def test_a_changed_file_is_an_edit_and_a_gone_one_mentions_its_last_text() -> None:
    p = planner()
    p.seen(C, "def shape(): pass\ndef gone_call(): pass\n")
    after = "def shape(): pass\ndef new_call(): area()\n"
    plan = p.plan([Observed(C, after)])
    assert plan.mentioned == frozenset()  # named by the edit's diff instead (proxy/edits.py)
    change = plan.edits[C]
    assert (change.before, change.after) == ("def shape(): pass\ndef gone_call(): pass\n", after)
    assert change.old_digest != change.new_digest and plan.files_touched == [C]
    plan = p.plan([Observed(C, None)])
    assert {"new_call", "area"} <= plan.mentioned and "gone_call" not in plan.mentioned


def test_a_burst_of_500_changes_is_one_notification_and_each_file_listed_once() -> None:
    p = Planner()
    paths = [Path(f"/ws/m{i}.py") for i in range(500)]
    for path in paths:
        p.seen(path, "x = 1\n")
    plan = p.plan([Observed(path, "x = 2\n") for path in paths])
    assert methods(plan).count("workspace/didChangeWatchedFiles") == 1
    assert methods(plan).count("textDocument/didChange") == 500
    assert len(plan.notifications) == 501 and plan.relist == paths


def test_identifiers() -> None:
    assert mentioned_names("def área(x1, _y): return x1.z + 2e3") == {
        "def", "área", "x1", "_y", "return", "z",
    }  # fmt: skip


def test_the_planner_hashes_and_scans_nothing_itself(monkeypatch) -> None:
    """It runs on the loop the proxy sessions share: each Observed brings its text's hash and
    names from the thread that read it (watch.resolve, registering)."""
    p = planner()
    items = [Observed(A, "def area():\n    return 3\n"), Observed(C, "def c(): area()\n")]

    def forbidden(_text: str) -> None:
        raise AssertionError("hashed or scanned on the loop")

    for module in (watch, watch_plan):  # also catches a planner that imports them again
        monkeypatch.setattr(module, "content_hash", forbidden, raising=False)
        monkeypatch.setattr(module, "identifiers", forbidden, raising=False)
    monkeypatch.setattr(watch_plan, "mentioned_names", forbidden)
    plan = p.plan(items)
    assert plan.relist == [A, C] and plan.changed == [A]
    assert {"area", "c"} <= plan.mentioned and A in plan.edits


def test_registering_describes_each_first_text_in_a_worker_thread(
    monkeypatch, tmp_path: Path
) -> None:
    threads: list[int] = []
    real = watch.identifiers

    def recording(text: str) -> frozenset[str]:
        threads.append(threading.get_ident())
        return real(text)

    monkeypatch.setattr(watch, "identifiers", recording)
    path = tmp_path / "m.py"
    path.write_text("def f(): pass\n")

    async def read(p: Path) -> str | None:
        return p.read_text()

    p = Planner(keep_open=False)
    reader = registering(read, p)
    assert asyncio.run(reader(path)) == "def f(): pass\n"
    assert asyncio.run(reader(path)) == "def f(): pass\n"  # known now: not described again
    assert len(threads) == 1 and threads[0] != threading.get_ident()
    assert p.files[path].names >= {"f"} and not p.files[path].is_open
