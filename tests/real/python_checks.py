"""The checks every Python server runs on examples/, shared by subclassing.

Every Python server's module is one class: ``PythonPairChecks`` for all of them (the pair,
what passes untouched, the graph, a failing request answered by the proxy afterwards), and
``PythonServerChecks`` on top for the servers without a readiness signal (pyrefly, ty, zuban:
empty answers confirmed by a repeat, enrich on examples/). They differ in what they answer,
not in what the proxy must do with it: the facts that differ are class attributes, and what
only one server does stays in its module's class. One direct/proxied pair (``pair``) serves
the whole class.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, ClassVar

import pytest
import pytest_asyncio
from lspwire import LspClient
from pairing import Pair, edges_for, graph_cli, start_pair, text_position
from python_cases import (
    APP,
    EXAMPLES,
    FILES,
    analyzed,
    ask_then_assert_graph_has_edges,
    assert_failure_answered_by_proxy,
    assert_placeholder_once_confirmed,
    assert_untouched,
    diagnosed,
    enrich_examples,
    unresolved,
)

#: Short, so the "empty twice, base seconds apart" rule settles within a bounded poll.
BACKOFF_BASE = 0.5
CALL_OPERATIONS = ("incoming_calls", "outgoing_calls")


class PythonPairChecks:
    #: Both servers share one cache, asked one after the other (see pairing.start_pair).
    share_cache: ClassVar[bool] = False
    #: A (line, character) whose definition the server answers with an error, and that error.
    failing_at: ClassVar[tuple[int, int]]
    failing_code: ClassVar[int]
    failing_says: ClassVar[str]
    #: When the server is ready for questions (its diagnostics, its analysis progress).
    ready: ClassVar[Callable[[LspClient], bool]] = staticmethod(diagnosed)
    #: Options of the proxied server's proxy.
    proxy_args: ClassVar[tuple[str, ...]] = ("--backoff-base", str(BACKOFF_BASE))
    #: It reports examples/app.py's unresolved `plugins` import.
    diagnoses_the_import: ClassVar[bool] = True

    @staticmethod
    def command() -> list[str]:
        """The server's command line (skips, or fails under CI=true, when it is missing)."""
        raise NotImplementedError

    @pytest.fixture(scope="class")
    @classmethod
    def server(cls) -> list[str]:
        return cls.command()

    @pytest_asyncio.fixture(scope="class", loop_scope="module")
    @classmethod
    async def pair(
        cls, server: list[str], tmp_path_factory: pytest.TempPathFactory
    ) -> AsyncIterator[Pair]:
        started = await start_pair(
            server,
            root=EXAMPLES,
            tmp=tmp_path_factory.mktemp(cls.__name__.removeprefix("Test").lower()),
            files=FILES,
            language_id="python",
            ready=cls.ready,
            proxy_args=cls.proxy_args,
            share_cache=cls.share_cache,
        )
        yield started
        codes = await started.close()
        assert list(codes) == [0, 0], f"exit codes (direct, proxied): {codes}; {started.log_tail()}"

    async def test_hover_completion_symbols_diagnostics_untouched(self, pair: Pair) -> None:
        await assert_untouched(pair)
        if self.diagnoses_the_import:
            # The unresolved import is reported, and the same way through the proxy.
            messages = [d["message"] for d in pair.proxied.diagnostics()[APP.as_uri()]]
            assert any("plugins" in m for m in messages), messages

    async def test_graph_holds_the_edges(self, pair: Pair) -> None:
        await ask_then_assert_graph_has_edges(pair)

    async def test_failing_request_is_answered_by_the_proxy_after_its_failure(
        self, pair: Pair
    ) -> None:
        line, character = self.failing_at
        params = text_position(APP.as_uri(), {"line": line, "character": character})
        error = await assert_failure_answered_by_proxy(pair, params)
        assert error["code"] == self.failing_code, error
        assert self.failing_says in error["message"], error
        # The proxy logs through a queue and a writer thread (never on the forwarding path):
        # the line lands in the file shortly after the answer, not before it.
        async with asyncio.timeout(30):
            while "failure definition" not in pair.log_tail(200):
                await asyncio.sleep(0.05)


class PyrightFamilyChecks(PythonPairChecks):
    """basedpyright and pyright: readiness from their analysis progress, so an empty answer
    after it is definitive at once; a negative line is their one reliable error."""

    ready = staticmethod(analyzed)
    proxy_args = ()  # the default base: readiness, not a repeat, confirms empty answers
    failing_at = (-1, 0)
    failing_code = -32603
    failing_says = "Debug Failure. index is out of range"
    #: The sections it asks `workspace/configuration` about (at least these).
    configuration_sections: ClassVar[frozenset[str]]

    async def test_configuration_requests_reach_the_client_unchanged(self, pair: Pair) -> None:
        def asked(client: LspClient) -> list[Any]:
            return [
                f.msg["params"]
                for f in client.server_requests
                if f.msg["method"] == "workspace/configuration"
            ]

        assert asked(pair.proxied) == asked(pair.direct)
        sections = {item["section"] for params in asked(pair.proxied) for item in params["items"]}
        assert self.configuration_sections <= sections, sections

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


class PythonServerChecks(PythonPairChecks):
    """The servers without a readiness signal (pyrefly, ty, zuban)."""

    #: False when the server does not implement call hierarchy at all.
    call_hierarchy: ClassVar[bool] = True
    #: Extra `enrich` options for this server.
    enrich_options: ClassVar[tuple[str, ...]] = ()

    async def test_empty_answer_becomes_a_placeholder_only_when_confirmed(self, pair: Pair) -> None:
        await assert_placeholder_once_confirmed(pair, BACKOFF_BASE)

    @pytest.mark.timeout(240)  # enrich_examples gives the run 180 s
    async def test_enrich_fills_every_symbol(self, server: list[str], tmp_path: Path) -> None:
        summary = await enrich_examples([*self.enrich_options, "--", *server], tmp_path)
        operations: dict[str, Any] = summary["operations"]
        for op in ("references", "implementation", *CALL_OPERATIONS):
            counts = operations[op]
            if op in CALL_OPERATIONS and not self.call_hierarchy:
                # Every symbol has an `error` placeholder ("not supported") instead.
                assert counts["error"] == summary["symbols"], (op, summary)
                assert counts["edges"] == counts["none"] == 0, (op, summary)
            else:
                assert counts["edges"] > 0 and counts["error"] == 0, (op, summary)
        assert summary["requests"]["failures"] == 0, summary
        # Every pair filled under the window, and no repeat asked while the proxy still backed
        # it off (after a ContentModified answer): the proxy never answered null itself.
        assert summary["unfilled"] == [] and summary["requests"]["short_circuited"] == 0, summary
        if not self.call_hierarchy:
            # Not asked at all: the capabilities lack callHierarchyProvider. (A -32601 answer
            # would have said only "… not supported".)
            rows = graph_cli("edges", "--json", "--db", str(tmp_path / "enrich.db"))
            details = {r["detail"] for r in rows if r["operation"] in CALL_OPERATIONS}
            assert details and all("no callHierarchyProvider" in d for d in details), details
