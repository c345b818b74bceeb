package sqlstore_test

import (
	"context"
	"errors"
	"slices"
	"strings"
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
			if len(bare[i].Relations) != 0 || !bare[i].RelationsOmitted {
				t.Errorf("Entities(NoRelations)[%s].Relations = %v, omitted %t; want none, omitted", e.Ref(), bare[i].Relations, bare[i].RelationsOmitted)
			}
			if e.RelationsOmitted {
				t.Errorf("Entities[%s].RelationsOmitted = true, want false", e.Ref())
			}
			c := *bare[i]
			c.Relations, c.RelationsOmitted = e.Relations, false
			if diff := cmp.Diff(e, &c); diff != "" {
				t.Errorf("Entities(NoRelations)[%s] differs beyond relations (-full +bare):\n%s", e.Ref(), diff)
			}
			// One ref without relations takes a shortcut of its own.
			alone, err := st.Entities(ctx, catalog.Query{Refs: []catalog.Ref{e.Ref()}, NoRelations: true})
			if err != nil {
				t.Fatalf("Entities(%s, NoRelations): %v", e.Ref(), err)
			}
			if len(alone) != 1 {
				t.Fatalf("Entities(%s, NoRelations) = %d entities, want 1", e.Ref(), len(alone))
			}
			if diff := cmp.Diff(bare[i], alone[0]); diff != "" {
				t.Errorf("Entities(%s, NoRelations) differs from Entities(NoRelations) (-all +one):\n%s", e.Ref(), diff)
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

		missing := catalog.Ref{Kind: "component", Namespace: "default", Name: "no-such-thing"}
		if _, err := st.Entity(ctx, missing); !errors.Is(err, catalog.ErrNotFound) {
			t.Errorf("Entity(missing) error = %v, want ErrNotFound", err)
		}
		if got, err := st.Entities(ctx, catalog.Query{Refs: []catalog.Ref{missing}, NoRelations: true}); len(got) != 0 || err != nil {
			t.Errorf("Entities(missing, NoRelations) = %v, %v; want none", got, err)
		}
		// Refs compare case-insensitively, the shortcut's too.
		upper := all[0].Ref()
		upper.Kind, upper.Name = strings.ToUpper(upper.Kind), strings.ToUpper(upper.Name)
		if got, err := st.Entities(ctx, catalog.Query{Refs: []catalog.Ref{upper}, NoRelations: true}); len(got) != 1 || err != nil {
			t.Errorf("Entities(%s, NoRelations) = %d entities, %v; want 1", upper, len(got), err)
		}
	})
}
