package bot

import (
	"time"

	"github.com/portalbot/portalbot/catalog/drift"
	"github.com/portalbot/portalbot/catalog/drift/trend"
	"github.com/portalbot/portalbot/catalog/sqlstore"
)

// trendChart draws findings per rule over the recorded runs and the
// current one (findings fs at tick) as a PNG.
func trendChart(runs []sqlstore.ReportRun, fs []drift.Finding, tick time.Time) ([]byte, error) {
	points := make([]trend.Run, 0, len(runs)+1)
	for _, r := range runs {
		if r.Tick.Before(tick) {
			points = append(points, trend.Run{At: r.Tick, Counts: r.Counts})
		}
	}
	now := map[string]int{}
	for _, f := range fs {
		now[f.Drift]++
	}
	points = append(points, trend.Run{At: tick, Counts: now})
	return trend.PNG("Ownership drift findings per rule", drift.RuleNames(drift.DefaultRules()), points)
}
