package main

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// authzFixture creates, as the office, what an operation acts on. Every
// operation gets fresh resources so that one role's success never changes
// what the next role meets.
type authzFixture struct {
	s      *testServer
	office string
	// second is another office token: what it submits or proposes, the
	// office under test may approve.
	second string
	// unit, when set, is the unit every task it creates belongs to.
	unit string
	n    atomic.Int64
}

func (f *authzFixture) id(prefix string) string {
	return fmt.Sprintf("%s%s%d", prefix, f.unit, f.n.Add(1))
}

func (f *authzFixture) task(lead string) string {
	id := f.id("task")
	f.s.mustDo(http.StatusCreated, "POST", "/v1/tasks", f.office, f.inUnit(map[string]any{"task_id": id, "year": 2022, "title": "安全生产", "lead_department": lead, "deadline": "2022-12-31"}))
	return id
}

func (f *authzFixture) indicator(lead string) string {
	task := f.task(lead)
	id := f.id("ind")
	f.s.mustDo(http.StatusCreated, "POST", "/v1/tasks/"+task+"/indicators", f.office, map[string]any{"indicator_id": id, "name": "生产安全事故", "unit": "起", "direction": "lower", "formula": "cap"})
	f.s.mustDo(http.StatusOK, "PUT", "/v1/indicators/"+id+"/target", f.office, map[string]any{"value": "16"})
	return id
}

func (f *authzFixture) figure(lead string) (string, string) {
	ind := f.indicator(lead)
	m := f.s.mustDo(http.StatusCreated, "POST", "/v1/indicators/"+ind+"/figures", f.office, figureBody("13"))
	return ind, m["event_ids"].([]any)[0].(string)
}

// submitted is a figure the second office token submitted.
func (f *authzFixture) submitted(lead string) (string, string) {
	ind, ev := f.figure(lead)
	f.s.mustDo(http.StatusOK, "POST", "/v1/indicators/"+ind+"/figures/"+ev+"/submit", f.second, map[string]any{})
	return ind, ev
}

// proposal is a base the second office token proposed.
func (f *authzFixture) proposal(lead string) (string, string) {
	ind := f.indicator(lead)
	m := f.s.mustDo(http.StatusCreated, "POST", "/v1/indicators/"+ind+"/proposals/bases", f.second, map[string]any{
		"window": map[string]any{"year": 2021, "from_month": 1, "to_month": 11}, "value": "16", "quality": "final", "reason": "按可比口径"})
	return ind, m["event_ids"].([]any)[0].(string)
}

func (f *authzFixture) problem(lead string) (string, string) {
	task := f.task(lead)
	pid := f.id("p")
	f.s.mustDo(http.StatusCreated, "POST", "/v1/tasks/"+task+"/problems", f.office, map[string]any{"problem_id": pid, "description": "违法项目拆除", "total_items": 3})
	return task, pid
}

// inUnit places a new task's body in the fixture's unit.
func (f *authzFixture) inUnit(body map[string]any) map[string]any {
	if f.unit != "" {
		body["unit_id"] = f.unit
	}
	return body
}

func figureBody(v string) map[string]any {
	return map[string]any{"window": map[string]any{"year": 2022, "from_month": 1, "to_month": 11}, "value": v, "quality": "provisional",
		"source": map[string]any{"kind": "self_reported"}}
}

type operation struct {
	name string
	// prepare returns method, path and body, acting on a task led by lead.
	prepare func(f *authzFixture, lead string) (string, string, any)
}

