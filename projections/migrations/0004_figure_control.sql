-- Control over a figure's life, schema version 4: frozen years, review and
-- approval, warnings, reporting periods.

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

-- Review and approval: where each figure stands (reported, submitted,
-- approved, returned, reopened), who submitted and who reviewed it.
ALTER TABLE figures ADD COLUMN review_state TEXT NOT NULL DEFAULT 'reported';
ALTER TABLE figures ADD COLUMN submitted_by TEXT;
ALTER TABLE figures ADD COLUMN submitted_at TEXT;
ALTER TABLE figures ADD COLUMN reviewed_by TEXT;
ALTER TABLE figures ADD COLUMN reviewed_at TEXT;
ALTER TABLE figures ADD COLUMN review_reason TEXT;
ALTER TABLE figures ADD COLUMN review_event_id TEXT;
CREATE INDEX figures_review ON figures (review_state, state);

-- The review state of the figure an indicator's value comes from.
ALTER TABLE indicators ADD COLUMN review_state TEXT;

-- Year over year on approved figures, beside the columns computed on the
-- current figures whether approved or not.
ALTER TABLE indicator_years ADD COLUMN review_state TEXT;
ALTER TABLE indicator_years ADD COLUMN approved_value TEXT;
ALTER TABLE indicator_years ADD COLUMN approved_value_window TEXT;
ALTER TABLE indicator_years ADD COLUMN approved_value_event_id TEXT;
ALTER TABLE indicator_years ADD COLUMN approved_base TEXT;
ALTER TABLE indicator_years ADD COLUMN approved_base_source TEXT;
ALTER TABLE indicator_years ADD COLUMN approved_base_event_id TEXT;
ALTER TABLE indicator_years ADD COLUMN approved_change_abs TEXT;
ALTER TABLE indicator_years ADD COLUMN approved_change_pct TEXT;
ALTER TABLE indicator_years ADD COLUMN approved_change_pct_display TEXT;
ALTER TABLE indicator_years ADD COLUMN approved_change_pp TEXT;
ALTER TABLE indicator_years ADD COLUMN approved_is_new INTEGER;

-- Bases and targets a department proposed, and the office's decision.
CREATE TABLE proposals (
    event_id          TEXT PRIMARY KEY,
    indicator_id      TEXT NOT NULL REFERENCES indicators (id),
    task_id           TEXT NOT NULL,
    kind              TEXT NOT NULL,      -- base | target
    window_key        TEXT,
    value             TEXT,
    target_low        TEXT,
    target_high       TEXT,
    target_milestone  TEXT,
    quality           TEXT,
    source_kind       TEXT,
    source_name       TEXT,
    reason            TEXT NOT NULL,
    state             TEXT NOT NULL,      -- pending | approved | rejected
    proposed_by       TEXT NOT NULL,
    proposed_at       TEXT NOT NULL,
    decided_by        TEXT,
    decided_at        TEXT,
    decision_reason   TEXT,
    decision_event_id TEXT,
    position          INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX proposals_state ON proposals (state, indicator_id);

-- The audit trail of review steps and proposals: the state before and after
-- (reported → submitted, pending → approved, …).
ALTER TABLE figure_changes ADD COLUMN old_state TEXT;
ALTER TABLE figure_changes ADD COLUMN new_state TEXT;

-- Warnings: declarative rules (domain.WarningRules) evaluated on the facts
-- of each indicator, stored with the figure they are about.
ALTER TABLE indicators ADD COLUMN allow_negative INTEGER NOT NULL DEFAULT 0;
ALTER TABLE indicators ADD COLUMN part_of TEXT;
ALTER TABLE indicators ADD COLUMN sum_tolerance TEXT;
ALTER TABLE indicators ADD COLUMN outlier_band TEXT;
ALTER TABLE indicators ADD COLUMN conversion_from_unit TEXT;
ALTER TABLE indicators ADD COLUMN conversion_factor TEXT;
CREATE INDEX indicators_part_of ON indicators (part_of);

CREATE TABLE warnings (
    indicator_id         TEXT NOT NULL,
    rule                 TEXT NOT NULL,
    subject              TEXT NOT NULL,   -- the figure's event id, '' for the indicator itself
    task_id              TEXT NOT NULL,
    year                 INTEGER NOT NULL,
    window_key           TEXT,
    severity             TEXT NOT NULL,   -- error | warning
    message              TEXT NOT NULL,
    related              TEXT NOT NULL,   -- JSON array of the other figures or indicators it names
    state                TEXT NOT NULL,   -- open | explained
    explanation          TEXT,
    explained_by         TEXT,
    explained_at         TEXT,
    explanation_event_id TEXT,
    PRIMARY KEY (indicator_id, rule, subject)
) WITHOUT ROWID;
CREATE INDEX warnings_state ON warnings (state, year);
CREATE INDEX warnings_subject ON warnings (subject);

-- The latest explanation of each warning, kept whether or not the warning
-- is open now (a warning that goes and comes back stays explained).
CREATE TABLE warning_explanations (
    indicator_id TEXT NOT NULL,
    rule         TEXT NOT NULL,
    subject      TEXT NOT NULL,
    reason       TEXT NOT NULL,
    actor        TEXT NOT NULL,
    recorded_at  TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    position     INTEGER NOT NULL,
    PRIMARY KEY (indicator_id, rule, subject)
) WITHOUT ROWID;

-- Reporting periods: the year's calendar, and per indicator with a cadence
-- each period, its due date and the figure that first reported it.
ALTER TABLE years ADD COLUMN monthly_due_day INTEGER;
ALTER TABLE years ADD COLUMN quarterly_due_day INTEGER;
ALTER TABLE years ADD COLUMN yearly_due TEXT;
ALTER TABLE years ADD COLUMN calendar_event_id TEXT;

CREATE TABLE reporting_periods (
    indicator_id    TEXT NOT NULL,
    period_key      TEXT NOT NULL,   -- 2022-05, 2022-Q2, 2022
    task_id         TEXT NOT NULL,
    year            INTEGER NOT NULL,
    lead_department TEXT NOT NULL,
    cadence         TEXT NOT NULL,
    from_month      INTEGER NOT NULL,
    to_month        INTEGER NOT NULL,
    due_date        TEXT NOT NULL,
    figure_event_id TEXT,            -- the first figure recorded for it (retracted ones aside)
    reported_at     TEXT,
    reported_on     TEXT,            -- that record time's day in the assessment calendar
    PRIMARY KEY (indicator_id, period_key)
) WITHOUT ROWID;
CREATE INDEX reporting_periods_year ON reporting_periods (year, lead_department, period_key);
