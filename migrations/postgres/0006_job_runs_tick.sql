-- Replicas syncing a tick's sources look up, every few seconds while other
-- replicas hold claims, which runs of that tick have finished
-- (FinishedJobs); job_runs keeps a week of ticks for every source.
CREATE INDEX job_runs_tick ON job_runs (tick);
