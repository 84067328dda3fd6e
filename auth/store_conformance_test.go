package auth_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"kpitrail/auth"
	"kpitrail/domain"
)

// TestTokenStoreConformance holds every store to the same behaviour:
// issue, authenticate, one live token per name, rotation with and without
// grace, revocation, and many issuers racing for one name.
func TestTokenStoreConformance(t *testing.T) {
	auth.EachStore(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		now := time.Date(2023, 1, 2, 8, 0, 0, 0, time.UTC)
		var mu sync.Mutex
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		tok := auth.OpenTestTokens(t, kind, auth.TokenConfig{AdminToken: "boot", Now: clock})
		boot, err := tok.Authenticate(ctx, "boot")
		if err != nil {
			t.Fatal(err)
		}
		first, err := tok.Issue(ctx, boot, auth.IssueRequest{Name: "应急管理局", Role: auth.RoleReporter, Departments: []string{"区应急局"}})
		if err != nil {
			t.Fatal(err)
		}
		p, err := tok.Authenticate(ctx, first.Token)
		if err != nil || p.TokenID != first.TokenID || p.Name != "应急管理局" || len(p.Departments) != 1 || p.Departments[0] != "区应急局" {
			t.Fatalf("authenticate: %+v %v", p, err)
		}
		if _, err := tok.Authenticate(ctx, first.Token+"0"); err != auth.ErrBadToken {
			t.Fatalf("a wrong token: %v", err)
		}
		_, err = tok.Issue(ctx, boot, auth.IssueRequest{Name: "应急管理局", Role: auth.RoleReporter, Departments: []string{"区应急局"}})
		if e, ok := domain.AsError(err); !ok || e.Code != domain.ECONFLICT || e.Field != "name" {
			t.Fatalf("a second live token for the name: %v", err)
		}
		// Rotation with grace: both work until the grace ends.
		second, err := tok.Issue(ctx, boot, auth.IssueRequest{Name: "应急管理局", Role: auth.RoleReporter, Departments: []string{"区应急局"},
			Rotate: true, Grace: time.Hour})
		if err != nil || len(second.Rotated) != 1 || second.Rotated[0].TokenID != first.TokenID {
			t.Fatalf("rotate: %+v %v", second, err)
		}
		for _, tk := range []string{first.Token, second.Token} {
			if _, err := tok.Authenticate(ctx, tk); err != nil {
				t.Fatalf("within the grace: %v", err)
			}
		}
		mu.Lock()
		now = now.Add(time.Hour)
		mu.Unlock()
		if _, err := tok.Authenticate(ctx, first.Token); !auth.TokenExpired(err) {
			t.Fatalf("the rotated token after its grace: %v", err)
		}
		// Rotation without grace revokes at once.
		third, err := tok.Issue(ctx, boot, auth.IssueRequest{Name: "应急管理局", Role: auth.RoleReporter, Departments: []string{"区应急局"}, Rotate: true})
		if err != nil || len(third.Rotated) != 1 || third.Rotated[0].TokenID != second.TokenID {
			t.Fatalf("rotate without grace: %+v %v", third, err)
		}
		if _, err := tok.Authenticate(ctx, second.Token); err != auth.ErrBadToken {
			t.Fatalf("the token rotated out without grace: %v", err)
		}
		if err := tok.Revoke(ctx, third.TokenID); err != nil {
			t.Fatal(err)
		}
		if _, err := tok.Authenticate(ctx, third.Token); err != auth.ErrBadToken {
			t.Fatalf("a revoked token: %v", err)
		}
		if err := tok.Revoke(ctx, third.TokenID); domain.ErrorCode(err) != domain.ENOTFOUND {
			t.Fatalf("revoking twice: %v", err)
		}
		if err := tok.Revoke(ctx, "nosuchtoken"); domain.ErrorCode(err) != domain.ENOTFOUND {
			t.Fatalf("revoking an unknown id: %v", err)
		}
		list, err := tok.List(ctx)
		if err != nil || len(list) != 3 {
			t.Fatalf("list: %d %v", len(list), err)
		}
		if list[0].TokenID != first.TokenID || list[0].ReplacedBy != second.TokenID || list[1].ReplacedBy != third.TokenID ||
			list[1].RevokedAt == "" || list[2].RevokedAt == "" {
			t.Fatalf("list after rotations: %+v", list)
		}
		// Many issuers, one name: exactly one wins.
		var wg sync.WaitGroup
		wins := make(chan string, 8)
		for range 8 {
			wg.Go(func() {
				i, err := tok.Issue(ctx, boot, auth.IssueRequest{Name: "审计局", Role: auth.RoleAuditor})
				if err == nil {
					wins <- i.TokenID
				} else if domain.ErrorCode(err) != domain.ECONFLICT {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		close(wins)
		if n := len(wins); n != 1 {
			t.Fatalf("%d issues of one name won, want 1", n)
		}
	})
}

// TestTokenStoresKeepTheUnit: a token scoped to a unit is scoped to it
// whichever store holds it (one instance's auth.db, or the cluster's KV
// bucket), and an unscoped one stays unscoped.
func TestTokenStoresKeepTheUnit(t *testing.T) {
	auth.EachStore(t, func(t *testing.T, kind string) {
		ctx := context.Background()
		tok := auth.OpenTestTokens(t, kind, auth.TokenConfig{AdminToken: "boot"})
		boot, err := tok.Authenticate(ctx, "boot")
		if err != nil {
			t.Fatal(err)
		}
		scoped, err := tok.Issue(ctx, boot, auth.IssueRequest{Name: "东城区考评办", Role: auth.RoleOffice, Unit: "d01"})
		if err != nil {
			t.Fatal(err)
		}
		whole, err := tok.Issue(ctx, boot, auth.IssueRequest{Name: "市考评办", Role: auth.RoleOffice})
		if err != nil {
			t.Fatal(err)
		}
		if p, err := tok.Authenticate(ctx, scoped.Token); err != nil || p.Unit != "d01" {
			t.Fatalf("scoped token: %+v %v", p, err)
		}
		if p, err := tok.Authenticate(ctx, whole.Token); err != nil || p.Unit != "" {
			t.Fatalf("unscoped token: %+v %v", p, err)
		}
		list, err := tok.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		units := map[string]string{}
		for _, ti := range list {
			units[ti.Name] = ti.Unit
		}
		if units["东城区考评办"] != "d01" || units["市考评办"] != "" {
			t.Fatalf("listed units: %v", units)
		}
	})
}
