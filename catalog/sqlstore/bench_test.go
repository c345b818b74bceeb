package sqlstore_test

import (
	"context"
	"fmt"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/sqlstore"
)

// synthBatch builds, in memory, a full batch of about n entities spread as a
// real catalog is: 1% groups, 10% users (100 per file), 1% systems, and the
// rest as component+API pairs, one pair per file, the API with a
// definition.
func synthBatch(tb testing.TB, n int, commit string) catalog.SyncBatch {
	tb.Helper()
	groups, users, systems := max(1, n/100), max(1, n/10), max(1, n/100)
	pairs := max(1, (n-groups-users-systems)/2)
	var files []catalog.FileResult
	add := func(path string, es ...*catalog.Entity) {
		for i, e := range es {
			e.Origin = catalog.Origin{Path: path, Line: 1 + 12*i, Commit: commit}
			if err := e.Stamp(); err != nil {
				tb.Fatal(err)
			}
		}
		files = append(files, catalog.FileResult{Path: path, Entities: es})
	}
	ent := func(kind, name string, spec map[string]any) *catalog.Entity {
		return &catalog.Entity{APIVersion: "backstage.io/v1alpha1", Kind: kind,
			Metadata: catalog.Metadata{Name: name, Title: name, Description: "Synthetic " + kind + " " + name, Tags: []string{"synthetic", "go"}},
			Spec:     spec}
	}
	var batch []*catalog.Entity
	for i := range groups {
		spec := map[string]any{"type": "team", "children": []any{}}
		if i > 0 {
			spec["parent"] = fmt.Sprintf("team-%d", (i-1)/4)
		}
		batch = append(batch, ent("Group", fmt.Sprintf("team-%d", i), spec))
		if len(batch) == 100 || i == groups-1 {
			add(fmt.Sprintf("org/groups-%d.yaml", i/100), batch...)
			batch = nil
		}
	}
	for i := range users {
		batch = append(batch, ent("User", fmt.Sprintf("user-%d", i), map[string]any{"memberOf": []any{fmt.Sprintf("team-%d", i%groups)}}))
		if len(batch) == 100 || i == users-1 {
			add(fmt.Sprintf("org/users-%d.yaml", i/100), batch...)
			batch = nil
		}
	}
	for i := range systems {
		add(fmt.Sprintf("systems/sys-%d.yaml", i), ent("System", fmt.Sprintf("sys-%d", i), map[string]any{"owner": fmt.Sprintf("team-%d", i%groups)}))
	}
	for i := range pairs {
		owner := fmt.Sprintf("team-%d", i%groups)
		svc := fmt.Sprintf("svc-%d", i)
		c := ent("Component", svc, map[string]any{"type": "service", "lifecycle": "production", "owner": owner,
			"system": fmt.Sprintf("sys-%d", i%systems), "providesApis": []any{svc + "-api"},
			"dependsOn": []any{fmt.Sprintf("component:svc-%d", (i+1)%pairs)}})
		a := ent("API", svc+"-api", map[string]any{"type": "openapi", "lifecycle": "production", "owner": owner,
			"system":     fmt.Sprintf("sys-%d", i%systems),
			"definition": fmt.Sprintf("openapi: 3.0.0\ninfo:\n  title: %s\n  version: 1.0.0\npaths:\n  /%s:\n    get:\n      responses:\n        '200':\n          description: ok\n", svc, svc)})
		add(fmt.Sprintf("services/%s/catalog-info.yaml", svc), c, a)
	}
	return catalog.SyncBatch{Source: catalog.Source{Name: "synth", Repo: "synth", Branch: "main", Commit: commit}, Full: true, Files: files}
}

func entities(b catalog.SyncBatch) int {
	n := 0
	for _, f := range b.Files {
		n += len(f.Entities)
	}
	return n
}

// cpuMeter reads the CPU time used by this process and, for Postgres, by
// the server backend of the store's single connection, so benchmarks can
// report CPU seconds as well as wall time on a busy machine.
type cpuMeter struct {
	backend int // Postgres backend pid; 0 when unknown or SQLite
}

func newCPUMeter(tb testing.TB, st *sqlstore.Store) *cpuMeter {
	m := &cpuMeter{}
	if st.Dialect() == "postgres" {
		st.DB().SetMaxOpenConns(1)
		if err := st.DB().Get(&m.backend, "SELECT pg_backend_pid()"); err != nil {
			tb.Fatal(err)
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/%d/stat", m.backend)); err != nil {
			m.backend = 0 // the server runs elsewhere
		}
	}
	return m
}

