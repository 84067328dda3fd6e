package console

import (
	"net/http"
	"strings"

	"kpitrail/domain"
)

// The figure's life in the console: a department submits its figures, the
// office approves or returns them (with a reason) and reopens an approved
// one; proposals of bases and targets are approved or rejected; warnings
// are explained. Each is the same domain command the API runs, through
// the command service and its matrix (auth.Permits: a reporter never
// approves, nobody approves what they asked for), from a CSRF-checked
// form.

// reviewBack is where a review form returns to: the indicator's page (at
// anchor) when posted from it, else the work queues (at queueAnchor). Only
// these two: the form never names an arbitrary URL.
func reviewBack(r *http.Request, indicatorID, anchor, queueAnchor string) (string, string) {
	if r.PostForm.Get("back") == "indicator" {
		return "/console/indicators/" + indicatorID, anchor
	}
	return "/console/queues", queueAnchor
}

func reason(r *http.Request) string { return strings.TrimSpace(r.PostForm.Get("reason")) }

// reviewStep runs a command about one figure or proposal ({eid}) of an
// indicator ({id}) and returns to the page the form came from.
func (c *Console) reviewStep(saved, anchor string, build func(r *http.Request, indicatorID, figure string) domain.Command) handler {
	return func(w http.ResponseWriter, r *http.Request, v *view) error {
		id := r.PathValue("id")
		if _, err := c.execute(r, v, build(r, id, r.PathValue("eid"))); err != nil {
			return err
		}
		back, at := reviewBack(r, id, anchor, "#review")
		return seeOther(w, r, back, saved, at)
	}
}

func (c *Console) submitFigure() handler {
	return c.reviewStep("submitted", "#figures", func(r *http.Request, id, figure string) domain.Command {
		return domain.SubmitFigure{IndicatorID: id, Figure: figure, Reason: reason(r)}
	})
}

func (c *Console) approveFigure() handler {
	return c.reviewStep("approved", "#figures", func(r *http.Request, id, figure string) domain.Command {
		return domain.ApproveFigure{IndicatorID: id, Figure: figure, Reason: reason(r)}
	})
}

func (c *Console) returnFigure() handler {
	return c.reviewStep("returned", "#figures", func(r *http.Request, id, figure string) domain.Command {
		return domain.ReturnFigure{IndicatorID: id, Figure: figure, Reason: reason(r)}
	})
}

func (c *Console) reopenFigure() handler {
	return c.reviewStep("reopened", "#figures", func(r *http.Request, id, figure string) domain.Command {
		return domain.ReopenFigure{IndicatorID: id, Figure: figure, Reason: reason(r)}
	})
}

func (c *Console) approveProposal() handler {
	return c.reviewStep("proposal_approved", "#proposals", func(r *http.Request, id, proposal string) domain.Command {
		return domain.ApproveProposal{IndicatorID: id, Proposal: proposal, Reason: reason(r)}
	})
}

func (c *Console) rejectProposal() handler {
	return c.reviewStep("proposal_rejected", "#proposals", func(r *http.Request, id, proposal string) domain.Command {
		return domain.RejectProposal{IndicatorID: id, Proposal: proposal, Reason: reason(r)}
	})
}

// explainWarning explains a warning on a figure (or, without one, on the
// indicator) with a reason.
func (c *Console) explainWarning(w http.ResponseWriter, r *http.Request, v *view) error {
	id := r.PathValue("id")
	cmd := domain.ExplainWarning{IndicatorID: id, Rule: r.PostForm.Get("rule"), Figure: r.PostForm.Get("figure"), Reason: reason(r)}
	if _, err := c.execute(r, v, cmd); err != nil {
		return err
	}
	back, at := reviewBack(r, id, "#warnings", "#warnings")
	return seeOther(w, r, back, "explained", at)
}
