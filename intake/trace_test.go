package intake_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"kpitrail/app"
	"kpitrail/auth"
	"kpitrail/eventstore"
	"kpitrail/intake"
	"kpitrail/internal/natstest"
)

// TestTracedRequestFailingEveryRetry: a request whose command fails every
// retry (the store unreachable) is one intake span, failed, over one
// command span per attempt, each failed as internal.
func TestTracedRequestFailingEveryRetry(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	srv := natstest.RunEmbedded(t)
	nc := srv.Connect(t)
	store, err := eventstore.OpenJetStream(context.Background(), nc, eventstore.Config{})
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := auth.OpenTokens(filepath.Join(t.TempDir(), "auth.db"), auth.TokenConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tokens.Close() })
	svc := app.NewService(app.Trace(failingStore{store}, tp))
	svc.Observe = app.TraceCommands(tp)
	in, err := intake.Start(context.Background(), intake.Config{Conn: nc, Service: svc, Auth: tokens, Tracer: tp,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { in.Close() })
	office, _ := tokens.Issue(context.Background(), auth.Principal{TokenID: "bootstrap", Name: "admin", Role: auth.RoleAdmin},
		auth.IssueRequest{Name: "考评办", Role: auth.RoleOffice})
	f := &fixture{nc: nc, store: store, tokens: tokens, office: office.Token}

	r := f.request(t, "task.register", f.office, `{"task_id":"t","year":2022,"title":"x","lead_department":"y"}`)
	if r.status != 500 {
		t.Fatalf("want 500 after the retries, got %d %v", r.status, r.body)
	}
	var process []tracetest.SpanStub
	deadline := time.Now().Add(10 * time.Second)
	for len(process) == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
		process = nil
		for _, s := range exp.GetSpans() {
			if s.Name == "process kpitrail.cmd.task.register" {
				process = append(process, s)
			}
		}
	}
	if len(process) != 1 {
		t.Fatalf("%d intake spans for one request", len(process))
	}
	if process[0].Status.Code != codes.Error {
		t.Errorf("the poisoned request's span is %v", process[0].Status)
	}
	attempts := 0
	for _, s := range exp.GetSpans() {
		if s.Name == "command task.register" && s.Parent.SpanID() == process[0].SpanContext.SpanID() {
			attempts++
			if s.Status.Code != codes.Error {
				t.Errorf("a failed attempt's span is %v", s.Status)
			}
		}
	}
	if attempts != 4 {
		t.Errorf("%d command spans under the request, want 4 (one try and three retries)", attempts)
	}
}
