"""One symbol, one key: every path that names a symbol keys it from the document's text.

Through the router, without processes: a request at a position, a call hierarchy item named
by the server's display name, documentSymbol and workspace/symbol entries (also of files that
must first be read off the loop) all land on ``uri#line:character:identifier``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fakes import FakeSink as Sink

from lsp_backoff.proxy.actions import Read
from lsp_backoff.proxy.config import ProxyConfig
from lsp_backoff.proxy.core import Core
from lsp_backoff.proxy.documents import Documents
from lsp_backoff.proxy.framing import Frame, FrameParser, encode
from lsp_backoff.proxy.reads import NOTHING
from lsp_backoff.proxy.routing import Router
from lsp_backoff.tracker.backoff import BackoffPolicy
from lsp_backoff.tracker.failures import FailureTracker

CPP = "file:///ws/arena.cc"
CPP_TEXT = """\
namespace leveldb {
char* Arena::Allocate(size_t bytes) { return AllocateFallback(bytes); }
Block::~Block() { delete[] data_; }
bool operator==(const Slice& x, const Slice& y) { return x.compare(y) == 0; }
}
"""
TS = "file:///ws/ky.ts"
TS_TEXT = """\
export class Ky {
  async #retry(fn: () => Promise<Response>) { return this.#fetch(); }
  #fetch() { return fetch(this.url); }
}
"""


def keys_of(sink: Sink, source: str | None = None) -> set[str]:
    return {s.key for s, src in sink.symbols if source is None or src == source}


def edges(sink: Sink) -> list[tuple[str, str]]:
    return [(symbol.key, operation) for symbol, operation, _ in sink.edges]


def placeholders(sink: Sink) -> list[tuple[str, str, str]]:
    return [(symbol.key, operation, detail) for symbol, operation, _, detail in sink.placeholders]


def framed(message: dict[str, Any]) -> Frame:
    (item,) = FrameParser().feed(encode(json.dumps(message).encode()))
    assert isinstance(item, Frame)
    return item


def opened(*docs: tuple[str, str, str]) -> tuple[Router, Sink]:
    tracker = FailureTracker(BackoffPolicy(base=5, max_retries=3))
    documents = Documents()
    sink = Sink()
    router = Router(Core(ProxyConfig(no_db=True), tracker=tracker, sink=sink), documents)
    for uri, language, text in docs:
        item = {"uri": uri, "languageId": language, "version": 1, "text": text}
        router.from_client(
            framed(
                {
                    "jsonrpc": "2.0",
                    "method": "textDocument/didOpen",
                    "params": {"textDocument": item},
                }
            )
        )
    router.drain()
    return router, sink


def ask(router: Router, ident: int, method: str, params: dict[str, Any], result: Any) -> None:
    router.from_client(framed({"jsonrpc": "2.0", "id": ident, "method": method, "params": params}))
    router.from_server(framed({"jsonrpc": "2.0", "id": ident, "result": result}))
    router.drain()


def position(uri: str, line: int, character: int) -> dict[str, Any]:
    return {"textDocument": {"uri": uri}, "position": {"line": line, "character": character}}


def rng(line: int, start: int, end: int) -> dict[str, Any]:
    return {"start": {"line": line, "character": start}, "end": {"line": line, "character": end}}


def item(uri: str, name: str, line: int, start: int, end: int) -> dict[str, Any]:
    return {
        "name": name,
        "kind": 6,
        "uri": uri,
        "range": rng(line, 0, end),
        "selectionRange": rng(line, start, end),
    }


def test_call_items_are_keyed_by_the_text_not_the_display_name() -> None:
    router, sink = opened((CPP, "cpp", CPP_TEXT), (TS, "typescript", TS_TEXT))
    cases = [
        (item(CPP, "Arena::Allocate", 1, 13, 21), f"{CPP}#1:13:Allocate"),
        (item(CPP, "Block::~Block", 2, 7, 13), f"{CPP}#2:7:~Block"),
        (item(CPP, "leveldb::operator==", 3, 5, 15), f"{CPP}#3:5:operator=="),
        (item(TS, "Ky.#retry", 1, 8, 14), f"{TS}#1:8:#retry"),
    ]
    for n, (it, key) in enumerate(cases):
        # A request anywhere in the name: the key every other path must reproduce.
        sel = it["selectionRange"]
        line, middle = sel["start"]["line"], sel["start"]["character"] + 2
        ask(router, 100 + n, "textDocument/references", position(it["uri"], line, middle), [])
        ask(
            router,
            200 + n,
            "callHierarchy/incomingCalls",
            {"item": it},
            [{"from": it, "fromRanges": []}],
        )
        ask(
            router,
            300 + n,
            "textDocument/prepareCallHierarchy",
            position(it["uri"], line, middle),
            [it],
        )
        assert (key, "incoming_calls") in edges(sink), (key, edges(sink))
    keys = keys_of(sink)
    assert keys == {key for _, key in cases}, keys
    # prepare at the declaration answers with its own item: no "calls live elsewhere" pointer
    assert not [p for p in placeholders(sink) if p[2].startswith("item:")], placeholders(sink)


def test_prepare_at_a_usage_points_at_the_items_text_key() -> None:
    router, sink = opened((TS, "typescript", TS_TEXT))
    usage = position(TS, 1, 60)  # this.#fetch() inside #retry
    assert TS_TEXT.splitlines()[1][58:64] == "#fetch"
    ask(router, 1, "textDocument/prepareCallHierarchy", usage, [item(TS, "Ky.#fetch", 2, 2, 8)])
    details = {(op, detail) for _, op, detail in placeholders(sink)}
    assert ("incoming_calls", f"item: {TS}#2:2:#fetch") in details, details


def sym(name: str, kind: int, line: int, start: int, end: int, *children: Any) -> dict[str, Any]:
    """A DocumentSymbol whose name is at (line, start..end)."""
    selection = rng(line, start, end)
    return {"name": name, "kind": kind, "range": selection, "selectionRange": selection,
            "children": list(children)}  # fmt: skip


def test_document_symbols_use_selection_range_and_language_rules() -> None:
    router, sink = opened((CPP, "cpp", CPP_TEXT), (TS, "typescript", TS_TEXT))
    cpp_symbols = [
        sym(
            "leveldb", 3, 0, 10, 17,
            sym("Arena::Allocate", 6, 1, 13, 21),
            sym("Block::~Block", 9, 2, 7, 13),
            sym("operator==", 12, 3, 5, 15),
        )
    ]  # fmt: skip
    ask(router, 1, "textDocument/documentSymbol", {"textDocument": {"uri": CPP}}, cpp_symbols)
    ts_symbols = [sym("Ky", 5, 0, 13, 15, sym("#retry", 6, 1, 8, 14))]
    ask(router, 2, "textDocument/documentSymbol", {"textDocument": {"uri": TS}}, ts_symbols)
    assert keys_of(sink, "document_symbol") == {
        f"{CPP}#0:10:leveldb",
        f"{CPP}#1:13:Allocate",
        f"{CPP}#2:7:~Block",
        f"{CPP}#3:5:operator==",
        f"{TS}#0:13:Ky",
        f"{TS}#1:8:#retry",
    }


def test_workspace_symbols_of_unread_files_are_keyed_once_read(tmp_path: Path) -> None:
    on_disk = tmp_path / "block.cc"
    on_disk.write_text("namespace leveldb {\nBlock::~Block() {}\n}\n")
    disk_uri = on_disk.as_uri()
    router, sink = opened((CPP, "cpp", CPP_TEXT))
    entries = [
        # SymbolInformation: the range may cover the whole declaration; the name is found on it
        {"name": "Arena::Allocate", "kind": 6, "location": {"uri": CPP, "range": rng(1, 0, 60)}},
        {"name": "Block::~Block", "kind": 9, "location": {"uri": disk_uri, "range": rng(1, 0, 18)}},
    ]
    router.from_client(
        framed({"jsonrpc": "2.0", "id": 7, "method": "workspace/symbol", "params": {"query": ""}})
    )
    router.from_server(framed({"jsonrpc": "2.0", "id": 7, "result": entries}))
    router.drain()
    assert keys_of(sink) == {f"{CPP}#1:13:Allocate"}  # the open document at once
    assert router.wanted_reads() == [Read(disk_uri)]  # the other after an off-loop read
    router.loaded(disk_uri, router.reads.read(disk_uri))
    router.drain()
    assert keys_of(sink, "workspace_symbol") == {f"{CPP}#1:13:Allocate", f"{disk_uri}#1:7:~Block"}


def test_unknown_language_and_unreadable_file_fall_back_to_the_position_alone() -> None:
    router, sink = opened()
    missing = "file:///nowhere/gone.cc"
    params = {"item": item(missing, "Gone::~Gone", 4, 6, 11)}
    router.from_client(
        framed(
            {"jsonrpc": "2.0", "id": 1, "method": "callHierarchy/outgoingCalls", "params": params}
        )
    )
    router.loaded(missing, NOTHING)
    router.from_server(
        framed({"jsonrpc": "2.0", "id": 1, "result": [{"to": params["item"], "fromRanges": []}]})
    )
    router.drain()
    # No text: tracked by position (the key a request there gets too), never by the name.
    assert (f"{missing}#4:6", "outgoing_calls") in edges(sink), edges(sink)


def test_items_in_files_not_in_memory_are_keyed_once_every_file_is_read(tmp_path: Path) -> None:
    """Each file is read (or checked) once: a question arriving between the reads, which makes
    the first file's cached text due for a check again, does not send it round again."""
    first, second = tmp_path / "one.ts", tmp_path / "two.ts"
    first.write_text("class One {\n  fetch() {}\n}\n")
    second.write_text("class Two {\n  fetch() {}\n}\n")
    router, sink = opened((TS, "typescript", TS_TEXT))
    usage = position(TS, 1, 60)
    items = [
        item(first.as_uri(), "One.fetch", 1, 2, 7),
        item(second.as_uri(), "Two.fetch", 1, 2, 7),
    ]
    ask(router, 1, "textDocument/prepareCallHierarchy", usage, items)
    assert sorted(r.uri for r in router.wanted_reads()) == sorted([first.as_uri(), second.as_uri()])
    router.loaded(first.as_uri(), router.reads.read(first.as_uri()))
    assert not [p for p in placeholders(sink) if p[2].startswith("item:")]  # not both
    router.from_client(framed({"jsonrpc": "2.0", "id": 2, "method": "textDocument/definition",
                               "params": position(TS, 0, 1)}))  # fmt: skip
    router.loaded(second.as_uri(), router.reads.read(second.as_uri()))
    details = {(op, detail) for _, op, detail in placeholders(sink)}
    assert ("incoming_calls", f"item: {first.as_uri()}#1:2:fetch") in details, details
    assert router.wanted_reads() == []  # nothing sent round again


