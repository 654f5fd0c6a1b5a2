"""The one table from LSP method to operation, and where a request names its symbol.

Every part of the project that maps a method to an operation name (the router, recording,
enrich's asking) reads it here. Operation names are the public ones (tracker.model.OPERATIONS).
"""

from __future__ import annotations

from typing import Any

import msgspec

from lsp_backoff.proxy.documents import Documents
from lsp_backoff.proxy.recording import item_ref
from lsp_backoff.tracker.model import SymbolRef

#: Requests at a position in a document: asked with textDocument + position.
LOCATE: dict[str, str] = {
    "textDocument/definition": "definition",
    "textDocument/declaration": "declaration",
    "textDocument/typeDefinition": "type_definition",
    "textDocument/implementation": "implementation",
    "textDocument/references": "references",
}
PREPARE_CALLS = "prepare_call_hierarchy"
#: Requests about a call hierarchy item (from prepareCallHierarchy): asked with ``item``.
CALLS: dict[str, str] = {
    "callHierarchy/incomingCalls": "incoming_calls",
    "callHierarchy/outgoingCalls": "outgoing_calls",
}
#: Every tracked request: method → operation.
TRACKED: dict[str, str] = {
    **LOCATE,
    "textDocument/prepareCallHierarchy": PREPARE_CALLS,
    **CALLS,
}
#: The same, operation → method.
METHODS: dict[str, str] = {operation: method for method, operation in TRACKED.items()}
CALL_OPERATIONS = frozenset(CALLS.values())

#: Requests whose answers list symbols (recorded, never tracked): method → source name.
SYMBOL_LISTS: dict[str, str] = {
    "textDocument/documentSymbol": "document_symbol",
    "workspace/symbol": "workspace_symbol",
}


class _Document(msgspec.Struct):
    uri: str


class _InDocument(msgspec.Struct):
    """Params naming a document: ``textDocument`` (LOCATE, the symbol lists)."""

    textDocument: _Document | None = None


class _AboutItem(msgspec.Struct):
    """Params naming a call hierarchy item (CALLS): its ``uri``."""

    item: _Document | None = None


def document_of(operation: str, params: Any) -> str | None:
    """The URI whose text a tracked request's symbol key is computed from (or a symbol list's
    document); None for params of another shape."""
    try:
        if operation in CALL_OPERATIONS:
            document = msgspec.convert(params, _AboutItem).item
        else:
            document = msgspec.convert(params, _InDocument).textDocument
    except msgspec.ValidationError:
        return None
    return document.uri if document is not None else None


def symbol_of(docs: Documents, operation: str, params: Any) -> SymbolRef | None:
    """The symbol a tracked request asks about, keyed from ``docs`` (memory only); None for
    params of an unexpected shape."""
    if not isinstance(params, dict):
        return None
    if operation in CALL_OPERATIONS:
        # Keyed from the text, not its name; the version is attached later (routing).
        return item_ref(docs, params.get("item"), versioned=False)
    try:
        uri = params["textDocument"]["uri"]
        line = params["position"]["line"]
        character = params["position"]["character"]
    except (KeyError, TypeError):
        return None
    if not (isinstance(uri, str) and isinstance(line, int) and isinstance(character, int)):
        return None
    key, ident = docs.symbol_at(uri, line, character)
    return SymbolRef(key, uri, ident.name, ident.line, ident.character)
