package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kpitrail/demo"
)

func TestImportTheSeedTableThroughTheCLI(t *testing.T) {
	s := startTestServer(t)
	office := s.token("考评办", "office")
	file := filepath.Join(t.TempDir(), "自查表.txt")
	if err := os.WriteFile(file, demo.SeedTable(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := s.runCLI(office, "import", "--dry-run", "--format", "tsv", file)
	if err != nil {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	if !strings.Contains(out, "tasks 20, narrative items 57, problems 4 in 3 tasks") || s.lastPosition() != 0 {
		t.Fatalf("dry run summary (and nothing appended):\n%s", out)
	}
	out, err = s.runCLI(office, "import", "--json", "--format", "tsv", file)
	if err != nil {
		t.Fatalf("import: %v\n%s", err, out)
	}
	after := s.lastPosition()
	if after == 0 || !strings.Contains(out, `"batch_id": "b-`) {
		t.Fatalf("import:\n%s", out)
	}
	batch := between(out, `"batch_id": "`, `"`)
	if out, err = s.runCLI(office, "import", "--format", "tsv", file); err != nil || !strings.Contains(out, "0 applied") || s.lastPosition() != after {
		t.Fatalf("a second import must change nothing: %v\n%s", err, out)
	}
	tasks := s.mustDo(200, "GET", "/v1/tasks?year=2022", office, nil)["tasks"].([]any)
	if len(tasks) != 20 {
		t.Fatalf("%d tasks after import", len(tasks))
	}
	if out, err = s.runCLI(office, "import", "undo", "--json", batch); err != nil || !strings.Contains(out, `"tasks_withdrawn": 20`) {
		t.Fatalf("undo: %v\n%s", err, out)
	}
	s.mustDo(200, "GET", "/v1/status", office, nil)
	// A reporter may not import tasks: the import goes through the same
	// authorization as every command.
	reporter := s.token("区科委填报员", "reporter", "区科委")
	if _, err := s.runCLI(reporter, "import", "--format", "tsv", file); err == nil || !strings.Contains(err.Error(), "forbidden") {
		t.Fatalf("reporter import: %v", err)
	}
	// ... and is refused before the file is read: nothing about the file
	// comes back, and nothing is stored.
	before := s.lastPosition()
	r := s.do("POST", "/v1/imports?format=tsv", reporter, demo.SeedTable())
	if p := r.json(t); r.Status != 403 || p["details"] != nil || s.lastPosition() != before {
		t.Fatalf("refused import: %d %s", r.Status, r.Body)
	}
	// A reporter may import figure sheets, but every sheet defines the
	// indicators it reports, which only the office may: the dry run is
	// refused as the import would be, naming the line, before anything
	// is applied.
	s.mustDo(201, "POST", "/v1/tasks", office, map[string]any{"task_id": "gdp", "year": 2022, "title": "经济发展", "lead_department": "区科委"})
	before = s.lastPosition()
	sheet := "indicator_id,task_id,name,unit,direction,window_year,from_month,to_month,value,quality,source_kind\n" +
		"gdp-growth,gdp,地区生产总值增速,%,higher,2022,1,6,5.2,provisional,self_reported\n"
	for _, q := range []string{"?kind=figures&format=csv&dry_run=true", "?kind=figures&format=csv"} {
		r = s.do("POST", "/v1/imports"+q, reporter, sheet)
		if p := r.json(t); r.Status != 403 || !strings.Contains(p["detail"].(string), "line 2: role reporter may not indicator.define") || s.lastPosition() != before {
			t.Fatalf("reporter's figure sheet %s: %d %s", q, r.Status, r.Body)
		}
	}
	tmpl := filepath.Join(t.TempDir(), "figures.xlsx")
	if out, err = s.runCLI(office, "import", "template", "--format", "xlsx", "--out", tmpl); err != nil {
		t.Fatalf("template: %v %s", err, out)
	}
	if b, _ := os.ReadFile(tmpl); len(b) < 100 || string(b[:2]) != "PK" {
		t.Fatal("the xlsx template is not a zip file")
	}
}

func between(s, from, to string) string {
	_, rest, _ := strings.Cut(s, from)
	v, _, _ := strings.Cut(rest, to)
	return v
}

// TestServeDemoShowsTheDocumentsPercentages starts serve --demo and reads
// the seed's figures back with the percentages the document prints.
func TestServeDemoShowsTheDocumentsPercentages(t *testing.T) {
	cfg := ServeConfig{DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", Replicas: 1, AdminToken: adminToken, Demo: true}
	srv, err := StartServer(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	s := &testServer{Server: srv, t: t, base: "http://" + srv.Addr()}
	analyst := s.token("分析员", "analyst")
	last := s.lastPosition()
	if err := srv.live.Wait(context.Background(), last); err != nil {
		t.Fatal(err)
	}
	if n := len(s.mustDo(200, "GET", "/v1/tasks?year=2022", analyst, nil)["tasks"].([]any)); n != 20 {
		t.Fatalf("%d tasks", n)
	}
	pct := map[string]bool{}
	for _, in := range s.mustDo(200, "GET", "/v1/indicators?year=2022", analyst, nil)["indicators"].([]any) {
		if v, ok := in.(map[string]any)["completion_pct_display"].(string); ok {
			pct[v] = true
		}
	}
	for _, want := range []string{"250.0", "133.3", "110.5", "107.1", "106.6", "103.9", "84.8"} {
		if !pct[want] {
			t.Errorf("no indicator shows %s%%; shown: %v", want, pct)
		}
	}
	// Its figures approved, 2022 frozen by a snapshot; the seed's numbers
	// on approved figures: 84.8% (an estimate, not met), −18.8% accidents.
	hitech := s.mustDo(200, "GET", "/v1/indicators/i2022-hitech-stock", analyst, nil)
	if hitech["completion_pct_display"] != "84.8" || hitech["quality"] != "estimate" || hitech["status"] != "not_met" || hitech["review_state"] != "approved" {
		t.Errorf("高新技术企业保有量: %v", hitech)
	}
	hist := s.mustDo(200, "GET", "/v1/indicators/i2022-accidents/history", analyst, nil)["years"].([]any)
	if y := hist[0].(map[string]any); y["approved_change_pct_display"] != "-18.8" || y["change_pct_display"] != "-18.8" {
		t.Errorf("accidents year over year: %v", y)
	}
	if y := s.mustDo(200, "GET", "/v1/years?year=2022", analyst, nil)["years"].([]any); len(y) != 1 || y[0].(map[string]any)["state"] != "frozen" {
		t.Errorf("2022: %v", y)
	}
	if list := s.mustDo(200, "GET", "/v1/snapshots?year=2022", analyst, nil)["snapshots"].([]any); len(list) != 1 {
		t.Errorf("snapshots: %v", list)
	}
	office := s.token("考评办", "office")
	if r := s.do("PUT", "/v1/indicators/i2022-hitech-stock/target", office, map[string]any{"value": "650", "reason": "调整"}); r.Status != 422 ||
		r.json(t)["rule"] != "year_frozen" {
		t.Errorf("a target revision in the frozen year: %d %s", r.Status, r.Body)
	}
	if q := s.mustDo(200, "GET", "/v1/review-queue", office, nil)["items"].([]any); len(q) != 0 {
		t.Errorf("nothing awaits the office: %v", q)
	}
	// A restart with --demo on a non-empty store loads nothing again.
	srv.Close()
	srv2, err := StartServer(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer srv2.Close()
	if p, _ := srv2.sys.Store.LastPosition(context.Background()); p != last {
		t.Fatalf("demo loaded twice: %d -> %d", last, p)
	}
}

// TestDryRunNamesAFrozenYear: the check before an import meets the rule
// the import itself would: a frozen year refuses the table's targets and
// figures, so the dry run says so instead of "可以导入".
func TestDryRunNamesAFrozenYear(t *testing.T) {
	s := startTestServer(t)
	office := s.token("考评办", "office")
	s.mustDo(200, "POST", "/v1/imports?kind=table&format=tsv&dry_run=true", office, demo.SeedTable())
	s.mustDo(201, "POST", "/v1/tasks?wait=true", office, map[string]any{"task_id": "gdp", "year": 2022, "title": "经济发展", "lead_department": "区科委"})
	s.mustDo(201, "POST", "/v1/snapshots", office, map[string]any{"year": 2022, "note": "年终封存"})
	before := s.lastPosition()
	r := s.do("POST", "/v1/imports?kind=table&format=tsv&dry_run=true", office, demo.SeedTable())
	p := r.json(t)
	if r.Status != 422 || p["rule"] != "year_frozen" || p["field"] != "year" || s.lastPosition() != before {
		t.Fatalf("dry run on a frozen year: %d %s", r.Status, r.Body)
	}
}
