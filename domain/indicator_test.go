package domain_test

import (
	"strings"
	"testing"

	"kpitrail/domain"
)

// Indicator fixtures from the seed. The given/when/then runner and the task
// fixtures are in task_test.go; the n-th given event is known as "ev-n".

const (
	hntechID   = "i-hntech"    // 高新技术企业保有量: 719 required, about 610 expected
	goodDaysID = "i-good-days" // 优良天数比例: 258 of 333 days
	accidentID = "i-accidents" // 生产安全事故: 13 in 1-11月, 16 the year before
)

var (
	year2022    = domain.YearWindow(2022)
	jan2Nov2022 = domain.Window{Year: 2022, FromMonth: 1, ToMonth: 11}
	jan2Nov2021 = domain.Window{Year: 2021, FromMonth: 1, ToMonth: 11}
	kewei       = domain.Source{Kind: domain.SourceAgency, Name: "市科委"}
	statsBureau = domain.Source{Kind: domain.SourceStatistics, Name: "区统计局"}
	selfReport  = domain.Source{Kind: domain.SourceSelfReported}
)

func dec(s string) *domain.Decimal { d := domain.MustDecimal(s); return &d }
func val(s string) domain.Decimal  { return domain.MustDecimal(s) }

func hntechDefined() *domain.IndicatorDefined {
	return &domain.IndicatorDefined{TaskID: taskID, Year: 2022, Key: hntechID, Name: "高新技术企业保有量", Unit: "家",
		Direction: domain.HigherIsBetter, Formula: domain.FormulaRatio, Cadence: "yearly"}
}

func hntechTarget() *domain.IndicatorTargetSet {
	return &domain.IndicatorTargetSet{Value: dec("719"), Source: &domain.Source{Kind: domain.SourceAgency, Name: "市级下达"}}
}

// hntechEstimate is "预计我区2022年保有量为610家左右（本数据为年度数据，预计2023年初由市科委反馈）".
func hntechEstimate() *domain.FigureReported {
	return &domain.FigureReported{Window: year2022, Value: val("610"), Quality: domain.QualityEstimate, Source: kewei,
		FinalDue: "2023-03-31", Note: "本数据为年度数据，预计2023年初由市科委反馈"}
}

func hntechFinal(supersedes string) *domain.FigureReported {
	return &domain.FigureReported{Window: year2022, Value: val("612"), Quality: domain.QualityFinal, Source: kewei, Supersedes: supersedes}
}

// hntech is the indicator with its target and the estimate as "ev-3".
func hntech(more ...domain.Event) []domain.Event {
	return append([]domain.Event{hntechDefined(), hntechTarget(), hntechEstimate()}, more...)
}

func goodDaysDefined() *domain.IndicatorDefined {
	return &domain.IndicatorDefined{TaskID: taskID, Year: 2022, Key: goodDaysID, Name: "优良天数比例", Unit: "%",
		Direction: domain.HigherIsBetter, Formula: domain.FormulaRatio, IsRate: true}
}

func accidentsDefined() *domain.IndicatorDefined {
	return &domain.IndicatorDefined{TaskID: taskID, Year: 2022, Key: accidentID, Name: "生产安全事故起数", Unit: "起",
		Direction: domain.LowerIsBetter, Formula: domain.FormulaTwoMinus, Additive: true, Cadence: "monthly"}
}

func asIndicator(t *testing.T, a domain.Aggregate) *domain.Indicator {
	t.Helper()
	in, ok := a.(*domain.Indicator)
	if !ok {
		t.Fatalf("aggregate is %T, want *domain.Indicator", a)
	}
	return in
}

func figureIs(t *testing.T, a domain.Aggregate, id string, value string, q domain.Quality, s domain.FigureState) {
	t.Helper()
	f, ok := asIndicator(t, a).Figure(id)
	if !ok {
		t.Fatalf("figure %s not kept", id)
	}
	if f.Value.String() != value || f.Quality != q || f.State != s {
		t.Errorf("figure %s = %s %s %s, want %s %s %s", id, f.Value, f.Quality, f.State, value, q, s)
	}
}

func currentIs(t *testing.T, a domain.Aggregate, w domain.Window, id string) {
	t.Helper()
	f, ok := asIndicator(t, a).Current(w)
	switch {
	case id == "" && ok:
		t.Errorf("window %s has current figure %s, want none", w.Key(), f.EventID)
	case id != "" && !ok:
		t.Errorf("window %s has no current figure, want %s", w.Key(), id)
	case id != "" && f.EventID != id:
		t.Errorf("window %s current figure = %s, want %s", w.Key(), f.EventID, id)
	}
}

