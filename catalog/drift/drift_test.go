package drift_test

import (
	"context"
	"encoding/json"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/portalbot/portalbot/catalog/drift"
)

// row is the part of a finding the fixture's expectations pin.
type row struct {
	Entity, Drift, Owner, Detail string
}

func rows(fs []drift.Finding) []row {
	out := make([]row, len(fs))
	for i, f := range fs {
		r := row{Entity: f.Entity, Drift: f.Drift, Owner: f.Owner}
		switch f.Drift {
		case drift.RuleCodeOwnersMismatch:
			r.Detail = f.CodeOwnersOwner + " -> " + strings.Join(f.CodeOwnersRefs, ",")
		case drift.RuleOwnerChanged:
			r.Detail = f.OldOwner + " -> " + f.NewOwner + " @" + f.Commit
		}
		out[i] = r
	}
	return out
}

// injected is the drift planted in testdata/catalog, most serious first;
// every other entity is clean (see the comments in testdata/CODEOWNERS and
// testdata/catalog/org/groups.yaml).
var injected = []row{
	{"component:default/orphan-svc", drift.RuleUnknownOwner, "group:default/nobody", ""},
	{"component:default/zed-tool", drift.RuleUnknownOwner, "user:default/zed", ""},
	{"component:default/legacy", drift.RuleOwnerEmptyGroup, "group:default/ghosts-team", ""},
	{"component:default/ledger", drift.RuleCodeOwnersMismatch, "group:default/payments", "@acme/search -> group:default/search"},
	{"component:default/mail", drift.RuleCodeOwnersMismatch, "group:default/payments", "carol@example.com -> user:default/carol"},
}

func report(t *testing.T, st drift.Reader, since time.Time, f drift.Filter) []drift.Finding {
	t.Helper()
	fs, err := drift.Run(context.Background(), st, drift.LoadOptions{Since: since, CodeOwnersMapping: fixtureMapping}, drift.DefaultRules(), f)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return fs
}

func TestReportFindsInjectedDrift(t *testing.T) {
	for name, open := range sqlstoretest.Stores() {
		t.Run(name, func(t *testing.T) {
			st := open(t)
			loadFixture(t, st, "c1", nil)
			got := report(t, st, time.Time{}, drift.Filter{})
			if diff := cmp.Diff(injected, rows(got)); diff != "" {
				t.Fatalf("Report() findings mismatch (-want +got):\n%s", diff)
			}

			// The second sync moves the checkout system to search: one
			// owner-changed finding, after the first one's findings.
			mid := time.Now()
			time.Sleep(10 * time.Millisecond)
			loadFixture(t, st, "c2", func(path, data string) string {
				if path == "systems/checkout.yaml" {
					return strings.Replace(data, "owner: payments", "owner: search", 1)
				}
				return data
			})
			want := append(append([]row{}, injected...),
				row{"system:default/checkout", drift.RuleOwnerChanged, "group:default/search", "group:default/payments -> group:default/search @c2"})
			got = report(t, st, time.Time{}, drift.Filter{})
			if diff := cmp.Diff(want, rows(got)); diff != "" {
				t.Fatalf("Report() after owner change (-want +got):\n%s", diff)
			}
			if got := report(t, st, mid, drift.Filter{}); len(got) != len(want) {
				t.Errorf("Report(since before change) = %d findings, want %d", len(got), len(want))
			}
			if got := report(t, st, time.Now().Add(time.Second), drift.Filter{}); cmp.Diff(injected, rows(got)) != "" {
				t.Errorf("Report(since after change) = %v, want the change left out", rows(got))
			}
		})
	}
}

