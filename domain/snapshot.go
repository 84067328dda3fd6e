package domain

import (
	"regexp"
	"strconv"
)

// AggregateSnapshot holds the year-end snapshots of one assessment year.
const AggregateSnapshot = "snapshot"

// EvSnapshotRecorded records that the read models were frozen at a
// position, with their content hash and the log's checkpoint root, so a
// year-end review can later prove it looks at exactly what was signed off.
const EvSnapshotRecorded = "snapshot.recorded"

type SnapshotRecorded struct {
	Year        int    `json:"year"`
	Position    uint64 `json:"position"`
	ContentHash string `json:"content_hash"`
	Root        string `json:"root"`
	Aggregates  int    `json:"aggregates"`
	File        string `json:"file,omitempty"`
	Note        string `json:"note,omitempty"`
}

func (SnapshotRecorded) EventName() string { return EvSnapshotRecorded }

func init() {
	register(AggregateSnapshot, 1, func() Event { return &SnapshotRecorded{} }, nil)
}

// Snapshot is the list of snapshots of one year (aggregate id = the year).
type Snapshot struct {
	id        string
	version   uint64
	positions []uint64
}

func NewSnapshot(id string) *Snapshot { return &Snapshot{id: id} }
func (s *Snapshot) Ref() AggregateRef { return AggregateRef{Type: AggregateSnapshot, ID: s.id} }
func (s *Snapshot) Version() uint64   { return s.version }

// Apply takes a snapshot the rule accepts; one it refuses (a damaged log)
// changes nothing, as the read models dead-letter it.
func (s *Snapshot) Apply(r Recorded) {
	s.version = r.AggregateVersion
	if e, ok := r.Data.(*SnapshotRecorded); ok && CheckSnapshot(s.id, s.last(), *e) == nil {
		s.positions = append(s.positions, e.Position)
	}
}

func (s *Snapshot) last() uint64 {
	if n := len(s.positions); n > 0 {
		return s.positions[n-1]
	}
	return 0
}

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// SnapshotID is the id of a year's snapshot aggregate: y2022.
func SnapshotID(year int) string { return "y" + strconv.Itoa(year) }

// CheckSnapshot is the rule a snapshot of a year follows, written once:
// the command decides with it and the read models apply with it. lastPosition
// is the position of the year's latest snapshot (0: none); snapshots of a
// year only move forward.
func CheckSnapshot(id string, lastPosition uint64, e SnapshotRecorded) error {
	if e.Year < 1990 || e.Year > 2200 {
		return Invalid("year", "range", "must be between 1990 and 2200, got %d", e.Year)
	}
	if id != SnapshotID(e.Year) {
		return Invalid("year", "aggregate", "a snapshot of %d is recorded on %s, not %s", e.Year, SnapshotID(e.Year), id)
	}
	if e.Position == 0 {
		return Invalid("position", "required", "a snapshot freezes a position >= 1")
	}
	if !sha256Hex.MatchString(e.ContentHash) {
		return Invalid("content_hash", "sha256_hex", "must be 64 lowercase hex digits")
	}
	if !sha256Hex.MatchString(e.Root) {
		return Invalid("root", "sha256_hex", "must be 64 lowercase hex digits")
	}
	if err := CheckText("note", e.Note, false, MaxLongText); err != nil {
		return err
	}
	if e.Position < lastPosition {
		return RuleViolation("position", "forward", "the last snapshot of %d is at position %d", e.Year, lastPosition)
	}
	return nil
}

// Record decides snapshot.recorded.
func (s *Snapshot) Record(c RecordSnapshot) ([]Event, error) {
	ev := &SnapshotRecorded{Year: c.Year, Position: c.Position, ContentHash: c.ContentHash, Root: c.Root,
		Aggregates: c.Aggregates, File: c.File, Note: c.Note}
	if err := CheckSnapshot(s.id, s.last(), *ev); err != nil {
		return nil, err
	}
	return []Event{ev}, nil
}

// RecordSnapshot is issued by the server after freezing the read models;
// clients ask for a snapshot, they do not supply hashes.
type RecordSnapshot struct {
	Year        int    `json:"year"`
	Position    uint64 `json:"position"`
	ContentHash string `json:"content_hash"`
	Root        string `json:"root"`
	Aggregates  int    `json:"aggregates"`
	File        string `json:"file,omitempty"`
	Note        string `json:"note,omitempty"`
}

func (c RecordSnapshot) Target() AggregateRef {
	return AggregateRef{Type: AggregateSnapshot, ID: SnapshotID(c.Year)}
}
func (c RecordSnapshot) Requires() []AggregateRef { return nil }
func (c RecordSnapshot) CommandName() string      { return "snapshot.record" }
func (c RecordSnapshot) decide(a Aggregate, _ []Aggregate) ([]Event, error) {
	return a.(*Snapshot).Record(c)
}
