package console

import (
	"net/http"
	"strings"

	"kpitrail/domain"
	"kpitrail/projections"
)

// reportFigure reports a figure for a window of the indicator's year.
func (c *Console) reportFigure(w http.ResponseWriter, r *http.Request, v *view) error {
	in, err := c.liveIndicator(r, r.PathValue("id"))
	if err != nil {
		return err
	}
	from, err := formInt(r, "from_month", 1)
	if err != nil {
		return err
	}
	to, err := formInt(r, "to_month", 12)
	if err != nil {
		return err
	}
	value, err := formDecimal(r, "value", true)
	if err != nil {
		return err
	}
	cmd := domain.ReportFigure{IndicatorID: in.ID, Window: domain.Window{Year: in.Year, FromMonth: from, ToMonth: to},
		Value: value, Quality: domain.Quality(r.PostForm.Get("quality")),
		Source:   domain.Source{Kind: domain.SourceKind(r.PostForm.Get("source_kind")), Name: strings.TrimSpace(r.PostForm.Get("source_name"))},
		FinalDue: domain.Date(strings.TrimSpace(r.PostForm.Get("final_due"))), Note: strings.TrimSpace(r.PostForm.Get("note"))}
	if _, err := c.execute(r, v, cmd); err != nil {
		return err
	}
	return seeOther(w, r, "/console/indicators/"+in.ID, "figure", "#figures")
}

// liveIndicator reads an indicator as it is now, for a write's form.
func (c *Console) liveIndicator(r *http.Request, id string) (projections.Indicator, error) {
	var in projections.Indicator
	err := c.cfg.Reads.With(r.Context(), nil, func(db *projections.DB) error {
		var err error
		in, err = db.GetIndicator(r.Context(), id)
		return err
	})
	return in, err
}
