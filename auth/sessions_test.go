package auth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"
)

// A session lives in a real auth.db; the clock is the store's own, moved
// by the test.
func openSessions(t *testing.T, kind string, cfg SessionConfig) (*Tokens, *Sessions, *time.Time) {
	t.Helper()
	now := time.Date(2022, 12, 31, 9, 0, 0, 0, time.UTC)
	tok := OpenTestTokens(t, kind, TokenConfig{AdminToken: "boot-token", Now: func() time.Time { return now }})
	s, err := tok.Sessions(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return tok, s, &now
}

func TestSessionResolvesToTheTokensPrincipal(t *testing.T) {
	EachStore(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		tok, s, _ := openSessions(t, kind, SessionConfig{})
		issued, err := tok.Issue(ctx, Principal{Name: "admin", Role: RoleAdmin}, IssueRequest{Name: "城管委", Role: RoleReporter, Departments: []string{"区城管委"}})
		if err != nil {
			t.Fatal(err)
		}
		id, sess, err := s.Start(ctx, issued.Token)
		if err != nil {
			t.Fatal(err)
		}
		if sess.Principal.TokenID != issued.TokenID || sess.Principal.Role != RoleReporter {
			t.Fatalf("session principal %+v, want the token's", sess.Principal)
		}
		got, err := s.Resolve(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if got.Principal.Name != "城管委" || got.CSRF != sess.CSRF || got.CSRF == "" {
			t.Fatalf("resolved %+v", got)
		}
		// Only hashes are stored: neither the session id nor the token.
		stored, _ := rawSessions(t, tok)
		if strings.Contains(stored, id) || strings.Contains(stored, issued.Token) || strings.Contains(stored, sess.CSRF) {
			t.Fatal("the session row holds a secret in clear")
		}
		sum := sha256.Sum256([]byte(id))
		if !strings.Contains(stored, hex.EncodeToString(sum[:])) {
			t.Fatal("the session row is not keyed by the id's hash")
		}
		if err := got.CheckCSRF(sess.CSRF); err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{"", sess.CSRF[:10], strings.Repeat("0", len(sess.CSRF))} {
			if got.CheckCSRF(bad) == nil {
				t.Fatalf("CSRF %q accepted", bad)
			}
		}
	})
}

func TestSessionRefusesBadTokensAndIDs(t *testing.T) {
	EachStore(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		_, s, _ := openSessions(t, kind, SessionConfig{})
		if _, _, err := s.Start(ctx, "kpt_not-a-token"); !errors.Is(err, ErrBadToken) {
			t.Fatalf("unknown token: %v", err)
		}
		for _, id := range []string{"", "short", strings.Repeat("a", 64)} {
			if _, err := s.Resolve(ctx, id); !errors.Is(err, ErrNoSession) {
				t.Fatalf("id %q: %v", id, err)
			}
		}
	})
}

func TestSessionExpiresWhenIdleAndAtItsAbsoluteEnd(t *testing.T) {
	EachStore(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		_, s, now := openSessions(t, kind, SessionConfig{Idle: 10 * time.Minute, Absolute: time.Hour})
		id, _, err := s.Start(ctx, "boot-token")
		if err != nil {
			t.Fatal(err)
		}
		// Used every 9 minutes it stays alive until the absolute end.
		for i := 0; i < 6; i++ {
			*now = now.Add(9 * time.Minute)
			if _, err := s.Resolve(ctx, id); err != nil {
				t.Fatalf("after %d uses: %v", i+1, err)
			}
		}
		*now = now.Add(7 * time.Minute) // 61 minutes after sign-in
		if _, err := s.Resolve(ctx, id); !errors.Is(err, ErrNoSession) {
			t.Fatalf("past the absolute expiry: %v", err)
		}
		id, _, err = s.Start(ctx, "boot-token")
		if err != nil {
			t.Fatal(err)
		}
		*now = now.Add(10 * time.Minute)
		if _, err := s.Resolve(ctx, id); !errors.Is(err, ErrNoSession) {
			t.Fatalf("idle for 10 minutes: %v", err)
		}
	})
}

func TestRevokingATokenEndsItsSessionsAndSignOutEndsOne(t *testing.T) {
	EachStore(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		tok, s, _ := openSessions(t, kind, SessionConfig{})
		issued, err := tok.Issue(ctx, Principal{Name: "admin", Role: RoleAdmin}, IssueRequest{Name: "考评办", Role: RoleOffice})
		if err != nil {
			t.Fatal(err)
		}
		a, _, err := s.Start(ctx, issued.Token)
		if err != nil {
			t.Fatal(err)
		}
		b, _, err := s.Start(ctx, issued.Token)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.End(ctx, a); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Resolve(ctx, a); !errors.Is(err, ErrNoSession) {
			t.Fatalf("signed out: %v", err)
		}
		if _, err := s.Resolve(ctx, b); err != nil {
			t.Fatalf("the other session: %v", err)
		}
		if err := tok.Revoke(ctx, issued.TokenID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Resolve(ctx, b); !errors.Is(err, ErrNoSession) {
			t.Fatalf("token revoked: %v", err)
		}
	})
}

// A token's expiry ends its sessions on their next use, however fresh the
// session: every use authenticates the token again, expiry check included.
// A sign-in with an expired token is refused with the expiry named.
func TestATokensExpiryEndsItsSessions(t *testing.T) {
	EachStore(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		tok, s, now := openSessions(t, kind, SessionConfig{Idle: time.Hour, Absolute: 48 * time.Hour})
		issued, err := tok.Issue(ctx, Principal{Name: "admin", Role: RoleAdmin}, IssueRequest{Name: "城管委", Role: RoleReporter,
			Departments: []string{"区城管委"}, TTL: 2 * time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		*now = now.Add(90 * time.Minute)
		id, _, err := s.Start(ctx, issued.Token)
		if err != nil {
			t.Fatal(err)
		}
		*now = now.Add(29 * time.Minute) // 1 minute before the token expires
		if _, err := s.Resolve(ctx, id); err != nil {
			t.Fatalf("before the token's expiry: %v", err)
		}
		*now = now.Add(time.Minute) // the token's expiry, well inside the session's idle and absolute bounds
		_, err = s.Resolve(ctx, id)
		if !errors.Is(err, ErrNoSession) || !TokenExpired(err) || !strings.Contains(err.Error(), "expired at") {
			t.Fatalf("at the token's expiry: %v", err)
		}
		if _, n := rawSessions(t, tok); n != 0 {
			t.Fatalf("the ended session is still stored (%d)", n)
		}
		if _, err := s.Resolve(ctx, id); !errors.Is(err, ErrNoSession) || TokenExpired(err) {
			t.Fatalf("the session after it ended: %v", err)
		}
		if _, _, err := s.Start(ctx, issued.Token); !TokenExpired(err) || errors.Is(err, ErrBadToken) {
			t.Fatalf("sign-in with the expired token: %v", err)
		}
	})
}
