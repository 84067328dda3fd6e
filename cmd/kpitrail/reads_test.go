package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestReadsReflectWrites drives the write endpoints and reads every view
// back through the API, including record-time travel.
func TestReadsReflectWrites(t *testing.T) {
	s := startTestServer(t)
	office := s.token("考评办", "office")
	analyst := s.token("分析员", "analyst")
	auditor := s.token("审计员", "auditor")
	w := "?wait=true"
	s.mustDo(201, "POST", "/v1/tasks"+w, office, map[string]any{"task_id": "hitech", "year": 2022, "dimension": "高效率 落实",
		"title": "国际科技创新中心建设和高新技术企业发展", "lead_department": "区科委", "co_departments": []string{"区财政局"}})
	s.mustDo(201, "POST", "/v1/tasks/hitech/indicators"+w, office, map[string]any{"indicator_id": "firms", "key": "hitech.firms",
		"name": "高新技术企业保有量", "unit": "家", "direction": "higher"})
	s.mustDo(200, "PUT", "/v1/indicators/firms/target"+w, office, map[string]any{"value": "719"})
	est := s.mustDo(201, "POST", "/v1/indicators/firms/figures"+w, office, map[string]any{"window": map[string]any{"year": 2022},
		"value": "610", "quality": "estimate", "source": map[string]any{"kind": "agency", "name": "市科委"}, "note": "预计2023年初由市科委反馈"})
	if est["visible"] != true {
		t.Fatalf("?wait=true returned before the read models had the write: %v", est)
	}
	between := time.Now().UTC()
	time.Sleep(10 * time.Millisecond)
	fin := s.mustDo(201, "POST", "/v1/indicators/firms/figures"+w, office, map[string]any{"window": map[string]any{"year": 2022},
		"value": "605", "quality": "final", "source": map[string]any{"kind": "agency", "name": "市科委"}})
	finID := fin["event_ids"].([]any)[0].(string)
	s.mustDo(201, "POST", "/v1/indicators/firms/figures/"+finID+"/corrections"+w, office, map[string]any{"value": "607", "reason": "市科委更正认定名单"})

	ind := s.mustDo(200, "GET", "/v1/indicators/firms", analyst, nil)
	if ind["value"] != "607" || ind["quality"] != "revised" || ind["completion_pct_display"] != "84.4" || ind["status"] != "not_met" {
		t.Fatalf("indicator now: value %v quality %v pct %v status %v", ind["value"], ind["quality"], ind["completion_pct_display"], ind["status"])
	}
	figs := s.mustDo(200, "GET", "/v1/indicators/firms/figures", analyst, nil)["figures"].([]any)
	if len(figs) != 3 {
		t.Fatalf("every figure stays queryable: got %d", len(figs))
	}
	changes := s.mustDo(200, "GET", "/v1/indicators/firms/audit", auditor, nil)["changes"].([]any)
	var correction map[string]any
	for _, c := range changes {
		if c.(map[string]any)["kind"] == "corrected" {
			correction = c.(map[string]any)
		}
	}
	if correction == nil || correction["old_value"] != "605" || correction["new_value"] != "607" ||
		correction["reason"] != "市科委更正认定名单" || correction["actor"] != "office:考评办" {
		t.Fatalf("audit trail lacks the correction: %v", changes)
	}

	// What did we know before the final figure came in?
	asOf := "?as_of=" + url.QueryEscape(between.Format(time.RFC3339Nano))
	then := s.mustDo(200, "GET", "/v1/indicators/firms"+asOf, analyst, nil)
	if then["value"] != "610" || then["quality"] != "estimate" || then["completion_pct_display"] != "84.8" {
		t.Fatalf("as of %s: value %v quality %v pct %v", between, then["value"], then["quality"], then["completion_pct_display"])
	}

	tasks := s.mustDo(200, "GET", "/v1/tasks?year=2022&department="+url.QueryEscape("区财政局"), analyst, nil)["tasks"].([]any)
	if len(tasks) != 1 || tasks[0].(map[string]any)["title"] != "国际科技创新中心建设和高新技术企业发展" {
		t.Fatalf("task list by co-department: %v", tasks)
	}
	if got := s.mustDo(200, "GET", "/v1/tasks?year=2021", analyst, nil)["tasks"].([]any); len(got) != 0 {
		t.Fatalf("year filter: %v", got)
	}
	detail := s.mustDo(200, "GET", "/v1/tasks/hitech", analyst, nil)
	if len(detail["indicators"].([]any)) != 1 {
		t.Fatalf("task detail: %v", detail)
	}
	if list := s.mustDo(200, "GET", "/v1/indicators?q="+url.QueryEscape("高新"), analyst, nil)["indicators"].([]any); len(list) != 1 {
		t.Fatalf("name search: %v", list)
	}
	s.mustDo(404, "GET", "/v1/tasks/nope", analyst, nil)
	s.mustDo(400, "GET", "/v1/tasks?as_of=yesterday", analyst, nil)
	s.mustDo(403, "GET", "/v1/admin/dead-letters", analyst, nil)
	s.mustDo(200, "GET", "/v1/admin/dead-letters", adminToken, nil)
	rep := s.mustDo(200, "GET", "/v1/audit/verify", auditor, nil)
	if len(rep["findings"].([]any)) != 0 {
		t.Fatalf("clean log has findings: %v", rep)
	}
	if r := s.do("GET", "/readyz", "", nil); r.Status != http.StatusOK {
		t.Fatalf("readyz: %d", r.Status)
	}
	m := s.do("GET", "/metrics", "", nil)
	for _, series := range []string{"kpitrail_append_seconds_count", "kpitrail_projection_lag_events 0", "kpitrail_dead_letters 0",
		`kpitrail_http_requests_total{route="GET /v1/indicators/{id}",status="200"}`, "kpitrail_append_conflicts_total"} {
		if !strings.Contains(string(m.Body), series) {
			t.Errorf("metrics lack %q", series)
		}
	}
}
