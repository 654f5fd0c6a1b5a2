"""The graph at monorepo scale (issue 11): write a big graph through the store, time the CLI on it.

    .venv/bin/python benchmarks/bench_graph.py                       # 1M symbols, ~10M edge rows
    .venv/bin/python benchmarks/bench_graph.py --symbols 20000       # a quick run
    .venv/bin/python benchmarks/bench_graph.py --no-v1               # skip the v1 migration

The graph is shaped like a real one: --documents files of equal share, --refs references per
symbol, an edge or a `none` (alternating) for implementation, incoming and outgoing calls, 5 % of
the symbols orphans (half of those backing off for implementation). It is written through
``GraphStore.put_*`` — the proxy's own write path — and the writer's edges/second is printed next
to the 12,000/s bench_latency drives through a proxy. Every other figure is measured on the CLI
run as a process (``python -m lsp_backoff …``, so process start is included), printed with the
command that reproduces it; ``--version`` gives the bare process start for comparison. With the
default --v1, a schema-1 file of the same shape (written with schema.sql's version-1 section) is
migrated by ``lsp-backoff migrate`` and its time and size printed. It asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shlex
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lsp_backoff.tracker import queries  # noqa: E402
from lsp_backoff.tracker.migrations import migrate  # noqa: E402
from lsp_backoff.tracker.model import FailureState, SymbolRef, Target  # noqa: E402
from lsp_backoff.tracker.store import GraphStore  # noqa: E402

CLI = [sys.executable, "-m", "lsp_backoff"]
ECHO = [sys.executable, str(ROOT / "benchmarks" / "echo_server.py")]
OTHERS = ("implementation", "incoming_calls", "outgoing_calls")
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
NOW = 1_800_000_000.0  # failures back off until after any run of this script


def uri(doc: int) -> str:
    return f"file:///mono/pkg{doc // 100:03d}/module_{doc:05d}.py"


def version(doc: int) -> str:
    return f"{doc * 2654435761 % 2**64:016x}"


def symbols_of(doc: int, per_doc: int, first: int) -> list[SymbolRef]:
    u, v = uri(doc), version(doc)
    out = []
    for i in range(per_doc):
        line, name = 10 + i * 7, f"name_{first + i}"
        out.append(SymbolRef(f"{u}#{line}:4:{name}", u, name, line, 4, 12, v))
    return out


class Shape:
    def __init__(self, symbols: int, documents: int, refs: int, orphans: float) -> None:
        self.documents = min(documents, symbols)
        self.per_doc = max(1, symbols // self.documents)
        self.symbols = self.per_doc * self.documents
        self.refs = refs
        self.orphan_every = round(1 / orphans) if orphans else 0

    def is_orphan(self, n: int) -> bool:
        return bool(self.orphan_every) and n % self.orphan_every == 0

    def targets(self, rng: random.Random, count: int) -> list[Target]:
        return [
            Target(uri(rng.randrange(self.documents)), rng.randrange(5000), rng.randrange(80))
            for _ in range(count)
        ]


def write_fresh(path: Path, shape: Shape) -> dict[str, float]:
    """Write the graph through GraphStore; return counts and the writer's rate."""
    store = GraphStore(path, queue_size=1_000_000)
    store.start()
    rng = random.Random(11)
    rows = 0
    started = time.perf_counter()
    for doc in range(shape.documents):
        syms = symbols_of(doc, shape.per_doc, doc * shape.per_doc)
        store.put_document(uri(doc), version(doc))
        store.put_symbols(syms, "document_symbol")
        for s in syms:
            n = int(s.name.rsplit("_", 1)[1])
            if shape.is_orphan(n):
                if (n // shape.orphan_every) % 2:
                    fail = FailureState(s.key, s.document, "implementation", 1, 0, NOW + 3600)
                    fail.version = s.version
                    store.put_failure(fail)
                continue
            store.put_edges(s, "references", shape.targets(rng, shape.refs))
            rows += shape.refs
            for k, op in enumerate(OTHERS):
                if (n + k) % 2:
                    store.put_edges(s, op, shape.targets(rng, 1))
                else:
                    store.put_placeholder(s, op, "none")
                rows += 1
        if doc % 20 == 19:
            store.flush(timeout=600)  # bounded queue in the proxy: keep this one bounded too
    store.flush(timeout=3600)
    elapsed = time.perf_counter() - started
    store.close(timeout=600)
    checkpoint(path)
    return {"edge_rows": rows, "seconds": elapsed, "edges_per_s": rows / elapsed}


def checkpoint(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()


def size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))


