package commands

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/catalogtest"
	"github.com/portalbot/portalbot/catalog/drift"
	"github.com/portalbot/portalbot/catalog/sqlstore"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"github.com/portalbot/portalbot/catalog/view"
)

const unavailable = "The catalog is temporarily unavailable; please try again in a moment."

// askWithin serves text on r and fails the test unless the answer comes
// within limit; a hung answer is reported, not waited for.
func askWithin(t *testing.T, r *Router, text string, limit time.Duration) Reply {
	t.Helper()
	got := make(chan Reply, 1)
	start := time.Now()
	go func() { got <- r.Serve(context.Background(), &Request{Platform: PlatformConsole, Text: text}) }()
	select {
	case rep := <-got:
		if took := time.Since(start); took > limit {
			t.Errorf("%q answered after %v, want within %v", text, took, limit)
		}
		return rep
	case <-time.After(limit + 5*time.Second):
		t.Fatalf("%q still unanswered %v after the %v it should take", text, limit+5*time.Second, limit)
		return Reply{}
	}
}

// TestDatabaseHung freezes the link to Postgres under a running engine
// (the server accepts connections and answers nothing): within the store
// timeout, what is in memory is answered with its age and the rest as
// temporarily unavailable; once the link thaws the engine answers as
// before without a restart.
func TestDatabaseHung(t *testing.T) {
	_, proxy, dsn := sqlstoretest.PostgresThroughProxy(t)
	st, err := sqlstore.Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("open store through the proxy: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	catalogtest.LoadDir(t, st, "acme/catalog", "testdata/catalog")

	const timeout = 300 * time.Millisecond
	limit := timeout + 700*time.Millisecond
	var clock atomic.Int64
	clock.Store(time.Unix(1_000_000, 0).UnixNano())
	r := newClockedRouter(Params{Store: st, PortalURL: "https://portal.example.com", StoreTimeout: timeout}, func() time.Time { return time.Unix(0, clock.Load()) })
	advance := func(d time.Duration) { clock.Add(int64(d)) }
	const owned = "payments-api is owned by Payments Team"
	if got := askWithin(t, r, "owner payments-api", 5*time.Second); got.Title != owned {
		t.Fatalf("owner payments-api with the database up = %q / %q, want %q", got.Title, got.Text, owned)
	}

	proxy.Freeze()
	advance(2 * time.Minute) // the next question checks the generation
	if got := askWithin(t, r, "owner payments-api", limit); got.Title != owned || !strings.Contains(got.Text, "(From the catalog as of 2 minutes ago; the database is unreachable.)") {
		t.Errorf("owner payments-api with the database hung = %q / %q, want %q with a note saying 2 minutes", got.Title, got.Text, owned)
	}
	if got := askWithin(t, r, "owner component:checkout", limit); got.Text != unavailable {
		t.Errorf("owner checkout (never loaded) with the database hung = %q / %q, want %q", got.Title, got.Text, unavailable)
	}
	advance(2 * view.RefreshEvery) // a second check, on a fresh connection, hangs too
	if got := askWithin(t, r, "team payments", limit); got.Text != unavailable && !strings.Contains(got.Text, "database is unreachable") {
		t.Errorf("team payments with the database hung = %q / %q, want a cached answer or %q", got.Title, got.Text, unavailable)
	}

	proxy.Thaw()
	// A check that began while frozen may still be ending; until it has,
	// questions are answered as before. Poll for the recovery.
	var got Reply
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		advance(2 * view.RefreshEvery)
		if got = askWithin(t, r, "owner component:checkout", 5*time.Second); strings.HasPrefix(got.Title, "checkout is owned by") {
			break
		}
	}
	if !strings.HasPrefix(got.Title, "checkout is owned by") || strings.Contains(got.Text, "unreachable") {
		t.Errorf("owner checkout after the thaw = %q / %q, want an owner and no note", got.Title, got.Text)
	}
}

