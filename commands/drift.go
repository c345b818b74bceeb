package commands

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/drift"
)

// DriftSource computes ownership-drift findings for "drift [team]".
type DriftSource interface {
	// Findings returns the current findings f keeps, most serious first;
	// owner-changed findings cover changes recorded after since.
	Findings(ctx context.Context, since time.Time, f drift.Filter) ([]drift.Finding, error)
}

// driftWindow is how far back "drift" looks for owner changes: on demand
// there is no previous report to measure from.
const driftWindow = 7 * 24 * time.Hour

// maxDriftLines bounds the issues listed per team in one reply (each with
// two links); the rest are counted. It keeps a team's section under
// Slack's 3,000-character section text limit and Discord's 4,096-character
// embed description.
const maxDriftLines = 15

// maxDriftTeams bounds the teams of one reply: Slack allows 50 blocks per
// message and each team takes about four.
const maxDriftTeams = 10

func registerDrift(r *Router, p Params, h *handlers) {
	if p.Drift == nil {
		return
	}
	dh := driftHandler{src: p.Drift, portalURL: p.PortalURL, now: time.Now, h: h}
	r.Handle(Command{
		Name:    "drift",
		Usage:   "drift [team]",
		Summary: "Ownership drift: unknown or empty owners, CODEOWNERS mismatches, owner changes, work done by another team",
		Args:    []Arg{{Name: "team", Description: "only this team's findings, e.g. payments", Complete: "group"}},
		Handler: dh.drift,
	})
}

type driftHandler struct {
	src       DriftSource
	portalURL string
	now       func() time.Time
	h         *handlers // resolves the team argument; never nil
}

func (dh driftHandler) drift(ctx context.Context, req *Request) (Reply, error) {
	args := strings.Fields(req.Text)
	if len(args) > 0 {
		args = args[1:] // the command word
	}
	if len(args) > 1 {
		return Reply{}, Userf("Usage: drift [team], for example: drift payments")
	}
	var f drift.Filter
	title := "Ownership drift"
	var miss Reply
	var missErr error
	if len(args) == 1 {
		team, err := catalog.ParseRef(args[0], catalog.KindGroup, "")
		if err != nil {
			return Reply{}, Userf("%q is not a team reference; try a group name such as payments", args[0])
		}
		// A team the catalog holds is looked up
		// as "team" does, so a typo gets did-you-mean buttons instead of
		// "no drift found".
		_, e, rep, err := dh.h.resolve(ctx, "drift", args[0], []string{catalog.KindGroup})
		switch {
		case err == nil && e != nil:
			team = e.Ref()
		case errors.As(err, new(*UserError)):
			miss, missErr = rep, err
		case err != nil:
			return Reply{}, fmt.Errorf("drift: %w", err)
		}
		f.Teams = []string{team.String()}
		title = "Ownership drift for " + team.String()
	}
	fs, err := dh.src.Findings(ctx, dh.now().Add(-driftWindow), f)
	if err != nil {
		return Reply{}, fmt.Errorf("drift: %w", err)
	}
	if missErr != nil && len(fs) == 0 {
		// Not in the catalog and owning nothing: a typo, not a clean team.
		// An owner that is not in the catalog but is named by entities
		// (unknown-owner) still gets its findings.
		return miss, missErr
	}
	rep := DriftReport(title, fs, dh.portalURL)
	if len(fs) > 0 {
		rep.Text += fmt.Sprintf("\nOwner changes are those of the last %d days.", int(driftWindow/(24*time.Hour)))
	}
	return rep, nil
}

// DriftReport renders findings (sorted, as drift.Snapshot.Report returns
// them) as a Reply: a headline with counts, then one Section per team,
// most serious first, with one line per root cause (drift.Issue) and links
// to the file to fix and to the portal. Past maxDriftTeams teams and
// maxDriftLines issues per team the rest is counted and the reply says how
// to see it.
func DriftReport(title string, fs []drift.Finding, portalURL string) Reply {
	if len(fs) == 0 {
		return Reply{Title: title, Text: "No ownership drift found."}
	}
	teams := drift.ByTeam(fs)
	rep := Reply{Title: title, Text: driftHeadline(fs, teams)}
	for i, t := range teams {
		if i == maxDriftTeams {
			rep.Text += fmt.Sprintf("\nShowing the %d most serious of %d teams; \"drift <team>\" lists one team in full.", maxDriftTeams, len(teams))
			break
		}
		sec := Section{Title: driftTeamTitle(t)}
		var lines []string
		for j, is := range t.Issues {
			if j == maxDriftLines {
				lines = append(lines, fmt.Sprintf("…and %d more issues (%s); the scheduled report attaches the full list, or run: portalbot report --dry-run --team %s", len(t.Issues)-j, driftCount(drift.Entities(t.Issues[j:]), "finding"), t.Owner))
				break
			}
			lines = append(lines, "• "+driftIssueLine(is))
			sec.Links = appendLinks(sec.Links, driftIssueLinks(is, portalURL)...)
		}
		sec.Text = strings.Join(lines, "\n")
		sec.Fields = driftRuleFields(t.Counts)
		rep.Sections = append(rep.Sections, sec)
	}
	return rep
}

