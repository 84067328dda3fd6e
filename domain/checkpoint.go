package domain

// AggregateCheckpoint holds the log's periodic checkpoint roots (one
// aggregate, id "log").
const AggregateCheckpoint = "checkpoint"

// EvCheckpointRecorded records the root of every aggregate's head hash at a
// log position. Published outside kpitrail (the log line, an auditor's
// copy), it lets anyone prove later that the log up to that position is
// unchanged.
const EvCheckpointRecorded = "checkpoint.recorded"

type CheckpointRecorded struct {
	Position   uint64 `json:"position"`
	Root       string `json:"root"`
	Aggregates int    `json:"aggregates"`
}

func (CheckpointRecorded) EventName() string { return EvCheckpointRecorded }

func init() {
	register(AggregateCheckpoint, 1, func() Event { return &CheckpointRecorded{} }, nil)
}

// CheckpointLog is the list of recorded checkpoints.
type CheckpointLog struct {
	id      string
	version uint64
	last    uint64
}

func NewCheckpointLog(id string) *CheckpointLog { return &CheckpointLog{id: id} }
func (c *CheckpointLog) Ref() AggregateRef      { return AggregateRef{Type: AggregateCheckpoint, ID: c.id} }
func (c *CheckpointLog) Version() uint64        { return c.version }
func (c *CheckpointLog) LastPosition() uint64   { return c.last }
func (c *CheckpointLog) Apply(r Recorded) {
	c.version = r.AggregateVersion
	if e, ok := r.Data.(*CheckpointRecorded); ok {
		c.last = e.Position
	}
}

// Record decides checkpoint.recorded; checkpoints only move forward.
func (c *CheckpointLog) Record(cmd RecordCheckpoint) ([]Event, error) {
	if cmd.Position == 0 {
		return nil, Invalid("position", "required", "a checkpoint covers a position >= 1")
	}
	if !sha256Hex.MatchString(cmd.Root) {
		return nil, Invalid("root", "sha256_hex", "must be 64 lowercase hex digits")
	}
	if cmd.Position <= c.last {
		return nil, RuleViolation("position", "forward", "the last checkpoint is at position %d", c.last)
	}
	return []Event{&CheckpointRecorded{Position: cmd.Position, Root: cmd.Root, Aggregates: cmd.Aggregates}}, nil
}

// RecordCheckpoint is issued by the server on a timer.
type RecordCheckpoint struct {
	Position   uint64 `json:"position"`
	Root       string `json:"root"`
	Aggregates int    `json:"aggregates"`
}

func (c RecordCheckpoint) Target() AggregateRef {
	return AggregateRef{Type: AggregateCheckpoint, ID: "log"}
}
func (c RecordCheckpoint) Requires() []AggregateRef { return nil }
func (c RecordCheckpoint) CommandName() string      { return "checkpoint.record" }
func (c RecordCheckpoint) decide(a Aggregate, _ []Aggregate) ([]Event, error) {
	return a.(*CheckpointLog).Record(c)
}
