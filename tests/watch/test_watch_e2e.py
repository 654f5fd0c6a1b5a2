"""`enrich --watch` end to end with a test server whose answers cross files
(servers/grep_server.py): after each edit the watched graph settles, and it then equals what a
fresh `enrich` of the same workspace into an empty database records (edges and placeholders,
order aside). Waits are bounded and wait for the progress line, never for a fixed time."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from watch_helpers import BOUND, ROOT, Watching, command, edit, env, fresh, graph, grep_server

SHAPES = """\
class Shape:
    def area(self):
        return 0


def make_square(n):
    return Shape()
"""
APP = """\
from shapes import make_square


def main():
    s = make_square(2)
    return report(s)


def report(s):
    return s.area()
"""


@pytest.fixture(params=[(), ("--open-files", "0")], ids=["window", "all-open"])
def watching(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Watching, Path]]:
    """The default window closes files when their questions are answered; with
    `--open-files 0` every file stays open, so a change reaches the server as a didChange."""
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "shapes.py").write_text(SHAPES)
    (ws / "app.py").write_text(APP)
    log = tmp_path / "watch.jsonl"
    process = Watching(ws, tmp_path / "watch.db", grep_server(log), options=request.param)
    try:
        yield process, ws
    finally:
        if process.process.poll() is None:
            process.interrupt()


def reference(tmp: Path) -> list[str]:
    """The server a fresh enrich runs (its own log)."""
    return grep_server(tmp / "fresh.jsonl")


# Each test waits for the watcher to settle (BOUND, 180 s each) and for fresh enrich runs
# (120 s each) several times: the whole test gets 600 s, any one wait fails first.
pytestmark = pytest.mark.timeout(600)


def test_each_edit_ends_in_the_graph_a_fresh_enrich_records(
    watching: tuple[Watching, Path], tmp_path: Path
) -> None:
    process, ws = watching
    process.settled(0)
    db = tmp_path / "watch.db"
    assert graph(db) == fresh(ws, tmp_path, "start", reference(tmp_path))
    new_function = "def perimeter(s):\n    return 4\n\n\ndef make_square"
    steps = [
        ("add a function", lambda: edit(ws / "shapes.py", "def make_square", new_function)),
        ("call it from another file", lambda: edit(ws / "app.py", "s.area()", "perimeter(s)")),
        ("rename a symbol", lambda: edit(ws / "app.py", "report", "summary")),
        ("delete a file", lambda: (ws / "shapes.py").unlink()),
        ("create a file", lambda: (ws / "util.py").write_text("def run():\n    return main()\n")),
    ]
    for number, (name, step) in enumerate(steps, start=1):
        step()
        process.settled(number)
        assert graph(db) == fresh(ws, tmp_path, str(number), reference(tmp_path)), name
    status, out = process.interrupt()
    assert status == 130  # Ctrl-C: the summary is printed, the server shut down
    assert '"interrupted": true' in out


def test_a_change_while_requests_are_in_flight_is_not_recorded_stale(tmp_path: Path) -> None:
    """Every answer takes 0.3 s; app.py changes while the first pass's questions are being
    answered. The answers given about the old app.py must not end up current."""
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "shapes.py").write_text(SHAPES)
    (ws / "app.py").write_text(APP)
    log = tmp_path / "watch.jsonl"
    process = Watching(ws, tmp_path / "watch.db", grep_server(log, "--delay", "0.3"))
    try:
        deadline = time.monotonic() + BOUND
        while not (log.exists() and log.read_text().count("\n") >= 2):  # questions in flight
            assert time.monotonic() < deadline and process.process.poll() is None
            time.sleep(0.05)
        # A new call of area() above the old one: every reference into app.py moves.
        edit(ws / "app.py", "    s = make_square(2)\n", "    s = make_square(2)\n    s.area()\n")
        process.settled(1)
        assert graph(tmp_path / "watch.db") == fresh(ws, tmp_path, "after", reference(tmp_path))
    finally:
        process.interrupt()


def test_the_next_enrich_forgets_files_gone_from_the_listing(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "shapes.py").write_text(SHAPES)
    (ws / "app.py").write_text(APP)
    db = tmp_path / "graph.db"

    def run() -> None:
        done = subprocess.run(
            command(ws, db, grep_server(tmp_path / "log.jsonl")),
            capture_output=True, text=True, cwd=ROOT, env=env(), timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr

    run()
    assert any(row[2] == (ws / "shapes.py").as_uri() for row in graph(db))
    (ws / "shapes.py").rename(ws / "geometry.py")  # a rename: one file gone, one new
    run()
    assert graph(db) == fresh(ws, tmp_path, "renamed", reference(tmp_path))
