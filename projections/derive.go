package projections

import (
	"database/sql"
	"errors"
	"sort"

	"kpitrail/domain"
)

// Indicator statuses stored in indicators.status: the six of
// domain.ClassifyProgress, plus two for indicators it cannot classify.
const (
	StatusNoTarget = "no_target" // a figure but no target to measure it against
	StatusError    = "error"     // the definition cannot yield a completion; see derive_error
)

// derive recomputes the derived columns of every row the batch touched.
// Derived columns are a pure function of the fact columns, so the result
// does not depend on how the log was cut into batches: an incremental build
// and a rebuild agree.
func (p *projector) derive(b *batchTx, st *batchState, today string) error {
	memo := newDeriveMemo()
	for _, id := range sortedKeys(st.indicators) {
		if err := p.deriveIndicator(b, st, memo, id); err != nil {
			return err
		}
	}
	years := make([]keyYear, 0, len(st.years))
	for ky := range st.years {
		years = append(years, ky)
	}
	sort.Slice(years, func(i, j int) bool {
		if years[i].key != years[j].key {
			return years[i].key < years[j].key
		}
		return years[i].year < years[j].year
	})
	for _, ky := range years {
		if err := deriveYear(b, memo, ky); err != nil {
			return err
		}
	}
	warn, err := warnTargets(b, sortedKeys(st.indicators))
	if err != nil {
		return err
	}
	for _, id := range warn {
		if err := deriveWarnings(b, id); err != nil {
			return err
		}
	}
	for _, id := range sortedKeys(st.tasks) {
		if err := p.deriveTask(b, id, today); err != nil {
			return err
		}
	}
	return nil
}

type indicatorDef struct {
	id, taskID, key   string
	year              int
	direction         domain.Direction
	formula           domain.Formula
	additive          bool
	rounding          domain.RoundingMode
	baseline          *domain.Decimal
	target, low, high *domain.Decimal
	milestone         string
	targetEventID     string
	definedEventID    string
}

func loadIndicatorDef(b *batchTx, id string) (indicatorDef, error) {
	var d indicatorDef
	var formula, baseline, target, low, high, milestone, targetEvent sql.NullString
	var rounding string
	err := b.queryRow(`SELECT id, task_id, key, year, direction, formula, additive, rounding, baseline, target, target_low,
		target_high, target_milestone, target_event_id, defined_event_id FROM indicators WHERE id = ?`, id).
		Scan(&d.id, &d.taskID, &d.key, &d.year, &d.direction, &formula, &d.additive, &rounding, &baseline, &target,
			&low, &high, &milestone, &targetEvent, &d.definedEventID)
	if err != nil {
		return d, err
	}
	d.formula, d.milestone, d.targetEventID = domain.Formula(formula.String), milestone.String, targetEvent.String
	if d.rounding, err = domain.RoundingModeFromString(rounding); err != nil {
		return d, err
	}
	for _, x := range []struct {
		dst **domain.Decimal
		src sql.NullString
	}{{&d.baseline, baseline}, {&d.target, target}, {&d.low, low}, {&d.high, high}} {
		if *x.dst, err = parseDec(x.src); err != nil {
			return d, err
		}
	}
	return d, nil
}

// currentFigure is the indicator's best figure across windows: the whole
// year when reported, else the window ending latest (the widest of those,
// then the latest reported).
type currentFigure struct {
	eventID, windowKey     string
	fromMonth, toMonth     int
	value                  domain.Decimal
	quality                domain.Quality
	sourceKind, sourceName sql.NullString
	finalDue               sql.NullString
	position               int64
	review                 string
}

// bestFigureOrder orders an indicator's current figures from best to
// worst: the whole year, else the window ending latest, the widest of
// those, then the latest reported.
const bestFigureOrder = `ORDER BY (from_month = 1 AND to_month = 12) DESC, to_month DESC, from_month ASC, position DESC`

const currentFigureSQL = `SELECT event_id, window_key, from_month, to_month, value, quality, source_kind, source_name, final_due,
	position, review_state FROM figures WHERE indicator_id = ? AND state = 'current'`

