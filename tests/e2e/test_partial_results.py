"""Issue 25: a tracked request with a `partialResultToken` is recorded from everything the server
streamed under that token plus its final answer (servers/streams_partial_results.py).

One proxy and database for the module; each test asks about its own identifiers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from harness import Doc, Message, Session, db_edges, eventually, proxy_cmd, server_cmd

pytestmark = pytest.mark.asyncio(loop_scope="module")

REFS = "textDocument/references"
TEXT = "pieces_a = 1\nempty_a = 2\nlate_a = 3\ncut_a = 4\nwhole_a = 5\n"

Shared = tuple[Session, Doc, Path]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Shared]:
    root = tmp_path_factory.mktemp("partials")
    ws = root / "ws"
    db = root / "graph.db"
    session = await Session.start(proxy_cmd(server_cmd("streams_partial_results"), "--db", str(db)))
    try:
        await session.initialize(ws)
        # The server's work-done end: empty answers are definitive from now on.
        await session.wait_for(lambda m: progress_of(m, "loading") == {"kind": "end"})
        doc = Doc(ws / "a.py", TEXT)
        session.open(doc.uri, doc.text)
        yield session, doc, db
    finally:
        await session.close()


def progress_of(message: Message, token: str) -> Any:
    params = message.get("params") or {}
    if message.get("method") == "$/progress" and params.get("token") == token:
        return params.get("value")
    return None


def params(doc: Doc, name: str, token: str | None) -> Message:
    line, character = doc.pos(name)
    found: Message = {
        "textDocument": {"uri": doc.uri},
        "position": {"line": line, "character": character},
        "context": {"includeDeclaration": True},
    }
    if token is not None:
        found["partialResultToken"] = token
    return found


def recorded(db: Path, name: str) -> list[tuple[str, int | None]]:
    """(kind, target line) of every row about ``name``, sorted."""
    rows = db_edges(db, name)
    return sorted((r["kind"], (r["target"] or {}).get("line")) for r in rows)


async def test_pieces_streamed_in_several_progresses_are_the_answer(shared: Shared) -> None:
    session, doc, db = shared
    response = await session.request(REFS, params(doc, "pieces_a", "t-pieces"))
    assert response["result"] == []
    streamed = [progress_of(m, "t-pieces") for _, m in session.received if m is not None]
    assert [len(v) for v in streamed if v is not None] == [1, 1, 2]  # the client got each piece
    await session.flush()
    assert recorded(db, "pieces_a") == [("edge", 1), ("edge", 2), ("edge", 3), ("edge", 4)]


async def test_nothing_streamed_and_an_empty_answer_is_a_true_none(shared: Shared) -> None:
    session, doc, db = shared
    response = await session.request(REFS, params(doc, "empty_a", "t-empty"))
    assert response["result"] == []
    await session.flush()
    assert recorded(db, "empty_a") == [("none", None)]


async def test_a_piece_after_the_answer_is_ignored_and_said_in_the_log(shared: Shared) -> None:
    session, doc, db = shared
    await session.request(REFS, params(doc, "late_a", "t-late"))
    session.notify("test/late", {})
    await session.wait_for(lambda m: bool(progress_of(m, "t-late")) and late_piece(m))
    await session.flush()
    assert recorded(db, "late_a") == [("edge", 5)]
    # Logged by the proxy's logging thread, after the frame: waited for (bounded).
    said = await eventually(
        lambda: [line for line in session.stderr_text.splitlines() if "after its answer" in line]
    )
    assert len(said) == 1 and "'t-late'" in said[0] and "references" in said[0], said
    assert doc.uri not in said[0]  # no body in the log


def late_piece(message: Message) -> bool:
    value = progress_of(message, "t-late")
    return value[0]["range"]["start"]["line"] == 6


async def test_a_cancel_in_the_middle_of_a_stream_records_nothing(shared: Shared) -> None:
    session, doc, db = shared
    ident = session.new_id()
    answer = session.expect(ident)
    cut = params(doc, "cut_a", "t-cut")
    session.send({"jsonrpc": "2.0", "id": ident, "method": REFS, "params": cut})
    await session.wait_for(lambda m: progress_of(m, "t-cut") is not None)  # the first piece
    session.notify("$/cancelRequest", {"id": ident})
    session.notify("test/release", {})  # this server ignores the cancel and streams on
    assert (await answer)["result"] == []
    assert ident in (await session.server_state())["cancelled"]  # the cancel reached it
    await session.flush()
    assert recorded(db, "cut_a") == []


async def test_without_a_token_the_whole_answer_is_recorded(shared: Shared) -> None:
    session, doc, db = shared
    response = await session.request(REFS, params(doc, "whole_a", None))
    assert [r["range"]["start"]["line"] for r in response["result"]] == [9]
    await session.flush()
    assert recorded(db, "whole_a") == [("edge", 9)]
