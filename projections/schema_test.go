package projections

import (
	"math/big"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"kpitrail/eventstore"
)

func TestSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "readmodels.db")
	db := openDB(t, path)

	// Every table is hashed (or deliberately skipped), so a migration that
	// adds one cannot slip out of ContentHash.
	rows, err := db.Reader().Query(`SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		rows.Scan(&name)
		if !slices.Contains(hashedTables, name) && !hashSkippedTables[name] {
			t.Errorf("table %s is neither hashed nor skipped", name)
		}
	}

	// Readers cannot write.
	if _, err := db.Reader().Exec(`DELETE FROM tasks`); err == nil {
		t.Error("the reader pool wrote")
	}
	// Pragmas reach the writer connection.
	var mode string
	var fk int
	db.writer.QueryRowContext(ctxT(t), `PRAGMA journal_mode`).Scan(&mode)
	db.writer.QueryRowContext(ctxT(t), `PRAGMA foreign_keys`).Scan(&fk)
	if mode != "wal" || fk != 1 {
		t.Errorf("journal_mode %s, foreign_keys %d", mode, fk)
	}

	// Reopening applies nothing twice; a file from a newer build is refused.
	db.Close()
	db = openDB(t, path)
	if n := queryString(t, db, `SELECT CAST(COUNT(*) AS TEXT) FROM schema_migrations`); n != sprintf("%d", SchemaVersion()) {
		t.Errorf("%s migrations recorded", n)
	}
	if _, err := db.writer.ExecContext(ctxT(t), `INSERT INTO schema_migrations VALUES (999, 'future', '')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Open(path); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("open a newer schema: %v", err)
	}
	// The refused open let go of the file: nothing else has it open.
	if err := detach(ctxT(t), path); err != nil {
		t.Errorf("after the refused open: %v", err)
	}
}

func TestRatText(t *testing.T) {
	for _, tc := range []struct {
		num, den int64
		want     string
	}{
		{5, 2, "2.5"}, {-1875, 100, "-18.75"}, {610, 719, "0.848401"}, {1, 3, "0.333333"},
		{2, 3, "0.666667"}, {0, 1, "0"}, {-1, 10000000, "0"}, {4, 1, "4"},
	} {
		if got := ratText(big.NewRat(tc.num, tc.den)); got != tc.want {
			t.Errorf("ratText(%d/%d) = %s, want %s", tc.num, tc.den, got, tc.want)
		}
	}
}

