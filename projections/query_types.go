package projections

import "time"

// The structs queries return. Decimals travel as exact decimal strings,
// never floats; an absent value is "" (omitted) or a nil pointer.

type Checkpoint struct {
	Position       uint64    `json:"position"`
	LastRecordedAt time.Time `json:"last_recorded_at,omitzero"`
	UpdatedAt      time.Time `json:"updated_at,omitzero"`
}

type Milestone struct {
	Milestone string `json:"milestone"`
	ReachedOn string `json:"reached_on,omitempty"`
	Note      string `json:"note,omitempty"`
	EventID   string `json:"event_id"`
}

type Task struct {
	ID                string      `json:"id"`
	Year              int         `json:"year"`
	Dimension         string      `json:"dimension"`
	Title             string      `json:"title"`
	Description       string      `json:"description,omitempty"`
	LeadDepartment    string      `json:"lead_department"`
	CoDepartments     []string    `json:"co_departments"`
	Deadline          string      `json:"deadline,omitempty"`
	OriginalDeadline  string      `json:"original_deadline,omitempty"`
	Lifecycle         string      `json:"lifecycle"`
	CompletedOn       string      `json:"completed_on,omitempty"`
	Status            string      `json:"status"`
	ProgressStatus    string      `json:"progress_status"`
	DeadlineStatus    string      `json:"deadline_status"`
	StatusDate        string      `json:"status_date"`
	IndicatorsTotal   int         `json:"indicators_total"`
	IndicatorsMet     int         `json:"indicators_met"`
	IndicatorsOnTrack int         `json:"indicators_on_track"`
	IndicatorsBehind  int         `json:"indicators_behind"`
	IndicatorsNotMet  int         `json:"indicators_not_met"`
	IndicatorsPending int         `json:"indicators_pending"`
	OpenProblems      int         `json:"open_problems"`
	Narrative         []string    `json:"narrative"`
	NarrativeAsOf     string      `json:"narrative_as_of,omitempty"`
	Milestones        []Milestone `json:"milestones"`
	Version           uint64      `json:"version"`
	LastPosition      uint64      `json:"last_position"`
	CreatedAt         string      `json:"created_at"`
	UpdatedAt         string      `json:"updated_at"`
	// UnitID is the assessed unit the task belongs to; UnitPath its
	// ancestry down to it (the read side's scope asks it).
	UnitID   string   `json:"unit_id"`
	UnitPath []string `json:"unit_path"`
}

// TaskDetail is a task with its indicators and problems.
type TaskDetail struct {
	Task
	Indicators []Indicator `json:"indicators"`
	Problems   []Problem   `json:"problems"`
}

type Indicator struct {
	ID                   string `json:"id"`
	TaskID               string `json:"task_id"`
	Year                 int    `json:"year"`
	Key                  string `json:"key"`
	Name                 string `json:"name"`
	Unit                 string `json:"unit,omitempty"`
	Direction            string `json:"direction"`
	Formula              string `json:"formula,omitempty"`
	Additive             bool   `json:"additive"`
	IsRate               bool   `json:"is_rate"`
	Rounding             string `json:"rounding"`
	Lifecycle            string `json:"lifecycle"`
	Target               string `json:"target,omitempty"`
	TargetLow            string `json:"target_low,omitempty"`
	TargetHigh           string `json:"target_high,omitempty"`
	TargetMilestone      string `json:"target_milestone,omitempty"`
	Value                string `json:"value,omitempty"`
	ValueWindow          string `json:"value_window,omitempty"`
	Quality              string `json:"quality,omitempty"`
	SourceKind           string `json:"source_kind,omitempty"`
	SourceName           string `json:"source_name,omitempty"`
	FinalDue             string `json:"final_due,omitempty"`
	YearClosed           bool   `json:"year_closed"`
	CompletionRatio      string `json:"completion_ratio,omitempty"`
	CompletionPctDisplay string `json:"completion_pct_display,omitempty"`
	CompletionCase       string `json:"completion_case,omitempty"`
	FormulaUsed          string `json:"formula_used,omitempty"`
	Met                  *bool  `json:"met,omitempty"`
	Status               string `json:"status"`
	ExpectedToDate       string `json:"expected_to_date,omitempty"`
	ExpectedShareDisplay string `json:"expected_share_display,omitempty"`
	QualityBasis         string `json:"quality_basis,omitempty"`
	DeriveError          string `json:"derive_error,omitempty"`
	Position             uint64 `json:"position,omitempty"`
	Version              uint64 `json:"version"`
	UpdatedAt            string `json:"updated_at"`
	// ReviewState is the review state of the figure Value comes from.
	ReviewState string `json:"review_state,omitempty"`
}

