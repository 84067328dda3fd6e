package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
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
	deps, _ := json.Marshal(req.Departments)
	now := t.cfg.Now().UTC()
	ttl := req.TTL
	if ttl == 0 {
		ttl = t.cfg.DefaultTTL
	}
	out := Issued{Principal: Principal{TokenID: hex.EncodeToString(idb), Name: req.Name, Role: req.Role, Departments: req.Departments, Unit: req.Unit},
		Token: token, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	// The connection string asks for BEGIN IMMEDIATE, so two issues of one
	// name cannot both see it free.
	tx, err := t.db.BeginTx(ctx, nil)
	if err != nil {
		return Issued{}, err
	}
	defer tx.Rollback()
	live, err := liveTokens(ctx, tx, req.Name, now)
	if err != nil {
		return Issued{}, err
	}
	if len(live) > 0 && !req.Rotate {
		return Issued{}, &domain.Error{Code: domain.ECONFLICT, Field: "name", Rule: "in_use",
			Message: fmt.Sprintf("token %s already holds the name %q until %s; rotate it (rotate: true) or revoke it first",
				live[0].id, req.Name, live[0].expires.Format(time.RFC3339))}
	}
	for _, old := range live {
		r := RotatedToken{TokenID: old.id, EndsAt: now}
		if req.Grace > 0 {
			r.EndsAt = now.Add(req.Grace)
			if old.expires.Before(r.EndsAt) {
				r.EndsAt = old.expires
			}
			_, err = tx.ExecContext(ctx, `UPDATE tokens SET expires_at = ?, replaced_by = ? WHERE id = ?`, formatTime(r.EndsAt), out.TokenID, old.id)
		} else {
			_, err = tx.ExecContext(ctx, `UPDATE tokens SET revoked_at = ?, replaced_by = ? WHERE id = ?`, formatTime(now), out.TokenID, old.id)
		}
		if err != nil {
			return Issued{}, fmt.Errorf("rotate token %s: %w", old.id, err)
		}
		out.Rotated = append(out.Rotated, r)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO tokens (id, name, role, departments, hash, created_at, created_by, created_by_token, expires_at, unit)
		VALUES (?,?,?,?,?,?,?,?,?,?)`, out.TokenID, req.Name, string(req.Role), string(deps), hex.EncodeToString(sum[:]),
		formatTime(now), by.Actor(), by.TokenID, formatTime(out.ExpiresAt), req.Unit)
	if err != nil {
		return Issued{}, fmt.Errorf("issue token: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return Issued{}, fmt.Errorf("issue token: %w", err)
	}
	return out, nil
}

type liveToken struct {
	id      string
	expires time.Time
}

// liveTokens are the tokens of a name that still authenticate at now.
func liveTokens(ctx context.Context, tx *sql.Tx, name string, now time.Time) ([]liveToken, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id, expires_at FROM tokens WHERE name = ? AND revoked_at IS NULL ORDER BY created_at`, name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []liveToken
	for rows.Next() {
		var l liveToken
		var exp string
		if err := rows.Scan(&l.id, &exp); err != nil {
			return nil, err
		}
		if l.expires, err = parseTime(exp); err != nil {
			return nil, fmt.Errorf("token %s: expires_at: %w", l.id, err)
		}
		if now.Before(l.expires) {
			out = append(out, l)
		}
	}
	return out, rows.Err()
}
