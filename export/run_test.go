package export

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"kpitrail/domain"
	"kpitrail/eventstore"
	"kpitrail/projections"
)

// TestAsOfPositionEqualsReplay: an export as of a position has the same
// files, byte for byte, as an export of a replay to that position.
func TestAsOfPositionEqualsReplay(t *testing.T) {
	fx := newFixture(t)
	ctx := ctxT(t)
	base := t.TempDir()
	asOf := mustRun(t, Options{Dir: filepath.Join(base, "asof"), Log: fx.store, Position: fx.midPosition})

	replayPath := filepath.Join(base, "replay.db")
	if err := projections.ReplayToPosition(ctx, fx.store, fx.midPosition, replayPath); err != nil {
		t.Fatal(err)
	}
	replay, err := projections.Open(replayPath)
	if err != nil {
		t.Fatal(err)
	}
	defer replay.Close()
	fromReplay := mustRun(t, Options{Dir: filepath.Join(base, "replay"), DB: replay, Log: fx.store})

	if !asOf.Replayed || asOf.Position != fx.midPosition || fromReplay.Position != fx.midPosition {
		t.Errorf("positions: as-of %d (replayed %v), replay %d; want %d", asOf.Position, asOf.Replayed, fromReplay.Position, fx.midPosition)
	}
	if len(asOf.Files) != len(fromReplay.Files) {
		t.Fatalf("%d files, replay %d", len(asOf.Files), len(fromReplay.Files))
	}
	for i, f := range asOf.Files {
		if g := fromReplay.Files[i]; !reflect.DeepEqual(f, g) {
			t.Errorf("as-of %+v\nreplay %+v", f, g)
		}
	}
	// The past is not the present: the later events are not in it.
	current := mustRun(t, Options{Dir: filepath.Join(base, "current"), DB: fx.db, Log: fx.store, Formats: []string{FormatCSV}})
	if a, c := manifestFile(t, asOf, "stored_events.csv").Rows, manifestFile(t, current, "stored_events.csv").Rows; a >= c {
		t.Errorf("as-of stored_events has %d rows, current %d", a, c)
	}
	entries, _ := os.ReadDir(base)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") || strings.HasPrefix(e.Name(), "kpitrail-asof") {
			t.Errorf("left behind: %s", e.Name())
		}
	}
}

func TestManifestDetectsTampering(t *testing.T) {
	fx := newFixture(t)
	dir := filepath.Join(t.TempDir(), "export")
	m := mustRun(t, Options{Dir: dir, DB: fx.db, Log: fx.store, Tables: []string{"indicators", StoredEvents}})
	if err := VerifyManifest(dir); err != nil {
		t.Fatal(err)
	}
	if len(m.Files) != 7 || len(m.Tables) != 2 { // and read_csv.sql
		t.Fatalf("files %d tables %d", len(m.Files), len(m.Tables))
	}
	path := filepath.Join(dir, "indicators.csv")
	orig, _ := os.ReadFile(path)
	tampered := bytes.Replace(orig, []byte("719"), []byte("791"), 1)
	if bytes.Equal(orig, tampered) {
		t.Fatal("nothing to tamper with")
	}
	os.WriteFile(path, tampered, 0o644)
	err := VerifyManifest(dir)
	if !errors.Is(err, ErrManifestMismatch) || !strings.Contains(err.Error(), "indicators.csv") {
		t.Fatalf("tampered file: %v", err)
	}
	os.WriteFile(path, orig, 0o644)
	os.Remove(filepath.Join(dir, "stored_events.parquet"))
	if err := VerifyManifest(dir); !errors.Is(err, ErrManifestMismatch) {
		t.Fatalf("missing file: %v", err)
	}
}

func TestRefusals(t *testing.T) {
	fx := newFixture(t)
	ctx := ctxT(t)
	base := t.TempDir()
	var de *domain.Error
	_, err := WriteTable(ctx, &bytes.Buffer{}, fx.db, fx.store, "chain_heads", FormatCSV)
	if !errors.As(err, &de) || de.Code != domain.ENOTFOUND || !strings.Contains(err.Error(), "internal") {
		t.Errorf("internal table: %v", err)
	}
	if _, err := WriteTable(ctx, &bytes.Buffer{}, fx.db, fx.store, "tasks", "xlsx"); !errors.As(err, &de) || de.Code != domain.EINVALID {
		t.Errorf("unknown format: %v", err)
	}
	last, _ := fx.store.LastPosition(ctx)
	for name, opts := range map[string]Options{
		"no dir":           {DB: fx.db, Log: fx.store},
		"no log":           {Dir: filepath.Join(base, "a"), DB: fx.db},
		"no db":            {Dir: filepath.Join(base, "b"), Log: fx.store},
		"unknown format":   {Dir: filepath.Join(base, "c"), DB: fx.db, Log: fx.store, Formats: []string{"csv", "xml"}},
		"internal table":   {Dir: filepath.Join(base, "d"), DB: fx.db, Log: fx.store, Tables: []string{"dead_letters"}},
		"unknown table":    {Dir: filepath.Join(base, "e"), DB: fx.db, Log: fx.store, Tables: []string{"nope"}},
		"beyond the log":   {Dir: filepath.Join(base, "f"), Log: fx.store, Position: last + 1},
		"non-empty dir":    {Dir: base, DB: fx.db, Log: fx.store},
		"duplicate format": {Dir: filepath.Join(base, "g"), DB: fx.db, Log: fx.store, Formats: []string{"csv", "csv"}},
	} {
		if name == "non-empty dir" {
			os.WriteFile(filepath.Join(base, "notes.txt"), nil, 0o644)
		}
		if _, err := Run(ctx, opts); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	entries, _ := os.ReadDir(base)
	if len(entries) != 1 { // notes.txt: no export dir, no stage, no replay left
		names := []string{}
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("left behind: %v", names)
	}
	// Read models only: no log needed.
	mustRun(t, Options{Dir: filepath.Join(t.TempDir(), "x"), DB: fx.db, Tables: []string{"tasks"}})
}

// TestEmptyReadModels: a file with no events still exports: headers,
// empty but valid Parquet files, position 0.
func TestEmptyReadModels(t *testing.T) {
	db, err := projections.Open(filepath.Join(t.TempDir(), "readmodels.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	dir := filepath.Join(t.TempDir(), "export")
	m := mustRun(t, Options{Dir: dir, DB: db, Log: eventstore.NewMemory(nil)})
	if m.Position != 0 || len(m.Files) != 3*(len(wantTables)+1)+1 {
		t.Fatalf("position %d, %d files", m.Position, len(m.Files))
	}
	for _, f := range m.Files {
		if f.Rows != 0 {
			t.Errorf("%s: %d rows", f.Name, f.Rows)
		}
	}
	if _, _, rows := readParquet(t, filepath.Join(dir, "indicators.parquet")); len(rows) != 0 {
		t.Errorf("parquet rows %d", len(rows))
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "tasks.csv")); !bytes.HasPrefix(b, []byte("id,year,")) || bytes.Count(b, []byte("\r\n")) != 1 {
		t.Errorf("tasks.csv: %q", b)
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o755 {
		t.Errorf("export dir mode %v", fi.Mode().Perm())
	}
	if err := VerifyManifest(dir); err != nil {
		t.Fatal(err)
	}
	// A log that is not the one the read models came from is refused.
	fx := newFixture(t)
	if _, err := Run(ctxT(t), Options{Dir: filepath.Join(t.TempDir(), "x"), DB: fx.db, Log: eventstore.NewMemory(nil)}); err == nil {
		t.Error("export with a shorter log than the read models: no error")
	}
}