func TestIndicatorDefine(t *testing.T) {
	task := []domain.Event{registered()}
	hn := domain.DefineIndicator{IndicatorID: hntechID, TaskID: taskID, Name: "高新技术企业保有量", Unit: "家",
		Direction: domain.HigherIsBetter, Cadence: "yearly"}
	acc := domain.DefineIndicator{IndicatorID: accidentID, TaskID: taskID, Name: "生产安全事故起数", Unit: "起",
		Direction: domain.LowerIsBetter}
	withHn := func(f func(*domain.DefineIndicator)) domain.DefineIndicator { c := hn; f(&c); return c }
	withAcc := func(f func(*domain.DefineIndicator)) domain.DefineIndicator { c := acc; f(&c); return c }

	runGWT(t, []gwtCase{
		{
			name:      "higher is better defaults to the ratio formula; year from the task; key from the id",
			givenTask: task,
			when:      hn,
			then:      []domain.Event{hntechDefined()},
			after: func(t *testing.T, a domain.Aggregate) {
				in := asIndicator(t, a)
				if !in.Exists() || in.TaskID() != taskID || in.Year() != 2022 || in.Unit() != "家" || in.Direction() != domain.HigherIsBetter {
					t.Errorf("indicator = exists %v task %s year %d unit %s direction %s", in.Exists(), in.TaskID(), in.Year(), in.Unit(), in.Direction())
				}
			},
		},
		{
			name:      "a % unit makes a rate; an explicit key links years",
			givenTask: task,
			when: domain.DefineIndicator{IndicatorID: goodDaysID, TaskID: taskID, Key: goodDaysID, Name: "优良天数比例",
				Unit: "%", Direction: domain.HigherIsBetter},
			then: []domain.Event{goodDaysDefined()},
		},
		{
			name:      "lower is better without a formula",
			givenTask: task,
			when:      acc,
			refused:   refused(domain.EINVALID, "formula", "required"),
		},
		{
			name:      "lower is better with an explicit formula",
			givenTask: task,
			when: withAcc(func(c *domain.DefineIndicator) {
				c.Formula, c.Additive, c.Cadence = domain.FormulaTwoMinus, true, "monthly"
			}),
			then: []domain.Event{accidentsDefined()},
		},
		{
			name:      "lower is better cannot use the ratio formula",
			givenTask: task,
			when:      withAcc(func(c *domain.DefineIndicator) { c.Formula = domain.FormulaRatio }),
			refused:   refused(domain.EINVALID, "formula", "direction"),
		},
		{
			name:      "reduction without a baseline",
			givenTask: task,
			when:      withAcc(func(c *domain.DefineIndicator) { c.Formula = domain.FormulaReduction }),
			refused:   refused(domain.EINVALID, "baseline", "required"),
		},
		{
			name:      "reduction with a baseline",
			givenTask: task,
			when: withAcc(func(c *domain.DefineIndicator) {
				c.Formula, c.Baseline = domain.FormulaReduction, dec("16")
			}),
			then: []domain.Event{&domain.IndicatorDefined{TaskID: taskID, Year: 2022, Key: accidentID, Name: "生产安全事故起数",
				Unit: "起", Direction: domain.LowerIsBetter, Formula: domain.FormulaReduction, Baseline: dec("16")}},
		},
		{
			name:      "unknown formula",
			givenTask: task,
			when:      withAcc(func(c *domain.DefineIndicator) { c.Formula = "2-A/T" }),
			refused:   refused(domain.EINVALID, "formula", "enum"),
		},
		{
			name:      "unknown direction",
			givenTask: task,
			when:      withHn(func(c *domain.DefineIndicator) { c.Direction = "up" }),
			refused:   refused(domain.EINVALID, "direction", "enum"),
		},
		{
			name:      "a range is judged in or out of its bounds, never by a ratio",
			givenTask: task,
			when: withHn(func(c *domain.DefineIndicator) {
				c.Direction, c.Formula = domain.WithinRange, domain.FormulaRatio
			}),
			refused: refused(domain.EINVALID, "formula", "direction"),
		},
		{
			name:      "unknown cadence",
			givenTask: task,
			when:      withHn(func(c *domain.DefineIndicator) { c.Cadence = "weekly" }),
			refused:   refused(domain.EINVALID, "cadence", "enum"),
		},
		{
			name:      "unknown rounding",
			givenTask: task,
			when:      withHn(func(c *domain.DefineIndicator) { c.Rounding = "四舍五入" }),
			refused:   refused(domain.EINVALID, "rounding", "enum"),
		},
		{
			name:    "unknown task",
			when:    hn,
			refused: refused(domain.ENOTFOUND, "", ""),
		},
		{
			name:      "withdrawn task",
			givenTask: []domain.Event{registered(), &domain.TaskWithdrawn{Reason: "重复登记"}},
			when:      hn,
			refused:   refused(domain.ERULE, "task_id", "task_withdrawn"),
		},
		{
			name:      "defined twice is a conflict carrying the current version",
			given:     hntech(),
			givenTask: task,
			when:      hn,
			refused:   &domain.Error{Code: domain.ECONFLICT, Field: "indicator_id", Rule: "exists", Version: 3},
		},
	})
}

