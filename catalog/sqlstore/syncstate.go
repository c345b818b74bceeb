package sqlstore

import (
	"context"
	"time"
)

// SyncState returns the sync state last saved for source and the commit key
// it was saved for. The error wraps catalog.ErrNotFound when none is saved.
// The state is opaque here: the syncer that saved it reads it.
func (s *Store) SyncState(ctx context.Context, source string) (commit string, state []byte, err error) {
	var row struct {
		Commit string `db:"commit_sha"`
		State  []byte `db:"state"`
	}
	if err := s.db.GetContext(ctx, &row, s.db.Rebind("SELECT commit_sha, state FROM sync_states WHERE source = ?"), source); err != nil {
		return "", nil, s.wrap("sync state "+source, err)
	}
	return row.Commit, row.State, nil
}

// SaveSyncState records state as source's sync state at commit, replacing
// the one saved before. It does so only while commit is the source's stored
// commit: a state saved after another replica has committed a later sync
// of the source would describe the wrong commit, so it is dropped, and
// SaveSyncState returns nil all the same. Every state is checked against
// the stored commit when read anyway; this keeps a late writer from
// replacing a good state with a useless one.
func (s *Store) SaveSyncState(ctx context.Context, source, commit string, state []byte) error {
	// Postgres types the parameters of a SELECT list as text unless told.
	stateV, timeV := "?", "?"
	if s.pg() {
		stateV, timeV = "CAST(? AS BYTEA)", "CAST(? AS TIMESTAMPTZ)"
	}
	// SQLite needs the WHERE of an INSERT … SELECT before ON CONFLICT (its
	// parser would otherwise read a join); here it is the guard anyway.
	_, err := s.db.ExecContext(ctx, s.db.Rebind(`INSERT INTO sync_states (source, commit_sha, state, saved_at)
		SELECT name, commit_sha, `+stateV+`, `+timeV+` FROM sources WHERE name = ? AND commit_sha = ?
		ON CONFLICT (source) DO UPDATE SET commit_sha = excluded.commit_sha, state = excluded.state, saved_at = excluded.saved_at`),
		state, dbTimeValue(time.Now()), source, commit)
	return s.wrap("save sync state "+source, err)
}
