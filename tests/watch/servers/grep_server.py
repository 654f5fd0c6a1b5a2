"""A pygls server whose answers depend on *other* files: the watch tests' cross-file server.

It knows Python-ish text only by words, and reads every file afresh from the disk (or the open
text) for every request, so its answers are always those of the workspace as it is now:
- documentSymbol: every `def NAME` / `class NAME` of the document (flat);
- definition and implementation: where NAME is declared, in any workspace file;
- references (without the declaration): every other occurrence of the word NAME, anywhere;
- prepareCallHierarchy: an item per declaration of NAME ([] when NAME is declared nowhere);
- incomingCalls: one call per enclosing `def` of each `NAME(` occurrence outside declarations;
- outgoingCalls: one call per declared NAME2 that the body of NAME calls as `NAME2(`.

After `initialized` it reports one work-done progress (begin, end): the proxy then takes empty
answers as definitive at once (the readiness rule). Every tracked request is appended to
`--log FILE` as one JSON line {"method", "name"}; `--delay S` makes each of them take S seconds.
`--messages FILE` counts what the tracked log leaves out: one JSON line {"method", "uri"} per
documentSymbol, didOpen, didChange and didClose, and {"method", "changes"} per
workspace/didChangeWatchedFiles (the number of files it lists). `--gate FILE`: a documentSymbol
of a document named `gate.py` waits until FILE exists — the whole server with it (one thread),
so a test can hold enrich in the middle of applying a change while it makes more.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import time
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer

DECLARATION = re.compile(r"^(\s*)(?:def|class)\s+(\w+)")
WORD = re.compile(r"\w+")

parser = argparse.ArgumentParser()
parser.add_argument("--log", required=True)
parser.add_argument("--delay", type=float, default=0.0, help="seconds every tracked request takes")
parser.add_argument("--messages", help="log documentSymbol and document notifications here")
parser.add_argument("--gate", help="documentSymbol of gate.py waits until this file exists")
options = parser.parse_args()

server = LanguageServer("grep-server", "1")


def log(method: str, name: str) -> None:
    with open(options.log, "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"method": method, "name": name}) + "\n")


def late(handler: Any) -> Any:
    """The answer is computed first, then held for --delay seconds: it reflects the files as
    they were when asked, as a server answering from its own snapshot would. Blocking on
    purpose: one request at a time, like a single-threaded server."""

    def answer(ls: LanguageServer, params: Any) -> Any:
        result = handler(ls, params)
        if options.delay:
            time.sleep(options.delay)
        return result

    return answer


def lines_of(uri: str) -> list[str]:
    try:
        return server.workspace.get_text_document(uri).source.splitlines()
    except OSError:
        return []  # deleted meanwhile


def workspace_uris() -> list[str]:
    """The workspace's files on disk, and the documents open: as a real server does, an open
    document counts although its file is gone (it answers from the open text until closed)."""
    root = Path(server.workspace.root_path or ".")
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        found += [Path(dirpath, f).as_uri() for f in sorted(filenames) if f.endswith(".py")]
    opened = [uri for uri in server.workspace.text_documents if uri not in found]
    return found + sorted(opened)


def declarations(uri: str) -> list[tuple[str, int, int, int]]:
    """(name, line, character, indent) of every declaration."""
    found = []
    for number, text in enumerate(lines_of(uri)):
        match = DECLARATION.match(text)
        if match:
            found.append((match.group(2), number, match.start(2), len(match.group(1))))
    return found


def where(uri: str, line: int, character: int, name: str) -> types.Range:
    return types.Range(
        start=types.Position(line=line, character=character),
        end=types.Position(line=line, character=character + len(name)),
    )


def item(uri: str, name: str, line: int, character: int) -> types.CallHierarchyItem:
    span = where(uri, line, character, name)
    kind = types.SymbolKind.Function
    return types.CallHierarchyItem(name=name, kind=kind, uri=uri, range=span, selection_range=span)


def declared(name: str) -> list[tuple[str, int, int]]:
    return [(u, ln, c) for u in workspace_uris() for n, ln, c, _ in declarations(u) if n == name]


def word_at(uri: str, position: types.Position) -> str:
    lines = lines_of(uri)
    if position.line >= len(lines):
        return ""
    for match in WORD.finditer(lines[position.line]):
        if match.start() <= position.character <= match.end():
            return match.group()
    return ""


def enclosing(lines: list[str], line: int) -> tuple[str, int, int] | None:
    """The `def` whose body holds `line` (indentation decides), else None (module level)."""
    indent = len(lines[line]) - len(lines[line].lstrip())
    for number in range(line - 1, -1, -1):
        match = DECLARATION.match(lines[number])
        if match and len(match.group(1)) < indent and lines[number].lstrip().startswith("def"):
            return match.group(2), number, match.start(2)
    return None


def calls_of(name: str) -> list[tuple[str, int, int]]:
    """Every `name(` occurrence that is not a declaration: (uri, line, character)."""
    pattern = re.compile(rf"\b{re.escape(name)}\(")
    found = []
    for uri in workspace_uris():
        for number, text in enumerate(lines_of(uri)):
            if DECLARATION.match(text):
                continue
            found += [(uri, number, m.start()) for m in pattern.finditer(text)]
    return found


@server.feature(types.INITIALIZED)
async def initialized(ls: LanguageServer, params: types.InitializedParams) -> None:
    token = "grep-server-loading"
    await ls.work_done_progress.create_async(token)
    ls.work_done_progress.begin(token, types.WorkDoneProgressBegin(title="Loading"))
    ls.work_done_progress.end(token, types.WorkDoneProgressEnd())


def message(method: str, **fields: Any) -> None:
    if options.messages:
        with open(options.messages, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"method": method, **fields}) + "\n")


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: LanguageServer, params: types.DidOpenTextDocumentParams) -> None:
    message("didOpen", uri=params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: LanguageServer, params: types.DidChangeTextDocumentParams) -> None:
    message("didChange", uri=params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: LanguageServer, params: types.DidCloseTextDocumentParams) -> None:
    message("didClose", uri=params.text_document.uri)


@server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
def watched(ls: LanguageServer, params: types.DidChangeWatchedFilesParams) -> None:
    message("didChangeWatchedFiles", changes=len(params.changes))


@server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
def document_symbol(ls: LanguageServer, params: types.DocumentSymbolParams) -> Any:
    uri = params.text_document.uri
    message("documentSymbol", uri=uri)
    if options.gate and uri.endswith("/gate.py"):
        while not os.path.exists(options.gate):  # the test's release, not a timing
            time.sleep(0.02)
    return [
        types.DocumentSymbol(
            name=name,
            kind=types.SymbolKind.Function,
            range=where(uri, line, character, name),
            selection_range=where(uri, line, character, name),
        )
        for name, line, character, _ in declarations(uri)
    ]


def locations(places: list[tuple[str, int, int]], name: str) -> list[types.Location]:
    return [types.Location(uri=u, range=where(u, line, c, name)) for u, line, c in places]


@server.feature(types.TEXT_DOCUMENT_DEFINITION)
@late
def definition(ls: LanguageServer, params: types.DefinitionParams) -> Any:
    name = word_at(params.text_document.uri, params.position)
    log("definition", name)
    return locations(declared(name), name)


@server.feature(types.TEXT_DOCUMENT_IMPLEMENTATION)
@late
def implementation(ls: LanguageServer, params: types.ImplementationParams) -> Any:
    name = word_at(params.text_document.uri, params.position)
    log("implementation", name)
    return locations(declared(name), name)


@server.feature(types.TEXT_DOCUMENT_REFERENCES)
@late
def references(ls: LanguageServer, params: types.ReferenceParams) -> Any:
    name = word_at(params.text_document.uri, params.position)
    log("references", name)
    pattern = re.compile(rf"\b{re.escape(name)}\b")
    places = set(declared(name))
    found = []
    for uri in workspace_uris():
        for number, text in enumerate(lines_of(uri)):
            found += [(uri, number, m.start()) for m in pattern.finditer(text)]
    return locations([p for p in found if p not in places], name)


@server.feature(types.TEXT_DOCUMENT_PREPARE_CALL_HIERARCHY)
@late
def prepare(ls: LanguageServer, params: types.CallHierarchyPrepareParams) -> Any:
    name = word_at(params.text_document.uri, params.position)
    log("prepare", name)
    return [item(u, name, line, c) for u, line, c in declared(name)]


@server.feature(types.CALL_HIERARCHY_INCOMING_CALLS)
@late
def incoming(ls: LanguageServer, params: types.CallHierarchyIncomingCallsParams) -> Any:
    log("incoming", params.item.name)
    result = []
    for uri, line, character in calls_of(params.item.name):
        caller = enclosing(lines_of(uri), line)
        if caller is not None:
            span = where(uri, line, character, params.item.name)
            result.append(
                types.CallHierarchyIncomingCall(from_=item(uri, *caller), from_ranges=[span])
            )
    return result


@server.feature(types.CALL_HIERARCHY_OUTGOING_CALLS)
@late
def outgoing(ls: LanguageServer, params: types.CallHierarchyOutgoingCallsParams) -> Any:
    log("outgoing", params.item.name)
    uri = params.item.uri
    lines = lines_of(uri)
    start = params.item.selection_range.start.line
    result = []
    for number in range(start + 1, len(lines)):
        own = (params.item.name, start, params.item.selection_range.start.character)
        if enclosing(lines, number) != own:
            continue
        for match in re.finditer(r"\b(\w+)\(", lines[number]):
            for u, line, c in declared(match.group(1)):
                span = where(uri, number, match.start(1), match.group(1))
                result.append(
                    types.CallHierarchyOutgoingCall(
                        to=item(u, match.group(1), line, c), from_ranges=[span]
                    )
                )
    return result


if __name__ == "__main__":
    server.start_io()
