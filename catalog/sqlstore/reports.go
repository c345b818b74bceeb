package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// ReportRun is what one posted drift report found.
type ReportRun struct {
	Tick time.Time
	// Counts is the number of findings per rule.
	Counts map[string]int
	// Keys identify the findings (drift.Finding.Key); only the latest run
	// of a job keeps them.
	Keys []string
}

// reportHistory bounds how long report counts are kept for trend charts.
const reportHistory = 400 * 24 * time.Hour

// RecordReport stores what job's report at tick found, replacing an
// earlier record of the same tick. Older runs of job lose their keys, and
// runs older than about a year are deleted, so the table stays small.
func (s *Store) RecordReport(ctx context.Context, job string, run ReportRun) error {
	counts, err := json.Marshal(run.Counts)
	if err != nil {
		return fmt.Errorf("record report %s: %w", job, err)
	}
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return s.wrap("record report "+job, err)
	}
	defer tx.Rollback()
	tick := dbTimeValue(run.Tick)
	if _, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO drift_reports (job, tick, counts_json, keys) VALUES (?, ?, ?, ?)
		ON CONFLICT (job, tick) DO UPDATE SET counts_json = excluded.counts_json, keys = excluded.keys`),
		job, tick, string(counts), strings.Join(run.Keys, "\n")); err != nil {
		return s.wrap("record report "+job, err)
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind("UPDATE drift_reports SET keys = '' WHERE job = ? AND tick < ? AND keys <> ''"), job, tick); err != nil {
		return s.wrap("record report "+job, err)
	}
	if _, err := tx.ExecContext(ctx, tx.Rebind("DELETE FROM drift_reports WHERE job = ? AND tick < ?"), job, dbTimeValue(run.Tick.Add(-reportHistory))); err != nil {
		return s.wrap("record report "+job, err)
	}
	return s.wrap("record report "+job, tx.Commit())
}

// ReportRuns returns job's recorded reports after since, oldest first;
// only the latest carries Keys.
func (s *Store) ReportRuns(ctx context.Context, job string, since time.Time) ([]ReportRun, error) {
	var rows []struct {
		Tick   dbTime `db:"tick"`
		Counts string `db:"counts_json"`
		Keys   string `db:"keys"`
	}
	if err := s.db.SelectContext(ctx, &rows, s.db.Rebind("SELECT tick, counts_json, keys FROM drift_reports WHERE job = ? AND tick > ? ORDER BY tick"), job, dbTimeValue(since)); err != nil {
		return nil, s.wrap("report runs "+job, err)
	}
	out := make([]ReportRun, len(rows))
	for i, r := range rows {
		out[i] = ReportRun{Tick: r.Tick.Time}
		if err := json.Unmarshal([]byte(r.Counts), &out[i].Counts); err != nil {
			return nil, fmt.Errorf("report runs %s: counts at %s: %w", job, r.Tick.Format(time.RFC3339), err)
		}
		if r.Keys != "" {
			out[i].Keys = strings.Split(r.Keys, "\n")
		}
	}
	return out, nil
}
