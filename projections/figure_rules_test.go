package projections

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"kpitrail/app"
	"kpitrail/domain"
	"kpitrail/eventstore"
)

// commands runs domain commands through the command service, as every
// transport does, on an in-memory log.
type commands struct {
	t     *testing.T
	store *eventstore.Memory
	svc   *app.Service
	n     int
}

func newCommands(t *testing.T, day string) *commands {
	store := eventstore.NewMemory(newClock(day).now)
	return &commands{t: t, store: store, svc: app.NewService(store)}
}

// do runs c and returns its event ids; a refusal fails the test.
func (c *commands) do(cmd domain.Command) []string {
	c.t.Helper()
	ids, err := c.try(cmd)
	if err != nil {
		c.t.Fatalf("%s: %v", cmd.CommandName(), err)
	}
	return ids
}

func (c *commands) try(cmd domain.Command) ([]string, error) {
	c.n++
	res, err := c.svc.Execute(context.Background(), domain.Meta{Actor: "office:考评办", CommandID: "c-" + strconv.Itoa(c.n), Source: "test"}, cmd, app.Options{})
	return res.EventIDs, err
}

// liveAndRebuilt follows the log in batches of one and rebuilds it, checks
// the two files agree and nothing was dead-lettered, and returns the live one.
func liveAndRebuilt(t *testing.T, store Log) *DB {
	t.Helper()
	live := tempDB(t)
	catchUp(t, live, store, RunnerOptions{BatchSize: 1})
	path := filepath.Join(t.TempDir(), "rebuilt.db")
	if err := Rebuild(ctxT(t), store, path, RebuildOptions{Now: fixedNow}); err != nil {
		t.Fatal(err)
	}
	rebuilt := openDB(t, path)
	sameContent(t, live, rebuilt)
	if n, _ := live.DeadLetterCount(ctxT(t)); n != 0 {
		t.Fatalf("%d dead letters: %s", n, queryString(t, live, `SELECT group_concat(error, '; ') FROM dead_letters`))
	}
	return live
}

func defineHitech(c *commands, year int, id string) {
	c.do(domain.RegisterTask{TaskID: "hitech-" + strconv.Itoa(year), Year: year, Title: "国际科技创新中心建设和高新技术企业发展", LeadDepartment: "区科委"})
	c.do(domain.DefineIndicator{IndicatorID: id, TaskID: "hitech-" + strconv.Itoa(year), Key: "高新技术企业保有量", Name: "高新技术企业保有量",
		Unit: "家", Direction: domain.HigherIsBetter})
	c.do(domain.SetTarget{IndicatorID: id, Value: dec("719")})
}

// TestRetractedCorrectionRestoresTheCorrectedFigure: 610 (estimate), 615
// final, corrected to 612, the correction retracted. The read models hold
// 615 current, as the aggregate does (domain test of the same name); the
// commands the aggregate then accepts are applied, never dead-lettered,
// live and after a rebuild.
func TestRetractedCorrectionRestoresTheCorrectedFigure(t *testing.T) {
	c := newCommands(t, "2022-12-01")
	defineHitech(c, 2022, "firms")
	kewei := domain.Source{Kind: domain.SourceAgency, Name: "市科委"}
	year := domain.YearWindow(2022)
	est := c.do(domain.ReportFigure{IndicatorID: "firms", Window: year, Value: dec("610"), Quality: domain.QualityEstimate, Source: kewei})[0]
	fin := c.do(domain.ReportFigure{IndicatorID: "firms", Window: year, Value: dec("615"), Quality: domain.QualityFinal, Source: kewei})[0]
	fix := c.do(domain.CorrectFigure{IndicatorID: "firms", Corrects: fin, Value: dec("612"), Reason: "笔误"})[0]
	c.do(domain.RetractFigure{IndicatorID: "firms", Retracts: fix, Reason: "更正有误，撤回"})

	db := liveAndRebuilt(t, c.store)
	if got := queryString(t, db, `SELECT value || ' ' || quality || ' ' || value_event_id FROM indicators WHERE id = 'firms'`); got != "615 final "+fin {
		t.Fatalf("after the retraction the read models show %s, want 615 final %s", got, fin)
	}
	if got := queryString(t, db, `SELECT new_value FROM figure_changes WHERE kind = 'retracted'`); got != "615" {
		t.Errorf("the audit says %s became current again, want 615", got)
	}

	// What the aggregate decides next, the read models take.
	if _, err := c.try(domain.ReportFigure{IndicatorID: "firms", Window: year, Value: dec("613"), Quality: domain.QualityFinal, Source: kewei}); domain.ErrorCode(err) != domain.ERULE {
		t.Fatalf("a second final report: %v, want a rule violation", err)
	}
	if _, err := c.try(domain.CorrectFigure{IndicatorID: "firms", Corrects: est, Value: dec("611"), Reason: "核对"}); domain.ErrorCode(err) != domain.ERULE {
		t.Fatalf("correcting the superseded estimate: %v, want a rule violation", err)
	}
	c.do(domain.RetractFigure{IndicatorID: "firms", Retracts: fin, Reason: "市科委尚未反馈"})
	db = liveAndRebuilt(t, c.store)
	if got := queryString(t, db, `SELECT group_concat(value || ':' || state, ' ') FROM (SELECT * FROM figures ORDER BY position)`); got != "610:current 615:retracted 612:retracted" {
		t.Errorf("figures: %s", got)
	}
}

