package domain

import "slices"

// TaskStatus is the lifecycle state of a task.
type TaskStatus string

const (
	TaskStatusActive    TaskStatus = "active"
	TaskStatusCompleted TaskStatus = "completed"
	TaskStatusWithdrawn TaskStatus = "withdrawn"
)

// Task is one assessed item (专项任务). Fields are unexported so a Task can
// only change through its events.
type Task struct {
	id               string
	version          uint64
	registered       bool
	year             int
	dimension        string
	title            string
	lead             string
	unit             string
	co               []string
	deadline         Date
	originalDeadline Date
	status           TaskStatus
	completedOn      Date
	narratives       int
	milestones       []string
	problems         map[string]*Problem
	problemOrder     []string
}

// Problem is a 存在问题 with its rectification ledger.
type Problem struct {
	ID          string
	Description string
	Cause       string
	Total       int
	Rectified   int
	State       RectState
}

// NewTask returns an empty task with the given id, ready to rehydrate.
func NewTask(id string) *Task {
	return &Task{id: id, problems: map[string]*Problem{}}
}

func (t *Task) Ref() AggregateRef      { return AggregateRef{Type: AggregateTask, ID: t.id} }
func (t *Task) Version() uint64        { return t.version }
func (t *Task) Exists() bool           { return t.registered }
func (t *Task) Year() int              { return t.year }
func (t *Task) Title() string          { return t.title }
func (t *Task) Dimension() string      { return t.dimension }
func (t *Task) LeadDepartment() string { return t.lead }

// Unit is the assessed unit the task belongs to (DefaultUnitID for a task
// registered without one).
func (t *Task) Unit() string { return unitOf(t.unit) }
func (t *Task) CoDepartments() []string {
	return slices.Clone(t.co)
}
func (t *Task) Deadline() Date         { return t.deadline }
func (t *Task) OriginalDeadline() Date { return t.originalDeadline }
func (t *Task) Status() TaskStatus     { return t.status }
func (t *Task) Milestones() []string   { return slices.Clone(t.milestones) }

// Problem returns a copy of one problem.
func (t *Task) Problem(id string) (Problem, bool) {
	p, ok := t.problems[id]
	if !ok {
		return Problem{}, false
	}
	return *p, true
}

// Departments are the lead and co-departments: those who may report on it.
func (t *Task) Departments() []string {
	return append([]string{t.lead}, t.co...)
}

func (t *Task) Apply(r Recorded) {
	t.version = r.AggregateVersion
	switch e := r.Data.(type) {
	case *TaskRegistered:
		t.registered = true
		t.status = TaskStatusActive
		t.year, t.dimension, t.title, t.lead = e.Year, e.Dimension, e.Title, e.LeadDepartment
		t.co = slices.Clone(e.CoDepartments)
		t.unit = e.UnitID
		t.deadline, t.originalDeadline = e.Deadline, e.Deadline
	case *TaskDeadlineChanged:
		if t.originalDeadline == "" {
			t.originalDeadline = e.Original
		}
		t.deadline = e.Deadline
	case *TaskNarrativeRecorded:
		t.narratives++
	case *TaskMilestoneReached:
		t.milestones = append(t.milestones, e.Milestone)
	case *TaskProblemRecorded:
		t.problems[e.ProblemID] = &Problem{ID: e.ProblemID, Description: e.Description, Cause: e.Cause, Total: e.TotalItems, State: RectOpen}
		t.problemOrder = append(t.problemOrder, e.ProblemID)
	case *TaskRectificationProgressed:
		if p := t.problems[e.ProblemID]; p != nil {
			p.Total, p.Rectified, p.State = e.Total, e.Rectified, e.State
		}
	case *TaskProblemClosed:
		if p := t.problems[e.ProblemID]; p != nil {
			p.State = e.Outcome
		}
	case *TaskCompleted:
		t.status, t.completedOn = TaskStatusCompleted, e.CompletedOn
	case *TaskWithdrawn:
		t.status = TaskStatusWithdrawn
	}
}

func (t *Task) mustBeActive() error {
	if !t.registered {
		return NotFound("task %s is not registered", t.id)
	}
	if t.status == TaskStatusWithdrawn {
		return RuleViolation("task_id", "task_withdrawn", "task %s is withdrawn", t.id)
	}
	return nil
}

