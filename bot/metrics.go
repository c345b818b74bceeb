package bot

import (
	"context"
	"errors"
	"net/http"
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
			Buckets: prometheus.ExponentialBuckets(0.01, 2.5, 12),
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
	}
	m.Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.Commands, m.CommandLatency, m.SyncRuns, m.SyncDuration, m.SyncEntities,
		m.SyncErrors, m.ReportRuns, m.PlatformErrors, m.RateLimited,
	)
	return m
}

// Handler serves the registry in Prometheus' exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
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

// commandLabel bounds label cardinality: the command's first word when it
// is a known shape, "action" for interactions, "other" otherwise.
func commandLabel(req *commands.Request) string {
	if req.Action != nil {
		return "action"
	}
	w := []rune{}
	for _, r := range req.Text {
		if r == ' ' || len(w) >= 16 {
			break
		}
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') {
			return "other"
		}
		w = append(w, r|0x20)
	}
	switch s := string(w); s {
	case "owner", "who", "docs", "where", "team", "oncall", "deps", "search", "templates", "create", "drift", "help":
		return s
	}
	return "other"
}
