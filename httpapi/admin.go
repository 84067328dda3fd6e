package httpapi

import (
	"context"
	"net/http"

	"kpitrail/auth"
	"kpitrail/domain"
	"kpitrail/projections"
)

// Admin runs operations that span the store and the read models.
type Admin interface {
	Rebuild(ctx context.Context) (RebuildResult, error)
	Snapshot(ctx context.Context, year int, note string) (SnapshotResult, error)
}

type RebuildResult struct {
	Position uint64  `json:"position"`
	Seconds  float64 `json:"seconds"`
}

type SnapshotResult struct {
	Year          int    `json:"year"`
	Position      uint64 `json:"position"`
	ContentHash   string `json:"content_hash"`
	Root          string `json:"root"`
	Aggregates    int    `json:"aggregates"`
	File          string `json:"file"`
	EventID       string `json:"event_id"`
	EventPosition uint64 `json:"event_position"`
}

type snapshotRequest struct {
	Year int    `json:"year"`
	Note string `json:"note,omitempty"`
}

func (s *Server) adminRoutes() {
	s.handle("POST /v1/admin/rebuild", "admin", func(w http.ResponseWriter, r *http.Request) error {
		if wantsJob(r) {
			p, _ := authPrincipal(r)
			return s.startJob(w, r, "rebuild", func(ctx context.Context) (any, error) {
				return s.cfg.Admin.Rebuild(auth.WithPrincipal(ctx, p))
			})
		}
		res, err := s.cfg.Admin.Rebuild(r.Context())
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, res)
		return nil
	})
	// Snapshots are the office's year-end sign-off as much as an operation.
	s.handle("POST /v1/snapshots", "write", func(w http.ResponseWriter, r *http.Request) error {
		// Checked before the replay, which is the expensive part.
		if p, _ := authPrincipal(r); p.Role != auth.RoleAdmin && p.Role != auth.RoleOffice {
			return domain.Forbidden("role %s may not take snapshots", p.Role)
		}
		var req snapshotRequest
		if err := decodeBody(r, &req); err != nil {
			return err
		}
		res, err := s.cfg.Admin.Snapshot(r.Context(), req.Year, req.Note)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusCreated, res)
		return nil
	})
	s.handle("GET /v1/snapshots", "read", s.read(func(r *http.Request, db *projections.DB) (any, error) {
		year, err := intParam(r.URL.Query().Get("year"), "year")
		if err != nil {
			return nil, err
		}
		list, err := db.Snapshots(r.Context(), year)
		return map[string]any{"snapshots": list}, err
	}))
}
