package projections

import (
	"context"
)

// YearLock is an assessment year's lock and its history.
type YearLock struct {
	Year            int    `json:"year"`
	State           string `json:"state"` // frozen | open
	FrozenEventID   string `json:"frozen_event_id,omitempty"`
	FrozenAt        string `json:"frozen_at,omitempty"`
	FrozenBy        string `json:"frozen_by,omitempty"`
	FrozenNote      string `json:"frozen_note,omitempty"`
	ReopenedEventID string `json:"reopened_event_id,omitempty"`
	ReopenedAt      string `json:"reopened_at,omitempty"`
	ReopenedBy      string `json:"reopened_by,omitempty"`
	ReopenReason    string `json:"reopen_reason,omitempty"`
	// The reporting calendar the year set; absent, the default one.
	MonthlyDueDay   int          `json:"monthly_due_day,omitempty"`
	QuarterlyDueDay int          `json:"quarterly_due_day,omitempty"`
	YearlyDue       string       `json:"yearly_due,omitempty"`
	Changes         []YearChange `json:"changes"`
}

// YearChange is one freeze or reopen.
type YearChange struct {
	EventID string `json:"event_id"`
	Kind    string `json:"kind"` // frozen | reopened | calendar_set
	Reason  string `json:"reason,omitempty"`
	Note    string `json:"note,omitempty"`
	Actor   string `json:"actor"`
	// ActorTokenID is the token the actor used, as in the audit trail.
	ActorTokenID string `json:"actor_token_id,omitempty"`
	RecordedAt   string `json:"recorded_at"`
	Position     uint64 `json:"position"`
}

// Years lists the years ever frozen or given a calendar (0: all; else that
// one), oldest first, each with its freezes, reopens and calendars in log
// order.
func (db *DB) Years(ctx context.Context, year int) ([]YearLock, error) {
	ctx, leave := db.gate.enter(ctx)
	defer leave()
	rows, err := db.reader.QueryContext(ctx, `SELECT year, state, COALESCE(frozen_event_id, ''), COALESCE(frozen_at, ''),
		COALESCE(frozen_by, ''), COALESCE(frozen_note, ''), COALESCE(reopened_event_id, ''), COALESCE(reopened_at, ''),
		COALESCE(reopened_by, ''), COALESCE(reopen_reason, ''), COALESCE(monthly_due_day, 0), COALESCE(quarterly_due_day, 0),
		COALESCE(yearly_due, '') FROM years WHERE ? = 0 OR year = ? ORDER BY year`, year, year)
	if err != nil {
		return nil, err
	}
	out := []YearLock{}
	for rows.Next() {
		var y YearLock
		if err := rows.Scan(&y.Year, &y.State, &y.FrozenEventID, &y.FrozenAt, &y.FrozenBy, &y.FrozenNote, &y.ReopenedEventID,
			&y.ReopenedAt, &y.ReopenedBy, &y.ReopenReason, &y.MonthlyDueDay, &y.QuarterlyDueDay, &y.YearlyDue); err != nil {
			rows.Close()
			return nil, err
		}
		y.Changes = []YearChange{}
		out = append(out, y)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		crows, err := db.reader.QueryContext(ctx, `SELECT event_id, kind, COALESCE(reason, ''), COALESCE(note, ''), actor, COALESCE(actor_token_id, ''),
			recorded_at, position FROM year_changes WHERE year = ? ORDER BY position`, out[i].Year)
		if err != nil {
			return nil, err
		}
		for crows.Next() {
			var c YearChange
			if err := crows.Scan(&c.EventID, &c.Kind, &c.Reason, &c.Note, &c.Actor, &c.ActorTokenID, &c.RecordedAt, &c.Position); err != nil {
				crows.Close()
				return nil, err
			}
			out[i].Changes = append(out[i].Changes, c)
		}
		crows.Close()
		if err := crows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}
