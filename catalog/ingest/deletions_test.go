package ingest_test

import (
	"context"
	"errors"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"strings"
	"testing"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/ingest"
	"github.com/portalbot/portalbot/catalog/sqlstore"
)

// dialects runs f once with an opener of fresh SQLite stores and once with
// one of fresh Postgres schemas, for tests that need two databases.
func dialects(t *testing.T, f func(t *testing.T, open func(testing.TB) *sqlstore.Store)) {
	t.Run("sqlite", func(t *testing.T) { f(t, sqlstoretest.OpenSQLite) })
	t.Run("postgres", func(t *testing.T) { f(t, sqlstoretest.OpenPostgres) })
}

// stateless hides the store's sync state, as a store written by a version
// that kept none (or one that lost it) would: the sync must still be right.
type stateless struct {
	catalog.Store
	catalog.SyncStreamer
}

const teamsLocation = `apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: teams
spec:
  targets: [./teams/x.yaml]
`

const teamX = `apiVersion: backstage.io/v1alpha1
kind: Group
metadata:
  name: team-x
spec:
  type: team
  children: []
`

// deletionRepo is a repository whose root reaches services by a glob,
// groups.yaml, and teams/x.yaml only through the Location in teams.yaml.
func deletionRepo(t *testing.T) string {
	return newRepo(t, map[string]string{
		"catalog-info.yaml": `apiVersion: backstage.io/v1alpha1
kind: Location
metadata:
  name: root
spec:
  targets:
    - ./services/*/catalog-info.yaml
    - ./groups.yaml
    - ./teams.yaml
`,
		"groups.yaml":                       groups,
		"teams.yaml":                        teamsLocation,
		"teams/x.yaml":                      teamX,
		"services/alpha/catalog-info.yaml":  service("alpha", "team-a"),
		"services/bravo/catalog-info.yaml":  service("bravo", "team-a"),
		"services/charly/catalog-info.yaml": service("charly", "team-a"),
		"services/delta/catalog-info.yaml":  service("delta", "team-a"),
	})
}

// breakAndDelete is the commit every case syncs: alpha's file is deleted,
// charly's moves to another file with a new owner, bravo's and teams.yaml's
// YAML break (the whole file fails) and delta's one document no longer
// validates (that entity fails on its own).
var breakAndDelete = map[string]string{
	"services/alpha/catalog-info.yaml":   "",
	"services/charly/catalog-info.yaml":  "",
	"services/charly2/catalog-info.yaml": service("charly", "team-b"),
	"services/bravo/catalog-info.yaml":   "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: bravo\n  tags: [unclosed\nspec: {}\n",
	"teams.yaml":                         "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata: {name: teams\nspec: {}\n",
	"services/delta/catalog-info.yaml":   "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: delta\nspec:\n  type: service\n  lifecycle: production\n",
}

// checkAfterBreak checks st after a sync of breakAndDelete: the deleted
// service is gone, the moved one is at its new file, and everything a
// broken file defined or reached is kept at its last good state.
func checkAfterBreak(t *testing.T, st catalog.Store, res ingest.Result) {
	t.Helper()
	ctx := context.Background()
	if _, err := st.Entity(ctx, catalog.MustParseRef("component:alpha")); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("Entity(alpha) after its file was deleted: err = %v, want ErrNotFound", err)
	}
	if e, err := st.Entity(ctx, catalog.MustParseRef("component:charly")); err != nil {
		t.Errorf("Entity(charly) after its move: %v", err)
	} else if o, _ := e.Owner(); e.Origin.Path != "services/charly2/catalog-info.yaml" || o.Name != "team-b" {
		t.Errorf("charly after its move is at %s owned by %v, want services/charly2/catalog-info.yaml and team-b", e.Origin.Path, o)
	}
	for ref, path := range map[string]string{
		"component:bravo": "services/bravo/catalog-info.yaml",
		"component:delta": "services/delta/catalog-info.yaml",
		"location:teams":  "teams.yaml",
		"group:team-x":    "teams/x.yaml",
		"group:team-a":    "groups.yaml",
	} {
		e, err := st.Entity(ctx, catalog.MustParseRef(ref))
		if err != nil {
			t.Errorf("Entity(%s) (its last good state must stay): %v", ref, err)
			continue
		}
		if e.Origin.Path != path {
			t.Errorf("Entity(%s) is at %s, want %s", ref, e.Origin.Path, path)
		}
		if o, ok := e.Owner(); ok && o.Name != "team-a" {
			t.Errorf("Entity(%s) owner = %v, want the last good team-a", ref, o)
		}
	}
	for _, file := range []string{"services/bravo/catalog-info.yaml", "teams.yaml", "services/delta/catalog-info.yaml"} {
		if len(errorsOf(res, file)) == 0 {
			t.Errorf("no error recorded for broken %s (all: %v)", file, res.Errors)
		}
	}
	for _, pe := range res.Errors {
		if strings.Contains(pe.Message, "already defined") {
			t.Errorf("conflict after the move: %v", pe)
		}
	}
}

