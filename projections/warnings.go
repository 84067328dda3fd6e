package projections

import (
	"database/sql"
	"encoding/json"
	"errors"
	"sort"
	"strconv"

	"kpitrail/domain"
)

// explainWarning keeps the latest explanation of a warning, whether or not
// the warning stands now, and writes it to the audit trail.
func (p *projector) explainWarning(b *batchTx, r domain.Recorded, h indicatorHead, e *domain.WarningExplained) error {
	if _, ok := domain.WarningRuleByID(e.Rule); !ok {
		return broken("%s names rule %q, which no build of kpitrail declares", r.Name, e.Rule)
	}
	period := strconv.Itoa(h.year)
	if e.Figure != "" {
		f, _, err := figureByID(b, e.Figure, r.AggregateID)
		if err != nil {
			return err
		}
		if f == nil {
			return broken("%s names figure %s, which is not recorded on indicator %s", r.Name, e.Figure, r.AggregateID)
		}
		period = f.windowKey
	}
	if err := b.exec(`INSERT INTO warning_explanations (indicator_id, rule, subject, reason, actor, recorded_at, event_id, position)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (indicator_id, rule, subject) DO UPDATE SET reason = excluded.reason, actor = excluded.actor,
			recorded_at = excluded.recorded_at, event_id = excluded.event_id, position = excluded.position`,
		r.AggregateID, e.Rule, e.Figure, e.Reason, r.Actor, formatTime(r.RecordedAt), r.ID, r.Position); err != nil {
		return err
	}
	return insertChange(b, r, h, change{period: period, kind: "warning_explained", reason: e.Reason, note: e.Rule, corrects: e.Figure})
}

// warnTargets are the indicators whose warnings a batch may have changed:
// those it touched, the totals of touched parts, and the other years'
// indicators of a touched key (their outliers against last year, and the
// key's unit and direction).
func warnTargets(b *batchTx, touched []string) ([]string, error) {
	set := map[string]bool{}
	for _, id := range touched {
		set[id] = true
		var key string
		var partOf sql.NullString
		err := b.queryRow(`SELECT key, part_of FROM indicators WHERE id = ?`, id).Scan(&key, &partOf)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if partOf.Valid {
			set[partOf.String] = true
		}
		same, err := b.strings(`SELECT id FROM indicators WHERE key = ? AND id <> ?`, key, id)
		if err != nil {
			return nil, err
		}
		for _, s := range same {
			set[s] = true
		}
	}
	return sortedKeys(set), nil
}

// deriveWarnings evaluates the domain's rules on one indicator's facts and
// replaces its warnings, each carrying its explanation if it has one.
func deriveWarnings(b *batchTx, memo *deriveMemo, id string) error {
	facts, head, ok, err := loadWarningFacts(b, memo, id)
	if err != nil {
		return err
	}
	if err := b.exec(`DELETE FROM warnings WHERE indicator_id = ?`, id); err != nil {
		return err
	}
	if !ok {
		return nil // not defined (dead-lettered), or withdrawn: no warnings
	}
	for _, w := range domain.EvaluateWarnings(facts) {
		related := w.Related
		if related == nil {
			related = []string{}
		}
		rel, _ := json.Marshal(related)
		if err := b.exec(`INSERT INTO warnings (indicator_id, rule, subject, task_id, year, window_key, severity, message, related, state,
			explanation, explained_by, explained_at, explanation_event_id)
			SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, CASE WHEN x.event_id IS NULL THEN 'open' ELSE 'explained' END,
				x.reason, x.actor, x.recorded_at, x.event_id
			FROM (SELECT 1) LEFT JOIN warning_explanations x ON x.indicator_id = ? AND x.rule = ? AND x.subject = ?`,
			id, w.Rule, w.Figure, head.taskID, head.year, nullStr(w.Window), w.Severity, w.Message, string(rel), id, w.Rule, w.Figure); err != nil {
			return err
		}
	}
	return nil
}

