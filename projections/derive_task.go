package projections

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"kpitrail/domain"
)

// Task statuses (tasks.status), in order of precedence: the first that
// applies wins. progress_status and deadline_status keep the two halves
// apart, so a task that is both due soon and at risk loses neither.
const (
	TaskWithdrawn = "withdrawn"
	TaskCompleted = "completed" // completed on or before its deadline, or without one
	TaskDoneLate  = "done_late" // completed after its (current) deadline
	TaskOverdue   = "overdue"   // active, and the deadline has passed
	TaskDueSoon   = "due_soon"  // active, deadline within DueSoonDays
	TaskAtRisk    = "at_risk"   // an indicator not_met or behind, or an open problem
	TaskOnTrack   = "on_track"  // some progress on record and nothing at risk
	TaskPending   = "pending"   // nothing reported yet
)

// Deadline statuses (tasks.deadline_status).
const (
	DeadlineNone       = "none" // no deadline, or withdrawn
	DeadlineNotDue     = "not_due"
	DeadlineDueSoon    = "due_soon"
	DeadlineOverdue    = "overdue"
	DeadlineDoneOnTime = "done_on_time"
	DeadlineDoneLate   = "done_late"
)

type taskFacts struct {
	lifecycle             string
	deadline, completedOn string
	indicators            map[string]int // indicator status -> count (active indicators)
	openProblems          int
	narratives            int
	milestones            int
}

type taskStatuses struct {
	status, progress, deadline string
}

// classifyTask derives a task's statuses on day today (YYYY-MM-DD).
func classifyTask(f taskFacts, today string, dueSoonDays int) taskStatuses {
	var s taskStatuses
	ind := f.indicators
	switch {
	case f.lifecycle == string(domain.TaskStatusWithdrawn):
		s.progress = TaskWithdrawn
	case ind[string(domain.StatusNotMet)]+ind[string(domain.StatusBehind)] > 0 || f.openProblems > 0:
		s.progress = TaskAtRisk
	case ind[string(domain.StatusMet)]+ind[string(domain.StatusExceeded)]+ind[string(domain.StatusOnTrack)] > 0 ||
		f.narratives > 0 || f.milestones > 0:
		s.progress = TaskOnTrack
	default:
		s.progress = TaskPending
	}
	s.deadline = DeadlineNone
	switch f.lifecycle {
	case string(domain.TaskStatusCompleted):
		if f.deadline != "" && f.completedOn != "" {
			s.deadline = DeadlineDoneOnTime
			if f.completedOn > f.deadline { // same fixed-width YYYY-MM-DD form
				s.deadline = DeadlineDoneLate
			}
		}
	case string(domain.TaskStatusActive):
		if days, ok := daysBetween(today, f.deadline); ok {
			switch {
			case days < 0:
				s.deadline = DeadlineOverdue
			case days <= dueSoonDays:
				s.deadline = DeadlineDueSoon
			default:
				s.deadline = DeadlineNotDue
			}
		}
	}
	switch {
	case s.progress == TaskWithdrawn:
		s.status = TaskWithdrawn
	case s.deadline == DeadlineDoneLate:
		s.status = TaskDoneLate
	case f.lifecycle == string(domain.TaskStatusCompleted):
		s.status = TaskCompleted
	case s.deadline == DeadlineOverdue:
		s.status = TaskOverdue
	case s.deadline == DeadlineDueSoon:
		s.status = TaskDueSoon
	default:
		s.status = s.progress
	}
	return s
}

// daysBetween is the number of calendar days from a to b.
func daysBetween(a, b string) (int, bool) {
	ta, errA := time.Parse(time.DateOnly, a)
	tb, errB := time.Parse(time.DateOnly, b)
	if errA != nil || errB != nil {
		return 0, false
	}
	return int(tb.Sub(ta).Hours() / 24), true
}

func (p *projector) deriveTask(b *batchTx, id, today string) error {
	f := taskFacts{indicators: map[string]int{}}
	var deadline, completedOn sql.NullString
	if err := b.queryRow(`SELECT lifecycle, deadline, completed_on, narrative_count, json_array_length(milestones)
		FROM tasks WHERE id = ?`, id).Scan(&f.lifecycle, &deadline, &completedOn, &f.narratives, &f.milestones); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil // registered by a message that was then dead-lettered
		}
		return err
	}
	f.deadline, f.completedOn = deadline.String, completedOn.String
	rows, err := b.query(`SELECT status, COUNT(*) FROM indicators WHERE task_id = ? AND lifecycle = 'active' GROUP BY status`, id)
	if err != nil {
		return err
	}
	total := 0
	for rows.Next() {
		var status string
		var n int
		if err := rows.Scan(&status, &n); err != nil {
			rows.Close()
			return err
		}
		f.indicators[status] = n
		total += n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if err := b.queryRow(`SELECT COUNT(*) FROM problems WHERE task_id = ? AND state IN ('open', 'in_progress')`, id).
		Scan(&f.openProblems); err != nil {
		return err
	}
	s := classifyTask(f, today, p.dueSoonDays)
	ind := f.indicators
	return b.exec(`UPDATE tasks SET status = ?, progress_status = ?, deadline_status = ?, status_date = ?,
		indicators_total = ?, indicators_met = ?, indicators_on_track = ?, indicators_behind = ?, indicators_not_met = ?,
		indicators_pending = ?, open_problems = ? WHERE id = ?`,
		s.status, s.progress, s.deadline, today, total,
		ind[string(domain.StatusMet)]+ind[string(domain.StatusExceeded)], ind[string(domain.StatusOnTrack)],
		ind[string(domain.StatusBehind)], ind[string(domain.StatusNotMet)],
		ind[string(domain.StatusPending)]+ind[StatusNoTarget]+ind[StatusError], f.openProblems, id)
}

// refreshStatuses re-judges deadlines when the day has changed since a
// task was last derived: "due soon" turns into "overdue" without any event.
// It leaves the checkpoint alone.
func (p *projector) refreshStatuses(ctx context.Context) error {
	today := p.today()
	tx, err := p.db.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	b := newBatchTx(tx, p.db.kept)
	ids, err := b.strings(`SELECT id FROM tasks WHERE status_date <> ? ORDER BY id`, today)
	if err != nil || len(ids) == 0 {
		return err
	}
	for _, id := range ids {
		if err := p.deriveTask(b, id, today); err != nil {
			return err
		}
	}
	err = tx.Commit()
	p.db.answers.changed()
	return err
}
