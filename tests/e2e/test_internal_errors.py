"""Nothing a peer sends can end the session (issue 10 item 3): an exception while deciding
about a frame, in either direction, is caught at the frame; the frame is forwarded unchanged,
the log gets a bounded number of lines, and `internal_errors` counts them all.

The proxy is a real process over real pipes (tests/e2e/faulty_proxy.py: the proxy with faults
injected where decoding, document sync and recording bugs would raise), in front of
raw_recorder, which records every byte it received and sent."""

from __future__ import annotations

from pathlib import Path

from faulty_proxy import DECODE_FAULT, RECORD_FAULT, SYNC_FAULT
from harness import PY, Start, frame, parse_frames, server_cmd

from lsp_backoff.proxy.core import ERRORS_LOGGED_PER_WINDOW

FAULTY_PROXY = str(Path(__file__).with_name("faulty_proxy.py"))
FLOOD = 400


def bodies_of(path: Path) -> list[bytes]:
    bodies, problems = parse_frames(path.read_bytes())
    assert not problems, problems
    return bodies


async def test_faults_in_deciding_never_end_the_session(start: Start, tmp_path: Path) -> None:
    env = {"RECORDER_IN": str(tmp_path / "in.bin"), "RECORDER_OUT": str(tmp_path / "out.bin")}
    session = await start([PY, FAULTY_PROXY, "--no-db", "--", *server_cmd("raw_recorder")], env)
    sent: list[bytes] = []

    def send(body: bytes) -> None:
        session.send_raw(frame(body))
        sent.append(body)

    send(b'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"capabilities":{}}}')
    await session.wait_for(lambda m: m.get("id") == 1)
    send(b'{"jsonrpc":"2.0","method":"initialized","params":{}}')
    # Server → client: deciding about custom/notify raises; the client still gets it.
    await session.wait_for(lambda m: m.get("method") == "custom/notify")
    await session.wait_for(lambda m: m.get("id") == "srv-1")  # the harness answers it
    # Client → server: a flood of frames whose decoding raises, a request among them, and
    # document notifications whose sync raises (deferred work, same catch and counter).
    for i in range(FLOOD):
        send(
            b'{"jsonrpc":"2.0","method":"custom/x","params":{"n":%d,"m":"%s"}}' % (i, DECODE_FAULT)
        )
    send(b'{"jsonrpc":"2.0","id":7,"method":"custom/ask","params":"%s"}' % DECODE_FAULT)
    for i in range(3):
        send(
            b'{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":'
            b'{"uri":"file:///x%d.py","text":"%s"}}}' % (i, SYNC_FAULT)
        )
    send(b'{"jsonrpc":"2.0","id":8,"method":"textDocument/definition","params":'
         b'{"textDocument":{"uri":"untitled:a"},"position":{"line":0,"character":0}}}')  # fmt: skip
    # Recording the answer to a tracked request raises (deferred work too).
    text = b"%s = 1\\n" % RECORD_FAULT.encode()
    send(
        b'{"jsonrpc":"2.0","method":"textDocument/didOpen","params":{"textDocument":'
        b'{"uri":"file:///rec.py","languageId":"python","version":1,"text":"%s"}}}' % text
    )
    send(
        b'{"jsonrpc":"2.0","id":9,"method":"textDocument/definition","params":'
        b'{"textDocument":{"uri":"file:///rec.py"},"position":{"line":0,"character":3}}}'
    )
    await session.wait_for(lambda m: m.get("id") == 7)  # the faulty request was answered
    await session.wait_for(lambda m: m.get("id") == 8)  # and the proxy still decides
    await session.wait_for(lambda m: m.get("id") == 9)  # its answer went on unchanged

    stats = await session.stats()  # answered by the proxy: not forwarded
    assert stats["internal_errors"] == 1 + FLOOD + 1 + 3 + 1
    assert stats["tracked"] == 2
    assert await session.shutdown() == 0  # alive to the end, and ended cleanly

    received = [body for body in bodies_of(tmp_path / "in.bin") if b'"srv-1"' not in body]
    # The server received exactly the client's frames, unchanged: all of the above, then
    # shutdown and exit (the stats request is the proxy's own).
    assert received[: len(sent)] == sent and len(received) == len(sent) + 2
    # Every frame the server wrote reached the client unchanged (the stats answer aside).
    from_server = [body for body, _ in session.received if b"internal_errors" not in body]
    assert from_server == bodies_of(tmp_path / "out.bin")
    logged = [line for line in session.stderr_text.splitlines() if "internal error" in line]
    assert 1 <= len(logged) <= ERRORS_LOGGED_PER_WINDOW + 1
