package projections

import (
	"database/sql"
	"errors"

	"kpitrail/domain"
)

// figureRow is what a later event needs to know about a stored figure.
type figureRow struct {
	eventID     string
	windowKey   string
	value       string
	quality     string
	state       string
	fallback    sql.NullString
	review      string
	submittedBy string
	submittedAt string
}

const figureRowSQL = `SELECT event_id, window_key, value, quality, state, fallback, review_state, COALESCE(submitted_by, ''),
	COALESCE(submitted_at, '') FROM figures`

func scanFigure(row *sql.Row) (*figureRow, error) {
	var f figureRow
	err := row.Scan(&f.eventID, &f.windowKey, &f.value, &f.quality, &f.state, &f.fallback, &f.review, &f.submittedBy, &f.submittedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return &f, err
}

// figureBook shows one indicator's figures, buffered or in the table, to
// the domain's state machine (domain.StepFigure), and remembers what it
// read so the step can be applied without reading again.
type figureBook struct {
	b           *batchTx
	indicatorID string
	seen        map[string]bookEntry
}

type bookEntry struct {
	row     *figureRow
	pending *pendingFigure // nil for a row in the table
}

func newFigureBook(b *batchTx, indicatorID string) *figureBook {
	return &figureBook{b: b, indicatorID: indicatorID, seen: map[string]bookEntry{}}
}

func (fb *figureBook) node(row *figureRow, pending *pendingFigure) domain.FigureNode {
	fb.seen[row.eventID] = bookEntry{row: row, pending: pending}
	return domain.FigureNode{EventID: row.eventID, Window: row.windowKey, State: domain.FigureState(row.state), Fallback: row.fallback.String,
		Review: domain.ReviewState(row.review), SubmittedBy: row.submittedBy}
}

func (fb *figureBook) FigureNode(eventID string) (domain.FigureNode, bool, error) {
	row, pending, err := figureByID(fb.b, eventID, fb.indicatorID)
	if err != nil || row == nil {
		return domain.FigureNode{}, false, err
	}
	return fb.node(row, pending), true, nil
}

// CurrentFigure finds the window's current figure in the buffer or the
// table. A log the state machine accepted has at most one; were there two,
// the lowest event id is taken, in the table (its index order) as in the
// buffer, so the answer does not depend on where a batch was cut.
func (fb *figureBook) CurrentFigure(windowKey string) (domain.FigureNode, bool, error) {
	stored, err := scanFigure(fb.b.queryRow(figureRowSQL+` WHERE indicator_id = ? AND window_key = ? AND state = 'current'`,
		fb.indicatorID, windowKey))
	if err != nil {
		return domain.FigureNode{}, false, err
	}
	if pending := fb.b.figs.current(fb.indicatorID, windowKey); pending != nil && (stored == nil || pending.eventID < stored.eventID) {
		return fb.node(&pending.figureRow, pending), true, nil
	}
	if stored == nil {
		return domain.FigureNode{}, false, nil
	}
	return fb.node(stored, nil), true, nil
}

// stepFigures asks the domain what a figure event does and moves the rows
// accordingly. The returned book holds the rows the step names.
func stepFigures(b *batchTx, r domain.Recorded, h indicatorHead) (domain.FigureStep, *figureBook, error) {
	book := newFigureBook(b, r.AggregateID)
	step, err := domain.StepFigure(book, h.year, r.ID, r.Data)
	if err != nil {
		if e, ok := domain.AsError(err); ok && e.Code != domain.EINTERNAL {
			return step, nil, broken("%s on indicator %s: %v", r.Name, r.AggregateID, err)
		}
		return step, nil, err
	}
	for _, m := range step.Moves {
		e := book.seen[m.EventID]
		if err := setFigureState(b, m.EventID, e.pending, string(m.To), m.ReplacedBy); err != nil {
			return step, nil, err
		}
	}
	return step, book, nil
}

func (p *projector) reportFigure(b *batchTx, r domain.Recorded, h indicatorHead, e *domain.FigureReported) error {
	step, book, err := stepFigures(b, r, h)
	if err != nil {
		return err
	}
	kind := "reported"
	var oldValue any
	var oldQuality, supersedes string
	if step.Replaced != nil {
		old := book.seen[step.Replaced.EventID].row
		kind, oldValue, oldQuality, supersedes = "superseded", old.value, old.quality, old.eventID
	}
	w := e.Window.Normalize()
	if err := insertFigure(b, r, h, figureInsert{kind: "report", window: w, value: e.Value, numerator: e.Numerator,
		denominator: e.Denominator, quality: e.Quality, source: e.Source, finalDue: e.FinalDue, supersedes: supersedes,
		fallback: step.Added.Fallback, note: e.Note}); err != nil {
		return err
	}
	return insertChange(b, r, h, change{period: w.Key(), kind: kind, oldValue: oldValue, newValue: e.Value.String(),
		oldQuality: oldQuality, newQuality: string(e.Quality), note: e.Note, source: e.Source})
}

func (p *projector) correctFigure(b *batchTx, r domain.Recorded, h indicatorHead, e *domain.FigureCorrected) error {
	step, _, err := stepFigures(b, r, h)
	if err != nil {
		return err
	}
	w := e.Window.Normalize()
	if err := insertFigure(b, r, h, figureInsert{kind: "correction", window: w, value: e.NewValue, numerator: e.Numerator,
		denominator: e.Denominator, quality: e.NewQuality, source: e.Source, corrects: e.Corrects,
		fallback: step.Added.Fallback, reason: e.Reason}); err != nil {
		return err
	}
	return insertChange(b, r, h, change{period: w.Key(), kind: "corrected", oldValue: e.OldValue.String(),
		newValue: e.NewValue.String(), oldQuality: string(e.OldQuality), newQuality: string(e.NewQuality),
		reason: e.Reason, source: e.Source, corrects: e.Corrects})
}

func (p *projector) retractFigure(b *batchTx, r domain.Recorded, h indicatorHead, e *domain.FigureRetracted) error {
	step, book, err := stepFigures(b, r, h)
	if err != nil {
		return err
	}
	c := change{period: step.Window, kind: "retracted", oldValue: e.OldValue.String(),
		oldQuality: book.seen[e.Retracts].row.quality, reason: e.Reason, corrects: e.Retracts}
	if step.Restored != nil {
		fb := book.seen[step.Restored.EventID].row
		c.newValue, c.newQuality = fb.value, fb.quality
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
			state: "current", fallback: sql.NullString{String: f.fallback, Valid: f.fallback != ""}, review: string(domain.ReviewReported)},
		indicatorID: r.AggregateID,
		insert: []any{r.ID, r.AggregateID, h.taskID, f.kind, f.window.Key(), f.window.Year, f.window.FromMonth, f.window.ToMonth,
			f.value.String(), f.value.Float64(), decText(f.numerator), decText(f.denominator), string(f.quality),
			nullStr(f.source.Kind), nullStr(f.source.Name), nullStr(f.finalDue), nullStr(f.supersedes), nullStr(f.corrects),
			nullStr(f.fallback), nullStr(f.note), nullStr(f.reason), formatTime(r.RecordedAt), r.Actor, r.CommandID, r.Position},
	})
	return nil
}
