"""Forwarding latency of the lsp-backoff proxy against a direct connection, measured interleaved.

Run from the repository root with the project's interpreter:

    .venv/bin/python benchmarks/bench_latency.py            # ~1 minute
    .venv/bin/python benchmarks/bench_latency.py --quick    # smoke run, < 15 s
    .venv/bin/python benchmarks/bench_latency.py --json     # one JSON object on stdout

Every configuration talks to the same fast echo server (benchmarks/echo_server.py):
``direct`` spawns it, ``relay`` goes through a naive threaded byte relay
(benchmarks/naive_relay.py), ``proxy`` goes through ``python -m lsp_backoff --db TMP -- ...``.
All sessions stay open and the rounds alternate between them (rotating the order each round),
so drift on the machine hits all alike.
The "writes on" part drives definition requests answering 50 locations each at a fixed rate
(default 12k edges/s) interleaved with small pings, against direct, ``proxy --no-db`` and
``proxy --db TMP``, and says whether ping latency moves beyond the round-to-round noise.
The "watched files" part sends one ``workspace/didChangeWatchedFiles`` listing 500 changed files
(100 KB each, on disk) and times the small requests right behind it, next to quiet ones.
The "tracked" part (issue 22) times small tracked round trips — a ``textDocument/definition``
on a small open document answered with one location — through direct, the relay and the proxy
with a database, interleaved; and, in the proxy, short-circuited answers (an
``textDocument/implementation`` the echo server always fails, so the proxy backs off and
answers ``null`` itself) next to forwarded echoes. Its goals are printed with their figures:
the proxy adds at most 1.5x what the relay adds, and a short-circuited answer is faster than a
forwarded echo. (In-process, stage by stage: benchmarks/bench_stages.py.)
Keystrokes on large documents have their own script: benchmarks/bench_edits.py.
This is a script, not a test: it prints figures and asserts nothing about them.
"""

from __future__ import annotations

import argparse
import functools
import gc
import json
import os
import platform
import shlex
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from statistics import median
from typing import Any

from bench_client import (
    ECHO,
    LARGE,
    RELAY,
    ROOT,
    Session,
    SessionDied,
    Watchdog,
    interleave,
    large_batch,
    small_batch,
    summarize,
    writes_batch,
)


