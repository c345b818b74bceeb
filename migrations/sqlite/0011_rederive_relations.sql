-- Relations now follow Backstage's default BuiltinKindsEntityProcessor
-- (every reference makes its relation and inverse, whatever the target's
-- kind). A sync rewrites only entities whose etag changed and skips an
-- unchanged commit, so without this a database synced by an older version
-- would keep its old relations until each file changed. Clearing the etags
-- and the sources' commits makes the next sync of every source rewrite
-- every entity and its relations once.
UPDATE entities SET etag = '';
UPDATE sources SET commit_sha = '';
