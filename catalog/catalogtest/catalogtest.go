// Package catalogtest holds the cases every catalog.Store must pass (Run
// takes the store's constructor) and helpers that load descriptor files
// into a store for other packages' tests. It knows no store implementation:
// real stores for tests come from catalog/sqlstore/sqlstoretest.
package catalogtest

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

// LoadDir parses every *.yaml file under dir (recursively) with
// catalog.Parse and applies them to st as one full SyncBatch of source.
// Paths in the batch are slash-separated and relative to dir. Files that do
// not parse are applied as failed files, so their errors are recorded; the
// test fails only when ApplySync itself fails.
func LoadDir(tb testing.TB, st catalog.Store, source, dir string) catalog.SyncResult {
	tb.Helper()
	res, err := st.ApplySync(context.Background(), catalog.SyncBatch{
		Source: catalog.Source{Name: source, Repo: dir, Commit: "loaddir"},
		Full:   true,
		Files:  ReadDir(tb, dir, nil),
	})
	if err != nil {
		tb.Fatalf("LoadDir(%s): ApplySync: %v", dir, err)
	}
	return res
}

// ReadDir parses every *.yaml file under dir with catalog.Parse into one
// FileResult per file, sorted by path; paths are slash-separated and
// relative to dir. edit, when not nil, rewrites a file's text before it is
// parsed (a test's second commit). Files that do not parse carry their
// errors, as a sync would record them.
func ReadDir(tb testing.TB, dir string, edit func(path, data string) string) []catalog.FileResult {
	tb.Helper()
	var files []catalog.FileResult
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
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
		ents, errs := catalog.Parse(strings.NewReader(data), rel)
		files = append(files, catalog.FileResult{Path: rel, Entities: ents, Errors: errs})
		return nil
	})
	if err != nil {
		tb.Fatalf("ReadDir(%s): %v", dir, err)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files
}
