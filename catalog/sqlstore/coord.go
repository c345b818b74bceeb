package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Coordination between replicas sharing one database. Each decision is a
// single INSERT ... ON CONFLICT DO UPDATE ... WHERE statement, which both
// Postgres and SQLite execute atomically, so two processes can never both
// win. Expiry compares against this process's clock: replicas need clocks
// in sync to well within the TTLs they use.

// MaxRunAttempts is how many times ClaimRun hands out a failed job tick.
const MaxRunAttempts = 5

// Run statuses stored in job_runs.
const (
	RunClaimed   = "claimed"
	RunSucceeded = "succeeded"
	RunFailed    = "failed"
)

// onceSweepEvery is how many Once calls pass between purges of expired keys.
const onceSweepEvery = 256

// Once reports whether key is seen for the first time within ttl: true for
// exactly one caller across all processes until the key expires. Use it to
// deduplicate retried deliveries (Slack retries events for up to 5 minutes).
func (s *Store) Once(ctx context.Context, key string, ttl time.Duration) (first bool, err error) {
	now := time.Now()
	if s.onceCalls.Add(1)%onceSweepEvery == 0 {
		if _, err := s.db.ExecContext(ctx, s.db.Rebind("DELETE FROM once_keys WHERE expires_at < ?"), dbTimeValue(now)); err != nil {
			return false, s.wrap("once", err)
		}
	}
	r, err := s.db.ExecContext(ctx, s.db.Rebind(`INSERT INTO once_keys (key, expires_at) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at WHERE once_keys.expires_at < ?`),
		key, dbTimeValue(now.Add(ttl)), dbTimeValue(now))
	return s.won("once", r, err)
}

// TryLease acquires or renews the lease name for holder until ttl from now.
// It succeeds when the lease is free, expired or already held by holder.
func (s *Store) TryLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	now := time.Now()
	r, err := s.db.ExecContext(ctx, s.db.Rebind(`INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE leases.holder = excluded.holder OR leases.expires_at < ?`),
		name, holder, dbTimeValue(now.Add(ttl)), dbTimeValue(now))
	return s.won("lease "+name, r, err)
}

// ReleaseLease gives up the lease name if holder holds it; releasing a
// lease held by someone else, or by no one, does nothing.
func (s *Store) ReleaseLease(ctx context.Context, name, holder string) error {
	_, err := s.db.ExecContext(ctx, s.db.Rebind("DELETE FROM leases WHERE name = ? AND holder = ?"), name, holder)
	return s.wrap("release lease "+name, err)
}

// ClaimRun claims the run of job for the scheduled time tick for holder,
// for lease. It returns true when the run is the caller's to do: no one has
// claimed it, or its last attempt failed and fewer than MaxRunAttempts were
// made, or its claimant's lease expired (it died mid-run). Every successful
// claim counts as an attempt.
//
// At most once per PruneEvery per process, ClaimRun first prunes finished
// runs older than RunRetention (PruneRuns); a failure there does not stop
// the claim.
func (s *Store) ClaimRun(ctx context.Context, job string, tick time.Time, holder string, lease time.Duration) (bool, error) {
	now := time.Now()
	s.maybePrune(ctx, now)
	nowV := dbTimeValue(now)
	r, err := s.db.ExecContext(ctx, s.db.Rebind(`INSERT INTO job_runs (job, tick, status, attempts, holder, lease_until, error, updated_at)
		VALUES (?, ?, 'claimed', 1, ?, ?, '', ?)
		ON CONFLICT (job, tick) DO UPDATE SET status = 'claimed', attempts = job_runs.attempts + 1,
			holder = excluded.holder, lease_until = excluded.lease_until, error = '', updated_at = excluded.updated_at
		WHERE (job_runs.status = 'failed' AND job_runs.attempts < ?)
			OR (job_runs.status = 'claimed' AND job_runs.lease_until < ?)`),
		job, dbTimeValue(tick), holder, dbTimeValue(now.Add(lease)), nowV, MaxRunAttempts, nowV)
	return s.won("claim run "+job, r, err)
}

// maybePrune runs PruneRuns at most once per PruneEvery per process.
func (s *Store) maybePrune(ctx context.Context, now time.Time) {
	if last := s.prunedAt.Load(); now.UnixNano()-last >= int64(PruneEvery) && s.prunedAt.CompareAndSwap(last, now.UnixNano()) {
		// Housekeeping must not fail a scheduled job; whatever is left is
		// pruned an hour later, by this or another replica.
		_, _ = s.PruneRuns(ctx, RunRetention)
	}
}

