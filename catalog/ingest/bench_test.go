package ingest_test

import (
	"bytes"
	"context"
	"fmt"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

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

// benchCatalog is a generated catalog, made once per layout on first use
// so that a -bench filter pays only for what it runs.
type benchCatalog struct {
	repos []string
	total int
}

// BenchmarkSync measures a full sync, a no-op re-sync and a one-file change
// of a generated catalog, into SQLite and Postgres, in one repository and
// spread over 500 (each repository a source, synced one after the other as
// serve's scheduled job does; the one-file case changes a file in one of
// them and syncs them all). full reports peak-rss-MiB, the process's peak
// resident set during the sync alone (VmHWM, reset before it).
func BenchmarkSync(b *testing.B) {
	n := benchSize(b)
	layouts := []struct {
		name  string
		repos int
	}{{"", 1}, {"500repos-", 500}}
	gen := make([]func() (benchCatalog, error), len(layouts))
	for i, l := range layouts {
		gen[i] = sync.OnceValues(func() (benchCatalog, error) {
			repos, stats, err := synth.GenerateStats(b.TempDir(), synth.Options{Entities: n, Repos: l.repos, Seed: 1})
			return benchCatalog{repos, stats.Total()}, err
		})
	}
	for _, db := range []struct {
		name string
		open func(testing.TB) *sqlstore.Store
	}{{"sqlite", sqlstoretest.OpenSQLite}, {"postgres", sqlstoretest.OpenPostgres}} {
		b.Run(db.name, func(b *testing.B) {
			dbb := b // stores shared by sub-benchmarks live as long as this one
			for i, l := range layouts {
				cat := func(b *testing.B) benchCatalog {
					c, err := gen[i]()
					if err != nil {
						b.Fatal(err)
					}
					return c
				}
				syncAll := func(b *testing.B, s *ingest.Syncer, c benchCatalog) (added, updated int, noop bool) {
					noop = true
					for j, repo := range c.repos {
						res, err := s.Sync(context.Background(), ingest.Source{Name: "bench-" + strconv.Itoa(j), Repo: repo})
						if err != nil {
							b.Fatalf("Sync(%s): %v", repo, err)
						}
						added, updated, noop = added+res.Added, updated+res.Updated, noop && res.NoOp
					}
					return added, updated, noop
				}
				b.Run(l.name+"full", func(b *testing.B) {
					c := cat(b)
					b.ReportAllocs()
					peak := 0.0
					var client, server, floor time.Duration
					for b.Loop() {
						b.StopTimer()
						st := db.open(b)
						m := newCPUMeter(b, st)
						s := ingest.New(st, ingest.Options{})
						// Return what generating the catalog left to the OS, so
						// the peak is the sync's own.
						debug.FreeOSMemory()
						resetPeakRSS()
						c0, s0 := m.read()
						b.StartTimer()
						if added, _, _ := syncAll(b, s, c); added != c.total {
							b.Fatalf("full sync added %d, want %d", added, c.total)
						}
						b.StopTimer()
						c1, s1 := m.read()
						client, server = client+c1-c0, server+s1-s0
						peak = max(peak, peakRSS())
						if st.Dialect() == "postgres" {
							floor += copyFloor(b, st)
						}
						b.StartTimer()
					}
					if peak > 0 {
						b.ReportMetric(peak, "peak-rss-MiB")
					}
					if floor > 0 {
						// The ratio is what issue 19 sets a goal for (at most 5x):
						// the floor is measured in the same run, under the same
						// load, so it holds on a busy machine where seconds do not.
						b.ReportMetric(floor.Seconds()/float64(b.N), "copy-floor-s/op")
						b.ReportMetric(float64(b.Elapsed())/float64(floor), "x-copy-floor")
					}
					b.ReportMetric(client.Seconds()/float64(b.N), "client-cpu-s/op")
					if server > 0 {
						b.ReportMetric(server.Seconds()/float64(b.N), "server-cpu-s/op")
					}
				})
				// The no-op and one-file cases share a store synced once.
				var (
					once sync.Once
					s    *ingest.Syncer
				)
				synced := func(b *testing.B) (*ingest.Syncer, benchCatalog) {
					c := cat(b)
					once.Do(func() {
						s = ingest.New(db.open(dbb), ingest.Options{CacheDir: dbb.TempDir()})
						syncAll(b, s, c)
					})
					return s, c
				}
				b.Run(l.name+"noop", func(b *testing.B) {
					s, c := synced(b)
					b.ReportAllocs()
					for b.Loop() {
						if _, _, noop := syncAll(b, s, c); !noop {
							b.Fatal("re-sync of unchanged repositories was not a no-op")
						}
					}
				})
				b.Run(l.name+"one-file", func(b *testing.B) {
					s, c := synced(b)
					b.ReportAllocs()
					k := 0
					for b.Loop() {
						b.StopTimer()
						k++
						// Service 11 lives in repository 11 % len(repos).
						if _, _, err := synth.ChangeService(c.repos[11%len(c.repos)], 11, "team-"+strconv.Itoa(k%2), " v"+strconv.Itoa(k)); err != nil {
							b.Fatal(err)
						}
						b.StartTimer()
						if _, updated, _ := syncAll(b, s, c); updated == 0 {
							b.Fatal("sync after a one-file change updated nothing")
						}
					}
				})
			}
		})
	}
}

// copyFloor is the store's COPY floor (issue 19), fatal on error.
func copyFloor(b *testing.B, st *sqlstore.Store) time.Duration {
	d, err := st.CopyFloor(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// cpuMeter reads the CPU time used by this process and, for Postgres, by
// the server backend of the store's single connection, so the benchmark
// reports CPU seconds as well as wall time on a busy machine.
type cpuMeter struct {
	backend int // Postgres backend pid; 0 when unknown or SQLite
}

func newCPUMeter(tb testing.TB, st *sqlstore.Store) *cpuMeter {
	m := &cpuMeter{}
	if st.Dialect() == "postgres" {
		// A sync uses one connection at a time; pinning the pool to one
		// makes its backend the one to measure.
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
	// utime and stime, fields 14 and 15, in clock ticks of 1/100 s, counted
	// after the parenthesised command name.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return client, time.Duration(ut+st) * 10 * time.Millisecond
}

// resetPeakRSS resets the process's VmHWM (Linux: "5" in clear_refs).
func resetPeakRSS() {
	// Not Linux, or not allowed: peakRSS then reports the peak since start.
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// peakRSS returns VmHWM from /proc/self/status in MiB, or 0 when unknown.
func peakRSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	_, rest, ok := bytes.Cut(b, []byte("VmHWM:"))
	if !ok {
		return 0
	}
	f := bytes.Fields(rest)
	if len(f) == 0 {
		return 0
	}
	kb, err := strconv.ParseFloat(string(f[0]), 64)
	if err != nil {
		return 0
	}
	return kb / 1024
}
