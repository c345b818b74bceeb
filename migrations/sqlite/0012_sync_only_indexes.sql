-- Only the indexes a query of portalbot's uses. Answers come from the
-- in-memory read model, loaded by ref; no query filters entities by owner,
-- and the name filter (catalog.Query.Name) is used by no command, so both
-- indexes were maintained on every write for nothing. On a first sync of
-- 100,000 entities into Postgres they made the entity rows cost twice as
-- much to write (random inserts into two more B-trees; issue 19). A query
-- by owner or name still works, by scanning.
DROP INDEX IF EXISTS entities_owner;
DROP INDEX IF EXISTS entities_lower_name;
