"""StoreLink, the sink between outcomes and the store: writes made before the database is
open are held and replayed in order once it is; a held failure is replayed as the tracker's
state after the restore, not the older one."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from lsp_backoff.proxy.config import ProxyConfig
from lsp_backoff.proxy.store_link import StoreLink
from lsp_backoff.tracker.backoff import BackoffPolicy
from lsp_backoff.tracker.failures import FailureTracker
from lsp_backoff.tracker.model import SymbolRef

URI = "file:///ws/a.py"


async def test_writes_before_the_store_opens_are_held_then_replayed(tmp_path: Path) -> None:
    db = tmp_path / "graph.db"
    tracker = FailureTracker(BackoffPolicy(max_retries=1))
    link = StoreLink(ProxyConfig(db=str(db)), tracker)
    symbol = SymbolRef(f"{URI}#0:0:bad", URI, "bad", 0, 0, None, "v1")
    link.put_document(URI, "v1")
    link.put_symbols([symbol], "request")
    first = tracker.record_failure(symbol.key, URI, "definition", "boom", version="v1")
    link.put_failure(first)
    tracker.record_failure(symbol.key, URI, "definition", "boom again", version="v1")
    link.put_placeholder(symbol, "references", "none")
    assert link.store is None  # nothing open yet: all of that is held
    link.start(asyncio.get_running_loop())
    link.start(asyncio.get_running_loop())  # a second session on the same core: no-op
    assert await link.flush()
    with sqlite3.connect(db) as conn:
        (version,) = conn.execute("SELECT version FROM documents").fetchone()
        (failures, skipped) = conn.execute("SELECT failures, skipped FROM failures").fetchone()
        kinds = [row[0] for row in conn.execute("SELECT kind FROM edges")]
    assert version == "v1"
    assert (failures, skipped) == (2, 1)  # the tracker's state at replay, not the held one
    assert kinds == ["none"]
    await link.close()