def proxy_available(proxy_cmd: list[str]) -> str | None:
    try:
        done = subprocess.run(
            [*proxy_cmd, "--version"], capture_output=True, text=True, timeout=20, cwd=ROOT
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{exc}"
    if done.returncode != 0:
        return (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
    return None


def count_edges(db: Path) -> int | None:
    # The schema belongs to tracker/; count whatever table holds edges, read-only.
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        table = next((n for n in names if n == "edges"), None) or next(
            (n for n in names if "edge" in n), None
        )
        if table is None:
            return None
        count: int = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
        return count
    except sqlite3.Error:
        return None


TRACKED_URI = "file:///bench/tracked.py"
TRACKED_TEXT = "".join(f"def name_{i}(x):\n    return name_{i - 1}(x)\n" for i in range(100))


def tracked(args: argparse.Namespace, workdir: Path, dog: Watchdog) -> dict[str, Any]:
    """Small tracked round trips (definition, one location) and short-circuited answers."""
    py = sys.executable
    server = [py, ECHO, "--locations", "1"]
    specs = [
        ("direct", server),
        ("relay", [py, RELAY, "--", *server]),
        ("proxy", [*shlex.split(args.proxy), "--db", str(workdir / "tracked.db"), "--", *server]),
    ]
    sessions: list[Session] = []
    try:
        for name, cmd in specs:
            s = Session(name, cmd, workdir)
            sessions.append(s)
            dog.sessions.append(s)
            s.initialize()
            item = {"uri": TRACKED_URI, "languageId": "python", "version": 1, "text": TRACKED_TEXT}
            s.notify("textDocument/didOpen", {"textDocument": item})

        def definition(s: Session, n: int) -> float:
            at = {"line": 2 * (n % 100), "character": 6}
            msg_id, body = s.request_body(
                "textDocument/definition", {"textDocument": {"uri": TRACKED_URI}, "position": at}
            )
            return s.roundtrip(msg_id, body)[0] / 1e3

        for s in sessions:  # warm-up: every symbol seen once
            for n in range(200):
                definition(s, n)
        per_round = max(args.small // 4, 50)
        times: dict[str, list[float]] = {s.name: [] for s in sessions}
        gc.disable()
        for r in range(args.rounds):
            k = r % len(sessions)
            for s in sessions[k:] + sessions[:k]:
                times[s.name] += [definition(s, n) for n in range(per_round)]
            dog.tick()
        proxy = sessions[-1]
        at = {"line": 0, "character": 4}
        params = {"textDocument": {"uri": TRACKED_URI}, "position": at}
        msg_id, body = proxy.request_body("textDocument/implementation", params)
        proxy.roundtrip(msg_id, body)  # fails: the proxy backs off from now on (5 s and more)
        short, echo = [], []
        for _ in range(per_round):
            msg_id, body = proxy.request_body("textDocument/implementation", params)
            ns, answer = proxy.roundtrip(msg_id, body)
            if b'"result":null' not in answer.replace(b" ", b""):
                raise SessionDied("proxy: implementation was not short-circuited")
            short.append(ns / 1e3)
            msg_id, body = proxy.echo_body(0)
            echo.append(proxy.roundtrip(msg_id, body)[0] / 1e3)
        gc.enable()
    finally:
        for s in sessions:
            s.close()
    med = {name: median(v) for name, v in times.items()}
    return {
        "definition_us": {
            name: {"median": med[name], "added": med[name] - med["direct"]} for name in med
        },
        "short_circuited_us": median(short),
        "forwarded_echo_us": median(echo),
    }


def tracked_rows(t: dict[str, Any]) -> list[str]:
    d = t["definition_us"]
    out = ["", "Tracked: a small definition (one location), database on (µs)"]
    out += [f"  {n:<15}{v['median']:>10.1f}  added {v['added']:+.1f}" for n, v in d.items()]
    relay, proxy = d["relay"]["added"], d["proxy"]["added"]
    ratio = proxy / relay if relay > 0 else float("inf")
    out.append(
        f"  goal: the proxy adds <= 1.5x what the relay adds: {proxy:.1f} against {relay:.1f} "
        f"µs = {ratio:.2f}x {'ok' if ratio <= 1.5 else 'MISSED'}"
    )
    sc, echo = t["short_circuited_us"], t["forwarded_echo_us"]
    out.append(
        f"  goal: a short-circuited answer faster than a forwarded echo: {sc:.1f} against "
        f"{echo:.1f} µs median {'ok' if sc < echo else 'MISSED'}"
    )
    return out


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Proxy forwarding latency vs a direct connection.")
    p.add_argument("--rounds", type=int, default=7, help="interleaved rounds (default 7)")
    p.add_argument("--small", type=int, default=2000, help="small round trips per round/config")
    p.add_argument("--large", type=int, default=10, help="1 MB round trips per direction/round")
    p.add_argument(
        "--writes-seconds",
        type=float,
        default=1.5,
        help="seconds of the writes-on load per round/config (0 skips it)",
    )
    p.add_argument("--edge-rate", type=float, default=12_000, help="target edges/s (writes on)")
    p.add_argument("--locations", type=int, default=50, help="locations per definition answer")
    p.add_argument(
        "--proxy",
        default=f"{shlex.quote(sys.executable)} -m lsp_backoff",
        help="command that starts the proxy (default: this python -m lsp_backoff)",
    )
    p.add_argument(
        "--compare",
        action="append",
        default=[],
        metavar="CMD",
        help="another proxy command to measure alongside (e.g. a branch's checkout); "
        "repeatable, shown as proxy2, proxy3, ...",
    )
    p.add_argument(
        "--watch-files",
        type=int,
        default=500,
        help="files per didChangeWatchedFiles burst (0 skips that part)",
    )
    p.add_argument("--watch-kb", type=int, default=100, help="size of each watched file (KB)")
    p.add_argument("--no-relay", action="store_true", help="skip the naive relay baseline")
    p.add_argument(
        "--no-tracked", action="store_true", help="skip the tracked-request part (issue 22)"
    )
    p.add_argument("--quick", action="store_true", help="smoke run: 2 small rounds, < 15 s")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    args = p.parse_args(argv)
    if args.quick:
        args.rounds, args.small, args.large, args.writes_seconds = 2, 300, 3, 0.4
        args.watch_files = min(args.watch_files, 100)
    return args


def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    py = sys.executable
    server = [py, ECHO, "--locations", str(args.locations)]
    proxy_cmd = shlex.split(args.proxy)
    proxy_problem = proxy_available(proxy_cmd)
    specs: list[tuple[str, list[str]]] = [("direct", server)]
    if not args.no_relay:
        specs.append(("relay", [py, RELAY, "--", *server]))
    if proxy_problem is None:
        specs.append(("proxy", [*proxy_cmd, "--db", str(workdir / "main.db"), "--", *server]))
        for i, other in enumerate(args.compare, start=2):
            db = str(workdir / f"proxy{i}.db")
            specs.append((f"proxy{i}", [*shlex.split(other), "--db", db, "--", *server]))
        if args.writes_seconds > 0:
            specs.append(("proxy --no-db", [*proxy_cmd, "--no-db", "--", *server]))
    # Generous: a hung proxy is what this catches, not a slow one.
    dog = Watchdog(max(60.0, 3 * args.writes_seconds + 30))
    sessions: list[Session] = []
    result: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{os.cpu_count()} CPUs, {platform.machine()}, "
        f"Python {platform.python_version()}",
        "rounds": args.rounds,
        "proxy_unavailable": proxy_problem,
        # Other work on the machine shows up as noise; the load average says how much there was.
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    try:
        for name, cmd in specs:
            sessions.append(Session(name, cmd, workdir))
            dog.sessions.append(sessions[-1])
        for s in sessions:
            s.initialize()
            small_batch(s, 200)  # warm-up: imports, caches, branch predictors
        main = [s for s in sessions if s.name != "proxy --no-db"]
        gc.disable()  # the client's own collections would land in random samples
        small = interleave(main, args.rounds, lambda s: small_batch(s, args.small), dog)
        result["small_us"] = add_ratios({k: summarize(v) for k, v in small.items()})
        for key, up, parse, _ in LARGE:
            batch = functools.partial(large_batch, m=args.large, up=up, parse=parse)
            raw = interleave(main, args.rounds, batch, dog)
            result[key] = add_ratios({k: summarize(v) for k, v in raw.items()})
        if args.watch_files > 0:
            result["watch"] = watch_phase(args, main, dog, workdir)
        gc.enable()
        if args.writes_seconds > 0:
            result["writes"] = writes_phase(args, sessions, dog, workdir)
    finally:
        for s in sessions:
            s.close()
    if "writes" in result and "proxy" in result["small_us"]:
        result["writes"]["edges_in_db"] = count_edges(workdir / "main.db")
    if not args.no_tracked and not args.no_relay and proxy_problem is None:
        result["tracked"] = tracked(args, workdir, dog)
    return result


def writes_phase(
    args: argparse.Namespace, sessions: list[Session], dog: Watchdog, workdir: Path
) -> dict[str, Any]:
    lines = 20_000
    text = "\n".join(f"sym_{i} = tgt_{i}" for i in range(lines)) + "\n"
    by_name = {s.name: s for s in sessions}
    rate = args.edge_rate / args.locations
    # (label, session, definitions per second): the last one is the same --db proxy with the
    # definition load off, the baseline for "does recording slow forwarding down".
    variants = [
        (label, by_name[name], r)
        for label, name, r in (
            ("direct", "direct", rate),
            ("proxy --no-db", "proxy --no-db", rate),
            ("proxy --db", "proxy", rate),
            ("proxy, no writes", "proxy", 0.0),
        )
        if name in by_name
    ]
    for s in {id(v[1]): v[1] for v in variants}.values():
        s.notify(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": "file:///bench/source.py",
                    "languageId": "python",
                    "version": 1,
                    "text": text,
                }
            },
        )
        s.call("bench/echo", {"reply": 0})  # the didOpen has been read before timing starts
    raw: dict[str, list[dict[str, list[float]]]] = {v[0]: [] for v in variants}
    gc.disable()
    for r in range(args.rounds):
        k = r % len(variants)
        for label, s, def_rate in variants[k:] + variants[:k]:
            raw[label].append(writes_batch(s, args.writes_seconds, def_rate, lines))
            dog.tick()
    gc.enable()
    out: dict[str, Any] = {"target_edges_per_s": args.edge_rate, "locations": args.locations}
    configs: dict[str, dict[str, Any]] = {}
    for label, _s, _ in variants:
        batches = raw[label]
        seconds = sum(b["seconds"][0] for b in batches)
        ndefs = sum(len(b["def"]) for b in batches)
        configs[label] = {
            "ping_us": summarize([b["ping"] for b in batches]),
            "def_us": summarize([b["def"] for b in batches]) if ndefs else None,
            "edges_per_s": ndefs * args.locations / seconds,
            "definitions": ndefs,
        }
    if "proxy" in by_name:
        s = by_name["proxy"]
        t0 = time.perf_counter()
        configs["proxy --db"]["flush"] = s.call("lspBackoff/flush")
        configs["proxy --db"]["flush_s"] = time.perf_counter() - t0
        configs["proxy --db"]["stats"] = s.call("lspBackoff/stats")
    out["configs"] = configs
    for key, on, off, metric in (
        ("writes", "proxy --db", "proxy, no writes", "ping_us"),
        ("file", "proxy --db", "proxy --no-db", "ping_us"),
        ("file_def", "proxy --db", "proxy --no-db", "def_us"),
    ):
        if on in configs and off in configs:
            out[f"verdict_{key}"] = verdict(on, off, metric, configs)
    return out


def watch_phase(
    args: argparse.Namespace, sessions: list[Session], dog: Watchdog, workdir: Path
) -> dict[str, Any]:
    """Small requests right behind one didChangeWatchedFiles of ``--watch-files`` changes,
    and quiet ones, per configuration (µs)."""
    folder = workdir / "watched"
    folder.mkdir()
    body = "".join(f"name_{i} = other_{i}\n" for i in range(args.watch_kb * 1024 // 24))
    uris = []
    for i in range(args.watch_files):
        path = folder / f"m{i}.py"
        path.write_text(body)
        uris.append(path.as_uri())
    params = {"changes": [{"uri": uri, "type": 2} for uri in uris]}
    behind: dict[str, list[list[float]]] = {s.name: [] for s in sessions}
    quiet: dict[str, list[list[float]]] = {s.name: [] for s in sessions}
    for r in range(args.rounds):
        k = r % len(sessions)
        for s in sessions[k:] + sessions[:k]:
            first, rest = [], []
            for _ in range(3):  # three bursts per round and configuration
                s.notify("workspace/didChangeWatchedFiles", params)
                pings = small_batch(s, 20)
                first.append(pings[0])  # the request right behind the notification
                rest.extend(pings[1:])
            behind[s.name].append(first)
            quiet[s.name].append(small_batch(s, 60))
            dog.tick()
    return {
        "files": args.watch_files,
        "kb": args.watch_kb,
        "behind_us": {k: summarize(v) for k, v in behind.items()},
        "quiet_us": {k: summarize(v) for k, v in quiet.items()},
    }


def verdict(on: str, off: str, metric: str, configs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    a: list[float] = configs[on][metric]["round_medians"]
    b: list[float] = configs[off][metric]["round_medians"]
    deltas = [x - y for x, y in zip(a, b, strict=True)]
    # The noise band: the wider round-to-round spread of the two, and never under 5% of the
    # baseline (two or three rounds can agree by chance far more closely than runs do).
    noise = max(max(b) - min(b), max(a) - min(a), 0.05 * median(b))
    # Beyond noise: slower in every round, and by more than the noise band.
    return {
        "on": on,
        "off": off,
        "metric": metric,
        "round_deltas": deltas,
        "median_delta": median(deltas),
        "noise": noise,
        "beyond_noise": all(d > 0 for d in deltas) and median(deltas) > noise,
    }


def add_ratios(table: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Add each configuration's figures against direct, measured in the same rounds."""
    base = table.get("direct")
    for f in table.values():
        if base is None:
            break
        deltas = [a - b for a, b in zip(f["round_medians"], base["round_medians"], strict=True)]
        f["ratio"] = f["median"] / base["median"]
        # Paired per round (the rounds interleave), so slow drift of the machine cancels out.
        f["added_median"] = median(deltas)
        f["added_round_range"] = [min(deltas), max(deltas)]
    return table


def ratio_rows(table: dict[str, dict[str, Any]], unit: str) -> list[str]:
    rows = []
    fmt = ".0f" if unit == "µs" else ".2f"
    for name, f in table.items():
        rounds = f["round_medians"]
        spread = f"{min(rounds):8.1f} .. {max(rounds):<8.1f}"
        extra = ""
        if name != "direct" and "added_median" in f:
            lo, hi = f["added_round_range"]
            extra = f"{f['added_median']:+9{fmt}} {unit} ({lo:+{fmt}} .. {hi:+{fmt}})"
        ratio = f"{f['ratio']:>7.2f}x" if "ratio" in f else " " * 8
        rows.append(f"  {name:<15}{f['median']:>10.1f}{f['p90']:>10.1f}  {spread}{ratio}  {extra}")
    return rows


def report(res: dict[str, Any], args: argparse.Namespace) -> str:
    out = [
        f"lsp-backoff latency benchmark — {res['date']} — {res['machine']}",
        f"rounds={args.rounds} (interleaved, order rotated); small={args.small}/round; "
        f"1 MB={args.large}/direction/round; load average at start "
        f"{res['load_average'][0]:.2f}",
    ]
    if res["load_average"][0] > 0.5 * (os.cpu_count() or 1):
        out.append("!! the machine was busy: expect noisy figures (compare the round ranges)")
    if res["proxy_unavailable"]:
        out.append(f"!! proxy not measured: {res['proxy_unavailable']}")
    head = f"  {'config':<15}{'median':>10}{'p90':>10}  {'round medians min..max':<21}{'ratio':>8}"
    out += ["", "Small request round trip (µs)", head + "  added (per-round range)"]
    out += ratio_rows(res["small_us"], "µs")
    for key, _, _, title in LARGE:
        out += ["", title, head + "  added (per-round range)"]
        out += ratio_rows(res[key], "ms")
    if isinstance(res.get("tracked"), dict):
        out += tracked_rows(res["tracked"])
    watch = res.get("watch")
    if isinstance(watch, dict):
        out += [
            "",
            f"Watched files: a small request right behind one didChangeWatchedFiles of "
            f"{watch['files']} changed files ({watch['kb']} KB each), and quiet (µs)",
            f"  {'config':<15}{'behind p50':>11}{'behind p99':>11}{'quiet p50':>11}"
            f"{'quiet p99':>11}",
        ]
        for name, b in watch["behind_us"].items():
            q = watch["quiet_us"][name]
            out.append(
                f"  {name:<15}{b['median']:>11.1f}{b['p99']:>11.1f}{q['median']:>11.1f}"
                f"{q['p99']:>11.1f}"
            )
    w = res.get("writes")
    if isinstance(w, dict):
        out += [
            "",
            f"Writes on: definitions answering {w['locations']} locations at "
            f"{w['target_edges_per_s']:.0f} edges/s, small pings in between (µs)",
            f"  {'config':<18}{'ping med':>10}{'ping p90':>10}{'ping p99':>10}{'def med':>10}"
            f"{'def p90':>10}{'edges/s':>10}",
        ]
        for name, c in w["configs"].items():
            d = c["def_us"] or {"median": float("nan"), "p90": float("nan")}
            out.append(
                f"  {name:<18}{c['ping_us']['median']:>10.1f}{c['ping_us']['p90']:>10.1f}"
                f"{c['ping_us']['p99']:>10.1f}{d['median']:>10.1f}{d['p90']:>10.1f}"
                f"{c['edges_per_s']:>10.0f}"
            )
        db = w["configs"].get("proxy --db", {})
        if db:
            expected = db["definitions"] * w["locations"]
            out.append(
                f"  proxy --db: lspBackoff/flush {json.dumps(db['flush'])} in "
                f"{db['flush_s'] * 1e3:.0f} ms; edge rows in the db {w.get('edges_in_db')} "
                f"(answers carried {expected}); stats {json.dumps(db['stats'])}"
            )
        for key in ("writes", "file", "file_def"):
            v = w.get(f"verdict_{key}")
            if v:
                deltas = ", ".join(f"{d:+.1f}" for d in v["round_deltas"])
                out.append(
                    f"  {v['metric'][:-3]}: {v['on']} vs {v['off']}: "
                    f"median {v['median_delta']:+.1f} µs (rounds {deltas}; "
                    f"noise {v['noise']:.1f}) → "
                    + ("REGRESSION beyond noise" if v["beyond_noise"] else "within noise")
                )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="lsp-backoff-bench-") as tmp:
        try:
            res = run(args, Path(tmp))
        except SessionDied as exc:
            print(f"benchmark aborted: {exc}", file=sys.stderr)
            return 1
    res["elapsed_s"] = round(time.perf_counter() - started, 1)
    if args.json:
        print(json.dumps(res))
    else:
        print(report(res, args))
        print(f"\n(elapsed {res['elapsed_s']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
