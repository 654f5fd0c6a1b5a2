"""Issue 23 through the proxy process: a server that one cancel breaks (tests/servers/
breaks_after_cancel.py, as pyright and basedpyright) fails every later references request with
the same error. The proxy charges no symbol beyond the detection window (and undoes what the
window charged: backoff, skips, `error` placeholders), says so once, keeps forwarding — every
request is a probe — and the first answer ends the fault."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from harness import Doc, Session, proxy_cmd, server_cmd

from lsp_backoff.tracker.faults import THRESHOLD

pytestmark = pytest.mark.asyncio

REFS = "textDocument/references"
NAMES = [f"sym{i}" for i in range(THRESHOLD + 3)]


def rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db)
    try:
        return list(conn.execute(sql))
    finally:
        conn.close()


async def test_a_broken_server_charges_no_symbol_and_an_answer_ends_the_fault(
    tmp_path: Path,
) -> None:
    db, log = tmp_path / "graph.db", tmp_path / "proxy.log"
    # max-retries 0: a charged failure skips at once and writes an `error` placeholder.
    opts = ("--db", str(db), "--max-retries", "0", "--log-file", str(log), "--log-level", "info")
    session = await Session.start(proxy_cmd(server_cmd("breaks_after_cancel"), *opts))
    try:
        await session.initialize(tmp_path)
        doc = Doc(tmp_path / "a.py", "".join(f"{n} = 1\n" for n in ["first", *NAMES]))
        session.open(doc.uri, doc.text)
        assert (await session.ask(doc.uri, doc.pos("first"), REFS))["result"]
        # One references cancelled: the server is broken from now on (it is no pyright: the
        # proxy forwards the cancel).
        ident = session.new_id()
        answered = session.expect(ident)
        params = {"textDocument": {"uri": doc.uri}, "position": {"line": 0, "character": 0},
                  "context": {"includeDeclaration": True}}  # fmt: skip
        session.send({"jsonrpc": "2.0", "id": ident, "method": REFS, "params": params})
        session.notify("$/cancelRequest", {"id": ident})
        await answered
        state = await session.server_state()
        assert state["cancelled"] == [ident]  # the server has seen the cancel

        async def failing(name: str) -> None:
            answer = await session.ask(doc.uri, doc.pos(name), REFS)
            assert "this._token.cancel" in answer["error"]["message"], answer

        for name in NAMES:
            await failing(name)
        for name in NAMES:  # asked again: each reaches the server, nothing short-circuited
            await failing(name)
        counts = await session.counts()
        assert all(counts[f"{REFS} {name}"] == 2 for name in NAMES), counts
        stats = await session.stats()
        assert stats["server_faults"] == 1 and stats["short_circuited"] == 0, stats
        await session.flush()
        assert rows(db, "SELECT * FROM failures") == []
        # pair kind 2: an `error` placeholder (tracker/schema.sql)
        assert rows(db, "SELECT * FROM pair WHERE kind = 2") == []
        # Mended: the next request is answered, the fault is over.
        await session.result("test/heal")
        assert (await session.ask(doc.uri, doc.pos(NAMES[0]), REFS))["result"]
        await session.shutdown()
    finally:
        await session.close()
    text = log.read_text()
    assert text.count("server fault:") == 1, text
    assert text.count("server fault over") == 1, text
