package feed

import (
	"encoding/json"
	"time"

	wmnats "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/nats"
	"github.com/nats-io/nats.go"
)

// Integration event types. They are a public contract, written out here
// and in docs/downstream.md, never derived from Go type names: a type is
// never renamed and a field is never renamed or given a new meaning. An
// incompatible change is a new type; fields are only ever added.
const (
	TypeFigureChanged           = "figure.changed"
	TypeIndicatorStatusChanged  = "indicator.status_changed"
	TypeTaskStatusChanged       = "task.status_changed"
	TypeProblemOpened           = "problem.opened"
	TypeRectificationProgressed = "rectification.progressed"
	TypeProblemClosed           = "problem.closed"
)

// DataTypes maps every type above to the Go type of its data, for code
// that describes the feed (the AsyncAPI document). A new type is added
// here with its constant.
func DataTypes() map[string]any {
	return map[string]any{
		TypeFigureChanged:           FigureChanged{},
		TypeIndicatorStatusChanged:  IndicatorStatusChanged{},
		TypeTaskStatusChanged:       TaskStatusChanged{},
		TypeProblemOpened:           ProblemOpened{},
		TypeRectificationProgressed: RectificationProgressed{},
		TypeProblemClosed:           ProblemClosed{},
	}
}

// SchemaVersion of every type above. It moves only with an incompatible
// change, which docs/downstream.md says is published as a new type.
const SchemaVersion = 1

// Headers on every published message, besides Nats-Msg-Id.
const (
	HeaderType     = "Kpitrail-Type"
	HeaderSchema   = "Kpitrail-Schema-Version"
	HeaderPosition = "Kpitrail-Position"
)

// Headers lists every header of a published message with what it holds,
// for readers and for the AsyncAPI document.
var Headers = []struct{ Name, Description string }{
	{HeaderType, "the integration event type, as in the body's type"},
	{HeaderSchema, "the type's schema version, as in the body's schema_version"},
	{HeaderPosition, "the log position the event derives from, as in the body's position"},
	{nats.MsgIdHdr, "the message id, as in the body's message_id: JetStream drops a republished copy within its duplicate window"},
	{wmnats.WatermillUUIDHdr, "the same message id, as the router that publishes (watermill) writes it"},
}

// Event is one published integration event: the envelope common to all
// types, and the type's fields under data.
type Event struct {
	Type          string `json:"type"`
	SchemaVersion int    `json:"schema_version"`
	// MessageID is also the Nats-Msg-Id header: deterministic, so a
	// republish after a crash is recognised (see messageID).
	MessageID string `json:"message_id"`
	// Position and Index locate the stored event this derives from in the
	// KPITRAIL log; EventID and EventName name it.
	Position   uint64    `json:"position"`
	Index      int       `json:"index"`
	EventID    string    `json:"event_id"`
	EventName  string    `json:"event_name"`
	RecordedAt time.Time `json:"recorded_at"`
	Actor      string    `json:"actor"`
	// ActorTokenID is the token the actor used (absent on events stored
	// before tokens had ids in events).
	ActorTokenID  string          `json:"actor_token_id,omitempty"`
	Source        string          `json:"source"`
	CorrelationID string          `json:"correlation_id,omitempty"`
	TaskID        string          `json:"task_id"`
	Data          json.RawMessage `json:"data"`
}

// Window is the valid time a figure describes (1-11月 is 1..11).
type Window struct {
	Year      int `json:"year"`
	FromMonth int `json:"from_month"`
	ToMonth   int `json:"to_month"`
}

// Source is who supplied a figure.
type Source struct {
	Kind string `json:"kind"`
	Name string `json:"name,omitempty"`
}

// FigureChanged: a figure was reported, superseded by a later report for
// its window, corrected or retracted.
type FigureChanged struct {
	IndicatorID   string `json:"indicator_id"`
	IndicatorName string `json:"indicator_name"`
	Unit          string `json:"unit,omitempty"`
	Year          int    `json:"year"`
	Window        Window `json:"window"`
	WindowKey     string `json:"window_key"`
	// Kind is reported, superseded, corrected or retracted.
	Kind       string `json:"kind"`
	OldValue   string `json:"old_value,omitempty"`
	NewValue   string `json:"new_value,omitempty"`
	OldQuality string `json:"old_quality,omitempty"`
	NewQuality string `json:"new_quality,omitempty"`
	// Replaces is the event id of the figure this one superseded,
	// corrected or retracted.
	Replaces string  `json:"replaces,omitempty"`
	Source   *Source `json:"source,omitempty"`
	Reason   string  `json:"reason,omitempty"`
	Note     string  `json:"note,omitempty"`
}

