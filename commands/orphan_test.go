package commands_test

import (
	"context"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"testing"

	"github.com/portalbot/portalbot/catalog"
)

// TestOrphanWarning: answers about an entity Backstage marks orphaned
// (mirrored from a Backstage API) carry the warning; others do not.
func TestOrphanWarning(t *testing.T) {
	st := sqlstoretest.OpenSQLite(t)
	ents := []*catalog.Entity{
		{APIVersion: "backstage.io/v1alpha1", Kind: "Group", Metadata: catalog.Metadata{Name: "payments"}, Spec: map[string]any{"type": "team"}},
		{APIVersion: "backstage.io/v1alpha1", Kind: "Component", Spec: map[string]any{"type": "service", "lifecycle": "production", "owner": "payments"},
			Metadata: catalog.Metadata{Name: "legacy-billing", Annotations: map[string]string{catalog.AnnotationOrphan: "true"}}},
		{APIVersion: "backstage.io/v1alpha1", Kind: "Component", Spec: map[string]any{"type": "service", "lifecycle": "production", "owner": "payments"},
			Metadata: catalog.Metadata{Name: "web-shop"}},
	}
	if _, err := st.ApplySync(context.Background(), catalog.SyncBatch{Source: catalog.Source{Name: "portal"}, Full: true,
		Files: []catalog.FileResult{{Path: "catalog", Entities: ents}}}); err != nil {
		t.Fatal(err)
	}
	r := newRouter(t, st)
	for _, cmd := range []string{"owner", "docs", "deps", "oncall"} {
		rep := ask(r, cmd+" legacy-billing")
		if f, ok := field(rep, "Warning"); !ok || f.Value == "" {
			t.Errorf("%s legacy-billing = %s, want a Warning field about the orphan", cmd, flat(rep))
		}
		if rep := ask(r, cmd+" web-shop"); func() bool { _, ok := field(rep, "Warning"); return ok }() {
			t.Errorf("%s web-shop = %s, want no Warning field", cmd, flat(rep))
		}
	}
}
