package sqlstore_test

import (
	"context"
	"github.com/portalbot/portalbot/catalog/sqlstore/sqlstoretest"
	"testing"
	"time"

	"github.com/portalbot/portalbot/catalog/sqlstore"
)

func TestReportRuns(t *testing.T) {
	for name, open := range sqlstoretest.Stores() {
		t.Run(name, func(t *testing.T) {
			st := open(t)
			ctx := context.Background()
			t0 := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
			for i := range 3 {
				run := sqlstore.ReportRun{Tick: t0.Add(time.Duration(i) * 7 * 24 * time.Hour), Counts: map[string]int{"unknown-owner": 10 - i}, Keys: []string{"unknown-owner component:default/a", "x"}}
				if err := st.RecordReport(ctx, "report:weekly", run); err != nil {
					t.Fatalf("RecordReport: %v", err)
				}
			}
			if err := st.RecordReport(ctx, "report:other", sqlstore.ReportRun{Tick: t0, Counts: map[string]int{"owner-changed": 1}}); err != nil {
				t.Fatalf("RecordReport: %v", err)
			}
			runs, err := st.ReportRuns(ctx, "report:weekly", time.Time{})
			if err != nil {
				t.Fatalf("ReportRuns: %v", err)
			}
			if len(runs) != 3 {
				t.Fatalf("ReportRuns = %d runs, want 3", len(runs))
			}
			for i, r := range runs {
				if !r.Tick.Equal(t0.Add(time.Duration(i)*7*24*time.Hour)) || r.Counts["unknown-owner"] != 10-i {
					t.Errorf("ReportRuns[%d] = %v %v, want tick %d and count %d", i, r.Tick, r.Counts, i, 10-i)
				}
				if wantKeys := i == 2; (len(r.Keys) == 2) != wantKeys {
					t.Errorf("ReportRuns[%d] keys = %q, want keys only on the latest", i, r.Keys)
				}
			}
			if runs, _ := st.ReportRuns(ctx, "report:weekly", t0); len(runs) != 2 {
				t.Errorf("ReportRuns(since first) = %d runs, want 2", len(runs))
			}
		})
	}
}
