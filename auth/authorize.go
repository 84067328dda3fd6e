package auth

import (
	"context"
	"strings"

	"kpitrail/domain"
)

// reporterCommands are what a department may do on its own tasks: report
// progress and submit it for approval, never change what is asked of it
// (targets, deadlines, the task list) and never close its own problems: the
// office verifies 整改到位. A base or a target it only proposes; the office
// approves or rejects the proposal.
var reporterCommands = map[string]bool{
	"indicator.report_figure":     true,
	"indicator.report_figures":    true,
	"indicator.correct_figure":    true,
	"indicator.retract_figure":    true,
	"indicator.submit_figure":     true,
	"indicator.propose_base":      true,
	"indicator.propose_target":    true,
	"indicator.explain_warning":   true,
	"task.record_narrative":       true,
	"task.record_milestone":       true,
	"task.record_problem":         true,
	"task.progress_rectification": true,
}

// serverCommands are issued by the server itself for an admin's or the
// office's operation (a snapshot freezes its year), never sent by clients.
var serverCommands = map[string]bool{"snapshot.record": true, "checkpoint.record": true, "year.freeze": true}

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
		on := Target{AskedBy: askedBy(cmd, target)}
		if p.Role == RoleReporter && reporterCommands[cmd.CommandName()] {
			task, err := taskOf(ctx, target, loadTask)
			if err != nil {
				return err
			}
			if task != nil && task.Exists() {
				on.Task = &TaskScope{ID: task.Ref().ID, Lead: task.LeadDepartment(), Departments: task.Departments()}
			}
		}
		return Permits(p, cmd.CommandName(), on)
	}
}

// TaskScope is what the matrix needs to know of the task a command
// touches: its id and the departments that lead or co-own it.
type TaskScope struct {
	ID          string
	Lead        string
	Departments []string
}

// Target is what the matrix needs to know of what a command touches.
type Target struct {
	// Task is the task the command touches, nil when it touches no
	// existing task (the domain then answers not found).
	Task *TaskScope
	// AskedBy is, for an approval, the actor whose submission or proposal
	// it decides ("" when there is none to decide, or for other commands).
	AskedBy string
}

// approvals are the commands that decide what another actor asked for;
// whoever asked never decides them.
var approvals = map[string]bool{"indicator.approve_figure": true, "indicator.approve_proposal": true}

// Permits is the authorization matrix: whether p may run the named
// command on what it touches. The command service asks it through
// Authorizer before every decision, and the console asks it to decide
// which actions to offer, so the two can never disagree.
func Permits(p Principal, command string, on Target) error {
	if approvals[command] && on.AskedBy != "" && SamePerson(on.AskedBy, p.Actor()) {
		return domain.Forbidden("%s asked for what %s would approve, and may not approve it", on.AskedBy, command)
	}
	if serverCommands[command] && (p.Role == RoleAdmin || p.Role == RoleOffice) {
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
		if on.Task != nil && !p.InDepartments(on.Task.Departments) {
			// Not the task's departments: a reporter whose reads are
			// scoped has no business learning who leads it.
			return domain.Forbidden("task %s is not led or co-owned by %v, for which %s reports", on.Task.ID, p.Departments, p.Name)
		}
		return nil
	default:
		return domain.Forbidden("role %s may not %s", p.Role, command)
	}
}

// SamePerson reports whether two actors are one person. An actor is
// "role:name" and every event also carries the id of the token it came
// with; a person may hold several tokens (a rotated one, one per device,
// one per role), so neither the token id nor the role tells people apart:
// the name does. Separation of duties compares names, so approving one's
// own submission with a second token, or under another role, is refused.
func SamePerson(a, b string) bool { return actorName(a) == actorName(b) }

func actorName(actor string) string {
	if _, name, ok := strings.Cut(actor, ":"); ok {
		return name
	}
	return actor
}

// askedBy is the actor whose submission or proposal an approval decides,
// read from the loaded indicator.
func askedBy(cmd domain.Command, target domain.Aggregate) string {
	in, ok := target.(*domain.Indicator)
	if !ok {
		return ""
	}
	switch c := unptr(cmd).(type) {
	case domain.ApproveFigure:
		return in.SubmittedBy(c.Figure)
	case domain.ApproveProposal:
		return in.ProposedBy(c.Proposal)
	}
	return ""
}

// unptr reads a command given as a pointer (decoded by name) as its value.
func unptr(cmd domain.Command) domain.Command {
	switch c := cmd.(type) {
	case *domain.ApproveFigure:
		return *c
	case *domain.ApproveProposal:
		return *c
	}
	return cmd
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
