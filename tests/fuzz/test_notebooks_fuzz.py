"""Notebook cell structure under random edits, against a plain model of the notebook.

The client side is written as vscode-languageclient sends it (client/src/common/notebook.ts):
one array change per edit, from the common prefix and suffix of the cell lists; ``didOpen`` for
cells added and not removed, ``didClose`` for cells removed and not added — so a moved cell is
in neither. After every step the proxy's view must be the model's: the cells in order, each
live cell's text, no text for a removed cell, and exactly the removed cells forgotten.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from lsp_backoff.proxy.config import ProxyConfig
from lsp_backoff.proxy.core import Core
from lsp_backoff.proxy.documents import Documents
from lsp_backoff.proxy.framing import Frame, FrameParser, encode
from lsp_backoff.proxy.routing import Router
from lsp_backoff.tracker.backoff import BackoffPolicy
from lsp_backoff.tracker.failures import FailureTracker

NB = "file:///fuzz/nb.ipynb"
TEXT = st.lists(st.sampled_from(["a", "b_c", " ", "\n", "é", "😀", "(x)"]), max_size=8).map("".join)
OPS = st.lists(
    st.one_of(
        st.tuples(st.just("insert"), st.integers(0, 9), TEXT),
        st.tuples(st.just("delete"), st.integers(0, 9), st.integers(1, 3)),
        st.tuples(st.just("move"), st.integers(0, 9), st.integers(0, 9)),
        st.tuples(st.just("edit"), st.integers(0, 9), TEXT),
        st.tuples(st.just("replace"), st.integers(0, 9), TEXT),
    ),
    max_size=25,
)


class Sink:
    def __init__(self) -> None:
        self.forgotten: list[str] = []

    def forget_document(self, uri: str) -> None:
        self.forgotten.append(uri)

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None  # every other write: not under test here


def framed(method: str, params: Any) -> Frame:
    body = json.dumps({"jsonrpc": "2.0", "method": method, "params": params}).encode()
    (item,) = FrameParser().feed(encode(body))
    assert isinstance(item, Frame)
    return item


def item(uri: str, text: str) -> dict[str, Any]:
    return {"uri": uri, "languageId": "python", "version": 1, "text": text}


def structure(old: list[str], new: list[str], texts: dict[str, str]) -> dict[str, Any] | None:
    """vscode-languageclient's array change and open/close lists for old → new."""
    start = 0
    while start < min(len(old), len(new)) and old[start] == new[start]:
        start += 1
    old_end, new_end = len(old), len(new)
    while old_end > start and new_end > start and old[old_end - 1] == new[new_end - 1]:
        old_end, new_end = old_end - 1, new_end - 1
    removed, added = old[start:old_end], new[start:new_end]
    if not removed and not added:
        return None
    array: dict[str, Any] = {"start": start, "deleteCount": len(removed)}
    if added:
        array["cells"] = [{"kind": 2, "document": uri} for uri in added]
    return {
        "array": array,
        "didOpen": [item(uri, texts[uri]) for uri in added if uri not in removed],
        "didClose": [{"uri": uri} for uri in removed if uri not in added],
    }


@given(first=st.lists(TEXT, max_size=4), ops=OPS)
def test_cells_follow_structure_and_text_changes(first: list[str], ops: list[Any]) -> None:
    sink = Sink()
    tracker = FailureTracker(BackoffPolicy())
    router = Router(Core(ProxyConfig(no_db=True), tracker=tracker, sink=sink), Documents())
    made = iter(range(1000))
    cells = [f"vscode-notebook-cell:/fuzz/nb.ipynb#W{next(made)}" for _ in first]
    texts = dict(zip(cells, first, strict=True))
    removed: set[str] = set()
    opened = {
        "notebookDocument": {
            "uri": NB,
            "notebookType": "jupyter-notebook",
            "version": 0,
            "cells": [{"kind": 2, "document": uri} for uri in cells],
        },
        "cellTextDocuments": [item(uri, texts[uri]) for uri in cells],
    }
    assert router.from_client(framed("notebookDocument/didOpen", opened)) is None
    for version, (op, a, b) in enumerate(ops, start=1):
        change: dict[str, Any] = {}
        new = list(cells)
        if op == "insert":
            uri = f"vscode-notebook-cell:/fuzz/nb.ipynb#W{next(made)}"
            texts[uri] = b
            new.insert(min(a, len(new)), uri)
        elif op == "delete" and new:
            del new[min(a, len(new) - 1) : min(a, len(new) - 1) + b]
        elif op == "move" and new:
            new.insert(min(b, len(new) - 1), new.pop(min(a, len(new) - 1)))
        elif op in ("edit", "replace") and new:
            uri = new[min(a, len(new) - 1)]
            if op == "edit":  # a line inserted at the top, incrementally
                top = {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}
                edits: list[dict[str, Any]] = [{"range": top, "text": b + "\n"}]
                texts[uri] = b + "\n" + texts[uri]
            else:
                edits = [{"text": b}]
                texts[uri] = b
            content = {"document": {"uri": uri, "version": version}, "changes": edits}
            change["textContent"] = [content]
        moved = structure(cells, new, texts)
        if moved is not None:
            change["structure"] = moved
        removed |= set(cells) - set(new)
        cells = new
        params = {"notebookDocument": {"uri": NB, "version": version}, "change": {"cells": change}}
        assert router.from_client(framed("notebookDocument/didChange", params)) is None
        router.drain()
        assert router.notebooks.cells(NB) == cells
        for uri in cells:
            assert router.documents.text(uri) == texts[uri]
        for uri in removed:
            assert router.documents.text(uri) is None
        assert sorted(sink.forgotten) == sorted(removed)
    closed = {"notebookDocument": {"uri": NB}, "cellTextDocuments": [{"uri": u} for u in cells]}
    router.from_client(framed("notebookDocument/didClose", closed))
    router.drain()
    assert router.notebooks.cells(NB) is None
    assert all(router.documents.text(uri) is None for uri in texts)
