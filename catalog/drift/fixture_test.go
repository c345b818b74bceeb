package drift_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/catalogtest"
)

// fixtureSource is the source name of testdata/catalog; its repo is a
// GitHub URL so findings carry links.
const (
	fixtureSource = "acme/catalog"
	fixtureRepo   = "https://github.com/acme/catalog.git"
)

// fixtureMapping is the CODEOWNERS mapping the fixture's billing component
// relies on.
var fixtureMapping = map[string]string{"@acme/money": "group:default/billing"}

// loadFixture applies testdata/catalog as one full sync of fixtureSource at
// commit, with testdata/CODEOWNERS as the source's CODEOWNERS file. edit,
// when not nil, rewrites a file's content (by slash path) before parsing.
func loadFixture(tb testing.TB, st catalog.Store, commit string, edit func(path, data string) string) {
	tb.Helper()
	dir := filepath.Join("testdata", "catalog")
	co, err := os.ReadFile(filepath.Join("testdata", "CODEOWNERS"))
	if err != nil {
		tb.Fatal(err)
	}
	files := catalogtest.ReadDir(tb, dir, edit)
	for _, f := range files {
		if len(f.Errors) > 0 {
			tb.Fatalf("fixture %s: %v", f.Path, f.Errors)
		}
		for _, e := range f.Entities {
			e.Origin.Source, e.Origin.Commit = fixtureSource, commit
		}
	}
	res, err := st.ApplySync(context.Background(), catalog.SyncBatch{
		Source: catalog.Source{Name: fixtureSource, Repo: fixtureRepo, Branch: "main", Commit: commit, CodeOwners: string(co)},
		Full:   true,
		Files:  files,
	})
	if err != nil {
		tb.Fatalf("ApplySync: %v", err)
	}
	if len(res.Errors) > 0 {
		tb.Fatalf("ApplySync errors: %v", res.Errors)
	}
}
