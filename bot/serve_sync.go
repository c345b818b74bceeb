package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/ingest"
	"github.com/portalbot/portalbot/lease"
)

// Scheduled syncs, shared by the replicas on one database.
//
// The sources with one schedule are one job of the runner (jobs.go). At each tick every
// replica offers them to its workers (sync.workers, a fixed pool), in an
// order of its own; a worker claims a source's run of the tick (job_runs
// "sync:<source>", ClaimOnce) and syncs it. So N replicas sync different
// sources at the same time, and each source once per tick. When nothing is
// left to claim but other replicas still hold runs of the tick, a replica
// looks again every syncPoll: a claim is renewed every syncLeaseTTL/3 while
// its sync runs, so the claim of a replica that died is taken over within
// syncClaimTTL plus syncPoll. One that shuts down gives its claims back at
// once (ReleaseRun). A sync also runs under the lease "sync:<source>", so
// that a source is never synced twice at once, even by a late sync of an
// earlier tick; a replica that dies mid-sync leaves the previous state
// (a sync is one transaction).
const (
	syncLeaseTTL = 2 * time.Minute
	// syncClaimTTL outlives the lease by a quarter: both are taken and
	// renewed together, the claim first, so a claim that ran out (its
	// holder died) never finds its source's lease still held, which would
	// fail the tick it took over.
	syncClaimTTL = syncLeaseTTL + syncLeaseTTL/4
	syncPoll     = syncLeaseTTL / 8
)

// errLeaseLost means a sync stopped because its lease or claim could not
// be renewed: another replica may have taken the source over.
var errLeaseLost = errors.New("sync lease lost")

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
	// changed, when not nil, is called after a sync that changed the
	// catalog: serve makes its read model look at the store at once
	// rather than at its next periodic check, so that a change is in the
	// answers as soon as it is committed.
	changed func()
	// busy is set while this process syncs the source for a tick, so that
	// the next tick, when it fires meanwhile, leaves the source alone.
	busy atomic.Bool
}

