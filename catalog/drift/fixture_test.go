package drift_test

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/portalbot/portalbot/catalog"
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
	var files []catalog.FileResult
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".yaml") {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		data := string(b)
		if edit != nil {
			data = edit(rel, data)
		}
		ents, perrs := catalog.Parse(strings.NewReader(data), rel)
		if len(perrs) > 0 {
			tb.Fatalf("fixture %s: %v", rel, perrs)
		}
		for _, e := range ents {
			e.Origin.Source, e.Origin.Commit = fixtureSource, commit
		}
		files = append(files, catalog.FileResult{Path: rel, Entities: ents})
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
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
