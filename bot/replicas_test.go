package bot

import (
	"context"
	"errors"
	"fmt"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/ingest"
	"github.com/portalbot/portalbot/catalog/sqlstore"
)

// errKilled is what a killed replica's store calls return.
var errKilled = errors.New("replica killed")

// killable is a replica's coordination store: the real one until kill,
// then nothing, as for a process that died (no release, no renewal).
type killable struct {
	st   *sqlstore.Store
	dead atomic.Bool
}

func (k *killable) TryLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	if k.dead.Load() {
		return false, errKilled
	}
	return k.st.TryLease(ctx, name, holder, ttl)
}

func (k *killable) ReleaseLease(ctx context.Context, name, holder string) error {
	if k.dead.Load() {
		return errKilled
	}
	return k.st.ReleaseLease(ctx, name, holder)
}

func (k *killable) ClaimOnce(ctx context.Context, job string, tick time.Time, holder string, lease time.Duration) (bool, error) {
	if k.dead.Load() {
		return false, errKilled
	}
	return k.st.ClaimOnce(ctx, job, tick, holder, lease)
}

func (k *killable) RenewRun(ctx context.Context, job string, tick time.Time, holder string, lease time.Duration) (bool, error) {
	if k.dead.Load() {
		return false, errKilled
	}
	return k.st.RenewRun(ctx, job, tick, holder, lease)
}

func (k *killable) ReleaseRun(ctx context.Context, job string, tick time.Time, holder string) error {
	if k.dead.Load() {
		return errKilled
	}
	return k.st.ReleaseRun(ctx, job, tick, holder)
}

func (k *killable) FinishRun(ctx context.Context, job string, tick time.Time, runErr error) error {
	if k.dead.Load() {
		return errKilled
	}
	return k.st.FinishRun(ctx, job, tick, runErr)
}

func (k *killable) FinishedJobs(ctx context.Context, tick time.Time) ([]string, error) {
	if k.dead.Load() {
		return nil, errKilled
	}
	return k.st.FinishedJobs(ctx, tick)
}

// replica is one simulated serve process: its own store on the shared
// database, its sync pool and a job per source.
type replica struct {
	name                string
	store               *sqlstore.Store
	coord               *killable
	pool                *syncPool
	jobs                []*syncJob
	ctx                 context.Context
	cancel              context.CancelFunc
	running, maxRunning atomic.Int32
}

// shareTest drives replicas through ticks and records every committed sync.
type shareTest struct {
	t        testing.TB
	sources  []string
	replicas []*replica
	tick     atomic.Int32
	// hook, when set, runs inside each sync's transaction before it
	// commits; an error fails the sync.
	hook func(ctx context.Context, r *replica, source string) error

	mu      sync.Mutex
	commits map[int]map[string][]string // tick, source -> replicas that committed it
}

// Short leases, so that a dead replica's claims are taken over quickly;
// not shorter: on a loaded test machine (2 cores, load 16) a renewal's
// two statements took up to 420 ms, and a claim that runs out while its
// holder is alive is synced twice in its tick (the source lock keeps the
// two syncs' writes apart, so the catalog stays right).
const (
	testSyncLease = 1200 * time.Millisecond
	testSyncClaim = testSyncLease + testSyncLease/4
	testSyncPoll  = 40 * time.Millisecond
)

