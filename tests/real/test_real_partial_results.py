"""Issue 25: a client that passes ``partialResultToken`` builds the same graph as one that
does not (real basedpyright on examples/).

basedpyright (1.40) streams its references, implementation and workspace/symbol answers as
``$/progress`` under the client's token and then answers ``[]`` (LSP 3.17 "Partial Result
Progress"); definition, call hierarchy and documentSymbol come whole. Two proxies, each with its
own basedpyright and database, get the same requests; one client adds a token to every request
that may carry one. Their graphs must hold the same rows, order aside — edges, ``none``
placeholders and symbols alike — and the test checks that the server really streamed, so it
cannot pass by basedpyright answering whole. Measured: without the fix, the token side recorded
14 edges and 9 ``none`` where the plain side recorded 38 and 3.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from lspwire import CLIENT_CAPABILITIES, LspClient
from pairing import graph_cli
from python_cases import APP, BASE, EXAMPLES, FILES, REPORT, analyzed, at, tracked_cases
from realtools import clean_env, find_tool, proxy_command

pytestmark = [pytest.mark.real_server, pytest.mark.asyncio(loop_scope="module")]

#: Requests whose params take a partialResultToken (spec: PartialResultParams).
STREAMABLE = (
    "textDocument/documentSymbol",
    "workspace/symbol",
    "textDocument/definition",
    "textDocument/declaration",
    "textDocument/typeDefinition",
    "textDocument/implementation",
    "textDocument/references",
    "callHierarchy/incomingCalls",
    "callHierarchy/outgoingCalls",
)
REFS = {"context": {"includeDeclaration": True}}
NO_DECL = {"context": {"includeDeclaration": False}}

Sides = tuple[LspClient, LspClient, Path, Path]


async def start(tmp: Path, name: str) -> tuple[LspClient, Path]:
    server = [find_tool("basedpyright-langserver"), "--stdio"]
    db = tmp / f"{name}.db"
    client = await LspClient.start(
        proxy_command(db, tmp / f"{name}.log", server),
        cwd=EXAMPLES,
        env=clean_env(tmp / name),
        stderr_path=tmp / f"{name}.stderr",
        name=name,
    )
    await client.initialize(EXAMPLES, capabilities=CLIENT_CAPABILITIES)
    for path in FILES:
        client.did_open(path, "python")
    return client, db


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def sides(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Sides]:
    tmp = tmp_path_factory.mktemp("partials")
    (plain, plain_db), (streamed, streamed_db) = await asyncio.gather(
        start(tmp, "plain"), start(tmp, "tokens")
    )
    try:
        await asyncio.gather(
            plain.wait_for(analyzed, "readiness"), streamed.wait_for(analyzed, "readiness")
        )
        yield plain, streamed, plain_db, streamed_db
    finally:
        await asyncio.gather(plain.close(), streamed.close())


def cases() -> list[tuple[str, dict[str, Any]]]:
    """Every tracked operation, with answers and without (``none`` placeholders)."""
    return [
        *((method, params) for _label, method, params in tracked_cases()),
        ("textDocument/implementation", at(BASE, "def area", 1, 4)),
        ("textDocument/references", {**at(APP, "summarize", 2), **REFS}),
        ("textDocument/references", {**at(REPORT, "def summarize", 1, 4), **NO_DECL}),
        # A function nobody calls: references without the declaration are none.
        ("textDocument/references", {**at(APP, "def main", 1, 4), **NO_DECL}),
        ("textDocument/implementation", at(APP, "def main", 1, 4)),
        ("textDocument/definition", at(APP, "load_all")),  # unresolvable: none
    ]


class Asker:
    def __init__(self, client: LspClient, tokens: bool) -> None:
        self.client, self.tokens, self.sent = client, tokens, 0

    async def ask(self, method: str, params: dict[str, Any]) -> Any:
        self.sent += 1
        if self.tokens and method in STREAMABLE:
            params = {**params, "partialResultToken": f"partial-{self.sent}"}
        frame = await self.client.request(method, params)
        assert frame.error is None, frame.raw
        return frame.result

    async def run(self) -> None:
        for method, params in cases():
            await self.ask(method, params)
        for params in (at(REPORT, "def summarize", 1, 4), at(BASE, "def area", 1, 4)):
            items = await self.ask("textDocument/prepareCallHierarchy", params)
            assert items, params
            for method in ("callHierarchy/incomingCalls", "callHierarchy/outgoingCalls"):
                await self.ask(method, {"item": items[0]})
        await self.ask("workspace/symbol", {"query": "a"})
        for path in FILES:
            await self.ask("textDocument/documentSymbol", {"textDocument": {"uri": path.as_uri()}})


def symbols(db: Path) -> list[tuple[Any, ...]]:
    """The graph's symbols, sorted (when recorded aside)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        query = "SELECT key, uri, name, kind, line, character, source FROM symbols"
        return sorted(conn.execute(query).fetchall())
    finally:
        conn.close()


def rows(db: Path) -> list[str]:
    """The graph's edges and placeholders, as comparable strings, sorted."""
    found = graph_cli("edges", "--json", "--db", str(db))
    keep = ("name", "uri", "line", "character", "operation", "kind", "target", "detail")
    return sorted(json.dumps({k: e.get(k) for k in keep}, sort_keys=True) for e in found)


async def test_tokens_or_not_the_graph_is_the_same(sides: Sides) -> None:
    plain, streamed, plain_db, streamed_db = sides
    await asyncio.gather(Asker(plain, False).run(), Asker(streamed, True).run())
    for client in (plain, streamed):
        flushed = await client.request("lspBackoff/flush")
        assert flushed.result == {"committed": True}, flushed.raw

    # basedpyright did stream: pieces under our tokens, and those answers were [] — so the
    # graph below is built from pieces, not from whole answers.
    pieces = [
        p
        for p in streamed.notifications_of("$/progress")
        if str(p.get("token", "")).startswith("partial-") and isinstance(p.get("value"), list)
    ]
    assert len(pieces) >= 3, f"basedpyright streamed {len(pieces)} pieces"
    assert not any(
        str(p.get("token", "")).startswith("partial-") for p in plain.notifications_of("$/progress")
    )

    plain_rows, streamed_rows = rows(plain_db), rows(streamed_db)
    kinds = [json.loads(r)["kind"] for r in plain_rows]
    assert kinds.count("edge") >= 20 and kinds.count("none") >= 2, plain_rows
    assert streamed_rows == plain_rows
    # workspace/symbol is streamed too, and asked first: its symbols are recorded as its own.
    assert symbols(streamed_db) == symbols(plain_db)
