"""zuban (PyPI wheel, ``zuban server``) through the proxy answers exactly as zuban directly.

What zuban really does (0.10.2, observed on examples/):

- It has no call hierarchy: ``callHierarchyProvider`` is missing from its capabilities and
  prepareCallHierarchy is answered ``-32601 "unknown request"``. The proxy forwards that every
  time and notes one ``error`` placeholder; enrich does not ask at all (it reads the
  capabilities) and has the proxy record the same placeholder, "not supported".
- "No result" is ``"result": null`` for definition, declaration, typeDefinition, references and
  implementation on an unresolvable name, on whitespace and on a column past the end.
- A line past the end is an *error*: ``-32603 "File has only 501 lines, but line 21 is
  requested"`` for line 500 of the 21-line app.py (the two numbers are swapped). Used as the
  failing request. An unknown file is ``-32602 "File … does not exist"``, a negative line
  ``-32602 "Failed to deserialize …"``. A file of the project never opened is read from disk.
- Locations are LocationLinks without ``originSelectionRange``. declaration of an imported
  name is the import; implementation of ``Shape.area`` is the method itself, not the overrides.
- documentSymbol is flat and lists imported names too (29 symbols on examples/ where pyrefly
  finds 20).
- It asks the client nothing and sends no $/progress: the proxy never learns that it is
  ready, so an empty answer becomes a placeholder only when confirmed ``--backoff-base``
  seconds later. It logs ``ERROR Expected "~/.local/lib" to be a directory`` to stderr at
  start when that folder is missing, and goes on.
"""

from __future__ import annotations

import pytest
from pairing import Pair
from python_cases import (
    BASE,
    assert_nothing_failed,
    assert_tracked_answers,
    assert_unsupported_noted,
    at,
)
from python_checks import PythonServerChecks
from realtools import wheel_server

pytestmark = [pytest.mark.real_server, pytest.mark.asyncio(loop_scope="module")]


class TestZuban(PythonServerChecks):
    failing_at = (500, 3)
    failing_code = -32603
    failing_says = "but line 21 is requested"
    call_hierarchy = False

    @staticmethod
    def command() -> list[str]:
        return [wheel_server("zuban"), "server"]

    async def test_initialize_result_has_no_call_hierarchy(self, pair: Pair) -> None:
        assert pair.initialized is not None
        capabilities = pair.initialized.result["capabilities"]
        assert "callHierarchyProvider" not in capabilities
        assert capabilities["implementationProvider"] and capabilities["referencesProvider"]

    async def test_tracked_requests_answer_exactly_as_direct(self, pair: Pair) -> None:
        before = await pair.stats()
        await assert_tracked_answers(pair, "zuban")
        implementation = await pair.same("textDocument/implementation", at(BASE, "def area", 1, 4))
        assert [link["targetUri"] for link in implementation.result] == [BASE.as_uri()]
        await assert_nothing_failed(pair, before)
        assert pair.proxied.server_requests == pair.direct.server_requests == []

    async def test_missing_call_hierarchy_is_forwarded_and_noted(self, pair: Pair) -> None:
        await assert_unsupported_noted(
            pair,
            "textDocument/prepareCallHierarchy",
            at(BASE, "def area", 1, 4),
            name="area",
            operation="prepare_call_hierarchy",
        )
