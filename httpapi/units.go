package httpapi

import (
	"net/http"

	"kpitrail/domain"
	"kpitrail/projections"
)

// unitRoutes are the hierarchy of assessed units and its roll-ups. A unit
// outside the caller's reach answers 404 exactly as a missing one does;
// roll-ups and rankings count only the tasks the caller may read.
func (s *Server) unitRoutes() {
	s.handle("POST /v1/units", "write", writeRoute(s, http.StatusCreated, func(r *http.Request, c *domain.RegisterUnit) error {
		return domain.ValidateID("unit_id", c.UnitID)
	}))
	s.handle("GET /v1/units", "read", s.read(func(r *http.Request, db *projections.DB) (any, error) {
		units, err := db.Units(r.Context())
		if err != nil {
			return nil, err
		}
		sc := s.scope(r)
		mine := []projections.Unit{}
		for _, u := range units {
			if sc.SeesUnit(u.Path) {
				mine = append(mine, u)
			}
		}
		return map[string]any{"units": mine}, nil
	}))
	s.handle("GET /v1/units/{id}", "read", s.read(func(r *http.Request, db *projections.DB) (any, error) {
		return s.readableUnit(r, db, r.PathValue("id"), "id")
	}))
	s.handle("GET /v1/units/{id}/rollup", "read", s.read(func(r *http.Request, db *projections.DB) (any, error) {
		u, err := s.readableUnit(r, db, r.PathValue("id"), "id")
		if err != nil {
			return nil, err
		}
		year, err := intParam(r.URL.Query().Get("year"), "year")
		if err != nil {
			return nil, err
		}
		on, err := dayParam(r)
		if err != nil {
			return nil, err
		}
		return db.Rollup(r.Context(), u.ID, projections.RollupFilter{Year: year, On: on, Sees: SeesTask(r.Context(), db, s.scope(r))})
	}))
	s.handle("GET /v1/rankings", "read", s.read(func(r *http.Request, db *projections.DB) (any, error) {
		q := r.URL.Query()
		year, err := intParam(q.Get("year"), "year")
		if err != nil {
			return nil, err
		}
		unit := q.Get("unit")
		if unit != "" {
			if _, err := s.readableUnit(r, db, unit, "unit"); err != nil {
				return nil, err
			}
		}
		return db.Rank(r.Context(), projections.RankingFilter{Key: q.Get("key"), Year: year, Unit: unit,
			Sees: SeesTask(r.Context(), db, s.scope(r))})
	}))
}

// readableUnit is the unit id names (field is its parameter), or the not-found answer when the
// read models do not hold it or it is outside the caller's reach.
func (s *Server) readableUnit(r *http.Request, db *projections.DB, id, field string) (projections.Unit, error) {
	if err := domain.ValidateID(field, id); err != nil {
		return projections.Unit{}, err
	}
	u, err := db.GetUnit(r.Context(), id)
	if err != nil {
		return projections.Unit{}, err
	}
	if !s.scope(r).SeesUnit(u.Path) {
		return projections.Unit{}, projections.UnitNotFound(id)
	}
	return u, nil
}
