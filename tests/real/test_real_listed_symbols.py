"""What a listing says holds, with the real basedpyright (issue 21): names and kinds.

Names listed from punctuation: basedpyright's documentSymbol selectionRange of `*args` and
`**kwargs` starts at the `*`, of a `__slots__` entry at its quote. Keyed and asked there,
references answered nothing and the graph recorded a definitive "none" that no indexer asks
again (rich: 53 symbols, pip: 457). Listings now key a symbol at the first identifier inside
its selectionRange, so `enrich` asks at the name: every symbol is keyed at an identifier, and
the parameters get their references.

Kinds: basedpyright lists a property as a Method (6) and names it a Property (7) in its call
hierarchy items; the graph keeps what documentSymbol says, whatever enrich asks after it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from realtools import REPO, clean_env, find_tool

from lsp_backoff.tracker import queries

pytestmark = [pytest.mark.real_server]

SAMPLE = """\
import functools


def deco(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        return fn(*args, **kwargs)

    return wrapper


class Point:
    __slots__ = ("a", "b")

    def __init__(self, a, b):
        self.a = a
        self.b = b

    @property
    def total(self):
        return self.a + self.b


@deco
def decorated(*values, **options):
    return len(values) + len(options)


print(decorated(1, 2, k=3), Point(1, 2).a, Point(3, 4).total)
"""


def enrich(tmp_path: Path, *operations: str) -> Path:
    """`lsp-backoff enrich` with basedpyright on SAMPLE, asking `operations`; the database."""
    ws, db = tmp_path / "ws", tmp_path / "graph.db"
    ws.mkdir()
    (ws / "sample.py").write_text(SAMPLE)
    argv = [
        sys.executable, "-m", "lsp_backoff", "enrich", str(ws), "--db", str(db), "--json",
        "--interval", "0.5", *(arg for op in operations for arg in ("--operation", op)),
        "--", find_tool("basedpyright-langserver"), "--stdio",
    ]  # fmt: skip
    env = clean_env(tmp_path)
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run(
        argv, cwd=ws, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["completed"] is True and summary["missing"] == 0, summary
    return db


def test_symbols_listed_from_punctuation_are_keyed_and_asked_at_their_name(
    tmp_path: Path,
) -> None:
    db = enrich(tmp_path, "references", "definition")
    lines = SAMPLE.splitlines()
    conn = queries.connect(db)
    try:
        symbols = conn.execute("SELECT key, name, line, character FROM symbols").fetchall()
        refs: dict[str, str] = {}
        for edge in queries.edges(conn):
            if edge["operation"] == "references":
                refs[edge["symbol"]] = edge["kind"]
    finally:
        conn.close()
    at: dict[tuple[int, int], str] = {}
    for key, name, line, character in symbols:
        # Zero keyed at punctuation: every key names the identifier at its position.
        assert key.endswith(f":{name}") and lines[line][character:].startswith(name), key
        at[(line, character)] = key
    row = {
        "wrapper": lines.index("    def wrapper(*args, **kwargs):"),
        "slots": lines.index('    __slots__ = ("a", "b")'),
        "decorated": lines.index("def decorated(*values, **options):"),
    }
    parameters = {
        "args": (row["wrapper"], 17),
        "kwargs": (row["wrapper"], 25),
        "values": (row["decorated"], 15),
        "options": (row["decorated"], 25),
        "decorated": (row["decorated"], 4),
    }
    for name, position in parameters.items():
        key = at.get(position)
        assert key is not None and key.endswith(f":{name}"), (name, sorted(at))
        assert refs.get(key) == "edge", (name, refs.get(key))  # was "none", asked at the `*`
    # The slot entries are keyed at their name too (basedpyright answers nothing inside the
    # string even there: a use's references list the entry, which the graph records).
    for name, character in (("a", 18), ("b", 23)):
        assert at.get((row["slots"], character), "").endswith(f":{name}"), sorted(at)


def test_a_propertys_kind_is_what_document_symbol_says(tmp_path: Path) -> None:
    """enrich lists (documentSymbol: Method), then asks prepareCallHierarchy and the calls with
    the item (Property): the kind stays the listing's. Before, the item's overwrote it."""
    db = enrich(tmp_path, "prepare_call_hierarchy", "incoming_calls", "outgoing_calls")
    conn = queries.connect(db)
    try:
        rows = conn.execute("SELECT key, kind FROM symbols WHERE name = 'total'").fetchall()
        asked = {
            edge["operation"]
            for edge in queries.edges(conn)
            if edge["symbol"] == rows[0][0] and edge["kind"] == "edge"
        }
    finally:
        conn.close()
    assert len(rows) == 1, rows
    assert rows[0][1] == 6, rows  # SymbolKind.Method, as documentSymbol lists it
    assert "prepare_call_hierarchy" in asked, asked  # an item (kind 7) was there to overwrite