// ClaimOnce claims the run of job at tick for holder, for lease, like
// ClaimRun, except that a finished run is never handed out again, failed
// or not: it returns true when no one has claimed the run, or when its
// claimant's lease ended before it finished (it died). Scheduled syncs use
// it: a failed sync is retried by the next tick, not within this one.
func (s *Store) ClaimOnce(ctx context.Context, job string, tick time.Time, holder string, lease time.Duration) (bool, error) {
	now := time.Now()
	s.maybePrune(ctx, now)
	nowV := dbTimeValue(now)
	r, err := s.db.ExecContext(ctx, s.db.Rebind(`INSERT INTO job_runs (job, tick, status, attempts, holder, lease_until, error, updated_at)
		VALUES (?, ?, 'claimed', 1, ?, ?, '', ?)
		ON CONFLICT (job, tick) DO UPDATE SET attempts = job_runs.attempts + 1,
			holder = excluded.holder, lease_until = excluded.lease_until, updated_at = excluded.updated_at
		WHERE job_runs.status = 'claimed' AND job_runs.lease_until < ?`),
		job, dbTimeValue(tick), holder, dbTimeValue(now.Add(lease)), nowV, nowV)
	return s.won("claim run "+job, r, err)
}

// RenewRun extends holder's claim on the run of job at tick to lease from
// now. It returns false when holder no longer holds the claim: the run
// finished or was released, or its lease ended and another claimed it.
func (s *Store) RenewRun(ctx context.Context, job string, tick time.Time, holder string, lease time.Duration) (bool, error) {
	now := time.Now()
	r, err := s.db.ExecContext(ctx, s.db.Rebind(`UPDATE job_runs SET lease_until = ?, updated_at = ?
		WHERE job = ? AND tick = ? AND holder = ? AND status = 'claimed'`),
		dbTimeValue(now.Add(lease)), dbTimeValue(now), job, dbTimeValue(tick), holder)
	return s.won("renew run "+job, r, err)
}

// ReleaseRun gives back holder's unfinished claim on the run of job at
// tick, as if it had never been claimed, so that another replica may take
// it at once rather than when the lease ends (a replica shutting down
// mid-run). A run held by someone else, or finished, is left alone.
func (s *Store) ReleaseRun(ctx context.Context, job string, tick time.Time, holder string) error {
	_, err := s.db.ExecContext(ctx, s.db.Rebind("DELETE FROM job_runs WHERE job = ? AND tick = ? AND holder = ? AND status = 'claimed'"),
		job, dbTimeValue(tick), holder)
	return s.wrap("release run "+job, err)
}

// FinishedJobs returns the jobs, in no particular order, whose run at tick
// has finished, succeeded or failed.
func (s *Store) FinishedJobs(ctx context.Context, tick time.Time) ([]string, error) {
	var jobs []string
	err := s.db.SelectContext(ctx, &jobs, s.db.Rebind("SELECT job FROM job_runs WHERE tick = ? AND status IN ('succeeded', 'failed')"),
		dbTimeValue(tick))
	if err != nil {
		return nil, s.wrap("finished jobs", err)
	}
	return jobs, nil
}

// maxErrorLen bounds the error text kept per run.
const maxErrorLen = 2000

// FinishRun records the outcome of the run of job at tick: succeeded when
// runErr is nil, failed with its text otherwise. The error wraps
// catalog.ErrNotFound when the run was never claimed.
func (s *Store) FinishRun(ctx context.Context, job string, tick time.Time, runErr error) error {
	status, msg := RunSucceeded, ""
	if runErr != nil {
		status, msg = RunFailed, runErr.Error()
		if len(msg) > maxErrorLen {
			msg = msg[:maxErrorLen]
		}
	}
	r, err := s.db.ExecContext(ctx, s.db.Rebind("UPDATE job_runs SET status = ?, error = ?, updated_at = ? WHERE job = ? AND tick = ?"),
		status, msg, dbTimeValue(time.Now()), job, dbTimeValue(tick))
	op := fmt.Sprintf("finish run %s %s", job, tick.UTC().Format(time.RFC3339))
	if ok, err := s.won(op, r, err); err != nil || ok {
		return err
	}
	return s.wrap(op, sql.ErrNoRows)
}

// FailedRuns returns the ticks of job worth retrying, oldest first: runs that
// failed with attempts left, and runs whose claimant's lease expired.
func (s *Store) FailedRuns(ctx context.Context, job string) ([]time.Time, error) {
	var ticks []dbTime
	err := s.db.SelectContext(ctx, &ticks, s.db.Rebind(`SELECT tick FROM job_runs WHERE job = ?
		AND ((status = 'failed' AND attempts < ?) OR (status = 'claimed' AND lease_until < ?)) ORDER BY tick`),
		job, MaxRunAttempts, dbTimeValue(time.Now()))
	if err != nil {
		return nil, s.wrap("failed runs "+job, err)
	}
	out := make([]time.Time, len(ticks))
	for i, t := range ticks {
		out[i] = t.Time
	}
	return out, nil
}

