-- What the read models store per event, schema version 7.
--
-- figure_changes is keyed by indicator: one indicator's audit trail, in
-- the order it is shown (position, then event id), is one range scan of
-- the table instead of ~40 lookups through figure_changes_indicator, which
-- this makes redundant. The columns and their order are unchanged.
-- event_id stays unique through events_log (one row per applied event); a
-- change is found by its event with the indicator and position it belongs
-- to.

ALTER TABLE figure_changes RENAME TO figure_changes_v6;
CREATE TABLE figure_changes (
    event_id           TEXT NOT NULL,
    indicator_id       TEXT NOT NULL,
    task_id            TEXT NOT NULL,
    period             TEXT NOT NULL,
    kind               TEXT NOT NULL,
    old_value          TEXT,
    new_value          TEXT,
    old_quality        TEXT,
    new_quality        TEXT,
    reason             TEXT,
    note               TEXT,
    figure_source_kind TEXT,
    figure_source_name TEXT,
    corrects           TEXT,
    actor              TEXT NOT NULL,
    recorded_at        TEXT NOT NULL,
    source             TEXT NOT NULL,
    command_id         TEXT NOT NULL,
    position           INTEGER NOT NULL,
    actor_token_id     TEXT,
    old_state          TEXT,
    new_state          TEXT,
    PRIMARY KEY (indicator_id, position, event_id)
) WITHOUT ROWID;
INSERT INTO figure_changes (event_id, indicator_id, task_id, period, kind, old_value, new_value, old_quality,
    new_quality, reason, note, figure_source_kind, figure_source_name, corrects, actor, recorded_at, source,
    command_id, position, actor_token_id, old_state, new_state)
SELECT event_id, indicator_id, task_id, period, kind, old_value, new_value, old_quality,
    new_quality, reason, note, figure_source_kind, figure_source_name, corrects, actor, recorded_at, source,
    command_id, position, actor_token_id, old_state, new_state
FROM figure_changes_v6;
DROP TABLE figure_changes_v6;

-- events_log is an index of the log: which event is at which position,
-- of which aggregate, by whom, when and through which command. Its
-- payload and the two hashes are the log's (stored and signed there), a
-- third of the file; a reader that needs them gets them from the log by
-- position, checked as authentic (the events_log export, stored_events,
-- the audit). The space of a migrated file is reused, not returned:
-- VACUUM returns it.
ALTER TABLE events_log DROP COLUMN payload;
ALTER TABLE events_log DROP COLUMN hash;
ALTER TABLE events_log DROP COLUMN prev_hash;
