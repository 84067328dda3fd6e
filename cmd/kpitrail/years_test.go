package main

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestFrozenYearThroughTheAPI: a snapshot freezes its year; every change
// to the year's figures, bases, targets and indicators is refused (422,
// rule year_frozen) until the office reopens it with a reason; the audit
// trail and as_of show the reopen; a new snapshot freezes it again. Other
// years are not touched.
func TestFrozenYearThroughTheAPI(t *testing.T) {
	s := startTestServer(t)
	office := s.token("考评办", "office")
	reporter := s.token("区应急局填报员", "reporter", "区应急局")
	analyst := s.token("分析员", "analyst")
	const w = "?wait=true"
	for _, y := range []int{2022, 2023} {
		task := map[string]any{"task_id": "safety" + strconv.Itoa(y), "year": y, "title": "安全生产", "lead_department": "区应急局"}
		s.mustDo(201, "POST", "/v1/tasks"+w, office, task)
		s.mustDo(201, "POST", "/v1/tasks/safety"+strconv.Itoa(y)+"/indicators"+w, office, map[string]any{"indicator_id": "accidents" + strconv.Itoa(y),
			"key": "生产安全事故起数", "name": "生产安全事故起数", "unit": "起", "direction": "lower", "formula": "cap"})
	}
	fig := func(year int, v string) map[string]any {
		return map[string]any{"window": map[string]any{"year": year, "from_month": 1, "to_month": 11}, "value": v, "quality": "provisional",
			"source": map[string]any{"kind": "self_reported", "name": "区应急局"}}
	}
	first := s.mustDo(201, "POST", "/v1/indicators/accidents2022/figures"+w, reporter, fig(2022, "13"))["event_ids"].([]any)[0].(string)

	s.mustDo(201, "POST", "/v1/snapshots", office, map[string]any{"year": 2022, "note": "2022年度年终封存"})
	before := s.lastPosition()
	frozen := time.Now()
	time.Sleep(5 * time.Millisecond)
	for _, c := range []struct {
		method, path, token string
		body                any
	}{
		{"POST", "/v1/indicators/accidents2022/figures", reporter, fig(2022, "12")},
		{"POST", "/v1/indicators/accidents2022/figures/" + first + "/corrections", office, map[string]any{"value": "12", "reason": "更正"}},
		{"POST", "/v1/indicators/accidents2022/figures/" + first + "/retraction", office, map[string]any{"reason": "撤回"}},
		{"PUT", "/v1/indicators/accidents2022/target", office, map[string]any{"value": "16"}},
		{"POST", "/v1/indicators/accidents2022/bases", office, map[string]any{"window": map[string]any{"year": 2021, "from_month": 1, "to_month": 11}, "value": "16", "quality": "final"}},
		{"POST", "/v1/indicators/accidents2022/withdraw", office, map[string]any{"reason": "取消"}},
		{"POST", "/v1/tasks/safety2022/indicators", office, map[string]any{"indicator_id": "deaths2022", "name": "死亡人数", "unit": "人", "direction": "lower", "formula": "cap"}},
	} {
		r := s.do(c.method, c.path, c.token, c.body)
		p := r.json(t)
		if r.Status != 422 || p["rule"] != "year_frozen" || p["field"] != "year" || !strings.Contains(p["detail"].(string), "2022") {
			t.Errorf("%s %s in a frozen year: %d %s", c.method, c.path, r.Status, r.Body)
		}
	}
	if s.lastPosition() != before {
		t.Fatal("a refused change appended events")
	}
	// Another year is not frozen.
	s.mustDo(201, "POST", "/v1/indicators/accidents2023/figures"+w, reporter, fig(2023, "11"))

	years := s.mustDo(200, "GET", "/v1/years", analyst, nil)["years"].([]any)
	if len(years) != 1 || years[0].(map[string]any)["state"] != "frozen" || years[0].(map[string]any)["frozen_by"] != "office:考评办" {
		t.Fatalf("years: %v", years)
	}
	s.mustDo(403, "POST", "/v1/years/2022/reopen", reporter, map[string]any{"reason": "部门申请"})
	s.mustDo(400, "POST", "/v1/years/2022/reopen", office, map[string]any{"reason": ""})
	s.mustDo(400, "POST", "/v1/years/2022/reopen", office, map[string]any{"year": 2023, "reason": "路径与正文不一致"})
	s.mustDo(200, "POST", "/v1/years/2022/reopen"+w, office, map[string]any{"reason": "区应急局更正1-11月数据"})
	s.mustDo(201, "POST", "/v1/indicators/accidents2022/figures"+w, reporter, fig(2022, "12"))

	// The audit trail of the year's indicator shows the freeze and the reopen.
	var kinds []string
	for _, c := range s.mustDo(200, "GET", "/v1/indicators/accidents2022/audit", analyst, nil)["changes"].([]any) {
		ch := c.(map[string]any)
		kinds = append(kinds, ch["kind"].(string))
		if ch["kind"] == "year_reopened" && (ch["reason"] != "区应急局更正1-11月数据" || ch["actor"] != "office:考评办" || ch["period"] != "2022") {
			t.Errorf("reopen in the audit trail: %v", ch)
		}
	}
	if strings.Join(kinds, " ") != "reported year_frozen year_reopened superseded" {
		t.Errorf("audit trail kinds %v", kinds)
	}
	// 2023's trail knows nothing of 2022's lock.
	if n := len(s.mustDo(200, "GET", "/v1/indicators/accidents2023/audit", analyst, nil)["changes"].([]any)); n != 1 {
		t.Errorf("2023 audit trail has %d changes", n)
	}
	// As of the freeze, the year was frozen; now it is open.
	then := s.mustDo(200, "GET", "/v1/years?as_of="+url.QueryEscape(frozen.Format(time.RFC3339Nano)), analyst, nil)["years"].([]any)
	if then[0].(map[string]any)["state"] != "frozen" {
		t.Errorf("as of the freeze: %v", then)
	}
	now := s.mustDo(200, "GET", "/v1/years?year=2022", analyst, nil)["years"].([]any)[0].(map[string]any)
	if now["state"] != "open" || len(now["changes"].([]any)) != 2 {
		t.Errorf("now: %v", now)
	}
	// Freezing again takes a new snapshot.
	s.mustDo(422, "POST", "/v1/years/2022/reopen", office, map[string]any{"reason": "未冻结"})
	s.mustDo(201, "POST", "/v1/snapshots", office, map[string]any{"year": 2022, "note": "更正后重新封存"})
	if r := s.do("POST", "/v1/indicators/accidents2022/figures", reporter, fig(2022, "11")); r.Status != 422 {
		t.Errorf("after the second snapshot: %d %s", r.Status, r.Body)
	}
	if list := s.mustDo(200, "GET", "/v1/snapshots?year=2022", analyst, nil)["snapshots"].([]any); len(list) != 2 {
		t.Errorf("snapshots: %v", list)
	}
}
