"""Schema 3 → 4: positions a utf-8 or utf-32 session recorded become UTF-16 where the text proves
their unit (tracker/unit_repair.py); what cannot be proven is kept as recorded."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from lsp_backoff.proxy.documents import content_hash as proxy_hash
from lsp_backoff.proxy.reads import read_file
from lsp_backoff.tracker import queries
from lsp_backoff.tracker.migrations import migrate
from lsp_backoff.tracker.positions import convert, index_of
from lsp_backoff.tracker.unit_repair import content_hash, names, read_text

LINE = "int main(void) { /* ééé日本 */ return target(1) + /* ü */ target(2); }"
C_TEXT = "int target(int x);\r\nint target(int x) { return x; }\r\n" + LINE + "\r\n"


def at(needle: str, n: int, encoding: str) -> int:
    i = -1
    for _ in range(n):
        i = LINE.index(needle, i + 1)
    return convert(LINE, i, "utf-32", encoding)


def test_index_of_is_exact_or_none() -> None:
    assert index_of("a😀b", 3, "utf-16") == 2
    assert index_of("a😀b", 2, "utf-16") is None  # the low surrogate
    assert index_of("a😀b", 5, "utf-8") == 2
    assert index_of("a😀b", 4, "utf-8") is None
    assert index_of("a😀b", 3, "utf-32") == 3 and index_of("a😀b", 4, "utf-32") is None
    assert index_of("ab", 2, "utf-8") == 2 and index_of("ab", 3, "utf-8") is None
    assert names(LINE, at("target", 2, "utf-8"), "utf-8", "target")
    assert not names(LINE, at("target", 2, "utf-8"), "utf-16", "target")


def test_reading_and_hashing_agree_with_the_proxy(tmp_path: Path) -> None:
    path = tmp_path / "é.c"
    path.write_bytes(b"\xef\xbb\xbf" + C_TEXT.encode() + b"\xff")  # a BOM, a bad byte
    uri = path.as_uri()
    assert read_text(uri) == read_file(uri) is not None
    assert content_hash(C_TEXT) == proxy_hash(C_TEXT)
    assert read_text("untitled:1") is None and read_text(tmp_path.as_uri()) is None


def v3_file(tmp_path: Path, text: str = C_TEXT) -> tuple[sqlite3.Connection, str, int]:
    """A schema-3 file with a.c recorded at ``text``'s hash and the file on disk."""
    source = tmp_path / "a.c"
    source.write_bytes(text.encode())
    conn = sqlite3.connect(tmp_path / "graph.db", isolation_level=None)
    migrate(conn, "v3", target=3)
    uri = source.as_uri()
    conn.execute(
        "INSERT INTO document (uri, version, updated_at) VALUES (?, ?, 1)",
        (uri, content_hash(text)),
    )
    return conn, uri, conn.execute("SELECT id FROM document").fetchone()[0]


def symbol(conn: sqlite3.Connection, doc: int, line: int, character: int, name: str) -> int:
    conn.execute(
        "INSERT INTO symbol (document, key, name, line, character, version, source, recorded_at)"
        " VALUES (?, ?, ?, ?, ?, (SELECT version FROM document WHERE id = ?), 0, 1)",
        (doc, f"#{line}:{character}:{name}", name, line, character, doc),
    )
    return int(conn.execute("SELECT max(id) FROM symbol").fetchone()[0])


def pair(
    conn: sqlite3.Connection, sid: int, operation: int, doc: int, targets: list[tuple[int, int]]
) -> None:
    version = conn.execute("SELECT version FROM symbol WHERE id = ?", (sid,)).fetchone()[0]
    conn.execute(
        "INSERT INTO pair (symbol, operation, kind, edges, version, recorded_at)"
        " VALUES (?, ?, 0, ?, ?, 1)",
        (sid, operation, len(targets), version),
    )
    conn.executemany(
        "INSERT INTO edge VALUES (?, ?, ?, ?, ?)",
        [(sid, operation, doc, line, c) for line, c in targets],
    )


