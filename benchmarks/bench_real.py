"""`lsp-backoff enrich` on a real repository: symbols/s, requests/s, wall, CPU and peak RSS per
process, against the same requests sent straight to the same server, in the same run.

The workspace is a copy of a package from this environment (default `rich`: real code nobody
here wrote), put in a fresh git repository (scip-python needs one; enrich then lists it with
`git ls-files`). Configurations, each in its own child process (so peak RSS is per run):

- direct: one server, one client (enrich's own LspConnection), no proxy — the same requests
  (documentSymbol per file, then per symbol every operation) through the same window of open
  documents, but nothing tracked or recorded;
- enrich xN: `Runner` with --servers N (1 and the pool size), a fresh database each;
- enrich x1, no window: --open-files 0 (every file stays open, the behaviour before the window);
- scip-python (npm @sourcegraph/scip-python, when found): `scip-python index` of the same copy,
  a peer indexer's wall time — not a dependency.

`--repeat N` runs every configuration N times, the order rotated each round, and prints each
ratio as the median [min..max] of the ratios measured within one round (the machine's load
drifts between rounds; within a round both sides of a ratio saw about the same), with the load
average at the start and end of every round.

    .venv/bin/python benchmarks/bench_real.py                             # rich, 5 default ops
    .venv/bin/python benchmarks/bench_real.py --operation references \
        --scip /tmp/scip/node_modules/.bin/scip-python     # scip-python from npm, in /tmp
    .venv/bin/python benchmarks/bench_real.py --workspace examples --operation references \
        --repeat 3 --skip scip                               # seconds: the window's cost
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import io
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from asyncio.subprocess import DEVNULL, PIPE
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench_enrich import ServerPipes  # noqa: E402

from lsp_backoff.proxy.config import ProxyConfig  # noqa: E402
from lsp_backoff.proxy.enrich.asking import pick_item  # noqa: E402
from lsp_backoff.proxy.enrich.client import LspConnection  # noqa: E402
from lsp_backoff.proxy.enrich.files import list_files  # noqa: E402
from lsp_backoff.proxy.enrich.pool import auto_servers  # noqa: E402
from lsp_backoff.proxy.enrich.progress import PlainProgress  # noqa: E402
from lsp_backoff.proxy.enrich.runner import EnrichOptions, Runner  # noqa: E402
from lsp_backoff.proxy.enrich.window import DocumentQueue, Window  # noqa: E402
from lsp_backoff.proxy.session import loop_factory  # noqa: E402
from lsp_backoff.tracker.model import DEFAULT_ORPHAN_OPERATIONS  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
BASEDPYRIGHT = [str(Path(sys.executable).parent / "basedpyright-langserver"), "--stdio"]


def flatten(symbols: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for s in symbols if isinstance(symbols, list) else []:
        out.append(s)
        out.extend(flatten(s.get("children")))
    return out


class Sampler:
    """CPU seconds and peak RSS of every process below this one, read from /proc every 0.2 s
    and grouped by the child of ours it descends from (a server and what it started)."""

    def __init__(self) -> None:
        self.trees: dict[int, dict[str, Any]] = {}
        self._seen: dict[int, tuple[int, float, int]] = {}  # pid -> (tree, cpu, hwm)

    def sample(self) -> None:
        for top in _children(os.getpid()):
            if _name(top).startswith("git"):
                continue  # enrich's file listing, not a server
            for pid in [top, *_descendants(top)]:
                got = _proc(pid)
                if got is not None:  # the max: an exited (zombie) process shows no memory
                    _, cpu, hwm = self._seen.get(pid, (top, 0.0, 0))
                    self._seen[pid] = (top, max(cpu, got[0]), max(hwm, got[1]))
                    self.trees.setdefault(top, {"name": _name(top)})

    def report(self) -> list[dict[str, Any]]:
        out = []
        for top, info in self.trees.items():
            members = [v for v in self._seen.values() if v[0] == top]
            cpu, rss = sum(m[1] for m in members), sum(m[2] for m in members)
            out.append({"name": info["name"], "cpu": round(cpu, 2), "peak_rss_mb": rss >> 20})
        return out

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            self.sample()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.2)


def _children(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _descendants(pid: int) -> list[int]:
    return [d for c in _children(pid) for d in (c, *_descendants(c))]


def _proc(pid: int) -> tuple[float, int] | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    hwm = next((int(line.split()[1]) << 10 for line in status.splitlines()
                if line.startswith("VmHWM:")), 0)  # fmt: skip
    return (int(stat[11]) + int(stat[12])) / TICK, hwm


def _name(pid: int) -> str:
    with contextlib.suppress(OSError):
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        return " ".join(Path(a.decode()).name for a in argv[:2] if a)
    return str(pid)


async def read_text(path: Path) -> str | None:
    return await asyncio.to_thread(path.read_text, encoding="utf-8", errors="replace")


async def direct(args: argparse.Namespace, workspace: Path) -> dict[str, Any]:
    """enrich's client on the server's pipes, enrich's window, the same questions, no proxy."""
    loop = asyncio.get_running_loop()
    conn = LspConnection(workspace, 120.0)
    transport, _ = await loop.subprocess_exec(
        lambda: ServerPipes(conn), *args.server, stdin=PIPE, stdout=PIPE, stderr=DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    conn.connect(transport.get_pipe_transport(0).write)
    await conn.initialize()
    files = list_files(workspace)
    with contextlib.suppress(Exception):  # the settle request enrich sends (fleet.py)
        await conn.document_symbols(min(files, key=lambda p: p.stat().st_size).as_uri())
    await conn.workspace_listed(120.0)  # ... and its wait for pyright's source listing
    queue = DocumentQueue()
    window = Window(queue, size=args.open_files, jobs=args.jobs, read=read_text)
    pump = asyncio.ensure_future(window.pump(conn))
    symbols: list[tuple[Path, dict[str, Any]]] = []
    sent = 0

    async def outline(path: Path, c: LspConnection) -> None:
        symbols.extend((path, s) for s in flatten(await c.document_symbols(path.as_uri())))

    async def ask(path: Path, symbol: dict[str, Any], op: str, c: LspConnection) -> None:
        nonlocal sent
        start = symbol["selectionRange"]["start"]
        at = (path.as_uri(), start["line"], start["character"])
        with contextlib.suppress(Exception):  # an error answer is an answer here
            sent += 1
            if op != "calls":
                await c.locate(op, *at)
                return
            item = pick_item(await c.prepare_call_hierarchy(*at), *at[1:])
            for call in sorted({"incoming_calls", "outgoing_calls"} & set(args.operation)):
                if item is not None:
                    sent += 1
                    await c.calls(call, item)

    def submit(path: Path, work: Any) -> Any:
        return queue.submit(path.as_uri(), path, work)

    ordered = sorted(files, key=lambda p: p.stat().st_size, reverse=True)
    await asyncio.gather(*(submit(p, functools.partial(outline, p)) for p in ordered))
    ops = [op for op in args.operation if op not in ("incoming_calls", "outgoing_calls")]
    if len(ops) < len(args.operation):
        ops.append("calls")  # prepare once, then the calls: as enrich's asker does
    await asyncio.gather(*(submit(p, functools.partial(ask, p, s, op))
                           for op in ops for p, s in symbols))  # fmt: skip
    pump.cancel()
    await conn.shutdown(5.0)
    transport.get_pipe_transport(0).close()
    await conn.exited.wait()
    transport.close()
    return {"symbols": len(symbols), "requests": sent, "peak_open": [window.peak]}


async def through_enrich(args: argparse.Namespace, workspace: Path, db: Path) -> dict[str, Any]:
    options = EnrichOptions(
        workspace=workspace, db=str(db), server=args.server, proxy=ProxyConfig(),
        operations=tuple(args.operation), interval=1.0, jobs=args.jobs, include=(), exclude=(),
        max_wait=60.0, backoff_base=5.0, max_retries=7, timeout=60.0, json=True,
        open_files=args.open_files, servers=args.servers,
    )  # fmt: skip
    runner = Runner(options, progress=PlainProgress(io.StringIO()))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = await runner.run()
    if status != 0:
        raise SystemExit(f"enrich failed with status {status}")
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    # Every pair filled is not enough: an answer can miss locations (basedpyright dropped a
    # file opened and closed before it listed the workspace). The edge count must agree too.
    edges = sum(op["edges"] for op in summary["operations"].values())
    return {"symbols": runner.symbols, "requests": summary["requests"]["sent"],
            "missing": summary["missing"], "edges": edges,
            "peak_open": runner.pool.peak_open}  # fmt: skip


def child(args: argparse.Namespace) -> None:
    """One configuration, measured from inside; one JSON line on stdout."""
    workspace = Path(args.copy)

    async def main() -> dict[str, Any]:
        sampler, stop = Sampler(), asyncio.Event()
        sampling = asyncio.ensure_future(sampler.run(stop))
        started = time.perf_counter()
        if args.child == "direct":
            result = await direct(args, workspace)
        else:
            result = await through_enrich(args, workspace, Path(args.db))
        result["wall"] = time.perf_counter() - started
        stop.set()
        await sampling
        result["servers"] = sampler.report()
        return result

    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        result = runner.run(main())
    own, kids = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    result["client_cpu"] = round(own.ru_utime + own.ru_stime, 2)
    result["client_peak_rss_mb"] = own.ru_maxrss >> 10
    result["servers_cpu"] = round(kids.ru_utime + kids.ru_stime, 2)  # exact, all exited
    print(json.dumps(result))


def measure(args: argparse.Namespace, name: str, extra: list[str]) -> dict[str, Any]:
    argv = [sys.executable, __file__, "--child", name, "--copy", str(args.copy_dir), *extra,
            "--jobs", str(args.jobs), *(f"--operation={op}" for op in args.operation),
            "--server-command", json.dumps(args.server)]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{name} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def scip_tool(args: argparse.Namespace) -> str | None:
    tool = args.scip or shutil.which("scip-python")
    return tool if tool and Path(tool).exists() else None


def scip(args: argparse.Namespace) -> dict[str, Any]:
    tool = scip_tool(args)
    assert tool is not None
    output = args.tmp / "index.scip"
    output.unlink(missing_ok=True)
    started = time.perf_counter()
    proc = subprocess.Popen([tool, "index", "--project-name", "bench", "--cwd",
                             str(args.copy_dir), "--output", str(output),
                             "--quiet"], stdout=DEVNULL, stderr=DEVNULL)  # fmt: skip
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    return {"wall": wall, "cpu": round(usage.ru_utime + usage.ru_stime, 2),
            "peak_rss_mb": usage.ru_maxrss >> 10, "status": status}  # fmt: skip


def copy_workspace(source: Path, target: Path) -> None:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    git = ["git", "-C", str(target), "-c", "user.name=bench", "-c", "user.email=bench@invalid"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "workspace"], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", type=Path, help="a directory to copy (default: rich)")
    parser.add_argument("--operation", action="append", help="default: enrich's defaults")
    parser.add_argument("--servers", type=int, default=max(2, auto_servers()))
    parser.add_argument("--open-files", type=int, default=8)
    parser.add_argument("--jobs", type=int, default=8)
    parser.add_argument("--scip", help="scip-python executable (default: on PATH)")
    parser.add_argument("--skip", action="append", default=[], help="a configuration to skip")
    parser.add_argument("--repeat", type=int, default=1,
                        help="rounds of every configuration, order rotated each round")  # fmt: skip
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--copy", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--server-command", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.operation = args.operation or list(DEFAULT_ORPHAN_OPERATIONS)
    args.server = json.loads(args.server_command) if args.server_command else BASEDPYRIGHT
    if args.child:
        return child(args)
    if args.workspace is None:
        import rich

        args.workspace = Path(rich.__file__).parent
    with tempfile.TemporaryDirectory() as tmp_name:
        args.tmp = Path(tmp_name)
        args.copy_dir = args.tmp / args.workspace.name
        copy_workspace(args.workspace, args.copy_dir)
        n = args.servers
        configs = {
            "direct": ["--open-files", str(args.open_files)],
            "enrich x1": ["--servers", "1", "--open-files", str(args.open_files)],
            f"enrich x{n}": ["--servers", str(n), "--open-files", str(args.open_files)],
            "enrich x1, no window": ["--servers", "1", "--open-files", "0"],
        }
        names = [name for name in configs if name not in args.skip]
        if "scip" not in args.skip and scip_tool(args):
            names.append("scip-python")
        header(args)
        rounds: list[dict[str, Any]] = []
        for number in range(args.repeat):
            # Rotated: a load that drifts during the run does not always hit the same one.
            order = names[number % len(names) :] + names[: number % len(names)]
            results: dict[str, Any] = {"load": [os.getloadavg()[0]]}
            for name in order:
                if name == "scip-python":
                    results[name] = scip(args)
                else:
                    db = ["--db", str(args.tmp / f"{number}-{len(results)}.db")]
                    results[name] = measure(args, name.split()[0], [*configs[name], *db])
                print(f"  round {number + 1}: {name}: {results[name]['wall']:.1f} s",
                      file=sys.stderr, flush=True)  # fmt: skip
            results["load"].append(os.getloadavg()[0])
            rounds.append(results)
            if number + 1 < args.repeat:  # what a long run stopped early still shows
                print(f"-- after round {number + 1} of {args.repeat}:", flush=True)
                report(args, rounds, names)
                sys.stdout.flush()
        if args.repeat > 1:
            print(f"-- all {args.repeat} rounds:")
        report(args, rounds, names)


def header(args: argparse.Namespace) -> None:
    files = len(list_files(args.copy_dir))
    server = " ".join(Path(a).name for a in args.server)
    print(f"workspace: {args.workspace} ({files} files); server: {server}; ops: "
          f"{' '.join(args.operation)}; jobs {args.jobs}; window {args.open_files}; "
          f"{os.cpu_count()} CPUs; {args.repeat} round(s)")  # fmt: skip


def spread(values: list[float], unit: str = "") -> str:
    """The median, and min..max when there is more than one value."""
    middle = statistics.median(values)
    if len(values) == 1:
        return f"{middle:.2f}{unit}"
    return f"{middle:.2f}{unit} [{min(values):.2f}..{max(values):.2f}]"


def report(args: argparse.Namespace, rounds: list[dict[str, Any]], names: list[str]) -> None:
    loads = [value for r in rounds for value in r["load"]]
    print(f"load average (1 min) at the start and end of each round: "
          f"{', '.join(f'{x:.1f}' for x in loads)}")  # fmt: skip
    print(f"{'configuration':22s} {'symbols':>7s} {'requests':>8s} "
          f"{'wall s (median [min..max])':>27s} {'sym/s':>7s} {'client CPU s/RSS MB':>20s}  "
          "servers (CPU s, peak RSS MB); peak open docs")  # fmt: skip
    for name in names:
        runs = [r[name] for r in rounds]
        wall = statistics.median(x["wall"] for x in runs)
        if name == "scip-python":
            cpu = statistics.median(x["cpu"] for x in runs)
            rss = statistics.median(x["peak_rss_mb"] for x in runs)
            print(f"{name:22s} {'':7s} {'':8s} {spread([x['wall'] for x in runs]):>27s} {'':7s} "
                  f"{'':20s}  [{cpu:.1f} s/{rss:.0f} MB] status "
                  f"{sorted({x['status'] for x in runs})}")  # fmt: skip
            continue
        last = runs[-1]
        servers = ", ".join(
            f"{statistics.median(x['servers'][i]['cpu'] for x in runs):.1f} s/"
            f"{statistics.median(x['servers'][i]['peak_rss_mb'] for x in runs):.0f} MB"
            for i in range(min(len(x["servers"]) for x in runs))
        )
        client_cpu = statistics.median(x["client_cpu"] for x in runs)
        client_rss = statistics.median(x["client_peak_rss_mb"] for x in runs)
        peak = [max(x["peak_open"][i] for x in runs) for i in range(len(last["peak_open"]))]
        missing = sorted({x["missing"] for x in runs}) if "missing" in last else None
        edges = sorted({x["edges"] for x in runs}) if "edges" in last else None
        requests = sorted({x["requests"] for x in runs})
        print(
            f"{name:22s} {last['symbols']:7d} {'/'.join(map(str, requests)):>8s} "
            f"{spread([x['wall'] for x in runs]):>27s} {last['symbols'] / wall:7.1f} "
            f"{client_cpu:8.1f} / {client_rss:5.0f}      [{servers}]; open {peak}"
            + (f"; missing {missing}" if missing is not None else "")
            + (f"; edges {edges}" if edges is not None else "")
        )
    counts = {e for r in rounds for name in names for e in [r[name].get("edges")] if e is not None}
    if len(counts) > 1:
        print(f"!! the graphs differ: edge counts {sorted(counts)} — some answers missed locations")
    print("ratios, each measured within one round (median [min..max] over rounds):")
    n = args.servers
    pairs = [
        ("enrich x1", "direct", "enrich x1 / direct wall"),
        ("enrich x1, no window", "direct", "enrich x1 no window / direct wall"),
        (f"enrich x{n}", "enrich x1", f"--servers {n} vs 1: symbols/s (goal >= 1.6x for 2)"),
        ("enrich x1", "scip-python", "enrich x1 wall / scip-python wall (goal < 1)"),
        (f"enrich x{n}", "scip-python", f"enrich x{n} wall / scip-python wall (goal < 1)"),
    ]
    for top, bottom, label in pairs:
        if top in names and bottom in names:
            values = [r[top]["wall"] / r[bottom]["wall"] for r in rounds]
            if label.startswith("--servers"):
                values = [1 / v for v in values]  # same symbols: the inverse wall ratio
            print(f"  {label}: {spread(values, 'x')}")
    for name in (f"enrich x{n}", "enrich x1", "direct"):
        if name in names:
            worst = max(max(r[name]["peak_open"]) for r in rounds)
            print(f"  peak open documents per server, {name}: {worst} (window {args.open_files})")
    if "enrich x1" in names and "enrich x1, no window" in names:
        rss = [[max(s["peak_rss_mb"] for s in r[c]["servers"]) for r in rounds]
               for c in ("enrich x1", "enrich x1, no window")]  # fmt: skip
        ratio = [a / b for a, b in zip(*rss, strict=True)]
        print(f"  server peak RSS, window {args.open_files} vs none: "
              f"{statistics.median(rss[0]):.0f} MB vs {statistics.median(rss[1]):.0f} MB "
              f"(ratio {spread(ratio, 'x')})")  # fmt: skip
        cpu = [[r[c]["servers"][0]["cpu"] for r in rounds]
               for c in ("enrich x1", "enrich x1, no window")]  # fmt: skip
        ratio = [a / b for a, b in zip(*cpu, strict=True)]
        print(f"  server CPU, window {args.open_files} vs none: {spread(ratio, 'x')}")


if __name__ == "__main__":
    main()
