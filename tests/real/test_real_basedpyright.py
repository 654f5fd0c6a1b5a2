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

import pytest
from pairing import Pair
from python_cases import (
    BASE,
    assert_call_hierarchy,
    assert_nothing_failed,
    assert_tracked_answers,
    at,
)
from python_checks import PyrightFamilyChecks
from realtools import find_tool

pytestmark = [pytest.mark.real_server, pytest.mark.asyncio(loop_scope="module")]


class TestBasedpyright(PyrightFamilyChecks):
    configuration_sections = frozenset({"python", "basedpyright"})

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
