package projections

import (
	"testing"

	"kpitrail/domain"
	"kpitrail/eventstore"
)

// TestBufferedFiguresRollBackWithTheirMessage: within one batch, a message
// that marks a buffered figure and then breaks is dead-lettered and leaves
// the buffer as it was; the file equals one built a message per batch,
// where every figure is a row in the table before the next message reads it.
func TestBufferedFiguresRollBackWithTheirMessage(t *testing.T) {
	clock := newClock("2022-03-01")
	store := eventstore.NewMemory(clock.now)
	w := &writer{t: t, store: store}
	self := domain.Source{Kind: domain.SourceSelfReported}
	year := domain.YearWindow(2022)
	report := func(v string, q domain.Quality, supersedes string) *domain.FigureReported {
		return &domain.FigureReported{Window: year, Value: domain.MustDecimal(v), Quality: q, Source: self, Supersedes: supersedes}
	}
	w.append(taskRef("env"), &domain.TaskRegistered{Year: 2022, Dimension: "高质量 发展", Title: "污染防治攻坚", LeadDepartment: "区生态环境局"})
	w.append(indRef("firms"), &domain.IndicatorDefined{TaskID: "env", Year: 2022, Name: "新增企业", Unit: "家", Direction: domain.HigherIsBetter})
	a := w.append(indRef("firms"), report("95", domain.QualityEstimate, ""))[0].ID
	// Supersedes a (buffered), then names a figure that does not exist.
	w.append(indRef("firms"), report("96", domain.QualityProvisional, a),
		&domain.FigureCorrected{Corrects: "no-such-figure", Window: year, OldValue: domain.MustDecimal("1"), NewValue: domain.MustDecimal("2"),
			OldQuality: domain.QualityFinal, NewQuality: domain.QualityFinal, Reason: "核对"})
	// a is still current: this report supersedes it by window.
	c := w.append(indRef("firms"), report("97", domain.QualityFinal, ""))[0].ID
	// d supersedes c by name; a correction of d, retracted, brings d back.
	d := w.append(indRef("firms"), report("99", domain.QualityFinal, c))[0].ID
	fix := w.append(indRef("firms"), &domain.FigureCorrected{Corrects: d, Window: year, OldValue: domain.MustDecimal("99"),
		NewValue: domain.MustDecimal("98"), OldQuality: domain.QualityFinal, NewQuality: domain.QualityFinal, Reason: "笔误，更正"})[0].ID
	w.append(indRef("firms"), &domain.FigureRetracted{Retracts: fix, Window: year, OldValue: domain.MustDecimal("98"), Reason: "撤回"})

	one := tempDB(t)
	catchUp(t, one, store, RunnerOptions{})
	each := tempDB(t)
	catchUp(t, each, store, RunnerOptions{BatchSize: 1})
	sameContent(t, each, one)

	q := func(query string, args ...any) string { return queryString(t, one, query, args...) }
	if got := q(`SELECT COUNT(*) FROM dead_letters`); got != "1" {
		t.Fatalf("%s dead letters, want 1", got)
	}
	if got := q(`SELECT group_concat(value || ':' || state, ' ') FROM (SELECT * FROM figures ORDER BY position)`); got != "95:superseded 97:superseded 99:current 98:retracted" {
		t.Errorf("figures: %s", got)
	}
	if got := q(`SELECT group_concat(kind || ':' || COALESCE(old_value, '-') || '>' || COALESCE(new_value, '-'), ' ') FROM (SELECT * FROM figure_changes ORDER BY position)`); got != "reported:->95 superseded:95>97 superseded:97>99 corrected:99>98 retracted:98>99" {
		t.Errorf("changes: %s", got)
	}
}

// TestReportNamingAReplacedFigureIsDeadLetteredWhateverTheBatch: a report
// that names a figure no longer current would leave a window with two
// current figures; the state machine refuses it, so it is dead-lettered
// whether the figure it names is a row or still buffered, and a later
// report that names nothing replaces the one current figure.
func TestReportNamingAReplacedFigureIsDeadLetteredWhateverTheBatch(t *testing.T) {
	clock := newClock("2022-03-01")
	store := eventstore.NewMemory(clock.now)
	w := &writer{t: t, store: store}
	year := domain.YearWindow(2022)
	report := func(v, supersedes string) string {
		return w.append(indRef("firms"), &domain.FigureReported{Window: year, Value: domain.MustDecimal(v), Quality: domain.QualityEstimate,
			Source: domain.Source{Kind: domain.SourceSelfReported}, Supersedes: supersedes})[0].ID
	}
	w.append(taskRef("env"), &domain.TaskRegistered{Year: 2022, Dimension: "高质量 发展", Title: "污染防治攻坚", LeadDepartment: "区生态环境局"})
	w.append(indRef("firms"), &domain.IndicatorDefined{TaskID: "env", Year: 2022, Name: "新增企业", Unit: "家", Direction: domain.HigherIsBetter})
	a := report("1", "")
	report("2", a)
	report("3", a) // names a figure already superseded
	report("4", "")

	all := tempDB(t)
	catchUp(t, all, store, RunnerOptions{})
	for _, size := range []int{1, 3, 4} {
		db := tempDB(t)
		catchUp(t, db, store, RunnerOptions{BatchSize: size})
		sameContent(t, all, db)
	}
	if got := queryString(t, all, `SELECT group_concat(value || ':' || state, ' ') FROM (SELECT * FROM figures ORDER BY position)`); got != "1:superseded 2:superseded 4:current" {
		t.Errorf("figures: %s", got)
	}
	if got := queryString(t, all, `SELECT kind || ' ' || error FROM dead_letters`); !contains(got, "invariant") || !contains(got, "not_current") {
		t.Errorf("dead letter: %s", got)
	}
}
