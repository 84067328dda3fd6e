package projections

import (
	"path/filepath"
	"testing"
	"time"

	"kpitrail/eventstore"
)

// TestDomainExamples runs DOMAIN.md's worked figures from events to rows.
func TestDomainExamples(t *testing.T) {
	clock := newClock("2022-01-01")
	store := eventstore.NewMemory(clock.now)
	sc := buildScenario(t, store, clock)
	db := tempDB(t)
	catchUp(t, db, store, RunnerOptions{BatchSize: 7})

	q := func(query string, args ...any) string { return queryString(t, db, query, args...) }
	check := func(name, got, want string) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}

	// Rule 4: 13 accidents in 1-11月 against 16 the year before: −18.75 %.
	row := `SELECT %s FROM indicator_years WHERE key = '生产安全事故起数' AND year = 2022`
	for col, want := range map[string]string{"base": "16", "base_source": BaseFromIndicator, "base_window": "2021-01..2021-11",
		"change_abs": "-3", "change_pct": "-18.75", "change_pct_display": "-18.8", "is_new": "0", "value_window": "2022-01..2022-11"} {
		check("accidents "+col, q(sprintf(row, "CAST("+col+" AS TEXT)")), want)
	}
	// A recorded base when last year has no indicator: 14 deaths against 19.
	check("deaths change_pct", q(`SELECT change_pct FROM indicator_years WHERE key = '生产安全事故死亡人数'`), "-26.315789")
	check("deaths display", q(`SELECT change_pct_display FROM indicator_years WHERE key = '生产安全事故死亡人数'`), "-26.3")
	check("deaths base_source", q(`SELECT base_source FROM indicator_years WHERE key = '生产安全事故死亡人数'`), BaseFromRecorded)

	// Rule 2: 10 firms against a target of 4 is 250 %.
	ind := `SELECT %s FROM indicators WHERE id = ?`
	check("upgraded ratio", q(sprintf(ind, "completion_ratio"), "upgraded-firms"), "2.5")
	check("upgraded display", q(sprintf(ind, "completion_pct_display"), "upgraded-firms"), "250.0")
	check("upgraded status", q(sprintf(ind, "status"), "upgraded-firms"), "exceeded")

	// Rule 11: a 1-11月 additive figure is judged against 11/12 of the year.
	check("demolition expected", q(sprintf(ind, "expected_to_date"), "demolition"), "165")
	check("demolition share", q(sprintf(ind, "expected_share"), "demolition"), "0.916667")
	check("demolition share display", q(sprintf(ind, "expected_share_display"), "demolition"), "91.7")
	check("demolition display", q(sprintf(ind, "completion_pct_display"), "demolition"), "106.6")
	check("demolition status", q(sprintf(ind, "status"), "demolition"), "on_track")
	check("demolition basis", q(sprintf(ind, "quality_basis"), "demolition"), "provisional")

	// Rule 10: 191 of 193 rectified.
	prob := `SELECT CAST(%s AS TEXT) FROM problems WHERE task_id = 'hills' AND problem_id = 'p87-1'`
	for col, want := range map[string]string{"remaining": "2", "rate": "0.989637", "rate_display": "99.0", "rate_display0": "99", "state": "in_progress"} {
		check("rectification "+col, q(sprintf(prob, col)), want)
	}
	check("ledger", q(`SELECT previous_rectified || '->' || rectified || ' of ' || total FROM rectification_items WHERE problem_id = 'p87-1'`), "0->191 of 193")

	// Rule 8/9: the high-tech firms now rest on the corrected final figure.
	check("hitech value", q(sprintf(ind, "value"), "hitech-firms"), "607")
	check("hitech basis", q(sprintf(ind, "quality_basis"), "hitech-firms"), "revised")
	check("hitech status", q(sprintf(ind, "status"), "hitech-firms"), "not_met")
	check("hitech value provenance", q(`SELECT event_id FROM provenance WHERE table_name = 'indicators' AND row_key = 'hitech-firms' AND column_name = 'value'`), sc.correction)

	// The version-1 event read through the upcaster.
	check("dustfall window", q(sprintf(ind, "value_window"), "dustfall"), "2022-01..2022-11")
	check("dustfall source", q(sprintf(ind, "source_kind || ':' || source_name"), "dustfall"), "agency:市科委")
	check("dustfall status", q(sprintf(ind, "status"), "dustfall"), "on_track")

	// Task statuses on 2022-12-20.
	for id, want := range map[string]string{"hitech": TaskDueSoon, "hills": TaskAtRisk, "upgrade": TaskOnTrack, "safety": TaskOnTrack} {
		check(id+" status", q(`SELECT status FROM tasks WHERE id = ?`, id), want)
	}
	check("hitech progress", q(`SELECT progress_status FROM tasks WHERE id = 'hitech'`), TaskAtRisk)
	check("safety pending", q(`SELECT CAST(indicators_pending AS TEXT) FROM tasks WHERE id = 'safety'`), "1") // deaths has no target
}

