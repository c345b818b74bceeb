package sqlstore_test

import (
	"context"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"strings"
	"testing"

	"github.com/portalbot/portalbot/catalog"
)

// served builds an entity as a Backstage API serves it: uid, etag and
// relations set by the catalog.
func served(kind, name, etag string, spec map[string]any, rels ...string) *catalog.Entity {
	e := &catalog.Entity{APIVersion: "backstage.io/v1alpha1", Kind: kind,
		Metadata: catalog.Metadata{Name: name, Namespace: "default", UID: "uid-" + name, Etag: etag},
		Spec:     spec, ServedRelations: true}
	for _, r := range rels {
		typ, target, _ := strings.Cut(r, " ")
		e.Relations = append(e.Relations, catalog.Relation{Type: typ, TargetRef: target})
	}
	return e
}

func relStrings(rels []catalog.Relation) []string {
	out := make([]string, 0, len(rels))
	for _, r := range rels {
		out = append(out, r.Type+" "+r.TargetRef)
	}
	return out
}

// TestServedRelations checks that relations a Backstage API served are
// stored as given rather than derived from the spec, that a Git source's
// derived inverses still reach a portal entity, and that Etags reports
// what the portal source holds.
func TestServedRelations(t *testing.T) {
	for name, open := range sqlstoretest.Stores() {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st := open(t)
			portal := func(etag string, svc *catalog.Entity) {
				t.Helper()
				group := served("Group", "team-a", "g1", map[string]any{"type": "team"},
					"ownerOf component:default/svc-one", "hasMember user:default/ada")
				var files []catalog.FileResult
				for _, e := range []*catalog.Entity{group, svc} {
					files = append(files, catalog.FileResult{Path: "catalog/default/" + strings.ToLower(e.Kind) + "/" + e.Metadata.Name, Entities: []*catalog.Entity{e}})
				}
				if _, err := st.ApplySync(ctx, catalog.SyncBatch{Source: catalog.Source{Name: "portal", Repo: "https://portal.example.com"}, Full: true, Files: files}); err != nil {
					t.Fatalf("ApplySync(portal %s): %v", etag, err)
				}
			}
			// spec.providesApis names an API Backstage served no relation
			// for, and Backstage served a dependsOn the spec does not
			// imply: the store keeps what was served.
			portal("s1", served("Component", "svc-one", "s1",
				map[string]any{"type": "service", "owner": "team-a", "providesApis": []any{"api-x"}},
				"ownedBy group:default/team-a", "dependsOn resource:default/db"))
			git := &catalog.Entity{APIVersion: "backstage.io/v1alpha1", Kind: "Component",
				Metadata: catalog.Metadata{Name: "from-git"}, Spec: map[string]any{"type": "service", "owner": "team-a"}}
			if _, err := st.ApplySync(ctx, catalog.SyncBatch{Source: catalog.Source{Name: "git", Repo: "acme/catalog"}, Full: true,
				Files: []catalog.FileResult{{Path: "catalog-info.yaml", Entities: []*catalog.Entity{git}}}}); err != nil {
				t.Fatalf("ApplySync(git): %v", err)
			}

			check := func(ref string, want ...string) {
				t.Helper()
				r := catalog.MustParseRef(ref)
				e, err := st.Entity(ctx, r)
				if err != nil {
					t.Fatalf("Entity(%s): %v", ref, err)
				}
				if got := strings.Join(relStrings(e.Relations), ", "); got != strings.Join(want, ", ") {
					t.Errorf("Entity(%s).Relations = %s, want %s", ref, got, strings.Join(want, ", "))
				}
				rels, err := st.Relations(ctx, r)
				if err != nil {
					t.Fatalf("Relations(%s): %v", ref, err)
				}
				if got := strings.Join(relStrings(rels), ", "); got != strings.Join(want, ", ") {
					t.Errorf("Relations(%s) = %s, want %s", ref, got, strings.Join(want, ", "))
				}
				es, err := st.Entities(ctx, catalog.Query{Refs: []catalog.Ref{r}})
				if err != nil || len(es) != 1 {
					t.Fatalf("Entities(%s) = %d entities, %v", ref, len(es), err)
				}
				if got := strings.Join(relStrings(es[0].Relations), ", "); got != strings.Join(want, ", ") {
					t.Errorf("Entities(%s).Relations = %s, want %s", ref, got, strings.Join(want, ", "))
				}
				if e.Metadata.UID != "" && !strings.HasPrefix(e.Metadata.UID, "uid-") && e.Origin.Source == "portal" {
					t.Errorf("Entity(%s).Metadata.UID = %q, want Backstage's", ref, e.Metadata.UID)
				}
			}
			check("component:default/svc-one", "dependsOn resource:default/db", "ownedBy group:default/team-a")
			// The Git component's ownedBy has an inverse; the portal group
			// shows it beside what Backstage served.
			check("group:default/team-a", "hasMember user:default/ada", "ownerOf component:default/from-git", "ownerOf component:default/svc-one")

			etags, err := st.Etags(ctx, "portal")
			if err != nil {
				t.Fatalf("Etags(portal): %v", err)
			}
			if len(etags) != 2 || etags["component:default/svc-one"] != "s1" || etags["group:default/team-a"] != "g1" {
				t.Errorf("Etags(portal) = %v, want svc-one s1 and team-a g1", etags)
			}

			// A new etag replaces the served relations.
			portal("s2", served("Component", "svc-one", "s2", map[string]any{"type": "service", "owner": "team-a"},
				"ownedBy group:default/team-a"))
			check("component:default/svc-one", "ownedBy group:default/team-a")
			if etags, err = st.Etags(ctx, "portal"); err != nil || etags["component:default/svc-one"] != "s2" {
				t.Errorf("Etags(portal) after change = %v, %v, want svc-one s2", etags, err)
			}
		})
	}
}
