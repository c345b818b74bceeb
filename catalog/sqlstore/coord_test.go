package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"sync"
	"testing"
	"time"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/sqlstore"
)

// eachStore runs fn on a fresh store of each dialect.
func eachStore(t *testing.T, fn func(t *testing.T, st *sqlstore.Store)) {
	for name, open := range sqlstoretest.Stores() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fn(t, open(t))
		})
	}
}

func TestOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		if first, err := st.Once(ctx, "event:Ev1", time.Minute); err != nil || !first {
			t.Fatalf("Once(Ev1) = %v, %v; want true", first, err)
		}
		if first, err := st.Once(ctx, "event:Ev1", time.Minute); err != nil || first {
			t.Errorf("Once(Ev1) again = %v, %v; want false", first, err)
		}
		if first, err := st.Once(ctx, "event:Ev2", time.Minute); err != nil || !first {
			t.Errorf("Once(Ev2) = %v, %v; want true", first, err)
		}
		// An expired key is first again.
		if first, err := st.Once(ctx, "event:short", time.Millisecond); err != nil || !first {
			t.Fatalf("Once(short) = %v, %v", first, err)
		}
		time.Sleep(5 * time.Millisecond)
		if first, err := st.Once(ctx, "event:short", time.Minute); err != nil || !first {
			t.Errorf("Once(short) after expiry = %v, %v; want true", first, err)
		}
		// Many concurrent callers: exactly one wins.
		var (
			wg  sync.WaitGroup
			mu  sync.Mutex
			won int
		)
		for range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				first, err := st.Once(ctx, "event:race", time.Minute)
				if err != nil {
					t.Errorf("Once(race): %v", err)
				}
				if first {
					mu.Lock()
					won++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if won != 1 {
			t.Errorf("Once(race) won by %d callers, want 1", won)
		}
	})
}

func TestLease(t *testing.T) {
	eachStore(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		try := func(holder string, ttl time.Duration, want bool) {
			t.Helper()
			if got, err := st.TryLease(ctx, "sync:acme", holder, ttl); err != nil || got != want {
				t.Errorf("TryLease(sync:acme, %s) = %v, %v; want %v", holder, got, err, want)
			}
		}
		try("a", time.Minute, true)
		try("b", time.Minute, false)
		try("a", time.Minute, true) // renewal
		if err := st.ReleaseLease(ctx, "sync:acme", "b"); err != nil {
			t.Fatalf("ReleaseLease(b): %v", err)
		}
		try("b", time.Minute, false) // b's release did not free a's lease
		if err := st.ReleaseLease(ctx, "sync:acme", "a"); err != nil {
			t.Fatalf("ReleaseLease(a): %v", err)
		}
		try("b", 10*time.Millisecond, true)
		time.Sleep(20 * time.Millisecond)
		try("a", time.Minute, true) // b's lease expired
		try("b", time.Minute, false)
		if got, err := st.TryLease(ctx, "other", "b", time.Minute); err != nil || !got {
			t.Errorf("TryLease(other, b) = %v, %v; want true", got, err)
		}
	})
}