// Register decides task.registered.
func (t *Task) Register(c RegisterTask) ([]Event, error) {
	if t.registered {
		return nil, &Error{Code: ECONFLICT, Field: "task_id", Rule: "exists", Version: t.version, Message: "task " + t.id + " is already registered"}
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return []Event{&TaskRegistered{Year: c.Year, Dimension: c.Dimension, Title: c.Title, LeadDepartment: c.LeadDepartment,
		CoDepartments: c.CoDepartments, Deadline: c.Deadline, Description: c.Description, UnitID: c.UnitID}}, nil
}

// ChangeDeadline decides task.deadline_changed; the original date is kept.
func (t *Task) ChangeDeadline(c ChangeDeadline) ([]Event, error) {
	if err := t.mustBeActive(); err != nil {
		return nil, err
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	if c.Deadline == t.deadline {
		return nil, RuleViolation("deadline", "unchanged", "the deadline is already %s", c.Deadline)
	}
	// A task registered without a deadline promises its first one.
	original := t.originalDeadline
	if original == "" {
		original = c.Deadline
	}
	return []Event{&TaskDeadlineChanged{Previous: t.deadline, Deadline: c.Deadline, Original: original, Reason: c.Reason}}, nil
}

func (t *Task) RecordNarrative(c RecordNarrative) ([]Event, error) {
	if err := t.mustBeActive(); err != nil {
		return nil, err
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	return []Event{&TaskNarrativeRecorded{Items: c.Items, AsOf: c.AsOf, Source: c.Source}}, nil
}

func (t *Task) RecordMilestone(c RecordMilestone) ([]Event, error) {
	if err := t.mustBeActive(); err != nil {
		return nil, err
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	if slices.Contains(t.milestones, c.Milestone) {
		return nil, RuleViolation("milestone", "duplicate", "milestone %q is already reached", c.Milestone)
	}
	return []Event{&TaskMilestoneReached{Milestone: c.Milestone, ReachedOn: c.ReachedOn, Note: c.Note}}, nil
}

func (t *Task) RecordProblem(c RecordProblem) ([]Event, error) {
	if err := t.mustBeActive(); err != nil {
		return nil, err
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	if _, ok := t.problems[c.ProblemID]; ok {
		return nil, RuleViolation("problem_id", "duplicate", "problem %s is already recorded", c.ProblemID)
	}
	return []Event{&TaskProblemRecorded{ProblemID: c.ProblemID, Description: c.Description, Cause: c.Cause, TotalItems: c.TotalItems}}, nil
}

// ProgressRectification moves a problem's ledger. Counts never exceed the
// total and the state follows open → in_progress → a terminal state.
func (t *Task) ProgressRectification(c ProgressRectification) ([]Event, error) {
	p, err := t.openProblem(c.ProblemID, c.validate)
	if err != nil {
		return nil, err
	}
	total := c.Total
	if total == 0 {
		total = p.Total
	}
	if c.Rectified > total {
		return nil, RuleViolation("rectified", "max_total", "rectified %d exceeds total %d", c.Rectified, total)
	}
	state := c.State
	if state == "" {
		state = RectInProgress
	}
	if state == RectOpen && p.State == RectInProgress {
		return nil, RuleViolation("state", "transition", "a problem in progress cannot return to open")
	}
	if c.Rectified == p.Rectified && total == p.Total && state == p.State && c.Note == "" {
		return nil, RuleViolation("rectified", "no_change", "problem %s already has %d of %d rectified (%s)", c.ProblemID, p.Rectified, p.Total, p.State)
	}
	if state == RectRectified && c.Rectified != total {
		return nil, RuleViolation("state", "all_rectified", "rectified needs all %d items rectified, got %d", total, c.Rectified)
	}
	return []Event{&TaskRectificationProgressed{ProblemID: c.ProblemID, Total: total, Rectified: c.Rectified,
		PreviousTotal: p.Total, PreviousRectified: p.Rectified, State: state, Note: c.Note}}, nil
}

// openProblem checks what every change to a problem needs: an active task,
// a valid command, a recorded problem that is not closed yet.
func (t *Task) openProblem(id string, validate func() error) (*Problem, error) {
	if err := t.mustBeActive(); err != nil {
		return nil, err
	}
	if err := validate(); err != nil {
		return nil, err
	}
	p, ok := t.problems[id]
	if !ok {
		return nil, NotFound("problem %s is not recorded on task %s", id, t.id)
	}
	if p.State.Terminal() {
		return nil, RuleViolation("problem_id", "problem_closed", "problem %s is closed (%s)", id, p.State)
	}
	return p, nil
}

func (t *Task) CloseProblem(c CloseProblem) ([]Event, error) {
	p, err := t.openProblem(c.ProblemID, c.validate)
	if err != nil {
		return nil, err
	}
	if c.Outcome == RectRectified && p.Total > 0 && p.Rectified != p.Total {
		return nil, RuleViolation("outcome", "all_rectified", "%d of %d items are rectified; record progress first", p.Rectified, p.Total)
	}
	return []Event{&TaskProblemClosed{ProblemID: c.ProblemID, Outcome: c.Outcome, Note: c.Note}}, nil
}

func (t *Task) Complete(c CompleteTask) ([]Event, error) {
	if err := t.mustBeActive(); err != nil {
		return nil, err
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	if t.status == TaskStatusCompleted {
		return nil, RuleViolation("task_id", "completed", "task %s is already completed", t.id)
	}
	return []Event{&TaskCompleted{CompletedOn: c.CompletedOn, Note: c.Note}}, nil
}

func (t *Task) Withdraw(c WithdrawTask) ([]Event, error) {
	if err := t.mustBeActive(); err != nil {
		return nil, err
	}
	if err := CheckText("reason", c.Reason, true, MaxLongText); err != nil {
		return nil, err
	}
	return []Event{&TaskWithdrawn{Reason: c.Reason}}, nil
}
