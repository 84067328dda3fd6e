package projections

import (
	"database/sql"
	"errors"

	"kpitrail/domain"
)

// milestoneItem is one entry of tasks.milestones (JSON).
type milestoneItem struct {
	Milestone string `json:"milestone"`
	ReachedOn string `json:"reached_on,omitempty"`
	Note      string `json:"note,omitempty"`
	EventID   string `json:"event_id"`
}

func (p *projector) applyTask(b *batchTx, st *batchState, r domain.Recorded) error {
	id := r.AggregateID
	var lifecycle string
	err := b.queryRow(`SELECT lifecycle FROM tasks WHERE id = ?`, id).Scan(&lifecycle)
	exists := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if _, registering := r.Data.(*domain.TaskRegistered); !registering && !exists {
		return broken("%s for task %s, which is not registered", r.Name, id)
	}
	at := formatTime(r.RecordedAt)
	switch e := r.Data.(type) {
	case *domain.TaskRegistered:
		if exists {
			return broken("task %s is already registered", id)
		}
		co := e.CoDepartments
		if co == nil {
			co = []string{}
		}
		if err := noteDefaultUnit(b, e.Unit()); err != nil {
			return err
		}
		err = b.exec(`INSERT INTO tasks (id, year, dimension, title, description, lead_department, co_departments,
			deadline, original_deadline, lifecycle, status, progress_status, deadline_status, status_date,
			version, last_position, created_at, updated_at, unit_id)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', 'pending', 'pending', 'none', '', ?, ?, ?, ?, ?)`,
			id, e.Year, e.Dimension, e.Title, nullStr(e.Description), e.LeadDepartment, jsonText(co),
			nullStr(e.Deadline), nullStr(e.Deadline), r.AggregateVersion, r.Position, at, at, e.Unit())
	case *domain.TaskDeadlineChanged:
		// The first date ever promised survives every extension (rule 12).
		err = b.exec(`UPDATE tasks SET deadline = ?, original_deadline = COALESCE(original_deadline, ?, ?) WHERE id = ?`,
			nullStr(e.Deadline), nullStr(e.Original), nullStr(e.Deadline), id)
	case *domain.TaskNarrativeRecorded:
		items := e.Items
		if items == nil {
			items = []string{}
		}
		err = b.exec(`UPDATE tasks SET narrative = ?, narrative_as_of = ?, narrative_count = narrative_count + 1 WHERE id = ?`,
			jsonText(items), nullStr(e.AsOf), id)
	case *domain.TaskMilestoneReached:
		err = p.reachMilestone(b, st, id, r, e)
	case *domain.TaskProblemRecorded:
		err = p.recordProblem(b, st, id, r, e)
	case *domain.TaskRectificationProgressed:
		err = p.progressRectification(b, st, id, r, e)
	case *domain.TaskProblemClosed:
		err = p.closeProblem(b, st, id, r, e)
	case *domain.TaskCompleted:
		err = b.exec(`UPDATE tasks SET lifecycle = 'completed', completed_on = ? WHERE id = ?`, nullStr(e.CompletedOn), id)
	case *domain.TaskWithdrawn:
		err = b.exec(`UPDATE tasks SET lifecycle = 'withdrawn', withdrawn_reason = ? WHERE id = ?`, nullStr(e.Reason), id)
	default:
		return broken("no read model handles %s", r.Name)
	}
	if err != nil {
		return err
	}
	st.tasks[id] = true
	st.setVersion(r.Ref(), r)
	return nil
}

func (p *projector) reachMilestone(b *batchTx, st *batchState, id string, r domain.Recorded, e *domain.TaskMilestoneReached) error {
	var raw string
	if err := b.queryRow(`SELECT milestones FROM tasks WHERE id = ?`, id).Scan(&raw); err != nil {
		return err
	}
	var items []milestoneItem
	if err := unmarshalText(raw, &items); err != nil {
		return err
	}
	items = append(items, milestoneItem{Milestone: e.Milestone, ReachedOn: string(e.ReachedOn), Note: e.Note, EventID: r.ID})
	if err := b.exec(`UPDATE tasks SET milestones = ? WHERE id = ?`, jsonText(items), id); err != nil {
		return err
	}
	// A qualitative indicator is met by its task's milestone.
	ids, err := b.strings(`SELECT id FROM indicators WHERE task_id = ?`, id)
	for _, ind := range ids {
		st.indicators[ind] = true
	}
	return err
}

