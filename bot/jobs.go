package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/portalbot/portalbot/lease"
)

// Serve's scheduled work: scheduled syncs and drift reports are jobs,
// registered as data with the one runner below (one robfig/cron scheduler).
// A job runs once per tick across the replicas on one database by claiming
// the tick's run in job_runs (claimedRun), renewing the claim while it
// works (lease.Keep) and recording the outcome there.

// Job is one scheduled job.
type Job struct {
	// Name identifies the job in logs; unique within a runner.
	Name string
	// Spec is a cron spec (cronParser, CRON_TZ= allowed).
	Spec        string
	Description string
	// Timeout bounds one run.
	Timeout time.Duration
	// AtStart runs the job once when the runner starts; its schedule
	// begins when that run ends.
	AtStart bool
	// Overlap lets a tick start while the previous run goes on; without
	// it such a tick is skipped on this replica.
	Overlap bool
	// Run does the work of the run at tick (scheduleTick), the same on
	// every replica. Its error is logged once, by the runner.
	Run func(ctx context.Context, tick time.Time) error
}

// runner runs jobs on one cron scheduler, in UTC unless a spec names a
// zone.
type runner struct {
	jobs   []Job
	scheds []cron.Schedule
	logger *slog.Logger
	// grace bounds how long shutdown waits for runs under way.
	grace time.Duration
}

// jobsGrace bounds how long shutdown waits for a sync or report under way.
const jobsGrace = 30 * time.Second

func newRunner(logger *slog.Logger) *runner {
	return &runner{logger: logger, grace: jobsGrace}
}

// add registers j. A spec that does not parse, a missing timeout or a name
// taken fails.
func (r *runner) add(j Job) error {
	for _, o := range r.jobs {
		if o.Name == j.Name {
			return fmt.Errorf("job %s: registered twice", j.Name)
		}
	}
	if j.Timeout <= 0 || j.Run == nil {
		return fmt.Errorf("job %s: needs a timeout and a func", j.Name)
	}
	s, err := cronParser.Parse(j.Spec)
	if err != nil {
		return fmt.Errorf("job %s: %w", j.Name, err)
	}
	r.jobs = append(r.jobs, j)
	r.scheds = append(r.scheds, s)
	return nil
}

// run starts the jobs and returns when ctx ends and the runs under way
// have ended, or after the grace period.
func (r *runner) run(ctx context.Context) error {
	cl := cronLogger{r.logger}
	c := cron.New(cron.WithLocation(time.UTC), cron.WithLogger(cl), cron.WithChain(cron.Recover(cl)))
	var starts sync.WaitGroup
	for i, j := range r.jobs {
		r.logger.DebugContext(ctx, "job scheduled", "job", j.Name, "spec", j.Spec, "description", j.Description, "at_start", j.AtStart)
		job := cron.Job(cron.FuncJob(func() { r.fire(ctx, j) }))
		if !j.Overlap {
			job = cron.NewChain(cron.SkipIfStillRunning(cl)).Then(job)
		}
		if !j.AtStart {
			c.Schedule(r.scheds[i], job)
			continue
		}
		starts.Go(func() {
			r.fire(ctx, j)
			if ctx.Err() == nil {
				c.Schedule(r.scheds[i], job)
			}
		})
	}
	c.Start()
	r.logger.InfoContext(ctx, "job runner started", "jobs", len(r.jobs))
	<-ctx.Done()
	done := make(chan struct{})
	go func() {
		starts.Wait()
		<-c.Stop().Done()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(r.grace):
		r.logger.Warn("job runner stop timed out", "grace_s", r.grace.Seconds())
	}
	return nil
}

// fire runs j for the tick that fires now, under j's timeout, and logs a
// failure: the one place a failed run is logged.
func (r *runner) fire(ctx context.Context, j Job) {
	tick := scheduleTick(j.Spec, time.Now())
	ctx, cancel := context.WithTimeout(ctx, j.Timeout)
	defer cancel()
	start := time.Now()
	if err := j.Run(ctx, tick); err != nil {
		r.logger.ErrorContext(ctx, "job failed", "job", j.Name, "tick", tick, "took_s", time.Since(start).Seconds(), "err", err)
		return
	}
	r.logger.DebugContext(ctx, "job done", "job", j.Name, "tick", tick, "took_s", time.Since(start).Seconds())
}

