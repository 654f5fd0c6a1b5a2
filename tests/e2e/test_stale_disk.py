"""Issue 28: a file changed on disk under the proxy, with no watched-files event at all, keys
nothing from its old text. A proxy session in this process, with its database, in front of
always_fails.py — which registers no watchers, as clangd registers none for sources — while the
workspace's files change as a ``git checkout`` changes them. Run twice: on this filesystem, and
with every timestamp standing still (the racy case taken to the limit: same size, same inode,
same times; only the content tells)."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import pytest
from still_timestamps import still_timestamps

from lsp_backoff.proxy.config import ProxyConfig
from lsp_backoff.proxy.enrich.client import ProxyConnection
from lsp_backoff.proxy.enrich.jsonrpc import ResponseError
from lsp_backoff.tracker import queries

SERVER = Path(__file__).resolve().parents[1] / "servers" / "always_fails.py"


def edges_of(db: Path, uri: str) -> set[tuple[str, str]]:
    """(name, kind) of the document's current edges and placeholders."""
    with contextlib.closing(queries.connect(str(db))) as conn:
        return {(e["name"], e["kind"]) for e in queries.edges(conn) if e["uri"] == uri}


@pytest.mark.parametrize("timestamps", ["real", "still"])
async def test_the_graph_follows_a_file_changed_under_the_proxy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, timestamps: str
) -> None:
    if timestamps == "still":
        still_timestamps(monkeypatch, 1)  # and every read made right after: racy
    ws = tmp_path / "ws"
    ws.mkdir()
    b = ws / "b.py"
    b.write_text("alpha = 1\n")
    uri = b.as_uri()
    db = tmp_path / "graph.db"
    config = ProxyConfig(db=str(db), server=(sys.executable, str(SERVER)), timeout=20)
    proxy = ProxyConnection(config, ws, 30)
    await proxy.start()
    try:
        assert "workspace/didChangeWatchedFiles" not in proxy.registered

        async def ask() -> set[tuple[str, str]]:
            await proxy.locate("definition", uri, 0, 0)
            assert await proxy.flush()
            return edges_of(db, uri)

        assert await ask() == {("alpha", "edge")}
        b.write_text("beta = 1\n")  # a checkout: no event, no didSave, nothing
        assert await ask() == {("beta", "edge")}
        # Replaced twice at once, the same size each time (in place: the same inode).
        b.write_text("gamma = 1\n")
        assert await ask() == {("gamma", "edge")}
        b.write_text("delta = 1\n")
        assert await ask() == {("delta", "edge")}
        b.unlink()
        with contextlib.suppress(ResponseError):  # the server cannot read it either
            await proxy.locate("definition", uri, 0, 0)
        assert await proxy.flush()
        assert edges_of(db, uri) == set()  # gone from the graph
        stats = await proxy.stats()
        assert stats["forwarded"] == 5 and stats["short_circuited"] == 0
    finally:
        await proxy.close()