type Problem struct {
	TaskID       string `json:"task_id"`
	ProblemID    string `json:"problem_id"`
	Description  string `json:"description"`
	Cause        string `json:"cause,omitempty"`
	Total        int    `json:"total"`
	Rectified    int    `json:"rectified"`
	Remaining    int    `json:"remaining"`
	Rate         string `json:"rate,omitempty"`
	RateDisplay  string `json:"rate_display,omitempty"`
	RateDisplay0 string `json:"rate_display0,omitempty"`
	State        string `json:"state"`
	Note         string `json:"note,omitempty"`
	UpdatedAt    string `json:"updated_at"`
}

type Figure struct {
	EventID     string `json:"event_id"`
	IndicatorID string `json:"indicator_id"`
	Kind        string `json:"kind"`
	Window      string `json:"window"`
	FromMonth   int    `json:"from_month"`
	ToMonth     int    `json:"to_month"`
	Value       string `json:"value"`
	Numerator   string `json:"numerator,omitempty"`
	Denominator string `json:"denominator,omitempty"`
	Quality     string `json:"quality"`
	SourceKind  string `json:"source_kind,omitempty"`
	SourceName  string `json:"source_name,omitempty"`
	FinalDue    string `json:"final_due,omitempty"`
	State       string `json:"state"`
	Supersedes  string `json:"supersedes,omitempty"`
	Corrects    string `json:"corrects,omitempty"`
	ReplacedBy  string `json:"replaced_by,omitempty"`
	Note        string `json:"note,omitempty"`
	Reason      string `json:"reason,omitempty"`
	RecordedAt  string `json:"recorded_at"`
	Actor       string `json:"actor"`
	Position    uint64 `json:"position"`
	// Review: reported, submitted, approved, returned, reopened.
	ReviewState  string `json:"review_state"`
	SubmittedBy  string `json:"submitted_by,omitempty"`
	SubmittedAt  string `json:"submitted_at,omitempty"`
	ReviewedBy   string `json:"reviewed_by,omitempty"`
	ReviewedAt   string `json:"reviewed_at,omitempty"`
	ReviewReason string `json:"review_reason,omitempty"`
}

type IndicatorYear struct {
	Key              string `json:"key"`
	Year             int    `json:"year"`
	IndicatorID      string `json:"indicator_id"`
	TaskID           string `json:"task_id"`
	Name             string `json:"name"`
	Unit             string `json:"unit,omitempty"`
	IsRate           bool   `json:"is_rate"`
	Value            string `json:"value,omitempty"`
	ValueWindow      string `json:"value_window,omitempty"`
	Quality          string `json:"quality,omitempty"`
	Target           string `json:"target,omitempty"`
	Met              *bool  `json:"met,omitempty"`
	Status           string `json:"status"`
	Base             string `json:"base,omitempty"`
	BaseWindow       string `json:"base_window,omitempty"`
	BaseQuality      string `json:"base_quality,omitempty"`
	BaseSource       string `json:"base_source,omitempty"`
	ChangeAbs        string `json:"change_abs,omitempty"`
	ChangePct        string `json:"change_pct,omitempty"`
	ChangePctDisplay string `json:"change_pct_display,omitempty"`
	ChangePP         string `json:"change_pp,omitempty"`
	IsNew            bool   `json:"is_new"`
	// ReviewState is the review state of the figure Value comes from; the
	// Approved columns are year over year on approved figures alone.
	ReviewState              string `json:"review_state,omitempty"`
	ApprovedValue            string `json:"approved_value,omitempty"`
	ApprovedValueWindow      string `json:"approved_value_window,omitempty"`
	ApprovedBase             string `json:"approved_base,omitempty"`
	ApprovedBaseSource       string `json:"approved_base_source,omitempty"`
	ApprovedChangeAbs        string `json:"approved_change_abs,omitempty"`
	ApprovedChangePct        string `json:"approved_change_pct,omitempty"`
	ApprovedChangePctDisplay string `json:"approved_change_pct_display,omitempty"`
	ApprovedChangePP         string `json:"approved_change_pp,omitempty"`
	ApprovedIsNew            bool   `json:"approved_is_new"`
}

