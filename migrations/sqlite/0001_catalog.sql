-- Catalog tables. Refs are canonical (lower-case kind:namespace/name).
-- Times are TEXT in a fixed-width UTC form (2006-01-02T15:04:05.000000Z),
-- so that they compare and sort as strings.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT INTO meta (key, value) VALUES ('generation', 0);

-- definitions holds API spec.definition texts once per content hash; they
-- are large and rarely read, so entity rows only carry the hash.
CREATE TABLE definitions (
    hash TEXT PRIMARY KEY,
    text TEXT NOT NULL
);

CREATE TABLE entities (
    ref             TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,
    namespace       TEXT NOT NULL,
    name            TEXT NOT NULL,
    owner           TEXT NOT NULL DEFAULT '',
    title           TEXT NOT NULL DEFAULT '',
    description     TEXT NOT NULL DEFAULT '',
    tags            TEXT NOT NULL DEFAULT '',
    spec_type       TEXT NOT NULL DEFAULT '',
    lifecycle       TEXT NOT NULL DEFAULT '',
    doc             TEXT NOT NULL,
    source          TEXT NOT NULL,
    path            TEXT NOT NULL,
    line            INTEGER NOT NULL DEFAULT 0,
    commit_sha      TEXT NOT NULL DEFAULT '',
    etag            TEXT NOT NULL,
    uid             TEXT NOT NULL,
    definition_hash TEXT,
    first_seen      TEXT NOT NULL,
    last_seen       TEXT NOT NULL
);
CREATE INDEX entities_lower_name ON entities (lower(name));
CREATE INDEX entities_lower_kind ON entities (lower(kind));
CREATE INDEX entities_owner ON entities (owner);
CREATE INDEX entities_source_path ON entities (source, path);
CREATE INDEX entities_definition_hash ON entities (definition_hash) WHERE definition_hash IS NOT NULL;

-- relations holds both directions of every relation, as derived from the
-- fields of origin_ref; a target need not exist (Backstage emits relations
-- to missing entities too).
CREATE TABLE relations (
    source_ref TEXT NOT NULL,
    type       TEXT NOT NULL,
    target_ref TEXT NOT NULL,
    origin_ref TEXT NOT NULL
);
CREATE INDEX relations_source ON relations (source_ref);
CREATE INDEX relations_type ON relations (type);
CREATE INDEX relations_target ON relations (target_ref);
CREATE INDEX relations_origin ON relations (origin_ref);

CREATE TABLE sources (
    name       TEXT PRIMARY KEY,
    repo       TEXT NOT NULL DEFAULT '',
    branch     TEXT NOT NULL DEFAULT '',
    commit_sha TEXT NOT NULL DEFAULT '',
    status     TEXT NOT NULL DEFAULT '',
    message    TEXT NOT NULL DEFAULT '',
    synced_at  TEXT,
    codeowners TEXT NOT NULL DEFAULT ''
);

CREATE TABLE processing_errors (
    id          INTEGER PRIMARY KEY,
    source      TEXT NOT NULL,
    path        TEXT NOT NULL,
    line        INTEGER NOT NULL DEFAULT 0,
    message     TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
CREATE INDEX processing_errors_source_path ON processing_errors (source, path);

CREATE TABLE ownership_history (
    id          INTEGER PRIMARY KEY,
    entity_ref  TEXT NOT NULL,
    old_owner   TEXT NOT NULL DEFAULT '',
    new_owner   TEXT NOT NULL DEFAULT '',
    commit_sha  TEXT NOT NULL DEFAULT '',
    recorded_at TEXT NOT NULL
);
CREATE INDEX ownership_history_recorded_at ON ownership_history (recorded_at);
CREATE INDEX ownership_history_entity ON ownership_history (entity_ref);
