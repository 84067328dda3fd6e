package projections

import (
	"context"
	"strings"
)

// ProblemFilter narrows ListProblems; zero fields do not filter.
type ProblemFilter struct {
	TaskID string
	Year   int // the year of the problem's task
}

// ListProblems returns problems (存在问题) with their rectification
// counts, by task and then in the order they were recorded.
func (db *DB) ListProblems(ctx context.Context, f ProblemFilter) ([]Problem, error) {
	ctx, leave := db.gate.enter(ctx)
	defer leave()
	var where []string
	var args []any
	if f.TaskID != "" {
		where, args = append(where, "p.task_id = ?"), append(args, f.TaskID)
	}
	if f.Year != 0 {
		where, args = append(where, "t.year = ?"), append(args, f.Year)
	}
	q := `SELECT p.task_id, p.problem_id, p.description, COALESCE(p.cause, ''), p.total, p.rectified, p.remaining,
		COALESCE(p.rate, ''), COALESCE(p.rate_display, ''), COALESCE(p.rate_display0, ''), p.state, COALESCE(p.note, ''),
		p.updated_at FROM problems p JOIN tasks t ON t.id = p.task_id`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	rows, err := db.reader.QueryContext(ctx, q+` ORDER BY p.task_id, p.created_at, p.problem_id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Problem{}
	for rows.Next() {
		var p Problem
		if err := rows.Scan(&p.TaskID, &p.ProblemID, &p.Description, &p.Cause, &p.Total, &p.Rectified, &p.Remaining,
			&p.Rate, &p.RateDisplay, &p.RateDisplay0, &p.State, &p.Note, &p.UpdatedAt); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// RectificationStep is one entry of a problem's rectification ledger (整改
// 台账): what the counts and state were before and after.
type RectificationStep struct {
	EventID           string `json:"event_id"`
	TaskID            string `json:"task_id"`
	ProblemID         string `json:"problem_id"`
	Kind              string `json:"kind"`
	PreviousTotal     int    `json:"previous_total"`
	PreviousRectified int    `json:"previous_rectified"`
	Total             int    `json:"total"`
	Rectified         int    `json:"rectified"`
	Remaining         int    `json:"remaining"`
	PreviousState     string `json:"previous_state"`
	State             string `json:"state"`
	Note              string `json:"note,omitempty"`
	Actor             string `json:"actor"`
	RecordedAt        string `json:"recorded_at"`
	Position          uint64 `json:"position"`
}

// RectificationLedger returns every step of a task's problems, in log
// order.
func (db *DB) RectificationLedger(ctx context.Context, taskID string) ([]RectificationStep, error) {
	ctx, leave := db.gate.enter(ctx)
	defer leave()
	rows, err := db.reader.QueryContext(ctx, `SELECT event_id, task_id, problem_id, kind, previous_total, previous_rectified,
		total, rectified, remaining, previous_state, state, COALESCE(note, ''), actor, recorded_at, position
		FROM rectification_items WHERE task_id = ? ORDER BY position, event_id`, taskID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []RectificationStep{}
	for rows.Next() {
		var s RectificationStep
		if err := rows.Scan(&s.EventID, &s.TaskID, &s.ProblemID, &s.Kind, &s.PreviousTotal, &s.PreviousRectified, &s.Total,
			&s.Rectified, &s.Remaining, &s.PreviousState, &s.State, &s.Note, &s.Actor, &s.RecordedAt, &s.Position); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// ProblemTotal adds up one task's problems: how many, and their items
// listed and rectified.
type ProblemTotal struct {
	Problems  int
	Total     int
	Rectified int
}

// ProblemTotals adds up the problems of every task of a year (0: every
// year), for a board: one row per task, summed in SQLite, instead of
// every problem's text read into Go. Like TaskBoard, on a file its runner
// writes the answer is kept until the next commit and shared between
// callers: the map must not be modified.
func (db *DB) ProblemTotals(ctx context.Context, year int) (map[string]ProblemTotal, error) {
	gen, cached := db.answers.generation()
	if !cached {
		return db.problemTotals(ctx, year)
	}
	if t, ok := db.answers.problemTotals(year); ok {
		return t, nil
	}
	v, err := db.answers.once(ctx, totalsKey(year), gen, func() (any, error) {
		t, err := db.problemTotals(ctx, year)
		if err == nil {
			db.answers.keepProblemTotals(gen, year, t)
		}
		return t, err
	})
	if err != nil {
		return nil, err
	}
	return v.(map[string]ProblemTotal), nil
}

// totalsKey keeps problem-total queries apart from boards in
// answers.running.
type totalsKey int

func (db *DB) problemTotals(ctx context.Context, year int) (map[string]ProblemTotal, error) {
	ctx, leave := db.gate.enter(ctx)
	defer leave()
	rows, err := db.reader.QueryContext(ctx, `SELECT p.task_id, COUNT(*), SUM(p.total), SUM(p.rectified)
		FROM tasks t JOIN problems p ON p.task_id = t.id WHERE ? = 0 OR t.year = ? GROUP BY p.task_id`, year, year)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]ProblemTotal{}
	for rows.Next() {
		var id string
		var t ProblemTotal
		if err := rows.Scan(&id, &t.Problems, &t.Total, &t.Rectified); err != nil {
			return nil, err
		}
		out[id] = t
	}
	return out, rows.Err()
}
