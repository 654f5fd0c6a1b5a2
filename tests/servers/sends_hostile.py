"""A raw stdio LSP server (no pygls) that sends hostile frames and records every byte.

Environment: RECORDER_IN — file that receives every byte read on stdin; RECORDER_OUT — file that
receives every byte written on stdout.

It answers `initialize` and `shutdown`, exits on `exit`, and answers `test/echo` with
`{"echo": params.n}` — but first sends `params.hostile` hostile frames of its own (bodies from
hostile.py, seeded with `params.seed`, so a run replays); `test/send` first sends the bodies in
`params.bodies` (strings), one frame each. Every other request whose id the
standard library's json parser reads as an int or a string is answered `null` (hostile requests
included: the proxy never waits on them), except a definition on a `file:///fuzz/` document,
which gets a location; everything else is ignored. A body the parser cannot
read (too deep, not UTF-8, not JSON) is ignored the same way.
"""

from __future__ import annotations

import json
import os
import random
import sys
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from hostile import frame, hostile


class Server:
    def __init__(self) -> None:
        inp, out = os.environ.get("RECORDER_IN"), os.environ.get("RECORDER_OUT")
        # Both files stay open for the life of the process: every byte is flushed as it goes.
        self.inp = open(inp, "ab") if inp else None  # noqa: SIM115
        self.out = open(out, "ab") if out else None  # noqa: SIM115
        self.buffer = b""

    def write(self, body: bytes) -> None:
        data = frame(body)
        if self.out:
            self.out.write(data)
            self.out.flush()
        view = memoryview(data)
        while view:
            view = view[os.write(1, view) :]

    def answer(self, ident: Any, result: Any) -> None:
        self.write(json.dumps({"jsonrpc": "2.0", "id": ident, "result": result}).encode())

    def bodies(self, chunk: bytes) -> list[bytes]:
        if self.inp:
            self.inp.write(chunk)
            self.inp.flush()
        self.buffer += chunk
        found: list[bytes] = []
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            length = None
            for line in self.buffer[:end].split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length" and value.strip().isdigit():
                    length = int(value.strip())
            if length is None:
                self.buffer = self.buffer[end + 4 :]
                continue
            if len(self.buffer) < end + 4 + length:
                break
            found.append(self.buffer[end + 4 : end + 4 + length])
            self.buffer = self.buffer[end + 4 + length :]
        return found

    @staticmethod
    def opened_requests(message: dict[str, Any]) -> tuple[Any, ...]:
        """The id of a well-formed definition request on a file:///fuzz/ document, if it is."""
        params = message.get("params")
        doc = params.get("textDocument") if isinstance(params, dict) else None
        uri = doc.get("uri") if isinstance(doc, dict) else None
        ok = isinstance(uri, str) and uri.startswith("file:///fuzz/")
        return (message.get("id"),) if ok else ()

    def handle(self, body: bytes) -> None:
        try:
            message = json.loads(body)
        except (ValueError, RecursionError):
            return
        if not isinstance(message, dict):
            return
        method, ident = message.get("method"), message.get("id")
        if method == "exit" and "id" not in message:
            sys.exit(0)
        if not isinstance(ident, int | str) or isinstance(ident, bool) or "method" not in message:
            return
        if method == "initialize":
            self.answer(ident, {"capabilities": {"definitionProvider": True}})
        elif method == "test/send" and isinstance(message.get("params"), dict):
            for body in message["params"].get("bodies", []):  # exactly these, then the answer
                self.write(body.encode("utf-8", "surrogatepass"))
            self.answer(ident, "sent")
        elif method == "test/echo" and isinstance(message.get("params"), dict):
            params = message["params"]
            rng = random.Random(params.get("seed"))
            for _ in range(int(params.get("hostile", 0))):
                self.write(hostile(rng)[1])
            self.answer(ident, {"echo": params.get("n")})
        elif method == "textDocument/definition" and ident in self.opened_requests(message):
            where = {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 1}}
            self.answer(ident, {"uri": message["params"]["textDocument"]["uri"], "range": where})
        else:
            self.answer(ident, None)


def main() -> int:
    server = Server()
    while chunk := os.read(0, 1 << 16):
        for body in server.bodies(chunk):
            server.handle(body)
    return 0


if __name__ == "__main__":
    sys.exit(main())