// run syncs the source if this process gets the lease. It reports whether
// it ran; a lease held by another replica is not an error. renew, when not
// nil, is called with the lease's renewal, every ttl/3: when it fails or
// returns false, the sync stops as when the lease is lost, with an error
// wrapping errLeaseLost.
func (j *syncJob) run(ctx context.Context, renew func(context.Context) (bool, error)) (bool, error) {
	name := j.src.SourceName()
	leaseName := "sync:" + name
	// The timeout covers taking the lease too: on a hung database that
	// would otherwise wait forever, and the worker with it.
	ctx, cancel := context.WithTimeout(ctx, j.timeout)
	defer cancel()
	ok, err := j.leases.TryLease(ctx, leaseName, j.holder, j.ttl)
	if err != nil {
		return false, fmt.Errorf("sync %s: lease: %w", name, err)
	}
	if !ok {
		j.logger.DebugContext(ctx, "sync skipped: another replica holds the lease", "source", name)
		return false, nil
	}
	start := time.Now()
	var res ingest.Result
	err = hold(ctx, j.ttl, func(ctx context.Context) (bool, error) {
		// The claim first: a process that dies between the two renewals
		// leaves a claim that outlives the lease, so whoever takes the
		// claim over finds the lease free.
		if renew != nil {
			if ok, err := renew(ctx); err != nil || !ok {
				return ok, err
			}
		}
		return j.leases.TryLease(ctx, leaseName, j.holder, j.ttl)
	}, func(ctx context.Context) error {
		var err error
		res, err = j.sync(ctx, j.src)
		return err
	})
	cancel()
	if errors.Is(err, lease.ErrLost) {
		// Without the lease another replica may start: the sync stopped,
		// and its transaction rolled back.
		j.logger.WarnContext(ctx, "sync lease lost; stopped", "source", name, "err", err)
		err = fmt.Errorf("sync %s: %w: %w", name, errLeaseLost, err)
	}
	// Release even when ctx is cancelled (shutdown): otherwise the next
	// replica waits for the lease to expire.
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer rcancel()
	if rerr := j.leases.ReleaseLease(rctx, leaseName, j.holder); rerr != nil {
		j.logger.WarnContext(ctx, "release sync lease", "source", name, "err", rerr)
	}
	if err == nil && j.changed != nil && res.Added+res.Updated+res.Removed > 0 {
		j.changed()
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

// runClaimer is the part of the store that hands out the runs of a tick.
type runClaimer interface {
	runRecorder
	// ClaimOnce claims (job, tick) for holder until lease ends; false
	// means another holder has it or it finished.
	ClaimOnce(ctx context.Context, job string, tick time.Time, holder string, lease time.Duration) (bool, error)
	// FinishedJobs returns the jobs whose run at tick finished.
	FinishedJobs(ctx context.Context, tick time.Time) ([]string, error)
}

// syncPool is one replica's workers for scheduled syncs.
type syncPool struct {
	claims runClaimer
	holder string
	// lease is how long a claim lives unless renewed; poll how often a
	// replica with nothing to claim looks for claims to take over.
	lease, poll time.Duration
	// slots has one buffer slot per worker; a worker holds one from before
	// it claims a run until its sync ends, so that a replica never claims
	// more than it can sync at once, whatever the number of schedules.
	slots  chan struct{}
	logger *slog.Logger
}

func newSyncPool(claims runClaimer, holder string, workers int, lease, poll time.Duration, logger *slog.Logger) *syncPool {
	return &syncPool{claims: claims, holder: holder, lease: lease, poll: poll,
		slots: make(chan struct{}, max(workers, 1)), logger: logger}
}

// runTick syncs, with the other replicas, the run at tick of every job's
// source. It claims runs until every one has finished (here or on another
// replica), ctx ends, or until; it then returns once its own syncs end,
// with the errors of the syncs that failed here.
func (p *syncPool) runTick(ctx context.Context, jobs []*syncJob, tick, until time.Time) error {
	cctx, cancel := context.WithDeadline(ctx, until)
	defer cancel()
	var errs []error
	for cctx.Err() == nil {
		left, err := p.unfinished(cctx, jobs, tick)
		switch {
		case err != nil:
			if cctx.Err() == nil {
				p.logger.WarnContext(ctx, "sync tick: read finished runs", "tick", tick, "err", err)
			}
		case len(left) == 0:
			return errors.Join(errs...)
		default:
			n, failed := p.pass(ctx, cctx, left, tick)
			errs = append(errs, failed...)
			if n > 0 {
				continue
			}
		}
		// What is left is held by replicas alive a moment ago: wait for
		// them to finish, or for a claim to expire.
		t := time.NewTimer(p.poll)
		select {
		case <-cctx.Done():
			t.Stop()
		case <-t.C:
		}
	}
	return errors.Join(errs...)
}

// unfinished returns the jobs whose run at tick has not finished.
func (p *syncPool) unfinished(ctx context.Context, jobs []*syncJob, tick time.Time) ([]*syncJob, error) {
	finished, err := p.claims.FinishedJobs(ctx, tick)
	if err != nil {
		return nil, err
	}
	done := make(map[string]bool, len(finished))
	for _, f := range finished {
		done[f] = true
	}
	var left []*syncJob
	for _, j := range jobs {
		if !done["sync:"+j.src.SourceName()] {
			left = append(left, j)
		}
	}
	return left, nil
}

// pass offers each job once to the workers, in a random order (replicas
// that all began with the same source would contend for every one), and
// returns how many runs they claimed and the errors of the syncs that
// failed. Claims stop when claimCtx ends; syncs run under ctx.
func (p *syncPool) pass(ctx, claimCtx context.Context, jobs []*syncJob, tick time.Time) (int, []error) {
	next := make(chan *syncJob)
	var (
		claimed atomic.Int64
		wg      sync.WaitGroup
		mu      sync.Mutex
		errs    []error
	)
	for range cap(p.slots) {
		wg.Go(func() {
			for j := range next {
				select {
				case p.slots <- struct{}{}:
				case <-claimCtx.Done():
					continue
				}
				ok, err := p.claimAndSync(ctx, claimCtx, j, tick)
				<-p.slots
				if ok {
					claimed.Add(1)
				}
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
	}
	for _, i := range rand.Perm(len(jobs)) {
		if claimCtx.Err() != nil {
			break
		}
		next <- jobs[i]
	}
	close(next)
	wg.Wait()
	return int(claimed.Load()), errs
}

// claimAndSync syncs j's source if this replica claims its run at tick,
// and records the outcome. It reports whether it claimed the run, and the
// error of a sync that failed, for the runner to log.
func (p *syncPool) claimAndSync(ctx, claimCtx context.Context, j *syncJob, tick time.Time) (bool, error) {
	name := j.src.SourceName()
	job := "sync:" + name
	if !j.busy.CompareAndSwap(false, true) {
		return false, nil
	}
	defer j.busy.Store(false)
	ok, err := p.claims.ClaimOnce(claimCtx, job, tick, p.holder, p.lease)
	if err != nil {
		if claimCtx.Err() == nil {
			p.logger.ErrorContext(ctx, "claim sync tick", "source", name, "tick", tick, "err", err)
		}
		return false, nil
	}
	if !ok {
		p.logger.DebugContext(ctx, "sync tick taken by another replica", "source", name, "tick", tick)
		return false, nil
	}
	cr := &claimedRun{store: p.claims, job: job, ticks: []time.Time{tick}, holder: p.holder, ttl: p.lease}
	ran, err := j.run(ctx, cr.renew)
	// A sync the database did not answer (down, hung, failing over) is
	// tried again within its tick, a poll apart at first and doubling up
	// to a third of the claim's lease (renewed before each try), rather
	// than leaving the source as it was until the next tick: an hour on an
	// hourly schedule.
	for wait := p.poll; errors.Is(err, catalog.ErrUnavailable) && !errors.Is(err, errLeaseLost) && ctx.Err() == nil; wait = min(2*wait, p.lease/3) {
		p.logger.WarnContext(ctx, "sync failed, the database did not answer; retrying", "source", name, "tick", tick,
			"retry_in_s", wait.Seconds(), "err", err)
		t := time.NewTimer(wait)
		select {
		case <-claimCtx.Done():
		case <-t.C:
		}
		t.Stop()
		if claimCtx.Err() != nil {
			break
		}
		// Best effort: a database still down fails this, and the next try.
		_, _ = cr.renew(ctx)
		ran, err = j.run(ctx, cr.renew)
	}
	if !ran && err == nil {
		// Another replica holds the lease, syncing an earlier tick late:
		// this tick is not done, but the next one will be.
		err = errors.New("lease held by another replica")
	}
	switch {
	case err != nil && ctx.Err() != nil:
		// Shutting down mid-sync, which rolled back: hand the run over.
		// First, since shutdown also makes a renewal under way fail as a
		// lost lease; a claim another replica did take is not ours to
		// release, and ReleaseRun leaves it alone.
		if rerr := cr.release(ctx); rerr != nil {
			p.logger.WarnContext(ctx, "release sync tick", "source", name, "tick", tick, "err", rerr)
		}
		return true, nil
	case errors.Is(err, errLeaseLost):
		// The run may be another replica's by now: leave it to it.
		p.logger.WarnContext(ctx, "sync tick given up", "source", name, "tick", tick, "err", err)
		return true, nil
	}
	if ferr := cr.finish(ctx, err); ferr != nil {
		p.logger.WarnContext(ctx, "record sync tick", "source", name, "tick", tick, "err", ferr)
	}
	if err != nil && !ran {
		p.logger.InfoContext(ctx, "sync tick skipped", "source", name, "tick", tick, "reason", err.Error())
		return true, nil
	}
	if err != nil {
		return true, fmt.Errorf("source %s: %w", name, err)
	}
	return true, nil
}

// syncGroup is the sources that share one schedule.
type syncGroup struct {
	spec  string
	sched cron.Schedule
	jobs  []*syncJob
}

// fire runs the group's tick. Claiming stops a little before the next
// tick fires, so that one tick's stragglers never delay the next.
func (g *syncGroup) fire(ctx context.Context, p *syncPool, tick time.Time) error {
	next := g.sched.Next(tick)
	return p.runTick(ctx, g.jobs, tick, next.Add(-next.Sub(tick)/20))
}

// serveIngestOptions are the options of serve's Git syncer: the read
// model looks at the store as soon as a sync committed, not after the
// sync saved its state (the sync job calls catalogChanged again then, for
// syncers that cannot say when they committed).
func (a *App) serveIngestOptions(env *Env) ingest.Options {
	opts := a.Config.ingestOptions(env)
	opts.Logger = a.Logger
	opts.Committed = func(string, catalog.SyncResult) { a.catalogChanged() }
	return opts
}

// syncJobs returns serve's scheduled syncs, one job per schedule: every
// configured source is synced once at start and then on its cron schedule
// (the source's own, else sync.schedule), by sync.workers workers per
// replica that share each tick's sources with the other replicas.
func syncJobs(a *App) ([]Job, error) {
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
		syncer = ingest.New(a.Store, a.serveIngestOptions(env))
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
	pool := newSyncPool(a.Store, holder, a.Config.Sync.workers(a.Store.Dialect()), syncClaimTTL, syncPoll, logger)
	var groups []*syncGroup
	bySpec := map[string]*syncGroup{}
	for i, sj := range a.Config.sourceJobs(syncer, newPortalSyncer(a.Store, env, a.Logger)) {
		spec := a.Config.Sources[i].Schedule
		if spec == "" {
			spec = a.Config.Sync.Schedule
		}
		g := bySpec[spec]
		if g == nil {
			sched, err := cronParser.Parse(spec)
			if err != nil {
				return nil, fmt.Errorf("sync: sources[%d].schedule: %w", i, err)
			}
			g = &syncGroup{spec: spec, sched: sched}
			bySpec[spec] = g
			groups = append(groups, g)
		}
		g.jobs = append(g.jobs, &syncJob{src: sj.src, sync: sj.sync, leases: a.Store, holder: holder, ttl: syncLeaseTTL,
			timeout: timeout, logger: logger, metrics: a.Metrics, changed: a.catalogChanged})
	}
	jobs := make([]Job, len(groups))
	for i, g := range groups {
		// Claiming stops before the next tick and each sync is bounded by
		// sync.timeout: the run's timeout is a backstop past both.
		n := g.sched.Next(time.Now())
		jobs[i] = Job{
			Name: "sync " + g.spec, Spec: g.spec,
			Description: fmt.Sprintf("sync %d source(s) on %q", len(g.jobs), g.spec),
			Timeout:     g.sched.Next(n).Sub(n) + timeout,
			AtStart:     true,
			// A tick whose syncs outlast the period must not cost this
			// replica the next one; the pool's slots bound the work.
			Overlap: true,
			Run:     func(ctx context.Context, tick time.Time) error { return g.fire(ctx, pool, tick) },
		}
	}
	logger.Info("sync scheduled", "sources", len(a.Config.Sources), "schedules", len(groups), "workers", cap(pool.slots))
	return jobs, nil
}