REFS, DEFINITION = 4, 0


def test_a_utf8_twin_merges_into_its_utf16_symbol_and_a_lone_one_is_converted(
    tmp_path: Path,
) -> None:
    conn, uri, doc = v3_file(tmp_path)
    b1, b2 = at("target", 1, "utf-8"), at("target", 2, "utf-8")
    u1, u2 = at("target", 1, "utf-16"), at("target", 2, "utf-16")
    # The database: a utf-8 and a utf-16 session asked references at the 2nd target.
    bytes_sid = symbol(conn, doc, 2, b2, "target")
    pair(conn, bytes_sid, REFS, doc, [(0, 4), (2, b1), (2, b2)])
    pair(conn, bytes_sid, DEFINITION, doc, [(1, 4)])
    units_sid = symbol(conn, doc, 2, u2, "target")
    pair(conn, units_sid, REFS, doc, [(0, 4), (2, u1), (2, u2)])
    # The first target asked by a utf-8 session only.
    lone = symbol(conn, doc, 2, b1, "target")
    pair(conn, lone, REFS, doc, [(2, b2)])
    conn.execute(
        "INSERT INTO failures (symbol, operation, document, failures, updated_at)"
        " VALUES (?, 'implementation', ?, 2, 1)",
        (f"{uri}#2:{b1}:target", uri),
    )
    # A symbol on an ASCII prefix and a nameless one: nothing to tell, nothing changes.
    symbol(conn, doc, 1, 4, "target")
    conn.execute(
        "INSERT INTO symbol (document, key, name, line, character, source, recorded_at)"
        " VALUES (?, '#2:70', '', 2, 70, 0, 1)",
        (doc,),
    )
    conn.close()

    conn = sqlite3.connect(tmp_path / "graph.db", isolation_level=None)
    assert migrate(conn, "graph.db") is True
    keys = {k for (k,) in conn.execute("SELECT key FROM symbol")}
    assert keys == {f"#2:{u2}:target", f"#2:{u1}:target", "#1:4:target", "#2:70"}, keys
    edges = {
        (e["symbol"], e["operation"], e["target"]["line"], e["target"]["character"])
        for e in queries.iter_edges(conn)
    }
    second, first = f"{uri}#2:{u2}:target", f"{uri}#2:{u1}:target"
    assert edges == {
        (second, "references", 0, 4),
        (second, "references", 2, u1),
        (second, "references", 2, u2),
        (second, "definition", 1, 4),  # the twin's, for an operation the UTF-16 one lacked
        (first, "references", 2, u2),
    }, edges
    assert conn.execute("SELECT symbol FROM failures").fetchall() == [(first,)]
    # The schema's bookkeeping followed: orphans name only existing symbols at their positions.
    orphans = {(r[0], r[1]) for r in conn.execute("SELECT DISTINCT line, character FROM orphan")}
    assert orphans == {(2, u2), (2, u1), (1, 4), (2, 70)}, orphans
    assert conn.execute("SELECT value FROM graph_info WHERE name = 'position_unit'").fetchone() == (
        "utf-16",
    )


@pytest.mark.parametrize("changed", [True, False])
def test_unprovable_rows_are_kept(tmp_path: Path, changed: bool) -> None:
    conn, _uri, doc = v3_file(tmp_path)
    b2, u2, nowhere = at("target", 2, "utf-8"), at("target", 2, "utf-16"), at("return", 1, "utf-8")
    symbol(conn, doc, 2, b2, "target")
    symbol(conn, doc, 2, nowhere, "nothere")  # no unit puts this name there
    if changed:  # the file changed since it was recorded: its text proves nothing
        (tmp_path / "a.c").write_text(C_TEXT + "// more\n")
    conn.close()
    conn = sqlite3.connect(tmp_path / "graph.db", isolation_level=None)
    migrate(conn, "graph.db")
    keys = {k for (k,) in conn.execute("SELECT key FROM symbol")}
    assert keys == {f"#2:{b2 if changed else u2}:target", f"#2:{nowhere}:nothere"}, keys
