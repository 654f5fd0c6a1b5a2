"""ty (PyPI wheel, ``ty server``) through the proxy answers exactly as ty directly.

What ty really does (0.0.108, observed on examples/):

- "No result" is ``"result": null`` for definition, declaration, references, implementation
  and prepareCallHierarchy on an unresolvable name, whitespace, a line or a column past the
  end and an unknown URI; outgoingCalls of a method that calls nothing is ``null`` too. A file
  of the project that was never opened is answered from disk.
- typeDefinition of the unresolvable ``plugins.load_all`` is *not* empty: it points at
  ``Unknown`` in ty's own stubs (``ty_extensions/_internal.pyi``).
- implementation of ``Shape.area`` lists the method itself with its overrides.
- Locations are LocationLinks with ``originSelectionRange``. Any answer that points into the
  standard library names a file ty extracted into ``$XDG_CACHE_HOME/ty/vendored/typeshed/``:
  both servers of the pair share one cache, or the same answer would name two files.
- A negative line is an error: ``-32602 "JSON parsing failure: … expected u32"``.
- It cancels its running queries when any document changes: a documentSymbol asked while the
  next file is being opened is answered ``-32801 content modified`` (enrich asks again), and
  so is every request in flight when enrich's window opens or closes a document: enrich asks
  those again once the proxy's backoff for them ends (0-5 such answers a run on examples/
  with ``--open-files 2``, 2 servers).
- It asks the client ``workspace/configuration`` (section ty) once. No $/progress: the proxy
  never learns that it is ready, so an empty answer becomes a placeholder only when confirmed
  ``--backoff-base`` seconds later. It pushes diagnostics (its pull diagnostics are not asked
  for: the client does not advertise them).
"""

from __future__ import annotations

import pytest
from pairing import Pair
from python_cases import (
    BASE,
    assert_call_hierarchy,
    assert_nothing_failed,
    assert_server_requests_unchanged,
    assert_tracked_answers,
    at,
    unresolved,
)
from python_checks import PythonServerChecks
from realtools import wheel_server

pytestmark = [pytest.mark.real_server, pytest.mark.asyncio(loop_scope="module")]


class TestTy(PythonServerChecks):
    share_cache = True
    # examples/ has 6 files: under the default window (8) no document is ever closed. Two open
    # at a time makes the window open and close documents while requests are in flight — what
    # ty answers ContentModified (1-5 times a run here); every pair must still be filled.
    enrich_options = ("--open-files", "2")
    failing_at = (-1, 0)
    failing_code = -32602
    failing_says = "expected u32"

    @staticmethod
    def command() -> list[str]:
        return [wheel_server("ty"), "server"]

    async def test_tracked_requests_answer_exactly_as_direct(self, pair: Pair) -> None:
        before = await pair.stats()
        await assert_tracked_answers(pair, "ty")
        implementation = await pair.same("textDocument/implementation", at(BASE, "def area", 1, 4))
        assert len(implementation.result) == 3  # Circle.area, Shape.area itself, Square.area
        items = await assert_call_hierarchy(pair)
        # summarize calls list.append and str.join: answers that name ty's extracted stubs.
        outgoing = await pair.same("callHierarchy/outgoingCalls", {"item": items[0]})
        assert any("/ty/vendored/typeshed/" in call["to"]["uri"] for call in outgoing.result)
        await assert_nothing_failed(pair, before)

    async def test_server_requests_reach_the_client_unchanged(self, pair: Pair) -> None:
        asked = assert_server_requests_unchanged(pair)
        sections = [(method, [i["section"] for i in params["items"]]) for method, params in asked]
        assert sections == [("workspace/configuration", ["ty"])]

    async def test_type_of_an_unresolvable_name_is_unknown_not_empty(self, pair: Pair) -> None:
        answer = await pair.same("textDocument/typeDefinition", unresolved())
        targets = [link["targetUri"].rsplit("/", 2)[-2:] for link in answer.result]
        assert targets == [["ty_extensions", "_internal.pyi"]], answer.raw
