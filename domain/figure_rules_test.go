package domain_test

import (
	"testing"

	"kpitrail/domain"
)

// TestRetractedCorrectionRestoresTheCorrectedFigure: report 610 (estimate),
// 615 final, correct it to 612, retract the correction. The correction was
// wrong, so 615 is current again (the read models agree: see the
// projections test of the same name), and every later command is decided
// on that: a new final report is refused, 610 cannot be corrected, and 615
// can be retracted, which brings back 610.
func TestRetractedCorrectionRestoresTheCorrectedFigure(t *testing.T) {
	final615 := &domain.FigureReported{Window: year2022, Value: val("615"), Quality: domain.QualityFinal, Source: kewei, Supersedes: "ev-3"}
	correction := &domain.FigureCorrected{Corrects: "ev-4", Window: year2022, OldValue: val("615"), NewValue: val("612"),
		OldQuality: domain.QualityFinal, NewQuality: domain.QualityRevised, Source: kewei, Reason: "笔误"}
	retraction := &domain.FigureRetracted{Retracts: "ev-5", Window: year2022, OldValue: val("612"), Reason: "更正有误，撤回"}
	given := hntech(final615, correction, retraction) // ev-4 615, ev-5 612, ev-6 retracts ev-5
	runGWT(t, []gwtCase{
		{
			name:    "a new final report is refused: 615 is final and current",
			given:   given,
			when:    domain.ReportFigure{IndicatorID: hntechID, Window: year2022, Value: dec("613"), Quality: domain.QualityFinal, Source: kewei},
			refused: refused(domain.ERULE, "quality", "final_is_corrected"),
		},
		{
			name:    "correcting 610 is refused: it was superseded by 615",
			given:   given,
			when:    domain.CorrectFigure{IndicatorID: hntechID, Corrects: "ev-3", Value: dec("611"), Reason: "核对"},
			refused: refused(domain.ERULE, "corrects", "not_current"),
		},
		{
			name:  "615 is current again and can be retracted, bringing back 610",
			given: given,
			when:  domain.RetractFigure{IndicatorID: hntechID, Retracts: "ev-4", Reason: "市科委尚未反馈"},
			then:  []domain.Event{&domain.FigureRetracted{Retracts: "ev-4", Window: year2022, OldValue: val("615"), Reason: "市科委尚未反馈"}},
			after: func(t *testing.T, a domain.Aggregate) {
				currentIs(t, a, year2022, "ev-3")
				figureIs(t, a, "ev-4", "615", domain.QualityFinal, domain.FigureStateRetracted)
				figureIs(t, a, "ev-5", "612", domain.QualityRevised, domain.FigureStateRetracted)
			},
		},
	})
	a := gwtLoad(t, domain.AggregateRef{Type: domain.AggregateIndicator, ID: hntechID}, given)
	currentIs(t, a, year2022, "ev-4")
	figureIs(t, a, "ev-4", "615", domain.QualityFinal, domain.FigureStateCurrent)
	figureIs(t, a, "ev-5", "612", domain.QualityRevised, domain.FigureStateRetracted)
}

// TestRatioCheckRoundsWithTheIndicatorsRounding: 1/8 is 12.5%. Written
// without decimals a half-even (GB/T 8170) indicator reads it as 12 and a
// half-up one as 13; the value given beside a numerator and denominator is
// checked the indicator's way.
func TestRatioCheckRoundsWithTheIndicatorsRounding(t *testing.T) {
	share := func(rounding string) *domain.IndicatorDefined {
		return &domain.IndicatorDefined{TaskID: taskID, Year: 2022, Key: "share-" + rounding, Name: "达标断面比例", Unit: "%",
			Direction: domain.HigherIsBetter, Formula: domain.FormulaRatio, IsRate: true, Rounding: rounding}
	}
	report := func(value string) domain.ReportFigure {
		return domain.ReportFigure{IndicatorID: goodDaysID, Window: year2022, Value: dec(value), Numerator: dec("1"), Denominator: dec("8"),
			Quality: domain.QualityFinal, Source: selfReport}
	}
	reported := func(value string) []domain.Event {
		return []domain.Event{&domain.FigureReported{Window: year2022, Value: val(value), Numerator: dec("1"), Denominator: dec("8"),
			Quality: domain.QualityFinal, Source: selfReport}}
	}
	mismatch := refused(domain.EINVALID, "value", "ratio_mismatch")
	runGWT(t, []gwtCase{
		{name: "half_even accepts 12", given: []domain.Event{share("half_even")}, when: report("12"), then: reported("12")},
		{name: "half_even refuses 13", given: []domain.Event{share("half_even")}, when: report("13"), refused: mismatch},
		{name: "half_up accepts 13", given: []domain.Event{share("half_up")}, when: report("13"), then: reported("13")},
		{name: "half_up refuses 12", given: []domain.Event{share("half_up")}, when: report("12"), refused: mismatch},
		{name: "the default is half_up", given: []domain.Event{share("")}, when: report("12"), refused: mismatch},
		{name: "half_even at one decimal is exact", given: []domain.Event{share("half_even")}, when: report("12.5"), then: reported("12.5")},
	})
}

