package projections

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"kpitrail/domain"
)

var (
	propertyWindows   = []domain.Window{domain.YearWindow(2022), {Year: 2022, FromMonth: 1, ToMonth: 6}, {Year: 2022, FromMonth: 1, ToMonth: 11}}
	propertyQualities = []domain.Quality{domain.QualityEstimate, domain.QualityApproximate, domain.QualityProvisional, domain.QualityFinal}
)

// randomFigureCommand picks a command for the indicator's state: mostly
// ones that can be accepted, some that must be refused.
func randomFigureCommand(rng *rand.Rand, id string, in *domain.Indicator) domain.Command {
	figs := in.Figures()
	slices.SortFunc(figs, func(a, b domain.Figure) int { return strings.Compare(a.EventID, b.EventID) })
	var current []domain.Figure
	for _, f := range figs {
		if f.State == domain.FigureStateCurrent {
			current = append(current, f)
		}
	}
	// pick prefers a current figure, and sometimes takes any.
	pick := func() string {
		if len(current) > 0 && rng.IntN(5) > 0 {
			return current[rng.IntN(len(current))].EventID
		}
		if len(figs) > 0 {
			return figs[rng.IntN(len(figs))].EventID
		}
		return "no-such-figure"
	}
	value := func() *domain.Decimal {
		d := domain.MustDecimal(strconv.Itoa(rng.IntN(1000)))
		return &d
	}
	self := domain.Source{Kind: domain.SourceSelfReported}
	w := propertyWindows[rng.IntN(len(propertyWindows))]
	// review picks a current figure in one of the states, or any.
	review := func(states ...domain.ReviewState) string {
		var in []string
		for _, f := range current {
			for _, st := range states {
				if f.Review == st {
					in = append(in, f.EventID)
				}
			}
		}
		if len(in) > 0 && rng.IntN(5) > 0 {
			return in[rng.IntN(len(in))]
		}
		return pick()
	}
	switch r := rng.IntN(100); {
	case r < 8:
		return domain.SubmitFigure{IndicatorID: id, Figure: review(domain.ReviewReported, domain.ReviewReturned, domain.ReviewReopened)}
	case r < 14:
		return domain.ApproveFigure{IndicatorID: id, Figure: review(domain.ReviewSubmitted)}
	case r < 17:
		return domain.ReturnFigure{IndicatorID: id, Figure: review(domain.ReviewSubmitted), Reason: "请核对"}
	case r < 20:
		return domain.ReopenFigure{IndicatorID: id, Figure: review(domain.ReviewApproved), Reason: "数据更正"}
	case r < 45: // a report of any quality
		return domain.ReportFigure{IndicatorID: id, Window: w, Value: value(), Quality: propertyQualities[rng.IntN(len(propertyQualities))], Source: self}
	case r < 57: // an estimate turned final
		for _, f := range current {
			if f.Quality.Rank() < domain.QualityFinal.Rank() {
				return domain.ReportFigure{IndicatorID: id, Window: f.Window, Value: value(), Quality: domain.QualityFinal,
					Source: domain.Source{Kind: domain.SourceStatistics, Name: "区统计局"}}
			}
		}
		return domain.ReportFigure{IndicatorID: id, Window: w, Value: value(), Quality: domain.QualityEstimate, Source: self}
	case r < 77: // a correction
		c := domain.CorrectFigure{IndicatorID: id, Corrects: pick(), Value: value(), Reason: "核对更正"}
		if rng.IntN(3) == 0 {
			c.Quality = propertyQualities[rng.IntN(len(propertyQualities))]
		}
		return c
	case r < 92: // a retraction
		return domain.RetractFigure{IndicatorID: id, Retracts: pick(), Reason: "误报撤回"}
	default: // a base, recorded or restated
		bw := w
		bw.Year--
		return domain.RecordBase{IndicatorID: id, Window: bw, Value: value(), Quality: domain.QualityFinal, Reason: "按可比口径"}
	}
}
