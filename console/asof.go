package console

import (
	"net/http"
	"strconv"

	"kpitrail/projections"
)

// The as-of picker: an instant typed in (date and time), or a snapshot the
// office froze, chosen to re-render every page as of then. The choice is
// carried in the URL (as_of), so it shows in every link and every banner
// and can be shared; it never hides in a cookie.

type asOfPage struct {
	Back      string
	Snapshots []projections.Snapshot
}

func (c *Console) asOfPicker(w http.ResponseWriter, r *http.Request, v *view) error {
	p := asOfPage{Back: safeNext(r.URL.Query().Get("back"))}
	// Snapshots are listed as the log holds them now.
	err := c.cfg.Reads.With(r.Context(), nil, func(db *projections.DB) error {
		var err error
		p.Snapshots, err = db.Snapshots(r.Context(), 0)
		return err
	})
	if err != nil {
		return err
	}
	return c.render(w, v, http.StatusOK, "asof", "查看历史时点", p)
}

func itoa(n int) string { return strconv.Itoa(n) }
