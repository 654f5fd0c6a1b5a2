"""Identical tracked requests in flight are asked once (issue 12 item 3), through a real proxy
process in front of test servers that count every request and cancel they receive."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness import Start, dumps, frame, proxy_cmd, server_cmd

TEXT = "good_one = 1\nbad_one = 2\nhang_one = 3\n"


def definition(ident: int, uri: str, line: int) -> bytes:
    params = {"textDocument": {"uri": uri}, "position": {"line": line, "character": 2}}
    return frame(dumps({"jsonrpc": "2.0", "id": ident, "method": "textDocument/definition",
                        "params": params}))  # fmt: skip


def without_id(body: bytes, ident: int) -> bytes:
    """The body with its id's digits blanked, to compare answers byte for byte."""
    return body.replace(b'"id": %d' % ident, b'"id": _', 1).replace(
        b'"id":%d' % ident, b'"id":_', 1
    )


def body_of(session: Any, ident: int) -> bytes:
    return next(b for b, m in session.received if m is not None and m.get("id") == ident)


async def test_identical_requests_are_asked_once_and_answered_each(
    start: Start, tmp_path: Path
) -> None:
    session = await start(proxy_cmd(server_cmd("always_fails"), "--no-db"))
    await session.initialize(tmp_path)
    uri = (tmp_path / "a.py").as_uri()
    session.open(uri, TEXT)
    futures = [session.expect(ident) for ident in (10, 11, 12, 20, 21)]
    # In one write: the proxy reads them together, before the server can answer the first.
    session.send_raw(
        definition(10, uri, 0) + definition(11, uri, 0) + definition(12, uri, 0)
        + definition(20, uri, 1) + definition(21, uri, 1)
    )  # fmt: skip
    answers = [await future for future in futures]
    assert [a["id"] for a in answers] == [10, 11, 12, 20, 21]
    assert "result" in answers[0] and "error" in answers[3]
    # Byte for byte the same answer, the id aside.
    assert without_id(body_of(session, 10), 10) == without_id(body_of(session, 11), 11)
    assert without_id(body_of(session, 10), 10) == without_id(body_of(session, 12), 12)
    assert without_id(body_of(session, 20), 20) == without_id(body_of(session, 21), 21)
    counts = await session.counts()
    assert counts["textDocument/definition good_one"] == 1
    assert counts["textDocument/definition bad_one"] == 1
    stats = await session.stats()
    assert stats["coalesced"] == 3 and stats["forwarded"] == 2 and stats["tracked"] == 5
    assert stats["failures"] == 1  # counted once


async def test_a_cancel_reaches_the_server_only_when_no_waiter_is_left(
    start: Start, tmp_path: Path
) -> None:
    session = await start(proxy_cmd(server_cmd("hangs"), "--no-db"))
    await session.initialize(tmp_path)
    uri = (tmp_path / "a.py").as_uri()
    session.open(uri, TEXT)
    leader, follower = session.expect(30), session.expect(31)
    session.send_raw(definition(30, uri, 2) + definition(31, uri, 2))
    session.notify("$/cancelRequest", {"id": 31})
    cancelled = await follower  # answered by the proxy: the server never saw 31
    assert cancelled["error"]["code"] == -32800
    state = await session.server_state()
    assert state["cancelled"] == [] and state["counts"]["textDocument/definition hang_one"] == 1
    session.notify("$/cancelRequest", {"id": 30})  # the last waiter: now the server hears it
    assert (await leader)["error"]["code"] == -32800  # pygls's own answer to the cancel
    assert (await session.server_state())["cancelled"] == [30]
    assert (await session.stats())["coalesced"] == 1
