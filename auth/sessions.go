package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"kpitrail/domain"
)

// Sessions are the console's sign-ins: a token given once on the sign-in
// form becomes a random session id in an HttpOnly cookie, so the token
// itself never has to be kept in the browser. The sessions live beside
// the tokens (auth.db, or the cluster's KV bucket) and are, like them, only hashes: the SHA-256 of the
// session id (a stolen database cannot be replayed as a cookie) and the
// SHA-256 of the token, which is how the tokens table finds it. Every use
// of a session authenticates that token again, so revoking a token, or
// its expiry, ends its sessions at once.
type Sessions struct {
	tokens *Tokens
	cfg    SessionConfig
}

// SessionConfig bounds a session's life.
type SessionConfig struct {
	// Idle ends a session not used for this long (default 30 minutes).
	Idle time.Duration
	// Absolute ends every session this long after sign-in, used or not
	// (default 12 hours).
	Absolute time.Duration
}

func (c *SessionConfig) setDefaults() {
	if c.Idle <= 0 {
		c.Idle = 30 * time.Minute
	}
	if c.Absolute <= 0 {
		c.Absolute = 12 * time.Hour
	}
}

// touchEvery is how stale last_seen may get before a request writes it
// again: idle expiry to the minute, without a write on every page view.
const touchEvery = time.Minute

// Session is a live sign-in.
type Session struct {
	Principal Principal
	CreatedAt time.Time
	ExpiresAt time.Time // absolute expiry
	// CSRF is the value every form of the session must send back. It is
	// derived from the session id, which only the cookie holds, so it is
	// never stored and cannot be computed from the database.
	CSRF string
}

// ErrNoSession is returned for a session id that is unknown, expired or
// whose token no longer authenticates.
var ErrNoSession = errors.New("no such session, or it has expired")

// sessionOfExpiredToken is ErrNoSession for a session whose token has
// expired: still no session, with the token's refusal (which says when it
// expired) kept so the sign-in page can tell the reader why.
type sessionOfExpiredToken struct{ refusal error }

func (e sessionOfExpiredToken) Error() string { return ErrNoSession.Error() + ": " + e.refusal.Error() }

func (e sessionOfExpiredToken) Is(target error) bool { return target == ErrNoSession }

func (e sessionOfExpiredToken) Unwrap() error { return e.refusal }

// TokenExpired reports whether err refuses a token, or ends a session,
// because the token has expired.
func TokenExpired(err error) bool {
	e, ok := domain.AsError(err)
	return ok && e.Code == domain.EUNAUTHORIZED && e.Rule == "expired"
}

// Sessions opens the session store in the token database.
func (t *Tokens) Sessions(cfg SessionConfig) (*Sessions, error) {
	cfg.setDefaults()
	if err := t.store.openSessions(context.Background(), cfg.Absolute); err != nil {
		return nil, fmt.Errorf("sessions: %w", err)
	}
	return &Sessions{tokens: t, cfg: cfg}, nil
}

// Start authenticates token and opens a session for it. The returned id
// goes into the cookie and nowhere else.
func (s *Sessions) Start(ctx context.Context, token string) (id string, sess Session, err error) {
	sum := sha256.Sum256([]byte(token))
	p, err := s.tokens.authenticateDigest(ctx, sum)
	if err != nil {
		return "", Session{}, err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", Session{}, err
	}
	id = hex.EncodeToString(raw)
	now := s.tokens.cfg.Now().UTC()
	sess = Session{Principal: p, CreatedAt: now, ExpiresAt: now.Add(s.cfg.Absolute), CSRF: csrfOf(id)}
	// Sign-in is rare: clearing what has expired here keeps the table small
	// without a background job.
	if err := s.tokens.store.sweepSessions(ctx, now, now.Add(-s.cfg.Idle)); err != nil {
		return "", Session{}, fmt.Errorf("sessions: %w", err)
	}
	if err := s.tokens.store.putSession(ctx, hashID(id), sessionRow{TokenHash: hex.EncodeToString(sum[:]), TokenID: p.TokenID,
		CreatedAt: now, SeenAt: now, ExpiresAt: sess.ExpiresAt}); err != nil {
		return "", Session{}, fmt.Errorf("sessions: %w", err)
	}
	return id, sess, nil
}

// Resolve returns the live session of id: not past its absolute expiry,
// used within the idle time, and its token still valid.
func (s *Sessions) Resolve(ctx context.Context, id string) (Session, error) {
	if len(id) != 64 {
		return Session{}, ErrNoSession
	}
	row, err := s.tokens.store.session(ctx, hashID(id))
	if err != nil {
		return Session{}, err
	}
	now := s.tokens.cfg.Now().UTC()
	sess := Session{CSRF: csrfOf(id), CreatedAt: row.CreatedAt, ExpiresAt: row.ExpiresAt}
	seenAt, tokenHash := row.SeenAt, row.TokenHash
	if !now.Before(sess.ExpiresAt) || !now.Before(seenAt.Add(s.cfg.Idle)) {
		_ = s.End(ctx, id)
		return Session{}, ErrNoSession
	}
	var sum [sha256.Size]byte
	if b, err := hex.DecodeString(tokenHash); err != nil || len(b) != len(sum) {
		return Session{}, fmt.Errorf("sessions: stored token hash is malformed")
	} else {
		copy(sum[:], b)
	}
	if sess.Principal, err = s.tokens.authenticateDigest(ctx, sum); err != nil {
		switch {
		case errors.Is(err, ErrBadToken):
			_ = s.End(ctx, id)
			return Session{}, ErrNoSession
		case TokenExpired(err):
			_ = s.End(ctx, id)
			return Session{}, sessionOfExpiredToken{refusal: err}
		}
		return Session{}, err
	}
	if now.Sub(seenAt) >= touchEvery {
		if err := s.tokens.store.touchSession(ctx, hashID(id), now); err != nil {
			return Session{}, fmt.Errorf("sessions: %w", err)
		}
	}
	return sess, nil
}

// End signs a session out; ending one that is gone is not an error.
func (s *Sessions) End(ctx context.Context, id string) error {
	return s.tokens.store.endSession(ctx, hashID(id))
}

// Idle is the configured idle expiry, for the cookie's own lifetime.
func (s *Sessions) Idle() time.Duration { return s.cfg.Idle }

// CheckCSRF compares a form's value with the session's in constant time.
func (sess Session) CheckCSRF(got string) error {
	if got == "" || !hmac.Equal([]byte(got), []byte(sess.CSRF)) {
		return domain.Forbidden("the form's CSRF token is missing or does not belong to this session; reload the page and try again")
	}
	return nil
}

func hashID(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

// csrfOf derives a session's CSRF value from its id with a label of its
// own, so the value a page shows says nothing about the cookie.
func csrfOf(id string) string {
	m := hmac.New(sha256.New, []byte(id))
	m.Write([]byte("kpitrail console csrf"))
	return hex.EncodeToString(m.Sum(nil))
}

// stamp is fixed width, so text order is time order in SQL.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000000Z07:00") }
