package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
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
