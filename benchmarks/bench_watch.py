"""Freshness of `enrich --watch`: from saving a file to the graph being current again.

Copies `examples/` (or `--workspace`) to a scratch directory, enriches it once from scratch (the
baseline: what re-running `enrich` after every save would cost), then starts `enrich --watch` on
the copy and makes a few edits, one at a time. For each edit it prints the seconds from the
write to the progress line that says every change is applied and nothing is missing, the
tracked requests that took (the monitor's "requests sent" before and after), and both as
ratios to the full enrich measured in the same run. At the end the watched graph is compared
with a fresh enrich of the edited workspace (edges and placeholders, order aside).

    .venv/bin/python benchmarks/bench_watch.py                    # basedpyright, --interval 5
    .venv/bin/python benchmarks/bench_watch.py --interval 1 --json

`--preset rich` (issue 24) runs on a copy of the `rich` package this virtualenv has, with the
edits a person makes all day: a word in a docstring, a blank line at the top of the file most
answers point into, a new function and a call to it from another file, a renamed function, a
deleted file. Per edit it prints the requests the watch sent (with the default `--operation
references`, one per symbol operation re-asked), the seconds from the write to the graph being
current, and whether the graph then equals a fresh enrich of the edited tree (one fresh run per
edit: slow, but each edit is checked on its own).

    .venv/bin/python benchmarks/bench_watch.py --preset rich --interval 1
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SETTLED = re.compile(r"watching: (\d+) files changed, 0 symbol operations pending")
SENT = re.compile(r"(\d+) requests sent")

#: (file, old text, new text): each edit changes one file the way a person saving it would.
EDITS = (
    ("app.py", "    shapes = build()\n", "    shapes = build()\n    print(shapes[0].area())\n"),
    ("shapes/circle.py", "import math\n", "import math\n\n\ndef unit() -> int:\n    return 1\n"),
    (
        "report.py",
        "def total_area(",
        "def grand_total(shapes: list[Shape]) -> float:\n    return 0.0\n\n\ndef total_area(",
    ),
)


RICH = (
    Path(sys.prefix)
    / "lib"
    / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    / "site-packages"
    / "rich"
)
NEW_FUNCTION = "\n\ndef triplet_sum(triplet: ColorTriplet) -> int:\n    return sum(triplet)\n"
NEW_CALL = """

def _triplet_total() -> int:
    from .color_triplet import ColorTriplet, triplet_sum

    return triplet_sum(ColorTriplet(1, 2, 3))
