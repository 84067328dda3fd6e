package domain_test

import (
	"testing"

	"kpitrail/domain"
)

func TestReportingPeriods(t *testing.T) {
	cal := domain.DefaultCalendar(2022)
	monthly := domain.ReportingPeriods("monthly", 2022, cal)
	quarterly := domain.ReportingPeriods("quarterly", 2022, cal)
	yearly := domain.ReportingPeriods("yearly", 2022, cal)
	for _, tc := range []struct {
		got  domain.ReportingPeriod
		key  string
		due  domain.Date
		from int
	}{
		{monthly[4], "2022-05", "2022-06-05", 5},
		{monthly[10], "2022-11", "2022-12-05", 11},
		{monthly[11], "2022-12", "2023-01-05", 12},
		{quarterly[1], "2022-Q2", "2022-07-10", 4},
		{quarterly[3], "2022-Q4", "2023-01-10", 10},
		{yearly[0], "2022", "2023-01-31", 1},
	} {
		if tc.got.Key != tc.key || tc.got.Due != tc.due || tc.got.FromMonth != tc.from {
			t.Errorf("period %+v, want %s due %s from %d", tc.got, tc.key, tc.due, tc.from)
		}
	}
	if len(monthly) != 12 || len(quarterly) != 4 || len(yearly) != 1 || len(domain.ReportingPeriods("once", 2022, cal)) != 1 ||
		len(domain.ReportingPeriods("", 2022, cal)) != 0 {
		t.Errorf("counts %d %d %d", len(monthly), len(quarterly), len(yearly))
	}
	may := monthly[4]
	for _, tc := range []struct {
		w    domain.Window
		want bool
	}{
		{domain.Window{Year: 2022, FromMonth: 1, ToMonth: 5}, true}, // 1-5月, cumulative
		{domain.Window{Year: 2022, FromMonth: 5, ToMonth: 5}, true},
		{domain.Window{Year: 2022, FromMonth: 3, ToMonth: 5}, false},
		{domain.Window{Year: 2022, FromMonth: 1, ToMonth: 6}, false},
	} {
		if got := may.Reports(tc.w); got != tc.want {
			t.Errorf("May reported by %s: %v", tc.w.Key(), got)
		}
	}
	// A calendar of the year's own: monthly by the 10th.
	own := domain.Calendar{MonthlyDueDay: 10, QuarterlyDueDay: 15, YearlyDue: "2023-02-15"}
	if p := domain.ReportingPeriods("monthly", 2022, own)[4]; p.Due != "2022-06-10" {
		t.Errorf("own calendar: %+v", p)
	}
}

func TestClassifyPeriodAndFinalOverdue(t *testing.T) {
	for _, tc := range []struct {
		reported, today domain.Date
		want            string
	}{
		{"2022-06-03", "2022-07-01", domain.PeriodReported},
		{"2022-06-05", "2022-07-01", domain.PeriodReported}, // on the due day
		{"2022-06-06", "2022-07-01", domain.PeriodLate},
		{"", "2022-06-06", domain.PeriodMissing},
		{"", "2022-06-05", domain.PeriodNotDue},
	} {
		if got := domain.ClassifyPeriod("2022-06-05", tc.reported, tc.today); got != tc.want {
			t.Errorf("reported %q on %s: %s, want %s", tc.reported, tc.today, got, tc.want)
		}
	}
	// 预计2023年初由市科委反馈: the estimate 610, its final due 2023-03-31.
	for _, tc := range []struct {
		q     domain.Quality
		today domain.Date
		want  bool
	}{
		{domain.QualityEstimate, "2023-03-31", false},
		{domain.QualityEstimate, "2023-04-01", true},
		{domain.QualityApproximate, "2023-04-01", true},
		{domain.QualityFinal, "2023-04-01", false},
		{domain.QualityRevised, "2023-04-01", false},
	} {
		if got := domain.FinalOverdue(tc.q, "2023-03-31", tc.today); got != tc.want {
			t.Errorf("%s on %s: %v", tc.q, tc.today, got)
		}
	}
	if domain.FinalOverdue(domain.QualityEstimate, "", "2030-01-01") {
		t.Error("no final_due, never overdue")
	}
}

func TestSetCalendar(t *testing.T) {
	set := domain.SetCalendar{Year: 2022, MonthlyDueDay: 10, QuarterlyDueDay: 15, YearlyDue: "2023-02-15"}
	event := &domain.YearCalendarSet{Year: 2022, MonthlyDueDay: 10, QuarterlyDueDay: 15, YearlyDue: "2023-02-15"}
	changed := set
	changed.Reason = "市考评办调整报送时间"
	runGWT(t, []gwtCase{
		{name: "a first calendar", when: set, then: []domain.Event{event}},
		{name: "a change needs a reason", given: []domain.Event{event}, when: set, refused: refused(domain.EINVALID, "reason", "required")},
		{name: "a change with its reason", given: []domain.Event{event}, when: changed,
			then: []domain.Event{&domain.YearCalendarSet{Year: 2022, MonthlyDueDay: 10, QuarterlyDueDay: 15, YearlyDue: "2023-02-15", Reason: "市考评办调整报送时间"}}},
		{name: "a day out of range", when: domain.SetCalendar{Year: 2022, MonthlyDueDay: 31, QuarterlyDueDay: 15, YearlyDue: "2023-02-15"},
			refused: refused(domain.EINVALID, "monthly_due_day", "range")},
		{name: "the year's figures fall due after it", when: domain.SetCalendar{Year: 2022, MonthlyDueDay: 5, QuarterlyDueDay: 10, YearlyDue: "2022-06-30"},
			refused: refused(domain.EINVALID, "yearly_due", "after_year")},
		{name: "a frozen year takes a calendar", given: []domain.Event{&domain.YearFrozen{Year: 2022}}, when: set, then: []domain.Event{event}},
	})
}
