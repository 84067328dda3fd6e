package audit

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// Record is what a passing verification found, kept outside the log (the
// data directory's audit/verified.json, or an auditor's own file): the
// next verification finds a log shorter than this, a different root at
// this position, or a stream stored anew since.
type Record struct {
	Position      uint64    `json:"position"`
	Root          string    `json:"root"`
	Aggregates    int       `json:"aggregates"`
	StoredAt      time.Time `json:"stored_at,omitzero"`
	StreamCreated time.Time `json:"stream_created,omitzero"`
	VerifiedAt    time.Time `json:"verified_at"`
}

func (r Record) claim() Claim {
	return Claim{Source: "the verification of " + r.VerifiedAt.UTC().Format(time.RFC3339),
		Checkpoint: Checkpoint{Position: r.Position, Root: r.Root, Aggregates: r.Aggregates}, StoredAt: r.StoredAt}
}

// Record is what this verification leaves for the next one.
func (r Report) Record(now time.Time) Record {
	return Record{Position: r.Last, Root: r.Checkpoint.Root, Aggregates: r.Checkpoint.Aggregates,
		StoredAt: r.LastStoredAt, StreamCreated: r.StreamCreated, VerifiedAt: now.UTC()}
}

// LoadRecord reads a record; a file that does not exist is no record.
func LoadRecord(path string) (*Record, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("verification record: %w", err)
	}
	var r Record
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("verification record %s: %w", path, err)
	}
	return &r, nil
}

// Save writes the record atomically.
func (r Record) Save(path string) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return writeFile(path, append(data, '\n'))
}

// writeFile replaces path with data through a renamed temporary file.
func writeFile(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
