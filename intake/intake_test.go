package intake_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"kpitrail/app"
	"kpitrail/auth"
	"kpitrail/domain"
	"kpitrail/eventstore"
	"kpitrail/intake"
	"kpitrail/internal/natstest"
)

type fixture struct {
	// skew moves the token store's clock forward, to expire tokens.
	skew   *atomic.Int64
	nc     *nats.Conn
	store  *eventstore.JetStream
	tokens *auth.Tokens
	office string
	audit  string
}

func setup(t *testing.T, wrap func(app.Store) app.Store) *fixture {
	t.Helper()
	srv := natstest.RunEmbedded(t)
	nc := srv.Connect(t)
	store, err := eventstore.OpenJetStream(context.Background(), nc, eventstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	skew := new(atomic.Int64)
	tokens, err := auth.OpenTokens(filepath.Join(t.TempDir(), "auth.db"), auth.TokenConfig{
		Now: func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tokens.Close() })
	var s app.Store = store
	if wrap != nil {
		s = wrap(store)
	}
	svc := app.NewService(s)
	svc.Authorize = auth.Authorizer(svc.Load)
	in, err := intake.Start(context.Background(), intake.Config{Conn: nc, Service: svc, Auth: tokens,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	admin := auth.Principal{TokenID: "bootstrap", Name: "admin", Role: auth.RoleAdmin}
	office, _ := tokens.Issue(context.Background(), admin, auth.IssueRequest{Name: "考评办", Role: auth.RoleOffice})
	auditor, _ := tokens.Issue(context.Background(), admin, auth.IssueRequest{Name: "审计员", Role: auth.RoleAuditor})
	return &fixture{skew: skew, nc: nc, store: store, tokens: tokens, office: office.Token, audit: auditor.Token}
}

type reply struct {
	status int
	body   map[string]any
}

func (f *fixture) request(t *testing.T, command, token string, body string, headers ...string) reply {
	t.Helper()
	msg := nats.NewMsg(intake.SubjectPrefix + command)
	msg.Data = []byte(body)
	if token != "" {
		msg.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		msg.Header.Set(headers[i], headers[i+1])
	}
	res, err := f.nc.RequestMsg(msg, 10*time.Second)
	if err != nil {
		t.Fatalf("%s: %v", command, err)
	}
	status, _ := strconv.Atoi(res.Header.Get(intake.StatusHeader))
	var m map[string]any
	if err := json.Unmarshal(res.Data, &m); err != nil {
		t.Fatalf("reply is not JSON: %s", res.Data)
	}
	return reply{status: status, body: m}
}

func (f *fixture) last(t *testing.T) uint64 {
	p, err := f.store.LastPosition(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCommandsOverNATS(t *testing.T) {
	f := setup(t, nil)
	r := f.request(t, "task.register", f.office, `{"task_id":"two-zones","year":2022,"dimension":"高效率 落实","title":"“两区”建设","lead_department":"区商务局"}`)
	if r.status != 200 || r.body["version"].(float64) != 1 {
		t.Fatalf("register: %d %v", r.status, r.body)
	}
	f.request(t, "indicator.define", f.office, `{"indicator_id":"projects","task_id":"two-zones","name":"两区入库项目","unit":"个","direction":"higher"}`)
	fig := `{"indicator_id":"projects","window":{"year":2022},"value":"169","quality":"final","source":{"kind":"self_reported"}}`
	first := f.request(t, "indicator.report_figure", f.office, fig, "Idempotency-Key", "k1")
	if first.status != 200 {
		t.Fatalf("report: %d %v", first.status, first.body)
	}
	before := f.last(t)
	again := f.request(t, "indicator.report_figure", f.office, fig, "Idempotency-Key", "k1")
	if again.body["event_ids"].([]any)[0] != first.body["event_ids"].([]any)[0] || f.last(t) != before {
		t.Fatal("a retried request was applied twice")
	}
	envs, _ := f.store.Load(context.Background(), domain.AggregateRef{Type: "indicator", ID: "projects"})
	if last := envs[len(envs)-1]; last.Source != "nats" || last.Actor != "office:考评办" {
		t.Fatalf("event not stamped by intake: source %q actor %q", last.Source, last.Actor)
	}
}

func TestRefusedRequestsAppendNothing(t *testing.T) {
	f := setup(t, nil)
	f.request(t, "task.register", f.office, `{"task_id":"t","year":2022,"title":"x","lead_department":"y"}`)
	before := f.last(t)
	cases := []struct {
		name, command, token, body string
		status                     int
		field                      string
	}{
		{"no token", "task.record_narrative", "", `{"task_id":"t","items":["a"]}`, 401, ""},
		{"bad token", "task.record_narrative", "kpt_nope", `{"task_id":"t","items":["a"]}`, 401, ""},
		{"read-only role", "task.record_narrative", f.audit, `{"task_id":"t","items":["a"]}`, 403, ""},
		{"unknown command", "task.explode", f.office, `{}`, 404, ""},
		{"malformed JSON", "task.record_narrative", f.office, `{"task_id":`, 400, "body"},
		{"unknown field", "task.record_narrative", f.office, `{"task_id":"t","items":["a"],"actor":"x"}`, 400, "actor"},
		{"invalid UTF-8", "task.record_narrative", f.office, "{\"task_id\":\"t\",\"items\":[\"\xff\"]}", 400, "body"},
		{"missing task", "task.record_narrative", f.office, `{"task_id":"missing","items":["a"]}`, 404, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := f.request(t, tc.command, tc.token, tc.body)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %v", r.status, tc.status, r.body)
			}
			if tc.field != "" && r.body["field"] != tc.field {
				t.Fatalf("field %v, want %s", r.body["field"], tc.field)
			}
			if f.last(t) != before {
				t.Fatal("refused request appended")
			}
		})
	}
}

// An expired token is refused over NATS as over HTTP: 401, the problem
// naming the token's expiry, nothing appended.
func TestExpiredTokenOverNATS(t *testing.T) {
	f := setup(t, nil)
	admin := auth.Principal{TokenID: "bootstrap", Name: "admin", Role: auth.RoleAdmin}
	short, err := f.tokens.Issue(context.Background(), admin, auth.IssueRequest{Name: "临时", Role: auth.RoleOffice, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	body := `{"task_id":"t","year":2022,"title":"x","lead_department":"y"}`
	if r := f.request(t, "task.register", short.Token, body); r.status != 200 {
		t.Fatalf("a live token was refused: %d %v", r.status, r.body)
	}
	before := f.last(t)
	f.skew.Store(int64(time.Hour + time.Second))
	r := f.request(t, "task.record_narrative", short.Token, `{"task_id":"t","items":["a"]}`)
	if r.status != 401 || r.body["field"] != "token" || r.body["rule"] != "expired" {
		t.Fatalf("want 401 naming the token's expiry, got %d %v", r.status, r.body)
	}
	if d, _ := r.body["detail"].(string); !strings.Contains(d, "expired at "+short.ExpiresAt.Format(time.RFC3339)) {
		t.Fatalf("the problem does not say when the token expired: %q", d)
	}
	if f.last(t) != before {
		t.Fatal("an expired token appended")
	}
}

// failingStore fails every append as if the store were unreachable.
type failingStore struct{ app.Store }

func (failingStore) Append(context.Context, domain.AggregateRef, uint64, domain.Meta, ...domain.Pending) ([]domain.Envelope, error) {
	return nil, errors.New("store unreachable")
}

func TestTransientFailuresRetryThenPoisonQueue(t *testing.T) {
	f := setup(t, func(s app.Store) app.Store { return failingStore{s} })
	poisoned, err := f.nc.SubscribeSync(intake.PoisonSubject)
	if err != nil {
		t.Fatal(err)
	}
	r := f.request(t, "task.register", f.office, `{"task_id":"t","year":2022,"title":"x","lead_department":"y"}`)
	if r.status != 500 || r.body["code"] != "internal" {
		t.Fatalf("want a 500 problem after retries, got %d %v", r.status, r.body)
	}
	if _, err := poisoned.NextMsg(5 * time.Second); err != nil {
		t.Fatalf("the failed command did not reach the poison queue: %v", err)
	}
}

// TestRepliesGoToInboxesOnly sends a command whose reply subject is an
// event subject, as a requester that wants kpitrail to publish there for it
// would. The command is applied, but nothing is published on that subject:
// on a cluster where the intake shares kpitrail's NATS user this check is
// all that stands between a requester and the event log.
func TestRepliesGoToInboxesOnly(t *testing.T) {
	f := setup(t, nil)
	target := "kpitrail.events.task.injected"
	landed, err := f.nc.SubscribeSync(target)
	if err != nil {
		t.Fatal(err)
	}
	msg := nats.NewMsg(intake.SubjectPrefix + "task.register")
	msg.Reply = target
	msg.Data = []byte(`{"task_id":"inject","year":2022,"title":"乡村振兴战略","lead_department":"区农业农村局"}`)
	msg.Header.Set("Authorization", "Bearer "+f.office)
	if err := f.nc.PublishMsg(msg); err != nil {
		t.Fatal(err)
	}
	// A normal request after it is answered, so the first has been handled.
	if r := f.request(t, "task.register", f.office, `{"task_id":"after","year":2022,"title":"乡村振兴战略","lead_department":"区农业农村局"}`); r.status != 200 {
		t.Fatalf("request with an inbox: %d %v", r.status, r.body)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		events, err := f.store.Load(context.Background(), domain.AggregateRef{Type: domain.AggregateTask, ID: "inject"})
		if err != nil {
			t.Fatal(err)
		}
		if len(events) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the command with a foreign reply subject was not applied")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if m, err := landed.NextMsg(300 * time.Millisecond); err == nil {
		t.Fatalf("the intake answered on %s: %s", target, m.Data)
	}
}

// The expected version travels as If-Match, HTTP's name and syntax, or as
// Expected-Version; a stale one is a 409 naming the current version, and
// the two headers must agree when both are sent.
func TestIfMatchOverNATS(t *testing.T) {
	f := setup(t, nil)
	f.request(t, "task.register", f.office, `{"task_id":"t","year":2022,"title":"x","lead_department":"y"}`)
	narrative := `{"task_id":"t","items":["a"]}`
	for _, h := range [][]string{{"If-Match", `"1"`}, {"If-Match", `W/"2"`}, {"Expected-Version", "3"}, {"If-Match", "4", "Expected-Version", "4"}} {
		if r := f.request(t, "task.record_narrative", f.office, narrative, h...); r.status != 200 {
			t.Fatalf("%v: %d %v", h, r.status, r.body)
		}
	}
	before := f.last(t)
	for _, tc := range []struct {
		headers []string
		status  int
		field   string
	}{
		{[]string{"If-Match", `"2"`}, 409, ""},
		{[]string{"Expected-Version", "1"}, 409, ""},
		{[]string{"If-Match", "five"}, 400, "If-Match"},
		{[]string{"If-Match", "5", "Expected-Version", "4"}, 400, "Expected-Version"},
	} {
		r := f.request(t, "task.record_narrative", f.office, narrative, tc.headers...)
		if r.status != tc.status || (tc.field != "" && r.body["field"] != tc.field) {
			t.Fatalf("%v: %d %v, want %d naming %q", tc.headers, r.status, r.body, tc.status, tc.field)
		}
		if tc.status == 409 && r.body["current_version"] != float64(5) {
			t.Fatalf("%v: a conflict without the current version 5: %v", tc.headers, r.body)
		}
		if f.last(t) != before {
			t.Fatalf("%v: a refused request appended", tc.headers)
		}
	}
}
