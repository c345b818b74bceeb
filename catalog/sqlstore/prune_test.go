package sqlstore_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/portalbot/portalbot/catalog/sqlstore"
)

// dbTime formats t as the store writes times.
func dbTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }

// age sets a column of the run of job at tick, as if written at when.
func age(t *testing.T, st *sqlstore.Store, column, job string, tick, when time.Time) {
	t.Helper()
	db := st.DB()
	if _, err := db.Exec(db.Rebind("UPDATE job_runs SET "+column+" = ? WHERE job = ? AND tick = ?"), dbTime(when), job, dbTime(tick)); err != nil {
		t.Fatalf("age %s of %s %v: %v", column, job, tick, err)
	}
}

// runTicks returns the ticks of job still stored, oldest first.
func runTicks(t *testing.T, st *sqlstore.Store, job string) []time.Time {
	t.Helper()
	var out []time.Time
	db := st.DB()
	rows, err := db.Query(db.Rebind("SELECT tick FROM job_runs WHERE job = ?"), job)
	if err != nil {
		t.Fatalf("ticks of %s: %v", job, err)
	}
	defer rows.Close()
	for rows.Next() {
		var v any
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		var tm time.Time
		switch x := v.(type) {
		case time.Time:
			tm = x
		case string:
			tm, err = time.Parse(time.RFC3339Nano, x)
			if err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatalf("tick scanned as %T", v)
		}
		out = append(out, tm.UTC())
	}
	slices.SortFunc(out, time.Time.Compare)
	return out
}

func TestPruneRuns(t *testing.T) {
	eachStore(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Minute)
		old := now.Add(-8 * 24 * time.Hour)
		tick := func(i int) time.Time { return now.Add(-time.Duration(i) * time.Hour) }
		claim := func(i int, lease time.Duration) {
			t.Helper()
			if ok, err := st.ClaimRun(ctx, "sync", tick(i), "a", lease); err != nil || !ok {
				t.Fatalf("ClaimRun(sync, %d) = %v, %v", i, ok, err)
			}
		}
		// 1: succeeded 8 days ago; 2: failed 8 days ago; 3: succeeded now;
		// 4: claimed, lease ended 8 days ago; 5: claimed under a live
		// lease though last updated 8 days ago; 6: failed now.
		for i := 1; i <= 6; i++ {
			claim(i, time.Hour)
		}
		for i, runErr := range map[int]error{1: nil, 2: errors.New("boom"), 3: nil, 6: errors.New("boom")} {
			if err := st.FinishRun(ctx, "sync", tick(i), runErr); err != nil {
				t.Fatalf("FinishRun(%d): %v", i, err)
			}
		}
		age(t, st, "updated_at", "sync", tick(1), old)
		age(t, st, "updated_at", "sync", tick(2), old)
		age(t, st, "lease_until", "sync", tick(4), old)
		age(t, st, "updated_at", "sync", tick(5), old)

		if first, err := st.Once(ctx, "event:gone", time.Millisecond); err != nil || !first {
			t.Fatalf("Once(gone) = %v, %v", first, err)
		}
		if first, err := st.Once(ctx, "event:kept", time.Hour); err != nil || !first {
			t.Fatalf("Once(kept) = %v, %v", first, err)
		}
		for name, ttl := range map[string]time.Duration{"gone": time.Millisecond, "kept": time.Hour} {
			if ok, err := st.TryLease(ctx, name, "a", ttl); err != nil || !ok {
				t.Fatalf("TryLease(%s) = %v, %v", name, ok, err)
			}
		}
		time.Sleep(5 * time.Millisecond)

		n, err := st.PruneRuns(ctx, sqlstore.RunRetention)
		if err != nil || n != 3 {
			t.Fatalf("PruneRuns = %d, %v; want 3", n, err)
		}
		if got, want := runTicks(t, st, "sync"), []time.Time{tick(6), tick(5), tick(3)}; !slices.EqualFunc(got, want, time.Time.Equal) {
			t.Errorf("ticks after PruneRuns = %v, want %v", got, want)
		}
		if failed, err := st.FailedRuns(ctx, "sync"); err != nil || len(failed) != 1 || !failed[0].Equal(tick(6)) {
			t.Errorf("FailedRuns after PruneRuns = %v, %v; want [%v]", failed, err, tick(6))
		}
		var keys, leases []string
		if err := st.DB().Select(&keys, "SELECT key FROM once_keys ORDER BY key"); err != nil {
			t.Fatal(err)
		}
		if err := st.DB().Select(&leases, "SELECT name FROM leases ORDER BY name"); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(keys, []string{"event:kept"}) || !slices.Equal(leases, []string{"kept"}) {
			t.Errorf("after PruneRuns once_keys = %v, leases = %v; want [event:kept], [kept]", keys, leases)
		}
		// The live key and lease still decide as before.
		if first, err := st.Once(ctx, "event:kept", time.Hour); err != nil || first {
			t.Errorf("Once(kept) after PruneRuns = %v, %v; want false", first, err)
		}
		if ok, err := st.TryLease(ctx, "kept", "b", time.Hour); err != nil || ok {
			t.Errorf("TryLease(kept, b) after PruneRuns = %v, %v; want false", ok, err)
		}
		if n, err := st.PruneRuns(ctx, sqlstore.RunRetention); err != nil || n != 0 {
			t.Errorf("PruneRuns again = %d, %v; want 0", n, err)
		}
	})
}

// TestClaimRunPrunes checks that ClaimRun prunes on a process's first
// claim, and not again within PruneEvery.
func TestClaimRunPrunes(t *testing.T) {
	eachStore(t, func(t *testing.T, st *sqlstore.Store) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Minute)
		old := now.Add(-30 * 24 * time.Hour)
		// An earlier process left a run finished a month ago.
		leftOver := func(tick time.Time) {
			t.Helper()
			db := st.DB()
			if _, err := db.Exec(db.Rebind(`INSERT INTO job_runs (job, tick, status, attempts, holder, lease_until, error, updated_at)
				VALUES ('report', ?, 'succeeded', 1, 'gone', ?, '', ?)`), dbTime(tick), dbTime(tick), dbTime(tick)); err != nil {
				t.Fatalf("insert old run: %v", err)
			}
		}
		leftOver(old)
		if ok, err := st.ClaimRun(ctx, "sync", now, "a", time.Minute); err != nil || !ok {
			t.Fatalf("ClaimRun(sync) = %v, %v", ok, err)
		}
		if got := runTicks(t, st, "report"); len(got) != 0 {
			t.Errorf("report ticks after the process's first claim = %v, want none", got)
		}
		// The next prune is PruneEvery away: further claims keep it.
		leftOver(old.Add(time.Minute))
		if ok, err := st.ClaimRun(ctx, "sync", now.Add(time.Minute), "a", time.Minute); err != nil || !ok {
			t.Fatalf("ClaimRun(sync) again = %v, %v", ok, err)
		}
		if got := runTicks(t, st, "report"); len(got) != 1 {
			t.Errorf("report ticks after a claim within PruneEvery = %v, want the old run kept", got)
		}
	})
}
