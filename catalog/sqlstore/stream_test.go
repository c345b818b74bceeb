package sqlstore_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/sqlstore"
)

// parseFile parses YAML text as the file path; it fails the test on
// errors unless broken is set, when it must have some.
func parseFile(t *testing.T, path, text string, broken bool) catalog.FileResult {
	t.Helper()
	ents, errs := catalog.Parse(strings.NewReader(text), path)
	if broken != (len(errs) > 0) {
		t.Fatalf("Parse(%s) errors = %v, want broken=%v", path, errs, broken)
	}
	return catalog.FileResult{Path: path, Entities: ents, Errors: errs}
}

func comp(name, owner string) string {
	return fmt.Sprintf("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: %s\nspec:\n  type: service\n  lifecycle: production\n  owner: %s\n", name, owner)
}

// stream writes files through BeginSync/Add/Commit in the order given.
func stream(t *testing.T, st *sqlstore.Store, commit string, full bool, files ...catalog.FileResult) catalog.SyncResult {
	t.Helper()
	ctx := context.Background()
	src := catalog.Source{Name: "acme", Repo: "https://git.example.com/acme", Commit: commit}
	sw, err := st.BeginSync(ctx, src)
	if err != nil {
		t.Fatalf("BeginSync: %v", err)
	}
	defer sw.Rollback()
	for _, f := range files {
		if err := sw.Add(ctx, f); err != nil {
			t.Fatalf("Add(%s): %v", f.Path, err)
		}
	}
	res, err := sw.Commit(ctx, src, full)
	if err != nil {
		t.Fatalf("Commit: %v", err)
	}
	return res
}

func entityAt(t *testing.T, st *sqlstore.Store, ref string) *catalog.Entity {
	t.Helper()
	e, err := st.Entity(context.Background(), catalog.MustParseRef(ref))
	if err != nil {
		t.Fatalf("Entity(%s): %v", ref, err)
	}
	return e
}

// TestStreamMoves checks the cases a stream decides only at Commit: an
// entity that moved to a file added before its old one.
func TestStreamMoves(t *testing.T) {
	eachStore(t, func(t *testing.T, st *sqlstore.Store) {
		stream(t, st, "c1", true,
			parseFile(t, "a.yaml", comp("moved", "alpha"), false),
			parseFile(t, "b.yaml", comp("other", "beta"), false))

		// The new file comes first and the old one is broken: the old one
		// keeps its last good entity, the newcomer is refused.
		res := stream(t, st, "c2", true,
			parseFile(t, "0-new.yaml", comp("moved", "gamma"), false),
			parseFile(t, "a.yaml", "kind: [", true),
			parseFile(t, "b.yaml", comp("other", "beta"), false))
		if res.Added+res.Updated+res.Removed != 0 || res.Unchanged != 1 {
			t.Errorf("Commit(broken old file) = %+v, want 1 unchanged and nothing else", res)
		}
		if e := entityAt(t, st, "component:moved"); e.Origin.Path != "a.yaml" || e.SpecString("owner") != "alpha" {
			t.Errorf("Entity(moved) = %s owner %q, want a.yaml alpha", e.Origin.Path, e.SpecString("owner"))
		}
		found := false
		for _, pe := range res.Errors {
			if pe.Path == "0-new.yaml" && strings.Contains(pe.Message, "already defined in a.yaml") {
				found = true
			}
		}
		if !found {
			t.Errorf("Commit(broken old file) errors = %v, want 0-new.yaml refused", res.Errors)
		}

		// The old file fixed and no longer holding it: it moves.
		res = stream(t, st, "c3", true,
			parseFile(t, "0-new.yaml", comp("moved", "gamma"), false),
			parseFile(t, "a.yaml", comp("stays", "alpha"), false))
		if res.Added != 1 || res.Updated != 1 || res.Removed != 1 || len(res.Errors) != 0 {
			t.Errorf("Commit(moved) = %+v, want 1 added (stays), 1 updated (moved), 1 removed (other)", res)
		}
		if e := entityAt(t, st, "component:moved"); e.Origin.Path != "0-new.yaml" || e.SpecString("owner") != "gamma" {
			t.Errorf("Entity(moved) = %s owner %q, want 0-new.yaml gamma", e.Origin.Path, e.SpecString("owner"))
		}

		// Not full: a file not added keeps its entities, and one of them
		// emitted by an added file stays where it is.
		res = stream(t, st, "c4", false, parseFile(t, "z.yaml", comp("stays", "zeta"), false))
		if res.Added+res.Updated+res.Removed != 0 || len(res.Errors) != 1 {
			t.Errorf("Commit(partial, stays claimed by a.yaml) = %+v, want one error and no change", res)
		}
		if e := entityAt(t, st, "component:stays"); e.Origin.Path != "a.yaml" {
			t.Errorf("Entity(stays).Origin.Path = %q, want a.yaml", e.Origin.Path)
		}
	})
}

// TestStreamChunks writes more entities than one write chunk, changes every
// owner, then rolls a sync back.
func TestStreamChunks(t *testing.T) {
	const n = 6000 // more than sqlstore's 5,000-entity write chunk
	gen := func(owner string) []catalog.FileResult {
		var files []catalog.FileResult
		for f := 0; f < n/100; f++ {
			var docs []string
			for i := range 100 {
				docs = append(docs, comp(fmt.Sprintf("svc-%d-%d", f, i), owner))
			}
			files = append(files, parseFile(t, fmt.Sprintf("svc-%03d.yaml", f), strings.Join(docs, "---\n"), false))
		}
		return files
	}
	eachStore(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		start := time.Now().Add(-time.Second)
		if res := stream(t, st, "c1", true, gen("alpha")...); res.Added != n || len(res.Errors) != 0 {
			t.Fatalf("Commit(%d new) = %+v", n, res)
		}
		if res := stream(t, st, "c2", true, gen("beta")...); res.Updated != n || res.Added+res.Removed != 0 {
			t.Errorf("Commit(%d owners changed) = %+v", n, res)
		}
		if e := entityAt(t, st, "component:svc-59-99"); e.SpecString("owner") != "beta" {
			t.Errorf("Entity(svc-59-99) owner = %q, want beta", e.SpecString("owner"))
		}
		rels, err := st.Relations(ctx, catalog.MustParseRef("component:svc-0-0"))
		if err != nil || len(rels) != 1 || rels[0].Target.Name != "beta" {
			t.Errorf("Relations(svc-0-0) = %v, %v; want one ownedBy beta", rels, err)
		}
		hist, err := st.OwnershipChanges(ctx, start)
		if err != nil || len(hist) != 2*n {
			t.Errorf("OwnershipChanges = %d rows, %v; want %d", len(hist), err, 2*n)
		}

		sw, err := st.BeginSync(ctx, catalog.Source{Name: "acme"})
		if err != nil {
			t.Fatalf("BeginSync: %v", err)
		}
		for _, f := range gen("gamma") {
			if err := sw.Add(ctx, f); err != nil {
				t.Fatalf("Add(%s): %v", f.Path, err)
			}
		}
		sw.Rollback()
		if e := entityAt(t, st, "component:svc-59-99"); e.SpecString("owner") != "beta" {
			t.Errorf("after Rollback, Entity(svc-59-99) owner = %q, want beta", e.SpecString("owner"))
		}
		if _, err := sw.Commit(ctx, catalog.Source{Name: "acme"}, true); err == nil {
			t.Errorf("Commit after Rollback succeeded, want an error")
		}
	})
}
