"""A minimal, fast raw-stdio LSP server for the latency benchmark.

It exists so the benchmark measures the proxy, not the server: framing is done by hand on
chunked ``os.read`` calls, the benchmark's own requests are recognised by an anchored regex on
the first bytes of the body (no JSON decoding of a 1 MB pad), and the answers are prebuilt bytes.
Standard library only, so it starts fast and runs under any Python 3.11.

Requests it understands:
- ``bench/echo`` with params ``{"reply": N, "pad": "..."}`` (``reply`` first): answers a result
  string of N bytes (``""`` for 0). The pad makes the request large, ``reply`` the response.
- ``bench/parse``: the same answer, but the body is decoded with ``json.loads`` and the answer
  encoded with ``json.dumps``, as a real server would, for the "endpoints parse JSON" figures.
- ``textDocument/definition``: answers ``--locations`` Location objects (default 50), distinct
  targets per request, so a proxy with a database records that many edges per request.
- ``textDocument/implementation``: an error, always (a symbol the proxy then backs off from:
  bench_latency.py times its short-circuited answers).
- ``initialize`` (minimal capabilities), ``shutdown`` (null); any other request: null.
Notifications are read and ignored; ``exit`` ends the process (status 0 after ``shutdown``,
else 1, as the spec says). It does not validate anything: it is a benchmark fixture.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys

# Matches the prefix the benchmark client always writes; anything else takes the json path.
FAST = re.compile(rb'\{"jsonrpc":"2\.0","id":(\d+),"method":"bench/echo","params":\{"reply":(\d+)')
HEADER_END = b"\r\n\r\n"


def frame(body: bytes) -> list[bytes]:
    return [b"Content-Length: %d\r\n\r\n" % len(body), body]


def write_all(parts: list[bytes]) -> None:
    # os.writev may write partially on a pipe; loop until every byte is out.
    pending = [memoryview(p) for p in parts if p]
    while pending:
        n = os.writev(1, pending)
        while pending and n >= len(pending[0]):
            n -= len(pending[0])
            pending.pop(0)
        if pending and n:
            pending[0] = pending[0][n:]


class EchoServer:
    def __init__(self, locations: int) -> None:
        self.locations = locations
        self.payloads: dict[int, bytes] = {}
        self.shutdown = False
        self.calls = 0

    def echo(self, msg_id: bytes, reply: int) -> bytes:
        payload = self.payloads.get(reply)
        if payload is None:
            payload = self.payloads[reply] = b'"' + b"x" * reply + b'"'
        return b'{"jsonrpc":"2.0","id":' + msg_id + b',"result":' + payload + b"}"

    def definition(self, params: dict[str, object]) -> object:
        # Distinct targets per call so every request writes fresh rows, like a real index.
        self.calls += 1
        base = self.calls * self.locations
        return [
            {
                "uri": f"file:///bench/target_{(base + k) % 997}.py",
                "range": {
                    "start": {"line": (base + k) % 5000, "character": 4},
                    "end": {"line": (base + k) % 5000, "character": 12},
                },
            }
            for k in range(self.locations)
        ]

    def handle(self, body: bytes) -> tuple[list[bytes] | None, bool]:
        """Return (frame to write or None, whether to exit)."""
        m = FAST.match(body)
        if m:
            return frame(self.echo(m.group(1), int(m.group(2)))), False
        try:
            msg = json.loads(body)
        except ValueError:
            return None, False
        if not isinstance(msg, dict):
            return None, False
        method = msg.get("method")
        if method == "exit":
            return None, True
        if "id" not in msg or method is None:
            return None, False  # a notification or a response: nothing to answer
        result: object = None
        if method == "initialize":
            result = {
                "capabilities": {"textDocumentSync": 1, "definitionProvider": True},
                "serverInfo": {"name": "bench-echo", "version": "1"},
            }
        elif method == "shutdown":
            self.shutdown = True
        elif method == "textDocument/definition":
            result = self.definition(msg.get("params") or {})
        elif method == "textDocument/implementation":
            error = {"code": -32603, "message": "bench: fails on purpose"}
            out = json.dumps({"jsonrpc": "2.0", "id": msg["id"], "error": error}).encode()
            return frame(out), False
        elif method == "bench/echo":
            reply = int((msg.get("params") or {}).get("reply", 0))
            out = self.echo(json.dumps(msg["id"]).encode(), reply)
            return frame(out), False
        elif method == "bench/parse":
            # Like a real server: the whole body was decoded above, the answer is encoded here.
            result = "x" * int((msg.get("params") or {}).get("reply", 0))
        out = json.dumps({"jsonrpc": "2.0", "id": msg["id"], "result": result}).encode()
        return frame(out), False

    def run(self) -> int:
        buf = bytearray()
        need = -1  # body length of the frame being read, -1 while reading headers
        start = 0
        while True:
            chunk = os.read(0, 1 << 20)
            if not chunk:
                return 0 if self.shutdown else 1
            buf += chunk
            while True:
                if need < 0:
                    end = buf.find(HEADER_END)
                    if end < 0:
                        break
                    need = -1
                    for line in bytes(buf[:end]).split(b"\r\n"):
                        name, _, value = line.partition(b":")
                        if name.strip().lower() == b"content-length":
                            need = int(value)
                    start = end + 4
                    if need < 0:  # no length: drop the header block and resynchronise
                        del buf[:start]
                        continue
                if len(buf) - start < need:
                    break
                body = bytes(buf[start : start + need])
                del buf[: start + need]
                need = -1
                out, stop = self.handle(body)
                if out is not None:
                    write_all(out)
                if stop:
                    return 0 if self.shutdown else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--locations", type=int, default=50, help="Locations per definition")
    args = parser.parse_args(argv)
    return EchoServer(args.locations).run()


if __name__ == "__main__":
    sys.exit(main())
