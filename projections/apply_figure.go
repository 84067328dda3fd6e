package projections

import (
	"database/sql"
	"errors"

	"kpitrail/domain"
)

// figureRow is what a later event needs to know about a stored figure.
type figureRow struct {
	eventID   string
	windowKey string
	value     string
	quality   string
	state     string
	fallback  sql.NullString
}

const figureRowSQL = `SELECT event_id, window_key, value, quality, state, fallback FROM figures`

func scanFigure(row *sql.Row) (*figureRow, error) {
	var f figureRow
	err := row.Scan(&f.eventID, &f.windowKey, &f.value, &f.quality, &f.state, &f.fallback)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return &f, err
}

// namedFigure loads the figure an event names; naming a figure this
// indicator never recorded is a broken event.
func namedFigure(b *batchTx, indicatorID, eventID, role string) (*figureRow, *pendingFigure, error) {
	f, pending, err := figureByID(b, eventID, indicatorID)
	if err != nil {
		return nil, nil, err
	}
	if f == nil {
		return nil, nil, broken("%s figure %s is not recorded on indicator %s", role, eventID, indicatorID)
	}
	return f, pending, nil
}

func (p *projector) reportFigure(b *batchTx, r domain.Recorded, h indicatorHead, e *domain.FigureReported) error {
	w := e.Window.Normalize()
	if err := w.Validate("window"); err != nil {
		return broken("figure for indicator %s: %v", r.AggregateID, err)
	}
	if w.Year != h.year {
		return broken("figure for %s on indicator %s, which is for %d", w.Key(), r.AggregateID, h.year)
	}
	// The report replaces the figure it names, or else whatever is current
	// for its window: a window has one current figure, as in the domain.
	var replaced *figureRow
	var err error
	if e.Supersedes != "" {
		var pending *pendingFigure
		if pending = b.figs.get(e.Supersedes, r.AggregateID); pending != nil {
			replaced = &pending.figureRow
		} else if replaced, err = scanFigure(b.queryRow(`UPDATE figures SET state = 'superseded', replaced_by = ?
			WHERE event_id = ? AND indicator_id = ? RETURNING event_id, window_key, value, quality, state, fallback`,
			r.ID, e.Supersedes, r.AggregateID)); err != nil {
			// A row in the table is read and marked in one statement; a figure
			// of another window is a broken event, and the savepoint takes the
			// mark back.
			return err
		}
		if replaced == nil {
			return broken("superseded figure %s is not recorded on indicator %s", e.Supersedes, r.AggregateID)
		}
		if replaced.windowKey != w.Key() {
			return broken("figure %s covers %s, not %s", e.Supersedes, replaced.windowKey, w.Key())
		}
		if pending != nil {
			b.figs.setState(pending, "superseded", r.ID)
		}
	} else {
		// A report that names nothing replaces the window's current figure.
		// A valid log has at most one; should it have two (a report that
		// named a figure other than the current one), the lowest event id
		// wins, in the table (its index order) as in the buffer, so the
		// answer does not depend on where the batch was cut.
		stored, err := scanFigure(b.queryRow(figureRowSQL+` WHERE indicator_id = ? AND window_key = ? AND state = 'current'`,
			r.AggregateID, w.Key()))
		if err != nil {
			return err
		}
		if pending := b.figs.current(r.AggregateID, w.Key()); pending != nil && (stored == nil || pending.eventID < stored.eventID) {
			replaced = &pending.figureRow
			b.figs.setState(pending, "superseded", r.ID)
		} else if stored != nil {
			replaced = stored
			if err := b.exec(`UPDATE figures SET state = 'superseded', replaced_by = ? WHERE event_id = ?`, r.ID, stored.eventID); err != nil {
				return err
			}
		}
	}
	kind := "reported"
	var oldValue any
	var oldQuality, supersedes string
	if replaced != nil {
		kind, oldValue, oldQuality, supersedes = "superseded", replaced.value, replaced.quality, replaced.eventID
	}
	if err := insertFigure(b, r, h, figureInsert{kind: "report", window: w, value: e.Value, numerator: e.Numerator,
		denominator: e.Denominator, quality: e.Quality, source: e.Source, finalDue: e.FinalDue, supersedes: supersedes,
		fallback: e.Supersedes, note: e.Note}); err != nil {
		return err
	}
	return insertChange(b, r, h, change{period: w.Key(), kind: kind, oldValue: oldValue, newValue: e.Value.String(),
		oldQuality: oldQuality, newQuality: string(e.Quality), note: e.Note, source: e.Source})
}

