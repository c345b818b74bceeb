package bot

import (
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/portalbot/portalbot/commands"
)

func TestCommandLabel(t *testing.T) {
	for _, tc := range []struct {
		req  commands.Request
		want string
	}{
		{commands.Request{Text: "owner payments-api"}, "owner"},
		{commands.Request{Text: "Who owns payments-api"}, "who"},
		{commands.Request{Text: "rm -rf"}, "other"},
		{commands.Request{Action: &commands.Action{ID: commands.ActionRun, Value: "docs component:default/payments-api"}}, "docs"},
		{commands.Request{Action: &commands.Action{ID: commands.ActionRun, Value: "team group:default/payments"}}, "team"},
		{commands.Request{Action: &commands.Action{ID: commands.ActionRun, Value: "x;y"}}, "other"},
		{commands.Request{Action: &commands.Action{ID: commands.ActionTemplateLaunch, Value: "template:default/svc"}}, "create"},
		{commands.Request{Action: &commands.Action{ID: commands.ActionTemplateSubmit}}, "create"},
		{commands.Request{Action: &commands.Action{ID: "made.up"}}, "other"},
	} {
		if got := commandLabel(&tc.req); got != tc.want {
			t.Errorf("commandLabel(%+v) = %q, want %q", tc.req.Action, got, tc.want)
		}
	}
}

// TestMetricsHTTP counts requests by route pattern and status, and 401s
// on the chat routes as refused signatures, per platform.
func TestMetricsHTTP(t *testing.T) {
	m := NewMetrics()
	if n := testutil.CollectAndCount(m.Refused); n != 2 {
		t.Errorf("refused series at start = %d, want 2 (slack, discord)", n)
	}
	mux := http.NewServeMux()
	refuse := func(w http.ResponseWriter, r *http.Request) { http.Error(w, "unauthorized", http.StatusUnauthorized) }
	mux.HandleFunc("POST /slack/commands", refuse)
	mux.HandleFunc("POST /discord/interactions", refuse)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) })
	h := m.HTTP(mux)
	for _, req := range []*http.Request{
		httptest.NewRequest(http.MethodPost, "/slack/commands", strings.NewReader("x")),
		httptest.NewRequest(http.MethodPost, "/slack/commands", strings.NewReader("x")),
		httptest.NewRequest(http.MethodPost, "/discord/interactions", strings.NewReader("x")),
		httptest.NewRequest(http.MethodGet, "/healthz", nil),
		httptest.NewRequest(http.MethodGet, "/no/such/path/1", nil),
		httptest.NewRequest(http.MethodGet, "/no/such/path/2", nil),
	} {
		h.ServeHTTP(httptest.NewRecorder(), req)
	}
	for _, c := range []struct {
		name string
		got  float64
		want float64
	}{
		{"refused slack", testutil.ToFloat64(m.Refused.WithLabelValues("slack")), 2},
		{"refused discord", testutil.ToFloat64(m.Refused.WithLabelValues("discord")), 1},
		{"POST /slack/commands 401", testutil.ToFloat64(m.HTTPRequests.WithLabelValues("POST /slack/commands", "401")), 2},
		{"GET /healthz 200", testutil.ToFloat64(m.HTTPRequests.WithLabelValues("GET /healthz", "200")), 1},
		{"unmatched 404", testutil.ToFloat64(m.HTTPRequests.WithLabelValues("unmatched", "404")), 2},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

// TestSyncDurationBuckets: bucket bounds are round seconds (a tenth or a
// half below one, whole seconds above) and reach the 10-minute timeout.
func TestSyncDurationBuckets(t *testing.T) {
	m := NewMetrics()
	m.SyncDuration.WithLabelValues("acme").Observe(1)
	mfs, err := m.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var bounds []float64
	for _, mf := range mfs {
		if mf.GetName() == "portalbot_sync_duration_seconds" {
			for _, b := range mf.GetMetric()[0].GetHistogram().GetBucket() {
				bounds = append(bounds, b.GetUpperBound())
			}
		}
	}
	if len(bounds) == 0 || bounds[len(bounds)-1] < 600 {
		t.Errorf("sync duration bounds %v, want some, up to at least 600", bounds)
	}
	for _, b := range bounds {
		round := b == math.Trunc(b) || b == 0.1 || b == 0.5
		if !round {
			t.Errorf("sync duration bound %v is not a round number of seconds (bounds %v)", b, bounds)
		}
	}
}

// TestKnownReports: every outcome of every configured report is exposed
// at zero before any run.
func TestKnownReports(t *testing.T) {
	m := NewMetrics()
	m.KnownReports([]string{"report:a", "report:slack:C1"})
	if n := testutil.CollectAndCount(m.ReportRuns); n != 8 {
		t.Errorf("report-run series = %d, want 8 (2 targets × posted, empty, error, skipped)", n)
	}
	if v := testutil.ToFloat64(m.ReportRuns.WithLabelValues("report:a", outcomeError)); v != 0 {
		t.Errorf("report:a error = %v, want 0", v)
	}
}

// TestServeMetricsEndToEnd runs serve with Slack over HTTP and a report
// target: before anything happens /metrics has the report's series at 0;
// an unsigned slash command is refused and counted, by route and as a
// refused Slack signature.
func TestServeMetricsEndToEnd(t *testing.T) {
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ok":true,"user_id":"UBOT","bot_id":"BBOT"}`)
	}))
	defer fake.Close()
	env := map[string]string{
		"SLACK_BOT_TOKEN":         "xoxb-test",
		"SLACK_SIGNING_SECRET":    "metrics-secret",
		"PORTALBOT_SLACK_API_URL": fake.URL + "/api/",
	}
	cfg := DefaultConfig()
	cfg.DB = "sqlite:" + filepath.Join(t.TempDir(), "portalbot.db")
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.Reports.Targets = []ReportTarget{{Name: "weekly", Platform: "slack", Channel: "C0WEEK", Schedule: "0 9 * * MON"}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	base := serveInProcess(t, cfg, env)
	get := func(path string) (int, string) {
		resp, err := http.Get(base + path)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	waitFor(t, 10*time.Second, "serve to be ready", func() bool { code, _ := get("/readyz"); return code == http.StatusOK })

	_, metrics := get("/metrics")
	for _, want := range []string{
		`portalbot_report_runs_total{outcome="posted",target="report:weekly"} 0`,
		`portalbot_report_runs_total{outcome="error",target="report:weekly"} 0`,
		`portalbot_signatures_refused_total{platform="slack"} 0`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics at start lacks %s", want)
		}
	}

	resp, err := http.Post(base+"/slack/commands", "application/x-www-form-urlencoded", strings.NewReader("command=/portal&text=owner+x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unsigned slash command = %d, want 401", resp.StatusCode)
	}
	_, metrics = get("/metrics")
	for _, want := range []string{
		`portalbot_signatures_refused_total{platform="slack"} 1`,
		`portalbot_http_requests_total{code="401",route="POST /slack/commands"} 1`,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics after an unsigned command lacks %s", want)
		}
	}
}