func TestClassifyTask(t *testing.T) {
	const today = "2022-12-20"
	for _, tc := range []struct {
		name string
		f    taskFacts
		want taskStatuses
	}{
		{"nothing yet", taskFacts{lifecycle: "active"}, taskStatuses{TaskPending, TaskPending, DeadlineNone}},
		{"narrative only", taskFacts{lifecycle: "active", narratives: 1}, taskStatuses{TaskOnTrack, TaskOnTrack, DeadlineNone}},
		{"open problem", taskFacts{lifecycle: "active", openProblems: 1, indicators: map[string]int{"met": 2}}, taskStatuses{TaskAtRisk, TaskAtRisk, DeadlineNone}},
		{"behind", taskFacts{lifecycle: "active", indicators: map[string]int{"behind": 1, "exceeded": 3}}, taskStatuses{TaskAtRisk, TaskAtRisk, DeadlineNone}},
		{"due soon beats at risk", taskFacts{lifecycle: "active", deadline: "2023-01-03", indicators: map[string]int{"not_met": 1}}, taskStatuses{TaskDueSoon, TaskAtRisk, DeadlineDueSoon}},
		{"due today", taskFacts{lifecycle: "active", deadline: today}, taskStatuses{TaskDueSoon, TaskPending, DeadlineDueSoon}},
		{"not due", taskFacts{lifecycle: "active", deadline: "2023-01-04", indicators: map[string]int{"on_track": 1}}, taskStatuses{TaskOnTrack, TaskOnTrack, DeadlineNotDue}},
		{"overdue", taskFacts{lifecycle: "active", deadline: "2022-12-19", indicators: map[string]int{"met": 1}}, taskStatuses{TaskOverdue, TaskOnTrack, DeadlineOverdue}},
		{"done on time", taskFacts{lifecycle: "completed", deadline: "2022-12-31", completedOn: "2022-12-31"}, taskStatuses{TaskCompleted, TaskPending, DeadlineDoneOnTime}},
		{"done late", taskFacts{lifecycle: "completed", deadline: "2022-12-31", completedOn: "2023-01-01"}, taskStatuses{TaskDoneLate, TaskPending, DeadlineDoneLate}},
		{"withdrawn", taskFacts{lifecycle: "withdrawn", deadline: "2022-01-01", openProblems: 3}, taskStatuses{TaskWithdrawn, TaskWithdrawn, DeadlineNone}},
	} {
		if got := classifyTask(tc.f, today, 14); got != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// TestRebuiltSchemaIsTheMigratedSchema: a build drops some indexes while it
// applies the log and creates them again at the end; the file it leaves
// has every table and index a migrated file has, with the same
// definitions, and answers a query through a deferred index.
func TestRebuiltSchemaIsTheMigratedSchema(t *testing.T) {
	clock := newClock("2022-01-01")
	store := eventstore.NewMemory(clock.now)
	buildScenario(t, store, clock)
	dir := t.TempDir()
	migrated := openDB(t, filepath.Join(dir, "migrated.db"))
	rebuilt := filepath.Join(dir, "rebuilt.db")
	if err := Rebuild(ctxT(t), store, rebuilt, RebuildOptions{}); err != nil {
		t.Fatal(err)
	}
	db := openDB(t, rebuilt)
	const q = `SELECT group_concat(type || ' ' || name || ': ' || COALESCE(sql, ''), char(10))
		FROM (SELECT * FROM sqlite_master ORDER BY type, name)`
	want, got := queryString(t, migrated, q), queryString(t, db, q)
	if got != want {
		t.Errorf("rebuilt schema:\n%s\nmigrated schema:\n%s", got, want)
	}
	for _, name := range deferredIndexes {
		if !strings.Contains(got, "index "+name+": CREATE INDEX") {
			t.Errorf("index %s missing after a rebuild", name)
		}
	}
	// An indicator's audit trail is one range of figure_changes' key, read
	// in the order it is shown: no index lookups per row, no sort.
	rows, err := db.Reader().Query(`EXPLAIN QUERY PLAN SELECT * FROM figure_changes WHERE indicator_id = 'x' ORDER BY position, event_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan += detail + "; "
	}
	if !strings.Contains(plan, "SEARCH figure_changes USING PRIMARY KEY (indicator_id=?)") || strings.Contains(plan, "TEMP B-TREE") {
		t.Errorf("audit trail query plan: %s", plan)
	}
}

// TestBuildStagesFigureChanges: while a build applies the log, rows of
// figure_changes go to an unkeyed temporary table in log order; at the end
// they are in the keyed table, sorted, and the temporary table is gone. A
// rebuilt file has no free pages left by it.
func TestBuildStagesFigureChanges(t *testing.T) {
	db := tempDB(t)
	ctx := ctxT(t)
	defs, err := db.dropDeferredIndexes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []int{3, 1, 2} {
		if _, err := db.writer.ExecContext(ctx, `INSERT INTO figure_changes (event_id, indicator_id, task_id, period, kind,
			actor, recorded_at, source, command_id, position) VALUES (?, 'i', 't', '2022', 'reported', 'a', 'r', 'api', 'c', ?)`,
			sprintf("e%d", p), p); err != nil {
			t.Fatal(err)
		}
	}
	count := func(q string) string { return queryStringW(t, db, q) }
	if main, temp := count(`SELECT count(*) FROM main.figure_changes`), count(`SELECT count(*) FROM temp.figure_changes`); main != "0" || temp != "3" {
		t.Fatalf("during the build: %s rows in the keyed table, %s in the temporary one", main, temp)
	}
	if err := db.createIndexes(ctx, defs); err != nil {
		t.Fatal(err)
	}
	if got := count(`SELECT group_concat(event_id) FROM main.figure_changes`); got != "e1,e2,e3" {
		t.Errorf("after the build: %s", got)
	}
	if n := count(`SELECT count(*) FROM temp.sqlite_master WHERE name = 'figure_changes'`); n != "0" {
		t.Errorf("the temporary table is still there")
	}

	path := filepath.Join(t.TempDir(), "rebuilt.db")
	if err := Rebuild(ctx, pinnedLog(t), path, RebuildOptions{Now: fixedNow}); err != nil {
		t.Fatal(err)
	}
	if free := queryString(t, openDB(t, path), `SELECT CAST(freelist_count AS TEXT) FROM pragma_freelist_count`); free != "0" {
		t.Errorf("a rebuilt file has %s free pages", free)
	}
}

// queryStringW reads through the writer, which alone sees its temporary
// tables.
func queryStringW(t *testing.T, db *DB, q string) string {
	t.Helper()
	var s string
	if err := db.writer.QueryRowContext(ctxT(t), `SELECT CAST((`+q+`) AS TEXT)`).Scan(&s); err != nil {
		t.Fatal(err)
	}
	return s
}
