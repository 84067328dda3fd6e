-- Year-end snapshots (snapshot.recorded events), schema version 2.

CREATE TABLE snapshots (
    event_id     TEXT PRIMARY KEY,
    year         INTEGER NOT NULL,
    position     INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    root         TEXT NOT NULL,
    aggregates   INTEGER NOT NULL,
    file         TEXT,
    note         TEXT,
    actor        TEXT NOT NULL,
    recorded_at  TEXT NOT NULL,
    event_position INTEGER NOT NULL
) WITHOUT ROWID;

CREATE INDEX snapshots_year ON snapshots (year, position);
