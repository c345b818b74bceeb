package commands

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/portalbot/portalbot/catalog/drift"
)

// Bounds of a channel summary: the channel gets counts and the worst few
// issues, the attachment the whole list.
const (
	summaryTeams  = 10
	summaryIssues = 5
	summaryNew    = 5
	// issueNames is how many of an issue's entities its line names
	// (driftIssueLine).
	issueNames = 3
)

// DriftSummaryParams is what a scheduled report's channel post says.
type DriftSummaryParams struct {
	Title string
	// Findings are the report's findings, sorted (drift.Sort).
	Findings  []drift.Finding
	PortalURL string
	// Previous are the keys (drift.Finding.Key) of the previous report's
	// findings; HasPrevious says there was one, so that a first report
	// does not call everything new.
	Previous    []string
	HasPrevious bool
	// Since is the previous report's time, zero for the first.
	Since time.Time
	// Chart, when not nil, is attached as well (a PNG of findings per rule
	// over the last weeks).
	Chart *File
}

// DriftSummary renders a scheduled report for a channel: counts per rule
// and per team, what is new and what was fixed since the previous report,
// the most serious issues with links that fix them, and the whole list as
// attached Markdown and CSV files. The summary fits in one message on
// Slack (50 blocks) and on Discord (10 embeds); the files carry the rest,
// and the summary says so.
func DriftSummary(p DriftSummaryParams) Reply {
	fs := p.Findings
	rep := Reply{Title: p.Title, InChannel: true}
	if len(fs) == 0 {
		rep.Text = "No ownership drift found."
		if p.HasPrevious && len(p.Previous) > 0 {
			rep.Text += fmt.Sprintf(" %s fixed since the last report.", driftCount(len(p.Previous), "finding"))
		}
		return rep
	}
	teams := drift.ByTeam(fs)
	counts := driftCounts(fs)
	rep.Text = driftHeadline(fs, teams)
	added, fixed := drift.Delta(fs, p.Previous)
	switch {
	case !p.HasPrevious:
		rep.Text += " First report: every finding is new."
	default:
		rep.Text += fmt.Sprintf(" Since the last report (%s): %d new, %d fixed.", p.Since.UTC().Format("2006-01-02 15:04 MST"), len(added), len(fixed))
	}
	rep.Fields = driftRuleFields(counts)

	var lines []string
	for i, t := range teams {
		if i == summaryTeams {
			lines = append(lines, fmt.Sprintf("…and %d more teams, in the attached list", len(teams)-i))
			break
		}
		lines = append(lines, fmt.Sprintf("• %s (%s): %s", drift.Name(t.Owner, t.OwnerTitle), t.Owner, drift.CountSummary(t.Counts)))
	}
	rep.Sections = append(rep.Sections, Section{Title: "Teams", Text: strings.Join(lines, "\n")})

	issues := topIssues(teams)
	sec := Section{Title: "Most serious issues"}
	lines = nil
	for _, is := range issues[:min(len(issues), summaryIssues)] {
		lines = append(lines, "• "+driftIssueLine(is))
		sec.Links = appendLinks(sec.Links, driftIssueLinks(is, p.PortalURL)...)
	}
	sec.Text = strings.Join(lines, "\n")
	rep.Sections = append(rep.Sections, sec)

	if p.HasPrevious && len(added) > 0 {
		lines = nil
		for i, f := range added {
			if i == summaryNew {
				lines = append(lines, fmt.Sprintf("…and %d more new findings, in the attached list", len(added)-i))
				break
			}
			lines = append(lines, fmt.Sprintf("• %s: %s (%s)", f.Drift, drift.Name(f.Entity, f.Title), drift.Name(f.Owner, f.OwnerTitle)))
		}
		rep.Sections = append(rep.Sections, Section{Title: "New since the last report", Text: strings.Join(lines, "\n")})
	}

	if !shownInFull(teams, issues, added, p.HasPrevious) {
		md := driftMarkdown(p.Title, fs, p.PortalURL)
		rep.Files = []File{
			{Name: "drift-report.md", Title: "Ownership drift: the full list (Markdown)", ContentType: "text/markdown", Data: md},
			{Name: "drift-report.csv", Title: "Ownership drift: one row per finding (CSV)", ContentType: "text/csv", Data: driftCSV(fs, p.PortalURL)},
		}
		rep.Text += fmt.Sprintf(" The full list (%s, %s) is attached as drift-report.md and drift-report.csv.", driftCount(len(fs), "finding"), driftCount(len(issues), "issue"))
	}
	if p.Chart != nil {
		rep.Files = append(rep.Files, *p.Chart)
	}
	return rep
}

