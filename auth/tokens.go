package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	_ "github.com/mattn/go-sqlite3" // SQLite driver

	"kpitrail/domain"
)

// Tokens stores API tokens. Only a SHA-256 of each token is kept: tokens are
// 32 random bytes, so a fast hash is enough (there is nothing to brute-force),
// and a lookup by hash never compares secrets byte by byte in variable time.
//
// Every stored token expires. The bootstrap token (KPITRAIL_ADMIN_TOKEN) does
// not: it is the operator's way back in when every admin token has expired,
// it lives in the server's environment rather than in a client's hands, and
// it is retired by removing it from the environment and restarting.
type Tokens struct {
	db        *sql.DB
	bootstrap []byte // hash of KPITRAIL_ADMIN_TOKEN, if set
	cfg       TokenConfig
}

const tokenPrefix = "kpt_"

// BootstrapTokenID is the token id of KPITRAIL_ADMIN_TOKEN, stamped on what
// it does like any other token's id.
const BootstrapTokenID = "bootstrap"

// Token lifetimes when the server is not told otherwise.
const (
	DefaultTokenTTL    = 90 * 24 * time.Hour
	DefaultTokenMaxTTL = 365 * 24 * time.Hour
)

// TokenConfig configures the token store.
type TokenConfig struct {
	// AdminToken is the bootstrap admin token; empty for none.
	AdminToken string
	// DefaultTTL is the lifetime of a token issued without one
	// (DefaultTokenTTL when 0); MaxTTL bounds what may be asked for
	// (DefaultTokenMaxTTL when 0).
	DefaultTTL, MaxTTL time.Duration
	// Now is the clock; tests move it. time.Now when nil.
	Now func() time.Time
}