// Assessment is what an indicator's status rests on. A status_changed
// event is published whenever any of it changes.
type Assessment struct {
	Status               string `json:"status"`
	Lifecycle            string `json:"lifecycle"`
	CompletionRatio      string `json:"completion_ratio,omitempty"`
	CompletionPctDisplay string `json:"completion_pct_display,omitempty"`
	CompletionCase       string `json:"completion_case,omitempty"`
	Met                  *bool  `json:"met,omitempty"`
	QualityBasis         string `json:"quality_basis,omitempty"`
	DeriveError          string `json:"derive_error,omitempty"`
}

// IndicatorStatusChanged carries the assessment before (absent the first
// time the indicator appears) and after, with the figure and target the
// new one rests on.
type IndicatorStatusChanged struct {
	IndicatorID     string      `json:"indicator_id"`
	IndicatorName   string      `json:"indicator_name"`
	Unit            string      `json:"unit,omitempty"`
	Year            int         `json:"year"`
	Old             *Assessment `json:"old,omitempty"`
	New             Assessment  `json:"new"`
	Value           string      `json:"value,omitempty"`
	ValueWindow     string      `json:"value_window,omitempty"`
	Quality         string      `json:"quality,omitempty"`
	Target          string      `json:"target,omitempty"`
	TargetLow       string      `json:"target_low,omitempty"`
	TargetHigh      string      `json:"target_high,omitempty"`
	TargetMilestone string      `json:"target_milestone,omitempty"`
	ExpectedToDate  string      `json:"expected_to_date,omitempty"`
}

// Standing is a task's status as the log decides it: the board status
// without its calendar rules (overdue, due_soon), which change with the
// day and not with any event. Values: withdrawn, done_late, completed,
// at_risk, on_track, pending.
type Standing struct {
	Status         string `json:"status"`
	ProgressStatus string `json:"progress_status"`
	Lifecycle      string `json:"lifecycle"`
}

// TaskCounts are the task's counters at the event's position.
type TaskCounts struct {
	IndicatorsTotal   int `json:"indicators_total"`
	IndicatorsMet     int `json:"indicators_met"`
	IndicatorsOnTrack int `json:"indicators_on_track"`
	IndicatorsBehind  int `json:"indicators_behind"`
	IndicatorsNotMet  int `json:"indicators_not_met"`
	IndicatorsPending int `json:"indicators_pending"`
	OpenProblems      int `json:"open_problems"`
}

// TaskStatusChanged carries the standing before (absent the first time)
// and after.
type TaskStatusChanged struct {
	Year             int        `json:"year"`
	Dimension        string     `json:"dimension"`
	Title            string     `json:"title"`
	LeadDepartment   string     `json:"lead_department"`
	Old              *Standing  `json:"old,omitempty"`
	New              Standing   `json:"new"`
	Deadline         string     `json:"deadline,omitempty"`
	OriginalDeadline string     `json:"original_deadline,omitempty"`
	CompletedOn      string     `json:"completed_on,omitempty"`
	Counts           TaskCounts `json:"counts"`
}

// ProblemOpened: a 存在问题 was recorded on a task.
type ProblemOpened struct {
	ProblemID   string `json:"problem_id"`
	Description string `json:"description"`
	Cause       string `json:"cause,omitempty"`
	TotalItems  int    `json:"total_items,omitempty"`
}

// RectificationProgressed: the problem's ledger moved.
type RectificationProgressed struct {
	ProblemID         string `json:"problem_id"`
	Total             int    `json:"total"`
	Rectified         int    `json:"rectified"`
	Remaining         int    `json:"remaining"`
	PreviousTotal     int    `json:"previous_total"`
	PreviousRectified int    `json:"previous_rectified"`
	State             string `json:"state"`
	Rate              string `json:"rate,omitempty"`
	RateDisplay       string `json:"rate_display,omitempty"`
	Note              string `json:"note,omitempty"`
}

// ProblemClosed: the problem reached its outcome (rectified, ongoing,
// not_rectified) with the ledger as it stood.
type ProblemClosed struct {
	ProblemID   string `json:"problem_id"`
	Outcome     string `json:"outcome"`
	Total       int    `json:"total"`
	Rectified   int    `json:"rectified"`
	Remaining   int    `json:"remaining"`
	Rate        string `json:"rate,omitempty"`
	RateDisplay string `json:"rate_display,omitempty"`
	Note        string `json:"note,omitempty"`
}
