package drift_test

import (
	"context"
	"fmt"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"strings"
	"testing"
	"time"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/drift"
	"github.com/portalbot/portalbot/catalog/sqlstore"
)

// Shape of the generated benchmark catalog: an org source with the groups
// and users, and benchRepos code repositories, each with a CODEOWNERS file
// of one line per team directory plus a few wildcard lines.
const (
	benchGroups   = 1000
	benchUsers    = 10000
	benchRepos    = 10
	benchSystems  = 50 // per repo
	benchEntities = 100000
)

func benchEntity(kind, name string, spec map[string]any, src, path string, line int) *catalog.Entity {
	e := &catalog.Entity{
		APIVersion: "backstage.io/v1alpha1",
		Kind:       kind,
		Metadata:   catalog.Metadata{Name: name},
		Spec:       spec,
		Origin:     catalog.Origin{Source: src, Path: path, Line: line, Commit: "bench"},
	}
	if err := e.Stamp(); err != nil {
		panic(err)
	}
	return e
}

// loadBenchCatalog writes a catalog of about n entities into st with one
// ApplySync per source and returns the number of entities written. About
// 1% of owners are unknown, 2% of components disagree with CODEOWNERS and
// 5% of groups are empty.
func loadBenchCatalog(tb testing.TB, st catalog.Store, n int) int {
	tb.Helper()
	ctx := context.Background()
	total := 0
	apply := func(src catalog.Source, files []catalog.FileResult) {
		if _, err := st.ApplySync(ctx, catalog.SyncBatch{Source: src, Full: true, Files: files}); err != nil {
			tb.Fatalf("ApplySync %s: %v", src.Name, err)
		}
		for _, f := range files {
			total += len(f.Entities)
		}
	}

	var org []catalog.FileResult
	for i := range benchGroups {
		spec := map[string]any{"type": "team", "children": []any{}}
		if i%20 != 19 { // every 20th group is empty
			spec["members"] = []any{}
		}
		if i >= 10 && i%10 == 0 {
			spec["parent"] = fmt.Sprintf("team-%d", i-10)
		}
		p := fmt.Sprintf("org/groups/team-%d.yaml", i)
		org = append(org, catalog.FileResult{Path: p, Entities: []*catalog.Entity{benchEntity("Group", fmt.Sprintf("team-%d", i), spec, "acme/org", p, 1)}})
	}
	const usersPerFile = 100
	for f := range benchUsers / usersPerFile {
		p := fmt.Sprintf("org/users/users-%d.yaml", f)
		fr := catalog.FileResult{Path: p}
		for j := range usersPerFile {
			u := f*usersPerFile + j
			g := u % benchGroups
			if g%20 == 19 {
				g-- // keep the empty groups empty
			}
			fr.Entities = append(fr.Entities, benchEntity("User", fmt.Sprintf("user-%d", u),
				map[string]any{"memberOf": []any{fmt.Sprintf("team-%d", g)}, "profile": map[string]any{"email": fmt.Sprintf("user-%d@example.com", u)}},
				"acme/org", p, j*8+1))
		}
		org = append(org, fr)
	}
	apply(catalog.Source{Name: "acme/org", Repo: "https://github.com/acme/org", Branch: "main", Commit: "bench"}, org)

	perRepo := (n - total) / benchRepos
	teamsPerRepo := benchGroups / benchRepos
	for r := range benchRepos {
		name := fmt.Sprintf("acme/repo-%d", r)
		var co strings.Builder
		co.WriteString("*                @acme/platform\n*.md             @acme/docs\n/teams/**/api/   @acme/api-guild\n")
		for t := range teamsPerRepo {
			team := r*teamsPerRepo + t
			fmt.Fprintf(&co, "/teams/team-%d/    @acme/team-%d\n", team, team)
		}
		co.WriteString("/teams/**/*.proto @acme/protobuf\n")
		var files []catalog.FileResult
		for s := range benchSystems {
			p := fmt.Sprintf("systems/system-%d-%d.yaml", r, s)
			files = append(files, catalog.FileResult{Path: p, Entities: []*catalog.Entity{benchEntity("System", fmt.Sprintf("system-%d-%d", r, s),
				map[string]any{"owner": fmt.Sprintf("team-%d", r*teamsPerRepo+s%teamsPerRepo)}, name, p, 1)}})
		}
		for c := 0; c < (perRepo-benchSystems)/2; c++ {
			team := r*teamsPerRepo + c%teamsPerRepo
			owner := fmt.Sprintf("team-%d", team)
			switch {
			case c%100 == 7:
				owner = fmt.Sprintf("gone-%d", c) // unknown owner
			case c%50 == 3:
				owner = fmt.Sprintf("team-%d", (team+1)%benchGroups) // CODEOWNERS disagrees
			}
			p := fmt.Sprintf("teams/team-%d/svc-%d/catalog-info.yaml", team, c)
			svc := fmt.Sprintf("svc-%d-%d", r, c)
			files = append(files, catalog.FileResult{Path: p, Entities: []*catalog.Entity{
				benchEntity("Component", svc, map[string]any{"type": "service", "lifecycle": "production", "owner": owner,
					"system": fmt.Sprintf("system-%d-%d", r, c%benchSystems), "providesApis": []any{svc + "-api"}}, name, p, 1),
				benchEntity("API", svc+"-api", map[string]any{"type": "openapi", "lifecycle": "production", "owner": owner,
					"system": fmt.Sprintf("system-%d-%d", r, c%benchSystems), "definition": "openapi: 3.0.0"}, name, p, 12),
			}})
		}
		apply(catalog.Source{Name: name, Repo: "https://github.com/" + name, Branch: "main", Commit: "bench", CodeOwners: co.String()}, files)
	}
	return total
}

