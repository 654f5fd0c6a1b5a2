"""rust-analyzer's loading phase through the proxy: the scripted fake, and the real one if any.

The same end-to-end scenario runs against ``fake_rust_analyzer.py`` (always) and a real
``rust-analyzer`` (only when one runs here: rustup's ``~/.cargo/bin/rust-analyzer`` shim
without the component does not count — see ``realtools.working_rust_analyzer``):

- the client advertises ``experimental.serverStatusNotification`` and waits for
  ``experimental/serverStatus {"quiescent": true}``;
- answers before that (``ContentModified``, empty) are transient for the proxy: they never
  count as failures and never become placeholders;
- after it, a definition is recorded as an edge and an unresolvable name as a ``none``
  placeholder, with no failure counted anywhere.

The fake's loading steps are deterministic, so for it the test also checks each one.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from lspwire import CLIENT_CAPABILITIES, LspClient, position_of
from pairing import edges_for, graph_cli, text_position
from realtools import SAMPLES, clean_env, proxy_command, working_rust_analyzer

pytestmark = [pytest.mark.real_server, pytest.mark.asyncio(loop_scope="module")]

FAKE = Path(__file__).with_name("fake_rust_analyzer.py")
BACKOFF_BASE = 0.3


def quiescent(client: LspClient) -> bool:
    statuses = client.notifications_of("experimental/serverStatus")
    return bool(statuses) and statuses[-1].get("quiescent") is True


class Session:
    def __init__(self, client: LspClient, root: Path, db: Path, log: Path) -> None:
        self.client, self.root, self.db, self.log = client, root, db, log

    def at(self, needle: str, occurrence: int = 1) -> dict[str, Any]:
        main = self.root / "src" / "main.rs"
        return text_position(main.as_uri(), position_of(main, needle, occurrence=occurrence))

    async def stats(self) -> dict[str, int]:
        return (await self.client.request("lspBackoff/stats")).result  # type: ignore[no-any-return]

    async def edges(self) -> list[dict[str, Any]]:
        assert (await self.client.request("lspBackoff/flush")).result == {"committed": True}
        return graph_cli("edges", "--json", "--db", str(self.db))

    async def ask_until_forwarded(self, method: str, params: dict[str, Any]) -> Any:
        """Asks until the server itself answers (not the proxy's backoff null); bounded."""
        for _ in range(200):
            before = (await self.stats())["forwarded"]
            frame = await self.client.request(method, params)
            if (await self.stats())["forwarded"] > before:
                return frame
            await asyncio.sleep(BACKOFF_BASE / 3)
        raise AssertionError(f"{method} never reached the server; log: {self.log.read_text()}")


async def start(server: list[str], tmp: Path) -> Session:
    root = tmp / "rust_project"
    if not root.exists():
        shutil.copytree(SAMPLES / "rust_project", root)
    db, log = tmp / "graph.db", tmp / "proxy.log"
    client = await LspClient.start(
        proxy_command(db, log, server, "--backoff-base", str(BACKOFF_BASE)),
        cwd=root,
        env=clean_env(tmp),
        stderr_path=tmp / "stderr",
        name="proxied",
    )
    capabilities = {**CLIENT_CAPABILITIES, "experimental": {"serverStatusNotification": True}}
    await client.initialize(root, capabilities=capabilities)
    for path in sorted((root / "src").glob("*.rs")):
        client.did_open(path, "rust")
    return Session(client, root, db, log)


async def after_ready(session: Session) -> None:
    """The half of the scenario both the fake and a real rust-analyzer must pass."""
    await session.client.wait_for(quiescent, "serverStatus quiescent: true", timeout=180)
    definition = await session.ask_until_forwarded(
        "textDocument/definition", session.at("perimeter", 2)
    )
    assert definition.result, definition.raw
    unresolved = await session.ask_until_forwarded(
        "textDocument/definition", session.at("load_all")
    )
    assert not unresolved.result, unresolved.raw
    edges = await session.edges()
    rows = edges_for(edges, "perimeter", "definition", uri_suffix="/main.rs")
    assert rows and rows[-1]["kind"] == "edge", rows
    assert rows[-1]["target"]["uri"].endswith("/src/geometry.rs")
    placeholder = edges_for(edges, "load_all", "definition")
    assert [(r["kind"], r["target"]) for r in placeholder] == [("none", None)], placeholder
    assert (await session.stats())["failures"] == 0


@pytest_asyncio.fixture(loop_scope="module")
async def fake(tmp_path: Path) -> AsyncIterator[Session]:
    session = await start([sys.executable, str(FAKE)], tmp_path)
    yield session
    assert await session.client.close() == 0, session.log.read_text()


async def test_fake_rust_analyzer_loading_then_ready(fake: Session) -> None:
    client = fake.client
    await client.wait_for(
        lambda c: bool(c.notifications_of("experimental/serverStatus")), "serverStatus"
    )
    assert client.notifications_of("experimental/serverStatus")[0]["quiescent"] is False

    # Step 2: ContentModified goes back to the client untouched; it is transient, not a failure.
    first = await client.request("textDocument/definition", fake.at("perimeter", 2))
    assert first.error is not None and first.error["code"] == -32801, first.raw
    # An empty answer while the server says it is busy: transient too, and no placeholder.
    empty = await client.request("textDocument/definition", fake.at("load_all"))
    assert empty.result is None
    stats = await fake.stats()
    assert (stats["failures"], stats["transient"]) == (0, 2), stats
    assert (await client.request("fakeRustAnalyzer/counts", {})).result == {"definition": 2}
    assert edges_for(await fake.edges(), "load_all", "definition") == []

    # Step 3: the server finishes loading; then real answers are recorded.
    client.notify("fakeRustAnalyzer/finishLoading", {})
    await after_ready(fake)


@pytest.mark.timeout(240)  # after_ready waits up to 180 s for quiescent
async def test_real_rust_analyzer(tmp_path: Path) -> None:
    real = working_rust_analyzer()
    if real is None:
        # Not a CI failure: rust-analyzer cannot be installed on these machines (no Debian
        # package, no network for rustup); the fake above covers its documented behaviour.
        pytest.skip("no working rust-analyzer on PATH (rustup shim without the component?)")
    session = await start([real], tmp_path)
    try:
        await after_ready(session)
    finally:
        await session.client.close()
