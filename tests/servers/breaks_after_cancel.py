"""A pygls server that behaves as pyright 1.1.414 and basedpyright 1.40.2 do after a cancel:
once it has seen one `$/cancelRequest`, every later `textDocument/references` request fails,
for any symbol, with the same -32603 error — a fault of the server, not of the symbols.

- references: one location at 0:0 while healthy; after a cancel, the error for every symbol;
- `slow*` (references): answered only after `SLOW_SECONDS` (the proxy's `--timeout` is shorter:
  its cancel is what breaks the server); with `BREAKS_AFTER_CANCEL_SLOW_ONCE=PATH` only while
  PATH does not exist (created when the first slow request comes): a restarted server answers;
- with `BREAKS_AFTER_CANCEL_BROKEN=1` it is broken from the start (as if cancelled already);
- `bad*`: fails with its own error every time (a symbol's fault, its name in the message);
- other tracked methods answer one location at 0:0;
- documentSymbol lists the name each line starts with (`name = …`, `def name`, `class name`),
  so `lsp-backoff enrich` finds the symbols;
- `test/heal` mends it (the method works again), `test/counts` as every test server.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import RECORDER, TRACKED, identifier, location, make_server
from lsprotocol import types
from pygls.exceptions import JsonRpcInternalError
from pygls.lsp.server import LanguageServer

POISON = "Request textDocument/references failed with message: this._token.cancel is not a function"
SLOW_SECONDS = 3.0
ONCE = os.environ.get("BREAKS_AFTER_CANCEL_SLOW_ONCE")

server = make_server("breaks-after-cancel")
healed_at = 0  # cancels seen when last healed
broken_from_start = os.environ.get("BREAKS_AFTER_CANCEL_BROKEN") == "1"


def broken() -> bool:
    return len(RECORDER.cancelled) > healed_at or broken_from_start


@server.feature("test/heal")
def heal(_ls: LanguageServer, _params: Any) -> None:
    global healed_at, broken_from_start
    healed_at = len(RECORDER.cancelled)
    broken_from_start = False


@server.feature(types.TEXT_DOCUMENT_REFERENCES)
async def references(ls: LanguageServer, params: types.ReferenceParams) -> Any:
    uri = params.text_document.uri
    name = identifier(ls, uri, params.position)
    RECORDER.count(types.TEXT_DOCUMENT_REFERENCES, name)
    if broken():
        raise JsonRpcInternalError(POISON)
    if name.startswith("bad"):
        raise JsonRpcInternalError(f"cannot resolve {name}")
    if name.startswith("slow") and not (ONCE and Path(ONCE).exists()):
        if ONCE:
            Path(ONCE).touch()  # now: the server may be stopped before the answer
        await asyncio.sleep(SLOW_SECONDS)
    return [location(uri)]


DECLARED = re.compile(r"^(?:def |class )?([A-Za-z_]\w*)")


@server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
def document_symbol(ls: LanguageServer, params: types.DocumentSymbolParams) -> Any:
    document = ls.workspace.get_text_document(params.text_document.uri)
    symbols = []
    for number, line in enumerate(document.source.splitlines()):
        found = DECLARED.match(line)
        if found is not None:
            start = types.Position(line=number, character=found.start(1))
            end = types.Position(line=number, character=found.end(1))
            where = types.Range(start=start, end=end)
            kind = types.SymbolKind.Variable
            symbols.append(
                types.DocumentSymbol(name=found[1], kind=kind, range=where, selection_range=where)
            )
    return symbols


def register(method: str) -> None:
    @server.feature(method)
    def handler(ls: LanguageServer, params: Any) -> Any:
        name = identifier(ls, params.text_document.uri, params.position)
        RECORDER.count(method, name)
        if name.startswith("bad"):
            raise JsonRpcInternalError(f"cannot resolve {name}")
        return location(params.text_document.uri)


# No call hierarchy: a Location is no item, and nothing here is about calls.
for _method in TRACKED:
    if _method not in (types.TEXT_DOCUMENT_REFERENCES, types.TEXT_DOCUMENT_PREPARE_CALL_HIERARCHY):
        register(_method)


if __name__ == "__main__":
    server.start_io()
