package main

import (
	"strconv"
	"testing"
)

// TestMinPositionHeader: a read sent with a write's position answers once
// the read models include it; a malformed position is refused naming the
// header. (Across instances: TestInstancesShareOneCluster.)
func TestMinPositionHeader(t *testing.T) {
	s := startTestServer(t)
	office := s.token("考评办", "office")
	w := s.mustDo(201, "POST", "/v1/tasks", office, map[string]any{"task_id": "green", "year": 2022, "title": "疏解整治促提升专项行动", "lead_department": "区城管委"})
	at := strconv.FormatUint(uint64(w["position"].(float64)), 10)
	got := s.mustDo(200, "GET", "/v1/tasks/green", office, nil, "X-Kpitrail-Min-Position", at)
	if got["id"] != "green" {
		t.Fatalf("read at the write's position: %v", got)
	}
	p := s.mustDo(400, "GET", "/v1/tasks/green", office, nil, "X-Kpitrail-Min-Position", "-1")
	if p["field"] != "X-Kpitrail-Min-Position" || p["rule"] != "uint" {
		t.Fatalf("a malformed position: %v", p)
	}
}
