package tracing

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

func TestConfigFromEnv(t *testing.T) {
	for _, tc := range []struct {
		name     string
		env      map[string]string
		export   bool
		protocol string
		err      string
	}{
		{name: "nothing set: off", env: nil},
		{name: "endpoint: on, OTLP/HTTP protobuf", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, export: true, protocol: "http/protobuf"},
		{name: "traces endpoint alone", env: map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, export: true, protocol: "http/protobuf"},
		{name: "grpc", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}, export: true, protocol: "grpc"},
		{name: "traces protocol wins", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
			"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/json"}, export: true, protocol: "http/json"},
		{name: "SDK disabled", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_SDK_DISABLED": "true"}},
		{name: "exporter none", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "none"}},
		{name: "exporter otlp without endpoint: off", env: map[string]string{"OTEL_TRACES_EXPORTER": "otlp"}},
		{name: "an exporter kpitrail lacks", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_TRACES_EXPORTER": "zipkin"}, err: "OTEL_TRACES_EXPORTER=zipkin"},
		{name: "an unknown protocol", env: map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "thrift"}, err: "OTEL_EXPORTER_OTLP_PROTOCOL=thrift"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ConfigFromEnv(func(k string) string { return tc.env[k] })
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want one naming %s", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Export != tc.export || (tc.export && c.Protocol != tc.protocol) {
				t.Fatalf("got %+v, want export %v protocol %q", c, tc.export, tc.protocol)
			}
		})
	}
}

func TestOffIsTheNoopProvider(t *testing.T) {
	p, err := Start(context.Background(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	if Enabled(p.TracerProvider) || Enabled(nil) || Enabled(noop.NewTracerProvider()) {
		t.Fatal("an off provider is enabled")
	}
	if !Enabled(sdktrace.NewTracerProvider()) {
		t.Fatal("the SDK's provider is not enabled")
	}
	h := http.NewServeMux()
	if got := HTTP(p.TracerProvider, h); got != http.Handler(h) {
		t.Fatalf("HTTP with traces off wrapped the handler: %T", got)
	}
}

// TestHTTPSpan: a span per request, named after the matched route,
// continuing the caller's trace, failed on 5xx only, none for a scrape,
// and the response writer still flushes (server-sent events need it).
func TestHTTPSpan(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	mux := http.NewServeMux()
	var inner trace.SpanContext
	mux.HandleFunc("GET /v1/indicators/{id}", func(w http.ResponseWriter, r *http.Request) {
		inner = trace.SpanContextFromContext(r.Context())
		if _, ok := w.(http.Flusher); !ok {
			t.Error("the handler's writer cannot flush")
		}
		w.WriteHeader(http.StatusTeapot)
	})
	mux.HandleFunc("POST /v1/fail", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	})
	srv := httptest.NewServer(HTTP(tp, mux))
	defer srv.Close()

	req, _ := http.NewRequest("GET", srv.URL+"/v1/indicators/firms", nil)
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	for _, r := range []*http.Request{req, must(http.NewRequest("POST", srv.URL+"/v1/fail", nil)), must(http.NewRequest("GET", srv.URL+"/nowhere", nil)),
		must(http.NewRequest("GET", srv.URL+"/metrics", nil))} {
		res, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	// A span ends after its response is written: the client can be first.
	spans := exp.GetSpans()
	for deadline := time.Now().Add(5 * time.Second); len(spans) < 3 && time.Now().Before(deadline); spans = exp.GetSpans() {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond) // room for a span there should not be
	if spans = exp.GetSpans(); len(spans) != 3 {
		t.Fatalf("%d spans, want 3 (none for the scrape)", len(spans))
	}
	byName := map[string]tracetest.SpanStub{}
	for _, s := range spans {
		byName[s.Name] = s
	}
	get := byName["GET /v1/indicators/{id}"]
	if get.SpanContext.TraceID().String() != "4bf92f3577b34da6a3ce929d0e0e4736" || get.Parent.SpanID().String() != "00f067aa0ba902b7" {
		t.Errorf("the route's span does not continue the caller's trace: %v parent %v", get.SpanContext, get.Parent)
	}
	if inner.SpanID() != get.SpanContext.SpanID() {
		t.Error("the handler's context does not hold the request's span")
	}
	if get.Status.Code.String() == "Error" {
		t.Error("a 418 failed the server span")
	}
	if fail := byName["POST /v1/fail"]; fail.Status.Code.String() != "Error" {
		t.Errorf("a 503 did not fail the span: %v", fail.Status)
	}
	if _, ok := byName["GET"]; !ok {
		t.Errorf("an unrouted request is not named by its method: %v", byName)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
