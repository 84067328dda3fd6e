package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/xuri/excelize/v2"

	"kpitrail/demo"
	"kpitrail/importer"
)

// The document is hand-written; these tests hold it to the real server:
// every registered route is documented, every documented operation is
// driven, and every request and response is validated against it.

const openAPIPath = "../../httpapi/openapi.json"

func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(openAPIPath)
	if err != nil {
		t.Fatalf("load %s: %v", openAPIPath, err)
	}
	if doc.OpenAPI != "3.0.3" {
		t.Fatalf("openapi version %q, want 3.0.3", doc.OpenAPI)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("%s is not a valid OpenAPI document: %v", openAPIPath, err)
	}
	return doc
}

func TestOpenAPIDocumentIsValid(t *testing.T) {
	loadOpenAPI(t)
}

// registeredRoute is one s.handle("METHOD /path", "access", ...) call.
type registeredRoute struct {
	Method, Path, Access, File string
}

var handleCall = regexp.MustCompile(`s\.handle\(\s*"([A-Z]+) (/[^"]*)"\s*,\s*"([a-z]*)"`)

// registeredRoutes reads the routes from the httpapi sources, so a route
// added in any file there without documentation fails the test.
func registeredRoutes(t *testing.T) []registeredRoute {
	t.Helper()
	files, err := filepath.Glob("../../httpapi/*.go")
	if err != nil {
		t.Fatal(err)
	}
	var out []registeredRoute
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range handleCall.FindAllStringSubmatch(string(src), -1) {
			out = append(out, registeredRoute{Method: m[1], Path: m[2], Access: m[3], File: filepath.Base(f)})
		}
	}
	// routes.go and reads.go alone register more than 30: fewer means the
	// pattern no longer matches how routes are registered.
	if len(out) < 30 {
		t.Fatalf("found only %d s.handle calls in httpapi: update handleCall", len(out))
	}
	return out
}

func TestOpenAPICoversEveryRoute(t *testing.T) {
	doc := loadOpenAPI(t)
	routes := registeredRoutes(t)
	registered := map[string]bool{}
	for _, r := range routes {
		key := r.Method + " " + r.Path
		if registered[key] {
			t.Errorf("%s: %s is registered twice", r.File, key)
		}
		registered[key] = true
		item := doc.Paths.Value(r.Path)
		if item == nil {
			t.Errorf("%s: route %s has no path in openapi.json", r.File, key)
			continue
		}
		op := item.GetOperation(r.Method)
		if op == nil {
			t.Errorf("%s: route %s has no %s operation in openapi.json", r.File, key, r.Method)
			continue
		}
		open := op.Security != nil && len(*op.Security) == 0
		switch {
		case r.Access == "" && !open:
			t.Errorf("%s needs no token; document it with \"security\": []", key)
		case r.Access != "" && open:
			t.Errorf("%s needs a token (%s) but is documented without security", key, r.Access)
		}
		if r.Access != "" && op.Responses.Status(http.StatusUnauthorized) == nil {
			t.Errorf("%s needs a token but documents no 401", key)
		}
		if r.Access == "admin" && op.Responses.Status(http.StatusForbidden) == nil {
			t.Errorf("%s is for admins but documents no 403", key)
		}
	}
	// And the reverse: nothing documented that the server does not serve.
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if !registered[method+" "+path] {
				t.Errorf("openapi.json documents %s %s, which no s.handle registers", method, path)
			}
		}
	}
}

// specClient sends requests to a real server and validates each request
// and response against the document.
type specClient struct {
	t      *testing.T
	s      *testServer
	doc    *openapi3.T
	router routers.Router
	// seen records the statuses answered per operation ("GET /v1/tasks/{id}").
	seen map[string]map[int]bool
}

func newSpecClient(t *testing.T, s *testServer, doc *openapi3.T) *specClient {
	t.Helper()
	// Route against the test server's address instead of the documented default.
	doc.Servers = openapi3.Servers{{URL: s.base}}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	return &specClient{t: t, s: s, doc: doc, router: router, seen: map[string]map[int]bool{}}
}

func encodeBody(t *testing.T, body any) []byte {
	t.Helper()
	switch b := body.(type) {
	case nil:
		return nil
	case string:
		return []byte(b)
	case []byte:
		return b
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		return j
	}
}

func (c *specClient) newRequest(method, path, token string, body []byte, hasBody bool, headers []string) *http.Request {
	c.t.Helper()
	var rd io.Reader
	if hasBody {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, c.s.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if hasBody {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return req
}

// do sends a request the document accepts and checks the status and the
// response against the document.
func (c *specClient) do(want int, method, path, token string, body any, headers ...string) response {
	c.t.Helper()
	return c.exchange(true, want, method, path, token, body, headers)
}

// doInvalid sends a request the document refuses (the server must refuse
// it too, with want) and checks the response against the document.
func (c *specClient) doInvalid(want int, method, path, token string, body any, headers ...string) response {
	c.t.Helper()
	return c.exchange(false, want, method, path, token, body, headers)
}

func (c *specClient) exchange(requestValid bool, want int, method, path, token string, body any, headers []string) response {
	c.t.Helper()
	t := c.t
	raw := encodeBody(t, body)
	hasBody := body != nil
	label := method + " " + path
	if len(label) > 120 {
		label = label[:120] + "…"
	}

	vreq := c.newRequest(method, path, token, raw, hasBody, headers)
	route, pathParams, err := c.router.FindRoute(vreq)
	if err != nil {
		t.Fatalf("%s: no documented operation: %v", label, err)
	}
	input := &openapi3filter.RequestValidationInput{
		Request: vreq, PathParams: pathParams, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
	}
	reqErr := openapi3filter.ValidateRequest(context.Background(), input)
	switch {
	case requestValid && reqErr != nil:
		t.Errorf("%s: the document refuses a request the server is meant to take: %v", label, reqErr)
	case !requestValid && reqErr == nil:
		t.Errorf("%s: the document accepts a request the server refuses with %d", label, want)
	}

	res, err := http.DefaultClient.Do(c.newRequest(method, path, token, raw, hasBody, headers))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	r := response{Status: res.StatusCode, Header: res.Header, Body: got}
	if r.Status != want {
		t.Fatalf("%s: status %d, want %d: %s", label, r.Status, want, clip(got))
	}
	op := route.Method + " " + route.Path
	if c.seen[op] == nil {
		c.seen[op] = map[int]bool{}
	}
	c.seen[op][r.Status] = true

	resErr := openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
		RequestValidationInput: input,
		Status:                 r.Status,
		Header:                 r.Header,
		Body:                   io.NopCloser(bytes.NewReader(got)),
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	})
	if resErr == nil {
		resErr = c.undocumentedFields(route, r)
	}
	if resErr != nil {
		t.Errorf("%s -> %d: response does not match the document: %v\nbody: %s", label, r.Status, resErr, clip(got))
	}
	return r
}

func clip(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "…"
	}
	return string(b)
}

// undocumentedFields fails a JSON response carrying a field its schema
// does not list: the schemas leave additionalProperties open so clients
// tolerate new fields, but the document must still name every field the
// server writes.
func (c *specClient) undocumentedFields(route *routers.Route, r response) error {
	ref := route.Operation.Responses.Status(r.Status)
	if ref == nil || ref.Value == nil || len(r.Body) == 0 {
		return nil
	}
	mt := ref.Value.Content.Get(r.Header.Get("Content-Type"))
	if mt == nil || mt.Schema == nil || !strings.Contains(r.Header.Get("Content-Type"), "json") {
		return nil
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return err
	}
	var extra []string
	findUndocumented(mt.Schema, v, "$", &extra)
	if len(extra) > 0 {
		sort.Strings(extra)
		return fmt.Errorf("fields not in the document: %s", strings.Join(extra, ", "))
	}
	return nil
}

