package bot

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/portalbot/portalbot/commands"
)

// Metrics are the Prometheus series serve exposes on /metrics. Every
// field is never nil once NewMetrics returns.
type Metrics struct {
	Registry *prometheus.Registry

	Commands       *prometheus.CounterVec   // command, outcome
	CommandLatency *prometheus.HistogramVec // command
	SyncRuns       *prometheus.CounterVec   // source, outcome
	SyncDuration   *prometheus.HistogramVec // source
	SyncEntities   *prometheus.GaugeVec     // kind
	SyncErrors     *prometheus.GaugeVec     // source
	ReportRuns     *prometheus.CounterVec   // target, outcome
	PlatformErrors *prometheus.CounterVec   // platform, call
	RateLimited    *prometheus.CounterVec   // platform
	HTTPRequests   *prometheus.CounterVec   // route, code
	Refused        *prometheus.CounterVec   // platform
}

// NewMetrics registers portalbot's series, plus the Go and process
// collectors, on a fresh registry.
func NewMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		Commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portalbot_commands_total", Help: "Chat commands and interactions handled, by command and outcome (ok, user_error, error).",
		}, []string{"command", "outcome"}),
		CommandLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "portalbot_command_duration_seconds", Help: "Time to build a command's reply.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"command"}),
		SyncRuns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portalbot_sync_runs_total", Help: "Catalog syncs, by source and outcome (ok, noop, error).",
		}, []string{"source", "outcome"}),
		SyncDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "portalbot_sync_duration_seconds", Help: "Duration of one source's sync.",
			// Round seconds, from a no-op pull to the 10-minute default
			// timeout, so a dashboard's thresholds read as written.
			Buckets: []float64{0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600},
		}, []string{"source"}),
		SyncEntities: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "portalbot_catalog_entities", Help: "Entities in the catalog, by kind, after the last sync.",
		}, []string{"kind"}),
		SyncErrors: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "portalbot_sync_errors", Help: "Processing errors recorded by the last sync of a source.",
		}, []string{"source"}),
		ReportRuns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portalbot_report_runs_total", Help: "Scheduled drift reports, by target and outcome (posted, empty, error).",
		}, []string{"target", "outcome"}),
		PlatformErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portalbot_platform_api_errors_total", Help: "Failed Slack/Discord API calls, by platform and call.",
		}, []string{"platform", "call"}),
		RateLimited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portalbot_platform_rate_limited_total", Help: "Rate-limited Slack/Discord API calls, by platform.",
		}, []string{"platform"}),
		HTTPRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portalbot_http_requests_total", Help: "HTTP requests served, by route pattern (\"unmatched\" for none) and status code.",
		}, []string{"route", "code"}),
		Refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "portalbot_signatures_refused_total", Help: "Slack/Discord requests refused for a missing or bad signature, by platform.",
		}, []string{"platform"}),
	}
	// Present from start: a rate of refusals is computable before the
	// first one, and an alert on it has a series to watch.
	for _, p := range []string{"slack", "discord"} {
		m.Refused.WithLabelValues(p)
	}
	m.Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.Commands, m.CommandLatency, m.SyncRuns, m.SyncDuration, m.SyncEntities,
		m.SyncErrors, m.ReportRuns, m.PlatformErrors, m.RateLimited,
		m.HTTPRequests, m.Refused,
	)
	return m
}

// Handler serves the registry in Prometheus' exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
}

// KnownReports creates every report-run series of the given jobs at zero,
// so that increase() and absence alerts work before a report's first run.
func (m *Metrics) KnownReports(jobs []string) {
	for _, j := range jobs {
		for _, o := range []string{outcomePosted, outcomeEmpty, outcomeError, outcomeSkipped} {
			m.ReportRuns.WithLabelValues(j, o)
		}
	}
}

// HTTP counts every request by the route pattern it matched and its
// status, and counts 401s on the chat routes as refused signatures: the
// Slack and Discord adapters answer 401 only when a signature is missing
// or wrong. The pattern, not the path, keeps the label set bounded.
func (m *Metrics) HTTP(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rw, r)
		// ServeMux sets r.Pattern on the request it was given.
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		m.HTTPRequests.WithLabelValues(route, strconv.Itoa(rw.status)).Inc()
		if rw.status == http.StatusUnauthorized {
			switch {
			case strings.HasPrefix(r.URL.Path, "/slack/"):
				m.Refused.WithLabelValues("slack").Inc()
			case strings.HasPrefix(r.URL.Path, "/discord/"):
				m.Refused.WithLabelValues("discord").Inc()
			}
		}
	})
}

// Middleware counts commands by name and outcome and observes latency.
func (m *Metrics) Middleware(next commands.HandlerFunc) commands.HandlerFunc {
	return func(ctx context.Context, req *commands.Request) (commands.Reply, error) {
		start := time.Now()
		rep, err := next(ctx, req)
		name := commandLabel(req)
		outcome := "ok"
		var ue *commands.UserError
		switch {
		case errors.As(err, &ue):
			outcome = "user_error"
		case err != nil:
			outcome = "error"
		}
		m.Commands.WithLabelValues(name, outcome).Inc()
		m.CommandLatency.WithLabelValues(name).Observe(time.Since(start).Seconds())
		return rep, err
	}
}

// commandLabels are the command labels besides "other".
var commandLabels = []string{"owner", "who", "docs", "where", "team", "oncall", "deps", "search", "templates", "create", "drift", "help"}

// commandLabel bounds label cardinality: the command's first word when it
// is a known command, "other" otherwise. A button that runs a command
// counts as that command, template launches and submissions as create.
func commandLabel(req *commands.Request) string {
	text := req.Text
	if a := req.Action; a != nil {
		switch a.ID {
		case commands.ActionRun:
			text = a.Value
		case commands.ActionTemplateLaunch, commands.ActionTemplateSubmit:
			return "create"
		default:
			return "other"
		}
	}
	// Letters only, so a byte at a time: any other byte makes it "other".
	var w [16]byte
	n := 0
	for i := 0; i < len(text) && text[i] != ' ' && n < len(w); i++ {
		c := text[i]
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') {
			return "other"
		}
		w[n] = c | 0x20
		n++
	}
	for _, known := range commandLabels {
		if string(w[:n]) == known {
			return known
		}
	}
	return "other"
}
