package domain

import "fmt"

// Command is a request to change one aggregate. The command service loads the
// target (and any aggregate it Requires, read-only), calls Decide and appends
// the events; the decision itself is pure.
type Command interface {
	Target() AggregateRef
	// Requires lists aggregates the decision reads but does not change.
	Requires() []AggregateRef
	// Name is the stable command name used by intake subjects and logs.
	CommandName() string
	decide(target Aggregate, deps []Aggregate) ([]Event, error)
}

// NewAggregate returns an empty aggregate for a reference.
func NewAggregate(ref AggregateRef) (Aggregate, error) {
	switch ref.Type {
	case AggregateTask:
		return NewTask(ref.ID), nil
	case AggregateIndicator:
		return NewIndicator(ref.ID), nil
	case AggregateSnapshot:
		return NewSnapshot(ref.ID), nil
	case AggregateCheckpoint:
		return NewCheckpointLog(ref.ID), nil
	case AggregateYear:
		return NewYear(ref.ID), nil
	case AggregateKeyring:
		return NewKeyringLog(ref.ID), nil
	case AggregateAudit:
		return NewAuditFindings(ref.ID), nil
	case AggregateUnit:
		return NewAssessedUnit(ref.ID), nil
	}
	return nil, Invalid("aggregate_type", "enum", "unknown aggregate type %q", ref.Type)
}

// Decide validates the command against the loaded aggregates and returns the
// events it produces. deps are in the order of c.Requires(), followed by
// those of LateRequirements (the lock of the year the command changes).
func Decide(c Command, target Aggregate, deps []Aggregate) ([]Event, error) {
	if err := c.Target().Validate(); err != nil {
		return nil, err
	}
	if target.Ref() != c.Target() {
		return nil, fmt.Errorf("decide %s: loaded %s, want %s", c.CommandName(), target.Ref(), c.Target())
	}
	n := len(c.Requires())
	if len(deps) < n {
		return nil, fmt.Errorf("decide %s: %d dependencies loaded, want %d", c.CommandName(), len(deps), n)
	}
	for i, ref := range c.Requires() {
		if err := ref.Validate(); err != nil {
			return nil, err
		}
		if deps[i] == nil || deps[i].Ref() != ref {
			return nil, fmt.Errorf("decide %s: dependency %d is not %s", c.CommandName(), i, ref)
		}
	}
	late := LateRequirements(c, target, deps[:n])
	if len(deps) != n+len(late) {
		return nil, fmt.Errorf("decide %s: %d dependencies loaded, want %d", c.CommandName(), len(deps), n+len(late))
	}
	for i, ref := range late {
		if deps[n+i] == nil || deps[n+i].Ref() != ref {
			return nil, fmt.Errorf("decide %s: dependency %d is not %s", c.CommandName(), n+i, ref)
		}
	}
	if err := checkYearOpen(deps[n:]); err != nil {
		return nil, err
	}
	return c.decide(target, deps[:n])
}

func taskRef(id string) AggregateRef      { return AggregateRef{Type: AggregateTask, ID: id} }
func indicatorRef(id string) AggregateRef { return AggregateRef{Type: AggregateIndicator, ID: id} }

// ---- task commands ----

type RegisterTask struct {
	TaskID         string   `json:"task_id"`
	Year           int      `json:"year"`
	Dimension      string   `json:"dimension"`
	Title          string   `json:"title"`
	LeadDepartment string   `json:"lead_department"`
	CoDepartments  []string `json:"co_departments,omitempty"`
	Deadline       Date     `json:"deadline,omitempty"`
	Description    string   `json:"description,omitempty"`
	// UnitID is the assessed unit the task belongs to; empty for the
	// default unit (DefaultUnitID).
	UnitID string `json:"unit_id,omitempty"`
}

