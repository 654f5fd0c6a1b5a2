"""Issue 4: the graph store end to end — durable skips, concurrent writers, the graph CLI."""

from __future__ import annotations

import asyncio
from pathlib import Path

from harness import (
    Doc,
    Session,
    Start,
    ask_until_asked,
    count,
    db_edges,
    graph,
    proxy_cmd,
    server_cmd,
)

NULL = {"jsonrpc": "2.0", "result": None}
FAST_SKIP = ("--max-retries", "1", "--backoff-base", "0.1")


async def open_session(
    start: Start, ws: Path, db: Path, doc: Doc, text: str | None = None
) -> Session:
    session: Session = await start(
        proxy_cmd(server_cmd("always_fails"), "--db", str(db), *FAST_SKIP)
    )
    await session.initialize(ws)
    session.open(doc.uri, doc.text if text is None else text)
    return session


async def skip_for_good(session: Session, doc: Doc, name: str, method: str) -> None:
    await session.ask(doc.uri, doc.pos(name), method)
    await ask_until_asked(session, doc, name, 2, method)
    await session.flush()


async def test_skip_survives_a_restart_and_an_edit_re_arms(start: Start, ws: Path) -> None:
    db = ws.parent / "x.db"
    doc = Doc(ws / "durable.py", "bad_durable = 1\ngood_durable = 2\n")
    first = await open_session(start, ws, db, doc)
    await skip_for_good(first, doc, "bad_durable", "textDocument/definition")
    errors = db_edges(db, "bad_durable")
    assert [e["kind"] for e in errors] == ["error"]
    assert errors[0]["operation"] == "definition"
    assert errors[0]["symbol"] == f"{doc.uri}#0:0:bad_durable"
    assert await first.shutdown() == 0

    second = await open_session(start, ws, db, doc)
    response = await second.ask(doc.uri, doc.pos("bad_durable"))
    assert response == {**NULL, "id": response["id"]}
    assert count(await second.counts(), "bad_durable") == 0
    # Other symbols and operations of the document are asked as usual.
    assert (await second.ask(doc.uri, doc.pos("good_durable")))["result"] is not None
    refs = await second.ask(doc.uri, doc.pos("bad_durable"), "textDocument/references")
    assert refs["error"]["code"] == -32603
    second.change(doc.uri, doc.text + "# edited\n", version=2)
    response = await second.ask(doc.uri, doc.pos("bad_durable"))
    assert response["error"]["code"] == -32603
    assert count(await second.counts(), "bad_durable") == 1
    assert await second.shutdown() == 0


async def test_different_text_at_did_open_re_arms(start: Start, ws: Path) -> None:
    db = ws.parent / "reopen.db"
    doc = Doc(ws / "reopen.py", "bad_reopen = 1\n")
    first = await open_session(start, ws, db, doc)
    await skip_for_good(first, doc, "bad_reopen", "textDocument/definition")
    assert await first.shutdown() == 0

    same = await open_session(start, ws, db, doc)
    response = await same.ask(doc.uri, doc.pos("bad_reopen"))
    assert response == {**NULL, "id": response["id"]}
    assert await same.shutdown() == 0

    changed = await open_session(start, ws, db, doc, text="bad_reopen = 1\nother = 2\n")
    response = await changed.ask(doc.uri, doc.pos("bad_reopen"))
    assert response["error"]["code"] == -32603
    assert count(await changed.counts(), "bad_reopen") == 1


async def test_two_proxies_on_one_database_lose_nothing(start: Start, ws: Path) -> None:
    db = ws.parent / "shared.db"
    names = {side: [f"good_{side}_{i}" for i in range(25)] for side in ("a", "b")}
    docs = {
        side: Doc(ws / f"{side}.py", "".join(f"{n} = 1\n" for n in names[side])) for side in names
    }
    sessions = {side: await open_session(start, ws, db, docs[side]) for side in names}

    async def drive(side: str) -> None:
        for name in names[side]:
            for method in ("textDocument/definition", "textDocument/references"):
                response = await sessions[side].ask(docs[side].uri, docs[side].pos(name), method)
                assert response["result"], response
        await sessions[side].flush()

    await asyncio.gather(drive("a"), drive("b"))
    edges = await graph("edges", db)
    got = {(e["name"], e["operation"], e["kind"], e["target"]["uri"]) for e in edges}
    expected = {
        (name, operation, "edge", docs[side].uri)
        for side in names
        for name in names[side]
        for operation in ("definition", "references")
    }
    assert got == expected
    assert len(edges) == len(expected)
