"""enrich's JSON-RPC end on its own: framing both ways, answers, errors, the server's requests."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest

from lsp_backoff.proxy.enrich.client import SERVER_REQUESTS
from lsp_backoff.proxy.enrich.jsonrpc import JsonRpcClient, ResponseError
from lsp_backoff.proxy.framing import Frame, FrameParser
from lsp_backoff.proxy.messages import METHOD_NOT_FOUND


def frame(message: dict[str, Any]) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n%s" % (len(body), body)


class Wire:
    """What the client wrote, decoded frame by frame."""

    def __init__(self) -> None:
        self.parser = FrameParser()
        self.sent: list[dict[str, Any]] = []

    def write(self, data: bytes) -> None:
        for item in self.parser.feed(data):
            assert isinstance(item, Frame), "the client wrote something that is not a frame"
            self.sent.append(json.loads(item.body))


@pytest.fixture
def wire() -> Wire:
    return Wire()


async def test_requests_are_framed_and_answers_resolve_them(wire: Wire) -> None:
    rpc = JsonRpcClient(wire.write, SERVER_REQUESTS)
    first = rpc.request("textDocument/definition", {"position": {"line": 1, "character": 2}})
    second = rpc.request("shutdown")
    rpc.notify("exit")
    assert wire.sent == [
        {"jsonrpc": "2.0", "id": 1, "method": "textDocument/definition",
         "params": {"position": {"line": 1, "character": 2}}},
        {"jsonrpc": "2.0", "id": 2, "method": "shutdown"},
        {"jsonrpc": "2.0", "method": "exit"},
    ]  # fmt: skip
    both = frame({"jsonrpc": "2.0", "id": 2, "result": None}) + frame(
        {"jsonrpc": "2.0", "id": 1, "result": [{"uri": "file:///a.py"}]}
    )
    rpc.feed(both[:7])  # a header cut in two, answers out of order
    assert not first.done()
    rpc.feed(both[7:])
    assert await first == [{"uri": "file:///a.py"}]
    assert await second is None


async def test_an_error_answer_raises_with_its_code(wire: Wire) -> None:
    rpc = JsonRpcClient(wire.write, SERVER_REQUESTS)
    pending = rpc.request("textDocument/references", {})
    rpc.feed(frame({"jsonrpc": "2.0", "id": 1, "error": {"code": -32603, "message": "boom"}}))
    with pytest.raises(ResponseError, match="boom") as caught:
        await pending
    assert caught.value.code == -32603


async def test_server_requests_are_answered_and_unknown_ones_refused(wire: Wire) -> None:
    rpc = JsonRpcClient(wire.write, SERVER_REQUESTS)
    config = {"items": [{"section": "python"}, {"section": "basedpyright"}]}
    rpc.feed(frame({"jsonrpc": "2.0", "id": "c1", "method": "workspace/configuration",
                    "params": config}))  # fmt: skip
    rpc.feed(frame({"jsonrpc": "2.0", "id": 7, "method": "custom/unknown"}))
    rpc.feed(frame({"jsonrpc": "2.0", "method": "textDocument/publishDiagnostics"}))
    assert wire.sent == []  # answered on the next turn of the loop, not inside feed()
    await asyncio.sleep(0)
    assert wire.sent == [
        {"jsonrpc": "2.0", "id": "c1", "result": [None, None]},
        {"jsonrpc": "2.0", "id": 7,
         "error": {"code": METHOD_NOT_FOUND, "message": "unhandled: custom/unknown"}},
    ]  # fmt: skip


async def test_junk_is_skipped_and_the_next_frame_still_read(
    wire: Wire, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="lsp_backoff.enrich")
    rpc = JsonRpcClient(wire.write, SERVER_REQUESTS)
    pending = rpc.request("shutdown")
    rpc.feed(b"garbage\r\n\r\n" + frame({"jsonrpc": "2.0", "id": 1, "result": "ok"}))
    rpc.feed(b"Content-Length: 2\r\n\r\n[]")  # JSON, but not an object
    assert await pending == "ok"
    messages = [record.getMessage() for record in caplog.records]
    assert any("not an LSP frame" in m for m in messages)
    assert any("not a JSON object" in m for m in messages)


async def test_close_fails_what_waits_and_what_comes_after(wire: Wire) -> None:
    rpc = JsonRpcClient(wire.write, SERVER_REQUESTS)
    waiting = rpc.request("textDocument/definition", {})
    rpc.close(ConnectionError("server gone"))
    with pytest.raises(ConnectionError, match="server gone"):
        await waiting
    with pytest.raises(ConnectionError, match="server gone"):
        await rpc.request("shutdown")
    rpc.notify("exit")
    assert [m.get("method") for m in wire.sent] == ["textDocument/definition"]


async def test_a_failed_write_leaves_nothing_pending() -> None:
    def broken(data: bytes) -> None:
        raise RuntimeError("pipe closed")

    rpc = JsonRpcClient(broken, SERVER_REQUESTS)
    with pytest.raises(RuntimeError, match="pipe closed"):
        rpc.request("shutdown")
    assert rpc._pending == {}


async def test_an_answer_after_the_caller_gave_up_is_dropped(wire: Wire) -> None:
    rpc = JsonRpcClient(wire.write, SERVER_REQUESTS)
    pending = rpc.request("textDocument/references", {})
    pending.cancel()  # the caller's own timeout
    rpc.feed(frame({"jsonrpc": "2.0", "id": 1, "result": []}))
    later = rpc.request("shutdown")
    rpc.feed(frame({"jsonrpc": "2.0", "id": 2, "result": None}))
    assert await later is None
