package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"kpitrail/domain"
	"kpitrail/natsauth"
)

// TestForeignMessagesBecomeDeadLetters publishes straight to the event
// subjects, as a misbehaving client with NATS access could: the read models
// keep working and each message is listed and counted.
func TestForeignMessagesBecomeDeadLetters(t *testing.T) {
	s := startTestServer(t)
	office := s.token("考评办", "office")
	s.mustDo(201, "POST", "/v1/tasks?wait=true", office, map[string]any{"task_id": "city", "year": 2022, "title": "城市更新行动", "lead_department": "区住建委"})
	// Only kpitrail's own key may publish on the event subjects: this is an
	// insider who holds it.
	nc, err := s.sys.Embedded.Connect("intruder", s.sys.Keys.Option(natsauth.RoleKpitrail))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js := s.sys.Store.JetStreamContext()
	ctx := context.Background()
	publish := func(subject string, data []byte) {
		t.Helper()
		if _, err := js.Publish(ctx, subject, data); err != nil {
			t.Fatalf("publish %s: %v", subject, err)
		}
	}
	envs, _ := s.sys.Store.Load(ctx, domain.AggregateRef{Type: "task", ID: "city"})
	head := envs[len(envs)-1]
	forge := func(name string, payload string, prevHash string) []byte {
		e := domain.Envelope{ID: "forged-" + name, Name: name, SchemaVersion: 1, AggregateType: "task", AggregateID: "city",
			AggregateVersion: head.AggregateVersion + 1, RecordedAt: time.Now().UTC(), Actor: "nobody", CommandID: "x",
			Source: "intruder", Payload: json.RawMessage(payload)}
		_ = e.Seal(prevHash)
		b, _ := json.Marshal(map[string]any{"format": 1, "events": []domain.Envelope{e}})
		return b
	}
	publish("kpitrail.events.task.city", []byte("\x00\xffgarbage"))
	publish("kpitrail.events.task.city", forge("task.exploded", `{}`, head.Hash))
	publish("kpitrail.events.task.city", forge(domain.EvTaskNarrativeRecorded, `{"items":["伪造"]}`, strings.Repeat("0", 64)))
	publish("kpitrail.events.task.city", []byte(`{"format":1,"events":[`+strings.Repeat(" ", 900<<10)+`]}`))
	// A message over the server's payload limit is refused and never stored.
	if _, err := js.Publish(ctx, "kpitrail.events.task.city", make([]byte, 2<<20)); err == nil {
		t.Fatal("an oversized publish was accepted")
	}
	// A genuine write after the garbage still lands and shows.
	after := s.mustDo(201, "POST", "/v1/tasks/city/narratives?wait=true", office, map[string]any{"items": []string{"新开工2个小区5.3万平米"}})
	if after["visible"] != true {
		t.Fatal("the read models stopped after the foreign messages")
	}
	dl := s.mustDo(200, "GET", "/v1/admin/dead-letters", adminToken, nil)["dead_letters"].([]any)
	kinds := map[string]int{}
	for _, d := range dl {
		kinds[d.(map[string]any)["kind"].(string)]++
	}
	if len(dl) != 4 || kinds["malformed"] != 2 || kinds["unknown_event"] != 1 || kinds["chain_break"] != 1 {
		t.Fatalf("dead letters %v", kinds)
	}
	m := s.do("GET", "/metrics", "", nil)
	if !strings.Contains(string(m.Body), "kpitrail_dead_letters 4") {
		t.Fatal("metrics do not count the dead letters")
	}
	task := s.mustDo(200, "GET", "/v1/tasks/city", office, nil)
	if n := task["narrative"].([]any); len(n) != 1 || n[0] != "新开工2个小区5.3万平米" {
		t.Fatalf("the task after the foreign messages: %v", task["narrative"])
	}
	_ = nats.ErrTimeout
}
