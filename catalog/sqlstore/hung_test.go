package sqlstore_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/sqlstore"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
)

// callWithin runs call with a deadline of d and fails the test unless it
// returns within d plus a margin; it returns call's error.
func callWithin(t *testing.T, what string, d time.Duration, call func(ctx context.Context) error) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- call(ctx) }()
	select {
	case err := <-done:
		if took := time.Since(start); took > d+time.Second {
			t.Errorf("%s took %v with a %v deadline", what, took, d)
		}
		return err
	case <-time.After(d + 5*time.Second):
		t.Fatalf("%s still running %v after its %v deadline", what, 5*time.Second, d)
		return nil
	}
}

// TestFrozenServerCallsEnd freezes the link to Postgres (the server
// accepts and never answers): every call, on a pooled connection or a new
// one, in a transaction or not, returns at its deadline with
// catalog.ErrUnavailable, and the store answers again once the link thaws.
func TestFrozenServerCallsEnd(t *testing.T) {
	_, proxy, dsn := sqlstoretest.PostgresThroughProxy(t)
	st, err := sqlstore.Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("open through the proxy: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Generation(context.Background()); err != nil {
		t.Fatalf("Generation before the freeze: %v", err)
	}

	proxy.Freeze()
	const d = 300 * time.Millisecond
	calls := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"Generation", func(ctx context.Context) error { _, err := st.Generation(ctx); return err }},
		{"Entity", func(ctx context.Context) error {
			_, err := st.Entity(ctx, catalog.MustParseRef("component:default/a"))
			return err
		}},
		{"Summaries", func(ctx context.Context) error { _, err := st.Summaries(ctx); return err }},
		{"Ping", st.Ping},
		{"RecordSourceError", func(ctx context.Context) error {
			return st.RecordSourceError(ctx, catalog.Source{Name: "acme", Repo: "x"}, "boom")
		}},
		{"ApplySync", func(ctx context.Context) error {
			_, err := st.ApplySync(ctx, catalog.SyncBatch{Source: catalog.Source{Name: "acme", Repo: "x"}, Full: true})
			return err
		}},
	}
	for _, c := range calls {
		err := callWithin(t, c.name+" on a frozen server", d, c.call)
		if !errors.Is(err, catalog.ErrUnavailable) {
			t.Errorf("%s on a frozen server = %v, want catalog.ErrUnavailable", c.name, err)
		}
	}

	proxy.Thaw()
	if err := callWithin(t, "Generation after the thaw", 5*time.Second, func(ctx context.Context) error {
		_, err := st.Generation(ctx)
		return err
	}); err != nil {
		t.Errorf("Generation after the thaw = %v, want the store to answer again", err)
	}
}

// TestHalfOpenConnectionsLeaveThePool freezes the pooled connections only
// (new ones reach the server), as after a failover that left them
// half-open: each call on a dead connection ends at its deadline and
// takes the connection out of the pool, so calls succeed again after at
// most one failure per pooled connection, not never.
func TestHalfOpenConnectionsLeaveThePool(t *testing.T) {
	_, proxy, dsn := sqlstoretest.PostgresThroughProxy(t)
	st, err := sqlstore.Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("open through the proxy: %v", err)
	}
	t.Cleanup(func() { st.Close() })
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if _, err := st.DB().Exec("SELECT pg_sleep(0.05)"); err != nil {
				t.Errorf("fill the pool: %v", err)
			}
		})
	}
	wg.Wait()
	pooled := st.DB().Stats().Idle
	if pooled < 2 {
		t.Fatalf("%d idle connections after 8 concurrent queries, want several", pooled)
	}

	proxy.FreezeOpen()
	failed := 0
	for attempt := 0; ; attempt++ {
		err := callWithin(t, "Generation with half-open pooled connections", 300*time.Millisecond, func(ctx context.Context) error {
			_, err := st.Generation(ctx)
			return err
		})
		if err == nil {
			break
		}
		if !errors.Is(err, catalog.ErrUnavailable) {
			t.Errorf("Generation on a half-open connection = %v, want catalog.ErrUnavailable", err)
		}
		failed++
		if failed > pooled {
			t.Fatalf("Generation failed %d times with %d pooled connections; want a fresh connection after each dead one is dropped", failed, pooled)
		}
	}
	for i := range 5 {
		if _, err := st.Generation(context.Background()); err != nil {
			t.Errorf("Generation %d after the dead connections left the pool = %v", i, err)
		}
	}
}
