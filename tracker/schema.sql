-- The lsp-backoff graph database (tracker/store.py applies this file).
--
-- Each "-- version: N" section upgrades a database from schema version N-1 to N; a new database
-- runs every section. Never edit a released section: append a new one. store.py runs all missing
-- sections in one transaction, then sets PRAGMA user_version and PRAGMA application_id.
--
-- Times are seconds since the epoch (REAL). `version` columns hold the content hash of the source
-- document (proxy.documents.content_hash). A row is *current* iff its version equals the
-- document's hash in `documents`, or the document has no row there (content never known);
-- stale rows stay but no longer count as data.

-- version: 1

CREATE TABLE documents (
    uri TEXT PRIMARY KEY,
    version TEXT NOT NULL,
    updated_at REAL NOT NULL
) STRICT;

-- Every symbol the proxy has seen: tracked requests and documentSymbol/workspace/symbol results.
CREATE TABLE symbols (
    key TEXT PRIMARY KEY,
    uri TEXT NOT NULL,
    name TEXT NOT NULL,
    kind INTEGER,
    line INTEGER NOT NULL,
    character INTEGER NOT NULL,
    version TEXT,
    source TEXT NOT NULL,
    recorded_at REAL NOT NULL
) STRICT;

CREATE INDEX symbols_by_position ON symbols (uri, line, character);

-- One row per result location ("edge") or per placeholder ("none": definitive empty answer,
-- "error": skipped for good). Placeholders have no target. `document` is the symbol's document.
CREATE TABLE edges (
    symbol TEXT NOT NULL,
    document TEXT NOT NULL,
    operation TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('edge', 'none', 'error')),
    target_uri TEXT,
    target_line INTEGER,
    target_character INTEGER,
    detail TEXT NOT NULL DEFAULT '',
    version TEXT,
    recorded_at REAL NOT NULL,
    CHECK ((kind = 'edge') = (target_uri IS NOT NULL))
) STRICT;

-- Replays never duplicate a row; the (symbol, operation) prefix serves the orphan query.
-- coalesce() because NULLs are distinct in a UNIQUE index.
CREATE UNIQUE INDEX edges_identity ON edges (
    symbol, operation, kind,
    coalesce(target_uri, ''), coalesce(target_line, -1), coalesce(target_character, -1)
);

CREATE INDEX edges_by_document ON edges (document);

-- Durable failure state (tracker.model.FailureState), so a restarted proxy keeps backing off.
CREATE TABLE failures (
    symbol TEXT NOT NULL,
    operation TEXT NOT NULL,
    document TEXT NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0,
    transient INTEGER NOT NULL DEFAULT 0,
    retry_at REAL NOT NULL DEFAULT 0,
    skipped INTEGER NOT NULL DEFAULT 0 CHECK (skipped IN (0, 1)),
    last_error TEXT NOT NULL DEFAULT '',
    version TEXT,
    empty_since REAL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (symbol, operation)
) STRICT, WITHOUT ROWID;

CREATE INDEX failures_by_document ON failures (document);
