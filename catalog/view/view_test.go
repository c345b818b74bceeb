package view

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/portalbot/portalbot/catalog"
)

func TestOSADistance(t *testing.T) {
	for _, tt := range []struct {
		a, b  string
		limit int
		want  int
	}{
		{"payments-api", "payments-api", 3, 0},
		{"paymnts-api", "payments-api", 3, 1},  // deletion
		{"pyaments-api", "payments-api", 3, 1}, // transposition
		{"payments-apl", "payments-api", 3, 1}, // substitution
		{"worker-4", "worker-42", 3, 1},        // missing digit
		{"ca", "abc", 3, 3},                    // OSA, not full Damerau–Levenshtein
		{"kitten", "sitting", 3, 3},
		{"kitten", "sitting", 2, 3},         // over the limit: limit+1
		{"a", "completely-different", 2, 3}, // rejected by length alone
		{"", "abc", 5, 3},
		{"ünïcode", "unicode", 3, 2},
	} {
		if got := osaDistance(tt.a, tt.b, tt.limit); got != tt.want {
			t.Errorf("osaDistance(%q, %q, %d) = %d, want %d", tt.a, tt.b, tt.limit, got, tt.want)
		}
	}
}

func TestNearest(t *testing.T) {
	names := []string{"checkout", "ledger", "payments", "payments-api", "payments-db", "payments-rest", "worker-42", "worker-7"}
	for _, tt := range []struct {
		q    string
		want []string
	}{
		{"paymnts-api", []string{"payments-api"}},
		{"payments-ap", []string{"payments-api", "payments-db", "payments"}},
		{"worker-4", []string{"worker-42", "worker-7"}},
		{"ledgr", []string{"ledger"}},
		{"paym", []string{"payments", "payments-db", "payments-api", "payments-rest"}},
		{"the-payments-service", nil},
		{"zz", nil},
	} {
		got := nearest(tt.q, names, 5)
		if strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("nearest(%q) = %q, want %q", tt.q, got, tt.want)
		}
	}
}

// countingStore is a catalog.Store whose Generation and Summaries are
// counted and scripted; the rest is unused by the view.
type countingStore struct {
	catalog.Store
	gen              int64
	sums             []catalog.Summary
	genCalls, sCalls int
}

func (s *countingStore) Generation(context.Context) (int64, error) { s.genCalls++; return s.gen, nil }
func (s *countingStore) Summaries(context.Context) ([]catalog.Summary, error) {
	s.sCalls++
	return s.sums, nil
}

// Entities answers the cache warm-up: nothing to warm.
func (s *countingStore) Entities(context.Context, catalog.Query) ([]*catalog.Entity, error) {
	return nil, nil
}

func TestSnapshotRefresh(t *testing.T) {
	st := &countingStore{gen: 1, sums: []catalog.Summary{{Ref: catalog.MustParseRef("component:default/a")}}}
	now := time.Unix(1000, 0)
	x := New(Params{Store: st, Now: func() time.Time { return now }})
	ctx := context.Background()

	s, err := x.Snapshot(ctx)
	if err != nil || len(s.b.entries) != 1 {
		t.Fatalf("Snapshot() = %v, %v; want one entry", s, err)
	}
	// Within RefreshEvery: no store call at all.
	x.Snapshot(ctx)
	if st.genCalls != 1 || st.sCalls != 1 {
		t.Errorf("after two reads within a second: Generation calls %d, Summaries calls %d; want 1, 1", st.genCalls, st.sCalls)
	}
	// Later, same generation: one cheap check, no reload.
	now = now.Add(2 * RefreshEvery)
	x.Snapshot(ctx)
	if st.genCalls != 2 || st.sCalls != 1 {
		t.Errorf("after an unchanged check: Generation calls %d, Summaries calls %d; want 2, 1", st.genCalls, st.sCalls)
	}
	// A sync changed the catalog: reloaded.
	st.gen = 2
	st.sums = append(st.sums, catalog.Summary{Ref: catalog.MustParseRef("component:default/b"), Owner: "team-b"})
	now = now.Add(2 * RefreshEvery)
	s, _ = x.Snapshot(ctx)
	if st.sCalls != 2 || len(s.b.entries) != 2 {
		t.Errorf("after a generation change: Summaries calls %d, entries %d; want 2, 2", st.sCalls, len(s.b.entries))
	}
	if got := s.Owned("group:default/team-b"); got.Len() != 1 {
		t.Errorf("owned[group:default/team-b] = %v, want the one entity (owner refs are canonicalised)", got)
	}
}