// cronLogger adapts a *slog.Logger to cron.Logger.
type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) { c.l.Debug("cron: "+msg, kv...) }
func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error("cron: "+msg, append(kv, "err", err)...)
}

// runRecorder is the part of the store that keeps and records claimed
// runs (job_runs).
type runRecorder interface {
	// RenewRun extends holder's claim; false means holder lost it.
	RenewRun(ctx context.Context, job string, tick time.Time, holder string, lease time.Duration) (bool, error)
	// ReleaseRun gives an unfinished claim back, for another to take now.
	ReleaseRun(ctx context.Context, job string, tick time.Time, holder string) error
	// FinishRun records the outcome of a claimed run.
	FinishRun(ctx context.Context, job string, tick time.Time, runErr error) error
}

// claimedRun is this replica's claim on job's runs at ticks: one tick for
// a source's sync, a report's tick and the failed ones it retries. It is
// renewed while the work goes on, then recorded or handed back.
type claimedRun struct {
	store  runRecorder
	job    string
	ticks  []time.Time
	holder string
	ttl    time.Duration
}

// renew extends every claim; false when one is lost.
func (c *claimedRun) renew(ctx context.Context) (bool, error) {
	for _, tk := range c.ticks {
		if ok, err := c.store.RenewRun(ctx, c.job, tk, c.holder, c.ttl); err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

// hold runs work while renew keeps the claims (every ttl/3). When a
// renewal fails, work's context is cancelled and hold's error, if work
// failed, wraps lease.ErrLost: another replica may have taken over.
func hold(ctx context.Context, ttl time.Duration, renew lease.Renew, work func(ctx context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var lost error
	renewed := make(chan struct{})
	go func() {
		defer close(renewed)
		if lost = lease.Keep(ctx, ttl/3, renew, nil); lost != nil {
			cancel()
		}
	}()
	err := work(ctx)
	cancel()
	<-renewed
	if err != nil && lost != nil {
		// Work that ended well despite a lost claim stands: it is done.
		return errors.Join(lost, err)
	}
	return err
}

// recordTimeout bounds recording a run's outcome, which is done on a
// context that outlives the run's: otherwise the claim would sit until its
// lease runs out.
const recordTimeout = 10 * time.Second

// finish records runErr as the outcome of every claimed tick.
func (c *claimedRun) finish(ctx context.Context, runErr error) error {
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	var errs []error
	for _, tk := range c.ticks {
		if err := c.store.FinishRun(fctx, c.job, tk, runErr); err != nil {
			errs = append(errs, fmt.Errorf("finish %s at %s: %w", c.job, tk.Format(time.RFC3339), err))
		}
	}
	return errors.Join(errs...)
}

// release hands the unfinished claims back, for another replica to take
// at once (shutdown mid-run).
func (c *claimedRun) release(ctx context.Context) error {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recordTimeout)
	defer cancel()
	var errs []error
	for _, tk := range c.ticks {
		if err := c.store.ReleaseRun(rctx, c.job, tk, c.holder); err != nil {
			errs = append(errs, fmt.Errorf("release %s at %s: %w", c.job, tk.Format(time.RFC3339), err))
		}
	}
	return errors.Join(errs...)
}

// jobParts builds serve's scheduled work, scheduled syncs and drift
// reports, as one part: one runner. It registers no routes.
func jobParts(_ context.Context, a *App) ([]Part, error) {
	syncs, err := syncJobs(a)
	if err != nil {
		return nil, err
	}
	reports, err := reportJobs(a)
	if err != nil {
		return nil, err
	}
	if len(syncs)+len(reports) == 0 {
		return nil, nil
	}
	logger := a.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	r := newRunner(logger.With("component", "bot/jobs"))
	for _, j := range append(syncs, reports...) {
		if err := r.add(j); err != nil {
			return nil, err
		}
	}
	return []Part{r.run}, nil
}