func findUndocumented(ref *openapi3.SchemaRef, v any, path string, out *[]string) {
	if ref == nil || ref.Value == nil {
		return
	}
	switch x := v.(type) {
	case map[string]any:
		props := map[string]*openapi3.SchemaRef{}
		open := collectProperties(ref.Value, props)
		for k, child := range x {
			p, ok := props[k]
			if !ok {
				if !open {
					*out = append(*out, path+"."+k)
				}
				continue
			}
			findUndocumented(p, child, path+"."+k, out)
		}
	case []any:
		for i, e := range x {
			findUndocumented(ref.Value.Items, e, fmt.Sprintf("%s[%d]", path, i), out)
		}
	}
}

// collectProperties gathers an object schema's properties through allOf;
// it reports whether the schema is open (free-form, or a union).
func collectProperties(s *openapi3.Schema, props map[string]*openapi3.SchemaRef) bool {
	open := len(s.OneOf) > 0 || len(s.AnyOf) > 0 || (len(s.Properties) == 0 && len(s.AllOf) == 0) ||
		(s.AdditionalProperties.Has != nil && *s.AdditionalProperties.Has) || s.AdditionalProperties.Schema != nil
	for k, p := range s.Properties {
		props[k] = p
	}
	for _, part := range s.AllOf {
		if part.Value != nil && collectProperties(part.Value, props) {
			open = true
		}
	}
	return open
}

// requireCovered fails for any documented operation the test never got a
// success from.
func (c *specClient) requireCovered() {
	c.t.Helper()
	var missing, untried []string
	for path, item := range c.doc.Paths.Map() {
		for method, op := range item.Operations() {
			key := method + " " + path
			ok := false
			for st := range c.seen[key] {
				if st < 300 {
					ok = true
				}
			}
			if !ok {
				missing = append(missing, key)
			}
			for code := range op.Responses.Map() {
				var n int
				if _, err := fmt.Sscan(code, &n); err == nil && !c.seen[key][n] {
					untried = append(untried, key+" "+code)
				}
			}
		}
	}
	sort.Strings(missing)
	sort.Strings(untried)
	if len(missing) > 0 {
		c.t.Errorf("documented operations never answered with success here: %v", missing)
	}
	c.t.Logf("%d documented responses not produced here (a failure this test cannot cause, or one driven on another server): %s",
		len(untried), strings.Join(untried, "; "))
}

func (c *specClient) json(r response) map[string]any {
	c.t.Helper()
	return r.json(c.t)
}

// token issues a token through the API, validated.
func (c *specClient) token(name, role string, departments ...string) (secret, id string) {
	c.t.Helper()
	body := map[string]any{"name": name, "role": role}
	if len(departments) > 0 {
		body["departments"] = departments
	}
	m := c.json(c.do(http.StatusCreated, "POST", "/v1/tokens", adminToken, body))
	return m["token"].(string), m["token_id"].(string)
}

func eventID(m map[string]any) string { return m["event_ids"].([]any)[0].(string) }

func aggregateID(m map[string]any) string { return m["aggregate"].(map[string]any)["id"].(string) }

