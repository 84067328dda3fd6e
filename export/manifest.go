package export

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"kpitrail/projections"
)

// ManifestName is the manifest's file name inside an export directory.
const ManifestName = "manifest.json"

// manifestVersion changes only if a field changes meaning; fields are
// added without a new version and readers ignore those they do not know.
const manifestVersion = 1

// Manifest describes one export: which code wrote it, which log position
// it stands for, and every file with its size and SHA-256.
type Manifest struct {
	ManifestVersion int       `json:"manifest_version"`
	Kpitrail        BuildInfo `json:"kpitrail"`
	// SchemaVersion is the read-model schema (projections.SchemaVersion);
	// docs/readmodels.md of that version documents the columns.
	SchemaVersion int `json:"schema_version"`
	// Position: the files hold exactly the log messages 1..Position.
	Position uint64 `json:"position"`
	// Replayed is true when the read models were rebuilt from the log up
	// to Position for this export rather than read from the live file.
	Replayed bool `json:"replayed"`
	// LastRecordedAt is the record time of the newest applied event.
	LastRecordedAt string `json:"last_recorded_at,omitempty"`
	GeneratedAt    string `json:"generated_at"`
	// DeadLetters counts messages the read models set aside; their events
	// are in stored_events but not in the read-model tables.
	DeadLetters int64   `json:"dead_letters"`
	Tables      []Table `json:"tables"`
	Files       []File  `json:"files"`
}

// Table is one exported table and its columns, which CSV cannot carry.
type Table struct {
	Name    string   `json:"name"`
	Rows    int64    `json:"rows"`
	Columns []Column `json:"columns"`
}

// File is one written file.
type File struct {
	Name   string `json:"name"`
	Table  string `json:"table"`
	Format string `json:"format"`
	Rows   int64  `json:"rows"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
	// OutOfRange counts, per DECIMAL column of a Parquet file, the values
	// too wide for DECIMAL(38,s): NULL there, exact in the CSV and JSON
	// Lines files and, for a decimal as written, in its _text column.
	OutOfRange map[string]int64 `json:"out_of_range,omitempty"`
}

// ErrManifestMismatch is wrapped by every VerifyManifest error about a
// file that is missing or not what the manifest says.
var ErrManifestMismatch = errors.New("export does not match its manifest")

// VerifyManifest rechecks every file listed in dir's manifest: it must be
// there with the listed size and SHA-256. Files the manifest does not list
// are ignored, so analysts may keep notebooks beside an export.
func VerifyManifest(dir string) error {
	b, err := os.ReadFile(filepath.Join(dir, ManifestName))
	if err != nil {
		return fmt.Errorf("verify %s: %w", dir, err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("verify %s: %s: %w", dir, ManifestName, err)
	}
	if m.ManifestVersion != manifestVersion {
		return fmt.Errorf("verify %s: manifest version %d, this build reads %d", dir, m.ManifestVersion, manifestVersion)
	}
	var errs []error
	for _, f := range m.Files {
		if err := verifyFile(dir, f); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.Name, err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("verify %s: %w: %w", dir, ErrManifestMismatch, errors.Join(errs...))
	}
	return nil
}

func verifyFile(dir string, f File) error {
	// A manifest is data from outside: a name must not lead out of dir.
	if f.Name == "" || f.Name != filepath.Base(f.Name) || f.Name == ManifestName || f.Name == "." || f.Name == ".." {
		return fmt.Errorf("not a file name of an export")
	}
	fh, err := os.Open(filepath.Join(dir, f.Name))
	if err != nil {
		return err
	}
	defer fh.Close()
	h := sha256.New()
	n, err := io.Copy(h, fh)
	if err != nil {
		return err
	}
	if n != f.Bytes {
		return fmt.Errorf("%d bytes, manifest says %d", n, f.Bytes)
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != f.SHA256 {
		return fmt.Errorf("sha256 %s, manifest says %s", got, f.SHA256)
	}
	return nil
}

// WriteFileManifest writes the manifest of a directory holding one file
// written by something other than Run (a read-model replay), so the same
// VerifyManifest checks its download.
func WriteFileManifest(dir, name, table, format string, position uint64) (*Manifest, error) {
	path := filepath.Join(dir, name)
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return nil, err
	}
	m := &Manifest{ManifestVersion: manifestVersion, Kpitrail: readBuildInfo(), SchemaVersion: projections.SchemaVersion(),
		Position: position, Replayed: true, GeneratedAt: time.Now().UTC().Format(time.RFC3339),
		Files: []File{{Name: name, Table: table, Format: format, Bytes: n, SHA256: hex.EncodeToString(h.Sum(nil))}}}
	return m, writeManifest(dir, m)
}