func operations() []operation {
	return []operation{
		{"register task", func(f *authzFixture, lead string) (string, string, any) {
			return "POST", "/v1/tasks", f.inUnit(map[string]any{"task_id": f.id("new"), "year": 2022, "title": "城市更新行动", "lead_department": lead})
		}},
		{"register unit", func(f *authzFixture, lead string) (string, string, any) {
			body := map[string]any{"unit_id": f.id("u"), "name": "区应急管理局", "level": "department"}
			if f.unit != "" {
				body["parent"] = f.unit
			}
			return "POST", "/v1/units", body
		}},
		{"define indicator", func(f *authzFixture, lead string) (string, string, any) {
			return "POST", "/v1/tasks/" + f.task(lead) + "/indicators", map[string]any{"indicator_id": f.id("i"), "name": "腾退土地", "unit": "公顷", "direction": "higher"}
		}},
		{"set target", func(f *authzFixture, lead string) (string, string, any) {
			return "PUT", "/v1/indicators/" + f.indicator(lead) + "/target", map[string]any{"value": "15", "reason": "调整"}
		}},
		{"record base", func(f *authzFixture, lead string) (string, string, any) {
			return "POST", "/v1/indicators/" + f.indicator(lead) + "/bases", map[string]any{"window": map[string]any{"year": 2021, "from_month": 1, "to_month": 11}, "value": "16", "quality": "final"}
		}},
		{"report figure", func(f *authzFixture, lead string) (string, string, any) {
			return "POST", "/v1/indicators/" + f.indicator(lead) + "/figures", figureBody("13")
		}},
		{"correct figure", func(f *authzFixture, lead string) (string, string, any) {
			ind, ev := f.figure(lead)
			return "POST", "/v1/indicators/" + ind + "/figures/" + ev + "/corrections", map[string]any{"value": "12", "reason": "统计口径更正"}
		}},
		{"retract figure", func(f *authzFixture, lead string) (string, string, any) {
			ind, ev := f.figure(lead)
			return "POST", "/v1/indicators/" + ind + "/figures/" + ev + "/retraction", map[string]any{"reason": "重复填报"}
		}},
		{"propose base", func(f *authzFixture, lead string) (string, string, any) {
			return "POST", "/v1/indicators/" + f.indicator(lead) + "/proposals/bases", map[string]any{"window": map[string]any{"year": 2021, "from_month": 1, "to_month": 11}, "value": "16", "quality": "final", "reason": "按可比口径"}
		}},
		{"propose target", func(f *authzFixture, lead string) (string, string, any) {
			return "POST", "/v1/indicators/" + f.indicator(lead) + "/proposals/target", map[string]any{"value": "14", "reason": "任务调整"}
		}},
		{"submit figure", func(f *authzFixture, lead string) (string, string, any) {
			ind, ev := f.figure(lead)
			return "POST", "/v1/indicators/" + ind + "/figures/" + ev + "/submit", map[string]any{}
		}},
		{"approve figure", func(f *authzFixture, lead string) (string, string, any) {
			ind, ev := f.submitted(lead)
			return "POST", "/v1/indicators/" + ind + "/figures/" + ev + "/approve", map[string]any{}
		}},
		{"return figure", func(f *authzFixture, lead string) (string, string, any) {
			ind, ev := f.submitted(lead)
			return "POST", "/v1/indicators/" + ind + "/figures/" + ev + "/return", map[string]any{"reason": "请核对"}
		}},
		{"reopen figure", func(f *authzFixture, lead string) (string, string, any) {
			ind, ev := f.submitted(lead)
			f.s.mustDo(http.StatusOK, "POST", "/v1/indicators/"+ind+"/figures/"+ev+"/approve", f.office, map[string]any{})
			return "POST", "/v1/indicators/" + ind + "/figures/" + ev + "/reopen", map[string]any{"reason": "数据更正"}
		}},
		{"approve proposal", func(f *authzFixture, lead string) (string, string, any) {
			ind, pid := f.proposal(lead)
			return "POST", "/v1/indicators/" + ind + "/proposals/" + pid + "/approve", map[string]any{}
		}},
		{"reject proposal", func(f *authzFixture, lead string) (string, string, any) {
			ind, pid := f.proposal(lead)
			return "POST", "/v1/indicators/" + ind + "/proposals/" + pid + "/reject", map[string]any{"reason": "口径不可比"}
		}},
		{"withdraw indicator", func(f *authzFixture, lead string) (string, string, any) {
			return "POST", "/v1/indicators/" + f.indicator(lead) + "/withdraw", map[string]any{"reason": "指标取消"}
		}},
		{"record narrative", func(f *authzFixture, lead string) (string, string, any) {
			return "POST", "/v1/tasks/" + f.task(lead) + "/narratives", map[string]any{"items": []string{"1. 已完成年度目标。"}}
		}},
		{"record milestone", func(f *authzFixture, lead string) (string, string, any) {
			return "POST", "/v1/tasks/" + f.task(lead) + "/milestones", map[string]any{"milestone": "开工", "reached_on": "2022-06-28"}
		}},
		{"record problem", func(f *authzFixture, lead string) (string, string, any) {
			return "POST", "/v1/tasks/" + f.task(lead) + "/problems", map[string]any{"problem_id": f.id("p"), "description": "三率未达标"}
		}},
		{"progress rectification", func(f *authzFixture, lead string) (string, string, any) {
			task, pid := f.problem(lead)
			return "POST", "/v1/tasks/" + task + "/problems/" + pid + "/rectification", map[string]any{"rectified": 2}
		}},
		{"close problem", func(f *authzFixture, lead string) (string, string, any) {
			task, pid := f.problem(lead)
			return "POST", "/v1/tasks/" + task + "/problems/" + pid + "/close", map[string]any{"outcome": "ongoing"}
		}},
		{"change deadline", func(f *authzFixture, lead string) (string, string, any) {
			return "PUT", "/v1/tasks/" + f.task(lead) + "/deadline", map[string]any{"deadline": "2023-03-31", "reason": "延期"}
		}},
		{"complete task", func(f *authzFixture, lead string) (string, string, any) {
			return "POST", "/v1/tasks/" + f.task(lead) + "/complete", map[string]any{"completed_on": "2022-12-20"}
		}},
		{"withdraw task", func(f *authzFixture, lead string) (string, string, any) {
			return "POST", "/v1/tasks/" + f.task(lead) + "/withdraw", map[string]any{"reason": "重复登记"}
		}},
		{"issue token", func(f *authzFixture, lead string) (string, string, any) {
			return "POST", "/v1/tokens", map[string]any{"name": f.id("tok"), "role": "analyst"}
		}},
		{"list tokens", func(f *authzFixture, lead string) (string, string, any) {
			return "GET", "/v1/tokens", nil
		}},
		{"read events", func(f *authzFixture, lead string) (string, string, any) {
			return "GET", "/v1/events?after=0&limit=5", nil
		}},
	}
}

