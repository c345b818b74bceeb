package ingest_test

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"testing"

	"github.com/portalbot/portalbot/catalog/ingest"
	"github.com/portalbot/portalbot/catalog/sqlstore"
	"github.com/portalbot/portalbot/catalog/synth"
)

// benchSize is the number of entities the sync benchmarks generate: env
// PORTALBOT_BENCH_ENTITIES, default 2,000 so `go test -bench .` stays quick.
// Issue 3's figures come from 100,000 into Postgres:
//
//	PORTALBOT_BENCH_ENTITIES=100000 go test ./catalog/ingest -run '^$' -bench 'Sync/postgres' -benchtime 1x -timeout 30m
func benchSize(b *testing.B) int {
	if v := os.Getenv("PORTALBOT_BENCH_ENTITIES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			b.Fatalf("PORTALBOT_BENCH_ENTITIES=%q: want a positive number", v)
		}
		return n
	}
	return 2000
}

// BenchmarkSync measures a full sync, a no-op re-sync and a one-file change
// of a generated catalog in one repository, into SQLite and Postgres.
func BenchmarkSync(b *testing.B) {
	n := benchSize(b)
	repos, stats, err := synth.GenerateStats(b.TempDir(), synth.Options{Entities: n, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	for _, db := range []struct {
		name string
		open func(testing.TB) *sqlstore.Store
	}{{"sqlite", sqlstore.OpenTestSQLite}, {"postgres", sqlstore.OpenTestPostgres}} {
		b.Run(db.name+"/full", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				st := db.open(b)
				s := ingest.New(st, ingest.Options{})
				runtime.GC()
				b.StartTimer()
				res, err := s.Sync(context.Background(), ingest.Source{Name: "bench", Repo: repos[0]})
				if err != nil || res.Added != stats.Total() {
					b.Fatalf("Sync = %+v, %v; want %d added", res, err, stats.Total())
				}
			}
			reportPeak(b)
		})
		st := db.open(b)
		s := ingest.New(st, ingest.Options{CacheDir: b.TempDir()})
		src := ingest.Source{Name: "bench", Repo: repos[0]}
		if _, err := s.Sync(context.Background(), src); err != nil {
			b.Fatal(err)
		}
		b.Run(db.name+"/noop", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				res, err := s.Sync(context.Background(), src)
				if err != nil || !res.NoOp {
					b.Fatalf("Sync = %+v, %v; want a no-op", res, err)
				}
			}
		})
		b.Run(db.name+"/one-file", func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				b.StopTimer()
				i++
				owner := "team-" + strconv.Itoa(i%2)
				if _, _, err := synth.ChangeService(repos[0], 11, owner, " v"+strconv.Itoa(i)); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				res, err := s.Sync(context.Background(), src)
				if err != nil || res.Full || res.Updated == 0 {
					b.Fatalf("Sync = %+v, %v; want an incremental update", res, err)
				}
			}
		})
	}
}

// reportPeak reports the Go heap's high-water mark seen by the runtime
// (the process's peak RSS is measured with /usr/bin/time -v).
func reportPeak(b *testing.B) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapSys)/(1<<20), "heap-sys-MiB")
}
