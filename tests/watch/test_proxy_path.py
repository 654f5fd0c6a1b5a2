"""The proxy path of issue 13: an editor session (the plain harness client, real processes) and a
server whose answers cross files (servers/grep_server.py). A file the editor reports deleted
through `workspace/didChangeWatchedFiles` leaves the graph, and so do the answers of other
symbols that point into it; a file that changes stops the answers pointing into its touched lines
counting (the others move with their lines: issue 24)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from harness import Doc, Session, db_edges
from watch_helpers import grep_editor

REFS = "textDocument/references"

SHAPES = "def area(s):\n    return 0\n\n\ndef unused():\n    return 1\n"
APP = "from shapes import area\n\n\ndef main():\n    return area(2)\n"


@pytest_asyncio.fixture
async def editor(tmp_path: Path) -> AsyncIterator[tuple[Session, Path, Doc, Doc]]:
    async with grep_editor(tmp_path, SHAPES, APP, loaded=False) as opened:
        yield opened


def rows(db: Path, sql: str, *args: object) -> list[tuple[object, ...]]:
    import sqlite3

    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


async def answered(session: Session, doc: Doc, name: str, method: str, line: int = 0) -> None:
    text = doc.path.read_text().splitlines()[line]
    response = await session.ask(doc.uri, (line, text.index(name)), method)
    assert response.get("result"), response


async def test_an_editor_deleting_a_file_through_watched_files(editor) -> None:
    session, db, shapes, app = editor
    await answered(session, shapes, "area", REFS)  # edges from shapes' area into app.py
    await answered(
        session, app, "main", "textDocument/definition", line=3
    )  # a symbol of app.py itself
    await answered(session, shapes, "unused", "textDocument/definition", line=4)
    await session.flush()
    assert {e["target"]["uri"] for e in db_edges(db, "area")} == {app.uri}
    assert db_edges(db, "main")

    app.path.unlink()
    session.notify("textDocument/didClose", {"textDocument": {"uri": app.uri}})
    session.notify("workspace/didChangeWatchedFiles", {"changes": [{"uri": app.uri, "type": 3}]})
    await session.flush()

    # Nothing of app.py is left: no symbols, no rows, no document, no failure state.
    assert not [e for e in db_edges(db) if app.uri in (e["uri"], (e["target"] or {}).get("uri"))]
    assert rows(db, "SELECT count(*) FROM symbols WHERE uri = ?", app.uri) == [(0,)]
    assert rows(db, "SELECT count(*) FROM documents WHERE uri = ?", app.uri) == [(0,)]
    assert rows(db, "SELECT count(*) FROM failures WHERE document = ?", app.uri) == [(0,)]
    # area's references pointed into the deleted file: asked again, not served stale.
    assert db_edges(db, "area") == []
    # What did not point there stays.
    assert [e["operation"] for e in db_edges(db, "unused")] == ["definition"]


async def test_a_changed_file_stops_the_answers_pointing_into_it(editor) -> None:
    session, db, shapes, app = editor
    await answered(session, shapes, "area", REFS)
    await answered(session, shapes, "unused", "textDocument/definition", line=4)
    await session.flush()
    assert db_edges(db, "area")
    # The editor inserts a line above the call: the recorded references move with their lines
    # (issue 24: tracker/moves.py), and a request on app.py recording its hash drops nothing.
    app.path.write_text("\n" + APP)
    session.change(app.uri, "\n" + APP, version=2)
    await answered(session, app, "main", "textDocument/definition", line=4)
    await session.flush()
    assert sorted(e["target"]["line"] for e in db_edges(db, "area")) == [1, 5]
    # An edit of the line a reference points into: that answer stops counting.
    edited = "\n" + APP.replace("area(2)", "area(3)")
    app.path.write_text(edited)
    session.change(app.uri, edited, version=3)
    await answered(session, app, "main", "textDocument/definition", line=4)
    await session.flush()
    assert db_edges(db, "area") == []
    assert [e["operation"] for e in db_edges(db, "unused")] == ["definition"]
    # Asked again, the answer is current again.
    await answered(session, shapes, "area", REFS)
    await session.flush()
    assert sorted(e["target"]["line"] for e in db_edges(db, "area")) == [1, 5]
