package main

import (
	"net/http"
	"strings"
	"testing"
)

// Given serve --demo --units 3 on a real embedded NATS and SQLite, when
// it is ready, then the read models hold the city, the seed's district
// placed in it and three more, each district with the seed's tasks; the
// city's roll-up counts them all with a line per district; a ranking on
// the high-tech firms of 2022 ranks four districts whose figures differ;
// and a district office's token reads its own district only.
func TestDemoUnitsRollUpAndRank(t *testing.T) {
	s := startConfiguredServer(t, func(c *ServeConfig) {
		c.Demo = true
		c.DemoUnits = 3
	})
	analyst := s.token("分析员", "analyst")
	units := s.mustDo(http.StatusOK, "GET", "/v1/units", analyst, nil)["units"].([]any)
	if len(units) != 5 {
		t.Fatalf("%d units, want the city and four districts: %v", len(units), units)
	}
	seedTasks := len(s.mustDo(http.StatusOK, "GET", "/v1/tasks?year=2022&unit=huairou", analyst, nil)["tasks"].([]any))
	if seedTasks < 10 {
		t.Fatalf("the seed district has %d tasks", seedTasks)
	}
	for _, d := range []string{"d01", "d02", "d03"} {
		if n := len(s.mustDo(http.StatusOK, "GET", "/v1/tasks?year=2022&unit="+d, analyst, nil)["tasks"].([]any)); n != seedTasks {
			t.Errorf("district %s has %d tasks, the seed's %d", d, n, seedTasks)
		}
	}
	roll := s.mustDo(http.StatusOK, "GET", "/v1/units/beijing/rollup?year=2022&on=2023-02-01", analyst, nil)
	total := roll["total"].(map[string]any)
	if int(total["tasks"].(float64)) != 4*seedTasks {
		t.Errorf("the city's roll-up counts %v tasks, want %d", total["tasks"], 4*seedTasks)
	}
	if n := len(roll["children"].([]any)); n != 4 {
		t.Errorf("%d child lines, want 4", n)
	}
	if total["indicators_met"].(float64) == 0 || total["completion_pct"] == "" {
		t.Errorf("the roll-up's completion: %v", total)
	}
	rank := s.mustDo(http.StatusOK, "GET", "/v1/rankings?key=hitech-stock&year=2022", analyst, nil)["units"].([]any)
	if len(rank) != 4 {
		t.Fatalf("ranking of %d units, want 4: %v", len(rank), rank)
	}
	values := map[any]bool{}
	for i, l := range rank {
		line := l.(map[string]any)
		values[line["value"]] = true
		if r := int(line["rank"].(float64)); r < 1 || (i > 0 && r < int(rank[i-1].(map[string]any)["rank"].(float64))) {
			t.Errorf("ranks out of order: %v", rank)
		}
	}
	if len(values) < 3 {
		t.Errorf("the districts' figures hardly vary: %v", rank)
	}
	// The CLI reads the same: tables for people, the answer as is with --json.
	if out, err := s.runCLI(analyst, "units"); err != nil || !strings.Contains(out, "东城区") || !strings.Contains(out, "怀柔区") {
		t.Errorf("kpitrail units: %v\n%s", err, out)
	}
	if out, err := s.runCLI(analyst, "rollup", "--year", "2022", "--on", "2023-02-01", "beijing"); err != nil || !strings.Contains(out, "合计") || !strings.Contains(out, "西城区") {
		t.Errorf("kpitrail rollup: %v\n%s", err, out)
	}
	if out, err := s.runCLI(analyst, "ranking", "--json", "--key", "hitech-stock", "--year", "2022"); err != nil || !strings.Contains(out, `"rank": 1`) {
		t.Errorf("kpitrail ranking --json: %v\n%s", err, out)
	}
	if out, err := s.runCLI(adminToken, "token", "issue", "--name", "西城区分析员", "--role", "analyst", "--unit", "d02"); err != nil || !strings.Contains(out, "d02") {
		t.Errorf("kpitrail token issue --unit: %v\n%s", err, out)
	}
	district := s.mustDo(http.StatusCreated, "POST", "/v1/tokens", adminToken, map[string]any{"name": "东城区考评办", "role": "office", "unit": "d01"})["token"].(string)
	mine := s.mustDo(http.StatusOK, "GET", "/v1/tasks?year=2022", district, nil)["tasks"].([]any)
	if len(mine) != seedTasks {
		t.Errorf("a district office reads %d tasks, want its own %d", len(mine), seedTasks)
	}
	if r := s.do("GET", "/v1/units/beijing/rollup", district, nil); r.Status != http.StatusNotFound {
		t.Errorf("a district office reads the city's roll-up: %d", r.Status)
	}
}
