package ingest_test

import (
	"context"
	"errors"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/ingest"
	"github.com/portalbot/portalbot/catalog/sqlstore"
	"github.com/portalbot/portalbot/catalog/synth"
)

const svc = `apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: %s
spec:
  type: service
  lifecycle: production
  owner: %s
`

func service(name, owner string) string {
	return strings.Replace(strings.Replace(svc, "%s", name, 1), "%s", owner, 1)
}

const rootLocation = `apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: root
spec:
  targets:
    - ./services/*/catalog-info.yaml
    - ./groups.yaml
`

const groups = `apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: team-a
spec:
  type: team
  children: []
---
apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: team-b
spec:
  type: team
  children: []
`

// TestDeleteBreakChange is issue 3's "done when": after a commit that
// deletes one service, breaks another's YAML and changes a third's owner,
// the next sync removes the first, keeps the second's last good state and
// reports its file and line, and updates the third with a history row.
func TestDeleteBreakChange(t *testing.T) {
	stores(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		repo := newRepo(t, map[string]string{
			"catalog-info.yaml":                 rootLocation,
			"groups.yaml":                       groups,
			"services/alpha/catalog-info.yaml":  service("alpha", "team-a"),
			"services/bravo/catalog-info.yaml":  service("bravo", "team-a"),
			"services/charly/catalog-info.yaml": service("charly", "team-a"),
		})
		s := ingest.New(st, ingest.Options{CacheDir: t.TempDir()})
		src := ingest.Source{Name: "acme/catalog", Repo: repo}
		first := mustSync(t, s, src)
		if first.Added != 6 || len(first.Errors) != 0 || !first.Full {
			t.Fatalf("first Sync = %+v, want 6 added, full, no errors", first)
		}
		before := time.Now().Add(-time.Minute)
		commit(t, repo, map[string]string{
			"services/alpha/catalog-info.yaml":  "",
			"services/bravo/catalog-info.yaml":  "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: bravo\n  tags: [unclosed\nspec: {}\n",
			"services/charly/catalog-info.yaml": service("charly", "team-b"),
		})
		res := mustSync(t, s, src)
		if res.Full {
			t.Errorf("second Sync was a full one; want incremental")
		}
		if res.Removed != 1 || res.Updated != 1 {
			t.Errorf("second Sync = %+v, want 1 removed, 1 updated", res)
		}
		if _, err := st.Entity(ctx, catalog.MustParseRef("component:alpha")); !errors.Is(err, catalog.ErrNotFound) {
			t.Errorf("Entity(alpha) after deletion: err = %v, want ErrNotFound", err)
		}
		if o, _ := entity(t, st, "component:bravo").Owner(); o.Name != "team-a" {
			t.Errorf("bravo's owner = %v, want the last good team-a", o)
		}
		errs := errorsOf(res, "services/bravo/catalog-info.yaml")
		if len(errs) == 0 || errs[0].Line != 4 {
			t.Errorf("errors for bravo = %v, want one at line 4 (all: %v)", errs, res.Errors)
		}
		if o, _ := entity(t, st, "component:charly").Owner(); o.Name != "team-b" {
			t.Errorf("charly's owner = %v, want team-b", o)
		}
		hist, err := st.OwnershipChanges(ctx, before)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, h := range hist {
			if h.Entity.Name == "charly" && h.Old == "group:default/team-a" && h.New == "group:default/team-b" {
				found = true
			}
		}
		if !found {
			t.Errorf("OwnershipChanges = %+v, want charly team-a -> team-b", hist)
		}

		// The same outcome from a fresh process (state read from the store),
		// and a no-op when nothing changed.
		s2 := ingest.New(st, ingest.Options{CacheDir: t.TempDir()})
		if res := mustSync(t, s2, src); !res.NoOp {
			t.Errorf("re-Sync of the same commit = %+v, want NoOp", res)
		}
		// Fixing bravo brings it back.
		commit(t, repo, map[string]string{"services/bravo/catalog-info.yaml": service("bravo", "team-b")})
		res = mustSync(t, s, src)
		if len(res.Errors) != 0 {
			t.Errorf("Sync after fix: errors %v", res.Errors)
		}
		if o, _ := entity(t, st, "component:bravo").Owner(); o.Name != "team-b" {
			t.Errorf("bravo's owner after fix = %v, want team-b", o)
		}
	})
}

