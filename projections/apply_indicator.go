package projections

import (
	"database/sql"
	"errors"
	"strconv"

	"kpitrail/domain"
)

// indicatorHead is what an indicator event needs to know about its row.
type indicatorHead struct {
	taskID string
	key    string
	year   int
	target sql.NullString // text form, for the audit of a revision
}

func (p *projector) applyIndicator(b *batchTx, st *batchState, r domain.Recorded) error {
	id := r.AggregateID
	h, exists := st.indicatorHeads[id]
	var err error
	if !exists {
		err = b.queryRow(`SELECT task_id, key, year, `+targetTextSQL+` FROM indicators WHERE id = ?`, id).Scan(&h.taskID, &h.key, &h.year, &h.target)
		exists = err == nil
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
	}
	if _, defining := r.Data.(*domain.IndicatorDefined); !defining && !exists {
		return broken("%s for indicator %s, which is not defined", r.Name, id)
	}
	switch e := r.Data.(type) {
	case *domain.IndicatorDefined:
		if exists {
			return broken("indicator %s is already defined", id)
		}
		h.taskID = e.TaskID
		err = p.defineIndicator(b, r, e)
	case *domain.IndicatorTargetSet:
		delete(st.indicatorHeads, id)
		err = p.setTarget(b, r, h, e)
	case *domain.IndicatorBaseRecorded:
		err = p.recordBase(b, r, h, e)
	case *domain.FigureReported:
		err = p.reportFigure(b, r, h, e)
	case *domain.FigureCorrected:
		err = p.correctFigure(b, r, h, e)
	case *domain.FigureRetracted:
		err = p.retractFigure(b, r, h, e)
	case *domain.FigureSubmitted, *domain.FigureApproved, *domain.FigureReturned, *domain.FigureReopened:
		err = p.reviewFigure(b, r, h)
	case *domain.BaseProposed, *domain.TargetProposed:
		err = p.propose(b, r, h)
	case *domain.ProposalApproved, *domain.ProposalRejected:
		err = p.decideProposal(b, r, h)
	case *domain.WarningExplained:
		err = p.explainWarning(b, r, h, e)
	case *domain.IndicatorWithdrawn:
		err = b.exec(`UPDATE indicators SET lifecycle = 'withdrawn', withdrawn_reason = ? WHERE id = ?`, nullStr(e.Reason), id)
	default:
		return broken("no read model handles %s", r.Name)
	}
	if err != nil {
		return err
	}
	st.indicators[id] = true
	st.tasks[h.taskID] = true
	if _, defining := r.Data.(*domain.IndicatorDefined); !defining {
		if _, retargeted := r.Data.(*domain.IndicatorTargetSet); !retargeted {
			st.indicatorHeads[id] = h
		}
	}
	st.setVersion(r.Ref(), r)
	return nil
}

// targetTextSQL spells a target the way figure_changes shows it: the value,
// "[low,high]" for a range, or the milestone.
const targetTextSQL = `COALESCE(target, '[' || target_low || ',' || target_high || ']', target_milestone)`

func targetText(t *domain.Target) any {
	switch {
	case t == nil:
		return nil
	case t.Value != nil:
		return t.Value.String()
	case t.Low != nil && t.High != nil:
		return "[" + t.Low.String() + "," + t.High.String() + "]"
	}
	return nullStr(t.Milestone)
}

