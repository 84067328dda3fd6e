package export

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	pqformat "github.com/xitongsys/parquet-go/parquet"

	"kpitrail/domain"
	"kpitrail/eventstore"
	"kpitrail/projections"
)

// wantTables pins the exportable tables: a migration that adds a table
// fails here until someone decides whether analysts get it.
var wantTables = []string{"bases", "events_log", "figure_changes", "figures", "indicator_years", "indicators",
	"problems", "proposals", "provenance", "rectification_items", "reporting_periods", "snapshots", "tasks", "units", "warning_explanations", "warnings",
	"year_changes", "years"}

func TestTablesArePinned(t *testing.T) {
	fx := newFixture(t)
	got, err := Tables(fx.db)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, wantTables) {
		t.Fatalf("Tables = %v, want %v", got, wantTables)
	}
}

// TestEveryTableInEveryFormat is the main round trip: each file read back
// with an independent reader equals the table read straight from SQLite.
func TestEveryTableInEveryFormat(t *testing.T) {
	fx := newFixture(t)
	dir := filepath.Join(t.TempDir(), "export")
	m := mustRun(t, Options{Dir: dir, DB: fx.db, Log: fx.store})

	last, _ := fx.store.LastPosition(context.Background())
	if m.Position != last || m.Replayed || m.SchemaVersion != projections.SchemaVersion() {
		t.Errorf("manifest position %d replayed %v schema %d; want %d false %d", m.Position, m.Replayed, m.SchemaVersion, last, projections.SchemaVersion())
	}
	if m.DeadLetters != 1 {
		t.Errorf("manifest dead letters %d, want 1", m.DeadLetters)
	}
	if len(m.Files) != 3*(len(wantTables)+1)+1 { // and read_csv.sql
		t.Fatalf("%d files, want %d", len(m.Files), 3*(len(wantTables)+1)+1)
	}
	for _, table := range append(slices.Clone(wantTables), StoredEvents) {
		want := storedEventsOracle(t, fx, table)
		if table == "events_log" {
			want = eventsLogOracle(t, fx)
		}
		if want.rows == nil {
			want = readSQLite(t, fx.db.Reader(), table)
		}
		if len(want.rows) == 0 {
			t.Errorf("%s: the scenario left it empty; the test would prove nothing", table)
		}
		for _, format := range Formats {
			name := table + "." + format
			f := manifestFile(t, m, name)
			if f.Rows != int64(len(want.rows)) {
				t.Errorf("%s: manifest rows %d, table has %d", name, f.Rows, len(want.rows))
			}
			path := filepath.Join(dir, name)
			t.Run(name, func(t *testing.T) {
				switch format {
				case FormatCSV:
					cols, rows := readCSV(t, path, want)
					compareRows(t, name, want, cols, rows)
				case FormatJSONL:
					cols, rows := readJSONL(t, path, want)
					compareRows(t, name, want, cols, rows)
				case FormatParquet:
					meta, cols, rows := readParquet(t, path)
					mcols := manifestTable(t, m, table).Columns
					compareRows(t, name, parquetOracle(t, want, mcols), cols, rows)
					checkParquetTypes(t, table, mcols, meta)
				}
			})
		}
	}
	if err := VerifyManifest(dir); err != nil {
		t.Fatal(err)
	}
}

// eventsLogOracle: the events_log export is the table read straight from
// SQLite with each event's payload, hash and previous hash, which the
// read models leave in the log (schema 7), put back after source.
func eventsLogOracle(t *testing.T, fx *fixture) sqliteTable {
	t.Helper()
	logged := readSQLite(t, fx.db.Reader(), "events_log")
	byID := map[string]domain.Envelope{}
	fx.store.Read(context.Background(), 0, eventstore.ReadOptions{}, func(m eventstore.Message) error {
		for _, e := range m.Events {
			byID[e.ID] = e
		}
		return nil
	})
	at := slices.Index(logged.columns, "source") + 1
	id := slices.Index(logged.columns, "event_id")
	if at == 0 || id < 0 || slices.Contains(logged.columns, "payload") {
		t.Fatalf("events_log columns %v", logged.columns)
	}
	out := sqliteTable{columns: slices.Insert(slices.Clone(logged.columns), at, "payload", "hash", "prev_hash")}
	for _, row := range logged.rows {
		e, ok := byID[row[id].(string)]
		if !ok {
			t.Fatalf("events_log holds %v, which the log does not", row[id])
		}
		out.rows = append(out.rows, slices.Insert(slices.Clone(row), at, any(string(e.Payload)), any(e.Hash), any(e.PrevHash)))
	}
	return out
}