func (p *projector) correctFigure(b *batchTx, r domain.Recorded, h indicatorHead, e *domain.FigureCorrected) error {
	old, pending, err := namedFigure(b, r.AggregateID, e.Corrects, "corrected")
	if err != nil {
		return err
	}
	if old.state != string(domain.FigureStateCurrent) {
		return broken("figure %s is %s; only a current figure is corrected", e.Corrects, old.state)
	}
	w := e.Window.Normalize()
	if w.Key() != old.windowKey {
		return broken("correction %s names window %s, the figure covers %s", r.ID, w.Key(), old.windowKey)
	}
	if err := setFigureState(b, e.Corrects, pending, "corrected", r.ID); err != nil {
		return err
	}
	// A correction stands where the corrected figure stood, so retracting it
	// falls back to what the corrected one superseded.
	if err := insertFigure(b, r, h, figureInsert{kind: "correction", window: w, value: e.NewValue, numerator: e.Numerator,
		denominator: e.Denominator, quality: e.NewQuality, source: e.Source, corrects: e.Corrects,
		fallback: old.fallback.String, reason: e.Reason}); err != nil {
		return err
	}
	return insertChange(b, r, h, change{period: w.Key(), kind: "corrected", oldValue: e.OldValue.String(),
		newValue: e.NewValue.String(), oldQuality: string(e.OldQuality), newQuality: string(e.NewQuality),
		reason: e.Reason, source: e.Source, corrects: e.Corrects})
}

func (p *projector) retractFigure(b *batchTx, r domain.Recorded, h indicatorHead, e *domain.FigureRetracted) error {
	f, pending, err := namedFigure(b, r.AggregateID, e.Retracts, "retracted")
	if err != nil {
		return err
	}
	if f.state != string(domain.FigureStateCurrent) {
		return broken("figure %s is %s; only a current figure is retracted", e.Retracts, f.state)
	}
	if err := setFigureState(b, e.Retracts, pending, "retracted", r.ID); err != nil {
		return err
	}
	c := change{period: f.windowKey, kind: "retracted", oldValue: e.OldValue.String(), oldQuality: f.quality,
		reason: e.Reason, corrects: e.Retracts}
	if f.fallback.Valid {
		fb, fbPending, err := figureByID(b, f.fallback.String, "")
		if err != nil {
			return err
		}
		if fb != nil && fb.state == string(domain.FigureStateSuperseded) {
			if err := setFigureState(b, fb.eventID, fbPending, "current", ""); err != nil {
				return err
			}
			c.newValue, c.newQuality = fb.value, fb.quality
		}
	}
	return insertChange(b, r, h, c)
}

type figureInsert struct {
	kind                   string
	window                 domain.Window
	value                  domain.Decimal
	numerator, denominator *domain.Decimal
	quality                domain.Quality
	source                 domain.Source
	finalDue               domain.Date
	supersedes, corrects   string
	fallback               string
	note, reason           string
}

func insertFigure(b *batchTx, r domain.Recorded, h indicatorHead, f figureInsert) error {
	b.figs.add(&pendingFigure{
		figureRow: figureRow{eventID: r.ID, windowKey: f.window.Key(), value: f.value.String(), quality: string(f.quality),
			state: "current", fallback: sql.NullString{String: f.fallback, Valid: f.fallback != ""}},
		indicatorID: r.AggregateID,
		insert: []any{r.ID, r.AggregateID, h.taskID, f.kind, f.window.Key(), f.window.Year, f.window.FromMonth, f.window.ToMonth,
			f.value.String(), f.value.Float64(), decText(f.numerator), decText(f.denominator), string(f.quality),
			nullStr(f.source.Kind), nullStr(f.source.Name), nullStr(f.finalDue), nullStr(f.supersedes), nullStr(f.corrects),
			nullStr(f.fallback), nullStr(f.note), nullStr(f.reason), formatTime(r.RecordedAt), r.Actor, r.CommandID, r.Position},
	})
	return nil
}
