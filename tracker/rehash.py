"""Content hashes written before issue 22, re-keyed once when a writer opens the database.

The content hash changed definition (tracker/digest.py: computed from a text's pieces, 20 hex
characters; before, a blake2b of the whole text, 16). Rows carry the hash of the content they
were recorded for, and count while it is their document's: left alone, every document would
look changed the first time the proxy saw it again — its answers re-asked, and (the target
rule) answers elsewhere pointing into it dropped: a whole re-index after an upgrade.

So a writer opening a database that still holds old hashes reads each such document's file
(``file://`` only, as the proxy's read gate does: UTF-8 with a byte-order mark dropped,
undecodable bytes replaced) and, when the old hash of what it reads is the stored one, moves
the document, its symbols, their pairs and its failure states to the new hash of that text:
nothing is lost, nothing stale is kept. A document whose file changed, went or is not a file
gets ``b2:`` before its old hash instead — its rows stay as current as they were, and the next
hash the proxy reports for it differs (what a changed file has always meant). Then no old hash
is left, and later opens find nothing to do (one look at the document table).

No schema version: the old hashes tell themselves apart by their length, and a database is
usable at every step (each document is re-keyed in its own statements, all in one transaction).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import stat
from collections.abc import Callable
from urllib.parse import urlsplit
from urllib.request import url2pathname

from lsp_backoff.tracker.digest import LEGACY_LENGTH, content_hash, legacy_hash

logger = logging.getLogger("lsp_backoff.tracker.store")

#: Files larger than this are not read: their documents get the ``b2:`` mark (more than the
#: proxy reads from disk: an open document may be larger).
MAX_FILE_BYTES = 50 * 1024 * 1024

Read = Callable[[str], str | None]


def read_text(uri: str, max_bytes: int = MAX_FILE_BYTES) -> str | None:
    """The text of a local ``file://`` regular file of at most ``max_bytes``, as the proxy
    reads it (proxy/reads.py: a byte-order mark dropped, undecodable bytes replaced), else
    None. tracker/unit_repair.py reads with it too."""
    try:
        parts = urlsplit(uri)
        if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
            return None
        path = url2pathname(parts.path)
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_size > max_bytes:
            return None
        with open(path, "rb") as f:
            data = f.read(max_bytes + 1)
    except (OSError, ValueError):  # gone or unreadable: the document is marked, not an error
        return None
    return data.decode("utf-8-sig", errors="replace") if len(data) <= max_bytes else None


_OLD = "SELECT id, uri, version FROM document WHERE length(version) = ?"

#: Pairs carry their symbol's version; no trigger runs on a pair's update.
_PAIRS = """
UPDATE pair SET version = :new
WHERE version = :old AND symbol IN (SELECT id FROM symbol WHERE document = :doc)
"""
#: symbol_changed (schema.sql) keeps `orphan` right: the pairs are at :new already.
_SYMBOLS = "UPDATE symbol SET version = :new WHERE document = :doc AND version = :old"
_FAILURES = "UPDATE failures SET version = :new WHERE document = :uri AND version = :old"
_DOCUMENT = "UPDATE document SET version = :new WHERE id = :doc"
#: The counters behind `stats`, per document and version, counted again for this document.
_TALLY = (
    "DELETE FROM tally WHERE document = :doc",
    """INSERT INTO tally (document, version, operation, kind, pairs, edges)
       SELECT :doc, coalesce(version, ''), -1, -1, count(*), 0 FROM symbol
       WHERE document = :doc GROUP BY coalesce(version, '')""",
    """INSERT INTO tally (document, version, operation, kind, pairs, edges)
       SELECT :doc, coalesce(p.version, ''), p.operation, p.kind, count(*), sum(p.edges)
       FROM pair AS p JOIN symbol AS s ON s.id = p.symbol WHERE s.document = :doc
       GROUP BY coalesce(p.version, ''), p.operation, p.kind""",
)


def rehash(conn: sqlite3.Connection, where: str, read: Read = read_text) -> tuple[int, int]:
    """Re-key every document still at an old hash (see the module docstring), in one
    transaction; (re-keyed to the new hash, marked changed)."""
    if conn.execute(_OLD + " LIMIT 1", (LEGACY_LENGTH,)).fetchone() is None:
        return 0, 0
    rekeyed = marked = 0
    conn.execute("BEGIN IMMEDIATE")
    try:
        for doc, uri, old in conn.execute(_OLD, (LEGACY_LENGTH,)).fetchall():
            text = read(uri)
            if text is not None and legacy_hash(text) == old:
                new, rekeyed = content_hash(text), rekeyed + 1
            else:
                new, marked = "b2:" + old, marked + 1
            names = {"doc": doc, "uri": uri, "old": old, "new": new}
            for statement in (_PAIRS, _SYMBOLS, _FAILURES, _DOCUMENT, *_TALLY):
                conn.execute(statement, names)
        conn.execute("COMMIT")
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
    logger.warning(
        "graph database %s: content hashes of %d documents moved to the new definition, "
        "%d marked changed (file changed, gone or not a file)",
        where,
        rekeyed,
        marked,
    )
    return rekeyed, marked
