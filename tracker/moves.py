"""Positions move, answers do not (issue 24): a document's rows carried through an edit's line map.

When a document changes, its own rows stop counting (their version is the old content's hash)
and the target rule (tracker/staleness.py) drops every answer elsewhere pointing into it — so a
blank line at the top of a central file re-asks half the workspace. `translate_op` does what a
fresh run would record instead, from a :class:`LineMap` (plain data: the runs of lines the edit
left alone, and the "holes" — spans on those lines that must not be trusted even so):
- an edge into the document at a kept position moves with its line; one whose target lies on a
  touched line or in a hole is stale: its (symbol, operation) pair is dropped and asked again;
- a symbol of the document at a kept position keeps its id, pairs, placeholders and failure
  rows under its moved key, at the new content's version; one on a touched line or in a hole
  leaves (the re-listing records what is there now, as new);
- the name rule runs for symbols elsewhere named in `names` (the identifiers the edit added or
  removed), for `operations`;
- the document's version becomes the new content's hash, so the later recording of that hash
  finds nothing to invalidate.

Only when the graph holds the document at exactly the old content (`old_version`): otherwise
the rows were not built from the text the map starts from, and the rules run as before (target
rule, name rule) — nothing is moved on a guess.

Character positions are kept as they are (a kept line is the same text); a hole is in the units
the caller's spans use, compared with the stored character (UTF-16 for most servers: the two
agree on lines without characters outside the BMP — elsewhere a hole may miss by a few units,
and the name rule is the backstop for the symbol named there).
"""

from __future__ import annotations

import bisect
import json
import re
import sqlite3
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field

from lsp_backoff.tracker.model import OPERATIONS
from lsp_backoff.tracker.staleness import check_operations, name_rule, stale_targets

Step = Callable[[sqlite3.Connection], None]

#: SymbolKind.Class (spec 3.17, document symbols): the kind a class's listed symbol has.
CLASS = 5
#: Pairs with data of symbols named in :members in documents declaring a class named in :names.
_MEMBERS = f"""
DELETE FROM pair WHERE kind IN (0, 1)
  AND operation IN (SELECT value FROM json_each(:operations))
  AND symbol IN (SELECT m.id FROM symbol AS m
                 WHERE m.name IN (SELECT value FROM json_each(:members))
                   AND m.document IN (SELECT c.document FROM symbol AS c
                                      WHERE c.kind = {CLASS}
                                        AND c.name IN (SELECT value FROM json_each(:names))))
"""
#: A pair dropped: its triggers remove its edges and make it an orphan again.
DROP_PAIR = "DELETE FROM pair WHERE symbol = ? AND operation = ?"
#: "#line:character" at the start of a stored key (symbol.key) or after the URI (failures).
_POSITION = re.compile(r"#(\d+):(\d+)(?=:|$)")


