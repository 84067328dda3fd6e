package auth

import "kpitrail/domain"

// MayIssue reports whether a role may issue a command at all: the office
// anything, a reporter the reporting commands (on its own departments'
// tasks, which Authorizer checks per command), every other role nothing.
// It is the role half of Authorizer's matrix, for checks that come before
// there is an aggregate to load.
func MayIssue(r Role, command string) bool {
	switch r {
	case RoleOffice:
		return true
	case RoleReporter:
		return reporterCommands[command]
	}
	return false
}

// importKinds names, per import kind, the command every file of that kind
// needs: a self-check table registers its tasks; a figure sheet reports
// figures (its definition rows need more, checked per row once planned).
var importKinds = map[string]string{
	"table":   "task.register",
	"figures": "indicator.report_figures",
}

// MayImport decides from the token and the declared kind alone, before a
// byte of the file is read, whether the caller may import: a file nobody
// of this role could apply is refused unread.
func MayImport(r Role, kind string) error {
	cmd, ok := importKinds[kind]
	if !ok {
		return domain.Invalid("kind", "enum", "must be table or figures, got %q", kind)
	}
	if !MayIssue(r, cmd) {
		e := domain.Forbidden("role %s may not import a %s file (it would %s)", r, kind, cmd)
		e.Field, e.Rule = "kind", "role_may_import"
		return e
	}
	return nil
}
