package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/portalbot/portalbot/catalog/drift"
	"github.com/portalbot/portalbot/catalog/sqlstore"
)

// reportCLI runs "portalbot report args..." in-process with env vars.
func reportCLI(t *testing.T, vars map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := &Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return vars[k] }}
	code := Main(context.Background(), append([]string{"report"}, args...), env)
	return code, out.String(), errb.String()
}

// reportDB is a SQLite database file holding the drift fixture, and a
// config file with the fixture's CODEOWNERS mapping and extra YAML.
func reportDB(t *testing.T, extraYAML string) (st *sqlstore.Store, dbURL, cfgPath string) {
	t.Helper()
	dir := t.TempDir()
	dbURL = "sqlite:" + filepath.Join(dir, "portalbot.db")
	st, err := sqlstore.Open(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	loadDriftFixture(t, st, "c1", nil)
	cfgPath = filepath.Join(dir, "portalbot.yaml")
	cfg := "reports:\n  codeowners_mapping:\n    \"@acme/money\": group:default/billing\n" + extraYAML
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return st, dbURL, cfgPath
}

// jsonRow is the part of a JSON finding the expectations pin.
type jsonRow struct {
	Entity string `json:"entity"`
	Drift  string `json:"drift"`
	Owner  string `json:"owner"`
	CO     string `json:"codeowners_owner"`
	Old    string `json:"old_owner"`
	New    string `json:"new_owner"`
	Commit string `json:"commit"`
	File   string `json:"file"`
	URL    string `json:"url"`
}

func decodeRows(t *testing.T, out string) []jsonRow {
	t.Helper()
	var rows []jsonRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		t.Fatalf("report output is not a JSON array: %v\n%s", err, out)
	}
	return rows
}

const fixtureURL = "https://github.com/acme/catalog/blob/main/"

// injectedRows is every drift planted in the fixture, most serious first.
var injectedRows = []jsonRow{
	{Entity: "component:default/orphan-svc", Drift: "unknown-owner", Owner: "group:default/nobody", File: "services/orphan/catalog-info.yaml", URL: fixtureURL + "services/orphan/catalog-info.yaml#L1"},
	{Entity: "component:default/zed-tool", Drift: "unknown-owner", Owner: "user:default/zed", File: "services/zed-tool/catalog-info.yaml", URL: fixtureURL + "services/zed-tool/catalog-info.yaml#L1"},
	{Entity: "component:default/legacy", Drift: "owner-empty-group", Owner: "group:default/ghosts-team", File: "services/legacy/catalog-info.yaml", URL: fixtureURL + "services/legacy/catalog-info.yaml#L1"},
	{Entity: "component:default/ledger", Drift: "codeowners-mismatch", Owner: "group:default/payments", CO: "@acme/search", File: "services/ledger/catalog-info.yaml", URL: fixtureURL + "services/ledger/catalog-info.yaml#L1"},
	{Entity: "component:default/mail", Drift: "codeowners-mismatch", Owner: "group:default/payments", CO: "carol@example.com", File: "services/mail/catalog-info.yaml", URL: fixtureURL + "services/mail/catalog-info.yaml#L1"},
}

func TestReportDryRunJSON(t *testing.T) {
	st, db, cfg := reportDB(t, "")
	code, out, errOut := reportCLI(t, nil, "--db", db, "--config", cfg, "--dry-run", "--format", "json")
	if code != ExitOK {
		t.Fatalf("report --dry-run = %d, stderr %s", code, errOut)
	}
	if diff := cmp.Diff(injectedRows, decodeRows(t, out)); diff != "" {
		t.Fatalf("report --dry-run --format json (-want +got):\n%s", diff)
	}

	// A second sync batch changes an owner: exactly one more finding.
	loadDriftFixture(t, st, "c2", moveCheckout)
	code, out, errOut = reportCLI(t, nil, "--db", db, "--config", cfg, "--dry-run", "--format", "json")
	if code != ExitOK {
		t.Fatalf("report after second sync = %d, stderr %s", code, errOut)
	}
	want := append(append([]jsonRow{}, injectedRows...), jsonRow{
		Entity: "system:default/checkout", Drift: "owner-changed", Owner: "group:default/search",
		Old: "group:default/payments", New: "group:default/search", Commit: "c2",
		File: "systems/checkout.yaml", URL: fixtureURL + "systems/checkout.yaml#L1",
	})
	if diff := cmp.Diff(want, decodeRows(t, out)); diff != "" {
		t.Fatalf("report after owner change (-want +got):\n%s", diff)
	}

	// --team keeps one owner's findings; --since later than the change
	// drops it.
	_, out, _ = reportCLI(t, nil, "--db", db, "--config", cfg, "--dry-run", "--format", "json", "--team", "search")
	if rows := decodeRows(t, out); len(rows) != 1 || rows[0].Drift != drift.RuleOwnerChanged {
		t.Errorf("report --team search = %+v, want only the owner change", rows)
	}
	_, out, _ = reportCLI(t, nil, "--db", db, "--config", cfg, "--dry-run", "--format", "json", "--team", "group:default/billing")
	if out != "[]\n" {
		t.Errorf("report --team billing = %q, want an empty JSON array", out)
	}
	_, out, _ = reportCLI(t, nil, "--db", db, "--config", cfg, "--dry-run", "--format", "json", "--since", "2099-01-01")
	if diff := cmp.Diff(injectedRows, decodeRows(t, out)); diff != "" {
		t.Errorf("report --since 2099-01-01 (-want +got):\n%s", diff)
	}
}

