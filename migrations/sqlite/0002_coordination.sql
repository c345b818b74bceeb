-- Tables that let several replicas on one database share work safely.

CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

CREATE TABLE once_keys (
    key        TEXT PRIMARY KEY,
    expires_at TEXT NOT NULL
);
CREATE INDEX once_keys_expires_at ON once_keys (expires_at);

CREATE TABLE job_runs (
    job         TEXT NOT NULL,
    tick        TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('claimed', 'succeeded', 'failed')),
    attempts    INTEGER NOT NULL DEFAULT 1,
    holder      TEXT NOT NULL DEFAULT '',
    lease_until TEXT NOT NULL,
    error       TEXT NOT NULL DEFAULT '',
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (job, tick)
);
CREATE INDEX job_runs_status ON job_runs (job, status);

CREATE TABLE template_launches (
    key         TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL,
    platform    TEXT NOT NULL,
    template    TEXT NOT NULL,
    values_json TEXT NOT NULL DEFAULT '{}',
    task_id     TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL DEFAULT 'pending',
    detail      TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
