"""Would `enrich` gain edges by asking about `@overload` signatures' parameters? (issue 21 item 4)

documentSymbol lists one declaration per overloaded function (the implementation), so enrich
never asks about the signatures' parameters, and basedpyright attributes keyword arguments in
calls to the signature's parameter they match, never to the implementation's. This asks
`references` (``includeDeclaration: false``, as enrich does) at every parameter of every
`@overload` signature of a workspace (found with ``ast``) and compares each answer with a graph
enrich built of the same copy: the implementation's parameter of the same name, and every
references edge of the graph. It prints the counts as one JSON line, then one example per
parameter whose answer holds a location the graph lacks.

    cp -r .venv/lib/python3.11/site-packages/rich /tmp/rich && rm -rf /tmp/rich/__pycache__
    .venv/bin/lsp-backoff enrich /tmp/rich --db /tmp/rich.db --operation references \\
        -- .venv/bin/basedpyright-langserver --stdio
    .venv/bin/python benchmarks/measure_overloads.py /tmp/rich /tmp/rich.db \\
        -- .venv/bin/basedpyright-langserver --stdio
"""

from __future__ import annotations

import ast
import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "real"))

from lspwire import LspClient  # noqa: E402

from lsp_backoff.tracker import queries  # noqa: E402

Position = tuple[int, int]


def _is_overload(decorator: ast.expr) -> bool:
    if isinstance(decorator, ast.Name):
        return decorator.id == "overload"
    return isinstance(decorator, ast.Attribute) and decorator.attr == "overload"


def _parameters(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.arg]:
    a = fn.args
    found = [*a.posonlyargs, *a.args, *a.kwonlyargs, *filter(None, (a.vararg, a.kwarg))]
    return [p for p in found if p.arg not in ("self", "cls")]


def overload_parameters(root: Path) -> tuple[int, list[tuple[Path, str, Position, Position]]]:
    """(signatures, [(file, "function(parameter)", its position, the implementation's)])."""
    signatures = 0
    found = []
    for path in sorted(root.rglob("*.py")):
        for scope in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            body = getattr(scope, "body", None)
            if not isinstance(body, list):
                continue
            functions = [n for n in body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)]
            overloaded = [f for f in functions if any(map(_is_overload, f.decorator_list))]
            implementations = {f.name: f for f in functions if f not in overloaded}
            for fn in overloaded:
                signatures += 1
                implementation = implementations.get(fn.name)
                if implementation is None:
                    continue  # a stub: no implementation to compare with
                theirs = {p.arg: p for p in _parameters(implementation)}
                for p in _parameters(fn):
                    other = theirs.get(p.arg)
                    if other is not None:
                        found.append(
                            (
                                path,
                                f"{fn.name}({p.arg})",
                                (p.lineno - 1, p.col_offset),
                                (other.lineno - 1, other.col_offset),
                            )
                        )
    return signatures, found


def graph_references(db: Path) -> dict[tuple[str, int, int], set[tuple[str, int, int]]]:
    conn = queries.connect(db)
    try:
        graph: dict[tuple[str, int, int], set[tuple[str, int, int]]] = {}
        for e in queries.iter_edges(conn, operation="references"):
            if e["kind"] == "edge":
                t = e["target"]
                at = (e["uri"], e["line"], e["character"])
                graph.setdefault(at, set()).add((t["uri"], t["line"], t["character"]))
        return graph
    finally:
        conn.close()


async def main(root: Path, db: Path, server: list[str]) -> dict[str, Any]:
    signatures, found = overload_parameters(root)
    graph = graph_references(db)
    everywhere = set().union(*graph.values())
    client = await LspClient.start(server, cwd=root)
    folder = {"uri": root.as_uri(), "name": root.name}
    init = {"processId": None, "rootUri": root.as_uri(), "capabilities": {}}
    await client.request("initialize", {**init, "workspaceFolders": [folder]})
    client.notify("initialized", {})
    # Only the files asked about are opened: the server checks every open file first (on a
    # loaded machine, opening all of rich's 100 took longer than 15 minutes).
    for path in sorted({path for path, *_ in found}):
        item = {"uri": path.as_uri(), "languageId": "python", "version": 1}
        client.notify("textDocument/didOpen", {"textDocument": {**item, "text": path.read_text()}})
    counts = {"signatures": signatures, "parameters": len(found), "answered": 0, "edges": 0}
    new_edges = 0
    new_locations: set[tuple[str, int, int]] = set()
    examples = []
    for path, label, (line, character), implementation in found:
        params = {
            "textDocument": {"uri": path.as_uri()},
            "position": {"line": line, "character": character},
            "context": {"includeDeclaration": False},
        }
        answer = await client.request("textDocument/references", params, timeout=600)
        print(f"{path.name}:{line + 1} {label}: {len(answer.result or [])}", file=sys.stderr)
        locations = {
            (x["uri"], x["range"]["start"]["line"], x["range"]["start"]["character"])
            for x in answer.result or []
        }
        counts["answered"] += bool(locations)
        counts["edges"] += len(locations)
        missing = locations - graph.get((path.as_uri(), *implementation), set()) - everywhere
        new_edges += len(missing)
        new_locations |= missing
        for uri, at_line, at_character in sorted(missing)[:1]:
            where = f"{uri.rsplit('/', 1)[1]}:{at_line + 1}:{at_character + 1}"
            examples.append(f"{path.relative_to(root)}:{line + 1} {label} -> {where}")
    counts["edges_not_in_graph"] = new_edges
    counts["locations_not_in_graph"] = len(new_locations)
    counts["graph_reference_edges"] = sum(len(targets) for targets in graph.values())
    print(json.dumps(counts))
    print("\n".join(examples), flush=True)
    client.proc.kill()
    return counts


if __name__ == "__main__":
    if "--" not in sys.argv[1:] or len(sys.argv) < 5:
        sys.exit(__doc__)
    cut = sys.argv.index("--")
    asyncio.run(main(Path(sys.argv[1]).resolve(), Path(sys.argv[2]), sys.argv[cut + 1 :]))
    os._exit(0)  # the server's pipes may keep the loop's shutdown waiting: the figures are out
