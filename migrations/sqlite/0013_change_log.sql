-- entity_changes logs, per generation, the canonical refs whose summary,
-- document or relations (own or inverse) the sync that made that
-- generation changed, so that a reader holding the catalog at one
-- generation catches up by reading those entities alone (catalog.ChangeLog,
-- issue 19). The key's generation first serves Changes' range scan and the
-- pruning; WITHOUT ROWID stores the rows in that key, with no second
-- B-tree. A ref may be a relation's target that no entity holds.
--
-- meta's changes_from is the generation the log reaches back to: it holds
-- every change after it. A large sync, or pruning, moves it forward. A
-- database migrated with a catalog in it starts the log at its current
-- generation. Applied again over itself (as tests that replay migrations
-- do), it changes nothing.
CREATE TABLE IF NOT EXISTS entity_changes (
    generation INTEGER NOT NULL,
    ref        TEXT NOT NULL,
    PRIMARY KEY (generation, ref)
) WITHOUT ROWID;
INSERT INTO meta (key, value) SELECT 'changes_from', value FROM meta WHERE key = 'generation'
    ON CONFLICT (key) DO NOTHING;
