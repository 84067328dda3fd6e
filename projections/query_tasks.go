package projections

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"
)

const taskColumns = `id, year, dimension, title, COALESCE(description, ''), lead_department, co_departments,
	COALESCE(deadline, ''), COALESCE(original_deadline, ''), lifecycle, COALESCE(completed_on, ''), status,
	progress_status, deadline_status, status_date, indicators_total, indicators_met, indicators_on_track,
	indicators_behind, indicators_not_met, indicators_pending, open_problems, narrative, COALESCE(narrative_as_of, ''),
	milestones, version, last_position, created_at, updated_at, unit_id,
	COALESCE((SELECT path FROM units WHERE units.id = tasks.unit_id), '/' || unit_id || '/')`

// taskScan reads rows of taskColumns into one Task it reuses, with the
// destinations bound once: a board page scans a hundred rows, and a fresh
// Task and argument list for each (both escape through Scan's ...any) were
// a third of a page's allocations.
type taskScan struct {
	t                               Task
	co, narrative, milestones, path string
	dest                            []any
}

func newTaskScan() *taskScan {
	s := &taskScan{}
	t := &s.t
	s.dest = []any{&t.ID, &t.Year, &t.Dimension, &t.Title, &t.Description, &t.LeadDepartment, &s.co, &t.Deadline,
		&t.OriginalDeadline, &t.Lifecycle, &t.CompletedOn, &t.Status, &t.ProgressStatus, &t.DeadlineStatus,
		&t.StatusDate, &t.IndicatorsTotal, &t.IndicatorsMet, &t.IndicatorsOnTrack, &t.IndicatorsBehind,
		&t.IndicatorsNotMet, &t.IndicatorsPending, &t.OpenProblems, &s.narrative, &t.NarrativeAsOf, &s.milestones,
		&t.Version, &t.LastPosition, &t.CreatedAt, &t.UpdatedAt, &t.UnitID, &s.path}
	return s
}

// scan returns the next row as a Task of its own (its slices are fresh).
// It decodes into s.t, which is on the heap already, and returns a copy:
// a local Task handed to the decoders would escape, one allocation a row.
func (s *taskScan) scan(src interface{ Scan(...any) error }) (Task, error) {
	s.t = Task{}
	if err := src.Scan(s.dest...); err != nil {
		return Task{}, err
	}
	t := &s.t
	t.CoDepartments, t.Narrative, t.Milestones = []string{}, []string{}, []Milestone{}
	t.UnitPath = parseUnitPath(s.path)
	var errMilestones error
	if s.milestones != "[]" { // most tasks have none: spare encoding/json
		errMilestones = unmarshalText(s.milestones, &t.Milestones)
	}
	if err := errors.Join(unmarshalText(s.co, &t.CoDepartments), unmarshalText(s.narrative, &t.Narrative),
		errMilestones); err != nil {
		return Task{}, err
	}
	return s.t, nil
}

// ListTasks returns tasks ordered by year, dimension and id. The caller
// owns the slice and the tasks in it; the slices inside a task may be
// shared with other callers, so edit their elements only on a copy
// (appending is safe: they have no spare capacity).
func (db *DB) ListTasks(ctx context.Context, f TaskFilter) ([]Task, error) {
	ts, shared, err := db.taskBoard(ctx, f)
	if shared {
		ts = cloneTasks(ts)
	}
	return ts, err
}

// TaskBoard is ListTasks for callers that only read the answer, as the
// HTTP API does when it encodes it: on a file its runner writes, the slice
// is the one kept for every caller until the next commit, and must not be
// modified. It spares a busy board its allocations (2 MB for a board of
// 4,480 tasks), whose garbage collection was most of the kept board's p99
// under 8 clients.
func (db *DB) TaskBoard(ctx context.Context, f TaskFilter) ([]Task, error) {
	ts, _, err := db.taskBoard(ctx, f)
	return ts, err
}

// taskBoard answers a board; shared says the slice is the kept one or
// another caller's too.
func (db *DB) taskBoard(ctx context.Context, f TaskFilter) ([]Task, bool, error) {
	gen, cached := db.answers.generation()
	if !cached {
		ts, err := db.listTasks(ctx, f)
		return ts, false, err
	}
	if ts, ok := db.answers.board(f); ok {
		return ts, true, nil
	}
	v, err := db.answers.once(ctx, f, gen, func() (any, error) {
		ts, err := db.listTasks(ctx, f)
		if err == nil {
			clipTasks(ts)
			db.answers.keepBoard(gen, f, ts)
		}
		return ts, err
	})
	if err != nil {
		return nil, false, err
	}
	return v.([]Task), true, nil
}

