"""A pygls server that speaks utf-32 when a client lists it first, and finds names by their text.

pygls takes the first of the client's ``general.positionEncodings`` it supports, so a client
listing ``utf-32`` first gets positions in code points: Python's own string indices. The
answers are computed from the open documents' text, word by word:
- references: every whole-word occurrence of the identifier at the position, in every open
  document (the declaration included);
- definition: the first occurrence after ``def `` or ``class ``, else the first one.
Opening a document publishes an empty list of diagnostics (a client's sign it is known).
Nothing fails on purpose: this server exists to be asked in another unit than UTF-16.
"""

from __future__ import annotations

import os
import re
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _common import RECORDER, make_server
from lsprotocol import types
from pygls.lsp.server import LanguageServer

server = make_server("counts-code-points")
_WORD = re.compile(r"\w+")


def _occurrences(ls: LanguageServer, name: str) -> list[tuple[str, int, int]]:
    found = []
    for uri, document in sorted(ls.workspace.text_documents.items()):
        for n, line in enumerate(document.source.split("\n")):
            found += [(uri, n, m.start()) for m in _WORD.finditer(line) if m.group() == name]
    return found


def _name_at(ls: LanguageServer, uri: str, position: types.Position) -> str:
    """The word at a position in code points (what utf-32 means): no conversion at all."""
    line = ls.workspace.get_text_document(uri).source.split("\n")[position.line]
    for m in _WORD.finditer(line):
        if m.start() <= position.character <= m.end():
            return m.group()
    return ""


def _location(uri: str, line: int, character: int, name: str) -> types.Location:
    start = types.Position(line=line, character=character)
    end = types.Position(line=line, character=character + len(name))
    return types.Location(uri=uri, range=types.Range(start=start, end=end))


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: LanguageServer, params: types.DidOpenTextDocumentParams) -> None:
    """No diagnostics, published: the client's sign that the document is known."""
    uri = params.text_document.uri
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))


@server.feature(types.TEXT_DOCUMENT_REFERENCES)
def references(ls: LanguageServer, params: types.ReferenceParams) -> Any:
    name = _name_at(ls, params.text_document.uri, params.position)
    RECORDER.count(types.TEXT_DOCUMENT_REFERENCES, name)
    return [_location(uri, n, c, name) for uri, n, c in _occurrences(ls, name)] or None


@server.feature(types.TEXT_DOCUMENT_DEFINITION)
def definition(ls: LanguageServer, params: types.DefinitionParams) -> Any:
    name = _name_at(ls, params.text_document.uri, params.position)
    RECORDER.count(types.TEXT_DOCUMENT_DEFINITION, name)
    found = _occurrences(ls, name)
    for uri, n, c in found:
        line = ls.workspace.get_text_document(uri).source.split("\n")[n]
        if line[:c].rstrip().endswith(("def", "class")):
            return [_location(uri, n, c, name)]
    return [_location(*found[0], name)] if found else None


if __name__ == "__main__":
    server.start_io()