func (m *cpuMeter) read() (client, server time.Duration) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		client = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	if m.backend == 0 {
		return client, 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", m.backend))
	if err != nil {
		return client, 0
	}
	// Fields 14 and 15 (utime, stime) in clock ticks of 1/100 s, counted
	// after the parenthesised command name.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return client, time.Duration(ut+st) * 10 * time.Millisecond
}

// measure runs fn b.N times (through b.Loop) and reports CPU seconds per
// op of this process and of the Postgres backend.
func measure(b *testing.B, m *cpuMeter, fn func(i int)) {
	c0, s0 := m.read()
	i := 0
	for b.Loop() {
		i++
		fn(i)
	}
	c1, s1 := m.read()
	b.ReportMetric((c1-c0).Seconds()/float64(i), "client-cpu-s/op")
	if m.backend != 0 {
		b.ReportMetric((s1-s0).Seconds()/float64(i), "server-cpu-s/op")
	}
}

// BenchmarkApplySync measures, per dialect and catalog size, a full sync
// into an empty store, a full re-sync where nothing changed, and a partial
// batch of one changed file into the full store. Reproduce with
//
//	go test -run XXX -bench 'ApplySync/.*/100k' -benchtime 1x ./catalog/sqlstore/
//
// On the 2-core development machine (shared and heavily loaded, so CPU
// seconds are the stable figure), 100,000 entities: Postgres full 4.0 s
// client + 3.8 s server CPU (server 6.3 s when each relation was stored in
// both directions, ~550,000 rows; ~275,000 forward rows since migration
// 0004); no-op re-sync 0.6 s + 0.2 s; one changed file 4 ms + 10 ms (14 ms
// wall).
func BenchmarkApplySync(b *testing.B) {
	ctx := context.Background()
	for _, dialect := range []string{"sqlite", "postgres"} {
		open := sqlstoretest.Stores()[dialect]
		for _, n := range []int{10_000, 100_000} {
			batch := synthBatch(b, n, "c1")
			name := fmt.Sprintf("%s/%dk", dialect, n/1000)
			b.Run(name+"/full", func(b *testing.B) {
				b.ReportAllocs()
				var client, server time.Duration
				ops := 0
				for b.Loop() {
					b.StopTimer()
					st := open(b)
					m := newCPUMeter(b, st)
					c0, s0 := m.read()
					b.StartTimer()
					res, err := st.ApplySync(ctx, batch)
					if err != nil || res.Added != entities(batch) {
						b.Fatalf("ApplySync = %+v, %v", res.Added, err)
					}
					b.StopTimer()
					c1, s1 := m.read()
					client, server, ops = client+c1-c0, server+s1-s0, ops+1
					st.Close()
					b.StartTimer()
				}
				b.ReportMetric(float64(entities(batch)), "entities")
				b.ReportMetric(client.Seconds()/float64(ops), "client-cpu-s/op")
				if server > 0 {
					b.ReportMetric(server.Seconds()/float64(ops), "server-cpu-s/op")
				}
			})
			b.Run(name+"/noop", func(b *testing.B) {
				st := open(b)
				if _, err := st.ApplySync(ctx, batch); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				measure(b, newCPUMeter(b, st), func(int) {
					res, err := st.ApplySync(ctx, batch)
					if err != nil || res.Unchanged != entities(batch) {
						b.Fatalf("ApplySync(no-op) = %+v, %v", res, err)
					}
				})
			})
			b.Run(name+"/partial-one-file", func(b *testing.B) {
				st := open(b)
				if _, err := st.ApplySync(ctx, batch); err != nil {
					b.Fatal(err)
				}
				f := batch.Files[len(batch.Files)-1]
				b.ReportAllocs()
				measure(b, newCPUMeter(b, st), func(i int) {
					es := describedAgain(b, f.Entities, i)
					res, err := st.ApplySync(ctx, catalog.SyncBatch{Source: batch.Source, Files: []catalog.FileResult{{Path: f.Path, Entities: es}}})
					if err != nil || res.Updated != len(es) {
						b.Fatalf("ApplySync(partial) = %+v, %v", res, err)
					}
				})
			})
		}
	}
}

