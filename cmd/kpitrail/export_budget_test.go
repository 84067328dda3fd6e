package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// exportsList returns GET /v1/exports: the ids and each one's bytes.
func exportsList(s *testServer, token string) (ids []string, bytes map[string]int64) {
	s.t.Helper()
	bytes = map[string]int64{}
	for _, x := range s.mustDo(200, "GET", "/v1/exports", token, nil)["exports"].([]any) {
		m := x.(map[string]any)
		ids = append(ids, m["id"].(string))
		bytes[m["id"].(string)] = int64(m["bytes"].(float64))
	}
	return ids, bytes
}

func exportRefused(s *testServer, token string, body any, status int, rule string) {
	s.t.Helper()
	r := s.do("POST", "/v1/exports", token, body)
	if p := r.json(s.t); r.Status != status || p["rule"] != rule || r.Header.Get("Retry-After") == "" {
		s.t.Fatalf("export: %d (Retry-After %q) %s, want %d %s", r.Status, r.Header.Get("Retry-After"), r.Body, status, rule)
	}
}

// TestExportsHaveADiskBudget: exports expire by age and are then gone
// from the list and the disk; older exports make room for a new one; an
// export that does not fit is refused with 507 and leaves nothing; a
// budget spent by exports too young to remove is a 507 before anything
// is written; past the concurrency cap an export is a 429.
func TestExportsHaveADiskBudget(t *testing.T) {
	data := t.TempDir()
	start := func(limits ExportLimits) *testServer {
		return startTestServerWith(t, func(c *ServeConfig) { c.DataDir, c.Limits.Exports = data, limits })
	}
	small := map[string]any{"tables": []string{"tasks"}, "formats": []string{"csv"}}
	full := map[string]any{}
	dir := filepath.Join(data, "exports")

	// By age: gone from the list, the files and the disk.
	s := start(ExportLimits{MaxAge: time.Second})
	analyst := s.token("分析员", "analyst")
	office := s.token("考评办", "office")
	s.mustDo(201, "POST", "/v1/tasks", office, map[string]any{"task_id": "air", "year": 2022, "title": "污染防治攻坚战", "lead_department": "区生态环境局"})
	id := s.mustDo(201, "POST", "/v1/exports", analyst, small)["id"].(string)
	if ids, bytes := exportsList(s, analyst); len(ids) != 1 || ids[0] != id || bytes[id] == 0 {
		t.Fatalf("list %v %v", ids, bytes)
	}
	time.Sleep(1100 * time.Millisecond)
	if ids, _ := exportsList(s, analyst); len(ids) != 0 {
		t.Fatalf("an expired export is still listed: %v", ids)
	}
	s.mustDo(404, "GET", "/v1/exports/"+id+"/manifest.json", analyst, nil)
	if _, err := os.Stat(filepath.Join(dir, id)); !os.IsNotExist(err) {
		t.Fatalf("an expired export is still on disk: %v", err)
	}
	// Two small exports, to size the budgets below.
	a := s.mustDo(201, "POST", "/v1/exports", analyst, small)["id"].(string)
	b := s.mustDo(201, "POST", "/v1/exports", analyst, small)["id"].(string)
	_, sizes := exportsList(s, analyst)
	s.Close()

	// Room for two and a half: the oldest goes to make room for a third;
	// a full export does not fit at all and leaves nothing behind.
	s = start(ExportLimits{MaxBytes: sizes[a] + sizes[b] + sizes[a]/2, MinKeep: -1, CheckEvery: time.Millisecond})
	c := s.mustDo(201, "POST", "/v1/exports", analyst, small)["id"].(string)
	if ids, _ := exportsList(s, analyst); strings.Join(ids, " ") != b+" "+c {
		t.Fatalf("after making room: %v, want %s %s", ids, b, c)
	}
	exportRefused(s, analyst, full, 507, "export_budget")
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != b && e.Name() != c && e.Name() != a {
			t.Fatalf("a refused export left %s behind", e.Name())
		}
	}
	s.Close()

	// A budget below what young exports hold (lowered by the operator):
	// refused before anything is written, and the young exports stay.
	s = start(ExportLimits{MaxBytes: 1, MinKeep: time.Hour})
	exportRefused(s, analyst, small, 507, "export_budget")
	if ids, _ := exportsList(s, analyst); len(ids) == 0 {
		t.Fatal("young exports were removed")
	}
	s.Close()

	// Past the concurrency cap: two exports hold both slots.
	s = start(ExportLimits{Concurrent: 2})
	s.exports.running <- struct{}{}
	s.exports.running <- struct{}{}
	exportRefused(s, analyst, small, 429, "max_concurrent_exports")
	r := s.do("GET", "/v1/exports/tasks.csv", analyst, nil)
	if r.Status != 429 || r.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("streamed export past the cap: %d %s", r.Status, r.Body)
	}
	<-s.exports.running
	s.mustDo(201, "POST", "/v1/exports", analyst, small)
}
