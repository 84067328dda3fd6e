package httpapi

import (
	"net/http"
	"time"

	"kpitrail/auth"
	"kpitrail/domain"
	"kpitrail/projections"
)

// tokenRequest is the body of POST /v1/tokens. Lifetimes are in seconds, as
// OAuth's expires_in is.
type tokenRequest struct {
	Name        string    `json:"name"`
	Role        auth.Role `json:"role"`
	Departments []string  `json:"departments,omitempty"`
	Unit        string    `json:"unit,omitempty"`
	ExpiresIn   int64     `json:"expires_in,omitempty"`
	Rotate      bool      `json:"rotate,omitempty"`
	RotateGrace int64     `json:"rotate_grace,omitempty"`
}

// maxSeconds keeps a lifetime in seconds inside time.Duration; the token
// store then holds it to the server's maximum.
const maxSeconds = int64(1<<63-1) / int64(time.Second)

func seconds(field string, n int64) (time.Duration, error) {
	if n > maxSeconds || n < -maxSeconds {
		return 0, domain.Invalid(field, "range", "%d seconds is out of range", n)
	}
	return time.Duration(n) * time.Second, nil
}

func (s *Server) issueToken(w http.ResponseWriter, r *http.Request) error {
	var req tokenRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	ttl, err := seconds("expires_in", req.ExpiresIn)
	if err != nil {
		return err
	}
	grace, err := seconds("rotate_grace", req.RotateGrace)
	if err != nil {
		return err
	}
	if req.Unit != "" {
		// A token for a unit the read models do not hold would read
		// nothing and write nowhere: a typo, refused before it is issued.
		if err := domain.ValidateID("unit", req.Unit); err != nil {
			return err
		}
		if err := s.cfg.Reads.With(r.Context(), nil, func(db *projections.DB) error {
			_, err := db.GetUnit(r.Context(), req.Unit)
			return err
		}); err != nil {
			return err
		}
	}
	p, _ := auth.FromContext(r.Context())
	issued, err := s.cfg.Tokens.Issue(r.Context(), p, auth.IssueRequest{Name: req.Name, Role: req.Role, Departments: req.Departments,
		Unit: req.Unit, TTL: ttl, Rotate: req.Rotate, Grace: grace})
	if err != nil {
		return err
	}
	s.log.Info("token issued", "by", p.Actor(), "by_token_id", p.TokenID, "name", issued.Name, "role", issued.Role, "unit", issued.Unit,
		"token_id", issued.TokenID, "expires_at", issued.ExpiresAt)
	for _, old := range issued.Rotated {
		s.log.Info("token rotated out", "token_id", old.TokenID, "replaced_by", issued.TokenID, "ends_at", old.EndsAt)
	}
	writeJSON(w, http.StatusCreated, issued)
	return nil
}

func (s *Server) listTokens(w http.ResponseWriter, r *http.Request) error {
	list, err := s.cfg.Tokens.List(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": list})
	return nil
}

func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) error {
	if err := s.cfg.Tokens.Revoke(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
