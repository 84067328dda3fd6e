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

// Given tokens scoped to a district (da, under bj) and to the city, the
// matrix lets each act only within its subtree, lets an office decide only
// at its own level, and refuses commands on the whole deployment; an
// unscoped token is as before.
func TestPermitsByUnit(t *testing.T) {
	da := &auth.TaskScope{ID: "t1", Lead: "区应急局", Departments: []string{"区应急局"}, Unit: domain.UnitPath{"bj", "da"}}
	db := &auth.TaskScope{ID: "t2", Lead: "区应急局", Departments: []string{"区应急局"}, Unit: domain.UnitPath{"bj", "db"}}
	city := &auth.TaskScope{ID: "t3", Lead: "市应急局", Departments: []string{"市应急局"}, Unit: domain.UnitPath{"bj"}}
	districtOffice := auth.Principal{Name: "甲区考评办", Role: auth.RoleOffice, Unit: "da"}
	cityOffice := auth.Principal{Name: "市考评办", Role: auth.RoleOffice, Unit: "bj"}
	reporter := auth.Principal{Name: "甲区应急局", Role: auth.RoleReporter, Unit: "da", Departments: []string{"区应急局"}}
	unscoped := auth.Principal{Name: "考评办", Role: auth.RoleOffice}
	for _, c := range []struct {
		p       auth.Principal
		command string
		on      auth.Target
		ok      bool
	}{
		{districtOffice, "indicator.set_target", auth.Target{Task: da}, true},
		{districtOffice, "indicator.approve_figure", auth.Target{Task: da}, true},
		{districtOffice, "indicator.set_target", auth.Target{Task: db}, false},
		{districtOffice, "indicator.set_target", auth.Target{Task: city}, false},
		{districtOffice, "task.register", auth.Target{Unit: domain.UnitPath{"bj", "da"}}, true},
		{districtOffice, "task.register", auth.Target{Unit: domain.UnitPath{"bj", "db"}}, false},
		{districtOffice, "unit.register", auth.Target{Unit: domain.UnitPath{"bj", "da", "dept"}}, true},
		{districtOffice, "year.reopen", auth.Target{}, false},
		{districtOffice, "snapshot.record", auth.Target{}, false},
		{cityOffice, "indicator.set_target", auth.Target{Task: da}, true},
		{cityOffice, "indicator.approve_figure", auth.Target{Task: da}, false},
		{cityOffice, "task.close_problem", auth.Target{Task: da}, false},
		{cityOffice, "indicator.approve_figure", auth.Target{Task: city}, true},
		{reporter, "indicator.report_figure", auth.Target{Task: da}, true},
		{reporter, "indicator.report_figure", auth.Target{Task: db}, false},
		{unscoped, "indicator.approve_figure", auth.Target{Task: db}, true},
		{unscoped, "year.reopen", auth.Target{}, true},
	} {
		err := auth.Permits(c.p, c.command, c.on)
		if c.ok != (err == nil) || (err != nil && domain.ErrorCode(err) != domain.EFORBIDDEN) {
			t.Errorf("%s (unit %s) %s on %+v: %v", c.p.Name, c.p.Unit, c.command, c.on, err)
		}
	}
	scope := auth.ReadScopeOf(districtOffice, false)
	if scope.All() || !scope.Sees(domain.UnitPath{"bj", "da"}, nil) || scope.Sees(domain.UnitPath{"bj", "db"}, nil) ||
		!scope.SeesUnit(domain.UnitPath{"bj", "da", "x"}) || scope.SeesUnit(domain.UnitPath{"bj"}) {
		t.Error("a district office's read scope")
	}
	rs := auth.ReadScopeOf(reporter, false)
	if !rs.Sees(domain.UnitPath{"bj", "da"}, []string{"区应急局"}) || rs.Sees(domain.UnitPath{"bj", "da"}, []string{"区科委"}) ||
		rs.Sees(domain.UnitPath{"bj", "db"}, []string{"区应急局"}) {
		t.Error("a district reporter's read scope")
	}
	if !auth.ReadScopeOf(unscoped, false).All() {
		t.Error("an unscoped office reads all")
	}
}
