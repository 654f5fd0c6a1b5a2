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

from typing import Any

import pytest
from lspwire import LspClient
from pairing import Pair, edges_for
from python_cases import (
    BASE,
    analyzed,
    assert_call_hierarchy,
    assert_nothing_failed,
    assert_tracked_answers,
    at,
    unresolved,
)
from python_checks import PythonPairChecks
from realtools import find_tool

pytestmark = [pytest.mark.real_server, pytest.mark.asyncio(loop_scope="module")]


class TestBasedpyright(PythonPairChecks):
    ready = staticmethod(analyzed)
    proxy_args = ()  # the default base: its readiness makes an empty answer definitive
    failing_at = (-1, 0)  # a negative line: its one reliable error
    failing_code = -32603
    failing_says = "Debug Failure. index is out of range"

    @staticmethod
    def command() -> list[str]:
        return [find_tool("basedpyright-langserver"), "--stdio"]

    async def test_tracked_requests_answer_exactly_as_direct(self, pair: Pair) -> None:
        before = await pair.stats()
        await assert_tracked_answers(pair, "basedpyright")
        implementation = await pair.same("textDocument/implementation", at(BASE, "def area", 1, 4))
        assert len(implementation.result) == 3  # Shape.area, Circle.area, Square.area
        await assert_call_hierarchy(pair)
        # Readiness came from the analysis progress: nothing above was mistaken for "busy".
        await assert_nothing_failed(pair, before)

    async def test_server_requests_reach_the_client_unchanged(self, pair: Pair) -> None:
        def asked(client: LspClient) -> list[Any]:
            return [
                f.msg["params"]
                for f in client.server_requests
                if f.msg["method"] == "workspace/configuration"
            ]

        assert asked(pair.proxied) == asked(pair.direct)
        sections = [item["section"] for params in asked(pair.proxied) for item in params["items"]]
        assert {"python", "basedpyright"} <= set(sections)

    async def test_unresolved_symbol_is_a_placeholder_not_a_loop(self, pair: Pair) -> None:
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
        for operation in (
            "definition",
            "prepare_call_hierarchy",
            "incoming_calls",
            "outgoing_calls",
        ):
            rows = edges_for(edges, "load_all", operation)
            assert [(r["kind"], r["target"]) for r in rows] == [("none", None)], (operation, rows)
