"""What the depth guard (issue 10) costs `messages.peek` and `messages.decode` on normal frames.

Each body is classified by `peek` (every frame the proxy forwards) and fully decoded by
`decode` (tracked answers, document sync), with the guard on and with it switched off in the
same run, interleaved round by round; the figure is the ratio guarded / unguarded. Bodies are
what editors and servers send every second: a definition request, a didChange keystroke, a
hover answer, and large ones (1 MB of references, a 1 MB didOpen, a 3 MB documentSymbol tree).

    .venv/bin/python benchmarks/bench_peek.py [--rounds 7] [--quick]
"""

from __future__ import annotations

import argparse
import json
import pathlib
import statistics
import sys
import time
from collections.abc import Callable

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from lsp_backoff.proxy import messages  # noqa: E402

GUARDED = messages._too_deep


def _symbol(i: int, depth: int) -> dict:
    where = {"start": {"line": i, "character": 0}, "end": {"line": i, "character": 9}}
    node: dict = {"name": f"sym_{i}", "detail": "list[int]", "kind": 12, "range": where}
    node["selectionRange"] = where
    if depth:
        node["children"] = [_symbol(i * 10 + j, depth - 1) for j in range(2)]
    return node


def bodies(scale: int) -> dict[str, bytes]:
    def dumps(value: dict) -> bytes:
        return json.dumps(value, separators=(",", ":")).encode()

    pos = {"line": 120, "character": 17}
    doc = {"uri": "file:///home/me/project/src/package/module.py"}
    source = "".join(p.read_text() for p in sorted((REPO / "proxy").rglob("*.py")))
    source = (source * (1 + 1_000_000 // len(source)))[: 1_000_000 // scale]
    locations = [
        {"uri": f"file:///home/me/project/m{i % 40}.py", "range": {"start": pos, "end": pos}}
        for i in range(8000 // scale)
    ]
    change = {"range": {"start": pos, "end": pos}, "text": "x"}
    return {
        "definition request": dumps(
            {
                "jsonrpc": "2.0",
                "id": 42,
                "method": "textDocument/definition",
                "params": {"textDocument": doc, "position": pos},
            }
        ),
        "didChange keystroke": dumps(
            {
                "jsonrpc": "2.0",
                "method": "textDocument/didChange",
                "params": {
                    "textDocument": {**doc, "version": 7},
                    "contentChanges": [change],
                },
            }
        ),
        "hover answer 3 KB": dumps(
            {
                "id": 9,
                "jsonrpc": "2.0",
                "result": {"contents": {"kind": "markdown", "value": "`a[i]` " * 400}},
            }
        ),
        "references 1 MB": dumps({"jsonrpc": "2.0", "id": 5, "result": locations}),
        "didOpen 1 MB": dumps(
            {
                "jsonrpc": "2.0",
                "method": "textDocument/didOpen",
                "params": {
                    "textDocument": {**doc, "languageId": "python", "version": 1, "text": source}
                },
            }
        ),
        "documentSymbol 3 MB": dumps(
            {"jsonrpc": "2.0", "id": 6, "result": [_symbol(i, 3) for i in range(700 // scale)]}
        ),
    }


def per_call(fn: Callable[[bytes], object], body: bytes, budget: float) -> float:
    """Seconds per call: the best of a few batches that together take about ``budget``."""
    calls = 1
    while True:
        start = time.perf_counter()
        for _ in range(calls):
            fn(body)
        took = time.perf_counter() - start
        if took > budget / 5:
            break
        calls *= 4
    best = took / calls
    for _ in range(4):
        start = time.perf_counter()
        for _ in range(calls):
            fn(body)
        best = min(best, (time.perf_counter() - start) / calls)
    return best


def measure(fn: Callable[[bytes], object], body: bytes, guard: bool, budget: float) -> float:
    messages._too_deep = GUARDED if guard else (lambda _body: False)  # type: ignore[assignment]
    try:
        return per_call(fn, body, budget)
    finally:
        messages._too_deep = GUARDED  # type: ignore[assignment]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="2 rounds, smaller large bodies")
    args = parser.parse_args()
    rounds, scale, budget = (2, 10, 0.05) if args.quick else (args.rounds, 1, 0.3)
    print(f"{'body':<22} {'bytes':>9} {'call':<7} {'unguarded':>11} {'guarded':>11} {'ratio':>7}")
    for name, body in bodies(scale).items():
        for label, fn in (("peek", messages.peek), ("decode", messages.decode)):
            ratios, off, on = [], [], []
            for index in range(rounds):
                order = (False, True) if index % 2 == 0 else (True, False)
                got = {guard: measure(fn, body, guard, budget) for guard in order}
                off.append(got[False])
                on.append(got[True])
                ratios.append(got[True] / got[False])
            print(
                f"{name:<22} {len(body):>9} {label:<7} {_fmt(statistics.median(off)):>11} "
                f"{_fmt(statistics.median(on)):>11} {statistics.median(ratios):>6.2f}x"
            )
    return 0


def _fmt(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.2f} us"
    return f"{seconds * 1e3:.2f} ms"


if __name__ == "__main__":
    sys.exit(main())
