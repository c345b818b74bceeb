package slack

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"github.com/portalbot/portalbot/commands"
)

// loadSynthetic applies a generated catalog of about n entities to st: one
// group per 20 components, each group with one user.
func loadSynthetic(tb testing.TB, st catalog.Store, n int) []string {
	tb.Helper()
	groups := max(n/22, 1)
	var files []catalog.FileResult
	var names []string
	var docs []string
	flush := func(i int) {
		if len(docs) == 0 {
			return
		}
		path := fmt.Sprintf("gen/file-%05d.yaml", i)
		ents, errs := catalog.Parse(strings.NewReader(strings.Join(docs, "---\n")), path)
		if len(errs) > 0 {
			tb.Fatalf("Parse(%s): %v", path, errs)
		}
		files = append(files, catalog.FileResult{Path: path, Entities: ents})
		docs = docs[:0]
	}
	count := 0
	for g := 0; count < n; g++ {
		team := fmt.Sprintf("team-%d", g%groups)
		if g < groups {
			docs = append(docs,
				fmt.Sprintf("apiVersion: backstage.io/v1alpha1\nkind: Group\nmetadata:\n  name: %s\nspec:\n  type: team\n  profile:\n    displayName: Team %d\n    email: %s@example.com\n  children: []\n", team, g, team),
				fmt.Sprintf("apiVersion: backstage.io/v1alpha1\nkind: User\nmetadata:\n  name: user-%d\nspec:\n  profile:\n    displayName: User %d\n  memberOf: [%s]\n", g, g, team))
			count += 2
		}
		name := fmt.Sprintf("service-%d", g)
		names = append(names, name)
		docs = append(docs, fmt.Sprintf("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: %s\n  description: Service number %d.\nspec:\n  type: service\n  lifecycle: production\n  owner: %s\n", name, g, team))
		count++
		if len(docs) >= 500 {
			flush(g)
		}
	}
	flush(-1)
	if _, err := st.ApplySync(context.Background(), catalog.SyncBatch{
		Source: catalog.Source{Name: "bench", Repo: "bench", Commit: "bench"}, Full: true, Files: files,
	}); err != nil {
		tb.Fatalf("ApplySync: %v", err)
	}
	return names
}

// BenchmarkSlashOwner sends signed "/portal owner <component>" commands
// through the HTTP handler to the real engine on a Postgres catalog of
// PORTALBOT_BENCH_ENTITIES entities (default 1,000; issue 4 targets
// 100,000): p50/p99 with one client, commands/s with concurrent clients.
func BenchmarkSlashOwner(b *testing.B) {
	n := 1000
	if s := os.Getenv("PORTALBOT_BENCH_ENTITIES"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			b.Fatalf("PORTALBOT_BENCH_ENTITIES=%q: want a positive number", s)
		}
		n = v
	}
	st := sqlstoretest.OpenPostgres(b)
	loadStart := time.Now()
	names := loadSynthetic(b, st, n)
	b.Logf("catalog: %d entities in Postgres, loaded in %v", n, time.Since(loadStart).Round(time.Millisecond))

	fs := newFakeSlack(b)
	router := commands.New(commands.Params{Store: st, PortalURL: "https://portal.example.com", Logger: slog.New(slog.DiscardHandler)})
	a, err := New(Params{Engine: router, API: fs.client(), SigningSecret: testSecret, Dedupe: st,
		ResponseURLPrefixes: []string{fs.srv.URL + "/hooks/"}})
	if err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	a.Register(mux)
	signer := NewVerifier(testSecret, nil)
	e := &testEnv{slack: fs}

	var seq atomic.Int64
	one := func(tb testing.TB) time.Duration {
		i := seq.Add(1)
		name := names[int(i)%len(names)]
		body := e.slashBody("owner "+name, "bench")
		req := httptest.NewRequest(http.MethodPost, "/slack/commands", strings.NewReader(body))
		ts, sig := signer.Sign(time.Now(), []byte(body))
		req.Header.Set("Content-Type", formType)
		req.Header.Set("X-Slack-Request-Timestamp", ts)
		req.Header.Set("X-Slack-Signature", sig)
		rec := httptest.NewRecorder()
		start := time.Now()
		mux.ServeHTTP(rec, req)
		took := time.Since(start)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), name+" is owned by") {
			tb.Fatalf("owner %s = %d %.300s", name, rec.Code, rec.Body.String())
		}
		return took
	}
	// Build the engine's in-memory index before timing: on a large
	// catalog that takes longer than the 2 s answer budget.
	router.Serve(context.Background(), &commands.Request{Platform: commands.PlatformSlack, Text: "owner " + names[0]})
	one(b)

	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		lat := make([]time.Duration, 0, b.N)
		for b.Loop() {
			lat = append(lat, one(b))
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) }
		b.ReportMetric(pct(0.50), "p50-µs")
		b.ReportMetric(pct(0.99), "p99-µs")
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(4)
		start := time.Now()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				one(b)
			}
		})
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "cmds/s")
	})
	b.StopTimer()
	a.Wait()
}

