package main

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
)

// TestIdempotencyKeyReuse: a key sent again with the same request gets the
// original result however late and however the body is spelled; with
// another body, path or method it is a 422 naming the key, over HTTP and
// over the NATS intake; a key whose request was refused is free again.
func TestIdempotencyKeyReuse(t *testing.T) {
	s := startConfiguredServer(t, func(c *ServeConfig) { listenAsDepartment(t, c) })
	office := s.token("考评办", "office")
	s.mustDo(http.StatusCreated, "POST", "/v1/tasks", office, map[string]any{"task_id": "safety", "year": 2022, "title": "安全生产", "lead_department": "区应急局"})
	s.mustDo(http.StatusCreated, "POST", "/v1/tasks/safety/indicators", office, map[string]any{"indicator_id": "accidents", "name": "生产安全事故", "unit": "起", "direction": "lower", "formula": "cap"})
	body := `{"window":{"year":2022,"from_month":1,"to_month":11},"value":"12","quality":"provisional","source":{"kind":"self_reported"}}`
	first := s.mustDo(http.StatusCreated, "POST", "/v1/indicators/accidents/figures", office, body, "Idempotency-Key", "k1")
	// Other writes in between: the retry comes late.
	for range 3 {
		s.mustDo(http.StatusCreated, "POST", "/v1/tasks/safety/narratives", office, map[string]any{"items": []string{"推进中"}})
	}
	before := s.lastPosition()
	respelled := `{ "source":{"kind":"self_reported"}, "quality":"provisional", "value":"12", "window":{"to_month":11,"from_month":1,"year":2022} }`
	for _, b := range []string{body, respelled} {
		again := s.mustDo(http.StatusCreated, "POST", "/v1/indicators/accidents/figures", office, b, "Idempotency-Key", "k1")
		if !slices.Equal(anyStrings(again["event_ids"]), anyStrings(first["event_ids"])) {
			t.Fatalf("a retry got %v, the original %v", again["event_ids"], first["event_ids"])
		}
	}
	other := `{"window":{"year":2022,"from_month":1,"to_month":11},"value":"13","quality":"provisional","source":{"kind":"self_reported"}}`
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/v1/indicators/accidents/figures", other},
		{"POST", "/v1/tasks/safety/narratives", `{"items":["x"]}`},
		{"PUT", "/v1/indicators/accidents/target", `{"value":"3"}`},
	} {
		r := s.do(c.method, c.path, office, c.body, "Idempotency-Key", "k1")
		p := r.json(t)
		if r.Status != 422 || p["field"] != "Idempotency-Key" || p["rule"] != "reused_with_different_request" {
			t.Fatalf("%s %s: %d %s", c.method, c.path, r.Status, r.Body)
		}
	}
	// The original request is still answered, and nothing was appended.
	again := s.mustDo(http.StatusCreated, "POST", "/v1/indicators/accidents/figures", office, body, "Idempotency-Key", "k1")
	if !slices.Equal(anyStrings(again["event_ids"]), anyStrings(first["event_ids"])) || s.lastPosition() != before {
		t.Fatal("the original request's result changed")
	}
	// Keys are per token: another token's k1 is its own.
	office2 := s.token("考评办2", "office")
	s.mustDo(http.StatusCreated, "POST", "/v1/indicators/accidents/figures", office2, other, "Idempotency-Key", "k1")

	// A refused request leaves its key free for the corrected one.
	bad := `{"window":{"year":2022,"from_month":1,"to_month":11},"value":"-1","quality":"provisional","source":{"kind":"self_reported"}}`
	s.mustDo(http.StatusBadRequest, "POST", "/v1/indicators/accidents/figures", office, bad, "Idempotency-Key", "k2")
	s.mustDo(http.StatusCreated, "POST", "/v1/indicators/accidents/figures", office, other, "Idempotency-Key", "k2")

	// The NATS intake: the same rule, the subject in place of the path.
	nc, err := s.departmentConn(t)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	request := func(subject, data, key string) (string, map[string]any) {
		t.Helper()
		m := nats.NewMsg(subject)
		m.Data = []byte(data)
		m.Header.Set("Authorization", "Bearer "+office)
		m.Header.Set("Idempotency-Key", key)
		res, err := nc.RequestMsg(m, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var out map[string]any
		_ = json.Unmarshal(res.Data, &out)
		return res.Header.Get("Kpitrail-Status"), out
	}
	narrative := `{"task_id":"safety","items":["经NATS报送"]}`
	if st, out := request("kpitrail.cmd.task.record_narrative", narrative, "n1"); st != "200" {
		t.Fatalf("intake: %s %v", st, out)
	}
	if st, out := request("kpitrail.cmd.task.record_narrative", narrative, "n1"); st != "200" {
		t.Fatalf("intake retry: %s %v", st, out)
	}
	for _, c := range []struct{ subject, data string }{
		{"kpitrail.cmd.task.record_narrative", `{"task_id":"safety","items":["另一条"]}`},
		{"kpitrail.cmd.indicator.report_figure", `{"indicator_id":"accidents","window":{"year":2022,"from_month":1,"to_month":10},"value":"9","quality":"provisional","source":{"kind":"self_reported"}}`},
	} {
		st, out := request(c.subject, c.data, "n1")
		if st != "422" || out["field"] != "Idempotency-Key" || out["rule"] != "reused_with_different_request" {
			t.Fatalf("intake reuse on %s: %s %v", c.subject, st, out)
		}
	}
	// Strict JSON holds on the intake too.
	if st, out := request("kpitrail.cmd.task.record_narrative", `{"task_id":"safety","items":["a"],"ITEMS":["b"]}`, "n2"); st != "400" || out["rule"] != "key_case" {
		t.Fatalf("intake strict JSON: %s %v", st, out)
	}
}

func anyStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}
