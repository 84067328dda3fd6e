package console

import (
	"net/http"
	"strings"

	"kpitrail/domain"
)

// closeProblem closes a problem with its outcome (销号): the office's
// verification that 整改到位 holds. A department may not close its own
// problems; the matrix refuses it and the task page does not offer it.
func (c *Console) closeProblem(w http.ResponseWriter, r *http.Request, v *view) error {
	taskID := r.PathValue("id")
	cmd := domain.CloseProblem{TaskID: taskID, ProblemID: r.PathValue("pid"), Outcome: domain.RectState(r.PostForm.Get("outcome")),
		Note: strings.TrimSpace(r.PostForm.Get("note"))}
	if _, err := c.execute(r, v, cmd); err != nil {
		return err
	}
	return seeOther(w, r, "/console/tasks/"+taskID, "closed", "#problems")
}
