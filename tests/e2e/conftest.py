"""Fixtures for the end-to-end suite: proxies over real pipes, torn down whatever happens."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
import pytest_asyncio

sys.path.insert(0, str(Path(__file__).parent))

from harness import Session, Start


@pytest_asyncio.fixture
async def start() -> AsyncIterator[Start]:
    """`await start(cmd, env=…)` → a running Session; every one is closed at teardown."""
    sessions: list[Session] = []

    async def _start(cmd: Sequence[str], env: dict[str, str] | None = None) -> Session:
        session = await Session.start(cmd, env)
        sessions.append(session)
        return session

    yield _start
    for session in sessions:
        await session.close()


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    path = tmp_path / "ws"
    path.mkdir()
    return path