// TestPartYearFinalFigureLeavesTheYearOpen: a final 1-11月 figure (a
// statistics bureau's cumulative figure) does not close the year: the
// status is judged against the expected-to-date share, which is shown.
func TestPartYearFinalFigureLeavesTheYearOpen(t *testing.T) {
	c := newCommands(t, "2022-12-05")
	c.do(domain.RegisterTask{TaskID: "upgrade", Year: 2022, Title: "疏解整治促提升专项行动", LeadDepartment: "区城管委"})
	c.do(domain.DefineIndicator{IndicatorID: "demolition", TaskID: "upgrade", Name: "拆除违法建设", Unit: "万平方米",
		Direction: domain.HigherIsBetter, Additive: true})
	c.do(domain.SetTarget{IndicatorID: "demolition", Value: dec("180")})
	stats := domain.Source{Kind: domain.SourceStatistics, Name: "区统计局"}
	jan2nov := domain.Window{Year: 2022, FromMonth: 1, ToMonth: 11}
	c.do(domain.ReportFigure{IndicatorID: "demolition", Window: jan2nov, Value: dec("150"), Quality: domain.QualityFinal, Source: stats})
	db := liveAndRebuilt(t, c.store)
	// 180 × 11/12 = 165 expected by November; 150 is behind, not "not met".
	if got := queryString(t, db, `SELECT year_closed || ' ' || status || ' ' || expected_to_date || ' ' || expected_share_display || ' ' || quality_basis
		FROM indicators WHERE id = 'demolition'`); got != "0 behind 165 91.7 final" {
		t.Errorf("a final 1-11月 figure: %s, want 0 behind 165 91.7 final", got)
	}
	c.do(domain.ReportFigure{IndicatorID: "demolition", Window: domain.YearWindow(2022), Value: dec("191.8"), Quality: domain.QualityFinal, Source: stats})
	db = liveAndRebuilt(t, c.store)
	if got := queryString(t, db, `SELECT year_closed || ' ' || status || ' ' || completion_pct_display || ' ' || COALESCE(expected_to_date, '-')
		FROM indicators WHERE id = 'demolition'`); got != "1 exceeded 106.6 -" {
		t.Errorf("the whole year: %s, want 1 exceeded 106.6 -", got)
	}
}

