package bot

import (
	"context"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/ingest"
	"github.com/portalbot/portalbot/catalog/synth"
	"github.com/portalbot/portalbot/commands"
)

// TestSyncLeaseExclusive runs two schedulers' jobs (two holders, as two
// serve processes) against one Postgres database, each firing the same
// source's sync over and over, and checks that the source is never synced
// by both at once while both get turns.
func TestSyncLeaseExclusive(t *testing.T) {
	st := sqlstoretest.OpenPostgres(t)
	repos, err := synth.Generate(t.TempDir(), synth.Options{Entities: 100, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	src := ingest.Source{Name: "shared", Repo: repos[0]}
	var running, maxRunning atomic.Int32
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	job := func(holder string) *syncJob {
		syncer := ingest.New(st, ingest.Options{})
		return &syncJob{
			src: src, leases: st, holder: holder, ttl: 3 * time.Second, timeout: time.Minute, logger: logger,
			sync: func(ctx context.Context, src ingest.Source) (ingest.Result, error) {
				n := running.Add(1)
				defer running.Add(-1)
				for {
					m := maxRunning.Load()
					if n <= m || maxRunning.CompareAndSwap(m, n) {
						break
					}
				}
				time.Sleep(20 * time.Millisecond) // widen the window an overlap would need
				return syncer.Sync(ctx, src)
			},
		}
	}
	jobs := []*syncJob{job("replica-a"), job("replica-b")}
	ran := make([]int, len(jobs))
	var wg sync.WaitGroup
	for i, j := range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 25 {
				ok, err := j.run(context.Background(), nil)
				if err != nil {
					t.Errorf("%s: run: %v", j.holder, err)
					return
				}
				if ok {
					ran[i]++
				}
				time.Sleep(time.Millisecond)
			}
		}()
	}
	wg.Wait()
	if m := maxRunning.Load(); m != 1 {
		t.Errorf("max concurrent syncs of one source = %d, want 1", m)
	}
	if ran[0]+ran[1] == 0 {
		t.Fatalf("no replica ever got the lease")
	}
	t.Logf("runs: replica-a %d, replica-b %d", ran[0], ran[1])
	s, err := st.Source(context.Background(), "shared")
	if err != nil || s.Commit == "" {
		t.Errorf("Source(shared) = %+v, %v; want synced", s, err)
	}
	// A lease held by a replica that stopped renewing expires.
	ok, err := st.TryLease(context.Background(), "sync:other", "dead", 50*time.Millisecond)
	if err != nil || !ok {
		t.Fatalf("TryLease = %v, %v", ok, err)
	}
	time.Sleep(100 * time.Millisecond)
	j := jobs[0]
	j.src = ingest.Source{Name: "other", Repo: repos[0]}
	if ok, err := j.run(context.Background(), nil); err != nil || !ok {
		t.Errorf("run after the holder's lease expired = %v, %v; want it to run", ok, err)
	}
}

func TestSyncWorkers(t *testing.T) {
	for _, tt := range []struct {
		workers int
		dialect string
		want    int
	}{
		{0, "postgres", 4},
		{0, "sqlite", 1},
		{8, "postgres", 8},
		{2, "sqlite", 2},
	} {
		if got := (SyncConfig{Workers: tt.workers}).workers(tt.dialect); got != tt.want {
			t.Errorf("SyncConfig{Workers: %d}.workers(%q) = %d, want %d", tt.workers, tt.dialect, got, tt.want)
		}
	}
}