func newShareTest(t testing.TB, stores []*sqlstore.Store, sources, workers int) *shareTest {
	h := &shareTest{t: t, commits: map[int]map[string][]string{}}
	for i := range sources {
		h.sources = append(h.sources, fmt.Sprintf("repo-%02d", i))
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	for i, st := range stores {
		r := &replica{name: fmt.Sprintf("replica-%d", i), store: st, coord: &killable{st: st}}
		r.ctx, r.cancel = context.WithCancel(context.Background())
		t.Cleanup(r.cancel)
		r.pool = newSyncPool(r.coord, r.name, workers, testSyncClaim, testSyncPoll, logger)
		for _, name := range h.sources {
			r.jobs = append(r.jobs, &syncJob{src: ingest.Source{Name: name, Repo: "https://git.example.com/" + name},
				sync: h.syncFunc(r), leases: r.coord, holder: r.name, ttl: testSyncLease, timeout: time.Minute, logger: logger})
		}
		h.replicas = append(h.replicas, r)
	}
	return h
}

// syncFunc is replica r's sync: one file with one Component owned by
// team-<tick>, written through r's store.
func (h *shareTest) syncFunc(r *replica) func(context.Context, ingest.Source) (ingest.Result, error) {
	return func(ctx context.Context, src ingest.Source) (ingest.Result, error) {
		n := r.running.Add(1)
		defer r.running.Add(-1)
		for m := r.maxRunning.Load(); n > m && !r.maxRunning.CompareAndSwap(m, n); m = r.maxRunning.Load() {
		}
		tick := int(h.tick.Load())
		name := src.SourceName()
		cs := catalog.Source{Name: name, Repo: src.Repo, Commit: fmt.Sprintf("c%d", tick)}
		sw, err := r.store.BeginSync(ctx, cs)
		if err != nil {
			return ingest.Result{}, err
		}
		defer sw.Rollback()
		doc := fmt.Sprintf("apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: svc-%s\nspec:\n  type: service\n  lifecycle: production\n  owner: team-%d\n", name, tick)
		ents, errs := catalog.Parse(strings.NewReader(doc), "catalog-info.yaml")
		if len(errs) > 0 {
			return ingest.Result{}, fmt.Errorf("parse: %v", errs)
		}
		if err := sw.Add(ctx, catalog.FileResult{Path: "catalog-info.yaml", Entities: ents}); err != nil {
			return ingest.Result{}, err
		}
		if h.hook != nil {
			if err := h.hook(ctx, r, name); err != nil {
				return ingest.Result{}, err
			}
		}
		if _, err := sw.Commit(ctx, cs, true); err != nil {
			return ingest.Result{}, err
		}
		h.mu.Lock()
		if h.commits[tick] == nil {
			h.commits[tick] = map[string][]string{}
		}
		h.commits[tick][name] = append(h.commits[tick][name], r.name)
		h.mu.Unlock()
		return ingest.Result{Source: name}, nil
	}
}

func tickTime(n int) time.Time { return time.Date(2026, 1, 1, 0, n, 0, 0, time.UTC) }

// start runs tick n on replicas rs, each in its own goroutine; wait
// returns when all have returned.
func (h *shareTest) start(n int, rs ...*replica) (wait func()) {
	h.tick.Store(int32(n))
	var wg sync.WaitGroup
	for _, r := range rs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.pool.runTick(r.ctx, r.jobs, tickTime(n), time.Now().Add(30*time.Second))
		}()
	}
	return wg.Wait
}

// check verifies that every source was committed exactly once in tick n,
// that the store holds what tick n wrote, and returns how many syncs each
// replica committed.
func (h *shareTest) check(n int) map[string]int {
	h.t.Helper()
	h.mu.Lock()
	defer h.mu.Unlock()
	per := map[string]int{}
	for _, src := range h.sources {
		by := h.commits[n][src]
		if len(by) != 1 {
			h.t.Errorf("tick %d: source %s committed by %v, want exactly one replica", n, src, by)
		}
		for _, r := range by {
			per[r]++
		}
		e, err := h.replicas[0].store.Entity(context.Background(), catalog.MustParseRef("component:svc-"+src))
		if err != nil || e.SpecString("owner") != fmt.Sprintf("team-%d", n) {
			h.t.Errorf("tick %d: Entity(svc-%s) = %v, %v; want owner team-%d", n, src, e, err, n)
		}
	}
	finished, err := h.replicas[0].store.FinishedJobs(context.Background(), tickTime(n))
	if err != nil || len(finished) != len(h.sources) {
		h.t.Errorf("tick %d: FinishedJobs = %d jobs, %v; want %d", n, len(finished), err, len(h.sources))
	}
	var notOK []struct {
		Job    string `db:"job"`
		Status string `db:"status"`
		Holder string `db:"holder"`
		Error  string `db:"error"`
	}
	if err := h.replicas[0].store.DB().Select(&notOK, "SELECT job, status, holder, error FROM job_runs WHERE status <> 'succeeded'"); err != nil || len(notOK) != 0 {
		h.t.Errorf("tick %d: runs not succeeded %+v, %v; want none", n, notOK, err)
	}
	return per
}