// storedEventsOracle: the oracle for stored_events is events_log plus the
// dead-lettered event, which only the log has.
func storedEventsOracle(t *testing.T, fx *fixture, table string) sqliteTable {
	if table != StoredEvents {
		return sqliteTable{}
	}
	logged := eventsLogOracle(t, fx)
	var all []domain.Envelope
	fx.store.Read(context.Background(), 0, eventstore.ReadOptions{}, func(m eventstore.Message) error {
		all = append(all, m.Events...)
		return nil
	})
	if len(all) != len(logged.rows)+1 {
		t.Fatalf("log has %d events, events_log %d: the scenario should dead-letter exactly one", len(all), len(logged.rows))
	}
	out := sqliteTable{columns: logged.columns}
	i := 0
	for _, e := range all {
		if i < len(logged.rows) && logged.rows[i][2] == e.ID {
			out.rows = append(out.rows, logged.rows[i])
			i++
			continue
		}
		var corr any
		if e.CorrelationID != "" {
			corr = e.CorrelationID
		}
		out.rows = append(out.rows, []any{int64(e.Position), int64(e.Index), e.ID, e.Name, int64(e.SchemaVersion), e.AggregateType,
			e.AggregateID, int64(e.AggregateVersion), e.RecordedAt.UTC().Format("2006-01-02T15:04:05.000000000Z"), e.Actor, e.CommandID,
			corr, nil, e.Source, string(e.Payload), e.Hash, e.PrevHash, nullIfEmpty(e.ActorTokenID)})
	}
	return out
}

func manifestFile(t *testing.T, m *Manifest, name string) File {
	t.Helper()
	for _, f := range m.Files {
		if f.Name == name {
			return f
		}
	}
	t.Fatalf("manifest lists no %s", name)
	return File{}
}

func manifestTable(t *testing.T, m *Manifest, name string) Table {
	t.Helper()
	for _, tb := range m.Tables {
		if tb.Name == name {
			return tb
		}
	}
	t.Fatalf("manifest lists no table %s", name)
	return Table{}
}

// checkParquetTypes reads each column's type from the footer and holds it
// to the manifest; a decimal as written is a STRING column right after
// its DECIMAL one. DECIMAL columns are OPTIONAL (a value too wide for one
// is NULL there), every other column REQUIRED exactly when NOT NULL.
func checkParquetTypes(t *testing.T, table string, cols []Column, meta []parquetColumn) {
	t.Helper()
	i := 0
	next := func() parquetColumn {
		if i >= len(meta) {
			t.Fatalf("%s: the file has %d columns, fewer than the manifest lists", table, len(meta))
		}
		i++
		return meta[i-1]
	}
	for _, c := range cols {
		got := next()
		if got.name != c.Name || got.typeName() != c.Parquet {
			t.Errorf("%s.%s: parquet column %s of type %s, manifest says %s", table, c.Name, got.name, got.typeName(), c.Parquet)
		}
		wantRep := pqformat.FieldRepetitionType_REQUIRED
		if c.Nullable || strings.HasPrefix(c.Parquet, "DECIMAL") {
			wantRep = pqformat.FieldRepetitionType_OPTIONAL
		}
		if got.repetition != wantRep {
			t.Errorf("%s.%s: %v, want %v", table, c.Name, got.repetition, wantRep)
		}
		if c.AsWritten == "" {
			continue
		}
		text := next()
		if text.name != c.AsWritten || text.typeName() != "STRING" || c.AsWritten != c.Name+"_text" || c.Parquet != "DECIMAL(38,18)" {
			t.Errorf("%s.%s: as-written column %s %s (manifest %s, %s)", table, c.Name, text.name, text.typeName(), c.AsWritten, c.Parquet)
		}
	}
	if i != len(meta) {
		t.Errorf("%s: the file has %d columns, the manifest %d", table, len(meta), i)
	}
}

func TestStoredEventsMirrorEventsLog(t *testing.T) {
	fx := newFixture(t)
	cols, _, err := describe(context.Background(), fx.db.Reader(), "events_log")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cols, storedEventColumns) {
		t.Fatalf("events_log columns\n%v\nstored_events columns\n%v", cols, storedEventColumns)
	}
}

// TestTextSurvivesByteForByte looks at the raw bytes: Chinese text is not
// escaped, line breaks inside a CSV field stay LF, NULL and "" differ.
func TestTextSurvivesByteForByte(t *testing.T) {
	fx := newFixture(t)
	var csvOut, jsonOut bytes.Buffer
	if _, err := WriteTable(ctxT(t), &csvOut, fx.db, fx.store, "tasks", FormatCSV); err != nil {
		t.Fatal(err)
	}
	if _, err := WriteTable(ctxT(t), &jsonOut, fx.db, fx.store, "tasks", FormatJSONL); err != nil {
		t.Fatal(err)
	}
	quotedCSV := `"` + strings.ReplaceAll(trickyDescription, `"`, `""`) + `"`
	if !strings.Contains(csvOut.String(), quotedCSV) {
		t.Errorf("CSV does not hold the description byte for byte:\n%s", csvOut.String())
	}
	if !strings.Contains(csvOut.String(), `,"`+trickyDimension+`",`) {
		t.Error("CSV does not quote a field with a leading blank")
	}
	if !strings.HasPrefix(csvOut.String(), "id,year,dimension,") || !strings.Contains(csvOut.String(), "\r\n") {
		t.Error("CSV header or CRLF record ends missing")
	}
	for _, s := range []string{`"title":"` + strings.ReplaceAll(trickyTitle, `"`, `\"`) + `"`, `𠮷野家`, `"completed_on":null`} {
		if !strings.Contains(jsonOut.String(), s) {
			t.Errorf("JSON Lines lacks %s", s)
		}
	}

	// An empty string is written `""`, NULL as nothing.
	var b []byte
	b = appendCSVText(b, "")
	if string(b) != `""` {
		t.Errorf("empty string as %q", b)
	}
	s, _ := newCSVSink(&bytes.Buffer{}, []Column{{Name: "a"}, {Name: "b"}})
	var out bytes.Buffer
	s.w = &out
	s.row([]any{nil, ""})
	if out.String() != ",\"\"\r\n" {
		t.Errorf("NULL and empty string as %q", out.String())
	}
}

