"""A pygls server whose tracked requests fail on purpose, chosen by the identifier's name.

- `bad*`: an error response (InternalError -32603);
- `busy*`: ContentModified (-32801), a transient error;
- `none*`: `null`;
- `seq_<letters>*`: the k-th request follows the k-th letter (`f` fails, `o` succeeds,
  `n` answers null); once the letters run out it succeeds;
- anything else: one location at 0:0 (references: a list of one; prepareCallHierarchy: an item
  for the identifier itself).
callHierarchy/incomingCalls and outgoingCalls follow the same rules by the item's name.
`test/counts` reports how often each (method, identifier) was asked.
"""

from __future__ import annotations

import os
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import RECORDER, TRACKED, identifier, location, make_server
from lsprotocol import types
from pygls.exceptions import JsonRpcContentModified, JsonRpcInternalError
from pygls.lsp.server import LanguageServer

server = make_server("always-fails")


def word_range(ls: LanguageServer, uri: str, position: types.Position) -> types.Range:
    line = ls.workspace.get_text_document(uri).lines[position.line]
    start = end = position.character
    while start > 0 and (line[start - 1].isalnum() or line[start - 1] == "_"):
        start -= 1
    while end < len(line) and (line[end].isalnum() or line[end] == "_"):
        end += 1
    return types.Range(
        start=types.Position(line=position.line, character=start),
        end=types.Position(line=position.line, character=end),
    )


def answer(ls: LanguageServer, method: str, params: Any) -> Any:
    uri = params.text_document.uri
    name = identifier(ls, uri, params.position)
    RECORDER.count(method, name)
    verdict = "o"
    if name.startswith("bad"):
        verdict = "f"
    elif name.startswith("busy"):
        verdict = "b"
    elif name.startswith("none"):
        verdict = "n"
    elif name.startswith("seq_"):
        script = name[4:].split("_")[0]
        attempt = RECORDER.counts[f"{method} {name}"]
        verdict = script[attempt - 1] if attempt <= len(script) else "o"
    if verdict == "f":
        raise JsonRpcInternalError(f"cannot resolve {name}")
    if verdict == "b":
        raise JsonRpcContentModified(f"content modified while resolving {name}")
    if verdict == "n":
        return None
    if method == types.TEXT_DOCUMENT_REFERENCES:
        return [location(uri)]
    if method == types.TEXT_DOCUMENT_PREPARE_CALL_HIERARCHY:
        # The item is the identifier itself, as when asked at a declaration.
        where = word_range(ls, uri, params.position)
        return [
            types.CallHierarchyItem(
                name=name,
                kind=types.SymbolKind.Function,
                uri=uri,
                range=where,
                selection_range=where,
            )
        ]
    return location(uri)


def register(method: str) -> None:
    @server.feature(method)
    def handler(ls: LanguageServer, params: Any) -> Any:
        return answer(ls, method, params)


for _method in TRACKED:
    register(_method)


def calls(method: str, params: Any) -> Any:
    """incoming/outgoing calls: the same name rules, keyed by the item's name."""
    item = params.item
    RECORDER.count(method, item.name)
    if item.name.startswith("bad"):
        raise JsonRpcInternalError(f"cannot resolve calls of {item.name}")
    if item.name.startswith("none"):
        return []
    if method == types.CALL_HIERARCHY_INCOMING_CALLS:
        return [types.CallHierarchyIncomingCall(from_=item, from_ranges=[item.selection_range])]
    return [types.CallHierarchyOutgoingCall(to=item, from_ranges=[item.selection_range])]


@server.feature(types.CALL_HIERARCHY_INCOMING_CALLS)
def incoming(_ls: LanguageServer, params: types.CallHierarchyIncomingCallsParams) -> Any:
    return calls(types.CALL_HIERARCHY_INCOMING_CALLS, params)


@server.feature(types.CALL_HIERARCHY_OUTGOING_CALLS)
def outgoing(_ls: LanguageServer, params: types.CallHierarchyOutgoingCallsParams) -> Any:
    return calls(types.CALL_HIERARCHY_OUTGOING_CALLS, params)


if __name__ == "__main__":
    server.start_io()
