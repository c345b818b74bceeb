package bot

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/portalbot/portalbot/catalog/ingest"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
)

// TestShutdownReleasesClaimAfterLostRenewal fails before the fix: when
// shutdown cancelled a sync just as its claim's renewal ran, the renewal's
// error counted as a lost lease and the claim was left "claimed" in
// job_runs (TestServeTwoReplicas saw it now and then), instead of being
// handed back for another replica to take at once.
func TestShutdownReleasesClaimAfterLostRenewal(t *testing.T) {
	st := sqlstoretest.OpenSQLite(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logger := slog.New(slog.DiscardHandler)
	j := &syncJob{src: ingest.Source{Name: "acme", Repo: "https://git.example.com/acme"},
		sync: func(ctx context.Context, _ ingest.Source) (ingest.Result, error) {
			cancel() // shutdown, while the renewal fails with the cancelled context
			return ingest.Result{}, fmt.Errorf("sync acme: %w: %w", errLeaseLost, context.Canceled)
		},
		leases: st, holder: "replica-a", ttl: time.Minute, timeout: time.Minute, logger: logger}
	pool := newSyncPool(st, "replica-a", 1, time.Minute, time.Second, logger)
	tick := time.Date(2026, 12, 3, 17, 0, 0, 0, time.UTC)
	if claimed, _ := pool.claimAndSync(ctx, ctx, j, tick); !claimed {
		t.Fatal("claimAndSync did not claim the tick")
	}
	var n int
	if err := st.DB().Get(&n, "SELECT count(*) FROM job_runs WHERE job = 'sync:acme' AND status = 'claimed'"); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("claims left after a shutdown mid-sync = %d, want 0 (handed back)", n)
	}
}
