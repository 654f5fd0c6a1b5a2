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

import pytest
from pairing import Pair
from python_cases import (
    BASE,
    assert_call_hierarchy,
    assert_nothing_failed,
    assert_tracked_answers,
    assert_unsupported_noted,
    at,
)
from python_checks import PyrightFamilyChecks
from realtools import pyright_command

pytestmark = [pytest.mark.real_server, pytest.mark.asyncio(loop_scope="module")]


class TestPyright(PyrightFamilyChecks):
    configuration_sections = frozenset({"python", "pyright"})

    @staticmethod
    def command() -> list[str]:
        return pyright_command()

    async def test_tracked_requests_answer_exactly_as_direct(self, pair: Pair) -> None:
        before = await pair.stats()
        await assert_tracked_answers(pair, "pyright")
        await assert_call_hierarchy(pair)
        await assert_nothing_failed(pair, before)

    async def test_unimplemented_method_error_is_forwarded_and_noted(self, pair: Pair) -> None:
        await assert_unsupported_noted(
            pair,
            "textDocument/implementation",
            at(BASE, "def area", 1, 4),
            name="area",
            operation="implementation",
        )
