package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mattn/go-runewidth"
	"github.com/xuri/excelize/v2"

	"kpitrail/projections"
)

// runCLI runs the kpitrail binary's Main as a shell would, against s.
func (s *testServer) runCLI(token string, args ...string) (string, error) {
	var out, errOut bytes.Buffer
	m := NewMain(&out, &errOut, func(k string) string {
		switch k {
		case "KPITRAIL_SERVER":
			return s.base
		case "KPITRAIL_TOKEN":
			return token
		}
		return ""
	})
	err := m.Run(context.Background(), args)
	return out.String() + errOut.String(), err
}

func TestCLIWritesThroughTheServer(t *testing.T) {
	s := startTestServer(t)
	office := s.token("考评办", "office")
	out, err := s.runCLI(office, "task.register", "--task_id", "rural", "--year", "2022", "--title", "乡村振兴战略", "--lead_department", "区农业农村局", "--co_departments", "区统计局", "--co_departments", "区财政局")
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if !strings.Contains(out, "task/rural → version 1") {
		t.Fatalf("output %q", out)
	}
	if _, err := s.runCLI(office, "indicator.define", "--data", `{"indicator_id":"grain","task_id":"rural","name":"粮食播种面积","unit":"万亩","direction":"higher"}`); err != nil {
		t.Fatal(err)
	}
	out, err = s.runCLI(office, "indicator.report_figure", "--json", "--indicator_id", "grain", "--window.year", "2022", "--value", "7.02",
		"--quality", "final", "--source.kind", "statistics_bureau", "--source.name", "区统计局", "--idempotency-key", "grain-2022")
	if err != nil || !strings.Contains(out, `"version":2`) {
		t.Fatalf("report: %v %s", err, out)
	}
	// A refused command prints the problem and changes nothing.
	before := s.lastPosition()
	_, err = s.runCLI(office, "indicator.report_figure", "--indicator_id", "grain", "--window.year", "2022", "--value", "-1",
		"--quality", "final", "--source.kind", "statistics_bureau")
	if err == nil || !strings.Contains(err.Error(), "non_negative") || s.lastPosition() != before {
		t.Fatalf("want a non_negative refusal, got %v", err)
	}
	if _, err := s.runCLI(office, "indicator.report_figure", "--help"); err != nil {
		t.Fatalf("--help is not an error: %v", err)
	}
}

func TestCLIReadsAndOperations(t *testing.T) {
	s := startTestServer(t)
	office := s.token("考评办", "office")
	for _, args := range [][]string{
		{"task.register", "--task_id", "safety", "--year", "2022", "--dimension", "高效率 落实", "--title", "安全生产", "--lead_department", "区应急局"},
		{"indicator.define", "--indicator_id", "accidents", "--task_id", "safety", "--name", "生产安全事故起数", "--unit", "起", "--direction", "lower", "--formula", "cap"},
		{"indicator.set_target", "--indicator_id", "accidents", "--value", "16"},
		{"indicator.report_figure", "--indicator_id", "accidents", "--window.year", "2022", "--window.from_month", "1", "--window.to_month", "11", "--value", "13", "--quality", "provisional", "--source.kind", "self_reported"},
	} {
		if out, err := s.runCLI(office, args...); err != nil {
			t.Fatalf("%v: %v %s", args, err, out)
		}
	}
	out, err := s.runCLI(office, "tasks", "--year", "2022")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], "安全生产") {
		t.Fatalf("tasks table:\n%s", out)
	}
	// Columns line up by display width: the status column starts at the
	// same terminal column in the header and in the row.
	status := strings.Fields(strings.SplitN(lines[1], "区应急局", 2)[1])[0]
	if col := runewidthIndex(lines[0], "状态"); col < 0 || col != runewidthIndex(lines[1], "区应急局  "+status)+runewidth.StringWidth("区应急局  ") {
		t.Fatalf("columns are not aligned:\n%s", out)
	}
	t.Logf("\n%s", out)
	if out, err = s.runCLI(office, "audit-trail", "accidents"); err != nil || !strings.Contains(out, "reported") {
		t.Fatalf("audit-trail: %v\n%s", err, out)
	}
	if out, err = s.runCLI(office, "indicators", "--json", "--q", "事故"); err != nil || !strings.Contains(out, `"value": "13"`) {
		t.Fatalf("indicators --json: %v\n%s", err, out)
	}
	xlsx := filepath.Join(t.TempDir(), "自查表.xlsx")
	if out, err = s.runCLI(office, "selfcheck", "--year", "2022", "--out", xlsx); err != nil || !strings.Contains(out, "wrote ") {
		t.Fatalf("selfcheck: %v\n%s", err, out)
	}
	book, err := excelize.OpenFile(xlsx)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := book.GetRows("2022年度")
	book.Close()
	if err != nil || len(rows) != 3 || rows[2][0] != "高效率 落实" || rows[2][1] != "安全生产" || rows[2][3] != "无" {
		t.Fatalf("selfcheck rows %q %v", rows, err)
	}
	if _, err = s.runCLI(office, "selfcheck", "--year", "2022"); err == nil {
		t.Fatal("selfcheck without --out wrote nothing and said nothing")
	}
	if out, err = s.runCLI(office, "snapshot", "--year", "2022"); err != nil || !strings.Contains(out, "content hash") {
		t.Fatalf("snapshot: %v\n%s", err, out)
	}
	if out, err = s.runCLI(adminToken, "audit", "verify"); err != nil || !strings.Contains(out, "root ") {
		t.Fatalf("audit verify: %v\n%s", err, out)
	}
	if out, err = s.runCLI(adminToken, "rebuild"); err != nil || !strings.Contains(out, "rebuilt to position") {
		t.Fatalf("rebuild: %v\n%s", err, out)
	}
	if out, err = s.runCLI(adminToken, "token", "issue", "--json", "--name", "区应急局填报员", "--role", "reporter", "--department", "区应急局"); err != nil || !strings.Contains(out, `"token": "kpt_`) {
		t.Fatalf("token issue: %v\n%s", err, out)
	}

	// Offline, on the data directory of a stopped server.
	dir := s.cfg.DataDir
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if out, err = s.runCLI("", "audit", "verify", "--data", dir); err != nil {
		t.Fatalf("offline verify: %v\n%s", err, out)
	}
	replayed := filepath.Join(t.TempDir(), "asof.db")
	if out, err = s.runCLI("", "replay", "--data", dir, "--position", "3", "--out", replayed); err != nil {
		t.Fatalf("offline replay: %v\n%s", err, out)
	}
	db, err := projections.Open(replayed)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ind, err := db.GetIndicator(context.Background(), "accidents")
	if err != nil || ind.Target != "16" || ind.Value != "" {
		t.Fatalf("replay to position 3 (target set, no figure yet): %+v %v", ind, err)
	}
	if out, err = s.runCLI("", "rebuild", "--data", dir); err != nil {
		t.Fatalf("offline rebuild: %v\n%s", err, out)
	}
}

func runewidthIndex(line, sub string) int {
	i := strings.Index(line, sub)
	if i < 0 {
		return -1
	}
	return runewidth.StringWidth(line[:i])
}
