package httpapi

import (
	"context"
	"net/http"

	"kpitrail/auth"
	"kpitrail/domain"
	"kpitrail/projections"
)

// Reporters read only their own departments' tasks unless the server says
// otherwise (Config.ReportersReadAll). A task, indicator or audit trail
// outside a reporter's scope answers 404 exactly as a missing one does, so
// a reporter cannot learn what other departments are assessed on; lists
// leave such rows out; the raw log and the change stream skip their
// events. Exports are whole tables and are refused (403).
//
// The functions below are exported because the web console reads the same
// read models for the same callers: it asks them, so the two can never
// disagree about what a reporter may see.

func (s *Server) scope(r *http.Request) auth.ReadScope {
	p, _ := authPrincipal(r)
	return auth.ReadScopeOf(p, s.cfg.ReportersReadAll)
}

// Visibility answers, and remembers for one request or stream, whether the
// caller may read a task and an indicator. A task's departments never
// change, and neither does an indicator's task, so an answer stays true.
type Visibility struct {
	scope      auth.ReadScope
	tasks      map[string]bool
	indicators map[string]string // indicator id -> task id
}

// NewVisibility starts the answers for one request of a caller in scope sc.
func NewVisibility(sc auth.ReadScope) *Visibility {
	return &Visibility{scope: sc, tasks: map[string]bool{}, indicators: map[string]string{}}
}

// All reports whether nothing is hidden from the caller.
func (v *Visibility) All() bool { return v.scope.All() }

// Task reports whether the caller may read the task; a task the read
// models do not hold is not readable.
func (v *Visibility) Task(ctx context.Context, db *projections.DB, id string) (bool, error) {
	ok, _, err := v.taskKnown(ctx, db, id)
	return ok, err
}

// taskKnown is Task, and whether the read models hold the task at all.
func (v *Visibility) taskKnown(ctx context.Context, db *projections.DB, id string) (ok, known bool, err error) {
	if v.scope.All() {
		return true, true, nil
	}
	if ok, known := v.tasks[id]; known {
		return ok, true, nil
	}
	path, deps, err := db.TaskReach(ctx, id)
	if domain.ErrorCode(err) == domain.ENOTFOUND {
		return false, false, nil
	}
	if err != nil {
		return false, false, err
	}
	v.tasks[id] = v.scope.Sees(path, deps)
	return v.tasks[id], true, nil
}

// Indicator reports whether the caller may read the indicator: whether it
// may read the indicator's task.
func (v *Visibility) Indicator(ctx context.Context, db *projections.DB, id string) (bool, error) {
	if v.scope.All() {
		return true, nil
	}
	task, known := v.indicators[id]
	if !known {
		var err error
		task, err = db.IndicatorTask(ctx, id)
		if domain.ErrorCode(err) == domain.ENOTFOUND {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		v.indicators[id] = task
	}
	return v.Task(ctx, db, task)
}

// Event reports whether the caller may read a stored event: a task's or
// an indicator's it may read. Snapshots and checkpoints are the office's
// records of the whole log, outside any department's scope.
func (v *Visibility) Event(ctx context.Context, db *projections.DB, e domain.Envelope) (bool, error) {
	switch {
	case v.scope.All():
		return true, nil
	case e.AggregateType == domain.AggregateTask:
		return v.Task(ctx, db, e.AggregateID)
	case e.AggregateType == domain.AggregateIndicator:
		return v.Indicator(ctx, db, e.AggregateID)
	case e.AggregateType == domain.AggregateUnit:
		return v.Unit(ctx, db, e.AggregateID)
	}
	return false, nil
}

// Unit reports whether the caller may read a unit's own records: the unit
// is in its reach. A unit the read models do not hold is not readable.
func (v *Visibility) Unit(ctx context.Context, db *projections.DB, id string) (bool, error) {
	if v.scope.All() {
		return true, nil
	}
	u, err := db.GetUnit(ctx, id)
	if domain.ErrorCode(err) == domain.ENOTFOUND {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return v.scope.SeesUnit(u.Path), nil
}

// VisibleTasks is the part of a board the caller may read. The board may
// be the one the read models keep for every caller: it filters into a new
// slice, never in place.
func VisibleTasks(sc auth.ReadScope, tasks []projections.Task) []projections.Task {
	if sc.All() {
		return tasks
	}
	mine := []projections.Task{}
	for _, t := range tasks {
		if sc.Sees(t.UnitPath, append([]string{t.LeadDepartment}, t.CoDepartments...)) {
			mine = append(mine, t)
		}
	}
	return mine
}

// VisibleRows is the part of a list the caller may read, each row known
// by its task (taskOf): the review queue, warnings, completeness. It
// filters into a new slice, never in place.
func VisibleRows[T any](ctx context.Context, db *projections.DB, sc auth.ReadScope, rows []T, taskOf func(T) string) ([]T, error) {
	if sc.All() {
		return rows, nil
	}
	v := NewVisibility(sc)
	mine := []T{}
	for _, r := range rows {
		ok, err := v.Task(ctx, db, taskOf(r))
		if err != nil {
			return nil, err
		}
		if ok {
			mine = append(mine, r)
		}
	}
	return mine, nil
}

// SeesTask is the caller's scope as a question about one task at a time,
// for read models that filter while they count (projections.Completeness);
// nil when nothing is hidden.
func SeesTask(ctx context.Context, db *projections.DB, sc auth.ReadScope) func(taskID string) (bool, error) {
	if sc.All() {
		return nil
	}
	v := NewVisibility(sc)
	return func(taskID string) (bool, error) { return v.Task(ctx, db, taskID) }
}

// ReadableTask returns the not-found answer for a task the caller may not
// read, and nil otherwise.
func ReadableTask(ctx context.Context, db *projections.DB, sc auth.ReadScope, id string) error {
	ok, err := NewVisibility(sc).Task(ctx, db, id)
	if err == nil && !ok {
		err = projections.TaskNotFound(id)
	}
	return err
}

// ReadableIndicator is ReadableTask for indicators.
func ReadableIndicator(ctx context.Context, db *projections.DB, sc auth.ReadScope, id string) error {
	ok, err := NewVisibility(sc).Indicator(ctx, db, id)
	if err == nil && !ok {
		err = projections.IndicatorNotFound(id)
	}
	return err
}

// WholeTables refuses what cannot be cut to a reporter's scope.
func WholeTables(sc auth.ReadScope) error {
	if sc.All() {
		return nil
	}
	if sc.Unit() != "" {
		return domain.Forbidden("exports are whole tables and this token reads only the subtree of unit %s", sc.Unit())
	}
	return domain.Forbidden("exports are whole tables and a reporter reads only its departments' tasks (the server runs with --reporter-reads own)")
}

func readableTask(r *http.Request, s *Server, db *projections.DB, id string) error {
	return ReadableTask(r.Context(), db, s.scope(r), id)
}

func readableIndicator(r *http.Request, s *Server, db *projections.DB, id string) error {
	return ReadableIndicator(r.Context(), db, s.scope(r), id)
}

func (s *Server) wholeTables(r *http.Request) error { return WholeTables(s.scope(r)) }
