// Package auth knows who is calling and what they may do: bearer tokens
// stored hashed, roles, and the authorization matrix every transport shares.
package auth

import (
	"context"
	"slices"

	"kpitrail/domain"
)

// Role is a caller's role.
type Role string

const (
	RoleAdmin    Role = "admin"    // manages tokens and operations
	RoleOffice   Role = "office"   // the assessment office: registers tasks, sets targets, may report anything
	RoleReporter Role = "reporter" // a department: reports on the tasks its departments lead or co-own
	RoleAuditor  Role = "auditor"  // reads everything, changes nothing
	RoleAnalyst  Role = "analyst"  // reads everything, changes nothing
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	switch r {
	case RoleAdmin, RoleOffice, RoleReporter, RoleAuditor, RoleAnalyst:
		return true
	}
	return false
}

// Principal is an authenticated caller.
type Principal struct {
	TokenID     string   `json:"token_id"`
	Name        string   `json:"name"`
	Role        Role     `json:"role"`
	Departments []string `json:"departments,omitempty"`
	// Unit scopes the token to a unit's subtree: it reads and runs that
	// unit and the units below it, and decides (approves) at the unit's
	// own level only. Empty: the whole hierarchy, as every token before
	// units (and every admin token) is.
	Unit string `json:"unit,omitempty"`
}

// Actor is the identity stamped into every event the caller causes.
func (p Principal) Actor() string { return string(p.Role) + ":" + p.Name }

// Attribution is the actor and the token id stamped into every event the
// caller causes: two tokens issued under one name share an actor, never a
// token id.
func (p Principal) Attribution() domain.Attribution {
	return domain.Attribution{Actor: p.Actor(), TokenID: p.TokenID}
}

// InDepartments reports whether any of deps is one of the caller's.
func (p Principal) InDepartments(deps []string) bool {
	for _, d := range deps {
		if slices.Contains(p.Departments, d) {
			return true
		}
	}
	return false
}

// InUnit reports whether a unit at path lies in the caller's reach: the
// caller is not scoped to a unit, or path is in its unit's subtree. It is
// the one unit rule (domain.UnitPath.Within) every check asks.
func (p Principal) InUnit(path domain.UnitPath) bool {
	return p.Unit == "" || path.Within(p.Unit)
}

type ctxKey struct{}

// WithPrincipal attaches the caller to a context.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the caller, if any.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(ctxKey{}).(Principal)
	return p, ok
}
