package console

import (
	"fmt"
	"math"
	"net/http"

	"kpitrail/domain"
	"kpitrail/httpapi"
	"kpitrail/importer"
	"kpitrail/internal/problem"
	"kpitrail/jobs"
)

// A job's page: the console's view of GET /v1/jobs/{id}. An import applied
// in the console runs as a job through the API's own path (httpapi.StartJob
// and httpapi.ImportJob: the same budget, turn, attribution and reason),
// and the browser is sent here to follow it. While the job runs the page
// reloads itself every second with a meta refresh, which needs no script;
// once it has finished it shows the import's result, or its problem and
// what it stored before it stopped.

type jobPage struct {
	Job jobs.Snapshot
	// Percent is the progress in whole percent, -1 while the total is
	// unknown.
	Percent  int
	Rate     string
	ETA      string
	Result   *importResult
	Error    string
	Code     string
	Rows     []importer.RowError
	Staged   string // the checked file, while it is kept: import it again
	Filename string
}

func (p jobPage) refreshSeconds() int {
	if p.Job.State.Finished() {
		return 0
	}
	return 1
}

// importAsJob starts the import of a checked file as the signed-in
// token's job and sends the browser to its page.
func (c *Console) importAsJob(w http.ResponseWriter, r *http.Request, v *view, req httpapi.ImportRequest, staged string) error {
	reason := r.PostForm.Get("reason")
	snap, err := httpapi.StartJob(c.cfg.Jobs, c.log, v.P, "import", reason, httpapi.ImportJob(c.cfg.Imports, v.P, req))
	if err != nil {
		if domain.ErrorCode(err) == domain.ETOOMANY {
			w.Header().Set("Retry-After", "10")
		}
		return err
	}
	c.stash.started(staged, v.Session.CSRF, snap.ID)
	http.Redirect(w, r, "/console/jobs/"+snap.ID, http.StatusSeeOther)
	return nil
}

// job finds a job the signed-in token may see; any other is not found,
// as the API answers.
func (c *Console) job(r *http.Request, v *view) (jobs.Snapshot, error) {
	if c.cfg.Jobs != nil {
		if snap, ok := c.cfg.Jobs.Get(r.PathValue("id")); ok && httpapi.MayWatchJob(v.P, snap) {
			return snap, nil
		}
	}
	return jobs.Snapshot{}, domain.NotFound("job %s", r.PathValue("id"))
}

func (c *Console) jobView(w http.ResponseWriter, r *http.Request, v *view) error {
	snap, err := c.job(r, v)
	if err != nil {
		return err
	}
	p := jobPage{Job: snap, Percent: -1}
	if pr := snap.Progress; pr.Total > 0 {
		p.Percent = int(min(100, pr.Done*100/pr.Total))
	}
	if snap.Rate > 0 {
		p.Rate = fmt.Sprintf("%.1f", snap.Rate)
	}
	if snap.ETASeconds != nil {
		p.ETA = etaText(*snap.ETASeconds)
	}
	if snap.Result != nil {
		p.Result = decodeImport(snap.Result)
	}
	if snap.Err != nil {
		pd := problem.From(snap.Err, r.URL.Path)
		p.Error, p.Code = pd.Detail, pd.Code
		if snap.Kind == "import" {
			p.Rows = rowErrors(snap.Err, pd.Detail)
			if pd.Details != nil {
				p.Result = decodeImport(pd.Details)
			}
		}
	}
	if snap.State.Finished() {
		if st, ok := c.stash.byJob(snap.ID, v.Session.CSRF); ok {
			p.Staged, p.Filename = st, c.stash.filename(st)
		}
	}
	return c.render(w, v, http.StatusOK, "job", "导入进度", p)
}

// jobCancel asks the job to stop, as POST /v1/jobs/{id}/cancel does; the
// page then shows it stopping, and stopped.
func (c *Console) jobCancel(w http.ResponseWriter, r *http.Request, v *view) error {
	snap, err := c.job(r, v)
	if err != nil {
		return err
	}
	if !snap.State.Finished() {
		c.cfg.Jobs.Cancel(snap.ID)
		c.log.Info("job cancel requested", "job", snap.ID, "actor", v.P.Actor(), "token_id", v.P.TokenID, "source", "console")
	}
	http.Redirect(w, r, "/console/jobs/"+snap.ID, http.StatusSeeOther)
	return nil
}

// etaText is the time left in whole seconds, as a reader says it.
func etaText(seconds float64) string {
	n := int(math.Ceil(seconds))
	if n < 60 {
		return fmt.Sprintf("%d 秒", n)
	}
	return fmt.Sprintf("%d 分 %d 秒", n/60, n%60)
}

func jobStateLabel(s jobs.State) string {
	switch s {
	case jobs.Queued:
		return "排队中"
	case jobs.Running:
		return "进行中"
	case jobs.Succeeded:
		return "已完成"
	case jobs.Failed:
		return "失败"
	case jobs.Cancelled:
		return "已取消"
	}
	return string(s)
}

func unitLabel(u string) string {
	switch u {
	case "commands":
		return "条命令"
	case "rows":
		return "行"
	case "events":
		return "个事件"
	}
	return u
}
