"""A pygls server that behaves like pyright at start: it names itself "... pyright language
server ... starting" in its first log line and lists the workspace's sources `--after` seconds
after `initialized`, then logs "Found N source files". (`--never`: it never finishes listing.)

Until it has listed them, pyright answers references only from the files it has open; this
fake records the order instead: `--events FILE` gets one JSON line per "listed", didOpen
("open") and references request ("ask") — the test reads whether any document was opened or
asked about before the listing ended. documentSymbol lists every `def NAME`; references answer
the name's own location.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer

DEF = re.compile(r"^def (\w+)")

parser = argparse.ArgumentParser()
parser.add_argument("--events", required=True)
parser.add_argument("--after", type=float, default=1.0)
parser.add_argument("--never", action="store_true")
parser.add_argument("--greeting", default="Fake pyright language server 0.1 starting")
options = parser.parse_args()

server = LanguageServer("lists-sources", "1")


def event(kind: str, uri: str = "") -> None:
    with open(options.events, "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"event": kind, "uri": uri}) + "\n")


def say(message: str) -> None:
    server.window_log_message(types.LogMessageParams(type=types.MessageType.Info, message=message))


@server.feature(types.INITIALIZE)
def initialize(ls: LanguageServer, params: types.InitializeParams) -> None:
    say(options.greeting)


def listed() -> None:
    event("listed")
    say("Found 1 source file")


@server.feature(types.INITIALIZED)
def initialized(ls: LanguageServer, params: types.InitializedParams) -> None:
    if not options.never:
        asyncio.get_running_loop().call_later(options.after, listed)


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: LanguageServer, params: types.DidOpenTextDocumentParams) -> None:
    event("open", params.text_document.uri)


def name_at(ls: LanguageServer, uri: str, line: int) -> tuple[str, int] | None:
    lines = ls.workspace.get_text_document(uri).source.splitlines()
    match = DEF.match(lines[line]) if line < len(lines) else None
    return (match.group(1), match.start(1)) if match else None


@server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
def document_symbol(ls: LanguageServer, params: types.DocumentSymbolParams) -> Any:
    uri = params.text_document.uri
    found = []
    for number, text in enumerate(ls.workspace.get_text_document(uri).source.splitlines()):
        match = DEF.match(text)
        if match:
            start = types.Position(line=number, character=match.start(1))
            end = types.Position(line=number, character=match.end(1))
            name_range = types.Range(start=start, end=end)
            found.append(
                types.DocumentSymbol(
                    name=match.group(1),
                    kind=types.SymbolKind.Function,
                    range=name_range,
                    selection_range=name_range,
                )
            )
    return found


@server.feature(types.TEXT_DOCUMENT_REFERENCES)
def references(ls: LanguageServer, params: types.ReferenceParams) -> Any:
    uri = params.text_document.uri
    event("ask", uri)
    found = name_at(ls, uri, params.position.line)
    if found is None:
        return []
    start = types.Position(line=params.position.line, character=found[1])
    end = types.Position(line=params.position.line, character=found[1] + len(found[0]))
    return [types.Location(uri=uri, range=types.Range(start=start, end=end))]


if __name__ == "__main__":
    server.start_io()