// loadBestFigure is the indicator's best current figure, or its best
// approved one when approved is set; nil when there is none.
func loadBestFigure(b *batchTx, indicatorID string, approved bool) (*currentFigure, error) {
	only := ""
	if approved {
		only = ` AND review_state = '` + string(domain.ReviewApproved) + `'`
	}
	rows, err := b.query(currentFigureSQL+only+` `+bestFigureOrder+` LIMIT 1`, indicatorID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	if !rows.Next() {
		return nil, rows.Err()
	}
	return scanCurrentFigure(rows)
}

// loadBestFigures is loadBestFigure for both at once, from one read of the
// current figures in bestFigureOrder: the best approved figure is the first
// approved one. A derive pass needs both of every indicator it touches
// (its own columns, then its year-over-year row on approved figures).
func loadBestFigures(b *batchTx, indicatorID string) (best, approved *currentFigure, err error) {
	rows, err := b.query(currentFigureSQL+` `+bestFigureOrder, indicatorID)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		f, err := scanCurrentFigure(rows)
		if err != nil {
			return nil, nil, err
		}
		if best == nil {
			best = f
		}
		if f.review == string(domain.ReviewApproved) {
			return best, f, nil
		}
	}
	return best, nil, rows.Err()
}

func scanCurrentFigure(rows *sql.Rows) (*currentFigure, error) {
	var f currentFigure
	var value string
	if err := rows.Scan(&f.eventID, &f.windowKey, &f.fromMonth, &f.toMonth, &value, &f.quality, &f.sourceKind, &f.sourceName,
		&f.finalDue, &f.position, &f.review); err != nil {
		return nil, err
	}
	var err error
	if f.value, err = domain.ParseDecimal(value); err != nil {
		return nil, err
	}
	return &f, nil
}

// deriveMemo carries what one derive pass has read for a later step of the
// same pass: the best approved figure of each indicator it derived (nil:
// none), for the year-over-year rows. Nothing in a pass changes figures.
type deriveMemo struct {
	approved map[string]*currentFigure
}

func newDeriveMemo() *deriveMemo { return &deriveMemo{approved: map[string]*currentFigure{}} }

func (p *projector) deriveIndicator(b *batchTx, st *batchState, memo *deriveMemo, id string) error {
	def, err := loadIndicatorDef(b, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // defined by a message that was then dead-lettered
	}
	if err != nil {
		return err
	}
	fig, approved, err := loadBestFigures(b, id)
	if err != nil {
		return err
	}
	memo.approved[id] = approved
	var milestoneEvent string
	if def.direction == domain.Qualitative && def.milestone != "" {
		err := b.queryRow(`SELECT json_extract(j.value, '$.event_id') FROM tasks t, json_each(t.milestones) j
			WHERE t.id = ? AND json_extract(j.value, '$.milestone') = ? LIMIT 1`, def.taskID, def.milestone).Scan(&milestoneEvent)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
	}
	d, prov := computeIndicator(def, fig, milestoneEvent)
	if err := b.exec(`UPDATE indicators SET value = ?, value_f = ?, value_event_id = ?, value_window = ?, from_month = ?,
		to_month = ?, quality = ?, source_kind = ?, source_name = ?, final_due = ?, year_closed = ?, completion_ratio = ?,
		completion_ratio_f = ?, completion_pct_display = ?, completion_case = ?, formula_used = ?, met = ?, status = ?,
		expected_to_date = ?, expected_share = ?, expected_share_display = ?, quality_basis = ?, derive_error = ?,
		position = ?, review_state = ? WHERE id = ?`,
		d.value, d.valueF, d.valueEventID, d.valueWindow, d.fromMonth, d.toMonth, d.quality, d.sourceKind, d.sourceName,
		d.finalDue, d.yearClosed, d.ratio, d.ratioF, d.pctDisplay, d.completionCase, d.formulaUsed, d.met, d.status,
		d.expected, d.expectedShare, d.expectedShareDisplay, d.qualityBasis, d.deriveError, d.position, d.review, id); err != nil {
		return err
	}
	if err := replaceProvenance(b, "indicators", id, prov); err != nil {
		return err
	}
	if err := p.derivePeriods(b, id); err != nil {
		return err
	}
	// This year's row and next year's (whose base this year may be).
	st.years[keyYear{def.key, def.year}] = true
	st.years[keyYear{def.key, def.year + 1}] = true
	st.tasks[def.taskID] = true
	return nil
}

