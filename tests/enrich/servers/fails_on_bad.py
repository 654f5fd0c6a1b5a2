"""A pygls server for the enrich tests; what it answers depends on the identifier's name.

documentSymbol lists every `def NAME` / `class NAME` (flat). Tracked requests on
- `bad*`: always an error response (InternalError -32603);
- `empty*`: `[]` (`null` for the single-location requests);
- `crash*`: the process exits (status 3) — once per `--crash-marker` file, or every time if no
  marker is given;
- `modified*`: ContentModified (-32801) the first time each method is asked about it, as ty
  and pyrefly answer a request in flight when a document opens or closes; then as below;
- `cancelled*`: RequestCancelled (-32800) the first time, as pyrefly says it ("canceled due
  to subsequent mutation"); then as below;
- `flicker*`: empty, except ContentModified the second time each method is asked;
- `never*`: ContentModified every time;
- `refused*`: RequestCancelled every time (pyrefly, for a slow request, while a window keeps
  opening and closing documents);
- `preparemod*`: prepareCallHierarchy answers ContentModified the second time, incoming
  calls the first time: the item is known, the calls must be asked again with it;
- anything else: the symbol's own location (references: a list; call hierarchy: an item whose
  selectionRange is the name, incoming/outgoing calls: one call from/to the same item).

Every tracked request is appended to `--log FILE` as one JSON line {"t", "method", "name"}
(wall-clock time, written before answering), which is how the tests count requests across
processes and proxy restarts. `--delay S` makes every tracked request take S seconds.

Asks are counted per process and (method, name). `--no-call-hierarchy` leaves
callHierarchyProvider out of the capabilities (as zuban does) and answers the requests anyway,
so asking them shows up in the log. `--name` is the serverInfo name it gives in initialize
(`--open-files auto` decides by it).

`--events FILE` appends one JSON line per didOpen, didClose and request about a document
{"pid", "event": "open" | "close" | "ask" | "outline", "uri", "version" (opens), "open" (asks
and documentSymbol: was the document open), "name" (asks), "count" (documents open now)}:
the window and pool tests read it. `--open-only` answers a request on a document that is not
open with an error, as clangd does.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import re
import time
from typing import Any

from lsprotocol import types
from pygls.capabilities import ServerCapabilitiesBuilder
from pygls.exceptions import (
    JsonRpcContentModified,
    JsonRpcInternalError,
    JsonRpcInvalidParams,
    JsonRpcRequestCancelled,
)
from pygls.lsp.server import LanguageServer

DECLARATION = re.compile(r"^\s*(def|class)\s+(\w+)")

parser = argparse.ArgumentParser()
parser.add_argument("--log", required=True)
parser.add_argument("--delay", type=float, default=0.0)
parser.add_argument("--crash-marker")
parser.add_argument("--events")
parser.add_argument("--open-only", action="store_true")
parser.add_argument("--no-call-hierarchy", action="store_true")
parser.add_argument("--name", default="fails-on-bad", help="serverInfo.name in initialize")
options = parser.parse_args()

OPEN: set[str] = set()
ASKS: collections.Counter[tuple[str, str]] = collections.Counter()

server = LanguageServer(options.name, "1")


def log(method: str, name: str) -> None:
    line = json.dumps({"t": time.monotonic(), "method": method, "name": name}) + "\n"
    with open(options.log, "a", encoding="utf-8") as handle:
        handle.write(line)
    ASKS[(method, name)] += 1
    asks = ASKS[(method, name)]
    if (
        (name.startswith("modified") and asks == 1)
        or (name.startswith("flicker") and asks == 2)
        or name.startswith("never")
        or (name.startswith("preparemod") and (method, asks) in PREPAREMOD)
    ):
        raise JsonRpcContentModified("content modified")
    if (name.startswith("cancelled") and asks == 1) or name.startswith("refused"):
        raise JsonRpcRequestCancelled("canceled due to subsequent mutation")


PREPAREMOD = {
    (types.TEXT_DOCUMENT_PREPARE_CALL_HIERARCHY, 2),
    (types.CALL_HIERARCHY_INCOMING_CALLS, 1),
}


def event(kind: str, uri: str, **fields: Any) -> None:
    if options.events:
        line = {"pid": os.getpid(), "event": kind, "uri": uri, "count": len(OPEN), **fields}
        with open(options.events, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(line) + "\n")


def asked(uri: str, kind: str = "ask", name: str = "") -> None:
    """Every request about a document: recorded, and refused on a closed document under
    --open-only."""
    event(kind, uri, open=uri in OPEN, name=name)
    if options.open_only and uri not in OPEN:
        raise JsonRpcInvalidParams(f"trying to get AST for non-added document {uri}")


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: LanguageServer, params: types.DidOpenTextDocumentParams) -> None:
    OPEN.add(params.text_document.uri)
    event("open", params.text_document.uri, version=params.text_document.version)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: LanguageServer, params: types.DidCloseTextDocumentParams) -> None:
    OPEN.discard(params.text_document.uri)
    event("close", params.text_document.uri)


def declarations(ls: LanguageServer, uri: str) -> list[tuple[str, str, int, int]]:
    lines = ls.workspace.get_text_document(uri).lines
    found = []
    for number, text in enumerate(lines):
        match = DECLARATION.match(text)
        if match:
            found.append((match.group(1), match.group(2), number, match.start(2)))
    return found


def name_range(line: int, character: int, name: str) -> types.Range:
    return types.Range(
        start=types.Position(line=line, character=character),
        end=types.Position(line=line, character=character + len(name)),
    )


@server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
def document_symbol(ls: LanguageServer, params: types.DocumentSymbolParams) -> Any:
    asked(params.text_document.uri, "outline")
    result = []
    for keyword, name, line, character in declarations(ls, params.text_document.uri):
        where = name_range(line, character, name)
        kind = types.SymbolKind.Class if keyword == "class" else types.SymbolKind.Function
        result.append(
            types.DocumentSymbol(name=name, kind=kind, range=where, selection_range=where)
        )
    return result


def item_for(ls: LanguageServer, uri: str, position: types.Position) -> types.CallHierarchyItem:
    name = ls.workspace.get_text_document(uri).word_at_position(position)
    line = ls.workspace.get_text_document(uri).lines[position.line]
    start = line.find(name)
    where = name_range(position.line, max(start, 0), name)
    return types.CallHierarchyItem(
        name=name, kind=types.SymbolKind.Function, uri=uri, range=where, selection_range=where
    )


async def answer(ls: LanguageServer, method: str, uri: str, position: types.Position) -> Any:
    name = ls.workspace.get_text_document(uri).word_at_position(position)
    log(method, name)
    asked(uri, name=name)
    if options.delay:
        await asyncio.sleep(options.delay)
    if name.startswith("crash"):
        marker = options.crash_marker
        if marker is None or not os.path.exists(marker):
            if marker is not None:
                open(marker, "w").close()  # an empty file is the whole point
            os._exit(3)
    if name.startswith("bad"):
        raise JsonRpcInternalError(f"cannot resolve {name}")
    item = item_for(ls, uri, position)
    empty = name.startswith(("empty", "flicker"))
    if method in (types.TEXT_DOCUMENT_REFERENCES, types.TEXT_DOCUMENT_PREPARE_CALL_HIERARCHY):
        if empty:
            return []
        if method == types.TEXT_DOCUMENT_PREPARE_CALL_HIERARCHY:
            return [item]
        return [types.Location(uri=uri, range=item.selection_range)]
    return None if empty else types.Location(uri=uri, range=item.selection_range)


def register(method: str) -> None:
    @server.feature(method)
    async def handler(ls: LanguageServer, params: Any) -> Any:
        return await answer(ls, method, params.text_document.uri, params.position)


for _method in (
    types.TEXT_DOCUMENT_DEFINITION,
    types.TEXT_DOCUMENT_DECLARATION,
    types.TEXT_DOCUMENT_TYPE_DEFINITION,
    types.TEXT_DOCUMENT_IMPLEMENTATION,
    types.TEXT_DOCUMENT_REFERENCES,
    types.TEXT_DOCUMENT_PREPARE_CALL_HIERARCHY,
):
    register(_method)


@server.feature(types.CALL_HIERARCHY_INCOMING_CALLS)
async def incoming(ls: LanguageServer, params: types.CallHierarchyIncomingCallsParams) -> Any:
    log(types.CALL_HIERARCHY_INCOMING_CALLS, params.item.name)
    asked(params.item.uri, name=params.item.name)
    if options.delay:
        await asyncio.sleep(options.delay)
    item = params.item
    return [types.CallHierarchyIncomingCall(from_=item, from_ranges=[item.selection_range])]


@server.feature(types.CALL_HIERARCHY_OUTGOING_CALLS)
async def outgoing(ls: LanguageServer, params: types.CallHierarchyOutgoingCallsParams) -> Any:
    log(types.CALL_HIERARCHY_OUTGOING_CALLS, params.item.name)
    asked(params.item.uri, name=params.item.name)
    if options.delay:
        await asyncio.sleep(options.delay)
    item = params.item
    return [types.CallHierarchyOutgoingCall(to=item, from_ranges=[item.selection_range])]


if options.no_call_hierarchy:
    # pygls advertises a provider for every feature registered: take it out again (zuban has
    # no call hierarchy at all); the requests are still answered, so any that is sent shows.
    _build = ServerCapabilitiesBuilder.build

    def _without_call_hierarchy(self: ServerCapabilitiesBuilder) -> types.ServerCapabilities:
        capabilities = _build(self)
        capabilities.call_hierarchy_provider = None
        return capabilities

    ServerCapabilitiesBuilder.build = _without_call_hierarchy  # type: ignore[method-assign]

if __name__ == "__main__":
    server.start_io()