func TestIndicatorTarget(t *testing.T) {
	rangeDefined := &domain.IndicatorDefined{TaskID: taskID, Year: 2022, Key: "i-staff", Name: "专业技术人员占编制总额比例",
		Unit: "%", Direction: domain.WithinRange, IsRate: true}
	plan := &domain.IndicatorDefined{TaskID: taskID, Year: 2022, Key: "i-plan", Name: "新型智慧城市实施方案",
		Direction: domain.Qualitative}

	runGWT(t, []gwtCase{
		{
			name:  "the first target",
			given: []domain.Event{hntechDefined()},
			when:  domain.SetTarget{IndicatorID: hntechID, Value: dec("719"), Source: &domain.Source{Kind: domain.SourceAgency, Name: "市级下达"}},
			then:  []domain.Event{hntechTarget()},
			after: func(t *testing.T, a domain.Aggregate) {
				if tg, ok := asIndicator(t, a).Target(); !ok || tg.Value.String() != "719" {
					t.Errorf("target = %+v %v, want 719", tg, ok)
				}
			},
		},
		{
			name:    "a revision needs a reason",
			given:   []domain.Event{hntechDefined(), hntechTarget()},
			when:    domain.SetTarget{IndicatorID: hntechID, Value: dec("650")},
			refused: refused(domain.EINVALID, "reason", "required"),
		},
		{
			name:  "a revision carries the target it replaces",
			given: []domain.Event{hntechDefined(), hntechTarget()},
			when:  domain.SetTarget{IndicatorID: hntechID, Value: dec("650"), Reason: "市科委调整下达任务"},
			then: []domain.Event{&domain.IndicatorTargetSet{Value: dec("650"), Revision: true,
				Previous: &domain.Target{Value: dec("719")}, Reason: "市科委调整下达任务"}},
			after: func(t *testing.T, a domain.Aggregate) {
				if tg, _ := asIndicator(t, a).Target(); tg.Value.String() != "650" {
					t.Errorf("target = %s, want 650", tg.Value)
				}
			},
		},
		{
			name:    "a count target is a whole number",
			given:   []domain.Event{hntechDefined()},
			when:    domain.SetTarget{IndicatorID: hntechID, Value: dec("719.5")},
			refused: refused(domain.EINVALID, "value", "integer_count"),
		},
		{
			name:    "no negative target without allow_negative",
			given:   []domain.Event{hntechDefined()},
			when:    domain.SetTarget{IndicatorID: hntechID, Value: dec("-1")},
			refused: refused(domain.EINVALID, "value", "non_negative"),
		},
		{
			name:    "a quantitative target needs a value",
			given:   []domain.Event{hntechDefined()},
			when:    domain.SetTarget{IndicatorID: hntechID, Milestone: "达标"},
			refused: refused(domain.EINVALID, "value", "required"),
		},
		{
			name:  "a range target",
			given: []domain.Event{rangeDefined},
			when:  domain.SetTarget{IndicatorID: hntechID, Low: dec("85"), High: dec("95")},
			then:  []domain.Event{&domain.IndicatorTargetSet{Low: dec("85"), High: dec("95")}},
		},
		{
			name:    "a range target needs both ends",
			given:   []domain.Event{rangeDefined},
			when:    domain.SetTarget{IndicatorID: hntechID, Low: dec("85")},
			refused: refused(domain.EINVALID, "low", "required"),
		},
		{
			name:    "a range target in order",
			given:   []domain.Event{rangeDefined},
			when:    domain.SetTarget{IndicatorID: hntechID, Low: dec("95"), High: dec("85")},
			refused: refused(domain.EINVALID, "low", "order"),
		},
		{
			name:  "a qualitative target is a milestone",
			given: []domain.Event{plan},
			when:  domain.SetTarget{IndicatorID: hntechID, Milestone: "印发"},
			then:  []domain.Event{&domain.IndicatorTargetSet{Milestone: "印发"}},
		},
		{
			name:    "a qualitative target without a milestone",
			given:   []domain.Event{plan},
			when:    domain.SetTarget{IndicatorID: hntechID, Value: dec("1")},
			refused: refused(domain.EINVALID, "milestone", "required"),
		},
		{
			name:    "undefined indicator",
			when:    domain.SetTarget{IndicatorID: hntechID, Value: dec("719")},
			refused: refused(domain.ENOTFOUND, "", ""),
		},
	})
}

