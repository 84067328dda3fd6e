package main

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestReportingPeriodsThroughTheAPI: an indicator's cadence gives its
// periods and due dates (the year's calendar, or the default one); the
// completeness route and kpitrail overdue say per department and period
// what was reported, late or missing, and which estimates are overdue for
// their final figure. Figures are recorded now, so the years are chosen
// around now: next year's periods are reported on time, last year's late.
func TestReportingPeriodsThroughTheAPI(t *testing.T) {
	s := startTestServer(t)
	office := s.token("考评办", "office")
	yingji := s.token("区应急局填报员", "reporter", "区应急局")
	now := time.Now()
	next, last := now.Year()+1, now.Year()-1
	const w = "?wait=true"
	for _, y := range []int{next, last} {
		id := strconv.Itoa(y)
		s.mustDo(201, "POST", "/v1/tasks"+w, office, map[string]any{"task_id": "safety" + id, "year": y, "title": "安全生产", "lead_department": "区应急局"})
		s.mustDo(201, "POST", "/v1/tasks/safety"+id+"/indicators"+w, office, map[string]any{"indicator_id": "accidents" + id, "name": "生产安全事故起数",
			"unit": "起", "direction": "lower", "formula": "cap", "cadence": "monthly", "additive": true})
	}
	s.mustDo(201, "POST", "/v1/tasks/safety"+strconv.Itoa(next)+"/indicators"+w, office, map[string]any{"indicator_id": "firms", "name": "高新技术企业保有量",
		"unit": "家", "direction": "higher", "cadence": "yearly"})
	report := func(ind string, body map[string]any) {
		t.Helper()
		body["source"] = map[string]any{"kind": "self_reported", "name": "区应急局"}
		s.mustDo(201, "POST", "/v1/indicators/"+ind+"/figures"+w, yingji, body)
	}
	jan := func(y, to int) map[string]any { return map[string]any{"year": y, "from_month": 1, "to_month": to} }
	report("accidents"+strconv.Itoa(next), map[string]any{"window": jan(next, 3), "value": "3", "quality": "provisional"})
	report("accidents"+strconv.Itoa(last), map[string]any{"window": map[string]any{"year": last, "from_month": 2, "to_month": 2}, "value": "1", "quality": "final"})
	finalDue := fmt.Sprintf("%d-03-31", next+1)
	report("firms", map[string]any{"window": map[string]any{"year": next}, "value": "610", "quality": "estimate", "final_due": finalDue})

	type period struct{ Department, Period, Due, Status, IndicatorID string }
	judge := func(q string) (map[string]string, map[string]any) {
		t.Helper()
		res := s.mustDo(200, "GET", "/v1/completeness?"+q, office, nil)
		out := map[string]string{}
		for _, p := range res["periods"].([]any) {
			m := p.(map[string]any)
			out[m["indicator_id"].(string)+" "+m["period"].(string)] = m["status"].(string) + " due " + m["due"].(string)
		}
		return out, res
	}
	// Judged on New Year's Day after next year: next year's March reported on
	// time, April missing; last year's February late, January missing.
	on := fmt.Sprintf("%d-01-01", next+1)
	got, res := judge("on=" + on)
	n, l := strconv.Itoa(next), strconv.Itoa(last)
	for k, want := range map[string]string{
		"accidents" + n + " " + n + "-03": "reported due " + n + "-04-05",
		"accidents" + n + " " + n + "-04": "missing due " + n + "-05-05",
		"accidents" + n + " " + n + "-12": "not_due due " + strconv.Itoa(next+1) + "-01-05",
		"accidents" + l + " " + l + "-02": "late due " + l + "-03-05",
		"accidents" + l + " " + l + "-01": "missing due " + l + "-02-05",
		"firms " + n:                      "reported due " + strconv.Itoa(next+1) + "-01-31",
	} {
		if got[k] != want {
			t.Errorf("%s: %q, want %q", k, got[k], want)
		}
	}
	var sum map[string]any
	for _, x := range res["summary"].([]any) {
		if m := x.(map[string]any); m["period"] == n+"-04" {
			sum = m
		}
	}
	if sum["department"] != "区应急局" || sum["missing"] != 1.0 || sum["reported"] != 0.0 {
		t.Errorf("summary of %s-04: %v", n, sum)
	}
	if len(res["overdue_finals"].([]any)) != 0 {
		t.Errorf("no final is overdue yet: %v", res["overdue_finals"])
	}
	// After the final figure's due day the estimate is overdue.
	_, res = judge("status=missing,late&on=" + fmt.Sprintf("%d-04-01", next+1))
	if od := res["overdue_finals"].([]any); len(od) != 1 || od[0].(map[string]any)["indicator_id"] != "firms" || od[0].(map[string]any)["final_due"] != finalDue {
		t.Errorf("overdue finals: %v", od)
	}
	for _, p := range res["periods"].([]any) {
		if st := p.(map[string]any)["status"]; st != "missing" && st != "late" {
			t.Errorf("status filter let %v through", p)
		}
	}
	// A calendar of the year's own moves the due dates.
	s.mustDo(200, "PUT", "/v1/years/"+n+"/calendar"+w, office, map[string]any{"monthly_due_day": 10, "quarterly_due_day": 15, "yearly_due": n + "-12-31"})
	s.mustDo(400, "PUT", "/v1/years/"+n+"/calendar", office, map[string]any{"monthly_due_day": 12, "quarterly_due_day": 15, "yearly_due": n + "-12-31"})
	got, _ = judge("on=" + on)
	if got["accidents"+n+" "+n+"-04"] != "missing due "+n+"-05-10" || got["firms "+n] != "reported due "+n+"-12-31" {
		t.Errorf("with the year's calendar: %v", got)
	}
	years := s.mustDo(200, "GET", "/v1/years?year="+n, office, nil)["years"].([]any)
	if y := years[0].(map[string]any); y["monthly_due_day"] != 10.0 || y["state"] != "open" {
		t.Errorf("year: %v", y)
	}

	// kpitrail overdue prints what is missing and late, and the overdue finals.
	out, err := s.runCLI(office, "overdue", "--on", fmt.Sprintf("%d-04-01", next+1), "--department", "区应急局")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"截至", n + "-04", "missing", l + "-02", "late", "高新技术企业保有量", finalDue} {
		if !strings.Contains(out, want) {
			t.Errorf("kpitrail overdue lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, n+"-03 ") {
		t.Errorf("a period reported on time is listed:\n%s", out)
	}
}