func (p *projector) recordProblem(b *batchTx, st *batchState, taskID string, r domain.Recorded, e *domain.TaskProblemRecorded) error {
	var one int
	err := b.queryRow(`SELECT 1 FROM problems WHERE task_id = ? AND problem_id = ?`, taskID, e.ProblemID).Scan(&one)
	if err == nil {
		return broken("problem %s is already recorded on task %s", e.ProblemID, taskID)
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	rate, err := rectificationNumbers(0, e.TotalItems)
	if err != nil {
		return err
	}
	at := formatTime(r.RecordedAt)
	if err := b.exec(`INSERT INTO problems (task_id, problem_id, description, cause, total, rectified, remaining,
		rate, rate_f, rate_display, rate_display0, state, recorded_event_id, last_event_id, last_position, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, 'open', ?, ?, ?, ?, ?)`,
		taskID, e.ProblemID, e.Description, nullStr(e.Cause), e.TotalItems, rate.remaining,
		rate.rate, rate.rateF, rate.display, rate.display0, r.ID, r.ID, r.Position, at, at); err != nil {
		return err
	}
	return setProvenance(b, "problems", compositeKey(taskID, e.ProblemID), r, "total", "rectified", "remaining", "rate")
}

type problemRow struct {
	total, rectified int
	state            string
}

func loadProblem(b *batchTx, taskID, problemID string) (problemRow, error) {
	var pr problemRow
	err := b.queryRow(`SELECT total, rectified, state FROM problems WHERE task_id = ? AND problem_id = ?`, taskID, problemID).
		Scan(&pr.total, &pr.rectified, &pr.state)
	if errors.Is(err, sql.ErrNoRows) {
		return pr, broken("problem %s is not recorded on task %s", problemID, taskID)
	}
	return pr, err
}

func (p *projector) progressRectification(b *batchTx, st *batchState, taskID string, r domain.Recorded, e *domain.TaskRectificationProgressed) error {
	before, err := loadProblem(b, taskID, e.ProblemID)
	if err != nil {
		return err
	}
	rate, err := rectificationNumbers(e.Rectified, e.Total)
	if err != nil {
		return err
	}
	at := formatTime(r.RecordedAt)
	if err := b.exec(`UPDATE problems SET total = ?, rectified = ?, remaining = ?, rate = ?, rate_f = ?, rate_display = ?,
		rate_display0 = ?, state = ?, note = ?, last_event_id = ?, last_position = ?, updated_at = ?
		WHERE task_id = ? AND problem_id = ?`,
		e.Total, e.Rectified, rate.remaining, rate.rate, rate.rateF, rate.display, rate.display0, string(e.State),
		nullStr(e.Note), r.ID, r.Position, at, taskID, e.ProblemID); err != nil {
		return err
	}
	// The before counts are the event's own: they are what the command was
	// decided on, which is what an audit of the ledger asks about.
	if err := insertLedger(b, r, taskID, e.ProblemID, "progressed", e.PreviousTotal, e.PreviousRectified,
		e.Total, e.Rectified, before.state, string(e.State), e.Note); err != nil {
		return err
	}
	return setProvenance(b, "problems", compositeKey(taskID, e.ProblemID), r, "total", "rectified", "remaining", "rate")
}

func (p *projector) closeProblem(b *batchTx, st *batchState, taskID string, r domain.Recorded, e *domain.TaskProblemClosed) error {
	before, err := loadProblem(b, taskID, e.ProblemID)
	if err != nil {
		return err
	}
	if err := b.exec(`UPDATE problems SET state = ?, note = COALESCE(?, note), last_event_id = ?, last_position = ?, updated_at = ?
		WHERE task_id = ? AND problem_id = ?`,
		string(e.Outcome), nullStr(e.Note), r.ID, r.Position, formatTime(r.RecordedAt), taskID, e.ProblemID); err != nil {
		return err
	}
	return insertLedger(b, r, taskID, e.ProblemID, "closed", before.total, before.rectified,
		before.total, before.rectified, before.state, string(e.Outcome), e.Note)
}

func insertLedger(b *batchTx, r domain.Recorded, taskID, problemID, kind string, prevTotal, prevRect, total, rect int, prevState, state, note string) error {
	return b.exec(`INSERT INTO rectification_items (event_id, task_id, problem_id, kind, previous_total, previous_rectified,
		total, rectified, remaining, previous_state, state, note, actor, recorded_at, position)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, taskID, problemID, kind, prevTotal, prevRect, total, rect, total-rect, prevState, state,
		nullStr(note), r.Actor, formatTime(r.RecordedAt), r.Position)
}

type rectNumbers struct {
	remaining         int
	rate, rateF       any
	display, display0 any
}

// rectificationNumbers derives 整改到位率 with domain.RectificationRate;
// counts it refuses (rectified above total, negatives) are a broken event.
func rectificationNumbers(rectified, total int) (rectNumbers, error) {
	rate, remaining, err := domain.RectificationRate(rectified, total)
	if err != nil {
		return rectNumbers{}, broken("%v", err)
	}
	n := rectNumbers{remaining: remaining}
	if rate != nil {
		n.rate, n.rateF = ratText(rate), ratFloat(rate)
		n.display = domain.FormatPercent(rate, 1, domain.HalfUp)
		n.display0 = domain.FormatPercent(rate, 0, domain.HalfUp)
	}
	return n, nil
}
