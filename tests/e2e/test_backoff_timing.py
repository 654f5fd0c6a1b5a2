"""Issue 3 across windows: success clears, skip for good, transient codes, timeouts, cancels,
readiness. Short windows (`--backoff-base` 0.1 to 0.3) and bounded polling; no durations asserted.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from harness import Doc, Start, ask_until_asked, count, db_edges, proxy_cmd, server_cmd

NULL = {"jsonrpc": "2.0", "result": None}
DEF = "textDocument/definition"
DECL = "textDocument/declaration"


async def test_timeout_cancels_at_the_server_and_drops_the_late_answer(
    start: Start, ws: Path
) -> None:
    session = await start(
        proxy_cmd(server_cmd("hangs"), "--no-db", "--timeout", "0.5", "--backoff-base", "60"),
        {"HANGS_DELAY": "1.5"},
    )
    await session.initialize(ws)
    doc = Doc(ws / "slow.py", "slow_one = 1\n")
    session.open(doc.uri, doc.text)
    params = {"textDocument": {"uri": doc.uri}, "position": {"line": 0, "character": 1}}
    response = await session.request(DECL, params, ident=500)
    assert response["error"]["code"] == -32803
    assert response["error"]["message"] == f"lsp-backoff: {DECL} timed out after 0.5 s"
    async with asyncio.timeout(8):
        state = await session.server_state()
        while 500 not in state["cancelled"] or "late answer slow_one" not in state["events"]:
            await asyncio.sleep(0.05)
            state = await session.server_state()
    await session.server_state()  # the late answer was written before this round trip
    assert [m for _, m in session.received if m and m.get("id") == 500] == [response]
    # A timeout counts as a failure: inside the window the server is not asked again.
    again = await session.ask(doc.uri, doc.pos("slow_one"), DECL)
    assert again == {**NULL, "id": again["id"]}
    assert count(await session.counts(), "slow_one", DECL) == 1
    assert (await session.stats())["timeouts"] == 1


async def test_client_cancel_is_not_a_failure(start: Start, ws: Path) -> None:
    # With --max-retries 0 one counted failure skips for good: the second request reaching the
    # server shows the cancel was not counted.
    session = await start(
        proxy_cmd(server_cmd("hangs"), "--no-db", "--max-retries", "0", "--backoff-base", "60")
    )
    await session.initialize(ws)
    doc = Doc(ws / "hang.py", "hang_cancel = 1\n")
    session.open(doc.uri, doc.text)
    for attempt, ident in enumerate((601, 602), start=1):
        params = {"textDocument": {"uri": doc.uri}, "position": {"line": 0, "character": 3}}
        pending = asyncio.ensure_future(session.request(DEF, params, ident=ident))
        async with asyncio.timeout(8):
            while count(await session.counts(), "hang_cancel") < attempt:
                assert not pending.done(), f"answered without asking the server: {pending}"
                await asyncio.sleep(0.05)
        session.notify("$/cancelRequest", {"id": ident})
        answer = await asyncio.wait_for(pending, 8)
        assert answer["error"]["code"] == -32800, answer
    stats = await session.stats()
    assert stats["failures"] == 0 and stats["skipped"] == 0


async def _edges_of(db: Path, name: str) -> list[dict]:
    return db_edges(db, name)


@pytest.mark.parametrize("mode", ["progress", "status"])
async def test_empty_while_loading_is_not_definitive(start: Start, ws: Path, mode: str) -> None:
    db = ws.parent / "loading.db"
    session = await start(
        proxy_cmd(server_cmd("loading", mode), "--db", str(db), "--backoff-base", "0.2")
    )
    await session.initialize(ws)
    if mode == "progress":
        await session.wait_for(lambda m: m.get("method") == "$/progress")
    else:
        await session.wait_for(lambda m: m.get("method") == "experimental/serverStatus")
    doc = Doc(ws / "load.py", "none_load = 1\nreal_load = 2\n")
    session.open(doc.uri, doc.text)
    assert (await session.ask(doc.uri, doc.pos("none_load")))["result"] is None
    assert (await session.ask(doc.uri, doc.pos("real_load")))["result"] is None
    await session.flush()
    assert [e for e in await _edges_of(db, "none_load") if e["kind"] == "none"] == []
    assert [e for e in await _edges_of(db, "real_load") if e["kind"] == "none"] == []

    assert await session.result("test/finishLoading") == "loaded"
    # Loading ended: the next answer that reaches the server (after the transient backoff)
    # is definitive.
    await ask_until_asked(session, doc, "none_load", 2)
    await session.flush()
    placeholders = [e for e in await _edges_of(db, "none_load") if e["kind"] == "none"]
    assert len(placeholders) == 1, await _edges_of(db, "none_load")
    assert placeholders[0]["operation"] == "definition"
    assert placeholders[0]["target"] is None
    # The symbol that was empty only while loading now gets its real edge.
    assert (await ask_until_asked(session, doc, "real_load", 2))["result"]
    await session.flush()
    kinds = {e["kind"] for e in await _edges_of(db, "real_load")}
    assert kinds == {"edge"}


async def test_empty_without_readiness_needs_a_repeat(start: Start, ws: Path) -> None:
    """No progress, no serverStatus (pyright): empty is definitive only when repeated later."""
    db = ws.parent / "repeat.db"
    session = await start(
        proxy_cmd(server_cmd("always_fails"), "--db", str(db), "--backoff-base", "0.2")
    )
    await session.initialize(ws)
    doc = Doc(ws / "repeat.py", "none_repeat = 1\n")
    session.open(doc.uri, doc.text)
    assert (await session.ask(doc.uri, doc.pos("none_repeat")))["result"] is None
    await session.flush()
    assert await _edges_of(db, "none_repeat") == []
    # Asked again at least the base delay later: definitive. Asked again sooner: still tentative.
    async with asyncio.timeout(8):
        while not db_edges(db, "none_repeat"):
            await asyncio.sleep(0.05)
            await session.ask(doc.uri, doc.pos("none_repeat"))
            await session.flush()
    assert [e["kind"] for e in db_edges(db, "none_repeat")] == ["none"]