// hangingStore is a store whose reads, once hang is set, block until the
// test ends whatever their context says: the engine must not rely on a
// driver honouring deadlines.
type hangingStore struct {
	catalog.Store
	hang    atomic.Bool
	release chan struct{}
	// fail, when set with hang unset, fails every read as unreachable.
	fail atomic.Bool
}

func newHangingStore(t *testing.T, st catalog.Store) *hangingStore {
	s := &hangingStore{Store: st, release: make(chan struct{})}
	t.Cleanup(func() { close(s.release) })
	return s
}

func (s *hangingStore) block() error {
	if s.hang.Load() {
		<-s.release
	}
	if s.fail.Load() {
		return catalog.ErrUnavailable
	}
	return nil
}

func (s *hangingStore) Entity(ctx context.Context, ref catalog.Ref) (*catalog.Entity, error) {
	if err := s.block(); err != nil {
		return nil, err
	}
	return s.Store.Entity(ctx, ref)
}

func (s *hangingStore) Entities(ctx context.Context, q catalog.Query) ([]*catalog.Entity, error) {
	if err := s.block(); err != nil {
		return nil, err
	}
	return s.Store.Entities(ctx, q)
}

func (s *hangingStore) Generation(ctx context.Context) (int64, error) {
	if err := s.block(); err != nil {
		return 0, err
	}
	return s.Store.Generation(ctx)
}

func (s *hangingStore) Summaries(ctx context.Context) ([]catalog.Summary, error) {
	if err := s.block(); err != nil {
		return nil, err
	}
	return s.Store.Summaries(ctx)
}

func (s *hangingStore) Source(ctx context.Context, name string) (catalog.Source, error) {
	if err := s.block(); err != nil {
		return catalog.Source{}, err
	}
	return s.Store.Source(ctx, name)
}

// TestStoreIgnoringDeadlines hangs every store read in a way no context
// ends: questions are answered from memory or as temporarily unavailable
// within the store timeout, with or without anything in memory, and
// concurrent questions do not queue behind one another.
func TestStoreIgnoringDeadlines(t *testing.T) {
	sq := sqlstoretest.OpenSQLite(t)
	catalogtest.LoadDir(t, sq, "acme/catalog", "testdata/catalog")
	const timeout = 200 * time.Millisecond
	limit := timeout + 500*time.Millisecond

	t.Run("warm", func(t *testing.T) {
		st := newHangingStore(t, sq)
		var clock atomic.Int64
		clock.Store(time.Unix(1_000_000, 0).UnixNano())
		r := newClockedRouter(Params{Store: st, StoreTimeout: timeout}, func() time.Time { return time.Unix(0, clock.Load()) })
		if got := askWithin(t, r, "owner payments-api", 5*time.Second); !strings.HasPrefix(got.Title, "payments-api is owned by") {
			t.Fatalf("owner payments-api before the hang = %q / %q", got.Title, got.Text)
		}
		st.hang.Store(true)
		clock.Add(int64(time.Minute))
		if got := askWithin(t, r, "owner payments-api", limit); !strings.HasPrefix(got.Title, "payments-api is owned by") || !strings.Contains(got.Text, "database is unreachable") {
			t.Errorf("owner payments-api (cached) with the store hung = %q / %q, want the cached answer with a note", got.Title, got.Text)
		}
		if got := askWithin(t, r, "owner component:checkout", limit); got.Text != unavailable {
			t.Errorf("owner checkout (not cached) with the store hung = %q / %q, want %q", got.Title, got.Text, unavailable)
		}
	})

	t.Run("cold", func(t *testing.T) {
		st := newHangingStore(t, sq)
		st.hang.Store(true)
		r := New(Params{Store: st, StoreTimeout: timeout})
		var wg sync.WaitGroup
		for _, q := range []string{"owner payments-api", "docs payments-rest", "team payments", "search payments", "owner nothing-like-it"} {
			wg.Go(func() {
				if got := askWithin(t, r, q, limit); got.Text != unavailable {
					t.Errorf("%q with an empty cache and the store hung = %q / %q, want %q", q, got.Title, got.Text, unavailable)
				}
			})
		}
		wg.Wait()
	})
}

