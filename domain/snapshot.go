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
func (s *Snapshot) Apply(r Recorded) {
	s.version = r.AggregateVersion
	if e, ok := r.Data.(*SnapshotRecorded); ok {
		s.positions = append(s.positions, e.Position)
	}
}

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Record decides snapshot.recorded. Snapshots of a year only move forward.
func (s *Snapshot) Record(c RecordSnapshot) ([]Event, error) {
	if c.Year < 1990 || c.Year > 2200 {
		return nil, Invalid("year", "range", "must be between 1990 and 2200, got %d", c.Year)
	}
	if c.Position == 0 {
		return nil, Invalid("position", "required", "a snapshot freezes a position >= 1")
	}
	if !sha256Hex.MatchString(c.ContentHash) {
		return nil, Invalid("content_hash", "sha256_hex", "must be 64 lowercase hex digits")
	}
	if !sha256Hex.MatchString(c.Root) {
		return nil, Invalid("root", "sha256_hex", "must be 64 lowercase hex digits")
	}
	if err := CheckText("note", c.Note, false, MaxLongText); err != nil {
		return nil, err
	}
	if n := len(s.positions); n > 0 && c.Position < s.positions[n-1] {
		return nil, RuleViolation("position", "forward", "the last snapshot of %d is at position %d", c.Year, s.positions[n-1])
	}
	return []Event{&SnapshotRecorded{Year: c.Year, Position: c.Position, ContentHash: c.ContentHash, Root: c.Root,
		Aggregates: c.Aggregates, File: c.File, Note: c.Note}}, nil
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
	return AggregateRef{Type: AggregateSnapshot, ID: "y" + strconv.Itoa(c.Year)}
}
func (c RecordSnapshot) Requires() []AggregateRef { return nil }
func (c RecordSnapshot) CommandName() string      { return "snapshot.record" }
func (c RecordSnapshot) decide(a Aggregate, _ []Aggregate) ([]Event, error) {
	return a.(*Snapshot).Record(c)
}
