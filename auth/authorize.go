package auth

import (
	"context"
	"fmt"
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

// Loader loads an aggregate as the command service has it
// (app.Service.Load): the task a command touches, and its unit.
type Loader func(ctx context.Context, ref domain.AggregateRef) (domain.Aggregate, error)

// Authorizer returns the command service's authorization hook: the one
// matrix that HTTP, NATS intake, import and the CLI all pass through.
func Authorizer(load Loader) func(ctx context.Context, meta domain.Meta, cmd domain.Command, target domain.Aggregate, deps []domain.Aggregate) error {
	return func(ctx context.Context, meta domain.Meta, cmd domain.Command, target domain.Aggregate, deps []domain.Aggregate) error {
		p, ok := FromContext(ctx)
		if !ok {
			return domain.Unauthorized("no authenticated caller")
		}
		if meta.Actor != p.Actor() || meta.ActorTokenID != p.TokenID {
			return domain.Forbidden("actor %q (token %q) does not match the authenticated caller", meta.Actor, meta.ActorTokenID)
		}
		on := Target{AskedBy: askedBy(cmd, target)}
		if (p.Role == RoleReporter && reporterCommands[cmd.CommandName()]) || p.Unit != "" {
			task, err := taskOf(ctx, target, deps, load)
			if err != nil {
				return err
			}
			if task != nil && task.Exists() {
				path, err := unitPath(ctx, task.Unit(), load)
				if err != nil {
					return err
				}
				on.Task = &TaskScope{ID: task.Ref().ID, Lead: task.LeadDepartment(), Departments: task.Departments(), Unit: path}
			}
		}
		if p.Unit != "" && on.Task == nil {
			path, err := newUnitPath(ctx, cmd, deps, load)
			if err != nil {
				return err
			}
			on.Unit = path
		}
		return Permits(p, cmd.CommandName(), on)
	}
}

// TaskScope is what the matrix needs to know of the task a command
// touches: its id, the departments that lead or co-own it, and the path of
// its unit.
type TaskScope struct {
	ID          string
	Lead        string
	Departments []string
	Unit        domain.UnitPath
}

// Target is what the matrix needs to know of what a command touches.
type Target struct {
	// Task is the task the command touches, nil when it touches no
	// existing task (the domain then answers not found).
	Task *TaskScope
	// Unit is the path of the unit a command that touches no existing
	// task places something in: a new task's unit, a new unit itself.
	// Ignored when Task is set (the task's unit is its path).
	Unit domain.UnitPath
	// AskedBy is, for an approval, the actor whose submission or proposal
	// it decides ("" when there is none to decide, or for other commands).
	AskedBy string
}

// unitPath is where the command lands in the hierarchy, nil when nothing
// it touches exists yet in one.
func (on Target) unitPath() domain.UnitPath {
	if on.Task != nil {
		return on.Task.Unit
	}
	return on.Unit
}

// decisions are the commands by which an office decides what a unit
// reported, proposed or rectified: a unit-scoped office takes them at its
// own unit's level only (the city office approves the city's tasks; each
// district's office its district's).
var decisions = map[string]bool{
	"indicator.approve_figure": true, "indicator.return_figure": true, "indicator.reopen_figure": true,
	"indicator.approve_proposal": true, "indicator.reject_proposal": true, "task.close_problem": true,
}

// unitCommand reports whether a command acts within one unit (on a task,
// an indicator or a unit); every other command (years, snapshots,
// checkpoints, audit findings) acts on the whole deployment.
func unitCommand(command string) bool {
	prefix, _, _ := strings.Cut(command, ".")
	return prefix == domain.AggregateTask || prefix == domain.AggregateIndicator || prefix == domain.AggregateUnit
}

// unitPermits is the unit rule of the matrix, for a caller scoped to a
// unit: only commands within one unit, only in its subtree, and decisions
// only at its own level.
func unitPermits(p Principal, command string, on Target) error {
	if !unitCommand(command) {
		return domain.Forbidden("%s acts on the whole deployment; the token of %s is scoped to unit %s", command, p.Name, p.Unit)
	}
	path := on.unitPath()
	if path == nil {
		return nil // it touches nothing that exists: the domain answers
	}
	if !p.InUnit(path) {
		return domain.Forbidden("unit %s is outside the subtree of unit %s, to which the token of %s is scoped", path.Unit(), p.Unit, p.Name)
	}
	if decisions[command] && p.Role == RoleOffice && path.Unit() != p.Unit {
		return domain.Forbidden("%s is decided by the office of unit %s; the office of %s decides at its own level", command, path.Unit(), p.Unit)
	}
	return nil
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
	if p.Unit != "" {
		if err := unitPermits(p, command, on); err != nil {
			return err
		}
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

// taskOf is the task a command touches: its target, its indicator's
// task, or, for an indicator's definition, the task it is defined in.
func taskOf(ctx context.Context, target domain.Aggregate, deps []domain.Aggregate, load Loader) (*domain.Task, error) {
	switch a := target.(type) {
	case *domain.Task:
		return a, nil
	case *domain.Indicator:
		if !a.Exists() {
			for _, d := range deps {
				if t, ok := d.(*domain.Task); ok {
					return t, nil
				}
			}
			return nil, nil
		}
		agg, err := load(ctx, domain.AggregateRef{Type: domain.AggregateTask, ID: a.TaskID()})
		if err != nil {
			return nil, err
		}
		t, _ := agg.(*domain.Task)
		return t, nil
	}
	return nil, nil
}

// unitPath is a unit's path in the hierarchy (the default unit, while not
// registered, is a root).
func unitPath(ctx context.Context, id string, load Loader) (domain.UnitPath, error) {
	agg, err := load(ctx, domain.UnitRef(id))
	if err != nil {
		return nil, err
	}
	u, ok := agg.(*domain.AssessedUnit)
	if !ok {
		return nil, fmt.Errorf("load %s: got %T", domain.UnitRef(id), agg)
	}
	return u.Path(), nil
}

// newUnitPath is where a command that touches no existing task lands: a
// new task in its unit, a new unit under its parent (or as a root), an
// existing unit where it is.
func newUnitPath(ctx context.Context, cmd domain.Command, deps []domain.Aggregate, load Loader) (domain.UnitPath, error) {
	switch c := cmd.(type) {
	case *domain.RegisterTask:
		return newTaskPath(ctx, *c, load)
	case domain.RegisterTask:
		return newTaskPath(ctx, c, load)
	case *domain.RegisterUnit:
		return newUnitUnder(*c, deps), nil
	case domain.RegisterUnit:
		return newUnitUnder(c, deps), nil
	}
	return nil, nil
}

func newTaskPath(ctx context.Context, c domain.RegisterTask, load Loader) (domain.UnitPath, error) {
	id := c.UnitID
	if id == "" {
		id = domain.DefaultUnitID
	}
	if domain.ValidateID("unit_id", id) != nil {
		return nil, nil // the domain refuses it
	}
	return unitPath(ctx, id, load)
}

func newUnitUnder(c domain.RegisterUnit, deps []domain.Aggregate) domain.UnitPath {
	for _, d := range deps {
		if u, ok := d.(*domain.AssessedUnit); ok && u.Registered() {
			return append(u.Path(), c.UnitID)
		}
	}
	return domain.UnitPath{c.UnitID}
}

// CanRead reports whether the role may read the read models.
func CanRead(r Role) bool { return r.Valid() }

// CanAdmin reports whether the role may manage tokens and operations.
func CanAdmin(r Role) bool { return r == RoleAdmin }
