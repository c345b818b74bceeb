package commands_test

import (
	"context"
	"fmt"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/portalbot/portalbot/catalog/catalogtest"
	"github.com/portalbot/portalbot/catalog/drift"
	"github.com/portalbot/portalbot/commands"
)

// driftStore is a commands.DriftSource running the drift rules on a store,
// as bot's reporter does; it records the since it was asked for.
type driftStore struct {
	r     drift.Reader
	since time.Time
}

func (d *driftStore) Findings(ctx context.Context, since time.Time, f drift.Filter) ([]drift.Finding, error) {
	d.since = since
	return drift.Run(ctx, d.r, drift.LoadOptions{Since: since}, drift.DefaultRules(), f)
}

func TestDriftCommand(t *testing.T) {
	st := sqlstoretest.OpenSQLite(t)
	// The drift package's fixture, without its CODEOWNERS: two unknown
	// owners and one empty owner group.
	catalogtest.LoadDir(t, st, "acme/catalog", filepath.Join("..", "catalog", "drift", "testdata", "catalog"))
	src := &driftStore{r: st}
	r := commands.New(commands.Params{Store: st, PortalURL: "https://portal.example.com", Logger: slog.New(slog.DiscardHandler), Drift: src})
	ctx := context.Background()

	rep := r.Serve(ctx, &commands.Request{Platform: commands.PlatformConsole, Text: "drift"})
	if !strings.Contains(rep.Text, "3 findings (3 issues) in 3 teams: 2 unknown-owner, 1 owner-empty-group") {
		t.Errorf("drift: text = %q, want the counts", rep.Text)
	}
	var titles []string
	for _, s := range rep.Sections {
		titles = append(titles, s.Title)
	}
	want := []string{"nobody (group:default/nobody): 1 issue, 1 finding", "zed (user:default/zed): 1 issue, 1 finding", "ghosts-team (group:default/ghosts-team): 1 issue, 1 finding"}
	if strings.Join(titles, "|") != strings.Join(want, "|") {
		t.Errorf("drift: sections %q, want %q (most serious first)", titles, want)
	}
	if len(rep.Sections) > 0 {
		s := rep.Sections[0]
		if want := "• unknown-owner: owner group:default/nobody is not a Group or User in the catalog and is named by orphan-svc"; s.Text != want {
			t.Errorf("drift: first section text = %q, want %q", s.Text, want)
		}
		if len(s.Links) != 1 || s.Links[0].URL != "https://portal.example.com/catalog/default/component/orphan-svc" {
			t.Errorf("drift: first section links = %+v, want the entity's portal page (a local source has no web link)", s.Links)
		}
	}
	if d := time.Since(src.since); d < 6*24*time.Hour || d > 8*24*time.Hour {
		t.Errorf("drift asked for owner changes since %v ago, want about a week", d)
	}

	rep = r.Serve(ctx, &commands.Request{Platform: commands.PlatformConsole, Text: "drift ghosts-team"})
	if rep.Title != "Ownership drift for group:default/ghosts-team" || len(rep.Sections) != 1 || !strings.Contains(rep.Sections[0].Text, "ghosts-team has no members and owns legacy") {
		t.Errorf("drift ghosts-team = %+v, want the one legacy finding", rep)
	}
	rep = r.Serve(ctx, &commands.Request{Platform: commands.PlatformConsole, Text: "drift payments"})
	if !strings.Contains(rep.Text, "No ownership drift found") {
		t.Errorf("drift payments = %q, want none", rep.Text)
	}
	for _, in := range []string{"drift a b", "drift a:b:c"} {
		rep = r.Serve(ctx, &commands.Request{Platform: commands.PlatformConsole, Text: in})
		if !strings.Contains(rep.Text, "drift payments") && !strings.Contains(rep.Text, "group name such as payments") || len(rep.Sections) != 0 {
			t.Errorf("%s = %q, want a usage message", in, rep.Text)
		}
	}
}