func TestAuditTrailAndFigures(t *testing.T) {
	clock := newClock("2022-01-01")
	store := eventstore.NewMemory(clock.now)
	sc := buildScenario(t, store, clock)
	db := tempDB(t)
	catchUp(t, db, store, RunnerOptions{})
	ctx := ctxT(t)

	figs, err := db.Figures(ctx, "hitech-firms")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{sc.estimate: "superseded", sc.final: "corrected", sc.correction: "current"}
	if len(figs) != 3 {
		t.Fatalf("figures: %+v", figs)
	}
	for _, f := range figs {
		if want[f.EventID] != f.State {
			t.Errorf("figure %s (%s) is %s, want %s", f.EventID, f.Value, f.State, want[f.EventID])
		}
	}

	trail, err := db.AuditTrail(ctx, "hitech-firms")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range trail {
		got = append(got, c.Kind+" "+c.OldValue+"("+c.OldQuality+")->"+c.NewValue+"("+c.NewQuality+")")
	}
	wantTrail := []string{"target_set ()->719()", "reported ()->610(estimate)", "superseded 610(estimate)->605(final)", "corrected 605(final)->607(revised)"}
	if sprintf("%q", got) != sprintf("%q", wantTrail) {
		t.Errorf("audit trail:\n got  %q\n want %q", got, wantTrail)
	}
	if c := trail[3]; c.Reason != "市科委复核：补录2家延长批企业" || c.Corrects != sc.final || c.Actor == "" || c.CommandID == "" {
		t.Errorf("correction row: %+v", c)
	}
	if trail[1].Note != hitechNote {
		t.Errorf("report note %q", trail[1].Note)
	}

	hist, err := db.History(ctx, "accidents")
	if err != nil {
		t.Fatal(err)
	}
	if len(hist) != 2 || hist[0].Year != 2021 || hist[1].ChangePctDisplay != "-18.8" || hist[0].Base != "" {
		t.Errorf("history: %+v", hist)
	}
}

// TestChineseTextRoundTrip: full-width punctuation and quotes are data.
func TestChineseTextRoundTrip(t *testing.T) {
	clock := newClock("2022-01-01")
	store := eventstore.NewMemory(clock.now)
	buildScenario(t, store, clock)
	db := tempDB(t)
	catchUp(t, db, store, RunnerOptions{})
	ctx := ctxT(t)

	task, err := db.GetTask(ctx, "hitech")
	if err != nil {
		t.Fatal(err)
	}
	if task.Narrative[0] != narrativeItem || task.Title != "国际科技创新中心建设和高新技术企业发展" {
		t.Errorf("narrative %q, title %q", task.Narrative[0], task.Title)
	}
	if len(task.CoDepartments) != 2 || task.CoDepartments[1] != "区财政局" {
		t.Errorf("co-departments %q", task.CoDepartments)
	}
	// The JSON columns hold the characters themselves, not \u escapes, so
	// sqlite3 users can read and search them.
	if got := queryString(t, db, `SELECT narrative FROM tasks WHERE id = 'hitech'`); !contains(got, "“两区”") {
		t.Errorf("narrative column %s", got)
	}
	hills, err := db.GetTask(ctx, "hills")
	if err != nil {
		t.Fatal(err)
	}
	if hills.Title != "“浅山区”违法项目整治" || hills.Problems[0].Cause != "部分项目涉及历史遗留问题，协调难度大。" {
		t.Errorf("hills: %q / %+v", hills.Title, hills.Problems)
	}
	list, err := db.ListTasks(ctx, TaskFilter{Department: "区财政局"})
	if err != nil || len(list) != 1 || list[0].ID != "hitech" {
		t.Errorf("list by co-department: %v %+v", err, list)
	}
	inds, err := db.ListIndicators(ctx, IndicatorFilter{Q: "高新技术"})
	if err != nil || len(inds) != 1 || inds[0].Value != "607" {
		t.Errorf("search: %v %+v", err, inds)
	}
}

