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

-- version: 2
-- Integer ids for documents and symbols, one `pair` row per (symbol, operation) with data, the
-- result locations in `edge`, and `orphan`: the (symbol, operation) pairs without data at the
-- symbol's content, kept in step by triggers, so the orphan question is an index range. The v1
-- tables are copied and dropped; views with their names and columns stay for SQL written
-- against v1 (tracker/migrations.py runs this section, then VACUUM).
--
-- "Current" (queries.CURRENT): a row recorded at `version` counts while that is its document's
-- `version`, or while the document's content was never recorded (document.version IS NULL).

CREATE TABLE operation (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
) STRICT;

-- The order of tracker.model.OPERATIONS.
INSERT INTO operation (id, name) VALUES
    (0, 'definition'), (1, 'declaration'), (2, 'type_definition'), (3, 'implementation'),
    (4, 'references'), (5, 'prepare_call_hierarchy'), (6, 'incoming_calls'),
    (7, 'outgoing_calls');

-- Every URI the graph names: symbols' documents and edge targets. version NULL: never recorded.
CREATE TABLE document (
    id INTEGER PRIMARY KEY,
    uri TEXT NOT NULL UNIQUE,
    version TEXT,
    updated_at REAL
) STRICT;

-- `key` is the symbol key without its document's URI ("#line:character:name") when the key
-- starts with "URI#", else the whole key: the identity is (document, key).
-- source: 0 request, 1 document_symbol, 2 workspace_symbol (tracker.store_sql.SOURCES).
CREATE TABLE symbol (
    id INTEGER PRIMARY KEY,
    document INTEGER NOT NULL,
    key TEXT NOT NULL,
    name TEXT NOT NULL,
    kind INTEGER,
    line INTEGER NOT NULL,
    character INTEGER NOT NULL,
    version TEXT,
    source INTEGER NOT NULL,
    recorded_at REAL NOT NULL
) STRICT;

CREATE UNIQUE INDEX symbol_identity ON symbol (document, key);
CREATE INDEX symbol_by_position ON symbol (document, line, character);

-- The outcome recorded for a (symbol, operation): kind 0 edges (`edges` of them in `edge`),
-- 1 none (a definitive empty answer), 2 error (skipped for good; `detail` says why).
CREATE TABLE pair (
    symbol INTEGER NOT NULL,
    operation INTEGER NOT NULL,
    kind INTEGER NOT NULL CHECK (kind IN (0, 1, 2)),
    edges INTEGER NOT NULL DEFAULT 0,
    detail TEXT NOT NULL DEFAULT '',
    version TEXT,
    recorded_at REAL NOT NULL,
    PRIMARY KEY (symbol, operation)
) STRICT, WITHOUT ROWID;

-- One result location of a pair of kind 0.
CREATE TABLE edge (
    symbol INTEGER NOT NULL,
    operation INTEGER NOT NULL,
    document INTEGER NOT NULL,
    line INTEGER NOT NULL,
    character INTEGER NOT NULL,
    PRIMARY KEY (symbol, operation, document, line, character)
) STRICT, WITHOUT ROWID;

-- Edges into a document: what a change or a deletion of that document affects.
CREATE INDEX edge_by_target ON edge (document, line, character);

-- (symbol, operation) without a pair at the symbol's version, in position order per operation.
-- Whether the symbol is current, skipped or backing off is checked per row when read.
CREATE TABLE orphan (
    operation INTEGER NOT NULL,
    document INTEGER NOT NULL,
    line INTEGER NOT NULL,
    character INTEGER NOT NULL,
    symbol INTEGER NOT NULL,
    PRIMARY KEY (operation, document, line, character, symbol)
) STRICT, WITHOUT ROWID;

-- Counts behind `stats`, per document and version (NULL as ''): operation -1 / kind -1 counts
-- symbols, the others pairs and edges per operation and kind.
CREATE TABLE tally (
    document INTEGER NOT NULL,
    version TEXT NOT NULL,
    operation INTEGER NOT NULL,
    kind INTEGER NOT NULL,
    pairs INTEGER NOT NULL,
    edges INTEGER NOT NULL,
    PRIMARY KEY (document, version, operation, kind)
) STRICT, WITHOUT ROWID;

