"""Issue 2: the proxy forwards every body byte for byte, both ways, and stdout is frames only."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from harness import Message, Start, eventually, frame, parse_frames, proxy_cmd, server_cmd

ODD_BODIES = [
    # odd whitespace, key order, escapes; a request the recorder answers with a scripted body
    b'{ "method" : "custom/echo",\t"id":  41, "params": {"s":"caf\\u00e9 \\ud83d\\ude00",'
    b'"n":1.50,"big":12345678901234567890} ,"jsonrpc":"2.0"}',
    # literal UTF-8, a notification with an unknown $/ method
    '{"jsonrpc":"2.0","method":"$/custom","params":{"x":"é✓😀","e":1E3}}'.encode(),
    # string id, nested nulls
    b'{"jsonrpc":"2.0","id":"str-id","method":"custom/other","params":[null,{"a":[]}]}',
]


def answer_to(ident: object) -> Callable[[Message], bool]:
    return lambda message: message.get("id") == ident and "method" not in message


def recorder_env(tmp_path: Path) -> dict[str, str]:
    return {
        "RECORDER_IN": str(tmp_path / "in.bin"),
        "RECORDER_OUT": str(tmp_path / "out.bin"),
    }


def bodies_of(path: Path) -> list[bytes]:
    bodies, problems = parse_frames(path.read_bytes())
    assert not problems, problems
    return bodies


async def test_bytes_in_equal_bytes_out_both_ways(start: Start, tmp_path: Path) -> None:
    session = await start(proxy_cmd(server_cmd("raw_recorder")), recorder_env(tmp_path))
    sent: list[bytes] = []
    init = b'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}}'
    session.expect(1)
    session.send_raw(frame(init))
    sent.append(init)
    await session.wait_for(lambda m: m.get("id") == 1)
    initialized = b'{"jsonrpc":"2.0","method":"initialized","params":{}}'
    session.send_raw(frame(initialized, b"Content-Type: application/vscode-jsonrpc\r\n"))
    sent.append(initialized)
    # The server's request arrives and our answer goes back through the proxy.
    await session.wait_for(lambda m: m.get("id") == "srv-1")
    await session.wait_for(lambda m: m.get("params", {}).get("value", {}).get("kind") == "end")
    sent.append(b'{"jsonrpc":"2.0","id":"srv-1","result":[null]}')
    for body in ODD_BODIES:
        session.send_raw(frame(body))
        sent.append(body)
    big = b'{"jsonrpc":"2.0","id":99,"method":"test/big","params":"' + b"y" * 1_000_000 + b'"}'
    session.send_raw(frame(big))
    sent.append(big)
    for ident in (41, "str-id", 99):
        await session.wait_for(answer_to(ident))

    assert bodies_of(tmp_path / "in.bin") == sent
    # Every body the server wrote reached the client unchanged and in order.
    assert [body for body, _ in session.received] == bodies_of(tmp_path / "out.bin")
    assert not session.garbage
    assert await session.shutdown() == 0


async def test_server_requests_and_notifications_pass(start: Start, tmp_path: Path) -> None:
    session = await start(proxy_cmd(server_cmd("raw_recorder")), recorder_env(tmp_path))
    await session.initialize()
    await session.wait_for(lambda m: m.get("params", {}).get("value", {}).get("kind") == "end")
    methods = [m.get("method") for _, m in session.received if m]
    assert methods[1:] == [
        "workspace/configuration",
        "$/progress",
        "textDocument/publishDiagnostics",
        "custom/notify",
        "$/progress",
    ]
    await session.result("custom/ping")  # a round trip after our answer to srv-1
    recorded = [json.loads(b) for b in bodies_of(tmp_path / "in.bin") if b.startswith(b"{")]
    assert {"jsonrpc": "2.0", "id": "srv-1", "result": [None]} in recorded


async def test_bad_input_is_forwarded_and_the_session_survives(
    start: Start, tmp_path: Path
) -> None:
    session = await start(proxy_cmd(server_cmd("raw_recorder")), recorder_env(tmp_path))
    await session.initialize()
    bad = [
        b"this is not json",
        b'{"jsonrpc":"2.0","id":7,"method":5,"params":{}}',
        b'{"jsonrpc":"2.0","id":true,"method":"textDocument/definition","params":{}}',
        b'{"jsonrpc":"2.0","id":8,"method":"textDocument/definition","params":"wrong shape"}',
        b'{"jsonrpc":"2.0","method":"custom/\xff\xfe","params":{"s":"\xc3"}}',
        b"[1,2,3]",
        b"",
    ]
    for body in bad:
        session.send_raw(frame(body))
    assert await session.result("custom/after") is not None
    received = bodies_of(tmp_path / "in.bin")
    for body in bad:
        assert body in received
    assert received.index(bad[0]) < received.index(bad[-2])


@pytest.mark.parametrize(
    "broken",
    [
        b"Content-Length: abc\r\n\r\n",
        b"Content-Length: -5\r\n\r\n",
        b"Content-Type: application/vscode-jsonrpc\r\n\r\n",  # no Content-Length at all
    ],
    ids=["not-a-number", "negative", "missing"],
)
async def test_broken_frame_is_logged_in_one_line_and_the_next_frame_works(
    start: Start, tmp_path: Path, broken: bytes
) -> None:
    session = await start(proxy_cmd(server_cmd("raw_recorder")), recorder_env(tmp_path))
    await session.initialize()
    await session.result("custom/before")
    before = len(session.stderr_text.splitlines())
    # The broken block arrives on its own (as when an editor writes one frame at a time);
    # the next frame follows once the proxy has said something about it.
    session.send_raw(broken)
    await eventually(lambda: len(session.stderr_text.splitlines()) > before)
    assert await session.result("custom/after") is not None
    await session.result("custom/again")
    # A marker: one more block that is not a frame, logged after anything the proxy had still
    # to say about the first (one log, written in order) — no time allowed for draining.
    session.send_raw(b"end-of-test-marker\r\n\r\n")
    await eventually(lambda: "end-of-test-marker" in session.stderr_text)
    lines = session.stderr_text.splitlines()[before:]
    assert len(lines) == 2 and "end-of-test-marker" in lines[1], "\n".join(lines)
    assert "Traceback" not in session.stderr_text


async def test_stdout_is_only_frames_at_debug_level(start: Start, tmp_path: Path) -> None:
    log_opts = ("--log-level", "debug", "--log-messages")
    session = await start(proxy_cmd(server_cmd("raw_recorder"), *log_opts), recorder_env(tmp_path))
    await session.initialize()
    await session.wait_for(lambda m: m.get("method") == "custom/notify")
    await session.result(
        "textDocument/definition",
        {"textDocument": {"uri": "file:///nowhere.py"}, "position": {"line": 0, "character": 0}},
    )
    assert await session.shutdown() == 0
    bodies, problems = parse_frames(bytes(session.stdout))
    assert not problems and not session.garbage
    assert all(json.loads(body) for body in bodies)
    assert session.stderr.strip(), "debug logging should have said something on stderr"


async def test_proxy_private_requests_never_reach_the_server(start: Start, tmp_path: Path) -> None:
    session = await start(proxy_cmd(server_cmd("raw_recorder"), "--no-db"), recorder_env(tmp_path))
    await session.initialize()
    stats = await session.result("lspBackoff/stats")
    assert isinstance(stats["forwarded"], int)
    assert await session.result("lspBackoff/flush") == {"committed": True}
    await session.result("custom/after")
    assert b"lspBackoff" not in (tmp_path / "in.bin").read_bytes()
