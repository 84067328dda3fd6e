package auth

import (
	"context"
	"time"
)

// store keeps tokens and console sessions, hashed. Two implement it: a
// SQLite file in the data directory (one instance, the default) and NATS
// KV buckets (many instances on one cluster, which must all know every
// token and session). Both pass the same conformance tests
// (store_conformance_test.go); the rules (expiry, rotation, constant-time
// comparison) live in Tokens and Sessions, above either.
type store interface {
	// tokenByHash returns the token whose SHA-256 is hash (hex), or
	// ErrBadToken.
	tokenByHash(ctx context.Context, hash string) (tokenRow, error)
	// tokens lists every stored token, oldest first.
	tokens(ctx context.Context) ([]tokenRow, error)
	// issue stores row. Atomically with it, settle is given the name's
	// tokens that are not revoked and returns those it changes (rotated
	// out); its error refuses the issue and stores nothing.
	issue(ctx context.Context, row tokenRow, settle func(unrevoked []tokenRow) ([]tokenRow, error)) error
	// revoke marks token id revoked at at; a domain not-found error when no
	// unrevoked token has that id.
	revoke(ctx context.Context, id string, at time.Time) error

	// openSessions prepares session storage for sessions that end at most
	// absolute after they start.
	openSessions(ctx context.Context, absolute time.Duration) error
	putSession(ctx context.Context, idHash string, s sessionRow) error
	// session returns the session, or ErrNoSession.
	session(ctx context.Context, idHash string) (sessionRow, error)
	touchSession(ctx context.Context, idHash string, seen time.Time) error
	endSession(ctx context.Context, idHash string) error
	// sweepSessions forgets sessions past their absolute end or idle since
	// before idleBefore (a store that expires them itself may do nothing).
	sweepSessions(ctx context.Context, now, idleBefore time.Time) error

	close() error
}

// tokenRow is one stored token: its secret only as a SHA-256.
type tokenRow struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Role        Role     `json:"role"`
	Departments []string `json:"departments"`
	// Unit scopes the token to a unit's subtree; "" (tokens from before
	// units) is unscoped.
	Unit           string    `json:"unit,omitempty"`
	Hash           string    `json:"hash"`
	CreatedAt      time.Time `json:"created_at"`
	CreatedBy      string    `json:"created_by"`
	CreatedByToken string    `json:"created_by_token,omitempty"`
	RevokedAt      time.Time `json:"revoked_at,omitzero"`
	ExpiresAt      time.Time `json:"expires_at"`
	ReplacedBy     string    `json:"replaced_by,omitempty"`
}

func (r tokenRow) revoked() bool { return !r.RevokedAt.IsZero() }

// sessionRow is one console session, keyed by the SHA-256 of its id.
type sessionRow struct {
	TokenHash string    `json:"token_hash"`
	TokenID   string    `json:"token_id"`
	CreatedAt time.Time `json:"created_at"`
	SeenAt    time.Time `json:"seen_at"`
	ExpiresAt time.Time `json:"expires_at"`
}
