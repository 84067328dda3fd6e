package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"kpitrail/domain"
	"kpitrail/projections"
)

// ReadModels gives handlers the live read models, or the read models as
// known at a past record time.
type ReadModels interface {
	With(ctx context.Context, asOf *time.Time, fn func(*projections.DB) error) error
}

func (s *Server) readRoutes() {
	s.handle("GET /v1/events", "read", s.listEvents)
	s.handle("GET /v1/tasks", "read", s.read(func(r *http.Request, db *projections.DB) (any, error) {
		q := r.URL.Query()
		year, err := intParam(q.Get("year"), "year")
		if err != nil {
			return nil, err
		}
		limit, after, err := taskPage(q)
		if err != nil {
			return nil, err
		}
		tasks, err := db.TaskBoard(r.Context(), projections.TaskFilter{Year: year, Dimension: q.Get("dimension"),
			Department: q.Get("department"), Status: q.Get("status"), Unit: q.Get("unit"), Limit: limit, After: after})
		if err != nil {
			return nil, err
		}
		out := map[string]any{}
		if limit > 0 && len(tasks) == limit {
			// The cursor is the page's last row before the reader's scope
			// is applied, so a reporter's short page still moves on.
			out["next"] = encodeTaskCursor(projections.CursorOf(tasks[len(tasks)-1]))
		}
		out["tasks"] = VisibleTasks(s.scope(r), tasks)
		return out, nil
	}))
	s.handle("GET /v1/tasks/{id}", "read", s.read(func(r *http.Request, db *projections.DB) (any, error) {
		if err := readableTask(r, s, db, r.PathValue("id")); err != nil {
			return nil, err
		}
		return db.GetTask(r.Context(), r.PathValue("id"))
	}))
	s.handle("GET /v1/indicators", "read", s.read(func(r *http.Request, db *projections.DB) (any, error) {
		q := r.URL.Query()
		year, err := intParam(q.Get("year"), "year")
		if err != nil {
			return nil, err
		}
		list, err := db.ListIndicators(r.Context(), projections.IndicatorFilter{TaskID: q.Get("task_id"), Year: year, Q: q.Get("q")})
		if err != nil {
			return nil, err
		}
		if v := NewVisibility(s.scope(r)); !v.All() {
			mine := []projections.Indicator{}
			for _, in := range list {
				ok, err := v.Task(r.Context(), db, in.TaskID)
				if err != nil {
					return nil, err
				}
				if ok {
					mine = append(mine, in)
				}
			}
			list = mine
		}
		return map[string]any{"indicators": list}, nil
	}))
	s.handle("GET /v1/indicators/{id}", "read", s.read(func(r *http.Request, db *projections.DB) (any, error) {
		if err := readableIndicator(r, s, db, r.PathValue("id")); err != nil {
			return nil, err
		}
		return db.GetIndicator(r.Context(), r.PathValue("id"))
	}))
	s.handle("GET /v1/indicators/{id}/figures", "read", s.read(func(r *http.Request, db *projections.DB) (any, error) {
		if err := readableIndicator(r, s, db, r.PathValue("id")); err != nil {
			return nil, err
		}
		if _, err := db.GetIndicator(r.Context(), r.PathValue("id")); err != nil {
			return nil, err
		}
		figs, err := db.Figures(r.Context(), r.PathValue("id"))
		return map[string]any{"figures": figs}, err
	}))
	s.handle("GET /v1/indicators/{id}/history", "read", s.read(func(r *http.Request, db *projections.DB) (any, error) {
		if err := readableIndicator(r, s, db, r.PathValue("id")); err != nil {
			return nil, err
		}
		in, err := db.GetIndicator(r.Context(), r.PathValue("id"))
		if err != nil {
			return nil, err
		}
		years, err := db.History(r.Context(), in.Key)
		if err != nil {
			return nil, err
		}
		// One key's years may belong to other tasks, led by others.
		if v := NewVisibility(s.scope(r)); !v.All() {
			mine := []projections.IndicatorYear{}
			for _, y := range years {
				ok, err := v.Task(r.Context(), db, y.TaskID)
				if err != nil {
					return nil, err
				}
				if ok {
					mine = append(mine, y)
				}
			}
			years = mine
		}
		return map[string]any{"key": in.Key, "years": years}, nil
	}))
	s.handle("GET /v1/indicators/{id}/audit", "read", s.read(func(r *http.Request, db *projections.DB) (any, error) {
		if err := readableIndicator(r, s, db, r.PathValue("id")); err != nil {
			return nil, err
		}
		if _, err := db.GetIndicator(r.Context(), r.PathValue("id")); err != nil {
			return nil, err
		}
		changes, err := db.AuditTrail(r.Context(), r.PathValue("id"))
		return map[string]any{"changes": changes}, err
	}))
	s.handle("GET /v1/status", "read", s.read(func(r *http.Request, db *projections.DB) (any, error) {
		return db.Checkpoint(r.Context())
	}))
	s.handle("GET /v1/admin/dead-letters", "admin", s.read(func(r *http.Request, db *projections.DB) (any, error) {
		limit, err := intParam(r.URL.Query().Get("limit"), "limit")
		if err != nil {
			return nil, err
		}
		if limit > 1000 {
			return nil, domain.Invalid("limit", "range", "must be at most 1000, got %d", limit)
		}
		dl, err := db.DeadLetters(r.Context(), limit)
		return map[string]any{"dead_letters": dl}, err
	}))
	// Anything else gets a problem document, not the mux's plain text.
	s.handle("/", "", func(_ http.ResponseWriter, r *http.Request) error {
		return domain.NotFound("no route %s %s; see /v1/openapi.json", r.Method, r.URL.Path)
	})
}

// read wraps a query handler: as_of parsing, the read models' lock, JSON.
func (s *Server) read(q func(r *http.Request, db *projections.DB) (any, error)) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		asOf, err := asOfParam(r)
		if err != nil {
			return err
		}
		var out any
		err = s.cfg.Reads.With(r.Context(), asOf, func(db *projections.DB) error {
			var err error
			out, err = q(r, db)
			return err
		})
		if err != nil {
			retryLater(w, err)
			return err
		}
		if asOf != nil {
			w.Header().Set("Kpitrail-As-Of", asOf.UTC().Format(time.RFC3339Nano))
		}
		// A single resource carries its version as the ETag a write's
		// If-Match takes.
		switch v := out.(type) {
		case projections.TaskDetail:
			w.Header().Set("ETag", etag(v.Version))
		case projections.Indicator:
			w.Header().Set("ETag", etag(v.Version))
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
}

func asOfParam(r *http.Request) (*time.Time, error) {
	v := r.URL.Query().Get("as_of")
	if v == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return nil, domain.Invalid("as_of", "rfc3339", "must be an RFC 3339 time such as 2022-12-31T23:59:59+08:00, got %q", v)
	}
	return &t, nil
}

func intParam(v, name string) (int, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, domain.Invalid(name, "uint", "must be a non-negative integer, got %q", v)
	}
	return n, nil
}
