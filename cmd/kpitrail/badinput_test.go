package main

import (
	"net/http"
	"strings"
	"testing"
)

func TestBadInputIsRefusedAndAppendsNothing(t *testing.T) {
	s := startTestServer(t)
	office := s.token("考评办", "office")
	s.mustDo(http.StatusCreated, "POST", "/v1/tasks", office, map[string]any{"task_id": "safety", "year": 2022, "title": "安全生产", "lead_department": "区应急局"})
	s.mustDo(http.StatusCreated, "POST", "/v1/tasks/safety/indicators", office, map[string]any{"indicator_id": "accidents", "name": "生产安全事故", "unit": "起", "direction": "lower", "formula": "cap"})
	fig := func(value string) string {
		return `{"window":{"year":2022,"from_month":1,"to_month":11},"value":` + value + `,"quality":"provisional","source":{"kind":"self_reported"}}`
	}
	cases := []struct {
		name        string
		path        string
		body        string
		contentType string
		status      int
		field, rule string
	}{
		{"malformed JSON", "/v1/indicators/accidents/figures", `{"value":`, "", 400, "body", "json"},
		{"not an object", "/v1/indicators/accidents/figures", `[1,2]`, "", 400, "body", "type"},
		{"two objects", "/v1/indicators/accidents/figures", fig(`"13"`) + fig(`"13"`), "", 400, "body", "single_object"},
		{"wrong type", "/v1/indicators/accidents/figures", strings.Replace(fig(`"13"`), `"year":2022`, `"year":"2022"`, 1), "", 400, "window.year", "type"},
		{"boolean value", "/v1/indicators/accidents/figures", fig(`true`), "", 400, "value", "value"},
		{"NaN literal", "/v1/indicators/accidents/figures", fig(`NaN`), "", 400, "body", "json"},
		{"NaN string", "/v1/indicators/accidents/figures", fig(`"NaN"`), "", 400, "value", "value"},
		{"Inf string", "/v1/indicators/accidents/figures", fig(`"Infinity"`), "", 400, "value", "value"},
		{"1e400", "/v1/indicators/accidents/figures", fig(`1e400`), "", 400, "value", "value"},
		{"negative count", "/v1/indicators/accidents/figures", fig(`"-3"`), "", 400, "value", "non_negative"},
		{"fractional count", "/v1/indicators/accidents/figures", fig(`"13.5"`), "", 400, "value", "integer_count"},
		{"invalid UTF-8", "/v1/tasks/safety/narratives", "{\"items\":[\"\xff\xfe 安全\"]}", "", 400, "body", "utf8"},
		{"unknown field", "/v1/indicators/accidents/figures", strings.Replace(fig(`"13"`), `{"window"`, `{"actor":"someone","window"`, 1), "", 400, "actor", "unknown_field"},
		{"missing quality", "/v1/indicators/accidents/figures", `{"window":{"year":2022},"value":"13","source":{"kind":"self_reported"}}`, "", 400, "quality", "enum"},
		{"missing value", "/v1/indicators/accidents/figures", `{"window":{"year":2022},"quality":"final","source":{"kind":"self_reported"}}`, "", 400, "value", "required"},
		{"window in another year", "/v1/indicators/accidents/figures", strings.Replace(fig(`"13"`), "2022", "2021", 1), "", 400, "window.year", "assessment_year"},
		{"control character", "/v1/tasks/safety/narratives", `{"items":["a\u0007b"]}`, "", 400, "items[0]", "control_character"},
		{"path and body disagree", "/v1/tasks/safety/narratives", `{"task_id":"other","items":["x"]}`, "", 400, "task_id", "matches_path"},
		{"unknown indicator", "/v1/indicators/nope/figures", fig(`"13"`), "", 404, "", ""},
		{"wrong media type", "/v1/indicators/accidents/figures", fig(`"13"`), "text/plain", 415, "Content-Type", "media_type"},
		{"10 MB body", "/v1/tasks/safety/narratives", `{"items":["` + strings.Repeat("安", 10<<20/3) + `"]}`, "", 413, "body", "max_bytes"},
		{"empty body", "/v1/indicators/accidents/figures", ``, "", 400, "body", "json"},
		{"bad If-Match", "/v1/indicators/accidents/figures", fig(`"13"`), "", 400, "If-Match", "version"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := s.lastPosition()
			headers := []string{}
			if tc.contentType != "" {
				headers = append(headers, "Content-Type", tc.contentType)
			}
			if tc.name == "bad If-Match" {
				headers = append(headers, "If-Match", "abc")
			}
			r := s.do("POST", tc.path, office, []byte(tc.body), headers...)
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Body)
			}
			if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
				t.Fatalf("content type %q", ct)
			}
			p := r.json(t)
			if tc.field != "" && (p["field"] != tc.field || p["rule"] != tc.rule) {
				t.Fatalf("problem names field %v rule %v, want %s %s: %v", p["field"], p["rule"], tc.field, tc.rule, p["detail"])
			}
			if s.lastPosition() != before {
				t.Fatal("refused input was appended")
			}
		})
	}
}

func TestTextIsDataNotCode(t *testing.T) {
	s := startTestServer(t)
	office := s.token("考评办", "office")
	title := `'); DROP TABLE tasks;-- <script>alert("x")</script>（全角：“两区”）`
	s.mustDo(http.StatusCreated, "POST", "/v1/tasks", office, map[string]any{"task_id": "x", "year": 2022, "title": title, "lead_department": "区发改委"})
	page := s.mustDo(http.StatusOK, "GET", "/v1/events?after=0&limit=10", office, nil)
	events := page["events"].([]any)
	payload := events[0].(map[string]any)["payload"].(map[string]any)
	if payload["title"] != title {
		t.Fatalf("title changed on the way: %q", payload["title"])
	}
}
