"""basedpyright through the proxy answers exactly as basedpyright directly.

What basedpyright really does (1.40, observed on examples/):

- "No result" is ``"result": null`` for every tracked method: an unresolvable name
  (``plugins.load_all``), whitespace, a line past the end, an unknown URI. Never ``[]``.
- A negative line (``{"line": -1}``) is its one reliable error:
  ``-32603 "Request textDocument/definition failed with message: Debug Failure. index is out
  of range"``. Used below (and in the Neovim test) as the failing request.
- It asks the client ``workspace/configuration`` three times (sections python, basedpyright,
  pyright) and creates ``window/workDoneProgress/create`` tokens: one for the initial analysis
  ("N files to analyze" begin/report/end) and one per references/implementation request
  ("Finding references", begin/end before the answer). So the proxy sees readiness from
  progress, and an empty answer after the analysis is definitive at once.
- It supports implementation and call hierarchy (pyright from npm does not implement
  textDocument/implementation).

One basedpyright pair (direct + proxied) is shared by the whole module: starting one costs
about a second and the requests below only read.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from lspwire import LspClient
from pairing import Pair, edges_for, start_pair, text_position
from python_cases import (
    APP,
    BASE,
    EXAMPLES,
    FILES,
    analyzed,
    ask_then_assert_graph_has_edges,
    assert_call_hierarchy,
    assert_failure_answered_by_proxy,
    assert_nothing_failed,
    assert_tracked_answers,
    assert_untouched,
    at,
    unresolved,
)
from realtools import find_tool

pytestmark = [pytest.mark.real_server, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def pair(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Pair]:
    server = [find_tool("basedpyright-langserver"), "--stdio"]
    tmp: Path = tmp_path_factory.mktemp("basedpyright")
    started = await start_pair(
        server, root=EXAMPLES, tmp=tmp, files=FILES, language_id="python", ready=analyzed
    )
    yield started
    codes = await started.close()
    assert list(codes) == [0, 0], f"exit codes (direct, proxied) = {codes}; {started.log_tail()}"


async def test_tracked_requests_answer_exactly_as_direct(pair: Pair) -> None:
    before = await pair.stats()
    await assert_tracked_answers(pair, "basedpyright")
    implementation = await pair.same("textDocument/implementation", at(BASE, "def area", 1, 4))
    assert len(implementation.result) == 3  # Shape.area, Circle.area, Square.area
    await assert_call_hierarchy(pair)
    # Readiness came from the analysis progress: nothing above was mistaken for "busy".
    await assert_nothing_failed(pair, before)


async def test_hover_completion_symbols_diagnostics_untouched(pair: Pair) -> None:
    await assert_untouched(pair)
    # The unresolved import is reported the same way through the proxy.
    messages = [d["message"] for d in pair.proxied.diagnostics()[APP.as_uri()]]
    assert any("plugins" in m for m in messages), messages


async def test_server_requests_reach_the_client_unchanged(pair: Pair) -> None:
    def asked(client: LspClient) -> list[Any]:
        return [
            f.msg["params"]
            for f in client.server_requests
            if f.msg["method"] == "workspace/configuration"
        ]

    assert asked(pair.proxied) == asked(pair.direct)
    sections = [item["section"] for params in asked(pair.proxied) for item in params["items"]]
    assert {"python", "basedpyright"} <= set(sections)


async def test_graph_holds_the_edges(pair: Pair) -> None:
    await ask_then_assert_graph_has_edges(pair)


async def test_unresolved_symbol_is_a_placeholder_not_a_loop(pair: Pair) -> None:
    before = await pair.stats()
    for _ in range(2):
        answer = await pair.same("textDocument/definition", unresolved())
        assert answer.result is None
        prepared = await pair.same("textDocument/prepareCallHierarchy", unresolved())
        assert prepared.result is None
    after = await pair.stats()
    # Both askings reached the server: an empty answer is not a failure to back off from.
    assert after["failures"] == before["failures"]
    assert after["short_circuited"] == before["short_circuited"]
    edges = await pair.edges()
    for operation in ("definition", "prepare_call_hierarchy", "incoming_calls", "outgoing_calls"):
        rows = edges_for(edges, "load_all", operation)
        assert [(r["kind"], r["target"]) for r in rows] == [("none", None)], (operation, rows)


async def test_failing_request_is_answered_by_the_proxy_after_its_failure(pair: Pair) -> None:
    """A negative line makes basedpyright fail; the retry is answered null at once."""
    params = text_position(APP.as_uri(), {"line": -1, "character": 0})
    error = await assert_failure_answered_by_proxy(pair, params)
    assert error["code"] == -32603, error
    # The proxy logs through a queue and a writer thread (never on the forwarding path): the
    # line lands in the file shortly after the answer, not before it.
    async with asyncio.timeout(30):
        while "failure definition" not in pair.log_tail(200):
            await asyncio.sleep(0.05)
