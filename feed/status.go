package feed

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"kpitrail/domain"
	"kpitrail/eventstore"
	"kpitrail/projections"
)

// statuses compares the indicators and tasks a message moved with what
// was last published for them and yields a status_changed event for each
// that differs. Comparing with the last published status, rather than
// with the status before this message, means a change whose message was
// set aside on the poison subject still reaches downstream systems with
// the next message that touches the row.
//
// A derived status is attributed to the message's last event: the status
// is known only once the whole command is applied.
func (f *Feed) statuses(ctx context.Context, m eventstore.Message, c changes) ([]change, error) {
	if len(m.Events) == 0 {
		return nil, nil
	}
	index := len(m.Events) - 1
	event := m.Events[index]
	db := f.replica.db
	var out []change

	indicators, err := indicatorsOf(ctx, db, c)
	if err != nil {
		return nil, err
	}
	for _, in := range indicators {
		a := assessment(in)
		ch, err := compare(ctx, f.state, kindIndicator, in.ID, a, func(old *Assessment) any {
			return IndicatorStatusChanged{IndicatorID: in.ID, IndicatorName: in.Name, Unit: in.Unit, Year: in.Year,
				Old: old, New: a, Value: in.Value, ValueWindow: in.ValueWindow, Quality: in.Quality, Target: in.Target,
				TargetLow: in.TargetLow, TargetHigh: in.TargetHigh, TargetMilestone: in.TargetMilestone,
				ExpectedToDate: in.ExpectedToDate}
		})
		if err != nil {
			return nil, err
		}
		if ch != nil {
			ch.typ, ch.taskID, ch.key, ch.index, ch.event = TypeIndicatorStatusChanged, in.TaskID, in.ID, index, event
			out = append(out, *ch)
		}
	}

	tasks, err := tasksOf(ctx, db, c)
	if err != nil {
		return nil, err
	}
	for _, t := range tasks {
		s := standing(t)
		ch, err := compare(ctx, f.state, kindTask, t.ID, s, func(old *Standing) any {
			return TaskStatusChanged{Year: t.Year, Dimension: t.Dimension, Title: t.Title, LeadDepartment: t.LeadDepartment,
				Old: old, New: s, Deadline: t.Deadline, OriginalDeadline: t.OriginalDeadline, CompletedOn: t.CompletedOn,
				Counts: TaskCounts{IndicatorsTotal: t.IndicatorsTotal, IndicatorsMet: t.IndicatorsMet,
					IndicatorsOnTrack: t.IndicatorsOnTrack, IndicatorsBehind: t.IndicatorsBehind,
					IndicatorsNotMet: t.IndicatorsNotMet, IndicatorsPending: t.IndicatorsPending, OpenProblems: t.OpenProblems}}
		})
		if err != nil {
			return nil, err
		}
		if ch != nil {
			ch.typ, ch.taskID, ch.key, ch.index, ch.event = TypeTaskStatusChanged, t.ID, t.ID, index, event
			out = append(out, *ch)
		}
	}
	return out, nil
}

// compare returns a change when the current state differs from the one
// last published (or none was), with the published state decoded as old.
func compare[S any](ctx context.Context, st *state, kind, id string, cur S, data func(old *S) any) (*change, error) {
	enc, err := json.Marshal(cur)
	if err != nil {
		return nil, err
	}
	prev, ok, err := st.published(ctx, kind, id)
	if err != nil {
		return nil, err
	}
	if ok && prev == string(enc) {
		return nil, nil
	}
	var old *S
	if ok {
		old = new(S)
		if err := json.Unmarshal([]byte(prev), old); err != nil {
			return nil, fmt.Errorf("feed state %s %s: %w", kind, id, err)
		}
	}
	return &change{data: data(old), update: &stateUpdate{kind: kind, id: id, state: string(enc)}}, nil
}

func indicatorsOf(ctx context.Context, db *projections.DB, c changes) ([]projections.Indicator, error) {
	if c.all {
		list, err := db.ListIndicators(ctx, projections.IndicatorFilter{})
		slices.SortFunc(list, func(a, b projections.Indicator) int { return cmp.Compare(a.ID, b.ID) })
		return list, err
	}
	var out []projections.Indicator
	for _, id := range c.indicators {
		in, err := db.GetIndicator(ctx, id)
		if domain.ErrorCode(err) == domain.ENOTFOUND {
			continue // defined by a message that was then dead-lettered
		}
		if err != nil {
			return nil, err
		}
		out = append(out, in)
	}
	return out, nil
}

func tasksOf(ctx context.Context, db *projections.DB, c changes) ([]projections.Task, error) {
	if c.all {
		list, err := db.ListTasks(ctx, projections.TaskFilter{})
		slices.SortFunc(list, func(a, b projections.Task) int { return cmp.Compare(a.ID, b.ID) })
		return list, err
	}
	var out []projections.Task
	for _, id := range c.tasks {
		t, err := db.GetTask(ctx, id)
		if domain.ErrorCode(err) == domain.ENOTFOUND {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, t.Task)
	}
	return out, nil
}

func assessment(in projections.Indicator) Assessment {
	return Assessment{Status: in.Status, Lifecycle: in.Lifecycle, CompletionRatio: in.CompletionRatio,
		CompletionPctDisplay: in.CompletionPctDisplay, CompletionCase: in.CompletionCase, Met: in.Met,
		QualityBasis: in.QualityBasis, DeriveError: in.DeriveError}
}

// standing leaves out the board's calendar rules: for an active task it is
// the progress status, otherwise the board status, whose rules for
// completed and withdrawn tasks come before the calendar ones.
func standing(t projections.Task) Standing {
	s := Standing{Status: t.Status, ProgressStatus: t.ProgressStatus, Lifecycle: t.Lifecycle}
	if t.Lifecycle == string(domain.TaskStatusActive) {
		s.Status = t.ProgressStatus
	}
	return s
}
