-- kpitrail read models, schema version 1. Every table and column is
-- documented in docs/readmodels.md: analysts open this file directly, so the
-- schema is a public interface. Change it only by adding a migration.
--
-- Conventions: decimals are TEXT exact decimal strings (never REAL); a REAL
-- column ending in _f is a lossy copy for analysts. Instants are TEXT UTC
-- "YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ" (fixed width, so text order is time
-- order); calendar days are TEXT "YYYY-MM-DD".

CREATE TABLE checkpoints (
    projection       TEXT PRIMARY KEY,
    position         INTEGER NOT NULL,
    last_recorded_at TEXT,
    updated_at       TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE chain_heads (
    aggregate_type TEXT NOT NULL,
    aggregate_id   TEXT NOT NULL,
    version        INTEGER NOT NULL,
    hash           TEXT NOT NULL,
    position       INTEGER NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id)
) WITHOUT ROWID;

CREATE TABLE events_log (
    position          INTEGER NOT NULL,
    idx               INTEGER NOT NULL,
    event_id          TEXT NOT NULL UNIQUE,
    name              TEXT NOT NULL,
    schema_version    INTEGER NOT NULL,
    aggregate_type    TEXT NOT NULL,
    aggregate_id      TEXT NOT NULL,
    aggregate_version INTEGER NOT NULL,
    recorded_at       TEXT NOT NULL,
    actor             TEXT NOT NULL,
    command_id        TEXT NOT NULL,
    correlation_id    TEXT,
    causation_id      TEXT,
    source            TEXT NOT NULL,
    payload           TEXT NOT NULL,
    hash              TEXT NOT NULL,
    prev_hash         TEXT NOT NULL,
    PRIMARY KEY (position, idx)
) WITHOUT ROWID;
CREATE INDEX events_log_aggregate ON events_log (aggregate_type, aggregate_id, aggregate_version);
CREATE INDEX events_log_recorded_at ON events_log (recorded_at);

CREATE TABLE dead_letters (
    position         INTEGER PRIMARY KEY,
    subject          TEXT NOT NULL,
    kind             TEXT NOT NULL,
    event_id         TEXT,
    name             TEXT,
    aggregate_type   TEXT,
    aggregate_id     TEXT,
    error            TEXT NOT NULL,
    raw              BLOB,
    recorded_at      TEXT,
    dead_lettered_at TEXT NOT NULL
);

