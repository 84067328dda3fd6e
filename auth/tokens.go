package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

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
	store     store
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

// OpenTokens opens (or creates) the token database of a single instance,
// a SQLite file.
func OpenTokens(path string, cfg TokenConfig) (*Tokens, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	st, err := openSQLiteStore(path, cfg.DefaultTTL, cfg.Now())
	if err != nil {
		return nil, err
	}
	return newTokens(st, cfg), nil
}

func newTokens(st store, cfg TokenConfig) *Tokens {
	t := &Tokens{store: st, cfg: cfg}
	if cfg.AdminToken != "" {
		h := sha256.Sum256([]byte(cfg.AdminToken))
		t.bootstrap = h[:]
	}
	return t
}

func (t *Tokens) Close() error { return t.store.close() }

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
	row, err := t.store.tokenByHash(ctx, hex.EncodeToString(sum[:]))
	if err != nil {
		return Principal{}, err
	}
	// The store found the row by hash; compare again in constant time so
	// the answer never depends on how much of a guess matched.
	want, _ := hex.DecodeString(row.Hash)
	if subtle.ConstantTimeCompare(sum[:], want) != 1 || row.revoked() {
		return Principal{}, ErrBadToken
	}
	if !t.cfg.Now().Before(row.ExpiresAt) {
		return Principal{}, &domain.Error{Code: domain.EUNAUTHORIZED, Field: "token", Rule: "expired",
			Message: fmt.Sprintf("token %s expired at %s; ask an administrator for a new one", row.ID, row.ExpiresAt.Format(time.RFC3339))}
	}
	return Principal{TokenID: row.ID, Name: row.Name, Role: row.Role, Departments: row.Departments, Unit: row.Unit}, nil
}

// Revoke disables a token by id.
func (t *Tokens) Revoke(ctx context.Context, id string) error {
	return t.store.revoke(ctx, id, t.cfg.Now())
}

// List returns all tokens (without secrets).
func (t *Tokens) List(ctx context.Context) ([]TokenInfo, error) {
	rows, err := t.store.tokens(ctx)
	if err != nil {
		return nil, err
	}
	out := []TokenInfo{}
	now := t.cfg.Now()
	for _, r := range rows {
		ti := TokenInfo{Principal: Principal{TokenID: r.ID, Name: r.Name, Role: r.Role, Departments: r.Departments, Unit: r.Unit},
			CreatedAt: formatTime(r.CreatedAt), CreatedBy: r.CreatedBy, CreatedByTokenID: r.CreatedByToken,
			ExpiresAt: r.ExpiresAt.Format(time.RFC3339Nano), Expired: !now.Before(r.ExpiresAt), ReplacedBy: r.ReplacedBy}
		if r.revoked() {
			ti.RevokedAt = formatTime(r.RevokedAt)
		}
		out = append(out, ti)
	}
	return out, nil
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
