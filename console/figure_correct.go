package console

import (
	"net/http"
	"strings"

	"kpitrail/domain"
)

// correctFigure corrects a current figure: a new event that names the one
// it corrects, with the new value and the reason; the old value stays in
// the audit trail.
func (c *Console) correctFigure(w http.ResponseWriter, r *http.Request, v *view) error {
	id := r.PathValue("id")
	value, err := formDecimal(r, "value", true)
	if err != nil {
		return err
	}
	cmd := domain.CorrectFigure{IndicatorID: id, Corrects: strings.TrimSpace(r.PostForm.Get("corrects")), Value: value,
		Quality: domain.Quality(r.PostForm.Get("quality")), Reason: strings.TrimSpace(r.PostForm.Get("reason"))}
	if _, err := c.execute(r, v, cmd); err != nil {
		return err
	}
	return seeOther(w, r, "/console/indicators/"+id, "corrected", "#figures")
}
