-- Control over a figure's life, schema version 3: frozen years.

-- One row per assessment year that was ever frozen (year.frozen,
-- year.reopened): its lock as it stands.
CREATE TABLE years (
    year              INTEGER PRIMARY KEY,
    state             TEXT NOT NULL,      -- frozen | open
    frozen_event_id   TEXT,
    frozen_at         TEXT,
    frozen_by         TEXT,
    frozen_note       TEXT,
    reopened_event_id TEXT,
    reopened_at       TEXT,
    reopened_by       TEXT,
    reopen_reason     TEXT,
    version           INTEGER NOT NULL,
    last_position     INTEGER NOT NULL
) WITHOUT ROWID;

-- Every freeze and reopen, for the audit trail of each indicator of the year.
CREATE TABLE year_changes (
    event_id    TEXT PRIMARY KEY,
    year        INTEGER NOT NULL,
    kind        TEXT NOT NULL,            -- frozen | reopened
    reason      TEXT,
    note        TEXT,
    actor       TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    source      TEXT NOT NULL,
    command_id  TEXT NOT NULL,
    position    INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX year_changes_year ON year_changes (year, position);
