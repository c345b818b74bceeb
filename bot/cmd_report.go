package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/drift"
	"github.com/portalbot/portalbot/catalog/view"
	"github.com/portalbot/portalbot/commands"
)

const reportSummary = `Computes the ownership-drift report: owners missing from the catalog (unknown-owner),
owner groups with no members (owner-empty-group), CODEOWNERS disagreeing with spec.owner
(codeowners-mismatch), another team doing most of the recent commits (activity-owner-mismatch)
and owner changes (owner-changed). --rules keeps some of them.

With --dry-run the findings are printed and nothing is posted. Owner changes are those after
--since; with --target, the target's filters apply and owner changes are those since the
target's last successful report, exactly what its next post would contain.

Without --dry-run the report is posted to the configured targets (reports.targets, or just
--target), through the same exactly-once bookkeeping as serve's schedule: the run claims the
current minute as the target's tick, so a scheduled post in the same minute does not repeat
it, and it counts as the target's previous report. Posting uses serve's chat setup from the
environment (SLACK_BOT_TOKEN with SLACK_SIGNING_SECRET or SLACK_APP_TOKEN; DISCORD_* for
Discord); the chat connections themselves are not started.`

func runReport(ctx context.Context, env *Env, args []string) int {
	fs := newFlagSet(env, "report", "report [--db URL] [--config FILE] [--dry-run] [--format text|json] [--team GROUP] [--rules LIST] [--target NAME] [--since WHEN]", reportSummary)
	configPath := fs.String("config", env.getenv("PORTALBOT_CONFIG"), "YAML config `file` (env PORTALBOT_CONFIG)")
	db := fs.String("db", "", "database `URL`: postgres://... or sqlite:PATH (env PORTALBOT_DB; default sqlite:portalbot.db)")
	dryRun := fs.Bool("dry-run", false, "print the report; post nothing")
	format := fs.String("format", "text", "output `format`: text or json")
	team := fs.String("team", "", "only findings owned by this `group` (e.g. payments or group:default/payments)")
	rulesFlag := fs.String("rules", "", "only these comma-separated `rules` (e.g. activity-owner-mismatch,unknown-owner)")
	target := fs.String("target", "", "only this configured report target (`name`)")
	sinceFlag := fs.String("since", "", "with --dry-run and no --target, owner changes after `WHEN`: a duration (168h) or a date (2026-01-31 or RFC 3339); default all on record")
	if code, exit := parseFlags(fs, env, args); exit {
		return code
	}
	fail := func(code int, format string, args ...any) int {
		fmt.Fprintf(env.Stderr, "portalbot report: "+format+"\n", args...)
		return code
	}
	if fs.NArg() > 0 {
		return fail(ExitUsage, "unexpected argument %q", fs.Arg(0))
	}
	if *format != "text" && *format != "json" {
		return fail(ExitUsage, "--format: want text or json, got %q", *format)
	}
	now := time.Now()
	since, err := parseSince(*sinceFlag, now)
	if err != nil {
		return fail(ExitUsage, "--since: %v", err)
	}
	cfg, err := LoadConfig(*configPath, env.getenv)
	if err == nil && *db != "" {
		cfg.DB = *db
		err = cfg.Validate()
	}
	if err != nil {
		return fail(ExitUsage, "%v", err)
	}
	targets := cfg.Reports.Targets
	if *target != "" {
		targets = nil
		for _, t := range cfg.Reports.Targets {
			if t.Name == *target {
				targets = append(targets, t)
			}
		}
		if len(targets) == 0 {
			return fail(ExitUsage, "--target: no report target named %q in the configuration", *target)
		}
	}
	if !*dryRun && len(targets) == 0 {
		return fail(ExitUsage, "no report targets configured (reports.targets); use --dry-run to print the report")
	}

	logger := env.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	st, err := openStore(ctx, env, cfg.DB)
	if err != nil {
		return fail(ExitFail, "%v", err)
	}
	defer st.Close()
	a := &App{Config: cfg, Env: env, Logger: logger, Store: st, Mux: http.NewServeMux(), Holder: holderID(), Posters: map[string]commands.Poster{}}
	rp := newReporter(a)
	var rules []string
	if *rulesFlag != "" {
		for _, r := range strings.Split(*rulesFlag, ",") {
			if r = strings.TrimSpace(r); r != "" {
				rules = append(rules, r)
			}
		}
		if err := (drift.Filter{Rules: rules}).Validate(rp.rules); err != nil {
			return fail(ExitUsage, "--rules: %v", err)
		}
	}
	if *team != "" {
		if err := checkTeam(ctx, rp, *team); err != nil {
			return fail(ExitUsage, "--team: %v", err)
		}
	}

	if *dryRun {
		f := drift.Filter{}
		if *target != "" {
			t := targets[0]
			f = targetFilter(t)
			if since, err = rp.lastSuccess(ctx, targetJob(t)); err != nil {
				return fail(ExitFail, "%v", err)
			}
		}
		if *team != "" {
			f.Teams = []string{*team}
		}
		if rules != nil {
			f.Rules = rules
		}
		findings, err := rp.findings(ctx, since, f)
		if err != nil {
			return fail(ExitFail, "%v", err)
		}
		if err := writeFindings(env.Stdout, *format, findings); err != nil {
			return fail(ExitFail, "%v", err)
		}
		return ExitOK
	}

	for i := range targets {
		if *team != "" {
			targets[i].Teams = []string{*team}
		}
		if rules != nil {
			targets[i].Rules = rules
		}
	}
	if err := reportPosters(ctx, a, targets); err != nil {
		return fail(ExitFail, "%v", err)
	}
	tick := now.UTC().Truncate(time.Minute)
	type result struct {
		Target  string `json:"target"`
		Outcome string `json:"outcome"`
		Error   string `json:"error,omitempty"`
	}
	var results []result
	code := ExitOK
	for _, t := range targets {
		out, err := rp.runTarget(ctx, t, tick)
		r := result{Target: targetJob(t), Outcome: out}
		if err != nil {
			r.Error, code = err.Error(), ExitFail
		}
		results = append(results, r)
	}
	if *format == "json" {
		enc := json.NewEncoder(env.Stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(results); err != nil {
			return fail(ExitFail, "%v", err)
		}
		return code
	}
	for _, r := range results {
		line := r.Target + ": " + r.Outcome
		if r.Outcome == outcomeSkipped {
			line += " (this minute's report was already posted or is being posted)"
		}
		if r.Error != "" {
			line += ": " + r.Error
		}
		fmt.Fprintln(env.Stdout, line)
	}
	return code
}

// reportPosters fills a.Posters for the platforms targets use, with the
// chat adapters' own builders so posting behaves as in serve (splitting,
// pacing, retries). Their parts (HTTP handlers, Socket Mode, gateway) are
// not run: only the posters are used.
func reportPosters(ctx context.Context, a *App, targets []ReportTarget) error {
	a.Router = commands.NewRouter(a.Logger) // the adapters need an engine; no request reaches it
	need := map[string]bool{}
	for _, t := range targets {
		need[t.Platform] = true
	}
	for _, p := range []struct {
		name  string
		build func(context.Context, *App) ([]Part, error)
	}{{"slack", slackParts}, {"discord", discordParts}} {
		if !need[p.name] {
			continue
		}
		if _, err := p.build(ctx, a); err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
		if a.Posters[p.name] == nil {
			return fmt.Errorf("%s: not configured (set the %s tokens in the environment, as for serve)", p.name, strings.ToUpper(p.name[:1])+p.name[1:])
		}
	}
	return nil
}

// maxTeamSuggestions bounds the close names an unknown --team lists.
const maxTeamSuggestions = 5

// checkTeam fails when team names no Group of the catalog and no entity
// names it as owner (an unknown owner still has findings to show), with
// the closest group names, so a typo does not read as "no drift".
func checkTeam(ctx context.Context, rp *reporter, team string) error {
	ref, err := catalog.ParseRef(team, catalog.KindGroup, "")
	if err != nil {
		return err
	}
	s, err := rp.cache.Load(ctx, time.Now(), false)
	if err != nil {
		return err
	}
	want := ref.String()
	if s.Exists(want) {
		return nil
	}
	for _, sm := range s.Summaries() {
		if sm.Owner == want {
			return nil
		}
	}
	var names []string
	for _, g := range s.Groups() {
		r, err := catalog.ParseRef(g, catalog.KindGroup, "")
		if err != nil {
			continue
		}
		names = append(names, r.Display())
	}
	near := view.Nearest(ref.Display(), names, maxTeamSuggestions)
	if len(near) == 0 {
		return fmt.Errorf("no team %q in the catalog, and no entity names it as owner", team)
	}
	return fmt.Errorf("no team %q in the catalog; did you mean %s?", team, strings.Join(near, ", "))
}

// writeFindings prints findings as text or as a JSON array ([] when none).
func writeFindings(w io.Writer, format string, fs []drift.Finding) error {
	if format == "json" {
		if fs == nil {
			fs = []drift.Finding{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(fs)
	}
	return drift.WriteText(w, fs)
}

// parseSince reads --since: empty is the zero time, a Go duration counts
// back from now, otherwise a date or an RFC 3339 time.
func parseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			return time.Time{}, errors.New("want a positive duration")
		}
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("want a duration such as 168h or a date such as 2026-01-31, got %q", s)
}