// BenchmarkReport measures a whole report on a generated catalog of
// benchEntities entities, on each store: "cold" loads the snapshot from
// the store (the bulk queries) and runs every rule; "warm" is a report
// between two syncs, through a Cache (the generation, the recent owner
// changes and the rules); "rules" is the rules and sorting alone. The
// target is a second per report.
func BenchmarkReport(b *testing.B) {
	for _, name := range []string{"sqlite", "postgres"} {
		open := map[string]func(testing.TB) *sqlstore.Store{"sqlite": sqlstoretest.OpenSQLite, "postgres": sqlstoretest.OpenPostgres}[name]
		b.Run(name, func(b *testing.B) {
			st := open(b)
			start := time.Now()
			n := loadBenchCatalog(b, st, benchEntities)
			b.Logf("loaded %d entities in %v", n, time.Since(start).Round(time.Millisecond))
			ctx := context.Background()
			// A scheduled report reads the owner changes since the previous
			// report; the catalog was just loaded, so there are none.
			since := time.Now()
			report := func(b *testing.B, s *drift.Snapshot) {
				fs, err := s.Report(drift.DefaultRules(), drift.Filter{})
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(len(fs)), "findings")
			}
			b.Run(fmt.Sprintf("cold/entities=%d", n), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					s, err := drift.Load(ctx, st, drift.LoadOptions{Since: since})
					if err != nil {
						b.Fatal(err)
					}
					report(b, s)
				}
			})
			c := drift.NewCache(st, nil)
			if _, err := c.Load(ctx, since, false); err != nil {
				b.Fatal(err)
			}
			b.Run(fmt.Sprintf("warm/entities=%d", n), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					s, err := c.Load(ctx, since, false)
					if err != nil {
						b.Fatal(err)
					}
					report(b, s)
				}
			})
			s, err := drift.Load(ctx, st, drift.LoadOptions{Since: since})
			if err != nil {
				b.Fatal(err)
			}
			b.Run(fmt.Sprintf("rules/entities=%d", n), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					report(b, s)
				}
			})
		})
	}
}
