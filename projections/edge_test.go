package projections

import (
	"testing"

	"kpitrail/domain"
	"kpitrail/eventstore"
)

// TestFigureLifecycle covers what the scenario does not: a retraction that
// falls back, a report without an explicit supersedes, milestone targets,
// ranges, target revisions, restated bases, rates and new indicators.
func TestFigureLifecycle(t *testing.T) {
	clock := newClock("2022-02-01")
	store := eventstore.NewMemory(clock.now)
	w := &writer{t: t, store: store}
	self := domain.Source{Kind: domain.SourceSelfReported}
	y := func(year int) domain.Window { return domain.YearWindow(year) }
	fig := func(id string, win domain.Window, v string, q domain.Quality, supersedes string) string {
		return w.append(indRef(id), &domain.FigureReported{Window: win, Value: domain.MustDecimal(v), Quality: q, Source: self, Supersedes: supersedes})[0].ID
	}
	define := func(id string, year int, d domain.IndicatorDefined) {
		d.TaskID, d.Year = "env-"+sprintf("%d", year), year
		w.append(indRef(id), &d)
	}
	for _, year := range []int{2021, 2022} {
		w.append(taskRef(sprintf("env-%d", year)), &domain.TaskRegistered{Year: year, Dimension: "高质量 发展", Title: "污染防治攻坚", LeadDepartment: "区生态环境局"})
	}

	// Retraction falls back to the figure the retracted one superseded.
	define("firms", 2022, domain.IndicatorDefined{Name: "新增企业", Unit: "家", Direction: domain.HigherIsBetter, Formula: domain.FormulaRatio})
	w.append(indRef("firms"), &domain.IndicatorTargetSet{Value: dec("100")})
	w.append(indRef("firms"), &domain.IndicatorTargetSet{Value: dec("90"), Reason: "年中调整", Previous: &domain.Target{Value: dec("100")}, Revision: true})
	est := fig("firms", y(2022), "95", domain.QualityEstimate, "")
	prov := fig("firms", y(2022), "96", domain.QualityProvisional, "") // no explicit supersedes
	fin := fig("firms", y(2022), "97", domain.QualityFinal, prov)
	w.append(indRef("firms"), &domain.FigureRetracted{Retracts: fin, Window: y(2022), OldValue: domain.MustDecimal("97"), Reason: "口径错误"})

	// A qualitative indicator is met by its task's milestone.
	define("plan", 2022, domain.IndicatorDefined{Name: "实施方案", Direction: domain.Qualitative})
	w.append(indRef("plan"), &domain.IndicatorTargetSet{Milestone: "印发"})
	w.append(taskRef("env-2022"), &domain.TaskMilestoneReached{Milestone: "印发", ReachedOn: "2022-06-01"})

	// A range, and a rate compared in points against last year.
	define("pm25", 2022, domain.IndicatorDefined{Name: "PM2.5浓度", Unit: "微克/立方米", Direction: domain.WithinRange, Formula: domain.FormulaCap})
	w.append(indRef("pm25"), &domain.IndicatorTargetSet{Low: dec("20"), High: dec("35")})
	fig("pm25", y(2022), "31", domain.QualityFinal, "")
	define("good-days-2021", 2021, domain.IndicatorDefined{Key: "优良天数比例", Name: "优良天数比例", Unit: "%", Direction: domain.HigherIsBetter, IsRate: true})
	fig("good-days-2021", y(2021), "77.5", domain.QualityFinal, "")
	define("good-days", 2022, domain.IndicatorDefined{Key: "优良天数比例", Name: "优良天数比例", Unit: "%", Direction: domain.HigherIsBetter, IsRate: true})
	fig("good-days", y(2022), "80.0", domain.QualityFinal, "")

	// A restated base wins over last year's own figure; a zero base is "new".
	define("parks-2021", 2021, domain.IndicatorDefined{Key: "口袋公园", Name: "口袋公园", Unit: "个", Direction: domain.HigherIsBetter})
	fig("parks-2021", y(2021), "8", domain.QualityFinal, "")
	define("parks", 2022, domain.IndicatorDefined{Key: "口袋公园", Name: "口袋公园", Unit: "个", Direction: domain.HigherIsBetter})
	w.append(indRef("parks"), &domain.IndicatorBaseRecorded{Window: y(2021), Value: domain.MustDecimal("10"), Quality: domain.QualityFinal})
	w.append(indRef("parks"), &domain.IndicatorBaseRecorded{Window: y(2021), Value: domain.MustDecimal("6"), Quality: domain.QualityFinal,
		Restated: true, Previous: dec("10"), Reason: "按可比口径"})
	fig("parks", y(2022), "9", domain.QualityFinal, "")
	define("stations", 2022, domain.IndicatorDefined{Name: "充电站", Unit: "座", Direction: domain.HigherIsBetter})
	w.append(indRef("stations"), &domain.IndicatorBaseRecorded{Window: y(2021), Value: domain.MustDecimal("0"), Quality: domain.QualityFinal})
	fig("stations", y(2022), "5", domain.QualityFinal, "")
	define("dropped", 2022, domain.IndicatorDefined{Name: "已撤销", Direction: domain.HigherIsBetter})
	w.append(indRef("dropped"), &domain.IndicatorWithdrawn{Reason: "重复指标"})

	db := tempDB(t)
	catchUp(t, db, store, RunnerOptions{})
	q := func(query string, args ...any) string { return queryString(t, db, query, args...) }
	for _, c := range []struct{ got, want string }{
		{q(`SELECT state FROM figures WHERE event_id = ?`, est), "superseded"},
		{q(`SELECT state FROM figures WHERE event_id = ?`, prov), "current"},
		{q(`SELECT state FROM figures WHERE event_id = ?`, fin), "retracted"},
		{q(`SELECT value || ' ' || quality || ' ' || status || ' ' || completion_ratio FROM indicators WHERE id = 'firms'`), "96 provisional exceeded 1.066667"},
		{q(`SELECT group_concat(kind || ':' || COALESCE(old_value, '-') || '>' || COALESCE(new_value, '-'), ' ') FROM (SELECT * FROM figure_changes WHERE indicator_id = 'firms' ORDER BY position)`),
			"target_set:->100 target_revised:100>90 reported:->95 superseded:95>96 superseded:96>97 retracted:97>96"},
		{q(`SELECT status FROM indicators WHERE id = 'plan'`), "met"},
		{q(`SELECT status || ' ' || CAST(met AS TEXT) FROM indicators WHERE id = 'pm25'`), "met 1"},
		{q(`SELECT new_value FROM figure_changes WHERE indicator_id = 'pm25' AND kind = 'target_set'`), "[20,35]"},
		{q(`SELECT change_pp || ' ' || change_pct || ' ' || change_pct_display FROM indicator_years WHERE key = '优良天数比例' AND year = 2022`), "2.5 3.225806 3.2"},
		{q(`SELECT base || ' ' || base_source || ' ' || change_abs FROM indicator_years WHERE key = '口袋公园' AND year = 2022`), "6 recorded 3"},
		{q(`SELECT kind || ' ' || old_value || '>' || new_value FROM figure_changes WHERE indicator_id = 'parks' AND kind LIKE 'base%' ORDER BY position DESC LIMIT 1`), "base_restated 10>6"},
		{q(`SELECT CAST(is_new AS TEXT) || ' ' || COALESCE(change_pct, 'none') FROM indicator_years WHERE key = 'stations'`), "1 none"},
		{q(`SELECT CAST(COUNT(*) AS TEXT) FROM indicator_years WHERE key = 'dropped'`), "0"},
		{q(`SELECT CAST(indicators_total AS TEXT) FROM tasks WHERE id = 'env-2022'`), "6"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

// TestYearRowStandsForTheFirstDefined: when two active indicators of one
// year share a key, the year's row and next year's base are the one defined
// first, not the one whose id sorts first.
func TestYearRowStandsForTheFirstDefined(t *testing.T) {
	clock := newClock("2022-02-01")
	store := eventstore.NewMemory(clock.now)
	w := &writer{t: t, store: store}
	self := domain.Source{Kind: domain.SourceSelfReported}
	for _, year := range []int{2021, 2022} {
		w.append(taskRef(sprintf("env-%d", year)), &domain.TaskRegistered{Year: year, Dimension: "绿色 发展", Title: "节能减排", LeadDepartment: "区发展改革委"})
	}
	define := func(id string, year int) {
		w.append(indRef(id), &domain.IndicatorDefined{TaskID: sprintf("env-%d", year), Year: year, Key: "单位GDP能耗", Name: "单位GDP能耗",
			Unit: "吨标准煤/万元", Direction: domain.HigherIsBetter})
	}
	report := func(id string, year int, v string) {
		w.append(indRef(id), &domain.FigureReported{Window: domain.YearWindow(year), Value: domain.MustDecimal(v), Quality: domain.QualityFinal, Source: self})
	}
	define("zeta-2021", 2021) // defined first, sorts last
	define("alpha-2021", 2021)
	report("zeta-2021", 2021, "10")
	report("alpha-2021", 2021, "50")
	define("energy-2022", 2022)
	report("energy-2022", 2022, "12")

	db := tempDB(t)
	catchUp(t, db, store, RunnerOptions{})
	q := func(query string, args ...any) string { return queryString(t, db, query, args...) }
	if got := q(`SELECT indicator_id || ' ' || value FROM indicator_years WHERE key = '单位GDP能耗' AND year = 2021`); got != "zeta-2021 10" {
		t.Errorf("2021's row stands for %q, want the first defined: zeta-2021 10", got)
	}
	if got := q(`SELECT base || ' ' || change_abs FROM indicator_years WHERE key = '单位GDP能耗' AND year = 2022`); got != "10 2" {
		t.Errorf("2022 against %q (base, change), want 10 2: the first defined of 2021", got)
	}
}
