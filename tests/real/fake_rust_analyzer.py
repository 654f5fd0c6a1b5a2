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

With ``--loading-requests N`` loading also ends by itself once N tracked requests arrived while
loading (what `enrich` needs: it sends no finishLoading).

documentSymbol and call hierarchy answer as rust-analyzer does (``to_proto::call_hierarchy_item``
and ``file_structure``): an item's ``name`` is the identifier as written — ``r#type`` for a raw
identifier — ``detail`` its signature, ``selectionRange`` the name, ``range`` the whole item; an
``impl`` block is the symbol ``impl Point`` whose selection is the self type. documentSymbol is
syntactic in rust-analyzer, so it answers while loading too; call hierarchy and implementation
answer like the other requests (ContentModified, then empty) until loading ends.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass, field
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
LOADING_REQUESTS: int | None = None  # --loading-requests
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


def _received(method: str) -> None:
    """Counts a tracked request; with --loading-requests, loading ends after that many."""
    global LOADING
    RECEIVED[method] = RECEIVED.get(method, 0) + 1
    if LOADING and LOADING_REQUESTS is not None and sum(RECEIVED.values()) > LOADING_REQUESTS:
        LOADING = False
        status(True)


def _loading_answer(method: str) -> None:
    global CONTENT_MODIFIED_LEFT
    if CONTENT_MODIFIED_LEFT > 0:
        CONTENT_MODIFIED_LEFT -= 1
        raise JsonRpcContentModified(f"content modified while loading ({method})")


@server.feature(types.TEXT_DOCUMENT_DEFINITION)
@server.feature(types.TEXT_DOCUMENT_DECLARATION)
def definition(ls: LanguageServer, params: types.DefinitionParams) -> list[types.Location] | None:
    _received("definition")
    if LOADING:
        _loading_answer("definition")
        return None
    name = _word(ls, params.text_document.uri, params.position)
    return _locations(DECLARATION.format(name=re.escape(name))) or None if name else None


@server.feature(types.TEXT_DOCUMENT_REFERENCES)
def references(ls: LanguageServer, params: types.ReferenceParams) -> list[types.Location] | None:
    _received("references")
    if LOADING:
        _loading_answer("references")
        return None
    name = _word(ls, params.text_document.uri, params.position)
    if not name or not _locations(DECLARATION.format(name=re.escape(name))):
        return None
    return _locations(rf"\b{re.escape(name)}\b")


# -- documentSymbol and call hierarchy, from a syntactic scan of the workspace's .rs files ------

_ITEM = re.compile(
    r"^\s*(?:pub(?:\([^)]*\))?\s+)?(?:(?:const|async|unsafe)\s+)*(fn|struct|enum|trait|mod)\s+"
    r"((?:r#)?[A-Za-z_]\w*)"
)
_IMPL = re.compile(r"^\s*impl(?:<[^>]*>)?\s+(?:([A-Za-z_]\w*)\s+for\s+)?([A-Za-z_]\w*)")
_FIELD = re.compile(r"^\s*(?:pub\s+)?([A-Za-z_]\w*)\s*:")
_VARIANT = re.compile(r"^\s*([A-Z]\w*)\s*[,({]?\s*$")
_CALL = re.compile(r"((?:r#)?[A-Za-z_]\w*)\s*\(")
_KINDS = {"fn": 12, "struct": 23, "enum": 10, "trait": 11, "mod": 2}


@dataclass
class Item:
    kind: int
    name: str  # as written, r# included (rust-analyzer's NavigationTarget name)
    uri: str
    line: int
    start: int  # the name's columns
    end_line: int  # last line of the whole item
    detail: str
    children: list[Item] = field(default_factory=list)

    def whole(self, lines: list[str]) -> types.Range:
        return _range(self.line, 0, self.end_line, len(lines[self.end_line]))

    def selection(self) -> types.Range:
        return _range(self.line, self.start, self.line, self.start + len(self.name))


def _range(l1: int, c1: int, l2: int, c2: int) -> types.Range:
    return types.Range(types.Position(line=l1, character=c1), types.Position(line=l2, character=c2))


def _block_end(lines: list[str], first: int) -> int:
    """The line closing the braces opened from line ``first`` (or ``first`` for `mod x;`)."""
    depth = 0
    for n in range(first, len(lines)):
        depth += lines[n].count("{") - lines[n].count("}")
        if depth <= 0 and ("{" in "".join(lines[first : n + 1]) or lines[n].rstrip().endswith(";")):
            return n
    return len(lines) - 1


def _scan(path: Path) -> tuple[list[str], list[Item]]:
    """Top-level items of one file, with impl methods, struct fields and enum variants."""
    lines = path.read_text().splitlines()
    uri = path.as_uri()
    items: list[Item] = []
    n = 0
    while n < len(lines):
        text = lines[n]
        impl, found = _IMPL.match(text), _ITEM.match(text)
        if impl is not None:
            end = _block_end(lines, n)
            label = (
                f"impl {impl.group(1)} for {impl.group(2)}"
                if impl.group(1)
                else f"impl {impl.group(2)}"
            )
            # rust-analyzer: the symbol "impl Point", selecting the self type.
            item = Item(19, impl.group(2), uri, n, impl.start(2), end, label)
            for m in range(n + 1, end):
                method = _ITEM.match(lines[m])
                if method is not None and method.group(1) == "fn":
                    item.children.append(_fn(lines, uri, m, method, 6))
            items.append(item)
            n = end + 1
            continue
        if found is not None:
            keyword = found.group(1)
            if keyword == "fn":
                item = _fn(lines, uri, n, found, 12)
            else:
                end = _block_end(lines, n)
                item = Item(
                    _KINDS[keyword], found.group(2), uri, n, found.start(2), end, text.strip()
                )
                for m in range(n + 1, end):
                    member = (_FIELD if keyword == "struct" else _VARIANT).match(lines[m])
                    if keyword in ("struct", "enum") and member is not None:
                        kind = 8 if keyword == "struct" else 22
                        item.children.append(
                            Item(kind, member.group(1), uri, m, member.start(1), m, "")
                        )
            items.append(item)
            n = item.end_line + 1
            continue
        n += 1
    return lines, items


