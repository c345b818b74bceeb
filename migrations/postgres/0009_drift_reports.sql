-- What each posted drift report found: counts per rule (for trend charts)
-- and, for the latest report of a job only, the finding keys (to tell new
-- findings from fixed ones in the next report).
CREATE TABLE drift_reports (
    job         TEXT NOT NULL,
    tick        TIMESTAMPTZ NOT NULL,
    counts_json TEXT NOT NULL DEFAULT '{}',
    keys        TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (job, tick)
);