// TestGeneratedSameInBothStores syncs a generated catalog spread over two
// repositories into SQLite and Postgres and compares everything.
func TestGeneratedSameInBothStores(t *testing.T) {
	repos, stats, err := synth.GenerateStats(t.TempDir(), synth.Options{Entities: 600, Repos: 2, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	sync := func(st *sqlstore.Store) {
		s := ingest.New(st, ingest.Options{})
		for _, r := range repos {
			res := mustSync(t, s, ingest.Source{Repo: r, Name: r[len(r)-8:]})
			if len(res.Errors) != 0 {
				t.Fatalf("Sync(%s) errors: %v", r, res.Errors)
			}
		}
	}
	lite, pg := sqlstoretest.OpenSQLite(t), sqlstoretest.OpenPostgres(t)
	sync(lite)
	sync(pg)
	counts, err := lite.Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int(stats), counts); diff != "" {
		t.Errorf("Counts() differ from what synth wrote (-want +got):\n%s", diff)
	}
	a, b := dump(t, lite), dump(t, pg)
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("SQLite and Postgres differ (-sqlite +postgres):\n%s", diff)
	}
	if len(a) < stats.Total()*2 {
		t.Errorf("dump has %d lines for %d entities; relations missing?", len(a), stats.Total())
	}
}

