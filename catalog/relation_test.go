package catalog_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/portalbot/portalbot/catalog"
)

// edges formats relations as "source type target", sorted.
func edges(rs []catalog.Relation) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		if r.TargetRef != r.Target.String() {
			panic("TargetRef " + r.TargetRef + " != " + r.Target.String())
		}
		out = append(out, r.Source.String()+" "+r.Type+" "+r.Target.String())
	}
	sort.Strings(out)
	return out
}

func entity(t *testing.T, doc string) *catalog.Entity {
	t.Helper()
	es, errs := catalog.Parse(strings.NewReader(doc), "test.yaml")
	if len(errs) > 0 || len(es) != 1 {
		t.Fatalf("Parse(%q) = %d entities, errors %v", doc, len(es), errs)
	}
	return es[0]
}

func TestDeriveRelations(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		{
			name: "component in a namespace",
			doc: `apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: Payments, namespace: shop}
spec:
  type: service
  lifecycle: production
  owner: payments-team
  system: default/Checkout
  subcomponentOf: platform
  providesApis: [pay-rest]
  consumesApis: [api:fraud]
  dependsOn: [resource:db, resource:db]
  dependencyOf: [component:default/web]
`,
			want: []string{
				"api:shop/fraud apiConsumedBy component:shop/payments",
				"api:shop/pay-rest apiProvidedBy component:shop/payments",
				"component:default/web dependsOn component:shop/payments",
				"component:shop/payments consumesApi api:shop/fraud",
				"component:shop/payments dependencyOf component:default/web",
				"component:shop/payments dependsOn resource:shop/db",
				"component:shop/payments ownedBy group:shop/payments-team",
				"component:shop/payments partOf component:shop/platform",
				"component:shop/payments partOf system:default/checkout",
				"component:shop/payments providesApi api:shop/pay-rest",
				"component:shop/platform hasPart component:shop/payments",
				"group:shop/payments-team ownerOf component:shop/payments",
				"resource:shop/db dependencyOf component:shop/payments",
				"system:default/checkout hasPart component:shop/payments",
			},
		},
		{
			name: "owners that are not names stay as written",
			doc:  "apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata: {name: a}\nspec: {type: openapi, lifecycle: production, owner: web@example.com, definition: x, system: backstage/techdocs-core}\n",
			want: []string{
				"api:default/a ownedBy group:default/web@example.com",
				"api:default/a partOf system:backstage/techdocs-core",
				"group:default/web@example.com ownerOf api:default/a",
				"system:backstage/techdocs-core hasPart api:default/a",
			},
		},
		{
			name: "user owner",
			doc:  "apiVersion: backstage.io/v1alpha1\nkind: Resource\nmetadata: {name: db}\nspec: {type: database, owner: 'user:ada', system: s}\n",
			want: []string{
				"resource:default/db ownedBy user:default/ada",
				"resource:default/db partOf system:default/s",
				"system:default/s hasPart resource:default/db",
				"user:default/ada ownerOf resource:default/db",
			},
		},
		{
			name: "group",
			doc:  "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: g, namespace: org}\nspec: {type: team, parent: root, children: [a, 'group:other/b'], members: [ada]}\n",
			want: []string{
				"group:org/a childOf group:org/g",
				"group:org/g childOf group:org/root",
				"group:org/g hasMember user:org/ada",
				"group:org/g parentOf group:org/a",
				"group:org/g parentOf group:other/b",
				"group:org/root parentOf group:org/g",
				"group:other/b childOf group:org/g",
				"user:org/ada memberOf group:org/g",
			},
		},
		{
			name: "user",
			doc:  "apiVersion: backstage.io/v1alpha1\nkind: User\nmetadata: {name: ada}\nspec: {memberOf: [g1, 'group:x/g2']}\n",
			want: []string{
				"group:default/g1 hasMember user:default/ada",
				"group:x/g2 hasMember user:default/ada",
				"user:default/ada memberOf group:default/g1",
				"user:default/ada memberOf group:x/g2",
			},
		},
		{
			name: "system and domains",
			doc:  "apiVersion: backstage.io/v1alpha1\nkind: Domain\nmetadata: {name: audio}\nspec: {owner: g, subdomainOf: media}\n",
			want: []string{
				"domain:default/audio ownedBy group:default/g",
				"domain:default/audio partOf domain:default/media",
				"domain:default/media hasPart domain:default/audio",
				"group:default/g ownerOf domain:default/audio",
			},
		},
		{
			name: "system",
			doc:  "apiVersion: backstage.io/v1alpha1\nkind: System\nmetadata: {name: s}\nspec: {owner: g, domain: d}\n",
			want: []string{
				"domain:default/d hasPart system:default/s",
				"group:default/g ownerOf system:default/s",
				"system:default/s ownedBy group:default/g",
				"system:default/s partOf domain:default/d",
			},
		},
		{
			name: "location has none",
			doc:  "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata: {name: l}\nspec: {target: ./x.yaml}\n",
		},
		{
			name: "apiConsumedBy creates no relation",
			doc:  "apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata: {name: a}\nspec: {type: graphql, lifecycle: production, owner: g, definition: x, apiConsumedBy: [c]}\n",
			want: []string{
				"api:default/a ownedBy group:default/g",
				"group:default/g ownerOf api:default/a",
			},
		},
		// Backstage's default catalog (BuiltinKindsEntityProcessor) does not
		// check target kinds: every reference makes the relation and its
		// inverse. The oracle test (bot/oracle_test.go) checks these against
		// Backstage itself.
		{
			name: "consumesApis naming a component has its inverse",
			doc:  "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: www}\nspec: {type: website, lifecycle: production, owner: g, consumesApis: ['component:lookup'], providesApis: ['resource:r']}\n",
			want: []string{
				"component:default/lookup apiConsumedBy component:default/www",
				"component:default/www consumesApi component:default/lookup",
				"component:default/www ownedBy group:default/g",
				"component:default/www providesApi resource:default/r",
				"group:default/g ownerOf component:default/www",
				"resource:default/r apiProvidedBy component:default/www",
			},
		},
		{
			name: "dependsOn an API or system has its inverse",
			doc:  "apiVersion: backstage.io/v1alpha1\nkind: Resource\nmetadata: {name: db}\nspec: {type: database, owner: g, dependsOn: ['api:a', 'component:c'], dependencyOf: ['system:s'], system: 'component:c'}\n",
			want: []string{
				"api:default/a dependencyOf resource:default/db",
				"component:default/c dependencyOf resource:default/db",
				"component:default/c hasPart resource:default/db",
				"group:default/g ownerOf resource:default/db",
				"resource:default/db dependencyOf system:default/s",
				"resource:default/db dependsOn api:default/a",
				"resource:default/db dependsOn component:default/c",
				"resource:default/db ownedBy group:default/g",
				"resource:default/db partOf component:default/c",
				"system:default/s dependsOn resource:default/db",
			},
		},
		{
			name: "system partOf a system has its inverse",
			doc:  "apiVersion: backstage.io/v1alpha1\nkind: System\nmetadata: {name: s}\nspec: {owner: g, domain: 'system:big'}\n",
			want: []string{
				"group:default/g ownerOf system:default/s",
				"system:default/big hasPart system:default/s",
				"system:default/s ownedBy group:default/g",
				"system:default/s partOf system:default/big",
			},
		},
		{
			name: "owner of a kind other than Group or User",
			doc:  "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: c}\nspec: {type: service, lifecycle: production, owner: 'system:s', system: s}\n",
			want: []string{
				"component:default/c ownedBy system:default/s",
				"component:default/c partOf system:default/s",
				"system:default/s hasPart component:default/c",
				"system:default/s ownerOf component:default/c",
			},
		},
		{
			name: "group fields take any kind",
			doc:  "apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata: {name: g}\nspec: {type: team, parent: 'user:u', children: ['group:a', 'user:b'], members: ['group:c', d]}\n",
			want: []string{
				"group:default/a childOf group:default/g",
				"group:default/c memberOf group:default/g",
				"group:default/g childOf user:default/u",
				"group:default/g hasMember group:default/c",
				"group:default/g hasMember user:default/d",
				"group:default/g parentOf group:default/a",
				"group:default/g parentOf user:default/b",
				"user:default/b childOf group:default/g",
				"user:default/d memberOf group:default/g",
				"user:default/u parentOf group:default/g",
			},
		},
		{
			name: "user memberOf takes any kind",
			doc:  "apiVersion: backstage.io/v1alpha1\nkind: User\nmetadata: {name: ada}\nspec: {memberOf: [g, 'user:bob']}\n",
			want: []string{
				"group:default/g hasMember user:default/ada",
				"user:default/ada memberOf group:default/g",
				"user:default/ada memberOf user:default/bob",
				"user:default/bob hasMember user:default/ada",
			},
		},
		{
			name: "template owner of any kind keeps both directions",
			doc:  "apiVersion: scaffolder.backstage.io/v1beta3\nkind: Template\nmetadata: {name: t}\nspec: {type: service, owner: 'component:c', steps: []}\n",
			want: []string{
				"component:default/c ownerOf template:default/t",
				"template:default/t ownedBy component:default/c",
			},
		},
		// AiResource exists only in the alpha catalog model, whose
		// allowedKinds it keeps: references to other kinds make nothing.
		{
			name: "ai skill dependsOn and plugin skills",
			doc:  "apiVersion: backstage.io/v1alpha1\nkind: AiResource\nmetadata: {name: sk}\nspec: {type: skill, lifecycle: production, owner: g, system: 'component:x', dependsOn: [other, 'component:c']}\n",
			want: []string{
				"airesource:default/other dependencyOf airesource:default/sk",
				"airesource:default/sk dependsOn airesource:default/other",
				"airesource:default/sk ownedBy group:default/g",
				"group:default/g ownerOf airesource:default/sk",
			},
		},
		{
			name: "ai owner that is not a group or user makes no relation",
			doc:  "apiVersion: backstage.io/v1alpha1\nkind: AiResource\nmetadata: {name: r}\nspec: {type: prompt, lifecycle: production, owner: 'system:s', system: s}\n",
			want: []string{
				"airesource:default/r partOf system:default/s",
				"system:default/s hasPart airesource:default/r",
			},
		},
		{
			name: "ai plugin skills are parts",
			doc:  "apiVersion: backstage.io/v1alpha1\nkind: AiResource\nmetadata: {name: p}\nspec: {type: plugin, lifecycle: production, owner: g, system: s, skills: [sk]}\n",
			want: []string{
				"airesource:default/p hasPart airesource:default/sk",
				"airesource:default/p ownedBy group:default/g",
				"airesource:default/p partOf system:default/s",
				"airesource:default/sk partOf airesource:default/p",
				"group:default/g ownerOf airesource:default/p",
				"system:default/s hasPart airesource:default/p",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := entity(t, tt.doc)
			got := edges(catalog.DeriveRelations(e))
			if len(tt.want) == 0 && len(got) == 0 {
				return
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("DeriveRelations(%s) (-want +got):\n%s", e.Ref(), diff)
			}
		})
	}
}

func TestDeriveRelationsInverses(t *testing.T) {
	e := entity(t, "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: c}\nspec: {type: service, lifecycle: production, owner: g, dependsOn: ['resource:r'], providesApis: [a]}\n")
	rs := catalog.DeriveRelations(e)
	for _, r := range rs {
		inv := catalog.Inverse(r.Type)
		if inv == "" {
			t.Fatalf("Inverse(%q) = \"\"", r.Type)
		}
		found := false
		for _, o := range rs {
			if o.Type == inv && o.Source.Equal(r.Target) && o.Target.Equal(r.Source) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s %s %s has no inverse %s", r.Source, r.Type, r.Target, inv)
		}
	}
	if catalog.Inverse(catalog.Inverse(catalog.RelOwnedBy)) != catalog.RelOwnedBy {
		t.Errorf("Inverse is not its own inverse for %s", catalog.RelOwnedBy)
	}
}
