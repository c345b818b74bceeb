package ingest_test

import (
	"fmt"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"runtime"
	"strings"
	"testing"

	"github.com/portalbot/portalbot/catalog/ingest"
	"github.com/portalbot/portalbot/catalog/sqlstore"
)

// bulky is a descriptor of n Resources: slow to parse next to a one-entity
// file, so that a worker finishes a file listed after it first.
func bulky(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "apiVersion: backstage.io/v1alpha1\nkind: Resource\nmetadata:\n  name: filler-%d\n  description: %s\nspec:\n  type: database\n  owner: team-a\n---\n", i, strings.Repeat("x", 200))
	}
	return b.String()
}

// TestDuplicateWinnerIsDeterministic is issue 14: when two files define
// the same entity, the one discovery reaches first keeps it on a fresh
// database, whatever the parse workers' timing (Backstage: discovery
// order, a Location's targets in their listed order), and the other gets
// a conflict error naming both files.
func TestDuplicateWinnerIsDeterministic(t *testing.T) {
	repo := newRepo(t, map[string]string{
		"catalog-info.yaml": `apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: root
spec:
  targets: [./big.yaml, ./small.yaml, ./nested.yaml, ./dups/*.yaml]
`,
		// Listed first, slowest to parse: it wins "listed" over small.yaml.
		"big.yaml":   bulky(400) + service("listed", "team-big"),
		"small.yaml": service("listed", "team-small"),
		// nested.yaml's child is one Location further than every file the
		// root names, so it is discovered after them all.
		"nested.yaml": "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: nested\nspec:\n  targets: [./deep.yaml]\n",
		"deep.yaml":   service("deep", "team-deep"),
		// Glob matches in path order: dups/a.yaml before dups/b.yaml; both
		// before deep.yaml.
		"dups/b.yaml": service("globbed", "team-b") + "---\n" + service("deep", "team-b"),
		"dups/a.yaml": service("globbed", "team-a"),
	})
	want := map[string]struct{ owner, file, loser string }{
		"component:listed":  {"team-big", "big.yaml", "small.yaml"},
		"component:globbed": {"team-a", "dups/a.yaml", "dups/b.yaml"},
		"component:deep":    {"team-b", "dups/b.yaml", "deep.yaml"},
	}
	runs := 0
	check := func(t *testing.T, st *sqlstore.Store) {
		runs++
		res := mustSync(t, ingest.New(st, ingest.Options{}), ingest.Source{Name: "dups", Repo: repo})
		for ref, w := range want {
			e := entity(t, st, ref)
			if o, _ := e.Owner(); o.Name != w.owner || e.Origin.Path != w.file {
				t.Errorf("run %d (GOMAXPROCS %d): %s from %s owned by %s, want %s from %s", runs, runtime.GOMAXPROCS(0), ref, e.Origin.Path, o.Name, w.owner, w.file)
			}
			errs := errorsOf(res, w.loser)
			msg := fmt.Sprintf("entity %s is already defined in %s", strings.Replace(ref, ":", ":default/", 1), w.file)
			if len(errs) != 1 || errs[0].Message != msg {
				t.Errorf("run %d: errors of %s = %v, want one %q", runs, w.loser, errs, msg)
			}
		}
	}
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	// Worker counts vary how parses overlap; the outcome must not.
	for _, procs := range []int{1, 2, 4} {
		runtime.GOMAXPROCS(procs)
		for range 2 {
			check(t, sqlstoretest.OpenSQLite(t))
		}
		check(t, sqlstoretest.OpenPostgres(t))
	}
}

// TestStoredDefinitionKeepsRef checks that an entity already stored keeps
// its file when another file starts defining it in the same commit that
// changes both, in an incremental sync as in a full one.
func TestStoredDefinitionKeepsRef(t *testing.T) {
	stores(t, func(t *testing.T, st *sqlstore.Store) {
		repo := newRepo(t, map[string]string{
			"catalog-info.yaml":    "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: root\nspec:\n  targets: [./services/*.yaml]\n",
			"services/zulu.yaml":   service("shared", "team-a"),
			"services/alpha.yaml":  service("alpha", "team-a"),
			"services/middle.yaml": service("middle", "team-a"),
		})
		src := ingest.Source{Name: "sticky", Repo: repo}
		mustSync(t, ingest.New(st, ingest.Options{}), src)
		commit(t, repo, map[string]string{
			"services/zulu.yaml":  service("shared", "team-b"),
			"services/alpha.yaml": service("alpha", "team-a") + "---\n" + service("shared", "team-c"),
		})
		res := mustSync(t, ingest.New(st, ingest.Options{}), src)
		if res.Full {
			t.Errorf("Sync after changing two services = %+v, want incremental", res)
		}
		e := entity(t, st, "component:shared")
		if o, _ := e.Owner(); e.Origin.Path != "services/zulu.yaml" || o.Name != "team-b" {
			t.Errorf("shared is at %s owned by %s, want services/zulu.yaml and team-b", e.Origin.Path, o.Name)
		}
		errs := errorsOf(res, "services/alpha.yaml")
		msg := "entity component:default/shared is already defined in services/zulu.yaml"
		if len(errs) != 1 || errs[0].Message != msg {
			t.Errorf("errors of services/alpha.yaml = %v, want one %q", errs, msg)
		}
	})
}
