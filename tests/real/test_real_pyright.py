"""pyright (npm, run by the machine's Node) through the proxy answers exactly as directly.

What pyright really does (1.1.414, observed on examples/):

- "No result" is ``"result": null`` for every tracked method it implements (unresolvable name,
  whitespace, a line past the end, an unknown URI) — the same as basedpyright.
- It does not implement textDocument/implementation: it answers
  ``-32601 "Unhandled method textDocument/implementation"``. The proxy forwards that error
  untouched every time (no backoff: a missing method is not a failing symbol) and records one
  ``error`` placeholder for (symbol, implementation), so an indexer stops asking (checked below).
- It asks ``workspace/configuration`` for the sections python and pyright (not basedpyright),
  and reports its initial analysis as $/progress when the client supports it, like
  basedpyright; a client without window.workDoneProgress gets no progress at all, which is
  the case the proxy's "empty twice, base seconds apart" rule is for.
- Installed repo-locally by scripts/install-tools.sh into .tools/node_modules.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from lspwire import LspClient
from pairing import Pair, edges_for, start_pair
from python_cases import (
    BASE,
    EXAMPLES,
    FILES,
    analyzed,
    ask_then_assert_graph_has_edges,
    assert_call_hierarchy,
    assert_nothing_failed,
    assert_tracked_answers,
    assert_unsupported_noted,
    assert_untouched,
    at,
    unresolved,
)
from realtools import pyright_command

pytestmark = [pytest.mark.real_server, pytest.mark.asyncio(loop_scope="module")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def pair(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Pair]:
    server = pyright_command()
    tmp: Path = tmp_path_factory.mktemp("pyright")
    started = await start_pair(
        server, root=EXAMPLES, tmp=tmp, files=FILES, language_id="python", ready=analyzed
    )
    yield started
    codes = await started.close()
    assert list(codes) == [0, 0], f"exit codes (direct, proxied) = {codes}; {started.log_tail()}"


async def test_tracked_requests_answer_exactly_as_direct(pair: Pair) -> None:
    before = await pair.stats()
    await assert_tracked_answers(pair, "pyright")
    await assert_call_hierarchy(pair)
    await assert_nothing_failed(pair, before)


async def test_hover_completion_symbols_diagnostics_untouched(pair: Pair) -> None:
    await assert_untouched(pair)


async def test_configuration_requests_reach_the_client_unchanged(pair: Pair) -> None:
    def asked(client: LspClient) -> list[Any]:
        return [
            f.msg["params"]
            for f in client.server_requests
            if f.msg["method"] == "workspace/configuration"
        ]

    assert asked(pair.proxied) == asked(pair.direct)
    sections = {item["section"] for params in asked(pair.proxied) for item in params["items"]}
    assert sections == {"python", "pyright"}


async def test_graph_holds_the_edges(pair: Pair) -> None:
    await ask_then_assert_graph_has_edges(pair)


async def test_unresolved_symbol_is_a_placeholder_not_a_loop(pair: Pair) -> None:
    before = await pair.stats()
    for _ in range(2):
        assert (await pair.same("textDocument/definition", unresolved())).result is None
    after = await pair.stats()
    assert after["failures"] == before["failures"]
    assert after["short_circuited"] == before["short_circuited"]
    rows = edges_for(await pair.edges(), "load_all", "definition")
    assert [(r["kind"], r["target"]) for r in rows] == [("none", None)], rows


async def test_unimplemented_method_error_is_forwarded_and_noted(pair: Pair) -> None:
    await assert_unsupported_noted(
        pair,
        "textDocument/implementation",
        at(BASE, "def area", 1, 4),
        name="area",
        operation="implementation",
    )
