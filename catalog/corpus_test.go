package catalog_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/portalbot/portalbot/catalog"
)

// corpusDir is the shared Backstage corpus, relative to this package's
// directory; it is not part of the repository, so the test skips without it.
const corpusDir = "../../shared/corpus/backstage"

func corpusFiles(tb testing.TB, sub string) []string {
	tb.Helper()
	root := filepath.Join(corpusDir, sub)
	if _, err := os.Stat(root); err != nil {
		tb.Skipf("corpus %s not present: %v", root, err)
	}
	var files []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "skeleton" || d.Name() == "template") {
			return filepath.SkipDir
		}
		if !d.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return files
}

func TestCorpusQuick(t *testing.T) {
	counts := map[string]int{}
	for _, f := range corpusFiles(t, "") {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		res := catalog.ParseFile(fh, f)
		fh.Close()
		for _, e := range res.Errors {
			t.Errorf("%s", e)
		}
		for _, e := range res.Entities {
			counts[e.Kind]++
		}
		if len(res.Skipped) > 0 {
			t.Logf("%s: skipped %v", f, res.Skipped)
		}
	}
	t.Log(counts)
}