// allowed is the authorization matrix. Reporter rows are for the
// reporter's own department; on another department's task every reporter
// write is forbidden (checked separately below).
var allowed = map[string]map[string]bool{
	"admin":  {"issue token": true, "list tokens": true, "read events": true},
	"office": {"read events": true},
	"reporter": {"report figure": true, "correct figure": true, "retract figure": true, "propose base": true, "propose target": true, "submit figure": true,
		"record narrative": true, "record milestone": true, "record problem": true, "progress rectification": true, "read events": true},
	"auditor": {"read events": true},
	"analyst": {"read events": true},
}

func TestAuthorizationMatrix(t *testing.T) {
	s := startTestServer(t)
	f := &authzFixture{s: s, office: s.token("考评办", "office"), second: s.token("考评办复核", "office")}
	for _, op := range operations() {
		if op.name != "issue token" && op.name != "list tokens" && op.name != "read events" {
			allowed["office"][op.name] = true
		}
	}
	tokens := map[string]string{
		"admin": adminToken, "office": f.office,
		"reporter": s.token("区应急局填报员", "reporter", "区应急局"),
		"auditor":  s.token("审计员", "auditor"), "analyst": s.token("分析员", "analyst"),
	}
	for _, role := range []string{"admin", "office", "reporter", "auditor", "analyst"} {
		for _, op := range operations() {
			t.Run(role+"/"+op.name, func(t *testing.T) {
				method, path, body := op.prepare(f, "区应急局")
				before := s.lastPosition()
				r := s.do(method, path, tokens[role], body)
				if allowed[role][op.name] {
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
	// A reporter may not touch another department's tasks.
	for _, op := range operations() {
		if !allowed["reporter"][op.name] || op.name == "read events" {
			continue
		}
		t.Run("reporter-foreign/"+op.name, func(t *testing.T) {
			method, path, body := op.prepare(f, "区生态环境局")
			before := s.lastPosition()
			if r := s.do(method, path, tokens["reporter"], body); r.Status != http.StatusForbidden {
				t.Fatalf("want 403 on another department's task, got %d: %s", r.Status, r.Body)
			}
			if s.lastPosition() != before {
				t.Fatal("a forbidden request appended events")
			}
		})
	}
	// No token, or a wrong one: 401 for every operation.
	for _, op := range operations() {
		method, path, body := op.prepare(f, "区应急局")
		for _, tok := range []string{"", "kpt_wrong"} {
			if r := s.do(method, path, tok, body); r.Status != http.StatusUnauthorized {
				t.Fatalf("%s with token %q: want 401, got %d", op.name, tok, r.Status)
			}
		}
	}
}

// readFixture is one department's task, with an indicator that has
// figures, so every read route has something of it to show or hide: a
// 1-11月 figure still to submit, a 1-6月 estimate submitted and awaiting
// approval (overdue for its final figure), a warning (1-11月 13 below
// 1-6月 20, cumulative) and a yearly reporting period missing.
type readFixture struct {
	task, indicator, lead string
	events                int
}

func (f *authzFixture) readable(lead string, co ...string) readFixture {
	task := f.id("rt")
	// The title names the task, so a table without ids (the self-check
	// XLSX) still shows whose rows it holds.
	f.s.mustDo(http.StatusCreated, "POST", "/v1/tasks", f.office, map[string]any{"task_id": task, "year": 2022, "title": "安全生产 " + task,
		"lead_department": lead, "co_departments": co, "deadline": "2022-12-31"})
	ind := f.id("ri")
	f.s.mustDo(http.StatusCreated, "POST", "/v1/tasks/"+task+"/indicators", f.office, map[string]any{"indicator_id": ind, "name": "生产安全事故",
		"unit": "起", "direction": "lower", "formula": "cap", "additive": true, "cadence": "yearly"})
	f.s.mustDo(http.StatusCreated, "POST", "/v1/indicators/"+ind+"/figures", f.office, figureBody("13"))
	half := f.s.mustDo(http.StatusCreated, "POST", "/v1/indicators/"+ind+"/figures", f.office, map[string]any{
		"window": map[string]any{"year": 2022, "from_month": 1, "to_month": 6}, "value": "20", "quality": "estimate",
		"final_due": "2022-08-31", "source": map[string]any{"kind": "self_reported"}})["event_ids"].([]any)[0].(string)
	f.s.mustDo(http.StatusOK, "POST", "/v1/indicators/"+ind+"/figures/"+half+"/submit", f.second, map[string]any{"reason": "报考评办审核"})
	return readFixture{task: task, indicator: ind, lead: lead, events: 5}
}

// readRoute reads one thing about a fixture and says whether the caller
// saw it. A route that hides a single resource must answer exactly as for
// one that does not exist.
type readRoute struct {
	name string
	read func(t *testing.T, s *testServer, token string, x readFixture) bool
	// awaitsMe: the route lists what awaits the caller, and nothing of
	// another department awaits a reporter, whatever it may read.
	awaitsMe bool
}

func readRoutes(asOf string) []readRoute {
	one := func(path string) func(*testing.T, *testServer, string, readFixture) bool {
		return func(t *testing.T, s *testServer, token string, x readFixture) bool {
			p := strings.NewReplacer("{task}", x.task, "{ind}", x.indicator, "{as_of}", asOf).Replace(path)
			r := s.do("GET", p, token, nil)
			if r.Status == http.StatusOK {
				return true
			}
			// Hidden: the same answer as an id that was never used.
			missing := strings.NewReplacer("{task}", "no-such-task", "{ind}", "no-such-ind", "{as_of}", asOf).Replace(path)
			m := s.do("GET", missing, token, nil)
			got := strings.NewReplacer(x.task, "no-such-task", x.indicator, "no-such-ind").Replace(string(r.Body))
			if r.Status != http.StatusNotFound || m.Status != http.StatusNotFound || got != string(m.Body) {
				t.Fatalf("%s: hidden as %d %s; a missing one is %d %s", p, r.Status, r.Body, m.Status, m.Body)
			}
			return false
		}
	}
	listed := func(path string, key, field string) func(*testing.T, *testServer, string, readFixture) bool {
		return func(t *testing.T, s *testServer, token string, x readFixture) bool {
			p := strings.NewReplacer("{task}", x.task, "{as_of}", asOf).Replace(path)
			want := map[string]string{"task": x.task, "indicator": x.indicator}[field]
			for _, v := range s.mustDo(http.StatusOK, "GET", p, token, nil)[key].([]any) {
				if v.(map[string]any)["id"] == want {
					return true
				}
			}
			return false
		}
	}
	// mentioned lists the rows of a list route and says whether one is
	// about the fixture's indicator.
	mentioned := func(path string, keys ...string) func(*testing.T, *testServer, string, readFixture) bool {
		return func(t *testing.T, s *testServer, token string, x readFixture) bool {
			m := s.mustDo(http.StatusOK, "GET", strings.NewReplacer("{as_of}", asOf).Replace(path), token, nil)
			for _, key := range keys {
				for _, v := range m[key].([]any) {
					if v.(map[string]any)["indicator_id"] == x.indicator {
						return true
					}
				}
			}
			return false
		}
	}
	return []readRoute{
		{name: "review queue", read: mentioned("/v1/review-queue", "items"), awaitsMe: true},
		{name: "review queue as of", read: mentioned("/v1/review-queue?as_of={as_of}", "items"), awaitsMe: true},
		{name: "warnings", read: mentioned("/v1/warnings", "warnings")},
		{name: "warnings as of", read: mentioned("/v1/warnings?state=all&as_of={as_of}", "warnings")},
		{name: "completeness", read: mentioned("/v1/completeness?year=2022", "periods")},
		{name: "completeness as of", read: mentioned("/v1/completeness?year=2022&as_of={as_of}", "periods")},
		{name: "estimates overdue", read: mentioned("/v1/completeness?year=2022", "overdue_finals")},
		{name: "completeness summary", read: func(t *testing.T, s *testServer, token string, x readFixture) bool {
			// The counts hold only what the caller may read: the
			// fixture's department's missing period is counted or not.
			m := s.mustDo(http.StatusOK, "GET", "/v1/completeness?year=2022&department="+url.QueryEscape(x.lead), token, nil)
			n := 0.0
			for _, v := range m["summary"].([]any) {
				n += v.(map[string]any)["missing"].(float64)
			}
			return n > 0
		}},
		{name: "proposals", read: one("/v1/indicators/{ind}/proposals")},
		{name: "proposals as of", read: one("/v1/indicators/{ind}/proposals?as_of={as_of}")},
		{name: "task", read: one("/v1/tasks/{task}")},
		{name: "task as of", read: one("/v1/tasks/{task}?as_of={as_of}")},
		{name: "task board", read: listed("/v1/tasks", "tasks", "task")},
		{name: "task board as of", read: listed("/v1/tasks?as_of={as_of}", "tasks", "task")},
		{name: "indicators", read: listed("/v1/indicators", "indicators", "indicator")},
		{name: "indicators of the task", read: listed("/v1/indicators?task_id={task}", "indicators", "indicator")},
		{name: "indicator", read: one("/v1/indicators/{ind}")},
		{name: "figures", read: one("/v1/indicators/{ind}/figures")},
		{name: "history", read: one("/v1/indicators/{ind}/history")},
		{name: "audit trail", read: one("/v1/indicators/{ind}/audit")},
		{name: "audit trail as of", read: one("/v1/indicators/{ind}/audit?as_of={as_of}")},
		{name: "self-check table of the task", read: one("/v1/tasks/{task}/selfcheck.xlsx")},
		{name: "self-check table of the task as of", read: one("/v1/tasks/{task}/selfcheck.xlsx?as_of={as_of}")},
		{name: "self-check table", read: func(t *testing.T, s *testServer, token string, x readFixture) bool {
			return slices.Contains(selfCheckTitles(t, s.do("GET", "/v1/tasks/selfcheck.xlsx?year=2022", token, nil)), "安全生产 "+x.task)
		}},
		{name: "events", read: func(t *testing.T, s *testServer, token string, x readFixture) bool {
			n := 0
			for _, v := range s.mustDo(http.StatusOK, "GET", "/v1/events?limit=1000", token, nil)["events"].([]any) {
				if id := v.(map[string]any)["aggregate_id"]; id == x.task || id == x.indicator {
					n++
				}
			}
			if n != 0 && n != x.events {
				t.Fatalf("events: %d of the fixture's %d", n, x.events)
			}
			return n == x.events
		}},
		{name: "changes", read: func(t *testing.T, s *testServer, token string, x readFixture) bool {
			r := s.do("GET", "/v1/changes?follow=false", token, nil)
			if r.Status != http.StatusOK {
				t.Fatalf("changes: %d %s", r.Status, r.Body)
			}
			return strings.Contains(string(r.Body), `"task_id":"`+x.task+`"`)
		}},
	}
}

// TestReadAuthorizationMatrix reads every route as every role, on a task
// of the reporter's department, one it co-owns, and another department's:
// a reporter reads only its own (hidden as missing), every other role
// reads all; with --reporter-reads all a reporter reads all too.
func TestReadAuthorizationMatrix(t *testing.T) {
	for _, mode := range []string{"own", "all"} {
		t.Run("reporter-reads-"+mode, func(t *testing.T) {
			s := startConfiguredServer(t, func(c *ServeConfig) { c.ReporterReads = mode })
			f := &authzFixture{s: s, office: s.token("考评办", "office"), second: s.token("考评办复核", "office")}
			fixtures := map[string]readFixture{
				"own":      f.readable("区应急局"),
				"co-owned": f.readable("区住建委", "区应急局"),
				"other":    f.readable("区生态环境局", "区住建委"),
			}
			waitForReadModels(t, s)
			waitForChanges(t, s, f.office, fixtures["other"].task)
			asOf := url.QueryEscape(time.Now().UTC().Format(time.RFC3339Nano))
			tokens := map[string]string{
				"admin": adminToken, "office": f.office,
				"reporter": s.token("区应急局填报员", "reporter", "区应急局"),
				"auditor":  s.token("审计员", "auditor"), "analyst": s.token("分析员", "analyst"),
			}
			// The CLI reads through the same routes.
			other := fixtures["other"].task
			out, err := s.runCLI(tokens["reporter"], "task", other)
			if hidden := mode == "own"; hidden != (err != nil) || (hidden && !strings.Contains(err.Error(), "not in the read models")) {
				t.Fatalf("kpitrail task %s as the reporter: %v\n%s", other, err, out)
			}
			if out, err := s.runCLI(tokens["reporter"], "tasks"); err != nil || strings.Contains(out, other) != (mode == "all") ||
				!strings.Contains(out, fixtures["own"].task) {
				t.Fatalf("kpitrail tasks as the reporter: %v\n%s", err, out)
			}
			for role, token := range tokens {
				for which, x := range fixtures {
					for _, rt := range readRoutes(asOf) {
						want := !(role == "reporter" && which == "other" && (mode == "own" || rt.awaitsMe))
						t.Run(role+"/"+which+"/"+rt.name, func(t *testing.T) {
							if got := rt.read(t, s, token, x); got != want {
								t.Fatalf("read %v, want %v", got, want)
							}
						})
					}
				}
				// Exports are whole tables: a reporter that reads only its
				// own departments may not export.
				t.Run(role+"/exports", func(t *testing.T) {
					want := http.StatusOK
					if role == "reporter" && mode == "own" {
						want = http.StatusForbidden
					}
					if r := s.do("GET", "/v1/exports/tasks.csv", token, nil); r.Status != want {
						t.Fatalf("export: %d, want %d: %s", r.Status, want, r.Body)
					}
					if want == http.StatusForbidden {
						if r := s.do("POST", "/v1/exports", token, map[string]any{"formats": []string{"csv"}}); r.Status != want {
							t.Fatalf("export: %d, want %d: %s", r.Status, want, r.Body)
						}
					}
				})
			}
		})
	}
}

// waitForChanges waits until the change stream has a change about a task.
func waitForChanges(t *testing.T, s *testServer, token, task string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(string(s.do("GET", "/v1/changes?follow=false", token, nil).Body), `"task_id":"`+task+`"`) {
		if time.Now().After(deadline) {
			t.Fatalf("no change about %s on the stream", task)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
