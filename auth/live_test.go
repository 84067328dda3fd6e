package auth_test

import (
	"context"
	"testing"
	"time"

	"kpitrail/auth"
)

// LiveCounts counts what would authenticate now: revoked and expired
// tokens are not counted, and neither is the bootstrap token.
func TestLiveCounts(t *testing.T) {
	var skew time.Duration
	auth.EachStore(t, func(t *testing.T, kind string) {
		skew = 0
		tokens := auth.OpenTestTokens(t, kind, auth.TokenConfig{AdminToken: "boot",
			Now: func() time.Time { return time.Now().Add(skew) }})
		ctx := context.Background()
		want := func(live, admins int) {
			t.Helper()
			l, a, err := tokens.LiveCounts(ctx)
			if err != nil || l != live || a != admins {
				t.Fatalf("LiveCounts = %d, %d, %v; want %d, %d", l, a, err, live, admins)
			}
		}
		want(0, 0)
		boot, _ := tokens.Authenticate(ctx, "boot")
		issue := func(name string, role auth.Role, ttl time.Duration) auth.Issued {
			t.Helper()
			i, err := tokens.Issue(ctx, boot, auth.IssueRequest{Name: name, Role: role, TTL: ttl})
			if err != nil {
				t.Fatal(err)
			}
			return i
		}
		admin := issue("管理员", auth.RoleAdmin, time.Hour)
		issue("考评办", auth.RoleOffice, 48*time.Hour)
		revoked := issue("审计员", auth.RoleAuditor, 48*time.Hour)
		want(3, 1)
		if err := tokens.Revoke(ctx, revoked.TokenID); err != nil {
			t.Fatal(err)
		}
		want(2, 1)
		if err := tokens.Revoke(ctx, admin.TokenID); err != nil {
			t.Fatal(err)
		}
		want(1, 0)
		skew = 72 * time.Hour
		want(0, 0)
	})
}
