package main

import (
	"net/http"
	"testing"
)

func TestWriteFlowThroughTheRealServer(t *testing.T) {
	s := startTestServer(t)
	office := s.token("考评办", "office")
	task := s.mustDo(http.StatusCreated, "POST", "/v1/tasks", office, map[string]any{
		"task_id": "hitech", "year": 2022, "dimension": "高效率 落实", "title": "国际科技创新中心建设和高新技术企业发展",
		"lead_department": "区科委"})
	if task["version"].(float64) != 1 {
		t.Fatalf("task version %v", task["version"])
	}
	s.mustDo(http.StatusCreated, "POST", "/v1/tasks/hitech/indicators", office, map[string]any{
		"indicator_id": "hitech-firms", "name": "高新技术企业保有量", "unit": "家", "direction": "higher"})
	s.mustDo(http.StatusOK, "PUT", "/v1/indicators/hitech-firms/target", office, map[string]any{"value": "719"})

	fig := map[string]any{"window": map[string]any{"year": 2022}, "value": "610", "quality": "estimate",
		"source": map[string]any{"kind": "agency", "name": "市科委"}, "final_due": "2023-03-31"}
	first := s.mustDo(http.StatusCreated, "POST", "/v1/indicators/hitech-firms/figures", office, fig, "Idempotency-Key", "fig-1")
	before := s.lastPosition()
	again := s.mustDo(http.StatusCreated, "POST", "/v1/indicators/hitech-firms/figures", office, fig, "Idempotency-Key", "fig-1")
	if again["event_ids"].([]any)[0] != first["event_ids"].([]any)[0] || s.lastPosition() != before {
		t.Fatalf("retry was applied again: %v vs %v", again, first)
	}

	// A stale If-Match gets 409 with the current version and appends nothing.
	r := s.do("PUT", "/v1/indicators/hitech-firms/target", office, map[string]any{"value": "720", "reason": "市级调整"}, "If-Match", `"1"`)
	if r.Status != http.StatusConflict {
		t.Fatalf("stale If-Match: %d %s", r.Status, r.Body)
	}
	if p := r.json(t); p["current_version"].(float64) != 3 || p["code"] != "conflict" {
		t.Fatalf("conflict problem %v", p)
	}
	if r.Header.Get("Content-Type") != "application/problem+json" || s.lastPosition() != before {
		t.Fatal("conflict must be a problem document and append nothing")
	}
}
