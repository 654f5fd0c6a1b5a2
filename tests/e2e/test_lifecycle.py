"""Issue 2: shutdown/exit, a server crash with requests pending, a client that disappears."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest
from harness import Doc, Session, Start, eventually, pid_alive, proxy_cmd, server_cmd

# Client gone: 2 s grace, SIGTERM, 2 s more, SIGKILL — this bound leaves room for both.
GONE = 15.0


async def test_exit_code_is_the_servers(start: Start, tmp_path: Path) -> None:
    env = {"RECORDER_EXIT_CODE": "7"}
    session = await start(proxy_cmd(server_cmd("raw_recorder")), env)
    await session.initialize()
    response = await session.request("shutdown")
    assert response == {"jsonrpc": "2.0", "id": response["id"], "result": None}
    session.notify("exit")
    assert await session.wait_exit() == 7


async def test_clean_exit_after_shutdown_is_zero(start: Start, ws: Path) -> None:
    session = await start(proxy_cmd(server_cmd("always_fails"), "--no-db"))
    await session.initialize(ws)
    assert await session.shutdown() == 0
    assert not session.garbage


async def test_crash_fails_every_pending_request(start: Start, ws: Path) -> None:
    doc = Doc(ws / "crash.py", "hang_here = 1\ncrash_now = 2\n")
    session = await start(proxy_cmd(server_cmd("crashes_mid_request"), "--no-db"))
    await session.initialize(ws)
    session.open(doc.uri, doc.text)
    hanging = asyncio.ensure_future(session.ask(doc.uri, doc.pos("hang_here")))
    never = asyncio.ensure_future(session.request("test/never"))
    # The proxy forwards in order, so both are pending at the server before the crash.
    crashing = asyncio.ensure_future(session.ask(doc.uri, doc.pos("crash_now")))
    answers = await asyncio.gather(hanging, never, crashing)
    for answer, method in zip(
        answers,
        ["textDocument/definition", "test/never", "textDocument/definition"],
        strict=True,
    ):
        assert answer["error"]["code"] == -32803, answer
        assert answer["error"]["message"] == (
            f"lsp-backoff: server exited (status 3) before answering {method}"
        )
    assert await session.wait_exit() == 3
    assert not session.garbage


async def _server_pid(
    session_start: Start, cmd: list[str], ws: Path, env: dict[str, str] | None = None
) -> tuple[Session, int]:
    session = await session_start(cmd, env)
    await session.initialize(ws)
    pid = await session.result("test/pid")
    assert isinstance(pid, int) and pid_alive(pid)
    return session, pid


async def test_client_closing_stdin_leaves_no_process(start: Start, ws: Path) -> None:
    session, pid = await _server_pid(start, proxy_cmd(server_cmd("hangs"), "--no-db"), ws)
    assert session.proc.stdin is not None
    session.proc.stdin.close()
    await session.wait_exit(GONE)
    await eventually(lambda: not pid_alive(pid), GONE)


async def test_stubborn_server_is_killed_when_the_client_goes(start: Start, ws: Path) -> None:
    env = {"RECORDER_STUBBORN": "1"}
    session, pid = await _server_pid(start, proxy_cmd(server_cmd("raw_recorder")), ws, env)
    assert session.proc.stdin is not None
    session.proc.stdin.close()
    try:
        await session.wait_exit(GONE)
        await eventually(lambda: not pid_alive(pid), GONE)
    finally:
        if pid_alive(pid):
            os.kill(pid, signal.SIGKILL)  # never leak it, even when the test fails


async def test_killed_client_leaves_no_process(start: Start, ws: Path) -> None:
    """The editor dies: the proxy's stdin hits EOF and its stdout has no reader any more."""
    session, pid = await _server_pid(start, proxy_cmd(server_cmd("hangs"), "--no-db"), ws)
    assert session.proc.stdin is not None
    for task in session._tasks:
        task.cancel()
    transport = session.proc._transport  # type: ignore[attr-defined]
    stdout_pipe = transport.get_pipe_transport(1)
    stdout_pipe.close()
    session.proc.stdin.close()
    await asyncio.wait_for(session.proc.wait(), GONE)
    await eventually(lambda: not pid_alive(pid), GONE)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
async def test_proxy_stopped_by_a_signal_takes_its_server_down(
    start: Start, ws: Path, sig: signal.Signals
) -> None:
    """Even a server that ignores SIGTERM and stdin EOF: the proxy escalates to SIGKILL."""
    env = {"RECORDER_STUBBORN": "1"}
    session, pid = await _server_pid(start, proxy_cmd(server_cmd("raw_recorder")), ws, env)
    session.proc.send_signal(sig)
    try:
        await session.wait_exit(GONE)
        await eventually(lambda: not pid_alive(pid), GONE)
        assert f"received {sig.name}" in session.stderr_text
        assert "Traceback" not in session.stderr_text
    finally:
        if pid_alive(pid):
            os.kill(pid, signal.SIGKILL)  # never leak it, even when the test fails
