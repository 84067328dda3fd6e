package main

import (
	"net/http"
	"strings"
	"testing"
)

// unitDecisions are the operations an office decides at its own unit's
// level only (auth's decisions).
var unitDecisions = map[string]bool{
	"approve figure": true, "return figure": true, "reopen figure": true,
	"approve proposal": true, "reject proposal": true, "close problem": true,
}

// unitCase is one scoped token on one unit's resources, and whether the
// matrix lets it run an operation there.
type unitCase struct {
	token, role, on string
	allows          func(op string) bool
}

// Given a city (bj) with two districts (da, db) and tokens scoped to da
// and to the city, when every role runs every operation on resources of
// its own unit and of another, then a token acts only within its unit's
// subtree, an office decides only at its own unit's level, and nothing
// refused is appended; reads hide what lies outside the subtree exactly
// as a missing resource.
func TestAuthorizationMatrixByUnit(t *testing.T) {
	s := startTestServer(t)
	f := &authzFixture{s: s, office: s.token("考评办", "office"), second: s.token("考评办复核", "office")}
	for _, u := range []map[string]any{
		{"unit_id": "bj", "name": "北京市", "level": "city"},
		{"unit_id": "da", "name": "甲区", "level": "district", "parent": "bj"},
		{"unit_id": "db", "name": "乙区", "level": "district", "parent": "bj"},
	} {
		s.mustDo(http.StatusCreated, "POST", "/v1/units?wait=true", f.office, u)
	}
	scoped := func(name, role, unit string, deps ...string) string {
		return s.mustDo(http.StatusCreated, "POST", "/v1/tokens", adminToken, map[string]any{"name": name, "role": role, "unit": unit, "departments": deps})["token"].(string)
	}
	districtOffice := scoped("甲区考评办", "office", "da")
	cityOffice := scoped("市考评办", "office", "bj")
	reporter := scoped("甲区应急局填报员", "reporter", "da", "区应急局")
	auditor := scoped("甲区审计员", "auditor", "da")
	analyst := scoped("甲区分析员", "analyst", "da")
	officeOps := func(op string) bool { return op != "issue token" && op != "list tokens" }
	reporterOps := func(op string) bool { return allowed["reporter"][op] }
	readOnly := func(op string) bool { return op == "read events" }
	none := func(op string) bool { return op == "read events" }
	cases := []unitCase{
		{districtOffice, "district office", "da", officeOps},
		{districtOffice, "district office", "db", none},
		{cityOffice, "city office", "bj", officeOps},
		{cityOffice, "city office", "da", func(op string) bool { return officeOps(op) && !unitDecisions[op] }},
		{reporter, "reporter", "da", reporterOps},
		{reporter, "reporter", "db", none},
		{auditor, "auditor", "da", readOnly},
		{auditor, "auditor", "db", none},
		{analyst, "analyst", "da", readOnly},
		{analyst, "analyst", "db", none},
	}
	fixtures := map[string]*authzFixture{}
	for _, u := range []string{"bj", "da", "db"} {
		fixtures[u] = &authzFixture{s: s, office: f.office, second: f.second, unit: u}
	}
	for _, c := range cases {
		uf := fixtures[c.on]
		for _, op := range operations() {
			t.Run(c.role+"@"+c.on+"/"+op.name, func(t *testing.T) {
				method, path, body := op.prepare(uf, "区应急局")
				before := s.lastPosition()
				r := s.do(method, path, c.token, body)
				if c.allows(op.name) {
					if r.Status >= 300 {
						t.Fatalf("allowed, got %d: %s", r.Status, r.Body)
					}
					return
				}
				if r.Status != http.StatusForbidden {
					t.Fatalf("want 403, got %d: %s", r.Status, r.Body)
				}
				if s.lastPosition() != before {
					t.Fatal("a forbidden request appended events")
				}
			})
		}
	}
	// Commands on the whole deployment are for unscoped tokens only.
	before := s.lastPosition()
	for _, tok := range []string{districtOffice, cityOffice} {
		if r := s.do("POST", "/v1/years/2022/reopen", tok, map[string]any{"reason": "更正"}); r.Status != http.StatusForbidden {
			t.Errorf("a unit-scoped office reopened a year: %d %s", r.Status, r.Body)
		}
	}
	if r := s.do("POST", "/v1/years/2022/reopen", f.office, map[string]any{"reason": "更正"}); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("the unscoped office meets the domain's answer (not frozen): %d %s", r.Status, r.Body)
	}
	if s.lastPosition() != before {
		t.Fatal("a refused reopen appended events")
	}
	// A token for a unit may not be an admin's.
	if r := s.do("POST", "/v1/tokens", adminToken, map[string]any{"name": "区管理员", "role": "admin", "unit": "da"}); r.Status != http.StatusBadRequest {
		t.Errorf("an admin token scoped to a unit: %d %s", r.Status, r.Body)
	}

	// Reads: own subtree visible, another unit's hidden as missing.
	da, db := "read-da", "read-db"
	for task, unit := range map[string]string{da: "da", db: "db"} {
		s.mustDo(http.StatusCreated, "POST", "/v1/tasks?wait=true", f.office, map[string]any{"task_id": task, "year": 2022,
			"title": "安全生产", "lead_department": "区应急局", "unit_id": unit})
	}
	for _, c := range []struct {
		name, token string
		sees        map[string]bool
	}{
		{"district office", districtOffice, map[string]bool{da: true, db: false}},
		{"city office", cityOffice, map[string]bool{da: true, db: true}},
		{"reporter", reporter, map[string]bool{da: true, db: false}},
		{"auditor", auditor, map[string]bool{da: true, db: false}},
		{"analyst", analyst, map[string]bool{da: true, db: false}},
		{"unscoped office", f.office, map[string]bool{da: true, db: true}},
	} {
		for task, want := range c.sees {
			r := s.do("GET", "/v1/tasks/"+task, c.token, nil)
			if got := r.Status == http.StatusOK; got != want {
				t.Errorf("%s reads task %s: %d, want visible=%v", c.name, task, r.Status, want)
			}
			if !want {
				missing := s.do("GET", "/v1/tasks/no-such-task", c.token, nil)
				if r.Status != http.StatusNotFound || strings.ReplaceAll(string(r.Body), task, "no-such-task") != string(missing.Body) {
					t.Errorf("%s: a hidden task answers %d %s, a missing one %d %s", c.name, r.Status, r.Body, missing.Status, missing.Body)
				}
			}
			board := s.mustDo(http.StatusOK, "GET", "/v1/tasks", c.token, nil)["tasks"].([]any)
			listed := false
			for _, x := range board {
				listed = listed || x.(map[string]any)["id"] == task
			}
			if listed != want {
				t.Errorf("%s lists task %s: %v, want %v", c.name, task, listed, want)
			}
		}
		units := map[string]bool{}
		for _, u := range s.mustDo(http.StatusOK, "GET", "/v1/units", c.token, nil)["units"].([]any) {
			units[u.(map[string]any)["id"].(string)] = true
		}
		if units["db"] != c.sees[db] || !units["da"] {
			t.Errorf("%s lists units %v", c.name, units)
		}
		if r := s.do("GET", "/v1/units/db/rollup", c.token, nil); (r.Status == http.StatusOK) != c.sees[db] {
			t.Errorf("%s reads db's roll-up: %d %s", c.name, r.Status, r.Body)
		}
	}
}
