package bot

import (
	"context"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/portalbot/portalbot/catalog/synth"
)

// Secret values given to the serve processes; none may appear in a log.
var testSecrets = map[string]string{
	"SLACK_BOT_TOKEN":      "xoxb-ha-bot-token-7f3a9c",
	"SLACK_SIGNING_SECRET": "ha-signing-secret-51d0e2",
	"SLACK_APP_TOKEN":      "",
	"PORTALBOT_GIT_TOKEN":  "ghp-ha-git-token-c0ffee",
	"DISCORD_BOT_TOKEN":    "discord-ha-bot-token-b16b00b5",
}

const testDBPassword = "db-ha-password-8badf00d"

// TestServeTwoReplicas starts two real serve processes on one Postgres
// schema, each syncing one source and posting one report on "@every 2s",
// and checks that every tick was synced once and reported once across the
// two; that /metrics, JSON logs and request ids are there; that no secret
// reaches a log even though some calls fail; and that SIGTERM lets an
// in-flight command finish.
func TestServeTwoReplicas(t *testing.T) {
	dsn, st := pgSchemaDSN(t, testDBPassword)
	bin := buildPortalbot(t)
	repos, err := synth.Generate(t.TempDir(), synth.Options{Entities: 100, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	slack := newFakeSlack(t, nil)
	dir := t.TempDir()
	cfg := `portal_url: https://portal.example.com
sources:
  - name: acme
    repo: ` + repos[0] + `
    schedule: "@every 2s"
  - name: broken
    repo: https://127.0.0.1:1/acme/missing.git
    schedule: "@every 2s"
reports:
  targets:
    - name: ha
      platform: slack
      channel: C0HA
      schedule: "@every 2s"
      empty: oneline
`
	cfgPath := filepath.Join(dir, "portalbot.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"PORTALBOT_CONFIG":          cfgPath,
		"PORTALBOT_DB":              dsn,
		"PORTALBOT_SLACK_API_URL":   slack.srv.URL + "/api/",
		"PORTALBOT_DISCORD_API_URL": slack.srv.URL + "/discord/",
		"PORTALBOT_DISCORD_GATEWAY": "off",
		"DISCORD_APP_ID":            "123456789012345678",
		"DISCORD_PUBLIC_KEY":        hex.EncodeToString(make([]byte, 32)),
		"PORTALBOT_LOG_LEVEL":       "debug",
		"PORTALBOT_READYZ_DETAILS":  "true", // the check below reads the source's name
	}
	for k, v := range testSecrets {
		if v != "" {
			env[k] = v
		}
	}
	procs := make([]*serveProc, 2)
	for i := range procs {
		e := map[string]string{"XDG_CACHE_HOME": filepath.Join(dir, "cache", string(rune('a'+i)))}
		for k, v := range env {
			e[k] = v
		}
		procs[i] = startServe(t, bin, "replica-"+string(rune('a'+i)), e)
	}

	// Let both replicas run through several ticks.
	waitFor(t, 30*time.Second, "three report posts", func() bool { return len(slack.Posts()) >= 3 })

	for _, p := range procs {
		if code, body := p.get(t, "/healthz"); code != 200 {
			t.Errorf("%s /healthz = %d %s", p.name, code, body)
		}
		if code, body := p.get(t, "/readyz"); code != 200 || !strings.Contains(body, `"name":"acme"`) {
			t.Errorf("%s /readyz = %d %s, want ready with source acme", p.name, code, body)
		}
	}

	// A signed command, answered from the synced catalog, with a request id.
	code, reqID, body := slash(t, procs[0].addr, testSecrets["SLACK_SIGNING_SECRET"], "owner service-1", slack.srv.URL+"/hooks/1")
	if code != 200 || !strings.Contains(body, "service-1 is owned by") || reqID == "" {
		t.Errorf("owner service-1 = %d, request id %q, %.300s", code, reqID, body)
	}
	// A forged one is refused.
	if code, _, _ := slash(t, procs[1].addr, "not-the-secret", "owner service-1", slack.srv.URL+"/hooks/2"); code != 401 && code != 403 {
		t.Errorf("forged slash command = %d, want 401 or 403", code)
	}

	checkMetrics(t, procs)

	// SIGTERM while a request is in flight: its body arrives after the
	// signal, and it is still answered.
	inflight := startInflight(t, procs[0].addr, testSecrets["SLACK_SIGNING_SECRET"], "owner service-2", slack.srv.URL+"/hooks/3")
	procs[1].stop(t)
	if err := procs[0].cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if resp := inflight(); !strings.HasPrefix(resp, "HTTP/1.1 200") || !strings.Contains(resp, "service-2 is owned by") {
		t.Errorf("in-flight command across shutdown answered:\n%.500s", resp)
	}
	procs[0].stop(t)

	// Ticks: each synced once and reported once across replicas.
	ctx := context.Background()
	type run struct {
		Tick   string `db:"tick"`
		Status string `db:"status"`
		Holder string `db:"holder"`
	}
	for _, job := range []string{"sync:acme", "report:ha"} {
		var runs []run
		if err := st.DB().SelectContext(ctx, &runs, "SELECT tick, status, holder FROM job_runs WHERE job = $1 ORDER BY tick", job); err != nil {
			t.Fatal(err)
		}
		if len(runs) < 2 {
			t.Errorf("%s: %d ticks recorded, want several", job, len(runs))
		}
		for _, r := range runs {
			if r.Status != "succeeded" {
				t.Errorf("%s tick %s: status %q by %s, want succeeded", job, r.Tick, r.Status, r.Holder)
			}
		}
		t.Logf("%s: %d ticks", job, len(runs))
	}
	var reportRuns, syncTicks int
	if err := st.DB().Get(&reportRuns, "SELECT count(*) FROM job_runs WHERE job = 'report:ha' AND status = 'succeeded'"); err != nil {
		t.Fatal(err)
	}
	if n := len(slack.Posts()); n != reportRuns {
		t.Errorf("fake Slack got %d report posts for %d report ticks, want one each", n, reportRuns)
	}
	if err := st.DB().Get(&syncTicks, "SELECT count(*) FROM job_runs WHERE job = 'sync:acme' AND status = 'succeeded'"); err != nil {
		t.Fatal(err)
	}
	syncs := 0
	for _, p := range procs {
		for _, rec := range p.records(t) {
			if rec["msg"] == "sync finished" && rec["source"] == "acme" {
				syncs++
			}
		}
	}
	if syncs != syncTicks {
		t.Errorf("replicas ran %d syncs of acme for %d sync ticks, want one each", syncs, syncTicks)
	}

	checkLogs(t, procs, reqID)
}

// checkMetrics reads both replicas' /metrics: the command on replica a,
// and syncs and reports on whichever replica ran them.
func checkMetrics(t *testing.T, procs []*serveProc) {
	t.Helper()
	texts := make([]string, len(procs))
	for i, p := range procs {
		code, body := p.get(t, "/metrics")
		if code != 200 {
			t.Fatalf("%s /metrics = %d", p.name, code)
		}
		texts[i] = body
	}
	if v, ok := metricValue(texts[0], "portalbot_commands_total", `command="owner"`, `outcome="ok"`); !ok || v != 1 {
		t.Errorf("portalbot_commands_total{command=owner,outcome=ok} = %v (found %v), want 1", v, ok)
	}
	if v, ok := metricValue(texts[0], "portalbot_command_duration_seconds_count", `command="owner"`); !ok || v != 1 {
		t.Errorf("portalbot_command_duration_seconds_count{command=owner} = %v, want 1", v)
	}
	all := strings.Join(texts, "\n")
	for _, c := range []struct {
		series string
		labels []string
	}{
		{"portalbot_sync_runs_total", []string{`source="acme"`, `outcome="ok"`}},
		{"portalbot_sync_runs_total", []string{`source="broken"`, `outcome="error"`}},
		{"portalbot_sync_duration_seconds_count", []string{`source="acme"`}},
		{"portalbot_catalog_entities", []string{`kind="Component"`}},
		{"portalbot_sync_errors", []string{`source="acme"`}},
		{"portalbot_report_runs_total", []string{`target="report:ha"`, `outcome="empty"`}},
		{"portalbot_report_runs_total", []string{`target="report:ha"`, `outcome="skipped"`}},
		{"process_resident_memory_bytes", nil},
		{"go_goroutines", nil},
	} {
		if _, ok := metricValue(all, c.series, c.labels...); !ok {
			t.Errorf("/metrics of both replicas lack %s%v", c.series, c.labels)
		}
	}
}

// checkLogs: JSON only, a request id on the command's log line, and no
// secret value anywhere.
func checkLogs(t *testing.T, procs []*serveProc, reqID string) {
	t.Helper()
	sawReq, sawFailure := false, false
	for _, p := range procs {
		for _, rec := range p.records(t) {
			if rec["msg"] == "http request" && rec["path"] == "/slack/commands" && rec["request_id"] == reqID {
				sawReq = true
			}
			if rec["level"] == "ERROR" || rec["level"] == "WARN" {
				sawFailure = true
			}
		}
		logs := p.Logs()
		for k, v := range testSecrets {
			if v != "" && strings.Contains(logs, v) {
				t.Errorf("%s logged the value of %s", p.name, k)
			}
		}
		if strings.Contains(logs, testDBPassword) {
			t.Errorf("%s logged the database password", p.name)
		}
	}
	if !sawReq {
		t.Errorf("no http request log line with request_id %q for the slash command", reqID)
	}
	if !sawFailure {
		t.Errorf("no warning or error logged; the broken source should have failed")
	}
}
