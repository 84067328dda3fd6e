package httpapi

import (
	"context"
	"net/http"

	"kpitrail/audit"
	"kpitrail/auth"
	"kpitrail/domain"
	"kpitrail/signing"
)

// Audit verifies the log and holds the signing keys; cmd wires it to the
// store, the read models and the key files.
type Audit interface {
	// Verify checks the log against the given claims and everything known
	// of it outside the log (the read models, the last verification).
	Verify(ctx context.Context, claims []audit.Claim) (audit.Report, error)
	// Root signs the root of the log at the read models' checkpoint.
	Root(ctx context.Context) (audit.Statement, error)
	// Keyring is the keys trusted to sign the log.
	Keyring() *signing.Keyring
	// RotateKey replaces the signing key.
	RotateKey(ctx context.Context, meta domain.Meta, reason string) (KeyRotation, error)
}

// KeyRotation is the outcome of POST /v1/admin/keys/rotate.
type KeyRotation struct {
	RetiredKeyID string `json:"retired_key_id"`
	KeyID        string `json:"key_id"`
	PublicKey    string `json:"public_key"`
	// Position is the rotation event's: the retired key signs up to it,
	// the new key after it.
	Position uint64 `json:"position"`
}

type rotateRequest struct {
	Reason string `json:"reason"`
}

func (s *Server) auditRoutes() {
	s.handle("GET /v1/audit/verify", "read", s.verify)
	s.handle("POST /v1/audit/verify", "read", s.verifyStatement)
	s.handle("GET /v1/audit/root", "read", func(w http.ResponseWriter, r *http.Request) error {
		if err := mayAudit(r); err != nil {
			return err
		}
		st, err := s.cfg.Audit.Root(r.Context())
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, st)
		return nil
	})
	// Public keys: anyone who reads the log may check its signatures.
	s.handle("GET /v1/audit/keys", "read", func(w http.ResponseWriter, _ *http.Request) error {
		writeJSON(w, http.StatusOK, s.cfg.Audit.Keyring())
		return nil
	})
	s.handle("POST /v1/audit/acknowledgements", "write", writeRoute(s, http.StatusCreated, func(*http.Request, *domain.AcknowledgeFinding) error {
		return nil
	}))
	s.handle("POST /v1/admin/keys/rotate", "admin", func(w http.ResponseWriter, r *http.Request) error {
		var req rotateRequest
		if err := decodeBody(r, &req); err != nil {
			return err
		}
		p, _ := authPrincipal(r)
		meta, err := requestMeta(r, p)
		if err != nil {
			return err
		}
		res, err := s.cfg.Audit.RotateKey(r.Context(), meta, req.Reason)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, res)
		return nil
	})
}

// mayAudit admits auditors and admins: a verification reads every event.
func mayAudit(r *http.Request) error {
	p, _ := authPrincipal(r)
	if p.Role != auth.RoleAuditor && p.Role != auth.RoleAdmin {
		return domain.Forbidden("role %s may not verify the log", p.Role)
	}
	return nil
}

// verify walks the whole log. ?root=&position=&aggregates= checks a
// published checkpoint as well.
func (s *Server) verify(w http.ResponseWriter, r *http.Request) error {
	if err := mayAudit(r); err != nil {
		return err
	}
	var claims []audit.Claim
	q := r.URL.Query()
	if root := q.Get("root"); root != "" {
		pos, err := uintParam(q.Get("position"), 0, "position")
		if err != nil {
			return err
		}
		n, err := intParam(q.Get("aggregates"), "aggregates")
		if err != nil {
			return err
		}
		claims = append(claims, audit.Claim{Source: "the root given with the request",
			Checkpoint: audit.Checkpoint{Position: pos, Root: root, Aggregates: n}})
	}
	return s.answerVerify(w, r, claims)
}

// answerVerify runs a verification and counts its outcome for
// kpitrail_audit_verifications_total.
func (s *Server) answerVerify(w http.ResponseWriter, r *http.Request, claims []audit.Claim) error {
	rep, err := s.cfg.Audit.Verify(r.Context(), claims)
	switch {
	case err != nil:
		s.verifies.WithLabelValues("error").Inc()
		return err
	case !rep.OK():
		s.verifies.WithLabelValues("findings").Inc()
	default:
		s.verifies.WithLabelValues("ok").Inc()
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

// verifyStatement checks the log against a root statement kept outside
// the system (the body is the statement as `kpitrail audit root` printed
// it). A statement whose signature does not verify is a finding.
func (s *Server) verifyStatement(w http.ResponseWriter, r *http.Request) error {
	if err := mayAudit(r); err != nil {
		return err
	}
	var st audit.Statement
	if err := decodeBody(r, &st); err != nil {
		return err
	}
	return s.answerVerify(w, r, []audit.Claim{st.Claim("the root statement of " + st.Time.Format("2006-01-02T15:04:05Z07:00"))})
}
