"""When the content hash is computed along the request path: never per keystroke, never to
forward a tracked request; once when an answer is recorded, for the text it was asked about."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fakes import FakeSink as Sink

from lsp_backoff.proxy.actions import Arm, ToServer
from lsp_backoff.proxy.config import ProxyConfig
from lsp_backoff.proxy.core import Core
from lsp_backoff.proxy.documents import Documents, content_hash
from lsp_backoff.proxy.framing import Frame, FrameParser, encode
from lsp_backoff.proxy.routing import Router
from lsp_backoff.proxy.text import Text
from lsp_backoff.tracker.backoff import BackoffPolicy
from lsp_backoff.tracker.failures import FailureTracker

URI = "file:///ws/a.py"
TEXT = "def bad_fn(): pass\ngood = bad_fn()\n" * 500


def framed(message: dict[str, Any]) -> Frame:
    (item,) = FrameParser().feed(encode(json.dumps(message).encode()))
    assert isinstance(item, Frame)
    return item


def notify(router: Router, method: str, params: dict[str, Any]) -> None:
    router.from_client(framed({"jsonrpc": "2.0", "method": method, "params": params}))


def span(line: int, start: int, end: int) -> dict[str, Any]:
    return {"start": {"line": line, "character": start}, "end": {"line": line, "character": end}}


def typed(router: Router, version: int, line: int) -> None:
    change = {"range": span(line, 0, 0), "text": "x"}
    params = {"textDocument": {"uri": URI, "version": version}, "contentChanges": [change]}
    notify(router, "textDocument/didChange", params)


def definition(ident: int) -> Frame:
    params = {"textDocument": {"uri": URI}, "position": {"line": 1, "character": 9}}
    return framed(
        {"jsonrpc": "2.0", "id": ident, "method": "textDocument/definition", "params": params}
    )


@pytest.fixture
def hashed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The content hashes computed (each text's, once)."""
    calls: list[str] = []
    real = Text.version

    def counting(self: Text) -> str:  # counts the hashes texts compute, not the kept ones
        known = self.known_version
        version = real(self)
        if known is None:
            calls.append(version)
        return version

    monkeypatch.setattr(Text, "version", counting)
    return calls


class WriterHeld(Sink):
    """The name rule's job waits in the writer's queue (it runs on the writer thread, where it
    diffs the texts and hashes both, issue 24): these tests count the loop's hashes only."""

    def rearm(self, uri: str, names: Any, operations: Any) -> None:
        self.held.append((uri, names, operations))

    def __init__(self) -> None:
        super().__init__()
        self.held: list[tuple[str, Any, Any]] = []


def make() -> tuple[Router, Sink, Documents]:
    tracker = FailureTracker(BackoffPolicy(base=5, max_retries=3), clock=lambda: 1000.0)
    docs = Documents()
    sink = WriterHeld()
    router = Router(Core(ProxyConfig(no_db=True), tracker=tracker, sink=sink), docs, timeout=30)
    opened = {"textDocument": {"uri": URI, "languageId": "python", "version": 1, "text": TEXT}}
    notify(router, "textDocument/didOpen", opened)
    router.drain()
    return router, sink, docs


def test_keystrokes_and_a_tracked_request_hash_nothing_the_answer_hashes_once(
    hashed: list[str],
) -> None:
    router, sink, docs = make()
    assert len(hashed) == 1  # didOpen tells the store the content it sees
    for n in range(20):
        typed(router, n + 2, 100 + n)
    req = definition(1)
    assert router.from_client(req) == [ToServer(req.raw), Arm(1)]  # drains the edits
    assert len(hashed) == 1
    # told at didOpen, not per keystroke
    assert [v for _, v in sink.documents] == [content_hash(TEXT)]
    asked = docs.text(URI)
    assert asked is not None
    loc = {"uri": URI, "range": span(0, 4, 10)}
    router.from_server(framed({"jsonrpc": "2.0", "id": 1, "result": [loc]}))
    router.drain()
    assert hashed[1:] == [content_hash(asked)]
    assert [s.version for s, _, _ in sink.edges] == [content_hash(asked)]
    assert [v for _, v in sink.documents][-1] == content_hash(asked)
    assert docs.known_version(URI) == content_hash(asked)  # kept for the next recording


def test_an_answer_after_more_edits_is_recorded_for_the_text_it_was_asked_about(
    hashed: list[str],
) -> None:
    router, sink, docs = make()
    typed(router, 2, 10)
    router.from_client(definition(1))
    asked = docs.text(URI)
    assert asked is not None
    typed(router, 3, 11)
    router.drain()
    error = {"code": -32603, "message": "internal"}
    router.from_server(framed({"jsonrpc": "2.0", "id": 1, "error": error}))
    router.drain()
    assert [s.version for s in sink.failures] == [content_hash(asked)]
    assert content_hash(asked) != content_hash(docs.text(URI) or "")
    # The failure state is dropped at the next request: its text is not the current one.
    req = definition(2)
    assert router.from_client(req) == [ToServer(req.raw), Arm(2)]


def test_requests_on_the_same_text_coalesce_without_a_hash_and_an_edit_parts_them(
    hashed: list[str],
) -> None:
    """Coalescing keys on the text asked about (its identity), not on its hash."""
    router, _, _ = make()
    first = definition(1)
    assert router.from_client(first) == [ToServer(first.raw), Arm(1)]
    assert router.from_client(definition(2)) == []  # the same question: follows the first
    typed(router, 2, 10)
    third = definition(3)
    assert router.from_client(third) == [ToServer(third.raw), Arm(3)]  # another text
    assert len(hashed) == 1  # didOpen's only
