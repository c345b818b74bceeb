package migrations_test

import (
	"context"
	"fmt"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq"
	_ "modernc.org/sqlite"

	"github.com/portalbot/portalbot/migrations"
)

func versions(t *testing.T, dialect string) []string {
	t.Helper()
	files, err := migrations.Files(dialect)
	if err != nil {
		t.Fatalf("Files(%s): %v", dialect, err)
	}
	var out []string
	for _, f := range files {
		out = append(out, strings.TrimSuffix(filepath.Base(f), ".sql"))
	}
	return out
}

func TestFilesMatchAcrossDialects(t *testing.T) {
	pg, lite := versions(t, migrations.Postgres), versions(t, migrations.SQLite)
	if len(pg) == 0 || !slices.Equal(pg, lite) {
		t.Errorf("postgres migrations %v, sqlite %v: want the same non-empty list", pg, lite)
	}
	if _, err := migrations.Files("mysql"); err == nil {
		t.Errorf("Files(mysql) succeeded, want an error")
	}
}

func TestApplySQLite(t *testing.T) {
	ctx := context.Background()
	raw, err := sqlx.Open("sqlite", filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	db := sqlx.NewDb(raw.DB, "sqlite3")
	defer db.Close()
	applied, err := migrations.Apply(ctx, db, migrations.SQLite)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if want := versions(t, migrations.SQLite); !slices.Equal(applied, want) {
		t.Errorf("Apply = %v, want %v", applied, want)
	}
	again, err := migrations.Apply(ctx, db, migrations.SQLite)
	if err != nil || len(again) != 0 {
		t.Errorf("Apply again = %v, %v; want nothing applied", again, err)
	}
	var n int
	if err := db.Get(&n, "SELECT count(*) FROM schema_migrations"); err != nil || n != len(applied) {
		t.Errorf("schema_migrations rows = %d, %v; want %d", n, err, len(applied))
	}
}

// TestApplyPostgresConcurrently starts several migrators on one empty schema
// at once, as replicas starting together do: each migration is applied once.
func TestApplyPostgresConcurrently(t *testing.T) {
	dsn := sqlstoretest.PostgresDSN(t)
	admin := sqlx.MustOpen("postgres", dsn)
	schema := fmt.Sprintf("migrate_test_%d", time.Now().UnixNano())
	admin.MustExec("CREATE SCHEMA " + schema)
	t.Cleanup(func() {
		admin.MustExec("DROP SCHEMA " + schema + " CASCADE")
		admin.Close()
	})
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()

	const procs = 4
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		applied []string
	)
	for range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := sqlx.Open("postgres", u.String())
			if err != nil {
				t.Error(err)
				return
			}
			defer db.Close()
			got, err := migrations.Apply(context.Background(), db, migrations.Postgres)
			if err != nil {
				t.Errorf("Apply: %v", err)
			}
			mu.Lock()
			applied = append(applied, got...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	slices.Sort(applied)
	if want := versions(t, migrations.Postgres); !slices.Equal(applied, want) {
		t.Errorf("%d concurrent Apply calls applied %v in all, want each of %v once", procs, applied, want)
	}
}