"""


#: What the issue measured: the references of every symbol (one request per operation).
OPERATION = ("--operation", "references")


def rich_edits(ws: Path, db: Path) -> list[tuple[str, list[tuple[Path, str | None]]]]:
    """(name, [(file, its new text or None to delete)]) per edit, on a copy of rich in `ws`."""
    pkg = ws / "rich"
    console, triplet = pkg / "console.py", pkg / "color_triplet.py"
    control = pkg / "control.py"
    central = most_referenced(db)
    return [
        ("docstring word", [(console, console.read_text().replace(
            '"""Detect color system from env vars."""',
            '"""Detect the color system from env vars."""', 1))]),
        (f"blank line atop {central.name}", [(central, "\n" + central.read_text())]),
        ("new function + call", [(triplet, triplet.read_text() + NEW_FUNCTION),
                                 (console, None)]),
        ("renamed function", [(control, control.read_text().replace(
            "strip_control_codes", "remove_control_codes"))]),
        ("deleted file", [(pkg / "__main__.py", None)]),
    ]  # fmt: skip


def most_referenced(db: Path) -> Path:
    """The file the most edges point into (the first pass's graph)."""
    import sqlite3
    from urllib.parse import unquote, urlparse

    conn = sqlite3.connect(db)
    try:
        (uri,) = conn.execute(
            "SELECT d.uri FROM edge AS e JOIN document AS d ON d.id = e.document "
            "GROUP BY d.uri ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()
    finally:
        conn.close()
    return Path(unquote(urlparse(uri).path))


def server_command(name: str) -> list[str]:
    if name == "basedpyright":
        return [str(Path(sys.executable).with_name("basedpyright-langserver")), "--stdio"]
    return [sys.executable, str(ROOT / "tests" / "watch" / "servers" / "grep_server.py"),
            "--log", os.devnull]  # fmt: skip


def enrich(ws: Path, db: Path, server: list[str], interval: float, *extra: str) -> list[str]:
    return [sys.executable, "-m", "lsp_backoff", "enrich", str(ws), "--db", str(db), "--json",
            "--interval", str(interval), *extra, "--", *server]  # fmt: skip


def environment() -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("LSP_BACKOFF_DB", None)
    return env


def full_enrich(
    ws: Path, db: Path, server: list[str], interval: float, *extra: str
) -> dict[str, Any]:
    started = time.monotonic()
    done = subprocess.run(
        enrich(ws, db, server, interval, *extra), capture_output=True, text=True,
        env=environment(),
        cwd=ROOT, check=True,
    )  # fmt: skip
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    return {"seconds": time.monotonic() - started, "requests": summary["requests"]["sent"]}


def graph(db: Path) -> list[Any]:
    sys.path.insert(0, str(ROOT))
    from lsp_backoff.tracker import queries

    conn = queries.connect(db)
    try:
        rows = queries.edges(conn)
    finally:
        conn.close()
    return sorted(json.dumps({k: v for k, v in r.items() if k != "recorded_at"}) for r in rows)


class Watch:
    def __init__(self, command: list[str]) -> None:
        self.process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            env=environment(), cwd=ROOT, start_new_session=True,
        )  # fmt: skip
        self.lines: list[tuple[float, str]] = []
        self.cond = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            with self.cond:
                self.lines.append((time.monotonic(), line))
                self.cond.notify_all()

    def settled(self, changed: int, after: float, bound: float = 300.0) -> float:
        """When the line "N files changed, 0 pending" (N >= changed) came, after `after`."""

        def found() -> float | None:
            for at, line in self.lines:
                match = SETTLED.search(line)
                if at >= after and match and int(match[1]) >= changed:
                    return at
            return None

        with self.cond:
            if not self.cond.wait_for(lambda: found() is not None, bound):
                raise SystemExit("bench_watch: not settled:\n" + "".join(x for _, x in self.lines))
            return found()  # type: ignore[return-value]

    def sent(self) -> int:
        with self.cond:
            counts = [int(m[1]) for _, line in self.lines if (m := SENT.search(line))]
        return counts[-1] if counts else 0

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGINT)
        self.process.communicate(timeout=60)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", choices=("basedpyright", "grep"), default="basedpyright")
    parser.add_argument("--workspace", type=Path, default=ROOT / "examples")
    parser.add_argument("--preset", choices=("examples", "rich"), default="examples")
    parser.add_argument(
        "--once", action="store_true", help="rich: one fresh enrich, after the last edit only"
    )
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.preset == "rich":
        return rich_main(args)
    server = server_command(args.server)
    with tempfile.TemporaryDirectory(prefix="bench-watch-") as scratch:
        tmp = Path(scratch)
        ws = tmp / "ws"
        shutil.copytree(args.workspace, ws)
        full = full_enrich(ws, tmp / "full.db", server, args.interval)
        watch = Watch(enrich(ws, tmp / "watch.db", server, args.interval, "--watch"))
        try:
            watch.settled(0, 0.0)
            rows = []
            for number, (name, old, new) in enumerate(EDITS, start=1):
                before = watch.sent()
                path = ws / name
                text = path.read_text()
                started = time.monotonic()
                path.write_text(text.replace(old, new, 1))
                at = watch.settled(number, started)
                requests = watch.sent() - before
                rows.append({
                    "file": name, "seconds": round(at - started, 2), "requests": requests,
                    "seconds_vs_full": round((at - started) / full["seconds"], 3),
                    "requests_vs_full": round(requests / max(full["requests"], 1), 3),
                })  # fmt: skip
        finally:
            watch.stop()
        equal = graph(tmp / "watch.db") == graph(_fresh(ws, tmp, server, args.interval))
    report = {"server": args.server, "interval": args.interval, "full_enrich": full,
              "edits": rows, "graph_equals_fresh_enrich": equal}  # fmt: skip
    if args.json:
        print(json.dumps(report))
        return 0
    print(f"bench_watch: {args.server}, --interval {args.interval:g}, workspace {args.workspace}")
    print(f"full enrich from scratch: {full['seconds']:.2f} s, {full['requests']} requests")
    print(f"{'edited file':<20} {'s to current':>12} {'requests':>9} {'s/full':>7} {'req/full':>9}")
    for r in rows:
        print(f"{r['file']:<20} {r['seconds']:>12.2f} {r['requests']:>9} "
              f"{r['seconds_vs_full']:>7.2f} {r['requests_vs_full']:>9.2f}")  # fmt: skip
    print(f"watched graph equals a fresh enrich of the edited workspace: {equal}")
    return 0


