package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/portalbot/portalbot/catalog/ingest"
)

// Sync leases: each source's scheduled sync runs under the lease
// "sync:<source>", so that with several replicas on one database exactly one
// syncs a source at a time. The lease is renewed every syncLeaseTTL/3 while
// the sync runs; a replica that dies mid-sync leaves the previous state
// (ApplySync is one transaction) and its lease expires after syncLeaseTTL.
const (
	syncLeaseTTL = 2 * time.Minute
	// syncGrace bounds how long shutdown waits for a sync under way.
	syncGrace = 30 * time.Second
)

// leaser is the part of the store that coordinates replicas.
type leaser interface {
	TryLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, name, holder string) error
}

// syncJob syncs one source under its lease.
type syncJob struct {
	src     ingest.Source
	sync    func(ctx context.Context, src ingest.Source) (ingest.Result, error)
	leases  leaser
	holder  string
	ttl     time.Duration
	timeout time.Duration
	logger  *slog.Logger
	metrics *Metrics // may be nil
	// claims, when set, makes each scheduled tick of spec run once across
	// replicas (job_runs "sync:<source>"), not merely one at a time: a
	// replica whose timer fires after another finished the tick skips it.
	claims runClaimer
	spec   string
}

// runClaimer is the part of the store that hands out scheduled ticks.
type runClaimer interface {
	ClaimRun(ctx context.Context, job string, tick time.Time, holder string, lease time.Duration) (bool, error)
	FinishRun(ctx context.Context, job string, tick time.Time, runErr error) error
}

// run syncs the source if this process gets the lease. It reports whether
// it ran; a lease held by another replica is not an error.
func (j *syncJob) run(ctx context.Context) (bool, error) {
	name := j.src.SourceName()
	lease := "sync:" + name
	ok, err := j.leases.TryLease(ctx, lease, j.holder, j.ttl)
	if err != nil {
		return false, fmt.Errorf("sync %s: lease: %w", name, err)
	}
	if !ok {
		j.logger.DebugContext(ctx, "sync skipped: another replica holds the lease", "source", name)
		return false, nil
	}
	ctx, cancel := context.WithTimeout(ctx, j.timeout)
	defer cancel()
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		t := time.NewTicker(j.ttl / 3)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				ok, err := j.leases.TryLease(ctx, lease, j.holder, j.ttl)
				if err != nil || !ok {
					// Without the lease another replica may start: stop, and
					// let the transaction roll back.
					j.logger.WarnContext(ctx, "sync lease lost; stopping", "source", name, "err", err)
					cancel()
					return
				}
			}
		}
	}()
	start := time.Now()
	res, err := j.sync(ctx, j.src)
	cancel()
	<-renewed
	// Release even when ctx is cancelled (shutdown): otherwise the next
	// replica waits for the lease to expire.
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer rcancel()
	if rerr := j.leases.ReleaseLease(rctx, lease, j.holder); rerr != nil {
		j.logger.WarnContext(ctx, "release sync lease", "source", name, "err", rerr)
	}
	if j.metrics != nil {
		outcome := "ok"
		switch {
		case err != nil:
			outcome = "error"
		case res.NoOp:
			outcome = "noop"
		}
		j.metrics.SyncRuns.WithLabelValues(name, outcome).Inc()
		j.metrics.SyncDuration.WithLabelValues(name).Observe(time.Since(start).Seconds())
		if err == nil {
			j.metrics.SyncErrors.WithLabelValues(name).Set(float64(len(res.Errors)))
			for k, n := range res.Counts {
				j.metrics.SyncEntities.WithLabelValues(k).Set(float64(n))
			}
		}
	}
	return true, err
}

// runLogged is run for the scheduler: errors stop here, logged once.
func (j *syncJob) runLogged(ctx context.Context) {
	if err := j.runScheduled(ctx); err != nil && ctx.Err() == nil {
		j.logger.ErrorContext(ctx, "scheduled sync failed", "source", j.src.SourceName(), "err", err)
	}
}

