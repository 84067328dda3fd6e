package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

func TestBadInputIsRefusedAndAppendsNothing(t *testing.T) {
	s := startTestServer(t)
	office := s.token("考评办", "office")
	s.mustDo(http.StatusCreated, "POST", "/v1/tasks", office, map[string]any{"task_id": "safety", "year": 2022, "title": "安全生产", "lead_department": "区应急局"})
	s.mustDo(http.StatusCreated, "POST", "/v1/tasks/safety/indicators", office, map[string]any{"indicator_id": "accidents", "name": "生产安全事故", "unit": "起", "direction": "lower", "formula": "cap"})
	fig := func(value string) string {
		return `{"window":{"year":2022,"from_month":1,"to_month":11},"value":` + value + `,"quality":"provisional","source":{"kind":"self_reported"}}`
	}
	type header = []string
	analyst := header{"Authorization", "Bearer " + s.token("分析员", "analyst")}
	auditor := header{"Authorization", "Bearer " + s.token("审计员", "auditor")}
	reporter := header{"Authorization", "Bearer " + s.token("区应急局填报员", "reporter", "区应急局")}
	definitionSheet := "indicator_id,task_id,name,unit,direction,formula,window_year,from_month,to_month,value,quality,source_kind\n" +
		"fires,safety,火灾起数,起,lower,cap,2022,1,6,3,provisional,self_reported\n"
	gbkSheet := append([]byte("indicator_id,task_id,name\ni1,safety,"), 0xBB, 0xF0, 0xD4, 0xD6, '\n') // 火灾 in GBK
	bomb := xlsxWithSheet(t, func(w io.Writer) {
		row := []byte(`<row><c t="inlineStr"><is><t>生产安全事故起数生产安全事故起数</t></is></c></row>`)
		for n := 0; n < 256<<20; n += len(row) {
			w.Write(row)
		}
	})
	wide := xlsxWithSheet(t, func(w io.Writer) { io.WriteString(w, `<row r="1"><c r="XFD1"><v>1</v></c></row>`) })
	// A keyed write the reuse cases below send again with another request.
	s.mustDo(http.StatusCreated, "POST", "/v1/indicators/accidents/figures", office, fig(`"12"`), "Idempotency-Key", "k-reused")
	cases := []struct {
		name        string
		path        string
		body        string
		contentType string
		status      int
		field, rule string
		headers     header
		method      string // default POST
		raw         bool   // sent on a bare connection: Go's client refuses the header
	}{
		{"malformed JSON", "/v1/indicators/accidents/figures", `{"value":`, "", 400, "body", "json", nil, "", false},
		{"not an object", "/v1/indicators/accidents/figures", `[1,2]`, "", 400, "body", "type", nil, "", false},
		{"two objects", "/v1/indicators/accidents/figures", fig(`"13"`) + fig(`"13"`), "", 400, "body", "single_object", nil, "", false},
		{"wrong type", "/v1/indicators/accidents/figures", strings.Replace(fig(`"13"`), `"year":2022`, `"year":"2022"`, 1), "", 400, "window.year", "type", nil, "", false},
		{"boolean value", "/v1/indicators/accidents/figures", fig(`true`), "", 400, "value", "value", nil, "", false},
		{"NaN literal", "/v1/indicators/accidents/figures", fig(`NaN`), "", 400, "body", "json", nil, "", false},
		{"NaN string", "/v1/indicators/accidents/figures", fig(`"NaN"`), "", 400, "value", "value", nil, "", false},
		{"Inf string", "/v1/indicators/accidents/figures", fig(`"Infinity"`), "", 400, "value", "value", nil, "", false},
		{"1e400", "/v1/indicators/accidents/figures", fig(`1e400`), "", 400, "value", "value", nil, "", false},
		{"negative count", "/v1/indicators/accidents/figures", fig(`"-3"`), "", 400, "value", "non_negative", nil, "", false},
		{"fractional count", "/v1/indicators/accidents/figures", fig(`"13.5"`), "", 400, "value", "integer_count", nil, "", false},
		{"invalid UTF-8", "/v1/tasks/safety/narratives", "{\"items\":[\"\xff\xfe 安全\"]}", "", 400, "body", "utf8", nil, "", false},
		{"unknown field", "/v1/indicators/accidents/figures", strings.Replace(fig(`"13"`), `{"window"`, `{"actor":"someone","window"`, 1), "", 400, "actor", "unknown_field", nil, "", false},
		{"missing quality", "/v1/indicators/accidents/figures", `{"window":{"year":2022},"value":"13","source":{"kind":"self_reported"}}`, "", 400, "quality", "enum", nil, "", false},
		{"missing value", "/v1/indicators/accidents/figures", `{"window":{"year":2022},"quality":"final","source":{"kind":"self_reported"}}`, "", 400, "value", "required", nil, "", false},
		{"window in another year", "/v1/indicators/accidents/figures", strings.Replace(fig(`"13"`), "2022", "2021", 1), "", 400, "window.year", "assessment_year", nil, "", false},
		{"control character", "/v1/tasks/safety/narratives", `{"items":["a\u0007b"]}`, "", 400, "items[0]", "control_character", nil, "", false},
		{"path and body disagree", "/v1/tasks/safety/narratives", `{"task_id":"other","items":["x"]}`, "", 400, "task_id", "matches_path", nil, "", false},
		{"unknown indicator", "/v1/indicators/nope/figures", fig(`"13"`), "", 404, "", "", nil, "", false},
		{"wrong media type", "/v1/indicators/accidents/figures", fig(`"13"`), "text/plain", 415, "Content-Type", "media_type", nil, "", false},
		{"10 MB body", "/v1/tasks/safety/narratives", `{"items":["` + strings.Repeat("安", 10<<20/3) + `"]}`, "", 413, "body", "max_bytes", nil, "", false},
		{"empty body", "/v1/indicators/accidents/figures", ``, "", 400, "body", "json", nil, "", false},
		{"bad If-Match", "/v1/indicators/accidents/figures", fig(`"13"`), "", 400, "If-Match", "version", header{"If-Match", "abc"}, "", false},

		// Strict JSON: what encoding/json alone would accept.
		{"duplicate key", "/v1/indicators/accidents/figures", strings.Replace(fig(`"5"`), `"value":"5"`, `"value":"5","value":"6"`, 1), "", 400, "value", "duplicate_key", nil, "", false},
		{"duplicate nested key", "/v1/indicators/accidents/figures", strings.Replace(fig(`"5"`), `"year":2022`, `"year":2022,"year":2021`, 1), "", 400, "window.year", "duplicate_key", nil, "", false},
		{"key in other case", "/v1/indicators/accidents/figures", strings.Replace(fig(`"5"`), `"value"`, `"VALUE"`, 1), "", 400, "VALUE", "key_case", nil, "", false},
		{"keys differing only in case", "/v1/indicators/accidents/figures", strings.Replace(fig(`"5"`), `"value":"5"`, `"value":"5","Value":"6"`, 1), "", 400, "Value", "key_case", nil, "", false},
		{"lone surrogate escape", "/v1/tasks/safety/narratives", `{"items":["\ud800"]}`, "", 400, "items[0]", "utf16_escape", nil, "", false},
		{"lone low surrogate escape", "/v1/tasks/safety/narratives", `{"items":["安全\udc00"]}`, "", 400, "items[0]", "utf16_escape", nil, "", false},
		{"duplicate key over /v1/commands", "/v1/commands/task.record_narrative", `{"task_id":"safety","items":["a"],"items":["b"]}`, "", 400, "items", "duplicate_key", nil, "", false},

		// An Idempotency-Key sent again with another request.
		{"key reused with another body", "/v1/indicators/accidents/figures", fig(`"13"`), "", 422, "Idempotency-Key", "reused_with_different_request", header{"Idempotency-Key", "k-reused"}, "", false},
		{"key reused on another path", "/v1/tasks/safety/narratives", `{"items":["x"]}`, "", 422, "Idempotency-Key", "reused_with_different_request", header{"Idempotency-Key", "k-reused"}, "", false},
		{"key reused with another method", "/v1/indicators/accidents/target", `{"value":"3"}`, "", 422, "Idempotency-Key", "reused_with_different_request", header{"Idempotency-Key", "k-reused"}, "PUT", false},

		// Headers the API reads as text.
		{"C1 control character in a header", "/v1/tasks/safety/narratives", `{"items":["x"]}`, "", 400, "Idempotency-Key", "control_character", header{"Idempotency-Key", "k\u0085x"}, "", false},
		{"header not UTF-8", "/v1/tasks/safety/narratives", `{"items":["x"]}`, "", 400, "X-Correlation-Id", "utf8", header{"X-Correlation-Id", "c\xff"}, "", false},
		{"C0 control character in a header", "/v1/tasks/safety/narratives", `{"items":["x"]}`, "", 400, "header", "http_syntax", header{"X-Correlation-Id", "c\x01d"}, "", true},
		{"C1 control character in Last-Event-ID", "/v1/changes", "", "", 400, "Last-Event-ID", "control_character", header{"Last-Event-ID", "1\u009b2"}, "GET", false},
		{"Last-Event-ID not a number", "/v1/changes", "", "", 400, "Last-Event-ID", "uint", header{"Last-Event-ID", "abc"}, "GET", false},

		// Imports: authorized from the token and the kind before the file is
		// read, and bounded in what the file may cost.
		{"analyst's dry run of a definition sheet", "/v1/imports?kind=figures&format=csv&dry_run=true", definitionSheet, "", 403, "kind", "role_may_import", analyst, "", false},
		{"auditor's invalid CSV", "/v1/imports?kind=table&format=csv", "not,a,table\n\"unclosed", "", 403, "kind", "role_may_import", auditor, "", false},
		{"reporter's definition rows", "/v1/imports?kind=figures&format=csv&dry_run=true", definitionSheet, "", 403, "file", "role_may_issue", reporter, "", false},
		{"unknown import kind", "/v1/imports?kind=everything", "x", "", 400, "kind", "enum", nil, "", false},
		{"GBK figure sheet", "/v1/imports?kind=figures&format=csv", string(gbkSheet), "", 415, "file", "encoding", nil, "", false},
		{"XLSX bomb (256 MiB unzipped)", "/v1/imports?kind=figures&filename=bomb.xlsx", string(bomb), "", 413, "file", "max_unzipped_bytes", nil, "", false},
		{"XLSX cell in column XFD", "/v1/imports?kind=figures&filename=wide.xlsx", string(wide), "", 400, "file", "max_columns", nil, "", false},
		{"21 MiB upload", "/v1/imports?kind=table&format=tsv", strings.Repeat("安全\t", 21<<20/7), "", 413, "body", "max_bytes", nil, "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := s.lastPosition()
			headers := append([]string{}, tc.headers...)
			if tc.contentType != "" {
				headers = append(headers, "Content-Type", tc.contentType)
			}
			method := tc.method
			if method == "" {
				method = "POST"
			}
			var r response
			if tc.raw {
				r = s.rawDo(method, tc.path, office, tc.body, headers...)
			} else {
				r = s.do(method, tc.path, office, []byte(tc.body), headers...)
			}
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

// xlsxWithSheet returns a workbook whose first sheet's XML rows writes.
func xlsxWithSheet(t *testing.T, rows func(w io.Writer)) []byte {
	t.Helper()
	base, err := excelize.NewFile().WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(base.Bytes()), int64(base.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, part := range zr.File {
		w, _ := zw.Create(part.Name)
		if part.Name != "xl/worksheets/sheet1.xml" {
			rc, _ := part.Open()
			io.Copy(w, rc)
			rc.Close()
			continue
		}
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`)
		rows(w)
		io.WriteString(w, `</sheetData></worksheet>`)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// rawDo sends a request on a bare connection, for headers Go's client
// refuses to send.
func (s *testServer) rawDo(method, path, token, body string, headers ...string) response {
	s.t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(s.base, "http://"))
	if err != nil {
		s.t.Fatal(err)
	}
	defer c.Close()
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: kpitrail\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n", method, path, token, len(body))
	for i := 0; i+1 < len(headers); i += 2 {
		fmt.Fprintf(&b, "%s: %s\r\n", headers[i], headers[i+1])
	}
	b.WriteString("\r\n" + body)
	if _, err := io.WriteString(c, b.String()); err != nil {
		s.t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return response{Status: res.StatusCode, Header: res.Header, Body: data}
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
