package sqlstore

import (
	"context"
	"fmt"
)

// Locks a sync takes on Postgres. SQLite has one writer: every transaction
// takes its write lock at BEGIN (see sqliteParams), so it needs neither.
//
// A sync used to take one database-wide lock at BeginSync and hold it to
// the commit, through the whole streamed discovery, so replicas syncing
// different sources ran one after another. Now:
//
//   - sourceLockSQL, taken at BeginSync, serialises syncs of one source
//     (serve and `portalbot sync` at once, or a replica finishing a late
//     tick), so each starts from what the previous one wrote: the stored
//     entities of a source are read once, at BeginSync, and only syncs of
//     that source change them.
//   - writeLockSQL, the old database-wide lock, is taken lazily: before a
//     sync first writes catalog rows or looks up who holds a ref new to it,
//     and at the latest when it commits. Fetching, parsing and comparing
//     with the stored state, most of a sync's time, thus run side by side
//     on every replica; the writes are serialised, which keeps every
//     invariant the single lock gave:
//   - first source wins: a ref new to a source is checked against the
//     other sources' rows and inserted under the lock, held to the commit,
//     so two sources adding one ref cannot both see it free; the second
//     gets "already defined by source …" naming the first (flush).
//   - definitions are shared by content hash across sources; deleting the
//     unreferenced ones must not race an insert that reuses one.
//   - the generation is read and bumped by one sync at a time (finishSync).
//
// Per-ref conflict handling (INSERT … ON CONFLICT DO NOTHING) would let
// the writes overlap too, but entities go in by COPY and the definitions'
// garbage collection would still need a lock; a sync's write phase is
// short next to its discovery, so one lock for it costs little.
//
// The order is always source lock, then write lock, then the meta row
// (finishSync), so two syncs cannot deadlock on them. writeLockSQL keeps
// the old key, so during a rolling upgrade old and new replicas still
// exclude each other's writes.
const (
	sourceLockSQL = "SELECT pg_advisory_xact_lock(hashtext('portalbot.sync-source:' || current_schema()), hashtext($1))"
	writeLockSQL  = "SELECT pg_advisory_xact_lock(hashtext('portalbot.sync'), hashtext(current_schema()))"
)

// lockSource takes the lock that serialises syncs of source, until the
// transaction ends.
func (w *writer) lockSource(ctx context.Context, source string) error {
	if !w.s.pg() {
		return nil
	}
	if _, err := w.tx.ExecContext(ctx, sourceLockSQL, source); err != nil {
		return fmt.Errorf("lock source %s: %w", source, err)
	}
	return nil
}

// lockWrites takes the database-wide sync write lock, once per
// transaction, until the transaction ends.
func (w *writer) lockWrites(ctx context.Context) error {
	if !w.s.pg() || w.writeLocked {
		return nil
	}
	if _, err := w.tx.ExecContext(ctx, writeLockSQL); err != nil {
		return fmt.Errorf("lock sync writes: %w", err)
	}
	w.writeLocked = true
	return nil
}

// othersHold reports whether any source but source holds an entity. It
// must be called with the write lock held (lockWrites), which keeps the
// answer true to the commit: no other sync writes meanwhile. Asked once
// per transaction. A sync with no other source to meet (a first sync, a
// deployment of one source) skips looking up its new refs: on 250,000
// entities those lookups were 150 statements probing the index once per
// new ref (issue 19).
func (w *writer) othersHold(ctx context.Context, source string) (bool, error) {
	if w.others != nil {
		return *w.others, nil
	}
	// Two range probes of the (source, path) index, whatever the size.
	var others bool
	err := w.tx.GetContext(ctx, &others, w.tx.Rebind(
		"SELECT EXISTS (SELECT 1 FROM entities WHERE source < ?) OR EXISTS (SELECT 1 FROM entities WHERE source > ?)"), source, source)
	if err != nil {
		return false, fmt.Errorf("look for other sources: %w", err)
	}
	w.others = &others
	return others, nil
}
