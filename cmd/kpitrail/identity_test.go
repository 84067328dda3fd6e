package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"kpitrail/demo"
	"kpitrail/natsauth"
)

// startConfiguredServer is startTestServer with changes to the serve
// configuration.
func startConfiguredServer(t *testing.T, change func(*ServeConfig)) *testServer {
	t.Helper()
	cfg := ServeConfig{DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0", Replicas: 1, AdminToken: adminToken}
	change(&cfg)
	srv, err := StartServer(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return &testServer{Server: srv, t: t, base: "http://" + srv.Addr()}
}

// listenAsDepartment exposes the embedded server with one department
// identity, so a test sends intake requests as a department's system does.
func listenAsDepartment(t *testing.T, c *ServeConfig) {
	c.NATSListen, c.NATSDepartments = "127.0.0.1:"+freePort(t), []string{"dept"}
}

// departmentConn connects as the department listenAsDepartment configured.
func (s *testServer) departmentConn(t *testing.T) (*nats.Conn, error) {
	return nats.Connect("nats://"+s.cfg.NATSListen, deptKey(t, s.cfg.DataDir, "dept"), nats.CustomInboxPrefix(natsauth.InboxPrefix("dept")))
}

// problemOf checks that r is a problem document with a status, field and
// rule, and returns it.
func problemOf(t *testing.T, r response, status int, field, rule string) map[string]any {
	t.Helper()
	if r.Status != status || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/problem+json") {
		t.Fatalf("want a %d problem, got %d %s: %s", status, r.Status, r.Header.Get("Content-Type"), r.Body)
	}
	p := r.json(t)
	if f, _ := p["field"].(string); f != field {
		t.Fatalf("want field %q rule %q, got %v", field, rule, p)
	}
	if r, _ := p["rule"].(string); r != rule {
		t.Fatalf("want field %q rule %q, got %v", field, rule, p)
	}
	return p
}

func parseTimeField(t *testing.T, m map[string]any, key string) time.Time {
	t.Helper()
	s, _ := m[key].(string)
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("%s: %q is not a time: %v", key, s, err)
	}
	return v
}

