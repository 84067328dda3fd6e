package importer

import (
	"context"
	"fmt"
	"math"

	"kpitrail/app"
	"kpitrail/domain"
)

// UndoReport says what Undo compensated and what it could not.
type UndoReport struct {
	BatchID             string `json:"batch_id"`
	TasksWithdrawn      int    `json:"tasks_withdrawn"`
	IndicatorsWithdrawn int    `json:"indicators_withdrawn"`
	FiguresRetracted    int    `json:"figures_retracted"`
	// AlreadyUndone counts compensations found stored (an earlier Undo) or
	// made unnecessary (withdrawn by someone else).
	AlreadyUndone int `json:"already_undone"`
	// Covered counts commands on an aggregate this undo withdraws.
	Covered int `json:"covered"`
	// NotFromBatch counts commands not stored, or stored by another batch.
	NotFromBatch int `json:"not_from_batch"`
	// NotCompensated lists what the batch stored that no command undoes, or
	// whose compensation the domain refused.
	NotCompensated []CommandResult `json:"not_compensated"`
}

type compKind int

const (
	compNone compKind = iota // nothing in the domain undoes it
	compCovered
	compTask
	compIndicator
	compFigure
)

// Undo compensates a batch with new events; nothing is deleted. It first
// asks the store, command by command, whether this batch stored it (see
// probe); then, going backwards through the plan:
//
//   - a task the batch registered is withdrawn (reason "import <batch>
//     undone"), which takes its narratives, problems and milestones off the
//     board with it;
//   - an indicator the batch defined is withdrawn, taking its target, bases
//     and figures with it;
//   - a figure the batch reported on an indicator it did not define is
//     retracted, if it is still the current figure of its window;
//   - anything else the batch stored on an aggregate it did not create (a
//     narrative or problem on an existing task, a target or base on an
//     existing indicator) has no compensating command in the domain and is
//     listed in NotCompensated with its line.
//
// Commands stored by another batch (the same content imported earlier under
// another id) are not this batch's to undo. Undo's command ids derive from
// the plan, so running it twice changes nothing. A withdrawn task stays
// withdrawn: importing the same file again does not revive it, because its
// registration is already stored.
func Undo(ctx context.Context, exec Executor, plan *ImportPlan, batchID string, by domain.Attribution) (*UndoReport, error) {
	if err := checkBatch(batchID, by); err != nil {
		return nil, err
	}
	run, err := runID()
	if err != nil {
		return nil, err
	}
	rep := &UndoReport{BatchID: batchID, NotCompensated: []CommandResult{}}
	stored := make([]*app.Result, len(plan.Commands))
	created := map[domain.AggregateRef]bool{}
	for i, pc := range plan.Commands {
		r, err := probe(ctx, exec, batchID, by, pc)
		if err != nil {
			return rep, err
		}
		if r == nil || len(r.Events) == 0 || r.Events[0].Source != importSource(batchID) {
			rep.NotFromBatch++
			continue
		}
		stored[i] = r
		switch pc.Command.(type) {
		case domain.RegisterTask, domain.DefineIndicator:
			created[pc.Command.Target()] = true
		}
	}
	for i := len(plan.Commands) - 1; i >= 0; i-- {
		pc, r := plan.Commands[i], stored[i]
		if r == nil {
			continue
		}
		comps, kind := compensation(pc, r, batchID, created)
		fail := func(msg string) {
			rep.NotCompensated = append(rep.NotCompensated, CommandResult{Line: pc.Line, Key: pc.Key,
				Command: pc.Command.CommandName(), Outcome: OutcomeFailed, Error: msg})
		}
		switch kind {
		case compCovered:
			rep.Covered++
			continue
		case compNone:
			fail("no command in the domain compensates " + pc.Command.CommandName())
			continue
		}
		for k, comp := range comps {
			id := "undo-" + pc.Key
			if k > 0 {
				id += fmt.Sprintf("-%d", k)
			}
			meta := domain.Meta{Actor: by.Actor, ActorTokenID: by.TokenID, CommandID: id, CorrelationID: batchID, CausationID: run,
				Source: importSource(batchID)}
			res, err := exec.Execute(ctx, meta, comp, app.Options{})
			switch {
			case err == nil && len(res.Events) > 0 && res.Events[0].CausationID == run:
				switch kind {
				case compTask:
					rep.TasksWithdrawn++
				case compIndicator:
					rep.IndicatorsWithdrawn++
				case compFigure:
					rep.FiguresRetracted++
				}
			case err == nil, isAlreadyGone(err):
				rep.AlreadyUndone++
			case ctx.Err() != nil:
				return rep, ctx.Err()
			default:
				fail(err.Error())
			}
		}
	}
	return rep, nil
}

// compensation returns the commands that undo one stored command: one,
// or for an indicator.report_figures a retraction of each of its figures,
// the last reported first.
func compensation(pc PlannedCommand, r *app.Result, batchID string, created map[domain.AggregateRef]bool) ([]domain.Command, compKind) {
	reason := fmt.Sprintf("import %s undone", batchID)
	switch c := pc.Command.(type) {
	case domain.RegisterTask:
		return []domain.Command{domain.WithdrawTask{TaskID: c.TaskID, Reason: reason}}, compTask
	case domain.DefineIndicator:
		return []domain.Command{domain.WithdrawIndicator{IndicatorID: c.IndicatorID, Reason: reason}}, compIndicator
	}
	if created[pc.Command.Target()] {
		return nil, compCovered
	}
	switch c := pc.Command.(type) {
	case domain.ReportFigure:
		if len(r.EventIDs) > 0 {
			return []domain.Command{domain.RetractFigure{IndicatorID: c.IndicatorID, Retracts: r.EventIDs[0], Reason: reason}}, compFigure
		}
	case domain.ReportFigures:
		var out []domain.Command
		for i := len(r.EventIDs) - 1; i >= 0; i-- {
			out = append(out, domain.RetractFigure{IndicatorID: c.IndicatorID, Retracts: r.EventIDs[i], Reason: reason})
		}
		return out, compFigure
	}
	return nil, compNone
}

// probe asks the store for the stored result of a planned command with no
// chance of storing it: the service answers a known command id with its
// original result before it looks at the expected version, and no
// aggregate is ever at version MaxUint64, so an unknown command id is
// refused as a conflict and nothing is appended. nil: not stored.
func probe(ctx context.Context, exec Executor, batchID string, by domain.Attribution, pc PlannedCommand) (*app.Result, error) {
	never := uint64(math.MaxUint64)
	meta := domain.Meta{Actor: by.Actor, ActorTokenID: by.TokenID, CommandID: pc.Key, CorrelationID: batchID, Source: importSource(batchID)}
	r, err := exec.Execute(ctx, meta, pc.Command, app.Options{ExpectedVersion: &never})
	if err == nil {
		return &r, nil
	}
	if domain.ErrorCode(err) == domain.ECONFLICT {
		return nil, nil
	}
	return nil, fmt.Errorf("undo %s: line %d: %w", batchID, pc.Line, err)
}

// isAlreadyGone: the aggregate was withdrawn by some other hand.
func isAlreadyGone(err error) bool {
	e, ok := domain.AsError(err)
	return ok && (e.Rule == "task_withdrawn" || e.Rule == "indicator_withdrawn")
}
