package ingest_test

import (
	"context"
	"fmt"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"sort"
	"strings"
	"testing"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/ingest"
	"github.com/portalbot/portalbot/catalog/sqlstore"
	"github.com/portalbot/portalbot/catalog/synth"
)

// stores runs f once on a fresh SQLite store and once on a fresh Postgres
// schema.
func stores(t *testing.T, f func(t *testing.T, st *sqlstore.Store)) {
	t.Run("sqlite", func(t *testing.T) { f(t, sqlstoretest.OpenSQLite(t)) })
	t.Run("postgres", func(t *testing.T) { f(t, sqlstoretest.OpenPostgres(t)) })
}

// newRepo creates a bare repository in t.TempDir() with one commit.
func newRepo(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir() + "/repo"
	if _, err := synth.Init(dir); err != nil {
		t.Fatal(err)
	}
	commit(t, dir, files)
	return dir
}

// commit records files (content "" deletes) as a new commit.
func commit(t *testing.T, dir string, files map[string]string) string {
	t.Helper()
	ch := map[string]synth.Change{}
	for p, c := range files {
		if c == "" {
			ch[p] = synth.Delete()
		} else {
			ch[p] = synth.Write(c)
		}
	}
	h, err := synth.Commit(dir, "test commit", ch)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func mustSync(t *testing.T, s *ingest.Syncer, src ingest.Source) ingest.Result {
	t.Helper()
	res, err := s.Sync(context.Background(), src)
	if err != nil {
		t.Fatalf("Sync(%s): %v", src.Repo, err)
	}
	return res
}

// dump lists a store's entities (ref, etag, owner, origin) and relations,
// sorted, for comparing two stores.
func dump(t *testing.T, st catalog.Store) []string {
	t.Helper()
	ctx := context.Background()
	ents, err := st.Entities(ctx, catalog.Query{})
	if err != nil {
		t.Fatalf("Entities: %v", err)
	}
	var out []string
	for _, e := range ents {
		owner, _ := e.Owner()
		out = append(out, fmt.Sprintf("entity %s etag=%s owner=%s at %s:%d", e.Ref(), e.Metadata.Etag, owner, e.Origin.Path, e.Origin.Line))
		rels, err := st.Relations(ctx, e.Ref())
		if err != nil {
			t.Fatalf("Relations(%s): %v", e.Ref(), err)
		}
		for _, r := range rels {
			out = append(out, fmt.Sprintf("relation %s %s %s", r.Source, r.Type, strings.ToLower(r.TargetRef)))
		}
	}
	sort.Strings(out)
	return out
}

func entity(t *testing.T, st catalog.Store, ref string) *catalog.Entity {
	t.Helper()
	e, err := st.Entity(context.Background(), catalog.MustParseRef(ref))
	if err != nil {
		t.Fatalf("Entity(%s): %v", ref, err)
	}
	return e
}

func errorsOf(res ingest.Result, file string) []catalog.ProcessingError {
	var out []catalog.ProcessingError
	for _, e := range res.Errors {
		if e.Path == file {
			out = append(out, e)
		}
	}
	return out
}