// loadWarningFacts reads what the rules need of an indicator; ok is false
// for one that is not (or no longer) active.
func loadWarningFacts(b *batchTx, memo *deriveMemo, id string) (domain.WarningFacts, indicatorHead, bool, error) {
	var f domain.WarningFacts
	var h indicatorHead
	var unit, partOf, tol, band, convUnit, convFactor sql.NullString
	var lifecycle string
	err := b.queryRow(`SELECT task_id, year, key, name, unit, direction, additive, allow_negative, part_of, sum_tolerance, outlier_band,
		conversion_from_unit, conversion_factor, lifecycle FROM indicators WHERE id = ?`, id).
		Scan(&h.taskID, &h.year, &f.Key, &f.Name, &unit, &f.Direction, &f.Additive, &f.AllowNegative, &partOf, &tol, &band,
			&convUnit, &convFactor, &lifecycle)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && lifecycle != "active") {
		return f, h, false, nil
	}
	if err != nil {
		return f, h, false, err
	}
	f.IndicatorID, f.Unit = id, unit.String
	if f.SumTolerance, err = parseDec(tol); err != nil {
		return f, h, false, err
	}
	if f.OutlierBand, err = parseDec(band); err != nil {
		return f, h, false, err
	}
	if convUnit.Valid {
		factor, err := domain.ParseDecimal(convFactor.String)
		if err != nil {
			return f, h, false, err
		}
		f.Conversion = &domain.UnitConversion{FromUnit: convUnit.String, Factor: factor}
	}
	if f.Figures, err = currentFigures(b, memo, id); err != nil {
		return f, h, false, err
	}
	f.LastYear = map[string]domain.WarningFigure{}
	finders := map[int]*baseFinder{}
	for _, x := range f.Figures {
		w := x.Window.Normalize()
		prev := domain.Window{Year: w.Year - 1, FromMonth: w.FromMonth, ToMonth: w.ToMonth}
		fd := finders[prev.Year]
		if fd == nil {
			fd = newBaseFinder(b, f.Key, id, prev.Year)
			finders[prev.Year] = fd
		}
		base, err := fd.find(prev.Key(), false)
		if err != nil {
			return f, h, false, err
		}
		if base != nil {
			f.LastYear[w.Key()] = domain.WarningFigure{EventID: base.eventID, Window: prev, Value: base.value}
		}
	}
	parts, err := b.strings(`SELECT id FROM indicators WHERE part_of = ? AND lifecycle = 'active' ORDER BY id`, id)
	if err != nil {
		return f, h, false, err
	}
	for _, pid := range parts {
		var name string
		if err := b.queryRow(`SELECT name FROM indicators WHERE id = ?`, pid).Scan(&name); err != nil {
			return f, h, false, err
		}
		figs, err := currentFigures(b, memo, pid)
		if err != nil {
			return f, h, false, err
		}
		f.Parts = append(f.Parts, domain.WarningPart{IndicatorID: pid, Name: name, Figures: figs})
	}
	rows, err := b.query(`SELECT id, year, COALESCE(unit, ''), direction FROM indicators WHERE key = ? AND id <> ? AND lifecycle = 'active' ORDER BY year, id`,
		f.Key, id)
	if err != nil {
		return f, h, false, err
	}
	defer rows.Close()
	for rows.Next() {
		var u domain.KeyUse
		if err := rows.Scan(&u.IndicatorID, &u.Year, &u.Unit, &u.Direction); err != nil {
			return f, h, false, err
		}
		f.KeyUses = append(f.KeyUses, u)
	}
	return f, h, true, rows.Err()
}

// currentFigures are an indicator's current figures, one per window, as
// the warning rules take them.
func currentFigures(b *batchTx, memo *deriveMemo, id string) ([]domain.WarningFigure, error) {
	figs, err := loadCurrentFigures(b, memo, id)
	if err != nil {
		return nil, err
	}
	var out []domain.WarningFigure
	for _, f := range figs {
		out = append(out, domain.WarningFigure{EventID: f.eventID, Window: domain.Window{Year: f.year, FromMonth: f.fromMonth, ToMonth: f.toMonth},
			Value: f.value, Numerator: f.numerator, Denominator: f.denominator})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].EventID < out[j].EventID })
	return out, nil
}
