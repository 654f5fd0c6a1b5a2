"""A burst of 500 file changes through a running `enrich --watch` is coalesced.

The test server (servers/grep_server.py) counts every documentSymbol and document notification
it gets. The burst is made while enrich is held in the middle of applying an earlier change (a
documentSymbol of `gate.py` that waits for the test's release), so every one of its events
lands in the change set before the watch loop takes it: what is asserted is then exact, and
decided by event order, never by a clock.
- each of the 500 files, written three times, is listed once more (documentSymbol) and, with
  every file kept open (`--open-files 0`), gets one didChange — not one per event (by default,
  only the files the window still holds open get one);
- one didChangeWatchedFiles lists them all;
- the change set never held more paths than distinct files were changed (`peak_waiting`).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from watch_helpers import Watching, grep_server

FILES = 500
WRITES = 3


def messages(log: Path) -> list[dict[str, object]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


@pytest.mark.timeout(900)
@pytest.mark.parametrize("options", [(), ("--open-files", "0")], ids=["window", "all-open"])
def test_a_burst_of_500_changes_is_coalesced(tmp_path: Path, options: tuple[str, ...]) -> None:
    ws = tmp_path / "ws"
    (ws / "many").mkdir(parents=True)
    many = [ws / "many" / f"m{number:03}.py" for number in range(FILES)]
    for number, path in enumerate(many):
        path.write_text(f"x = {number}\n")  # no declarations: nothing for the monitor to ask
    (ws / "app.py").write_text("def main():\n    return 0\n")
    log, counted, release = tmp_path / "log.jsonl", tmp_path / "messages.jsonl", tmp_path / "go"
    server = grep_server(log, "--messages", str(counted), "--gate", str(release))
    # One server: every count below is then that server's.
    process = Watching(ws, tmp_path / "watch.db", server, ("--servers", "1", *options))
    try:
        process.settled(0)
        first_pass = len(messages(counted))
        # Hold the loop: applying gate.py waits in its documentSymbol until `release` exists.
        (ws / "gate.py").write_text("def gate():\n    return 0\n")
        gate = (ws / "gate.py").as_uri()
        process.wait_for(
            lambda _: any(m.get("uri") == gate for m in messages(counted)[first_pass:]),
            "holding at gate.py",
        )
        for write in range(WRITES):  # a formatter's passes over the tree
            for number, path in enumerate(many):
                path.write_text(f"x = {number}  # pass {write}\n")
        # Written after every other one: once it is gathered, all of theirs are (event order).
        (ws / "last.py").write_text("y = 1\n")
        process.wait_for(
            lambda lines: any(f"(+{FILES + 1} to apply)" in line for line in lines),
            "gathered the burst",
        )
        release.touch()
        process.settled(FILES + 2)  # gate.py, the 500, last.py
        summary = process.summary()
    finally:
        process.stop()

    after = messages(counted)[first_pass:]
    uris = {path.as_uri() for path in many}
    listed = Counter(m["uri"] for m in after if m["method"] == "documentSymbol")
    assert {uri: listed[uri] for uri in uris} == dict.fromkeys(uris, 1)
    changed = Counter(m["uri"] for m in after if m["method"] == "didChange")
    if options:  # every file open: each gets its new text once
        assert {uri: changed[uri] for uri in uris} == dict.fromkeys(uris, 1)
    else:  # only the files the window still holds open get it, once
        assert {changed[uri] for uri in uris} <= {0, 1}
    watched = [m["changes"] for m in after if m["method"] == "didChangeWatchedFiles"]
    assert watched == [1, FILES + 1]  # gate.py; then the burst and last.py, in one
    stats = summary["watch"]
    assert stats["peak_waiting"] == FILES + 1  # the distinct paths, however many events
    assert stats["events"] >= FILES + 2
    assert stats["paths_taken"] == FILES + 2
    assert stats["batches"] == 2