// BenchmarkSlashAdapter is BenchmarkSlashOwner's HTTP path with an engine
// that answers from memory: the adapter's own share of the latency
// (reading, verifying, parsing, rendering, encoding).
func BenchmarkSlashAdapter(b *testing.B) {
	fs := newFakeSlack(b)
	router := commands.NewRouter(slog.New(slog.DiscardHandler))
	registerTestCommands(router)
	a, err := New(Params{Engine: router, API: fs.client(), SigningSecret: testSecret,
		ResponseURLPrefixes: []string{fs.srv.URL + "/hooks/"}})
	if err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	a.Register(mux)
	signer := NewVerifier(testSecret, nil)
	body := (&testEnv{slack: fs}).slashBody("owner payments-api", "bench")
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, "/slack/commands", strings.NewReader(body))
		ts, sig := signer.Sign(time.Now(), []byte(body))
		req.Header.Set("Content-Type", formType)
		req.Header.Set("X-Slack-Request-Timestamp", ts)
		req.Header.Set("X-Slack-Signature", sig)
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
	a.Wait()
}

// discardWriter is a reusable http.ResponseWriter that keeps the status and
// the body's length, so a benchmark counts only the handler's allocations.
type discardWriter struct {
	h    http.Header
	code int
	body []byte
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}
func (w *discardWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	w.body = append(w.body, p...)
	return len(p), nil
}

func (w *discardWriter) reset() {
	clear(w.h)
	w.code, w.body = 0, w.body[:0]
}

// BenchmarkSlashOwnerHandler measures the server's side of a signed
// "/portal owner <component>" alone: the requests are built and signed
// before the loop, and the answer goes to a reused writer, so allocs/op and
// B/op are what the adapter (verify, parse, render, encode) and the engine
// (route, resolve, load, answer) spend per command. "hit" asks about one
// component again and again (from the entity cache); "spread" cycles
// through every component of a catalog of PORTALBOT_BENCH_ENTITIES entities
// (default 1,000), which misses the cache once the catalog outgrows it
// (about 40,000 components). Run with:
//
//	go test ./adapters/slack -run '^$' -bench SlashOwnerHandler -benchmem
func BenchmarkSlashOwnerHandler(b *testing.B) {
	n := 1000
	if s := os.Getenv("PORTALBOT_BENCH_ENTITIES"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			b.Fatalf("PORTALBOT_BENCH_ENTITIES=%q: want a positive number", s)
		}
		n = v
	}
	for _, dialect := range []string{"sqlite", "postgres"} {
		b.Run(dialect, func(b *testing.B) {
			st := sqlstoretest.Stores()[dialect](b)
			names := loadSynthetic(b, st, n)
			fs := newFakeSlack(b)
			router := commands.New(commands.Params{Store: st, PortalURL: "https://portal.example.com", Logger: slog.New(slog.DiscardHandler)})
			a, err := New(Params{Engine: router, API: fs.client(), SigningSecret: testSecret,
				ResponseURLPrefixes: []string{fs.srv.URL + "/hooks/"}})
			if err != nil {
				b.Fatal(err)
			}
			defer a.Wait()
			mux := http.NewServeMux()
			a.Register(mux)
			signer := NewVerifier(testSecret, nil)
			e := &testEnv{slack: fs}
			type signed struct {
				name string
				body []byte
				h    http.Header
			}
			reqs := make([]signed, len(names))
			for i, name := range names {
				body := []byte(e.slashBody("owner "+name, "bench"))
				ts, sig := signer.Sign(time.Now(), body)
				reqs[i] = signed{name: name, body: body, h: http.Header{
					"Content-Type":              {formType},
					"X-Slack-Request-Timestamp": {ts},
					"X-Slack-Signature":         {sig},
				}}
			}
			u := &url.URL{Path: "/slack/commands"}
			w := &discardWriter{h: http.Header{}}
			serve := func(b *testing.B, s signed) {
				w.reset()
				req := (&http.Request{Method: http.MethodPost, URL: u, Header: s.h, Host: "example.com",
					Body: io.NopCloser(bytes.NewReader(s.body)), ContentLength: int64(len(s.body)), RequestURI: u.Path}).WithContext(context.Background())
				mux.ServeHTTP(w, req)
				if w.code != http.StatusOK || !bytes.Contains(w.body, []byte(s.name+" is owned by")) {
					b.Fatalf("owner %s = %d %.300s", s.name, w.code, w.body)
				}
			}
			// Build the engine's index and warm its cache first.
			router.Serve(context.Background(), &commands.Request{Platform: commands.PlatformSlack, Text: "owner " + names[0]})
			serve(b, reqs[0])
			b.Run("hit", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					serve(b, reqs[42%len(reqs)])
				}
			})
			b.Run("spread", func(b *testing.B) {
				b.ReportAllocs()
				i := 0
				for b.Loop() {
					serve(b, reqs[i%len(reqs)])
					i += 7919
				}
			})
		})
	}
}
