"""Symbols enriched per second: `lsp-backoff enrich` (through the proxy, recording into SQLite)
against the same requests sent straight to the same server, measured in the same run.

Both sides do the same work with the same client code (proxy.enrich.client.LspConnection):
start the server, initialize, open every file, documentSymbol, then for every symbol
references, implementation, prepareCallHierarchy + incoming + outgoing calls, with the same
number of requests in flight; then shut down. A third configuration sends the direct client's
requests through `python -m lsp_backoff` as its own process (how editors run it). Every round runs
all three, order rotated, on one event loop; the overhead is paired per round, then the median
is taken. Start-up counts (enrich's is part of its cost). Target (issue 6): overhead <= 5 %.

    .venv/bin/python benchmarks/bench_enrich.py                 # fast pygls server, generated
    .venv/bin/python benchmarks/bench_enrich.py --server basedpyright   # examples/
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import resource
import statistics
import sys
import tempfile
import time
from asyncio.subprocess import DEVNULL, PIPE
from pathlib import Path
from resource import RUSAGE_CHILDREN, RUSAGE_SELF
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lsp_backoff.proxy.config import ProxyConfig  # noqa: E402
from lsp_backoff.proxy.enrich.client import LspConnection  # noqa: E402
from lsp_backoff.proxy.enrich.files import list_files  # noqa: E402
from lsp_backoff.proxy.enrich.progress import PlainProgress  # noqa: E402
from lsp_backoff.proxy.enrich.runner import EnrichOptions, Runner  # noqa: E402
from lsp_backoff.proxy.session import loop_factory  # noqa: E402
from lsp_backoff.tracker.model import DEFAULT_ORPHAN_OPERATIONS  # noqa: E402

PYGLS_SERVER = ROOT / "tests" / "enrich" / "servers" / "fails_on_bad.py"


def generate(workspace: Path, files: int, functions: int) -> None:
    for f in range(files):
        body = "".join(f"def good_{f}_{i}():\n    pass\n\n" for i in range(functions))
        (workspace / f"mod_{f}.py").write_text(body)


def flatten(symbols: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for s in symbols if isinstance(symbols, list) else []:
        out.append(s)
        out.extend(flatten(s.get("children")))
    return out


class ServerPipes(asyncio.SubprocessProtocol):
    """A direct client's end of the server's pipes: stdout into the connection (bench_real too)."""

    def __init__(self, connection: LspConnection) -> None:
        self.connection = connection

    def pipe_data_received(self, fd: int, data: bytes) -> None:
        if fd == 1 and self.connection.rpc is not None:
            self.connection.rpc.feed(data)

    def process_exited(self) -> None:
        self.connection.lost(0)


async def direct(server: list[str], workspace: Path, jobs: int) -> tuple[float, int]:
    """enrich's own client, straight to the server's pipes: the same requests, no proxy.

    Returns (seconds, symbols). The same connection class enrich uses, so the difference
    between the two is the proxy (tracking, recording) and enrich's monitor, nothing else.
    """
    started = time.perf_counter()
    loop = asyncio.get_running_loop()
    client = LspConnection(workspace, 60.0)
    # Its own process session, as enrich starts its server: with Linux's scheduler autogroups
    # a new session also gets its own CPU share, which shows in these figures.
    transport, _ = await loop.subprocess_exec(
        lambda: ServerPipes(client),
        *server,
        stdin=PIPE,
        stdout=PIPE,
        stderr=DEVNULL,
        start_new_session=True,
    )
    client.connect(transport.get_pipe_transport(0).write)
    await client.initialize()
    semaphore = asyncio.Semaphore(jobs)
    symbols: list[tuple[str, dict[str, Any]]] = []

    async def outline(path: Path) -> None:
        async with semaphore:
            client.open(path, path.read_text())
            result = await client.document_symbols(path.as_uri())
            symbols.extend((path.as_uri(), s) for s in flatten(result))

    await asyncio.gather(*(outline(p) for p in list_files(workspace)))

    def position(symbol: dict[str, Any]) -> tuple[int, int]:
        start = symbol["selectionRange"]["start"]
        return start["line"], start["character"]

    async def locate(operation: str, uri: str, symbol: dict[str, Any]) -> None:
        async with semaphore:
            await client.locate(operation, uri, *position(symbol))

    async def call_hierarchy(uri: str, symbol: dict[str, Any]) -> None:
        async with semaphore:  # one slot for prepare and its calls, as enrich's asker does
            items = await client.prepare_call_hierarchy(uri, *position(symbol))
            if items:
                await client.calls("incoming_calls", items[0])
                await client.calls("outgoing_calls", items[0])

    # In the order enrich's monitor queues them: the position requests, then call hierarchy.
    await asyncio.gather(
        *(locate(op, uri, s) for op in ("references", "implementation") for uri, s in symbols),
        *(call_hierarchy(uri, s) for uri, s in symbols),
    )
    await client.shutdown(5.0)
    transport.get_pipe_transport(0).close()
    await client.exited.wait()
    transport.close()
    return time.perf_counter() - started, len(symbols)


async def through_enrich(
    server: list[str], workspace: Path, jobs: int, db: Path
) -> tuple[float, int]:
    options = EnrichOptions(
        workspace=workspace,
        db=str(db),
        server=server,
        proxy=ProxyConfig(),
        operations=DEFAULT_ORPHAN_OPERATIONS,
        interval=5.0,
        jobs=jobs,
        include=(),
        exclude=(),
        max_wait=60.0,
        backoff_base=5.0,
        max_retries=7,
        timeout=30.0,
        json=True,
    )
    started = time.perf_counter()
    runner = Runner(options, progress=PlainProgress(io.StringIO()))
    with contextlib.redirect_stdout(io.StringIO()):
        status = await runner.run()
    if status != 0:
        raise SystemExit(f"enrich failed with status {status}")
    return time.perf_counter() - started, runner.symbols


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", choices=("pygls", "basedpyright"), default="pygls")
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--functions", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--jobs", type=int, default=8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        if args.server == "pygls":
            workspace = tmp / "ws"
            workspace.mkdir()
            generate(workspace, args.files, args.functions)
            server = [sys.executable, str(PYGLS_SERVER), "--log", str(tmp / "requests.jsonl")]
        else:
            workspace = ROOT / "examples"
            server = [str(Path(sys.executable).parent / "basedpyright-langserver"), "--stdio"]
        times: dict[str, list[float]] = {"direct": [], "proxy process": [], "enrich": []}
        cpu: dict[str, list[float]] = {name: [] for name in times}
        symbols = 0
        with asyncio.Runner(loop_factory=loop_factory()) as runner:
            runner.run(direct(server, workspace, args.jobs))  # warm-up, not counted: disk cache
            for round_ in range(args.rounds):
                # A fresh database each round: a second run over a full graph would ask nothing.
                db = tmp / f"r{round_}.db"
                proxy = [sys.executable, "-m", "lsp_backoff", "--db", f"{db}.p", "--", *server]
                runs = {
                    "direct": direct(server, workspace, args.jobs),
                    # The same client through `lsp-backoff -- SERVER` as its own process, as an
                    # editor runs it: the proxy's share apart from enrich's monitor.
                    "proxy process": direct(proxy, workspace, args.jobs),
                    "enrich": through_enrich(server, workspace, args.jobs, db),
                }
                names = list(runs)
                names = names[round_ % 3 :] + names[: round_ % 3]  # rotate: drift spreads
                for name in names:
                    before = cpu_seconds()
                    seconds, count = runner.run(runs[name])
                    times[name].append(seconds)
                    cpu[name].append(cpu_seconds() - before)
                    symbols = max(symbols, count)
        print(f"server: {args.server}; {symbols} symbols; jobs {args.jobs}; {args.rounds} rounds")
        for name, values in times.items():
            median = statistics.median(values)
            line = f"{name:14s}: {symbols / median:7.1f} symbols/s  (median {median:.3f} s)"
            if name != "direct":
                # Paired per round (same moment, same machine load), then the median of those.
                paired = [100 * (v / d - 1) for v, d in zip(values, times["direct"], strict=True)]
                line += (
                    f"  overhead {statistics.median(paired):+.1f} % "
                    f"[{min(paired):+.1f} .. {max(paired):+.1f}]"
                )
            print(line)
        print("CPU seconds per run, all processes (client, proxy, server), median:")
        for name, values in cpu.items():
            median = statistics.median(values)
            print(f"{name:14s}: {median:6.2f} s  ({1e6 * median / symbols:6.0f} µs per symbol)")
        print("target (issue 6): enrich overhead <= 5 %")


def cpu_seconds() -> float:
    """CPU time of this process and of its children that have exited (servers, proxies)."""
    own, children = (resource.getrusage(who) for who in (RUSAGE_SELF, RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


if __name__ == "__main__":
    main()