func TestTokenExpiry(t *testing.T) {
	s := startConfiguredServer(t, func(c *ServeConfig) {
		c.TokenTTL, c.TokenMaxTTL = 24*time.Hour, 48*time.Hour
		listenAsDepartment(t, c)
	})

	// The server's default lifetime applies when none is asked for.
	issued := time.Now()
	m := s.mustDo(http.StatusCreated, "POST", "/v1/tokens", adminToken, map[string]any{"name": "分析员", "role": "analyst"})
	if exp := parseTimeField(t, m, "expires_at"); exp.Sub(issued) < 24*time.Hour-time.Minute || exp.Sub(issued) > 24*time.Hour+time.Minute {
		t.Fatalf("default lifetime: expires at %s, issued at %s", exp, issued)
	}

	// Past the maximum: refused, naming the field and the rule, nothing stored.
	r := s.do("POST", "/v1/tokens", adminToken, map[string]any{"name": "长期", "role": "analyst", "expires_in": 72 * 3600})
	problemOf(t, r, http.StatusBadRequest, "expires_in", "max")
	list := s.mustDo(http.StatusOK, "GET", "/v1/tokens", adminToken, nil)["tokens"].([]any)
	if len(list) != 1 {
		t.Fatalf("a refused token was stored: %v", list)
	}

	// A token past its expiry: 401 naming the expiry, on HTTP and on the
	// NATS intake.
	m = s.mustDo(http.StatusCreated, "POST", "/v1/tokens", adminToken, map[string]any{"name": "临时", "role": "office", "expires_in": 1})
	short, exp := m["token"].(string), parseTimeField(t, m, "expires_at")
	s.mustDo(http.StatusOK, "GET", "/v1/tasks", short, nil)
	time.Sleep(time.Until(exp) + 50*time.Millisecond)
	p := problemOf(t, s.do("GET", "/v1/tasks", short, nil), http.StatusUnauthorized, "token", "expired")
	if d := p["detail"].(string); !strings.Contains(d, "expired at "+exp.UTC().Format(time.RFC3339)) {
		t.Fatalf("the problem does not say when the token expired: %q", d)
	}
	before := s.lastPosition()
	problemOf(t, s.do("POST", "/v1/tasks", short, map[string]any{"task_id": "late", "year": 2022, "title": "x", "lead_department": "y"}),
		http.StatusUnauthorized, "token", "expired")
	nc, err := s.departmentConn(t)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	msg := nats.NewMsg("kpitrail.cmd.task.register")
	msg.Data = []byte(`{"task_id":"late","year":2022,"title":"x","lead_department":"y"}`)
	msg.Header.Set("Authorization", "Bearer "+short)
	res, err := nc.RequestMsg(msg, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if res.Header.Get("Kpitrail-Status") != "401" || !strings.Contains(string(res.Data), `"rule":"expired"`) {
		t.Fatalf("NATS intake with an expired token: %s %s", res.Header.Get("Kpitrail-Status"), res.Data)
	}
	if s.lastPosition() != before {
		t.Fatal("an expired token appended")
	}
	// The list says which tokens have expired.
	for _, x := range s.mustDo(http.StatusOK, "GET", "/v1/tokens", adminToken, nil)["tokens"].([]any) {
		tok := x.(map[string]any)
		if tok["expired"] != (tok["name"] == "临时") {
			t.Fatalf("expired flag wrong: %v", tok)
		}
	}
}

func TestTokenNamesAndRotation(t *testing.T) {
	s := startTestServer(t)
	const name = "区应急局填报员"
	body := map[string]any{"name": name, "role": "reporter", "departments": []string{"区应急局"}}
	first := s.mustDo(http.StatusCreated, "POST", "/v1/tokens", adminToken, body)

	// A name held by a live token is refused: 409 naming the field.
	problemOf(t, s.do("POST", "/v1/tokens", adminToken, body), http.StatusConflict, "name", "in_use")

	// Rotation issues a new token and revokes the old one at once.
	body["rotate"] = true
	second := s.mustDo(http.StatusCreated, "POST", "/v1/tokens", adminToken, body)
	rotated := second["rotated"].([]any)
	if len(rotated) != 1 || rotated[0].(map[string]any)["token_id"] != first["token_id"] {
		t.Fatalf("rotation did not name the old token: %v", second)
	}
	problemOf(t, s.do("GET", "/v1/tasks", first["token"].(string), nil), http.StatusUnauthorized, "", "")
	s.mustDo(http.StatusOK, "GET", "/v1/tasks", second["token"].(string), nil)

	// With a grace period the old token keeps working until it ends.
	body["rotate_grace"] = 3600
	third := s.mustDo(http.StatusCreated, "POST", "/v1/tokens", adminToken, body)
	s.mustDo(http.StatusOK, "GET", "/v1/tasks", second["token"].(string), nil)
	s.mustDo(http.StatusOK, "GET", "/v1/tasks", third["token"].(string), nil)
	ends := parseTimeField(t, third["rotated"].([]any)[0].(map[string]any), "ends_at")
	if d := time.Until(ends); d < 59*time.Minute || d > time.Hour {
		t.Fatalf("grace: the old token ends in %s", d)
	}
	var replaced int
	for _, x := range s.mustDo(http.StatusOK, "GET", "/v1/tokens", adminToken, nil)["tokens"].([]any) {
		tok := x.(map[string]any)
		switch tok["token_id"] {
		case first["token_id"]:
			if tok["revoked_at"] == nil || tok["replaced_by"] != second["token_id"] {
				t.Fatalf("first token after rotation: %v", tok)
			}
			replaced++
		case second["token_id"]:
			if tok["revoked_at"] != nil || tok["replaced_by"] != third["token_id"] || !parseTimeField(t, tok, "expires_at").Equal(ends) {
				t.Fatalf("second token after a graceful rotation: %v", tok)
			}
			replaced++
		}
	}
	if replaced != 2 {
		t.Fatalf("rotated tokens not listed: %d", replaced)
	}

	// rotate_grace without rotate is a mistake, not a silent no-op.
	problemOf(t, s.do("POST", "/v1/tokens", adminToken, map[string]any{"name": "另一个", "role": "analyst", "rotate_grace": 60}),
		http.StatusBadRequest, "rotate_grace", "requires")

	// A revoked name is free again.
	s.mustDo(http.StatusNoContent, "DELETE", "/v1/tokens/"+second["token_id"].(string), adminToken, nil)
	s.mustDo(http.StatusNoContent, "DELETE", "/v1/tokens/"+third["token_id"].(string), adminToken, nil)
	delete(body, "rotate")
	delete(body, "rotate_grace")
	s.mustDo(http.StatusCreated, "POST", "/v1/tokens", adminToken, body)
}

func TestTokenRotationFromTheCLI(t *testing.T) {
	s := startTestServer(t)
	args := []string{"token", "issue", "--json", "--name", "区科委填报员", "--role", "reporter", "--department", "区科委", "--expires-in", "30d"}
	out, err := s.runCLI(adminToken, args...)
	if err != nil || !strings.Contains(out, `"expires_at"`) {
		t.Fatalf("token issue: %v\n%s", err, out)
	}
	if out, err = s.runCLI(adminToken, args...); err == nil || !strings.Contains(err.Error()+out, "name") {
		t.Fatalf("a second token under one name: %v\n%s", err, out)
	}
	if out, err = s.runCLI(adminToken, append(args, "--rotate", "--grace", "10m")...); err != nil || !strings.Contains(out, `"rotated"`) {
		t.Fatalf("token issue --rotate: %v\n%s", err, out)
	}
	if out, err = s.runCLI(adminToken, append(args[:len(args)-2], "--expires-in", "400d", "--rotate")...); err == nil || !strings.Contains(err.Error()+out, "expires_in") {
		t.Fatalf("past the maximum lifetime: %v\n%s", err, out)
	}
}

// Two tokens under one name (a rotation with a grace period) stamp one
// actor and two token ids, through every path that writes: HTTP, the
// NATS intake, an import. The ids are in the log, the audit trail and the
// CLI's table, and the chains still verify.
func TestEventsCarryTheTokenID(t *testing.T) {
	s := startConfiguredServer(t, func(c *ServeConfig) { listenAsDepartment(t, c) })
	body := map[string]any{"name": "考评办", "role": "office"}
	a := s.mustDo(http.StatusCreated, "POST", "/v1/tokens", adminToken, body)
	body["rotate"], body["rotate_grace"] = true, 3600
	b := s.mustDo(http.StatusCreated, "POST", "/v1/tokens", adminToken, body)
	tokA, idA, tokB, idB := a["token"].(string), a["token_id"].(string), b["token"].(string), b["token_id"].(string)

	s.mustDo(http.StatusCreated, "POST", "/v1/tasks", tokA, map[string]any{"task_id": "safety", "year": 2022, "title": "安全生产", "lead_department": "区应急局"})
	s.mustDo(http.StatusCreated, "POST", "/v1/tasks/safety/indicators", tokA, map[string]any{"indicator_id": "accidents", "name": "生产安全事故", "unit": "起", "direction": "lower", "formula": "cap"})
	first := s.mustDo(http.StatusCreated, "POST", "/v1/indicators/accidents/figures", tokA, figureBody("13"))
	s.mustDo(http.StatusCreated, "POST", "/v1/indicators/accidents/figures/"+first["event_ids"].([]any)[0].(string)+"/corrections", tokB,
		map[string]any{"value": "12", "reason": "统计口径更正"})
	nc, err := s.departmentConn(t)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	msg := nats.NewMsg("kpitrail.cmd.task.record_narrative")
	msg.Data = []byte(`{"task_id":"safety","items":["1. 全年未发生较大事故。"]}`)
	msg.Header.Set("Authorization", "Bearer "+tokB)
	if res, err := nc.RequestMsg(msg, 10*time.Second); err != nil || res.Header.Get("Kpitrail-Status") != "200" {
		t.Fatalf("intake: %v %v", err, res)
	}
	waitForReadModels(t, s)

	// The log: every event of a token-caused command carries its token id.
	page := s.mustDo(http.StatusOK, "GET", "/v1/events?after=0&limit=100", adminToken, nil)
	byName := map[string]string{}
	for _, x := range page["events"].([]any) {
		e := x.(map[string]any)
		if e["actor"] != "office:考评办" {
			continue
		}
		byName[e["name"].(string)+"/"+e["source"].(string)], _ = e["actor_token_id"].(string)
	}
	want := map[string]string{"task.registered/api": idA, "indicator.defined/api": idA, "indicator.figure_reported/api": idA,
		"indicator.figure_corrected/api": idB, "task.narrative_recorded/nats": idB}
	for k, id := range want {
		if byName[k] != id {
			t.Errorf("%s: token id %q, want %q (all: %v)", k, byName[k], id, byName)
		}
	}

	// The audit trail tells the two tokens apart.
	changes := s.mustDo(http.StatusOK, "GET", "/v1/indicators/accidents/audit", adminToken, nil)["changes"].([]any)
	var ids []string
	for _, x := range changes {
		c := x.(map[string]any)
		if c["actor"] != "office:考评办" {
			t.Fatalf("audit trail actor: %v", c)
		}
		id, _ := c["actor_token_id"].(string)
		ids = append(ids, id)
	}
	if len(ids) < 2 || ids[0] != idA || ids[len(ids)-1] != idB {
		t.Fatalf("audit trail token ids %v, want %s first and %s last", ids, idA, idB)
	}
	out, err := s.runCLI(adminToken, "audit-trail", "accidents")
	if err != nil || !strings.Contains(out, "令牌") || !strings.Contains(out, idA) || !strings.Contains(out, idB) {
		t.Fatalf("CLI audit trail lacks the token ids: %v\n%s", err, out)
	}

	// An import is attributed to the importing token.
	r := s.do("POST", "/v1/imports?format=tsv", tokB, demo.SeedTable(), "Content-Type", "text/tab-separated-values")
	if r.Status != http.StatusCreated {
		t.Fatalf("import: %d %s", r.Status, r.Body)
	}
	after, imported := uint64(page["next"].(float64)), 0
	for _, x := range s.mustDo(http.StatusOK, "GET", "/v1/events?limit=1000&after="+strconv.FormatUint(after, 10), adminToken, nil)["events"].([]any) {
		e := x.(map[string]any)
		if !strings.HasPrefix(e["source"].(string), "import:") {
			continue
		}
		if imported++; e["actor_token_id"] != idB {
			t.Fatalf("imported event without the importer's token id: %v", e)
		}
	}
	if imported == 0 {
		t.Fatal("no imported events to check")
	}

	// What the bootstrap token does is attributed to it, as any token's
	// work is: the tokens it issued, and the snapshot it takes.
	for _, x := range s.mustDo(http.StatusOK, "GET", "/v1/tokens", adminToken, nil)["tokens"].([]any) {
		if tok := x.(map[string]any); tok["created_by"] != "admin:admin" || tok["created_by_token_id"] != "bootstrap" {
			t.Fatalf("token not attributed to the bootstrap token: %v", tok)
		}
	}
	snap := s.mustDo(http.StatusCreated, "POST", "/v1/snapshots", adminToken, map[string]any{"year": 2022})
	var snapEvent map[string]any
	for _, x := range s.mustDo(http.StatusOK, "GET", "/v1/events?limit=1000&after="+strconv.FormatUint(after, 10), adminToken, nil)["events"].([]any) {
		if e := x.(map[string]any); e["id"] == snap["event_id"] {
			snapEvent = e
		}
	}
	if snapEvent == nil || snapEvent["actor"] != "admin:admin" || snapEvent["actor_token_id"] != "bootstrap" {
		t.Fatalf("snapshot event: %v", snapEvent)
	}

	// The chains hold with the token ids hashed in.
	if rep := s.mustDo(http.StatusOK, "GET", "/v1/audit/verify", adminToken, nil); len(rep["findings"].([]any)) != 0 {
		t.Fatalf("verify: %v", rep)
	}
}
