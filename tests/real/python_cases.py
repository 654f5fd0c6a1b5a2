"""Requests on examples/ shared by the basedpyright, pyright and jedi modules.

Positions are found by text (``position_of``), so editing examples/ moves them along. Each
server module decides which of these it runs and what "no result" looks like for it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lspwire import LspClient, position_of
from pairing import Pair, text_position
from realtools import EXAMPLES

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