// shownInFull reports whether the summary already shows every team, every
// issue with all its entities and every new finding: a small report (a
// team's digest, most days) is then one message with nothing attached.
func shownInFull(teams []drift.Team, issues []drift.Issue, added []drift.Finding, hasPrevious bool) bool {
	if len(teams) > summaryTeams || len(issues) > summaryIssues || (hasPrevious && len(added) > summaryNew) {
		return false
	}
	for _, is := range issues {
		if len(is.Findings) > issueNames {
			return false
		}
	}
	return true
}

func issuesOf(teams []drift.Team) []drift.Issue {
	var out []drift.Issue
	for _, t := range teams {
		out = append(out, t.Issues...)
	}
	return out
}

// topIssues orders every team's issues most serious first, then by the
// number of entities behind them.
func topIssues(teams []drift.Team) []drift.Issue {
	out := issuesOf(teams)
	slices.SortStableFunc(out, func(a, b drift.Issue) int {
		if a.Severity != b.Severity {
			return int(b.Severity) - int(a.Severity)
		}
		return len(b.Findings) - len(a.Findings)
	})
	return out
}

// driftMarkdown writes the whole report as Markdown: per team, one item per
// issue with its fix links, and under it every entity with its file.
func driftMarkdown(title string, fs []drift.Finding, portalURL string) []byte {
	var b bytes.Buffer
	teams := drift.ByTeam(fs)
	fmt.Fprintf(&b, "# %s\n\n", mdEscape(title))
	if len(fs) == 0 {
		b.WriteString("No ownership drift found.\n")
		return b.Bytes()
	}
	fmt.Fprintf(&b, "%s\n", driftHeadline(fs, teams))
	for _, t := range teams {
		fmt.Fprintf(&b, "\n## %s (`%s`)\n\n%s\n\n", mdEscape(drift.Name(t.Owner, t.OwnerTitle)), t.Owner, drift.CountSummary(t.Counts))
		for _, is := range t.Issues {
			fmt.Fprintf(&b, "- **%s** (%s): %s", is.Drift, is.Severity, mdEscape(is.Message))
			for _, l := range driftIssueLinks(is, portalURL) {
				fmt.Fprintf(&b, " · [%s](%s)", mdEscape(l.Text), l.URL)
			}
			b.WriteString("\n")
			if len(is.Findings) == 1 && is.Findings[0].Message == is.Message {
				continue
			}
			for _, f := range is.Findings {
				fmt.Fprintf(&b, "  - %s", mdLink(drift.Name(f.Entity, f.Title), driftEntityURL(portalURL, f.Entity)))
				fmt.Fprintf(&b, " `%s`", f.Entity)
				if loc := f.File + driftLine(f.Line); loc != "" {
					fmt.Fprintf(&b, ": %s", mdLink(loc, f.URL))
				}
				if len(is.Findings) == 1 || (f.Drift != drift.RuleOwnerEmptyGroup && f.Drift != drift.RuleUnknownOwner) {
					fmt.Fprintf(&b, " — %s", mdEscape(f.Message))
				}
				b.WriteString("\n")
			}
		}
	}
	return b.Bytes()
}

func mdLink(text, u string) string {
	if u == "" {
		return mdEscape(text)
	}
	return "[" + mdEscape(text) + "](" + u + ")"
}

var mdEscaper = strings.NewReplacer(`\`, `\\`, "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`, "`", "\\`", "<", `\<`, ">", `\>`)

func mdEscape(s string) string { return mdEscaper.Replace(s) }

// driftCSV writes one row per finding, with a header row; spreadsheets
// open it as is.
func driftCSV(fs []drift.Finding, portalURL string) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	// A bytes.Buffer does not fail; csv.Writer reports nothing else.
	_ = w.Write([]string{"severity", "drift", "owner", "owner_title", "entity", "title", "message", "source", "file", "line", "url", "entity_url", "owner_url"})
	for _, f := range fs {
		line := ""
		if f.Line > 0 {
			line = strconv.Itoa(f.Line)
		}
		_ = w.Write([]string{f.Severity.String(), f.Drift, f.Owner, csvSafe(f.OwnerTitle), f.Entity, csvSafe(f.Title), csvSafe(f.Message), f.Source, f.File, line, f.URL, driftEntityURL(portalURL, f.Entity), f.OwnerURL})
	}
	w.Flush()
	return b.Bytes()
}

// csvSafe keeps a catalog-supplied cell from being read as a formula by a
// spreadsheet (CSV injection): a leading =, +, - or @ gets a quote.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@", rune(s[0])) {
		return "'" + s
	}
	return s
}
