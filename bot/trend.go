package bot

import (
	"time"

	"github.com/portalbot/portalbot/catalog/drift"
	"github.com/portalbot/portalbot/catalog/sqlstore"
)

// trendChart draws findings per rule over the recorded runs and the
// current one (at tick) as a PNG.
func trendChart(runs []sqlstore.ReportRun, fs []drift.Finding, tick time.Time) ([]byte, error) {
	return nil, errNoChart
}

var errNoChart = errorString("trend chart: not built")

type errorString string

func (e errorString) Error() string { return string(e) }
