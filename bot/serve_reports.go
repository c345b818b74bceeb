package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/drift"
	"github.com/portalbot/portalbot/catalog/ingest"
	"github.com/portalbot/portalbot/catalog/sqlstore"
	"github.com/portalbot/portalbot/commands"
)

// reportLease bounds how long a replica's claim on a report tick holds
// before another replica may take the tick over; computing and posting a
// report takes seconds.
const reportLease = 10 * time.Minute

// reportJobs returns serve's scheduled drift reports: one job per
// configured target and one for team digests.
func reportJobs(a *App) ([]Job, error) {
	rc := a.Config.Reports
	if len(rc.Targets) == 0 && rc.TeamDigests == nil {
		return nil, nil
	}
	rp := newReporter(a)
	var jobs []Job
	for _, t := range rc.Targets {
		if err := targetFilter(t).Validate(rp.rules); err != nil {
			return nil, fmt.Errorf("reports: target %s: %w", targetJob(t), err)
		}
		jobs = append(jobs, Job{
			Name: targetJob(t), Spec: cronSpec(t.Schedule, t.Timezone),
			Description: fmt.Sprintf("drift report to %s %s", t.Platform, t.Channel),
			Timeout:     reportLease,
			Run: func(ctx context.Context, tick time.Time) error {
				_, err := rp.runTarget(ctx, t, tick)
				return err
			},
		})
	}
	if d := rc.TeamDigests; d != nil {
		jobs = append(jobs, Job{
			Name: "digests", Spec: cronSpec(d.Schedule, d.Timezone),
			Description: "drift digests to each team's " + d.Platform + " channel",
			Timeout:     reportLease,
			Run: func(ctx context.Context, tick time.Time) error {
				_, err := rp.runDigests(ctx, *d, tick)
				return err
			},
		})
	}
	return jobs, nil
}

// cronSpec prefixes spec with CRON_TZ= when a timezone is configured;
// robfig/cron's standard parser reads it and schedules in that zone.
func cronSpec(spec, tz string) string {
	if tz == "" {
		return spec
	}
	return "CRON_TZ=" + tz + " " + spec
}

// runStore is what reports need from the store: the catalog for the
// snapshot, and job-run bookkeeping so several replicas post each tick once.
type runStore interface {
	drift.GenerationReader
	// ClaimRun takes (job, tick) for holder until lease ends; false means
	// another holder has it or it already succeeded.
	ClaimRun(ctx context.Context, job string, tick time.Time, holder string, lease time.Duration) (bool, error)
	// RenewRun, ReleaseRun and FinishRun (succeeded when runErr is nil,
	// failed with its message otherwise) keep and record claimed runs.
	runRecorder
	// FailedRuns returns the ticks of job whose last attempt failed.
	FailedRuns(ctx context.Context, job string) ([]time.Time, error)
	// LastRun returns the latest tick of job with status; the error wraps
	// catalog.ErrNotFound when there is none.
	LastRun(ctx context.Context, job, status string) (time.Time, error)
	// RecordReport stores what job's report found (counts, finding keys).
	RecordReport(ctx context.Context, job string, run sqlstore.ReportRun) error
	// ReportRuns returns job's recorded reports after since, oldest first.
	ReportRuns(ctx context.Context, job string, since time.Time) ([]sqlstore.ReportRun, error)
}

// reporter computes drift reports and posts them, once per tick.
type reporter struct {
	store     runStore
	posters   map[string]commands.Poster // by platform; a missing one fails the run
	cfg       ReportsConfig
	portalURL string
	holder    string
	logger    *slog.Logger
	metrics   *Metrics // nil outside serve
	rules     []drift.Rule
	now       func() time.Time
	// cache keeps the catalog part of the snapshot between syncs.
	cache *drift.Cache
}

func newReporter(a *App) *reporter {
	logger := a.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &reporter{
		store:     a.Store,
		posters:   a.Posters,
		cfg:       a.Config.Reports,
		portalURL: a.Config.PortalURL,
		holder:    a.Holder,
		logger:    logger.With("component", "bot/reports"),
		metrics:   a.Metrics,
		rules:     drift.DefaultRules(),
		now:       time.Now,
		cache:     drift.NewCache(a.Store, a.Config.Reports.CodeOwnersMapping).WithActivity(activityOptions(a)),
	}
}

