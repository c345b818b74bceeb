package bot

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"github.com/portalbot/portalbot/lease"
)

// lockedBuffer collects log lines written from the runner's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// runOnce runs jobs on a runner until every one has run once at start,
// and returns the runner's logs.
func runOnce(t *testing.T, jobs ...Job) string {
	t.Helper()
	var logs lockedBuffer
	r := newRunner(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	var ran sync.WaitGroup
	for _, j := range jobs {
		run := j.Run
		ran.Add(1)
		j.Run = func(ctx context.Context, tick time.Time) error {
			defer ran.Done()
			return run(ctx, tick)
		}
		if err := r.add(j); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- r.run(ctx) }()
	ran.Wait()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("runner.run = %v", err)
	}
	return logs.String()
}

func TestRunnerLogsAFailedRunOnce(t *testing.T) {
	errBoom := errors.New("boom at the source")
	logs := runOnce(t,
		Job{Name: "fails", Spec: "@every 1h", Timeout: time.Minute, AtStart: true,
			Run: func(context.Context, time.Time) error { return errBoom }},
		Job{Name: "works", Spec: "@every 1h", Timeout: time.Minute, AtStart: true,
			Run: func(context.Context, time.Time) error { return nil }})
	if n := strings.Count(logs, errBoom.Error()); n != 1 {
		t.Errorf("the failed run's error is logged %d times, want once:\n%s", n, logs)
	}
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, `"level":"ERROR"`) && !strings.Contains(l, `"job":"fails"`) {
			t.Errorf("error logged for another job than the failed one: %s", l)
		}
	}
}

func TestRunnerTimesOutARun(t *testing.T) {
	var got error
	runOnce(t, Job{Name: "hangs", Spec: "@every 1h", Timeout: 20 * time.Millisecond, AtStart: true,
		Run: func(ctx context.Context, _ time.Time) error {
			<-ctx.Done()
			got = ctx.Err()
			return got
		}})
	if !errors.Is(got, context.DeadlineExceeded) {
		t.Errorf("a run past its timeout ends with %v, want %v", got, context.DeadlineExceeded)
	}
}

func TestRunnerAddRejects(t *testing.T) {
	ok := func(context.Context, time.Time) error { return nil }
	for _, tt := range []struct {
		job  Job
		want string
	}{
		{Job{Name: "a", Spec: "@every 1h", Timeout: time.Minute, Run: ok}, "registered twice"},
		{Job{Name: "b", Spec: "every hour", Timeout: time.Minute, Run: ok}, "job b"},
		{Job{Name: "c", Spec: "@every 1h", Run: ok}, "timeout"},
		{Job{Name: "d", Spec: "@every 1h", Timeout: time.Minute}, "func"},
	} {
		r := newRunner(slog.New(slog.DiscardHandler))
		if err := r.add(Job{Name: "a", Spec: "@every 1h", Timeout: time.Minute, Run: ok}); err != nil {
			t.Fatal(err)
		}
		if err := r.add(tt.job); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("add(%q) = %v, want an error with %q", tt.job.Name, err, tt.want)
		}
	}
}

// TestHoldClaim runs work under a job_runs claim on both dialects: the
// renewals keep it past its ttl, and work stops when it is lost.
func TestHoldClaim(t *testing.T) {
	for name, open := range sqlstoretest.Stores() {
		t.Run(name, func(t *testing.T) {
			st := open(t)
			ctx := context.Background()
			tick := time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC)
			const ttl = 300 * time.Millisecond
			if ok, err := st.ClaimOnce(ctx, "job", tick, "a", ttl); err != nil || !ok {
				t.Fatalf("ClaimOnce = %v, %v", ok, err)
			}
			cr := &claimedRun{store: st, job: "job", ticks: []time.Time{tick}, holder: "a", ttl: ttl}
			err := hold(ctx, ttl, cr.renew, func(ctx context.Context) error {
				// For three ttls, another holder never gets the claim.
				for end := time.Now().Add(3 * ttl); time.Now().Before(end); {
					if ok, err := st.ClaimOnce(ctx, "job", tick, "b", ttl); err != nil || ok {
						return errors.New("claim taken over while held")
					}
					time.Sleep(ttl / 10)
				}
				return nil
			})
			if err != nil {
				t.Fatalf("hold while renewed = %v, want nil", err)
			}
			// The claim handed back (as another holder finishing it would):
			// the next renewal fails, and work is stopped.
			err = hold(ctx, ttl, cr.renew, func(ctx context.Context) error {
				if err := cr.release(ctx); err != nil {
					return err
				}
				<-ctx.Done()
				return ctx.Err()
			})
			if !errors.Is(err, lease.ErrLost) {
				t.Errorf("hold after the claim went = %v, want it to wrap %v", err, lease.ErrLost)
			}
		})
	}
}
