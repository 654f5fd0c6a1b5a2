"""A failing symbol in a notebook cell backs off by name, not by position (issue 29).

The client sends the notebook as VS Code does (LSP 3.17 notebookDocument/did*, cell URIs
``vscode-notebook-cell:``), the pygls server behind the proxy fails every request on a name
starting with `bad` (pygls keeps the cells' texts from the same notifications). Backoff is long
(`--backoff-base 600`) so "still backing off" never depends on the machine's speed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from harness import Session, Start, count, proxy_cmd, server_cmd

from lsp_backoff.tracker import queries

pytestmark = pytest.mark.asyncio

DEFINE = "def bad_helper(x):\n    return x\n"
USE = "value = bad_helper(1)\n"


def notebook(ws: Path) -> tuple[str, list[str]]:
    uri = (ws / "analysis.ipynb").as_uri()
    cells = [f"vscode-notebook-cell:{ws}/analysis.ipynb#W{i}sZmlsZQ%3D%3D" for i in range(3)]
    return uri, cells


def item(uri: str, text: str) -> dict[str, Any]:
    return {"uri": uri, "languageId": "python", "version": 1, "text": text}


def insert_line(session: Session, nb: str, cell: str, text: str, version: int) -> None:
    where = {"line": 0, "character": 0}
    content = {
        "document": {"uri": cell, "version": version},
        "changes": [{"range": {"start": where, "end": where}, "text": text}],
    }
    session.notify(
        "notebookDocument/didChange",
        {
            "notebookDocument": {"uri": nb, "version": version},
            "change": {"cells": {"textContent": [content]}},
        },
    )


async def asked(session: Session) -> int:
    return count(await session.counts(), "bad_helper")


async def test_a_failing_cell_symbol_backs_off_by_name(start: Start, ws: Path) -> None:
    db = ws.parent / "graph.db"
    opts = ("--db", str(db), "--backoff-base", "600", "--backoff-max", "600")
    session = await start(proxy_cmd(server_cmd("always_fails"), *opts))
    await session.initialize(ws)
    nb, (cell0, cell1, cell2) = notebook(ws)
    session.notify(
        "notebookDocument/didOpen",
        {
            "notebookDocument": {
                "uri": nb,
                "notebookType": "jupyter-notebook",
                "version": 0,
                "cells": [{"kind": 2, "document": cell0}, {"kind": 2, "document": cell1}],
            },
            "cellTextDocuments": [item(cell0, DEFINE), item(cell1, USE)],
        },
    )
    assert "error" in await session.ask(cell1, (0, 9))
    assert await asked(session) == 1
    # Another position inside `bad_helper`: the same key, answered null by the proxy.
    again = await session.ask(cell1, (0, 17))
    assert "error" not in again and again["result"] is None, again
    assert await asked(session) == 1

    # A line inserted above it (at the top of cell 0): its own cell did not change.
    insert_line(session, nb, cell0, "import math\n", 2)
    assert (await session.ask(cell1, (0, 12)))["result"] is None
    # A cell inserted above it: the same.
    session.notify(
        "notebookDocument/didChange",
        {
            "notebookDocument": {"uri": nb, "version": 3},
            "change": {
                "cells": {
                    "structure": {
                        "array": {
                            "start": 1,
                            "deleteCount": 0,
                            "cells": [{"kind": 2, "document": cell2}],
                        },
                        "didOpen": [item(cell2, "offset = 10\n")],
                    }
                }
            },
        },
    )
    assert (await session.ask(cell1, (0, 10)))["result"] is None
    assert await asked(session) == 1

    # Its own cell edited: re-armed, as an edited file's symbols are; asked at the new position.
    insert_line(session, nb, cell1, "# total\n", 4)
    assert "error" in await session.ask(cell1, (1, 9))
    assert await asked(session) == 2

    await session.flush()
    conn = queries.connect(db)
    try:
        states = {(s.symbol, s.failures) for s in queries.read_failures(conn)}
    finally:
        conn.close()
    assert states == {(f"{cell1}#1:8:bad_helper", 1)}, states
    assert await session.shutdown() == 0
