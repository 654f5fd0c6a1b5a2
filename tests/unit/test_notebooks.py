"""Notebook cells through the decision table (proxy/notebooks.py): frames in, keys and state out."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from lsp_backoff.proxy.actions import Arm, Disarm, ToClient, ToServer
from lsp_backoff.proxy.config import ProxyConfig
from lsp_backoff.proxy.core import Core
from lsp_backoff.proxy.documents import Documents
from lsp_backoff.proxy.framing import Frame, FrameParser, encode
from lsp_backoff.proxy.routing import Router
from lsp_backoff.tracker.backoff import BackoffPolicy
from lsp_backoff.tracker.failures import FailureTracker
from lsp_backoff.tracker.model import FailureState, SymbolRef, Target
from lsp_backoff.tracker.moves import Edited
from lsp_backoff.tracker.store_sql import split_key

NB = "file:///ws/analysis.ipynb"
CELL1 = "vscode-notebook-cell:/ws/analysis.ipynb#W0sZmlsZQ%3D%3D"
CELL2 = "vscode-notebook-cell:/ws/analysis.ipynb#W1sZmlsZQ%3D%3D"
CELL3 = "vscode-notebook-cell:/ws/analysis.ipynb#W2sZmlsZQ%3D%3D"
HELPER = "def helper(x):\n    return x + 1\n"
USE = "value = helper(1)\n"


class Sink:
    """Records what the router asks the store to write."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, Any]] = []

    def put_document(self, uri: str, version: str) -> None:
        self.rows.append(("document", uri))

    def put_symbols(self, symbols: list[SymbolRef], source: str) -> None:
        self.rows.extend(("symbol", s.key) for s in symbols)

    def put_edges(
        self, symbol: SymbolRef, operation: str, targets: Callable[[], list[Target]]
    ) -> None:
        self.rows.append(("edges", symbol.key))

    def put_placeholder(
        self, symbol: SymbolRef, operation: str, kind: str, detail: str = ""
    ) -> None:
        self.rows.append((kind, symbol.key))

    def put_failure(self, state: FailureState) -> None:
        self.rows.append(("failure", state.symbol))

    def clear_failure(self, symbol: str, operation: str) -> None:
        self.rows.append(("cleared", symbol))

    def withdraw_placeholder(
        self, symbol: str, operation: str, kind: str, detail_prefix: str
    ) -> None:
        pass

    def forget_document(self, uri: str) -> None:
        self.rows.append(("forgotten", uri))

    def rearm(self, uri: str, names: Any, operations: object) -> None:
        found = names() if callable(names) else names
        found = found.names if isinstance(found, Edited) else found  # an edit: what it named
        self.rows.append(("named", (uri, found)))

    def of(self, kind: str) -> list[Any]:
        return [row for k, row in self.rows if k == kind]


def framed(message: dict[str, Any]) -> Frame:
    (item,) = FrameParser().feed(encode(json.dumps(message).encode()))
    assert isinstance(item, Frame)
    return item


def note(router: Router, method: str, params: Any) -> None:
    assert (
        router.from_client(framed({"jsonrpc": "2.0", "method": method, "params": params})) is None
    )
    router.drain()


def cell(uri: str) -> dict[str, Any]:
    return {"kind": 2, "document": uri}


def item(uri: str, text: str, language: str = "python") -> dict[str, Any]:
    return {"uri": uri, "languageId": language, "version": 1, "text": text}


OPENED = {
    "notebookDocument": {
        "uri": NB,
        "notebookType": "jupyter-notebook",
        "version": 0,
        "cells": [cell(CELL1), cell(CELL2)],
    },
    "cellTextDocuments": [item(CELL1, HELPER), item(CELL2, USE)],
}


def make() -> tuple[Router, Sink]:
    tracker = FailureTracker(BackoffPolicy(base=5, max_retries=7), clock=lambda: 1000.0)
    sink = Sink()
    router = Router(Core(ProxyConfig(no_db=True), tracker=tracker, sink=sink), Documents())
    note(router, "notebookDocument/didOpen", OPENED)
    return router, sink


def change(router: Router, cells: dict[str, Any], version: int = 1) -> None:
    params = {"notebookDocument": {"uri": NB, "version": version}, "change": {"cells": cells}}
    note(router, "notebookDocument/didChange", params)


def insert_line(uri: str, text: str, line: int = 0) -> dict[str, Any]:
    where = {"line": line, "character": 0}
    return {
        "document": {"uri": uri, "version": 2},
        "changes": [{"range": {"start": where, "end": where}, "text": text}],
    }


