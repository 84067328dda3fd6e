package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"kpitrail/app"
	"kpitrail/auth"
	"kpitrail/domain"
	"kpitrail/eventstore"
	"kpitrail/intake"
	"kpitrail/tracing"
)

// tracedServer is a real serve whose spans go to an in-memory exporter.
func tracedServer(t *testing.T, change func(*ServeConfig)) (*testServer, *tracetest.InMemoryExporter) {
	t.Helper()
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	s := startConfiguredServer(t, func(c *ServeConfig) {
		c.tracer = tp
		if change != nil {
			change(c)
		}
	})
	return s, exp
}

// spanWhere waits for an ended span that satisfies match; the HTTP span
// ends after the client has its response, the projection's when the
// runner commits.
func spanWhere(t *testing.T, exp *tracetest.InMemoryExporter, what string, match func(tracetest.SpanStub) bool) tracetest.SpanStub {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		for _, s := range exp.GetSpans() {
			if match(s) {
				return s
			}
		}
		if time.Now().After(deadline) {
			var names []string
			for _, s := range exp.GetSpans() {
				names = append(names, fmt.Sprintf("%s (parent %s)", s.Name, s.Parent.SpanID()))
			}
			t.Fatalf("no span %s among %d: %s", what, len(names), strings.Join(names, ", "))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func childOf(parent trace.SpanContext, name string) func(tracetest.SpanStub) bool {
	return func(s tracetest.SpanStub) bool {
		return s.Name == name && s.Parent.SpanID() == parent.SpanID() && s.SpanContext.TraceID() == parent.TraceID()
	}
}

func attr(s tracetest.SpanStub, key attribute.Key) attribute.Value {
	for _, kv := range s.Attributes {
		if kv.Key == key {
			return kv.Value
		}
	}
	return attribute.Value{}
}

// followWrite checks the spans below an entry span (HTTP or NATS): the
// command, its authorization, the append, and the projection of what the
// append stored, each the child of the one before it, in one trace.
func followWrite(t *testing.T, s *testServer, exp *tracetest.InMemoryExporter, entry tracetest.SpanStub, command string, position uint64) {
	t.Helper()
	cmd := spanWhere(t, exp, "command under "+entry.Name, childOf(entry.SpanContext, "command "+command))
	if got := attr(cmd, tracing.AttrPosition).AsInt64(); got != int64(position) {
		t.Errorf("command span position %d, want %d", got, position)
	}
	spanWhere(t, exp, "authorize under the command", childOf(cmd.SpanContext, "authorize"))
	appendSpan := spanWhere(t, exp, "append under the command", childOf(cmd.SpanContext, "append"))
	if appendSpan.SpanKind != trace.SpanKindProducer {
		t.Errorf("append span kind %v", appendSpan.SpanKind)
	}
	if got := attr(appendSpan, tracing.AttrPosition).AsInt64(); got != int64(position) {
		t.Errorf("append span position %d, want %d", got, position)
	}

	// The stored message carries the append span's context, which is how
	// the asynchronous projection finds the write's trace.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	raw, err := s.sys.Store.Stream().GetMsg(ctx, position)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("00-%s-%s-01", appendSpan.SpanContext.TraceID(), appendSpan.SpanContext.SpanID())
	if got := raw.Header.Get("traceparent"); got != want {
		t.Errorf("stored message at %d: traceparent %q, want %q", position, got, want)
	}

	project := spanWhere(t, exp, "project under the append", childOf(appendSpan.SpanContext, "project"))
	if got := attr(project, tracing.AttrPosition).AsInt64(); got != int64(position) {
		t.Errorf("project span position %d, want %d", got, position)
	}
	if got := attr(project, "messaging.destination.name").AsString(); got != raw.Subject {
		t.Errorf("project span destination %q, want %q", got, raw.Subject)
	}
	if project.EndTime.Before(appendSpan.EndTime) {
		t.Errorf("projection ended %v before its append did", appendSpan.EndTime.Sub(project.EndTime))
	}
}

// TestTraceFollowsAnHTTPWrite sends one write over HTTP as part of a
// caller's trace, against a real serve (embedded JetStream, real SQLite
// read models), and follows it: the HTTP span continues the caller's
// trace, the command, authorization and append are its descendants, and
// the read models' projection of the stored message is the append's
// child, in the same trace.
func TestTraceFollowsAnHTTPWrite(t *testing.T) {
	s, exp := tracedServer(t, nil)
	office := s.token("考评办", "office")
	s.mustDo(201, "POST", "/v1/tasks?wait=true", office, map[string]any{"task_id": "rural", "year": 2022, "title": "乡村振兴战略", "lead_department": "区农业农村局"})

	caller := "4bf92f3577b34da6a3ce929d0e0e4736"
	res := s.mustDo(201, "POST", "/v1/tasks/rural/indicators?wait=true", office,
		map[string]any{"indicator_id": "farmland", "name": "新建高标准农田", "unit": "亩", "direction": "higher"},
		"traceparent", "00-"+caller+"-00f067aa0ba902b7-01", "X-Correlation-Id", "批次-2022")
	position := uint64(res["position"].(float64))

	httpSpan := spanWhere(t, exp, "for the HTTP request", func(s tracetest.SpanStub) bool {
		return s.Name == "POST /v1/tasks/{id}/indicators" && s.SpanContext.TraceID().String() == caller
	})
	if httpSpan.Parent.SpanID().String() != "00f067aa0ba902b7" || !httpSpan.Parent.IsRemote() {
		t.Errorf("HTTP span's parent %v, want the caller's span", httpSpan.Parent)
	}
	if httpSpan.SpanKind != trace.SpanKindServer || attr(httpSpan, "http.route").AsString() != "/v1/tasks/{id}/indicators" ||
		attr(httpSpan, "http.response.status_code").AsInt64() != 201 {
		t.Errorf("HTTP span: kind %v, attributes %v", httpSpan.SpanKind, httpSpan.Attributes)
	}
	followWrite(t, s, exp, httpSpan, "indicator.define", position)
	cmd := spanWhere(t, exp, "the command", childOf(httpSpan.SpanContext, "command indicator.define"))
	if got := attr(cmd, tracing.AttrCorrelationID).AsString(); got != "批次-2022" {
		t.Errorf("command span correlation id %q", got)
	}
	// ?wait=true answered once the read models had the write: its
	// projection happened inside the request.
	project := spanWhere(t, exp, "project", func(s tracetest.SpanStub) bool {
		return s.Name == "project" && s.SpanContext.TraceID().String() == caller
	})
	if project.EndTime.After(httpSpan.EndTime) {
		t.Errorf("projection ended after the ?wait=true request did")
	}

	// A refused write is a command span with the refusal's code, not a
	// failed span, and nothing is appended.
	s.mustDo(409, "POST", "/v1/tasks/rural/indicators", office,
		map[string]any{"indicator_id": "farmland", "name": "新建高标准农田", "unit": "亩", "direction": "higher"}, "If-Match", `"7"`)
	refused := spanWhere(t, exp, "refused command", func(s tracetest.SpanStub) bool {
		return s.Name == "command indicator.define" && attr(s, "error.type").AsString() == "conflict"
	})
	for _, sp := range exp.GetSpans() {
		if sp.Name == "append" && sp.Parent.SpanID() == refused.SpanContext.SpanID() {
			t.Errorf("a refused command appended")
		}
	}
}

// TestTraceFollowsANATSIntakeRequest submits a command as a department's
// system over NATS, with the system's own trace context in the request
// headers, and follows it from the intake's span to the projection.
func TestTraceFollowsANATSIntakeRequest(t *testing.T) {
	s, exp := tracedServer(t, func(c *ServeConfig) { listenAsDepartment(t, c) })
	office := s.token("考评办", "office")
	dept, err := s.departmentConn(t)
	if err != nil {
		t.Fatal(err)
	}
	defer dept.Close()

	caller := "0af7651916cd43dd8448eb211c80319c"
	msg := nats.NewMsg(intake.SubjectPrefix + "task.register")
	msg.Data = []byte(`{"task_id":"hitech","year":2022,"title":"“两区”建设：高新技术企业","lead_department":"区科委"}`)
	msg.Header.Set(intake.HeaderAuthorization, "Bearer "+office)
	msg.Header.Set(intake.HeaderIdempotencyKey, "reg-1")
	msg.Header.Set(intake.HeaderTraceParent, "00-"+caller+"-b7ad6b7169203331-01")
	msg.Header.Set(intake.HeaderTraceState, "vendor=1")
	reply, err := dept.RequestMsg(msg, 15*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if st := reply.Header.Get(intake.StatusHeader); st != "200" {
		t.Fatalf("intake answered %s: %s", st, reply.Data)
	}
	var res intake.Response
	if err := json.Unmarshal(reply.Data, &res); err != nil {
		t.Fatal(err)
	}

	entry := spanWhere(t, exp, "for the intake request", func(s tracetest.SpanStub) bool {
		return s.Name == "process kpitrail.cmd.task.register" && s.SpanContext.TraceID().String() == caller
	})
	if entry.Parent.SpanID().String() != "b7ad6b7169203331" || entry.SpanKind != trace.SpanKindConsumer {
		t.Errorf("intake span: parent %v, kind %v", entry.Parent, entry.SpanKind)
	}
	if entry.SpanContext.TraceState().Get("vendor") != "1" {
		t.Errorf("intake span lost the requester's tracestate: %q", entry.SpanContext.TraceState())
	}
	followWrite(t, s, exp, entry, "task.register", res.Position)
}

// TestTracesOffByDefault: without a provider (no OTEL_ variables), the
// server runs undecorated and stores no trace context.
func TestTracesOffByDefault(t *testing.T) {
	s := startTestServer(t)
	if h := s.handler.api.Load(); h == nil {
		t.Error("the server never became ready")
	} else if _, ok := (*h).(*http.ServeMux); !ok {
		// With traces off the handler is the mux that routes to the API
		// and the console, unwrapped.
		t.Errorf("HTTP handler is %T, want the API's and console's mux itself", *h)
	}
	if s.sys.Service.Observe != nil {
		t.Error("the command service is observed with traces off")
	}
	office := s.token("考评办", "office")
	res := s.mustDo(201, "POST", "/v1/tasks?wait=true", office, map[string]any{"task_id": "rural", "year": 2022, "title": "乡村振兴战略", "lead_department": "区农业农村局"},
		"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	raw, err := s.sys.Store.Stream().GetMsg(ctx, uint64(res["position"].(float64)))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range eventstore.TraceHeaders {
		if v := raw.Header.Get(h.Name); v != "" {
			t.Errorf("stored message has %s %q with traces off", h.Name, v)
		}
	}
}

// TestTraceManyCommandsAsFewSpans runs commands the way an import does
// (ExecuteMany, atomic batches) inside a traced request: one append span
// for the call, no span per command or per authorization, and projection
// spans that are the append's children and together cover every message.
func TestTraceManyCommandsAsFewSpans(t *testing.T) {
	s, exp := tracedServer(t, nil)
	office := auth.Principal{TokenID: "tok-import", Name: "导入", Role: auth.RoleOffice}
	ctx, parent := s.cfg.tracer.Tracer("test").Start(auth.WithPrincipal(context.Background(), office), "import")
	var reqs []app.Request
	for i := range 30 {
		id := fmt.Sprintf("t%02d", i)
		reqs = append(reqs, app.Request{Meta: domain.Meta{Actor: office.Actor(), ActorTokenID: office.TokenID, CommandID: "import-" + id, Source: "import:b1"},
			Command: domain.RegisterTask{TaskID: id, Year: 2022, Title: "专项任务" + id, LeadDepartment: "区科委"}})
	}
	for i, o := range s.sys.Service.ExecuteMany(ctx, reqs) {
		if o.Err != nil {
			t.Fatalf("request %d: %v", i, o.Err)
		}
	}
	parent.End()

	batch := spanWhere(t, exp, "append batch", childOf(parent.SpanContext(), "append batch"))
	if n := attr(batch, tracing.AttrRequests).AsInt64(); n != 30 {
		t.Errorf("append batch of %d requests, want 30", n)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		projected, projects := int64(0), 0
		for _, sp := range exp.GetSpans() {
			if childOf(batch.SpanContext, "project")(sp) {
				projected += attr(sp, tracing.AttrMessages).AsInt64()
				projects++
			}
		}
		if projected == 30 {
			if projects > 3 {
				t.Errorf("%d projection spans for one append batch", projects)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("projection spans cover %d of 30 messages", projected)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, sp := range exp.GetSpans() {
		if strings.HasPrefix(sp.Name, "command ") || sp.Name == "authorize" {
			t.Errorf("span %q inside an ExecuteMany", sp.Name)
		}
	}
}

// TestTraceFollowsAWriteWithoutGroupCommit: with group commit off, the
// store's single-message append carries the trace context the same way.
func TestTraceFollowsAWriteWithoutGroupCommit(t *testing.T) {
	s, exp := tracedServer(t, func(c *ServeConfig) { c.GroupCommitWait = -1 })
	if s.sys.Commits != nil {
		t.Fatal("group commit is on")
	}
	office := s.token("考评办", "office")
	res := s.mustDo(201, "POST", "/v1/tasks", office, map[string]any{"task_id": "rural", "year": 2022, "title": "乡村振兴战略", "lead_department": "区农业农村局"})
	httpSpan := spanWhere(t, exp, "for the HTTP request", func(s tracetest.SpanStub) bool { return s.Name == "POST /v1/tasks" })
	followWrite(t, s, exp, httpSpan, "task.register", uint64(res["position"].(float64)))
}

// TestConsoleRequestsAreTraced: the console sits behind the same trace
// wrapper as the API, and its spans are named after the console's route.
func TestConsoleRequestsAreTraced(t *testing.T) {
	s, exp := tracedServer(t, nil)
	cc := newConsoleClient(t, s, adminToken)
	cc.get("/console/admin")
	span := spanWhere(t, exp, "for the console page", func(s tracetest.SpanStub) bool { return s.Name == "GET /console/admin" })
	if span.SpanKind != trace.SpanKindServer || attr(span, "http.route").AsString() != "/console/admin" {
		t.Fatalf("console span %+v", span)
	}
}