func TestOpenAPIValidatesRealTraffic(t *testing.T) {
	// Server-sent events are text; the validator has no decoder for them.
	openapi3filter.RegisterBodyDecoder("text/event-stream", openapi3filter.FileBodyDecoder)
	openapi3filter.RegisterBodyDecoder("application/sql", openapi3filter.FileBodyDecoder)
	doc := loadOpenAPI(t)
	s := startTestServer(t)
	c := newSpecClient(t, s, doc)
	const w = "?wait=true"
	src := func(kind, name string) map[string]any { return map[string]any{"kind": kind, "name": name} }
	year := func(y int) map[string]any { return map[string]any{"year": y} }
	months := func(y, from, to int) map[string]any {
		return map[string]any{"year": y, "from_month": from, "to_month": to}
	}

	// Operations, and the document serves itself unchanged.
	c.do(200, "GET", "/healthz", "", nil)
	c.do(200, "GET", "/readyz", "", nil)
	if a := c.json(c.do(200, "GET", "/v1/asyncapi.json", "", nil)); a["asyncapi"] != "3.0.0" {
		t.Errorf("/v1/asyncapi.json: %v", a["asyncapi"])
	}
	if m := c.do(200, "GET", "/metrics", "", nil); !bytes.Contains(m.Body, []byte("kpitrail_http_requests_total")) {
		t.Errorf("metrics lack the request counter: %s", clip(m.Body))
	}
	served := c.do(200, "GET", "/v1/openapi.json", "", nil)
	onDisk, err := os.ReadFile(openAPIPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(served.Body, onDisk) {
		t.Error("GET /v1/openapi.json does not serve httpapi/openapi.json")
	}

	// Tokens, listed before any exists and after.
	c.do(200, "GET", "/v1/tokens", adminToken, nil)
	office, _ := c.token("考评办", "office")
	analyst, _ := c.token("分析员", "analyst")
	auditor, _ := c.token("审计员", "auditor")
	kewei, _ := c.token("区科委填报员", "reporter", "区科委")
	yingji, _ := c.token("区应急局填报员", "reporter", "区应急局")
	c.do(200, "GET", "/v1/tokens", adminToken, nil)
	c.do(400, "POST", "/v1/tokens", adminToken, map[string]any{"name": "无部门填报员", "role": "reporter"})
	c.doInvalid(400, "POST", "/v1/tokens", adminToken, map[string]any{"name": "超级用户", "role": "root"})
	c.doInvalid(400, "POST", "/v1/tokens", adminToken, map[string]any{"name": "a:b", "role": "analyst"})
	c.do(403, "POST", "/v1/tokens", office, map[string]any{"name": "越权", "role": "admin"})
	c.do(409, "POST", "/v1/tokens", adminToken, map[string]any{"name": "考评办", "role": "office"})
	c.do(400, "POST", "/v1/tokens", adminToken, map[string]any{"name": "长期", "role": "analyst", "expires_in": 400 * 24 * 3600})
	c.do(201, "POST", "/v1/tokens", adminToken, map[string]any{"name": "轮换", "role": "analyst", "expires_in": 3600})
	c.do(201, "POST", "/v1/tokens", adminToken, map[string]any{"name": "轮换", "role": "analyst", "rotate": true, "rotate_grace": 60})
	c.do(403, "GET", "/v1/tokens", office, nil)
	c.do(401, "GET", "/v1/tokens", "", nil)
	c.do(401, "GET", "/v1/tokens", "kpt_not-a-token", nil)
	temp, tempID := c.token("临时", "analyst")
	c.do(200, "GET", "/v1/commands", temp, nil)
	c.do(204, "DELETE", "/v1/tokens/"+tempID, adminToken, nil)
	c.do(401, "GET", "/v1/commands", temp, nil)
	c.do(404, "DELETE", "/v1/tokens/"+tempID, adminToken, nil)
	c.do(403, "DELETE", "/v1/tokens/"+tempID, analyst, nil)

	// Task writes, each kind.
	hitech := c.json(c.do(201, "POST", "/v1/tasks"+w, office, map[string]any{"task_id": "hitech", "year": 2022,
		"dimension": "高效率 落实", "title": "国际科技创新中心建设和高新技术企业发展", "lead_department": "区科委",
		"co_departments": []string{"区财政局"}, "deadline": "2022-12-31", "description": "推动高新技术企业量质齐升"}))
	if hitech["visible"] != true {
		t.Errorf("?wait=true: %v", hitech)
	}
	reg := map[string]any{"year": 2022, "dimension": "高质量 发展", "title": "营商环境优化提升", "lead_department": "区发改委"}
	first := c.do(201, "POST", "/v1/tasks"+w, office, reg, "Idempotency-Key", "reg-yingshang", "X-Correlation-Id", "openapi-test")
	if first.Header.Get("ETag") != `"1"` {
		t.Errorf("ETag %q after a registration", first.Header.Get("ETag"))
	}
	yingshang := aggregateID(c.json(first))
	if !strings.HasPrefix(yingshang, "t-") {
		t.Errorf("server-named task %q", yingshang)
	}
	if again := aggregateID(c.json(c.do(201, "POST", "/v1/tasks", office, reg, "Idempotency-Key", "reg-yingshang"))); again != yingshang {
		t.Errorf("a retry named another task: %s vs %s", again, yingshang)
	}
	c.do(201, "POST", "/v1/tasks"+w, office, map[string]any{"task_id": "safety", "year": 2022, "dimension": "高效率 落实",
		"title": "安全生产", "lead_department": "区应急局", "deadline": "2022-12-31"})
	c.do(409, "POST", "/v1/tasks", office, map[string]any{"task_id": "hitech", "year": 2022, "title": "重复登记", "lead_department": "区科委"})
	c.do(403, "POST", "/v1/tasks", analyst, map[string]any{"year": 2022, "title": "分析员不能登记", "lead_department": "区科委"})
	c.do(200, "PUT", "/v1/tasks/hitech/deadline"+w, office, map[string]any{"deadline": "2023-03-31", "reason": "等待市科委认定结果"}, "If-Match", `"1"`)
	conflict := c.do(409, "PUT", "/v1/tasks/hitech/deadline", office, map[string]any{"deadline": "2023-04-30", "reason": "再次延期"}, "If-Match", `"1"`)
	if conflict.Header.Get("ETag") != `"2"` || c.json(conflict)["current_version"] != 2.0 {
		t.Errorf("conflict: ETag %q, body %s", conflict.Header.Get("ETag"), conflict.Body)
	}
	c.do(422, "PUT", "/v1/tasks/hitech/deadline", office, map[string]any{"deadline": "2023-03-31", "reason": "未变"})
	c.do(201, "POST", "/v1/tasks/hitech/narratives"+w, kewei, map[string]any{
		"items": []string{"1. 遴选推荐50家企业申报高新技术企业。", "2. 组织政策宣讲会3场，覆盖企业120家。"}, "as_of": "2022-11-30",
		"source": src("self_reported", "区科委")})
	c.do(403, "POST", "/v1/tasks/hitech/narratives", yingji, map[string]any{"items": []string{"不是本部门的任务"}})
	c.do(404, "POST", "/v1/tasks/ghost/narratives", office, map[string]any{"items": []string{"没有这个任务"}})
	c.do(400, "POST", "/v1/tasks/hitech/narratives", office, map[string]any{"task_id": "safety", "items": []string{"路径与正文不一致"}})
	c.do(201, "POST", "/v1/tasks/hitech/milestones"+w, kewei, map[string]any{"milestone": "政策印发", "reached_on": "2022-06-30",
		"note": "《关于支持高新技术企业发展的若干措施》印发"})
	c.do(422, "POST", "/v1/tasks/hitech/milestones", kewei, map[string]any{"milestone": "政策印发"})
	c.do(201, "POST", "/v1/tasks/hitech/problems"+w, kewei, map[string]any{"problem_id": "ledger-2022",
		"description": "部分企业研发费用归集不规范", "cause": "企业财务人员对政策理解不到位", "total_items": 193})
	named := aggregateID(c.json(c.do(201, "POST", "/v1/tasks/hitech/problems"+w, kewei,
		map[string]any{"description": "园区企业统计口径不一"}, "Idempotency-Key", "problem-2")))
	if named != "hitech" {
		t.Errorf("a problem is written to its task, got %s", named)
	}
	c.do(200, "POST", "/v1/tasks/hitech/problems/ledger-2022/rectification"+w, kewei, map[string]any{"total": 193, "rectified": 191, "note": "剩余2项持续整改"})
	c.do(403, "POST", "/v1/tasks/hitech/problems/ledger-2022/close", kewei, map[string]any{"outcome": "ongoing"})
	c.do(200, "POST", "/v1/tasks/hitech/problems/ledger-2022/close"+w, office, map[string]any{"outcome": "ongoing", "note": "纳入2023年持续整改"})
	c.do(422, "POST", "/v1/tasks/hitech/problems/ledger-2022/rectification", kewei, map[string]any{"rectified": 193})
	c.do(404, "POST", "/v1/tasks/hitech/problems/nope/close", office, map[string]any{"outcome": "rectified"})
	c.do(200, "POST", "/v1/tasks/"+yingshang+"/complete"+w, office, map[string]any{"completed_on": "2022-12-20", "note": "全年任务完成"})
	c.do(422, "POST", "/v1/tasks/"+yingshang+"/complete", office, map[string]any{"completed_on": "2022-12-21"})
	c.do(201, "POST", "/v1/tasks"+w, office, map[string]any{"task_id": "retired", "year": 2022, "title": "老旧小区综合整治",
		"lead_department": "区住建委"})
	c.do(200, "POST", "/v1/tasks/retired/withdraw"+w, office, map[string]any{"reason": "任务调整，由市级统筹"})
	c.do(422, "POST", "/v1/tasks/retired/withdraw", office, map[string]any{"reason": "再次撤销"})

	// Indicator writes, each kind.
	c.do(201, "POST", "/v1/tasks/hitech/indicators"+w, office, map[string]any{"indicator_id": "firms", "key": "hitech.firms",
		"name": "高新技术企业保有量", "unit": "家", "direction": "higher", "cadence": "yearly", "rounding": "half_up",
		"description": "年末有效期内的高新技术企业数"})
	c.do(409, "POST", "/v1/tasks/hitech/indicators", office, map[string]any{"indicator_id": "firms", "name": "高新技术企业保有量", "direction": "higher"})
	c.do(404, "POST", "/v1/tasks/ghost/indicators", office, map[string]any{"indicator_id": "ghost-firms", "name": "无主指标", "direction": "higher"})
	c.do(200, "PUT", "/v1/indicators/firms/target"+w, office, map[string]any{"value": "719", "source": src("agency", "市科委")})
	c.do(409, "PUT", "/v1/indicators/firms/target", office, map[string]any{"value": "720", "reason": "市级调整"}, "If-Match", `"1"`)
	c.do(400, "PUT", "/v1/indicators/firms/target", office, map[string]any{"value": "730"}) // a revision needs a reason
	c.do(201, "POST", "/v1/indicators/firms/bases"+w, office, map[string]any{"window": year(2021), "value": 570, "quality": "final",
		"source": src("agency", "市科委")})
	c.do(403, "POST", "/v1/indicators/firms/bases", kewei, map[string]any{"window": year(2021), "value": 571, "quality": "final", "reason": "部门只能提议"})
	c.do(201, "POST", "/v1/indicators/firms/figures"+w, kewei, map[string]any{"window": year(2022), "value": "610",
		"quality": "estimate", "source": src("agency", "市科委"), "final_due": "2023-03-31", "note": "本数据为年度数据，预计2023年初由市科委反馈"})
	between := time.Now().UTC()
	time.Sleep(20 * time.Millisecond)
	final := eventID(c.json(c.do(201, "POST", "/v1/indicators/firms/figures"+w, kewei, map[string]any{"window": year(2022),
		"value": "605", "quality": "final", "source": src("agency", "市科委")})))
	c.do(422, "POST", "/v1/indicators/firms/figures", kewei, map[string]any{"window": year(2022), "value": "611",
		"quality": "estimate", "source": src("agency", "市科委")})
	c.do(403, "POST", "/v1/indicators/firms/figures", yingji, map[string]any{"window": year(2022), "value": "1",
		"quality": "estimate", "source": src("self_reported", "区应急局")})
	c.do(404, "POST", "/v1/indicators/nope/figures", office, map[string]any{"window": year(2022), "value": "1",
		"quality": "estimate", "source": src("self_reported", "")})
	c.do(201, "POST", "/v1/indicators/firms/figures/"+final+"/corrections"+w, kewei, map[string]any{"value": "607", "reason": "市科委更正认定名单"})
	c.do(422, "POST", "/v1/indicators/firms/figures/"+final+"/corrections", kewei, map[string]any{"value": "608", "reason": "已被更正的数不能再更正"})
	c.do(404, "POST", "/v1/indicators/firms/figures/no-such-event/corrections", kewei, map[string]any{"value": "608", "reason": "没有这条数"})

	// A rate from numerator and denominator; a superseding report, retracted.
	c.do(201, "POST", "/v1/tasks/safety/indicators"+w, office, map[string]any{"indicator_id": "good-days", "name": "空气质量优良天数比例",
		"unit": "%", "direction": "at_least"})
	c.do(200, "PUT", "/v1/indicators/good-days/target"+w, office, map[string]any{"value": 80})
	c.do(201, "POST", "/v1/indicators/good-days/figures"+w, yingji, map[string]any{"window": months(2022, 1, 11), "numerator": "280",
		"denominator": "334", "quality": "provisional", "source": src("statistics_bureau", "区统计局")})
	later := eventID(c.json(c.do(201, "POST", "/v1/indicators/good-days/figures"+w, yingji, map[string]any{"window": months(2022, 1, 11),
		"value": "83.8", "numerator": "280", "denominator": "334", "quality": "provisional", "source": src("statistics_bureau", "区统计局")})))
	c.do(200, "POST", "/v1/indicators/good-days/figures/"+later+"/retraction"+w, office, map[string]any{"reason": "误报为全区数据，撤回"})
	c.do(422, "POST", "/v1/indicators/good-days/figures/"+later+"/retraction", office, map[string]any{"reason": "已撤回"})
	// A share above 100%: accepted, flagged, explained.
	over := eventID(c.json(c.do(201, "POST", "/v1/indicators/good-days/figures"+w, yingji, map[string]any{"window": months(2022, 1, 6),
		"numerator": "150", "denominator": "100", "quality": "provisional", "source": src("statistics_bureau", "区统计局")})))
	if ws := c.json(c.do(200, "GET", "/v1/warnings?indicator_id=good-days", analyst, nil))["warnings"].([]any); len(ws) != 2 {
		t.Errorf("warnings on 150 of 100: %v", ws)
	}
	c.do(201, "POST", "/v1/indicators/good-days/warnings/explain"+w, yingji, map[string]any{"rule": "share_range", "figure": over,
		"reason": "含跨区监测点位，口径待市局确认"})
	c.do(200, "GET", "/v1/warnings?state=explained&year=2022", analyst, nil)
	c.doInvalid(400, "GET", "/v1/warnings?state=closed", analyst, nil)
	c.doInvalid(400, "POST", "/v1/indicators/good-days/warnings/explain", yingji, map[string]any{"rule": "gut_feeling", "reason": "x"})
	c.do(404, "POST", "/v1/indicators/good-days/warnings/explain", yingji, map[string]any{"rule": "outlier", "figure": "no-such-figure", "reason": "x"})
	c.do(403, "POST", "/v1/indicators/good-days/warnings/explain", kewei, map[string]any{"rule": "share_range", "figure": over, "reason": "不是本部门"})
	// Lower is better with the reduction formula and its baseline.
	c.do(201, "POST", "/v1/tasks/safety/indicators"+w, office, map[string]any{"indicator_id": "accidents", "key": "生产安全事故起数",
		"name": "生产安全事故起数", "unit": "起", "direction": "lower", "formula": "reduction", "baseline": 16})
	c.do(200, "PUT", "/v1/indicators/accidents/target"+w, office, map[string]any{"value": "12"})
	// A department proposes its base; the office decides.
	based := eventID(c.json(c.do(201, "POST", "/v1/indicators/accidents/proposals/bases"+w, yingji, map[string]any{"window": months(2021, 1, 11),
		"value": "16", "quality": "final", "source": src("self_reported", "区应急局"), "reason": "同比事故减少3起，上年同期16起"})))
	c.do(403, "POST", "/v1/indicators/accidents/proposals/"+based+"/approve", yingji, map[string]any{})
	c.do(200, "POST", "/v1/indicators/accidents/proposals/"+based+"/approve"+w, office, map[string]any{"reason": "口径说明充分"})
	c.do(422, "POST", "/v1/indicators/accidents/proposals/"+based+"/reject", office, map[string]any{"reason": "已批准"})
	c.do(404, "POST", "/v1/indicators/accidents/proposals/no-such-proposal/approve", office, map[string]any{})
	raised := eventID(c.json(c.do(201, "POST", "/v1/indicators/accidents/proposals/target"+w, yingji, map[string]any{"value": "14",
		"reason": "上级下达任务调整"})))
	c.do(200, "POST", "/v1/indicators/accidents/proposals/"+raised+"/reject"+w, office, map[string]any{"reason": "市级任务未调整"})
	c.do(400, "POST", "/v1/indicators/accidents/proposals/target", yingji, map[string]any{"low": "1", "reason": "缺目标值"})
	c.do(200, "GET", "/v1/indicators/accidents/proposals", analyst, nil)
	c.do(404, "GET", "/v1/indicators/nope/proposals", analyst, nil)
	accidents := eventID(c.json(c.do(201, "POST", "/v1/indicators/accidents/figures"+w, yingji, map[string]any{"window": months(2022, 1, 11),
		"value": "13", "quality": "provisional", "source": src("self_reported", "区应急局")})))
	// Review: submitted, returned, submitted again, approved, locked, reopened.
	review := "/v1/indicators/accidents/figures/" + accidents
	c.do(200, "POST", review+"/submit"+w, yingji, map[string]any{"reason": "报考评办审核"})
	c.do(200, "GET", "/v1/review-queue?year=2022", office, nil)
	c.do(200, "POST", review+"/return"+w, office, map[string]any{"reason": "请附区统计局数据"})
	c.do(200, "GET", "/v1/review-queue", yingji, nil)
	c.do(200, "POST", review+"/submit"+w, yingji, map[string]any{})
	c.do(403, "POST", review+"/approve", yingji, map[string]any{})
	c.do(200, "POST", review+"/approve"+w, office, map[string]any{"reason": "与区统计局数据一致"})
	c.do(422, "POST", "/v1/indicators/accidents/figures/"+accidents+"/corrections", yingji, map[string]any{"value": "12", "reason": "已批准的数不能直接更正"})
	c.do(403, "POST", review+"/reopen", yingji, map[string]any{"reason": "部门不能重开"})
	c.do(200, "POST", review+"/reopen"+w, office, map[string]any{"reason": "区应急局更正统计口径"})
	c.do(422, "POST", review+"/approve", office, map[string]any{})
	c.do(404, "POST", "/v1/indicators/accidents/figures/no-such-figure/submit", yingji, map[string]any{})
	// An approver never approves its own submission.
	c.do(200, "POST", review+"/submit"+w, office, map[string]any{})
	c.do(403, "POST", review+"/approve", office, map[string]any{})
	// Qualitative and range targets.
	c.do(201, "POST", "/v1/tasks/hitech/indicators"+w, office, map[string]any{"indicator_id": "policy", "name": "出台高新技术企业扶持政策",
		"direction": "qualitative"})
	c.do(200, "PUT", "/v1/indicators/policy/target"+w, office, map[string]any{"milestone": "政策印发"})
	c.do(201, "POST", "/v1/tasks/safety/indicators"+w, office, map[string]any{"indicator_id": "pm25", "name": "PM2.5年均浓度",
		"unit": "微克/立方米", "direction": "range"})
	c.do(200, "PUT", "/v1/indicators/pm25/target"+w, office, map[string]any{"low": "30", "high": "35", "reason": "市级下达区间"})
	// A server-named indicator, withdrawn.
	drills := aggregateID(c.json(c.do(201, "POST", "/v1/tasks/safety/indicators"+w, office, map[string]any{"name": "应急演练次数",
		"unit": "次", "direction": "higher"}, "Idempotency-Key", "drills")))
	if !strings.HasPrefix(drills, "i-") {
		t.Errorf("server-named indicator %q", drills)
	}
	c.do(200, "POST", "/v1/indicators/"+drills+"/withdraw"+w, office, map[string]any{"reason": "指标口径调整"})
	c.do(422, "PUT", "/v1/indicators/"+drills+"/target", office, map[string]any{"value": "4"})

	// Every field a request schema lists as required is one the server
	// refuses to go without: drop each in turn from a body it accepts.
	for _, tc := range []struct {
		method, path, token, schema string
		body                        map[string]any
	}{
		{"POST", "/v1/tasks", office, "RegisterTask", map[string]any{"year": 2022, "title": "新任务", "lead_department": "区科委"}},
		{"PUT", "/v1/tasks/hitech/deadline", office, "ChangeDeadline", map[string]any{"deadline": "2023-06-30", "reason": "再次延期"}},
		{"POST", "/v1/tasks/hitech/narratives", office, "RecordNarrative", map[string]any{"items": []string{"1. 新进展"}}},
		{"POST", "/v1/tasks/hitech/milestones", office, "RecordMilestone", map[string]any{"milestone": "新里程碑"}},
		{"POST", "/v1/tasks/hitech/problems", office, "RecordProblem", map[string]any{"description": "新问题"}},
		{"POST", "/v1/tasks/hitech/problems/ledger-2022/close", office, "CloseProblem", map[string]any{"outcome": "rectified"}},
		{"POST", "/v1/tasks/hitech/complete", office, "CompleteTask", map[string]any{"completed_on": "2022-12-30"}},
		{"POST", "/v1/tasks/hitech/withdraw", office, "WithdrawTask", map[string]any{"reason": "撤销"}},
		{"POST", "/v1/tasks/hitech/indicators", office, "DefineIndicator", map[string]any{"name": "新指标", "direction": "higher"}},
		{"POST", "/v1/indicators/firms/bases", office, "RecordBase", map[string]any{"window": year(2020), "value": "500", "quality": "final"}},
		{"POST", "/v1/indicators/firms/figures", office, "ReportFigure", map[string]any{"window": months(2022, 1, 6), "value": "590",
			"quality": "provisional", "source": src("agency", "市科委")}},
		{"POST", "/v1/indicators/firms/figures/" + final + "/corrections", office, "CorrectFigure", map[string]any{"value": "606", "reason": "更正"}},
		{"POST", "/v1/indicators/firms/figures/" + final + "/retraction", office, "RetractFigure", map[string]any{"reason": "撤回"}},
		{"POST", "/v1/indicators/firms/withdraw", office, "WithdrawIndicator", map[string]any{"reason": "撤销"}},
		{"POST", "/v1/tokens", adminToken, "TokenRequest", map[string]any{"name": "新用户", "role": "analyst"}},
		{"POST", "/v1/snapshots", office, "SnapshotRequest", map[string]any{"year": 2022}},
		{"POST", "/v1/indicators/accidents/figures/" + final + "/return", office, "ReturnFigure", map[string]any{"reason": "退回"}},
		{"POST", "/v1/indicators/accidents/figures/" + final + "/reopen", office, "ReopenFigure", map[string]any{"reason": "重开"}},
		{"POST", "/v1/indicators/accidents/proposals/bases", yingji, "ProposeBase", map[string]any{"window": months(2021, 1, 10),
			"value": "15", "quality": "final", "reason": "按可比口径"}},
		{"POST", "/v1/indicators/accidents/proposals/target", yingji, "ProposeTarget", map[string]any{"value": "14", "reason": "调整"}},
		{"POST", "/v1/indicators/accidents/proposals/" + final + "/reject", office, "RejectProposal", map[string]any{"reason": "不同意"}},
		{"POST", "/v1/years/2022/reopen", office, "ReopenYear", map[string]any{"reason": "解冻"}},
		{"POST", "/v1/indicators/accidents/warnings/explain", yingji, "ExplainWarning", map[string]any{"rule": "outlier", "reason": "解释"}},
		{"PUT", "/v1/years/2021/calendar", office, "SetCalendar", map[string]any{"monthly_due_day": 5, "quarterly_due_day": 10, "yearly_due": "2022-01-31"}},
	} {
		schema := doc.Components.Schemas[tc.schema]
		if schema == nil || len(schema.Value.Required) == 0 {
			t.Errorf("schema %s has no required fields", tc.schema)
			continue
		}
		for _, field := range schema.Value.Required {
			body := map[string]any{}
			for k, v := range tc.body {
				if k != field {
					body[k] = v
				}
			}
			c.doInvalid(400, tc.method, tc.path, tc.token, body)
		}
	}

	// Commands by name.
	c.do(200, "GET", "/v1/commands", analyst, nil)
	c.do(200, "POST", "/v1/commands/task.register"+w, office, map[string]any{"task_id": "greening", "year": 2022,
		"title": "城市绿化提升", "lead_department": "区园林绿化局"})
	c.do(200, "POST", "/v1/commands/indicator.define"+w, office, map[string]any{"indicator_id": "green-area", "task_id": "greening",
		"name": "新增绿化面积", "unit": "公顷", "direction": "higher"})
	c.do(200, "POST", "/v1/commands/indicator.report_figure"+w, office, map[string]any{"indicator_id": "green-area",
		"window": year(2022), "value": "12.50", "quality": "approximate", "source": src("publication", "区政府工作报告")})
	c.do(200, "POST", "/v1/commands/task.withdraw"+w, office, map[string]any{"task_id": "greening", "reason": "任务调整，由市级统筹"})
	c.do(422, "POST", "/v1/tasks/greening/narratives", office, map[string]any{"items": []string{"已撤销的任务"}})
	c.doInvalid(404, "POST", "/v1/commands/task.teleport", office, map[string]any{"task_id": "greening"})
	c.doInvalid(400, "POST", "/v1/commands/task.withdraw", office, map[string]any{"reason": "没有任务编号"})
	c.do(403, "POST", "/v1/commands/task.withdraw", analyst, map[string]any{"task_id": "safety", "reason": "分析员不能撤销"})

	// Refusals the document itself already refuses.
	fig := `{"window":{"year":2022,"from_month":1,"to_month":11},"value":"13","quality":"provisional","source":{"kind":"self_reported"}}`
	figs := "/v1/indicators/accidents/figures"
	c.doInvalid(400, "POST", figs, yingji, strings.Replace(fig, `{"window"`, `{"actor":"someone","window"`, 1))
	c.doInvalid(400, "POST", figs, yingji, `{"window":{"year":2022},"value":"13","source":{"kind":"self_reported"}}`)
	c.doInvalid(400, "POST", figs, yingji, `{"window":{"year":2022},"quality":"final","source":{"kind":"self_reported"}}`)
	c.doInvalid(400, "POST", figs, yingji, `{"window":{"year":"2022"},"value":"13","quality":"final","source":{"kind":"self_reported"}}`)
	c.doInvalid(400, "POST", figs, yingji, strings.Replace(fig, `"13"`, `"1,300"`, 1))
	c.doInvalid(400, "POST", figs, yingji, `{"value":`)
	c.doInvalid(400, "POST", figs, yingji, fig, "If-Match", "abc")
	c.doInvalid(400, "POST", figs, yingji, fig, "Idempotency-Key", strings.Repeat("k", 101))
	c.doInvalid(415, "POST", figs, yingji, fig, "Content-Type", "text/plain")
	c.do(400, "POST", figs, yingji, strings.Replace(fig, `"13"`, `"1e400"`, 1)) // the pattern takes exponents; the range is the server's
	// 200 items of 900 characters: a valid narrative, over 512 KiB.
	big := make([]string, 200)
	for i := range big {
		big[i] = strings.Repeat("安", 900)
	}
	c.do(413, "POST", "/v1/tasks/safety/narratives", yingji, map[string]any{"items": big})

	// Units: the hierarchy, a task in a district, roll-ups and a ranking.
	c.do(201, "POST", "/v1/units", office, map[string]any{"unit_id": "beijing", "name": "北京市", "level": "city"})
	c.do(201, "POST", "/v1/units"+w, office, map[string]any{"unit_id": "miyun", "name": "密云区", "level": "district", "parent": "beijing"})
	c.doInvalid(400, "POST", "/v1/units", office, map[string]any{"unit_id": "x", "name": "某区", "level": "province"})
	c.do(403, "POST", "/v1/units", kewei, map[string]any{"unit_id": "y", "name": "某区", "level": "district"})
	c.do(404, "POST", "/v1/units", office, map[string]any{"unit_id": "z", "name": "某局", "level": "department", "parent": "nowhere"})
	c.do(409, "POST", "/v1/units", office, map[string]any{"unit_id": "miyun", "name": "密云区", "level": "district", "parent": "beijing"})
	c.do(400, "POST", "/v1/units", office, map[string]any{"unit_id": "loop", "name": "某区", "level": "district", "parent": "loop"})
	c.do(201, "POST", "/v1/tasks", office, map[string]any{"task_id": "miyun-hitech", "year": 2022, "title": "高新技术企业发展",
		"lead_department": "区科委", "unit_id": "miyun"})
	c.do(201, "POST", "/v1/tasks/miyun-hitech/indicators", office, map[string]any{"indicator_id": "miyun-firms", "key": "hitech.firms",
		"name": "高新技术企业保有量", "unit": "家", "direction": "higher"})
	c.do(201, "POST", "/v1/indicators/miyun-firms/figures"+w, office, map[string]any{"window": year(2022), "value": "350",
		"quality": "estimate", "source": src("self_reported", "")})
	c.do(200, "GET", "/v1/units", analyst, nil)
	c.do(200, "GET", "/v1/units/miyun", analyst, nil)
	c.do(404, "GET", "/v1/units/nowhere", analyst, nil)
	c.doInvalid(400, "GET", "/v1/units/bad.id", analyst, nil)
	c.do(200, "GET", "/v1/units/beijing/rollup?year=2022&on=2023-01-15", analyst, nil)
	c.do(200, "GET", "/v1/units/huairou/rollup", kewei, nil)
	c.do(404, "GET", "/v1/units/nowhere/rollup", analyst, nil)
	c.doInvalid(400, "GET", "/v1/units/beijing/rollup?on=someday", analyst, nil)
	if rk := c.json(c.do(200, "GET", "/v1/rankings?key=hitech.firms&year=2022", analyst, nil)); len(rk["units"].([]any)) != 2 {
		t.Errorf("ranking of two units: %v", rk)
	}
	c.do(200, "GET", "/v1/rankings?key=hitech.firms&year=2022&unit=beijing", analyst, nil)
	c.do(404, "GET", "/v1/rankings?key=hitech.firms&year=2022&unit=nowhere", analyst, nil)
	c.doInvalid(400, "GET", "/v1/rankings?year=2022", analyst, nil)
	c.do(401, "GET", "/v1/units", "", nil)
	c.do(201, "POST", "/v1/tokens", adminToken, map[string]any{"name": "密云区考评办", "role": "office", "unit": "miyun"})
	c.do(404, "POST", "/v1/tokens", adminToken, map[string]any{"name": "无此区", "role": "office", "unit": "nowhere"})

	// Snapshots, verification and rebuild.
	c.do(403, "POST", "/v1/snapshots", analyst, map[string]any{"year": 2022})
	c.doInvalid(400, "POST", "/v1/snapshots", office, map[string]any{"year": 2022, "signed_by": "考评办"})
	snap := c.json(c.do(201, "POST", "/v1/snapshots", office, map[string]any{"year": 2022, "note": "2022年度年终封存"}))
	c.do(200, "GET", "/v1/snapshots?year=2022", analyst, nil)
	// The snapshot froze 2022 until the office reopens it.
	c.do(422, "POST", "/v1/indicators/firms/figures", office, map[string]any{"window": months(2022, 1, 6), "value": "590",
		"quality": "provisional", "source": src("agency", "市科委")})
	c.do(200, "GET", "/v1/years?year=2022", analyst, nil)
	c.do(403, "POST", "/v1/years/2022/reopen", kewei, map[string]any{"reason": "部门不能解冻"})
	c.doInvalid(400, "POST", "/v1/years/2022/reopen", office, map[string]any{})
	c.do(200, "POST", "/v1/years/2022/reopen"+w, office, map[string]any{"reason": "市科委补报认定结果，重新核定"})
	c.do(422, "POST", "/v1/years/2022/reopen", office, map[string]any{"reason": "已解冻"})
	// The year's reporting calendar, and who reported what by when.
	c.do(200, "PUT", "/v1/years/2022/calendar"+w, office, map[string]any{"monthly_due_day": 5, "quarterly_due_day": 10, "yearly_due": "2023-01-31"})
	c.do(403, "PUT", "/v1/years/2022/calendar", kewei, map[string]any{"monthly_due_day": 5, "quarterly_due_day": 10, "yearly_due": "2023-01-31", "reason": "x"})
	c.do(400, "PUT", "/v1/years/2022/calendar", office, map[string]any{"monthly_due_day": 6, "quarterly_due_day": 10, "yearly_due": "2023-01-31"})
	c.do(200, "GET", "/v1/completeness?year=2022&on=2023-02-01", analyst, nil)
	c.do(200, "GET", "/v1/completeness?status=missing,late&department="+url.QueryEscape("区科委"), analyst, nil)
	c.doInvalid(400, "GET", "/v1/completeness?status=lost", analyst, nil)
	verifyQ := url.Values{"root": {snap["root"].(string)}, "position": {fmt.Sprint(snap["position"])}, "aggregates": {fmt.Sprint(snap["aggregates"])}}
	if rep := c.json(c.do(200, "GET", "/v1/audit/verify?"+verifyQ.Encode(), auditor, nil)); !givenRootHolds(rep) {
		t.Errorf("the snapshot's root does not verify: %v", rep)
	}
	c.do(200, "GET", "/v1/audit/verify", auditor, nil)
	c.do(403, "GET", "/v1/audit/verify", analyst, nil)
	c.doInvalid(400, "GET", "/v1/audit/verify?root=abc&position=x", auditor, nil)
	// Signing keys and a signed root, checked back.
	c.do(200, "GET", "/v1/audit/keys", analyst, nil)
	c.do(403, "GET", "/v1/audit/root", analyst, nil)
	statement := c.json(c.do(200, "GET", "/v1/audit/root", auditor, nil))
	if rep := c.json(c.do(200, "POST", "/v1/audit/verify", auditor, statement)); len(rep["findings"].([]any)) != 0 {
		t.Errorf("the log against its own root statement: %v", rep["findings"])
	}
	c.doInvalid(400, "POST", "/v1/audit/verify", auditor, map[string]any{"statement": "kpitrail.root.v1", "signed_by": "考评办"})
	c.do(403, "POST", "/v1/admin/rebuild", office, nil)
	c.do(200, "POST", "/v1/admin/rebuild", adminToken, nil)

	// Reads, live and as of now (a replay of the log to this instant); then
	// as of before the final figure came in.
	asOf := url.Values{"as_of": {between.Format(time.RFC3339Nano)}}.Encode()
	asOfNow := url.Values{"as_of": {time.Now().Format(time.RFC3339Nano)}}.Encode()
	reads := []string{
		"/v1/tasks",
		"/v1/tasks?" + url.Values{"year": {"2022"}, "department": {"区财政局"}, "dimension": {"高效率 落实"}, "status": {"at_risk"}}.Encode(),
		"/v1/tasks/hitech",
		"/v1/tasks/" + yingshang,
		"/v1/tasks/greening",
		"/v1/indicators",
		"/v1/indicators?" + url.Values{"task_id": {"hitech"}, "year": {"2022"}, "q": {"高新"}}.Encode(),
		"/v1/indicators/firms",
		"/v1/indicators/firms/figures",
		"/v1/indicators/firms/history",
		"/v1/indicators/firms/audit",
		"/v1/indicators/good-days/figures",
		"/v1/indicators/good-days/audit",
		"/v1/indicators/accidents/history",
		"/v1/indicators/pm25",
		"/v1/indicators/policy",
		"/v1/status",
		"/v1/snapshots",
		"/v1/years",
		"/v1/review-queue",
		"/v1/warnings?state=all",
		"/v1/indicators/accidents/proposals",
		"/v1/admin/dead-letters?limit=10",
	}
	for _, p := range reads {
		token := analyst
		if strings.HasPrefix(p, "/v1/admin/") {
			token = adminToken
		}
		c.do(200, "GET", p, token, nil)
		sep := "?"
		if strings.Contains(p, "?") {
			sep = "&"
		}
		if r := c.do(200, "GET", p+sep+asOfNow, token, nil); r.Header.Get("Kpitrail-As-Of") == "" {
			t.Errorf("GET %s with as_of: no Kpitrail-As-Of header", p)
		}
	}
	if then := c.json(c.do(200, "GET", "/v1/indicators/firms?"+asOf, analyst, nil)); then["value"] != "610" {
		t.Errorf("as of %s the value was the estimate, got %v", between, then["value"])
	}
	c.do(404, "GET", "/v1/tasks/greening?"+asOf, analyst, nil) // registered after that instant
	for _, p := range []string{"/v1/tasks/nope", "/v1/indicators/nope", "/v1/indicators/nope/figures", "/v1/indicators/nope/history", "/v1/indicators/nope/audit"} {
		c.do(404, "GET", p, analyst, nil)
	}
	c.do(403, "GET", "/v1/admin/dead-letters", analyst, nil)
	c.doInvalid(400, "GET", "/v1/tasks?as_of=yesterday", analyst, nil)
	c.doInvalid(400, "GET", "/v1/tasks?year=abc", analyst, nil)
	c.doInvalid(400, "GET", "/v1/indicators?year=-1", analyst, nil)
	c.doInvalid(400, "GET", "/v1/admin/dead-letters?limit=x", adminToken, nil)
	c.doInvalid(400, "GET", "/v1/events?limit=0", analyst, nil)
	c.doInvalid(400, "GET", "/v1/events?limit=1001", analyst, nil)
	c.doInvalid(400, "GET", "/v1/events?after=-1", analyst, nil)
	c.doInvalid(400, "GET", "/v1/status?as_of=2022-13-01", analyst, nil)
	c.do(401, "GET", "/v1/tasks/hitech", "", nil)

	// A foreign message in the log: skipped by /v1/events, dead-lettered by
	// the read models, found by the verification.
	ack, err := s.sys.Conn.Request("kpitrail.events.task.junk", []byte("不是JSON"), 5*time.Second)
	if err != nil || !bytes.Contains(ack.Data, []byte(`"seq"`)) {
		t.Fatalf("publish a foreign message: %v %s", err, ack.Data)
	}
	waitForReadModels(t, s)
	dl := c.json(c.do(200, "GET", "/v1/admin/dead-letters", adminToken, nil))["dead_letters"].([]any)
	if len(dl) != 1 || dl[0].(map[string]any)["kind"] != "malformed" {
		t.Errorf("dead letters %v", dl)
	}
	rep := c.json(c.do(200, "GET", "/v1/audit/verify", adminToken, nil))
	if len(rep["findings"].([]any)) != 1 {
		t.Fatalf("verification findings %v", rep["findings"])
	}
	// An auditor accepts it; verification then passes, listing it.
	finding := rep["findings"].([]any)[0].(map[string]any)
	accept := map[string]any{"position": finding["position"], "kind": finding["kind"], "reason": "联调时误发的测试消息"}
	c.do(403, "POST", "/v1/audit/acknowledgements", analyst, accept)
	c.doInvalid(400, "POST", "/v1/audit/acknowledgements", auditor, map[string]any{"position": 1, "kind": "foreign", "reason": "x", "by": "someone"})
	c.doInvalid(400, "POST", "/v1/audit/acknowledgements", auditor, map[string]any{"position": 1, "kind": "vanished", "reason": "x"})
	c.do(201, "POST", "/v1/audit/acknowledgements", auditor, accept)
	c.do(422, "POST", "/v1/audit/acknowledgements", auditor, accept)
	// The signing key is rotated (admins only) and the log still verifies.
	c.do(403, "POST", "/v1/admin/keys/rotate", office, map[string]any{"reason": "年度密钥轮换"})
	c.doInvalid(400, "POST", "/v1/admin/keys/rotate", adminToken, map[string]any{"reason": ""})
	c.do(200, "POST", "/v1/admin/keys/rotate", adminToken, map[string]any{"reason": "年度密钥轮换"})
	c.do(201, "POST", "/v1/tasks/safety/narratives", yingji, map[string]any{"items": []string{"密钥轮换之后的报送"}})
	if rep := c.json(c.do(200, "GET", "/v1/audit/verify", auditor, nil)); len(rep["findings"].([]any)) != 0 || len(rep["acknowledged"].([]any)) != 1 {
		t.Errorf("after the acknowledgement and the rotation: findings %v, acknowledged %v", rep["findings"], rep["acknowledged"])
	}

	// The raw log, page by page, and as of a past instant.
	var after uint64
	pages := 0
	for {
		page := c.json(c.do(200, "GET", fmt.Sprintf("/v1/events?after=%d&limit=7", after), analyst, nil))
		next, last := uint64(page["next"].(float64)), uint64(page["last"].(float64))
		pages++
		if next == last || pages > 100 {
			break
		}
		after = next
	}
	if pages < 3 {
		t.Errorf("the log was read in %d pages of 7", pages)
	}
	c.do(200, "GET", "/v1/events?limit=1000&"+asOf, analyst, nil)

	// Imports: the seed's self-check table, planned, imported, undone.
	tsv := demo.SeedTable()
	ct := []string{"Content-Type", "text/tab-separated-values; charset=utf-8"}
	c.do(200, "POST", "/v1/imports?format=tsv&dry_run=true", office, tsv, ct...)
	c.do(403, "POST", "/v1/imports?format=tsv", kewei, tsv, ct...)
	imported := c.json(c.do(201, "POST", "/v1/imports?"+url.Values{"format": {"tsv"}, "filename": {"自查表.txt"}}.Encode(), office, tsv,
		append(ct, "Idempotency-Key", "seed-2022")...))
	batch, _ := imported["batch_id"].(string)
	c.do(201, "POST", "/v1/imports?format=tsv", office, tsv, append(ct, "Idempotency-Key", "seed-2022")...)
	// A figure sheet on one of its tasks: an indicator's rows come back as
	// grouped commands, which the document describes too.
	sheet := strings.Join([]string{strings.Join(importer.FigureColumns, ","),
		figureRow(map[string]string{"indicator_id": "hitech-stock", "task_id": importer.TaskID(2022, "高效率落实", "国际科技创新中心建设和高新技术企业发展"),
			"name": "高新技术企业保有量", "unit": "家", "direction": "higher", "target": "719", "window_year": "2022", "to_month": "1", "value": "601", "quality": "estimate"}),
		figureRow(map[string]string{"indicator_id": "hitech-stock", "window_year": "2022", "to_month": "1", "value": "600", "quality": "final"}),
		figureRow(map[string]string{"indicator_id": "hitech-stock", "window_year": "2022", "to_month": "2", "value": "603", "quality": "estimate"}),
	}, "\n")
	figImport := c.json(c.do(201, "POST", "/v1/imports?kind=figures&format=csv", office, []byte(sheet), "Content-Type", "text/csv; charset=utf-8"))
	var grouped int
	for _, r := range figImport["report"].(map[string]any)["results"].([]any) {
		if r.(map[string]any)["command"] == "indicator.report_figures" {
			grouped++
		}
	}
	if grouped != 1 {
		t.Errorf("figure import: %d grouped commands, want 1: %v", grouped, figImport["report"])
	}
	c.doInvalid(400, "POST", "/v1/imports?format=pdf", office, tsv, ct...)
	c.do(200, "POST", "/v1/imports/"+batch+"/undo", office, nil)
	c.do(200, "POST", "/v1/imports/"+batch+"/undo", office, nil)
	c.do(404, "POST", "/v1/imports/b-0000000000000000/undo", office, nil)
	c.doInvalid(400, "POST", "/v1/imports/batch-1/undo", office, nil)
	c.do(200, "GET", "/v1/imports/templates/figures.csv", analyst, nil)
	c.do(200, "GET", "/v1/imports/templates/figures.xlsx", analyst, nil)
	c.doInvalid(404, "GET", "/v1/imports/templates/figures.pdf", analyst, nil)

	// The self-check table, of the board and of one task, opens as a workbook.
	for _, path := range []string{"/v1/tasks/selfcheck.xlsx?year=2022", "/v1/tasks/hitech/selfcheck.xlsx"} {
		xl := c.do(200, "GET", path, analyst, nil)
		book, err := excelize.OpenReader(bytes.NewReader(xl.Body))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		rows, err := book.GetRows(book.GetSheetList()[0])
		book.Close()
		if err != nil || len(rows) < 3 || rows[1][0] != "考评维度" {
			t.Errorf("%s: rows %q, %v", path, rows, err)
		}
	}
	c.do(200, "GET", "/v1/tasks/selfcheck.xlsx?as_of="+url.QueryEscape(time.Now().Add(-time.Hour).Format(time.RFC3339)), auditor, nil)
	c.do(404, "GET", "/v1/tasks/no-such-task/selfcheck.xlsx", analyst, nil)
	c.doInvalid(400, "GET", "/v1/tasks/selfcheck.xlsx?year=twenty", analyst, nil)
	c.do(401, "GET", "/v1/tasks/selfcheck.xlsx", "", nil)

	// Change notifications, to the end of what is there.
	c.do(200, "GET", "/v1/changes?follow=false", analyst, nil)
	c.doInvalid(400, "GET", "/v1/changes?follow=maybe", analyst, nil)

	// Exports.
	exported := c.json(c.do(201, "POST", "/v1/exports", analyst, map[string]any{"formats": []string{"csv", "parquet"}, "tables": []string{"indicators", "stored_events"}}))
	exportID, _ := exported["id"].(string)
	c.do(200, "GET", "/v1/exports/"+exportID+"/manifest.json", analyst, nil)
	c.do(200, "GET", "/v1/exports/"+exportID+"/indicators.parquet", analyst, nil)
	if r := c.do(200, "GET", "/v1/exports/"+exportID+"/read_csv.sql", analyst, nil); !bytes.Contains(r.Body, []byte(`TRY_CAST("value" AS DECIMAL(38,18))`)) {
		t.Errorf("read_csv.sql does not type the CSV files: %s", clip(r.Body))
	}
	c.do(404, "GET", "/v1/exports/"+exportID+"/secret.txt", analyst, nil)
	c.do(200, "GET", "/v1/exports/indicators.csv", analyst, nil)
	c.do(403, "GET", "/v1/exports/indicators.csv", kewei, nil)
	c.do(403, "POST", "/v1/exports", kewei, map[string]any{"formats": []string{"csv"}})
	c.do(403, "GET", "/v1/exports/"+exportID+"/manifest.json", kewei, nil)
	c.do(200, "GET", "/v1/exports/stored_events.jsonl?position=2", analyst, nil)
	c.do(404, "GET", "/v1/exports/no_such_table.csv", analyst, nil)
	c.do(200, "GET", "/v1/exports", analyst, nil)
	c.doInvalid(400, "POST", "/v1/exports", analyst, map[string]any{"formats": []string{"xls"}})

	// Jobs: a rebuild, an export, an import and a replay run as jobs; the
	// record, its stream (which ends with the job), the list, a cancel.
	async := []string{"Prefer", "respond-async"}
	rebuild := c.json(c.do(202, "POST", "/v1/admin/rebuild?reason="+url.QueryEscape("核对读模型"), adminToken, nil, async...))
	jobID, _ := rebuild["id"].(string)
	c.do(200, "GET", "/v1/jobs/"+jobID+"/events", adminToken, nil)
	if j := c.json(c.do(200, "GET", "/v1/jobs/"+jobID, adminToken, nil)); j["state"] != "succeeded" || j["reason"] != "核对读模型" {
		t.Errorf("rebuild job after its stream ended: %v", j)
	}
	c.do(202, "POST", "/v1/jobs/"+jobID+"/cancel", adminToken, nil)
	c.do(404, "GET", "/v1/jobs/"+jobID, analyst, nil)
	c.do(404, "GET", "/v1/jobs/"+jobID+"/events", analyst, nil)
	c.do(404, "POST", "/v1/jobs/"+jobID+"/cancel", analyst, nil)
	c.do(202, "POST", "/v1/exports", analyst, map[string]any{"formats": []string{"csv"}, "tables": []string{"tasks"}}, async...)
	c.do(202, "POST", "/v1/imports?format=tsv", office, tsv, append(ct, async...)...)
	replay := c.json(c.do(202, "POST", "/v1/replays", analyst, map[string]any{"position": 2}))
	c.do(200, "GET", "/v1/jobs/"+replay["id"].(string)+"/events", analyst, nil)
	c.do(200, "GET", "/v1/jobs?state=succeeded", analyst, nil)
	c.do(200, "GET", "/v1/jobs", office, nil)
	c.do(400, "POST", "/v1/replays", analyst, map[string]any{})
	c.do(403, "POST", "/v1/replays", kewei, map[string]any{"position": 2})

	c.requireCovered()
}

// waitForReadModels waits until the read models reach the log's end.
func waitForReadModels(t *testing.T, s *testServer) {
	t.Helper()
	want := s.lastPosition()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var cp struct{ Position uint64 }
		r := s.do("GET", "/v1/status", adminToken, nil)
		_ = json.Unmarshal(r.Body, &cp)
		if cp.Position >= want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("read models at %d, log at %d", cp.Position, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestOpenAPIRateLimitAndInternalError drives the two problem statuses a
// default test server never answers: 429 from the per-token limit, and 500
// from a store that fails.
func TestOpenAPIRateLimitAndInternalError(t *testing.T) {
	doc := loadOpenAPI(t)
	cfg := ServeConfig{DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", Replicas: 1, AdminToken: adminToken, RatePerSecond: 0.01, RateBurst: 3}
	srv, err := StartServer(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	s := &testServer{Server: srv, t: t, base: "http://" + srv.Addr()}
	c := newSpecClient(t, s, doc)

	analyst, _ := c.token("分析员", "analyst")
	for range 3 {
		c.do(200, "GET", "/v1/tasks", analyst, nil)
	}
	limited := c.do(429, "GET", "/v1/tasks", analyst, nil)
	if limited.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	c.do(429, "POST", "/v1/tasks", analyst, map[string]any{"year": 2022, "title": "限流", "lead_department": "区科委"})

	// The token store fails: authentication is an internal error, and its
	// text stays in the log.
	office, _ := c.token("考评办", "office")
	if err := srv.tokens.Close(); err != nil {
		t.Fatal(err)
	}
	r := c.do(500, "GET", "/v1/tasks", office, nil)
	if p := c.json(r); p["detail"] != "internal error" || p["code"] != "internal" {
		t.Errorf("internal problem %v", p)
	}
}

// figureRow is one CSV row of a figure sheet, in importer.FigureColumns order.
func figureRow(cells map[string]string) string {
	out := make([]string, len(importer.FigureColumns))
	for i, c := range importer.FigureColumns {
		out[i] = cells[c]
	}
	return strings.Join(out, ",")
}
