package ingest_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/ingest"
	"github.com/portalbot/portalbot/catalog/sqlstore"
)

// These tests pin what the oracle test (bot/oracle_test.go) showed
// Backstage does: each entity of a file is processed on its own.

func missingEntity(t *testing.T, st catalog.Store, ref string) {
	t.Helper()
	if _, err := st.Entity(context.Background(), catalog.MustParseRef(ref)); !errors.Is(err, catalog.ErrNotFound) {
		t.Errorf("Entity(%s) = %v, want ErrNotFound", ref, err)
	}
}

// An invalid document does not block its file's valid ones; once the
// entity was good, a later invalid version keeps the last good one.
func TestInvalidDocumentStandsAlone(t *testing.T) {
	stores(t, func(t *testing.T, st *sqlstore.Store) {
		noOwner := "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: beta\nspec:\n  type: service\n  lifecycle: production\n"
		repo := newRepo(t, map[string]string{
			"catalog-info.yaml": "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: root\nspec:\n  targets: [./svc.yaml]\n",
			"svc.yaml":          service("alpha", "team-a") + "---\n" + noOwner,
		})
		s := ingest.New(st, ingest.Options{CacheDir: t.TempDir()})
		src := ingest.Source{Name: "docs", Repo: repo}
		res := mustSync(t, s, src)
		entity(t, st, "component:alpha")
		missingEntity(t, st, "component:beta")
		if errs := errorsOf(res, "svc.yaml"); len(errs) != 1 || !strings.Contains(errs[0].Message, "spec.owner: required") {
			t.Errorf("errors for svc.yaml = %v, want spec.owner: required", errs)
		}

		// beta becomes valid, then invalid again while alpha changes owner:
		// alpha's change is written, beta keeps its last good version.
		commit(t, repo, map[string]string{"svc.yaml": service("alpha", "team-a") + "---\n" + service("beta", "team-a")})
		mustSync(t, s, src)
		commit(t, repo, map[string]string{"svc.yaml": service("alpha", "team-b") + "---\n" + noOwner})
		res = mustSync(t, s, src)
		if o, _ := entity(t, st, "component:alpha").Owner(); o.Name != "team-b" {
			t.Errorf("owner of alpha = %v, want team-b (a sibling's error must not block it)", o)
		}
		if o, _ := entity(t, st, "component:beta").Owner(); o.Name != "team-a" {
			t.Errorf("owner of beta = %v, want its last good team-a", o)
		}
		if errs := errorsOf(res, "svc.yaml"); len(errs) != 1 {
			t.Errorf("errors for svc.yaml = %v, want one", errs)
		}
	})
}

// A Location with a target it cannot read fails as a whole: new, it is
// not stored and none of its targets is followed; synced before, it keeps
// its last good version and what it reached. presence: optional makes a
// missing target no problem.
func TestLocationWithMissingTarget(t *testing.T) {
	stores(t, func(t *testing.T, st *sqlstore.Store) {
		loc := func(name, presence string, targets ...string) string {
			out := "apiVersion: backstage.io/v1alpha1\nkind: Location\nmetadata:\n  name: " + name + "\nspec:\n"
			if presence != "" {
				out += "  presence: " + presence + "\n"
			}
			return out + "  targets: [" + strings.Join(targets, ", ") + "]\n"
		}
		repo := newRepo(t, map[string]string{
			"catalog-info.yaml": loc("root", "", "./partial.yaml", "./optional.yaml", "./good.yaml"),
			"partial.yaml":      loc("partial", "", "./alpha.yaml", "./nope.yaml"),
			"optional.yaml":     loc("optional", "optional", "./bravo.yaml", "./nope.yaml"),
			"good.yaml":         loc("good", "", "./charlie.yaml"),
			"alpha.yaml":        service("alpha", "team-a"),
			"bravo.yaml":        service("bravo", "team-a"),
			"charlie.yaml":      service("charlie", "team-a"),
		})
		s := ingest.New(st, ingest.Options{CacheDir: t.TempDir()})
		src := ingest.Source{Name: "locs", Repo: repo}
		res := mustSync(t, s, src)
		missingEntity(t, st, "location:partial")
		missingEntity(t, st, "component:alpha")
		for _, ref := range []string{"location:root", "location:optional", "component:bravo", "location:good", "component:charlie"} {
			entity(t, st, ref)
		}
		if errs := errorsOf(res, "partial.yaml"); len(errs) != 1 || !strings.Contains(errs[0].Message, "nope.yaml") {
			t.Errorf("errors for partial.yaml = %v, want one naming nope.yaml", errs)
		}
		if errs := errorsOf(res, "optional.yaml"); len(errs) != 0 {
			t.Errorf("errors for optional.yaml = %v, want none (presence: optional)", errs)
		}

		// good gains a missing target: it keeps its last good version, and
		// charlie, which it reached, stays.
		commit(t, repo, map[string]string{"good.yaml": loc("good", "", "./charlie.yaml", "./gone.yaml")})
		res = mustSync(t, s, src)
		if got := entity(t, st, "location:good").SpecStrings("targets"); len(got) != 1 {
			t.Errorf("location:good targets = %v, want its last good [./charlie.yaml]", got)
		}
		entity(t, st, "component:charlie")
		if errs := errorsOf(res, "good.yaml"); len(errs) != 1 || !strings.Contains(errs[0].Message, "gone.yaml") {
			t.Errorf("errors for good.yaml = %v, want one naming gone.yaml", errs)
		}
	})
}