// runScheduled runs the tick firing now, once across replicas when
// j.claims is set: it claims the tick, syncs under the lease and records
// the outcome, so a failed tick may be claimed again.
func (j *syncJob) runScheduled(ctx context.Context) error {
	if j.claims == nil {
		_, err := j.run(ctx)
		return err
	}
	name := j.src.SourceName()
	job, tick := "sync:"+name, scheduleTick(j.spec, time.Now())
	ok, err := j.claims.ClaimRun(ctx, job, tick, j.holder, j.ttl)
	if err != nil {
		return fmt.Errorf("sync %s: claim tick: %w", name, err)
	}
	if !ok {
		j.logger.DebugContext(ctx, "sync tick done by another replica", "source", name, "tick", tick)
		return nil
	}
	ran, err := j.run(ctx)
	if !ran && err == nil {
		// Another replica holds the lease, syncing an earlier tick late:
		// this tick is not done, so let a later attempt take it.
		err = errors.New("lease held by another replica")
	}
	// Record even when ctx has ended, or the claim sits until it expires.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if ferr := j.claims.FinishRun(fctx, job, tick, err); ferr != nil {
		j.logger.WarnContext(ctx, "record sync tick", "source", name, "tick", tick, "err", ferr)
	}
	if !ran && err != nil && ctx.Err() == nil {
		j.logger.InfoContext(ctx, "sync tick skipped", "source", name, "tick", tick, "reason", err.Error())
		return nil
	}
	return err
}

// syncParts builds serve's sync part: every configured source is synced
// once at start and then on its cron schedule (the source's own, else
// sync.schedule), under a lease so that replicas never sync a source at
// the same time. It registers no routes.
func syncParts(ctx context.Context, a *App) ([]Part, error) {
	if len(a.Config.Sources) == 0 {
		return nil, nil
	}
	logger := a.Logger.With("component", "bot/sync")
	env := a.Env
	if env == nil {
		env = &Env{}
	}
	syncer := a.Syncer
	if syncer == nil {
		opts := a.Config.ingestOptions(env)
		opts.Logger = a.Logger
		syncer = ingest.New(a.Store, opts)
	}
	timeout := a.Config.Sync.Timeout
	if timeout <= 0 {
		timeout = 10 * time.Minute
	}
	holder := a.Holder
	if holder == "" {
		host, _ := os.Hostname() // empty on error; the pid still tells processes apart
		holder = fmt.Sprintf("%s-%d", host, os.Getpid())
	}
	cl := cronLogger{logger}
	c := cron.New(cron.WithLocation(time.UTC), cron.WithChain(cron.Recover(cl), cron.SkipIfStillRunning(cl)))
	var jobs []*syncJob
	for i, sj := range a.Config.sourceJobs(syncer, newPortalSyncer(a.Store, env, a.Logger)) {
		j := &syncJob{src: sj.src, sync: sj.sync, leases: a.Store, holder: holder, ttl: syncLeaseTTL,
			timeout: timeout, logger: logger, metrics: a.Metrics, claims: a.Store}
		spec := a.Config.Sources[i].Schedule
		if spec == "" {
			spec = a.Config.Sync.Schedule
		}
		j.spec = spec
		if _, err := c.AddFunc(spec, func() { j.runLogged(ctx) }); err != nil {
			return nil, fmt.Errorf("sync: sources[%d].schedule: %w", i, err)
		}
		jobs = append(jobs, j)
	}
	run := func(ctx context.Context) error {
		for _, j := range jobs {
			j.runLogged(ctx)
		}
		c.Start()
		logger.InfoContext(ctx, "sync scheduler started", "sources", len(jobs))
		<-ctx.Done()
		select {
		case <-c.Stop().Done():
		case <-time.After(syncGrace):
			logger.Warn("sync scheduler stop timed out", "grace", syncGrace)
		}
		return nil
	}
	return []Part{run}, nil
}
