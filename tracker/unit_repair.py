"""Schema 4: positions recorded before the graph had one unit, brought to UTF-16 where provable.

Up to schema 3 a position was stored in whatever unit the recording session negotiated: utf-16
mostly, utf-8 for Neovim or Helix on clangd, utf-32 now and then. On a line whose text before a
position is ASCII every unit gives the same number, so most rows need nothing. For the others
the unit is not written anywhere — but a symbol key names its identifier, and the text says
which unit puts that name at that position.

``repair_units`` runs once, before version 4's SQL, on an existing file (in the migration's
transaction). For every document whose file is readable now and whose content hash is still
the recorded ``version`` (so its text is exactly what the keys were cut from), and which holds
non-ASCII text:

- a symbol whose key's position names its identifier in UTF-16 is kept;
- one whose position names it only in utf-8 or utf-32 was recorded by such a session: its key
  and position become UTF-16 — merged into the UTF-16 symbol if that one exists too (its
  pairs fill the operations the UTF-16 one lacks; the rest are dropped) — and the edge targets
  of its pairs (recorded by that session too) are converted where the target's text is known
  the same way;
- a symbol tracked by position (no name) or whose name no unit places is kept as it is.

What cannot be proven is kept, not guessed: documents changed since, unreadable, or not
``file://``; the targets of a UTF-16-keyed symbol whose line is ASCII up to the key (any
session may have recorded them). A row kept that way on a non-ASCII line stops counting when
its document next changes, and is then asked again in UTF-16.

The file reading and hashing here are proxy.reads.read_file's and
the hash every schema-3 file holds, tracker.digest.legacy_hash (tracker/rehash.py re-keys
those hashes after this migration; tracker/ imports nothing from proxy/; a test checks the
reading agrees with the proxy's).
"""

from __future__ import annotations

import logging
import re
import sqlite3

from lsp_backoff.tracker import rehash
from lsp_backoff.tracker.digest import legacy_hash
from lsp_backoff.tracker.positions import GRAPH_UNIT, convert, index_of

logger = logging.getLogger("lsp_backoff.tracker.store")

MAX_FILE_BYTES = 4 << 20
_EOL = re.compile(r"\r\n|\r|\n")
_KEY = re.compile(r"#(\d+):(\d+):(.+)", re.DOTALL)
_OTHER_UNITS = ("utf-8", "utf-32")


def read_text(uri: str, max_bytes: int = MAX_FILE_BYTES) -> str | None:
    """The text of a local ``file://`` regular file of at most ``max_bytes`` (the proxy's
    limit here); None otherwise. The reading is tracker/rehash.py's."""
    return rehash.read_text(uri, max_bytes)


#: Files older than schema 4 hold the content hash as defined before issue 22 (migrate runs
#: before rehash re-keys them).
content_hash = legacy_hash


def names(line: str, character: int, encoding: str, name: str) -> bool:
    """Does ``name`` start at ``character`` (units of ``encoding``) on ``line``?"""
    i = index_of(line, character, encoding)
    return i is not None and line.startswith(name, i)


def _texts(conn: sqlite3.Connection) -> dict[int, list[str]]:
    """The lines of every recorded document whose file still has the recorded content and
    holds non-ASCII text, by document id."""
    texts = {}
    for doc, uri, version in conn.execute(
        "SELECT id, uri, version FROM document WHERE version IS NOT NULL"
    ).fetchall():
        text = read_text(uri)
        if text is None or text.isascii() or content_hash(text) != version:
            continue
        texts[doc] = _EOL.split(text)
    return texts


def _unit_of(lines: list[str], line: int, character: int, name: str) -> str | None:
    """The unit a key was cut in: None when UTF-16 places it (or it cannot be told)."""
    if line >= len(lines):
        return None
    text = lines[line]
    if text[: max(character, 0)].isascii() or names(text, character, GRAPH_UNIT, name):
        return None
    return next((unit for unit in _OTHER_UNITS if names(text, character, unit, name)), None)


