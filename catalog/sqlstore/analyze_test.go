package sqlstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/sqlstore"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
)

// TestCommitReleasesConnBeforeAnalyze syncs enough entities to trigger
// analyzeIfBig through a pool of one connection. The sync's own connection
// must be back in the pool by then: before, Commit held it through the
// ANALYZE, which waited for a connection until the context ended (the
// ingest benchmark, which pins the pool to one connection, hung there).
func TestCommitReleasesConnBeforeAnalyze(t *testing.T) {
	s := sqlstoretest.OpenPostgres(t)
	sqlstore.SetAnalyzeAfter(s, 3)
	s.DB().SetMaxOpenConns(1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var ents []*catalog.Entity
	for i := range 3 {
		e := &catalog.Entity{APIVersion: "backstage.io/v1alpha1", Kind: "Component",
			Metadata: catalog.Metadata{Name: fmt.Sprintf("svc-%d", i)},
			Spec:     map[string]any{"type": "service", "owner": "team", "lifecycle": "production"}}
		e.Origin.Line = i + 1
		ents = append(ents, e)
	}
	sw, err := s.BeginSync(ctx, catalog.Source{Name: "src", Commit: "c1"})
	if err != nil {
		t.Fatal(err)
	}
	defer sw.Rollback()
	if err := sw.Add(ctx, catalog.FileResult{Path: "catalog-info.yaml", Entities: ents}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := sw.Commit(ctx, catalog.Source{Name: "src", Commit: "c1"}, true)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Commit: %v", err)
		}
		if ctx.Err() != nil {
			t.Fatalf("Commit returned only when its context ended: %v", ctx.Err())
		}
	case <-ctx.Done():
		t.Fatal("Commit did not return within 10 s with a one-connection pool")
	}
	var n int
	if err := s.DB().GetContext(ctx, &n, "SELECT count(*) FROM entities"); err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("entities after Commit = %d, want 3", n)
	}
	// The planner knows the table's size: ANALYZE ran and was committed
	// (a table never analyzed has reltuples -1).
	var tuples float64
	if err := s.DB().GetContext(ctx, &tuples, "SELECT reltuples FROM pg_class WHERE oid = 'entities'::regclass"); err != nil {
		t.Fatal(err)
	}
	if tuples != 3 {
		t.Errorf("reltuples after a sync over the analyze threshold = %v, want 3", tuples)
	}
}

// TestCopyFloor: the benchmark floor copies every stored document into an
// ordinary, WAL-logged table (as every catalog table is: a temporary one
// skips the WAL and halves the floor), on Postgres only, and leaves no
// table behind.
func TestCopyFloor(t *testing.T) {
	ctx := context.Background()
	if _, err := sqlstoretest.OpenSQLite(t).CopyFloor(ctx); err == nil {
		t.Error("CopyFloor on SQLite: want an error")
	}
	s := sqlstoretest.OpenPostgres(t)
	// 400 documents of 8 KB of incompressible text: 3.2 MB that a logged
	// COPY must write to the WAL.
	var ents []*catalog.Entity
	for i := range 400 {
		var noise [4096]byte
		if _, err := rand.Read(noise[:]); err != nil {
			t.Fatal(err)
		}
		ents = append(ents, &catalog.Entity{APIVersion: "backstage.io/v1alpha1", Kind: "Component",
			Metadata: catalog.Metadata{Name: fmt.Sprintf("svc-%d", i), Description: hex.EncodeToString(noise[:])},
			Spec:     map[string]any{"type": "service", "owner": "team", "lifecycle": "production"}})
	}
	if _, err := s.ApplySync(ctx, catalog.SyncBatch{Source: catalog.Source{Name: "src", Commit: "c1"}, Full: true,
		Files: []catalog.FileResult{{Path: "catalog-info.yaml", Entities: ents}}}); err != nil {
		t.Fatal(err)
	}
	var docBytes int64
	if err := s.DB().GetContext(ctx, &docBytes, "SELECT sum(octet_length(doc)) FROM entities"); err != nil {
		t.Fatal(err)
	}
	checkFloor(t, s, s.CopyFloor, "copy_floor", docBytes)
}

// TestInsertFloor: the insert floor writes every stored entity, relation
// and history row again (the WAL grows by more than their documents) into
// tables it leaves nowhere, and is Postgres only.
func TestInsertFloor(t *testing.T) {
	ctx := context.Background()
	if _, err := sqlstoretest.OpenSQLite(t).InsertFloor(ctx); err == nil {
		t.Error("InsertFloor on SQLite: want an error")
	}
	s := sqlstoretest.OpenPostgres(t)
	var ents []*catalog.Entity
	for i := range 300 {
		var noise [2048]byte
		if _, err := rand.Read(noise[:]); err != nil {
			t.Fatal(err)
		}
		ents = append(ents, &catalog.Entity{APIVersion: "backstage.io/v1alpha1", Kind: "Component",
			Metadata: catalog.Metadata{Name: fmt.Sprintf("svc-%d", i), Description: hex.EncodeToString(noise[:])},
			Spec:     map[string]any{"type": "service", "owner": "team", "lifecycle": "production", "dependsOn": []any{"resource:db"}}})
	}
	if _, err := s.ApplySync(ctx, catalog.SyncBatch{Source: catalog.Source{Name: "src", Commit: "c1"}, Full: true,
		Files: []catalog.FileResult{{Path: "catalog-info.yaml", Entities: ents}}}); err != nil {
		t.Fatal(err)
	}
	var docBytes, relations, history int64
	if err := s.DB().GetContext(ctx, &docBytes, "SELECT sum(octet_length(doc)) FROM entities"); err != nil {
		t.Fatal(err)
	}
	if err := s.DB().GetContext(ctx, &relations, "SELECT count(*) FROM relations"); err != nil || relations < 600 {
		t.Fatalf("%d relations stored, %v; want at least 600 to copy", relations, err)
	}
	if err := s.DB().GetContext(ctx, &history, "SELECT count(*) FROM ownership_history"); err != nil || history != 300 {
		t.Fatalf("%d history rows stored, %v; want 300 to copy", history, err)
	}
	checkFloor(t, s, s.InsertFloor, "insert_floor", docBytes)
}

// checkFloor runs a floor measurement that must write at least docBytes of
// WAL (its rows go into ordinary, logged tables) and leave no relation
// named prefix* behind.
func checkFloor(t *testing.T, s *sqlstore.Store, floor func(context.Context) (time.Duration, error), prefix string, docBytes int64) {
	t.Helper()
	ctx := context.Background()
	var before string
	if err := s.DB().GetContext(ctx, &before, "SELECT pg_current_wal_insert_lsn()::text"); err != nil {
		t.Fatal(err)
	}
	if d, err := floor(ctx); err != nil || d <= 0 {
		t.Fatalf("%s = %v, %v; want a positive duration", prefix, d, err)
	}
	var wal int64
	if err := s.DB().GetContext(ctx, &wal, "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1::pg_lsn)::bigint", before); err != nil {
		t.Fatal(err)
	}
	if wal < docBytes {
		t.Errorf("%s wrote %d bytes of WAL for %d bytes of documents: its rows were not written to logged tables", prefix, wal, docBytes)
	}
	var n int
	if err := s.DB().GetContext(ctx, &n, "SELECT count(*) FROM pg_class WHERE relname LIKE $1", strings.ReplaceAll(prefix, "_", `\_`)+"%"); err != nil || n != 0 {
		t.Fatalf("%s left behind: %d relations, %v", prefix, n, err)
	}
}