// activityOptions configures activity-owner-mismatch from the config: the
// history of the clones sync keeps in its cache directory.
func activityOptions(a *App) drift.ActivityOptions {
	ac := a.Config.Reports.Activity
	if ac.Disabled || a.Env == nil {
		return drift.ActivityOptions{}
	}
	return drift.ActivityOptions{
		History: ingest.NewHistoryReader(a.Config.cacheDir(a.Env)),
		Days:    ac.Days, MaxCommits: ac.MaxCommits, HalfLife: ac.HalfLife,
		MinShare: ac.MinShare, MinCommits: ac.MinCommits, Aliases: ac.Aliases,
	}
}

// targetJob is the job_runs key of a target: its name, or platform and
// channel when it has none.
func targetJob(t ReportTarget) string {
	if t.Name != "" {
		return "report:" + t.Name
	}
	return "report:" + t.Platform + ":" + t.Channel
}

// targetFilter is the drift filter a target's configuration sets.
func targetFilter(t ReportTarget) drift.Filter {
	return drift.Filter{Teams: t.Teams, Systems: t.Systems, Domains: t.Domains, Rules: t.Rules}
}

// findings loads a snapshot covering owner changes after since and runs
// the rules with f.
func (rp *reporter) findings(ctx context.Context, since time.Time, f drift.Filter) ([]drift.Finding, error) {
	return rp.cache.Run(ctx, since, rp.rules, f)
}

// Findings implements commands.DriftSource.
func (rp *reporter) Findings(ctx context.Context, since time.Time, f drift.Filter) ([]drift.Finding, error) {
	return rp.findings(ctx, since, f)
}

// outcome of one run, for logs and metrics.
const (
	outcomePosted  = "posted"
	outcomeEmpty   = "empty"
	outcomeError   = "error"
	outcomeSkipped = "skipped" // another replica claimed the tick
)

// runTarget posts target's report for tick, exactly once across replicas:
// it claims (job, tick), also claims the job's earlier failed ticks so this
// post retries them, computes the findings since the last successful post,
// posts, and records the outcome on every claimed tick. A failed post stays
// failed in job_runs, with its error, until a later tick's post succeeds.
func (rp *reporter) runTarget(ctx context.Context, t ReportTarget, tick time.Time) (string, error) {
	job := targetJob(t)
	cr, err := rp.claim(ctx, job, tick)
	if cr == nil {
		if err == nil && rp.metrics != nil {
			rp.metrics.ReportRuns.WithLabelValues(job, outcomeSkipped).Inc()
		}
		return outcomeSkipped, err
	}
	if err != nil {
		return outcomeError, rp.finish(ctx, cr, outcomeError, err)
	}
	out := outcomeError
	err = hold(ctx, reportLease, cr.renew, func(ctx context.Context) error {
		var err error
		out, err = rp.postTarget(ctx, t, job, cr.ticks)
		return err
	})
	return out, rp.finish(ctx, cr, out, err)
}

func (rp *reporter) postTarget(ctx context.Context, t ReportTarget, job string, ticks []time.Time) (string, error) {
	since, err := rp.lastSuccess(ctx, job)
	if err != nil {
		return outcomeError, err
	}
	fs, err := rp.findings(ctx, since, targetFilter(t))
	if err != nil {
		return outcomeError, err
	}
	title := "Ownership drift report"
	if t.Name != "" {
		title += ": " + t.Name
	}
	return rp.post(ctx, postParams{platform: t.Platform, channel: t.Channel, title: title, empty: t.Empty, job: job, chart: t.Chart}, fs, since, ticks)
}

// claim claims tick, then the job's failed ticks; it returns the claimed
// run, tick first, or nil when another replica holds tick.
func (rp *reporter) claim(ctx context.Context, job string, tick time.Time) (*claimedRun, error) {
	ok, err := rp.store.ClaimRun(ctx, job, tick, rp.holder, reportLease)
	if err != nil {
		return nil, fmt.Errorf("claim %s at %s: %w", job, tick.Format(time.RFC3339), err)
	}
	if !ok {
		rp.logger.DebugContext(ctx, "report tick claimed elsewhere", "job", job, "tick", tick)
		return nil, nil
	}
	cr := &claimedRun{store: rp.store, job: job, ticks: []time.Time{tick}, holder: rp.holder, ttl: reportLease}
	failed, err := rp.store.FailedRuns(ctx, job)
	if err != nil {
		return cr, fmt.Errorf("failed runs of %s: %w", job, err)
	}
	for _, f := range failed {
		if f.Equal(tick) {
			continue
		}
		ok, err := rp.store.ClaimRun(ctx, job, f, rp.holder, reportLease)
		if err != nil {
			return cr, fmt.Errorf("claim %s retry of %s: %w", job, f.Format(time.RFC3339), err)
		}
		if ok {
			cr.ticks = append(cr.ticks, f)
		}
	}
	return cr, nil
}

