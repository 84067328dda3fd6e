package projections

import (
	"kpitrail/domain"
)

// applyYear keeps a year's lock (years) and its history (year_changes).
func (p *projector) applyYear(b *batchTx, st *batchState, r domain.Recorded) error {
	at := formatTime(r.RecordedAt)
	var year int
	var kind, reason, note string
	var err error
	switch e := r.Data.(type) {
	case *domain.YearFrozen:
		year, kind, note = e.Year, "frozen", e.Note
		err = b.exec(`INSERT INTO years (year, state, frozen_event_id, frozen_at, frozen_by, frozen_note, version, last_position)
			VALUES (?, 'frozen', ?, ?, ?, ?, ?, ?)
			ON CONFLICT (year) DO UPDATE SET state = 'frozen', frozen_event_id = excluded.frozen_event_id, frozen_at = excluded.frozen_at,
				frozen_by = excluded.frozen_by, frozen_note = excluded.frozen_note, version = excluded.version, last_position = excluded.last_position`,
			e.Year, r.ID, at, r.Actor, nullStr(e.Note), r.AggregateVersion, r.Position)
	case *domain.YearReopened:
		year, kind, reason = e.Year, "reopened", e.Reason
		err = b.exec(`INSERT INTO years (year, state, reopened_event_id, reopened_at, reopened_by, reopen_reason, version, last_position)
			VALUES (?, 'open', ?, ?, ?, ?, ?, ?)
			ON CONFLICT (year) DO UPDATE SET state = 'open', reopened_event_id = excluded.reopened_event_id, reopened_at = excluded.reopened_at,
				reopened_by = excluded.reopened_by, reopen_reason = excluded.reopen_reason, version = excluded.version, last_position = excluded.last_position`,
			e.Year, r.ID, at, r.Actor, nullStr(e.Reason), r.AggregateVersion, r.Position)
	case *domain.YearCalendarSet:
		year, kind, reason = e.Year, "calendar_set", e.Reason
		err = b.exec(`INSERT INTO years (year, state, monthly_due_day, quarterly_due_day, yearly_due, calendar_event_id, version, last_position)
			VALUES (?, 'open', ?, ?, ?, ?, ?, ?)
			ON CONFLICT (year) DO UPDATE SET monthly_due_day = excluded.monthly_due_day, quarterly_due_day = excluded.quarterly_due_day,
				yearly_due = excluded.yearly_due, calendar_event_id = excluded.calendar_event_id, version = excluded.version,
				last_position = excluded.last_position`,
			e.Year, e.MonthlyDueDay, e.QuarterlyDueDay, string(e.YearlyDue), r.ID, r.AggregateVersion, r.Position)
		if err == nil {
			// Every indicator of the year has new due dates.
			var ids []string
			if ids, err = b.strings(`SELECT id FROM indicators WHERE year = ?`, e.Year); err == nil {
				for _, id := range ids {
					st.indicators[id] = true
				}
			}
		}
	default:
		return broken("no read model handles %s", r.Name)
	}
	if err != nil {
		return err
	}
	if r.AggregateID != domain.YearID(year) {
		return broken("%s for %d on aggregate %s", r.Name, year, r.AggregateID)
	}
	return b.exec(`INSERT INTO year_changes (event_id, year, kind, reason, note, actor, actor_token_id, recorded_at, source, command_id,
		position) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, r.ID, year, kind, nullStr(reason), nullStr(note), r.Actor, nullStr(r.ActorTokenID), at,
		r.Source, r.CommandID, r.Position)
}