// TestFirstBaseRestatementTakesEffect: last year's indicator has 12 for
// 1-11月; a base of 11 recorded on this year's indicator for that window is
// what year over year compares with from the first time it is recorded,
// and the audit shows the comparison that changed, 12 → 11.
func TestFirstBaseRestatementTakesEffect(t *testing.T) {
	c := newCommands(t, "2023-12-05")
	self := domain.Source{Kind: domain.SourceSelfReported}
	for _, y := range []int{2022, 2023} {
		task := "safety-" + strconv.Itoa(y)
		c.do(domain.RegisterTask{TaskID: task, Year: y, Title: "安全生产", LeadDepartment: "区应急局"})
		c.do(domain.DefineIndicator{IndicatorID: "accidents-" + strconv.Itoa(y), TaskID: task, Key: "生产安全事故起数", Name: "生产安全事故起数",
			Unit: "起", Direction: domain.LowerIsBetter, Formula: domain.FormulaCap})
	}
	c.do(domain.ReportFigure{IndicatorID: "accidents-2022", Window: domain.Window{Year: 2022, FromMonth: 1, ToMonth: 11}, Value: dec("12"),
		Quality: domain.QualityFinal, Source: self})
	c.do(domain.ReportFigure{IndicatorID: "accidents-2023", Window: domain.Window{Year: 2023, FromMonth: 1, ToMonth: 11}, Value: dec("10"),
		Quality: domain.QualityFinal, Source: self})
	history := `SELECT base || ' ' || base_source || ' ' || change_abs || ' ' || change_pct_display FROM indicator_years WHERE key = '生产安全事故起数' AND year = 2023`
	db := liveAndRebuilt(t, c.store)
	if got := queryString(t, db, history); got != "12 indicator -2 -16.7" {
		t.Fatalf("before the restatement: %s", got)
	}
	base := domain.RecordBase{IndicatorID: "accidents-2023", Window: domain.Window{Year: 2022, FromMonth: 1, ToMonth: 11}, Value: dec("11"),
		Quality: domain.QualityFinal, Source: &domain.Source{Kind: domain.SourceStatistics, Name: "区统计局"}, Reason: "按可比口径"}
	c.do(base)
	db = liveAndRebuilt(t, c.store)
	if got := queryString(t, db, history); got != "11 recorded -1 -9.1" {
		t.Errorf("after the first restatement: %s, want 11 recorded -1 -9.1", got)
	}
	audit := `SELECT group_concat(kind || ' ' || old_value || '→' || new_value, '; ') FROM figure_changes WHERE kind LIKE 'base%'`
	if got := queryString(t, db, audit); got != "base_restated 12→11" {
		t.Errorf("audit: %s, want base_restated 12→11", got)
	}
	if got := queryString(t, db, `SELECT restated FROM bases`); got != "1" {
		t.Errorf("bases.restated = %s", got)
	}
	// The same value again changes nothing the comparison shows, and says so.
	c.do(base)
	db = liveAndRebuilt(t, c.store)
	if got := queryString(t, db, history); got != "11 recorded -1 -9.1" {
		t.Errorf("after repeating it: %s", got)
	}
	if got := queryString(t, db, audit); got != "base_restated 12→11; base_restated 11→11" {
		t.Errorf("audit: %s", got)
	}
}

// TestSnapshotRuleIsTheDomains: a snapshot the domain would refuse (one
// that moves a year's snapshots back, or is recorded on another year's
// aggregate) is dead-lettered by the read models and ignored by the
// aggregate; the command refuses the same.
func TestSnapshotRuleIsTheDomains(t *testing.T) {
	store := eventstore.NewMemory(newClock("2023-01-05").now)
	w := &writer{t: t, store: store}
	hash := func(c string) string { return strings.Repeat(c, 64) }
	snap := func(year int, pos uint64) *domain.SnapshotRecorded {
		return &domain.SnapshotRecorded{Year: year, Position: pos, ContentHash: hash("a"), Root: hash("b"), Aggregates: 1}
	}
	y2022 := domain.AggregateRef{Type: domain.AggregateSnapshot, ID: domain.SnapshotID(2022)}
	w.append(y2022, snap(2022, 5))
	w.append(y2022, snap(2022, 3)) // backwards
	w.append(y2022, snap(2021, 9)) // another year's
	w.append(y2022, snap(2022, 7))
	db := tempDB(t)
	catchUp(t, db, store, RunnerOptions{})
	if got := queryString(t, db, `SELECT group_concat(position, ' ') FROM (SELECT position FROM snapshots ORDER BY event_position)`); got != "5 7" {
		t.Errorf("snapshots %s, want 5 7", got)
	}
	if got := queryString(t, db, `SELECT COUNT(*) FROM dead_letters WHERE kind = 'invariant'`); got != "2" {
		t.Errorf("%s dead letters, want 2", got)
	}
	agg := domain.NewSnapshot(y2022.ID)
	envs, _ := store.Load(context.Background(), y2022)
	for _, e := range envs {
		ev, _ := domain.Decode(e)
		agg.Apply(domain.Recorded{Envelope: e, Data: ev})
	}
	c := domain.RecordSnapshot{Year: 2022, Position: 6, ContentHash: hash("a"), Root: hash("b")}
	if _, err := domain.Decide(c, agg, nil); domain.ErrorCode(err) != domain.ERULE {
		t.Errorf("a snapshot before position 7: %v, want refused", err)
	}
	c.Position = 8
	if _, err := domain.Decide(c, agg, nil); err != nil {
		t.Errorf("a snapshot after position 7: %v", err)
	}
}