def _fn(lines: list[str], uri: str, n: int, match: re.Match[str], kind: int) -> Item:
    signature = lines[n].strip().removesuffix("{").strip()
    return Item(kind, match.group(2), uri, n, match.start(2), _block_end(lines, n), signature)


def _index() -> tuple[dict[str, list[str]], list[Item]]:
    """Every file's lines and every function (methods included)."""
    texts: dict[str, list[str]] = {}
    functions: list[Item] = []
    for path in _sources():
        lines, items = _scan(path)
        texts[path.as_uri()] = lines
        for item in items:
            functions.extend(i for i in [item, *item.children] if i.kind in (6, 12))
    return texts, functions


def _symbol(item: Item, lines: list[str]) -> types.DocumentSymbol:
    name = item.detail if item.kind == 19 else item.name
    return types.DocumentSymbol(
        name=name,
        kind=types.SymbolKind(item.kind),
        range=item.whole(lines),
        selection_range=item.selection(),
        detail=item.detail or None,
        children=[_symbol(child, lines) for child in item.children],
    )


def _call_item(item: Item, lines: list[str]) -> types.CallHierarchyItem:
    return types.CallHierarchyItem(
        name=item.name,
        kind=types.SymbolKind(item.kind),
        detail=item.detail,
        uri=item.uri,
        range=item.whole(lines),
        selection_range=item.selection(),
    )


def _calls_in(item: Item, lines: list[str]) -> list[tuple[str, types.Range]]:
    """(callee name, range of the name) for every call in the item's body."""
    found = []
    for n in range(item.line, item.end_line + 1):
        for match in _CALL.finditer(lines[n]):
            if n == item.line and match.start(1) == item.start:
                continue  # its own name in the signature
            found.append((match.group(1), _range(n, match.start(1), n, match.end(1))))
    return found


def _at(ls: LanguageServer, uri: str, position: types.Position) -> str:
    """The identifier at a position, r# included."""
    line = ls.workspace.get_text_document(uri).lines[position.line]
    for match in re.finditer(r"(?:r#)?[A-Za-z_]\w*", line):
        if match.start() <= position.character <= match.end():
            return match.group(0)
    return ""


@server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
def document_symbol(
    _ls: LanguageServer, params: types.DocumentSymbolParams
) -> list[types.DocumentSymbol]:
    path = Path(unquote(urlparse(params.text_document.uri).path))
    lines, items = _scan(path)
    return [_symbol(item, lines) for item in items]


@server.feature(types.TEXT_DOCUMENT_IMPLEMENTATION)
def implementation(
    ls: LanguageServer, params: types.ImplementationParams
) -> list[types.Location] | None:
    _received("implementation")
    if LOADING:
        _loading_answer("implementation")
        return None
    name = _at(ls, params.text_document.uri, params.position)
    return [
        types.Location(uri=loc.uri, range=loc.range)
        for loc in _locations(rf"\bimpl(?:<[^>]*>)?\s+(?:\w+\s+for\s+)?{re.escape(name)}\b")
    ]


@server.feature(types.TEXT_DOCUMENT_PREPARE_CALL_HIERARCHY)
def prepare(
    ls: LanguageServer, params: types.CallHierarchyPrepareParams
) -> list[types.CallHierarchyItem] | None:
    _received("prepareCallHierarchy")
    if LOADING:
        _loading_answer("prepareCallHierarchy")
        return None
    name = _at(ls, params.text_document.uri, params.position)
    texts, functions = _index()
    return [_call_item(f, texts[f.uri]) for f in functions if f.name == name] or None


@server.feature(types.CALL_HIERARCHY_INCOMING_CALLS)
def incoming(
    _ls: LanguageServer, params: types.CallHierarchyIncomingCallsParams
) -> list[types.CallHierarchyIncomingCall] | None:
    _received("incomingCalls")
    if LOADING:
        _loading_answer("incomingCalls")
        return None
    texts, functions = _index()
    calls = []
    for caller in functions:
        ranges = [r for name, r in _calls_in(caller, texts[caller.uri]) if name == params.item.name]
        if ranges:
            item = _call_item(caller, texts[caller.uri])
            calls.append(types.CallHierarchyIncomingCall(from_=item, from_ranges=ranges))
    return calls


@server.feature(types.CALL_HIERARCHY_OUTGOING_CALLS)
def outgoing(
    _ls: LanguageServer, params: types.CallHierarchyOutgoingCallsParams
) -> list[types.CallHierarchyOutgoingCall] | None:
    _received("outgoingCalls")
    if LOADING:
        _loading_answer("outgoingCalls")
        return None
    texts, functions = _index()
    start = params.item.selection_range.start
    own = [f for f in functions if f.uri == params.item.uri and f.line == start.line]
    if not own:
        return []
    by_name = {f.name: f for f in functions}
    calls: dict[str, list[types.Range]] = {}
    for name, where in _calls_in(own[0], texts[own[0].uri]):
        if name in by_name:
            calls.setdefault(name, []).append(where)
    return [
        types.CallHierarchyOutgoingCall(
            to=_call_item(by_name[name], texts[by_name[name].uri]), from_ranges=ranges
        )
        for name, ranges in calls.items()
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loading-requests", type=int, default=None, metavar="N")
    LOADING_REQUESTS = parser.parse_args().loading_requests
    server.start_io()
