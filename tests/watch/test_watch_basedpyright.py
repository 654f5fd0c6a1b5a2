"""`enrich --watch` end to end with basedpyright on a scratch copy of examples/: add a function,
call it from another file, rename a symbol, delete a file, create a file. After each step the
watched graph settles (the progress line: every change applied, nothing missing) and must then
equal what a fresh `enrich` of the same workspace records into an empty database (edges and
placeholders, order aside)."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from watch_helpers import ROOT, Watching, difference, edit, fresh, graph, write

EXAMPLES = ROOT / "examples"
SERVER = Path(sys.executable).with_name("basedpyright-langserver")
if not SERVER.exists():
    SERVER = Path(shutil.which("basedpyright-langserver") or SERVER)

pytestmark = [
    pytest.mark.real_server,
    # Under CI=true a missing server is a failure: the test runs and cannot start it.
    pytest.mark.skipif(
        not SERVER.exists() and os.environ.get("CI") != "true",
        reason="basedpyright-langserver not installed (pip install -e '.[servers]')",
    ),
    pytest.mark.timeout(1200),
]

UNIT_SQUARE = """

def unit_square() -> Square:
    return Square(1.0)
"""
EXTRA = """\
from shapes import Shape


def biggest(shapes: list[Shape]) -> Shape:
    return max(shapes, key=lambda shape: shape.area())
"""


def append(path: Path, text: str) -> None:
    write(path, path.read_text() + text)


def test_each_step_ends_in_the_graph_a_fresh_enrich_records(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(EXAMPLES, ws)
    server = [str(SERVER), "--stdio"]
    db = tmp_path / "watch.db"
    # One write per step: the files-changed count then grows by one per step.
    steps: list[tuple[str, Callable[[], object]]] = [
        ("add a function", lambda: append(ws / "shapes" / "square.py", UNIT_SQUARE)),
        (
            "call it from another file",
            lambda: edit(
                ws / "app.py",
                "    return [unit, Square(2.0)]\n",
                "    return [unit, Square(2.0), unit_square()]\n",
                "from shapes import Circle, Shape, Square\n",
                "from shapes import Circle, Shape, Square\nfrom shapes.square import unit_square\n",
            ),
        ),
        ("rename a symbol", lambda: edit(ws / "report.py", "total_area", "grand_total")),
        ("delete a file", lambda: (ws / "shapes" / "circle.py").unlink()),
        ("create a file", lambda: write(ws / "extra.py", EXTRA)),
    ]
    process = Watching(ws, db, server)
    try:
        process.settled(0)
        expected = fresh(ws, tmp_path, "start", server, timeout=600)
        assert graph(db) == expected, difference(graph(db), expected)
        for number, (name, step) in enumerate(steps, start=1):
            step()
            process.settled(number)
            expected = fresh(ws, tmp_path, str(number), server, timeout=600)
            watched = graph(db)
            assert watched == expected, f"{name}:\n{difference(watched, expected)}"
    finally:
        process.stop()