func TestIndicatorBase(t *testing.T) {
	base16 := &domain.IndicatorBaseRecorded{Window: jan2Nov2021, Value: val("16"), Quality: domain.QualityFinal, Source: &statsBureau}
	runGWT(t, []gwtCase{
		{
			name:  "the 1-11月 base of the year before (13 accidents, 3 fewer: 16)",
			given: []domain.Event{accidentsDefined()},
			when: domain.RecordBase{IndicatorID: accidentID, Window: jan2Nov2021, Value: dec("16"),
				Quality: domain.QualityFinal, Source: &statsBureau},
			then: []domain.Event{base16},
		},
		{
			name:  "a year-only window is the whole year",
			given: []domain.Event{accidentsDefined()},
			when:  domain.RecordBase{IndicatorID: accidentID, Window: domain.Window{Year: 2021}, Value: dec("17"), Quality: domain.QualityFinal},
			then:  []domain.Event{&domain.IndicatorBaseRecorded{Window: domain.YearWindow(2021), Value: val("17"), Quality: domain.QualityFinal}},
		},
		{
			name:    "a restated base needs a reason",
			given:   []domain.Event{accidentsDefined(), base16},
			when:    domain.RecordBase{IndicatorID: accidentID, Window: jan2Nov2021, Value: dec("15"), Quality: domain.QualityFinal},
			refused: refused(domain.EINVALID, "reason", "required"),
		},
		{
			name:  "a restated base (按可比口径) keeps the one it replaces",
			given: []domain.Event{accidentsDefined(), base16},
			when: domain.RecordBase{IndicatorID: accidentID, Window: jan2Nov2021, Value: dec("15"),
				Quality: domain.QualityFinal, Reason: "按可比口径调整"},
			then: []domain.Event{&domain.IndicatorBaseRecorded{Window: jan2Nov2021, Value: val("15"), Quality: domain.QualityFinal,
				Restated: true, Previous: dec("16"), Reason: "按可比口径调整"}},
		},
		{
			name:  "another window is not a restatement",
			given: []domain.Event{accidentsDefined(), base16},
			when:  domain.RecordBase{IndicatorID: accidentID, Window: domain.YearWindow(2021), Value: dec("17"), Quality: domain.QualityFinal},
			then:  []domain.Event{&domain.IndicatorBaseRecorded{Window: domain.YearWindow(2021), Value: val("17"), Quality: domain.QualityFinal}},
		},
		{
			name:    "a base comes from before the indicator's year",
			given:   []domain.Event{accidentsDefined()},
			when:    domain.RecordBase{IndicatorID: accidentID, Window: jan2Nov2022, Value: dec("13"), Quality: domain.QualityFinal},
			refused: refused(domain.EINVALID, "window.year", "before_year"),
		},
		{
			name:    "a base in a count unit is a whole number",
			given:   []domain.Event{accidentsDefined()},
			when:    domain.RecordBase{IndicatorID: accidentID, Window: jan2Nov2021, Value: dec("16.5"), Quality: domain.QualityFinal},
			refused: refused(domain.EINVALID, "value", "integer_count"),
		},
		{
			name:    "quality is required",
			given:   []domain.Event{accidentsDefined()},
			when:    domain.RecordBase{IndicatorID: accidentID, Window: jan2Nov2021, Value: dec("16")},
			refused: refused(domain.EINVALID, "quality", "enum"),
		},
	})
}

