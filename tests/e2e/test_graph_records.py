"""Issue 4: what the graph records, read back through `lsp-backoff edges/orphans/stats --json`.

One proxy with one database for the module (`--max-retries 1 --backoff-base 0.1`); each test has
its own document and identifiers and looks only at its own rows.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from harness import (
    Doc,
    Session,
    ask_until_asked,
    count,
    db_edges,
    graph,
    opened_in,
    proxy_cmd,
    running,
    server_cmd,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

Shared = tuple[Session, Path, Path]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Shared]:
    root = tmp_path_factory.mktemp("graph")
    ws = root / "ws"
    ws.mkdir()
    db = root / "graph.db"
    opts = ("--db", str(db), "--max-retries", "1", "--backoff-base", "0.1")
    async with running(proxy_cmd(server_cmd("always_fails"), *opts), ws) as session:
        yield session, ws, db


def opened(shared: Shared, name: str, text: str) -> tuple[Session, Doc, Path]:
    session, ws, db = shared
    return session, opened_in(session, ws, name, text), db


async def skip_for_good(session: Session, doc: Doc, name: str, method: str) -> None:
    await session.ask(doc.uri, doc.pos(name), method)
    await ask_until_asked(session, doc, name, 2, method)
    await session.flush()


async def test_graph_cli_reflects_the_session(shared: Shared) -> None:
    refs = "textDocument/references"
    text = "good_cli = 1\nbad_cli = 2\nnone_cli = 3\nplain_cli = 4\n"
    session, doc, db = opened(shared, "cli", text)
    assert (await session.ask(doc.uri, doc.pos("good_cli"), refs))["result"]
    await skip_for_good(session, doc, "bad_cli", refs)
    assert (await session.ask(doc.uri, doc.pos("plain_cli")))["result"]
    # Empty twice, the base delay apart: definitive.
    async with asyncio.timeout(8):
        while not db_edges(db, "none_cli"):
            await session.ask(doc.uri, doc.pos("none_cli"), refs)
            await session.flush()
            await asyncio.sleep(0.05)

    symbol = f"{doc.uri}#3:0:plain_cli"
    # Four CLI processes at once: each one costs about a second of start-up.
    rows, only, orphans, stats = await asyncio.gather(
        graph("edges", db, "--operation", "references"),
        graph("edges", db, "--symbol", symbol),
        graph("orphans", db, "--operation", "references"),
        graph("stats", db),
    )
    assert {e["operation"] for e in rows} == {"references"}
    by_name = {e["name"]: e for e in rows if e["name"].endswith("_cli")}
    assert set(by_name) == {"good_cli", "bad_cli", "none_cli"}
    assert by_name["good_cli"]["kind"] == "edge"
    assert by_name["good_cli"]["target"] == {"uri": doc.uri, "line": 0, "character": 0}
    assert by_name["bad_cli"]["kind"] == "error"
    assert "bad_cli" in by_name["bad_cli"]["detail"]
    assert by_name["none_cli"]["kind"] == "none" and by_name["none_cli"]["target"] is None
    assert [(e["operation"], e["kind"]) for e in only] == [("definition", "edge")]

    orphan_names = {o["name"] for o in orphans}
    assert "plain_cli" in orphan_names
    assert not orphan_names & {"good_cli", "bad_cli", "none_cli"}
    assert {o["state"] for o in orphans if o["name"] == "plain_cli"} == {"ready"}

    # The counts agree with the rows listed at the same moment (the module's other tests
    # share the database, so its totals are not this test's alone) and include this test's.
    (totals,) = stats
    references = totals["operations"]["references"]
    kinds = [e["kind"] for e in rows]
    assert (references["edges"], references["none"], references["error"]) == (
        kinds.count("edge"),
        kinds.count("none"),
        kinds.count("error"),
    ), (references, rows)
    assert min(kinds.count(k) for k in ("edge", "none", "error")) >= 1
    assert references["skipped"] >= 1  # bad_cli, skipped for good


async def test_empty_prepare_call_hierarchy_fills_incoming_and_outgoing(shared: Shared) -> None:
    prepare = "textDocument/prepareCallHierarchy"
    session, doc, db = opened(shared, "calls", "none_calls = 1\ngood_calls = 2\n")
    items = await session.ask(doc.uri, doc.pos("good_calls"), prepare)
    assert items["result"][0]["name"] == "good_calls"
    async with asyncio.timeout(8):
        while not db_edges(db, "none_calls"):
            await session.ask(doc.uri, doc.pos("none_calls"), prepare)
            await session.flush()
            await asyncio.sleep(0.05)
    await session.flush()
    placeholders = {(e["operation"], e["kind"]) for e in db_edges(db, "none_calls")}
    assert placeholders == {
        ("prepare_call_hierarchy", "none"),
        ("incoming_calls", "none"),
        ("outgoing_calls", "none"),
    }
    await session.flush()
    good = {(e["operation"], e["kind"]) for e in db_edges(db, "good_calls")}
    assert good == {("prepare_call_hierarchy", "edge")}


async def test_call_item_failure_is_recorded_on_the_identifier_key(shared: Shared) -> None:
    session, doc, db = opened(shared, "items", "x = 0\ndef bad_item():\n    pass\n")
    line, character = doc.pos("bad_item")
    where = {
        "start": {"line": line, "character": character},
        "end": {"line": line, "character": character + len("bad_item")},
    }
    item = {"name": "bad_item", "kind": 12, "uri": doc.uri, "range": where, "selectionRange": where}
    async with asyncio.timeout(8):
        while count(await session.counts(), "bad_item", "callHierarchy/incomingCalls") < 2:
            await session.request("callHierarchy/incomingCalls", {"item": item})
            await asyncio.sleep(0.05)
    await session.flush()
    errors = db_edges(db, "bad_item")
    assert [(e["symbol"], e["operation"], e["kind"]) for e in errors] == [
        (f"{doc.uri}#1:4:bad_item", "incoming_calls", "error")
    ]
