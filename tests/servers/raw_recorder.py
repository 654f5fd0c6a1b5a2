"""A raw stdio LSP server (no pygls) that records bytes, for byte-exactness tests.

Environment: RECORDER_IN — file that receives every byte read on stdin, as read;
RECORDER_OUT — file that receives every byte written on stdout; RECORDER_EXIT_CODE — exit status
on `exit` (default 0); RECORDER_STUBBORN=1 — ignore SIGTERM and stdin EOF (only SIGKILL ends it).

It answers `initialize` minimally; after `initialized` it sends a server-to-client request
(workspace/configuration, id "srv-1") and notifications ($/progress, publishDiagnostics,
custom/notify); every other request with an int or string id gets a scripted body with odd
whitespace, key order and escapes (`test/pid` gets the pid, `test/big` a 1 MB string, `shutdown`
null). Bodies that are not JSON-RPC requests are recorded and otherwise ignored. Broken header
blocks are skipped, the way a lenient server resynchronises.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from typing import Any

CONTENT_TYPE = b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n"
RESULT_TEMPLATE = (
    '{ "result" : {"uri":"file:///r\\u00e9sult.py","range":{"start":{"line":0,"character":0},'
    '"end":{"line":0,"character":1}}} ,  "id" :  %s, "jsonrpc":"2.0" , "x":"\\ud83d\\ude00"}  '
)
AFTER_INITIALIZED = [
    (
        b'{"id":"srv-1" , "jsonrpc":"2.0","method":"workspace/configuration",'
        b'"params":{"items":[{"section":"caf\\u00e9"}]}}'
    ),
    (
        b'{"jsonrpc": "2.0",  "method": "$/progress", "params": {"token": "t\\u00f6k", '
        b'"value": {"kind": "begin", "title": "r\\u00e9cord"}}}'
    ),
    (
        b'{\n\t"method":"textDocument/publishDiagnostics",\n\t"jsonrpc":"2.0",\n\t'
        b'"params":{"uri":"file:///tmp/x.py","diagnostics":[]}\n}'
    ),
    (
        '{"jsonrpc":"2.0","method":"custom/notify","params":{"text":"\\ud83d\\ude00 é ✓",'
        '"n":1.50,"big":12345678901234567890,"e":1e3}}'
    ).encode(),
    b'{"jsonrpc":"2.0","method":"$/progress","params":{"token":"t\\u00f6k","value":{"kind":"end"}}}',
]


class Recorder:
    def __init__(self) -> None:
        # Both files stay open for the life of the process: every byte is flushed as it goes.
        inp, out = os.environ.get("RECORDER_IN"), os.environ.get("RECORDER_OUT")
        self.inp = open(inp, "ab") if inp else None  # noqa: SIM115
        self.out = open(out, "ab") if out else None  # noqa: SIM115
        self.buffer = b""
        self.sent = 0

    def write(self, body: bytes, *, content_type: bool = False) -> None:
        self.sent += 1
        header = b"Content-Length: %d\r\n" % len(body)
        frame = header + (CONTENT_TYPE if content_type else b"") + b"\r\n" + body
        if self.out:
            self.out.write(frame)
            self.out.flush()
        view = memoryview(frame)
        while view:
            view = view[os.write(1, view) :]

    def frames(self, chunk: bytes) -> list[bytes]:
        if self.inp:
            self.inp.write(chunk)
            self.inp.flush()
        self.buffer += chunk
        bodies: list[bytes] = []
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return bodies
            length = None
            for line in self.buffer[:end].split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    try:
                        length = int(value.strip())
                    except ValueError:
                        length = None
            if length is None or length < 0:
                self.buffer = self.buffer[end + 4 :]  # a broken header block: skip it
                continue
            if len(self.buffer) < end + 4 + length:
                return bodies
            bodies.append(self.buffer[end + 4 : end + 4 + length])
            self.buffer = self.buffer[end + 4 + length :]

    def handle(self, body: bytes) -> None:
        try:
            message: Any = json.loads(body)
        except ValueError:
            return
        if not isinstance(message, dict):
            return
        method, ident = message.get("method"), message.get("id")
        if method == "exit":
            sys.exit(int(os.environ.get("RECORDER_EXIT_CODE", "0")))
        if method == "initialized":
            for index, scripted in enumerate(AFTER_INITIALIZED):
                self.write(scripted, content_type=index % 2 == 0)
            return
        if not isinstance(method, str) or isinstance(ident, bool):
            return
        if not isinstance(ident, int | str):
            return
        raw_id = json.dumps(ident)
        if method == "initialize":
            result = '{"capabilities":{"definitionProvider":true},"serverInfo":{"name":"raw"}}'
            body = b'{"jsonrpc":"2.0","id":%s,"result":%s}' % (raw_id.encode(), result.encode())
            self.write(body)
        elif method == "shutdown":
            self.write(b'{"jsonrpc":"2.0","id":%s,"result":null}' % raw_id.encode())
        elif method == "test/pid":
            self.write(b'{"jsonrpc":"2.0","id":%s,"result":%d}' % (raw_id.encode(), os.getpid()))
        elif method == "test/big":
            big = b"x" * 1_000_000
            self.write(b'{"jsonrpc":"2.0","id":%s,"result":"%s"}' % (raw_id.encode(), big))
        else:
            self.write((RESULT_TEMPLATE % raw_id).encode(), content_type=True)


def main() -> int:
    stubborn = os.environ.get("RECORDER_STUBBORN") == "1"
    if stubborn:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    recorder = Recorder()
    while True:
        chunk = os.read(0, 1 << 16)
        if not chunk:
            break
        for body in recorder.frames(chunk):
            recorder.handle(body)
    while stubborn:
        time.sleep(0.1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
