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

func (s *Server) scope(r *http.Request) auth.ReadScope {
	p, _ := authPrincipal(r)
	return auth.ReadScopeOf(p, s.cfg.ReportersReadAll)
}

// visibility answers, and remembers for one request or stream, whether the
// caller may read a task and an indicator. A task's departments never
// change, and neither does an indicator's task, so an answer stays true.
type visibility struct {
	scope      auth.ReadScope
	tasks      map[string]bool
	indicators map[string]string // indicator id -> task id
}

func newVisibility(sc auth.ReadScope) *visibility {
	return &visibility{scope: sc, tasks: map[string]bool{}, indicators: map[string]string{}}
}

// task reports whether the caller may read the task; a task the read
// models do not hold is not readable.
func (v *visibility) task(ctx context.Context, db *projections.DB, id string) (bool, error) {
	ok, _, err := v.taskKnown(ctx, db, id)
	return ok, err
}

// taskKnown is task, and whether the read models hold the task at all.
func (v *visibility) taskKnown(ctx context.Context, db *projections.DB, id string) (ok, known bool, err error) {
	if v.scope.All() {
		return true, true, nil
	}
	if ok, known := v.tasks[id]; known {
		return ok, true, nil
	}
	deps, err := db.TaskDepartments(ctx, id)
	if domain.ErrorCode(err) == domain.ENOTFOUND {
		return false, false, nil
	}
	if err != nil {
		return false, false, err
	}
	v.tasks[id] = v.scope.Sees(deps)
	return v.tasks[id], true, nil
}

func (v *visibility) indicator(ctx context.Context, db *projections.DB, id string) (bool, error) {
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
	return v.task(ctx, db, task)
}

// event reports whether the caller may read a stored event: a task's or
// an indicator's it may read. Snapshots and checkpoints are the office's
// records of the whole log, outside any department's scope.
func (v *visibility) event(ctx context.Context, db *projections.DB, e domain.Envelope) (bool, error) {
	switch {
	case v.scope.All():
		return true, nil
	case e.AggregateType == domain.AggregateTask:
		return v.task(ctx, db, e.AggregateID)
	case e.AggregateType == domain.AggregateIndicator:
		return v.indicator(ctx, db, e.AggregateID)
	}
	return false, nil
}

// readableTask returns the not-found answer for a task the caller may not
// read, and nil otherwise.
func readableTask(r *http.Request, s *Server, db *projections.DB, id string) error {
	ok, err := newVisibility(s.scope(r)).task(r.Context(), db, id)
	if err == nil && !ok {
		err = projections.TaskNotFound(id)
	}
	return err
}

func readableIndicator(r *http.Request, s *Server, db *projections.DB, id string) error {
	ok, err := newVisibility(s.scope(r)).indicator(r.Context(), db, id)
	if err == nil && !ok {
		err = projections.IndicatorNotFound(id)
	}
	return err
}

// wholeTables refuses what cannot be cut to a reporter's scope.
func (s *Server) wholeTables(r *http.Request) error {
	if s.scope(r).All() {
		return nil
	}
	return domain.Forbidden("exports are whole tables and a reporter reads only its departments' tasks (the server runs with --reporter-reads own)")
}