func TestIndicatorReportFigure(t *testing.T) {
	upgrade := &domain.IndicatorDefined{TaskID: taskID, Year: 2022, Key: "i-upgrade", Name: "一般制造业转型提质", Unit: "家",
		Direction: domain.HigherIsBetter, Formula: domain.FormulaRatio}
	growth := &domain.IndicatorDefined{TaskID: taskID, Year: 2022, Key: "i-gdp-growth", Name: "地区生产总值增速", Unit: "%",
		Direction: domain.HigherIsBetter, Formula: domain.FormulaRatio, IsRate: true, AllowNegative: true}
	report := func(v string) domain.ReportFigure {
		return domain.ReportFigure{IndicatorID: hntechID, Window: year2022, Value: dec(v), Quality: domain.QualityFinal, Source: selfReport}
	}
	days := func(value *domain.Decimal, num, den string) domain.ReportFigure {
		return domain.ReportFigure{IndicatorID: goodDaysID, Window: year2022, Value: value, Numerator: dec(num),
			Denominator: dec(den), Quality: domain.QualityFinal, Source: domain.Source{Kind: domain.SourcePublication, Name: "市生态环境局"}}
	}
	daysEvent := func(value string) *domain.FigureReported {
		return &domain.FigureReported{Window: year2022, Value: val(value), Numerator: dec("258"), Denominator: dec("333"),
			Quality: domain.QualityFinal, Source: domain.Source{Kind: domain.SourcePublication, Name: "市生态环境局"}}
	}

	runGWT(t, []gwtCase{
		{
			name:  "an estimate with the agency that will give the final figure",
			given: []domain.Event{hntechDefined(), hntechTarget()},
			when: domain.ReportFigure{IndicatorID: hntechID, Window: domain.Window{Year: 2022}, Value: dec("610"),
				Quality: domain.QualityEstimate, Source: kewei, FinalDue: "2023-03-31", Note: "本数据为年度数据，预计2023年初由市科委反馈"},
			then: []domain.Event{hntechEstimate()},
			after: func(t *testing.T, a domain.Aggregate) {
				figureIs(t, a, "ev-3", "610", domain.QualityEstimate, domain.FigureStateCurrent)
				currentIs(t, a, year2022, "ev-3")
			},
		},
		{
			name:    "the window's year must be the indicator's year",
			given:   []domain.Event{hntechDefined()},
			when:    domain.ReportFigure{IndicatorID: hntechID, Window: domain.YearWindow(2023), Value: dec("610"), Quality: domain.QualityEstimate, Source: kewei},
			refused: refused(domain.EINVALID, "window.year", "assessment_year"),
		},
		{
			name:    "a window runs forward",
			given:   []domain.Event{hntechDefined()},
			when:    domain.ReportFigure{IndicatorID: hntechID, Window: domain.Window{Year: 2022, FromMonth: 11, ToMonth: 1}, Value: dec("610"), Quality: domain.QualityEstimate, Source: kewei},
			refused: refused(domain.EINVALID, "window", "order"),
		},
		{
			name:  "10家 is a count",
			given: []domain.Event{upgrade},
			when:  report("10"),
			then:  []domain.Event{&domain.FigureReported{Window: year2022, Value: val("10"), Quality: domain.QualityFinal, Source: selfReport}},
		},
		{
			name:    "10.5家 is not",
			given:   []domain.Event{upgrade},
			when:    report("10.5"),
			refused: refused(domain.EINVALID, "value", "integer_count"),
		},
		{
			name:    "no negative figure without allow_negative",
			given:   []domain.Event{upgrade},
			when:    report("-3"),
			refused: refused(domain.EINVALID, "value", "non_negative"),
		},
		{
			name:  "a negative figure where allowed",
			given: []domain.Event{growth},
			when:  report("-1.2"),
			then:  []domain.Event{&domain.FigureReported{Window: year2022, Value: val("-1.2"), Quality: domain.QualityFinal, Source: selfReport}},
		},
		{
			name:  "258 of 333 days is 77.5% and keeps both counts",
			given: []domain.Event{goodDaysDefined()},
			when:  days(dec("77.5"), "258", "333"),
			then:  []domain.Event{daysEvent("77.5")},
		},
		{
			name:  "without a value it is derived from the counts",
			given: []domain.Event{goodDaysDefined()},
			when:  days(nil, "258", "333"),
			then:  []domain.Event{daysEvent("77.4775")},
		},
		{
			name:    "a value that disagrees with the counts",
			given:   []domain.Event{goodDaysDefined()},
			when:    days(dec("77.6"), "258", "333"),
			refused: refused(domain.EINVALID, "value", "ratio_mismatch"),
		},
		{
			name:    "a numerator needs its denominator",
			given:   []domain.Event{goodDaysDefined()},
			when:    domain.ReportFigure{IndicatorID: goodDaysID, Window: year2022, Numerator: dec("258"), Quality: domain.QualityFinal, Source: selfReport},
			refused: refused(domain.EINVALID, "denominator", "pair"),
		},
		{
			name:    "a zero denominator",
			given:   []domain.Event{goodDaysDefined()},
			when:    days(nil, "258", "0"),
			refused: refused(domain.EINVALID, "denominator", "positive"),
		},
		{
			name:    "a figure needs a value",
			given:   []domain.Event{hntechDefined()},
			when:    domain.ReportFigure{IndicatorID: hntechID, Window: year2022, Quality: domain.QualityEstimate, Source: kewei},
			refused: refused(domain.EINVALID, "value", "required"),
		},
		{
			name:    "revised is only reached by a correction",
			given:   []domain.Event{hntechDefined()},
			when:    domain.ReportFigure{IndicatorID: hntechID, Window: year2022, Value: dec("612"), Quality: domain.QualityRevised, Source: kewei},
			refused: refused(domain.EINVALID, "quality", "revised_is_correction"),
		},
		{
			name:    "a final figure has no final figure due",
			given:   []domain.Event{hntechDefined()},
			when:    domain.ReportFigure{IndicatorID: hntechID, Window: year2022, Value: dec("612"), Quality: domain.QualityFinal, Source: kewei, FinalDue: "2023-03-31"},
			refused: refused(domain.EINVALID, "final_due", "not_final"),
		},
		{
			name:    "a source needs a kind",
			given:   []domain.Event{hntechDefined()},
			when:    domain.ReportFigure{IndicatorID: hntechID, Window: year2022, Value: dec("612"), Quality: domain.QualityFinal, Source: domain.Source{Name: "市科委"}},
			refused: refused(domain.EINVALID, "source.kind", "enum"),
		},
		{
			name:    "undefined indicator",
			when:    report("10"),
			refused: refused(domain.ENOTFOUND, "", ""),
		},
		{
			name:    "withdrawn indicator",
			given:   []domain.Event{upgrade, &domain.IndicatorWithdrawn{Reason: "指标口径取消"}},
			when:    report("10"),
			refused: refused(domain.ERULE, "indicator_id", "indicator_withdrawn"),
		},
	})
}

