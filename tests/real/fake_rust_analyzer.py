"""A scripted stand-in for rust-analyzer's loading behaviour (pygls).

rust-analyzer cannot be installed on the CI machines, but what it does while it loads a
workspace is documented (docs/dev/lsp-extensions.md, "Server Status") and is what the proxy's
readiness rules are for. This server plays it in a fixed order, so a test can check every step:

1. The client advertises ``experimental.serverStatusNotification``; after ``initialized`` the
   server sends ``experimental/serverStatus {"health": "ok", "quiescent": false}``.
2. While loading, the first tracked request is answered ``-32801 ContentModified`` (what
   rust-analyzer does to requests whose snapshot the loading workspace invalidated); every
   later one is answered empty (``null``), as rust-analyzer does before its crate graph exists.
3. The client notification ``fakeRustAnalyzer/finishLoading`` ends loading (a real
   rust-analyzer ends it by itself when ``cargo metadata`` and indexing are done; it logs and
   ignores this unknown notification): ``serverStatus {"quiescent": true}``.
4. Then it answers for real from the files on disk: definition/declaration → where
   ``fn|struct|mod NAME`` is declared; references → every whole-word occurrence; ``null`` for
   a name declared nowhere (``plugins::load_all``).

``fakeRustAnalyzer/counts`` answers how many tracked requests reached the server, so a test
can tell a proxy-made answer from a server-made one without timing anything.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from lsprotocol import types
from pygls.exceptions import JsonRpcContentModified
from pygls.lsp.server import LanguageServer

server = LanguageServer("fake-rust-analyzer", "0.0.0-fake")
LOADING = True
CONTENT_MODIFIED_LEFT = 1
RECEIVED: dict[str, int] = {}
ROOT: Path | None = None
DECLARATION = r"\b(?:fn|struct|mod|enum|trait)\s+{name}\b"


def status(quiescent: bool) -> None:
    server.protocol.notify("experimental/serverStatus", {"health": "ok", "quiescent": quiescent})


@server.feature(types.INITIALIZE)
def initialize(_ls: LanguageServer, params: types.InitializeParams) -> None:
    global ROOT
    if params.root_uri:
        ROOT = Path(unquote(urlparse(params.root_uri).path))


@server.feature(types.INITIALIZED)
def initialized(_ls: LanguageServer, _params: types.InitializedParams) -> None:
    status(False)


@server.feature("fakeRustAnalyzer/finishLoading")
def finish_loading(_ls: LanguageServer, _params: Any) -> None:
    global LOADING
    LOADING = False
    status(True)


@server.feature("fakeRustAnalyzer/counts")
def counts(_ls: LanguageServer, _params: Any) -> dict[str, int]:
    return RECEIVED


def _word(ls: LanguageServer, uri: str, position: types.Position) -> str:
    return ls.workspace.get_text_document(uri).word_at_position(position)


def _sources() -> list[Path]:
    return sorted(ROOT.rglob("*.rs")) if ROOT else []


def _locations(pattern: str) -> list[types.Location]:
    found = []
    for path in _sources():
        for line_no, line in enumerate(path.read_text().splitlines()):
            for match in re.finditer(pattern, line):
                name_start = match.end() - len(match.group(0).split()[-1])
                start = types.Position(line=line_no, character=name_start)
                end = types.Position(line=line_no, character=match.end())
                found.append(types.Location(uri=path.as_uri(), range=types.Range(start, end)))
    return found


def _loading_answer(method: str) -> None:
    global CONTENT_MODIFIED_LEFT
    if CONTENT_MODIFIED_LEFT > 0:
        CONTENT_MODIFIED_LEFT -= 1
        raise JsonRpcContentModified(f"content modified while loading ({method})")


@server.feature(types.TEXT_DOCUMENT_DEFINITION)
@server.feature(types.TEXT_DOCUMENT_DECLARATION)
def definition(ls: LanguageServer, params: types.DefinitionParams) -> list[types.Location] | None:
    RECEIVED["definition"] = RECEIVED.get("definition", 0) + 1
    if LOADING:
        _loading_answer("definition")
        return None
    name = _word(ls, params.text_document.uri, params.position)
    return _locations(DECLARATION.format(name=re.escape(name))) or None if name else None


@server.feature(types.TEXT_DOCUMENT_REFERENCES)
def references(ls: LanguageServer, params: types.ReferenceParams) -> list[types.Location] | None:
    RECEIVED["references"] = RECEIVED.get("references", 0) + 1
    if LOADING:
        _loading_answer("references")
        return None
    name = _word(ls, params.text_document.uri, params.position)
    if not name or not _locations(DECLARATION.format(name=re.escape(name))):
        return None
    return _locations(rf"\b{re.escape(name)}\b")


if __name__ == "__main__":
    server.start_io()