func (db *DB) listTasks(ctx context.Context, f TaskFilter) ([]Task, error) {
	ctx, leave := db.gate.enter(ctx)
	defer leave()
	var where []string
	var args []any
	if f.Year != 0 {
		where, args = append(where, "year = ?"), append(args, f.Year)
	}
	if f.Dimension != "" {
		where, args = append(where, "dimension = ?"), append(args, f.Dimension)
	}
	if f.Department != "" {
		where = append(where, "(lead_department = ? OR EXISTS (SELECT 1 FROM json_each(tasks.co_departments) WHERE value = ?))")
		args = append(args, f.Department, f.Department)
	}
	if f.Status != "" {
		where, args = append(where, "status = ?"), append(args, f.Status)
	}
	if f.Unit != "" {
		where, args = append(where, unitSubtreeSQL), append(args, subtreeArg(f.Unit))
	}
	if !f.After.IsZero() {
		// tasks is WITHOUT ROWID keyed by id, so tasks_year_dimension is
		// (year, dimension, id): the page is a range of the index.
		where = append(where, "(year, dimension, id) > (?, ?, ?)")
		args = append(args, f.After.Year, f.After.Dimension, f.After.ID)
	}
	q := `SELECT ` + taskColumns + ` FROM tasks`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY year, dimension, id`
	if f.Limit > 0 {
		q += ` LIMIT ?`
		args = append(args, f.Limit)
	}
	rows, err := db.reader.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make([]Task, 0, min(max(f.Limit, 16), 1024))
	scan := newTaskScan()
	for rows.Next() {
		t, err := scan.scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// GetTask returns one task with its indicators and problems; a task that
// is not in the read models is a domain not-found error.
func (db *DB) GetTask(ctx context.Context, id string) (TaskDetail, error) {
	ctx, leave := db.gate.enter(ctx)
	defer leave()
	t, err := newTaskScan().scan(db.reader.QueryRowContext(ctx, `SELECT `+taskColumns+` FROM tasks WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return TaskDetail{}, TaskNotFound(id)
	}
	if err != nil {
		return TaskDetail{}, err
	}
	d := TaskDetail{Task: t}
	if d.Indicators, err = db.ListIndicators(ctx, IndicatorFilter{TaskID: id}); err != nil {
		return TaskDetail{}, err
	}
	if d.Problems, err = db.ListProblems(ctx, ProblemFilter{TaskID: id}); err != nil {
		return TaskDetail{}, err
	}
	return d, nil
}

// Checkpoint is the position the read models are at.
func (db *DB) Checkpoint(ctx context.Context) (Checkpoint, error) {
	ctx, leave := db.gate.enter(ctx)
	defer leave()
	var c Checkpoint
	var last, updated sql.NullString
	err := db.reader.QueryRowContext(ctx, `SELECT position, last_recorded_at, updated_at FROM checkpoints WHERE projection = ?`,
		projectionName).Scan(&c.Position, &last, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return Checkpoint{}, nil
	}
	if err != nil {
		return Checkpoint{}, err
	}
	for _, x := range []struct {
		dst *time.Time
		src sql.NullString
	}{{&c.LastRecordedAt, last}, {&c.UpdatedAt, updated}} {
		if x.src.Valid {
			if *x.dst, err = parseTime(x.src.String); err != nil {
				return Checkpoint{}, err
			}
		}
	}
	return c, nil
}

// Snapshots lists the recorded snapshots of a year (0: all), oldest first.
func (db *DB) Snapshots(ctx context.Context, year int) ([]Snapshot, error) {
	ctx, leave := db.gate.enter(ctx)
	defer leave()
	rows, err := db.reader.QueryContext(ctx, `SELECT event_id, year, position, content_hash, root, aggregates,
		COALESCE(file, ''), COALESCE(note, ''), actor, recorded_at FROM snapshots WHERE ? = 0 OR year = ?
		ORDER BY year, position`, year, year)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Snapshot{}
	for rows.Next() {
		var s Snapshot
		if err := rows.Scan(&s.EventID, &s.Year, &s.Position, &s.ContentHash, &s.Root, &s.Aggregates, &s.File, &s.Note,
			&s.Actor, &s.RecordedAt); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
