package sqlstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/catalogtest"
	"github.com/portalbot/portalbot/catalog/sqlstore"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
)

// TestStampedDocumentsStoreTheSame loads the same files into two stores of
// each dialect, one given the entities' stamped documents
// (FileResult.Documents, which a sync passes so that the store encodes
// nothing again) and one left to encode them itself: every answer, and so
// `portalbot export`, must be the same.
func TestStampedDocumentsStoreTheSame(t *testing.T) {
	for _, open := range []func(testing.TB) *sqlstore.Store{sqlstoretest.OpenSQLite, sqlstoretest.OpenPostgres} {
		encoded, given, prepared := open(t), open(t), open(t)
		withDocs, withPrep := 0, 0
		for _, dir := range []string{"../testdata/valid", "../testdata/broken"} {
			catalogtest.LoadDir(t, encoded, dir, dir)
			files := catalogtest.ReadDir(t, dir, nil)
			for i := range files {
				f := &files[i]
				f.Documents = map[*catalog.Entity][]byte{}
				for _, e := range f.Entities {
					doc, err := e.StampDocument()
					if err != nil {
						t.Fatalf("StampDocument(%s): %v", e.Ref(), err)
					}
					f.Documents[e] = doc
					withDocs++
				}
			}
			if _, err := given.ApplySync(context.Background(), catalog.SyncBatch{
				Source: catalog.Source{Name: dir, Repo: dir, Commit: "loaddir"}, Full: true, Files: files,
			}); err != nil {
				t.Fatalf("ApplySync(%s) with documents: %v", dir, err)
			}
			// The same with rows prepared ahead (catalog.SyncPreparer), as
			// a sync's parse workers do.
			for i := range files {
				f := &files[i]
				f.Prepared = map[*catalog.Entity]any{}
				for e, doc := range f.Documents {
					if v := prepared.Prepare(e, doc); v != nil {
						f.Prepared[e] = v
						withPrep++
					}
				}
			}
			if _, err := prepared.ApplySync(context.Background(), catalog.SyncBatch{
				Source: catalog.Source{Name: dir, Repo: dir, Commit: "loaddir"}, Full: true, Files: files,
			}); err != nil {
				t.Fatalf("ApplySync(%s) with prepared rows: %v", dir, err)
			}
		}
		a, b, c := takeSnapshot(t, encoded), takeSnapshot(t, given), takeSnapshot(t, prepared)
		if withPrep == 0 {
			t.Fatal("Prepare prepared nothing")
		}
		if diff := cmp.Diff(a, c); diff != "" {
			t.Errorf("stores disagree (-encoded +prepared rows):\n%s", diff)
		}
		if withDocs == 0 || len(a.Entities) == 0 {
			t.Fatalf("fixtures gave %d documents, %d entities; want some", withDocs, len(a.Entities))
		}
		if diff := cmp.Diff(a, b); diff != "" {
			t.Errorf("stores disagree (-encoded +given documents):\n%s", diff)
		}
		// Owners as the ownership history records them, which Prepare's
		// rows also carry.
		oa, ob, oc := ownerChanges(t, encoded), ownerChanges(t, given), ownerChanges(t, prepared)
		if len(oa) == 0 {
			t.Fatal("fixtures recorded no owner")
		}
		if diff := cmp.Diff(oa, ob); diff != "" {
			t.Errorf("ownership histories disagree (-encoded +given documents):\n%s", diff)
		}
		if diff := cmp.Diff(oa, oc); diff != "" {
			t.Errorf("ownership histories disagree (-encoded +prepared rows):\n%s", diff)
		}
	}
}

// ownerChanges returns st's ownership history without its times, sorted.
func ownerChanges(t *testing.T, st *sqlstore.Store) []string {
	t.Helper()
	chs, err := st.OwnershipChanges(context.Background(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, c := range chs {
		out = append(out, fmt.Sprintf("%s: %q -> %q at %s", c.Entity, c.Old, c.New, c.Commit))
	}
	sort.Strings(out)
	return out
}

// TestUncleanDocumentStoresTheSame checks that a document with invalid
// UTF-8 (a json.RawMessage in the spec passes it through json.Marshal) is
// stored as the same valid text whether the store is given its document
// or prepared its row, with a definition or not, and for an API as when
// the store encodes it.
func TestUncleanDocumentStoresTheSame(t *testing.T) {
	ctx := context.Background()
	for _, open := range []func(testing.TB) *sqlstore.Store{sqlstoretest.OpenSQLite, sqlstoretest.OpenPostgres} {
		var stored [3]map[string]string
		for mode := range stored {
			st := open(t)
			raw := json.RawMessage("\"bad \xff utf-8\"")
			ents := []*catalog.Entity{
				{APIVersion: "backstage.io/v1alpha1", Kind: "Component", Metadata: catalog.Metadata{Name: "c"},
					Spec: map[string]any{"type": "service", "lifecycle": "production", "owner": "team", "raw": raw}},
				{APIVersion: "backstage.io/v1alpha1", Kind: "API", Metadata: catalog.Metadata{Name: "a"},
					Spec: map[string]any{"type": "openapi", "lifecycle": "production", "owner": "team", "definition": "openapi: 3.0.0", "raw": raw}},
			}
			f := catalog.FileResult{Path: "catalog-info.yaml", Entities: ents}
			if mode > 0 {
				f.Documents = map[*catalog.Entity][]byte{}
			}
			for _, e := range ents {
				doc, err := e.StampDocument()
				if err != nil {
					t.Fatal(err)
				}
				if mode > 0 {
					f.Documents[e] = doc
				}
				if mode == 2 {
					if f.Prepared == nil {
						f.Prepared = map[*catalog.Entity]any{}
					}
					f.Prepared[e] = st.Prepare(e, doc)
				}
			}
			if _, err := st.ApplySync(ctx, catalog.SyncBatch{Source: catalog.Source{Name: "s", Repo: "s", Commit: "c1"}, Full: true, Files: []catalog.FileResult{f}}); err != nil {
				t.Fatalf("ApplySync (mode %d): %v", mode, err)
			}
			stored[mode] = map[string]string{}
			for _, e := range ents {
				var doc string
				if err := st.DB().Get(&doc, st.DB().Rebind("SELECT doc FROM entities WHERE ref = ?"), e.Ref().String()); err != nil {
					t.Fatal(err)
				}
				if !utf8.ValidString(doc) || !strings.Contains(doc, "bad \uFFFD utf-8") {
					t.Errorf("%s stored %q (mode %d), want the bad byte replaced", e.Ref(), doc, mode)
				}
				stored[mode][e.Ref().String()] = doc
			}
		}
		// Without a definition, a given document is stored as stamped,
		// without uid and etag; with one, as the store encodes it.
		if diff := cmp.Diff(stored[1], stored[2]); diff != "" {
			t.Errorf("stored documents differ (-given +prepared):\n%s", diff)
		}
		if a, b := stored[0]["api:default/a"], stored[1]["api:default/a"]; a != b {
			t.Errorf("API stored as %q when encoded, %q when given its document", a, b)
		}
	}
}