func TestClaimRun(t *testing.T) {
	eachStore(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		tick := time.Date(2025, 3, 4, 9, 0, 0, 0, time.UTC)
		claim := func(holder string, lease time.Duration, want bool) {
			t.Helper()
			if got, err := st.ClaimRun(ctx, "report", tick, holder, lease); err != nil || got != want {
				t.Errorf("ClaimRun(report, %s) = %v, %v; want %v", holder, got, err, want)
			}
		}
		claim("a", time.Minute, true)
		claim("b", time.Minute, false) // claimed, lease live
		if err := st.FinishRun(ctx, "report", tick, errors.New("slack: channel_not_found")); err != nil {
			t.Fatalf("FinishRun(failed): %v", err)
		}
		failed, err := st.FailedRuns(ctx, "report")
		if err != nil || len(failed) != 1 || !failed[0].Equal(tick) {
			t.Errorf("FailedRuns = %v, %v; want [%v]", failed, err, tick)
		}
		if last, err := st.LastRun(ctx, "report", sqlstore.RunFailed); err != nil || !last.Equal(tick) {
			t.Errorf("LastRun(failed) = %v, %v; want %v", last, err, tick)
		}
		// Retries until MaxRunAttempts attempts were made.
		for i := 2; i <= sqlstore.MaxRunAttempts; i++ {
			claim("b", time.Minute, true)
			if err := st.FinishRun(ctx, "report", tick, fmt.Errorf("attempt %d failed", i)); err != nil {
				t.Fatalf("FinishRun: %v", err)
			}
		}
		claim("c", time.Minute, false)
		if failed, err := st.FailedRuns(ctx, "report"); err != nil || len(failed) != 0 {
			t.Errorf("FailedRuns after %d attempts = %v, %v; want none", sqlstore.MaxRunAttempts, failed, err)
		}
		// A claimant that died: its lease expires and the run is up for grabs.
		next := tick.Add(time.Hour)
		if ok, err := st.ClaimRun(ctx, "report", next, "dead", time.Millisecond); err != nil || !ok {
			t.Fatalf("ClaimRun(next, dead) = %v, %v", ok, err)
		}
		time.Sleep(5 * time.Millisecond)
		if failed, err := st.FailedRuns(ctx, "report"); err != nil || len(failed) != 1 || !failed[0].Equal(next) {
			t.Errorf("FailedRuns with an expired claim = %v, %v; want [%v]", failed, err, next)
		}
		if ok, err := st.ClaimRun(ctx, "report", next, "b", time.Minute); err != nil || !ok {
			t.Errorf("ClaimRun(next) after the lease expired = %v, %v; want true", ok, err)
		}
		if err := st.FinishRun(ctx, "report", next, nil); err != nil {
			t.Fatalf("FinishRun(succeeded): %v", err)
		}
		if ok, err := st.ClaimRun(ctx, "report", next, "c", time.Minute); err != nil || ok {
			t.Errorf("ClaimRun(succeeded run) = %v, %v; want false", ok, err)
		}
		if last, err := st.LastRun(ctx, "report", sqlstore.RunSucceeded); err != nil || !last.Equal(next) {
			t.Errorf("LastRun(succeeded) = %v, %v; want %v", last, err, next)
		}
		if last, err := st.LastRun(ctx, "report", ""); err != nil || !last.Equal(next) {
			t.Errorf("LastRun(any) = %v, %v; want %v", last, err, next)
		}
		if _, err := st.LastRun(ctx, "other", ""); !errors.Is(err, catalog.ErrNotFound) {
			t.Errorf("LastRun(other) error = %v, want ErrNotFound", err)
		}
		if err := st.FinishRun(ctx, "other", tick, nil); !errors.Is(err, catalog.ErrNotFound) {
			t.Errorf("FinishRun(never claimed) error = %v, want ErrNotFound", err)
		}
		// Concurrent replicas: exactly one claims a fresh tick.
		fresh := tick.Add(2 * time.Hour)
		var (
			wg  sync.WaitGroup
			mu  sync.Mutex
			won int
		)
		for i := range 12 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ok, err := st.ClaimRun(ctx, "report", fresh, fmt.Sprintf("replica-%d", i), time.Minute)
				if err != nil {
					t.Errorf("ClaimRun(fresh): %v", err)
				}
				if ok {
					mu.Lock()
					won++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if won != 1 {
			t.Errorf("ClaimRun(fresh) won by %d replicas, want 1", won)
		}
	})
}

func TestLaunches(t *testing.T) {
	eachStore(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		first, err := st.RecordLaunch(ctx, "view-123", "U1", "slack", "template:default/go-service", `{"name":"x"}`)
		if err != nil || !first {
			t.Fatalf("RecordLaunch = %v, %v; want true", first, err)
		}
		if again, err := st.RecordLaunch(ctx, "view-123", "U1", "slack", "template:default/go-service", `{"name":"x"}`); err != nil || again {
			t.Errorf("RecordLaunch(same key) = %v, %v; want false", again, err)
		}
		if err := st.FinishLaunch(ctx, "view-123", "task-9", "completed", "https://git.example.com/x"); err != nil {
			t.Errorf("FinishLaunch: %v", err)
		}
		var row struct {
			TaskID string `db:"task_id"`
			Status string `db:"status"`
			Values string `db:"values_json"`
		}
		if err := st.DB().GetContext(ctx, &row, st.DB().Rebind("SELECT task_id, status, values_json FROM template_launches WHERE key = ?"), "view-123"); err != nil {
			t.Fatalf("read launch: %v", err)
		}
		if row.TaskID != "task-9" || row.Status != "completed" || row.Values != `{"name":"x"}` {
			t.Errorf("launch row = %+v", row)
		}
		if err := st.FinishLaunch(ctx, "nope", "", "failed", ""); !errors.Is(err, catalog.ErrNotFound) {
			t.Errorf("FinishLaunch(unknown key) error = %v, want ErrNotFound", err)
		}
	})
}
