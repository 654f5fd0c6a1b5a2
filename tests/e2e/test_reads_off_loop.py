"""No file is read or statted on the relay's thread (issue 14 item 3, issue 28), by
construction: a proxy session in this process, in front of a real test server, goes through
every flow that needs a file's text — a tracked request on an unopened file, again once it is
cached (its file checked), a symbol list to record, didClose and didSave to compare, a burst of
500 watched-file changes — while every way of opening, reading, statting or listing a file
under the workspace (tests/file_spy.py) records the thread it ran on."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from file_spy import spy_on_files
from harness import eventually

from lsp_backoff.proxy.config import ProxyConfig
from lsp_backoff.proxy.enrich.client import ProxyConnection
from lsp_backoff.proxy.enrich.jsonrpc import ResponseError
from lsp_backoff.proxy.reads import ReadGate
from lsp_backoff.tracker import queries

SERVER = Path(__file__).resolve().parents[1] / "servers" / "always_fails.py"
BURST = 500


async def test_no_file_is_read_on_the_loop_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    opened, unopened, listed = ws / "a.py", ws / "b.py", ws / "c.py"
    for path in (opened, unopened, listed):
        path.write_text("bad_one = 1\ngood_one = 2\n")
    watched = [ws / f"w{i}.py" for i in range(BURST)]
    for path in watched:
        path.write_text(f"w{path.stem} = 1\n")

    text = opened.read_text()  # the test's own read, before the spy
    spy = spy_on_files(monkeypatch, ws)
    config = ProxyConfig(no_db=True, server=(sys.executable, str(SERVER)), timeout=20)
    proxy = ProxyConnection(config, ws, 30)
    await proxy.start()
    try:
        proxy.open(opened, text)
        uri = opened.as_uri()
        proxy.notify(
            "textDocument/didChange",
            {
                "textDocument": {"uri": uri, "version": 2},
                "contentChanges": [{"text": text + "# edited\n"}],
            },
        )
        with pytest.raises(ResponseError):
            await proxy.locate("definition", uri, 0, 2)
        assert await proxy.locate("definition", uri, 0, 2) is None  # short-circuited
        # A file never opened: the request waits for the gate's read, in a worker.
        with pytest.raises(ResponseError):
            await proxy.locate("definition", unopened.as_uri(), 0, 2)
        # Cached now: the next request on it waits for a check of its file, in a worker.
        assert await proxy.locate("definition", unopened.as_uri(), 1, 2) is not None
        with pytest.raises(ResponseError):  # this server lists no symbols
            await proxy.document_symbols(listed.as_uri())
        proxy.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
        proxy.notify("textDocument/didSave", {"textDocument": {"uri": unopened.as_uri()}})
        changes = [{"uri": path.as_uri(), "type": 2} for path in watched]
        proxy.notify("workspace/didChangeWatchedFiles", {"changes": changes})
        # The session goes on while the burst is read: a request right behind it is answered.
        assert await proxy.locate("definition", uri, 1, 2) is not None
        stats = await proxy.stats()
        assert stats["forwarded"] == 4 and stats["short_circuited"] == 1

        def all_read() -> bool:
            seen = {path for _, kind, path in spy.calls if kind == "read"}
            return all(str(path) in seen for path in (*watched, opened, unopened, listed))

        await eventually(all_read, timeout=60)
        await asyncio.sleep(0)
    finally:
        await proxy.close()
    # The flows above read and statted files: the spy must have seen both.
    assert spy.kinds(unopened) == {"read", "stat"}
    assert spy.on_loop() == [], spy.on_loop()[:5]


async def test_flush_waits_for_answers_whose_recording_waits_for_a_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """lspBackoff/flush means "what was relayed so far is committed": a symbol list of a
    document the proxy has not seen is recorded only once the file is read (in a worker), so
    the flush waits for that read — held here until the test lets it go."""
    ws = tmp_path / "ws"
    ws.mkdir()
    unseen = ws / "m.py"
    unseen.write_text("def alpha():\n    pass\n")
    db = tmp_path / "graph.db"
    gate = threading.Event()
    real_read = ReadGate.read

    def held_read(self: ReadGate, *args: Any) -> Any:
        gate.wait(60)
        return real_read(self, *args)

    monkeypatch.setattr(ReadGate, "read", held_read)
    server = Path(__file__).resolve().parents[1] / "enrich" / "servers" / "fails_on_bad.py"
    command = (sys.executable, str(server), "--log", str(tmp_path / "asked.jsonl"))
    config = ProxyConfig(db=str(db), server=command, timeout=20)
    proxy = ProxyConnection(config, ws, 30)
    await proxy.start()
    try:
        symbols = await proxy.document_symbols(unseen.as_uri())  # relayed at once
        assert [s["name"] for s in symbols] == ["alpha"]
        flush = asyncio.ensure_future(proxy.flush())
        await asyncio.wait({flush}, timeout=2)
        assert not flush.done(), "flush answered before the symbols it covers were recorded"
        gate.set()
        assert await flush is True
        with contextlib.closing(queries.connect(str(db))) as conn:
            names = conn.execute(
                "SELECT s.name FROM symbol AS s JOIN document AS d ON d.id = s.document"
                " WHERE d.uri = ?",
                (unseen.as_uri(),),
            ).fetchall()
        assert names == [("alpha",)]
    finally:
        gate.set()
        await proxy.close()
