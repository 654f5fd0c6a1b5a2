"""The benchmark's side of the pipes: an LSP client over blocking pipes, and the workloads.

Used by bench_latency.py. Framing is done by hand on chunked ``os.read`` calls and requests are
prebuilt bytes, so the client's own cost stays small and the same for every configuration.
Each workload returns latencies; nothing here prints or decides anything.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from statistics import median
from typing import Any, TypeVar

T = TypeVar("T")
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ECHO = str(HERE / "echo_server.py")
RELAY = str(HERE / "naive_relay.py")
MB = 1_000_000
LENGTH = re.compile(rb"Content-Length: (\d+)\r\n\r\n")
RESPONSE_ID = re.compile(rb'"id":\s*(\d+)')
# (result key, 1 MB in the request rather than the reply, endpoints decode JSON, title)
LARGE = [
    ("up_ms", True, False, "1 MB request, tiny reply (ms) — raw endpoints"),
    ("down_ms", False, False, "Small request, 1 MB reply (ms) — raw endpoints"),
    ("up_parse_ms", True, True, "1 MB request, tiny reply (ms) — endpoints decode JSON"),
    ("down_parse_ms", False, True, "Small request, 1 MB reply (ms) — endpoints decode JSON"),
]


class SessionDied(RuntimeError):
    pass


class Session:
    """One client connection over pipes: blocking writes, chunked reads, its own framing."""

    def __init__(self, name: str, cmd: list[str], workdir: Path) -> None:
        self.name = name
        self.stderr_path = workdir / f"{name.replace(' ', '_')}.stderr"
        self.stderr = self.stderr_path.open("wb")
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            bufsize=0,
            cwd=ROOT,
        )
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.wfile = self.proc.stdin
        self.wfd = self.proc.stdin.fileno()
        self.rfd = self.proc.stdout.fileno()
        self.buf = bytearray()
        self.next_id = 0
        self.defs_sent = 0

    def send(self, body: bytes) -> None:
        pending = [memoryview(b"Content-Length: %d\r\n\r\n" % len(body)), memoryview(body)]
        while pending:
            n = os.writev(self.wfd, pending)
            while pending and n >= len(pending[0]):
                n -= len(pending[0])
                pending.pop(0)
            if pending and n:
                pending[0] = pending[0][n:]

    def receive(self) -> bytes:
        buf = self.buf
        while True:
            m = LENGTH.match(buf)
            if m is None and b"\r\n\r\n" in buf:
                raise SessionDied(f"{self.name}: unexpected header {bytes(buf[:80])!r}")
            if m is not None:
                end = m.end() + int(m.group(1))
                while len(buf) < end:
                    self._fill()
                body = bytes(buf[m.end() : end])
                del buf[:end]
                return body
            self._fill()

    def _fill(self) -> None:
        chunk = os.read(self.rfd, 1 << 20)
        if not chunk:
            tail = self.stderr_path.read_bytes()[-2000:].decode(errors="replace")
            raise SessionDied(f"{self.name}: the other side closed its stdout\n{tail}")
        self.buf += chunk

    def request_body(self, method: str, params: object) -> tuple[int, bytes]:
        self.next_id += 1
        msg = {"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params}
        return self.next_id, json.dumps(msg, separators=(",", ":")).encode()

    def echo_body(
        self, reply: int, pad: bytes = b"", method: bytes = b"bench/echo"
    ) -> tuple[int, bytes]:
        # Field order matters: echo_server.py's fast path matches this exact prefix.
        self.next_id += 1
        head = b'{"jsonrpc":"2.0","id":%d,"method":"%s","params":{"reply":%d,"pad":"'
        return self.next_id, head % (self.next_id, method, reply) + pad + b'"}}'

    def roundtrip(self, msg_id: int, body: bytes) -> tuple[int, bytes]:
        """Send a request, wait for its response; (nanoseconds, response body)."""
        t0 = time.perf_counter_ns()
        self.send(body)
        while True:
            answer = self.receive()
            m = RESPONSE_ID.search(answer, 0, 200)
            if m is not None and int(m.group(1)) == msg_id and b'"method"' not in answer[:200]:
                return time.perf_counter_ns() - t0, answer

    def call(self, method: str, params: object = None) -> object:
        msg_id, body = self.request_body(method, params)
        return json.loads(self.roundtrip(msg_id, body)[1]).get("result")

    def notify(self, method: str, params: object) -> None:
        self.send(json.dumps({"jsonrpc": "2.0", "method": method, "params": params}).encode())

    def initialize(self) -> None:
        self.call(
            "initialize", {"processId": os.getpid(), "rootUri": "file:///bench", "capabilities": {}}
        )
        self.notify("initialized", {})

    def close(self) -> int | None:
        try:
            self.call("shutdown")
            self.notify("exit", None)
            self.wfile.close()
            return self.proc.wait(timeout=10)
        except (SessionDied, OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            return self.proc.wait()
        finally:
            self.stderr.close()


class Watchdog:
    """Kills every session if no batch finishes for `limit` seconds, so nothing hangs forever."""

    def __init__(self, limit: float) -> None:
        self.limit = limit
        self.last = time.monotonic()
        self.sessions: list[Session] = []
        self.fired = False
        threading.Thread(target=self._watch, daemon=True).start()

    def tick(self) -> None:
        self.last = time.monotonic()

    def _watch(self) -> None:
        while not self.fired:
            time.sleep(0.5)
            if time.monotonic() - self.last > self.limit:
                self.fired = True
                for s in self.sessions:
                    s.proc.kill()


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def small_batch(s: Session, n: int) -> list[float]:
    out = []
    for _ in range(n):
        msg_id, body = s.echo_body(0)
        out.append(s.roundtrip(msg_id, body)[0] / 1e3)
    return out


def large_batch(s: Session, m: int, up: bool, parse: bool) -> list[float]:
    """1 MB up (request) or down (reply); with `parse`, both ends decode the whole body."""
    pad = b"x" * MB
    method = b"bench/parse" if parse else b"bench/echo"
    out = []
    for _ in range(m):
        # The 1 MB body is built before the clock starts; only the round trip is timed.
        msg_id, body = s.echo_body(0, pad, method) if up else s.echo_body(MB, b"", method)
        t0 = time.perf_counter_ns()
        answer = s.roundtrip(msg_id, body)[1]
        if parse:
            json.loads(answer)  # as a real client would
        ns = time.perf_counter_ns() - t0
        if not up and len(answer) < MB:
            raise SessionDied(f"{s.name}: short 1 MB answer ({len(answer)} bytes)")
        out.append(ns / 1e6)
    return out


def writes_batch(s: Session, seconds: float, def_rate: float, lines: int) -> dict[str, list[float]]:
    """Definitions at `def_rate`/s, small pings in between; latencies in µs. A batch has at
    least one of each (one ping, and one definition when `def_rate` > 0): on a loaded machine
    every definition can take longer than the interval, and a round without a ping has no
    median to compare."""
    pings: list[float] = []
    defs: list[float] = []
    interval = 1.0 / def_rate if def_rate > 0 else float("inf")
    start = time.perf_counter()
    next_def = start if def_rate > 0 else float("inf")

    def more() -> bool:
        return time.perf_counter() - start < seconds or not pings or (def_rate > 0 and not defs)

    while more():
        now = time.perf_counter()
        if now >= next_def and not (defs and not pings):
            # A new symbol per request (while lines last), so every edge is a new row.
            line = s.defs_sent % lines
            s.defs_sent += 1
            msg_id, body = s.request_body(
                "textDocument/definition",
                {
                    "textDocument": {"uri": "file:///bench/source.py"},
                    "position": {"line": line, "character": 2},
                },
            )
            defs.append(s.roundtrip(msg_id, body)[0] / 1e3)
            next_def += interval
        else:
            msg_id, body = s.echo_body(0)
            pings.append(s.roundtrip(msg_id, body)[0] / 1e3)
    return {"ping": pings, "def": defs, "seconds": [time.perf_counter() - start]}


def interleave(
    sessions: list[Session], rounds: int, run: Callable[[Session], T], dog: Watchdog
) -> dict[str, list[T]]:
    """Run `run` on every session each round, rotating the order; per-session list of results."""
    results: dict[str, list[T]] = {s.name: [] for s in sessions}
    for r in range(rounds):
        k = r % len(sessions)
        for s in sessions[k:] + sessions[:k]:
            results[s.name].append(run(s))
            dog.tick()
    return results


def summarize(per_round: list[list[float]]) -> dict[str, Any]:
    pooled = [v for batch in per_round for v in batch]
    return {
        "n": len(pooled),
        "median": median(pooled),
        "p90": pct(pooled, 0.9),
        "p99": pct(pooled, 0.99),
        "round_medians": [median(b) for b in per_round],
    }