func (c RegisterTask) Target() AggregateRef { return taskRef(c.TaskID) }
func (c RegisterTask) Requires() []AggregateRef {
	if c.UnitID != "" && ValidateID("unit_id", c.UnitID) == nil {
		return []AggregateRef{UnitRef(c.UnitID)}
	}
	return nil
}
func (c RegisterTask) CommandName() string { return "task.register" }
func (c RegisterTask) decide(a Aggregate, deps []Aggregate) ([]Event, error) {
	var unit *AssessedUnit
	if len(deps) > 0 {
		unit = deps[0].(*AssessedUnit)
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	if err := checkTaskUnit(c, unit); err != nil {
		return nil, err
	}
	return a.(*Task).Register(c)
}

func (c RegisterTask) validate() error {
	if c.UnitID != "" {
		if err := ValidateID("unit_id", c.UnitID); err != nil {
			return err
		}
	}
	if c.Year < 1990 || c.Year > 2200 {
		return Invalid("year", "range", "must be between 1990 and 2200, got %d", c.Year)
	}
	if err := CheckText("dimension", c.Dimension, false, MaxShortText); err != nil {
		return err
	}
	if err := CheckText("title", c.Title, true, MaxShortText); err != nil {
		return err
	}
	if err := CheckText("lead_department", c.LeadDepartment, true, MaxShortText); err != nil {
		return err
	}
	if len(c.CoDepartments) > 50 {
		return Invalid("co_departments", "max_items", "at most 50 departments")
	}
	for i, d := range c.CoDepartments {
		if err := CheckText(fmt.Sprintf("co_departments[%d]", i), d, true, MaxShortText); err != nil {
			return err
		}
	}
	if err := c.Deadline.Validate("deadline"); err != nil {
		return err
	}
	return CheckText("description", c.Description, false, MaxLongText)
}

type ChangeDeadline struct {
	TaskID   string `json:"task_id"`
	Deadline Date   `json:"deadline"`
	Reason   string `json:"reason"`
}

func (c ChangeDeadline) Target() AggregateRef     { return taskRef(c.TaskID) }
func (c ChangeDeadline) Requires() []AggregateRef { return nil }
func (c ChangeDeadline) CommandName() string      { return "task.change_deadline" }
func (c ChangeDeadline) decide(a Aggregate, _ []Aggregate) ([]Event, error) {
	return a.(*Task).ChangeDeadline(c)
}
func (c ChangeDeadline) validate() error {
	if c.Deadline == "" {
		return Invalid("deadline", "required", "must be a date YYYY-MM-DD")
	}
	if err := c.Deadline.Validate("deadline"); err != nil {
		return err
	}
	return CheckText("reason", c.Reason, true, MaxLongText)
}

type RecordNarrative struct {
	TaskID string   `json:"task_id"`
	Items  []string `json:"items"`
	AsOf   Date     `json:"as_of,omitempty"`
	Source *Source  `json:"source,omitempty"`
}

func (c RecordNarrative) Target() AggregateRef     { return taskRef(c.TaskID) }
func (c RecordNarrative) Requires() []AggregateRef { return nil }
func (c RecordNarrative) CommandName() string      { return "task.record_narrative" }
func (c RecordNarrative) decide(a Aggregate, _ []Aggregate) ([]Event, error) {
	return a.(*Task).RecordNarrative(c)
}
func (c RecordNarrative) validate() error {
	if len(c.Items) == 0 {
		return Invalid("items", "required", "at least one narrative item")
	}
	if len(c.Items) > 200 {
		return Invalid("items", "max_items", "at most 200 items")
	}
	for i, it := range c.Items {
		if err := CheckText(fmt.Sprintf("items[%d]", i), it, true, MaxLongText); err != nil {
			return err
		}
	}
	if c.Source != nil {
		if err := c.Source.Validate("source"); err != nil {
			return err
		}
	}
	return c.AsOf.Validate("as_of")
}

type RecordMilestone struct {
	TaskID    string `json:"task_id"`
	Milestone string `json:"milestone"`
	ReachedOn Date   `json:"reached_on,omitempty"`
	Note      string `json:"note,omitempty"`
}

func (c RecordMilestone) Target() AggregateRef     { return taskRef(c.TaskID) }
func (c RecordMilestone) Requires() []AggregateRef { return nil }
func (c RecordMilestone) CommandName() string      { return "task.record_milestone" }
func (c RecordMilestone) decide(a Aggregate, _ []Aggregate) ([]Event, error) {
	return a.(*Task).RecordMilestone(c)
}
func (c RecordMilestone) validate() error {
	if err := CheckText("milestone", c.Milestone, true, MaxShortText); err != nil {
		return err
	}
	if err := c.ReachedOn.Validate("reached_on"); err != nil {
		return err
	}
	return CheckText("note", c.Note, false, MaxLongText)
}

type RecordProblem struct {
	TaskID      string `json:"task_id"`
	ProblemID   string `json:"problem_id"`
	Description string `json:"description"`
	Cause       string `json:"cause,omitempty"`
	TotalItems  int    `json:"total_items,omitempty"`
}

func (c RecordProblem) Target() AggregateRef     { return taskRef(c.TaskID) }
func (c RecordProblem) Requires() []AggregateRef { return nil }
func (c RecordProblem) CommandName() string      { return "task.record_problem" }
func (c RecordProblem) decide(a Aggregate, _ []Aggregate) ([]Event, error) {
	return a.(*Task).RecordProblem(c)
}
func (c RecordProblem) validate() error {
	if err := ValidateID("problem_id", c.ProblemID); err != nil {
		return err
	}
	if err := CheckText("description", c.Description, true, MaxLongText); err != nil {
		return err
	}
	if err := CheckText("cause", c.Cause, false, MaxLongText); err != nil {
		return err
	}
	if c.TotalItems < 0 {
		return Invalid("total_items", "non_negative", "must be >= 0, got %d", c.TotalItems)
	}
	return nil
}

type ProgressRectification struct {
	TaskID    string    `json:"task_id"`
	ProblemID string    `json:"problem_id"`
	Total     int       `json:"total,omitempty"` // 0 keeps the recorded total
	Rectified int       `json:"rectified"`
	State     RectState `json:"state,omitempty"`
	Note      string    `json:"note,omitempty"`
}

func (c ProgressRectification) Target() AggregateRef     { return taskRef(c.TaskID) }
func (c ProgressRectification) Requires() []AggregateRef { return nil }
func (c ProgressRectification) CommandName() string      { return "task.progress_rectification" }
func (c ProgressRectification) decide(a Aggregate, _ []Aggregate) ([]Event, error) {
	return a.(*Task).ProgressRectification(c)
}
func (c ProgressRectification) validate() error {
	if err := ValidateID("problem_id", c.ProblemID); err != nil {
		return err
	}
	if c.Total < 0 {
		return Invalid("total", "non_negative", "must be >= 0, got %d", c.Total)
	}
	if c.Rectified < 0 {
		return Invalid("rectified", "non_negative", "must be >= 0, got %d", c.Rectified)
	}
	if c.State != "" {
		if err := c.State.Validate("state"); err != nil {
			return err
		}
	}
	return CheckText("note", c.Note, false, MaxLongText)
}

type CloseProblem struct {
	TaskID    string    `json:"task_id"`
	ProblemID string    `json:"problem_id"`
	Outcome   RectState `json:"outcome"`
	Note      string    `json:"note,omitempty"`
}

func (c CloseProblem) Target() AggregateRef     { return taskRef(c.TaskID) }
func (c CloseProblem) Requires() []AggregateRef { return nil }
func (c CloseProblem) CommandName() string      { return "task.close_problem" }
func (c CloseProblem) decide(a Aggregate, _ []Aggregate) ([]Event, error) {
	return a.(*Task).CloseProblem(c)
}
func (c CloseProblem) validate() error {
	if err := ValidateID("problem_id", c.ProblemID); err != nil {
		return err
	}
	if !c.Outcome.Terminal() {
		return Invalid("outcome", "enum", "must be one of rectified, ongoing, not_rectified; got %q", string(c.Outcome))
	}
	return CheckText("note", c.Note, false, MaxLongText)
}

type CompleteTask struct {
	TaskID      string `json:"task_id"`
	CompletedOn Date   `json:"completed_on"`
	Note        string `json:"note,omitempty"`
}

func (c CompleteTask) Target() AggregateRef     { return taskRef(c.TaskID) }
func (c CompleteTask) Requires() []AggregateRef { return nil }
func (c CompleteTask) CommandName() string      { return "task.complete" }
func (c CompleteTask) decide(a Aggregate, _ []Aggregate) ([]Event, error) {
	return a.(*Task).Complete(c)
}
func (c CompleteTask) validate() error {
	if c.CompletedOn == "" {
		return Invalid("completed_on", "required", "must be a date YYYY-MM-DD")
	}
	if err := c.CompletedOn.Validate("completed_on"); err != nil {
		return err
	}
	return CheckText("note", c.Note, false, MaxLongText)
}

type WithdrawTask struct {
	TaskID string `json:"task_id"`
	Reason string `json:"reason"`
}

func (c WithdrawTask) Target() AggregateRef     { return taskRef(c.TaskID) }
func (c WithdrawTask) Requires() []AggregateRef { return nil }
func (c WithdrawTask) CommandName() string      { return "task.withdraw" }
func (c WithdrawTask) decide(a Aggregate, _ []Aggregate) ([]Event, error) {
	return a.(*Task).Withdraw(c)
}