func TestIndicatorEstimateThenFinal(t *testing.T) {
	final := domain.ReportFigure{IndicatorID: hntechID, Window: year2022, Value: dec("612"), Quality: domain.QualityFinal, Source: kewei}
	estimate := domain.ReportFigure{IndicatorID: hntechID, Window: year2022, Value: dec("615"), Quality: domain.QualityEstimate, Source: kewei}

	runGWT(t, []gwtCase{
		{
			name:  "the final figure supersedes the estimate, which stays",
			given: hntech(),
			when:  final,
			then:  []domain.Event{hntechFinal("ev-3")},
			after: func(t *testing.T, a domain.Aggregate) {
				figureIs(t, a, "ev-3", "610", domain.QualityEstimate, domain.FigureStateSuperseded)
				figureIs(t, a, "ev-4", "612", domain.QualityFinal, domain.FigureStateCurrent)
				currentIs(t, a, year2022, "ev-4")
			},
		},
		{
			name:  "an estimate may supersede an estimate",
			given: hntech(),
			when:  estimate,
			then: []domain.Event{&domain.FigureReported{Window: year2022, Value: val("615"), Quality: domain.QualityEstimate,
				Source: kewei, Supersedes: "ev-3"}},
		},
		{
			name:    "an estimate after the final figure is refused",
			given:   hntech(hntechFinal("ev-3")),
			when:    estimate,
			refused: refused(domain.ERULE, "quality", "final_is_corrected"),
		},
		{
			name:    "a final figure changes only by a correction",
			given:   hntech(hntechFinal("ev-3")),
			when:    domain.ReportFigure{IndicatorID: hntechID, Window: year2022, Value: dec("615"), Quality: domain.QualityFinal, Source: kewei},
			refused: refused(domain.ERULE, "quality", "final_is_corrected"),
		},
		{
			name: "a less settled figure does not supersede a provisional one",
			given: hntech(&domain.FigureReported{Window: year2022, Value: val("611"), Quality: domain.QualityProvisional,
				Source: kewei, Supersedes: "ev-3"}),
			when:    estimate,
			refused: refused(domain.ERULE, "quality", "no_downgrade"),
		},
		{
			name:  "a 1-11月 figure does not supersede the full-year one",
			given: hntech(),
			when:  domain.ReportFigure{IndicatorID: hntechID, Window: jan2Nov2022, Value: dec("605"), Quality: domain.QualityProvisional, Source: kewei},
			then:  []domain.Event{&domain.FigureReported{Window: jan2Nov2022, Value: val("605"), Quality: domain.QualityProvisional, Source: kewei}},
			after: func(t *testing.T, a domain.Aggregate) {
				currentIs(t, a, year2022, "ev-3")
				currentIs(t, a, jan2Nov2022, "ev-4")
			},
		},
	})
}

