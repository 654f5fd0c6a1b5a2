"""What the fuzz suite found, pinned as plain tests through a real proxy process.

Each of these ended the session (an exception escaped into the relay) before it was fixed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))

from harness import PY, Session, dumps, eventually, frame, parse_frames, proxy_cmd, server_cmd

GATED_PROXY = str(Path(__file__).resolve().parents[1] / "e2e" / "gated_proxy.py")

LARGE = "x" * 5000  # past peek's 4 KB: the head fast path reads these


async def started(tmp_path: Path) -> Session:
    session = await Session.start(proxy_cmd(server_cmd("sends_hostile"), "--no-db"))
    await session.initialize(tmp_path)
    return session


@pytest.mark.parametrize(
    "body",
    [
        # A cancel whose id is an object: looked up in the proxy's id maps, unhashable.
        '{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":{"h":1}}}',
        '{"jsonrpc":"2.0","method":"$/cancelRequest","params":{"id":[1]}}',
    ],
)
async def test_client_frames_that_ended_the_session(tmp_path: Path, body: str) -> None:
    session = await started(tmp_path)
    try:
        session.send_raw(b"Content-Length: %d\r\n\r\n%s" % (len(body), body.encode()))
        assert (await session.request("test/echo", {"n": 1}))["result"] == {"echo": 1}
        assert await session.shutdown() == 0
    finally:
        await session.close()
    assert "Traceback" not in session.stderr_text, session.stderr_text


@pytest.mark.parametrize(
    "body",
    [
        # A progress token that is not a ProgressToken (and not hashable), ending.
        '{"jsonrpc":"2.0","method":"$/progress","params":{"token":{"t":1},"value":{"kind":"end"}}}',
        '{"jsonrpc":"2.0","method":"$/progress","params":{"token":[1],"value":{"kind":"begin"}}}',
    ],
)
async def test_server_frames_that_ended_the_session(tmp_path: Path, body: str) -> None:
    session = await started(tmp_path)
    try:
        assert (await session.request("test/send", {"bodies": [body]}))["result"] == "sent"
        assert any(raw == body.encode() for raw, _ in session.received)  # passed on unchanged
        # A tracked request drains the deferred work (where the progress is read) at once.
        where = {"textDocument": {"uri": "file:///x.py"}, "position": {"line": 0, "character": 0}}
        await session.request("textDocument/definition", where)
        assert (await session.request("test/echo", {"n": 2}))["result"] == {"echo": 2}
        assert await session.shutdown() == 0
    finally:
        await session.close()
    assert "Traceback" not in session.stderr_text, session.stderr_text


async def test_invalid_utf8_in_a_large_body_id(tmp_path: Path) -> None:
    # Past 4 KB peek reads the head with a regex; decoding its id raised UnicodeDecodeError.
    body = b'{"jsonrpc":"2.0","id":"h-\xff","method":"m","params":"' + LARGE.encode() + b'"}'
    session = await started(tmp_path)
    try:
        session.send_raw(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        assert (await session.request("test/echo", {"n": 3}))["result"] == {"echo": 3}
        assert await session.shutdown() == 0
    finally:
        await session.close()
    assert "Traceback" not in session.stderr_text


async def test_deep_nesting_both_ways_byte_for_byte(tmp_path: Path) -> None:
    """Issue 10's two reports: a deep client request, a deep server notification."""
    deep = "[" * 100_000 + "]" * 100_000
    request = f'{{"jsonrpc":"2.0","method":"workspace/didChangeConfiguration","params":{deep}}}'
    notification = f'{{"jsonrpc":"2.0","method":"window/logMessage","params":{deep}}}'
    session = await started(tmp_path)
    try:
        session.send_raw(b"Content-Length: %d\r\n\r\n%s" % (len(request), request.encode()))
        sent = await session.request("test/send", {"bodies": [notification]}, timeout=60)
        assert sent["result"] == "sent"
        assert any(raw == notification.encode() for raw, _ in session.received)
        assert (await session.request("test/echo", {"n": 4}))["result"] == {"echo": 4}
        assert await session.shutdown() == 0
    finally:
        await session.close()
    assert "Traceback" not in session.stderr_text


def release(gate: Path) -> bool:
    """Open the FIFO for writing if its reader waits (else False), write and close it."""
    try:
        fd = os.open(gate, os.O_WRONLY | os.O_NONBLOCK)
    except OSError:  # ENXIO: nobody has it open for reading yet
        return False
    try:
        os.write(fd, b"go")
    finally:
        os.close(fd)
    return True


async def test_a_held_request_never_lands_inside_a_streamed_frame(tmp_path: Path) -> None:
    """Found end to end (seed 12345): a tracked request held for a file read was written to
    the server while a large frame was still being passed on piece by piece, inside it; the
    server's stream was garbage from there on and it never answered again."""
    record, gate = tmp_path / "server_in", tmp_path / "gate"
    os.mkfifo(gate)  # the read of unread_gated.py ends when the test says (gated_proxy.py)
    cmd = [PY, GATED_PROXY, "--no-db", "--", *server_cmd("sends_hostile")]
    env = {"RECORDER_IN": str(record), "LSP_BACKOFF_TEST_GATE": str(gate)}
    session = await Session.start(cmd, env=env)
    try:
        await session.initialize(tmp_path)
        (tmp_path / "unread_gated.py").write_text("x = 1\n")
        where = {"textDocument": {"uri": (tmp_path / "unread_gated.py").as_uri()},
                 "position": {"line": 0, "character": 0}}  # fmt: skip
        held = dumps({"jsonrpc": "2.0", "id": "held", "method": "textDocument/definition",
                      "params": where})  # fmt: skip
        big = (
            b'{"jsonrpc":"2.0","id":"big","method":"custom/big","params":"' + b"x" * 200_000 + b'"}'
        )
        whole = frame(big)
        # The held request (its read waits at the gate), then the first part of a frame large
        # enough to be streamed: the server has its beginning before the rest is sent.
        session.send_raw(frame(held) + whole[:70_000])
        await eventually(lambda: record.exists() and b'"id":"big"' in record.read_bytes())
        # Now the read ends, and the session acts on it while the frame is half passed on
        # (without the fix the held request went to the server now, inside the large frame).
        # Opened without blocking: until the worker waits at the gate, the open fails and is
        # tried again (bounded) — a proxy that never reads leaves no thread hung on the FIFO.
        await eventually(lambda: release(gate))
        await eventually(
            lambda: f"gate: acted on {where['textDocument']['uri']}" in session.stderr_text
        )
        assert b'"held"' not in record.read_bytes()
        session.send_raw(whole[70_000:])
        assert (await session.request("test/echo", {"n": 5}))["result"] == {"echo": 5}
        await session.wait_for(lambda m: m.get("id") == "held")
        bodies, problems = parse_frames(record.read_bytes())
        assert not problems
        assert big in bodies and held in bodies
        assert await session.shutdown() == 0
    finally:
        await session.close()