func (c *TokenConfig) setDefaults() {
	if c.DefaultTTL == 0 {
		c.DefaultTTL = DefaultTokenTTL
	}
	if c.MaxTTL == 0 {
		c.MaxTTL = DefaultTokenMaxTTL
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// Validate reports a configuration that would issue tokens the server then
// refuses, or tokens that never expire.
func (c TokenConfig) Validate() error {
	var errs []error
	if c.DefaultTTL < 0 {
		errs = append(errs, fmt.Errorf("token default lifetime %s is negative", c.DefaultTTL))
	}
	if c.MaxTTL < 0 {
		errs = append(errs, fmt.Errorf("token maximum lifetime %s is negative", c.MaxTTL))
	}
	if c.DefaultTTL > c.MaxTTL {
		errs = append(errs, fmt.Errorf("token default lifetime %s exceeds the maximum %s", c.DefaultTTL, c.MaxTTL))
	}
	return errors.Join(errs...)
}

// OpenTokens opens (or creates) the token database.
func OpenTokens(path string, cfg TokenConfig) (*Tokens, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_busy_timeout=5000&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	t := &Tokens{db: db, cfg: cfg}
	if err := t.migrate(); err != nil {
		db.Close()
		return nil, fmt.Errorf("tokens: %w", err)
	}
	if cfg.AdminToken != "" {
		h := sha256.Sum256([]byte(cfg.AdminToken))
		t.bootstrap = h[:]
	}
	return t, nil
}

// migrate creates the table, and brings a table from before tokens expired
// up to date: its tokens are given the default lifetime from now, so an
// upgrade neither locks every department out at once nor leaves a token
// valid for ever.
func (t *Tokens) migrate() error {
	if _, err := t.db.Exec(`CREATE TABLE IF NOT EXISTS tokens (
		id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, departments TEXT NOT NULL,
		hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL, created_by TEXT NOT NULL, revoked_at TEXT)`); err != nil {
		return err
	}
	have := map[string]bool{}
	rows, err := t.db.Query(`SELECT name FROM pragma_table_info('tokens')`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			rows.Close()
			return err
		}
		have[c] = true
	}
	rows.Close()
	// unit: tokens from before units are unscoped ("" reads as NULL does).
	for _, col := range []string{"expires_at", "created_by_token", "replaced_by", "unit"} {
		if !have[col] {
			if _, err := t.db.Exec(`ALTER TABLE tokens ADD COLUMN ` + col + ` TEXT`); err != nil {
				return err
			}
		}
	}
	if _, err := t.db.Exec(`CREATE INDEX IF NOT EXISTS tokens_name ON tokens (name)`); err != nil {
		return err
	}
	_, err = t.db.Exec(`UPDATE tokens SET expires_at = ? WHERE expires_at IS NULL`, formatTime(t.cfg.Now().Add(t.cfg.DefaultTTL)))
	return err
}

func (t *Tokens) Close() error { return t.db.Close() }

// ErrBadToken is returned for unknown or revoked tokens.
var ErrBadToken = errors.New("unknown or revoked token")

// Authenticate resolves a bearer token to its principal. An expired token
// is refused with an unauthorized domain error that says so and when, so a
// department's system can tell "renew me" from "you are not one of us".
func (t *Tokens) Authenticate(ctx context.Context, token string) (Principal, error) {
	return t.authenticateDigest(ctx, sha256.Sum256([]byte(token)))
}

// authenticateDigest resolves a token by its SHA-256, the form it is
// stored in: a console session keeps only that, and every request through
// the session is checked here again, so a revoked token ends its sessions.
func (t *Tokens) authenticateDigest(ctx context.Context, sum [sha256.Size]byte) (Principal, error) {
	if t.bootstrap != nil && subtle.ConstantTimeCompare(sum[:], t.bootstrap) == 1 {
		return Principal{TokenID: BootstrapTokenID, Name: "admin", Role: RoleAdmin}, nil
	}
	var p Principal
	var deps, role, stored, expires string
	var revoked sql.NullString
	err := t.db.QueryRowContext(ctx, `SELECT id, name, role, departments, hash, revoked_at, expires_at, COALESCE(unit, '') FROM tokens WHERE hash = ?`,
		hex.EncodeToString(sum[:])).Scan(&p.TokenID, &p.Name, &role, &deps, &stored, &revoked, &expires, &p.Unit)
	if errors.Is(err, sql.ErrNoRows) {
		return Principal{}, ErrBadToken
	}
	if err != nil {
		return Principal{}, err
	}
	// The index found the row by hash; compare again in constant time so the
	// answer never depends on how much of a guess matched.
	want, _ := hex.DecodeString(stored)
	if subtle.ConstantTimeCompare(sum[:], want) != 1 || revoked.Valid {
		return Principal{}, ErrBadToken
	}
	exp, err := parseTime(expires)
	if err != nil {
		return Principal{}, fmt.Errorf("token %s: expires_at: %w", p.TokenID, err)
	}
	if !t.cfg.Now().Before(exp) {
		return Principal{}, &domain.Error{Code: domain.EUNAUTHORIZED, Field: "token", Rule: "expired",
			Message: fmt.Sprintf("token %s expired at %s; ask an administrator for a new one", p.TokenID, exp.Format(time.RFC3339))}
	}
	p.Role = Role(role)
	if err := json.Unmarshal([]byte(deps), &p.Departments); err != nil {
		return Principal{}, err
	}
	return p, nil
}

// Revoke disables a token by id.
func (t *Tokens) Revoke(ctx context.Context, id string) error {
	res, err := t.db.ExecContext(ctx, `UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`, formatTime(t.cfg.Now()), id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return domain.NotFound("token %s", id)
	}
	return nil
}

// List returns all tokens (without secrets).
func (t *Tokens) List(ctx context.Context) ([]TokenInfo, error) {
	rows, err := t.db.QueryContext(ctx, `SELECT id, name, role, departments, created_at, created_by, COALESCE(created_by_token, ''),
		COALESCE(revoked_at, ''), expires_at, COALESCE(replaced_by, ''), COALESCE(unit, '') FROM tokens ORDER BY created_at`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []TokenInfo{}
	now := t.cfg.Now()
	for rows.Next() {
		var ti TokenInfo
		var deps, role, expires string
		if err := rows.Scan(&ti.TokenID, &ti.Name, &role, &deps, &ti.CreatedAt, &ti.CreatedBy, &ti.CreatedByTokenID,
			&ti.RevokedAt, &expires, &ti.ReplacedBy, &ti.Unit); err != nil {
			return nil, err
		}
		ti.Role = Role(role)
		_ = json.Unmarshal([]byte(deps), &ti.Departments)
		exp, err := parseTime(expires)
		if err != nil {
			return nil, fmt.Errorf("token %s: expires_at: %w", ti.TokenID, err)
		}
		ti.ExpiresAt = exp.Format(time.RFC3339Nano)
		ti.Expired = !now.Before(exp)
		out = append(out, ti)
	}
	return out, rows.Err()
}

// TokenInfo describes a stored token.
type TokenInfo struct {
	Principal
	CreatedAt        string `json:"created_at"`
	CreatedBy        string `json:"created_by"`
	CreatedByTokenID string `json:"created_by_token_id,omitempty"`
	RevokedAt        string `json:"revoked_at,omitempty"`
	ExpiresAt        string `json:"expires_at"`
	Expired          bool   `json:"expired"`
	// ReplacedBy is the token that rotated this one out.
	ReplacedBy string `json:"replaced_by,omitempty"`
}

// Stored times are UTC RFC 3339 with nanoseconds. They are compared after
// parsing, never as text: the layout drops trailing zeros, so its text
// order is not time order.
func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func parseTime(s string) (time.Time, error) { return time.Parse(time.RFC3339Nano, s) }

// Refusal turns an Authenticate error into what every transport answers:
// 401 for an unknown, revoked or expired token (the expiry named), and an
// internal error for a store that failed.
func Refusal(err error) error {
	if errors.Is(err, ErrBadToken) {
		return domain.Unauthorized("unknown or revoked token")
	}
	if e, ok := domain.AsError(err); ok && e.Code == domain.EUNAUTHORIZED {
		return e
	}
	return domain.Internal(err, "authenticate")
}