// TestSyncChangeExpiresTheView: after a sync that changed the catalog, a
// command answers from the new catalog at once, not after the view's next
// periodic check (up to a second later before); a no-op sync leaves the
// view alone.
func TestSyncChangeExpiresTheView(t *testing.T) {
	st := sqlstoretest.OpenSQLite(t)
	repos, err := synth.Generate(t.TempDir(), synth.Options{Entities: 60, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	a := &App{Config: DefaultConfig(), Env: &Env{Getenv: func(string) string { return "" }},
		Logger: slog.New(slog.DiscardHandler), Store: st}
	router, closeRouter := newRouter(a)
	defer closeRouter()
	syncer := ingest.New(st, ingest.Options{})
	var changes atomic.Int32
	j := &syncJob{src: ingest.Source{Name: "s", Repo: repos[0]}, leases: st, holder: "me", ttl: 3 * time.Second,
		timeout: time.Minute, logger: slog.New(slog.DiscardHandler), sync: syncer.Sync,
		changed: func() { changes.Add(1); a.catalogChanged() }}
	ctx := context.Background()
	if _, err := j.run(ctx, nil); err != nil {
		t.Fatal(err)
	}
	owner := func() string {
		return router.Serve(ctx, &commands.Request{Platform: commands.PlatformSlack, Text: "owner service-1"}).Title
	}
	before := owner()
	newOwner := "team-0"
	if strings.Contains(before, newOwner) {
		newOwner = "team-1"
	}
	if _, _, err := synth.ChangeService(repos[0], 1, newOwner, " (changed)"); err != nil {
		t.Fatal(err)
	}
	if _, err := j.run(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if got := owner(); !strings.Contains(got, newOwner) {
		t.Errorf("right after the sync, owner service-1 = %q, want %s (before: %q)", got, newOwner, before)
	}
	if _, err := j.run(ctx, nil); err != nil { // a no-op
		t.Fatal(err)
	}
	if n := changes.Load(); n != 2 {
		t.Errorf("changed called %d times over a first sync, a change and a no-op; want 2", n)
	}
}

// TestServeSyncerExpiresAtCommit: serve's Git syncer refreshes the read
// model when a sync commits (ingest.Options.Committed), so an answer asked
// right after a commit is the new one, not the one the view checked less
// than a second before.
func TestServeSyncerExpiresAtCommit(t *testing.T) {
	st := sqlstoretest.OpenSQLite(t)
	a := &App{Config: DefaultConfig(), Env: &Env{Getenv: func(string) string { return "" }},
		Logger: slog.New(slog.DiscardHandler), Store: st}
	router, closeRouter := newRouter(a)
	defer closeRouter()
	ctx := context.Background()
	comp := func(owner string) *catalog.Entity {
		return &catalog.Entity{APIVersion: "backstage.io/v1alpha1", Kind: "Component", Metadata: catalog.Metadata{Name: "svc"},
			Spec: map[string]any{"type": "service", "lifecycle": "production", "owner": owner}}
	}
	group := func(name string) *catalog.Entity {
		return &catalog.Entity{APIVersion: "backstage.io/v1alpha1", Kind: "Group", Metadata: catalog.Metadata{Name: name},
			Spec: map[string]any{"type": "team", "children": []any{}}}
	}
	apply := func(owner string) catalog.SyncResult {
		res, err := st.ApplySync(ctx, catalog.SyncBatch{Source: catalog.Source{Name: "s", Commit: owner}, Full: true,
			Files: []catalog.FileResult{{Path: "catalog-info.yaml", Entities: []*catalog.Entity{comp(owner), group("team-a"), group("team-b")}}}})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	owner := func() string {
		return router.Serve(ctx, &commands.Request{Platform: commands.PlatformSlack, Text: "owner svc"}).Title
	}
	apply("team-a")
	if got := owner(); !strings.Contains(got, "team-a") {
		t.Fatalf("owner svc = %q, want team-a", got)
	}
	opts := a.serveIngestOptions(a.Env)
	if opts.Committed == nil {
		t.Fatal("serve's syncer options have no Committed hook")
	}
	res := apply("team-b")
	opts.Committed("s", res)
	if got := owner(); !strings.Contains(got, "team-b") {
		t.Errorf("owner svc right after a commit = %q, want team-b", got)
	}
}
