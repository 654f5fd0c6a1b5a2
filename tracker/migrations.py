"""Schema versions: schema.sql's ``-- version: N`` sections, run once per file, in place.

``migrate`` brings a connection to the current schema in one transaction (``PRAGMA user_version``
says where a file stands; ``PRAGMA application_id`` marks it as ours), then compacts a migrated
file with VACUUM. Only writers migrate: the proxy, ``enrich`` and ``lsp-backoff migrate``; the
read-only commands refuse an old file instead (``needs_migration``).

Before version 2's SQL, ``repair_display_keys`` merges or removes the symbols that 0.1 keyed by
a server's display name (a call hierarchy item's ``name``: ``Arena::Allocate``, ``Ky.#retry``),
which no request could ever reach. Before version 4's, ``unit_repair.repair_units`` brings the
positions that provably came from a utf-8 or utf-32 session to UTF-16, the graph's one unit.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

from lsp_backoff.tracker.errors import StoreError
from lsp_backoff.tracker.unit_repair import repair_units

logger = logging.getLogger("lsp_backoff.tracker.store")

#: Marks a file as an lsp-backoff database ("LSBP"), so a foreign SQLite file is refused.
APPLICATION_ID = 0x4C534250


def _load() -> list[list[str]]:
    """schema.sql split at ``-- version: N``: MIGRATIONS[i] takes a database from i to i+1."""
    text = (Path(__file__).with_name("schema.sql")).read_text(encoding="utf-8")
    steps: list[list[str]] = []
    pending = ""
    for line in text.splitlines(keepends=True):
        if line.startswith("-- version:"):
            if int(line.split(":", 1)[1]) != len(steps) + 1:
                raise RuntimeError("schema.sql: versions must be 1, 2, 3, … in order")
            steps.append([])
        elif steps and not (line.startswith("--") and not pending.strip()):
            pending += line
            if sqlite3.complete_statement(pending):
                steps[-1].append(pending.strip())
                pending = ""
    return steps


MIGRATIONS = _load()
SCHEMA_VERSION = len(MIGRATIONS)


def header(conn: sqlite3.Connection) -> tuple[int, int, int]:
    app = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    objects = conn.execute("SELECT count(*) FROM sqlite_schema").fetchone()[0]
    return app, version, objects


def check(conn: sqlite3.Connection, where: str, target: int = SCHEMA_VERSION) -> int:
    """The file's schema version; StoreError for a foreign or too-new file (0: empty)."""
    app, version, objects = header(conn)
    if app == 0 and version == 0 and objects == 0:
        return 0
    if app != APPLICATION_ID:
        raise StoreError(f"{where} is not an lsp-backoff database")
    if version > target:
        raise StoreError(
            f"{where} has schema version {version}, newer than this lsp-backoff "
            f"understands ({target}); upgrade lsp-backoff"
        )
    return int(version)


def needs_migration(conn: sqlite3.Connection, where: str) -> str | None:
    """Why a reader cannot use this file yet (an older schema), or None."""
    version = check(conn, where)
    if 0 < version < SCHEMA_VERSION:
        return (
            f"{where} has schema version {version}; run `lsp-backoff migrate --db {where}` "
            f"(or start the proxy on it) to bring it to version {SCHEMA_VERSION}"
        )
    return None


def migrate(conn: sqlite3.Connection, where: str, *, target: int = SCHEMA_VERSION) -> bool:
    """Bring ``conn`` to schema ``target`` in one transaction; True if a populated file moved.

    An empty database starts at 0. A file that was migrated (not created) is compacted after
    the commit, so it ends no larger than one written fresh.
    """
    if header(conn)[:2] == (APPLICATION_ID, target):
        return False
    conn.execute("BEGIN IMMEDIATE")  # re-read under the lock: another process may have migrated
    try:
        version = check(conn, where, target)
        if version:
            logger.warning("graph database %s: migrating schema %d to %d", where, version, target)
        for number in range(version + 1, target + 1):
            before = _BEFORE.get(number)
            if before is not None and version:
                before(conn)
            for statement in MIGRATIONS[number - 1]:
                conn.execute(statement)
        # PRAGMAs take no parameters; both values are integers from this module.
        conn.execute(f"PRAGMA user_version = {int(target)}")
        conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        conn.execute("COMMIT")
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
    if version and version < target:
        try:
            conn.execute("VACUUM")
        except sqlite3.OperationalError as exc:  # busy or full: the file works, just larger
            logger.warning("graph database %s: migrated but not compacted: %s", where, exc)
        logger.warning("graph database %s: now at schema %d", where, target)
        return True
    return False


# -- version 2: keys made from a display name ---------------------------------------------------

#: Characters no identifier of a supported language holds, but display names do: qualifiers
#: (`::`, `.`), signatures and templates (`(`, `<`, `,`), spaces. `operator…` names are
#: identifiers in C++ whatever follows.
_DISPLAY = re.compile(r"::|[.()<>,\s]")


def display_name(key: str) -> str | None:
    """The name part of a "URI#line:character:name" key when it is a display name, else None."""
    at = key.find("#")
    parts = key[at + 1 :].split(":", 2) if at > 0 else []
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    name = parts[2]
    if name.startswith("operator") or not _DISPLAY.search(name):
        return None
    return name


def repair_display_keys(conn: sqlite3.Connection) -> tuple[int, int]:
    """Merge each display-name symbol of a v1 file into the symbol an identifier keys at its
    position (its rows fill operations that one lacks), else remove it with its rows.

    Returns (merged, removed). Runs inside the migration's transaction, on the v1 tables.
    """
    merged = removed = 0
    bad = [
        (key, uri, line, character)
        for key, uri, line, character in conn.execute(
            "SELECT key, uri, line, character FROM symbols"
        )
        if display_name(key) is not None
    ]
    for key, uri, line, character in bad:
        canonical = next(
            (
                other
                for (other,) in conn.execute(
                    "SELECT key FROM symbols WHERE uri = ? AND line = ? AND character = ? "
                    "AND key != ? ORDER BY key",
                    (uri, line, character, key),
                )
                if display_name(other) is None
            ),
            None,
        )
        if canonical is not None:
            for table in ("edges", "failures"):
                # Operations the canonical symbol has no rows for take the display key's.
                conn.execute(
                    f"UPDATE {table} SET symbol = :canonical WHERE symbol = :key AND operation "
                    f"NOT IN (SELECT operation FROM {table} WHERE symbol = :canonical)",
                    {"canonical": canonical, "key": key},
                )
            merged += 1
        else:
            removed += 1
        for table in ("edges", "failures"):
            conn.execute(f"DELETE FROM {table} WHERE symbol = ?", (key,))
        conn.execute("DELETE FROM symbols WHERE key = ?", (key,))
    if bad:
        logger.warning(
            "graph database: %d symbols keyed by a display name: %d merged, %d removed",
            len(bad),
            merged,
            removed,
        )
    return merged, removed


def _repair_v1(conn: sqlite3.Connection) -> None:
    repair_display_keys(conn)


def _repair_v3(conn: sqlite3.Connection) -> None:
    repair_units(conn)


#: Python that runs before a version's SQL when an existing file is migrated.
_BEFORE: dict[int, Callable[[sqlite3.Connection], None]] = {2: _repair_v1, 4: _repair_v3}
