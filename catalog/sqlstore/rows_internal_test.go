package sqlstore

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portalbot/portalbot/catalog"
)

// refForwardRelations is forwardRelations as it was written before it
// compared refs without building their strings: the reference it is held
// to.
func refForwardRelations(rels []catalog.Relation, self string) [][]any {
	out := make([][]any, 0, len(rels))
	srcs, dsts := make([]string, len(rels)), make([]string, len(rels))
	for i, r := range rels {
		srcs[i] = r.Source.String()
		dsts[i] = r.TargetRef
		if dsts[i] == "" {
			dsts[i] = r.Target.String()
		}
		dsts[i] = strings.ToLower(dsts[i])
	}
	for i, rel := range rels {
		if srcs[i] != self {
			continue
		}
		dst := dsts[i]
		inv := catalog.Inverse(rel.Type)
		if inv != "" {
			found := false
			for j, r := range rels {
				if r.Type == inv && srcs[j] == dst && dsts[j] == self {
					found = true
					break
				}
			}
			if !found {
				inv = ""
			}
		}
		out = append(out, []any{self, rel.Type, dst, inv})
	}
	return out
}

// TestForwardRelationsMatchesReference compares forwardRelations with the
// version that built every ref's string, on the relations the fixtures
// derive and on random relations between refs that differ in case, in
// non-ASCII letters that lower-case to other lengths, and in length.
func TestForwardRelationsMatchesReference(t *testing.T) {
	ents, _ := docEntities(t)
	check := func(rels []catalog.Relation, self string) {
		t.Helper()
		want, got := refForwardRelations(rels, self), forwardRelations(rels, self)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("forwardRelations(%v, %q) (-reference +got):\n%s", rels, self, diff)
		}
	}
	for _, e := range ents {
		check(relationsToStore(e), e.Ref().String())
	}
	refs := []catalog.Ref{
		{Kind: "Component", Namespace: "default", Name: "a"}, {Kind: "component", Namespace: "Default", Name: "A"},
		{Kind: "Group", Namespace: "default", Name: "team"}, {Kind: "group", Namespace: "default", Name: "team-1"},
		{Kind: "Group", Namespace: "default", Name: "TEAM"}, {Kind: "Component", Namespace: "défault", Name: "a"},
		{Kind: "Component", Namespace: "default", Name: "\u212a"}, {Kind: "Component", Namespace: "default", Name: "k"},
		{Kind: "Component", Namespace: "default", Name: "İ"}, {Kind: "Component", Namespace: "default", Name: "i̇"},
		{Kind: "Comp", Namespace: "onentdefault", Name: "a"}, {},
		// The same bytes but for where the separators are.
		{Kind: "a/", Namespace: "x", Name: "y"}, {Kind: "a", Namespace: ":x", Name: "y"},
	}
	types := []string{catalog.RelOwnedBy, catalog.RelOwnerOf, catalog.RelDependsOn, catalog.RelDependencyOf, "custom", ""}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 20_000 {
		var rels []catalog.Relation
		for range rng.IntN(8) {
			r := catalog.Relation{Type: types[rng.IntN(len(types))], Source: refs[rng.IntN(len(refs))], Target: refs[rng.IntN(len(refs))]}
			switch rng.IntN(3) {
			case 0:
				r.TargetRef = r.Target.String()
			case 1:
				r.TargetRef = strings.ToUpper(r.Target.String())
			}
			rels = append(rels, r)
		}
		check(rels, refs[rng.IntN(len(refs))].String())
	}
}
