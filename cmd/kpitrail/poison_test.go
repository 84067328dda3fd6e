package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"kpitrail/domain"
)

// TestForeignMessagesBecomeDeadLetters publishes straight to the event
// subjects, as a client with NATS write access could: garbage, forged
// events (one correctly hashed and linked as the task's next event), none
// signed by kpitrail. The read models keep working and list each message
// once; the genuine write after them lands as the version the forgery
// claimed and shows; `audit verify` reports each message once, nothing
// after them as reordered, and passes once an auditor acknowledges them.
func TestForeignMessagesBecomeDeadLetters(t *testing.T) {
	s := startTestServer(t)
	office := s.token("考评办", "office")
	auditor := s.token("审计员", "auditor")
	s.mustDo(201, "POST", "/v1/tasks?wait=true", office, map[string]any{"task_id": "city", "year": 2022, "title": "城市更新行动", "lead_department": "区住建委"})
	// Only kpitrail's own key may publish on the event subjects: this is an
	// insider who holds it (kpitrail's own connection), but not the signing key.
	js := s.sys.Store.JetStreamContext()
	ctx := context.Background()
	var positions []uint64
	publish := func(subject string, data []byte) {
		t.Helper()
		ack, err := js.Publish(ctx, subject, data)
		if err != nil {
			t.Fatalf("publish %s: %v", subject, err)
		}
		positions = append(positions, ack.Sequence)
	}
	envs, _ := s.sys.Store.Load(ctx, domain.AggregateRef{Type: "task", ID: "city"})
	head := envs[len(envs)-1]
	forge := func(name string, payload string, prevHash string) []byte {
		e := domain.Envelope{ID: "forged-" + name + prevHash[:4], Name: name, SchemaVersion: 1, AggregateType: "task", AggregateID: "city",
			AggregateVersion: head.AggregateVersion + 1, RecordedAt: time.Now().UTC(), Actor: "office:考评办", CommandID: "x",
			Source: "api", Payload: json.RawMessage(payload)}
		_ = e.Seal(prevHash)
		b, _ := json.Marshal(map[string]any{"format": 1, "events": []domain.Envelope{e}})
		return b
	}
	publish("kpitrail.events.huairou.task.city", []byte("\x00\xffgarbage"))
	publish("kpitrail.events.huairou.task.city", forge("task.exploded", `{}`, head.Hash))
	publish("kpitrail.events.huairou.task.city", forge(domain.EvTaskNarrativeRecorded, `{"items":["伪造"]}`, strings.Repeat("0", 64)))
	publish("kpitrail.events.huairou.task.city", []byte(`{"format":1,"events":[`+strings.Repeat(" ", 900<<10)+`]}`))
	// The task's next event, correctly hashed and linked: only the missing
	// signature tells it from kpitrail's.
	publish("kpitrail.events.huairou.task.city", forge(domain.EvTaskNarrativeRecorded, `{"items":["伪造的进展：已完成全部改造"]}`, head.Hash))
	// A message over the server's payload limit is refused and never stored.
	if _, err := js.Publish(ctx, "kpitrail.events.huairou.task.city", make([]byte, 2<<20)); err == nil {
		t.Fatal("an oversized publish was accepted")
	}
	// A genuine write after them lands on the task's genuine head and shows.
	after := s.mustDo(201, "POST", "/v1/tasks/city/narratives?wait=true", office, map[string]any{"items": []string{"新开工2个小区5.3万平米"}})
	if after["visible"] != true || after["version"] != float64(head.AggregateVersion+1) {
		t.Fatalf("the genuine write after the foreign messages: %v", after)
	}
	dl := s.mustDo(200, "GET", "/v1/admin/dead-letters", adminToken, nil)["dead_letters"].([]any)
	kinds := map[string]int{}
	for _, d := range dl {
		kinds[d.(map[string]any)["kind"].(string)]++
	}
	if len(dl) != 5 || kinds["malformed"] != 2 || kinds["foreign"] != 3 {
		t.Fatalf("dead letters %v", kinds)
	}
	m := s.do("GET", "/metrics", "", nil)
	if !strings.Contains(string(m.Body), "kpitrail_dead_letters 5") {
		t.Fatal("metrics do not count the dead letters")
	}
	for _, e := range s.mustDo(200, "GET", "/v1/events?after=0&limit=1000", office, nil)["events"].([]any) {
		if id := e.(map[string]any)["id"].(string); strings.HasPrefix(id, "forged-") {
			t.Fatalf("the raw log page hands out a forged event: %s", id)
		}
	}
	task := s.mustDo(200, "GET", "/v1/tasks/city", office, nil)
	if n := task["narrative"].([]any); len(n) != 1 || n[0] != "新开工2个小区5.3万平米" {
		t.Fatalf("the task after the foreign messages: %v", task["narrative"])
	}

	rep := s.mustDo(200, "GET", "/v1/audit/verify", auditor, nil)
	findings := rep["findings"].([]any)
	if len(findings) != len(positions) {
		t.Fatalf("verify: %d findings for %d foreign messages: %v", len(findings), len(positions), findings)
	}
	for i, f := range findings {
		f := f.(map[string]any)
		if f["position"] != float64(positions[i]) || (f["kind"] != "foreign" && f["kind"] != "malformed") {
			t.Fatalf("finding %d: %v", i, f)
		}
	}
	// An analyst may not acknowledge; an auditor may, once per finding.
	ack := func(f map[string]any) map[string]any {
		return map[string]any{"position": f["position"], "kind": f["kind"], "reason": "开发环境的测试客户端误发，已核实"}
	}
	s.mustDo(403, "POST", "/v1/audit/acknowledgements", s.token("分析员", "analyst"), ack(findings[0].(map[string]any)))
	s.mustDo(403, "POST", "/v1/audit/acknowledgements", office, ack(findings[0].(map[string]any)))
	for _, f := range findings {
		s.mustDo(201, "POST", "/v1/audit/acknowledgements", auditor, ack(f.(map[string]any)))
	}
	s.mustDo(422, "POST", "/v1/audit/acknowledgements", auditor, ack(findings[0].(map[string]any)))
	rep = s.mustDo(200, "GET", "/v1/audit/verify", auditor, nil)
	acked := rep["acknowledged"].([]any)
	if len(rep["findings"].([]any)) != 0 || len(acked) != len(positions) {
		t.Fatalf("after the acknowledgements: findings %v, acknowledged %d", rep["findings"], len(acked))
	}
	if a := acked[0].(map[string]any); a["acknowledged_by"] == "" || a["reason"] != "开发环境的测试客户端误发，已核实" {
		t.Fatalf("acknowledgement: %v", a)
	}
}
