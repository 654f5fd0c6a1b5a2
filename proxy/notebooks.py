"""Notebook synchronisation: each cell of an open notebook is a document whose text is kept.

LSP 3.17 (``notebookDocument/notebook.md``): in the *notebook* mode a client sends a cell's text
only inside ``notebookDocument/did*`` — never as ``textDocument/did*`` — and then asks about the
cell's own URI (``vscode-notebook-cell:…``). So the texts follow these messages here, kept in the
session's :class:`~lsp_backoff.proxy.documents.Documents` under the cell URIs exactly as a
file's: O(edit) incremental changes (proxy/text.py), the negotiated encoding, the identifier
rules of the cell's ``languageId``. A key in a cell names its identifier (``…#0:4:helper``) and
one identifier has one key, whatever the position inside it.

What each message does, after it has been forwarded unchanged (deferred work, as proxy/sync.py):

- ``didOpen``: each cell text is opened as by ``textDocument/didOpen``. A cell already known
  with another text is a content change; a cell this session did not know is compared by its
  content hash at the next request, as a file opened before it was read — and the name rule runs
  on its text (unlike a file, the server did not see these cells before they were opened).
- ``didChange``: ``cells.structure`` splices the cell list; a cell in ``didClose`` and not
  reopened in ``didOpen`` of the same change is *removed*: it leaves the graph as a deleted file
  does (``Outcomes.forget_document``: its symbols, rows, failure state, answers pointing into
  it) and the name rule runs on its last text. A cell moved (deleted and inserted again by the
  array change, in neither list: vscode-languageclient leaves it out of both) keeps its text and
  state: its URI, hence its keys, did not change. ``cells.textContent`` is ``textDocument/
  didChange`` per cell (the cell's symbols are re-armed, the name rule runs); ``cells.data``
  (kind, metadata, execution summary) and ``metadata`` change no text: nothing.
- ``didSave``: nothing — the cell texts are what the client sent, whatever the file now holds.
- ``didClose``: each cell text is closed: unknown from then on, but not changed — the notebook
  keeps it — so its rows and failure state stay, like a closed file's, and their content hash
  decides at the next open whether they still hold. The name rule runs on its last text: the
  server stops seeing the cell.

The order inside one ``didChange`` is the spec's field order (structure, data, textContent), as
in vscode-languageserver's notebook sync (server/src/common/notebook.ts). A cell in both
``didOpen`` and ``didClose`` of one change (the spec is silent; vscode-languageclient never sends
it) is taken as reopened and compared, not removed — that library would end with it closed.
Nothing here reads a file, and nothing raises for bad client input: a malformed part is skipped
(the proxy only loses names).
"""

from __future__ import annotations

from typing import Any

from lsp_backoff.proxy import messages as msg
from lsp_backoff.proxy.documents import Documents
from lsp_backoff.proxy.outcomes import Outcomes
from lsp_backoff.proxy.sync import changed

#: The notifications this module follows (the client's; the spec defines no others).
PREFIX = "notebookDocument/did"


def _uri(value: Any) -> str | None:
    """``value["uri"]`` when ``value`` is an object with a string ``uri``."""
    uri = value.get("uri") if isinstance(value, dict) else None
    return uri if isinstance(uri, str) else None


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _cell_uris(cells: Any) -> list[str]:
    """The document URIs of a NotebookCell[] (cells without one are left out)."""
    found = []
    for cell in _list(cells):
        uri = cell.get("document") if isinstance(cell, dict) else None
        if isinstance(uri, str):
            found.append(uri)
    return found