CREATE TABLE tasks (
    id                  TEXT PRIMARY KEY,
    year                INTEGER NOT NULL,
    dimension           TEXT NOT NULL,
    title               TEXT NOT NULL,
    description         TEXT,
    lead_department     TEXT NOT NULL,
    co_departments      TEXT NOT NULL DEFAULT '[]',
    deadline            TEXT,
    original_deadline   TEXT,
    lifecycle           TEXT NOT NULL,
    completed_on        TEXT,
    withdrawn_reason    TEXT,
    status              TEXT NOT NULL,
    progress_status     TEXT NOT NULL,
    deadline_status     TEXT NOT NULL,
    status_date         TEXT NOT NULL,
    indicators_total    INTEGER NOT NULL DEFAULT 0,
    indicators_met      INTEGER NOT NULL DEFAULT 0,
    indicators_on_track INTEGER NOT NULL DEFAULT 0,
    indicators_behind   INTEGER NOT NULL DEFAULT 0,
    indicators_not_met  INTEGER NOT NULL DEFAULT 0,
    indicators_pending  INTEGER NOT NULL DEFAULT 0,
    open_problems       INTEGER NOT NULL DEFAULT 0,
    narrative           TEXT NOT NULL DEFAULT '[]',
    narrative_as_of     TEXT,
    narrative_count     INTEGER NOT NULL DEFAULT 0,
    milestones          TEXT NOT NULL DEFAULT '[]',
    version             INTEGER NOT NULL,
    last_position       INTEGER NOT NULL,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX tasks_year_dimension ON tasks (year, dimension);
CREATE INDEX tasks_lead ON tasks (lead_department);

CREATE TABLE indicators (
    id                     TEXT PRIMARY KEY,
    task_id                TEXT NOT NULL REFERENCES tasks (id),
    year                   INTEGER NOT NULL,
    key                    TEXT NOT NULL,
    name                   TEXT NOT NULL,
    unit                   TEXT,
    direction              TEXT NOT NULL,
    formula                TEXT,
    additive               INTEGER NOT NULL,
    is_rate                INTEGER NOT NULL,
    cadence                TEXT,
    rounding               TEXT NOT NULL,
    baseline               TEXT,
    description            TEXT,
    lifecycle              TEXT NOT NULL,
    withdrawn_reason       TEXT,
    defined_event_id       TEXT NOT NULL,
    target                 TEXT,
    target_f               REAL,
    target_low             TEXT,
    target_high            TEXT,
    target_milestone       TEXT,
    target_event_id        TEXT,
    value                  TEXT,
    value_f                REAL,
    value_event_id         TEXT,
    value_window           TEXT,
    from_month             INTEGER,
    to_month               INTEGER,
    quality                TEXT,
    source_kind            TEXT,
    source_name            TEXT,
    final_due              TEXT,
    year_closed            INTEGER,
    completion_ratio       TEXT,
    completion_ratio_f     REAL,
    completion_pct_display TEXT,
    completion_case        TEXT,
    formula_used           TEXT,
    met                    INTEGER,
    status                 TEXT NOT NULL,
    expected_to_date       TEXT,
    expected_share         TEXT,
    expected_share_display TEXT,
    quality_basis          TEXT,
    derive_error           TEXT,
    position               INTEGER,
    version                INTEGER NOT NULL,
    last_position          INTEGER NOT NULL,
    created_at             TEXT NOT NULL,
    updated_at             TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX indicators_task ON indicators (task_id);
CREATE INDEX indicators_key_year ON indicators (key, year);

CREATE TABLE figures (
    event_id     TEXT PRIMARY KEY,
    indicator_id TEXT NOT NULL REFERENCES indicators (id),
    task_id      TEXT NOT NULL,
    kind         TEXT NOT NULL,
    window_key   TEXT NOT NULL,
    year         INTEGER NOT NULL,
    from_month   INTEGER NOT NULL,
    to_month     INTEGER NOT NULL,
    value        TEXT NOT NULL,
    value_f      REAL NOT NULL,
    numerator    TEXT,
    denominator  TEXT,
    quality      TEXT NOT NULL,
    source_kind  TEXT,
    source_name  TEXT,
    final_due    TEXT,
    state        TEXT NOT NULL,
    supersedes   TEXT,
    corrects     TEXT,
    fallback     TEXT,
    replaced_by  TEXT,
    note         TEXT,
    reason       TEXT,
    recorded_at  TEXT NOT NULL,
    actor        TEXT NOT NULL,
    command_id   TEXT NOT NULL,
    position     INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX figures_indicator ON figures (indicator_id, window_key, state);

CREATE TABLE bases (
    indicator_id TEXT NOT NULL REFERENCES indicators (id),
    window_key   TEXT NOT NULL,
    year         INTEGER NOT NULL,
    from_month   INTEGER NOT NULL,
    to_month     INTEGER NOT NULL,
    value        TEXT NOT NULL,
    value_f      REAL NOT NULL,
    quality      TEXT NOT NULL,
    source_kind  TEXT,
    source_name  TEXT,
    restated     INTEGER NOT NULL,
    reason       TEXT,
    event_id     TEXT NOT NULL,
    position     INTEGER NOT NULL,
    recorded_at  TEXT NOT NULL,
    PRIMARY KEY (indicator_id, window_key)
) WITHOUT ROWID;

CREATE TABLE indicator_years (
    key                TEXT NOT NULL,
    year               INTEGER NOT NULL,
    indicator_id       TEXT NOT NULL,
    task_id            TEXT NOT NULL,
    name               TEXT NOT NULL,
    unit               TEXT,
    is_rate            INTEGER NOT NULL,
    value              TEXT,
    value_f            REAL,
    value_window       TEXT,
    quality            TEXT,
    target             TEXT,
    met                INTEGER,
    status             TEXT NOT NULL,
    base               TEXT,
    base_f             REAL,
    base_window        TEXT,
    base_quality       TEXT,
    base_source        TEXT,
    base_event_id      TEXT,
    change_abs         TEXT,
    change_pct         TEXT,
    change_pct_f       REAL,
    change_pct_display TEXT,
    change_pp          TEXT,
    is_new             INTEGER,
    PRIMARY KEY (key, year)
) WITHOUT ROWID;
CREATE INDEX indicator_years_indicator ON indicator_years (indicator_id);

CREATE TABLE figure_changes (
    event_id     TEXT PRIMARY KEY,
    indicator_id TEXT NOT NULL,
    task_id      TEXT NOT NULL,
    period       TEXT NOT NULL,
    kind         TEXT NOT NULL,
    old_value    TEXT,
    new_value    TEXT,
    old_quality  TEXT,
    new_quality  TEXT,
    reason       TEXT,
    note         TEXT,
    figure_source_kind TEXT,
    figure_source_name TEXT,
    corrects     TEXT,
    actor        TEXT NOT NULL,
    recorded_at  TEXT NOT NULL,
    source       TEXT NOT NULL,
    command_id   TEXT NOT NULL,
    position     INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX figure_changes_indicator ON figure_changes (indicator_id, position);

CREATE TABLE problems (
    task_id          TEXT NOT NULL REFERENCES tasks (id),
    problem_id       TEXT NOT NULL,
    description      TEXT NOT NULL,
    cause            TEXT,
    total            INTEGER NOT NULL,
    rectified        INTEGER NOT NULL,
    remaining        INTEGER NOT NULL,
    rate             TEXT,
    rate_f           REAL,
    rate_display     TEXT,
    rate_display0    TEXT,
    state            TEXT NOT NULL,
    note             TEXT,
    recorded_event_id TEXT NOT NULL,
    last_event_id    TEXT NOT NULL,
    last_position    INTEGER NOT NULL,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    PRIMARY KEY (task_id, problem_id),
    CHECK (remaining = total - rectified AND rectified >= 0 AND rectified <= total)
) WITHOUT ROWID;

CREATE TABLE rectification_items (
    event_id           TEXT PRIMARY KEY,
    task_id            TEXT NOT NULL,
    problem_id         TEXT NOT NULL,
    kind               TEXT NOT NULL,
    previous_total     INTEGER NOT NULL,
    previous_rectified INTEGER NOT NULL,
    total              INTEGER NOT NULL,
    rectified          INTEGER NOT NULL,
    remaining          INTEGER NOT NULL,
    previous_state     TEXT NOT NULL,
    state              TEXT NOT NULL,
    note               TEXT,
    actor              TEXT NOT NULL,
    recorded_at        TEXT NOT NULL,
    position           INTEGER NOT NULL,
    FOREIGN KEY (task_id, problem_id) REFERENCES problems (task_id, problem_id)
) WITHOUT ROWID;
CREATE INDEX rectification_items_problem ON rectification_items (task_id, problem_id, position);

CREATE TABLE provenance (
    table_name  TEXT NOT NULL,
    row_key     TEXT NOT NULL,
    column_name TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    position    INTEGER NOT NULL,
    PRIMARY KEY (table_name, row_key, column_name, event_id)
) WITHOUT ROWID;
CREATE INDEX provenance_event ON provenance (event_id);