// TestDeletionsWithoutLocalState is issue 14: a deletion is applied, and a
// moved service moves, when the syncing process has no matching local
// state and another file is broken, in every way that happens.
func TestDeletionsWithoutLocalState(t *testing.T) {
	src := func(repo string) ingest.Source { return ingest.Source{Name: "acme/catalog", Repo: repo} }
	t.Run("same process", func(t *testing.T) {
		stores(t, func(t *testing.T, st *sqlstore.Store) {
			repo := deletionRepo(t)
			s := ingest.New(st, ingest.Options{CacheDir: t.TempDir()})
			mustSync(t, s, src(repo))
			commit(t, repo, breakAndDelete)
			checkAfterBreak(t, st, mustSync(t, s, src(repo)))
		})
	})
	t.Run("fresh cache", func(t *testing.T) {
		stores(t, func(t *testing.T, st *sqlstore.Store) {
			repo := deletionRepo(t)
			mustSync(t, ingest.New(st, ingest.Options{CacheDir: t.TempDir()}), src(repo))
			commit(t, repo, breakAndDelete)
			// A restarted pod: a new process with an empty cache directory.
			res := mustSync(t, ingest.New(st, ingest.Options{CacheDir: t.TempDir()}), src(repo))
			checkAfterBreak(t, st, res)
		})
	})
	t.Run("second replica", func(t *testing.T) {
		stores(t, func(t *testing.T, st *sqlstore.Store) {
			repo := deletionRepo(t)
			a := ingest.New(st, ingest.Options{CacheDir: t.TempDir()})
			b := ingest.New(st, ingest.Options{CacheDir: t.TempDir()})
			mustSync(t, a, src(repo))
			commit(t, repo, map[string]string{"services/echo/catalog-info.yaml": service("echo", "team-b")})
			mustSync(t, b, src(repo))
			commit(t, repo, breakAndDelete)
			// a's own state is a commit behind the store's.
			res := mustSync(t, a, src(repo))
			checkAfterBreak(t, st, res)
			entity(t, st, "component:echo")
		})
	})
	t.Run("second database", func(t *testing.T) {
		dialects(t, func(t *testing.T, open func(testing.TB) *sqlstore.Store) {
			repo := deletionRepo(t)
			cache := t.TempDir()
			one, two := open(t), open(t)
			mustSync(t, ingest.New(one, ingest.Options{CacheDir: cache}), src(repo))
			mustSync(t, ingest.New(two, ingest.Options{CacheDir: cache}), src(repo))
			commit(t, repo, breakAndDelete)
			checkAfterBreak(t, one, mustSync(t, ingest.New(one, ingest.Options{CacheDir: cache}), src(repo)))
			// The shared cache now describes the first database's commit.
			checkAfterBreak(t, two, mustSync(t, ingest.New(two, ingest.Options{CacheDir: cache}), src(repo)))
		})
	})
	t.Run("no stored state", func(t *testing.T) {
		stores(t, func(t *testing.T, st *sqlstore.Store) {
			repo := deletionRepo(t)
			wrapped := stateless{st, st}
			mustSync(t, ingest.New(wrapped, ingest.Options{}), src(repo))
			commit(t, repo, breakAndDelete)
			res := mustSync(t, ingest.New(wrapped, ingest.Options{}), src(repo))
			checkAfterBreak(t, st, res)
		})
	})
}

// TestAnyReplicaSyncsIncrementally checks that the sync state is the
// database's: a second process, with its own empty cache directory,
// re-parses only the file that changed after the first one's sync.
func TestAnyReplicaSyncsIncrementally(t *testing.T) {
	stores(t, func(t *testing.T, st *sqlstore.Store) {
		repo := deletionRepo(t)
		src := ingest.Source{Name: "acme/catalog", Repo: repo}
		mustSync(t, ingest.New(st, ingest.Options{CacheDir: t.TempDir()}), src)
		commit(t, repo, map[string]string{"services/bravo/catalog-info.yaml": service("bravo", "team-b")})
		res := mustSync(t, ingest.New(st, ingest.Options{CacheDir: t.TempDir()}), src)
		if res.Full || res.Files != 1 || res.Updated != 1 {
			t.Errorf("second replica's Sync after a one-file change = %+v, want incremental, 1 file, 1 updated", res)
		}
		if o, _ := entity(t, st, "component:bravo").Owner(); o.Name != "team-b" {
			t.Errorf("bravo's owner = %v, want team-b", o)
		}
	})
}

// TestRemovedTargetWithoutState is TestRemovedTargetKeepsLastGood with no
// sync state at all: the root Location fails on its missing target, and
// what its stored version named (the deleted file and the others) keeps
// its last good entities, while a file only a glob reached goes.
func TestRemovedTargetWithoutState(t *testing.T) {
	stores(t, func(t *testing.T, st *sqlstore.Store) {
		repo := newRepo(t, map[string]string{
			"catalog-info.yaml": "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: root\nspec:\n  targets: [./alpha.yaml, ./org.yaml, ./more.yaml]\n",
			"alpha.yaml":        service("alpha", "team-a"),
			"org.yaml":          groups,
			"more.yaml":         "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: more\nspec:\n  targets: [./more/*.yaml]\n",
			"more/bravo.yaml":   service("bravo", "team-a"),
			"more/charly.yaml":  service("charly", "team-a"),
		})
		wrapped := stateless{st, st}
		src := ingest.Source{Name: "targets", Repo: repo}
		mustSync(t, ingest.New(wrapped, ingest.Options{}), src)
		commit(t, repo, map[string]string{"alpha.yaml": "", "more/charly.yaml": ""})
		res := mustSync(t, ingest.New(wrapped, ingest.Options{}), src)
		for _, ref := range []string{"location:root", "component:alpha", "group:team-a", "location:more", "component:bravo"} {
			entity(t, st, ref)
		}
		if _, err := st.Entity(context.Background(), catalog.MustParseRef("component:charly")); !errors.Is(err, catalog.ErrNotFound) {
			t.Errorf("Entity(charly) after its file was deleted: err = %v, want ErrNotFound", err)
		}
		if errs := errorsOf(res, "alpha.yaml"); len(errs) != 1 {
			t.Errorf("errors for alpha.yaml = %v, want its read error", errs)
		}
	})
}
