"""Two proxy sessions in one process on one core (issue 14 item 2): what `enrich --servers N`
builds on. Each session has its own real server process; the tracker, the counters and the
store's writer thread are the core's, and one session ending leaves the store to the other."""

from __future__ import annotations

import sqlite3
import sys
import threading
from pathlib import Path

import pytest

from lsp_backoff.proxy.config import ProxyConfig
from lsp_backoff.proxy.core import Core
from lsp_backoff.proxy.enrich.client import ProxyConnection
from lsp_backoff.proxy.enrich.jsonrpc import ResponseError

SERVER = Path(__file__).resolve().parents[1] / "servers" / "always_fails.py"
TEXT = "bad_one = 1\nbad_two = 2\n"


def writers() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "lsp-backoff-store" and t.is_alive()]


async def test_two_sessions_share_one_tracker_one_writer_and_the_store(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    src = ws / "a.py"
    src.write_text(TEXT)
    uri = src.as_uri()
    db = tmp_path / "graph.db"
    config = ProxyConfig(db=str(db), server=(sys.executable, str(SERVER)), timeout=20)
    before = len(writers())
    core = Core.open(config)
    first = ProxyConnection(config, ws, 30, core=core)
    second = ProxyConnection(config, ws, 30, core=core)
    await first.start()
    await second.start()
    try:
        assert len(writers()) == before + 1  # one writer thread for both sessions
        first.open(src, TEXT)
        second.open(src, TEXT)
        with pytest.raises(ResponseError):
            await first.locate("definition", uri, 0, 2)
        # The second session's server was never asked: the shared tracker short-circuits.
        assert await second.locate("definition", uri, 0, 2) is None
        asked = await second.request("test/counts", {})
        assert not any("bad_one" in key for key in asked["counts"])
        stats = await second.stats()
        assert stats["failures"] == 1 and stats["short_circuited"] == 1
        assert await first.stats() == stats  # one set of counters

        await first.close()
        assert first.exited.is_set()
        # The first session's end closed nothing: the second one still records, and commits.
        assert len(writers()) == before + 1
        with pytest.raises(ResponseError):
            await second.locate("definition", uri, 1, 2)
        assert await second.flush()
        with sqlite3.connect(db) as conn:
            failed = {row[0] for row in conn.execute("SELECT symbol FROM failures")}
        assert any(key.endswith(":bad_one") for key in failed)
        assert any(key.endswith(":bad_two") for key in failed)
    finally:
        await first.close()
        await second.close()
        await core.close()
    assert len(writers()) == before  # the owner closed it, once
