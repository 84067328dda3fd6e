package projections

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"sort"
	"strings"
	"time"

	"kpitrail/domain"
)

// derivePeriods rewrites an indicator's reporting periods: the periods of
// its cadence in its year's calendar (domain.ReportingPeriods), each with
// the figure that first reported it. Whether a period is late, missing or
// not due yet depends on the day it is judged on, so that is left to the
// query (Completeness), which judges with domain.ClassifyPeriod.
func (p *projector) derivePeriods(b *batchTx, id string) error {
	if err := b.exec(`DELETE FROM reporting_periods WHERE indicator_id = ?`, id); err != nil {
		return err
	}
	var taskID, lead, lifecycle string
	var year int
	var cadence sql.NullString
	err := b.queryRow(`SELECT i.task_id, t.lead_department, i.year, i.cadence, i.lifecycle FROM indicators i JOIN tasks t ON t.id = i.task_id
		WHERE i.id = ?`, id).Scan(&taskID, &lead, &year, &cadence, &lifecycle)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && (lifecycle != "active" || !cadence.Valid)) {
		return nil
	}
	if err != nil {
		return err
	}
	cal, err := calendarOf(b, year)
	if err != nil {
		return err
	}
	periods := domain.ReportingPeriods(cadence.String, year, cal)
	if len(periods) == 0 {
		return nil
	}
	type reported struct {
		eventID, at string
		w           domain.Window
	}
	var figs []reported
	rows, err := b.query(`SELECT event_id, recorded_at, year, from_month, to_month FROM figures
		WHERE indicator_id = ? AND state <> 'retracted' ORDER BY recorded_at, event_id`, id)
	if err != nil {
		return err
	}
	for rows.Next() {
		var f reported
		if err := rows.Scan(&f.eventID, &f.at, &f.w.Year, &f.w.FromMonth, &f.w.ToMonth); err != nil {
			rows.Close()
			return err
		}
		figs = append(figs, f)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, per := range periods {
		var event, at, on any
		for _, f := range figs {
			if per.Reports(f.w) {
				t, err := parseTime(f.at)
				if err != nil {
					return err
				}
				event, at, on = f.eventID, f.at, t.In(p.loc).Format(time.DateOnly)
				break
			}
		}
		if err := b.exec(`INSERT INTO reporting_periods (indicator_id, period_key, task_id, year, lead_department, cadence, from_month,
			to_month, due_date, figure_event_id, reported_at, reported_on) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			id, per.Key, taskID, year, lead, cadence.String, per.FromMonth, per.ToMonth, string(per.Due), event, at, on); err != nil {
			return err
		}
	}
	return nil
}

// calendarOf is a year's reporting calendar, the default when it sets none.
func calendarOf(b *batchTx, year int) (domain.Calendar, error) {
	var m, q sql.NullInt64
	var y sql.NullString
	err := b.queryRow(`SELECT monthly_due_day, quarterly_due_day, yearly_due FROM years WHERE year = ?`, year).Scan(&m, &q, &y)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !m.Valid) {
		return domain.DefaultCalendar(year), nil
	}
	if err != nil {
		return domain.Calendar{}, err
	}
	return domain.Calendar{MonthlyDueDay: int(m.Int64), QuarterlyDueDay: int(q.Int64), YearlyDue: domain.Date(y.String)}, nil
}

// PeriodEntry is one indicator's reporting period as judged on a day.
type PeriodEntry struct {
	Department    string `json:"department"`
	Period        string `json:"period"`
	IndicatorID   string `json:"indicator_id"`
	IndicatorName string `json:"indicator_name"`
	TaskID        string `json:"task_id"`
	Cadence       string `json:"cadence"`
	Due           string `json:"due"`
	Status        string `json:"status"` // reported, late, missing, not_due
	Figure        string `json:"figure,omitempty"`
	ReportedAt    string `json:"reported_at,omitempty"`
}

// PeriodSummary counts a department's indicators by status for a period.
type PeriodSummary struct {
	Department string `json:"department"`
	Period     string `json:"period"`
	Due        string `json:"due"`
	Reported   int    `json:"reported"`
	Late       int    `json:"late"`
	Missing    int    `json:"missing"`
	NotDue     int    `json:"not_due"`
}

// OverdueFinal is a current estimate whose final figure was due.
type OverdueFinal struct {
	Department    string `json:"department"`
	IndicatorID   string `json:"indicator_id"`
	IndicatorName string `json:"indicator_name"`
	TaskID        string `json:"task_id"`
	Figure        string `json:"figure"`
	Window        string `json:"window"`
	Value         string `json:"value"`
	Quality       string `json:"quality"`
	FinalDue      string `json:"final_due"`
}

// Completeness is who reported what by when, judged on a day.
type Completeness struct {
	On            string          `json:"on"`
	Periods       []PeriodEntry   `json:"periods"`
	Summary       []PeriodSummary `json:"summary"`
	OverdueFinals []OverdueFinal  `json:"overdue_finals"`
}

// CompletenessFilter selects departments, a year and statuses (none: all).
type CompletenessFilter struct {
	Year       int
	Department string
	Statuses   []string
	On         domain.Date
	// SeesTask, when set, says which tasks the caller may read: the rows
	// of others are left out, and out of the counts.
	SeesTask func(taskID string) (bool, error)
}

// Completeness judges every reporting period on f.On: per department and
// period, which indicators reported on time, late, are missing or not due
// yet; and which estimates are overdue for their final figure.
func (db *DB) Completeness(ctx context.Context, f CompletenessFilter) (Completeness, error) {
	ctx, leave := db.gate.enter(ctx)
	defer leave()
	out := Completeness{On: string(f.On), Periods: []PeriodEntry{}, Summary: []PeriodSummary{}, OverdueFinals: []OverdueFinal{}}
	for _, s := range f.Statuses {
		switch s {
		case domain.PeriodReported, domain.PeriodLate, domain.PeriodMissing, domain.PeriodNotDue:
		default:
			return out, domain.Invalid("status", "enum", "must be reported, late, missing or not_due; got %q", s)
		}
	}
	where := []string{"i.lifecycle = 'active'"}
	var args []any
	if f.Year != 0 {
		where, args = append(where, "p.year = ?"), append(args, f.Year)
	}
	if f.Department != "" {
		where, args = append(where, "p.lead_department = ?"), append(args, f.Department)
	}
	rows, err := db.reader.QueryContext(ctx, `SELECT p.lead_department, p.period_key, p.indicator_id, i.name, p.task_id, p.cadence, p.due_date,
		COALESCE(p.figure_event_id, ''), COALESCE(p.reported_at, ''), COALESCE(p.reported_on, '')
		FROM reporting_periods p JOIN indicators i ON i.id = p.indicator_id
		WHERE `+strings.Join(where, " AND ")+` ORDER BY p.lead_department, p.to_month, p.period_key, p.indicator_id`, args...)
	if err != nil {
		return out, err
	}
	var entries []PeriodEntry
	for rows.Next() {
		var e PeriodEntry
		var on string
		if err := rows.Scan(&e.Department, &e.Period, &e.IndicatorID, &e.IndicatorName, &e.TaskID, &e.Cadence, &e.Due, &e.Figure,
			&e.ReportedAt, &on); err != nil {
			rows.Close()
			return out, err
		}
		e.Status = domain.ClassifyPeriod(domain.Date(e.Due), domain.Date(on), f.On)
		entries = append(entries, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return out, err
	}
	// Filtered once the rows are read: SeesTask may query the same pool.
	if entries, err = seenOnly(entries, f.SeesTask, func(e PeriodEntry) string { return e.TaskID }); err != nil {
		return out, err
	}
	sums := map[[2]string]*PeriodSummary{}
	var order [][2]string
	for _, e := range entries {
		k := [2]string{e.Department, e.Period}
		s, ok := sums[k]
		if !ok {
			s = &PeriodSummary{Department: e.Department, Period: e.Period, Due: e.Due}
			sums[k] = s
			order = append(order, k)
		}
		switch e.Status {
		case domain.PeriodReported:
			s.Reported++
		case domain.PeriodLate:
			s.Late++
		case domain.PeriodMissing:
			s.Missing++
		default:
			s.NotDue++
		}
		if len(f.Statuses) == 0 || slices.Contains(f.Statuses, e.Status) {
			out.Periods = append(out.Periods, e)
		}
	}
	for _, k := range order {
		out.Summary = append(out.Summary, *sums[k])
	}
	where = []string{"f.state = 'current'", "f.final_due IS NOT NULL", "i.lifecycle = 'active'"}
	args = nil
	if f.Year != 0 {
		where, args = append(where, "i.year = ?"), append(args, f.Year)
	}
	if f.Department != "" {
		where, args = append(where, "t.lead_department = ?"), append(args, f.Department)
	}
	rows, err = db.reader.QueryContext(ctx, `SELECT t.lead_department, i.id, i.name, i.task_id, f.event_id, f.window_key, f.value, f.quality,
		f.final_due FROM figures f JOIN indicators i ON i.id = f.indicator_id JOIN tasks t ON t.id = i.task_id
		WHERE `+strings.Join(where, " AND ")+` ORDER BY f.final_due, t.lead_department, i.id`, args...)
	if err != nil {
		return out, err
	}
	var finals []OverdueFinal
	for rows.Next() {
		var o OverdueFinal
		if err := rows.Scan(&o.Department, &o.IndicatorID, &o.IndicatorName, &o.TaskID, &o.Figure, &o.Window, &o.Value, &o.Quality,
			&o.FinalDue); err != nil {
			rows.Close()
			return out, err
		}
		if domain.FinalOverdue(domain.Quality(o.Quality), domain.Date(o.FinalDue), f.On) {
			finals = append(finals, o)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return out, err
	}
	if finals, err = seenOnly(finals, f.SeesTask, func(o OverdueFinal) string { return o.TaskID }); err != nil {
		return out, err
	}
	out.OverdueFinals = append(out.OverdueFinals, finals...)
	sort.SliceStable(out.Summary, func(i, j int) bool { return out.Summary[i].Department < out.Summary[j].Department })
	return out, nil
}

// seenOnly keeps the rows whose task sees says the caller may read (all
// of them when sees is nil).
func seenOnly[T any](rows []T, sees func(taskID string) (bool, error), taskOf func(T) string) ([]T, error) {
	if sees == nil {
		return rows, nil
	}
	var out []T
	for _, r := range rows {
		ok, err := sees(taskOf(r))
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, r)
		}
	}
	return out, nil
}
