"""A cancelled references request must not break pyright or basedpyright (issue 23).

Measured (pyright 1.1.414, basedpyright 1.40.2): after one ``$/cancelRequest`` of a
``textDocument/references`` request (basedpyright: ``implementation`` too), every later request
of that method fails for the rest of the session with -32603 "…this._token.cancel is not a
function". The proxy never forwards such a cancel to them (proxy/servers.py): the first tests
check, through the proxy, that a cancel then ten more requests leave every one answered with
locations. The canaries ask the server directly and fail when the server no longer breaks:
then the workaround (an entry in proxy/servers.py) is no longer needed — re-measure and drop it.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from lspwire import CLIENT_CAPABILITIES, Frame, LspClient
from python_cases import BASE, EXAMPLES, FILES, analyzed, at
from realtools import clean_env, find_tool, proxy_command, pyright_command

pytestmark = [pytest.mark.real_server, pytest.mark.asyncio]

POISON = "this._token.cancel is not a function"
REFS = "textDocument/references"
IMPL = "textDocument/implementation"


def command(server: str) -> list[str]:
    if server == "pyright":
        return pyright_command()
    return [find_tool("basedpyright-langserver"), "--stdio"]


#: The methods each server breaks after a cancel (proxy/servers.py KNOWN).
BROKEN = {"pyright": (REFS,), "basedpyright": (REFS, IMPL)}


def params(method: str) -> dict[str, Any]:
    if method == REFS:
        return {**at(BASE, "class Shape", 1, 6), "context": {"includeDeclaration": True}}
    return at(BASE, "def area", 1, 4)  # Circle and Square implement it


async def started(cmd: list[str], tmp: Path) -> LspClient:
    client = await LspClient.start(cmd, cwd=EXAMPLES, env=clean_env(tmp), name=cmd[0])
    await client.initialize(EXAMPLES, capabilities=CLIENT_CAPABILITIES)
    for path in FILES:
        client.did_open(path, "python")
    await client.wait_for(analyzed, "the initial analysis")
    return client


async def cancel_one(client: LspClient, method: str, rid: str) -> Frame:
    """A request cancelled as soon as it is sent (measured: that breaks the method; a cancel
    1-5 ms later does too)."""
    asked = asyncio.create_task(client.request(method, params(method), rid=rid))
    await asyncio.sleep(0)  # the request is written before the cancel
    client.notify("$/cancelRequest", {"id": rid})
    return await asked


def located(frame: Frame) -> bool:
    return frame.error is None and isinstance(frame.result, list) and len(frame.result) > 0


@pytest.mark.parametrize("server", ["pyright", "basedpyright"])
async def test_after_a_cancel_every_later_request_is_answered_through_the_proxy(
    server: str, tmp_path: Path
) -> None:
    cmd = proxy_command(tmp_path / "graph.db", tmp_path / "proxy.log", command(server))
    client = await started(cmd, tmp_path)
    try:
        for method in BROKEN[server]:
            assert located(await client.request(method, params(method)))
            cancelled = await cancel_one(client, method, f"cancel-{method}")
            assert cancelled.error is not None and cancelled.error["code"] == -32800, cancelled
            answers = [await client.request(method, params(method)) for _ in range(10)]
            assert [located(a) for a in answers] == [True] * 10, [a.msg for a in answers]
        stats = (await client.request("lspBackoff/stats")).result
        assert stats["failures"] == 0 and stats["short_circuited"] == 0, stats
    finally:
        code = await client.close()
    log = (tmp_path / "proxy.log").read_text()
    assert POISON not in log, log[-2000:]
    assert code == 0, log[-2000:]


@pytest.mark.parametrize("server", ["pyright", "basedpyright"])
async def test_canary_the_server_still_breaks_after_a_cancel(server: str, tmp_path: Path) -> None:
    """Fails when the server answers after a cancel: the workaround is no longer needed (or a
    new version breaks differently) — re-measure, then update proxy/servers.py and README."""
    client = await started(command(server), tmp_path)
    try:
        for method in BROKEN[server]:
            assert located(await client.request(method, params(method)))
            await cancel_one(client, method, f"cancel-{method}")
            later = await client.request(method, params(method))
            assert later.error is not None and POISON in later.error["message"], (
                f"{server} answered {method} after a cancel: {json.dumps(later.msg)[:300]} — "
                "the cancel workaround for it in proxy/servers.py may be dropped"
            )
    finally:
        await client.close()
