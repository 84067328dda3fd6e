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
		if err := deriveWarnings(b, memo, id); err != nil {
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

// currentFigure is one of an indicator's current figures (one per
// window), as derive reads them.
type currentFigure struct {
	eventID, windowKey     string
	year                   int
	fromMonth, toMonth     int
	value                  domain.Decimal
	numerator, denominator *domain.Decimal
	quality                domain.Quality
	sourceKind, sourceName sql.NullString
	finalDue               sql.NullString
	position               int64
	review                 string
}

// betterFigure says whether a is a better figure than b to stand for the
// indicator: the whole year, else the window ending latest, the widest of
// those, then the latest reported. This order is the one place the rule
// lives; the best figure and the best approved one both come from it.
func betterFigure(a, b *currentFigure) bool {
	aYear, bYear := a.fromMonth == 1 && a.toMonth == 12, b.fromMonth == 1 && b.toMonth == 12
	switch {
	case aYear != bYear:
		return aYear
	case a.toMonth != b.toMonth:
		return a.toMonth > b.toMonth
	case a.fromMonth != b.fromMonth:
		return a.fromMonth < b.fromMonth
	}
	return a.position > b.position
}

// bestFigures are the best of figs and the best approved of them (nil when
// there is none).
func bestFigures(figs []currentFigure) (best, approved *currentFigure) {
	for i := range figs {
		f := &figs[i]
		if best == nil || betterFigure(f, best) {
			best = f
		}
		if f.review == string(domain.ReviewApproved) && (approved == nil || betterFigure(f, approved)) {
			approved = f
		}
	}
	return best, approved
}

const currentFigureSQL = `SELECT event_id, window_key, year, from_month, to_month, value, numerator, denominator, quality,
	source_kind, source_name, final_due, position, review_state FROM figures WHERE indicator_id = ? AND state = 'current'`

// loadCurrentFigures reads an indicator's current figures, once per derive
// pass while the memo has room: the indicator's own columns, its
// year-over-year row and its warnings all start from them, and nothing in
// a pass changes figures.
func loadCurrentFigures(b *batchTx, memo *deriveMemo, indicatorID string) ([]currentFigure, error) {
	if figs, ok := memo.figures[indicatorID]; ok {
		return figs, nil
	}
	rows, err := b.query(currentFigureSQL, indicatorID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	figs := []currentFigure{}
	for rows.Next() {
		var f currentFigure
		var value string
		var num, den sql.NullString
		if err := rows.Scan(&f.eventID, &f.windowKey, &f.year, &f.fromMonth, &f.toMonth, &value, &num, &den, &f.quality,
			&f.sourceKind, &f.sourceName, &f.finalDue, &f.position, &f.review); err != nil {
			return nil, err
		}
		if f.value, err = domain.ParseDecimal(value); err != nil {
			return nil, err
		}
		if f.numerator, err = parseDec(num); err != nil {
			return nil, err
		}
		if f.denominator, err = parseDec(den); err != nil {
			return nil, err
		}
		figs = append(figs, f)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// An indicator without figures counts as one: the room bounds the
	// entries too.
	if n := max(len(figs), 1); memo.kept+n <= memo.room {
		memo.figures[indicatorID] = figs
		memo.kept += n
	}
	return figs, nil
}

// loadBestFigures are the indicator's best current figure and its best
// approved one (nil: none).
func loadBestFigures(b *batchTx, memo *deriveMemo, indicatorID string) (best, approved *currentFigure, err error) {
	figs, err := loadCurrentFigures(b, memo, indicatorID)
	if err != nil {
		return nil, nil, err
	}
	best, approved = bestFigures(figs)
	return best, approved, nil
}

// deriveMemo carries what one derive pass has read for a later step of the
// same pass: indicators' current figures, up to room figures in all (an
// indicator without any counts as one), and
// the best approved figure of each indicator derived (nil: none). Nothing
// in a pass changes figures.
//
// Bounded, because a rebuild derives every indicator in one pass: a
// million events' 270,000 current figures would be some 90 MB. An as-of
// replay from a snapshot or a live batch derives a few thousand
// indicators, and their warnings then read no figure twice.
type deriveMemo struct {
	figures    map[string][]currentFigure
	kept, room int
	approved   map[string]*currentFigure
}

// deriveMemoRoom is how many figures a pass keeps: at ~340 bytes each,
// about 5.5 MB.
var deriveMemoRoom = 16_384

func newDeriveMemo() *deriveMemo {
	return &deriveMemo{figures: map[string][]currentFigure{}, room: deriveMemoRoom, approved: map[string]*currentFigure{}}
}

func (p *projector) deriveIndicator(b *batchTx, st *batchState, memo *deriveMemo, id string) error {
	def, err := loadIndicatorDef(b, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // defined by a message that was then dead-lettered
	}
	if err != nil {
		return err
	}
	fig, approved, err := loadBestFigures(b, memo, id)
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
