package domain

import (
	"testing"
)

func TestReportFigures(t *testing.T) {
	in := NewIndicator("firms")
	in.defined, in.year, in.direction = true, 2022, HigherIsBetter
	in.figures, in.current = map[string]*Figure{}, map[string]string{}
	self := Source{Kind: SourceSelfReported}
	fig := func(to int, v string, q Quality) ReportFigure {
		d := MustDecimal(v)
		return ReportFigure{Window: Window{Year: 2022, FromMonth: 1, ToMonth: to}, Value: &d, Quality: q, Source: self}
	}
	evs, err := ReportFigures{IndicatorID: "firms", Figures: []ReportFigure{fig(1, "1", QualityEstimate), fig(2, "2", QualityFinal)}}.decide(in, nil)
	if err != nil || len(evs) != 2 || evs[1].(*FigureReported).Window.ToMonth != 2 {
		t.Fatalf("%v %v", evs, err)
	}
	for _, c := range []struct {
		cmd         ReportFigures
		field, rule string
	}{
		{ReportFigures{IndicatorID: "firms"}, "figures", "required"},
		{ReportFigures{IndicatorID: "firms", Figures: []ReportFigure{fig(1, "1", QualityEstimate), fig(1, "2", QualityFinal)}}, "figures[1].window", "one_per_window"},
		{ReportFigures{IndicatorID: "firms", Figures: []ReportFigure{fig(1, "1", QualityEstimate), fig(2, "2", QualityRevised)}}, "figures[1].quality", "revised_is_correction"},
		{ReportFigures{IndicatorID: "firms", Figures: []ReportFigure{{IndicatorID: "other", Window: YearWindow(2022)}}}, "figures[0].indicator_id", "same_indicator"},
		{ReportFigures{IndicatorID: "firms", Figures: make([]ReportFigure, MaxFiguresPerCommand+1)}, "figures", "max_items"},
		{ReportFigures{IndicatorID: "firms", Figures: []ReportFigure{fig(1, "1", QualityEstimate), {Window: Window{Year: 2021, FromMonth: 1, ToMonth: 12}, Value: ptr(MustDecimal("1")), Quality: QualityFinal, Source: self}}}, "figures[1].window.year", "assessment_year"},
	} {
		_, err := c.cmd.decide(in, nil)
		e, ok := AsError(err)
		if !ok || e.Field != c.field || e.Rule != c.rule {
			t.Errorf("%s: got %v, want field %s rule %s", c.field, err, c.field, c.rule)
		}
	}
}

func ptr[T any](v T) *T { return &v }