func TestReportLocatesFiles(t *testing.T) {
	st := sqlstoretest.OpenSQLite(t)
	loadFixture(t, st, "c1", nil)
	got := report(t, st, time.Time{}, drift.Filter{Rules: []string{drift.RuleCodeOwnersMismatch}})
	if len(got) == 0 {
		t.Fatal("Report(codeowners-mismatch) = none")
	}
	f := got[0]
	if f.Source != fixtureSource || f.File != "services/ledger/catalog-info.yaml" || f.Line != 1 {
		t.Errorf("finding location = %q %q %d, want %q services/ledger/catalog-info.yaml 1", f.Source, f.File, f.Line, fixtureSource)
	}
	if want := "https://github.com/acme/catalog/blob/main/services/ledger/catalog-info.yaml#L1"; f.URL != want {
		t.Errorf("finding URL = %q, want %q", f.URL, want)
	}
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"entity", "drift", "owner", "severity", "codeowners_owner", "file", "url"} {
		if _, ok := m[k]; !ok {
			t.Errorf("JSON finding %s lacks %q", b, k)
		}
	}
	if _, ok := m["old_owner"]; ok {
		t.Errorf("JSON finding %s has old_owner, want it left out", b)
	}
}

func TestReportFilters(t *testing.T) {
	st := sqlstoretest.OpenSQLite(t)
	loadFixture(t, st, "c1", nil)
	tests := []struct {
		name string
		f    drift.Filter
		want []string // entities
	}{
		{"team", drift.Filter{Teams: []string{"payments"}}, []string{"component:default/ledger", "component:default/mail"}},
		{"team ref", drift.Filter{Teams: []string{"group:default/Ghosts-Team"}}, []string{"component:default/legacy"}},
		{"user team", drift.Filter{Teams: []string{"user:zed"}}, []string{"component:default/zed-tool"}},
		{"rule", drift.Filter{Rules: []string{"unknown-owner"}}, []string{"component:default/orphan-svc", "component:default/zed-tool"}},
		{"system", drift.Filter{Systems: []string{"checkout"}}, []string{"component:default/orphan-svc", "component:default/zed-tool", "component:default/legacy", "component:default/ledger", "component:default/mail"}},
		{"system and rule", drift.Filter{Systems: []string{"checkout"}, Rules: []string{drift.RuleOwnerEmptyGroup}}, []string{"component:default/legacy"}},
		{"other system", drift.Filter{Systems: []string{"nope"}}, nil},
		{"domain", drift.Filter{Domains: []string{"commerce"}}, []string{"component:default/orphan-svc", "component:default/zed-tool", "component:default/legacy", "component:default/ledger", "component:default/mail"}},
		{"other domain", drift.Filter{Domains: []string{"domain:default/elsewhere"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, f := range report(t, st, time.Time{}, tt.f) {
				got = append(got, f.Entity)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Report(%+v) entities (-want +got):\n%s", tt.f, diff)
			}
		})
	}
	s, err := drift.Load(context.Background(), st, drift.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Report(drift.DefaultRules(), drift.Filter{Rules: []string{"unknown-ownr"}}); err == nil {
		t.Error("Report(rule unknown-ownr) = nil error, want unknown rule")
	}
	if _, err := s.Report(drift.DefaultRules(), drift.Filter{Systems: []string{"checkout"}}); err == nil {
		t.Error("Report(system) on a snapshot without containers = nil error, want an error")
	}
}

func TestByTeam(t *testing.T) {
	fs := []drift.Finding{
		{Entity: "component:default/a", Drift: drift.RuleOwnerChanged, Severity: drift.SeverityInfo, Owner: "group:default/x"},
		{Entity: "component:default/b", Drift: drift.RuleCodeOwnersMismatch, Severity: drift.SeverityLow, Owner: "group:default/y"},
		{Entity: "component:default/c", Drift: drift.RuleOwnerChanged, Severity: drift.SeverityInfo, Owner: "group:default/y"},
		{Entity: "component:default/d", Drift: drift.RuleUnknownOwner, Severity: drift.SeverityHigh, Owner: "group:default/z"},
	}
	drift.Sort(fs)
	var got []string
	for _, tm := range drift.ByTeam(fs) {
		got = append(got, tm.Owner+" "+tm.Worst.String()+" "+drift.CountSummary(tm.Counts))
	}
	want := []string{
		"group:default/z high 1 unknown-owner",
		"group:default/y low 1 codeowners-mismatch, 1 owner-changed",
		"group:default/x info 1 owner-changed",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ByTeam() (-want +got):\n%s", diff)
	}
}

func TestFileURL(t *testing.T) {
	tests := []struct {
		repo, ref, path string
		line            int
		want            string
	}{
		{"https://github.com/acme/cat.git", "main", "a/catalog-info.yaml", 3, "https://github.com/acme/cat/blob/main/a/catalog-info.yaml#L3"},
		{"https://x-access-token:secret@github.com/acme/cat", "", "/b.yaml", 0, "https://github.com/acme/cat/blob/HEAD/b.yaml"},
		{"git@github.com:acme/cat.git", "abc123", "c.yaml", 0, "https://github.com/acme/cat/blob/abc123/c.yaml"},
		{"ssh://git@gitlab.example.com:2222/grp/sub/cat.git", "main", "d.yaml", 7, "https://gitlab.example.com/grp/sub/cat/-/blob/main/d.yaml#L7"},
		{"https://bitbucket.org/acme/cat", "main", "e.yaml", 2, "https://bitbucket.org/acme/cat/src/main/e.yaml#lines-2"},
		{"/srv/repos/cat", "main", "f.yaml", 1, ""},
		{"./cat", "main", "f.yaml", 1, ""},
		{"file:///srv/repos/cat", "main", "f.yaml", 1, ""},
		{`C:\repos\cat`, "main", "f.yaml", 1, ""},
	}
	for _, tt := range tests {
		if got := drift.FileURL(tt.repo, tt.ref, tt.path, tt.line); got != tt.want {
			t.Errorf("FileURL(%q, %q, %q, %d) = %q, want %q", tt.repo, tt.ref, tt.path, tt.line, got, tt.want)
		}
		if strings.Contains(drift.FileURL(tt.repo, tt.ref, tt.path, tt.line), "secret") {
			t.Errorf("FileURL(%q) leaks credentials", tt.repo)
		}
	}
}

func TestCacheReloadsOnSync(t *testing.T) {
	st := sqlstoretest.OpenSQLite(t)
	loadFixture(t, st, "c1", nil)
	ctx := context.Background()
	c := drift.NewCache(st, fixtureMapping)
	run := func(since time.Time, f drift.Filter) []row {
		t.Helper()
		fs, err := c.Run(ctx, since, drift.DefaultRules(), f)
		if err != nil {
			t.Fatalf("Cache.Run: %v", err)
		}
		return rows(fs)
	}
	if diff := cmp.Diff(injected, run(time.Time{}, drift.Filter{})); diff != "" {
		t.Fatalf("Cache.Run (-want +got):\n%s", diff)
	}
	s1, err := c.Load(ctx, time.Time{}, false)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := c.Load(ctx, time.Now(), false)
	if err != nil {
		t.Fatal(err)
	}
	if &s1.Summaries()[0] != &s2.Summaries()[0] {
		t.Error("Cache.Load reloaded the catalog without a sync")
	}
	if len(s2.Changes()) != 0 || len(s1.Changes()) == 0 {
		t.Errorf("Cache.Load changes = %d (since zero), %d (since now); want some, then none", len(s1.Changes()), len(s2.Changes()))
	}
	// Filtering by system needs the containers: loaded on demand.
	if got := run(time.Time{}, drift.Filter{Systems: []string{"checkout"}, Rules: []string{drift.RuleOwnerEmptyGroup}}); len(got) != 1 {
		t.Errorf("Cache.Run(system filter) = %v, want the legacy finding", got)
	}

	// A sync moves the checkout system and empties nothing else: the
	// cache sees the new owner and the change.
	loadFixture(t, st, "c2", func(path, data string) string {
		if path == "systems/checkout.yaml" {
			return strings.Replace(data, "owner: payments", "owner: search", 1)
		}
		return data
	})
	got := run(time.Time{}, drift.Filter{Rules: []string{drift.RuleOwnerChanged}})
	if len(got) != 1 || got[0].Entity != "system:default/checkout" {
		t.Errorf("Cache.Run after sync = %v, want the checkout owner change", got)
	}
}
