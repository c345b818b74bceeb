package sqlstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/lib/pq"
)

// CopyFloor returns how long Postgres takes to COPY the documents of every
// stored entity, sent from this process, into a fresh table indexed by ref
// and commit them: the least that writing them could cost, which issue 19
// measures a full sync against. The table is an ordinary one, created
// before and dropped after the timing, in the store's schema: a temporary
// table writes no WAL, which every table of the catalog does, so a floor
// on one measured half of what Postgres must do at least (0.27 s against
// 0.5 s at 100,000 entities). Reading the documents first is not timed.
// It is for benchmarks (portalbot bench, the ingest benchmark), and only
// Postgres has COPY.
func (s *Store) CopyFloor(ctx context.Context) (time.Duration, error) {
	if !s.pg() {
		return 0, errors.New("copy floor: Postgres only")
	}
	type row struct{ Ref, Doc string }
	var rows []row
	if err := s.db.SelectContext(ctx, &rows, "SELECT ref, doc FROM entities"); err != nil {
		return 0, s.wrap("copy floor", err)
	}
	var suffix [6]byte
	if _, err := rand.Read(suffix[:]); err != nil {
		return 0, fmt.Errorf("copy floor: %w", err)
	}
	table := "copy_floor_" + hex.EncodeToString(suffix[:])
	if _, err := s.db.ExecContext(ctx, "CREATE TABLE "+table+` (ref TEXT COLLATE "C" PRIMARY KEY, doc TEXT NOT NULL)`); err != nil {
		return 0, s.wrap("copy floor", err)
	}
	defer func() {
		// Dropped even when ctx is done: the table is not the caller's.
		_, _ = s.db.ExecContext(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS "+table)
	}()
	start := time.Now()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, s.wrap("copy floor", err)
	}
	// Rollback after Commit is a no-op.
	defer func() { _ = tx.Rollback() }()
	stmt, err := tx.PrepareContext(ctx, pq.CopyIn(table, "ref", "doc"))
	if err != nil {
		return 0, s.wrap("copy floor", err)
	}
	for _, r := range rows {
		if _, err := stmt.ExecContext(ctx, r.Ref, r.Doc); err != nil {
			return 0, s.wrap("copy floor", err)
		}
	}
	if _, err := stmt.ExecContext(ctx); err != nil {
		return 0, s.wrap("copy floor", err)
	}
	if err := stmt.Close(); err != nil {
		return 0, s.wrap("copy floor", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, s.wrap("copy floor", err)
	}
	return time.Since(start), nil
}
