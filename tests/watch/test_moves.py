"""Issue 24 without processes: what an edit changed (proxy/edits.py) and the graph's rows moved
through its line map (tracker/moves.py, through GraphStore's own write path and the documented
reads): a blank line at the top moves every key and edge by one and loses nothing; a docstring
word names nothing; an edge whose target line was touched, or sits on a name the edit changed,
is stale; failure rows and `stats` move with their symbols."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lsp_backoff.proxy.edits import compare
from lsp_backoff.tracker import queries
from lsp_backoff.tracker.model import FailureState, SymbolRef, Target
from lsp_backoff.tracker.moves import LineMap
from lsp_backoff.tracker.staleness import SITE_OPERATIONS, STALE_OPERATIONS
from lsp_backoff.tracker.store import GraphStore

A, B = "file:///w/a.py", "file:///w/b.py"

SOURCE = '''\
import os


def area(r):
    """The area.

    Of a circle.
    """
    # a comment naming perimeter
    return 3 * r * r


def report():
    return area(2)
'''


def sym(doc: str, name: str, line: int, character: int, version: str) -> SymbolRef:
    return SymbolRef(f"{doc}#{line}:{character}:{name}", doc, name, line, character, 12, version)


# -- what an edit changed --------------------------------------------------------------------


def test_a_docstring_or_comment_word_names_nothing_and_moves_nothing() -> None:
    for old, new in (("Of a circle", "Of a round circle"), ("naming perimeter", "naming area")):
        edit = compare(SOURCE, SOURCE.replace(old, new), A)
        assert edit.names == frozenset() and edit.touched == 1
        assert all(old_line == new_line for old_line, new_line, _n in edit.blocks)


def test_a_blank_line_at_the_top_moves_every_line_by_one() -> None:
    edit = compare(SOURCE, "\n" + SOURCE, A)
    assert edit.blocks == ((0, 1, SOURCE.count("\n")),) and edit.names == frozenset()


def test_a_new_call_names_the_callee_and_holes_its_occurrences() -> None:
    edit = compare(SOURCE, SOURCE + "\n\ndef more():\n    return area(3)\n", A)
    assert edit.names == {"more", "area"}  # `def` and `return` are keywords: no symbol's name
    assert edit.holes == {3: ((4, 8),), 13: ((11, 15),)}  # both `area`s on kept lines


def test_strings_that_are_code_count_and_a_new_string_opener_touches_everything() -> None:
    code = 'x: "Renderable" = None\n__all__ = ["area"]\n'
    assert "report" in compare(code, code.replace('["area"]', '["area", "report"]'), A).names
    assert compare(code, code.replace("Renderable", "Other"), A).names == {"Renderable", "Other"}
    opened = compare(SOURCE, SOURCE.replace("import os\n", 'import os\n"""\n'), A)
    assert opened.blocks == () and "report" in opened.names  # does not tokenize: all of it


def test_other_languages_count_every_word_and_give_up_on_a_comment_opener() -> None:
    ts = "function area(r) {\n  return r;\n}\n"
    assert compare(ts, "\n" + ts, "file:///w/a.ts").blocks == ((0, 1, 3),)
    commented = compare(ts, "/*\n" + ts + "*/\n", "file:///w/a.ts")
    assert commented.blocks == () and {"area", "r"} <= commented.names


def test_a_reindented_line_names_its_words() -> None:
    edit = compare(
        SOURCE, SOURCE.replace("    return area(2)", "    if True:\n        return area(2)"), A
    )
    assert "area" in edit.names


# -- the graph moved through it --------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> Iterator[GraphStore]:
    s = GraphStore(tmp_path / "graph.db")
    s.start()
    s.put_document(A, "v1")
    s.put_document(B, "b1")
    area, report = sym(A, "area", 3, 4, "v1"), sym(A, "report", 12, 4, "v1")
    main = sym(B, "main", 0, 4, "b1")
    s.put_symbols([area, report, main], "document_symbol")
    s.put_edges(area, "references", [Target(A, 13, 11), Target(B, 2, 8)])
    s.put_edges(report, "outgoing_calls", [Target(A, 3, 4)])
    s.put_edges(main, "definition", [Target(A, 3, 4)])
    s.put_edges(main, "references", [Target(B, 0, 4)])
    s.put_placeholder(report, "references", "none")
    failing = FailureState(report.key, A, "implementation", failures=2, retry_at=9e9, version="v1")
    s.put_failure(failing)
    assert s.flush()
    yield s
    s.close()


def rows(store: GraphStore) -> set[tuple[Any, ...]]:
    found = store.query(queries.edges)
    return {
        (
            r["symbol"].rsplit("/", 1)[1],
            r["operation"],
            r["kind"],
            tuple(sorted((r["target"] or {}).items())),
        )
        for r in found
    }


def shifted(row: tuple[Any, ...], by: int) -> tuple[Any, ...]:
    symbol, operation, kind, target = row
    target = dict(target)
    if symbol.startswith("a.py#"):
        line, character, name = symbol[5:].split(":")
        symbol = f"a.py#{int(line) + by}:{character}:{name}"
    if target.get("uri") == A:
        target["line"] += by
    return symbol, operation, kind, tuple(sorted(target.items()))


