package sqlstore_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/catalogtest"
	"github.com/portalbot/portalbot/catalog/sqlstore"
)

// TestReadPaths checks the read shortcuts against the plain reads: Entity
// (one statement) against Entities and Relations, NoRelations against a
// full Entities, Summaries against the entities, and RelationsOfType
// against every entity's relations.
func TestReadPaths(t *testing.T) {
	eachStore(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		catalogtest.LoadDir(t, st, "fixtures", "../testdata/valid")
		all, err := st.Entities(ctx, catalog.Query{})
		if err != nil || len(all) == 0 {
			t.Fatalf("Entities = %d, %v", len(all), err)
		}
		bare, err := st.Entities(ctx, catalog.Query{NoRelations: true})
		if err != nil {
			t.Fatal(err)
		}
		if len(bare) != len(all) {
			t.Fatalf("Entities(NoRelations) = %d entities, want %d", len(bare), len(all))
		}
		withRels := 0
		exists := map[string]bool{}
		for _, e := range all {
			exists[e.Ref().String()] = true
		}
		byType := map[string][]catalog.Relation{}
		for i, e := range all {
			if len(bare[i].Relations) != 0 {
				t.Errorf("Entities(NoRelations)[%s].Relations = %v, want none", e.Ref(), bare[i].Relations)
			}
			c := *bare[i]
			c.Relations = e.Relations
			if diff := cmp.Diff(e, &c); diff != "" {
				t.Errorf("Entities(NoRelations)[%s] differs beyond relations (-full +bare):\n%s", e.Ref(), diff)
			}
			one, err := st.Entity(ctx, e.Ref())
			if err != nil {
				t.Fatalf("Entity(%s): %v", e.Ref(), err)
			}
			if diff := cmp.Diff(e, one); diff != "" {
				t.Errorf("Entity(%s) differs from Entities (-Entities +Entity):\n%s", e.Ref(), diff)
			}
			rels, err := st.Relations(ctx, e.Ref())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(rels, one.Relations); diff != "" {
				t.Errorf("Entity(%s).Relations differs from Relations (-Relations +Entity):\n%s", e.Ref(), diff)
			}
			if len(one.Relations) > 0 {
				withRels++
			}
			for _, r := range e.Relations {
				byType[r.Type] = append(byType[r.Type], r)
			}
		}
		if withRels == 0 {
			t.Fatal("no fixture entity has relations; the comparison proves nothing")
		}
		for typ, want := range byType {
			got, err := st.RelationsOfType(ctx, typ)
			if err != nil {
				t.Fatal(err)
			}
			// Entities lists relations per entity, sorted by ref: the same
			// order as RelationsOfType's (source, target) within one type.
			// RelationsOfType also has inverses from missing entities.
			got = slices.DeleteFunc(got, func(r catalog.Relation) bool { return !exists[r.Source.String()] })
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("RelationsOfType(%s) differs from the entities' relations (-entities +RelationsOfType):\n%s", typ, diff)
			}
		}

		sums, err := st.Summaries(ctx)
		if err != nil || len(sums) != len(all) {
			t.Fatalf("Summaries = %d, %v; want %d", len(sums), err, len(all))
		}
		for i, e := range all {
			s := sums[i]
			want := catalog.Summary{Ref: e.Ref(), Title: e.Metadata.Title, Description: e.Metadata.Description,
				Type: e.SpecString("type"), Lifecycle: e.SpecString("lifecycle"), Origin: e.Origin}
			if len(e.Metadata.Tags) > 0 {
				want.Tags = e.Metadata.Tags
			}
			if o, ok := e.Owner(); ok {
				want.Owner = o.String()
			}
			if diff := cmp.Diff(want, s); diff != "" {
				t.Errorf("Summaries[%d] (-entity +summary):\n%s", i, diff)
			}
		}

		if _, err := st.Entity(ctx, catalog.Ref{Kind: "component", Namespace: "default", Name: "no-such-thing"}); !errors.Is(err, catalog.ErrNotFound) {
			t.Errorf("Entity(missing) error = %v, want ErrNotFound", err)
		}
	})
}
