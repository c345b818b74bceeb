package drift_test

import (
	"context"
	"fmt"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"strings"
	"testing"
	"time"

	"github.com/portalbot/portalbot/catalog"
	"github.com/portalbot/portalbot/catalog/drift"
)

// loadRootCauses syncs a catalog where one empty group owns 33 titled
// components and 12 components name an owner the catalog lacks.
func loadRootCauses(tb testing.TB, st catalog.Store) {
	tb.Helper()
	var es []*catalog.Entity
	es = append(es,
		benchEntity("Group", "team-1990", map[string]any{"type": "team", "children": []any{}, "profile": map[string]any{"displayName": "Team 1990"}}, "gen", "org/team-1990.yaml", 1),
		benchEntity("Group", "crew", map[string]any{"type": "team", "children": []any{}, "members": []any{"ann"}}, "gen", "org/crew.yaml", 1),
		benchEntity("User", "ann", map[string]any{"memberOf": []any{"crew"}}, "gen", "org/ann.yaml", 1),
	)
	for i := range 33 {
		e := benchEntity("Component", fmt.Sprintf("svc-%02d", i), map[string]any{"type": "service", "lifecycle": "production", "owner": "team-1990"}, "gen", fmt.Sprintf("svc/%02d/catalog-info.yaml", i), 1)
		e.Metadata.Title = fmt.Sprintf("Service %02d", i)
		es = append(es, e)
	}
	for i := range 12 {
		es = append(es, benchEntity("Component", fmt.Sprintf("lost-%02d", i), map[string]any{"type": "service", "lifecycle": "production", "owner": "gone-team"}, "gen", fmt.Sprintf("lost/%02d/catalog-info.yaml", i), 3))
	}
	files := make([]catalog.FileResult, len(es))
	for i, e := range es {
		files[i] = catalog.FileResult{Path: e.Origin.Path, Entities: []*catalog.Entity{e}}
	}
	if _, err := st.ApplySync(context.Background(), catalog.SyncBatch{
		Source: catalog.Source{Name: "gen", Repo: "git@gitlab.example.com:acme/catalog.git", Branch: "main", Commit: "bench"},
		Full:   true, Files: files,
	}); err != nil {
		tb.Fatalf("ApplySync: %v", err)
	}
}

func TestIssuesOneLinePerRootCause(t *testing.T) {
	st := sqlstoretest.OpenSQLite(t)
	loadRootCauses(t, st)
	fs := report(t, st, time.Time{}, drift.Filter{})
	if len(fs) != 45 {
		t.Fatalf("Report() = %d findings, want 45 (one per entity)", len(fs))
	}
	var got []string
	for _, tm := range drift.ByTeam(fs) {
		for _, is := range tm.Issues {
			got = append(got, fmt.Sprintf("%s|%s|%d|%s", is.Drift, is.Message, len(is.Findings), is.URL))
		}
	}
	want := []string{
		"unknown-owner|owner group:default/gone-team is not a Group or User in the catalog and is named by 12 entities|12|",
		"owner-empty-group|Team 1990 has no members and owns 33 entities|33|https://gitlab.example.com/acme/catalog/-/blob/main/org/team-1990.yaml#L1",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("ByTeam issues =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, f := range fs {
		if f.Drift == drift.RuleOwnerEmptyGroup && (f.OwnerTitle != "Team 1990" || !strings.HasPrefix(f.Title, "Service ")) {
			t.Errorf("finding %s: title %q owner title %q, want display names", f.Entity, f.Title, f.OwnerTitle)
		}
		if f.Drift == drift.RuleUnknownOwner && !strings.HasSuffix(f.URL, "/catalog-info.yaml#L3") {
			t.Errorf("finding %s: URL %q, want the descriptor's line", f.Entity, f.URL)
		}
	}
}

func TestDelta(t *testing.T) {
	fs := []drift.Finding{{Entity: "component:default/a", Drift: "unknown-owner"}, {Entity: "component:default/b", Drift: "unknown-owner"}}
	added, fixed := drift.Delta(fs, []string{"unknown-owner component:default/a", "owner-empty-group component:default/c"})
	if len(added) != 1 || added[0].Entity != "component:default/b" {
		t.Errorf("Delta added = %v, want b", added)
	}
	if len(fixed) != 1 || fixed[0] != "owner-empty-group component:default/c" {
		t.Errorf("Delta fixed = %v, want c", fixed)
	}
}
