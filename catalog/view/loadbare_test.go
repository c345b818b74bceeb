package view

import (
	"context"
	"testing"

	"github.com/portalbot/portalbot/catalog"
)

// entityStore is a catalog.Store holding entities by canonical ref that
// counts its point reads: Entity (with relations) and Entities of one ref
// without them.
type entityStore struct {
	catalog.Store
	ents               map[string]*catalog.Entity
	full, bare, listed int
}

func (s *entityStore) Generation(context.Context) (int64, error) { return 1, nil }

func (s *entityStore) Summaries(context.Context) ([]catalog.Summary, error) {
	var out []catalog.Summary
	for _, e := range s.ents {
		out = append(out, catalog.Summary{Ref: e.Ref()})
	}
	return out, nil
}

func (s *entityStore) Entity(_ context.Context, ref catalog.Ref) (*catalog.Entity, error) {
	s.full++
	e := s.ents[ref.String()]
	if e == nil {
		return nil, catalog.ErrNotFound
	}
	c := *e
	return &c, nil
}

func (s *entityStore) Entities(_ context.Context, q catalog.Query) ([]*catalog.Entity, error) {
	if len(q.Refs) == 0 {
		s.listed++ // the cache warm-up: nothing to warm
		return nil, nil
	}
	s.bare++
	var out []*catalog.Entity
	for _, r := range q.Refs {
		if e := s.ents[r.String()]; e != nil {
			c := *e
			c.Relations = nil // RelationsOmitted left for the view to set
			out = append(out, &c)
		}
	}
	return out, nil
}

// TestLoadWithoutRelations reads an entity's row alone and caches it, so
// that asking again (or answering from memory when the database is down)
// reads nothing; Load, which needs the relations, reads the entity again.
func TestLoadWithoutRelations(t *testing.T) {
	ref := catalog.MustParseRef("component:default/a")
	team := catalog.MustParseRef("group:default/team")
	st := &entityStore{ents: map[string]*catalog.Entity{
		ref.String(): {Kind: "Component", Metadata: catalog.Metadata{Name: "a", Namespace: "default"},
			Relations: []catalog.Relation{{Type: catalog.RelOwnedBy, Source: ref, Target: team, TargetRef: team.String()}}},
	}}
	ctx := context.Background()
	s, err := New(Params{Store: st}).Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		e, err := s.LoadWithoutRelations(ctx, ref)
		if err != nil || e == nil || e.Ref() != ref {
			t.Fatalf("LoadWithoutRelations(%s) #%d = %v, %v", ref, i+1, e, err)
		}
		if !e.RelationsOmitted || len(e.Relations) != 0 {
			t.Errorf("LoadWithoutRelations(%s) #%d: RelationsOmitted %t, %d relations; want true, none", ref, i+1, e.RelationsOmitted, len(e.Relations))
		}
	}
	if st.bare != 1 || st.full != 0 {
		t.Errorf("two LoadWithoutRelations read %d rows and %d entities, want 1 and 0", st.bare, st.full)
	}

	for i := range 2 {
		got, err := s.Load(ctx, []catalog.Ref{ref})
		if err != nil {
			t.Fatal(err)
		}
		if e := got[ref.String()]; e == nil || e.RelationsOmitted || len(e.Relations) != 1 {
			t.Fatalf("Load(%s) #%d after LoadWithoutRelations = %+v, want it with its relation", ref, i+1, e)
		}
	}
	if st.full != 1 {
		t.Errorf("two Loads after LoadWithoutRelations read %d entities, want 1", st.full)
	}
	if e, err := s.LoadWithoutRelations(ctx, ref); err != nil || len(e.Relations) != 1 || st.bare != 1 {
		t.Errorf("LoadWithoutRelations(%s) after Load = %+v, %v (%d rows read); want the cached entity, relations and all, and no read", ref, e, err, st.bare)
	}

	missing := catalog.MustParseRef("component:default/gone")
	for i := range 2 {
		if e, err := s.LoadWithoutRelations(ctx, missing); e != nil || err != nil {
			t.Errorf("LoadWithoutRelations(%s) #%d = %v, %v; want nil, nil", missing, i+1, e, err)
		}
	}
	if st.bare != 2 {
		t.Errorf("LoadWithoutRelations of a missing entity twice read %d rows in all, want 2 (the second from the cache)", st.bare)
	}
}