def _convert_targets(
    conn: sqlite3.Connection, symbol: int, unit: str, texts: dict[int, list[str]]
) -> None:
    """The edge targets of ``symbol``'s pairs, answered in ``unit``, in UTF-16 where known."""
    rows = conn.execute(
        "SELECT operation, document, line, character FROM edge WHERE symbol = ?", (symbol,)
    ).fetchall()
    for operation, doc, line, character in rows:
        lines = texts.get(doc)
        if lines is None or line >= len(lines):
            continue  # ASCII, unknown or changed: kept as recorded
        converted = convert(lines[line], character, unit)
        if converted != character:
            where = (symbol, operation, doc, line, character)
            conn.execute(
                "UPDATE OR IGNORE edge SET character = ? WHERE symbol = ? AND operation = ? "
                "AND document = ? AND line = ? AND character = ?",
                (converted, *where),
            )
            # Already there (two answers' targets met): the unconverted twin goes.
            conn.execute(
                "DELETE FROM edge WHERE symbol = ? AND operation = ? AND document = ? "
                "AND line = ? AND character = ?",
                where,
            )


def _merge(conn: sqlite3.Connection, old: int, into: int) -> None:
    """``old``'s pairs for the operations ``into`` lacks, moved (deleted and re-inserted, so
    the schema's triggers keep ``orphan`` and ``tally`` right); then ``old`` goes."""
    moved = conn.execute(
        "SELECT operation, kind, edges, detail, version, recorded_at FROM pair "
        "WHERE symbol = ? AND operation NOT IN (SELECT operation FROM pair WHERE symbol = ?)",
        (old, into),
    ).fetchall()
    for operation, *rest in moved:
        targets = conn.execute(
            "SELECT document, line, character FROM edge WHERE symbol = ? AND operation = ?",
            (old, operation),
        ).fetchall()
        conn.execute("DELETE FROM pair WHERE symbol = ? AND operation = ?", (old, operation))
        conn.execute(
            "INSERT INTO pair (symbol, operation, kind, edges, detail, version, recorded_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (into, operation, *rest),
        )
        conn.executemany(
            "INSERT OR IGNORE INTO edge (symbol, operation, document, line, character) "
            "VALUES (?, ?, ?, ?, ?)",
            [(into, operation, *target) for target in targets],
        )
    conn.execute("DELETE FROM symbol WHERE id = ?", (old,))


def repair_units(conn: sqlite3.Connection) -> tuple[int, int]:
    """Bring provably non-UTF-16 symbols of a schema-3 file to UTF-16 (see the module
    docstring). Returns (converted, merged)."""
    texts = _texts(conn)
    converted = merged = 0
    for doc, lines in texts.items():
        uri = conn.execute("SELECT uri FROM document WHERE id = ?", (doc,)).fetchone()[0]
        symbols = conn.execute(
            "SELECT id, key FROM symbol WHERE document = ? AND key GLOB '#*'", (doc,)
        ).fetchall()
        for symbol, key in symbols:
            m = _KEY.fullmatch(key)
            if m is None:
                continue  # tracked by position: no name to tell the unit by
            line, character, name = int(m[1]), int(m[2]), m[3]
            unit = _unit_of(lines, line, character, name)
            if unit is None:
                continue
            _convert_targets(conn, symbol, unit, texts)
            character = convert(lines[line], character, unit)
            new_key = f"#{line}:{character}:{name}"
            same = conn.execute(
                "SELECT id FROM symbol WHERE document = ? AND key = ?", (doc, new_key)
            ).fetchone()
            if same is None:
                conn.execute(
                    "UPDATE symbol SET key = ?, character = ? WHERE id = ?",
                    (new_key, character, symbol),
                )
                converted += 1
            else:
                _merge(conn, symbol, same[0])
                merged += 1
            # The failure state follows the key (a UTF-16 one's own state wins).
            old_full, new_full = uri + key, uri + new_key
            conn.execute(
                "UPDATE OR IGNORE failures SET symbol = ? WHERE symbol = ?", (new_full, old_full)
            )
            conn.execute("DELETE FROM failures WHERE symbol = ?", (old_full,))
    if converted or merged:
        logger.warning(
            "graph database: %d symbols recorded in another unit than UTF-16: %d converted, "
            "%d merged into their UTF-16 twin",
            converted + merged,
            converted,
            merged,
        )
    return converted, merged
