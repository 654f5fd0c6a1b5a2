"""documentSymbol answered "content modified" is asked again (ty does that while files open)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from test_jsonrpc import Wire, frame

from lsp_backoff.proxy.enrich.client import SYMBOL_ATTEMPTS, LspConnection
from lsp_backoff.proxy.enrich.jsonrpc import ResponseError

SYMBOLS = [{"name": "f", "kind": 12}]


async def sent(wire: Wire, count: int) -> dict[str, Any]:
    """The ``count``-th message the client wrote, once it has written it (bounded steps)."""
    for _ in range(100):
        if len(wire.sent) >= count:
            return wire.sent[count - 1]
        await asyncio.sleep(0)
    raise AssertionError(f"the client wrote {len(wire.sent)} messages, not {count}")


def error(rid: int, code: int) -> bytes:
    return frame({"jsonrpc": "2.0", "id": rid, "error": {"code": code, "message": "nope"}})


async def test_content_modified_then_symbols() -> None:
    wire = Wire()
    connection = LspConnection(Path("/ws"), request_timeout=30)
    rpc = connection.connect(wire.write)
    task = asyncio.create_task(connection.document_symbols("file:///ws/a.py"))
    first = await sent(wire, 1)
    rpc.feed(error(first["id"], -32801))  # ContentModified
    second = await sent(wire, 2)
    assert second["method"] == "textDocument/documentSymbol"
    assert second["params"] == first["params"] and second["id"] != first["id"]
    rpc.feed(frame({"jsonrpc": "2.0", "id": second["id"], "result": SYMBOLS}))
    assert await task == SYMBOLS


@pytest.mark.parametrize(("code", "asked"), [(-32802, SYMBOL_ATTEMPTS), (-32603, 1)])
async def test_gives_up(code: int, asked: int) -> None:
    """ServerCancelled is asked again too, a bounded number of times; any other error is not."""
    wire = Wire()
    connection = LspConnection(Path("/ws"), request_timeout=30)
    rpc = connection.connect(wire.write)
    task = asyncio.create_task(connection.document_symbols("file:///ws/a.py"))
    for n in range(1, asked + 1):
        rpc.feed(error((await sent(wire, n))["id"], code))
    with pytest.raises(ResponseError) as raised:
        await task
    assert raised.value.code == code
    assert len(wire.sent) == asked
