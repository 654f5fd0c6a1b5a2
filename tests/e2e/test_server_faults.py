"""Issue 23 through the proxy process: a server broken as pyright and basedpyright are after one
cancel (tests/servers/breaks_after_cancel.py, here broken from every start) fails every
references request with the same error. The proxy charges no symbol beyond the detection
window and undoes what the window charged (backoff, skips, `error` placeholders), says so once
per fault, replaces the server at most MAX_RESTARTS times, then keeps forwarding — every request
a probe, charging nothing — until the first answer ends the fault."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from harness import Doc, Session, proxy_cmd, server_cmd

from lsp_backoff.proxy.restart import MAX_RESTARTS
from lsp_backoff.tracker.faults import THRESHOLD

pytestmark = pytest.mark.asyncio

REFS = "textDocument/references"
NAMES = [f"sym{i}" for i in range(THRESHOLD + 3)]
POISON = "this._token.cancel is not a function"


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
    session = await Session.start(
        proxy_cmd(server_cmd("breaks_after_cancel"), *opts),
        env={"BREAKS_AFTER_CANCEL_BROKEN": "1"},
    )
    faults = MAX_RESTARTS + 1  # one per server: the last one is not replaced
    try:
        await session.initialize(tmp_path)
        doc = Doc(tmp_path / "a.py", "".join(f"{n} = 1\n" for n in NAMES))
        session.open(doc.uri, doc.text)
        for ask in range(faults * THRESHOLD * 3):  # bounded: each server fails 5 in a row
            if (await session.stats())["server_faults"] == faults:
                break
            answer = await session.ask(doc.uri, doc.pos(NAMES[ask % len(NAMES)]), REFS)
            # The server's error, or the proxy's for a request the replaced server had.
            assert answer["error"]["code"] in (-32603, -32803), answer
        before = await session.counts()
        for name in NAMES:  # the last server: each reaches it, nothing short-circuited
            answer = await session.ask(doc.uri, doc.pos(name), REFS)
            assert POISON in answer["error"]["message"], answer
        after = await session.counts()
        assert all(after[f"{REFS} {n}"] == before.get(f"{REFS} {n}", 0) + 1 for n in NAMES)
        stats = await session.stats()
        assert stats["server_faults"] == faults and stats["short_circuited"] == 0, stats
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
    assert text.count("server fault:") == faults, text
    assert text.count("restarting the server") == MAX_RESTARTS, text
    assert text.count("not restarted again") == 1, text
    assert text.count("server fault over") == 1, text
