package httpapi

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"kpitrail/auth"
	"kpitrail/domain"
	"kpitrail/projections"
)

// controlRoutes are the routes that keep a figure's life under control:
// frozen years, review and approval, warnings, reporting periods.
func (s *Server) controlRoutes() {
	s.handle("GET /v1/years", "read", s.read(func(r *http.Request, db *projections.DB) (any, error) {
		year, err := intParam(r.URL.Query().Get("year"), "year")
		if err != nil {
			return nil, err
		}
		years, err := db.Years(r.Context(), year)
		return map[string]any{"years": years}, err
	}))
	s.handle("POST /v1/years/{year}/reopen", "write", writeRoute(s, http.StatusOK, func(r *http.Request, c *domain.ReopenYear) error {
		return pathYear(r, &c.Year)
	}))

	s.handle("PUT /v1/years/{year}/calendar", "write", writeRoute(s, http.StatusOK, func(r *http.Request, c *domain.SetCalendar) error {
		return pathYear(r, &c.Year)
	}))
	// Reporting periods: who reported what by when, judged on a day (?on=,
	// else the as_of day, else today in the assessment calendar).
	s.handle("GET /v1/completeness", "read", s.read(func(r *http.Request, db *projections.DB) (any, error) {
		q := r.URL.Query()
		year, err := intParam(q.Get("year"), "year")
		if err != nil {
			return nil, err
		}
		on, err := dayParam(r)
		if err != nil {
			return nil, err
		}
		var statuses []string
		if v := q.Get("status"); v != "" {
			statuses = strings.Split(v, ",")
		}
		return db.Completeness(r.Context(), projections.CompletenessFilter{Year: year, Department: q.Get("department"), Statuses: statuses, On: on,
			SeesTask: SeesTask(r.Context(), db, s.scope(r))})
	}))

	// Review and approval of figures.
	s.handle("POST /v1/indicators/{id}/figures/{eid}/submit", "write", writeRoute(s, http.StatusOK, func(r *http.Request, c *domain.SubmitFigure) error {
		return figurePath(r, &c.IndicatorID, &c.Figure)
	}))
	s.handle("POST /v1/indicators/{id}/figures/{eid}/approve", "write", writeRoute(s, http.StatusOK, func(r *http.Request, c *domain.ApproveFigure) error {
		return figurePath(r, &c.IndicatorID, &c.Figure)
	}))
	s.handle("POST /v1/indicators/{id}/figures/{eid}/return", "write", writeRoute(s, http.StatusOK, func(r *http.Request, c *domain.ReturnFigure) error {
		return figurePath(r, &c.IndicatorID, &c.Figure)
	}))
	s.handle("POST /v1/indicators/{id}/figures/{eid}/reopen", "write", writeRoute(s, http.StatusOK, func(r *http.Request, c *domain.ReopenFigure) error {
		return figurePath(r, &c.IndicatorID, &c.Figure)
	}))
	// Proposals: a department's base or target, the office's decision.
	s.handle("POST /v1/indicators/{id}/proposals/bases", "write", writeRoute(s, http.StatusCreated, func(r *http.Request, c *domain.ProposeBase) error {
		return pathID(r, "id", &c.IndicatorID, "indicator_id")
	}))
	s.handle("POST /v1/indicators/{id}/proposals/target", "write", writeRoute(s, http.StatusCreated, func(r *http.Request, c *domain.ProposeTarget) error {
		return pathID(r, "id", &c.IndicatorID, "indicator_id")
	}))
	s.handle("POST /v1/indicators/{id}/proposals/{pid}/approve", "write", writeRoute(s, http.StatusOK, func(r *http.Request, c *domain.ApproveProposal) error {
		if err := pathID(r, "pid", &c.Proposal, "proposal"); err != nil {
			return err
		}
		return pathID(r, "id", &c.IndicatorID, "indicator_id")
	}))
	s.handle("POST /v1/indicators/{id}/proposals/{pid}/reject", "write", writeRoute(s, http.StatusOK, func(r *http.Request, c *domain.RejectProposal) error {
		if err := pathID(r, "pid", &c.Proposal, "proposal"); err != nil {
			return err
		}
		return pathID(r, "id", &c.IndicatorID, "indicator_id")
	}))
	s.handle("GET /v1/indicators/{id}/proposals", "read", s.read(func(r *http.Request, db *projections.DB) (any, error) {
		if err := readableIndicator(r, s, db, r.PathValue("id")); err != nil {
			return nil, err
		}
		if _, err := db.GetIndicator(r.Context(), r.PathValue("id")); err != nil {
			return nil, err
		}
		list, err := db.Proposals(r.Context(), r.PathValue("id"))
		return map[string]any{"proposals": list}, err
	}))
	// Warnings: what the validation rules flag, and their explanations.
	s.handle("GET /v1/warnings", "read", s.read(func(r *http.Request, db *projections.DB) (any, error) {
		q := r.URL.Query()
		year, err := intParam(q.Get("year"), "year")
		if err != nil {
			return nil, err
		}
		list, err := db.Warnings(r.Context(), projections.WarningFilter{State: q.Get("state"), Year: year, IndicatorID: q.Get("indicator_id"),
			Department: q.Get("department")})
		if err != nil {
			return nil, err
		}
		list, err = VisibleRows(r.Context(), db, s.scope(r), list, func(w projections.Warning) string { return w.TaskID })
		return map[string]any{"warnings": list, "rules": domain.WarningRules}, err
	}))
	s.handle("POST /v1/indicators/{id}/warnings/explain", "write", writeRoute(s, http.StatusCreated, func(r *http.Request, c *domain.ExplainWarning) error {
		return pathID(r, "id", &c.IndicatorID, "indicator_id")
	}))
	// What awaits the caller: a department's figures to submit, or, for
	// the office (and those who read along), what awaits approval.
	s.handle("GET /v1/review-queue", "read", s.read(func(r *http.Request, db *projections.DB) (any, error) {
		year, err := intParam(r.URL.Query().Get("year"), "year")
		if err != nil {
			return nil, err
		}
		p, _ := authPrincipal(r)
		items, err := ReviewQueue(r.Context(), db, p, s.scope(r), year)
		return map[string]any{"items": items}, err
	}))
}

