package domain

import (
	"fmt"
	"time"
)

// Reporting periods (月督办、季调度): an indicator's cadence gives its
// periods in a year, and the year's calendar when each is due. A period is
// reported by a figure whose window ends with it (1-5月 or 5月 for May),
// late when that figure was first recorded after the due date, missing when
// the due date has passed without one. An estimate whose final figure was
// due (final_due) and has not come is overdue too.

// Calendar is when a year's figures are due: a monthly figure by the given
// day of the next month, a quarterly one by the given day of the month
// after the quarter, a yearly one (and a once-only one) by YearlyDue.
type Calendar struct {
	MonthlyDueDay   int  `json:"monthly_due_day"`
	QuarterlyDueDay int  `json:"quarterly_due_day"`
	YearlyDue       Date `json:"yearly_due"`
}

// DefaultCalendar is the calendar of a year that sets none: monthly by the
// 5th of the next month, quarterly by the 10th of the month after the
// quarter, yearly by 31 January of the next year.
func DefaultCalendar(year int) Calendar {
	return Calendar{MonthlyDueDay: 5, QuarterlyDueDay: 10, YearlyDue: Date(fmt.Sprintf("%d-01-31", year+1))}
}

func (c Calendar) Validate(year int) error {
	if c.MonthlyDueDay < 1 || c.MonthlyDueDay > 28 {
		return Invalid("monthly_due_day", "range", "must be 1..28, got %d", c.MonthlyDueDay)
	}
	if c.QuarterlyDueDay < 1 || c.QuarterlyDueDay > 28 {
		return Invalid("quarterly_due_day", "range", "must be 1..28, got %d", c.QuarterlyDueDay)
	}
	if c.YearlyDue == "" {
		return Invalid("yearly_due", "required", "must be a date YYYY-MM-DD")
	}
	if err := c.YearlyDue.Validate("yearly_due"); err != nil {
		return err
	}
	if string(c.YearlyDue) < fmt.Sprintf("%d-12-01", year) {
		return Invalid("yearly_due", "after_year", "the year's figures fall due once it ends, not %s", c.YearlyDue)
	}
	return nil
}

// ReportingPeriod is one period of an indicator's cadence.
type ReportingPeriod struct {
	Key       string // 2022-05, 2022-Q2, 2022
	ToMonth   int    // a figure whose window ends this month reports it
	FromMonth int    // the period's own first month (a cumulative figure from January reports it too)
	Due       Date
}

// ReportingPeriods lists the periods of a cadence in a year; none for an
// indicator without a cadence.
func ReportingPeriods(cadence string, year int, cal Calendar) []ReportingPeriod {
	due := func(month, day int) Date { // day of the month after month
		return Date(time.Date(year, time.Month(month)+1, day, 0, 0, 0, 0, time.UTC).Format(time.DateOnly))
	}
	var out []ReportingPeriod
	switch cadence {
	case "monthly":
		for m := 1; m <= 12; m++ {
			out = append(out, ReportingPeriod{Key: fmt.Sprintf("%d-%02d", year, m), FromMonth: m, ToMonth: m, Due: due(m, cal.MonthlyDueDay)})
		}
	case "quarterly":
		for q := 1; q <= 4; q++ {
			out = append(out, ReportingPeriod{Key: fmt.Sprintf("%d-Q%d", year, q), FromMonth: 3*q - 2, ToMonth: 3 * q, Due: due(3*q, cal.QuarterlyDueDay)})
		}
	case "yearly", "once":
		out = append(out, ReportingPeriod{Key: fmt.Sprint(year), FromMonth: 1, ToMonth: 12, Due: cal.YearlyDue})
	}
	return out
}

// Reports says whether a figure for window w reports the period: its
// window ends with the period, and starts with it or in January
// (cumulative figures 1-5月 report May).
func (p ReportingPeriod) Reports(w Window) bool {
	w = w.Normalize()
	return w.ToMonth == p.ToMonth && (w.FromMonth == p.FromMonth || w.FromMonth == 1)
}

// Period statuses, judged on a day.
const (
	PeriodReported = "reported" // on time
	PeriodLate     = "late"     // reported after the due date
	PeriodMissing  = "missing"  // due and not reported
	PeriodNotDue   = "not_due"  // not reported, not due yet
)

// ClassifyPeriod judges a period on day today: reportedOn is the day (in
// the assessment calendar) its first figure was recorded, "" if none.
func ClassifyPeriod(due, reportedOn, today Date) string {
	switch {
	case reportedOn != "" && reportedOn > due:
		return PeriodLate
	case reportedOn != "":
		return PeriodReported
	case today > due:
		return PeriodMissing
	}
	return PeriodNotDue
}

// FinalOverdue says whether a figure's final figure is overdue on day
// today: it is not final yet, and the day it was due has passed.
func FinalOverdue(q Quality, finalDue, today Date) bool {
	return finalDue != "" && q.Rank() < QualityFinal.Rank() && today > finalDue
}
