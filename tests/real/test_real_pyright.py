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
    assert_unsupported_noted,
    at,
    unresolved,
)
from python_checks import PythonPairChecks
from realtools import pyright_command

pytestmark = [pytest.mark.real_server, pytest.mark.asyncio(loop_scope="module")]


class TestPyright(PythonPairChecks):
    ready = staticmethod(analyzed)
    proxy_args = ()  # the default base: its readiness makes an empty answer definitive
    failing_at = (-1, 0)  # a negative line, as for basedpyright
    failing_code = -32603
    failing_says = "Debug Failure. index is out of range"

    @staticmethod
    def command() -> list[str]:
        return pyright_command()

    async def test_tracked_requests_answer_exactly_as_direct(self, pair: Pair) -> None:
        before = await pair.stats()
        await assert_tracked_answers(pair, "pyright")
        await assert_call_hierarchy(pair)
        await assert_nothing_failed(pair, before)

    async def test_configuration_requests_reach_the_client_unchanged(self, pair: Pair) -> None:
        def asked(client: LspClient) -> list[Any]:
            return [
                f.msg["params"]
                for f in client.server_requests
                if f.msg["method"] == "workspace/configuration"
            ]

        assert asked(pair.proxied) == asked(pair.direct)
        sections = {item["section"] for params in asked(pair.proxied) for item in params["items"]}
        assert sections == {"python", "pyright"}

    async def test_unresolved_symbol_is_a_placeholder_not_a_loop(self, pair: Pair) -> None:
        before = await pair.stats()
        for _ in range(2):
            assert (await pair.same("textDocument/definition", unresolved())).result is None
        after = await pair.stats()
        assert after["failures"] == before["failures"]
        assert after["short_circuited"] == before["short_circuited"]
        rows = edges_for(await pair.edges(), "load_all", "definition")
        assert [(r["kind"], r["target"]) for r in rows] == [("none", None)], rows

    async def test_unimplemented_method_error_is_forwarded_and_noted(self, pair: Pair) -> None:
        await assert_unsupported_noted(
            pair,
            "textDocument/implementation",
            at(BASE, "def area", 1, 4),
            name="area",
            operation="implementation",
        )
