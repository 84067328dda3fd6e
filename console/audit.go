package console

import (
	"context"
	"net/http"

	"kpitrail/audit"
	"kpitrail/domain"
	"kpitrail/projections"
)

// The audit trail of an indicator: every change to its figures, bases and
// target (old → new, quality, who, when, why, the figure's source and the
// channel the command came through), each linked to its raw event and
// chain position; and the verification of the indicator's hash chain as
// the stream stores it, against the head the read models were built to.

type auditPage struct {
	projections.Indicator
	Changes []projections.FigureChange
	// Chain is nil on an as-of page: the verification is of the log as it
	// is now, which a page about the past must not pass off as then.
	Chain    *audit.AggregateReport
	ChainErr string
}

func (c *Console) auditTrail(w http.ResponseWriter, r *http.Request, v *view) error {
	var p auditPage
	var version uint64
	var head string
	err := v.read(func(ctx context.Context, db *projections.DB) error {
		if err := v.readableIndicator(ctx, db, r.PathValue("id")); err != nil {
			return err
		}
		var err error
		if p.Indicator, err = db.GetIndicator(ctx, r.PathValue("id")); err != nil {
			return err
		}
		if p.Changes, err = db.AuditTrail(ctx, p.ID); err != nil {
			return err
		}
		version, head, _, err = db.ChainHead(ctx, domain.AggregateRef{Type: domain.AggregateIndicator, ID: p.ID})
		return err
	})
	if err != nil {
		return err
	}
	if v.AsOf == nil && c.cfg.Chains != nil && c.cfg.Keyring != nil {
		rep, err := audit.VerifyAggregate(r.Context(), c.cfg.Chains, c.cfg.Keyring, domain.AggregateRef{Type: domain.AggregateIndicator, ID: p.ID}, version, head)
		if err != nil {
			c.log.Error("console: chain verification failed to run", "indicator", p.ID, "err", err)
			p.ChainErr = "无法读取事件日志，未能完成校验。"
		} else {
			p.Chain = &rep
		}
	}
	return c.render(w, v, http.StatusOK, "audit", p.Name+" · 审计记录", p)
}
