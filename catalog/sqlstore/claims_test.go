package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/portalbot/portalbot/catalog/sqlstore"
)

func TestClaimOnce(t *testing.T) {
	eachStore(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		tick := time.Date(2025, 3, 4, 9, 0, 0, 0, time.UTC)
		claim := func(job, holder string, lease time.Duration, want bool) {
			t.Helper()
			if got, err := st.ClaimOnce(ctx, job, tick, holder, lease); err != nil || got != want {
				t.Errorf("ClaimOnce(%s, %s) = %v, %v; want %v", job, holder, got, err, want)
			}
		}
		renew := func(job, holder string, want bool) {
			t.Helper()
			if got, err := st.RenewRun(ctx, job, tick, holder, time.Minute); err != nil || got != want {
				t.Errorf("RenewRun(%s, %s) = %v, %v; want %v", job, holder, got, err, want)
			}
		}
		claim("sync:a", "r1", time.Minute, true)
		claim("sync:a", "r2", time.Minute, false) // claimed, lease live
		renew("sync:a", "r1", true)
		renew("sync:a", "r2", false)
		// A failed run stays finished: the next tick syncs again.
		if err := st.FinishRun(ctx, "sync:a", tick, errors.New("git: unreachable")); err != nil {
			t.Fatal(err)
		}
		claim("sync:a", "r2", time.Minute, false)
		renew("sync:a", "r1", false)

		// A claimant that died: once its lease ends, another takes over,
		// and the dead one can no longer renew.
		claim("sync:b", "dead", time.Millisecond, true)
		time.Sleep(5 * time.Millisecond)
		claim("sync:b", "r2", time.Minute, true)
		claim("sync:b", "r3", time.Minute, false)
		renew("sync:b", "dead", false)
		renew("sync:b", "r2", true)

		// A released claim is free at once; releasing another's does nothing.
		if err := st.ReleaseRun(ctx, "sync:b", tick, "dead"); err != nil {
			t.Fatal(err)
		}
		claim("sync:b", "r3", time.Minute, false)
		if err := st.ReleaseRun(ctx, "sync:b", tick, "r2"); err != nil {
			t.Fatal(err)
		}
		claim("sync:b", "r3", time.Minute, true)
		if err := st.FinishRun(ctx, "sync:b", tick, nil); err != nil {
			t.Fatal(err)
		}
		if err := st.ReleaseRun(ctx, "sync:b", tick, "r3"); err != nil {
			t.Fatal(err)
		}
		claim("sync:c", "r1", time.Minute, true)

		got, err := st.FinishedJobs(ctx, tick)
		slices.Sort(got)
		if want := []string{"sync:a", "sync:b"}; err != nil || !slices.Equal(got, want) {
			t.Errorf("FinishedJobs = %v, %v; want %v (a failed, b succeeded and not released, c running)", got, err, want)
		}
		if got, err := st.FinishedJobs(ctx, tick.Add(time.Minute)); err != nil || len(got) != 0 {
			t.Errorf("FinishedJobs(another tick) = %v, %v; want none", got, err)
		}

		// Concurrent replicas: exactly one claims each run.
		var (
			wg  sync.WaitGroup
			mu  sync.Mutex
			won = map[string]int{}
		)
		for i := range 12 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for _, job := range []string{"sync:x", "sync:y", "sync:z"} {
					ok, err := st.ClaimOnce(ctx, job, tick, fmt.Sprintf("replica-%d", i), time.Minute)
					if err != nil {
						t.Errorf("ClaimOnce(%s): %v", job, err)
					}
					if ok {
						mu.Lock()
						won[job]++
						mu.Unlock()
					}
				}
			}()
		}
		wg.Wait()
		for _, job := range []string{"sync:x", "sync:y", "sync:z"} {
			if won[job] != 1 {
				t.Errorf("ClaimOnce(%s) won by %d replicas, want 1", job, won[job])
			}
		}
	})
}