// figurePath fills a review command's indicator and figure from the path.
func figurePath(r *http.Request, indicatorID, figure *string) error {
	if err := pathID(r, "eid", figure, "figure"); err != nil {
		return err
	}
	return pathID(r, "id", indicatorID, "indicator_id")
}

// pathYear puts the path's {year} into a body field, refusing a different one.
func pathYear(r *http.Request, field *int) error {
	y, err := strconv.Atoi(r.PathValue("year"))
	if err != nil {
		return domain.Invalid("year", "int", "the path's year must be a number, got %q", r.PathValue("year"))
	}
	if *field != 0 && *field != y {
		return domain.Invalid("year", "matches_path", "body says %d, the path says %d", *field, y)
	}
	*field = y
	return nil
}

// dayParam is the day a judgement is made on: ?on=YYYY-MM-DD, else the
// as_of instant's day, else today, in the assessment calendar (CST).
func dayParam(r *http.Request) (domain.Date, error) {
	if v := r.URL.Query().Get("on"); v != "" {
		return domain.ParseDate("on", v)
	}
	t := time.Now()
	if asOf, err := asOfParam(r); err != nil {
		return "", err
	} else if asOf != nil {
		t = *asOf
	}
	return domain.Date(t.In(projections.DefaultLocation).Format(time.DateOnly)), nil
}

// ReviewQueue is what awaits p's review step, within what p may read: a
// department's figures still to submit, or, for the office (and those who
// read along), what awaits approval, never p's own submissions. The API
// and the console's work queue both list it.
func ReviewQueue(ctx context.Context, db *projections.DB, p auth.Principal, sc auth.ReadScope, year int) ([]projections.ReviewItem, error) {
	f := projections.ReviewFilter{Approver: p.Role != auth.RoleReporter, Person: p.Name, Departments: p.Departments, Year: year}
	items, err := db.ReviewQueue(ctx, f)
	if err != nil {
		return nil, err
	}
	return VisibleRows(ctx, db, sc, items, func(x projections.ReviewItem) string { return x.TaskID })
}