// TestEmptySnapshotDatabaseDown asks about an entity when the only
// snapshot in memory was built before the first sync (an empty catalog)
// and the database is now unreachable: the answer is that the catalog is
// temporarily unavailable, not that no such entity exists.
func TestEmptySnapshotDatabaseDown(t *testing.T) {
	sq := sqlstoretest.OpenSQLite(t)
	st := newHangingStore(t, sq)
	var clock atomic.Int64
	clock.Store(time.Unix(1_000_000, 0).UnixNano())
	r := newClockedRouter(Params{Store: st}, func() time.Time { return time.Unix(0, clock.Load()) })
	if got := askWithin(t, r, "owner payments-api", 5*time.Second); !strings.Contains(got.Text, "I found no entity named") {
		t.Fatalf("owner payments-api on an empty catalog = %q, want a miss", got.Text)
	}
	catalogtest.LoadDir(t, sq, "acme/catalog", "testdata/catalog")
	st.fail.Store(true)
	clock.Add(int64(time.Minute))
	if got := askWithin(t, r, "owner payments-api", 5*time.Second); got.Text != unavailable {
		t.Errorf("owner payments-api, database down, empty snapshot = %q, want %q", got.Text, unavailable)
	}
}

// slowSummaries is a store that takes a while to list the catalog, as a
// healthy database does at 100,000 entities.
type slowSummaries struct {
	catalog.Store
	delay time.Duration
}

func (s slowSummaries) Summaries(ctx context.Context) ([]catalog.Summary, error) {
	select {
	case <-time.After(s.delay):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return s.Store.Summaries(ctx)
}

// TestFirstSnapshotSlowerThanTimeout asks the first question of a
// process whose database answers but takes longer than the store timeout
// to list a big catalog: the question waits for the first snapshot
// rather than calling a healthy catalog unavailable.
func TestFirstSnapshotSlowerThanTimeout(t *testing.T) {
	sq := sqlstoretest.OpenSQLite(t)
	catalogtest.LoadDir(t, sq, "acme/catalog", "testdata/catalog")
	const timeout = 100 * time.Millisecond
	r := New(Params{Store: slowSummaries{Store: sq, delay: 4 * timeout}, StoreTimeout: timeout})
	if got := askWithin(t, r, "owner payments-api", 5*time.Second); got.Title != "payments-api is owned by Payments Team" {
		t.Errorf("first owner payments-api with a slow listing = %q / %q, want the owner", got.Title, got.Text)
	}
}

// driftFunc is a DriftSource from a function.
type driftFunc func(ctx context.Context, since time.Time, f drift.Filter) ([]drift.Finding, error)

func (fn driftFunc) Findings(ctx context.Context, since time.Time, f drift.Filter) ([]drift.Finding, error) {
	return fn(ctx, since, f)
}

// TestDriftOnHungStore asks for drift findings while the store hangs:
// the command answers "temporarily unavailable" within the store
// timeout instead of waiting for a report that reads the whole catalog.
func TestDriftOnHungStore(t *testing.T) {
	sq := sqlstoretest.OpenSQLite(t)
	st := newHangingStore(t, sq)
	st.hang.Store(true)
	findings := driftFunc(func(ctx context.Context, _ time.Time, _ drift.Filter) ([]drift.Finding, error) {
		// Reads the catalog, as the real one does: hangs with the store.
		_, err := st.Summaries(ctx)
		return nil, err
	})
	const timeout = 200 * time.Millisecond
	r := New(Params{Store: st, Drift: findings, StoreTimeout: timeout})
	if got := askWithin(t, r, "drift", timeout+500*time.Millisecond); got.Text != unavailable {
		t.Errorf("drift with the store hung = %q / %q, want %q", got.Title, got.Text, unavailable)
	}
}
