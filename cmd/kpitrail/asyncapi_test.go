package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"kpitrail/asyncapi/asyncapitest"
	"kpitrail/feed"
	"kpitrail/intake"
	"kpitrail/natsauth"
)

// intakeRecorder sends commands to the intake of a real serve and holds every
// request and reply to the AsyncAPI document, the way specClient holds
// HTTP traffic to the OpenAPI document.
type intakeRecorder struct {
	t   *testing.T
	nc  *nats.Conn
	doc *asyncapitest.Doc
}

// send submits a command and checks the request against the document
// (valid says whether the document should accept it) and the reply
// against the reply messages; it returns the reply body.
func (c *intakeRecorder) send(valid bool, want int, name, token, body string, headers ...string) map[string]any {
	c.t.Helper()
	msg := nats.NewMsg(intake.SubjectPrefix + name)
	msg.Data = []byte(body)
	if token != "" {
		msg.Header.Set(intake.HeaderAuthorization, "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		msg.Header.Set(headers[i], headers[i+1])
	}
	err := c.doc.CheckSubject(msg.Subject, msg.Header, msg.Data)
	switch {
	case valid && err != nil:
		c.t.Errorf("%s: the document refuses a request the intake takes: %v", name, err)
	case !valid && err == nil:
		c.t.Errorf("%s: the document accepts a request the intake refuses with %d: %s", name, want, body)
	}
	reply, err := c.nc.RequestMsg(msg, 20*time.Second)
	if err != nil {
		c.t.Fatalf("%s: %v", name, err)
	}
	status, _ := strconv.Atoi(reply.Header.Get(intake.StatusHeader))
	if status != want {
		c.t.Fatalf("%s: status %d, want %d: %s", name, status, want, reply.Data)
	}
	message := "CommandResult"
	if status != 200 {
		message = "CommandProblem"
	}
	if err := c.doc.Check(message, reply.Header, reply.Data); err != nil {
		c.t.Errorf("%s -> %d: the reply does not match the document: %v\n%s", name, status, err, asyncapitest.Pretty(reply.Data))
	}
	var out map[string]any
	if err := json.Unmarshal(reply.Data, &out); err != nil {
		c.t.Fatalf("%s: reply is not JSON: %s", name, reply.Data)
	}
	return out
}

func (c *intakeRecorder) ok(name, token, body string, headers ...string) map[string]any {
	c.t.Helper()
	return c.send(true, 200, name, token, body, headers...)
}

// TestAsyncAPIMatchesRealMessages runs a real serve (embedded JetStream,
// the intake, the read models, the feed, the checkpointer), submits every
// command over NATS, and validates against /v1/asyncapi.json every
// request, every reply, and every message the server itself publishes on
// the event log's and the feed's subjects. Every message the document
// describes must have met a real one.
func TestAsyncAPIMatchesRealMessages(t *testing.T) {
	cfg := ServeConfig{DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", Replicas: 1, AdminToken: adminToken,
		CheckpointEvery: 100 * time.Millisecond}
	listenAsDepartment(t, &cfg)
	srv, err := StartServer(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	s := &testServer{Server: srv, t: t, base: "http://" + srv.Addr()}

	// The document the server serves is the one validated against.
	served := s.do("GET", "/v1/asyncapi.json", "", nil)
	doc := asyncapitest.Load(t)
	if mine, _ := json.Marshal(doc.Raw()); served.Status != 200 || !jsonEqual(t, served.Body, mine) {
		t.Fatalf("/v1/asyncapi.json (%d) is not the generated document", served.Status)
	}

	// kpitrail's own identity watches what the server publishes; requests go
	// as a department's system sends them.
	nc, err := s.sys.Connect("asyncapi-test", natsauth.RoleKpitrail)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	// Everything the server publishes on kpitrail.events.> and
	// kpitrail.changes.>, read back from the two streams as it is stored
	// (no identity may subscribe to those subjects directly).
	var mu sync.Mutex
	var published []*nats.Msg
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	for _, stream := range []string{natsauth.EventStream, feed.DefaultStream} {
		oc, err := js.OrderedConsumer(context.Background(), stream, jetstream.OrderedConsumerConfig{})
		if err != nil {
			t.Fatal(err)
		}
		cc, err := oc.Consume(func(m jetstream.Msg) {
			mu.Lock()
			published = append(published, &nats.Msg{Subject: m.Subject(), Header: m.Headers(), Data: m.Data()})
			mu.Unlock()
		})
		if err != nil {
			t.Fatal(err)
		}
		defer cc.Stop()
	}

	office := s.token("考评办", "office")
	analyst := s.token("分析", "analyst")
	dept, err := s.departmentConn(t)
	if err != nil {
		t.Fatal(err)
	}
	defer dept.Close()
	c := &intakeRecorder{t: t, nc: dept, doc: doc}
	key := func(k string) []string {
		return []string{intake.HeaderIdempotencyKey, k, intake.HeaderCorrelationID, "批次-2022"}
	}

	c.ok("task.register", office, `{"task_id":"hitech","year":2022,"dimension":"高质量发展","title":"“两区”建设：高新技术企业","lead_department":"区科委",
		"co_departments":["区发改委","区财政局"],"deadline":"2022-12-31","description":"第一行\n第二行"}`, key("r-1")...)
	c.ok("task.register", office, `{"task_id":"hills","year":2022,"title":"浅山区整治","lead_department":"区城管委"}`)
	c.ok("unit.register", office, `{"unit_id":"beijing","name":"北京市","level":"city"}`)
	c.ok("unit.register", office, `{"unit_id":"miyun","name":"密云区","level":"district","parent":"beijing"}`)
	c.ok("task.change_deadline", office, `{"task_id":"hitech","deadline":"2023-01-31","reason":"市级批次延后"}`,
		intake.HeaderExpectedVersion, "1")
	c.ok("task.record_narrative", office, `{"task_id":"hitech","items":["1. 已完成年度目标；","2. 遴选推荐50家企业"],"as_of":"2022-12-15","source":{"kind":"self_reported","name":"区科委"}}`)
	c.ok("task.record_milestone", office, `{"task_id":"hitech","milestone":"完成前四批申报","reached_on":"2022-12-20","note":"含\"延长批\""}`)
	c.ok("task.record_problem", office, `{"task_id":"hills","problem_id":"p1","description":"193宗违法项目","cause":"历史遗留","total_items":2}`)
	c.ok("task.progress_rectification", office, `{"task_id":"hills","problem_id":"p1","rectified":1,"note":"已整改1宗"}`)
	c.ok("task.progress_rectification", office, `{"task_id":"hills","problem_id":"p1","total":2,"rectified":2,"state":"in_progress"}`)
	c.ok("task.close_problem", office, `{"task_id":"hills","problem_id":"p1","outcome":"rectified","note":"全部整改到位"}`)
	c.ok("indicator.define", office, `{"indicator_id":"firms","task_id":"hitech","name":"高新技术企业保有量","unit":"家","direction":"higher","cadence":"yearly"}`)
	c.ok("indicator.define", office, `{"indicator_id":"rate","task_id":"hitech","key":"研发投入强度","name":"研发投入强度","unit":"%","direction":"higher","is_rate":true}`)
	c.ok("indicator.set_target", office, `{"indicator_id":"firms","value":"719","source":{"kind":"agency","name":"市级下达"}}`)
	c.ok("indicator.record_base", office, `{"indicator_id":"firms","window":{"year":2021},"value":650,"quality":"final","source":{"kind":"statistics_bureau","name":"区统计局"}}`)
	estimate := c.ok("indicator.report_figure", office, `{"indicator_id":"firms","window":{"year":2022},"value":"610","quality":"estimate",
		"source":{"kind":"self_reported","name":"区科委"},"final_due":"2023-03-31","note":"本数据为年度数据，预计2023年初由市科委反馈"}`)
	firstID := estimate["event_ids"].([]any)[0].(string)
	corrected := c.ok("indicator.correct_figure", office, `{"indicator_id":"firms","corrects":"`+firstID+`","value":"607","quality":"revised","reason":"市科委复核"}`)
	correctionID := corrected["event_ids"].([]any)[0].(string)
	c.ok("indicator.retract_figure", office, `{"indicator_id":"firms","retracts":"`+correctionID+`","reason":"误报"}`)
	// The figure's life: the year's calendar; a department submits, the
	// office returns, the department submits again, the office approves
	// and reopens; a base and a target proposed and decided; a warning
	// explained. Review steps go as people do them: a reporter of the lead
	// department, the office.
	reporter := s.token("区科委填报员", "reporter", "区科委")
	c.ok("year.set_calendar", office, `{"year":2022,"monthly_due_day":5,"quarterly_due_day":10,"yearly_due":"2023-01-31","reason":"月督办、季调度"}`)
	figure := `{"indicator_id":"firms","figure":"` + firstID + `","reason":"报考评办审核"}`
	c.ok("indicator.submit_figure", reporter, figure)
	c.send(true, 403, "indicator.approve_figure", reporter, figure)
	c.ok("indicator.return_figure", office, `{"indicator_id":"firms","figure":"`+firstID+`","reason":"与市科委名单不一致，请核对"}`)
	c.ok("indicator.submit_figure", reporter, figure)
	c.ok("indicator.approve_figure", office, `{"indicator_id":"firms","figure":"`+firstID+`","reason":"与市科委认定名单一致"}`)
	c.ok("indicator.reopen_figure", office, `{"indicator_id":"firms","figure":"`+firstID+`","reason":"市科委补报延长批认定结果"}`)
	base := c.ok("indicator.propose_base", reporter, `{"indicator_id":"firms","window":{"year":2021},"value":"655","quality":"final",
		"source":{"kind":"statistics_bureau","name":"区统计局"},"reason":"按可比口径"}`)
	c.ok("indicator.approve_proposal", office, `{"indicator_id":"firms","proposal":"`+base["event_ids"].([]any)[0].(string)+`","reason":"口径说明充分"}`)
	target := c.ok("indicator.propose_target", reporter, `{"indicator_id":"firms","value":"650","reason":"市科委调整下达任务"}`)
	c.ok("indicator.reject_proposal", office, `{"indicator_id":"firms","proposal":"`+target["event_ids"].([]any)[0].(string)+`","reason":"市级任务未调整"}`)
	c.ok("indicator.explain_warning", reporter, `{"indicator_id":"firms","rule":"outlier","figure":"`+firstID+`","reason":"延长批认定集中在年底"}`)
	c.ok("indicator.withdraw", office, `{"indicator_id":"rate","reason":"口径调整"}`)
	c.ok("task.complete", office, `{"task_id":"hitech","completed_on":"2022-12-30","note":"按期完成"}`)
	c.ok("task.withdraw", office, `{"task_id":"hills","reason":"并入其他任务"}`)

	// Refusals: each reply is a problem the document describes.
	c.send(false, 400, "task.register", office, `{"task_id":"x","year":2022,"title":"t","lead_department":"d","titel":"typo"}`)
	c.send(false, 401, "task.register", "", `{"task_id":"x","year":2022,"title":"t","lead_department":"d"}`)
	c.send(true, 401, "task.register", "not-a-token", `{"task_id":"x","year":2022,"title":"t","lead_department":"d"}`)
	c.send(true, 403, "task.register", analyst, `{"task_id":"x","year":2022,"title":"t","lead_department":"d"}`)
	c.send(true, 409, "task.change_deadline", office, `{"task_id":"hitech","deadline":"2023-02-28","reason":"再延"}`, intake.HeaderExpectedVersion, "1")
	c.send(true, 422, "indicator.report_figure", office, `{"indicator_id":"rate","window":{"year":2022},"value":"3.1","quality":"final","source":{"kind":"agency"}}`)
	c.send(true, 400, "task.register", office, `{"task_id":"x","year":1800,"title":"t","lead_department":"d"}`)
	c.send(false, 400, "task.register", office, `{"task_id":"x"}`, intake.HeaderIdempotencyKey, strings.Repeat("k", intake.MaxIdempotencyKey+1))
	if doc.MessagesFor(intake.SubjectPrefix+"task.teleport") != nil {
		t.Error("the document has a channel for a command that does not exist")
	}
	unknown := nats.NewMsg(intake.SubjectPrefix + "task.teleport")
	unknown.Header.Set(intake.HeaderAuthorization, "Bearer "+office)
	unknown.Data = []byte(`{}`)
	reply, err := dept.RequestMsg(unknown, 20*time.Second)
	if err != nil || reply.Header.Get(intake.StatusHeader) != "404" {
		t.Fatalf("unknown command: %v %v", err, reply)
	}
	if err := doc.Check("CommandProblem", reply.Header, reply.Data); err != nil {
		t.Errorf("unknown command: %v", err)
	}

	// A year-end snapshot over HTTP, and the checkpointer's own command:
	// the remaining aggregates of the log.
	s.mustDo(201, "POST", "/v1/snapshots", adminToken, map[string]any{"year": 2022, "note": "年终封存"})
	// The snapshot froze 2022 (year.frozen); the office reopens it.
	c.send(true, 422, "indicator.report_figure", office, `{"indicator_id":"firms","window":{"year":2022},"value":"628","quality":"final","source":{"kind":"agency"}}`)
	c.ok("year.reopen", office, `{"year":2022,"reason":"市科委补报延长批认定结果"}`)
	// An auditor's acknowledgement and a key rotation (HTTP only): the
	// audit and keyring aggregates.
	s.mustDo(201, "POST", "/v1/audit/acknowledgements", s.token("审计", "auditor"), map[string]any{"position": 1, "kind": "foreign", "reason": "已核实：测试数据"})
	s.mustDo(200, "POST", "/v1/admin/keys/rotate", adminToken, map[string]any{"reason": "年度轮换"})

	// Wait until every kind of message has gone by at least once.
	deadline := time.Now().Add(30 * time.Second)
	checked := 0
	for {
		mu.Lock()
		batch := published
		published = nil
		mu.Unlock()
		for _, m := range batch {
			if err := doc.CheckSubject(m.Subject, m.Header, m.Data); err != nil {
				t.Errorf("%s: a published message does not match the document: %v\n%s", m.Subject, err, asyncapitest.Pretty(m.Data))
			}
			checked++
		}
		if len(doc.Unseen()) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if unseen := doc.Unseen(); len(unseen) > 0 {
		t.Errorf("messages of the document that no real message was checked against: %v", unseen)
	}
	if checked < 40 {
		t.Errorf("only %d published messages checked", checked)
	}
	t.Logf("%d published messages checked against the document", checked)
}

func jsonEqual(t *testing.T, a, b []byte) bool {
	t.Helper()
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}
