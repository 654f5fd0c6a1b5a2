"""The monitor's decisions without processes: a fake connection and a scripted orphan query."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import io
from pathlib import Path
from typing import Any

import pytest

from lsp_backoff.proxy import cli, enrich
from lsp_backoff.proxy.config import ProxyConfig
from lsp_backoff.proxy.enrich import monitor as monitor_module
from lsp_backoff.proxy.enrich.asking import Asked, pick_item
from lsp_backoff.proxy.enrich.monitor import Monitor
from lsp_backoff.proxy.enrich.progress import PlainProgress
from lsp_backoff.tracker.model import FailureState
from lsp_backoff.tracker.orphans import Orphan

NOW = 1_000_000.0


class FakeConnection:
    def __init__(self) -> None:
        self.exited = asyncio.Event()
        self.sent: list[tuple[str, str]] = []

    async def flush(self) -> bool:
        return True

    async def stats(self) -> dict[str, int]:
        return {}

    async def locate(self, operation: str, uri: str, line: int, character: int) -> Any:
        self.sent.append((operation, uri))
        return [{"uri": uri}]

    async def prepare_call_hierarchy(self, uri: str, line: int, character: int) -> list[Any]:
        self.sent.append(("prepare_call_hierarchy", uri))
        where = {
            "start": {"line": line, "character": character},
            "end": {"line": line, "character": character + 1},
        }
        return [{"name": "f", "kind": 12, "uri": uri, "range": where, "selectionRange": where}]

    async def calls(self, operation: str, item: Any) -> Any:
        self.sent.append((operation, item["uri"]))
        return []


class FakeSession:
    def __init__(self) -> None:
        self.connection = FakeConnection()
        #: The proxy tracker's states, as the test sets them.
        self.states: dict[tuple[str, str], FailureState] = {}

    def submit(self, uri: str, work: Any) -> asyncio.Future[Any]:
        return asyncio.ensure_future(work(self.connection))

    async def revive(self) -> None:
        raise AssertionError("no restarts here")

    def failure_state(self, symbol: str, operation: str) -> FailureState | None:
        return self.states.get((symbol, operation))

    def unsupported(self, operations: Any) -> dict[str, str]:
        return {}  # the capabilities are not known: everything is asked

    def record_unsupported(self, row: Orphan, operation: str, detail: str) -> None:
        raise AssertionError("everything is supported here")


def row(symbol: str, operation: str, state: str = "ready", retry_in: float | None = None) -> Orphan:
    retry_at = None if retry_in is None else NOW + retry_in
    return Orphan(symbol, symbol, f"file:///ws/{symbol}.py", 0, 4, 12, operation, state, retry_at)


def make_monitor(operations: tuple[str, ...] = ("references",)) -> Monitor:
    return Monitor(
        FakeSession(),
        db=None,  # type: ignore[arg-type]  # the query is scripted below
        operations=operations,
        interval=0.01,
        max_wait=60,
        backoff_base=5,
        max_attempts=4,
        progress=PlainProgress(io.StringIO()),
        uri_prefix="file:///ws/",
        clock=lambda: 100.0,
        wall=lambda: NOW,
    )


def script(monkeypatch: pytest.MonkeyPatch, *rounds: list[Orphan]) -> None:
    answers = list(rounds)

    def orphans(conn: Any, **kwargs: Any) -> list[Orphan]:
        return answers.pop(0) if len(answers) > 1 else answers[0]

    monkeypatch.setattr(monitor_module.queries, "orphan_rows", orphans)


async def test_asks_ready_orphans_then_stops_when_none_are_left(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    script(monkeypatch, [row("a", "references"), row("b", "references")], [])
    monitor = make_monitor()
    last = await monitor.run(asyncio.Event())
    assert sorted(monitor.session.connection.sent) == [
        ("references", "file:///ws/a.py"),
        ("references", "file:///ws/b.py"),
    ]
    assert last.done and monitor.counts.sent == 2


async def test_other_workspaces_and_long_backoffs_are_left_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    elsewhere = dataclasses.replace(row("x", "references"), uri="file:///other/x.py")
    script(monkeypatch, [elsewhere, row("slow", "references", "backoff", retry_in=120)])
    monitor = make_monitor()
    last = await monitor.run(asyncio.Event())
    assert monitor.session.connection.sent == []
    assert last.abandoned == {("slow", "references")}


async def test_a_backoff_within_max_wait_keeps_the_monitor_waiting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    script(monkeypatch, [row("soon", "references", "backoff", retry_in=30)], [])
    monitor = make_monitor()
    await monitor.run(asyncio.Event())
    assert monitor.counts.rounds == 2  # waited one more round instead of stopping


async def test_one_prepare_serves_incoming_and_outgoing_calls(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    script(monkeypatch, [row("f", "incoming_calls"), row("f", "outgoing_calls")], [])
    monitor = make_monitor(("incoming_calls", "outgoing_calls"))
    assert monitor.query_operations == ("incoming_calls", "outgoing_calls",
                                        "prepare_call_hierarchy")  # fmt: skip
    await monitor.run(asyncio.Event())
    assert [op for op, _ in monitor.session.connection.sent] == [
        "prepare_call_hierarchy",
        "incoming_calls",
        "outgoing_calls",
    ]


async def test_calls_wait_while_prepare_is_backing_off(monkeypatch: pytest.MonkeyPatch) -> None:
    script(
        monkeypatch,
        [row("f", "incoming_calls"), row("f", "prepare_call_hierarchy", "backoff", retry_in=1)],
        [],
    )
    monitor = make_monitor(("incoming_calls",))
    await monitor.run(asyncio.Event())
    assert monitor.session.connection.sent == []


async def test_a_pair_the_proxy_still_holds_back_waits_for_its_retry_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The database says ready, the proxy's tracker (a step ahead) says not yet: asked in the
    round its retry time has come, not before (the proxy would answer null itself)."""
    script(monkeypatch, [row("a", "references")], [row("a", "references")], [])
    monitor = make_monitor()
    monitor.wall = lambda: NOW + monitor.counts.rounds  # each round one second later
    held = FailureState("a", "file:///ws/a.py", "references", transient=1, retry_at=NOW + 1)
    monitor.session.states[("a", "references")] = held
    rounds: list[int] = []
    locate = monitor.session.connection.locate

    async def spy(*args: Any) -> Any:
        rounds.append(monitor.counts.rounds)
        return await locate(*args)

    monitor.session.connection.locate = spy  # type: ignore[method-assign]
    await monitor.run(asyncio.Event())
    # Sent by the task the second round (at NOW + 1) started, once that round was counted:
    # asked in the first round, it would show 1.
    assert rounds == [2]


