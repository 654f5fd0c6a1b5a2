"""Issue 23, the editor's side: a server the proxy finds at fault (tests/servers/
breaks_after_cancel.py: one cancel, then every references fails) is replaced — the old process
stopped, a new one told the client's initialize and every open document — and find-references
works again without the editor doing anything."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from harness import WAIT, Session, eventually, pid_alive, proxy_cmd, server_cmd

from lsp_backoff.proxy.restart import MAX_RESTARTS
from lsp_backoff.tracker.faults import THRESHOLD

pytestmark = pytest.mark.asyncio

REFS = "textDocument/references"
NAMES = [f"sym{i}" for i in range(THRESHOLD)]


def refs(uri: str, line: int) -> dict:
    return {"textDocument": {"uri": uri}, "position": {"line": line, "character": 0},
            "context": {"includeDeclaration": True}}  # fmt: skip


async def new_pid(session: Session, old: int) -> int:
    """The server's pid once it is another; a request the old server had when it was
    replaced is answered RequestFailed by the proxy."""
    async with asyncio.timeout(WAIT):
        while True:
            answer = await session.request("test/pid")
            if "error" in answer:
                assert answer["error"]["code"] == -32803, answer
            elif answer["result"] != old:
                return int(answer["result"])
            await asyncio.sleep(0.05)


async def test_a_server_at_fault_is_replaced_and_told_the_open_documents(tmp_path: Path) -> None:
    log = tmp_path / "proxy.log"
    opts = ("--no-db", "--log-file", str(log), "--log-level", "info")
    session = await Session.start(proxy_cmd(server_cmd("breaks_after_cancel"), *opts))
    try:
        await session.initialize(tmp_path)
        # Open only, never on disk: a new server knows its text only from a replayed didOpen.
        uri = (tmp_path / "unsaved.py").as_uri()
        session.open(uri, "".join(f"{name} = 1\n" for name in NAMES), version=7)
        first = await session.result("test/pid")
        assert await session.result(REFS, refs(uri, 0))
        ident = session.new_id()
        cancelled = session.expect(ident)
        session.send({"jsonrpc": "2.0", "id": ident, "method": REFS, "params": refs(uri, 0)})
        session.notify("$/cancelRequest", {"id": ident})
        await cancelled
        for line in range(THRESHOLD):  # the server's fault, found at the last of them
            answer = await session.request(REFS, refs(uri, line))
            assert "this._token.cancel" in answer["error"]["message"], answer
        second = await new_pid(session, first)
        located = await session.result(REFS, refs(uri, 1))
        assert [loc["uri"] for loc in located] == [uri]
        # The client's edits go on from the replayed version, to the new server.
        session.change(uri, "renamed = 1\n", version=8)
        assert await session.result(REFS, refs(uri, 0))
        assert (await session.stats())["server_faults"] == 1
        await eventually(lambda: not pid_alive(first))
        assert await session.result("test/pid") == second
        assert await session.shutdown() == 0
    finally:
        await session.close()
    text = log.read_text()
    assert text.count("restarting the server (1 of 3)") == 1, text
    assert MAX_RESTARTS == 3