// openReplicaStores opens n stores on one fresh Postgres schema, as n
// serve processes on one database.
func openReplicaStores(tb testing.TB, n int) []*sqlstore.Store {
	tb.Helper()
	first := sqlstoretest.OpenPostgres(tb)
	var schema string
	if err := first.DB().Get(&schema, "SELECT current_schema()"); err != nil {
		tb.Fatal(err)
	}
	u, err := url.Parse(sqlstoretest.PostgresDSN(tb))
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	stores := []*sqlstore.Store{first}
	for len(stores) < n {
		st, err := sqlstore.Open(context.Background(), u.String())
		if err != nil {
			tb.Fatalf("open replica store: %v", err)
		}
		tb.Cleanup(func() { st.Close() })
		stores = append(stores, st)
	}
	return stores
}

// TestReplicasShareSources runs three replicas' sync pools on one Postgres
// database with 60 sources: in each tick every source is synced exactly
// once, the three sync at the same time (the first tick waits, inside each
// sync's transaction, until all three are syncing), and when one replica
// dies mid-sync, the others take its sources over once its claims expire.
func TestReplicasShareSources(t *testing.T) {
	const workers = 2
	h := newShareTest(t, openReplicaStores(t, 3), 60, workers)
	testReplicasShare(t, h, workers, true)
}

// TestReplicasShareSourcesSQLite runs the same claims on SQLite: three
// pools of one worker in one process (SQLite is embedded: one process, one
// writer), so without the check that syncs overlap.
func TestReplicasShareSourcesSQLite(t *testing.T) {
	st := sqlstoretest.OpenSQLite(t)
	h := newShareTest(t, []*sqlstore.Store{st, st, st}, 60, 1)
	testReplicasShare(t, h, 1, false)
}