def test_verdicts() -> None:
    monitor = make_monitor()  # clock 100, backoff base 5, max_attempts 4
    assert monitor._verdict(None, 0, 100) == "ask"
    assert monitor._verdict(Asked(1, "error", 99, seq=3), 2, 100) == "wait"  # after the flush
    assert monitor._verdict(Asked(1, "error", 99, seq=1), 2, 100) == "ask"
    assert monitor._verdict(Asked(6, "error", 99, seq=1, errors=6), 2, 100) == "stuck"
    assert monitor._verdict(Asked(1, "edges", 99, seq=1), 2, 100) == "stuck"
    assert monitor._verdict(Asked(1, "empty", 96, seq=1), 2, 100) == "wait"  # < base ago
    assert monitor._verdict(Asked(1, "empty", 94, seq=1), 2, 100) == "ask"
    assert monitor._verdict(Asked(3, "empty", 0, seq=1, empties=3), 2, 100) == "stuck"
    # Empty answers count only in a row; a ContentModified between them is no answer at all.
    assert monitor._verdict(Asked(3, "empty", 0, seq=1, empties=1), 2, 100) == "ask"
    assert monitor._verdict(Asked(9, "transient", 99, seq=1, transients=9), 2, 100) == "ask"
    assert monitor._verdict(Asked(10, "transient", 99, seq=1, transients=10), 2, 100) == "stuck"


def test_pick_item_prefers_the_symbol_s_own_position() -> None:
    def item(line: int) -> dict[str, Any]:
        where = {"start": {"line": line, "character": 4}, "end": {"line": line, "character": 5}}
        return {"name": "f", "kind": 12, "uri": "u", "range": where, "selectionRange": where}

    first, own = item(1), item(7)
    assert pick_item([first, own], 7, 4) is own
    assert pick_item([first, own], 9, 4) is first
    assert pick_item([], 9, 4) is None
    assert pick_item(["not an item", own], 9, 4) is own  # a malformed answer is passed over


def test_the_proxy_session_gets_the_proxy_settings(tmp_path: Any) -> None:
    """Options given win over --config, which wins over defaults — as for `lsp-backoff -- S`."""
    config = tmp_path / "proxy.toml"
    config.write_text("backoff-base = 9\ntimeout = 7\n")
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    enrich.add_command(sub, cli.add_proxy_options)
    args = parser.parse_args(
        ["enrich", str(tmp_path), "--backoff-base", "0.2", "--log-messages", "--db", "x.db",
         "--config", str(config), "--jobs", "3"]
    )  # fmt: skip
    args.server = ["--", "srv", "--stdio"]
    options = enrich.build_options(args)
    assert options.server == ["srv", "--stdio"]
    assert options.db == str((Path.cwd() / "x.db").resolve())
    proxy = options.proxy
    assert (proxy.backoff_base, proxy.timeout, proxy.log_messages) == (0.2, 7.0, True)
    assert proxy.max_retries == ProxyConfig().max_retries
    assert (options.backoff_base, options.timeout, options.jobs) == (0.2, 7.0, 3)
    assert args.func is enrich.run


@pytest.mark.parametrize(
    ("extra", "server", "message"),
    [
        ([], [], "no server command"),
        (["--no-db"], ["srv"], "--no-db cannot be used"),
        (["--jobs", "0"], ["srv"], "--jobs must be at least 1"),
    ],
)
def test_command_lines_enrich_cannot_run_with(
    tmp_path: Any, extra: list[str], server: list[str], message: str
) -> None:
    parser = argparse.ArgumentParser()
    enrich.add_command(parser.add_subparsers(), cli.add_proxy_options)
    args = parser.parse_args(["enrich", str(tmp_path), *extra])
    args.server = server
    with pytest.raises(enrich._UsageError, match=message):
        enrich.build_options(args)
