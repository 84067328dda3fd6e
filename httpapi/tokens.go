package httpapi

import (
	"net/http"

	"kpitrail/auth"
)

type tokenRequest struct {
	Name        string    `json:"name"`
	Role        auth.Role `json:"role"`
	Departments []string  `json:"departments,omitempty"`
}

func (s *Server) issueToken(w http.ResponseWriter, r *http.Request) error {
	var req tokenRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	p, _ := auth.FromContext(r.Context())
	issued, err := s.cfg.Tokens.Issue(r.Context(), p, req.Name, req.Role, req.Departments)
	if err != nil {
		return err
	}
	s.log.Info("token issued", "by", p.Actor(), "name", issued.Name, "role", issued.Role, "token_id", issued.TokenID)
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
