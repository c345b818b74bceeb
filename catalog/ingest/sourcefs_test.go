package ingest_test

import (
	"context"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"io"
	"io/fs"
	"testing"

	"github.com/portalbot/portalbot/catalog/ingest"
)

// TestSourceFSReadsContent reads a synced commit's files through SourceFS
// as the template runner does (fs.Sub, fs.ReadFile, Open and Read): the
// contents come back, not empty files.
func TestSourceFSReadsContent(t *testing.T) {
	const skeleton = "name: ${{ values.name }}\n"
	repo := newRepo(t, map[string]string{
		"catalog-info.yaml":                    "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: a\nspec:\n  type: service\n  lifecycle: production\n  owner: team-a\n",
		"templates/svc/skeleton/catalog.yaml":  skeleton,
		"templates/svc/skeleton/docs/index.md": "# Docs\n",
	})
	st := sqlstoretest.OpenSQLite(t)
	s := ingest.New(st, ingest.Options{CacheDir: t.TempDir()})
	mustSync(t, s, ingest.Source{Name: "acme/catalog", Repo: repo})
	e := entity(t, st, "component:default/a")

	fsys, err := s.SourceFS(context.Background(), e.Origin)
	if err != nil {
		t.Fatalf("SourceFS(%+v): %v", e.Origin, err)
	}
	skel, err := fs.Sub(fsys, "templates/svc/skeleton")
	if err != nil {
		t.Fatal(err)
	}
	if b, err := fs.ReadFile(skel, "catalog.yaml"); err != nil || string(b) != skeleton {
		t.Errorf("fs.ReadFile(catalog.yaml) = %q, %v; want %q", b, err, skeleton)
	}
	f, err := skel.Open("docs/index.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if b, err := io.ReadAll(f); err != nil || string(b) != "# Docs\n" {
		t.Errorf("Open(docs/index.md) then Read = %q, %v; want the file's content", b, err)
	}
	if _, err := fs.ReadFile(skel, "docs"); err == nil {
		t.Error("fs.ReadFile(a directory) succeeded, want an error")
	}
	if _, err := fs.ReadFile(fsys, "../outside"); err == nil {
		t.Error("fs.ReadFile(../outside) succeeded, want an error")
	}
}