func TestReplayAsOfAnswersBothClocks(t *testing.T) {
	clock := newClock("2022-01-01")
	store := eventstore.NewMemory(clock.now)
	sc := buildScenario(t, store, clock)
	dir := t.TempDir()
	ctx := ctxT(t)

	files := 0
	asOf := func(day string) *DB {
		d, _ := time.ParseInLocation(time.DateOnly, day, DefaultLocation)
		files++
		path := filepath.Join(dir, sprintf("%s-%d.db", day, files))
		if err := ReplayAsOf(ctx, store, d.Add(24*time.Hour-time.Nanosecond), path); err != nil {
			t.Fatal(err)
		}
		return openDB(t, path)
	}
	type want struct{ value, quality, ratio, display, status string }
	for _, tc := range []struct {
		day     string
		figures int
		want    want
	}{
		// What we knew at year end: the estimate, 84.8 %, not met.
		{"2022-12-31", 1, want{"610", "estimate", "0.848401", "84.8", "not_met"}},
		{"2023-02-20", 2, want{"605", "final", "0.841446", "84.1", "not_met"}},
		{"2023-03-31", 3, want{"607", "revised", "0.844228", "84.4", "not_met"}},
	} {
		db := asOf(tc.day)
		var got want
		if err := db.Reader().QueryRow(`SELECT value, quality_basis, completion_ratio, completion_pct_display, status
			FROM indicators WHERE id = 'hitech-firms'`).Scan(&got.value, &got.quality, &got.ratio, &got.display, &got.status); err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("as of %s: %+v, want %+v", tc.day, got, tc.want)
		}
		if n := queryString(t, db, `SELECT CAST(COUNT(*) AS TEXT) FROM figures WHERE indicator_id = 'hitech-firms'`); n != sprintf("%d", tc.figures) {
			t.Errorf("as of %s: %s figures, want %d", tc.day, n, tc.figures)
		}
		// The version-1 figure replays too.
		if v := queryString(t, db, `SELECT value_window FROM indicators WHERE id = 'dustfall'`); v != "2022-01..2022-11" {
			t.Errorf("as of %s: dustfall window %s", tc.day, v)
		}
	}
	// Deadlines are judged on the as-of day.
	if s := queryString(t, asOf("2022-12-31"), `SELECT deadline_status FROM tasks WHERE id = 'hitech'`); s != DeadlineDueSoon {
		t.Errorf("hitech deadline as of year end: %s", s)
	}

	// To a position: just after the estimate.
	var estimatePos uint64
	for _, m := range readAll(t, store) {
		if m.Events[0].ID == sc.estimate {
			estimatePos = m.Position
		}
	}
	path := filepath.Join(dir, "pos.db")
	if err := ReplayToPosition(ctx, store, estimatePos, path); err != nil {
		t.Fatal(err)
	}
	db := openDB(t, path)
	if v := queryString(t, db, `SELECT value FROM indicators WHERE id = 'hitech-firms'`); v != "610" {
		t.Errorf("at position %d: %s", estimatePos, v)
	}
	if cp, _ := db.Checkpoint(ctx); cp.Position != estimatePos {
		t.Errorf("checkpoint %d, want %d", cp.Position, estimatePos)
	}
}
