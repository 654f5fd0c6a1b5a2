"""A Jupyter notebook through the proxy in front of basedpyright (issue 29).

The client speaks LSP 3.17's notebook mode as VS Code does (basedpyright 1.40 advertises
``notebookDocumentSync`` for ``jupyter-notebook`` Python cells): ``notebookDocument/didOpen``
with the cells' texts, ``didChange`` with cell text edits and cell structure changes (insert,
move, remove), ``didClose``; requests name the cells' own URIs (``vscode-notebook-cell:…``).
Every answer is byte-for-byte basedpyright's direct answer, and the graph's keys are what the
cells' texts give: ``helper`` named at its start, one key per identifier — where the proxy,
blind to notebooks, used to leave ``…#0:9`` and ``…#0:12`` for one ``helper``.

What basedpyright does with a notebook (1.40.2, observed): the cells are one module in order —
a name defined in a cell is visible in the cells after it; definitions and references answer
with cell URIs; the ``.ipynb`` file itself is never read.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from pairing import Pair, graph_cli, start_pair
from realtools import find_tool

pytestmark = [pytest.mark.real_server, pytest.mark.asyncio(loop_scope="module")]

HELPER = "def helper(x):\n    return x + 1\n"
USE = "value = helper(1)\n"
MORE = "total = helper(value) + helper(2)\n"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def pair(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Pair]:
    server = [find_tool("basedpyright-langserver"), "--stdio"]
    tmp: Path = tmp_path_factory.mktemp("notebook")
    root = tmp / "ws"
    root.mkdir()
    started = await start_pair(
        server, root=root, tmp=tmp, files=[], language_id="python", ready=lambda _c: True
    )
    yield started
    codes = await started.close()
    assert list(codes) == [0, 0], f"exit codes (direct, proxied) = {codes}; {started.log_tail()}"


def notify(pair: Pair, method: str, params: Any) -> None:
    for client in (pair.direct, pair.proxied):
        client.notify(method, params)


class Notebook:
    def __init__(self, pair: Pair) -> None:
        self.pair = pair
        self.uri = (pair.root / "analysis.ipynb").as_uri()
        self.version = 0

    def cell(self, n: int) -> str:
        return f"vscode-notebook-cell:{self.pair.root}/analysis.ipynb#W{n}sZmlsZQ%3D%3D"

    def change(self, cells: dict[str, Any]) -> None:
        self.version += 1
        params = {
            "notebookDocument": {"uri": self.uri, "version": self.version},
            "change": {"cells": cells},
        }
        notify(self.pair, "notebookDocument/didChange", params)


def item(uri: str, text: str) -> dict[str, Any]:
    return {"uri": uri, "languageId": "python", "version": 1, "text": text}


def code(uri: str) -> dict[str, Any]:
    return {"kind": 2, "document": uri}


def at(uri: str, line: int, character: int, **extra: Any) -> dict[str, Any]:
    return {
        "textDocument": {"uri": uri},
        "position": {"line": line, "character": character},
        **extra,
    }


REFS = {"context": {"includeDeclaration": True}}


async def keys(pair: Pair, notebook: Notebook) -> set[str]:
    """The current edges' symbol keys in the notebook's cells (URI prefix dropped)."""
    prefix = f"vscode-notebook-cell:{pair.root}/analysis.ipynb#"
    return {e["symbol"][len(prefix) :] for e in await pair.edges() if e["uri"].startswith(prefix)}


async def test_a_notebook_opened_edited_and_closed(pair: Pair) -> None:
    nb = Notebook(pair)
    c0, c1, c2 = nb.cell(0), nb.cell(1), nb.cell(2)
    notify(
        pair,
        "notebookDocument/didOpen",
        {
            "notebookDocument": {
                "uri": nb.uri,
                "notebookType": "jupyter-notebook",
                "version": 0,
                "cells": [code(c0), code(c1)],
            },
            "cellTextDocuments": [item(c0, HELPER), item(c1, USE)],
        },
    )
    # Two positions inside `helper` in cell 1, references in cell 0: answers as direct.
    for character in (9, 12):
        found = await pair.same("textDocument/definition", at(c1, 0, character))
        assert found.result[0]["uri"] == c0, found.raw
    refs = await pair.same("textDocument/references", at(c0, 0, 5, **REFS))
    assert len(refs.result) == 2, refs.raw
    assert await keys(pair, nb) == {"W0sZmlsZQ%3D%3D#0:4:helper", "W1sZmlsZQ%3D%3D#0:8:helper"}
    # One key, found by the CLI as the graph prints it (the cell URI has a '#' of its own).
    found_rows = graph_cli("edges", "--json", "--db", str(pair.db), "--symbol", f"{c1}#0:8:helper")
    assert [(r["operation"], r["target"]["uri"]) for r in found_rows] == [("definition", c0)]

    # A line inserted at the top of cell 0 (incremental): its key moves with the text.
    top = {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}
    edit = {"range": top, "text": "import math\n"}
    nb.change({"textContent": [{"document": {"uri": c0, "version": 2}, "changes": [edit]}]})
    refs = await pair.same("textDocument/references", at(c0, 1, 6, **REFS))
    assert len(refs.result) == 2, refs.raw
    # A new cell after cell 1, then moved above it: the moved cell keeps its text.
    nb.change(
        {
            "structure": {
                "array": {"start": 2, "deleteCount": 0, "cells": [code(c2)]},
                "didOpen": [item(c2, MORE)],
            }
        }
    )
    await pair.same("textDocument/definition", at(c2, 0, 26))
    nb.change(
        {"structure": {"array": {"start": 1, "deleteCount": 2, "cells": [code(c2), code(c1)]}}}
    )
    await pair.same("textDocument/definition", at(c1, 0, 10))
    await pair.same("textDocument/definition", at(c2, 0, 9))
    await pair.same("textDocument/references", at(c0, 1, 4, **REFS))
    current = await keys(pair, nb)
    assert current == {
        "W0sZmlsZQ%3D%3D#1:4:helper",  # references, after the edit
        "W1sZmlsZQ%3D%3D#0:8:helper",  # definition, unchanged by the edit of cell 0 and the move
        "W2sZmlsZQ%3D%3D#0:8:helper",
        "W2sZmlsZQ%3D%3D#0:24:helper",
    }, current
    # Every key of the notebook is its identifier's start in its cell's text.
    texts = {c0: "import math\n" + HELPER, c1: USE, c2: MORE}
    for row in await pair.edges():
        if row["uri"] in texts:
            line = texts[row["uri"]].splitlines()[row["line"]]
            assert re.match(r"\w+", line[row["character"] :])[0] == row["name"], row  # type: ignore[index]

    # Cell 1 removed: its rows leave the graph; the answers elsewhere follow the server's.
    nb.change({"structure": {"array": {"start": 2, "deleteCount": 1}, "didClose": [{"uri": c1}]}})
    await pair.same("textDocument/references", at(c0, 1, 4, **REFS))
    assert not any(e["uri"] == c1 for e in await pair.edges())

    notify(
        pair,
        "notebookDocument/didClose",
        {"notebookDocument": {"uri": nb.uri}, "cellTextDocuments": [{"uri": c0}, {"uri": c2}]},
    )
    # Closed: basedpyright no longer knows the cells; nor does the proxy know their texts.
    await pair.same("textDocument/definition", at(c2, 0, 9))
    assert (await pair.stats())["short_circuited"] == 0
