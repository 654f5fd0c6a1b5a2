"""Where `enrich --operation references` spends its time as a workspace grows (issue 21 item 6):
the work each `references` request gives the server, against the number of requests.

A references request makes basedpyright (pyright's reference finder) look at every file of the
program whose text contains the symbol's name, and walk the parse tree of each such file, binding
and evaluating the names it meets. So the work of one request grows with the number of files
that mention the name, and the work of a whole run with the sum of that over every symbol —
which grows faster than the code when names like `name`, `path` or `options` are shared by many
symbols across many files.

This script reads what `bench_scip.py --keep DIR` left (the copy, graph.db, runs.json) and
prints, per workspace: files, lines, symbols asked, the sum over symbols of the files whose text
contains the name as a word ("files walked", the server's work by the rule above) and of their
lines, next to enrich's wall and the servers' CPU from that run; then the ratios between two
workspaces. `--sample N` also times N references requests one at a time, straight to a fresh
basedpyright on the copy (no proxy), and prints the request's latency against the files its name
is in, as a check of the rule on this machine.

    .venv/bin/python benchmarks/bench_growth.py /tmp/scip-rich /tmp/scip-pip
    .venv/bin/python benchmarks/bench_growth.py /tmp/scip-pip --sample 200
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import sqlite3
import statistics
import sys
import time
from asyncio.subprocess import DEVNULL, PIPE
from collections import defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WORD = re.compile(r"[A-Za-z_][A-Za-z_0-9]*")


def symbols(db: Path) -> list[tuple[str, str, int, int]]:
    """(path, name, line, character) of every symbol enrich asked references about."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    rows = con.execute(
        "SELECT uri, name, line, character FROM symbols WHERE source = 'document_symbol'"
    ).fetchall()
    con.close()
    return [(unquote(urlparse(uri).path), name, line, ch) for uri, name, line, ch in rows]


def mentions(copy: Path) -> tuple[dict[str, set[str]], dict[str, int], int]:
    """word -> files containing it; file -> lines; total lines."""
    where: dict[str, set[str]] = defaultdict(set)
    lines: dict[str, int] = {}
    for path in copy.rglob("*.py"):
        if ".git" in path.parts:
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        key = str(path.resolve())
        lines[key] = text.count("\n")
        for word in set(WORD.findall(text)):
            where[word].add(key)
    return where, lines, sum(lines.values())


def name_of(name: str) -> str:
    found = WORD.search(name)  # `*args` -> args, a quoted __slots__ entry -> its word
    return found.group(0) if found else name


def workload(folder: Path) -> dict[str, Any]:
    copy = (folder / "copy").resolve()
    syms = symbols(folder / "graph.db")
    where, lines, total = mentions(copy)
    walked = [len(where.get(name_of(n), ())) for _, n, _, _ in syms]
    walked_lines = [sum(lines[f] for f in where.get(name_of(n), ())) for _, n, _, _ in syms]
    runs = json.loads((folder / "runs.json").read_text()) if (folder / "runs.json").exists() else {}
    enrich = runs.get("enrich") or {}
    return {
        "folder": str(folder),
        "files": len(lines),
        "lines": total,
        "symbols": len(syms),
        "files_walked": sum(walked),
        "lines_walked": sum(walked_lines),
        "files_walked_median": statistics.median(walked) if walked else 0,
        "files_walked_p90": sorted(walked)[int(len(walked) * 0.9)] if walked else 0,
        "enrich_wall": enrich.get("wall"),
        "enrich_cpu": enrich.get("cpu"),
        "scip_wall": (runs.get("indexer") or {}).get("wall"),
    }


async def sample_latency(folder: Path, n: int, seed: int) -> list[tuple[int, float]]:
    """(files mentioning the name, seconds) for n references requests sent one at a time."""
    from bench_enrich import ServerPipes

    from lsp_backoff.proxy.enrich.client import LspConnection
    from lsp_backoff.proxy.enrich.files import list_files

    copy = (folder / "copy").resolve()
    where, _, _ = mentions(copy)
    syms = symbols(folder / "graph.db")
    random.Random(seed).shuffle(syms)
    server = [str(ROOT / ".venv" / "bin" / "basedpyright-langserver"), "--stdio"]
    loop = asyncio.get_running_loop()
    conn = LspConnection(copy, 600.0)
    transport, _ = await loop.subprocess_exec(
        lambda: ServerPipes(conn),
        *server,
        stdin=PIPE,
        stdout=PIPE,
        stderr=DEVNULL,
        start_new_session=True,
    )
    conn.connect(transport.get_pipe_transport(0).write)
    await conn.initialize()
    files = list_files(copy)
    await conn.document_symbols(min(files, key=lambda p: p.stat().st_size).as_uri())
    await conn.workspace_listed(600.0)
    # Warm-up: the first request checks every file once; keep it out of the sample.
    path, _, line, ch = syms[0]
    await conn.locate("references", Path(path).as_uri(), line, ch)
    out, errors = [], []
    for path, name, line, ch in syms[1 : n + 1]:
        started = time.perf_counter()
        try:
            await conn.locate("references", Path(path).as_uri(), line, ch)
        except Exception as exc:  # an error answer: counted and printed, not timed
            errors.append(f"{name}: {exc}")
            continue
        out.append((len(where.get(name_of(name), ())), time.perf_counter() - started))
    print(f"{len(errors)} error answers of {n}" + (f", first: {errors[0]}" if errors else ""))
    await conn.shutdown(5.0)
    transport.get_pipe_transport(0).close()
    await conn.exited.wait()
    transport.close()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path, help="folders bench_scip.py --keep left")
    parser.add_argument("--sample", type=int, default=0, help="time N requests on the last folder")
    parser.add_argument("--seed", type=int, default=21)
    args = parser.parse_args()
    rows = [workload(f) for f in args.folders]
    for r in rows:
        print(json.dumps(r))
    if len(rows) >= 2:
        a, b = rows[0], rows[-1]
        for key in (
            "files",
            "lines",
            "symbols",
            "files_walked",
            "lines_walked",
            "enrich_wall",
            "enrich_cpu",
            "scip_wall",
        ):
            if a.get(key) and b.get(key):
                print(f"{key:14} x{b[key] / a[key]:.2f}")
    if args.sample:
        sys.path.insert(0, str(ROOT / "benchmarks"))
        got = asyncio.run(sample_latency(args.folders[-1], args.sample, args.seed))
        by_bucket: dict[str, list[float]] = defaultdict(list)
        for walked, seconds in got:
            bucket = next(f"<= {b}" for b in (1, 3, 10, 30, 100, 300, 10**9) if walked <= b)
            by_bucket[bucket].append(seconds)
        print("files mentioning the name -> references latency (ms), one request at a time")
        for bucket, values in sorted(by_bucket.items(), key=lambda kv: int(kv[0].split()[-1])):
            print(
                f"  {bucket:>12}: n={len(values):4}  median {statistics.median(values) * 1e3:8.1f}"
                f"  max {max(values) * 1e3:8.1f}"
            )
        xs, ys = [w for w, _ in got], [s for _, s in got]
        if len(set(xs)) > 1:
            print(
                f"  Pearson r(files, latency) = {statistics.correlation(xs, ys):.2f}; "
                f"slope {statistics.linear_regression(xs, ys).slope * 1e3:.2f} ms per file"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
