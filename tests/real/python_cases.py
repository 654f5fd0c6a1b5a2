"""Requests on examples/ shared by the Python server modules (basedpyright, pyright, jedi,
pyrefly, ty, zuban), and the checks they share.

Positions are found by text (``position_of``), so editing examples/ moves them along. Each
server module decides which of these it runs and what "no result" looks like for it.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lspwire import LspClient, position_of
from pairing import Pair, edges_for, graph_cli, text_position
from realtools import EXAMPLES, PROXY, clean_env

FILES = sorted(EXAMPLES.rglob("*.py"))
APP = EXAMPLES / "app.py"
REPORT = EXAMPLES / "report.py"
BASE = EXAMPLES / "shapes" / "base.py"
CIRCLE = EXAMPLES / "shapes" / "circle.py"


def at(path: Path, needle: str, occurrence: int = 1, offset: int = 0) -> dict[str, Any]:
    return text_position(
        path.as_uri(), position_of(path, needle, occurrence=occurrence, offset=offset)
    )


#: (label, method, params) for the tracked requests with an answer on examples/.
def tracked_cases() -> list[tuple[str, str, dict[str, Any]]]:
    refs = {"context": {"includeDeclaration": True}}
    return [
        ("definition of a call", "textDocument/definition", at(APP, "summarize", 2)),
        ("definition of an import", "textDocument/definition", at(APP, "Circle", 1)),
        ("declaration", "textDocument/declaration", at(APP, "summarize", 2)),
        ("typeDefinition of a variable", "textDocument/typeDefinition", at(APP, "unit", 2)),
        (
            "references to a class",
            "textDocument/references",
            {**at(BASE, "class Shape", 1, 6), **refs},
        ),
        (
            "references to a method",
            "textDocument/references",
            {**at(BASE, "def area", 1, 4), **refs},
        ),
    ]


def unresolved() -> dict[str, Any]:
    """``plugins.load_all``: ``plugins`` does not exist, so nothing can resolve ``load_all``."""
    return at(APP, "load_all")


def diagnosed(client: LspClient) -> bool:
    """Every opened file has had its diagnostics published (jedi's only sign of life)."""
    return len(client.diagnostics()) >= len(FILES)


def analyzed(client: LspClient) -> bool:
    """The pyright family's initial analysis has finished.

    Observed: basedpyright and pyright publish a first round of diagnostics for the opened
    files and only then start their background analysis as $/progress (begin, "5 files to
    analyze", …, end) when the client supports window.workDoneProgress. Waiting for
    diagnostics alone returns mid-analysis, where empty answers are "busy" to the proxy.
    """
    ended = any(
        p.get("value", {}).get("kind") == "end" for p in client.notifications_of("$/progress")
    )
    return diagnosed(client) and ended and not client.open_progress_tokens()


async def assert_untouched(pair: Pair) -> None:
    """hover, completion, documentSymbol and diagnostics are the server's own, byte for byte."""
    await pair.same("textDocument/hover", at(APP, "summarize", 2))
    await pair.same("textDocument/completion", at(APP, "Circle(1.0)", 1, 3))
    for path in (APP, BASE):
        await pair.same("textDocument/documentSymbol", {"textDocument": {"uri": path.as_uri()}})
    assert pair.proxied.diagnostics() == pair.direct.diagnostics()


async def assert_call_hierarchy(pair: Pair) -> list[dict[str, Any]]:
    """prepare + incoming + outgoing on ``summarize`` and ``Shape.area``; returns the items."""
    items = []
    for params in (at(REPORT, "def summarize", 1, 4), at(BASE, "def area", 1, 4)):
        prepared = await pair.same("textDocument/prepareCallHierarchy", params)
        assert prepared.result, f"no call hierarchy item at {params}"
        item = prepared.result[0]
        items.append(item)
        incoming = await pair.same("callHierarchy/incomingCalls", {"item": item})
        outgoing = await pair.same("callHierarchy/outgoingCalls", {"item": item})
        assert incoming.result or outgoing.result, f"{item['name']}: no calls either way"
    return items


async def ask_then_assert_graph_has_edges(pair: Pair) -> None:
    """Ask a definition and Shape's references through both, then check the proxy's graph."""
    await pair.same("textDocument/definition", at(APP, "summarize", 2))
    await pair.same(
        "textDocument/references",
        {**at(BASE, "class Shape", 1, 6), "context": {"includeDeclaration": True}},
    )
    await assert_graph_has_edges(pair)


async def assert_graph_has_edges(pair: Pair) -> None:
    """What went through is in the proxy's graph, pointing where the server said."""
    edges = await pair.edges()
    summarize = [
        e
        for e in edges
        if e["name"] == "summarize" and e["operation"] == "definition" and e["uri"] == APP.as_uri()
    ]
    assert summarize, f"no definition edge for summarize in {edges}"
    target = summarize[0]["target"]
    assert target is not None, summarize
    assert target["uri"] == REPORT.as_uri()
    assert (target["line"], target["character"]) == tuple(
        position_of(REPORT, "def summarize", offset=4).values()
    )
    references = [e for e in edges if e["name"] == "Shape" and e["operation"] == "references"]
    # One edge per location the server returned (the declaration is included).
    assert len(references) >= 4, references
    assert all(e["kind"] == "edge" for e in references)


async def assert_tracked_answers(pair: Pair, server: str) -> None:
    """Every tracked case answers the same through the proxy, and finds something."""
    for label, method, params in tracked_cases():
        answer = await pair.same(method, params)
        assert answer.result, f"{label}: {server} found nothing at {params}"


async def assert_nothing_failed(pair: Pair, since: dict[str, int]) -> None:
    """No answer since the ``since`` stats was a failure, "busy" or the proxy's own."""
    stats = await pair.stats()
    counters = ("failures", "transient", "short_circuited")
    assert [stats[c] for c in counters] == [since[c] for c in counters], (since, stats)


def server_requests(client: LspClient) -> list[tuple[str, Any]]:
    return [(f.msg["method"], f.msg.get("params")) for f in client.server_requests]


def assert_server_requests_unchanged(pair: Pair) -> list[tuple[str, Any]]:
    """The server's own requests reach the client as the server sent them; returns them."""
    asked = server_requests(pair.proxied)
    assert asked == server_requests(pair.direct)
    return asked


async def assert_placeholder_once_confirmed(pair: Pair, backoff_base: float) -> None:
    """A server with no readiness signal: the first null is tentative, a later one settles it.

    Such a server (jedi, pyrefly, ty, zuban: no $/progress) never tells the proxy it is ready,
    so an empty answer only becomes a ``none`` placeholder when the same question is answered
    empty again ``backoff_base`` seconds later. Until then every asking is forwarded.
    """
    before = await pair.stats()
    assert (await pair.same("textDocument/definition", unresolved())).result is None
    assert edges_for(await pair.edges(), "load_all", "definition") == []
    rows: list[dict[str, Any]] = []
    for _ in range(int(20 / backoff_base)):  # bounded: at most ~10 s of asking
        await asyncio.sleep(backoff_base / 2)
        assert (await pair.same("textDocument/definition", unresolved())).result is None
        rows = edges_for(await pair.edges(), "load_all", "definition")
        if rows:
            break
    assert [(r["kind"], r["target"]) for r in rows] == [("none", None)], rows
    after = await pair.stats()
    # Every asking reached the server (same() compared each answer); none was a failure.
    assert after["short_circuited"] == before["short_circuited"]
    assert after["failures"] == before["failures"]


async def assert_failure_answered_by_proxy(pair: Pair, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` make the server fail a definition: its error is forwarded once, the retry is
    answered ``null`` by the proxy at once (the server, asked directly, still fails). Returns
    the server's error."""
    before = await pair.stats()
    first = await pair.same("textDocument/definition", params)
    assert first.error is not None, first.raw
    direct, proxied = await pair.both("textDocument/definition", params)
    assert direct.error is not None, direct.raw
    assert proxied.msg == {"jsonrpc": "2.0", "id": proxied.msg["id"], "result": None}
    after = await pair.stats()
    assert after["failures"] == before["failures"] + 1
    assert after["short_circuited"] == before["short_circuited"] + 1
    return first.error


async def assert_unsupported_noted(
    pair: Pair, method: str, params: dict[str, Any], *, name: str, operation: str
) -> None:
    """A method the server does not implement (-32601): its error is forwarded every time (no
    backoff: a missing method is not a failing symbol) and one ``error`` placeholder says so,
    so an indexer stops asking."""
    before = await pair.stats()
    for _ in range(2):
        answer = await pair.same(method, params)
        assert answer.error is not None and answer.error["code"] == -32601, answer.raw
    after = await pair.stats()
    assert after["short_circuited"] == before["short_circuited"]
    assert after["failures"] == before["failures"]
    rows = edges_for(await pair.edges(), name, operation)
    assert [(r["kind"], r["target"]) for r in rows] == [("error", None)], rows
    assert "not supported" in rows[0]["detail"]


async def enrich_examples(options_server: Sequence[str], tmp: Path) -> dict[str, Any]:
    """``lsp-backoff enrich examples/ [options] -- server``: it completes (exit 0), every file's
    symbols were listed, and every symbol has data or a placeholder for every default
    operation (``orphans`` is empty). Returns the ``--json`` summary."""
    tmp.mkdir(parents=True, exist_ok=True)
    db, log = tmp / "enrich.db", tmp / "enrich.log"
    argv = [*PROXY, "enrich", str(EXAMPLES), "--db", str(db), "--json", "--interval", "0.5"]
    # A short base: an empty answer from a server with no readiness signal is only taken once
    # a repeat confirms it base seconds later (5 s by default).
    argv += ["--backoff-base", "0.5"]
    process = await asyncio.create_subprocess_exec(
        *argv, "--log-file", str(log), *options_server,
        cwd=tmp, env=clean_env(tmp), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 180)
    assert process.returncode == 0, f"enrich exited {process.returncode}: {err[-2000:]!r}"
    summary: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    assert summary["completed"] and summary["files"] == len(FILES), summary
    assert summary["document_symbol_errors"] == 0, summary
    assert (summary["missing"], summary["abandoned"], summary["unresolved"]) == (0, 0, 0), summary
    assert graph_cli("orphans", "--json", "--db", str(db)) == []
    return summary