// blockingStore is a catalog.Store whose Generation waits for release.
type blockingStore struct {
	countingStore
	entered chan struct{}
	release chan struct{}
}

func (s *blockingStore) Generation(ctx context.Context) (int64, error) {
	s.entered <- struct{}{}
	<-s.release
	return s.gen, nil
}

// TestCheckDoesNotBlockReaders checks that while one read waits on the
// generation check, others answer from the snapshot they have.
func TestCheckDoesNotBlockReaders(t *testing.T) {
	st := &blockingStore{entered: make(chan struct{}), release: make(chan struct{})}
	st.gen, st.sums = 1, []catalog.Summary{{Ref: catalog.MustParseRef("component:default/a")}}
	var clock atomic.Int64
	clock.Store(time.Unix(1000, 0).UnixNano())
	x := New(Params{Store: st, Now: func() time.Time { return time.Unix(0, clock.Load()) }})
	ctx := context.Background()
	go func() { <-st.entered; st.release <- struct{}{} }()
	if _, err := x.Snapshot(ctx); err != nil {
		t.Fatal(err)
	}
	clock.Add(int64(2 * RefreshEvery))
	done := make(chan error)
	go func() { _, err := x.Snapshot(ctx); done <- err }()
	<-st.entered // the check is under way and hangs
	got := make(chan Snapshot, 1)
	go func() {
		s, _ := x.Snapshot(ctx)
		got <- s
	}()
	select {
	case s := <-got:
		if s.b == nil || len(s.b.entries) != 1 {
			t.Errorf("Snapshot() during a hung check = %v; want the current snapshot", s)
		}
	case <-time.After(5 * time.Second):
		t.Error("Snapshot() during a hung check waited for it; want the current snapshot at once")
	}
	st.release <- struct{}{}
	if err := <-done; err != nil {
		t.Errorf("the checking Snapshot() = %v", err)
	}
}

// TestWithinKeepsAnswers calls Within many times with calls that
// answer at once: an answer that came must never be reported as cut
// short, however the goroutines are scheduled.
func TestWithinKeepsAnswers(t *testing.T) {
	ctx := context.Background()
	var wg sync.WaitGroup
	var lost atomic.Int64
	for range 4 {
		wg.Go(func() {
			for i := range 5000 {
				v, err := Within(ctx, time.Minute, func(context.Context) (int, error) { return i, nil })
				if err != nil || v != i {
					lost.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if n := lost.Load(); n > 0 {
		t.Errorf("Within lost %d of 20000 immediate answers", n)
	}
}

// TestExpire checks that after Expire the next read checks the store's
// generation at once, where it would otherwise answer from the snapshot
// it checked less than RefreshEvery ago.
func TestExpire(t *testing.T) {
	st := &countingStore{gen: 1, sums: []catalog.Summary{{Ref: catalog.MustParseRef("component:default/a")}}}
	now := time.Unix(1000, 0)
	x := New(Params{Store: st, Now: func() time.Time { return now }})
	ctx := context.Background()
	if _, err := x.Snapshot(ctx); err != nil {
		t.Fatal(err)
	}
	st.gen = 2
	st.sums = append(st.sums, catalog.Summary{Ref: catalog.MustParseRef("component:default/b")})
	if s, _ := x.Snapshot(ctx); s.Has(catalog.MustParseRef("component:default/b")) {
		t.Fatalf("Snapshot() within RefreshEvery of a check holds b; the test needs it not to")
	}
	x.Expire()
	if s, _ := x.Snapshot(ctx); !s.Has(catalog.MustParseRef("component:default/b")) || st.genCalls != 2 {
		t.Errorf("Snapshot() after Expire: holds b %v, Generation calls %d; want b and 2 calls", s.Has(catalog.MustParseRef("component:default/b")), st.genCalls)
	}
}
