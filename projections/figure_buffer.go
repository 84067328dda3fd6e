package projections

import (
	"database/sql"
)

// figureBuffer holds the figures a batch reports until the batch ends, so
// each is written once, with the state it ends the batch in, in multi-row
// inserts. A monthly estimate is usually superseded a few hundred events
// later, within the same batch: marking it in memory instead of updating
// its row (and the figures_indicator entry, whose key holds the state) was
// the largest single cost of a rebuild.
//
// Every read of a figure during a batch looks here first, then in the
// table: a figure is in exactly one of the two, and a window's current
// figure is wherever its row is. Changes made while applying a message are
// journaled, so a message rolled back to its savepoint leaves the buffer
// as it found it.
type figureBuffer struct {
	rows     []*pendingFigure
	byID     map[string]*pendingFigure
	byWindow map[string][]*pendingFigure
	undo     []figureUndo
}

// pendingFigure is a figures row not yet written: insert holds its columns
// in figureColumns order, except state, replaced_by and the review columns,
// which may change.
type pendingFigure struct {
	figureRow
	indicatorID string
	replacedBy  string
	rev         reviewColumns
	insert      []any
}

// reviewColumns are a figure's review columns but review_state, which is
// figureRow.review.
type reviewColumns struct {
	reviewedBy, reviewedAt, reason, eventID string
}

type figureUndo struct {
	f           *pendingFigure
	added       bool
	state       string
	replacedBy  string
	review      string
	submittedBy string
	submittedAt string
	rev         reviewColumns
}

// figureColumns is the column order of a buffered row; state, replaced_by
// and the review columns come last.
const figureColumns = `event_id, indicator_id, task_id, kind, window_key, year, from_month, to_month,
	value, value_f, numerator, denominator, quality, source_kind, source_name, final_due, supersedes,
	corrects, fallback, note, reason, recorded_at, actor, command_id, position, state, replaced_by,
	review_state, submitted_by, submitted_at, reviewed_by, reviewed_at, review_reason, review_event_id`

func windowRef(indicatorID, windowKey string) string { return indicatorID + "\x00" + windowKey }

func (fb *figureBuffer) add(f *pendingFigure) {
	if fb.byID == nil {
		fb.byID, fb.byWindow = map[string]*pendingFigure{}, map[string][]*pendingFigure{}
	}
	fb.rows = append(fb.rows, f)
	fb.byID[f.eventID] = f
	k := windowRef(f.indicatorID, f.windowKey)
	fb.byWindow[k] = append(fb.byWindow[k], f)
	fb.undo = append(fb.undo, figureUndo{f: f, added: true})
}

// get returns a buffered figure; indicatorID, when set, must match.
func (fb *figureBuffer) get(eventID, indicatorID string) *pendingFigure {
	f := fb.byID[eventID]
	if f == nil || (indicatorID != "" && f.indicatorID != indicatorID) {
		return nil
	}
	return f
}

// current returns the buffered current figure of a window with the lowest
// event id, if any (see reportFigure).
func (fb *figureBuffer) current(indicatorID, windowKey string) *pendingFigure {
	var best *pendingFigure
	for _, f := range fb.byWindow[windowRef(indicatorID, windowKey)] {
		if f.state == "current" && (best == nil || f.eventID < best.eventID) {
			best = f
		}
	}
	return best
}

func (fb *figureBuffer) setState(f *pendingFigure, state, replacedBy string) {
	fb.undo = append(fb.undo, f.undoEntry())
	f.state, f.replacedBy = state, replacedBy
}

func (fb *figureBuffer) setReview(f *pendingFigure, review, submittedBy, submittedAt string, rev reviewColumns) {
	fb.undo = append(fb.undo, f.undoEntry())
	f.review, f.submittedBy, f.submittedAt, f.rev = review, submittedBy, submittedAt, rev
}

func (f *pendingFigure) undoEntry() figureUndo {
	return figureUndo{f: f, state: f.state, replacedBy: f.replacedBy, review: f.review, submittedBy: f.submittedBy,
		submittedAt: f.submittedAt, rev: f.rev}
}

