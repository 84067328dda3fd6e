package projections

import (
	"database/sql"
	"errors"
	"strconv"

	"kpitrail/domain"
)

// reviewFigure moves a figure in review as the domain's StepReview says,
// and writes the step to the audit trail.
func (p *projector) reviewFigure(b *batchTx, r domain.Recorded, h indicatorHead) error {
	book := newFigureBook(b, r.AggregateID)
	m, err := domain.StepReview(book, r.Actor, r.Data)
	if err != nil {
		if e, ok := domain.AsError(err); ok && e.Code != domain.EINTERNAL {
			return broken("%s on indicator %s: %v", r.Name, r.AggregateID, err)
		}
		return err
	}
	seen := book.seen[m.Figure]
	at := formatTime(r.RecordedAt)
	submittedAt := seen.row.submittedAt
	rev := reviewColumns{reviewedBy: r.Actor, reviewedAt: at, eventID: r.ID}
	var kind, reason string
	switch e := r.Data.(type) {
	case *domain.FigureSubmitted:
		kind, reason, submittedAt = "submitted", e.Reason, at
		rev.reviewedBy, rev.reviewedAt = "", ""
	case *domain.FigureApproved:
		kind, reason = "approved", e.Reason
	case *domain.FigureReturned:
		kind, reason = "returned", e.Reason
	case *domain.FigureReopened:
		kind, reason = "reopened", e.Reason
	}
	rev.reason = reason
	if err := setFigureReview(b, m.Figure, seen.pending, string(m.To), m.SubmittedBy, submittedAt, rev); err != nil {
		return err
	}
	return insertChange(b, r, h, change{period: m.Window, kind: kind, oldValue: seen.row.value, newValue: seen.row.value,
		oldQuality: seen.row.quality, newQuality: seen.row.quality, reason: reason, corrects: m.Figure,
		oldState: string(m.From), newState: string(m.To)})
}

// propose records a department's proposed base or target.
func (p *projector) propose(b *batchTx, r domain.Recorded, h indicatorHead) error {
	var kind, window string
	var value, low, high *domain.Decimal
	var milestone, reason string
	var quality domain.Quality
	var src *domain.Source
	switch e := r.Data.(type) {
	case *domain.BaseProposed:
		w := e.Window.Normalize()
		if err := w.Validate("window"); err != nil {
			return broken("proposal %s: %v", r.ID, err)
		}
		kind, window, value, quality, src, reason = domain.ProposalBase, w.Key(), &e.Value, e.Quality, e.Source, e.Reason
	case *domain.TargetProposed:
		kind, value, low, high, milestone, src, reason = domain.ProposalTarget, e.Value, e.Low, e.High, e.Milestone, e.Source, e.Reason
		window = strconv.Itoa(h.year)
	}
	var s domain.Source
	if src != nil {
		s = *src
	}
	if err := b.exec(`INSERT INTO proposals (event_id, indicator_id, task_id, kind, window_key, value, target_low, target_high,
		target_milestone, quality, source_kind, source_name, reason, state, proposed_by, proposed_at, position)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)`,
		r.ID, r.AggregateID, h.taskID, kind, window, decText(value), decText(low), decText(high), nullStr(milestone), nullStr(quality),
		nullStr(s.Kind), nullStr(s.Name), reason, r.Actor, formatTime(r.RecordedAt), r.Position); err != nil {
		return err
	}
	shown := targetText(&domain.Target{Value: value, Low: low, High: high, Milestone: milestone})
	return insertChange(b, r, h, change{period: window, kind: kind + "_proposed", newValue: shown, newQuality: string(quality),
		reason: reason, source: s, newState: string(domain.ProposalPending)})
}

// decideProposal records the office's decision on a proposal, as the
// domain's DecideProposal allows it.
func (p *projector) decideProposal(b *batchTx, r domain.Recorded, h indicatorHead) error {
	var id, reason, kind string
	switch e := r.Data.(type) {
	case *domain.ProposalApproved:
		id, reason, kind = e.Proposal, e.Reason, "proposal_approved"
	case *domain.ProposalRejected:
		id, reason, kind = e.Proposal, e.Reason, "proposal_rejected"
	}
	var state, pkind, window string
	var value sql.NullString
	err := b.queryRow(`SELECT state, kind, COALESCE(window_key, ''), `+proposalText("p")+` FROM proposals p WHERE event_id = ? AND indicator_id = ?`,
		id, r.AggregateID).Scan(&state, &pkind, &window, &value)
	if errors.Is(err, sql.ErrNoRows) {
		return broken("%s names proposal %s, which is not recorded on indicator %s", r.Name, id, r.AggregateID)
	}
	if err != nil {
		return err
	}
	to, err := domain.DecideProposal(domain.ProposalState(state), pkind, r.Data)
	if err != nil {
		return broken("%s on indicator %s: %v", r.Name, r.AggregateID, err)
	}
	if err := b.exec(`UPDATE proposals SET state = ?, decided_by = ?, decided_at = ?, decision_reason = ?, decision_event_id = ?
		WHERE event_id = ?`, string(to), r.Actor, formatTime(r.RecordedAt), nullStr(reason), r.ID, id); err != nil {
		return err
	}
	return insertChange(b, r, h, change{period: window, kind: kind, newValue: value, reason: reason, corrects: id,
		oldState: state, newState: string(to)})
}

// proposalText spells a proposal's value as targets are spelled; alias is
// the proposals table's in the query.
func proposalText(alias string) string {
	return `COALESCE(` + alias + `.value, '[' || ` + alias + `.target_low || ',' || ` + alias + `.target_high || ']', ` + alias + `.target_milestone)`
}
