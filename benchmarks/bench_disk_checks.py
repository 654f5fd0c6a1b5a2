"""What checking the disk cache costs (issue 28): tracked requests on an unopened file.

Run from the repository root with the project's interpreter:

    .venv/bin/python benchmarks/bench_disk_checks.py             # ~30 s
    .venv/bin/python benchmarks/bench_disk_checks.py --code DIR  # and DIR's proxy alongside

One ``python -m lsp_backoff --no-db`` in front of the echo server (benchmarks/echo_server.py,
one location per definition). Rounds alternate between ``definition`` requests on a document
the client opened (keyed from the open text: no check) and on a file it never opened (keyed
from the disk cache: since issue 28, one stat in a worker per request), each sent alone and
waited for, then in bursts of ``--burst`` sent at once (one check serves the burst). ``--code
DIR`` (repeatable) measures another checkout's proxy in the same run, interleaved (``git archive
4dce3f1 | tar -x -C DIR`` for the code before the checks). A script, not a test: it prints
figures and asserts nothing about them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

from bench_client import ECHO, Session, pct


def definition(s: Session, uri: str) -> tuple[int, bytes]:
    return s.request_body(
        "textDocument/definition",
        {"textDocument": {"uri": uri}, "position": {"line": 0, "character": 1}},
    )


def alone(s: Session, uri: str, n: int) -> list[float]:
    return [s.roundtrip(*definition(s, uri))[0] / 1000 for _ in range(n)]


def burst(s: Session, uri: str, k: int) -> float:
    """Microseconds from the first request of a burst sent to its last answer received."""
    ids = set()
    t0 = time.perf_counter_ns()
    for _ in range(k):
        msg_id, body = definition(s, uri)
        ids.add(msg_id)
        s.send(body)
    while ids:
        answer = json.loads(s.receive())
        ids.discard(answer.get("id"))
    return (time.perf_counter_ns() - t0) / 1000


def proxy_cmd(code: str | None) -> list[str]:
    """The proxy in front of the echo server, running this checkout's code or ``code``'s."""
    if code is None:
        return [sys.executable, "-m", "lsp_backoff", "--no-db", "--"]
    # Ahead of the project's own editable install, which a PYTHONPATH entry is not.
    start = (
        "import runpy, sys; sys.meta_path[:] = [f for f in sys.meta_path"
        f" if '__editable__' not in repr(f)]; sys.path.insert(0, {code!r});"
        " runpy.run_module('lsp_backoff', run_name='__main__', alter_sys=True)"
    )
    return [sys.executable, "-c", start, "--no-db", "--"]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=10)
    p.add_argument("--requests", type=int, default=200, help="requests sent alone per round")
    p.add_argument("--burst", type=int, default=50)
    p.add_argument("--code", action="append", default=[], help="another checkout to compare")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        opened, unopened = work / "opened.py", work / "unopened.py"
        for path in (opened, unopened):
            path.write_text("value = 1\n" * 200)
        item = {"uri": opened.as_uri(), "languageId": "python", "version": 1}
        sessions: dict[str, Session] = {}
        for code in [None, *args.code]:
            name = "this" if code is None else Path(code).name
            cmd = [*proxy_cmd(code), sys.executable, ECHO, "--locations", "1"]
            s = sessions[name] = Session(name, cmd, work)
            s.initialize()
            s.notify("textDocument/didOpen", {"textDocument": {**item, "text": opened.read_text()}})
            alone(s, unopened.as_uri(), 5)  # the first read, and warm-up
        runs = [(name, doc) for name in sessions for doc in ("open", "unopened")]
        times: dict[tuple[str, str], list[float]] = {run: [] for run in runs}
        bursts: dict[tuple[str, str], list[float]] = {run: [] for run in runs}
        for r in range(args.rounds):
            for name, doc in runs[r % len(runs) :] + runs[: r % len(runs)]:
                uri = (opened if doc == "open" else unopened).as_uri()
                times[name, doc] += alone(sessions[name], uri, args.requests)
                bursts[name, doc].append(burst(sessions[name], uri, args.burst))
        for s in sessions.values():
            s.close()
    print(f"load {os.getloadavg()[0]:.1f}; µs per request sent alone, per burst of {args.burst}")
    print(f"{'proxy':<12}{'document':<10}{'p50':>8}{'p90':>8}{'p99':>8}{'burst p50':>11}")
    for name, doc in runs:
        t = times[name, doc]
        print(
            f"{name:<12}{doc:<10}{pct(t, 0.5):>8.0f}{pct(t, 0.9):>8.0f}{pct(t, 0.99):>8.0f}"
            f"{median(bursts[name, doc]):>11.0f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