// keep takes the current message's changes as applied.
func (fb *figureBuffer) keep() { fb.undo = fb.undo[:0] }

// rollback undoes the current message's changes, newest first.
func (fb *figureBuffer) rollback() {
	for i := len(fb.undo) - 1; i >= 0; i-- {
		u := fb.undo[i]
		if !u.added {
			u.f.state, u.f.replacedBy = u.state, u.replacedBy
			u.f.review, u.f.submittedBy, u.f.submittedAt, u.f.rev = u.review, u.submittedBy, u.submittedAt, u.rev
			continue
		}
		// Additions are undone in reverse order, so the row is the last of
		// both lists.
		fb.rows = fb.rows[:len(fb.rows)-1]
		delete(fb.byID, u.f.eventID)
		k := windowRef(u.f.indicatorID, u.f.windowKey)
		if list := fb.byWindow[k]; len(list) == 1 {
			delete(fb.byWindow, k)
		} else {
			fb.byWindow[k] = list[:len(list)-1]
		}
	}
	fb.undo = fb.undo[:0]
}

// flush writes the buffered rows in the order they were reported, with
// the state each ends the batch in, and empties the buffer. Nothing in a
// row can break a constraint here: its event id went into events_log's
// unique column with its message, and its indicator was read when it was
// reported.
func (fb *figureBuffer) flush(b *batchTx) error {
	if len(fb.rows) == 0 {
		return nil
	}
	out := newRowBuffer("figures", figureColumns)
	for _, f := range fb.rows {
		out.add(f.insert...)
		out.add(f.state, nullStr(f.replacedBy), f.review, nullStr(f.submittedBy), nullStr(f.submittedAt), nullStr(f.rev.reviewedBy),
			nullStr(f.rev.reviewedAt), nullStr(f.rev.reason), nullStr(f.rev.eventID))
	}
	if err := out.flush(b); err != nil {
		return err
	}
	fb.rows, fb.undo = fb.rows[:0], fb.undo[:0]
	clear(fb.byID)
	clear(fb.byWindow)
	return nil
}

// figureByID reads a figure from the buffer or the table; indicatorID, when
// set, must match. nil when there is none.
func figureByID(b *batchTx, eventID, indicatorID string) (*figureRow, *pendingFigure, error) {
	if f := b.figs.get(eventID, indicatorID); f != nil {
		return &f.figureRow, f, nil
	}
	var row *sql.Row
	if indicatorID == "" {
		row = b.queryRow(figureRowSQL+` WHERE event_id = ?`, eventID)
	} else {
		row = b.queryRow(figureRowSQL+` WHERE event_id = ? AND indicator_id = ?`, eventID, indicatorID)
	}
	f, err := scanFigure(row)
	return f, nil, err
}

// setFigureState moves a figure to state; replacedBy "" stores NULL. p is
// the buffered figure figureByID returned, nil for a row in the table.
func setFigureState(b *batchTx, eventID string, p *pendingFigure, state, replacedBy string) error {
	if p != nil {
		b.figs.setState(p, state, replacedBy)
		return nil
	}
	return b.exec(`UPDATE figures SET state = ?, replaced_by = ? WHERE event_id = ?`, state, nullStr(replacedBy), eventID)
}

// setFigureReview moves a figure in review; p is the buffered figure
// figureByID returned, nil for a row in the table.
func setFigureReview(b *batchTx, eventID string, p *pendingFigure, review, submittedBy, submittedAt string, rev reviewColumns) error {
	if p != nil {
		b.figs.setReview(p, review, submittedBy, submittedAt, rev)
		return nil
	}
	return b.exec(`UPDATE figures SET review_state = ?, submitted_by = ?, submitted_at = ?, reviewed_by = ?, reviewed_at = ?,
		review_reason = ?, review_event_id = ? WHERE event_id = ?`, review, nullStr(submittedBy), nullStr(submittedAt),
		nullStr(rev.reviewedBy), nullStr(rev.reviewedAt), nullStr(rev.reason), nullStr(rev.eventID), eventID)
}
