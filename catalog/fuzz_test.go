package catalog_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/portalbot/portalbot/catalog"
)

// FuzzParse checks that Parse never panics or hangs, and that what it
// returns is consistent: errors name the file and a line inside it, and
// every entity it returns is valid and serialisable. Seeds are the
// testdata fixtures and, when present, the shared Backstage corpus.
func FuzzParse(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*/*.yaml")
	if _, err := os.Stat(corpusDir); err == nil {
		seeds = append(seeds, corpusFiles(f, "")...)
	}
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		res := catalog.ParseFile(bytes.NewReader(data), "f.yaml")
		lines := bytes.Count(data, []byte("\n")) + 1
		for _, e := range res.Errors {
			if e.Path != "f.yaml" || e.Line < 0 || e.Line > lines+1 || e.Message == "" {
				t.Errorf("bad error %+v (file has %d lines)", e, lines)
			}
		}
		for _, e := range res.Entities {
			if err := e.Validate(); err != nil {
				t.Errorf("Parse returned an invalid entity %s: %v", e.Ref(), err)
			}
			if e.Origin.Line < 1 || e.Origin.Line > lines {
				t.Errorf("%s: Origin.Line %d outside 1..%d", e.Ref(), e.Origin.Line, lines)
			}
			if _, err := e.Document(); err != nil {
				t.Errorf("%s: Document: %v", e.Ref(), err)
			}
			for _, r := range catalog.DeriveRelations(e) {
				if catalog.Inverse(r.Type) == "" {
					t.Errorf("%s: relation %q has no inverse", e.Ref(), r.Type)
				}
			}
		}
	})
}