def write_v1(path: Path, shape: Shape) -> int:
    """The same graph in schema 1, rows inserted as 0.1's store wrote them."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    migrate(conn, str(path), target=1)
    rng = random.Random(11)
    rows = 0
    conn.execute("BEGIN")
    for doc in range(shape.documents):
        syms = symbols_of(doc, shape.per_doc, doc * shape.per_doc)
        conn.execute("INSERT INTO documents VALUES (?, ?, ?)", (uri(doc), version(doc), NOW))
        conn.executemany(
            "INSERT INTO symbols VALUES (?, ?, ?, ?, ?, ?, ?, 'document_symbol', ?)",
            [
                (s.key, s.document, s.name, s.kind, s.line, s.character, s.version, NOW)
                for s in syms
            ],
        )
        edges = []
        for s in syms:
            n = int(s.name.rsplit("_", 1)[1])
            if shape.is_orphan(n):
                continue
            row = (s.key, s.document)
            for t in shape.targets(rng, shape.refs):
                edges.append((*row, "references", "edge", t.uri, t.line, t.character, s.version))
            for k, op in enumerate(OTHERS):
                if (n + k) % 2:
                    (t,) = shape.targets(rng, 1)
                    edges.append((*row, op, "edge", t.uri, t.line, t.character, s.version))
                else:
                    edges.append((*row, op, "none", None, None, None, s.version))
        conn.executemany(
            "INSERT INTO edges (symbol, document, operation, kind, target_uri, target_line, "
            "target_character, version, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)",
            edges,
        )
        rows += len(edges)
        if doc % 500 == 499:
            conn.execute("COMMIT")
            conn.execute("BEGIN")
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return rows


def cli(*args: str) -> list[str]:
    return [*CLI, *args]


def show(command: list[str]) -> str:
    shown = ["python", "-m", "lsp_backoff", *command[3:]]
    return " ".join(shlex.quote(c) for c in shown)


def timed(command: list[str], first: int | None = None) -> tuple[float, int]:
    """Seconds from spawn to the first ``first`` lines (all output when None), and lines read."""
    started = time.perf_counter()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, env=ENV, cwd=ROOT)
    assert proc.stdout is not None
    lines = 0
    for _ in proc.stdout:
        lines += 1
        if first is not None and lines >= first:
            break
    elapsed = time.perf_counter() - started
    proc.kill()
    proc.wait()
    return elapsed, lines


def best(command: list[str], first: int | None = None, runs: int = 3) -> tuple[float, int]:
    results = [timed(command, first) for _ in range(runs)]
    return min(results)


def frames(proc: subprocess.Popen[bytes]) -> Iterator[dict[str, object]]:
    assert proc.stdout is not None
    while True:
        length = 0
        while (line := proc.stdout.readline().strip()) != b"":
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        yield json.loads(proc.stdout.read(length))


def proxy_start(db: Path) -> tuple[float, float]:
    """Seconds from spawn to the initialize answer, and to the stored failure states applied."""
    command = [*CLI, "--db", str(db), "--log-level", "debug", "--", *ECHO]
    started = time.perf_counter()
    proc = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=ENV
    )
    restored = threading.Event()
    restored_at: list[float] = []

    def watch() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            if b"restored" in line and b"failure states" in line and not restored.is_set():
                restored_at.append(time.perf_counter() - started)
                restored.set()

    threading.Thread(target=watch, daemon=True).start()
    body = json.dumps(
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}}
    ).encode()
    assert proc.stdin is not None
    proc.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    proc.stdin.flush()
    next(frames(proc))
    answered = time.perf_counter() - started
    restored.wait(120)
    proc.kill()
    proc.wait()
    return answered, (restored_at or [float("nan")])[0]


def monitor_round(db: Path, operations: tuple[str, ...]) -> tuple[float, int]:
    conn = queries.connect(db)
    started = time.perf_counter()
    rows = queries.orphans(conn, operations=operations, uri_prefix="file:///mono/")
    elapsed = time.perf_counter() - started
    conn.close()
    return elapsed, len(rows)


def fill_half_the_orphans(db: Path, shape: Shape) -> None:
    conn = queries.connect(db)
    rows = queries.orphans(conn, operations=("references",))
    conn.close()
    store = GraphStore(db)
    store.start()
    for row in rows[::2]:
        doc = row["uri"]
        s = SymbolRef(row["symbol"], doc, row["name"], row["line"], row["character"], 12, None)
        v = conn_version(db, doc)
        s = SymbolRef(s.key, doc, s.name, s.line, s.character, 12, v)
        for op in ("references", *OTHERS):
            store.put_placeholder(s, op, "none")
    store.flush(timeout=600)
    store.close()


def conn_version(db: Path, doc: str) -> str | None:
    conn = sqlite3.connect(db)
    row = conn.execute("SELECT version FROM document WHERE uri = ?", (doc,)).fetchone()
    conn.close()
    return None if row is None else row[0]


def migration(work: Path, shape: Shape, fresh_size: int | None) -> None:
    v1 = work / "v1.db"
    started = time.perf_counter()
    rows = write_v1(v1, shape)
    wrote = time.perf_counter() - started
    before = size(v1)
    command = cli("migrate", "--db", str(v1))
    seconds, _ = timed(command)
    checkpoint(v1)
    fresh = "" if fresh_size is None else f"; fresh v2 {fresh_size / 1e6:.0f} MB"
    print(
        f"{'migrate v1 -> v2':<46} {seconds:8.1f} s   {show(command)}\n"
        f"  v1 ({rows} edge rows, written in {wrote:.0f} s) {before / 1e6:.0f} MB "
        f"({before / rows:.0f} bytes per edge row) -> {size(v1) / 1e6:.0f} MB{fresh}"
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--symbols", type=int, default=1_000_000)
    p.add_argument("--documents", type=int, default=20_000)
    p.add_argument("--refs", type=int, default=7, help="references per symbol")
    p.add_argument("--orphans", type=float, default=0.05, help="share of symbols without data")
    p.add_argument("--dir", type=Path, help="where the databases go (default: a temp dir)")
    p.add_argument("--no-v1", action="store_true", help="skip the schema-1 migration figures")
    p.add_argument("--v1-only", action="store_true", help="only the schema-1 migration figures")
    args = p.parse_args(argv)
    shape = Shape(args.symbols, args.documents, args.refs, args.orphans)
    work = Path(tempfile.mkdtemp(prefix="bench-graph-", dir=args.dir))
    db, empty = work / "graph.db", work / "empty.db"
    load = os.getloadavg()
    print(f"bench_graph: {shape.symbols} symbols in {shape.documents} documents, {work}")
    print(
        f"load average at start: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f} ({os.cpu_count()} cpus)"
    )
    if args.v1_only:
        migration(work, shape, None)
        return 0
    wrote = write_fresh(db, shape)
    print(
        f"written through GraphStore: {wrote['edge_rows']:.0f} edge rows in "
        f"{wrote['seconds']:.0f} s = {wrote['edges_per_s']:.0f} edges/s "
        "(bench_latency drives 12000/s through a proxy)"
    )
    file_size = size(db)
    print(
        f"{'bytes per edge':<46} {file_size / wrote['edge_rows']:8.1f}   "
        f"({file_size / 1e6:.0f} MB / {wrote['edge_rows']:.0f} rows)"
    )
    middle = shape.documents // 2
    key = f"{uri(middle)}#17:4:name_{middle * shape.per_doc + 1}"  # the second: not an orphan
    figures = [
        ("process start (--version)", cli("--version"), 1),
        ("first orphan line", cli("orphans", "--db", str(db), "--json"), 1),
        ("first 1,000 orphans", cli("orphans", "--db", str(db), "--json", "--limit", "1000"), None),
        (
            "next 1,000 (--after)",
            cli("orphans", "--db", str(db), "--json", "--limit", "1000", "--after", key),
            None,
        ),
        (
            "ready orphans of one operation, all",
            cli("orphans", "--db", str(db), "--operation", "implementation", "--ready", "--json"),
            None,
        ),
        ("stats", cli("stats", "--db", str(db), "--json"), None),
        ("edges --symbol KEY", cli("edges", "--db", str(db), "--json", "--symbol", key), None),
        (
            "edges --symbol KEY --operation references",
            cli("edges", "--db", str(db), "--json", "--symbol", key, "--operation", "references"),
            None,
        ),
        (
            "edges --operation implementation, first line",
            cli("edges", "--db", str(db), "--json", "--operation", "implementation"),
            1,
        ),
        ("edges, first line", cli("edges", "--db", str(db), "--json"), 1),
    ]
    for label, command, first in figures:
        seconds, lines = best(command, first)
        print(f"{label:<46} {seconds:8.3f} s  {lines:>7} lines   {show(command)}")
    ops = ("references", "implementation", "incoming_calls", "outgoing_calls")
    seconds, rows = monitor_round(db, ops)
    print(f"{'monitor round (4 operations, this workspace)':<46} {seconds:8.3f} s  {rows:>7} rows")
    fill_half_the_orphans(db, shape)
    seconds2, rows2 = monitor_round(db, ops)
    print(f"{'  … after half of them got data':<46} {seconds2:8.3f} s  {rows2:>7} rows")
    fresh = GraphStore(empty)
    fresh.start()
    fresh.close()
    for label, path in (("empty database", empty), ("this database", db)):
        answered, restored = min(proxy_start(path) for _ in range(3))
        print(
            f"proxy start on {label:<31} {answered:8.3f} s to initialize, {restored:.3f} s to "
            "failure states applied"
        )
    if not args.no_v1:
        migration(work, shape, file_size)
    load = os.getloadavg()
    print(f"load average at end: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
