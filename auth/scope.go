package auth

import "kpitrail/domain"

// ReadScope is what a caller may read of the read models and the log.
// Auditors, analysts, the office and admins read everything in their
// reach: the whole hierarchy, or the subtree of the unit their token is
// scoped to (Principal.InUnit, the same rule the matrix writes with). A
// reporter reads, within that reach, the tasks its departments lead or
// co-own, and their indicators, figures and audit trails: the same test
// that lets it report on a task (InDepartments over the task's
// departments). An office that publishes everything lets reporters read
// all their reach (serve --reporter-reads all).
type ReadScope struct {
	p           Principal
	all         bool
	departments bool
}

// ReadScopeOf is the caller's scope; reportersReadAll is the server's
// --reporter-reads all.
func ReadScopeOf(p Principal, reportersReadAll bool) ReadScope {
	deps := p.Role == RoleReporter && !reportersReadAll
	return ReadScope{p: p, all: p.Unit == "" && !deps, departments: deps}
}

// All reports whether nothing is hidden from the caller.
func (s ReadScope) All() bool { return s.all }

// Unit is the unit whose subtree bounds the caller's reads ("" for none).
func (s ReadScope) Unit() string { return s.p.Unit }

// Sees reports whether the caller may read a task of the unit at path
// that these departments (its lead and co-departments) report on.
func (s ReadScope) Sees(path domain.UnitPath, taskDepartments []string) bool {
	if s.all {
		return true
	}
	if !s.p.InUnit(path) {
		return false
	}
	return !s.departments || s.p.InDepartments(taskDepartments)
}

// SeesUnit reports whether the caller may read a unit's own records (its
// place in the hierarchy, its roll-up): the unit is in the caller's reach.
func (s ReadScope) SeesUnit(path domain.UnitPath) bool { return s.all || s.p.InUnit(path) }