func TestIndicatorCorrectFigure(t *testing.T) {
	const reason = "市科委正式反馈后更正"
	corrected := &domain.FigureCorrected{Corrects: "ev-4", Window: year2022, OldValue: val("612"), NewValue: val("615"),
		OldQuality: domain.QualityFinal, NewQuality: domain.QualityRevised, Source: kewei, Reason: reason}
	withFinal := hntech(hntechFinal("ev-3")) // estimate ev-3 superseded by final ev-4
	withCorrection := func() []domain.Event { return hntech(hntechFinal("ev-3"), corrected) }

	runGWT(t, []gwtCase{
		{
			name:  "correcting a final figure makes it revised; nothing is overwritten",
			given: withFinal,
			when:  domain.CorrectFigure{IndicatorID: hntechID, Corrects: "ev-4", Value: dec("615"), Reason: reason},
			then:  []domain.Event{corrected},
			after: func(t *testing.T, a domain.Aggregate) {
				figureIs(t, a, "ev-3", "610", domain.QualityEstimate, domain.FigureStateSuperseded)
				figureIs(t, a, "ev-4", "612", domain.QualityFinal, domain.FigureStateCorrected)
				figureIs(t, a, "ev-5", "615", domain.QualityRevised, domain.FigureStateCurrent)
				currentIs(t, a, year2022, "ev-5")
			},
		},
		{
			name:  "correcting an estimate keeps its quality unless told",
			given: hntech(),
			when:  domain.CorrectFigure{IndicatorID: hntechID, Corrects: "ev-3", Value: dec("608"), Reason: "笔误"},
			then: []domain.Event{&domain.FigureCorrected{Corrects: "ev-3", Window: year2022, OldValue: val("610"), NewValue: val("608"),
				OldQuality: domain.QualityEstimate, NewQuality: domain.QualityEstimate, Source: kewei, Reason: "笔误"}},
		},
		{
			name:  "a correction may change quality and source",
			given: hntech(),
			when: domain.CorrectFigure{IndicatorID: hntechID, Corrects: "ev-3", Value: dec("610"), Quality: domain.QualityProvisional,
				Source: &statsBureau, Reason: "区统计局初步核定"},
			then: []domain.Event{&domain.FigureCorrected{Corrects: "ev-3", Window: year2022, OldValue: val("610"), NewValue: val("610"),
				OldQuality: domain.QualityEstimate, NewQuality: domain.QualityProvisional, Source: statsBureau, Reason: "区统计局初步核定"}},
		},
		{
			name:    "a correction needs a reason",
			given:   withFinal,
			when:    domain.CorrectFigure{IndicatorID: hntechID, Corrects: "ev-4", Value: dec("615")},
			refused: refused(domain.EINVALID, "reason", "required"),
		},
		{
			name:    "a correction names the figure it corrects",
			given:   withFinal,
			when:    domain.CorrectFigure{IndicatorID: hntechID, Value: dec("615"), Reason: reason},
			refused: refused(domain.EINVALID, "corrects", "required"),
		},
		{
			name:    "an unknown figure",
			given:   withFinal,
			when:    domain.CorrectFigure{IndicatorID: hntechID, Corrects: "ev-99", Value: dec("615"), Reason: reason},
			refused: refused(domain.ENOTFOUND, "", ""),
		},
		{
			name:    "correcting a superseded figure is refused",
			given:   withFinal,
			when:    domain.CorrectFigure{IndicatorID: hntechID, Corrects: "ev-3", Value: dec("611"), Reason: reason},
			refused: refused(domain.ERULE, "corrects", "not_current"),
		},
		{
			name:    "correcting a corrected figure is refused",
			given:   withCorrection(),
			when:    domain.CorrectFigure{IndicatorID: hntechID, Corrects: "ev-4", Value: dec("616"), Reason: reason},
			refused: refused(domain.ERULE, "corrects", "not_current"),
		},
		{
			name:    "a correction that changes nothing",
			given:   hntech(),
			when:    domain.CorrectFigure{IndicatorID: hntechID, Corrects: "ev-3", Value: dec("610"), Reason: reason},
			refused: refused(domain.ERULE, "value", "no_change"),
		},
		{
			name:    "a corrected count is still a whole number",
			given:   withFinal,
			when:    domain.CorrectFigure{IndicatorID: hntechID, Corrects: "ev-4", Value: dec("615.5"), Reason: reason},
			refused: refused(domain.EINVALID, "value", "integer_count"),
		},
	})

	// The refusal says which figure is current, so the caller can retry
	// against it without another read.
	for _, tc := range []struct {
		name     string
		given    []domain.Event
		corrects string
		current  string
	}{
		{"superseded", withFinal, "ev-3", "ev-4"},
		{"corrected", withCorrection(), "ev-4", "ev-5"},
	} {
		t.Run("hint names the current figure when "+tc.name, func(t *testing.T) {
			a := gwtLoad(t, domain.AggregateRef{Type: domain.AggregateIndicator, ID: hntechID}, tc.given)
			_, err := domain.Decide(domain.CorrectFigure{IndicatorID: hntechID, Corrects: tc.corrects, Value: dec("620"), Reason: reason}, a,
				[]domain.Aggregate{domain.NewYear(domain.YearID(2022))})
			e, ok := domain.AsError(err)
			if !ok || e.Rule != "not_current" {
				t.Fatalf("error %v, want rule not_current", err)
			}
			if !strings.Contains(e.Message, tc.current) {
				t.Errorf("message %q does not name the current figure %s", e.Message, tc.current)
			}
		})
	}
}

