package auth_test

import (
	"context"
	"testing"

	"kpitrail/auth"
	"kpitrail/domain"
)

// The service's hook refuses metadata that does not name the caller
// exactly, token id included: no path may stamp another token's id, or
// none, on what a caller does.
func TestAuthorizerHoldsMetaToTheCaller(t *testing.T) {
	authorize := auth.Authorizer(func(context.Context, domain.AggregateRef) (domain.Aggregate, error) { return nil, nil })
	p := auth.Principal{TokenID: "3f9c2a7b1d4e5f60", Name: "考评办", Role: auth.RoleOffice}
	ctx := auth.WithPrincipal(context.Background(), p)
	cmd := domain.RecordNarrative{TaskID: "t", Items: []string{"一"}}
	for name, tc := range map[string]struct {
		meta domain.Meta
		ok   bool
	}{
		"exact":         {domain.Meta{Actor: "office:考评办", ActorTokenID: "3f9c2a7b1d4e5f60"}, true},
		"no token id":   {domain.Meta{Actor: "office:考评办"}, false},
		"another token": {domain.Meta{Actor: "office:考评办", ActorTokenID: "0000000000000000"}, false},
		"another actor": {domain.Meta{Actor: "office:别人", ActorTokenID: "3f9c2a7b1d4e5f60"}, false},
	} {
		err := authorize(ctx, tc.meta, cmd, nil, nil)
		if tc.ok != (err == nil) || (err != nil && domain.ErrorCode(err) != domain.EFORBIDDEN) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