func TestReportDryRunText(t *testing.T) {
	_, db, cfg := reportDB(t, "")
	code, out, errOut := reportCLI(t, nil, "--db", db, "--config", cfg, "--dry-run")
	if code != ExitOK {
		t.Fatalf("report --dry-run = %d, stderr %s", code, errOut)
	}
	for _, want := range []string{
		"Ownership drift: 5 findings in 4 teams",
		"payments (group:default/payments): 2 issues, 2 findings (2 codeowners-mismatch)",
		"[high] unknown-owner: owner group:default/nobody is not a Group or User in the catalog and is named by orphan-svc",
		"fix: " + fixtureURL + "org/groups.yaml#L",
		"acme/catalog: services/ledger/catalog-info.yaml:1",
		fixtureURL + "services/mail/catalog-info.yaml#L1",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report --dry-run output lacks %q:\n%s", want, out)
		}
	}
}

func TestReportPostsToTargets(t *testing.T) {
	slack := newFakeSlack(t, nil)
	_, db, cfg := reportDB(t, "  targets:\n    - name: weekly\n      platform: slack\n      channel: C0WEEKLY\n      schedule: \"0 9 * * 1\"\n      rules: [unknown-owner]\n")
	vars := map[string]string{
		"SLACK_BOT_TOKEN":         "xoxb-test",
		"SLACK_SIGNING_SECRET":    "test-secret",
		"PORTALBOT_SLACK_API_URL": slack.srv.URL + "/api/",
	}
	code, out, errOut := reportCLI(t, vars, "--db", db, "--config", cfg)
	if code != ExitOK || !strings.Contains(out, "report:weekly: posted") {
		t.Fatalf("report = %d, %q, stderr %s; want posted", code, out, errOut)
	}
	posts := slack.Posts()
	if len(posts) != 1 || posts[0].Channel != "C0WEEKLY" {
		t.Fatalf("posts = %+v, want one to C0WEEKLY", posts)
	}
	if got := posts[0].Text + posts[0].Blocks; !strings.Contains(got, "orphan-svc") || strings.Contains(got, "ledger") {
		t.Errorf("post should hold the unknown-owner findings only:\n%s", got)
	}
	// The same minute again: already posted, nothing twice.
	code, out, _ = reportCLI(t, vars, "--db", db, "--config", cfg)
	if code != ExitOK || !strings.Contains(out, "skipped") || len(slack.Posts()) != 1 {
		t.Errorf("second report in the same minute = %d, %q, %d posts; want skipped and still 1 post", code, out, len(slack.Posts()))
	}
}

func TestReportUsage(t *testing.T) {
	_, db, cfg := reportDB(t, "")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"format", []string{"--dry-run", "--format", "xml"}, "--format"},
		{"since", []string{"--dry-run", "--since", "last tuesday"}, "--since"},
		{"target", []string{"--dry-run", "--target", "nope"}, "no report target named"},
		{"no targets", nil, "no report targets configured"},
		{"argument", []string{"--dry-run", "extra"}, "unexpected argument"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errOut := reportCLI(t, nil, append([]string{"--db", db, "--config", cfg}, tt.args...)...)
			if code != ExitUsage || !strings.Contains(errOut, tt.want) {
				t.Errorf("report %v = %d, %q; want %d and %q", tt.args, code, errOut, ExitUsage, tt.want)
			}
		})
	}
	if code, _, errOut := reportCLI(t, nil, "--db", db, "--config", cfg, "--dry-run", "--team", "a:b:c"); code != ExitUsage || !strings.Contains(errOut, "--team") {
		t.Errorf("report --team a:b:c = %d, %q; want a usage error naming --team", code, errOut)
	}
}

func TestReportUnknownTeamSuggests(t *testing.T) {
	_, db, cfg := reportDB(t, "")
	code, out, errOut := reportCLI(t, nil, "--db", db, "--config", cfg, "--dry-run", "--team", "paymnets")
	if code != ExitUsage || !strings.Contains(errOut, `no team "paymnets" in the catalog; did you mean payments`) {
		t.Errorf("report --team paymnets = %d, stdout %q, stderr %q; want a usage error suggesting payments", code, out, errOut)
	}
	code, _, errOut = reportCLI(t, nil, "--db", db, "--config", cfg, "--dry-run", "--team", "zzzzzzzzzz")
	if code != ExitUsage || !strings.Contains(errOut, "no entity names it as owner") {
		t.Errorf("report --team zzzzzzzzzz = %d, stderr %q; want a usage error", code, errOut)
	}
	// An owner the catalog lacks but entities name is a team to report on.
	code, out, errOut = reportCLI(t, nil, "--db", db, "--config", cfg, "--dry-run", "--format", "json", "--team", "nobody")
	if rows := decodeRows(t, out); code != ExitOK || len(rows) != 1 {
		t.Errorf("report --team nobody = %d, %d rows, stderr %q; want the unknown owner's finding", code, len(rows), errOut)
	}
}

func TestReportRulesFlag(t *testing.T) {
	_, db, cfg := reportDB(t, "")
	code, out, errOut := reportCLI(t, nil, "--db", db, "--config", cfg, "--dry-run", "--format", "json", "--rules", "unknown-owner")
	rows := decodeRows(t, out)
	if code != ExitOK || len(rows) != 2 {
		t.Fatalf("report --rules unknown-owner = %d, %d rows, stderr %q; want the 2 unknown owners", code, len(rows), errOut)
	}
	for _, r := range rows {
		if r.Drift != drift.RuleUnknownOwner {
			t.Errorf("report --rules unknown-owner row %+v, want only unknown-owner", r)
		}
	}
	if code, _, errOut := reportCLI(t, nil, "--db", db, "--config", cfg, "--dry-run", "--rules", "nope"); code != ExitUsage || !strings.Contains(errOut, `unknown rule "nope"`) {
		t.Errorf("report --rules nope = %d, stderr %q; want a usage error", code, errOut)
	}
}
