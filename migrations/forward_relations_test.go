package migrations_test

import (
	"context"
	"fmt"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"io/fs"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/portalbot/portalbot/migrations"
)

// TestForwardRelationsMigration applies the migrations before 0004 to a
// fresh SQLite database and Postgres schema, stores relations in both
// directions as they were kept then, and checks that 0004 keeps each
// forward edge once with the type of its inverse only where the inverse
// was stored.
func TestForwardRelationsMigration(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		raw, err := sqlx.Open("sqlite", filepath.Join(t.TempDir(), "m.db"))
		if err != nil {
			t.Fatal(err)
		}
		db := sqlx.NewDb(raw.DB, "sqlite3")
		defer db.Close()
		testForwardRelations(t, db, migrations.SQLite)
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := sqlstoretest.PostgresDSN(t)
		admin := sqlx.MustOpen("postgres", dsn)
		schema := fmt.Sprintf("migrate_fwd_%d", time.Now().UnixNano())
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
		db := sqlx.MustOpen("postgres", u.String())
		defer db.Close()
		testForwardRelations(t, db, migrations.Postgres)
	})
}

func testForwardRelations(t *testing.T, db *sqlx.DB, dialect string) {
	ctx := context.Background()
	if _, err := db.Exec("CREATE TABLE schema_migrations (version TEXT PRIMARY KEY, applied_at TEXT NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	names, err := migrations.Files(dialect)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		version := strings.TrimSuffix(filepath.Base(name), ".sql")
		if version >= "0004" {
			break
		}
		body, err := fs.ReadFile(migrations.FS, name)
		if err != nil {
			t.Fatal(err)
		}
		tx := db.MustBegin()
		if _, err := tx.Exec(string(body)); err != nil {
			t.Fatalf("apply %s: %v", version, err)
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(db.Rebind("INSERT INTO schema_migrations VALUES (?, 'then')"), version); err != nil {
			t.Fatal(err)
		}
	}
	old := [][4]string{
		// A component owned by a group: both directions.
		{"component:default/a", "ownedBy", "group:default/g", "component:default/a"},
		{"group:default/g", "ownerOf", "component:default/a", "component:default/a"},
		// A component consuming a component: no inverse (Backstage emits none).
		{"component:default/a", "consumesApi", "component:default/b", "component:default/a"},
		// A self-dependency: both rows start at the origin.
		{"component:default/c", "dependsOn", "component:default/c", "component:default/c"},
		{"component:default/c", "dependencyOf", "component:default/c", "component:default/c"},
	}
	for _, r := range old {
		if _, err := db.Exec(db.Rebind("INSERT INTO relations (source_ref, type, target_ref, origin_ref) VALUES (?, ?, ?, ?)"), r[0], r[1], r[2], r[3]); err != nil {
			t.Fatal(err)
		}
	}
	applied, err := migrations.Apply(ctx, db, dialect)
	if err != nil {
		t.Fatalf("Apply: %v", err)
	}
	if len(applied) == 0 || applied[0] != "0004_forward_relations" {
		t.Fatalf("Apply = %v, want 0004_forward_relations first", applied)
	}
	var rows []struct {
		Source  string `db:"source_ref"`
		Type    string `db:"type"`
		Target  string `db:"target_ref"`
		Inverse string `db:"inverse_type"`
	}
	if err := db.Select(&rows, "SELECT source_ref, type, target_ref, inverse_type FROM relations ORDER BY source_ref, type"); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		got = append(got, r.Source+" "+r.Type+" "+r.Target+" inverse="+r.Inverse)
	}
	want := []string{
		"component:default/a consumesApi component:default/b inverse=",
		"component:default/a ownedBy group:default/g inverse=ownerOf",
		"component:default/c dependencyOf component:default/c inverse=dependsOn",
		"component:default/c dependsOn component:default/c inverse=dependencyOf",
	}
	if !slices.Equal(got, want) {
		t.Errorf("relations after 0004 =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
