"""Issue 3 across windows, on one shared proxy: `--max-retries 1 --backoff-base 0.1`.

Two counted failures mean "skipped for good"; windows are short, so tests poll (bounded) until
the server has been asked again. Each test has its own document and identifiers; counters are
compared as deltas because the proxy is shared.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from harness import (
    Doc,
    Session,
    ask_until_asked,
    count,
    eventually,
    opened_in,
    proxy_cmd,
    running,
    server_cmd,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

NULL = {"jsonrpc": "2.0", "result": None}
OPTIONS = ("--no-db", "--max-retries", "1", "--backoff-base", "0.1", "--log-level", "info")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def shared(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[Session, Path]]:
    root = tmp_path_factory.mktemp("retries")
    async with running(proxy_cmd(server_cmd("always_fails"), *OPTIONS), root) as session:
        yield session, root


def opened(shared: tuple[Session, Path], name: str, text: str) -> tuple[Session, Doc]:
    session, root = shared
    return session, opened_in(session, root, name, text)


async def test_success_clears_the_failure_count(shared: tuple[Session, Path]) -> None:
    # seq_fof: fail, succeed, fail, then succeed. The 4th attempt only reaches the server if
    # the success in between cleared the first failure (else two failures: skipped for good).
    session, doc = opened(shared, "seq", "seq_fof = 1\n")
    assert "error" in await session.ask(doc.uri, doc.pos("seq_fof"))
    assert (await ask_until_asked(session, doc, "seq_fof", 2))["result"] is not None
    assert "error" in await ask_until_asked(session, doc, "seq_fof", 3)
    assert (await ask_until_asked(session, doc, "seq_fof", 4))["result"] is not None


async def test_skipped_for_good_after_max_retries(shared: tuple[Session, Path]) -> None:
    session, doc = opened(shared, "skip", "bad_skip = 1\n")
    before = await session.stats()
    await session.ask(doc.uri, doc.pos("bad_skip"))
    await ask_until_asked(session, doc, "bad_skip", 2)

    def mine(word: str) -> list[str]:
        lines = session.stderr_text.splitlines()
        return [line for line in lines if word in line and "bad_skip" in line]

    await eventually(lambda: mine("skipped for good"))
    await asyncio.sleep(0.5)  # longer than every window this schedule could still have
    for _ in range(3):
        response = await session.ask(doc.uri, doc.pos("bad_skip"))
        assert response == {**NULL, "id": response["id"]}
    assert count(await session.counts(), "bad_skip") == 2
    after = await session.stats()
    assert after["skipped"] - before["skipped"] == 1
    assert after["failures"] - before["failures"] == 2
    failures = mine("failure definition")
    # The last failure may be reported by the "skipped for good" line alone (no next retry).
    assert 1 <= len(failures) <= 2, session.stderr_text
    assert re.search(
        r"failure definition \S*bad_skip\S* attempt 1: .+; next retry at \d{4}-", failures[0]
    ), failures[0]
    assert len(mine("skipped for good")) == 1


async def test_transient_codes_never_lead_to_skip(shared: tuple[Session, Path]) -> None:
    session, doc = opened(shared, "busy", "busy_forever = 1\n")
    before = await session.stats()
    first = await session.ask(doc.uri, doc.pos("busy_forever"))
    assert first["error"]["code"] == -32801
    last = await ask_until_asked(session, doc, "busy_forever", 5)
    assert last["error"]["code"] == -32801
    after = await session.stats()
    assert after["skipped"] == before["skipped"]
    assert after["failures"] == before["failures"]
    assert after["transient"] - before["transient"] == 5
