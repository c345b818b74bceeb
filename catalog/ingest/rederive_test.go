package ingest_test

import (
	"context"
	"slices"
	"testing"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/ingest"
	"github.com/portalbot/portalbot/catalog/sqlstore"
)

// TestUpgradeRederivesRelations fails before migration 0011: a database
// synced when a Component named in consumesApis got no apiConsumedBy
// inverse kept that relation after the upgrade, because the next sync of an
// unchanged commit was a no-op and unchanged entities are never rewritten.
func TestUpgradeRederivesRelations(t *testing.T) {
	stores(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		repo := newRepo(t, map[string]string{"catalog-info.yaml": `apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: web}
spec: {type: website, lifecycle: production, owner: team, consumesApis: ['component:lookup']}
---
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: lookup}
spec: {type: service, lifecycle: production, owner: team}
`})
		s := ingest.New(st, ingest.Options{})
		src := ingest.Source{Repo: repo}
		mustSync(t, s, src)
		inverse := struct{ Type, TargetRef string }{"apiConsumedBy", "component:default/web"}
		has := func() bool {
			rels, err := st.Relations(ctx, catalog.MustParseRef("component:lookup"))
			if err != nil {
				t.Fatalf("Relations: %v", err)
			}
			return slices.ContainsFunc(rels, func(r catalog.Relation) bool {
				return r.Type == inverse.Type && r.TargetRef == inverse.TargetRef
			})
		}
		if !has() {
			t.Fatalf("after the first sync, component:lookup has no %s %s", inverse.Type, inverse.TargetRef)
		}
		// The database as an older version left it: the edge without its
		// inverse, and every migration up to 0010 applied.
		db := st.DB()
		if _, err := db.Exec("UPDATE relations SET inverse_type = '' WHERE type = 'consumesApi'"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(db.Rebind("DELETE FROM schema_migrations WHERE version >= ?"), "0011"); err != nil {
			t.Fatal(err)
		}
		if _, err := st.Migrate(ctx); err != nil {
			t.Fatalf("Migrate: %v", err)
		}
		mustSync(t, s, src)
		rels, err := st.Relations(ctx, catalog.MustParseRef("component:lookup"))
		if err != nil {
			t.Fatalf("Relations: %v", err)
		}
		if !slices.ContainsFunc(rels, func(r catalog.Relation) bool { return r.Type == inverse.Type && r.TargetRef == inverse.TargetRef }) {
			t.Errorf("after the upgrade's sync, Relations(component:lookup) = %v, want %s %s", rels, inverse.Type, inverse.TargetRef)
		}
	})
}
