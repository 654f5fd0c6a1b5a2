"""pyrefly (PyPI wheel, ``pyrefly lsp``) through the proxy answers exactly as pyrefly directly.

What pyrefly really does (1.5.0, observed on examples/):

- It works per project: the nearest pyproject.toml with a ``[tool.*]`` table, or a
  pyrefly.toml. examples/pyproject.toml has an empty ``[tool.pyrefly]`` for that; without it
  pyrefly takes the lsp-backoff repository's pyproject.toml, calls these modules
  ``examples.report``, resolves none of their imports and shows no diagnostics at all.
- It adds the interpreter's sys.path, PYTHONPATH included, to its import roots: started with
  the repository root on PYTHONPATH (as tests/conftest.py sets it for the proxy) it finds 1
  reference to ``Shape`` instead of 11. So it runs here without PYTHONPATH.
- "No result" is ``"result": null`` for every tracked method: an unresolvable name, whitespace,
  a line or a column past the end, an unknown URI, and also a file of the project that was
  never opened (it answers only for open documents).
- definition, declaration and typeDefinition answer one ``Location`` object, not an array, and
  never a LocationLink although the client supports them.
- implementation of ``Shape.area`` lists the overrides (Circle.area, Square.area), not the
  method itself.
- A negative line is an error: ``-32602 "invalid value: integer `-1`, expected u32"`` (the
  params do not deserialize). Used as the failing request.
- It asks the client ``client/registerCapability`` (workspace/didChangeConfiguration, section
  python) and ``workspace/configuration`` (section python, scoped and unscoped).
- A didOpen or didClose makes it answer some requests in flight ``-32800 Request … is
  canceled due to subsequent mutation`` (RequestCancelled, though nobody cancelled them; the
  proxy records nothing for it): enrich asks them again, as after a ContentModified.
- No $/progress: the proxy never learns that it is ready, so an empty answer becomes a
  placeholder only when confirmed ``--backoff-base`` seconds later. It publishes diagnostics
  for every open file, several rounds of them.
"""

from __future__ import annotations

import pytest
from pairing import Pair
from python_cases import (
    APP,
    BASE,
    assert_call_hierarchy,
    assert_nothing_failed,
    assert_server_requests_unchanged,
    assert_tracked_answers,
    at,
)
from python_checks import PythonServerChecks
from realtools import wheel_server, without_pythonpath

pytestmark = [pytest.mark.real_server, pytest.mark.asyncio(loop_scope="module")]


class TestPyrefly(PythonServerChecks):
    failing_at = (-1, 0)
    # As for ty: a window smaller than examples/ (6 files), so documents close while requests
    # are in flight (pyrefly answers some of them RequestCancelled).
    enrich_options = ("--open-files", "2")
    failing_code = -32602
    failing_says = "expected u32"

    @staticmethod
    def command() -> list[str]:
        return without_pythonpath([wheel_server("pyrefly"), "lsp"])

    async def test_tracked_requests_answer_exactly_as_direct(self, pair: Pair) -> None:
        before = await pair.stats()
        await assert_tracked_answers(pair, "pyrefly")
        definition = await pair.same("textDocument/definition", at(APP, "summarize", 2))
        assert set(definition.result) == {"uri", "range"}  # one Location, not a list
        implementation = await pair.same("textDocument/implementation", at(BASE, "def area", 1, 4))
        assert len(implementation.result) == 2  # Circle.area, Square.area
        await assert_call_hierarchy(pair)
        await assert_nothing_failed(pair, before)

    async def test_server_requests_reach_the_client_unchanged(self, pair: Pair) -> None:
        methods = [method for method, _ in assert_server_requests_unchanged(pair)]
        assert methods == ["client/registerCapability", "workspace/configuration"]
