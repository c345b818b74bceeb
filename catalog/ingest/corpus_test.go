package ingest_test

import (
	"context"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/ingest"
	"github.com/portalbot/portalbot/catalog/sqlstore"
	"github.com/portalbot/portalbot/catalog/synth"
)

// corpusDir is the shared Backstage corpus, read in place (never copied
// into the project).
const corpusDir = "../../../shared/corpus/backstage"

// corpusRepo commits the files under corpusDir/sub (plus extra) into a new
// repository.
func corpusRepo(t *testing.T, sub string, extra map[string]string) string {
	t.Helper()
	ch := map[string]synth.Change{}
	base := filepath.Join(corpusDir, sub)
	err := filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(base, p)
		ch[filepath.ToSlash(rel)] = synth.Change{Data: b}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for p, c := range extra {
		ch[p] = synth.Write(c)
	}
	dir := filepath.Join(t.TempDir(), strings.ReplaceAll(sub, "/", "_")+"repo")
	if _, err := synth.Init(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := synth.Commit(dir, "corpus", ch); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestCorpusSameInBothStores syncs Backstage's own example catalog, whose
// remote-templates.yaml points by URL into a second source, into SQLite
// and Postgres and compares the results.
func TestCorpusSameInBothStores(t *testing.T) {
	if _, err := os.Stat(corpusDir); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the shared Backstage corpus must be present in CI: %v", err)
		}
		t.Skipf("SKIP: shared Backstage corpus not found at %s: %v", corpusDir, err)
	}
	main := corpusRepo(t, "", map[string]string{"catalog-info.yaml": `apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: corpus
spec:
  targets:
    - ./packages/catalog-model/examples/all.yaml
    - ./packages/catalog-model/examples/acme/org.yaml
    - ./plugins/scaffolder-backend/sample-templates/all-templates.yaml
`})
	templates := corpusRepo(t, "extra/backstage-software-templates", nil)
	sources := []ingest.Source{
		{Name: "backstage/backstage", Repo: main},
		{Name: "backstage/software-templates", Repo: templates},
	}
	run := func(st *sqlstore.Store) ingest.Result {
		// all.yaml lists AiResource and mcp-server API examples, which
		// only the alpha catalog model accepts: keep them in the comparison.
		s := ingest.New(st, ingest.Options{Sources: sources, AlphaModel: true})
		return mustSync(t, s, sources[0])
	}
	lite, pg := sqlstoretest.OpenSQLite(t), sqlstoretest.OpenPostgres(t)
	rl, rp := run(lite), run(pg)
	if diff := cmp.Diff(dump(t, lite), dump(t, pg)); diff != "" {
		t.Errorf("SQLite and Postgres differ (-sqlite +postgres):\n%s", diff)
	}
	if diff := cmp.Diff(rl.Errors, rp.Errors); diff != "" {
		t.Errorf("processing errors differ (-sqlite +postgres):\n%s", diff)
	}
	// The corpus's remote $text placeholders fail cleanly: no host allowed.
	for _, e := range rl.Errors {
		if !strings.Contains(e.Message, "is not allowed") || e.Line == 0 {
			t.Errorf("unexpected processing error %s", e)
		}
	}
	if rl.Counts[catalog.KindUser] != 17 || rl.Counts[catalog.KindGroup] != 8 || rl.Counts[catalog.KindComponent] != 13 {
		t.Errorf("Counts = %v, want the corpus's 17 users, 8 groups, 13 components", rl.Counts)
	}
	ctx := context.Background()
	def, err := lite.Definition(ctx, catalog.MustParseRef("api:petstore-webhook"))
	if err != nil || !strings.Contains(def, "webhooks") {
		t.Errorf("Definition(api:petstore-webhook) = %.80q, %v; want ./petstore-webhook.oas.yaml's text", def, err)
	}
	// Reached through a URL into the second source.
	e := entity(t, lite, "template:docs-template")
	if !strings.HasPrefix(e.Origin.Path, "backstage/software-templates:") {
		t.Errorf("template:docs-template origin = %q, want a file of backstage/software-templates", e.Origin.Path)
	}
}
