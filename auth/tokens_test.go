package auth_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"kpitrail/auth"
	"kpitrail/domain"
)

// The bootstrap token is exempt from expiry by decision (it is the way
// back in); every stored token is not.
func TestOnlyTheBootstrapTokenOutlivesTime(t *testing.T) {
	var skew time.Duration
	auth.EachStore(t, func(t *testing.T, kind string) {
		skew = 0
		tokens := auth.OpenTestTokens(t, kind, auth.TokenConfig{AdminToken: "boot",
			Now: func() time.Time { return time.Now().Add(skew) }})
		p, err := tokens.Authenticate(context.Background(), "boot")
		if err != nil {
			t.Fatal(err)
		}
		issued, err := tokens.Issue(context.Background(), p, auth.IssueRequest{Name: "分析员", Role: auth.RoleAnalyst, TTL: auth.DefaultTokenMaxTTL})
		if err != nil {
			t.Fatal(err)
		}
		skew = 10 * auth.DefaultTokenMaxTTL
		if p, err := tokens.Authenticate(context.Background(), "boot"); err != nil || p.TokenID != auth.BootstrapTokenID {
			t.Fatalf("bootstrap after ten years: %+v %v", p, err)
		}
		if _, err := tokens.Authenticate(context.Background(), issued.Token); domain.ErrorCode(err) != domain.EUNAUTHORIZED {
			t.Fatalf("a stored token after ten years: %v", err)
		}
	})
}

// A token store from before expiry: its tokens get the default lifetime
// from the upgrade on, neither locked out at once nor valid for ever.
func TestTokensFromBeforeExpiryGetTheDefaultLifetime(t *testing.T) {
	path := filepath.Join(t.TempDir(), "auth.db")
	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Exec(`CREATE TABLE tokens (id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, departments TEXT NOT NULL,
		hash TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL, created_by TEXT NOT NULL, revoked_at TEXT);
		INSERT INTO tokens VALUES ('old', '考评办', 'office', 'null', 'x', '2022-01-01T00:00:00Z', 'admin:admin', NULL)`)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := auth.OpenTokens(path, auth.TokenConfig{DefaultTTL: 48 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer tokens.Close()
	list, err := tokens.List(context.Background())
	if err != nil || len(list) != 1 {
		t.Fatalf("%v %v", list, err)
	}
	exp, err := time.Parse(time.RFC3339Nano, list[0].ExpiresAt)
	if err != nil || list[0].Expired || time.Until(exp) < 47*time.Hour || time.Until(exp) > 48*time.Hour {
		t.Fatalf("an old token after the upgrade: %+v %v", list[0], err)
	}
}