func TestCSVBOM(t *testing.T) {
	fx := newFixture(t)
	dir := filepath.Join(t.TempDir(), "export")
	mustRun(t, Options{Dir: dir, DB: fx.db, Log: fx.store, Formats: []string{FormatCSV, FormatJSONL}, Tables: []string{"tasks"}, CSVBOM: true})
	b, _ := os.ReadFile(filepath.Join(dir, "tasks.csv"))
	if !bytes.HasPrefix(b, []byte(BOM+"id,")) {
		t.Errorf("no BOM: %q", b[:10])
	}
	if j, _ := os.ReadFile(filepath.Join(dir, "tasks.jsonl")); bytes.HasPrefix(j, []byte(BOM)) {
		t.Error("BOM in a JSON Lines file")
	}
	if err := VerifyManifest(dir); err != nil {
		t.Fatal(err)
	}
}

// TestSQLiteCLIImportsCSV opens every CSV file with the sqlite3 shell, the
// tool the read-model docs send analysts to.
func TestSQLiteCLIImportsCSV(t *testing.T) {
	if _, err := exec.LookPath("sqlite3"); err != nil {
		t.Skip("sqlite3 is not on PATH")
	}
	fx := newFixture(t)
	dir := filepath.Join(t.TempDir(), "export")
	m := mustRun(t, Options{Dir: dir, DB: fx.db, Log: fx.store, Formats: []string{FormatCSV}})
	for _, f := range m.Files {
		out, err := exec.Command("sqlite3", ":memory:", ".import --csv "+filepath.Join(dir, f.Name)+" t", "SELECT count(*) FROM t").CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v: %s", f.Name, err, out)
		}
		if n, _ := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64); n != f.Rows {
			t.Errorf("%s: sqlite3 imported %s rows, manifest says %d", f.Name, out, f.Rows)
		}
	}
	out, err := exec.Command("sqlite3", ":memory:", ".import --csv "+filepath.Join(dir, "tasks.csv")+" t",
		"SELECT description FROM t WHERE id = 'hitech'").Output()
	if err != nil || string(out) != trickyDescription+"\n" {
		t.Errorf("sqlite3 read the description as %q (%v)", out, err)
	}
}

func TestWriteTableMatchesRun(t *testing.T) {
	fx := newFixture(t)
	dir := filepath.Join(t.TempDir(), "export")
	mustRun(t, Options{Dir: dir, DB: fx.db, Log: fx.store, Tables: []string{"figures", StoredEvents}})
	for _, format := range Formats {
		var b bytes.Buffer
		n, err := WriteTable(ctxT(t), &b, fx.db, fx.store, "figures", format)
		if err != nil {
			t.Fatal(err)
		}
		if file, _ := os.ReadFile(filepath.Join(dir, "figures."+format)); !bytes.Equal(b.Bytes(), file) || n == 0 {
			t.Errorf("WriteTable figures.%s (%d rows) differs from Run's file", format, n)
		}
		b.Reset()
		if _, err := WriteStoredEvents(ctxT(t), &b, fx.store, 0, format); err != nil {
			t.Fatal(err)
		}
		if file, _ := os.ReadFile(filepath.Join(dir, "stored_events."+format)); !bytes.Equal(b.Bytes(), file) {
			t.Errorf("WriteStoredEvents .%s differs from Run's file", format)
		}
	}
}

// TestParquetManyRows crosses the writer's batch and row-group sizes, so
// reused row buffers and a second row group are read back too.
func TestParquetManyRows(t *testing.T) {
	cols := []Column{{Name: "n", Type: typeInteger}, {Name: "text", Type: typeText, Nullable: true}, {Name: "x_f", Type: typeReal, Nullable: true}}
	want := sqliteTable{columns: []string{"n", "text", "x_f"}}
	const rows = parquetRowGroupRows + 3*parquetBatch + 7
	for i := range rows {
		row := []any{int64(i), "第" + strconv.Itoa(i) + "行", float64(i) / 8}
		if i%3 == 0 {
			row[1], row[2] = nil, nil
		}
		want.rows = append(want.rows, row)
	}
	path := filepath.Join(t.TempDir(), "many.parquet")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	s := newParquetSink(f, "many", cols, "test")
	buf := make([]any, len(cols)) // reused, as scanTable does
	for _, r := range want.rows {
		copy(buf, r)
		if err := s.row(buf); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.close(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, got, rowsRead := readParquet(t, path)
	compareRows(t, "many.parquet", want, got, rowsRead)
}
