"""jedi-language-server through the proxy answers exactly as directly.

What jedi-language-server really does (0.47 on jedi 0.20, observed on examples/):

- "No result" for definition, declaration and typeDefinition is ``"result": null``;
  references on an unresolvable name still lists the name's own occurrences (non-empty).
- A position past the end is an *error*, not an empty answer: a line past the last one gives
  ``-32603 "ValueError: `line` parameter is not in a valid range."`` (with a Python traceback
  in ``data``), a column past the end of the line a similar ValueError, and an unknown file
  ``-32603 "FileNotFoundError: …"``. The proxy counts these as failures.
- A *negative* line is never answered at all: pygls rejects the params (Position.line is a
  uinteger) and sends nothing back. Only the proxy's ``--timeout`` gets the editor an answer
  (``-32803 "lsp-backoff: textDocument/definition timed out after T s"``), and the retry is
  then answered ``null`` at once.
- textDocument/implementation and textDocument/prepareCallHierarchy are not implemented:
  ``-32601 "Method Not Found: …"``.
- It sends no $/progress and asks the client nothing (no workspace/configuration), so the
  proxy never learns that it is ready: an empty answer only becomes a ``none`` placeholder
  when the same question is answered empty again ``--backoff-base`` seconds later. Until then
  every asking is forwarded (never short-circuited).
- Its JSON is written by pygls with spaces (``{"id": 2, "jsonrpc": "2.0", …}``): the proxy
  forwards those bytes as they are.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lspwire import CLIENT_CAPABILITIES, LspClient
from pairing import Pair, text_position
from python_cases import (
    APP,
    BASE,
    EXAMPLES,
    assert_placeholder_once_confirmed,
    assert_tracked_answers,
    at,
)
from python_checks import PythonPairChecks
from realtools import clean_env, find_tool, proxy_command

pytestmark = [pytest.mark.real_server, pytest.mark.asyncio(loop_scope="module")]

#: Short, so the "empty twice, base seconds apart" rule settles within a bounded poll.
BACKOFF_BASE = 0.5


class TestJedi(PythonPairChecks):
    diagnoses_the_import = False  # it reports syntax errors only
    failing_at = (500, 3)  # a line past the end: an error, not an empty answer
    failing_code = -32603
    failing_says = "not in a valid range"

    @staticmethod
    def command() -> list[str]:
        return [find_tool("jedi-language-server")]

    async def test_tracked_requests_answer_exactly_as_direct(self, pair: Pair) -> None:
        await assert_tracked_answers(pair, "jedi")
        unsupported = await pair.same(
            "textDocument/prepareCallHierarchy", at(BASE, "def area", 1, 4)
        )
        assert unsupported.error is not None and unsupported.error["code"] == -32601

    async def test_hover_completion_symbols_diagnostics_untouched(self, pair: Pair) -> None:
        await super().test_hover_completion_symbols_diagnostics_untouched(pair)
        assert pair.proxied.server_requests == pair.direct.server_requests == []

    async def test_empty_answer_becomes_a_placeholder_only_when_confirmed(self, pair: Pair) -> None:
        await assert_placeholder_once_confirmed(pair, BACKOFF_BASE)

    async def test_request_jedi_never_answers_times_out_in_the_proxy(self, tmp_path: Path) -> None:
        """Its own short-timeout proxy: the shared pair keeps the default so slow answers pass."""
        env = clean_env(tmp_path)
        db, log = tmp_path / "graph.db", tmp_path / "proxy.log"
        cmd = proxy_command(db, log, [find_tool("jedi-language-server")], "--timeout", "1")
        client = await LspClient.start(cmd, cwd=EXAMPLES, env=env, name="proxied")
        try:
            await client.initialize(EXAMPLES, capabilities=CLIENT_CAPABILITIES)
            client.did_open(APP, "python")
            params = text_position(APP.as_uri(), {"line": -1, "character": 0})
            first = await client.request("textDocument/definition", params)
            assert first.error is not None, first.raw
            assert first.error["code"] == -32803
            assert first.error["message"] == (
                "lsp-backoff: textDocument/definition timed out after 1 s"
            )
            second = await client.request("textDocument/definition", params)
            assert second.msg == {"jsonrpc": "2.0", "id": second.msg["id"], "result": None}
            stats = (await client.request("lspBackoff/stats")).result
            assert (stats["timeouts"], stats["failures"], stats["short_circuited"]) == (1, 1, 1)
        finally:
            assert await client.close() == 0, log.read_text()
