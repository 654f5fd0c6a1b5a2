"""Symbols enriched per second: `lsp-backoff enrich` (through the proxy, recording into SQLite)
against the same requests sent straight to the same server, measured in the same run.

Both sides do the same work: start the server, initialize, open every file, documentSymbol,
then for every symbol references, implementation, prepareCallHierarchy + incoming + outgoing
calls, with the same number of requests in flight; then shut down. Rounds alternate (direct,
enrich, direct, …) and the medians are compared. Target: overhead <= 5 %.

    .venv/bin/python benchmarks/bench_enrich.py                 # fast pygls server, generated
    .venv/bin/python benchmarks/bench_enrich.py --server basedpyright   # examples/
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from lsprotocol import types  # noqa: E402
from pygls.lsp.client import LanguageClient  # noqa: E402

from proxy.config import ProxyConfig  # noqa: E402
from proxy.enrich.client import CAPABILITIES  # noqa: E402
from proxy.enrich.files import language_id, list_files  # noqa: E402
from proxy.enrich.progress import PlainProgress  # noqa: E402
from proxy.enrich.runner import EnrichOptions, Runner  # noqa: E402
from tracker.model import DEFAULT_ORPHAN_OPERATIONS  # noqa: E402

PYGLS_SERVER = ROOT / "tests" / "enrich" / "servers" / "fails_on_bad.py"


def generate(workspace: Path, files: int, functions: int) -> None:
    for f in range(files):
        body = "".join(f"def good_{f}_{i}():\n    pass\n\n" for i in range(functions))
        (workspace / f"mod_{f}.py").write_text(body)


def flatten(symbols: Any) -> list[Any]:
    out: list[Any] = []
    for s in symbols or []:
        out.append(s)
        out.extend(flatten(getattr(s, "children", None)))
    return out


async def direct(server: list[str], workspace: Path, jobs: int) -> tuple[float, int]:
    """The same requests enrich sends, straight to the server; returns (seconds, symbols)."""
    started = time.perf_counter()
    client = LanguageClient("bench-direct", "1")

    @client.feature(types.WORKSPACE_CONFIGURATION)
    def configuration(params: types.ConfigurationParams) -> list[None]:
        return [None] * len(params.items)

    @client.feature(types.WINDOW_WORK_DONE_PROGRESS_CREATE)
    def progress(params: Any) -> None:
        return None

    await client.start_io(server[0], *server[1:])
    root = workspace.as_uri()
    await client.initialize_async(
        types.InitializeParams(
            capabilities=CAPABILITIES,
            root_uri=root,
            workspace_folders=[types.WorkspaceFolder(uri=root, name=workspace.name)],
        )
    )
    client.initialized(types.InitializedParams())
    semaphore = asyncio.Semaphore(jobs)
    symbols: list[tuple[str, Any]] = []

    async def outline(path: Path) -> None:
        async with semaphore:
            text = path.read_text()
            item = types.TextDocumentItem(
                uri=path.as_uri(), language_id=language_id(path), version=1, text=text
            )
            client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=item))
            doc = types.TextDocumentIdentifier(uri=path.as_uri())
            result = await client.text_document_document_symbol_async(
                types.DocumentSymbolParams(text_document=doc)
            )
            symbols.extend((path.as_uri(), s) for s in flatten(result))

    await asyncio.gather(*(outline(p) for p in list_files(workspace)))

    async def enrich_one(uri: str, symbol: Any) -> None:
        doc = types.TextDocumentIdentifier(uri=uri)
        pos = symbol.selection_range.start
        async with semaphore:
            await client.text_document_references_async(
                types.ReferenceParams(
                    text_document=doc,
                    position=pos,
                    context=types.ReferenceContext(include_declaration=False),
                )
            )
        async with semaphore:
            await client.text_document_implementation_async(
                types.ImplementationParams(text_document=doc, position=pos)
            )
        async with semaphore:
            items = await client.text_document_prepare_call_hierarchy_async(
                types.CallHierarchyPrepareParams(text_document=doc, position=pos)
            )
            if items:
                item = items[0]
                await client.call_hierarchy_incoming_calls_async(
                    types.CallHierarchyIncomingCallsParams(item=item)
                )
                await client.call_hierarchy_outgoing_calls_async(
                    types.CallHierarchyOutgoingCallsParams(item=item)
                )

    await asyncio.gather(*(enrich_one(uri, s) for uri, s in symbols))
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return time.perf_counter() - started, len(symbols)


async def through_enrich(server: list[str], workspace: Path, jobs: int, db: Path) -> float:
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
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", choices=("pygls", "basedpyright"), default="pygls")
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--functions", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=8)
    args = parser.parse_args()
    logging.getLogger("pygls").setLevel(logging.ERROR)
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
        direct_times: list[float] = []
        proxied_times: list[float] = []
        enrich_times: list[float] = []
        symbols = 0
        for round_ in range(args.rounds):
            seconds, symbols = asyncio.run(direct(server, workspace, args.jobs))
            direct_times.append(seconds)
            # The direct client's requests through the proxy alone: splits the overhead into
            # the proxy's share and enrich's own (monitor rounds, queries, summary).
            proxy = [
                sys.executable,
                "-m",
                "proxy",
                "--db",
                str(tmp / f"p{round_}.db"),
                "--",
                *server,
            ]
            proxied_times.append(asyncio.run(direct(proxy, workspace, args.jobs))[0])
            # A fresh database each round: a second run over a full graph would ask nothing.
            enrich_times.append(
                asyncio.run(through_enrich(server, workspace, args.jobs, tmp / f"g{round_}.db"))
            )
        d, e = statistics.median(direct_times), statistics.median(enrich_times)
        p = statistics.median(proxied_times)
        print(f"server: {args.server}; {symbols} symbols; jobs {args.jobs}; {args.rounds} rounds")
        print(f"direct : {symbols / d:8.1f} symbols/s  (median {d:.3f} s)")
        print(f"proxied: {symbols / p:8.1f} symbols/s  (median {p:.3f} s)  direct client via proxy")
        print(f"enrich : {symbols / e:8.1f} symbols/s  (median {e:.3f} s)")
        print(
            f"overhead: {100 * (e / d - 1):+.1f} %  (target <= 5 %); of which the proxy "
            f"alone: {100 * (p / d - 1):+.1f} %"
        )


if __name__ == "__main__":
    main()