// TestPartYearFinalFigureLeavesTheYearOpen: only a figure for the whole
// year closes it; a final 1-11月 figure does not (projections has the read
// model's side of it).
func TestPartYearFinalFigureLeavesTheYearOpen(t *testing.T) {
	for _, tc := range []struct {
		w    domain.Window
		want bool
	}{
		{jan2Nov2022, false},
		{domain.Window{Year: 2022, FromMonth: 1, ToMonth: 3}, false},
		{domain.Window{Year: 2022, FromMonth: 12, ToMonth: 12}, false},
		{year2022, true},
		{domain.Window{Year: 2022}, true},
	} {
		if got := domain.YearClosedBy(tc.w); got != tc.want {
			t.Errorf("YearClosedBy(%s) = %v, want %v", tc.w.Key(), got, tc.want)
		}
	}
}

// TestStepFigureRefusesWhatNoDecisionProduces: events the state machine
// cannot take (hand-written or damaged logs) are refused, and an aggregate
// applying one changes nothing.
func TestStepFigureRefusesWhatNoDecisionProduces(t *testing.T) {
	given := hntech(hntechFinal("ev-3")) // ev-3 610 superseded, ev-4 612 current
	for _, tc := range []struct {
		name string
		e    domain.Event
		rule string
	}{
		{"supersede a superseded figure", &domain.FigureReported{Window: year2022, Value: val("1"), Quality: domain.QualityFinal, Source: kewei, Supersedes: "ev-3"}, "not_current"},
		{"supersede an unknown figure", &domain.FigureReported{Window: year2022, Value: val("1"), Quality: domain.QualityFinal, Source: kewei, Supersedes: "ev-99"}, "not_recorded"},
		{"a figure of another year", &domain.FigureReported{Window: domain.YearWindow(2021), Value: val("1"), Quality: domain.QualityFinal, Source: kewei}, "assessment_year"},
		{"correct across windows", &domain.FigureCorrected{Corrects: "ev-4", Window: jan2Nov2022, OldValue: val("612"), NewValue: val("1"), Reason: "x"}, "window"},
		{"retract a superseded figure", &domain.FigureRetracted{Retracts: "ev-3", Window: year2022, OldValue: val("610"), Reason: "x"}, "not_current"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := gwtLoad(t, domain.AggregateRef{Type: domain.AggregateIndicator, ID: hntechID}, append(given, tc.e))
			in := asIndicator(t, a)
			if len(in.Figures()) != 2 {
				t.Errorf("%d figures after a refused event, want 2", len(in.Figures()))
			}
			currentIs(t, a, year2022, "ev-4")
			_, err := domain.StepFigure(bookOf{in}, 2022, "ev-5", tc.e)
			if e, ok := domain.AsError(err); !ok || e.Rule != tc.rule {
				t.Errorf("StepFigure: %v, want rule %s", err, tc.rule)
			}
		})
	}
}

// bookOf shows an aggregate's figures to StepFigure from outside the package.
type bookOf struct{ in *domain.Indicator }

func (b bookOf) FigureNode(id string) (domain.FigureNode, bool, error) {
	f, ok := b.in.Figure(id)
	return domain.FigureNode{EventID: f.EventID, Window: f.Window.Key(), State: f.State, Fallback: f.FallbackID()}, ok, nil
}

func (b bookOf) CurrentFigure(key string) (domain.FigureNode, bool, error) {
	w, err := domain.ParseWindowKey(key)
	if err != nil {
		return domain.FigureNode{}, false, err
	}
	f, ok := b.in.Current(w)
	if !ok {
		return domain.FigureNode{}, false, nil
	}
	return b.FigureNode(f.EventID)
}