// finish records the outcome on every claimed tick and counts it. It
// returns runErr, with any failure to record it.
func (rp *reporter) finish(ctx context.Context, cr *claimedRun, out string, runErr error) error {
	if rp.metrics != nil {
		rp.metrics.ReportRuns.WithLabelValues(cr.job, out).Inc()
	}
	err := cr.finish(ctx, runErr)
	if runErr == nil {
		rp.logger.InfoContext(ctx, "report run finished", "job", cr.job, "tick", cr.ticks[0], "outcome", out, "retried", len(cr.ticks)-1)
	}
	return errors.Join(runErr, err)
}

// lastSuccess returns the tick of job's last successful run: the previous
// report, which owner-changed measures from. Zero when there is none, so a
// first report lists every owner change on record.
func (rp *reporter) lastSuccess(ctx context.Context, job string) (time.Time, error) {
	t, err := rp.store.LastRun(ctx, job, sqlstore.RunSucceeded)
	if errors.Is(err, catalog.ErrNotFound) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("last run of %s: %w", job, err)
	}
	return t, nil
}

// postParams say where and how one report is posted.
type postParams struct {
	platform, channel, title string
	// empty is "oneline" or "skip" (see ReportTarget.Empty).
	empty string
	// job is the job_runs key; its recorded reports give the new/fixed
	// counts and the chart.
	job string
	// chart attaches a PNG of findings per rule over the last weeks.
	chart bool
}

// trendWindow is how far back the chart and the previous report are
// looked up.
const trendWindow = 12 * 7 * 24 * time.Hour

// post sends the summary of findings to the channel, with the whole list
// attached, or the one-liner / nothing for an empty report as p.empty
// says ("oneline" or "skip"). What the report found is recorded for the
// next report's new/fixed counts and for the chart.
func (rp *reporter) post(ctx context.Context, p postParams, fs []drift.Finding, since time.Time, ticks []time.Time) (string, error) {
	runs, err := rp.store.ReportRuns(ctx, p.job, rp.now().Add(-trendWindow))
	if err != nil {
		return outcomeError, fmt.Errorf("post %s: %w", p.job, err)
	}
	if len(fs) == 0 && p.empty != "oneline" {
		return outcomeEmpty, rp.record(ctx, p.job, ticks[0], fs)
	}
	poster := rp.posters[p.platform]
	if poster == nil {
		return outcomeError, fmt.Errorf("post to %s %s: no %s poster (is the %s token set?)", p.platform, p.channel, p.platform, p.platform)
	}
	sp := commands.DriftSummaryParams{Title: p.title, Findings: fs, PortalURL: rp.portalURL, Since: since}
	if n := len(runs); n > 0 {
		sp.Previous, sp.HasPrevious = runs[n-1].Keys, true
		sp.Since = runs[n-1].Tick
	}
	if p.chart && len(fs) > 0 {
		png, err := trendChart(runs, fs, ticks[0])
		if err != nil {
			rp.logger.WarnContext(ctx, "trend chart failed; posting without it", "job", p.job, "err", err)
		} else {
			sp.Chart = &commands.File{Name: "drift-trend.png", Title: "Findings per rule, last weeks", ContentType: "image/png", Data: png}
		}
	}
	rep := commands.DriftSummary(sp)
	if len(fs) > 0 {
		if since.IsZero() {
			rep.Text += " Owner changes: all on record."
		} else {
			rep.Text += " Owner changes since the last report, " + since.UTC().Format("2006-01-02 15:04 MST") + "."
		}
	}
	if len(ticks) > 1 {
		rep.Text += fmt.Sprintf(" (This also delivers %d earlier report(s) that failed to post.)", len(ticks)-1)
	}
	if _, err := poster.Post(ctx, p.channel, "", rep); err != nil {
		return outcomeError, fmt.Errorf("post to %s %s: %w", p.platform, p.channel, err)
	}
	if err := rp.record(ctx, p.job, ticks[0], fs); err != nil {
		// Posted: a retry would post twice. The next report counts new
		// and fixed findings from the previous record instead.
		rp.logger.WarnContext(ctx, "report posted but not recorded", "job", p.job, "err", err)
	}
	if len(fs) == 0 {
		return outcomeEmpty, nil
	}
	return outcomePosted, nil
}

