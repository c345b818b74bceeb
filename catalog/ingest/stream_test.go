package ingest_test

import (
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/ingest"
	"github.com/portalbot/portalbot/catalog/sqlstore"
	"github.com/portalbot/portalbot/catalog/synth"
)

// batchOnly hides the store's SyncStreamer, so a Syncer falls back to one
// ApplySync of the whole batch.
type batchOnly struct{ catalog.Store }

// TestStreamedSameAsBatch syncs the same commits into a store fed file by
// file and one fed whole batches: a generated catalog, then an entity
// moved to a new file while its old file is broken (the old file keeps
// it, whichever of the two discovery reads first).
func TestStreamedSameAsBatch(t *testing.T) {
	repos, _, err := synth.GenerateStats(t.TempDir(), synth.Options{Entities: 400, Repos: 1, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	own := newRepo(t, map[string]string{
		"catalog-info.yaml":                rootLocation,
		"groups.yaml":                      groups,
		"services/alpha/catalog-info.yaml": service("alpha", "team-a"),
	})
	type target struct {
		name  string
		store catalog.Store
		raw   *sqlstore.Store
	}
	stream := sqlstoretest.OpenSQLite(t)
	batch := sqlstoretest.OpenSQLite(t)
	targets := []target{{"stream", stream, stream}, {"batch", batchOnly{batch}, batch}}
	if _, ok := targets[1].store.(catalog.SyncStreamer); ok {
		t.Fatal("batchOnly still streams")
	}
	syncers := make([]*ingest.Syncer, len(targets))
	for i, tg := range targets {
		syncers[i] = ingest.New(tg.store, ingest.Options{CacheDir: t.TempDir()})
	}
	syncAll := func(step string) []ingest.Result {
		var out []ingest.Result
		for i := range targets {
			for j, repo := range append([]string{own}, repos...) {
				res := mustSync(t, syncers[i], ingest.Source{Name: []string{"own", "gen"}[min(j, 1)], Repo: repo})
				if j == 0 {
					out = append(out, res)
				}
			}
		}
		if d := cmp.Diff(dump(t, targets[1].raw), dump(t, targets[0].raw)); d != "" {
			t.Errorf("%s: stores differ (-batch +stream):\n%s", step, d)
		}
		return out
	}
	syncAll("first sync")

	commit(t, own, map[string]string{
		"services/alpha/catalog-info.yaml": "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: alpha\n  tags: [unclosed\n",
		"services/a0/catalog-info.yaml":    service("alpha", "team-b"),
	})
	for i, res := range syncAll("moved while broken") {
		if !res.Full {
			t.Errorf("%s: Sync = %+v, want a full one (a new file matches a glob)", targets[i].name, res)
		}
		e := entity(t, targets[i].store, "component:alpha")
		if o, _ := e.Owner(); e.Origin.Path != "services/alpha/catalog-info.yaml" || o.Name != "team-a" {
			t.Errorf("%s: Entity(alpha) = %s owned by %v, want the last good one in services/alpha", targets[i].name, e.Origin.Path, o)
		}
		errs := errorsOf(res, "services/a0/catalog-info.yaml")
		if len(errs) != 1 || !strings.Contains(errs[0].Message, "already defined") {
			t.Errorf("%s: errors of services/a0 = %v, want the refused duplicate (all: %v)", targets[i].name, errs, res.Errors)
		}
	}

	commit(t, own, map[string]string{"services/alpha/catalog-info.yaml": ""})
	for i, res := range syncAll("moved") {
		e := entity(t, targets[i].store, "component:alpha")
		if o, _ := e.Owner(); e.Origin.Path != "services/a0/catalog-info.yaml" || o.Name != "team-b" || len(res.Errors) != 0 {
			t.Errorf("%s: Entity(alpha) = %s owned by %v, errors %v; want services/a0, team-b, none", targets[i].name, e.Origin.Path, o, res.Errors)
		}
	}
}
