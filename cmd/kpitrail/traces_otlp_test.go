package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"

	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"
)

// collector is an OTLP/HTTP trace receiver: what it was sent, decoded.
type collector struct {
	mu       sync.Mutex
	requests []*coltrace.ExportTraceServiceRequest
	auth     []string
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" || err != nil {
		http.Error(w, "not an OTLP trace export", http.StatusNotFound)
		return
	}
	req := &coltrace.ExportTraceServiceRequest{}
	if err := proto.Unmarshal(body, req); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	c.requests = append(c.requests, req)
	c.auth = append(c.auth, r.Header.Get("Authorization"))
	c.mu.Unlock()
	out, _ := proto.Marshal(&coltrace.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(out)
}

// TestTracesExportOverOTLP configures serve only through the standard
// OTEL_ variables, as an operator does, and checks that a collector on
// OTLP/HTTP receives the write's spans under the configured service name
// with the configured headers, all flushed by the time serve has stopped.
func TestTracesExportOverOTLP(t *testing.T) {
	col := &collector{}
	endpoint := httptest.NewServer(col)
	defer endpoint.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.URL)
	t.Setenv("OTEL_EXPORTER_OTLP_HEADERS", "Authorization=Bearer collector-secret")
	t.Setenv("OTEL_SERVICE_NAME", "kpitrail-区政府")
	t.Setenv("KPITRAIL_ADMIN_TOKEN", adminToken)

	m := NewMain(io.Discard, io.Discard, os.Getenv)
	cfg, err := m.serveFlags([]string{"--data", t.TempDir(), "--http", "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Tracing.Export || cfg.Tracing.Protocol != "http/protobuf" {
		t.Fatalf("tracing config %+v", cfg.Tracing)
	}
	srv, err := StartServer(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	s := &testServer{Server: srv, t: t, base: "http://" + srv.Addr()}
	office := s.token("考评办", "office")
	s.mustDo(201, "POST", "/v1/tasks?wait=true", office, map[string]any{"task_id": "rural", "year": 2022, "title": "乡村振兴战略", "lead_department": "区农业农村局"})
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}

	col.mu.Lock()
	defer col.mu.Unlock()
	got := map[string]bool{}
	for i, req := range col.requests {
		if col.auth[i] != "Bearer collector-secret" {
			t.Errorf("export %d sent Authorization %q", i, col.auth[i])
		}
		for _, rs := range req.ResourceSpans {
			service := ""
			for _, kv := range rs.GetResource().GetAttributes() {
				if kv.Key == "service.name" {
					service = kv.GetValue().GetStringValue()
				}
			}
			if service != "kpitrail-区政府" {
				t.Errorf("spans from service %q", service)
			}
			for _, ss := range rs.ScopeSpans {
				for _, sp := range ss.Spans {
					got[sp.Name] = true
				}
			}
		}
	}
	for _, name := range []string{"POST /v1/tasks", "command task.register", "authorize", "append", "project"} {
		if !got[name] {
			t.Errorf("the collector received no %q span; it got %v", name, got)
		}
	}
}