// LastRun returns the latest tick of job with the given status (any status
// when status is ""). The error wraps catalog.ErrNotFound when there is none.
func (s *Store) LastRun(ctx context.Context, job string, status string) (time.Time, error) {
	q, args := "SELECT tick FROM job_runs WHERE job = ?", []any{job}
	if status != "" {
		q, args = q+" AND status = ?", append(args, status)
	}
	var t dbTime
	if err := s.db.GetContext(ctx, &t, s.db.Rebind(q+" ORDER BY tick DESC LIMIT 1"), args...); err != nil {
		return time.Time{}, s.wrap("last run "+job, err)
	}
	return t.Time, nil
}

// RecordLaunch records a template launch under the idempotency key and
// reports whether it is the first with that key; a repeated submission
// (a double click, a retried delivery) gets false and must not launch again.
func (s *Store) RecordLaunch(ctx context.Context, key, user, platform, template, valuesJSON string) (first bool, err error) {
	now := dbTimeValue(time.Now())
	if valuesJSON == "" {
		valuesJSON = "{}"
	}
	r, err := s.db.ExecContext(ctx, s.db.Rebind(`INSERT INTO template_launches
		(key, user_id, platform, template, values_json, status, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, 'pending', ?, ?) ON CONFLICT (key) DO NOTHING`),
		key, user, platform, template, valuesJSON, now, now)
	return s.won("record launch", r, err)
}

// FinishLaunch stores the outcome of the launch recorded under key. The
// error wraps catalog.ErrNotFound when no launch has that key.
func (s *Store) FinishLaunch(ctx context.Context, key, taskID, status, detail string) error {
	r, err := s.db.ExecContext(ctx, s.db.Rebind("UPDATE template_launches SET task_id = ?, status = ?, detail = ?, updated_at = ? WHERE key = ?"),
		taskID, status, detail, dbTimeValue(time.Now()), key)
	if ok, err := s.won("finish launch", r, err); err != nil || ok {
		return err
	}
	return s.wrap("finish launch", sql.ErrNoRows)
}

// won reports whether a single-row statement changed its row.
func (s *Store) won(op string, r sql.Result, err error) (bool, error) {
	if err != nil {
		return false, s.wrap(op, err)
	}
	n, err := r.RowsAffected()
	if err != nil {
		return false, s.wrap(op, err)
	}
	return n > 0, nil
}

// Housekeeping of the coordination tables. job_runs gains a row per job
// per tick (a sync every 5 minutes per source is 2,016 rows a week each).
const (
	// RunRetention is how long finished runs are kept: far longer than
	// any tick stays claimable (the scheduler claims the current tick and
	// retries recent failures), so pruning never lets a tick run twice.
	RunRetention = 7 * 24 * time.Hour
	// PruneEvery is how often ClaimRun prunes, per process.
	PruneEvery = time.Hour
)

// PruneRuns deletes job runs finished (succeeded, or failed: a failure
// that old is no longer retried) more than olderThan ago, claims whose
// lease ended more than olderThan ago (their claimant died), and expired
// once keys and leases. It returns the number of job runs deleted. Runs
// still claimed under a live lease, and failed runs younger than
// olderThan, are kept.
func (s *Store) PruneRuns(ctx context.Context, olderThan time.Duration) (int64, error) {
	now := time.Now()
	cutoff := dbTimeValue(now.Add(-olderThan))
	r, err := s.db.ExecContext(ctx, s.db.Rebind(`DELETE FROM job_runs
		WHERE (status IN ('succeeded', 'failed') AND updated_at < ?) OR (status = 'claimed' AND lease_until < ?)`),
		cutoff, cutoff)
	if err != nil {
		return 0, s.wrap("prune runs", err)
	}
	n, err := r.RowsAffected()
	if err != nil {
		return 0, s.wrap("prune runs", err)
	}
	// An expired key or lease is as good as none to Once and TryLease,
	// which overwrite it, so deleting it changes no decision.
	for _, table := range []string{"once_keys", "leases"} {
		if _, err := s.db.ExecContext(ctx, s.db.Rebind("DELETE FROM "+table+" WHERE expires_at < ?"), dbTimeValue(now)); err != nil {
			return n, s.wrap("prune "+table, err)
		}
	}
	return n, nil
}
