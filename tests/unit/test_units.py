"""The graph's one position unit (proxy/units.py): conversion, and two sessions on one core.

Two routers on one core stand for a utf-8 client and a utf-16 client sharing one graph
(without processes; tests/real/test_real_units.py does it with clangd, basedpyright and a
utf-32 test server): one key per identifier, one target per location, one backoff state.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

import pytest

from lsp_backoff.proxy.actions import Read, ToClient
from lsp_backoff.proxy.cli import main
from lsp_backoff.proxy.config import ProxyConfig
from lsp_backoff.proxy.core import Core
from lsp_backoff.proxy.documents import Documents, content_hash
from lsp_backoff.proxy.framing import Frame, FrameParser, encode
from lsp_backoff.proxy.reads import Loaded
from lsp_backoff.proxy.routing import Router
from lsp_backoff.proxy.units import GRAPH_UNIT, convert, from_graph, targets_in_graph_unit
from lsp_backoff.tracker.backoff import BackoffPolicy
from lsp_backoff.tracker.failures import FailureTracker
from lsp_backoff.tracker.model import FailureState, SymbolRef, Target
from lsp_backoff.tracker.positions import _counted

# 😀 (U+1F600): 4 UTF-8 bytes, 2 UTF-16 units, 1 code point; é 2/1/1; 日 3/1/1.
ASTRAL = "a😀é日b"
#            a   😀    é   日   b   end
UTF8 = [0, 1, 5, 7, 10, 11]
UTF16 = [0, 1, 3, 4, 5, 6]
UTF32 = [0, 1, 2, 3, 4, 5]
UNITS = {"utf-8": UTF8, "utf-16": UTF16, "utf-32": UTF32}


def test_graph_unit_is_utf16() -> None:
    assert GRAPH_UNIT == "utf-16"


@pytest.mark.parametrize("source", ["utf-8", "utf-16", "utf-32"])
@pytest.mark.parametrize("dest", ["utf-8", "utf-16", "utf-32"])
def test_every_character_boundary_converts_both_ways(source: str, dest: str) -> None:
    for a, b in zip(UNITS[source], UNITS[dest], strict=True):
        assert convert(ASTRAL, a, source, dest) == b, (source, dest, a)


def test_inside_a_character_snaps_to_its_start() -> None:
    for byte in (2, 3, 4):  # inside 😀's four bytes
        assert convert(ASTRAL, byte, "utf-8", "utf-16") == 1
    assert convert(ASTRAL, 2, "utf-16", "utf-8") == 1  # the low surrogate
    assert convert(ASTRAL, 6, "utf-8", "utf-16") == 3  # é's second byte
    assert convert(ASTRAL, 9, "utf-8", "utf-32") == 3  # 日's third byte


def test_past_the_line_end_the_excess_is_kept() -> None:
    assert convert(ASTRAL, 11 + 4, "utf-8", "utf-16") == 6 + 4
    assert convert(ASTRAL, 6 + 1, "utf-16", "utf-32") == 5 + 1


def test_ascii_lines_and_equal_units_are_never_converted() -> None:
    assert convert("int main(void)", 9, "utf-8", "utf-16") == 9
    assert convert("abc", 99, "utf-32", "utf-16") == 99
    assert convert(ASTRAL, 3, "utf-16", "utf-16") == 3  # as given, even inside 😀
    assert convert(ASTRAL, -1, "utf-8", "utf-16") == -1
    assert from_graph(ASTRAL, 3, "utf-8") == 5


def test_targets_keep_unknown_lines_and_merge_what_meets() -> None:
    lines = {("file:///a", 0): ASTRAL}
    found = [
        Target("file:///a", 0, 5),  # é in bytes: unit 3
        Target("file:///a", 0, 6),  # é's second byte: snaps to 3 too
        Target("file:///b", 4, 7),  # no text: as given
    ]
    converted = targets_in_graph_unit(found, lambda uri, n: lines.get((uri, n)), "utf-8")
    assert converted == [Target("file:///a", 0, 3), Target("file:///b", 4, 7)]
    assert targets_in_graph_unit(found, lambda uri, n: None, "utf-16") == found


# -- two sessions, one graph -------------------------------------------------------------------

C = "file:///ws/a.c"
C_TEXT = (
    "int target(int x) { return x; }\r\n"
    "/* ü */\r\n"
    "int main(void) { /* ééé日本 */ return target(1) + /* ü */ target(2); }\r\n"
)
HEADER = "file:///ws/b.h"  # never opened: read through the gate
HEADER_TEXT = "/* 😀 */ int target(int x);\n"
MAIN_LINE = C_TEXT.split("\r\n")[2]


def units(line: str, needle: str, occurrence: int, encoding: str) -> int:
    at = -1
    for _ in range(occurrence):
        at = line.index(needle, at + 1)
    return convert(line, at, "utf-32", encoding)


class Sink:
    def __init__(self) -> None:
        self.symbols: list[SymbolRef] = []
        self.edges: list[tuple[str, str, list[Target]]] = []
        self.failures: list[FailureState] = []

    def put_document(self, uri: str, version: str) -> None:
        pass

    def put_symbols(self, symbols: list[SymbolRef], source: str) -> None:
        self.symbols.extend(symbols)

    def put_edges(
        self, symbol: SymbolRef, operation: str, targets: Callable[[], list[Target]]
    ) -> None:
        self.edges.append((symbol.key, operation, list(targets())))

    def put_placeholder(
        self, symbol: SymbolRef, operation: str, kind: str, detail: str = ""
    ) -> None:
        self.symbols.append(symbol)

    def put_failure(self, state: FailureState) -> None:
        self.failures.append(state)

    def clear_failure(self, symbol: str, operation: str) -> None:
        pass

    def withdraw_placeholder(
        self, symbol: str, operation: str, kind: str, detail_prefix: str
    ) -> None:
        pass

    def forget_document(self, uri: str) -> None:
        pass

    def rearm(self, uri: str, names: object, operations: object) -> None:
        pass


def framed(message: dict[str, Any]) -> Frame:
    (item,) = FrameParser().feed(encode(json.dumps(message).encode()))
    assert isinstance(item, Frame)
    return item


def sessions() -> tuple[dict[str, Router], Sink]:
    sink = Sink()
    core = Core(
        ProxyConfig(no_db=True),
        tracker=FailureTracker(BackoffPolicy(base=5, max_retries=3)),
        sink=sink,
    )
    routers = {}
    for encoding in ("utf-8", "utf-16", "utf-32"):
        router = Router(core, Documents(encoding=encoding))
        item = {"uri": C, "languageId": "c", "version": 1, "text": C_TEXT}
        open_ = {"jsonrpc": "2.0", "method": "textDocument/didOpen"}
        router.from_client(framed({**open_, "params": {"textDocument": item}}))
        router.drain()
        routers[encoding] = router
    return routers, sink


def position(line: int, character: int) -> dict[str, Any]:
    return {"textDocument": {"uri": C}, "position": {"line": line, "character": character}}


def location(uri: str, line: int, character: int) -> dict[str, Any]:
    pos = {"line": line, "character": character}
    return {"uri": uri, "range": {"start": pos, "end": pos}}


def answer(router: Router, ident: int, method: str, params: Any, result: Any) -> list[Read]:
    """Ask and answer; the files the proxy wants read since."""
    asked = router.from_client(
        framed({"jsonrpc": "2.0", "id": ident, "method": method, "params": params})
    )
    router.from_server(framed({"jsonrpc": "2.0", "id": ident, "result": result}))
    router.drain()
    return [a for a in [*(asked or []), *router.wanted_reads()] if isinstance(a, Read)]


def test_utf8_utf16_and_utf32_sessions_record_one_key_and_one_target_per_location() -> None:
    routers, sink = sessions()
    for n, (encoding, router) in enumerate(routers.items()):
        second = units(MAIN_LINE, "target", 2, encoding)
        first = units(MAIN_LINE, "target", 1, encoding)
        decl = units(HEADER_TEXT, "target", 1, encoding)
        refs = [location(C, 2, first), location(C, 2, second), location(C, 0, 4)]
        params = {**position(2, second + 3), "context": {"includeDeclaration": True}}
        answer(router, 10 + n, "textDocument/references", params, refs)
        declared = [location(HEADER, 0, decl)]
        reads = answer(router, 20 + n, "textDocument/declaration", position(2, second), declared)
        if encoding != "utf-16":  # the header is read (once per session) to convert its target
            assert reads == [Read(HEADER)], reads
            router.loaded(HEADER, Loaded(HEADER_TEXT, content_hash(HEADER_TEXT)))
        else:
            assert reads == [], reads
    key = f"{C}#2:{units(MAIN_LINE, 'target', 2, 'utf-16')}:target"
    assert {k for k, _, _ in sink.edges} == {key}, sink.edges
    by_operation: dict[str, set[tuple[Target, ...]]] = {}
    for _, operation, found in sink.edges:
        by_operation.setdefault(operation, set()).add(tuple(found))
    (refs,) = by_operation["references"]
    assert refs == (
        Target(C, 2, units(MAIN_LINE, "target", 1, "utf-16")),
        Target(C, 2, units(MAIN_LINE, "target", 2, "utf-16")),
        Target(C, 0, 4),
    )
    assert by_operation["declaration"] == {(Target(HEADER, 0, 13),)}  # 😀: 2 units


def test_a_target_in_an_unread_file_waits_for_the_read_gate() -> None:
    routers, sink = sessions()
    router = routers["utf-8"]
    second = units(MAIN_LINE, "target", 2, "utf-8")
    reads = answer(
        router, 1, "textDocument/definition", position(2, second), [location(HEADER, 0, 15)]
    )
    assert reads == [Read(HEADER)] and sink.edges == []  # nothing recorded in bytes meanwhile
    router.loaded(HEADER, Loaded(HEADER_TEXT, content_hash(HEADER_TEXT)))
    assert [found for _, _, found in sink.edges] == [[Target(HEADER, 0, 13)]]  # byte 15


def test_a_utf16_session_records_without_reading_target_files() -> None:
    routers, sink = sessions()
    reads = answer(
        routers["utf-16"], 1, "textDocument/definition", position(2, 0), [location(HEADER, 0, 13)]
    )
    assert reads == [] and [found for _, _, found in sink.edges] == [[Target(HEADER, 0, 13)]]


def test_backoff_is_shared_across_encodings() -> None:
    routers, sink = sessions()
    utf8, utf16 = routers["utf-8"], routers["utf-16"]
    at8 = position(2, units(MAIN_LINE, "target", 2, "utf-8"))
    utf8.from_client(framed({"jsonrpc": "2.0", "id": 1, "method": "textDocument/references",
                             "params": at8}))  # fmt: skip
    error = {"code": -32603, "message": "boom"}
    utf8.from_server(framed({"jsonrpc": "2.0", "id": 1, "error": error}))
    utf8.drain()
    assert [s.symbol for s in sink.failures] == [f"{C}#2:56:target"]
    # The utf-16 client asks about the same identifier: backing off, answered here.
    at16 = position(2, units(MAIN_LINE, "target", 2, "utf-16") + 2)
    actions = utf16.from_client(
        framed({"jsonrpc": "2.0", "id": 2, "method": "textDocument/references", "params": at16})
    )
    assert actions is not None and len(actions) == 1 and isinstance(actions[0], ToClient)
    assert b'"result":null' in actions[0].data


@pytest.mark.parametrize("command", ["edges", "orphans"])
def test_the_cli_says_the_unit(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    assert "UTF-16 code units" in " ".join(capsys.readouterr().out.split())


def test_the_codecs_count_as_the_characters_do() -> None:
    """convert (cut by the codecs) against _counted (one character at a time), on every
    offset of lines mixing 1-, 2-, 3- and 4-byte characters, lone surrogates included."""
    rnd = random.Random(27)
    alphabet = ["a", " ", "é", "日", "😀", "𠀀", "\u00a0"]
    lines = ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 12))) for _ in range(200)]
    lines += ["a\ud83dé", "\udc00日x"]  # lone surrogates: only the counted path takes them
    for line in lines:
        for source in ("utf-8", "utf-16", "utf-32"):
            for dest in ("utf-8", "utf-16", "utf-32"):
                for character in range(len(line.encode("utf-8", "surrogatepass")) + 3):
                    same = source == dest  # never converted, by design
                    expected = character if same else _counted(line, character, source, dest)
                    assert convert(line, character, source, dest) == expected, (
                        line,
                        character,
                        source,
                        dest,
                    )


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-32"])
def test_a_long_line_keys_in_the_graph_unit_whatever_the_session(encoding: str) -> None:
    """A minified line is read only around the position (issue 30), and the key's start is
    still counted in UTF-16 from the line's start: the units before the stretch included."""
    uri = "file:///w/bundle.js"
    head = "é😀" * 20_000  # 40,000 characters, 60,000 UTF-16 units, 120,000 UTF-8 bytes
    line = head + " var  target = 1; " + "x" * 30_000
    docs = Documents(encoding=encoding)
    docs.open(uri, line)
    at = units(line, "target", 1, encoding) + 2  # inside the name
    ident = docs.identifier_at(uri, 0, at)
    assert ident.name == "target"
    assert ident.character == units(line, "target", 1, "utf-16") == 60_006
    spaced = docs.identifier_at(uri, 0, units(line, "target", 1, encoding) - 1)  # two spaces in
    assert (spaced.name, spaced.character) == ("", 60_005)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "utf-32"])
def test_a_range_starting_on_punctuation_keys_its_name_on_a_long_line(encoding: str) -> None:
    """``until`` (a selectionRange's end, issue 21) on a line read only around the position
    (issue 30): the name after the ``**`` is keyed, its start in UTF-16 from the line's start."""
    uri = "file:///w/long.py"
    line = "def f(" + ", ".join(f"é{n}" for n in range(5_000)) + ", **kwargs): pass"
    docs = Documents(encoding=encoding)
    docs.open(uri, line)
    start = units(line, "**kwargs", 1, encoding)
    ident = docs.identifier_at(uri, 0, start, until=(0, start + len("**kwargs")))
    assert (ident.name, ident.character) == ("kwargs", units(line, "kwargs", 1, "utf-16"))
