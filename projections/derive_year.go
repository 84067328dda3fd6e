package projections

import (
	"database/sql"
	"errors"

	"kpitrail/domain"
)

// Where indicator_years.base came from.
const (
	BaseFromIndicator = "indicator" // the previous year's indicator with the same key
	BaseFromRecorded  = "recorded"  // an indicator.base_recorded event
)

// firstDefinedSQL picks the indicator a (key, year) row stands for when
// several share a key: the first defined, a choice that never moves.
const firstDefinedSQL = `ORDER BY (SELECT position FROM events_log WHERE event_id = defined_event_id), id LIMIT 1`

// firstDefined reads, with cols, the active indicator a (key, year) stands
// for (firstDefinedSQL) and hands its row to scan; false when there is
// none. Most pairs have one candidate, which needs no ordering: only when a
// second turns up is it asked again in firstDefinedSQL's order. The sort
// and its lookup in events_log were three quarters of the lookup's time.
func firstDefined(b *batchTx, cols, key string, year int, scan func(*sql.Rows) error) (bool, error) {
	q := `SELECT ` + cols + ` FROM indicators WHERE key = ? AND year = ? AND lifecycle = 'active'`
	rows, err := b.query(q+` LIMIT 2`, key, year)
	if err != nil {
		return false, err
	}
	n := 0
	for rows.Next() {
		if n++; n == 1 {
			if err := scan(rows); err != nil {
				rows.Close()
				return false, err
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil || n < 2 {
		return n == 1, err
	}
	if rows, err = b.query(q+` `+firstDefinedSQL, key, year); err != nil {
		return false, err
	}
	defer rows.Close()
	if !rows.Next() {
		return false, rows.Err()
	}
	return true, scan(rows)
}

type yearIndicator struct {
	id, taskID, name   string
	unit               sql.NullString
	isRate             bool
	rounding           string
	value, valueWindow sql.NullString
	valueEventID       sql.NullString
	fromMonth, toMonth sql.NullInt64
	quality, target    sql.NullString
	met                sql.NullInt64
	status             string
	review             sql.NullString
}

type yearBase struct {
	value   domain.Decimal
	window  string
	quality string
	source  string
	eventID string
}

// deriveYear rebuilds one indicator_years row: the year's value compared
// with the same window of the year before (同期, rule 7).
func deriveYear(b *batchTx, memo *deriveMemo, ky keyYear) error {
	rowKey := compositeKey(ky.key, ky.year)
	var yi yearIndicator
	found, err := firstDefined(b, `id, task_id, name, unit, is_rate, rounding, value, value_window, value_event_id, from_month,
		to_month, quality, `+targetTextSQL+`, met, status, review_state`, ky.key, ky.year, func(rows *sql.Rows) error {
		return rows.Scan(&yi.id, &yi.taskID, &yi.name, &yi.unit, &yi.isRate, &yi.rounding, &yi.value, &yi.valueWindow,
			&yi.valueEventID, &yi.fromMonth, &yi.toMonth, &yi.quality, &yi.target, &yi.met, &yi.status, &yi.review)
	})
	if err != nil {
		return err
	}
	if !found {
		if err := b.exec(`DELETE FROM indicator_years WHERE key = ? AND year = ?`, ky.key, ky.year); err != nil {
			return err
		}
		return replaceProvenance(b, "indicator_years", rowKey, nil)
	}
	// Both comparisons look in the same previous year for the same
	// indicator: one finder reads what they share once.
	finder := newBaseFinder(b, ky.key, yi.id, ky.year-1)
	prov := provenanceSet{}
	prov.add("value", yi.valueEventID.String)
	var base *yearBase
	var change *domain.Change
	if yi.value.Valid {
		w := domain.Window{Year: ky.year - 1, FromMonth: int(yi.fromMonth.Int64), ToMonth: int(yi.toMonth.Int64)}
		if base, err = finder.find(w.Key(), false); err != nil {
			return err
		}
		if base != nil {
			current, err := domain.ParseDecimal(yi.value.String)
			if err != nil {
				return err
			}
			c := domain.YearOverYear(current, base.value, yi.isRate)
			change = &c
			prov.add("base", base.eventID)
			both := []string{base.eventID, yi.valueEventID.String}
			prov.add("change_abs", both...)
			prov.add("is_new", both...)
			if c.Pct != nil {
				prov.add("change_pct", both...)
			}
			if c.PointsDiff != nil {
				prov.add("change_pp", both...)
			}
		}
	}
	mode, err := domain.RoundingModeFromString(yi.rounding)
	if err != nil {
		return err
	}
	ap, err := approvedYear(b, memo, finder, ky, yi, mode, prov)
	if err != nil {
		return err
	}
	var baseValue, baseF, baseWindow, baseQuality, baseSource, baseEvent any
	var abs, pct, pctF, pctDisplay, pp, isNew any
	if base != nil {
		baseValue, baseF, baseWindow = base.value.String(), base.value.Float64(), base.window
		baseQuality, baseSource, baseEvent = base.quality, base.source, base.eventID
	}
	if change != nil {
		abs, isNew = change.Abs.String(), boolInt(change.New)
		if change.Pct != nil {
			pct, pctF = ratText(change.Pct), ratFloat(change.Pct)
			pctDisplay = domain.RoundRat(change.Pct, 1, mode).String()
		}
		if change.PointsDiff != nil {
			pp = change.PointsDiff.String()
		}
	}
	if err := b.exec(`INSERT OR REPLACE INTO indicator_years (key, year, indicator_id, task_id, name, unit, is_rate, value,
		value_f, value_window, quality, target, met, status, base, base_f, base_window, base_quality, base_source,
		base_event_id, change_abs, change_pct, change_pct_f, change_pct_display, change_pp, is_new, review_state,
		approved_value, approved_value_window, approved_value_event_id, approved_base, approved_base_source, approved_base_event_id,
		approved_change_abs, approved_change_pct, approved_change_pct_display, approved_change_pp, approved_is_new)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		ky.key, ky.year, yi.id, yi.taskID, yi.name, yi.unit, boolInt(yi.isRate), yi.value, valueFloat(yi.value),
		yi.valueWindow, yi.quality, yi.target, yi.met, yi.status, baseValue, baseF, baseWindow, baseQuality, baseSource,
		baseEvent, abs, pct, pctF, pctDisplay, pp, isNew, yi.review, ap.value, ap.window, ap.eventID, ap.base, ap.baseSource,
		ap.baseEvent, ap.abs, ap.pct, ap.pctDisplay, ap.pp, ap.isNew); err != nil {
		return err
	}
	return replaceProvenance(b, "indicator_years", rowKey, prov)
}

// findBase chooses the previous-year figure for window key prevWindow:
//
//  1. a base recorded on this indicator (indicator.base_recorded): whoever
//     records one says what this year is compared with, and a restatement
//     (按可比口径) exists precisely because last year's own figure is not
//     comparable, so it takes effect when it is recorded;
//  2. else the current figure of last year's indicator with the same key
//     (for year over year on approved figures, only if it is approved).
//
// Figures are looked up in the batch's buffer as well as the table, so the
// answer during a batch (the audit of a base) is the one derive gives after
// it.
func findBase(b *batchTx, key, indicatorID string, year int, prevWindow string, approvedOnly bool) (*yearBase, error) {
	return newBaseFinder(b, key, indicatorID, year).find(prevWindow, approvedOnly)
}

// baseFinder answers findBase for one indicator and one previous year,
// window after window, reading what every window shares (the bases
// recorded on the indicator, last year's indicator with the key, units)
// once: the warnings' facts ask it for every current figure.
type baseFinder struct {
	b          *batchTx
	key, id    string
	year       int
	recorded   map[string]recordedBase // nil until read
	lastLoaded bool
	lastYear   string // "" when the key has no active indicator that year
	lastUnit   string
	book       *figureBook
	unitLoaded bool
	unit       string
	conv       *domain.UnitConversion
}

type recordedBase struct{ value, quality, eventID string }

func newBaseFinder(b *batchTx, key, indicatorID string, year int) *baseFinder {
	return &baseFinder{b: b, key: key, id: indicatorID, year: year}
}

func (f *baseFinder) find(prevWindow string, approvedOnly bool) (*yearBase, error) {
	if f.recorded == nil {
		f.recorded = map[string]recordedBase{}
		rows, err := f.b.query(`SELECT window_key, value, quality, event_id FROM bases WHERE indicator_id = ?`, f.id)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var w string
			var r recordedBase
			if err := rows.Scan(&w, &r.value, &r.quality, &r.eventID); err != nil {
				rows.Close()
				return nil, err
			}
			f.recorded[w] = r
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	if r, ok := f.recorded[prevWindow]; ok {
		d, err := domain.ParseDecimal(r.value)
		if err != nil {
			return nil, err
		}
		return &yearBase{value: d, window: prevWindow, quality: r.quality, source: BaseFromRecorded, eventID: r.eventID}, nil
	}
	if !f.lastLoaded {
		var lastUnit sql.NullString
		_, err := firstDefined(f.b, `id, unit`, f.key, f.year, func(rows *sql.Rows) error { return rows.Scan(&f.lastYear, &lastUnit) })
		if err != nil {
			return nil, err
		}
		f.lastLoaded, f.lastUnit = true, lastUnit.String
		if f.lastYear != "" {
			f.book = newFigureBook(f.b, f.lastYear)
		}
	}
	if f.lastYear == "" {
		return nil, nil
	}
	cur, ok, err := f.book.CurrentFigure(prevWindow)
	if err != nil || !ok || (approvedOnly && cur.Review != domain.ReviewApproved) {
		return nil, err
	}
	row := f.book.seen[cur.EventID].row
	d, err := domain.ParseDecimal(row.value)
	if err != nil {
		return nil, err
	}
	// Last year's figure in this year's unit: as it is, or through the
	// conversion this indicator declares; another unit is no base at all.
	if !f.unitLoaded {
		if f.unit, f.conv, err = unitOf(f.b, f.id); err != nil {
			return nil, err
		}
		f.unitLoaded = true
	}
	if d, ok = domain.ComparableValue(d, f.lastUnit, f.unit, f.conv); !ok {
		return nil, nil
	}
	return &yearBase{value: d, window: prevWindow, quality: row.quality, source: BaseFromIndicator, eventID: row.eventID}, nil
}

// unitOf is an indicator's unit and its declared conversion, if any.
func unitOf(b *batchTx, indicatorID string) (string, *domain.UnitConversion, error) {
	var unit, from, factor sql.NullString
	err := b.queryRow(`SELECT unit, conversion_from_unit, conversion_factor FROM indicators WHERE id = ?`, indicatorID).Scan(&unit, &from, &factor)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", nil, err
	}
	if !from.Valid {
		return unit.String, nil, nil
	}
	f, err := domain.ParseDecimal(factor.String)
	if err != nil {
		return "", nil, err
	}
	return unit.String, &domain.UnitConversion{FromUnit: from.String, Factor: f}, nil
}

func valueFloat(ns sql.NullString) any {
	d, err := parseDec(ns)
	if err != nil || d == nil {
		return nil
	}
	return d.Float64()
}

// approvedColumns are indicator_years' year over year on approved figures.
type approvedColumns struct {
	value, window, eventID, base, baseSource, baseEvent, abs, pct, pctDisplay, pp, isNew any
}

// approvedYear is year over year on approved figures alone: this year's
// best approved figure against the base of its window, a recorded base (the
// office records it, or approves a department's proposal) or last year's
// approved figure. The unapproved figures stay beside it in the row.
func approvedYear(b *batchTx, memo *deriveMemo, finder *baseFinder, ky keyYear, yi yearIndicator, mode domain.RoundingMode,
	prov provenanceSet) (approvedColumns, error) {
	var ap approvedColumns
	fig, known := memo.approved[yi.id]
	if !known {
		var err error
		if _, fig, err = loadBestFigures(b, memo, yi.id); err != nil {
			return ap, err
		}
	}
	if fig == nil {
		return ap, nil
	}
	ap.value, ap.window, ap.eventID = fig.value.String(), fig.windowKey, fig.eventID
	prov.add("approved_value", fig.eventID)
	w := domain.Window{Year: ky.year - 1, FromMonth: fig.fromMonth, ToMonth: fig.toMonth}
	base, err := finder.find(w.Key(), true)
	if err != nil || base == nil {
		return ap, err
	}
	c := domain.YearOverYear(fig.value, base.value, yi.isRate)
	ap.base, ap.baseSource, ap.baseEvent = base.value.String(), base.source, base.eventID
	ap.abs, ap.isNew = c.Abs.String(), boolInt(c.New)
	both := []string{base.eventID, fig.eventID}
	prov.add("approved_base", base.eventID)
	prov.add("approved_change_abs", both...)
	if c.Pct != nil {
		ap.pct, ap.pctDisplay = ratText(c.Pct), domain.RoundRat(c.Pct, 1, mode).String()
		prov.add("approved_change_pct", both...)
	}
	if c.PointsDiff != nil {
		ap.pp = c.PointsDiff.String()
		prov.add("approved_change_pp", both...)
	}
	return ap, nil
}
