package commands

import (
	"context"
	"fmt"
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

// maxDriftLines bounds the findings listed per team in one reply; the
// rest are counted. It keeps a team's section under Slack's 3,000-character
// section text limit and Discord's 4,096-character embed description.
const maxDriftLines = 15

func registerDrift(r *Router, p Params) {
	if p.Drift == nil {
		return
	}
	h := driftHandler{src: p.Drift, portalURL: p.PortalURL, now: time.Now}
	r.Handle(Command{
		Name:    "drift",
		Usage:   "drift [team]",
		Summary: "Ownership drift: unknown or empty owners, CODEOWNERS mismatches, owner changes",
		Args:    []Arg{{Name: "team", Description: "only this team's findings, e.g. payments"}},
		Handler: h.drift,
	})
}

type driftHandler struct {
	src       DriftSource
	portalURL string
	now       func() time.Time
}

func (h driftHandler) drift(ctx context.Context, req *Request) (Reply, error) {
	args := strings.Fields(req.Text)
	if len(args) > 0 {
		args = args[1:] // the command word
	}
	if len(args) > 1 {
		return Reply{}, Userf("Usage: drift [team], for example: drift payments")
	}
	var f drift.Filter
	title := "Ownership drift"
	if len(args) == 1 {
		team, err := catalog.ParseRef(args[0], catalog.KindGroup, "")
		if err != nil {
			return Reply{}, Userf("%q is not a team reference; try a group name such as payments", args[0])
		}
		f.Teams = []string{team.String()}
		title = "Ownership drift for " + team.String()
	}
	fs, err := h.src.Findings(ctx, h.now().Add(-driftWindow), f)
	if err != nil {
		return Reply{}, fmt.Errorf("drift: %w", err)
	}
	rep := DriftReport(title, fs, h.portalURL)
	if len(fs) > 0 {
		rep.Text += fmt.Sprintf("\nOwner changes are those of the last %d days.", int(driftWindow/(24*time.Hour)))
	}
	return rep, nil
}

// DriftReport renders findings (sorted, as drift.Snapshot.Report returns
// them) as a Reply: a headline with counts, then one Section per team, most
// serious first, listing its findings with links to the files to fix.
// Past maxDriftLines a team's remaining findings are only counted. Scheduled
// reports post the same Reply.
func DriftReport(title string, fs []drift.Finding, portalURL string) Reply {
	if len(fs) == 0 {
		return Reply{Title: title, Text: "No ownership drift found."}
	}
	teams := drift.ByTeam(fs)
	counts := map[string]int{}
	for _, f := range fs {
		counts[f.Drift]++
	}
	rep := Reply{
		Title: title,
		Text:  fmt.Sprintf("%s in %s: %s.", driftCount(len(fs), "finding"), driftCount(len(teams), "team"), drift.CountSummary(counts)),
	}
	for _, t := range teams {
		sec := Section{Title: fmt.Sprintf("%s (%s)", t.Owner, driftCount(len(t.Findings), "finding"))}
		var lines []string
		for i, f := range t.Findings {
			if i == maxDriftLines {
				lines = append(lines, fmt.Sprintf("…and %d more", len(t.Findings)-i))
				break
			}
			lines = append(lines, fmt.Sprintf("• %s %s: %s", f.Drift, f.Entity, f.Message))
			switch {
			case f.URL != "":
				sec.Links = append(sec.Links, Link{Text: driftFileLabel(f), URL: f.URL})
			case portalURL != "":
				if u := driftEntityURL(portalURL, f.Entity); u != "" {
					sec.Links = append(sec.Links, Link{Text: f.Entity, URL: u})
				}
			}
		}
		sec.Text = strings.Join(lines, "\n")
		for _, rule := range []string{drift.RuleUnknownOwner, drift.RuleOwnerEmptyGroup, drift.RuleCodeOwnersMismatch, drift.RuleOwnerChanged} {
			if n := t.Counts[rule]; n > 0 {
				sec.Fields = append(sec.Fields, Field{Name: rule, Value: fmt.Sprint(n)})
			}
		}
		rep.Sections = append(rep.Sections, sec)
	}
	return rep
}

func driftFileLabel(f drift.Finding) string {
	if f.File == "" {
		return f.Entity
	}
	_, name, _ := strings.Cut(f.Entity, "/")
	return name + ": " + f.File
}

// driftEntityURL links to an entity's page in the portal, Backstage's
// /catalog/<namespace>/<kind>/<name> route.
func driftEntityURL(portalURL, ref string) string {
	r, err := catalog.ParseRef(ref, "", "")
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(portalURL, "/") + "/catalog/" + strings.ToLower(r.Namespace) + "/" + strings.ToLower(r.Kind) + "/" + strings.ToLower(r.Name)
}

func driftCount(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
