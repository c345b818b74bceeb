package ingest_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/ingest"
	"github.com/portalbot/portalbot/catalog/sqlstore"
)

// alphaOnly holds, beside a plain Component, what only Backstage's alpha
// catalog model defines: an AiResource and an mcp-server API with
// spec.remotes and no spec.definition.
const alphaOnly = `apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: web}
spec: {type: website, lifecycle: production, owner: team}
---
apiVersion: backstage.io/v1alpha1
kind: AiResource
metadata: {name: review}
spec: {type: prompt, lifecycle: production, owner: team}
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata: {name: tools}
spec:
  type: mcp-server
  lifecycle: production
  owner: team
  remotes: [{type: streamable-http, url: 'https://mcp.example.com/'}]
`

// TestAlphaModelOnlyRejectedByDefault fails before the fix: portalbot
// accepted AiResource entities and APIs without spec.definition, which a
// Backstage in its default configuration rejects ("No processor recognized
// the entity"; "/spec must have required property 'definition'").
func TestAlphaModelOnlyRejectedByDefault(t *testing.T) {
	repo := newRepo(t, map[string]string{"catalog-info.yaml": alphaOnly})
	for _, tt := range []struct {
		alpha      bool
		wantRefs   []string
		wantErrors []string // "line: message prefix"
	}{
		{
			alpha:    false,
			wantRefs: []string{"component:default/web"},
			wantErrors: []string{
				"6: kind: AiResource is defined only by Backstage's alpha catalog model",
				"11: spec.definition: required",
			},
		},
		{
			alpha:    true,
			wantRefs: []string{"airesource:default/review", "api:default/tools", "component:default/web"},
		},
	} {
		t.Run(fmt.Sprintf("alpha=%v", tt.alpha), func(t *testing.T) {
			stores(t, func(t *testing.T, st *sqlstore.Store) {
				ctx := context.Background()
				s := ingest.New(st, ingest.Options{CacheDir: t.TempDir(), AlphaModel: tt.alpha})
				mustSync(t, s, ingest.Source{Repo: repo})
				ents, err := st.Entities(ctx, catalog.Query{})
				if err != nil {
					t.Fatalf("Entities: %v", err)
				}
				var refs []string
				for _, e := range ents {
					refs = append(refs, strings.ToLower(e.Ref().String()))
				}
				slices.Sort(refs)
				if !slices.Equal(refs, tt.wantRefs) {
					t.Errorf("AlphaModel=%v: entities = %v, want %v", tt.alpha, refs, tt.wantRefs)
				}
				perrs, err := st.ProcessingErrors(ctx, "")
				if err != nil {
					t.Fatalf("ProcessingErrors: %v", err)
				}
				var got []string
				for _, pe := range perrs {
					got = append(got, pe.String())
				}
				for _, w := range tt.wantErrors {
					if !slices.ContainsFunc(got, func(g string) bool { return strings.HasPrefix(g, "catalog-info.yaml:"+w) }) {
						t.Errorf("AlphaModel=%v: processing errors = %q, want one starting catalog-info.yaml:%s", tt.alpha, got, w)
					}
				}
				if len(tt.wantErrors) == 0 && len(got) > 0 {
					t.Errorf("AlphaModel=%v: processing errors = %q, want none", tt.alpha, got)
				}
			})
		})
	}
}