func TestDriftReportOneLinePerRootCause(t *testing.T) {
	var fs []drift.Finding
	for i := range 33 {
		fs = append(fs, drift.Finding{Entity: fmt.Sprintf("component:default/c%02d", i), Title: fmt.Sprintf("C %02d", i), Drift: drift.RuleOwnerEmptyGroup, Severity: drift.SeverityMedium,
			Owner: "group:default/team-1990", OwnerTitle: "Team 1990", OwnerURL: "https://github.com/acme/org/blob/main/teams.yaml#L40", Message: "owner has no members"})
	}
	for i := range 40 {
		fs = append(fs, drift.Finding{Entity: fmt.Sprintf("component:default/x%02d", i), Drift: drift.RuleUnknownOwner, Severity: drift.SeverityHigh,
			Owner: fmt.Sprintf("group:default/gone-%02d", i), Message: "unknown"})
	}
	drift.Sort(fs)
	rep := commands.DriftReport("Ownership drift", fs, "https://portal.example.com")
	if len(rep.Sections) != 10 || !strings.Contains(rep.Text, "Showing the 10 most serious of 41 teams") {
		t.Errorf("DriftReport: %d sections, text %q; want 10 teams and a note on the 31 others", len(rep.Sections), rep.Text)
	}
	rep = commands.DriftReport("Ownership drift", fs[40:], "https://portal.example.com")
	if len(rep.Sections) != 1 {
		t.Fatalf("DriftReport(team-1990): %d sections, want 1", len(rep.Sections))
	}
	s := rep.Sections[0]
	if want := "• owner-empty-group: Team 1990 has no members and owns 33 entities (C 00, C 01, C 02, +30)"; s.Text != want {
		t.Errorf("DriftReport(team-1990) text = %q, want %q", s.Text, want)
	}
	wantLinks := []commands.Link{
		{Text: "Fix Team 1990: teams.yaml", URL: "https://github.com/acme/org/blob/main/teams.yaml#L40"},
		{Text: "Team 1990 in the portal", URL: "https://portal.example.com/catalog/default/group/team-1990"},
	}
	if fmt.Sprint(s.Links) != fmt.Sprint(wantLinks) {
		t.Errorf("DriftReport(team-1990) links = %v, want %v", s.Links, wantLinks)
	}
}

func TestDriftReportTruncatesLongTeams(t *testing.T) {
	var fs []drift.Finding
	for i := range 40 {
		fs = append(fs, drift.Finding{Entity: fmt.Sprintf("component:default/c%02d", i), Drift: drift.RuleCodeOwnersMismatch, Severity: drift.SeverityLow, Owner: "group:default/big", CodeOwnersOwner: fmt.Sprintf("@acme/t%02d", i), Message: "mismatch"})
	}
	rep := commands.DriftReport("Ownership drift", fs, "")
	if len(rep.Sections) != 1 {
		t.Fatalf("DriftReport: %d sections, want 1", len(rep.Sections))
	}
	s := rep.Sections[0]
	lines := strings.Split(s.Text, "\n")
	if len(lines) != 16 || !strings.HasPrefix(lines[15], "…and 25 more issues (25 findings)") || !strings.Contains(lines[15], "report --dry-run --team group:default/big") {
		t.Errorf("DriftReport: %d lines ending %q, want 15 issues and a pointer to the rest", len(lines), lines[len(lines)-1])
	}
	if len(s.Fields) != 1 || s.Fields[0].Value != "40" {
		t.Errorf("DriftReport: fields %+v, want the full count 40", s.Fields)
	}
}

func TestDriftUnknownTeam(t *testing.T) {
	st := sqlstoretest.OpenSQLite(t)
	catalogtest.LoadDir(t, st, "acme/catalog", filepath.Join("..", "catalog", "drift", "testdata", "catalog"))
	r := commands.New(commands.Params{Store: st, Logger: slog.New(slog.DiscardHandler), Drift: &driftStore{r: st}})
	ctx := context.Background()
	rep := r.Serve(ctx, &commands.Request{Platform: commands.PlatformConsole, Text: "drift paymnets"})
	if !strings.Contains(rep.Text, `no group named "paymnets"`) || !strings.Contains(rep.Text, "payments") || strings.Contains(rep.Text, "No ownership drift") {
		t.Errorf("drift paymnets = %q, want a miss with did-you-mean payments", rep.Text)
	}
	var buttons []string
	for _, b := range rep.Buttons {
		buttons = append(buttons, b.Value)
	}
	if !slices.Contains(buttons, "drift group:default/payments") {
		t.Errorf("drift paymnets buttons = %q, want one running drift group:default/payments", buttons)
	}
	// An owner the catalog lacks but entities name still has findings.
	rep = r.Serve(ctx, &commands.Request{Platform: commands.PlatformConsole, Text: "drift nobody"})
	if len(rep.Sections) != 1 || !strings.Contains(rep.Sections[0].Text, "orphan-svc") {
		t.Errorf("drift nobody = %+v, want the unknown owner's finding", rep)
	}
}

func TestDriftReportLinksOncePerPage(t *testing.T) {
	fs := []drift.Finding{
		{Entity: "component:default/legacy", Drift: drift.RuleUnknownOwner, Severity: drift.SeverityHigh, Owner: "group:default/analytics", Message: "unknown"},
		{Entity: "component:default/legacy", Drift: drift.RuleCodeOwnersMismatch, Severity: drift.SeverityLow, Owner: "group:default/analytics", CodeOwnersOwner: "@acme/platform", Message: "mismatch"},
	}
	rep := commands.DriftReport("Ownership drift", fs, "https://portal.example.com")
	if len(rep.Sections) != 1 || len(rep.Sections[0].Links) != 1 {
		t.Errorf("DriftReport sections = %+v, want one team linking the entity's page once", rep.Sections)
	}
}