// derivedIndicator holds the derived columns; nil fields are NULL.
type derivedIndicator struct {
	value, valueF, valueEventID, valueWindow, fromMonth, toMonth any
	quality, sourceKind, sourceName, finalDue, yearClosed        any
	ratio, ratioF, pctDisplay, completionCase, formulaUsed, met  any
	status                                                       string
	expected, expectedShare, expectedShareDisplay                any
	qualityBasis, deriveError, position, review                  any
}

// computeIndicator applies the domain's rules to one indicator. Whether
// the figure closes the year is the domain's rule too (YearClosedBy).
func computeIndicator(def indicatorDef, fig *currentFigure, milestoneEvent string) (derivedIndicator, provenanceSet) {
	d := derivedIndicator{status: string(domain.StatusPending)}
	prov := provenanceSet{}
	closed := false
	if fig != nil {
		closed = domain.YearClosedBy(domain.Window{Year: def.year, FromMonth: fig.fromMonth, ToMonth: fig.toMonth})
		d.value, d.valueF, d.valueEventID, d.valueWindow = fig.value.String(), fig.value.Float64(), fig.eventID, fig.windowKey
		d.fromMonth, d.toMonth, d.quality, d.yearClosed = fig.fromMonth, fig.toMonth, string(fig.quality), boolInt(closed)
		d.sourceKind, d.sourceName, d.finalDue, d.position, d.review = fig.sourceKind, fig.sourceName, fig.finalDue, fig.position, fig.review
		prov.add("value", fig.eventID)
	}
	prov.add("target", def.targetEventID)
	switch {
	case def.direction == domain.Qualitative:
		// A milestone target is met when the task reaches that milestone.
		if milestoneEvent != "" {
			d.status, d.met = string(domain.StatusMet), 1
			prov.add("status", def.targetEventID, milestoneEvent)
		}
		return d, prov
	case fig == nil:
		return d, prov
	}
	in := domain.CompletionInput{Direction: def.direction, Formula: def.formula, Actual: fig.value,
		Baseline: def.baseline, Low: def.low, High: def.high}
	switch {
	case def.direction == domain.WithinRange && (def.low == nil || def.high == nil),
		def.direction != domain.WithinRange && def.target == nil:
		d.status = StatusNoTarget
		return d, prov
	case def.target != nil:
		in.Target = *def.target
	}
	c, err := domain.ComputeCompletion(in)
	if err != nil {
		d.status, d.deriveError = StatusError, err.Error()
		return d, prov
	}
	basis := []string{fig.eventID, def.targetEventID, def.definedEventID}
	if c.Ratio != nil {
		d.ratio, d.ratioF = ratText(c.Ratio), ratFloat(c.Ratio)
		d.pctDisplay = domain.FormatPercent(c.Ratio, 1, def.rounding)
		prov.add("completion_ratio", basis...)
		prov.add("completion_pct_display", basis...)
	}
	d.completionCase, d.formulaUsed, d.met = nullStr(c.Case), string(c.Formula), boolInt(c.Met)
	d.qualityBasis = string(fig.quality)
	// Pace only makes sense for a cumulative window from January: a
	// June–November figure says nothing about the year to date.
	through := 0
	if fig.fromMonth == 1 {
		through = fig.toMonth
	}
	d.status = string(domain.ClassifyProgress(domain.ProgressInput{Completion: &c, Direction: def.direction,
		YearClosed: closed, Additive: def.additive, ThroughMonth: through, Actual: fig.value, Target: in.Target}))
	prov.add("status", basis...)
	prov.add("met", basis...)
	if def.additive && !closed && through > 0 && def.target != nil && def.direction != domain.WithinRange {
		if exp, err := domain.ExpectedToDate(*def.target, through); err == nil {
			share := domain.ExpectedShare(through)
			d.expected, d.expectedShare = ratText(exp), ratText(share)
			d.expectedShareDisplay = domain.FormatPercent(share, 1, def.rounding)
			prov.add("expected_to_date", def.targetEventID, fig.eventID)
		}
	}
	return d, prov
}
