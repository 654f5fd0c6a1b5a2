"""Where the microseconds go on a small tracked request inside the proxy, stage by stage.

Run from the repository root with the project's interpreter:

    .venv/bin/python benchmarks/bench_stages.py            # ~10 s
    .venv/bin/python benchmarks/bench_stages.py --rounds 20000

In one process, without pipes: the proxy's Router (proxy/routing.py) with a real graph store
(a temporary database, its writer thread) takes a ``textDocument/definition`` on a small open
document and its one-location answer, ``--rounds`` times — what the proxy's event loop does
for one tracked round trip, minus reading and writing the pipes (bench_latency.py measures
those, end to end, against a naive relay). Each stage is timed exclusive of the stages it
calls, in the loop thread's CPU time (waiting for the GIL or a core is not counted: the
machine is shared), minus the timer's own cost (calibrated on an empty function):

- peek: ``messages.peek`` (``id`` and ``method`` of every frame, both ways);
- decode: ``messages.decode`` (the request's params, the answer's result);
- key: ``Documents.symbol_at`` (the identifier at the request's and the answer's positions);
- tracker: ``FailureTracker.check`` / ``get`` (backing off or not);
- request table: ``RequestTable`` (sent, answered);
- recording: ``Outcomes.response`` and the content hash (what the answer becomes as rows);
- store enqueue: ``GraphStore._put`` (the writer thread's work is not on this path);
- routing: the rest of ``Router.from_client``/``from_server``/``drain``.

The writer thread's CPU (SQLite) is printed apart: it is not on the path. A script, not a
test: it prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lsp_backoff.proxy import messages
from lsp_backoff.proxy.config import ProxyConfig
from lsp_backoff.proxy.core import Core
from lsp_backoff.proxy.documents import Documents
from lsp_backoff.proxy.framing import Frame, FrameParser, encode
from lsp_backoff.proxy.outcomes import Outcomes
from lsp_backoff.proxy.requests import RequestTable
from lsp_backoff.proxy.routing import Router
from lsp_backoff.proxy.text import Text
from lsp_backoff.tracker.failures import FailureTracker
from lsp_backoff.tracker.store import GraphStore

URI = "file:///bench/small.py"
TEXT = "".join(f"def name_{i}(x):\n    return name_{i - 1}(x) + {i}\n" for i in range(200))

_spent: dict[str, int] = {}
_calls: dict[str, int] = {}
_stack: list[int] = []  # time spent in timed children of each open stage


def timed(stage: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _stack.append(0)
        start = time.thread_time_ns()
        try:
            return fn(*args, **kwargs)
        finally:
            took = time.thread_time_ns() - start
            children = _stack.pop()
            _spent[stage] = _spent.get(stage, 0) + took - children
            _calls[stage] = _calls.get(stage, 0) + 1
            if _stack:
                _stack[-1] += took

    return wrapper


def instrument() -> None:
    messages.peek = timed("peek", messages.peek)  # type: ignore[assignment]
    messages.decode = timed("decode", messages.decode)  # type: ignore[assignment]
    Documents.symbol_at = timed("key", Documents.symbol_at)  # type: ignore[method-assign]
    FailureTracker.check = timed("tracker", FailureTracker.check)  # type: ignore[method-assign]
    FailureTracker.get = timed("tracker", FailureTracker.get)  # type: ignore[method-assign]
    for name in ("sent", "answer", "forwarded", "leader_for"):
        setattr(RequestTable, name, timed("request table", getattr(RequestTable, name)))
    Outcomes.response = timed("recording", Outcomes.response)  # type: ignore[method-assign]
    Text.version = timed("recording", Text.version)  # type: ignore[method-assign]
    GraphStore._put = timed("store enqueue", GraphStore._put)  # type: ignore[method-assign]


def framed(message: dict[str, Any]) -> Frame:
    (item,) = FrameParser().feed(encode(json.dumps(message).encode()))
    assert isinstance(item, Frame)
    return item


def thread_cpu_ns() -> dict[int, int]:
    out = {}
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/schedstat") as f:
                out[int(task)] = int(f.read().split()[0])
        except (OSError, ValueError):
            continue
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="Stage-by-stage cost of a small tracked request.")
    p.add_argument("--rounds", type=int, default=5000)
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="lsp-backoff-stages-") as tmp:
        store = GraphStore(Path(tmp) / "graph.db")
        store.start()
        router = Router(Core(ProxyConfig(), sink=store), Documents(), timeout=30)  # type: ignore[arg-type]
        opened = {"uri": URI, "languageId": "python", "version": 1, "text": TEXT}
        router.from_client(
            framed(
                {
                    "jsonrpc": "2.0",
                    "method": "textDocument/didOpen",
                    "params": {"textDocument": opened},
                }
            )
        )
        router.drain()

        def round_trip(n: int) -> None:
            line = 2 * (n % 200)
            at = {"line": line, "character": 6}
            req = framed(
                {
                    "jsonrpc": "2.0",
                    "id": n,
                    "method": "textDocument/definition",
                    "params": {"textDocument": {"uri": URI}, "position": at},
                }
            )
            loc = {
                "uri": URI,
                "range": {
                    "start": {"line": line + 1, "character": 11},
                    "end": {"line": line + 1, "character": 15},
                },
            }
            answer = framed({"jsonrpc": "2.0", "id": n, "result": [loc]})
            router.from_client(req)
            router.drain()
            router.from_server(answer)
            router.drain()

        for n in range(1, 501):  # warm-up: every symbol seen once
            round_trip(n)
        store.flush(30)
        instrument()
        noop = timed("calibration", lambda: None)
        for _ in range(20000):
            noop()
        overhead = _spent.pop("calibration") / _calls.pop("calibration")
        _spent.clear()
        _calls.clear()
        gc.collect()
        before_threads = thread_cpu_ns()
        main_tid = next(t for t in before_threads if t == os.getpid())
        start = time.thread_time_ns()
        for n in range(501, 501 + args.rounds):
            round_trip(n)
        total = time.thread_time_ns() - start
        store.flush(60)
        after_threads = thread_cpu_ns()
        store.close()
    writer = sum(after_threads.get(t, 0) - v for t, v in before_threads.items() if t != main_tid)
    rounds = args.rounds
    print(
        f"lsp-backoff stage profile — {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} — "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    print(f"{rounds} tracked round trips (definition + one-location answer, database on)\n")
    print(f"  {'stage':<15}{'µs/round trip':>14}{'calls/rt':>10}")
    timed_total = 0.0
    for stage in (
        "peek",
        "decode",
        "key",
        "tracker",
        "request table",
        "recording",
        "store enqueue",
    ):
        calls = _calls.get(stage, 0) / rounds
        us = (_spent.get(stage, 0) / rounds - calls * overhead) / 1e3
        timed_total += us
        print(f"  {stage:<15}{us:>14.2f}{calls:>10.1f}")
    calls_all = sum(_calls.values()) / rounds
    whole = (total / rounds - calls_all * overhead) / 1e3
    print(f"  {'routing':<15}{whole - timed_total:>14.2f}")
    print(f"  {'total':<15}{whole:>14.2f}")
    print(
        f"\n  writer thread (SQLite, off the path): {writer / rounds / 1e3:.1f} µs CPU/round trip"
    )
    print(f"  (timer overhead {overhead:.0f} ns per timed call, subtracted)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
