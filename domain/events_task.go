package domain

// Task events (aggregate "task"). Schema version 1 for all.

type TaskRegistered struct {
	Year           int      `json:"year"`
	Dimension      string   `json:"dimension"`
	Title          string   `json:"title"`
	LeadDepartment string   `json:"lead_department"`
	CoDepartments  []string `json:"co_departments,omitempty"`
	Deadline       Date     `json:"deadline,omitempty"`
	Description    string   `json:"description,omitempty"`
	// UnitID is the assessed unit the task belongs to; absent (every task
	// from before units, and every task of the default unit) it is
	// DefaultUnitID: read it through Unit().
	UnitID string `json:"unit_id,omitempty"`
}

// TaskDeadlineChanged keeps the date it replaces and the original date, so an
// extension never hides what was first promised.
type TaskDeadlineChanged struct {
	Previous Date   `json:"previous,omitempty"`
	Deadline Date   `json:"deadline"`
	Original Date   `json:"original,omitempty"`
	Reason   string `json:"reason"`
}

// TaskNarrativeRecorded is a 落实情况 text: the numbered items kept apart.
type TaskNarrativeRecorded struct {
	Items  []string `json:"items"`
	AsOf   Date     `json:"as_of,omitempty"`
	Source *Source  `json:"source,omitempty"`
}

type TaskMilestoneReached struct {
	Milestone string `json:"milestone"`
	ReachedOn Date   `json:"reached_on,omitempty"`
	Note      string `json:"note,omitempty"`
}

type TaskProblemRecorded struct {
	ProblemID   string `json:"problem_id"`
	Description string `json:"description"`
	Cause       string `json:"cause,omitempty"`
	TotalItems  int    `json:"total_items,omitempty"`
}

// Rectification states (DOMAIN.md rule 10).
type RectState string

const (
	RectOpen         RectState = "open"
	RectInProgress   RectState = "in_progress"
	RectRectified    RectState = "rectified"
	RectOngoing      RectState = "ongoing" // 持续整改
	RectNotRectified RectState = "not_rectified"
)

// Terminal reports whether the state closes the problem.
func (s RectState) Terminal() bool {
	return s == RectRectified || s == RectOngoing || s == RectNotRectified
}

func (s RectState) Validate(field string) error {
	switch s {
	case RectOpen, RectInProgress, RectRectified, RectOngoing, RectNotRectified:
		return nil
	}
	return Invalid(field, "enum", "must be one of open, in_progress, rectified, ongoing, not_rectified; got %q", string(s))
}

// TaskRectificationProgressed carries the ledger counts after the change and
// the counts before it, so the audit reads the delta without replaying.
type TaskRectificationProgressed struct {
	ProblemID         string    `json:"problem_id"`
	Total             int       `json:"total"`
	Rectified         int       `json:"rectified"`
	PreviousTotal     int       `json:"previous_total"`
	PreviousRectified int       `json:"previous_rectified"`
	State             RectState `json:"state"`
	Note              string    `json:"note,omitempty"`
}

type TaskProblemClosed struct {
	ProblemID string    `json:"problem_id"`
	Outcome   RectState `json:"outcome"`
	Note      string    `json:"note,omitempty"`
}

type TaskCompleted struct {
	CompletedOn Date   `json:"completed_on"`
	Note        string `json:"note,omitempty"`
}

// TaskWithdrawn retires a task registered in error (or undone by an import
// undo). The events stay; the task leaves the board.
type TaskWithdrawn struct {
	Reason string `json:"reason"`
}

func (TaskRegistered) EventName() string              { return EvTaskRegistered }
func (TaskDeadlineChanged) EventName() string         { return EvTaskDeadlineChanged }
func (TaskNarrativeRecorded) EventName() string       { return EvTaskNarrativeRecorded }
func (TaskMilestoneReached) EventName() string        { return EvTaskMilestoneReached }
func (TaskProblemRecorded) EventName() string         { return EvTaskProblemRecorded }
func (TaskRectificationProgressed) EventName() string { return EvTaskRectificationUpdated }
func (TaskProblemClosed) EventName() string           { return EvTaskProblemClosed }
func (TaskCompleted) EventName() string               { return EvTaskCompleted }
func (TaskWithdrawn) EventName() string               { return EvTaskWithdrawn }

func init() {
	register(AggregateTask, 1, func() Event { return &TaskRegistered{} }, nil)
	register(AggregateTask, 1, func() Event { return &TaskDeadlineChanged{} }, nil)
	register(AggregateTask, 1, func() Event { return &TaskNarrativeRecorded{} }, nil)
	register(AggregateTask, 1, func() Event { return &TaskMilestoneReached{} }, nil)
	register(AggregateTask, 1, func() Event { return &TaskProblemRecorded{} }, nil)
	register(AggregateTask, 1, func() Event { return &TaskRectificationProgressed{} }, nil)
	register(AggregateTask, 1, func() Event { return &TaskProblemClosed{} }, nil)
	register(AggregateTask, 1, func() Event { return &TaskCompleted{} }, nil)
	register(AggregateTask, 1, func() Event { return &TaskWithdrawn{} }, nil)
}
