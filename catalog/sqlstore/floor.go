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

// floorTables are the tables a full sync fills in proportion to the
// catalog; InsertFloor copies them.
var floorTables = []string{"entities", "relations", "ownership_history"}

// InsertFloor returns how long Postgres itself takes to write the rows
// now stored in the catalog's bulk tables (entities, relations, ownership
// history) into empty tables with the same columns and indexes (LIKE ...
// INCLUDING ALL), by INSERT ... SELECT in one transaction: the server's
// share of a full sync, with no client, no network and no parsing, which
// no change of the client can take away while the schema is this one
// (issue 19). The tables are created before and dropped after the timing.
// Postgres only, for benchmarks.
func (s *Store) InsertFloor(ctx context.Context) (time.Duration, error) {
	if !s.pg() {
		return 0, errors.New("insert floor: Postgres only")
	}
	var suffix [6]byte
	if _, err := rand.Read(suffix[:]); err != nil {
		return 0, fmt.Errorf("insert floor: %w", err)
	}
	copies := make([]string, len(floorTables))
	defer func() {
		for _, c := range copies {
			if c != "" {
				// Dropped even when ctx is done: the tables are not the caller's.
				_, _ = s.db.ExecContext(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS "+c)
			}
		}
	}()
	for i, t := range floorTables {
		c := "insert_floor_" + t + "_" + hex.EncodeToString(suffix[:])
		if _, err := s.db.ExecContext(ctx, "CREATE TABLE "+c+" (LIKE "+t+" INCLUDING ALL)"); err != nil {
			return 0, s.wrap("insert floor", err)
		}
		copies[i] = c
	}
	start := time.Now()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, s.wrap("insert floor", err)
	}
	// Rollback after Commit is a no-op.
	defer func() { _ = tx.Rollback() }()
	for i, t := range floorTables {
		if _, err := tx.ExecContext(ctx, "INSERT INTO "+copies[i]+" SELECT * FROM "+t); err != nil {
			return 0, s.wrap("insert floor", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, s.wrap("insert floor", err)
	}
	return time.Since(start), nil
}