def _differences(name: str, watched: list[Any], fresh: list[Any]) -> None:
    """The rows only one graph has (at most 10 each), on stderr."""
    a, b = set(watched), set(fresh)
    print(f"{name}: {len(a - b)} rows only watched, {len(b - a)} only fresh", file=sys.stderr)
    for label, only in (("only watched", a - b), ("only fresh", b - a)):
        for row in sorted(only)[:10]:
            print(f"{name}: {label}: {row}", file=sys.stderr)


def rich_main(args: argparse.Namespace) -> int:
    server = server_command(args.server)
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="bench-watch-") as scratch:
        tmp = Path(scratch)
        ws = tmp / "ws"
        shutil.copytree(RICH, ws / "rich", ignore=shutil.ignore_patterns("__pycache__"))
        db = tmp / "watch.db"
        watch = Watch(enrich(ws, db, server, args.interval, "--watch", *OPERATION))
        rows: list[dict[str, Any]] = []
        try:
            started = time.monotonic()
            first = watch.settled(0, 0.0, bound=3600.0) - started
            first_sent = watch.sent()
            if not args.once:
                _differences(
                    "first pass",
                    graph(db),
                    graph(_fresh(ws, tmp, server, args.interval, "fresh-0.db", *OPERATION)),
                )
            changed = 0
            for number, (name, writes) in enumerate(rich_edits(ws, db), start=1):
                before = watch.sent()
                started = time.monotonic()
                for path, text in writes:
                    if path.name == "console.py" and text is None:  # the call, appended
                        text = path.read_text() + NEW_CALL
                    if text is None:
                        path.unlink()
                    else:
                        temporary = path.with_name(path.name + ".tmp~")
                        temporary.write_text(text)
                        os.replace(temporary, path)  # one event per file, as editors save
                changed += len(writes)
                at = watch.settled(changed, started, bound=1800.0)
                requests = watch.sent() - before
                last = number == 5
                fresh = (
                    graph(_fresh(ws, tmp, server, args.interval, f"fresh-{number}.db", *OPERATION))
                    if last or not args.once
                    else None
                )
                watched = graph(db)
                rows.append({
                    "edit": name, "seconds": round(at - started, 2), "requests": requests,
                    "graph_equals_fresh_enrich": None if fresh is None else watched == fresh,
                })  # fmt: skip
                if fresh is not None:
                    _differences(name, watched, fresh)
        finally:
            watch.stop()
    report = {"server": args.server, "interval": args.interval, "preset": "rich",
              "first_pass": {"seconds": round(first, 2), "requests": first_sent},
              "edits": rows, "loadavg_before": load, "loadavg_after": os.getloadavg()}  # fmt: skip
    if args.json:
        print(json.dumps(report))
        return 0
    print(f"bench_watch: {args.server}, --interval {args.interval:g}, a copy of {RICH}")
    after = os.getloadavg()[0]
    print(f"load average before {load[0]:.1f}, after {after:.1f} ({os.cpu_count()} cores)")
    print(f"first pass: {first:.1f} s, {first_sent} requests")
    print(f"{'edit':<32} {'requests':>9} {'s to current':>13} {'= fresh':>8}")
    for r in rows:
        print(f"{r['edit']:<32} {r['requests']:>9} {r['seconds']:>13.2f} "
              f"{r['graph_equals_fresh_enrich']!s:>8}")  # fmt: skip
    return 0 if all(r["graph_equals_fresh_enrich"] is not False for r in rows) else 1


def _fresh(
    ws: Path, tmp: Path, server: list[str], interval: float, name: str = "fresh.db", *extra: str
) -> Path:
    db = tmp / name
    full_enrich(ws, db, server, interval, *extra)
    return db


if __name__ == "__main__":
    sys.exit(main())