-- A new id has no pairs (a deleted symbol's went with it): every operation lacks data.
CREATE TRIGGER symbol_added AFTER INSERT ON symbol BEGIN
    INSERT INTO orphan (operation, document, line, character, symbol)
        SELECT id, NEW.document, NEW.line, NEW.character, NEW.id FROM operation;
    INSERT INTO tally VALUES (NEW.document, coalesce(NEW.version, ''), -1, -1, 1, 0)
        ON CONFLICT DO UPDATE SET pairs = pairs + 1;
END;

CREATE TRIGGER symbol_changed AFTER UPDATE OF line, character, version ON symbol
WHEN OLD.line != NEW.line OR OLD.character != NEW.character OR OLD.version IS NOT NEW.version
BEGIN
    DELETE FROM orphan
    WHERE operation IN (SELECT id FROM operation) AND document = OLD.document
      AND line = OLD.line AND character = OLD.character AND symbol = OLD.id;
    INSERT OR IGNORE INTO orphan (operation, document, line, character, symbol)
        SELECT o.id, NEW.document, NEW.line, NEW.character, NEW.id FROM operation AS o
        WHERE NOT EXISTS (SELECT 1 FROM pair AS p
                          WHERE p.symbol = NEW.id AND p.operation = o.id
                            AND p.version IS NEW.version);
    UPDATE tally SET pairs = pairs - 1
    WHERE document = OLD.document AND version = coalesce(OLD.version, '')
      AND operation = -1 AND kind = -1;
    INSERT INTO tally VALUES (NEW.document, coalesce(NEW.version, ''), -1, -1, 1, 0)
        ON CONFLICT DO UPDATE SET pairs = pairs + 1;
END;

-- BEFORE: the pairs' triggers still find the symbol row.
CREATE TRIGGER symbol_removed BEFORE DELETE ON symbol BEGIN
    DELETE FROM pair WHERE symbol = OLD.id;
    DELETE FROM orphan
    WHERE operation IN (SELECT id FROM operation) AND document = OLD.document
      AND line = OLD.line AND character = OLD.character AND symbol = OLD.id;
    UPDATE tally SET pairs = pairs - 1
    WHERE document = OLD.document AND version = coalesce(OLD.version, '')
      AND operation = -1 AND kind = -1;
END;

-- A pair is replaced by DELETE + INSERT (tracker/store_sql.py), never updated.
CREATE TRIGGER pair_added AFTER INSERT ON pair BEGIN
    DELETE FROM orphan
    WHERE operation = NEW.operation
      AND (document, line, character, symbol) IN (
            SELECT document, line, character, id FROM symbol
            WHERE id = NEW.symbol AND version IS NEW.version);
    INSERT INTO tally
        SELECT document, coalesce(NEW.version, ''), NEW.operation, NEW.kind, 1, NEW.edges
        FROM symbol WHERE id = NEW.symbol
        ON CONFLICT DO UPDATE SET pairs = pairs + 1, edges = edges + excluded.edges;
END;

CREATE TRIGGER pair_removed AFTER DELETE ON pair BEGIN
    DELETE FROM edge WHERE symbol = OLD.symbol AND operation = OLD.operation;
    INSERT OR IGNORE INTO orphan (operation, document, line, character, symbol)
        SELECT OLD.operation, document, line, character, id FROM symbol
        WHERE id = OLD.symbol AND version IS OLD.version;
    UPDATE tally SET pairs = pairs - 1, edges = edges - OLD.edges
    WHERE document = (SELECT document FROM symbol WHERE id = OLD.symbol)
      AND version = coalesce(OLD.version, '') AND operation = OLD.operation
      AND kind = OLD.kind;
END;

-- Copy v1 (empty in a new database). Display-name keys were repaired before (migrations.py).
INSERT INTO document (uri, version, updated_at) SELECT uri, version, updated_at FROM documents;
INSERT OR IGNORE INTO document (uri) SELECT uri FROM symbols;
INSERT OR IGNORE INTO document (uri) SELECT target_uri FROM edges WHERE target_uri IS NOT NULL;

INSERT INTO symbol (document, key, name, kind, line, character, version, source, recorded_at)
SELECT d.id,
       CASE WHEN substr(s.key, 1, length(s.uri) + 1) = s.uri || '#'
            THEN substr(s.key, length(s.uri) + 1) ELSE s.key END,
       s.name, s.kind, s.line, s.character, s.version,
       CASE s.source WHEN 'request' THEN 0 WHEN 'document_symbol' THEN 1 ELSE 2 END,
       s.recorded_at
FROM symbols AS s JOIN document AS d ON d.uri = s.uri
ORDER BY d.id, s.line, s.character;

-- v1 replaced every row of a (symbol, operation) at once: one kind, version and time each.
INSERT INTO pair (symbol, operation, kind, edges, detail, version, recorded_at)
SELECT y.id, o.id, CASE min(e.kind) WHEN 'edge' THEN 0 WHEN 'none' THEN 1 ELSE 2 END,
       sum(e.kind = 'edge'), max(e.detail), max(e.version), max(e.recorded_at)
FROM edges AS e
JOIN symbols AS s ON s.key = e.symbol
JOIN document AS d ON d.uri = s.uri
JOIN symbol AS y ON y.document = d.id
    AND y.key = CASE WHEN substr(s.key, 1, length(s.uri) + 1) = s.uri || '#'
                     THEN substr(s.key, length(s.uri) + 1) ELSE s.key END
JOIN operation AS o ON o.name = e.operation
GROUP BY e.symbol, e.operation;

INSERT OR IGNORE INTO edge (symbol, operation, document, line, character)
SELECT y.id, o.id, t.id, e.target_line, e.target_character
FROM edges AS e
JOIN symbols AS s ON s.key = e.symbol
JOIN document AS d ON d.uri = s.uri
JOIN symbol AS y ON y.document = d.id
    AND y.key = CASE WHEN substr(s.key, 1, length(s.uri) + 1) = s.uri || '#'
                     THEN substr(s.key, length(s.uri) + 1) ELSE s.key END
JOIN operation AS o ON o.name = e.operation
JOIN document AS t ON t.uri = e.target_uri
WHERE e.kind = 'edge';

DROP TABLE edges;
DROP TABLE symbols;
DROP TABLE documents;

-- The v1 names, for SQL written against schema 1 (read-only; slower than the tables above).
CREATE VIEW documents (uri, version, updated_at) AS
SELECT uri, version, updated_at FROM document WHERE version IS NOT NULL;

CREATE VIEW symbols (key, uri, name, kind, line, character, version, source, recorded_at) AS
SELECT CASE WHEN s.key GLOB '#*' THEN d.uri || s.key ELSE s.key END, d.uri, s.name, s.kind,
       s.line, s.character, s.version,
       CASE s.source WHEN 0 THEN 'request' WHEN 1 THEN 'document_symbol'
                     ELSE 'workspace_symbol' END,
       s.recorded_at
FROM symbol AS s JOIN document AS d ON d.id = s.document;

CREATE VIEW edges (symbol, document, operation, kind, target_uri, target_line, target_character,
                   detail, version, recorded_at) AS
SELECT CASE WHEN s.key GLOB '#*' THEN d.uri || s.key ELSE s.key END, d.uri, o.name,
       CASE p.kind WHEN 0 THEN 'edge' WHEN 1 THEN 'none' ELSE 'error' END,
       t.uri, e.line, e.character, p.detail, p.version, p.recorded_at
FROM pair AS p
JOIN symbol AS s ON s.id = p.symbol
JOIN document AS d ON d.id = s.document
JOIN operation AS o ON o.id = p.operation
LEFT JOIN edge AS e ON e.symbol = p.symbol AND e.operation = p.operation
LEFT JOIN document AS t ON t.id = e.document;

-- version: 3
-- Symbols by name: the name rule of cross-file staleness (tracker/staleness.py) looks up the
-- symbols a changed document's old or new text mentions.

CREATE INDEX symbol_by_name ON symbol (name);

-- version: 4
-- One position unit: every line/character in this file (symbol keys "#line:character:name",
-- symbol.line/character, edge targets) counts UTF-16 code units, whatever position encoding the
-- recording session negotiated (proxy/units.py converts). Lines of ASCII text are the same in
-- every unit. On an existing file, tracker/unit_repair.py first converts the symbols (and their
-- pairs' targets) whose key provably came from a utf-8 or utf-32 session; what it cannot prove
-- is kept as recorded. `graph_info` says the unit to a reader of the SQL.

CREATE TABLE graph_info (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

INSERT INTO graph_info (name, value) VALUES ('position_unit', 'utf-16');

-- version: 5
-- Listed symbols keyed at punctuation (issue 21). A documentSymbol selectionRange that starts
-- on a character no name owns (basedpyright: the `*` of `*args`, the quote of a `__slots__`
-- entry) was keyed by its position alone ("#line:character", no name) and asked there, where the
-- server answers nothing: its "none" rows are false. Listings now key such a symbol at the first
-- identifier inside the range; these rows go, with their pairs, edges and failure states (the
-- triggers keep orphan and tally in step), so the next listing records the symbol at its name and
-- enrich asks it again. Symbols a client's request made (source 0) stay: the client asked there.

DELETE FROM failures WHERE symbol IN (
    SELECT d.uri || s.key FROM symbol AS s JOIN document AS d ON d.id = s.document
    WHERE s.source != 0 AND s.key GLOB '#[0-9]*:[0-9]*' AND s.key NOT GLOB '#*:*:*');

DELETE FROM symbol WHERE source != 0 AND key GLOB '#[0-9]*:[0-9]*' AND key NOT GLOB '#*:*:*';
