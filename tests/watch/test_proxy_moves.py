"""Issue 24 in an editor's session: a real proxy in front of the cross-file test server
(servers/grep_server.py), driven as an editor drives it. An edit moves the answers pointing into
the edited document through its line map instead of dropping them: a blank line at the top moves
them by one line, a comment word keeps them, a new call of a symbol re-arms that symbol only."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from harness import PY, Doc, Session, db_edges, proxy_cmd

SERVER = Path(__file__).parent / "servers" / "grep_server.py"
REFS = "textDocument/references"

SHAPES = "def area(s):\n    return 0\n\n\ndef other():\n    return 2\n"
APP = "from shapes import area, other\n\n\ndef main():\n    # the main thing\n    return area(2)\n"


@pytest_asyncio.fixture
async def editor(tmp_path: Path) -> AsyncIterator[tuple[Session, Path, Doc, Doc]]:
    ws = tmp_path / "ws"
    shapes, app = Doc(ws / "shapes.py", SHAPES), Doc(ws / "app.py", APP)
    db = tmp_path / "graph.db"
    server = [PY, str(SERVER), "--log", str(tmp_path / "log.jsonl")]
    session = await Session.start(proxy_cmd(server, "--db", str(db)))
    try:
        await session.initialize(ws)
        await session.wait_for(
            lambda m: m.get("method") == "$/progress" and m["params"]["value"]["kind"] == "end"
        )
        session.open(shapes.uri, shapes.text)
        session.open(app.uri, app.text)
        yield session, db, shapes, app
    finally:
        await session.close()


def targets(db: Path, name: str) -> set[tuple[str, int, int]]:
    """Where `name`'s references point: (file name, line, character)."""
    found = set()
    for row in db_edges(db, name):
        if row["operation"] == "references" and row["target"]:
            t = row["target"]
            found.add((t["uri"].rsplit("/", 1)[1], t["line"], t["character"]))
    return found


async def ask(session: Session, doc: Doc, name: str) -> Any:
    response = await session.ask(doc.uri, doc.pos(f"def {name}", 4), REFS)
    assert "result" in response, response
    return response["result"]


async def test_an_edit_moves_the_answers_into_the_document(editor) -> None:
    session, db, shapes, app = editor
    assert await ask(session, shapes, "area")
    assert await ask(session, shapes, "other")
    await session.flush()
    area = {("app.py", 0, 19), ("app.py", 5, 11)}
    assert targets(db, "area") == area
    assert targets(db, "other") == {("app.py", 0, 25)}

    session.change(app.uri, "\n" + APP, version=2)  # a blank line at the top
    await session.flush()
    assert targets(db, "area") == {(f, line + 1, c) for f, line, c in area}
    assert targets(db, "other") == {("app.py", 1, 25)}

    session.change(app.uri, "\n" + APP.replace("main thing", "thing"), version=3)  # a comment
    await session.flush()
    assert targets(db, "area") == {(f, line + 1, c) for f, line, c in area}

    # A new call of area: its references are asked again; other's answer only moves.
    session.change(app.uri, APP + "\n\nprint(area(3))\n", version=4)
    await session.flush()
    assert targets(db, "area") == set()
    assert targets(db, "other") == {("app.py", 0, 25)}
    assert await ask(session, shapes, "area")
    await session.flush()
    assert targets(db, "area") == area | {("app.py", 8, 6)}
