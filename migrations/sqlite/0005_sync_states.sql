-- Each source's sync state: which descriptor files discovery reached and
-- how (Location children, placeholder dependencies), for the commit key in
-- commit_sha. Kept here rather than in a replica's cache directory so that
-- every replica's next sync is incremental, and a broken file keeps what
-- it reached, whichever process syncs.
CREATE TABLE sync_states (
    source     TEXT PRIMARY KEY,
    commit_sha TEXT NOT NULL,
    state      BLOB NOT NULL,
    saved_at   TEXT NOT NULL
);
