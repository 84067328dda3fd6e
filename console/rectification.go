package console

import (
	"net/http"
	"strings"

	"kpitrail/domain"
)

// progressRectification records a step of a problem's rectification (整改):
// items rectified of the total, and the state.
func (c *Console) progressRectification(w http.ResponseWriter, r *http.Request, v *view) error {
	taskID, problemID := r.PathValue("id"), r.PathValue("pid")
	rectified, err := formInt(r, "rectified", 0)
	if err != nil {
		return err
	}
	total, err := formInt(r, "total", 0)
	if err != nil {
		return err
	}
	cmd := domain.ProgressRectification{TaskID: taskID, ProblemID: problemID, Total: total, Rectified: rectified,
		State: domain.RectState(r.PostForm.Get("state")), Note: strings.TrimSpace(r.PostForm.Get("note"))}
	if _, err := c.execute(r, v, cmd); err != nil {
		return err
	}
	return seeOther(w, r, "/console/tasks/"+taskID, "rect", "#problems")
}