// driftHeadline counts findings, root causes and teams, and findings per
// rule.
func driftHeadline(fs []drift.Finding, teams []drift.Team) string {
	issues := 0
	for _, t := range teams {
		issues += len(t.Issues)
	}
	return fmt.Sprintf("%s (%s) in %s: %s.", driftCount(len(fs), "finding"), driftCount(issues, "issue"), driftCount(len(teams), "team"), drift.CountSummary(driftCounts(fs)))
}

func driftCounts(fs []drift.Finding) map[string]int {
	counts := map[string]int{}
	for _, f := range fs {
		counts[f.Drift]++
	}
	return counts
}

// driftTeamTitle is "Team Name (group:default/x): 3 issues, 40 findings".
func driftTeamTitle(t drift.Team) string {
	return fmt.Sprintf("%s (%s): %s, %s", drift.Name(t.Owner, t.OwnerTitle), t.Owner, driftCount(len(t.Issues), "issue"), driftCount(len(t.Findings), "finding"))
}

// driftIssueLine is one issue in one line: its rule, its cause and, for an
// issue of several entities, the first few of them.
func driftIssueLine(is drift.Issue) string {
	line := is.Drift + ": " + is.Message
	if n := len(is.Findings); n > 1 {
		var names []string
		for _, f := range is.Findings[:min(n, issueNames)] {
			names = append(names, drift.Name(f.Entity, f.Title))
		}
		line += " (" + strings.Join(names, ", ")
		if n > issueNames {
			line += fmt.Sprintf(", +%d", n-issueNames)
		}
		line += ")"
	}
	return line
}

// driftIssueLinks are the links that fix an issue: the file to edit on the
// Git host and the page in the portal. For an issue about an owner (an
// empty or unknown group) the portal page is the owner's; otherwise the
// entity's.
func driftIssueLinks(is drift.Issue, portalURL string) []Link {
	var out []Link
	f := is.Findings[0]
	name := drift.Name(f.Entity, f.Title)
	switch {
	case is.URL != "":
		out = append(out, Link{Text: "Fix " + drift.Name(is.Owner, is.OwnerTitle) + ": " + driftFile(is.URL), URL: is.URL})
	case f.URL != "" && len(is.Findings) == 1:
		out = append(out, Link{Text: "Fix " + name + ": " + f.File + driftLine(f.Line), URL: f.URL})
	case f.URL != "":
		out = append(out, Link{Text: fmt.Sprintf("Fix %s: %s%s (first of %d files)", name, f.File, driftLine(f.Line), len(is.Findings)), URL: f.URL})
	}
	page, label := f.Entity, name
	if len(is.Findings) > 1 || is.Drift == drift.RuleOwnerEmptyGroup {
		page, label = is.Owner, drift.Name(is.Owner, is.OwnerTitle)
	}
	if u := driftEntityURL(portalURL, page); u != "" {
		out = append(out, Link{Text: label + " in the portal", URL: u})
	}
	return out
}

// appendLinks appends the links whose URL ls does not have yet: two
// issues of one entity link to its page once.
func appendLinks(ls []Link, add ...Link) []Link {
	for _, l := range add {
		if !slices.ContainsFunc(ls, func(o Link) bool { return o.URL == l.URL }) {
			ls = append(ls, l)
		}
	}
	return ls
}

func driftLine(n int) string {
	if n <= 0 {
		return ""
	}
	return fmt.Sprintf(":%d", n)
}

// driftFile is the path part of a blob URL, for a link label.
func driftFile(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return u
	}
	path := p.Path
	for _, sep := range []string{"/-/blob/", "/blob/", "/src/"} {
		if _, rest, ok := strings.Cut(path, sep); ok {
			if _, file, ok := strings.Cut(rest, "/"); ok {
				return file
			}
		}
	}
	return path
}

// driftRuleFields are counts per rule, in the order of drift.CountSummary.
func driftRuleFields(counts map[string]int) []Field {
	var out []Field
	for _, part := range strings.Split(drift.CountSummary(counts), ", ") {
		n, rule, ok := strings.Cut(part, " ")
		if ok {
			out = append(out, Field{Name: rule, Value: n})
		}
	}
	return out
}

// driftEntityURL links to an entity's page in the portal, Backstage's
// /catalog/<namespace>/<kind>/<name> route; "" without a portal.
func driftEntityURL(portalURL, ref string) string {
	if portalURL == "" {
		return ""
	}
	r, err := catalog.ParseRef(ref, "", "")
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(portalURL, "/") + "/catalog/" + url.PathEscape(strings.ToLower(r.Namespace)) + "/" + url.PathEscape(strings.ToLower(r.Kind)) + "/" + url.PathEscape(strings.ToLower(r.Name))
}

func driftCount(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