// BenchmarkChangeLogCatchUp measures what a reader holding the catalog
// pays to catch up after a one-file change (issue 19): Changes since the
// generation it holds, then SummariesOf the refs. The change, one file of
// a component and its API with a new description, is not timed. Reproduce
// with
//
//	go test -run XXX -bench 'ChangeLogCatchUp/.*/100k' -benchtime 50x ./catalog/sqlstore/
func BenchmarkChangeLogCatchUp(b *testing.B) {
	ctx := context.Background()
	for _, dialect := range []string{"sqlite", "postgres"} {
		open := sqlstoretest.Stores()[dialect]
		for _, n := range []int{10_000, 100_000} {
			b.Run(fmt.Sprintf("%s/%dk", dialect, n/1000), func(b *testing.B) {
				batch := synthBatch(b, n, "c1")
				st := open(b)
				if _, err := st.ApplySync(ctx, batch); err != nil {
					b.Fatal(err)
				}
				f := batch.Files[len(batch.Files)-1]
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					b.StopTimer()
					i++
					since, err := st.Generation(ctx)
					if err != nil {
						b.Fatal(err)
					}
					es := describedAgain(b, f.Entities, i)
					if _, err := st.ApplySync(ctx, catalog.SyncBatch{Source: batch.Source, Files: []catalog.FileResult{{Path: f.Path, Entities: es}}}); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
					ch, err := st.Changes(ctx, since)
					if err != nil || !ch.Complete || len(ch.Refs) == 0 {
						b.Fatalf("Changes(%d) = %+v, %v; want complete with refs", since, ch, err)
					}
					if _, err := st.SummariesOf(ctx, ch.Refs); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// describedAgain returns copies of ents with description "changed i",
// stamped again: a one-file change for the partial-sync benchmarks.
func describedAgain(b *testing.B, ents []*catalog.Entity, i int) []*catalog.Entity {
	b.Helper()
	es := make([]*catalog.Entity, len(ents))
	for j, e := range ents {
		c := *e
		c.Metadata.Description = fmt.Sprintf("changed %d", i)
		c.Metadata.Etag = ""
		if err := c.Stamp(); err != nil {
			b.Fatal(err)
		}
		es[j] = &c
	}
	return es
}

// parsedServices parses n files shaped as the synth catalog's services (a
// Component and the API it provides, with an inline definition) and a
// file of users, as a sync's parse workers do: the entities with the
// documents they were stamped with.
func parsedServices(b *testing.B, n int) ([]*catalog.Entity, map[*catalog.Entity][]byte) {
	b.Helper()
	var (
		ents []*catalog.Entity
		docs = map[*catalog.Entity][]byte{}
	)
	parse := func(path, text string) {
		res := catalog.ParseFile(strings.NewReader(text), path)
		if len(res.Errors) > 0 {
			b.Fatalf("ParseFile(%s): %v", path, res.Errors)
		}
		for _, e := range res.Entities {
			e.Origin.Commit = "c1"
			ents = append(ents, e)
			docs[e] = res.Documents[e]
		}
	}
	var users strings.Builder
	for i := range n {
		fmt.Fprintf(&users, "---\napiVersion: backstage.io/v1alpha1\nkind: User\nmetadata:\n  name: user-%d\nspec:\n  profile:\n    displayName: User %d\n    email: user-%d@example.com\n  memberOf: [team-%d]\n", i, i, i, i%7)
		parse(fmt.Sprintf("services/service-%d/catalog-info.yaml", i), fmt.Sprintf(`apiVersion: backstage.io/v1alpha1
kind: Component
metadata:
  name: service-%[1]d
  description: Synthetic service %[1]d
  tags: [go, synthetic]
  annotations:
    backstage.io/source-location: url:https://git.example.com/acme/service-%[1]d
spec:
  type: service
  lifecycle: production
  owner: team-%[2]d
  system: system-%[2]d
  providesApis: [service-%[1]d-api]
  consumesApis: [service-%[3]d-api]
  dependsOn: [component:service-%[3]d]
---
apiVersion: backstage.io/v1alpha1
kind: API
metadata:
  name: service-%[1]d-api
  description: API of synthetic service %[1]d
spec:
  type: openapi
  lifecycle: production
  owner: team-%[2]d
  system: system-%[2]d
  definition: |
    openapi: 3.0.0
    info:
      title: service-%[1]d
      version: 1.0.%[1]d
    paths: {}
`, i, i%7, (i+1)%n))
	}
	parse("org/users.yaml", users.String())
	return ents, docs
}

// BenchmarkPrepare measures Store.Prepare, the store's share of writing
// an entity that a sync's parse workers do (encodeEntity and
// forwardRelations), per op for 100 services and 100 users: 300 entities,
// a third of them APIs with a definition.
func BenchmarkPrepare(b *testing.B) {
	st := sqlstoretest.OpenSQLite(b)
	ents, docs := parsedServices(b, 100)
	b.ReportAllocs()
	for b.Loop() {
		for _, e := range ents {
			if st.Prepare(e, docs[e]) == nil {
				b.Fatalf("Prepare(%s) = nil", e.Ref())
			}
		}
	}
}
