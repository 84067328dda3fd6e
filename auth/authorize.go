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
		var scope *TaskScope
		if p.Role == RoleReporter && reporterCommands[cmd.CommandName()] {
			task, err := taskOf(ctx, target, loadTask)
			if err != nil {
				return err
			}
			if task != nil && task.Exists() {
				scope = &TaskScope{ID: task.Ref().ID, Lead: task.LeadDepartment(), Departments: task.Departments()}
			}
		}
		return Permits(p, cmd.CommandName(), scope)
	}
}

// TaskScope is what the matrix needs to know of the task a command
// touches: its id and the departments that lead or co-own it.
type TaskScope struct {
	ID          string
	Lead        string
	Departments []string
}

// Permits is the authorization matrix: whether p may run the named
// command on task (nil when the command touches no existing task; the
// domain then answers not found). The command service asks it through
// Authorizer before every decision, and the console asks it to decide
// which actions to offer, so the two can never disagree.
func Permits(p Principal, command string, task *TaskScope) error {
	if (command == "snapshot.record" || command == "checkpoint.record") && (p.Role == RoleAdmin || p.Role == RoleOffice) {
		return nil
	}
	// Accepting a finding of the audit is the auditor's word, not the
	// office's whose data the audit checks.
	if command == "audit.acknowledge_finding" {
		if p.Role == RoleAuditor || p.Role == RoleAdmin {
			return nil
		}
		return domain.Forbidden("role %s may not acknowledge audit findings", p.Role)
	}
	switch p.Role {
	case RoleOffice:
		return nil
	case RoleReporter:
		if !reporterCommands[command] {
			return domain.Forbidden("role reporter may not %s", command)
		}
		if task != nil && !p.InDepartments(task.Departments) {
			// Not the task's departments: a reporter whose reads are
			// scoped has no business learning who leads it.
			return domain.Forbidden("task %s is not led or co-owned by %v, for which %s reports", task.ID, p.Departments, p.Name)
		}
		return nil
	default:
		return domain.Forbidden("role %s may not %s", p.Role, command)
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
