package demo

import (
	"context"

	"kpitrail/auth"
	"kpitrail/domain"
)

// Staff runs the demo as people would: the office's steps as office, each
// department's as a reporter of that department named "<department>填报员",
// with a token id of its own ("<office token id>-<department>"), so that a
// figure's submitter and its approver are two people.
func Staff(office auth.Principal) As {
	return func(ctx context.Context, department string) (context.Context, domain.Attribution) {
		if department == "" {
			return auth.WithPrincipal(ctx, office), office.Attribution()
		}
		p := auth.Principal{TokenID: office.TokenID + "-" + department, Name: department + "填报员", Role: auth.RoleReporter,
			Departments: []string{department}}
		return auth.WithPrincipal(ctx, p), p.Attribution()
	}
}
