package auth

import (
	"context"

	"kpitrail/domain"
)

// reporterCommands are what a department may do on its own tasks: report
// progress, never change what is asked of it (targets, deadlines, the task
// list) and never close its own problems: the office verifies 整改到位.
var reporterCommands = map[string]bool{
	"indicator.report_figure":     true,
	"indicator.report_figures":    true,
	"indicator.correct_figure":    true,
	"indicator.retract_figure":    true,
	"indicator.record_base":       true,
	"task.record_narrative":       true,
	"task.record_milestone":       true,
	"task.record_problem":         true,
	"task.progress_rectification": true,
}

// TaskLoader loads a task for a department check.
type TaskLoader func(ctx context.Context, taskID string) (*domain.Task, error)

// Authorizer returns the command service's authorization hook: the one
// matrix that HTTP, NATS intake, import and the CLI all pass through.
func Authorizer(loadTask TaskLoader) func(ctx context.Context, meta domain.Meta, cmd domain.Command, target domain.Aggregate, deps []domain.Aggregate) error {
	return func(ctx context.Context, meta domain.Meta, cmd domain.Command, target domain.Aggregate, deps []domain.Aggregate) error {
		p, ok := FromContext(ctx)
		if !ok {
			return domain.Unauthorized("no authenticated caller")
		}
		if meta.Actor != p.Actor() || meta.ActorTokenID != p.TokenID {
			return domain.Forbidden("actor %q (token %q) does not match the authenticated caller", meta.Actor, meta.ActorTokenID)
		}
		if (cmd.CommandName() == "snapshot.record" || cmd.CommandName() == "checkpoint.record") && (p.Role == RoleAdmin || p.Role == RoleOffice) {
			return nil
		}
		// Accepting a finding of the audit is the auditor's word, not the
		// office's whose data the audit checks.
		if cmd.CommandName() == "audit.acknowledge_finding" {
			if p.Role == RoleAuditor || p.Role == RoleAdmin {
				return nil
			}
			return domain.Forbidden("role %s may not acknowledge audit findings", p.Role)
		}
		switch p.Role {
		case RoleOffice:
			return nil
		case RoleReporter:
			if !reporterCommands[cmd.CommandName()] {
				return domain.Forbidden("role reporter may not %s", cmd.CommandName())
			}
			task, err := taskOf(ctx, target, loadTask)
			if err != nil {
				return err
			}
			if task == nil || !task.Exists() {
				return nil // the domain answers not found
			}
			if !p.InDepartments(task.Departments()) {
				// Not the task's departments: a reporter whose reads are
				// scoped has no business learning who leads it.
				return domain.Forbidden("task %s is not led or co-owned by %v, for which %s reports", task.Ref().ID, p.Departments, p.Name)
			}
			return nil
		default:
			return domain.Forbidden("role %s may not %s", p.Role, cmd.CommandName())
		}
	}
}

func taskOf(ctx context.Context, target domain.Aggregate, load TaskLoader) (*domain.Task, error) {
	switch a := target.(type) {
	case *domain.Task:
		return a, nil
	case *domain.Indicator:
		if !a.Exists() {
			return nil, nil
		}
		return load(ctx, a.TaskID())
	}
	return nil, nil
}

// CanRead reports whether the role may read the read models.
func CanRead(r Role) bool { return r.Valid() }

// CanAdmin reports whether the role may manage tokens and operations.
func CanAdmin(r Role) bool { return r == RoleAdmin }