def translate(store: GraphStore, old: str, new: str, names: frozenset[str] = frozenset()) -> None:
    edit = compare(old, new, A)
    redo = SITE_OPERATIONS if edit.names else ()
    store.translate(
        A, "v1", "v2", LineMap(edit.blocks, edit.holes), edit.names, STALE_OPERATIONS, redo
    )
    store.put_document(A, "v2")  # what the proxy records next: nothing left to drop
    assert store.flush()


def test_a_blank_line_at_the_top_moves_every_key_and_edge_and_loses_nothing(store) -> None:
    before = rows(store)
    stats = store.query(queries.stats)
    translate(store, SOURCE, "\n" + SOURCE)
    assert rows(store) == {shifted(row, 1) for row in before}
    assert store.query(lambda c: queries.orphans(c, operations=("references",))) == []
    moved = store.query(queries.read_failures)
    assert [(f.symbol, f.version, f.failures) for f in moved] == [(f"{A}#13:4:report", "v2", 2)]
    after = store.query(queries.stats)
    assert (after["symbols"], after["edges"]) == (stats["symbols"], stats["edges"])


def test_a_docstring_word_keeps_everything(store) -> None:
    before = rows(store)
    translate(store, SOURCE, SOURCE.replace("Of a circle", "Of a round circle"))
    assert rows(store) == before


def test_a_new_call_drops_only_what_names_the_callee(store) -> None:
    before = rows(store)
    translate(store, SOURCE, SOURCE + "\n\ndef more():\n    return area(3)\n")
    after = rows(store)
    # area's answers (its key sits on the changed name) and the edges onto `area` go; the
    # answers about b.py's main pointing elsewhere, and report's none, stay.
    assert {r[0] for r in before - after} == {"a.py#3:4:area", "b.py#0:4:main", "a.py#12:4:report"}
    assert (
        "b.py#0:4:main",
        "references",
        "edge",
        (("character", 4), ("line", 0), ("uri", B)),
    ) in after
    assert ("a.py#12:4:report", "references", "none", ()) in after


def test_a_touched_target_line_is_stale(store) -> None:
    translate(store, SOURCE, SOURCE.replace("return area(2)", "return  area(2)"))
    symbols = {r[0] for r in rows(store)}
    assert "a.py#3:4:area" not in {r[0] for r in rows(store) if r[1] == "references"}
    assert "b.py#0:4:main" in symbols


def test_a_graph_built_from_other_content_moves_nothing(store) -> None:
    edit = compare(SOURCE, "\n" + SOURCE, A)
    store.translate(A, "v0", "v2", LineMap(edit.blocks), edit.names, STALE_OPERATIONS)
    store.put_document(A, "v2")
    assert store.flush()
    # The target rule ran instead: b.py's answer into a.py is gone, a.py's own rows are stale.
    assert rows(store) == {
        ("b.py#0:4:main", "references", "edge", (("character", 4), ("line", 0), ("uri", B)))
    }


def test_a_new_use_of_a_class_rearms_its_constructor(tmp_path: Path) -> None:
    """`Square(1.0)` is a reference of `Square.__init__` to the servers without naming it."""
    s = GraphStore(tmp_path / "graph.db")
    s.start()
    try:
        s.put_document(A, "v1")
        s.put_document(B, "b1")
        square = SymbolRef(f"{B}#0:6:Square", B, "Square", 0, 6, 5, "b1")  # kind 5: a class
        init = sym(B, "__init__", 1, 8, "b1")
        s.put_symbols([square, init], "document_symbol")
        s.put_edges(init, "references", [Target(B, 1, 8)])
        assert s.flush()
        old = "from b import Square\n"
        edit = compare(old, old + "Square(1.0)\n", A)
        assert "__init__" not in edit.names
        line_map = LineMap(edit.blocks, edit.holes)
        s.translate(A, "v1", "v2", line_map, edit.names, STALE_OPERATIONS, (), ())
        assert s.flush()
        assert len(s.query(queries.edges)) == 1  # without the members: kept
        s.translate(A, "v2", "v3", line_map, edit.names, STALE_OPERATIONS, (), ("__init__",))
        assert s.flush()
        assert s.query(queries.edges) == []
    finally:
        s.close()


def test_a_positional_key_keeps_the_label_a_listing_gave_it(tmp_path: Path) -> None:
    """Whichever comes last — the listing or a request (which knows no name there) — the row
    is the same: a watched file's kept answers are not asked again after its re-listing."""
    s = GraphStore(tmp_path / "graph.db")
    s.start()
    try:
        s.put_document(A, "v1")
        listed = SymbolRef(f"{A}#3:8", A, "objects", 3, 8, 13, "v1")
        asked = SymbolRef(f"{A}#3:8", A, "", 3, 8, None, "v1")
        s.put_symbols([listed], "document_symbol")
        s.put_placeholder(asked, "references", "none")
        s.put_symbols([listed], "document_symbol")
        assert s.flush()
        assert [r["name"] for r in s.query(queries.edges)] == ["objects"]
        s.put_placeholder(asked, "references", "none")
        assert s.flush()
        assert [r["name"] for r in s.query(queries.edges)] == ["objects"]
    finally:
        s.close()