// record stores what job's report at tick found.
func (rp *reporter) record(ctx context.Context, job string, tick time.Time, fs []drift.Finding) error {
	run := sqlstore.ReportRun{Tick: tick, Counts: map[string]int{}, Keys: make([]string, len(fs))}
	for i, f := range fs {
		run.Counts[f.Drift]++
		run.Keys[i] = f.Key()
	}
	if err := rp.store.RecordReport(ctx, job, run); err != nil {
		return fmt.Errorf("record report %s: %w", job, err)
	}
	return nil
}

// Group annotations naming a team's own channel for digests, by platform.
const (
	AnnotationSlackChannel   = "portalbot.io/slack-channel"
	AnnotationDiscordChannel = "portalbot.io/discord-channel"
)

// digestChannels returns each team's digest channel: the configured one
// (team_digests.channels, keyed by group ref) or else the Group's
// portalbot.io/<platform>-channel annotation. Teams with neither get none.
func digestChannels(d TeamDigestConfig, groups []*catalog.Entity) (map[string]string, error) {
	out := map[string]string{}
	key := AnnotationSlackChannel
	if d.Platform == "discord" {
		key = AnnotationDiscordChannel
	}
	for _, g := range groups {
		if ch := g.Metadata.Annotations[key]; ch != "" {
			out[g.Ref().String()] = ch
		}
	}
	for k, ch := range d.Channels {
		ref, err := catalog.ParseRef(k, catalog.KindGroup, "")
		if err != nil {
			return nil, fmt.Errorf("team_digests.channels: %w", err)
		}
		out[ref.String()] = ch
	}
	return out, nil
}

// runDigests posts each team with a channel its own findings for tick,
// each team exactly once (job "digest:<group ref>", claimed like a target).
// It returns the number of teams that got a message.
func (rp *reporter) runDigests(ctx context.Context, d TeamDigestConfig, tick time.Time) (int, error) {
	groups, err := rp.store.Entities(ctx, catalog.Query{Kind: catalog.KindGroup})
	if err != nil {
		return 0, fmt.Errorf("digests: groups: %w", err)
	}
	channels, err := digestChannels(d, groups)
	if err != nil || len(channels) == 0 {
		return 0, err
	}
	type claimed struct {
		team, channel string
		run           *claimedRun
		since         time.Time
	}
	var todo []claimed
	var errs []error
	var oldest time.Time
	for team, ch := range channels {
		job := "digest:" + team
		cr, err := rp.claim(ctx, job, tick)
		if err == nil && cr != nil {
			var since time.Time
			since, err = rp.lastSuccess(ctx, job)
			if err == nil {
				if len(todo) == 0 || since.Before(oldest) {
					oldest = since
				}
				todo = append(todo, claimed{team, ch, cr, since})
				continue
			}
		}
		if cr != nil {
			err = rp.finish(ctx, cr, outcomeError, err)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	if len(todo) == 0 {
		return 0, errors.Join(errs...)
	}
	all, ferr := rp.findings(ctx, oldest, drift.Filter{})
	posted := 0
	for _, c := range todo {
		out, err := outcomeError, ferr
		if ferr == nil {
			err = hold(ctx, reportLease, c.run.renew, func(ctx context.Context) error {
				var err error
				out, err = rp.post(ctx, postParams{platform: d.Platform, channel: c.channel, title: "Ownership drift digest for " + c.team, empty: d.Empty, job: c.run.job, chart: d.Chart}, teamFindings(all, c.team, c.since), c.since, c.run.ticks)
				return err
			})
		}
		if out == outcomePosted || (out == outcomeEmpty && d.Empty == "oneline" && err == nil) {
			posted++
		}
		if err := rp.finish(ctx, c.run, out, err); err != nil {
			errs = append(errs, err)
		}
	}
	return posted, errors.Join(errs...)
}

// teamFindings keeps team's findings, dropping owner changes that its
// previous digest (at since) already reported.
func teamFindings(all []drift.Finding, team string, since time.Time) []drift.Finding {
	var out []drift.Finding
	for _, f := range all {
		if f.Owner != team {
			continue
		}
		if f.Drift == drift.RuleOwnerChanged && f.ChangedAt != nil && !f.ChangedAt.After(since) {
			continue
		}
		out = append(out, f)
	}
	return out
}

// newDriftSource returns the commands.DriftSource behind "drift [team]":
// the rules over a's store, with the configured CODEOWNERS mapping.
func newDriftSource(a *App) commands.DriftSource {
	return newReporter(a)
}
