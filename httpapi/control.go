package httpapi

import (
	"net/http"
	"strconv"

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
