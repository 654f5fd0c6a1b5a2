"""Issue 24 end to end: `enrich --watch` with basedpyright on a scratch copy of examples/. A word
in a docstring re-asks nothing; a blank line at the top of the file most answers point into
moves every key in it and every edge into it by one line, loses nothing and re-asks nothing; a
new call gets its edge. After each step the watched graph equals a fresh `enrich` of the edited
tree (edges and placeholders, order aside)."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import sys
from pathlib import Path
from typing import Any

import pytest
from watch_helpers import ROOT, Watching, difference, edit, fresh, graph, write

SERVER = Path(sys.executable).with_name("basedpyright-langserver")
if not SERVER.exists():
    SERVER = Path(shutil.which("basedpyright-langserver") or SERVER)

pytestmark = [
    pytest.mark.real_server,
    pytest.mark.skipif(
        not SERVER.exists() and os.environ.get("CI") != "true",
        reason="basedpyright-langserver not installed (pip install -e '.[servers]')",
    ),
    pytest.mark.timeout(1200),
]

SENT = re.compile(r"(\d+) requests sent")


def sent(process: Watching) -> int:
    with process.changed:
        counts = [int(m[1]) for line in process.lines if (m := SENT.search(line))]
    return counts[-1] if counts else 0


def most_referenced(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        (uri,) = conn.execute(
            "SELECT d.uri FROM edge AS e JOIN document AS d ON d.id = e.document "
            "GROUP BY d.uri ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()
    finally:
        conn.close()
    return str(uri)


def shifted(rows: list[tuple[Any, ...]], uri: str) -> list[tuple[Any, ...]]:
    """`rows` (watch_helpers.graph) with every key in `uri` and every edge into it one line
    further down — but for the document's start (0:0: a module's call hierarchy item is there
    whatever the first line is, tracker/moves.py)."""
    moved = []
    for symbol, name, doc, line, character, operation, kind, detail, target in rows:
        if doc == uri:
            position, rest = symbol[len(uri) + 1 :].split(":", 1)
            symbol, line = f"{uri}#{int(position) + 1}:{rest}", line + 1
        fields = dict(target)
        if fields.get("uri") == uri and (fields["line"], fields["character"]) != (0, 0):
            fields["line"] += 1  # the document's start stays (a module's call item)
        moved.append((symbol, name, doc, line, character, operation, kind, detail,
                      tuple(sorted(fields.items()))))  # fmt: skip
    return sorted(moved)


def test_a_save_costs_what_it_changed(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    shutil.copytree(ROOT / "examples", ws)
    server = [str(SERVER), "--stdio"]
    db = tmp_path / "watch.db"
    process = Watching(ws, db, server)
    try:
        process.settled(0)
        start = graph(db)
        assert start == fresh(ws, tmp_path, "start", server)

        before = sent(process)
        edit(ws / "shapes" / "square.py", '"""A square."""', '"""A square shape."""')
        process.settled(1)
        assert sent(process) == before, "a docstring word re-asked something"
        assert graph(db) == start  # nothing moved, nothing lost

        central = most_referenced(db)
        path = Path(central.removeprefix("file://"))
        into = [row for row in start if row[2] == central or dict(row[8]).get("uri") == central]
        assert len(into) > 10  # a file most answers point into
        at_start = {(r[0], r[5]) for r in start if dict(r[8]) == {"uri": central, "line": 0,
                                                                  "character": 0}}  # fmt: skip
        write(path, "\n" + path.read_text())
        process.settled(2)
        watched = graph(db)
        assert watched == shifted(start, central), difference(watched, shifted(start, central))
        # Only the answers naming the document's start were asked again (a call hierarchy
        # operation is two requests: prepare, then the calls).
        assert 0 < sent(process) - before <= 2 * len(at_start), at_start
        expected = fresh(ws, tmp_path, "blank", server)
        assert watched == expected, difference(watched, expected)

        before = sent(process)
        edit(ws / "app.py", "    print(summarize(shapes))\n",
             "    print(summarize(shapes))\n    print(build())\n")  # fmt: skip
        process.settled(3)
        watched = graph(db)
        build = [r for r in watched if r[1] == "build" and r[5] == "references"]
        line = (ws / "app.py").read_text().splitlines().index("    print(build())")
        assert any(dict(r[8]).get("line") == line for r in build), build  # the new call's edge
        assert sent(process) > before
        expected = fresh(ws, tmp_path, "call", server)
        assert watched == expected, difference(watched, expected)
    finally:
        process.stop()
