package sqlstore_test

import (
	"context"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"slices"
	"strings"
	"testing"

	"github.com/portalbot/portalbot/catalog"
)

// wrongKinds names, in each reference field, an entity of a kind the field
// is not meant for. Backstage's default catalog (BuiltinKindsEntityProcessor,
// used unless an alpha catalog model is installed) does not check target
// kinds: it emits the relation and its inverse for every reference.
const wrongKinds = `apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: www}
spec:
  type: website
  lifecycle: production
  owner: 'system:platform'
  consumesApis: ['component:lookup']
  providesApis: ['resource:cache']
  dependsOn: ['api:search']
  dependencyOf: ['system:platform']
  subcomponentOf: 'api:search'
  system: 'component:lookup'
---
apiVersion: backstage.io/v1alpha1
kind: Resource
metadata: {name: cache}
spec: {type: cache, owner: 'user:ada', system: 'component:www', dependsOn: ['api:search'], dependencyOf: ['group:team']}
---
apiVersion: backstage.io/v1alpha1
kind: System
metadata: {name: platform}
spec: {owner: 'api:search', domain: 'system:core'}
---
apiVersion: backstage.io/v1alpha1
kind: Domain
metadata: {name: core}
spec: {owner: 'component:www', subdomainOf: 'system:platform'}
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata: {name: team}
spec: {type: team, parent: 'user:ada', children: ['user:bob'], members: ['group:other']}
---
apiVersion: backstage.io/v1alpha1
kind: User
metadata: {name: ada}
spec: {memberOf: ['user:bob']}
`

// TestRelationsToWrongKinds fails before the fix: portalbot followed the
// alpha catalog model (catalogModelExtensionPoint), which drops the inverse
// for kind pairs it does not declare (no apiConsumedBy on a Component named
// in consumesApis) and every relation to a disallowed owner, parent, child,
// member or memberOf kind.
func TestRelationsToWrongKinds(t *testing.T) {
	// For each entity, relations it must have: those its own fields make
	// and the inverses of references other entities make to it.
	want := map[string][]string{
		"component:www": {
			"component:default/www ownedBy system:default/platform",
			"component:default/www consumesApi component:default/lookup",
			"component:default/www hasPart resource:default/cache",
			"component:default/www ownerOf domain:default/core",
		},
		"component:lookup": {
			"component:default/lookup apiConsumedBy component:default/www",
			"component:default/lookup hasPart component:default/www",
		},
		"resource:cache": {"resource:default/cache apiProvidedBy component:default/www"},
		"api:search": {
			"api:default/search dependencyOf component:default/www",
			"api:default/search dependencyOf resource:default/cache",
			"api:default/search hasPart component:default/www",
			"api:default/search ownerOf system:default/platform",
		},
		"system:platform": {
			"system:default/platform ownedBy api:default/search",
			"system:default/platform dependsOn component:default/www",
			"system:default/platform hasPart domain:default/core",
			"system:default/platform ownerOf component:default/www",
		},
		"system:core": {"system:default/core hasPart system:default/platform"},
		"group:team": {
			"group:default/team childOf user:default/ada",
			"group:default/team parentOf user:default/bob",
			"group:default/team hasMember group:default/other",
			"group:default/team dependsOn resource:default/cache",
		},
		"group:other": {"group:default/other memberOf group:default/team"},
		"user:ada": {
			"user:default/ada memberOf user:default/bob",
			"user:default/ada ownerOf resource:default/cache",
			"user:default/ada parentOf group:default/team",
		},
		"user:bob": {"user:default/bob childOf group:default/team", "user:default/bob hasMember user:default/ada"},
	}
	for name, open := range sqlstoretest.Stores() {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st := open(t)
			ents, errs := catalog.Parse(strings.NewReader(wrongKinds), "wrong-kinds.yaml")
			if len(errs) > 0 {
				t.Fatalf("Parse(wrong-kinds.yaml): %v", errs)
			}
			if _, err := st.ApplySync(ctx, catalog.SyncBatch{
				Source: catalog.Source{Name: "edge", Repo: "edge", Commit: "c1"},
				Full:   true,
				Files:  []catalog.FileResult{{Path: "wrong-kinds.yaml", Entities: ents}},
			}); err != nil {
				t.Fatalf("ApplySync: %v", err)
			}
			for ref, wants := range want {
				rels, err := st.Relations(ctx, catalog.MustParseRef(ref))
				if err != nil {
					t.Fatalf("Relations(%s): %v", ref, err)
				}
				got := make([]string, 0, len(rels))
				for _, r := range rels {
					got = append(got, r.Source.String()+" "+r.Type+" "+r.TargetRef)
				}
				for _, w := range wants {
					if !slices.Contains(got, w) {
						t.Errorf("Relations(%s) = %v, want it to hold %q", ref, got, w)
					}
				}
			}
		})
	}
}
