"""Asker.idle: what the monitor waits on between rounds (set exactly while no task runs)."""

from __future__ import annotations

import asyncio
from typing import Any

from lsp_backoff.proxy.enrich.asking import Asker


async def test_idle_is_clear_while_any_task_runs_and_set_when_the_last_ends() -> None:
    asker = Asker(session=None)  # type: ignore[arg-type]  # _spawn needs no session
    assert asker.idle.is_set()
    gates = [asyncio.Event(), asyncio.Event()]

    async def wait_for(gate: asyncio.Event) -> Any:
        await gate.wait()

    for gate in gates:
        asker._spawn(wait_for(gate))
    await asyncio.sleep(0)
    assert not asker.idle.is_set()
    gates[0].set()
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert len(asker.tasks) == 1 and not asker.idle.is_set()
    gates[1].set()
    await asyncio.wait_for(asker.idle.wait(), 10)
    assert not asker.tasks
