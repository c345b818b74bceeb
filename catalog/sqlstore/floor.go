package sqlstore

import (
	"context"
	"errors"
	"time"

	"github.com/lib/pq"
)

// CopyFloor returns how long Postgres takes to COPY the documents of every
// stored entity, sent from this process, into a fresh table indexed by ref
// (a temporary one, dropped at once): the least that writing them could
// cost, which issue 19 measures a full sync against. Reading the documents
// first is not timed. It is for benchmarks (portalbot bench, the ingest
// benchmark), and only Postgres has COPY.
func (s *Store) CopyFloor(ctx context.Context) (time.Duration, error) {
	if !s.pg() {
		return 0, errors.New("copy floor: Postgres only")
	}
	type row struct{ Ref, Doc string }
	var rows []row
	if err := s.db.SelectContext(ctx, &rows, "SELECT ref, doc FROM entities"); err != nil {
		return 0, s.wrap("copy floor", err)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, s.wrap("copy floor", err)
	}
	// Rollback after Commit is a no-op.
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, "CREATE TEMP TABLE copy_floor (ref text PRIMARY KEY, doc text NOT NULL) ON COMMIT DROP"); err != nil {
		return 0, s.wrap("copy floor", err)
	}
	start := time.Now()
	stmt, err := tx.PrepareContext(ctx, pq.CopyIn("copy_floor", "ref", "doc"))
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
