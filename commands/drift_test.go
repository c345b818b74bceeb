package commands_test

import (
	"context"
	"log/slog"
	"path/filepath"
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
	st := catalogtest.SQLite(t)
	// The drift package's fixture, without its CODEOWNERS: two unknown
	// owners and one empty owner group.
	catalogtest.LoadDir(t, st, "acme/catalog", filepath.Join("..", "catalog", "drift", "testdata", "catalog"))
	src := &driftStore{r: st}
	r := commands.New(commands.Params{Store: st, PortalURL: "https://portal.example.com", Logger: slog.New(slog.DiscardHandler), Drift: src})
	ctx := context.Background()

	rep := r.Serve(ctx, &commands.Request{Platform: commands.PlatformConsole, Text: "drift"})
	if !strings.Contains(rep.Text, "3 findings in 3 teams: 2 unknown-owner, 1 owner-empty-group") {
		t.Errorf("drift: text = %q, want the counts", rep.Text)
	}
	var titles []string
	for _, s := range rep.Sections {
		titles = append(titles, s.Title)
	}
	want := []string{"group:default/nobody (1 finding)", "user:default/zed (1 finding)", "group:default/ghosts-team (1 finding)"}
	if strings.Join(titles, "|") != strings.Join(want, "|") {
		t.Errorf("drift: sections %q, want %q (most serious first)", titles, want)
	}
	if len(rep.Sections) > 0 {
		s := rep.Sections[0]
		if !strings.Contains(s.Text, "unknown-owner component:default/orphan-svc") {
			t.Errorf("drift: first section text = %q", s.Text)
		}
		if len(s.Links) != 1 || s.Links[0].URL != "https://portal.example.com/catalog/default/component/orphan-svc" {
			t.Errorf("drift: first section links = %+v, want the entity's portal page (a local source has no web link)", s.Links)
		}
	}
	if d := time.Since(src.since); d < 6*24*time.Hour || d > 8*24*time.Hour {
		t.Errorf("drift asked for owner changes since %v ago, want about a week", d)
	}

	rep = r.Serve(ctx, &commands.Request{Platform: commands.PlatformConsole, Text: "drift ghosts-team"})
	if rep.Title != "Ownership drift for group:default/ghosts-team" || len(rep.Sections) != 1 || !strings.Contains(rep.Sections[0].Text, "component:default/legacy") {
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

func TestDriftReportTruncatesLongTeams(t *testing.T) {
	var fs []drift.Finding
	for i := range 40 {
		fs = append(fs, drift.Finding{Entity: "component:default/c" + string(rune('a'+i%26)) + string(rune('a'+i/26)), Drift: drift.RuleOwnerEmptyGroup, Severity: drift.SeverityMedium, Owner: "group:default/big", Message: "owner has no members"})
	}
	rep := commands.DriftReport("Ownership drift", fs, "")
	if len(rep.Sections) != 1 {
		t.Fatalf("DriftReport: %d sections, want 1", len(rep.Sections))
	}
	s := rep.Sections[0]
	lines := strings.Split(s.Text, "\n")
	if len(lines) != 16 || lines[15] != "…and 25 more" {
		t.Errorf("DriftReport: %d lines ending %q, want 15 findings and \"…and 25 more\"", len(lines), lines[len(lines)-1])
	}
	if len(s.Fields) != 1 || s.Fields[0].Value != "40" {
		t.Errorf("DriftReport: fields %+v, want the full count 40", s.Fields)
	}
}
