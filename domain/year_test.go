package domain_test

import (
	"testing"

	"kpitrail/domain"
)

var (
	frozen2022   = []domain.Event{&domain.YearFrozen{Year: 2022, Note: "2022年度考核年终封存"}}
	reopened2022 = []domain.Event{&domain.YearFrozen{Year: 2022}, &domain.YearReopened{Year: 2022, Reason: "市统计局更正数据"}}
	yearFrozen   = refused(domain.ERULE, "year", "year_frozen")
)

// TestFrozenYearRefusesChanges: once 2022 is frozen by its snapshot, no
// command changes its figures, bases, targets or indicators; reopened by
// the office, they are accepted again.
func TestFrozenYearRefusesChanges(t *testing.T) {
	withFinal := hntech(hntechFinal("ev-3")) // ev-4 612 final
	commands := []struct {
		name  string
		given []domain.Event
		when  domain.Command
	}{
		{"report a figure", hntech(), domain.ReportFigure{IndicatorID: hntechID, Window: year2022, Value: dec("612"), Quality: domain.QualityFinal, Source: kewei}},
		{"report figures", hntech(), domain.ReportFigures{IndicatorID: hntechID, Figures: []domain.ReportFigure{{Window: jan2Nov2022, Value: dec("600"), Quality: domain.QualityEstimate, Source: kewei}}}},
		{"correct a figure", withFinal, domain.CorrectFigure{IndicatorID: hntechID, Corrects: "ev-4", Value: dec("615"), Reason: "市科委正式反馈"}},
		{"retract a figure", withFinal, domain.RetractFigure{IndicatorID: hntechID, Retracts: "ev-4", Reason: "误报"}},
		{"revise the target", hntech(), domain.SetTarget{IndicatorID: hntechID, Value: dec("650"), Reason: "市科委调整"}},
		{"record a base", hntech(), domain.RecordBase{IndicatorID: hntechID, Window: domain.YearWindow(2021), Value: dec("600"), Quality: domain.QualityFinal}},
		{"withdraw the indicator", hntech(), domain.WithdrawIndicator{IndicatorID: hntechID, Reason: "考核指标未明确"}},
	}
	var cases []gwtCase
	for _, c := range commands {
		cases = append(cases,
			gwtCase{name: c.name + " in a frozen year", given: c.given, givenYear: frozen2022, when: c.when, refused: yearFrozen},
			gwtCase{name: c.name + " once reopened, as in a year never frozen", given: c.given, givenYear: reopened2022, when: c.when,
				then: decideOpen(t, c.given, c.when)},
		)
	}
	cases = append(cases,
		gwtCase{name: "define an indicator on a task of a frozen year", givenTask: []domain.Event{registered()}, givenYear: frozen2022,
			when: domain.DefineIndicator{IndicatorID: "i-new", TaskID: taskID, Name: "新指标", Unit: "家", Direction: domain.HigherIsBetter}, refused: yearFrozen},
		gwtCase{name: "the frozen year's indicator is refused before anything else", given: hntech(), givenYear: frozen2022,
			when: domain.ReportFigure{IndicatorID: hntechID, Window: domain.YearWindow(2021), Value: dec("1"), Quality: domain.QualityFinal, Source: kewei}, refused: yearFrozen},
	)
	runGWT(t, cases)
}

func TestYearFreezeAndReopen(t *testing.T) {
	runGWT(t, []gwtCase{
		{name: "freeze an open year", when: domain.FreezeYear{Year: 2022, Note: "年终封存"},
			then: []domain.Event{&domain.YearFrozen{Year: 2022, Note: "年终封存"}},
			after: func(t *testing.T, a domain.Aggregate) {
				if !a.(*domain.Year).Frozen() {
					t.Error("not frozen")
				}
			}},
		{name: "freeze a frozen year", given: frozen2022, when: domain.FreezeYear{Year: 2022}, refused: refused(domain.ERULE, "year", "already_frozen")},
		{name: "reopen with a reason", given: frozen2022, when: domain.ReopenYear{Year: 2022, Reason: "市统计局更正数据"},
			then: []domain.Event{&domain.YearReopened{Year: 2022, Reason: "市统计局更正数据"}},
			after: func(t *testing.T, a domain.Aggregate) {
				if a.(*domain.Year).Frozen() {
					t.Error("still frozen")
				}
			}},
		{name: "reopen needs a reason", given: frozen2022, when: domain.ReopenYear{Year: 2022}, refused: refused(domain.EINVALID, "reason", "required")},
		{name: "reopen an open year", when: domain.ReopenYear{Year: 2022, Reason: "x"}, refused: refused(domain.ERULE, "year", "not_frozen")},
		{name: "freeze again after a reopen", given: reopened2022, when: domain.FreezeYear{Year: 2022},
			then: []domain.Event{&domain.YearFrozen{Year: 2022}}},
		{name: "a year out of range", when: domain.FreezeYear{Year: 1800}, refused: refused(domain.EINVALID, "year", "range")},
	})
}

// decideOpen decides a command on an indicator whose year was never frozen.
func decideOpen(t *testing.T, given []domain.Event, c domain.Command) []domain.Event {
	t.Helper()
	a := gwtLoad(t, c.Target(), given)
	events, err := domain.Decide(c, a, []domain.Aggregate{domain.NewYear(domain.YearID(2022))})
	if err != nil || len(events) == 0 {
		t.Fatalf("%s in an open year: %v", c.CommandName(), err)
	}
	return events
}
