package sqlstore_test

import (
	"context"
	"errors"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/catalogtest"
	"github.com/portalbot/portalbot/catalog/sqlstore"
)

func TestConformance(t *testing.T) {
	for name, open := range sqlstoretest.Stores() {
		t.Run(name, func(t *testing.T) {
			catalogtest.Run(t, func(tb testing.TB) catalog.Store { return open(tb) })
		})
	}
}

func TestOpen(t *testing.T) {
	ctx := context.Background()
	if _, err := sqlstore.Open(ctx, "mysql://localhost/x"); err == nil {
		t.Errorf("Open(mysql://...) succeeded, want an error")
	}
	if _, err := sqlstore.Open(ctx, "sqlite:"); err == nil {
		t.Errorf("Open(sqlite:) succeeded, want an error")
	}
	// Nothing listens on port 1: the error says the catalog is unavailable
	// and does not show the password.
	_, err := sqlstore.Open(ctx, "postgres://bot:s3cret@127.0.0.1:1/x?sslmode=disable&connect_timeout=2")
	if !errors.Is(err, catalog.ErrUnavailable) {
		t.Errorf("Open(unreachable postgres) error = %v, want ErrUnavailable", err)
	}
	if err != nil && strings.Contains(err.Error(), "s3cret") {
		t.Errorf("Open error %q shows the password", err)
	}

	mem, err := sqlstore.Open(ctx, "sqlite::memory:")
	if err != nil {
		t.Fatalf("Open(sqlite::memory:): %v", err)
	}
	defer mem.Close()
	if mem.Dialect() != "sqlite" {
		t.Errorf("Dialect() = %q, want sqlite", mem.Dialect())
	}
	if err := mem.Ping(ctx); err != nil {
		t.Errorf("Ping: %v", err)
	}
	res := catalogtest.LoadDir(t, mem, "fixtures", "../testdata/valid")
	if res.Added == 0 {
		t.Errorf("LoadDir(catalog/testdata/valid) into memory added nothing: %+v", res)
	}
	if _, err := mem.Entity(ctx, catalog.MustParseRef("component:nothing-here")); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("Entity(missing) error = %v, want ErrNotFound", err)
	}
}

func TestReopenKeepsData(t *testing.T) {
	ctx := context.Background()
	path := "sqlite:" + filepath.Join(t.TempDir(), "c.db")
	st, err := sqlstore.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	want := catalogtest.LoadDir(t, st, "fixtures", "../testdata/valid").Added
	st.Close()
	st, err = sqlstore.Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer st.Close()
	if applied, err := st.Migrate(ctx); err != nil || len(applied) != 0 {
		t.Errorf("Migrate on reopen = %v, %v; want nothing to apply", applied, err)
	}
	c, err := st.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := 0
	for _, n := range c {
		got += n
	}
	if got != want {
		t.Errorf("entities after reopen = %d, want %d", got, want)
	}
}

// TestCountsAcrossReplicas checks that Counts, cached per generation, sees
// a sync made by another store on the same database.
func TestCountsAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	path := "sqlite:" + filepath.Join(t.TempDir(), "replicas.db")
	var stores [2]*sqlstore.Store
	for i := range stores {
		st, err := sqlstore.Open(ctx, path)
		if err != nil {
			t.Fatalf("Open(%s): %v", path, err)
		}
		defer st.Close()
		stores[i] = st
	}
	apply := func(st *sqlstore.Store, commit string, names ...string) {
		t.Helper()
		var docs []string
		for _, n := range names {
			docs = append(docs, "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: "+n+"\nspec:\n  type: team\n  children: []\n")
		}
		ents, errs := catalog.Parse(strings.NewReader(strings.Join(docs, "---\n")), "org.yaml")
		if len(errs) > 0 {
			t.Fatal(errs)
		}
		if _, err := st.ApplySync(ctx, catalog.SyncBatch{Source: catalog.Source{Name: "org", Commit: commit}, Full: true,
			Files: []catalog.FileResult{{Path: "org.yaml", Entities: ents}}}); err != nil {
			t.Fatalf("ApplySync(%s): %v", commit, err)
		}
	}
	wantGroups := func(st *sqlstore.Store, want int) {
		t.Helper()
		c, err := st.Counts(ctx)
		if err != nil || c["Group"] != want {
			t.Errorf("Counts = %v, %v; want %d groups", c, err, want)
		}
	}
	apply(stores[0], "c1", "a", "b")
	wantGroups(stores[0], 2)
	wantGroups(stores[1], 2)
	apply(stores[1], "c2", "a", "b", "c")
	wantGroups(stores[0], 3)
	apply(stores[0], "c3", "a")
	wantGroups(stores[1], 1)
	wantGroups(stores[0], 1)
}
