"""The head peek and the full decision read one table (proxy/rules.py): for every method in it,
and for methods outside it, a large frame streams through unread exactly when the same frame,
small, would be forwarded untouched without a look — on both sides."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from fakes import FakeSink

from lsp_backoff.proxy.config import ProxyConfig
from lsp_backoff.proxy.core import Core
from lsp_backoff.proxy.documents import Documents
from lsp_backoff.proxy.framing import STREAM_MIN_BYTES, Frame, FrameParser, Piece, encode
from lsp_backoff.proxy.messages import Kind
from lsp_backoff.proxy.operations import CALL_OPERATIONS
from lsp_backoff.proxy.routing import Router
from lsp_backoff.proxy.rules import CLIENT, SERVER, Look, Rule
from lsp_backoff.tracker.backoff import BackoffPolicy
from lsp_backoff.tracker.failures import FailureTracker

URI = "file:///ws/a.py"
TEXT = "def bad_fn(): pass\ngood = bad_fn()\n"
#: Methods with no rule: forwarded unread, whatever their size.
UNLOOKED = ("textDocument/hover", "custom/upload", "workspace/executeCommand")
ANSWERED_HERE = 99  # an id the proxy answered itself: a cancel of it is swallowed


class Seen:
    """A router whose looks are observable: deferred work is counted, not run."""

    def __init__(self) -> None:
        tracker = FailureTracker(BackoffPolicy(base=5, max_retries=7))
        core = Core(ProxyConfig(no_db=True), tracker=tracker, sink=FakeSink())
        self.router = Router(core, Documents(), timeout=30)
        self.router.from_client(frame(notification("textDocument/didOpen", opened())))
        self.router.drain()
        self.router.requests.answered_here(ANSWERED_HERE, "textDocument/definition")
        self.deferred: list[Callable[[], None]] = []
        self.router.defer = self.deferred.append  # type: ignore[method-assign]

    def looked(self, actions: Any, msg_id: Any = None) -> bool:
        entry = self.router.requests.get(msg_id) if msg_id is not None else None
        kept = entry is not None and entry.params is not None
        return actions is not None or bool(self.deferred) or self.router.exit_requested or kept


def opened() -> dict[str, Any]:
    return {"textDocument": {"uri": URI, "languageId": "python", "version": 1, "text": TEXT}}


def params_for(method: str, rule: Rule | None, pad: str = "") -> dict[str, Any]:
    if rule is not None and rule.look is Look.CANCEL:
        return {"id": ANSWERED_HERE, "pad": pad}
    if rule is not None and rule.operation in CALL_OPERATIONS:
        item = {"name": "bad_fn", "kind": 12, "uri": URI, "range": span(), "selectionRange": span()}
        return {"item": item, "pad": pad}
    return {"textDocument": {"uri": URI}, "position": {"line": 1, "character": 8}, "pad": pad}


def span() -> dict[str, Any]:
    return {"start": {"line": 0, "character": 4}, "end": {"line": 0, "character": 10}}


def request(msg_id: int, method: str, params: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": msg_id, "method": method, "params": params}


def notification(method: str, params: Any) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "method": method, "params": params}


def frame(message: dict[str, Any]) -> Frame:
    (item,) = FrameParser().feed(encode(json.dumps(message).encode()))
    assert isinstance(item, Frame)
    return item


def streams(head: Callable[[bytes], bool], message: dict[str, Any]) -> bool:
    """Does ``message`` (at least STREAM_MIN_BYTES) go through the real framer as pieces?"""
    data = encode(json.dumps(message).encode())
    assert len(data) > STREAM_MIN_BYTES
    parser = FrameParser(stream=head)
    half = len(data) // 2  # a frame still arriving: a whole one is taken as it is
    items = [*parser.feed(data[:half]), *parser.feed(data[half:])]
    return any(isinstance(item, Piece) for item in items)


def client_cases() -> list[tuple[str, Kind, Rule | None]]:
    cases: list[tuple[str, Kind, Rule | None]] = [(m, r.kind, r) for m, r in CLIENT.items()]
    for method in UNLOOKED:
        cases += [(method, Kind.REQUEST, None), (method, Kind.NOTIFICATION, None)]
    return cases


BIG = "x" * STREAM_MIN_BYTES


@pytest.mark.parametrize(("method", "kind", "rule"), client_cases())
def test_client_frames_stream_exactly_when_they_are_forwarded_unlooked(
    method: str, kind: Kind, rule: Rule | None
) -> None:
    def message(pad: str) -> dict[str, Any]:
        params = params_for(method, rule, pad)
        if kind is Kind.REQUEST:
            return request(1, method, params)
        return notification(method, params)

    small, large = Seen(), Seen()
    looked = small.looked(small.router.from_client(frame(message(""))), 1)
    streamed = streams(large.router.client_head, message(BIG))
    assert looked is (rule is not None), (method, kind)
    if kind is Kind.REQUEST:
        assert streamed is not looked, method
    else:  # a large notification is always read whole (messages.peek_head needs an id)
        assert not streamed, method
    if not streamed:  # read whole, the large frame is decided as the small one
        assert large.looked(large.router.from_client(frame(message(BIG))), 1) is looked, method


def answered_cases() -> list[tuple[str, Rule | None]]:
    forwarded = [(m, r) for m, r in CLIENT.items() if r.kind is Kind.REQUEST]
    cases = [(m, r) for m, r in forwarded if r.look is not Look.LOCAL]  # LOCAL: never sent
    return [*cases, *((m, None) for m in UNLOOKED)]


@pytest.mark.parametrize(("method", "rule"), answered_cases())
def test_answers_stream_exactly_when_they_are_forwarded_unlooked(
    method: str, rule: Rule | None
) -> None:
    def answer(pad: str) -> dict[str, Any]:
        return {"jsonrpc": "2.0", "id": 1, "result": {"pad": pad}}

    small, large = Seen(), Seen()
    for seen in (small, large):
        seen.router.from_client(frame(request(1, method, params_for(method, rule))))
        seen.deferred.clear()
    looked = small.looked(small.router.from_server(frame(answer(""))))
    assert looked is (rule is not None and rule.answer), method
    assert streams(large.router.server_head, answer(BIG)) is not looked, method


def server_cases() -> list[tuple[str, Kind, bool]]:
    cases = [(m, r.kind, True) for m, r in SERVER.items()]
    for method in ("workspace/configuration", "window/logMessage", *UNLOOKED):
        cases += [(method, Kind.REQUEST, False), (method, Kind.NOTIFICATION, False)]
    return cases


@pytest.mark.parametrize(("method", "kind", "has_rule"), server_cases())
def test_server_frames_stream_exactly_when_they_are_forwarded_unlooked(
    method: str, kind: Kind, has_rule: bool
) -> None:
    def message(pad: str) -> dict[str, Any]:
        params = {"token": "t", "value": {"kind": "report", "pad": pad}}
        if kind is Kind.REQUEST:
            return request(1, method, params)
        return notification(method, params)

    small, large = Seen(), Seen()
    looked = small.looked(small.router.from_server(frame(message(""))))
    assert looked is has_rule, method
    streamed = streams(large.router.server_head, message(BIG))
    if kind is Kind.REQUEST:
        assert streamed is not looked, method
    else:
        assert not streamed, method