func TestIndicatorRetractFigure(t *testing.T) {
	withFinal := hntech(hntechFinal("ev-3"))
	runGWT(t, []gwtCase{
		{
			name:  "retracting the final figure falls back to the estimate it superseded",
			given: withFinal,
			when:  domain.RetractFigure{IndicatorID: hntechID, Retracts: "ev-4", Reason: "误报，市科委尚未反馈"},
			then:  []domain.Event{&domain.FigureRetracted{Retracts: "ev-4", Window: year2022, OldValue: val("612"), Reason: "误报，市科委尚未反馈"}},
			after: func(t *testing.T, a domain.Aggregate) {
				figureIs(t, a, "ev-4", "612", domain.QualityFinal, domain.FigureStateRetracted)
				figureIs(t, a, "ev-3", "610", domain.QualityEstimate, domain.FigureStateCurrent)
				currentIs(t, a, year2022, "ev-3")
			},
		},
		{
			name:  "retracting the only figure leaves the window without one",
			given: hntech(),
			when:  domain.RetractFigure{IndicatorID: hntechID, Retracts: "ev-3", Reason: "重复填报"},
			then:  []domain.Event{&domain.FigureRetracted{Retracts: "ev-3", Window: year2022, OldValue: val("610"), Reason: "重复填报"}},
			after: func(t *testing.T, a domain.Aggregate) {
				figureIs(t, a, "ev-3", "610", domain.QualityEstimate, domain.FigureStateRetracted)
				currentIs(t, a, year2022, "")
			},
		},
		{
			name:    "a retraction needs a reason",
			given:   withFinal,
			when:    domain.RetractFigure{IndicatorID: hntechID, Retracts: "ev-4"},
			refused: refused(domain.EINVALID, "reason", "required"),
		},
		{
			name:    "only the current figure can be retracted",
			given:   withFinal,
			when:    domain.RetractFigure{IndicatorID: hntechID, Retracts: "ev-3", Reason: "重复填报"},
			refused: refused(domain.ERULE, "retracts", "not_current"),
		},
		{
			name:    "a retraction names its figure",
			given:   withFinal,
			when:    domain.RetractFigure{IndicatorID: hntechID, Reason: "重复填报"},
			refused: refused(domain.EINVALID, "retracts", "required"),
		},
	})
}

func TestIndicatorWithdraw(t *testing.T) {
	withdrawn := &domain.IndicatorWithdrawn{Reason: "考核指标未明确"}
	runGWT(t, []gwtCase{
		{
			name:  "withdraw",
			given: hntech(),
			when:  domain.WithdrawIndicator{IndicatorID: hntechID, Reason: "考核指标未明确"},
			then:  []domain.Event{withdrawn},
		},
		{
			name:    "withdraw needs a reason",
			given:   hntech(),
			when:    domain.WithdrawIndicator{IndicatorID: hntechID},
			refused: refused(domain.EINVALID, "reason", "required"),
		},
		{
			name:    "withdraw an undefined indicator",
			when:    domain.WithdrawIndicator{IndicatorID: hntechID, Reason: "考核指标未明确"},
			refused: refused(domain.ENOTFOUND, "", ""),
		},
	})
	for _, c := range []domain.Command{
		domain.WithdrawIndicator{IndicatorID: hntechID, Reason: "再次撤回"},
		domain.SetTarget{IndicatorID: hntechID, Value: dec("700"), Reason: "调整"},
		domain.RecordBase{IndicatorID: hntechID, Window: domain.YearWindow(2021), Value: dec("600"), Quality: domain.QualityFinal},
		domain.ReportFigure{IndicatorID: hntechID, Window: year2022, Value: dec("612"), Quality: domain.QualityFinal, Source: kewei},
		domain.CorrectFigure{IndicatorID: hntechID, Corrects: "ev-3", Value: dec("611"), Reason: "更正"},
		domain.RetractFigure{IndicatorID: hntechID, Retracts: "ev-3", Reason: "撤回"},
	} {
		runGWT(t, []gwtCase{{
			name:    "withdrawn indicator refuses " + c.CommandName(),
			given:   hntech(withdrawn),
			when:    c,
			refused: refused(domain.ERULE, "indicator_id", "indicator_withdrawn"),
		}})
	}
}
