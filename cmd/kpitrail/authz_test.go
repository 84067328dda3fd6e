package main

import (
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
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
	n      atomic.Int64
}

func (f *authzFixture) id(prefix string) string { return fmt.Sprintf("%s%d", prefix, f.n.Add(1)) }

func (f *authzFixture) task(lead string) string {
	id := f.id("task")
	f.s.mustDo(http.StatusCreated, "POST", "/v1/tasks", f.office, map[string]any{"task_id": id, "year": 2022, "title": "安全生产", "lead_department": lead, "deadline": "2022-12-31"})
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
			return "POST", "/v1/tasks", map[string]any{"task_id": f.id("new"), "year": 2022, "title": "城市更新行动", "lead_department": lead}
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
