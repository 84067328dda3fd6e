package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"kpitrail/intake"
)

// idFormat is one row of docs/events.md, Identifiers.
type idFormat struct {
	kind, madeBy, example string
	re                    *regexp.Regexp
}

// documentedIDFormats reads the Identifiers table, so the test checks the
// formats as the document states them.
func documentedIDFormats(t *testing.T) []idFormat {
	t.Helper()
	b, err := os.ReadFile("../../docs/events.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## Identifiers\n")
	if !ok {
		t.Fatal("docs/events.md has no Identifiers section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var out []idFormat
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(strings.Trim(line, "| "), " | ")
		if len(cells) != 4 || !strings.HasPrefix(cells[2], "`^") {
			continue
		}
		re, err := regexp.Compile(strings.Trim(cells[2], "`"))
		if err != nil {
			t.Fatalf("docs/events.md, %s: %v", line, err)
		}
		f := idFormat{kind: cells[0], madeBy: cells[1], example: strings.Trim(cells[3], "`"), re: re}
		if !f.re.MatchString(f.example) {
			t.Fatalf("docs/events.md: the example %q of %s does not match its own format %s", f.example, f.kind, re)
		}
		out = append(out, f)
	}
	if len(out) < 8 {
		t.Fatalf("docs/events.md, Identifiers: only %d formats read", len(out))
	}
	return out
}

// format returns the documented format of an id kind made by someone whose
// description contains by.
func format(t *testing.T, formats []idFormat, kind, by string) idFormat {
	t.Helper()
	for _, f := range formats {
		if f.kind == kind && strings.Contains(f.madeBy, by) {
			return f
		}
	}
	t.Fatalf("docs/events.md documents no %s id made by %q", kind, by)
	return idFormat{}
}

func checkID(t *testing.T, f idFormat, id, where string) {
	t.Helper()
	if !f.re.MatchString(id) {
		t.Errorf("%s: %s id %q does not have the documented format %s (made by %s)", where, f.kind, id, f.re, f.madeBy)
	}
}

// TestGeneratedIDsAreReturnedAndDocumented checks every id kpitrail makes
// against docs/events.md (the demo's included), and that each write that
// creates a task, indicator or problem names it in its answer: over HTTP,
// on the NATS intake and in the CLI.
func TestGeneratedIDsAreReturnedAndDocumented(t *testing.T) {
	formats := documentedIDFormats(t)
	s := startConfiguredServer(t, func(c *ServeConfig) {
		c.Demo = true
		listenAsDepartment(t, c)
	})
	issued := s.mustDo(http.StatusCreated, "POST", "/v1/tokens", adminToken, map[string]any{"name": "考评办", "role": "office"})
	checkID(t, format(t, formats, "token", "/v1/tokens"), issued["token_id"].(string), "POST /v1/tokens")
	office := issued["token"].(string)

	// The demo's ids, and every documented example of a demo id exists.
	seen := map[string]bool{}
	demoTask := format(t, formats, "task", "demo")
	demoProblem := format(t, formats, "problem", "demo")
	demoIndicator := format(t, formats, "indicator", "demo")
	tasks := s.mustDo(200, "GET", "/v1/tasks?year=2022", office, nil)["tasks"].([]any)
	if len(tasks) < 10 {
		t.Fatalf("the demo has %d tasks", len(tasks))
	}
	for _, x := range tasks {
		id := x.(map[string]any)["id"].(string)
		checkID(t, demoTask, id, "demo task")
		seen[id] = true
		detail := s.mustDo(200, "GET", "/v1/tasks/"+id, office, nil)
		for _, p := range detail["problems"].([]any) {
			pid := p.(map[string]any)["problem_id"].(string)
			checkID(t, demoProblem, pid, "demo problem of "+id)
			seen[pid] = true
		}
		for _, in := range detail["indicators"].([]any) {
			iid := in.(map[string]any)["id"].(string)
			checkID(t, demoIndicator, iid, "demo indicator of "+id)
			seen[iid] = true
		}
	}
	for _, f := range []idFormat{demoTask, demoProblem, demoIndicator} {
		if !seen[f.example] {
			t.Errorf("docs/events.md gives %q as a demo %s id; the demo has no such id", f.example, f.kind)
		}
	}

	// Ids the server names over HTTP come back in the answer, and a retry
	// with the same Idempotency-Key gets the same id.
	// 2023: the demo's 2022 is frozen, and this is about ids, not about
	// reopening a year.
	task := s.mustDo(201, "POST", "/v1/tasks", office, map[string]any{"year": 2023, "title": "科技成果转化", "lead_department": "区科委"})
	taskID := createdID(t, task, "task_id")
	checkID(t, format(t, formats, "task", "server"), taskID, "POST /v1/tasks")
	if task["aggregate"].(map[string]any)["id"] != taskID {
		t.Errorf("POST /v1/tasks: created %s, aggregate %v", taskID, task["aggregate"])
	}
	for _, e := range task["event_ids"].([]any) {
		checkID(t, format(t, formats, "event", "every event"), e.(string), "POST /v1/tasks event")
	}
	ind := s.mustDo(201, "POST", "/v1/tasks/"+taskID+"/indicators", office,
		map[string]any{"key": "transfers", "name": "技术合同成交额", "unit": "亿元", "direction": "higher"})
	checkID(t, format(t, formats, "indicator", "server"), createdID(t, ind, "indicator_id"), "POST …/indicators")
	problem := map[string]any{"description": "成果转化平台尚未建成", "total_items": 2}
	first := s.mustDo(201, "POST", "/v1/tasks/"+taskID+"/problems?wait=true", office, problem, "Idempotency-Key", "problem-1")
	problemID := createdID(t, first, "problem_id")
	checkID(t, format(t, formats, "problem", "server"), problemID, "POST …/problems")
	if again := s.mustDo(201, "POST", "/v1/tasks/"+taskID+"/problems", office, problem, "Idempotency-Key", "problem-1"); createdID(t, again, "problem_id") != problemID {
		t.Errorf("a retry of POST …/problems named another problem: %v, first %s", again["created"], problemID)
	}
	if !strings.Contains(string(s.do("GET", "/v1/tasks/"+taskID, office, nil).Body), `"problem_id":"`+problemID+`"`) {
		t.Errorf("the task does not list the problem %s its write returned", problemID)
	}
	// A write that creates nothing of its own names nothing.
	if narr := s.mustDo(201, "POST", "/v1/tasks/"+taskID+"/narratives", office, map[string]any{"items": []string{"平台选址完成。"}}); narr["created"] != nil {
		t.Errorf("a narrative write answered created %v", narr["created"])
	}

	// By name, the caller names the problem; the answer repeats it.
	byName := s.mustDo(200, "POST", "/v1/commands/task.record_problem", office,
		map[string]any{"task_id": taskID, "problem_id": "p-by-name", "description": "资金拨付滞后"})
	if createdID(t, byName, "problem_id") != "p-by-name" {
		t.Errorf("by name: created %v", byName["created"])
	}

	// On the NATS intake.
	nc, err := s.departmentConn(t)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	msg := nats.NewMsg(intake.SubjectPrefix + "task.record_problem")
	msg.Header.Set(intake.HeaderAuthorization, "Bearer "+office)
	msg.Data, _ = json.Marshal(map[string]any{"task_id": taskID, "problem_id": "p-over-nats", "description": "专家库未建立"})
	reply, err := nc.RequestMsg(msg, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var res map[string]any
	if err := json.Unmarshal(reply.Data, &res); err != nil || reply.Header.Get(intake.StatusHeader) != "200" {
		t.Fatalf("intake: %s %s", reply.Header.Get(intake.StatusHeader), reply.Data)
	}
	if createdID(t, res, "problem_id") != "p-over-nats" {
		t.Errorf("intake: created %v", res["created"])
	}

	// The CLI prints the problem it created; the task it names already.
	var out, errOut bytes.Buffer
	m := NewMain(&out, &errOut, func(string) string { return "" })
	if err := m.Run(context.Background(), []string{"task.record_problem", "--server", s.base, "--token", office,
		"--task_id", taskID, "--problem_id", "p-from-cli", "--description", "宣传不到位"}); err != nil {
		t.Fatalf("CLI: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "; created problem_id p-from-cli") {
		t.Errorf("the CLI does not print the problem it created: %q", out.String())
	}
	out.Reset()
	if err := m.Run(context.Background(), []string{"task.register", "--server", s.base, "--token", office,
		"--task_id", "t-cli", "--year", "2022", "--title", "命令行登记", "--lead_department", "区科委"}); err != nil {
		t.Fatalf("CLI: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "task/t-cli") || strings.Contains(out.String(), "created") {
		t.Errorf("the CLI's task.register line: %q", out.String())
	}
}

func createdID(t *testing.T, res map[string]any, field string) string {
	t.Helper()
	created, _ := res["created"].(map[string]any)
	id, _ := created[field].(string)
	if id == "" {
		t.Fatalf("the answer names no created %s: %v", field, res)
	}
	return id
}