type FigureChange struct {
	EventID          string `json:"event_id"`
	IndicatorID      string `json:"indicator_id"`
	TaskID           string `json:"task_id"`
	Period           string `json:"period"`
	Kind             string `json:"kind"`
	OldValue         string `json:"old_value,omitempty"`
	NewValue         string `json:"new_value,omitempty"`
	OldQuality       string `json:"old_quality,omitempty"`
	NewQuality       string `json:"new_quality,omitempty"`
	Reason           string `json:"reason,omitempty"`
	Note             string `json:"note,omitempty"`
	FigureSourceKind string `json:"figure_source_kind,omitempty"`
	FigureSourceName string `json:"figure_source_name,omitempty"`
	Corrects         string `json:"corrects,omitempty"`
	Actor            string `json:"actor"`
	// ActorTokenID is the token the actor used; empty for changes recorded
	// before tokens had ids in events.
	ActorTokenID string `json:"actor_token_id,omitempty"`
	RecordedAt   string `json:"recorded_at"`
	Source       string `json:"source"`
	CommandID    string `json:"command_id"`
	Position     uint64 `json:"position"`
	// OldState and NewState are a review step's or a proposal's states.
	OldState string `json:"old_state,omitempty"`
	NewState string `json:"new_state,omitempty"`
}

type DeadLetter struct {
	Position       uint64 `json:"position"`
	Subject        string `json:"subject"`
	Kind           string `json:"kind"`
	EventID        string `json:"event_id,omitempty"`
	Name           string `json:"name,omitempty"`
	AggregateType  string `json:"aggregate_type,omitempty"`
	AggregateID    string `json:"aggregate_id,omitempty"`
	Error          string `json:"error"`
	Raw            []byte `json:"raw,omitempty"`
	RecordedAt     string `json:"recorded_at,omitempty"`
	DeadLetteredAt string `json:"dead_lettered_at"`
}

// TaskFilter narrows ListTasks; zero fields do not filter.
type TaskFilter struct {
	Year       int
	Dimension  string
	Department string // lead or co-department
	Status     string
	Unit       string // the unit's subtree
	// Limit, when positive, returns a page of at most this many tasks:
	// what a user sees of a board of thousands. Pages are read in board
	// order (year, dimension, id) from After, along the index, so a deep
	// page costs what the first does.
	Limit int
	After TaskCursor
}

// TaskCursor is the board position of the last task of a page; the zero
// cursor is the board's start.
type TaskCursor struct {
	Year      int
	Dimension string
	ID        string
}

// IsZero reports whether c is the board's start.
func (c TaskCursor) IsZero() bool { return c == TaskCursor{} }

// CursorOf is the cursor after t.
func CursorOf(t Task) TaskCursor { return TaskCursor{Year: t.Year, Dimension: t.Dimension, ID: t.ID} }

// IndicatorFilter narrows ListIndicators; zero fields do not filter.
type IndicatorFilter struct {
	ID     string
	TaskID string
	Year   int
	Q      string // substring of the name or key
}