// testReplicasShare runs the ticks; multiWriter says the store lets
// several syncs hold transactions at once (Postgres).
func testReplicasShare(t *testing.T, h *shareTest, workers int, multiWriter bool) {
	rs := h.replicas
	// Tick 1: all three at once.
	var (
		mu      sync.Mutex
		syncing = map[string]bool{}
		allIn   = make(chan struct{})
		once    sync.Once
	)
	if multiWriter {
		h.hook = func(ctx context.Context, r *replica, _ string) error {
			mu.Lock()
			syncing[r.name] = true
			if len(syncing) == len(rs) {
				once.Do(func() { close(allIn) })
			}
			mu.Unlock()
			select {
			case <-allIn:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(10 * time.Second):
				return fmt.Errorf("%s: the replicas never synced at the same time", r.name)
			}
		}
	}
	h.start(1, rs...)()
	per := h.check(1)
	t.Logf("tick 1: syncs per replica %v", per)
	for _, r := range rs {
		if multiWriter && per[r.name] == 0 {
			t.Errorf("tick 1: %s synced no source; want the work spread over every replica", r.name)
		}
		if m := r.maxRunning.Load(); m > int32(workers) {
			t.Errorf("%s ran %d syncs at once, want at most %d (its workers)", r.name, m, workers)
		}
	}

	// Tick 2: the victim claims sources and hangs in the middle of syncing
	// them, renewing its claims; the others sync everything else and then
	// wait, polling, without taking a live claim. Then the victim dies.
	// On SQLite the victim's open transaction holds the one write lock, so
	// it dies as soon as it is inside a sync, and the others start then.
	victim := rs[2]
	var (
		takenMu    sync.Mutex
		takenAt    = map[string]time.Time{}
		victimHeld atomic.Int32
	)
	h.hook = func(ctx context.Context, r *replica, src string) error {
		if r == victim {
			victimHeld.Add(1)
			<-ctx.Done()
			return ctx.Err()
		}
		takenMu.Lock()
		if _, ok := takenAt[src]; !ok {
			takenAt[src] = time.Now()
		}
		takenMu.Unlock()
		return nil
	}
	others := rs[:2]
	var wait func()
	if multiWriter {
		wait = h.start(2, rs...)
		waitFor(t, 20*time.Second, "the victim hanging in its syncs and the others done with the rest", func() bool {
			h.mu.Lock()
			defer h.mu.Unlock()
			held := int(victimHeld.Load())
			return held > 0 && len(h.commits[2])+held == len(h.sources)
		})
	} else {
		wait = h.start(2, victim)
		waitFor(t, 10*time.Second, "the victim inside a sync", func() bool { return victimHeld.Load() > 0 })
	}
	var held []string
	if err := victim.store.DB().Select(&held, victim.store.DB().Rebind(
		"SELECT job FROM job_runs WHERE holder = ? AND status = 'claimed'"), victim.name); err != nil || len(held) != int(victimHeld.Load()) {
		t.Fatalf("victim's claims = %v, %v; want %d", held, err, victimHeld.Load())
	}
	if multiWriter {
		// An observation window, not synchronisation: for a claim lease
		// and more the others poll and must not take a claim its holder
		// renews.
		time.Sleep(testSyncClaim + testSyncLease/2)
	}
	takenMu.Lock()
	for _, job := range held {
		if at, ok := takenAt[strings.TrimPrefix(job, "sync:")]; ok {
			t.Errorf("tick 2: %s taken over at %s while its holder was alive", job, at)
		}
	}
	takenMu.Unlock()
	victim.coord.dead.Store(true)
	killedAt := time.Now()
	victim.cancel()
	if !multiWriter {
		h.start(2, others...)()
	}
	wait()
	per = h.check(2)
	t.Logf("tick 2: syncs per replica %v; the victim held %v", per, held)
	if per[victim.name] != 0 {
		t.Errorf("tick 2: the killed replica committed %d syncs, want 0", per[victim.name])
	}
	for _, job := range held {
		src := strings.TrimPrefix(job, "sync:")
		at, ok := takenAt[src]
		if !ok {
			t.Errorf("tick 2: the victim's source %s was not taken over", src)
			continue
		}
		// The victim renewed its claims every testSyncLease/3 until the
		// kill, so each ran out between testSyncClaim-testSyncLease/3 and
		// testSyncClaim after it; an idle replica notices within a poll
		// (on SQLite the others are busy with the rest of the tick). The
		// upper bound has slack for a loaded machine.
		d := at.Sub(killedAt)
		if lo, hi := testSyncClaim-testSyncLease/3, testSyncClaim+testSyncPoll+time.Second; d < lo || multiWriter && d > hi {
			t.Errorf("tick 2: source %s taken over %s after the kill, want within [%s, %s]", src, d, lo, hi)
		}
		t.Logf("tick 2: %s taken over %s after the kill (claim lease %s, poll %s)", src, d.Round(time.Millisecond), testSyncClaim, testSyncPoll)
	}

	// Tick 3: the two survivors go on alone.
	h.hook = nil
	h.start(3, rs[0], rs[1])()
	per = h.check(3)
	t.Logf("tick 3: syncs per replica %v", per)
}

