"""The name rule in an editor's session (issue 13): a real proxy in front of the cross-file test
server (servers/grep_server.py), driven as an editor drives it. When a document's content
changes, symbols of *other* documents whose names its old or new text mentions lose their
references, implementation and call rows (asked again next time); other operations, and
symbols it never mentions, keep theirs."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest_asyncio

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from harness import Doc, Session, db_edges
from watch_helpers import grep_editor

REFS, IMPL, DEF = (
    "textDocument/references",
    "textDocument/implementation",
    "textDocument/definition",
)

SHAPES = """\
def area(s):
    return 0


def unused():
    return 1


def other():
    return 2
"""
APP = "from shapes import area\n\n\ndef main():\n    return area(2)\n"
#: app.py edited: it now calls unused (new text) and no longer mentions area (old text only).
EDITED = "from shapes import unused\n\n\ndef main():\n    return unused()\n"


@pytest_asyncio.fixture
async def editor(tmp_path: Path) -> AsyncIterator[tuple[Session, Path, Doc, Doc]]:
    async with grep_editor(tmp_path, SHAPES, APP, loaded=True) as opened:
        yield opened


def rows(db: Path, name: str) -> dict[str, set[str]]:
    """operation -> the kinds of row (edge, none, error) symbol `name` has."""
    found: dict[str, set[str]] = {}
    for row in db_edges(db, name):
        found.setdefault(row["operation"], set()).add(row["kind"])
    return found


async def ask(session: Session, doc: Doc, name: str, method: str) -> Any:
    response = await session.ask(doc.uri, doc.pos(f"def {name}", 4), method)
    assert "result" in response, response
    return response["result"]


async def test_a_change_rearms_the_symbols_its_old_or_new_text_names(editor) -> None:
    session, db, shapes, app = editor
    assert await ask(session, shapes, "area", IMPL)  # edges into shapes.py only
    assert await ask(session, shapes, "area", DEF)
    assert await ask(session, shapes, "unused", REFS) == []  # nobody mentions it yet
    assert await ask(session, shapes, "other", REFS) == []
    await session.flush()
    assert rows(db, "area") == {"implementation": {"edge"}, "definition": {"edge"}}
    assert rows(db, "unused") == {"references": {"none"}}
    assert rows(db, "other") == {"references": {"none"}}

    session.change(app.uri, EDITED, version=2)
    await session.flush()  # the rule's names are found on the writer thread, before this

    # New text: app.py now calls unused, so "nobody refers to it" is no longer known.
    assert rows(db, "unused") == {}
    # Old text: area was named there. Its implementation has no edge into app.py (the target
    # rule cannot explain this), yet a change there may change it: asked again.
    assert rows(db, "area") == {"definition": {"edge"}}  # definition is not re-armed
    assert rows(db, "other") == {"references": {"none"}}  # never named: kept

    # Asked again, the answers are current; closing without saving brings back the disk's
    # text (naming area again), read off the loop, and the rule runs with both texts.
    assert await ask(session, shapes, "unused", REFS)
    assert await ask(session, shapes, "area", IMPL)
    await session.flush()
    assert rows(db, "unused") == {"references": {"edge"}}
    assert rows(db, "area") == {"implementation": {"edge"}, "definition": {"edge"}}
    session.notify("textDocument/didClose", {"textDocument": {"uri": app.uri}})
    await session.flush()

    async def rearmed() -> bool:  # the disk text is read in a worker, then the rule queued
        await session.flush()
        return rows(db, "unused") == {} and rows(db, "area") == {"definition": {"edge"}}

    async with asyncio.timeout(60):  # a bound on a failed wait only
        while not await rearmed():
            await asyncio.sleep(0.05)
    assert rows(db, "other") == {"references": {"none"}}


async def test_a_file_deleted_rearms_the_names_its_last_text_mentioned(editor) -> None:
    session, db, shapes, app = editor
    assert await ask(session, shapes, "area", IMPL)
    assert await ask(session, shapes, "other", REFS) == []
    await session.flush()
    assert rows(db, "area") == {"implementation": {"edge"}}
    app.path.unlink()
    # Reported deleted while still open: the open text is the last one known.
    session.notify("workspace/didChangeWatchedFiles", {"changes": [{"uri": app.uri, "type": 3}]})
    session.notify("textDocument/didClose", {"textDocument": {"uri": app.uri}})
    await session.flush()
    assert rows(db, "area") == {}
    assert rows(db, "other") == {"references": {"none"}}