PY = "file:///ws/sample.py"
PY_TEXT = """\
@deco
def wrapper(*args, **kwargs):
    __slots__ = ("a", "b")
"""


def test_names_listed_from_punctuation_are_keyed_at_the_identifier_after_it() -> None:
    """basedpyright's selectionRange of `*args` starts at the `*`, of a `__slots__` entry at the
    quote: keyed (and so asked, enrich asks at a symbol's position) at the name, the key a
    request at the name gets (issue 21). Call hierarchy items follow the same rule."""
    router, sink = opened((PY, "python", PY_TEXT))
    listed = [
        sym("wrapper", 12, 1, 4, 11, sym("args", 13, 1, 12, 17), sym("kwargs", 13, 1, 19, 27)),
        sym("a", 13, 2, 17, 20),
        sym("b", 13, 2, 22, 25),
    ]
    ask(router, 1, "textDocument/documentSymbol", {"textDocument": {"uri": PY}}, listed)
    expected = {f"{PY}#1:4:wrapper", f"{PY}#1:13:args", f"{PY}#1:21:kwargs"}
    expected |= {f"{PY}#2:18:a", f"{PY}#2:23:b"}
    assert sink.keys("document_symbol") == expected
    for s, _ in sink.symbols:
        assert PY_TEXT.splitlines()[s.line][s.character :].startswith(s.name), s
    # a request at the name, and a call hierarchy item whose selection starts at the "@"
    ask(router, 2, "textDocument/references", position(PY, 1, 14), [])
    at_sign = item(PY, "deco", 0, 0, 5)
    ask(router, 3, "callHierarchy/outgoingCalls", {"item": at_sign}, [])
    assert sink.keys() == expected | {f"{PY}#0:1:deco"}