func (p *projector) defineIndicator(b *batchTx, r domain.Recorded, e *domain.IndicatorDefined) error {
	var one int
	err := b.queryRow(`SELECT 1 FROM tasks WHERE id = ?`, e.TaskID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return broken("indicator %s is defined on task %s, which is not registered", r.AggregateID, e.TaskID)
	}
	if err != nil {
		return err
	}
	rounding := e.Rounding
	if rounding == "" {
		rounding = domain.HalfUp.String()
	}
	if _, err := domain.RoundingModeFromString(rounding); err != nil {
		return broken("indicator %s: %v", r.AggregateID, err)
	}
	key := e.Key
	if key == "" {
		key = r.AggregateID // as the domain defaults it
	}
	at := formatTime(r.RecordedAt)
	var convUnit, convFactor any
	if c := e.Conversion; c != nil {
		convUnit, convFactor = c.FromUnit, c.Factor.String()
	}
	return b.exec(`INSERT INTO indicators (id, task_id, year, key, name, unit, direction, formula, additive, is_rate,
		cadence, rounding, baseline, description, lifecycle, defined_event_id, status, version, last_position, created_at, updated_at,
		allow_negative, part_of, sum_tolerance, outlier_band, conversion_from_unit, conversion_factor)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, 'pending_data', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.AggregateID, e.TaskID, e.Year, key, e.Name, nullStr(e.Unit), string(e.Direction), nullStr(e.Formula),
		boolInt(e.Additive), boolInt(e.IsRate), nullStr(e.Cadence), rounding, decText(e.Baseline), nullStr(e.Description),
		r.ID, r.AggregateVersion, r.Position, at, at, boolInt(e.AllowNegative), nullStr(e.PartOf), decText(e.SumTolerance),
		decText(e.OutlierBand), convUnit, convFactor)
}

func (p *projector) setTarget(b *batchTx, r domain.Recorded, h indicatorHead, e *domain.IndicatorTargetSet) error {
	if err := b.exec(`UPDATE indicators SET target = ?, target_f = ?, target_low = ?, target_high = ?, target_milestone = ?,
		target_event_id = ? WHERE id = ?`,
		decText(e.Value), decFloat(e.Value), decText(e.Low), decText(e.High), nullStr(e.Milestone), r.ID, r.AggregateID); err != nil {
		return err
	}
	kind, old := "target_set", any(nil)
	if e.Revision || h.target.Valid {
		kind = "target_revised"
		if old = targetText(e.Previous); old == nil && h.target.Valid {
			old = h.target.String
		}
	}
	var src domain.Source
	if e.Source != nil {
		src = *e.Source
	}
	return insertChange(b, r, h, change{period: strconv.Itoa(h.year), kind: kind, oldValue: old,
		newValue: targetText(&domain.Target{Value: e.Value, Low: e.Low, High: e.High, Milestone: e.Milestone}),
		reason:   e.Reason, source: src})
}

func (p *projector) recordBase(b *batchTx, r domain.Recorded, h indicatorHead, e *domain.IndicatorBaseRecorded) error {
	w := e.Window.Normalize()
	// The audit shows the comparison that changed: the base year over year
	// used until now (a base recorded before, or last year's own figure for
	// the window), not only what was recorded on this indicator.
	before, err := findBase(b, h.key, r.AggregateID, w.Year, w.Key(), false)
	if err != nil {
		return err
	}
	var src domain.Source
	if e.Source != nil {
		src = *e.Source
	}
	if err := b.exec(`INSERT INTO bases (indicator_id, window_key, year, from_month, to_month, value, value_f, quality,
		source_kind, source_name, restated, reason, event_id, position, recorded_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (indicator_id, window_key) DO UPDATE SET value = excluded.value, value_f = excluded.value_f,
			quality = excluded.quality, source_kind = excluded.source_kind, source_name = excluded.source_name,
			restated = excluded.restated, reason = excluded.reason, event_id = excluded.event_id,
			position = excluded.position, recorded_at = excluded.recorded_at`,
		r.AggregateID, w.Key(), w.Year, w.FromMonth, w.ToMonth, e.Value.String(), e.Value.Float64(), string(e.Quality),
		nullStr(src.Kind), nullStr(src.Name), boolInt(e.Restated || before != nil), nullStr(e.Reason), r.ID, r.Position,
		formatTime(r.RecordedAt)); err != nil {
		return err
	}
	kind, old, oldQuality := "base_recorded", any(nil), ""
	if before != nil {
		kind, old, oldQuality = "base_restated", before.value.String(), before.quality
	} else if e.Restated {
		kind, old = "base_restated", decText(e.Previous)
	}
	return insertChange(b, r, h, change{period: w.Key(), kind: kind, oldValue: old, newValue: e.Value.String(),
		oldQuality: oldQuality, newQuality: string(e.Quality), reason: e.Reason, source: src})
}

// change is one row of figure_changes.
type change struct {
	period, kind           string
	oldValue, newValue     any
	oldQuality, newQuality string
	reason, note           string
	source                 domain.Source
	corrects               string
	oldState, newState     string // review and proposal steps
}

const figureChangeColumns = `event_id, indicator_id, task_id, period, kind, old_value, new_value,
	old_quality, new_quality, reason, note, figure_source_kind, figure_source_name, corrects, actor, recorded_at,
	source, command_id, position, old_state, new_state, actor_token_id`

func insertChange(b *batchTx, r domain.Recorded, h indicatorHead, c change) error {
	return b.row(&b.changes, r.ID, r.AggregateID, h.taskID, c.period, c.kind, c.oldValue, c.newValue, nullStr(c.oldQuality),
		nullStr(c.newQuality), nullStr(c.reason), nullStr(c.note), nullStr(c.source.Kind), nullStr(c.source.Name),
		nullStr(c.corrects), r.Actor, formatTime(r.RecordedAt), r.Source, r.CommandID, r.Position, nullStr(c.oldState), nullStr(c.newState),
		nullStr(r.ActorTokenID))
}
