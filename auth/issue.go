package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"kpitrail/domain"
)

// IssueRequest asks for a new token.
type IssueRequest struct {
	Name        string
	Role        Role
	Departments []string
	// Unit scopes the token to a unit's subtree ("" for the whole
	// hierarchy); see Principal.Unit.
	Unit string
	// TTL is the token's lifetime: 0 for the server's default, at most the
	// server's maximum.
	TTL time.Duration
	// Rotate issues a token for a name that already has one, and retires
	// the old token(s): revoked at once, or, with Grace, left valid that
	// much longer (never beyond their own expiry) so a department's system
	// can switch over without a gap.
	Rotate bool
	Grace  time.Duration
}

// Issued is a new token, returned once.
type Issued struct {
	Principal
	Token     string    `json:"token"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	// Rotated lists the tokens this one replaced.
	Rotated []RotatedToken `json:"rotated,omitempty"`
}

// RotatedToken is an old token retired by a rotation, and when it stops
// (or stopped) working.
type RotatedToken struct {
	TokenID string    `json:"token_id"`
	EndsAt  time.Time `json:"ends_at"`
}

func (t *Tokens) checkIssue(req IssueRequest) error {
	if err := domain.CheckText("name", req.Name, true, domain.MaxShortText); err != nil {
		return err
	}
	if strings.ContainsAny(req.Name, ":\n") {
		return domain.Invalid("name", "charset", "must not contain ':' or newlines")
	}
	if !req.Role.Valid() {
		return domain.Invalid("role", "enum", "must be one of admin, office, reporter, auditor, analyst; got %q", string(req.Role))
	}
	if req.Role == RoleReporter && len(req.Departments) == 0 {
		return domain.Invalid("departments", "required", "a reporter token needs at least one department")
	}
	if req.Unit != "" {
		if err := domain.ValidateID("unit", req.Unit); err != nil {
			return err
		}
		if req.Role == RoleAdmin {
			return domain.Invalid("unit", "admin_unscoped", "an admin manages the whole deployment; an admin token is not scoped to a unit")
		}
	}
	for i, d := range req.Departments {
		if err := domain.CheckText(fmt.Sprintf("departments[%d]", i), d, true, domain.MaxShortText); err != nil {
			return err
		}
	}
	switch {
	case req.TTL < 0:
		return domain.Invalid("expires_in", "min", "must be positive, got %s", req.TTL)
	case req.TTL > t.cfg.MaxTTL:
		return domain.Invalid("expires_in", "max", "at most %s (the server's --token-max-ttl), got %s", t.cfg.MaxTTL, req.TTL)
	case req.Grace < 0:
		return domain.Invalid("rotate_grace", "min", "must not be negative, got %s", req.Grace)
	case req.Grace > 0 && !req.Rotate:
		return domain.Invalid("rotate_grace", "requires", "only with rotate")
	}
	return nil
}

// Issue creates a token. A name belongs to one live token at a time: a
// name whose token is neither revoked nor expired is refused (a conflict
// naming the field) unless the request rotates it.
func (t *Tokens) Issue(ctx context.Context, by Principal, req IssueRequest) (Issued, error) {
	if err := t.checkIssue(req); err != nil {
		return Issued{}, err
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return Issued{}, err
	}
	idb := make([]byte, 8)
	if _, err := rand.Read(idb); err != nil {
		return Issued{}, err
	}
	token := tokenPrefix + hex.EncodeToString(secret)
	sum := sha256.Sum256([]byte(token))
	now := t.cfg.Now().UTC()
	ttl := req.TTL
	if ttl == 0 {
		ttl = t.cfg.DefaultTTL
	}
	out := Issued{Principal: Principal{TokenID: hex.EncodeToString(idb), Name: req.Name, Role: req.Role, Departments: req.Departments, Unit: req.Unit},
		Token: token, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	row := tokenRow{ID: out.TokenID, Name: req.Name, Role: req.Role, Departments: req.Departments, Unit: req.Unit, Hash: hex.EncodeToString(sum[:]),
		CreatedAt: now, CreatedBy: by.Actor(), CreatedByToken: by.TokenID, ExpiresAt: out.ExpiresAt}
	if row.Departments == nil {
		row.Departments = []string{}
	}
	err := t.store.issue(ctx, row, func(unrevoked []tokenRow) ([]tokenRow, error) {
		out.Rotated = nil
		var live []tokenRow
		for _, r := range unrevoked {
			if now.Before(r.ExpiresAt) {
				live = append(live, r)
			}
		}
		if len(live) > 0 && !req.Rotate {
			return nil, &domain.Error{Code: domain.ECONFLICT, Field: "name", Rule: "in_use",
				Message: fmt.Sprintf("token %s already holds the name %q until %s; rotate it (rotate: true) or revoke it first",
					live[0].ID, req.Name, live[0].ExpiresAt.Format(time.RFC3339))}
		}
		for i, old := range live {
			r := RotatedToken{TokenID: old.ID, EndsAt: now}
			if req.Grace > 0 {
				r.EndsAt = now.Add(req.Grace)
				if old.ExpiresAt.Before(r.EndsAt) {
					r.EndsAt = old.ExpiresAt
				}
				live[i].ExpiresAt = r.EndsAt
			} else {
				live[i].RevokedAt = now
			}
			live[i].ReplacedBy = out.TokenID
			out.Rotated = append(out.Rotated, r)
		}
		return live, nil
	})
	if err != nil {
		return Issued{}, err
	}
	return out, nil
}