@dataclass(frozen=True)
class LineMap:
    #: Kept runs: (first old line, first new line, number of lines), in old-line order.
    blocks: Sequence[tuple[int, int, int]]
    #: Old line -> (start, end) character spans on kept lines that are stale all the same.
    holes: Mapping[int, Sequence[tuple[int, int]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_starts", [b[0] for b in self.blocks])

    def moved(self, line: int, character: int) -> tuple[int, int] | None:
        """Where old position (line, character) is in the new text; None when it was touched."""
        at = bisect.bisect_right(self._starts, line) - 1  # type: ignore[attr-defined]
        if at < 0:
            return None
        old, new, count = self.blocks[at]
        if line >= old + count:
            return None
        for start, end in self.holes.get(line, ()):
            if start <= character < end or character == end == start:
                return None
        if line == character == 0 and new != old:
            # The document's start is where a module's call hierarchy item points, whatever
            # text comes first (basedpyright: an empty range at 0:0): not a text position to
            # move. Whatever sits there is stale when the first line moves.
            return None
        return new + line - old, character

    def lines_moved(self) -> bool:
        return any(old != new for old, new, _count in self.blocks)


@dataclass(frozen=True)
class Edited:
    """An edit as `GraphStore.rearm`'s deferred names may describe it: the rows move
    (`translate_op`) instead of the target rule dropping every answer into the document."""

    old_version: str
    new_version: str
    line_map: LineMap
    names: frozenset[str]
    redo: tuple[str, ...] = ()
    members: tuple[str, ...] = ()


def translate_op(
    uri: str,
    old_version: str,
    new_version: str,
    moves: LineMap,
    names: Collection[str],
    operations: Collection[str],
    now: float,
    redo: Collection[str] = (),
    members: Collection[str] = (),
) -> tuple[Step, ...]:
    """Document `uri` went from content `old_version` to `new_version` through `moves`; the
    kept symbols of the document lose their pairs for the operations in `redo` (answers that
    depend on the code around the symbol rather than on where its name occurs). `members`:
    names a use of a class reaches without spelling them (Python's ``__init__``: ``Square(1)``
    refers to it) — those symbols, in documents declaring a class named in `names`, follow
    the name rule too."""
    check_operations(operations)
    check_operations(redo)
    again = [OPERATIONS.index(op) for op in redo]
    ops = json.dumps(sorted(OPERATIONS.index(op) for op in operations))
    listed = json.dumps(sorted(names))
    reached = json.dumps(sorted(members))

    def step(conn: sqlite3.Connection) -> None:
        row = conn.execute("SELECT id, version FROM document WHERE uri = ?", (uri,)).fetchone()
        doc = None if row is None else int(row[0])
        if members and names and operations:  # first: the class may be a symbol leaving below
            conn.execute(_MEMBERS, {"names": listed, "members": reached, "operations": ops})
        if doc is not None and row[1] == old_version:
            _translate(conn, uri, doc, old_version, new_version, moves, now, again)
        elif doc is not None:
            stale_targets(conn, doc)  # built from another text: nothing moves on a guess
        if names and operations:
            where = -1 if doc is None else doc
            name_rule(conn, where, listed, ops)

    return (step,)


def _translate(
    conn: sqlite3.Connection,
    uri: str,
    doc: int,
    old: str,
    new: str,
    moves: LineMap,
    now: float,
    again: list[int],
) -> None:
    # 1. Edges into the document: stale pairs go (triggers: their edges, orphan rows, tally),
    #    kept edges move. Deleted and inserted, not updated: a shift by one line would collide
    #    with the primary key of the edge below it.
    stale: set[tuple[int, int]] = set()
    moving: list[tuple[int, int, int, int, int, int]] = []
    edges = "SELECT symbol, operation, line, character FROM edge WHERE document = ?"
    for symbol, operation, line, character in conn.execute(edges, (doc,)).fetchall():
        to = moves.moved(line, character)
        if to is None:
            stale.add((symbol, operation))
        elif to != (line, character):
            moving.append((symbol, operation, line, character, *to))
    conn.executemany(DROP_PAIR, sorted(stale))
    moving = [m for m in moving if (m[0], m[1]) not in stale]
    conn.executemany(
        "DELETE FROM edge WHERE symbol = ? AND operation = ? AND document = ? AND line = ? "
        "AND character = ?",
        [(s, o, doc, line, c) for s, o, line, c, _l, _c in moving],
    )
    conn.executemany(
        "INSERT OR IGNORE INTO edge (symbol, operation, document, line, character) "
        "VALUES (?, ?, ?, ?, ?)",
        [(s, o, doc, nl, nc) for s, o, _l, _c, nl, nc in moving],
    )
    # 2. The document's own symbols at the old content: kept ones move, the others leave.
    symbols = "SELECT id, key, line, character FROM symbol WHERE document = ? AND version = ?"
    keep: list[tuple[int, str, int, int]] = []
    for sid, key, line, character in conn.execute(symbols, (doc, old)).fetchall():
        to = moves.moved(line, character)
        if to is None:
            conn.execute("DELETE FROM symbol WHERE id = ?", (sid,))  # triggers: its pairs
        else:
            keep.append((sid, _rekey(key, *to), *to))
    kept = [(sid,) for sid, *_rest in keep]
    conn.executemany(DROP_PAIR, [(sid, op) for (sid,) in kept for op in again])
    # Pairs first (no trigger: their tally rows move below as a whole), then the symbols, whose
    # trigger moves orphan rows and symbol counts, finding the pairs at the new version.
    conn.executemany(
        "UPDATE pair SET version = ? WHERE symbol = ? AND version = ?",
        [(new, sid, old) for (sid,) in kept],
    )
    conn.execute(
        "INSERT INTO tally SELECT document, ?, operation, kind, pairs, edges FROM tally "
        "WHERE document = ? AND version = ? AND operation != -1 "
        "ON CONFLICT DO UPDATE SET pairs = pairs + excluded.pairs, edges = edges + excluded.edges",
        (new, doc, old),
    )
    conn.execute(
        "DELETE FROM tally WHERE document = ? AND version = ? AND operation != -1", (doc, old)
    )
    # Keys move in two steps: a symbol shifted one line down takes the key of the one below.
    conn.executemany("UPDATE symbol SET key = '~' || id WHERE id = ?", kept)
    for sid, key, line, character in keep:
        conn.execute(
            "DELETE FROM symbol WHERE document = ? AND key = ? AND id != ?", (doc, key, sid)
        )
        conn.execute(
            "UPDATE symbol SET key = ?, line = ?, character = ?, version = ? WHERE id = ?",
            (key, line, character, new, sid),
        )
    # 3. Failure rows (keyed by the full key): kept ones move with their symbol.
    failures = "SELECT * FROM failures WHERE document = ? AND version = ?"
    cursor = conn.execute(failures, (uri, old))
    columns = [d[0] for d in cursor.description]
    rows = [dict(zip(columns, r, strict=True)) for r in cursor.fetchall()]
    conn.execute("DELETE FROM failures WHERE document = ? AND version = ?", (uri, old))
    for failure in rows:
        tail = failure["symbol"][len(uri) :] if failure["symbol"].startswith(uri) else ""
        match = _POSITION.match(tail)
        to = None if match is None else moves.moved(int(match[1]), int(match[2]))
        if to is None:
            continue
        failure["symbol"] = uri + _rekey(tail, *to)
        failure["version"] = new
        marks = ", ".join("?" * len(columns))
        conn.execute(
            f"INSERT OR REPLACE INTO failures ({', '.join(columns)}) VALUES ({marks})",
            [failure[c] for c in columns],
        )
    # 4. Placeholders naming a call hierarchy item of this document by its key (a usage's
    #    calls live at the declaration's item: proxy/outcomes.py) name it where it is now.
    prefix = f"item: {uri}"
    items = "SELECT symbol, operation, detail FROM pair WHERE substr(detail, 1, ?) = ?"
    for symbol, operation, detail in conn.execute(items, (len(prefix), prefix)).fetchall():
        match = _POSITION.match(detail, len(prefix))
        to = None if match is None else moves.moved(int(match[1]), int(match[2]))
        if to is None:
            conn.execute(DROP_PAIR, (symbol, operation))
        else:
            moved = prefix + _rekey(detail[len(prefix) :], *to)
            conn.execute(
                "UPDATE pair SET detail = ? WHERE symbol = ? AND operation = ?",
                (moved, symbol, operation),
            )
    conn.execute("UPDATE document SET version = ?, updated_at = ? WHERE id = ?", (new, now, doc))


def _rekey(key: str, line: int, character: int) -> str:
    """`key` ("#line:character[:name]", or anything else: kept) at the new position."""
    return _POSITION.sub(f"#{line}:{character}", key, count=1) if key.startswith("#") else key
