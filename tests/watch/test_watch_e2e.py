"""`enrich --watch` end to end with a test server whose answers cross files
(servers/grep_server.py): after each edit the watched graph settles, and it then equals what a
fresh `enrich` of the same workspace into an empty database records (edges and placeholders,
order aside). Waits are bounded and wait for the progress line, never for a fixed time."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVER = Path(__file__).parent / "servers" / "grep_server.py"
BOUND = 90.0  # seconds: a bound on settling, not an expectation

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


def env() -> dict[str, str]:
    result = dict(os.environ)
    result.pop("LSP_BACKOFF_DB", None)
    result["PYTHONPATH"] = str(ROOT)
    return result


def command(
    ws: Path, db: Path, log: Path, *options: str, server: tuple[str, ...] = ()
) -> list[str]:
    return [
        sys.executable, "-m", "lsp_backoff", "enrich", str(ws), "--db", str(db), "--json",
        "--interval", "0.3", "--backoff-base", "0.2", *options,
        "--", sys.executable, str(SERVER), "--log", str(log), *server,
    ]  # fmt: skip


class Watching:
    """The `enrich --watch` process and the lines of its stderr, read as they come."""

    LINE = re.compile(r"watching: (\d+) files changed( \(\+\d+ to apply\))?, (\d+) symbol")

    def __init__(
        self, ws: Path, db: Path, log: Path, *server: str, options: tuple[str, ...] = ()
    ) -> None:
        self.process = subprocess.Popen(
            command(ws, db, log, "--watch", *options, server=server),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=env(),
            start_new_session=True,
        )
        self.lines: list[str] = []
        self.changed = threading.Condition()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            with self.changed:
                self.lines.append(line)
                self.changed.notify_all()

    def settled(self, files_changed: int) -> None:
        """Wait for the progress line saying: this many files applied, nothing pending."""

        def done() -> bool:
            states = [m for line in self.lines if (m := self.LINE.search(line))]
            if not states:
                return False
            last = states[-1]
            return int(last[1]) >= files_changed and not last[2] and last[3] == "0"

        with self.changed:
            if not self.changed.wait_for(lambda: done() or self.process.poll() is not None, BOUND):
                raise AssertionError("not settled:\n" + "".join(self.lines[-20:]))
        assert self.process.poll() is None, "".join(self.lines)

    def interrupt(self) -> tuple[int, str]:
        os.killpg(self.process.pid, signal.SIGINT)
        out, _ = self.process.communicate(timeout=60)
        return self.process.returncode, out


def graph(db: Path) -> list[tuple[Any, ...]]:
    from lsp_backoff.tracker import queries

    conn = queries.connect(db)
    try:
        rows = queries.edges(conn)
    finally:
        conn.close()
    keep = ("symbol", "name", "uri", "line", "character", "operation", "kind", "detail")
    return sorted(
        (*(row[k] for k in keep), tuple(sorted((row["target"] or {}).items()))) for row in rows
    )


def fresh(ws: Path, tmp: Path, step: str) -> list[tuple[Any, ...]]:
    db = tmp / f"fresh-{step}.db"
    done = subprocess.run(
        command(ws, db, tmp / f"fresh-{step}.jsonl"),
        capture_output=True, text=True, cwd=ROOT, env=env(), timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return graph(db)


@pytest.fixture(params=[(), ("--open-files", "0")], ids=["window", "all-open"])
def watching(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Watching, Path]]:
    """The default window closes files when their questions are answered; with
    `--open-files 0` every file stays open, so a change reaches the server as a didChange."""
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "shapes.py").write_text(SHAPES)
    (ws / "app.py").write_text(APP)
    log = tmp_path / "watch.jsonl"
    process = Watching(ws, tmp_path / "watch.db", log, options=request.param)
    try:
        yield process, ws
    finally:
        if process.process.poll() is None:
            process.interrupt()


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_each_edit_ends_in_the_graph_a_fresh_enrich_records(
    watching: tuple[Watching, Path], tmp_path: Path
) -> None:
    process, ws = watching
    process.settled(0)
    db = tmp_path / "watch.db"
    assert graph(db) == fresh(ws, tmp_path, "start")
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
        assert graph(db) == fresh(ws, tmp_path, str(number)), name
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
    process = Watching(ws, tmp_path / "watch.db", log, "--delay", "0.3")
    try:
        deadline = time.monotonic() + BOUND
        while not (log.exists() and log.read_text().count("\n") >= 2):  # questions in flight
            assert time.monotonic() < deadline and process.process.poll() is None
            time.sleep(0.05)
        # A new call of area() above the old one: every reference into app.py moves.
        edit(ws / "app.py", "    s = make_square(2)\n", "    s = make_square(2)\n    s.area()\n")
        process.settled(1)
        assert graph(tmp_path / "watch.db") == fresh(ws, tmp_path, "after")
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
            command(ws, db, tmp_path / "log.jsonl"),
            capture_output=True, text=True, cwd=ROOT, env=env(), timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr

    run()
    assert any(row[2] == (ws / "shapes.py").as_uri() for row in graph(db))
    (ws / "shapes.py").rename(ws / "geometry.py")  # a rename: one file gone, one new
    run()
    assert graph(db) == fresh(ws, tmp_path, "renamed")