def key_at(router: Router, uri: str, line: int, character: int) -> str:
    return router.documents.symbol_at(uri, line, character)[0]


_ids = iter(range(1, 10_000))


def ask(router: Router, uri: str, line: int, character: int) -> tuple[Any, list[Any]]:
    """A definition request at a position: (its id, the router's actions)."""
    ident = next(_ids)
    params = {"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}
    frame = framed(
        {"jsonrpc": "2.0", "id": ident, "method": "textDocument/definition", "params": params}
    )
    actions = router.from_client(frame)
    assert actions is not None
    return ident, actions


def fail(router: Router, uri: str, line: int, character: int) -> None:
    ident, actions = ask(router, uri, line, character)
    assert isinstance(actions[0], ToServer) and actions[1] == Arm(ident)
    error = framed({"jsonrpc": "2.0", "id": ident, "error": {"code": -32603, "message": "no"}})
    assert router.from_server(error) == [ToClient(error.raw), Disarm(ident)]
    router.drain()


def short_circuited(router: Router, uri: str, line: int, character: int) -> bool:
    ident, actions = ask(router, uri, line, character)
    if isinstance(actions[0], ToClient):
        return True
    reply = framed({"jsonrpc": "2.0", "id": ident, "result": None})
    router.from_server(reply)  # answered, so the request table is left clean
    router.drain()
    return False


def test_cell_keys_name_their_identifier_one_key_per_identifier() -> None:
    router, sink = make()
    # Two positions inside `helper` in cell 2: one key, named (was …#0:9 and …#0:12).
    assert key_at(router, CELL2, 0, 9) == key_at(router, CELL2, 0, 12) == f"{CELL2}#0:8:helper"
    assert key_at(router, CELL1, 0, 5) == f"{CELL1}#0:4:helper"
    # Cells new to the proxy: their content hashes told to the store, the name rule run.
    assert CELL1 in sink.of("document") and CELL2 in sink.of("document")
    assert router.notebooks.cells(NB) == [CELL1, CELL2]


def test_text_content_changes_are_incremental_per_cell() -> None:
    router, sink = make()
    change(router, {"textContent": [insert_line(CELL1, "import math\n")]})
    assert router.documents.text(CELL1) == "import math\n" + HELPER
    assert router.documents.text(CELL2) == USE  # the other cell is untouched
    assert key_at(router, CELL1, 1, 6) == f"{CELL1}#1:4:helper"
    named = dict(sink.of("named"))
    # What the edit added (issue 24): `helper` only moved down a line.
    assert "math" in named[CELL1] and "helper" not in named[CELL1]


def test_a_failing_symbol_backs_off_by_name_and_edits_above_it_elsewhere_keep_it() -> None:
    router, _ = make()
    fail(router, CELL2, 0, 9)
    # Another position inside the same identifier hits the same state.
    assert short_circuited(router, CELL2, 0, 12)
    # A line inserted above it — in cell 1 — leaves cell 2's text and state alone.
    change(router, {"textContent": [insert_line(CELL1, "import math\n")]})
    assert short_circuited(router, CELL2, 0, 10)
    # An edit of its own cell re-arms it, as an edit of a file does; the key moves with the text.
    change(router, {"textContent": [insert_line(CELL2, "# comment\n")]})
    assert not short_circuited(router, CELL2, 1, 9)
    assert key_at(router, CELL2, 1, 9) == f"{CELL2}#1:8:helper"


def test_a_moved_cell_keeps_its_text_and_state() -> None:
    router, sink = make()
    fail(router, CELL2, 0, 9)
    # vscode-languageclient moves a cell with one array change and neither didOpen nor didClose.
    change(
        router,
        {
            "structure": {
                "array": {"start": 0, "deleteCount": 2, "cells": [cell(CELL2), cell(CELL1)]}
            }
        },
    )
    assert router.notebooks.cells(NB) == [CELL2, CELL1]
    assert router.documents.text(CELL2) == USE
    assert short_circuited(router, CELL2, 0, 9)
    assert sink.of("forgotten") == []


def test_a_removed_cell_leaves_the_graph_and_an_added_one_is_kept() -> None:
    router, sink = make()
    fail(router, CELL2, 0, 9)
    change(
        router,
        {
            "structure": {
                "array": {"start": 1, "deleteCount": 1, "cells": [cell(CELL3)]},
                "didOpen": [item(CELL3, "other = helper(2)\n")],
                "didClose": [{"uri": CELL2}],
            }
        },
    )
    assert router.notebooks.cells(NB) == [CELL1, CELL3]
    assert sink.of("forgotten") == [CELL2]
    assert router.documents.text(CELL2) is None
    assert router.tracker.get(f"{CELL2}#0:8:helper", "definition") is None
    assert key_at(router, CELL3, 0, 10) == f"{CELL3}#0:8:helper"
    assert (CELL2, frozenset({"value", "helper"})) in sink.of("named")  # its last text


def test_a_cell_closed_and_opened_in_one_change_is_compared_not_removed() -> None:
    router, sink = make()
    fail(router, CELL2, 0, 9)
    change(
        router,
        {
            "structure": {
                "array": {"start": 1, "deleteCount": 1, "cells": [cell(CELL2)]},
                "didOpen": [item(CELL2, USE)],
                "didClose": [{"uri": CELL2}],
            }
        },
    )
    assert sink.of("forgotten") == []
    assert short_circuited(router, CELL2, 0, 9)  # the same text: nothing changed


def test_closing_the_notebook_closes_every_cell() -> None:
    router, sink = make()
    fail(router, CELL2, 0, 9)
    # A client that lists only one cell: the proxy closes the ones it knows too.
    params = {"notebookDocument": {"uri": NB}, "cellTextDocuments": [{"uri": CELL1}]}
    note(router, "notebookDocument/didClose", params)
    assert router.documents.text(CELL1) is None and router.documents.text(CELL2) is None
    assert router.notebooks.cells(NB) is None
    assert sink.of("forgotten") == [] and sink.of("cleared") == []  # closed, not deleted
    assert (CELL2, frozenset({"value", "helper"})) in sink.of("named")  # the server stops seeing it
    # Reopened with the same text: still backing off; with another text: asked again.
    note(router, "notebookDocument/didOpen", OPENED)
    assert short_circuited(router, CELL2, 0, 9)
    params = {"notebookDocument": {"uri": NB}, "cellTextDocuments": [{"uri": CELL2}]}
    note(router, "notebookDocument/didClose", params)
    edited = {**OPENED, "cellTextDocuments": [item(CELL1, HELPER), item(CELL2, "x = 1\n" + USE)]}
    note(router, "notebookDocument/didOpen", edited)
    assert not short_circuited(router, CELL2, 1, 9)


def test_data_metadata_and_save_change_no_text() -> None:
    router, sink = make()
    before = list(sink.rows)
    change(router, {"data": [{"kind": 2, "document": CELL1, "metadata": {"tags": ["x"]}}]})
    note(router, "notebookDocument/didSave", {"notebookDocument": {"uri": NB}})
    assert sink.rows == before
    assert router.documents.text(CELL1) == HELPER


@pytest.mark.parametrize(
    "params",
    [
        None,
        [],
        {"notebookDocument": "x"},
        {"notebookDocument": {"uri": NB}, "change": {"cells": {"structure": {"array": 5}}}},
        {
            "notebookDocument": {"uri": NB},
            "change": {"cells": {"textContent": [1, {"document": 2}]}},
        },
        {
            "notebookDocument": {"uri": NB},
            "change": {"cells": {"structure": {"array": {"start": -1, "deleteCount": 1}}}},
        },
    ],
)
def test_malformed_notebook_messages_are_forwarded_and_change_nothing(params: Any) -> None:
    router, _ = make()
    note(router, "notebookDocument/didChange", params)
    assert router.notebooks.cells(NB) == [CELL1, CELL2]
    assert router.documents.text(CELL1) == HELPER


def test_a_large_notebook_frame_is_never_streamed_past_unseen() -> None:
    router, _ = make()
    head = b'{"jsonrpc":"2.0","id":1,"method":"notebookDocument/didOpen","params":{'
    assert router.client_head(head) is False


def test_a_cell_key_splits_after_the_cell_uri_fragment() -> None:
    # `edges --symbol`, `orphans --after` and withdrawn placeholders find a symbol by this split.
    assert split_key(f"{CELL2}#0:8:helper") == (CELL2, "#0:8:helper")
    assert split_key(f"{CELL2}#3:1") == (CELL2, "#3:1")
    assert split_key("file:///w/a.ts#3:2:#retry") == ("file:///w/a.ts", "#3:2:#retry")
    assert split_key("file:///w/a.py#x") == ("file:///w/a.py", "#x")