// TestOneFileChangeIsIncremental checks that a one-file change re-parses
// one file, and that the owner change is recorded.
func TestOneFileChangeIsIncremental(t *testing.T) {
	repos, err := synth.Generate(t.TempDir(), synth.Options{Entities: 400, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	st := sqlstoretest.OpenSQLite(t)
	s := ingest.New(st, ingest.Options{CacheDir: t.TempDir()})
	src := ingest.Source{Name: "synth", Repo: repos[0]}
	full := mustSync(t, s, src)
	if !full.Full || full.Files < 100 {
		t.Fatalf("first Sync = %+v, want a full sync of many files", full)
	}
	if res := mustSync(t, s, src); !res.NoOp {
		t.Fatalf("second Sync = %+v, want NoOp", res)
	}
	newOwner := "team-0"
	if o, _ := entity(t, st, "component:service-7").Owner(); o.Name == newOwner {
		newOwner = "team-1"
	}
	if _, _, err := synth.ChangeService(repos[0], 7, newOwner, " (v2)"); err != nil {
		t.Fatal(err)
	}
	res := mustSync(t, s, src)
	if res.Full || res.Files != 1 || res.Updated != 2 {
		t.Errorf("Sync after one-file change = %+v, want incremental, 1 file, 2 updated", res)
	}
	if o, _ := entity(t, st, "component:service-7").Owner(); o.Name != newOwner {
		t.Errorf("owner of service-7 = %v, want %s", o, newOwner)
	}
}

// TestFileURLSourceUsesCache syncs through file:// with a bare clone in the
// cache directory: later syncs fetch only.
func TestFileURLSourceUsesCache(t *testing.T) {
	repo := newRepo(t, map[string]string{
		"catalog-info.yaml":                rootLocation,
		"groups.yaml":                      groups,
		"services/alpha/catalog-info.yaml": service("alpha", "team-a"),
	})
	st := sqlstoretest.OpenSQLite(t)
	s := ingest.New(st, ingest.Options{CacheDir: t.TempDir()})
	src := ingest.Source{Name: "remote", Repo: "file://" + repo, Branch: "main"}
	if res := mustSync(t, s, src); res.Added != 4 {
		t.Fatalf("Sync = %+v, want 4 added", res)
	}
	if res := mustSync(t, s, src); !res.NoOp {
		t.Errorf("Sync of the same commit = %+v, want NoOp", res)
	}
	commit(t, repo, map[string]string{"services/bravo/catalog-info.yaml": service("bravo", "team-b")})
	res := mustSync(t, s, src)
	if res.Added != 1 || !res.Full {
		t.Errorf("Sync after adding a file matched by a glob = %+v, want 1 added by full discovery", res)
	}
	_, err := s.Sync(context.Background(), ingest.Source{Name: "gone", Repo: "file://" + t.TempDir() + "/nothing"})
	if err == nil {
		t.Errorf("Sync of a missing repository succeeded")
	}
	got, err := st.Source(context.Background(), "gone")
	if err != nil || got.Status != "error" {
		t.Errorf("Source(gone) = %+v, %v; want status error", got, err)
	}
}

// TestDiscoveryRules covers cycles, ** globs, the type rule and missing
// targets.
func TestDiscoveryRules(t *testing.T) {
	repo := newRepo(t, map[string]string{
		"catalog-info.yaml": `apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: root
spec:
  targets: [./a.yaml, ./teams/**/catalog-info.yaml, ./dangling.yaml]
`,
		"dangling.yaml": "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: dangling\nspec:\n  targets: [./missing.yaml, ./c.yaml]\n",
		"a.yaml":        "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: a\nspec:\n  targets: [./b.yaml]\n",
		"b.yaml": "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: b\nspec:\n  targets: [./a.yaml, ./catalog-info.yaml]\n---\n" +
			"apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: other-type\nspec:\n  type: file\n  target: ./c.yaml\n",
		"c.yaml":                           service("charly", "team-a"),
		"teams/x/y/catalog-info.yaml":      groups,
		"teams/x/catalog-info.yaml":        service("xray", "team-a"),
		"teams/escape/z/catalog-info.yaml": "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: escape\nspec:\n  target: ../../../../etc/passwd\n",
		"teams/remote/r/catalog-info.yaml": "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: remote\nspec:\n  type: url\n  target: https://github.com/nobody/nothing/blob/main/catalog-info.yaml\n",
	})
	st := sqlstoretest.OpenSQLite(t)
	res := mustSync(t, ingest.New(st, ingest.Options{}), ingest.Source{Name: "rules", Repo: repo})
	for _, ref := range []string{"location:a", "group:team-a", "component:xray"} {
		entity(t, st, ref)
	}
	// A target that cannot be read is a warning on the Location's file,
	// and the Location fails as a whole, as the oracle test shows Backstage
	// does: a new one is not stored and none of its targets is followed
	// (dangling's c.yaml is not reached); its file's other entities are.
	for _, ref := range []string{"location:root", "location:b"} {
		entity(t, st, ref)
	}
	for _, ref := range []string{"location:dangling", "location:other-type", "location:escape", "location:remote", "component:charly"} {
		if _, err := st.Entity(context.Background(), catalog.MustParseRef(ref)); !errors.Is(err, catalog.ErrNotFound) {
			t.Errorf("Entity(%s) = %v, want ErrNotFound (a Location with a target it cannot read fails)", ref, err)
		}
	}
	want := map[string]string{
		"dangling.yaml":                    "no such file missing.yaml",
		"b.yaml":                           "differs from its parent's",
		"teams/escape/z/catalog-info.yaml": "outside the repository",
		"teams/remote/r/catalog-info.yaml": "not in a configured source",
	}
	for file, msg := range want {
		errs := errorsOf(res, file)
		if len(errs) != 1 || !strings.Contains(errs[0].Message, msg) || errs[0].Line == 0 {
			t.Errorf("errors for %s = %v, want one with a line mentioning %q", file, errs, msg)
		}
	}
}

// TestRemovedTargetKeepsLastGood deletes a file a Location names exactly:
// the Location stays, with a warning naming the target, and the deleted
// file keeps its last good entities with its own error (PLATFORM.md: a
// deleted file is not orphaned).
func TestRemovedTargetKeepsLastGood(t *testing.T) {
	stores(t, func(t *testing.T, st *sqlstore.Store) {
		repo := newRepo(t, map[string]string{
			"catalog-info.yaml": "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: root\nspec:\n  targets: [./alpha.yaml, ./org.yaml]\n",
			"alpha.yaml":        service("alpha", "team-a"),
			"org.yaml":          groups,
		})
		s := ingest.New(st, ingest.Options{CacheDir: t.TempDir()})
		src := ingest.Source{Name: "targets", Repo: repo}
		mustSync(t, s, src)
		commit(t, repo, map[string]string{"alpha.yaml": ""})
		res := mustSync(t, s, src)
		if res.Removed != 0 {
			t.Errorf("Sync after deleting alpha.yaml = %+v, want nothing removed", res)
		}
		entity(t, st, "location:root")
		entity(t, st, "component:alpha")
		if errs := errorsOf(res, "catalog-info.yaml"); len(errs) != 1 || !strings.Contains(errs[0].Message, "no such file alpha.yaml") || errs[0].Line != 1 {
			t.Errorf("errors for catalog-info.yaml = %v, want one at line 1 naming alpha.yaml", errs)
		}
		if errs := errorsOf(res, "alpha.yaml"); len(errs) != 1 {
			t.Errorf("errors for alpha.yaml = %v, want its read error", errs)
		}
	})
}
