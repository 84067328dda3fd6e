package auth

// ReadScope is what a caller may read of the read models and the log.
// Auditors, analysts, the office and admins read everything. A reporter
// reads the tasks its departments lead or co-own, and their indicators,
// figures and audit trails: the same test that lets it report on a task
// (InDepartments over the task's departments). An office that publishes
// everything lets reporters read all (serve --reporter-reads all).
type ReadScope struct {
	p   Principal
	all bool
}

// ReadScopeOf is the caller's scope; reportersReadAll is the server's
// --reporter-reads all.
func ReadScopeOf(p Principal, reportersReadAll bool) ReadScope {
	return ReadScope{p: p, all: p.Role != RoleReporter || reportersReadAll}
}

// All reports whether nothing is hidden from the caller.
func (s ReadScope) All() bool { return s.all }

// Sees reports whether the caller may read a task that these departments
// (its lead and co-departments) report on.
func (s ReadScope) Sees(taskDepartments []string) bool {
	return s.all || s.p.InDepartments(taskDepartments)
}
