package sqlstore_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/sqlstore"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
)

// TestManyDefinitions: API definitions are stored once per text whether a
// sync writes a few (one INSERT) or hundreds (staged and merged), texts
// shared within a sync and with what another source stored before.
func TestManyDefinitions(t *testing.T) {
	for _, open := range []func(testing.TB) *sqlstore.Store{sqlstoretest.OpenSQLite, sqlstoretest.OpenPostgres} {
		st := open(t)
		ctx := context.Background()
		api := func(name, def string) *catalog.Entity {
			return &catalog.Entity{APIVersion: "backstage.io/v1alpha1", Kind: "API", Metadata: catalog.Metadata{Name: name},
				Spec: map[string]any{"type": "openapi", "lifecycle": "production", "owner": "team", "definition": def}}
		}
		text := func(i int) string { return fmt.Sprintf("openapi: 3.0.0\ninfo:\n  title: t%d\n", i) }
		sync := func(source string, n, texts int) {
			var ents []*catalog.Entity
			for i := range n {
				ents = append(ents, api(fmt.Sprintf("%s-%d", source, i), text(i%texts)))
			}
			if _, err := st.ApplySync(ctx, catalog.SyncBatch{Source: catalog.Source{Name: source, Commit: "c"}, Full: true,
				Files: []catalog.FileResult{{Path: "catalog-info.yaml", Entities: ents}}}); err != nil {
				t.Fatalf("%s: sync %s: %v", st.Dialect(), source, err)
			}
			for i := range n {
				ref := catalog.Ref{Kind: "API", Namespace: "default", Name: fmt.Sprintf("%s-%d", source, i)}
				if got, err := st.Definition(ctx, ref); err != nil || got != text(i%texts) {
					t.Fatalf("%s: Definition(%s) = %q, %v; want %q", st.Dialect(), ref, got, err, text(i%texts))
				}
			}
		}
		sync("few", 6, 3)      // under the one-INSERT bound, texts repeated
		sync("many", 500, 260) // over it, sharing the first three texts with "few"
		var n int
		if err := st.DB().GetContext(ctx, &n, "SELECT count(*) FROM definitions"); err != nil || n != 260 {
			t.Errorf("%s: %d definitions stored, %v; want 260", st.Dialect(), n, err)
		}
	}
}