// BenchmarkReplicasTick measures one tick of 60 sources whose syncs each
// spend fetchTime inside their transaction before writing, as a streamed
// sync fetches and discovers (I/O-bound on a real network), on r replicas
// of w workers each sharing one Postgres database.
func BenchmarkReplicasTick(b *testing.B) {
	const fetchTime = 50 * time.Millisecond
	for _, c := range []struct{ replicas, workers int }{{1, 1}, {1, 4}, {3, 2}} {
		b.Run(fmt.Sprintf("replicas=%d/workers=%d", c.replicas, c.workers), func(b *testing.B) {
			h := newShareTest(b, openReplicaStores(b, c.replicas), 60, c.workers)
			h.hook = func(ctx context.Context, _ *replica, _ string) error {
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(fetchTime):
					return nil
				}
			}
			b.ResetTimer()
			for i := range b.N {
				h.start(i+1, h.replicas...)()
			}
			b.StopTimer()
			h.mu.Lock()
			defer h.mu.Unlock()
			for i := range b.N {
				if len(h.commits[i+1]) != len(h.sources) {
					b.Fatalf("tick %d: %d sources synced, want %d", i+1, len(h.commits[i+1]), len(h.sources))
				}
			}
		})
	}
}

// TestReplicaShutdownHandsOver cancels a replica in the middle of a sync,
// as SIGTERM does: it gives its claim back, so another replica syncs the
// source at once rather than after the claim's lease.
func TestReplicaShutdownHandsOver(t *testing.T) {
	st := sqlstoretest.OpenSQLite(t)
	h := newShareTest(t, []*sqlstore.Store{st, st}, 3, 1)
	a, b := h.replicas[0], h.replicas[1]
	in := make(chan struct{}, len(h.sources))
	h.hook = func(ctx context.Context, r *replica, _ string) error {
		if r == a {
			in <- struct{}{}
			<-ctx.Done()
			return ctx.Err()
		}
		return nil
	}
	doneA := h.start(1, a)
	select {
	case <-in:
	case <-time.After(10 * time.Second):
		t.Fatal("replica a never started a sync")
	}
	a.cancel()
	doneA()
	start := time.Now()
	h.start(1, b)()
	// Waiting out a's claim would take at least this long.
	if took, expiry := time.Since(start), testSyncClaim-testSyncLease/3; took >= expiry {
		t.Errorf("replica b synced the tick in %s, want less than %s (a's claim released, not expired)", took, expiry)
	}
	if per := h.check(1); per[b.name] != len(h.sources) {
		t.Errorf("syncs per replica = %v, want all %d by %s", per, len(h.sources), b.name)
	}
}

// TestSyncRetriedWithinTick: a sync the database did not answer is tried
// again within its tick, so the source is current after the tick rather
// than after the next one (an hour on an hourly schedule); a sync that
// fails for another reason is not.
func TestSyncRetriedWithinTick(t *testing.T) {
	st := sqlstoretest.OpenSQLite(t)
	h := newShareTest(t, []*sqlstore.Store{st}, 3, 1)
	var mu sync.Mutex
	tries := map[string]int{}
	h.hook = func(_ context.Context, _ *replica, src string) error {
		mu.Lock()
		defer mu.Unlock()
		tries[src]++
		switch {
		case src == "repo-02":
			return errors.New("repo-02: a descriptor the store refuses")
		case tries[src] < 3:
			return fmt.Errorf("%s: %w", src, catalog.ErrUnavailable)
		}
		return nil
	}
	h.start(1, h.replicas...)()
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, src := range []string{"repo-00", "repo-01"} {
		if got := h.commits[1][src]; len(got) != 1 || tries[src] != 3 {
			t.Errorf("%s: committed by %v after %d tries; want once, on the third try", src, got, tries[src])
		}
	}
	if got := h.commits[1]["repo-02"]; len(got) != 0 || tries["repo-02"] != 1 {
		t.Errorf("repo-02 (not a database failure): committed by %v after %d tries; want not committed, tried once", got, tries["repo-02"])
	}
}
