-- ownership_history is read by time alone (Store.OwnershipChanges, by
-- recorded_at); no query looks it up by entity, so its entity_ref index
-- was kept up on every write for nothing. A first sync writes a row per
-- owned entity: at 100,000 entities its random inserts into that text
-- B-tree were most of the history's cost in Postgres (issue 19). A lookup
-- by entity still works, by scanning.
DROP INDEX IF EXISTS ownership_history_entity;
