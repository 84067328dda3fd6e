package console

import (
	"context"
	"net/http"

	"kpitrail/domain"
	"kpitrail/projections"
)

// The task page: a task's indicators with their progress against 序时进度,
// its narrative (落实情况), milestones, problems (存在问题及原因) and their
// rectification ledger (整改台账), with the actions the reader may take.

type taskPage struct {
	projections.TaskDetail
	Ledger     map[string][]projections.RectificationStep // by problem id
	RectStates []domain.RectState
	Outcomes   []domain.RectState
}

func (c *Console) task(w http.ResponseWriter, r *http.Request, v *view) error {
	var p taskPage
	err := v.read(func(ctx context.Context, db *projections.DB) error {
		if err := v.readableTask(ctx, db, r.PathValue("id")); err != nil {
			return err
		}
		var err error
		if p.TaskDetail, err = db.GetTask(ctx, r.PathValue("id")); err != nil {
			return err
		}
		steps, err := db.RectificationLedger(ctx, p.ID)
		p.Ledger = map[string][]projections.RectificationStep{}
		for _, s := range steps {
			p.Ledger[s.ProblemID] = append(p.Ledger[s.ProblemID], s)
		}
		return err
	})
	if err != nil {
		return err
	}
	p.RectStates = []domain.RectState{domain.RectOpen, domain.RectInProgress}
	p.Outcomes = []domain.RectState{domain.RectRectified, domain.RectOngoing, domain.RectNotRectified}
	v.Notice = notice(r)
	return c.render(w, v, http.StatusOK, "task", p.Title, p)
}

// notices are the fixed messages a write's redirect may ask for.
var notices = map[string]string{
	"figure":    "已保存报数。",
	"corrected": "已保存更正，原数值保留在审计记录中。",
	"rect":      "已记录整改进展。",
	"closed":    "问题已销号。",
	// The figure's life.
	"submitted":         "已提交考评办审核。",
	"approved":          "已审核通过，该数值已锁定。",
	"returned":          "已退回，原因已记录。",
	"reopened":          "已重新打开，可以更正后再次提交。",
	"proposal_approved": "提议已批准。",
	"proposal_rejected": "提议已驳回，原因已记录。",
	"explained":         "预警说明已记录。",
}

func notice(r *http.Request) string { return notices[r.URL.Query().Get("saved")] }