class Notebooks:
    """One per session: each open notebook's cells (their document URIs, in order).

    The texts live in the session's Documents; this keeps only what the notebook messages say
    about structure, so a ``didClose`` that leaves cells out still closes every one of them.
    """

    def __init__(self) -> None:
        self._cells: dict[str, list[str]] = {}

    def cells(self, notebook: str) -> list[str] | None:
        """The cells of an open notebook, in order; None when it is not open."""
        cells = self._cells.get(notebook)
        return None if cells is None else list(cells)

    def event(self, method: str, body: bytes, docs: Documents, outcomes: Outcomes) -> None:
        """Apply one ``notebookDocument/did*`` notification (its raw body) to the texts."""
        decoded = msg.decode(body)
        params = decoded.get("params") if decoded else None
        if not isinstance(params, dict):
            return
        notebook = _uri(params.get("notebookDocument"))
        if notebook is None:
            return
        if method == "notebookDocument/didOpen":
            self._cells[notebook] = _cell_uris(params["notebookDocument"].get("cells"))
            for item in _list(params.get("cellTextDocuments")):
                _open_cell(item, docs, outcomes)
        elif method == "notebookDocument/didChange":
            change = params.get("change")
            cells = change.get("cells") if isinstance(change, dict) else None
            if isinstance(cells, dict):
                self._change(notebook, cells, docs, outcomes)
        elif method == "notebookDocument/didClose":
            listed = [u for u in map(_uri, _list(params.get("cellTextDocuments"))) if u]
            known = self._cells.pop(notebook, [])
            for uri in dict.fromkeys([*listed, *known]):  # each once, in order
                _close_cell(uri, docs, outcomes)
        # didSave: nothing (see the module docstring).

    def _change(
        self, notebook: str, cells: dict[str, Any], docs: Documents, outcomes: Outcomes
    ) -> None:
        structure = cells.get("structure")
        if isinstance(structure, dict):
            self._splice(notebook, structure.get("array"))
            opened = _list(structure.get("didOpen"))
            reopened = {_uri(item) for item in opened}
            for uri in map(_uri, _list(structure.get("didClose"))):
                if uri is not None and uri not in reopened:
                    _remove_cell(uri, docs, outcomes)
            for item in opened:  # a cell closed and opened at once: compared, as a didOpen
                _open_cell(item, docs, outcomes)
        for content in _list(cells.get("textContent")):
            uri = _uri(content.get("document")) if isinstance(content, dict) else None
            changes = content.get("changes") if uri is not None else None
            if uri is not None and isinstance(changes, list):
                _edit_cell(uri, changes, docs, outcomes)

    def _splice(self, notebook: str, array: Any) -> None:
        """NotebookCellArrayChange: delete ``deleteCount`` cells at ``start``, insert ``cells``."""
        if not isinstance(array, dict):
            return
        start, count = array.get("start"), array.get("deleteCount")
        if not isinstance(start, int) or not isinstance(count, int) or start < 0 or count < 0:
            return
        listed = self._cells.setdefault(notebook, [])
        listed[start : start + count] = _cell_uris(array.get("cells"))


def _open_cell(item: Any, docs: Documents, outcomes: Outcomes) -> None:
    """A cell's TextDocumentItem, as textDocument/didOpen (proxy/sync.py) takes it."""
    uri = _uri(item)
    text = item.get("text") if uri is not None else None
    if uri is None or not isinstance(text, str):
        return
    docs.note_language(uri, item.get("languageId"))  # picks its identifier rules
    before = docs.document(uri)
    docs.open(uri, text)
    outcomes.note_version(uri, docs.version(uri))
    if before is None:
        # Not known to this session: what was learnt about the cell (a restarted proxy, a
        # notebook reopened) carries its content hash, compared at the next request — as for
        # a file opened before it was read. The server sees the cell from now on: name rule.
        outcomes.mentioned(uri, None, docs.document(uri))
    elif before.text != text:
        changed(uri, docs, outcomes, before)


def _edit_cell(uri: str, changes: list[Any], docs: Documents, outcomes: Outcomes) -> None:
    """One cell's content changes, as textDocument/didChange: no hash per keystroke."""
    before = docs.document(uri)
    if docs.change(uri, changes):
        outcomes.rearm(uri)
        outcomes.mentioned(uri, before, docs.document(uri))


def _remove_cell(uri: str, docs: Documents, outcomes: Outcomes) -> None:
    """A cell deleted from its notebook: gone from the graph, as a deleted file."""
    before = docs.document(uri)
    docs.close(uri)
    outcomes.forget_document(uri)
    outcomes.mentioned(uri, before, None)


def _close_cell(uri: str, docs: Documents, outcomes: Outcomes) -> None:
    """A cell of a closed notebook: its text is unknown from now on, not changed — its rows and
    failure state keep their content hash; the server stops seeing it (the name rule)."""
    before = docs.document(uri)
    docs.close(uri)
    if before is not None:
        outcomes.mentioned(uri, before, None)
